//! The outbox: listing pushes, and the claim/finish cycle a dispatcher
//! worker runs. Each status change appends a `push_status` record and an
//! audit record, and moves the push's row in `push_states` (their
//! projection). A push nobody has claimed yet has no such row: it is queued.

use crate::audit::AuditWriter;
use crate::{now, Result, Store, StoreError};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, QueryBuilder, Sqlite};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Push {
    /// Local queue order: what a worker claims and finishes by.
    pub no: i64,
    /// The idempotency key, the same on every device.
    pub id: uuid::Uuid,
    pub event_id: String,
    pub project: Option<String>,
    pub rule: String,
    pub clause: String,
    pub recipient_role: String,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: String,
    pub address: String,
    pub text: String,
    pub secret: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    /// When its event was received: a push is queued with its event.
    pub created_at: String,
    pub updated_at: String,
}

/// A push row with its text, state and its event's receipt time; `p` is
/// pushes, `e` its event, `s` its state (none while queued).
const SELECT: &str = "SELECT p.no, p.id, e.id AS event_id, e.project, p.rule, p.clause, p.recipient_role, p.recipient_id, \
    p.recipient_name, p.channel, p.address, m.head || p.recipient_name || m.body AS text, p.secret, \
    coalesce(s.status, 'queued') AS status, coalesce(s.attempts, 0) AS attempts, s.next_attempt_at, \
    e.received_at AS created_at, coalesce(s.updated_at, e.received_at) AS updated_at \
    FROM pushes p JOIN events e ON e.no = p.event \
    JOIN messages m ON m.no = p.message LEFT JOIN push_states s ON s.push_no = p.no";

#[derive(Debug, Clone, Default)]
pub struct PushFilter {
    pub project: Option<String>,
    pub event_id: Option<String>,
}

/// What a send attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Handed to the provider.
    Sent,
    /// The provider confirmed delivery.
    Delivered,
    /// Failed; try again at the given time.
    Retry,
    /// Failed for good: a dead letter for staff to see and re-drive.
    Dead,
    /// The request left but no answer came: reconcile before any resend.
    Unknown,
}

impl Attempt {
    fn status(self) -> &'static str {
        match self {
            Attempt::Sent => "sent",
            Attempt::Delivered => "delivered",
            Attempt::Retry => "retrying",
            Attempt::Dead => "dead",
            Attempt::Unknown => "unknown",
        }
    }
}

impl Store {
    /// Visit pushes in the order they were queued, streaming. A filter goes
    /// through the events that caused the pushes (indexed by project and id).
    pub async fn for_each_push(&self, filter: &PushFilter, mut f: impl FnMut(Push)) -> Result<u64> {
        // Only the filters given, so SQLite can use the events' project and id indexes.
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(SELECT);
        let mut joiner = " WHERE ";
        if let Some(project) = &filter.project {
            qb.push(joiner)
                .push("e.project = ")
                .push_bind(project.as_str());
            joiner = " AND ";
        }
        if let Some(event_id) = &filter.event_id {
            qb.push(joiner).push("e.id = ").push_bind(event_id.as_str());
        }
        qb.push(" ORDER BY p.no");
        let mut rows = qb.build_query_as::<Push>().fetch(self.pool());
        let mut n = 0;
        while let Some(p) = rows.try_next().await? {
            f(p);
            n += 1;
        }
        Ok(n)
    }

    pub async fn pushes(&self, filter: &PushFilter) -> Result<Vec<Push>> {
        let mut out = Vec::new();
        self.for_each_push(filter, |p| out.push(p)).await?;
        Ok(out)
    }

    /// Claim up to `limit` due pushes for `lease_secs`: they become `sending`
    /// and no other worker takes them until the lease runs out.
    pub async fn claim_due(&self, limit: i64, lease_secs: i64) -> Result<Vec<Push>> {
        let at = chrono::Local::now();
        let now_s = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        let lease = (at + chrono::Duration::seconds(lease_secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        let mut tx = self.write().await?;
        let conn = tx.conn();
        // Leases that ran out and retries that are due, through their partial indexes...
        let mut nos: Vec<i64> = sqlx::query_scalar(
            "SELECT push_no FROM push_states WHERE status = 'sending' AND lease_until < ?1 \
             UNION ALL SELECT push_no FROM push_states WHERE status = 'retrying' AND next_attempt_at <= ?1 \
             LIMIT ?2",
        )
        .bind(&now_s)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        // ...then fresh pushes after the cursor, in queue order: those with no state yet.
        let cursor: i64 = sqlx::query_scalar(
            "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_cursor'), 0)",
        )
        .fetch_one(&mut *conn)
        .await?;
        let fresh: Vec<i64> = sqlx::query_scalar(
            "SELECT no FROM pushes p WHERE no > ? \
             AND NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = p.no) ORDER BY no LIMIT ?",
        )
        .bind(cursor)
        .bind(limit - nos.len() as i64)
        .fetch_all(&mut *conn)
        .await?;
        if let Some(last) = fresh.last() {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('outbox_cursor', ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(last.to_string())
            .execute(&mut *conn)
            .await?;
        }
        nos.extend(fresh);
        let mut claimed = Vec::with_capacity(nos.len());
        let sql = format!("{SELECT} WHERE p.no = ?");
        for no in nos {
            sqlx::query(
                "INSERT INTO push_states (push_no, status, lease_until, updated_at) VALUES (?, 'sending', ?, ?) \
                 ON CONFLICT (push_no) DO UPDATE SET status = 'sending', lease_until = excluded.lease_until, \
                 updated_at = excluded.updated_at",
            )
            .bind(no)
            .bind(&lease)
            .bind(&now_s)
            .execute(&mut *conn)
            .await?;
            claimed.push(
                sqlx::query_as::<_, Push>(&sql)
                    .bind(no)
                    .fetch_one(&mut *conn)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Record what an attempt came to: history, audit record and status, together.
    pub async fn finish(
        &self,
        push_no: i64,
        attempt: Attempt,
        detail: &str,
        retry_at: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let at = now();
        let status = attempt.status();
        let exists: Option<i64> = sqlx::query_scalar("SELECT no FROM pushes WHERE no = ?")
            .bind(push_no)
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("没有第 {push_no} 号推送")));
        }
        sqlx::query(
            "INSERT INTO push_states (push_no, status, attempts, next_attempt_at, updated_at) VALUES (?1, ?2, 1, ?3, ?4) \
             ON CONFLICT (push_no) DO UPDATE SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, \
             lease_until = NULL, updated_at = ?4",
        )
        .bind(push_no)
        .bind(status)
        .bind(retry_at)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        let seq = AuditWriter::record(
            conn,
            self.device_n(),
            &at,
            "push.status",
            &push_no.to_string(),
            json!({ "status": status, "detail": detail }),
        )
        .await?;
        sqlx::query(
            "INSERT INTO push_status (push_no, status, detail, at, origin_device, origin_seq) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(push_no)
        .bind(status)
        .bind(detail)
        .bind(&at)
        .bind(self.device_n())
        .bind(seq)
        .execute(&mut *conn)
        .await?;
        tx.commit().await
    }
}
