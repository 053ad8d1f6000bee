//! Writing and verifying the audit trail. Records are appended inside the
//! transaction of what they record; `verify` walks every device's SM3 chain,
//! checks each head, and checks that every event and push is exactly what
//! its record says.

use crate::rows::{build_rows, Built};
use crate::{Result, StoreError};
use ggzy_core::audit::{chain, hex, Hash, GENESIS};
use ggzy_core::engine::Silenced;
use serde_json::Value;
use sqlx::SqliteConnection;

/// An audit record about to be written.
pub(crate) struct AuditRow {
    pub seq: i64,
    /// Canonical JSON; holds the record's time, kind and subject.
    pub content: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// The tip of this device's chain while a transaction appends to it.
pub(crate) struct AuditWriter {
    device: i64,
    seq: i64,
    hash: Hash,
    pending: Vec<AuditRow>,
}

pub use ggzy_core::audit::SilencedRecord;

impl AuditWriter {
    /// Read the head; call inside the write transaction.
    pub async fn load(conn: &mut SqliteConnection, device: i64) -> Result<Self> {
        let head: Option<(i64, Vec<u8>)> = sqlx::query_as(HEAD)
            .bind(device)
            .fetch_optional(&mut *conn)
            .await?;
        Self::at(device, head)
    }

    /// Start from a head the caller read itself (`finish_all` reads it in
    /// the one query that also checks its batch).
    pub fn at(device: i64, head: Option<(i64, Vec<u8>)>) -> Result<Self> {
        let (seq, hash) = match head {
            None => (0, GENESIS),
            Some((seq, hash)) => (
                seq,
                hash.try_into().map_err(|_| {
                    StoreError::Corrupt(format!(
                        "the head of device #{device}'s audit chain is not a 32-byte hash: run `ggzy audit verify`"
                    ))
                })?,
            ),
        };
        Ok(AuditWriter {
            device,
            seq,
            hash,
            pending: Vec::new(),
        })
    }

    /// The seq the next record will get.
    pub fn next_seq(&self) -> i64 {
        self.seq + 1
    }

    /// Chain a record; `body` is merged with at/kind/subject into its content.
    pub fn append(&mut self, at: &str, kind: &'static str, subject: &str, mut body: Value) -> i64 {
        let map = body.as_object_mut().expect("audit bodies are objects");
        map.insert("at".into(), at.into());
        map.insert("kind".into(), kind.into());
        map.insert("subject".into(), subject.into());
        self.chain(body.to_string())
    }

    /// Chain the record of a push's status change (and who made it, if a
    /// person). The push is named by its local number (the subject) and by
    /// its id, which is the same on every device: another device applies
    /// the record to the push by its id. The same content as `append` would write, without building
    /// a map for each of a batch's thousand records.
    pub fn append_status(
        &mut self,
        at: &str,
        (push_no, push): (i64, &uuid::Uuid),
        status: ggzy_core::push::PushStatus,
        detail: &str,
        by: Option<&str>,
    ) -> i64 {
        let content =
            ggzy_core::audit::status_content(at, &push_no.to_string(), push, status, detail, by);
        self.chain(content)
    }

    /// Chain the record of an accepted event: its digest, and one digest over
    /// all its pushes (each push digest covers the push's id and whole content).
    pub fn append_event(
        &mut self,
        at: &str,
        event_id: &str,
        event_digest: &Hash,
        push_digests: Vec<Hash>,
        silenced: &[Silenced],
    ) -> i64 {
        let content =
            ggzy_core::audit::accepted_content(at, event_id, event_digest, push_digests, silenced);
        self.chain(content)
    }

    fn chain(&mut self, content: String) -> i64 {
        self.seq += 1;
        let hash = chain(&self.hash, &content);
        let prev_hash = std::mem::replace(&mut self.hash, hash);
        self.pending.push(AuditRow {
            seq: self.seq,
            content,
            prev_hash,
            hash,
        });
        self.seq
    }

