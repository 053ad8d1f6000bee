//! Complaints as they stand (5.1), each with its lodging and resolution
//! times: the events' own, in the offset they were written with; and the
//! files their investigation notes keep.

use crate::intake::LineOutcome;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use ggzy_core::audit::sm3_hex;
use ggzy_core::calendar::beijing;
use ggzy_core::engine::ComplaintRecord;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::COMPLAINT_REMINDED;
use serde_json::json;

/// One complaint as folded from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRow {
    pub record: ComplaintRecord,
    pub lodged_at: String,
    pub resolved_at: Option<String>,
}

/// The most bytes one kept file may have.
pub const MAX_FILE: usize = 20 * 1024 * 1024;

impl Store {
    /// Every complaint.
    pub async fn complaints(&self) -> Result<Vec<ComplaintRow>> {
        let rows: Vec<(String, String, String, Option<String>)> =
            sqlx::query_as("SELECT id, record, lodged_at, resolved_at FROM complaints")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(id, record, lodged_at, resolved_at)| {
                Ok(ComplaintRow {
                    record: serde_json::from_str(&record).map_err(|e| {
                        StoreError::Corrupt(format!("投诉 `{id}` 的记录无法读取：{e}"))
                    })?,
                    lodged_at,
                    resolved_at,
                })
            })
            .collect()
    }

    /// A staff member's line (a `complaint.noted`) with the bytes of the
    /// files it names, kept together or not at all: each file's bytes must
    /// have the SM3 the line gives it.
    pub async fn submit_with_files(
        &self,
        source: &str,
        line: &str,
        files: Vec<Vec<u8>>,
    ) -> Result<LineOutcome> {
        for bytes in &files {
            if bytes.len() > MAX_FILE {
                return Err(StoreError::invalid(
                    ErrorCode::Invalid,
                    format!(
                        "附件过大（{} 字节）：每个附件最多 {} MB，请压缩或拆分后重试",
                        bytes.len(),
                        MAX_FILE / 1024 / 1024
                    ),
                ));
            }
        }
        let mut tx = self.write().await?;
        let outcome = self.decide_in(&mut tx, source, line).await?;
        if !matches!(outcome, LineOutcome::Accepted { .. }) {
            tx.rollback().await?;
            return Ok(outcome);
        }
        let at = chrono::Utc::now().to_rfc3339();
        for bytes in files {
            sqlx::query(
                "INSERT INTO complaint_files (sm3, bytes, added_at) VALUES (?, ?, ?) \
                 ON CONFLICT (sm3) DO NOTHING",
            )
            .bind(sm3_hex(&bytes))
            .bind(bytes)
            .bind(&at)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The bytes of a kept file, by its SM3; `None` when this device has
    /// none (a note imported, or synced from a device that kept it).
    pub async fn complaint_file(&self, sm3: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM complaint_files WHERE sm3 = ?")
                .bind(sm3)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}

impl Store {
    /// Record the reminders complaints' clocks call for at `now`
    /// (`ComplaintRecord::reminders`), each once: its id is made of the
    /// complaint, the clock, its last day and whether it passed, so a
    /// second call records nothing. The count recorded.
    pub async fn remind_complaints(&self, now: DateTime<Utc>) -> Result<usize> {
        let calendar = self.calendar().await?;
        let limits = self.limits().await?;
        let now = now.with_timezone(&beijing());
        let mut recorded = 0;
        for row in self.complaints().await? {
            let lodged = DateTime::parse_from_rfc3339(&row.lodged_at).map_err(|e| {
                StoreError::Corrupt(format!("投诉 `{}` 的登记时间无法读取：{e}", row.lodged_at))
            })?;
            let id = &row.record.complaint.id;
            for r in row.record.reminders(lodged, &calendar, &limits, now) {
                let line = json!({
                    "id": format!(
                        "remind-{}-{}-{}-{}",
                        &sm3_hex(id)[..16],
                        r.limit.as_str(),
                        r.due,
                        if r.overdue { "late" } else { "soon" }
                    ),
                    "type": COMPLAINT_REMINDED,
                    // The moment it fell due, not now: every device that
                    // reminds writes the very same event, so it is kept once.
                    "at": r.since.to_rfc3339_opts(SecondsFormat::Secs, false),
                    "complaint_id": id,
                    "limit": r.limit,
                    "due": r.due,
                    "overdue": r.overdue,
                });
                match self.submit_own("clock", &line.to_string()).await? {
                    LineOutcome::Accepted { .. } => recorded += 1,
                    LineOutcome::Duplicate { .. } => {}
                    LineOutcome::Refused { refusal, .. } => {
                        tracing::warn!(complaint = %id, %refusal, "complaint reminder refused")
                    }
                }
            }
        }
        Ok(recorded)
    }
}

/// A push to a complainant (the 5.1.2 feedback, a refusal) as it stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Feedback {
    pub complaint_id: String,
    pub rule: String,
    #[sqlx(try_from = "String")]
    pub channel: ggzy_core::push::Channel,
    pub address: String,
    #[sqlx(try_from = "String")]
    pub status: ggzy_core::push::PushStatus,
}

impl Store {
    /// Every push to a complainant, by the complaint it answers, in order.
    pub async fn complaint_feedback(&self) -> Result<Vec<Feedback>> {
        Ok(sqlx::query_as(concat!(
            "SELECT e.body ->> '$.complaint_id' AS complaint_id, p.rule, p.channel, p.address, ",
            crate::pushes::status!(),
            " AS status FROM pushes p JOIN events e ON e.no = p.event \
             LEFT JOIN push_states s ON s.push_no = p.no \
             WHERE p.recipient_role = 'complainant' ORDER BY p.no"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Who recorded each of these events (`app:<username>`, `import:…`, `clock`), by id.
    pub async fn event_sources(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, source FROM events WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(serde_json::to_string(ids)?)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }
}
