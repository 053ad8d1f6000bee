//! The figures of the statistics page and the self-evaluation report, over
//! a period of days (both included) by the events' own days: counted here,
//! shaped into tables by the app.

use crate::{Result, Store};
use std::collections::BTreeMap;

/// An event's own day, `YYYY-MM-DD`, as written in its line.
const DAY: &str = "substr(e.body ->> '$.at', 1, 10)";

/// Pushes of one clause (or month, channel…): how many, how many reached
/// the provider or the recipient, how many failed for good.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushCount {
    pub key: String,
    pub total: i64,
    pub succeeded: i64,
    pub dead: i64,
}

/// How long pushes took from their event to the provider's acceptance or
/// delivery, in buckets: within 1 minute, 5 minutes, 30 minutes, 2 hours,
/// longer, and not yet out.
pub const TIMELINESS_BUCKETS: [&str; 6] = [
    "1 分钟内",
    "1–5 分钟",
    "5–30 分钟",
    "30 分钟–2 小时",
    "超过 2 小时",
    "尚未送出",
];

/// The average score of each Appendix A item in a month.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MonthScores {
    pub month: String,
    pub answers: i64,
    pub timeliness: f64,
    pub completeness: f64,
    pub accuracy: f64,
    pub access: f64,
    pub courtesy: f64,
    pub complaint_handling: f64,
}