    /// Chain one record and write it with the head: for operations that
    /// record a single fact (a user added, a setting changed). Returns its seq.
    pub async fn record(
        conn: &mut SqliteConnection,
        device: i64,
        at: &str,
        kind: &'static str,
        subject: &str,
        body: Value,
    ) -> Result<i64> {
        let mut audit = AuditWriter::load(conn, device).await?;
        let seq = audit.append(at, kind, subject, body);
        audit.flush(conn).await?;
        Ok(seq)
    }

    /// The records chained since the last write, for the caller to write.
    pub fn take_pending(&mut self) -> Vec<AuditRow> {
        std::mem::take(&mut self.pending)
    }

    /// The device whose chain this is.
    pub fn device(&self) -> i64 {
        self.device
    }

    /// The last chained record: its seq and hash.
    pub fn head(&self) -> (i64, Hash) {
        (self.seq, self.hash)
    }

    /// Write the chained records and move the head, in the caller's
    /// transaction: two round trips to the database however many there are
    /// (the records go as one JSON array).
    pub async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        let rows = self.take_pending();
        if rows.is_empty() {
            return Ok(());
        }
        let rows = serde_json::to_string(
            &rows
                .iter()
                .map(|r| (r.seq, &r.content, hex(&r.prev_hash), hex(&r.hash)))
                .collect::<Vec<_>>(),
        )
        .expect("plain values");
        sqlx::query(
            "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) \
             SELECT ?1, value ->> 0, value ->> 1, unhex(value ->> 2), unhex(value ->> 3) FROM json_each(?2)",
        )
        .bind(self.device)
        .bind(rows)
        .execute(&mut *conn)
        .await?;
        save_head(conn, self.device, self.seq, self.hash).await
    }
}

/// The head of device `?1`'s chain: its last record's seq and hash.
const HEAD: &str = "SELECT seq, hash FROM audit_heads WHERE origin_device = ?1";

