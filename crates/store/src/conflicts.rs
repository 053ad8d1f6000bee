//! Conflicts: actions the sync server's order found stale, or event ids
//! another device accepted first (`sync::apply` finds them; `verify` holds
//! them to the events and the order). Each is kept, its pushes held, until
//! a person resolves it with a record of their own: withdrawn, or
//! re-recorded as a new event after the current state. A resolution
//! travels like any record, so the conflict is resolved on every desktop.

use crate::audit::{AuditWriter, RESOLVED};
use crate::{now, Result, Store, StoreError};
use ggzy_core::error::ErrorCode;
use serde::Serialize;
use serde_json::json;

/// Kinds of conflict, as staff read them.
pub const KINDS: [(&str, &str); 2] = [
    ("stale", "操作已过时：其他设备先办理了此步骤"),
    ("duplicate", "重复接收：此事件已由其他设备先接收"),
];

/// How conflicts are resolved, as staff read it.
pub const HOWS: [(&str, &str); 2] = [
    ("withdrawn", "已撤回"),
    ("rerecorded", "已按当前状态重新办理"),
];

/// How a person resolved a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The action stays void; its pushes never go.
    Withdrawn,
    /// Recorded anew, after the current state, as this event.
    Rerecorded { event: String },
}

impl Resolution {
    fn how(&self) -> &'static str {
        match self {
            Resolution::Withdrawn => "withdrawn",
            Resolution::Rerecorded { .. } => "rerecorded",
        }
    }
}

/// A conflict as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The device that recorded the conflicted action, and its record there.
    pub device: String,
    pub seq: i64,
    /// This desktop's own action (else another device's).
    pub own: bool,
    pub event_id: String,
    /// `stale` or `duplicate`.
    pub kind: String,
    pub reason: String,
    pub found_at: String,
    pub project: Option<String>,
    /// The action as it was recorded (its intake line); `None` for a
    /// duplicate, whose line is the one accepted first.
    pub body: Option<String>,
    /// What stands in its place: for a stale action, the project's last
    /// action of the same type before it in the order; for a duplicate,
    /// the event accepted first.
    pub standing: Option<String>,
    /// How it was resolved, by whom, when, and the new event if re-recorded.
    pub resolved: Option<(String, String, String, Option<String>)>,
}

#[derive(sqlx::FromRow)]
struct Row {
    device: String,
    seq: i64,
    own: bool,
    event_id: String,
    kind: String,
    reason: String,
    found_at: String,
    project: Option<String>,
    body: Option<String>,
    no: Option<i64>,
    how: Option<String>,
    by: Option<String>,
    at: Option<String>,
    event: Option<String>,
}