impl Store {
    /// Pushes by a key of theirs (`p.clause`, `p.channel`, the month).
    async fn push_counts(&self, key: &str, from: &str, to: &str) -> Result<Vec<PushCount>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {key} AS key, count(*) AS total, \
             coalesce(sum(s.status IN ('sent', 'delivered')), 0) AS succeeded, \
             coalesce(sum(s.status = 'dead'), 0) AS dead \
             FROM pushes p JOIN events e ON e.no = p.event LEFT JOIN push_states s ON s.push_no = p.no \
             WHERE {DAY} BETWEEN ? AND ? GROUP BY 1 ORDER BY 1"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn pushes_by_clause(&self, from: &str, to: &str) -> Result<Vec<PushCount>> {
        self.push_counts("p.clause", from, to).await
    }

    pub async fn pushes_by_month(&self, from: &str, to: &str) -> Result<Vec<PushCount>> {
        self.push_counts(&format!("substr({DAY}, 1, 7)"), from, to)
            .await
    }

    /// Pushes by channel and where they stand: (channel, status, count).
    pub async fn pushes_by_channel_status(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(&format!(
            "SELECT p.channel, {status} AS status, count(*) FROM pushes p \
             JOIN events e ON e.no = p.event LEFT JOIN push_states s ON s.push_no = p.no \
             WHERE {DAY} BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 1, 2",
            status = crate::pushes::status!()
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    /// Settled pushes by channel and provider (named by the provider's
    /// last word on the push): (channel, provider, settled, succeeded).
    pub async fn delivery_by_provider(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, i64, i64)>> {
        Ok(sqlx::query_as(&format!(
            "SELECT channel, provider, count(*), sum(status IN ('sent', 'delivered')) FROM ( \
               SELECT p.channel, s.status, coalesce(nullif(substr(d.detail, 1, instr(d.detail, '：') - 1), ''), '—') AS provider \
               FROM pushes p JOIN events e ON e.no = p.event JOIN push_states s ON s.push_no = p.no \
               LEFT JOIN push_status d ON d.id = (SELECT max(h.id) FROM push_status h WHERE h.push_no = p.no) \
               WHERE s.status IN ('sent', 'delivered', 'failed', 'dead') AND {DAY} BETWEEN ? AND ?) \
             GROUP BY 1, 2 ORDER BY 1, 2"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    /// Pushes by clause and how long they took from their event (3.1's "at
    /// once"): (clause, bucket index into `TIMELINESS_BUCKETS`, count).
    pub async fn timeliness(&self, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(&format!(
            "SELECT clause, CASE WHEN t IS NULL THEN 5 WHEN t < 60 THEN 0 WHEN t < 300 THEN 1 \
               WHEN t < 1800 THEN 2 WHEN t < 7200 THEN 3 ELSE 4 END AS bucket, count(*) FROM ( \
               SELECT p.clause, (SELECT (julianday(min(h.at)) - julianday(e.body ->> '$.at')) * 86400 \
                 FROM push_status h WHERE h.push_no = p.no AND h.status IN ('sent', 'delivered')) AS t \
               FROM pushes p JOIN events e ON e.no = p.event WHERE {DAY} BETWEEN ? AND ?) \
             GROUP BY 1, 2 ORDER BY 1, 2"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    /// Each verification of materials in the period, with the submission it
    /// answered: (submitted at, verified at), the events' own times.
    pub async fn verification_times(&self, from: &str, to: &str) -> Result<Vec<(String, String)>> {
        let rows: Vec<(Option<String>, String, String)> = sqlx::query_as(
            "SELECT e.project, e.body ->> '$.type', e.body FROM events e \
             WHERE e.body ->> '$.type' IN ('materials.submitted', 'materials.verified') ORDER BY e.no",
        )
        .fetch_all(self.pool())
        .await?;
        // The latest submission of each project, stage and round.
        let mut submitted: BTreeMap<(String, String, i64), String> = BTreeMap::new();
        let mut out = Vec::new();
        for (project, kind, body) in rows {
            let v: serde_json::Value = serde_json::from_str(&body)?;
            let key = (
                project.unwrap_or_default(),
                v["stage"].as_str().unwrap_or_default().to_owned(),
                v["round"].as_i64().unwrap_or(1),
            );
            let at = v["at"].as_str().unwrap_or_default().to_owned();
            if kind == "materials.submitted" {
                submitted.insert(key, at);
            } else if let Some(s) = submitted.remove(&key) {
                if (from..=to).contains(&&at[..at.len().min(10)]) {
                    out.push((s, at));
                }
            }
        }
        Ok(out)
    }

    /// Each item's average by month, of the answers in the period.
    pub async fn satisfaction_by_month(&self, from: &str, to: &str) -> Result<Vec<MonthScores>> {
        Ok(sqlx::query_as(
            "SELECT substr(answered_at, 1, 7) AS month, count(*) AS answers, \
             avg(timeliness) AS timeliness, avg(completeness) AS completeness, avg(accuracy) AS accuracy, \
             avg(access) AS access, avg(courtesy) AS courtesy, avg(complaint_handling) AS complaint_handling \
             FROM surveys WHERE substr(answered_at, 1, 10) BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    /// Events accepted in the period by type, and the clauses whose pushes
    /// they caused: (type, events, pushes).
    pub async fn events_by_type(&self, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(&format!(
            "SELECT e.body ->> '$.type', count(*), sum((SELECT count(*) FROM pushes p WHERE p.event = e.no)) \
             FROM events e WHERE {DAY} BETWEEN ? AND ? GROUP BY 1 ORDER BY 1"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }

    /// Events in the period of a type that always tells someone, which have
    /// neither a push nor a recorded reason for silence: (id, type). None
    /// by construction — the report shows that it holds.
    pub async fn events_missing_pushes(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(&format!(
            "SELECT e.id, e.body ->> '$.type' FROM events e WHERE {DAY} BETWEEN ? AND ? \
             AND e.body ->> '$.type' IN ('member.registration_submitted', 'member.registration_reviewed', \
               'member.password_reset', 'project.registered', 'filing.submitted', 'filing.reviewed', \
               'materials.submitted', 'notice.published', 'experts.drawn', 'deposit.refunded', \
               'complaint.resolved', 'complaint.refused') \
             AND NOT EXISTS (SELECT 1 FROM pushes p WHERE p.event = e.no) \
             AND NOT EXISTS (SELECT 1 FROM audit_records a WHERE a.origin_device = e.origin_device \
               AND a.seq = e.origin_seq AND a.content ->> '$.silenced' IS NOT NULL) \
             ORDER BY e.no"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }
}