/// Move a device's head to the record `seq` with `hash`.
pub(crate) async fn save_head(
    conn: &mut SqliteConnection,
    device: i64,
    seq: i64,
    hash: Hash,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_heads (origin_device, seq, hash) VALUES (?, ?, ?) \
         ON CONFLICT (origin_device) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(device)
    .bind(seq)
    .bind(hash.to_vec())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn build_audit(out: &mut Vec<Built>, device: i64, rows: Vec<AuditRow>) {
    build_rows(
        out,
        "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) ",
        "",
        rows,
        |mut b, r| {
            b.push_bind(device)
                .push_bind(r.seq)
                .push_bind(r.content)
                .push_bind(r.prev_hash.to_vec())
                .push_bind(r.hash.to_vec());
        },
    );
}

/// The kind of an accepted event's record.
pub(crate) use ggzy_core::audit::EVENT_ACCEPTED;
/// The kind of a push's status change record.
pub(crate) use ggzy_core::audit::PUSH_STATUS;
/// The kind of a conflict's resolution record (see `conflicts`).
pub const RESOLVED: &str = "conflict.resolved";

/// Every kind of audit record, as staff read it (the activity feed, the
/// audit page). A kind not listed is shown as written.
pub const KINDS: [(&str, &str); 29] = [
    (EVENT_ACCEPTED, "接收事件"),
    (PUSH_STATUS, "推送状态变更"),
    ("user.added", "新增用户"),
    ("user.changed", "修改用户"),
    ("user.login", "登录"),
    ("user.login_attempt", "登录尝试"),
    ("user.login_failed", "登录失败"),
    ("user.login_refused", "拒绝登录"),
    ("user.locked", "账户锁定"),
    ("user.password_checked", "核对密码"),
    ("user.password_changed", "修改密码"),
    ("member.password_issued", "发放会员密码"),
    ("setting.changed", "修改设置"),
    ("dispatch.configured", "修改推送通道"),
    ("contact_rules.changed", "修改联系规则"),
    ("checklists.changed", "修改查验清单"),
    ("calendar.changed", "修改工作日历"),
    ("limits.changed", "修改办理时限"),
    (crate::experts::SAVED, "保存专家信息"),
    ("demo.marked", "标记演示中心"),
    (crate::rejects::KEPT, "保留拒收数据"),
    (crate::rejects::FIXED, "修正拒收数据"),
    (RESOLVED, "处理同步冲突"),
    (ggzy_core::audit::ALARM_RAISED, "同步服务器告警"),
    (EXPERTS_VIEWED, "查看评标专家身份"),
    (crate::draws::COMMITTED, "专家抽取承诺"),
    (crate::draws::REVEALED, "专家抽取公开种子"),
    (crate::draw_calls::CALL, "专家通知、答复与签到"),
    (crate::improvements::SAVED, "保存改进事项"),
];

/// The kind of the record of a look at a project's drawn experts (who
/// they are is kept secret; every look is audited).
pub const EXPERTS_VIEWED: &str = "experts.viewed";

pub(crate) use ggzy_core::audit::pushes_digest;

impl crate::Store {
    /// Record that `by` looked at project `code`'s drawn experts.
    pub async fn record_experts_viewed(&self, code: &str, by: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let body = serde_json::json!({ "by": by });
        AuditWriter::record(
            tx.conn(),
            self.device_n(),
            &crate::now(),
            EXPERTS_VIEWED,
            code,
            body,
        )
        .await?;
        tx.commit().await
    }
}

mod projections;
pub mod state;
mod verify;
pub use verify::{Broken, Verdict};

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer at the start of device 1's chain.
    fn writer() -> AuditWriter {
        AuditWriter {
            device: 1,
            seq: 0,
            hash: GENESIS,
            pending: Vec::new(),
        }
    }

    /// An accepted event's record is written without building a JSON map, yet
    /// must be the same canonical content (keys sorted) as any other record.
    #[test]
    fn an_event_record_is_canonical_json() {
        let digests = vec![[2u8; 32], [1u8; 32]];
        let silenced = Silenced {
            rule: "4.2-tenderer",
            clause: "4.2",
            recipient: ggzy_core::push::Recipient {
                role: ggzy_core::role::Role::Tenderer,
                id: "T\"9".into(),
                name: "某局".into(),
            },
            reason: ggzy_core::engine::DECLINED,
        };
        let mut fast = writer();
        fast.append_event(
            "2026-01-01T08:00:00+08:00",
            "e\"1",
            &[7; 32],
            digests.clone(),
            &[silenced],
        );
        let mut general = writer();
        let body = serde_json::json!({
            "event_digest": hex(&[7; 32]),
            "pushes": 2,
            "pushes_digest": pushes_digest(digests),
            "silenced": [{
                "rule": "4.2-tenderer", "role": "tenderer", "recipient_name": "某局",
                "recipient_id": "T\"9", "reason": ggzy_core::engine::DECLINED, "clause": "4.2",
            }],
        });
        general.append("2026-01-01T08:00:00+08:00", EVENT_ACCEPTED, "e\"1", body);
        let (a, b) = (&fast.pending[0], &general.pending[0]);
        assert_eq!((&a.content, &a.hash), (&b.content, &b.hash));
        assert!(a.content.starts_with("{\"at\":"), "{}", a.content);
    }

    /// A status change's record is the content the general form writes.
    #[test]
    fn a_status_record_is_what_the_general_form_writes() {
        let at = "2026-01-01T08:00:00+08:00";
        for by in [None, Some("王\"五")] {
            let mut fast = writer();
            let id = uuid::Uuid::from_u128(42);
            fast.append_status(
                at,
                (42, &id),
                ggzy_core::push::PushStatus::Sent,
                "网关：已受理\n发往 138****5678",
                by,
            );
            let mut general = writer();
            let mut body = serde_json::json!({
                "status": "sent", "detail": "网关：已受理\n发往 138****5678", "push": id.simple().to_string(),
            });
            if let Some(by) = by {
                body["by"] = serde_json::json!(by);
            }
            general.append(at, PUSH_STATUS, "42", body);
            let (a, b) = (&fast.pending[0], &general.pending[0]);
            assert_eq!((&a.content, &a.hash), (&b.content, &b.hash));
        }
    }
}