impl Store {
    /// Conflicts, open ones first, newest first.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT d.id AS device, c.origin_seq AS seq, c.origin_device = ?1 AS own, c.event_id, c.kind, \
             c.reason, c.found_at, e.project, e.body, e.no, r.how, r.by, r.at, r.event FROM conflicts c \
             JOIN devices d ON d.n = c.origin_device \
             LEFT JOIN events e ON e.origin_device = c.origin_device AND e.origin_seq = c.origin_seq \
             LEFT JOIN conflict_resolutions r ON r.origin_device = c.origin_device AND r.origin_seq = c.origin_seq \
             ORDER BY r.how IS NOT NULL, c.found_at DESC, c.origin_seq DESC",
        )
        .bind(self.device_n())
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let standing = match (&r.kind[..], r.no) {
                ("duplicate", _) => {
                    sqlx::query_scalar("SELECT body FROM events WHERE id = ?")
                        .bind(&r.event_id)
                        .fetch_optional(self.pool())
                        .await?
                }
                (_, Some(no)) => self.standing(no).await?,
                _ => None,
            };
            // A duplicate's project is the one of the event accepted first.
            let project = r.project.or_else(|| {
                let line: serde_json::Value = serde_json::from_str(standing.as_deref()?).ok()?;
                Some(line.get("project")?.as_str()?.to_owned())
            });
            let resolved = match (r.how, r.by, r.at) {
                (Some(how), Some(by), Some(at)) => Some((how, by, at, r.event)),
                _ => None,
            };
            out.push(Conflict {
                device: r.device,
                seq: r.seq,
                own: r.own,
                event_id: r.event_id,
                kind: r.kind,
                reason: r.reason,
                found_at: r.found_at,
                project,
                body: r.body,
                standing,
                resolved,
            });
        }
        Ok(out)
    }

    /// The project's last accepted action of the same type before event
    /// `no` in the order: what the stale action lost to.
    async fn standing(&self, no: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "WITH o AS (SELECT e.no, e.project, e.body, \
               row_number() OVER (ORDER BY p.gseq IS NULL, p.gseq, e.no) AS place FROM events e \
               LEFT JOIN placed p ON p.origin_device = e.origin_device AND p.seq = e.origin_seq \
               WHERE e.project = (SELECT project FROM events WHERE no = ?1)), \
             me AS (SELECT place, body ->> '$.type' AS type FROM o WHERE no = ?1) \
             SELECT o.body FROM o, me WHERE o.place < me.place AND o.body ->> '$.type' = me.type \
             AND NOT EXISTS (SELECT 1 FROM conflicts c JOIN events x ON x.origin_device = c.origin_device \
               AND x.origin_seq = c.origin_seq WHERE x.no = o.no) \
             ORDER BY o.place DESC LIMIT 1",
        )
        .bind(no)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Resolve the conflict of `device`'s record `seq`, as `by`: kept with
    /// its audit record, which travels to the other desktops.
    pub async fn resolve_conflict(
        &self,
        device: &str,
        seq: i64,
        how: &Resolution,
        by: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let found: Option<(i64, String, Option<String>, bool)> = sqlx::query_as(
            "SELECT c.origin_device, c.event_id, e.project, EXISTS (SELECT 1 FROM conflict_resolutions r \
               WHERE r.origin_device = c.origin_device AND r.origin_seq = c.origin_seq) \
             FROM conflicts c JOIN devices d ON d.n = c.origin_device \
             LEFT JOIN events e ON e.origin_device = c.origin_device AND e.origin_seq = c.origin_seq \
             WHERE d.id = ?1 AND c.origin_seq = ?2",
        )
        .bind(device)
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((n, event_id, project, resolved)) = found else {
            return Err(StoreError::NotFound(format!(
                "没有设备 {device} 第 {seq} 条记录的同步冲突"
            )));
        };
        if resolved {
            return Err(StoreError::invalid(
                ErrorCode::Duplicate,
                format!("事件 `{event_id}` 的同步冲突已处理过"),
            ));
        }
        if let Resolution::Rerecorded { event } = how {
            let same: Option<Option<String>> =
                sqlx::query_scalar("SELECT project FROM events WHERE id = ?")
                    .bind(event)
                    .fetch_optional(&mut *conn)
                    .await?;
            if event == &event_id || same.is_none() || same.flatten() != project {
                return Err(StoreError::invalid(
                    ErrorCode::Invalid,
                    format!("重新办理的事件 `{event}` 不是同一项目上新办理的操作：请在该项目上重新办理后再处理冲突"),
                ));
            }
        }
        let at = now();
        let event = match how {
            Resolution::Rerecorded { event } => Some(event.as_str()),
            Resolution::Withdrawn => None,
        };
        let subject = format!("{device}:{seq}");
        let body = json!({ "event_id": event_id, "how": how.how(), "by": by, "event": event });
        AuditWriter::record(conn, self.device_n(), &at, RESOLVED, &subject, body).await?;
        record_resolution(conn, n, seq, how.how(), event, by, &at).await?;
        tx.commit().await
    }
}

/// Keep a resolution (the first one for a conflict stands).
pub(crate) async fn record_resolution(
    conn: &mut sqlx::SqliteConnection,
    device: i64,
    seq: i64,
    how: &str,
    event: Option<&str>,
    by: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO conflict_resolutions (origin_device, origin_seq, how, event, by, at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(device)
    .bind(seq)
    .bind(how)
    .bind(event)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
