//! Writing and verifying the audit trail. Records are appended inside the
//! transaction of what they record; `verify` walks every device's SM3 chain,
//! checks each head, and checks that every event and push is exactly what
//! its record says.

use crate::rows::{build_rows, push_digest, Built};
use crate::{Result, Store, StoreError};
use ggzy_core::audit::{chain, hex, sm3, sm3_hex, Break, ChainWalker, Hash, Link, GENESIS};
use ggzy_core::engine::Silenced;
use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};
use std::collections::HashMap;

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

/// A recipient the event's rule left silent, as its audit record keeps it
/// (keys sorted, as all record content): the record is the trace, chained
/// like every other, and what the project timeline shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SilencedRecord<'a> {
    pub clause: std::borrow::Cow<'a, str>,
    pub reason: std::borrow::Cow<'a, str>,
    pub recipient_id: std::borrow::Cow<'a, str>,
    pub recipient_name: std::borrow::Cow<'a, str>,
    pub role: std::borrow::Cow<'a, str>,
    pub rule: std::borrow::Cow<'a, str>,
}

impl<'a> From<&'a Silenced> for SilencedRecord<'a> {
    fn from(s: &'a Silenced) -> Self {
        SilencedRecord {
            clause: s.clause.into(),
            reason: s.reason.into(),
            recipient_id: s.recipient.id.as_str().into(),
            recipient_name: s.recipient.name.as_str().into(),
            role: s.recipient.role.as_str().into(),
            rule: s.rule.into(),
        }
    }
}

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
    /// person): the same content as `append` would write, without building
    /// a map for each of a batch's thousand records.
    pub fn append_status(
        &mut self,
        at: &str,
        push_no: i64,
        status: &str,
        detail: &str,
        by: Option<&str>,
    ) -> i64 {
        // Keys in sorted order, as every record's content.
        #[derive(serde::Serialize)]
        struct Content<'a> {
            at: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            by: Option<&'a str>,
            detail: &'a str,
            kind: &'static str,
            status: &'a str,
            subject: String,
        }
        let content = Content {
            at,
            by,
            detail,
            kind: PUSH_STATUS,
            status,
            subject: push_no.to_string(),
        };
        self.chain(serde_json::to_string(&content).expect("plain strings serialise"))
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
        // The same canonical JSON as `append` writes (keys sorted), without building a map.
        #[derive(serde::Serialize)]
        struct Content<'a> {
            at: &'a str,
            event_digest: String,
            kind: &'static str,
            pushes: usize,
            pushes_digest: String,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            silenced: Vec<SilencedRecord<'a>>,
            subject: &'a str,
        }
        let content = Content {
            at,
            event_digest: hex(event_digest),
            kind: EVENT_ACCEPTED,
            pushes: push_digests.len(),
            pushes_digest: pushes_digest(push_digests),
            silenced: silenced.iter().map(SilencedRecord::from).collect(),
            subject: event_id,
        };
        let content = serde_json::to_string(&content).expect("plain strings serialise");
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
const EVENT_ACCEPTED: &str = "event.accepted";
/// The kind of a push's status change record.
const PUSH_STATUS: &str = "push.status";

/// SM3 over a set of push digests, in sorted order.
fn pushes_digest(mut digests: Vec<Hash>) -> String {
    digests.sort_unstable();
    sm3_hex(digests.concat())
}

/// The outcome of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub records: u64,
    pub events: u64,
    pub pushes: u64,
    /// The first problem found, naming the record; `None` when intact.
    pub broken: Option<Broken>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub device: String,
    /// The audit record at fault (its seq in the device's chain), when known.
    pub seq: Option<i64>,
    pub message: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "设备 {} ：{}", self.device, self.message)
    }
}

#[derive(FromRow)]
struct RecordRow {
    seq: i64,
    content: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

#[derive(FromRow)]
struct EventCheck {
    id: String,
    body: String,
    digest: Vec<u8>,
    origin_seq: i64,
}

#[derive(FromRow)]
struct PushCheck {
    id: uuid::Uuid,
    event_id: String,
    rule: String,
    recipient_role: String,
    recipient_id: String,
    recipient_name: String,
    channel: String,
    address: String,
    head: String,
    message: i64,
    body: String,
    secret: Option<String>,
    origin_seq: i64,
}

const PAGE: i64 = 2000;

impl Store {
    /// Walk every device's chain; report the first broken record.
    /// `progress(done, total)` is called as records are checked.
    pub async fn verify_audit(&self, mut progress: impl FnMut(u64, u64)) -> Result<Verdict> {
        let mut conn = self.pool().acquire().await?;
        // One read transaction: a consistent snapshot while writers go on.
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let result = verify_in(&mut conn, &mut progress).await;
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        result
    }
}

async fn verify_in(
    conn: &mut SqliteConnection,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Verdict> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_records")
        .fetch_one(&mut *conn)
        .await?;
    // Every device with any trace here; a device number no table explains is itself a finding.
    let devices: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT n, (SELECT id FROM devices d WHERE d.n = x.n) FROM ( \
           SELECT DISTINCT origin_device AS n FROM audit_records UNION SELECT origin_device FROM audit_heads \
           UNION SELECT DISTINCT origin_device FROM events) x ORDER BY n",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut verdict = Verdict {
        records: 0,
        events: 0,
        pushes: 0,
        broken: None,
    };
    for (n, id) in devices {
        let name = id.unwrap_or_else(|| format!("#{n}（未登记的设备）"));
        if let Some(b) = verify_device(conn, n, &name, &mut verdict, total as u64, progress).await?
        {
            verdict.broken = Some(b);
            break;
        }
    }
    Ok(verdict)
}

async fn verify_device(
    conn: &mut SqliteConnection,
    device: i64,
    name: &str,
    verdict: &mut Verdict,
    total: u64,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Option<Broken>> {
    let broken = |seq: Option<i64>, message: String| {
        Ok(Some(Broken {
            device: name.to_owned(),
            seq,
            message,
        }))
    };
    let mut walker = ChainWalker::default();
    let mut after = 0i64;
    let mut events_seen = 0i64;
    loop {
        let rows: Vec<RecordRow> = sqlx::query_as(
            "SELECT seq, content, prev_hash, hash FROM audit_records \
             WHERE origin_device = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(device)
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        let (lo, hi) = (rows[0].seq, last.seq);

        // What the records of this page cover.
        let events: Vec<EventCheck> = sqlx::query_as(
            "SELECT id, body, digest, origin_seq FROM events WHERE origin_device = ? AND origin_seq BETWEEN ? AND ?",
        )
        .bind(device)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await?;
        let mut events_by_seq: HashMap<i64, EventCheck> = HashMap::new();
        for e in events {
            events_by_seq.insert(e.origin_seq, e);
        }
        let pushes: Vec<PushCheck> = sqlx::query_as(
            "SELECT p.id, e.id AS event_id, p.rule, p.recipient_role, p.recipient_id, p.recipient_name, p.channel, \
             p.address, m.head, p.message, m.body, p.secret, e.origin_seq FROM events e \
             JOIN pushes p ON p.event = e.no \
             JOIN messages m ON m.no = p.message WHERE e.origin_device = ? AND e.origin_seq BETWEEN ? AND ?",
        )
        .bind(device)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await?;
        let mut pushes_by_seq: HashMap<i64, Vec<Hash>> = HashMap::new();
        let mut bodies: HashMap<i64, Hash> = HashMap::new();
        for p in pushes {
            let body = bodies.entry(p.message).or_insert_with(|| sm3(&p.body));
            let d = push_digest(
                &p.id,
                &p.event_id,
                &p.rule,
                &p.recipient_role,
                &p.recipient_id,
                &p.recipient_name,
                &p.channel,
                &p.address,
                (&p.head, body),
                p.secret.as_deref(),
            );
            pushes_by_seq.entry(p.origin_seq).or_default().push(d);
        }

        for r in rows {
            let link = Link {
                seq: r.seq,
                prev_hash: r.prev_hash,
                hash: r.hash,
                content: r.content,
            };
            if let Err(b) = walker.step(&link) {
                let seq = match b {
                    Break::Altered { seq } | Break::Unlinked { seq } => seq,
                    Break::Removed { from, .. } => from,
                };
                return broken(Some(seq), b.to_string());
            }
            let content: Value = serde_json::from_str(&link.content)
                .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", r.seq)))?;
            let field = |k: &str| {
                content
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let subject = field("subject");
            if field("kind") == EVENT_ACCEPTED {
                let Some(event) = events_by_seq.remove(&r.seq) else {
                    return broken(
                        Some(r.seq),
                        format!("第 {} 条审计记录所记的事件 `{subject}` 不在事件表中（事件被删除，或该记录为插入的伪造记录）", r.seq),
                    );
                };
                let digest = sm3(&event.body);
                if event.id != subject
                    || event.digest != digest
                    || field("event_digest") != hex(&digest)
                {
                    return broken(
                        Some(r.seq),
                        format!(
                            "事件 `{}` 的内容与第 {} 条审计记录不符（事件被篡改）",
                            event.id, r.seq
                        ),
                    );
                }
                let stored = pushes_by_seq.remove(&r.seq).unwrap_or_default();
                let count = stored.len() as u64;
                let recorded = content.get("pushes").and_then(Value::as_u64);
                if recorded != Some(count) || field("pushes_digest") != pushes_digest(stored) {
                    return broken(
                        Some(r.seq),
                        format!(
                            "事件 `{}` 的推送与第 {} 条审计记录不符：有推送被改写、删除或插入",
                            event.id, r.seq
                        ),
                    );
                }
                verdict.events += 1;
                verdict.pushes += count;
                events_seen += 1;
            }
            verdict.records += 1;
        }
        if let Some((seq, e)) = events_by_seq.into_iter().min_by_key(|(s, _)| *s) {
            return broken(
                Some(seq),
                format!(
                    "事件 `{}` 指向第 {seq} 条审计记录，但该记录不是它的记录",
                    e.id
                ),
            );
        }
        progress(verdict.records, total);
    }

    // The head written with the last record: a removed or forged tail shows here.
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE origin_device = ?")
            .bind(device)
            .fetch_optional(&mut *conn)
            .await?;
    let (last_seq, last_hash) = walker.head();
    match head {
        Some((seq, hash)) if seq == last_seq && hash == last_hash => {}
        Some((seq, _)) if seq > last_seq => {
            return broken(
                Some(last_seq + 1),
                format!("第 {}–{seq} 条审计记录被删除（链尾缺失）", last_seq + 1),
            )
        }
        Some((seq, _)) if seq < last_seq => {
            return broken(
                Some(seq + 1),
                format!("第 {}–{last_seq} 条审计记录是链头之后插入的记录", seq + 1),
            )
        }
        Some(_) => {
            return broken(
                Some(last_seq),
                format!("第 {last_seq} 条审计记录与链头记录的哈希不符"),
            )
        }
        None if last_seq > 0 => return broken(None, "链头记录缺失".into()),
        None => {}
    }
    let events_total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE origin_device = ?")
            .bind(device)
            .fetch_one(&mut *conn)
            .await?;
    if events_total != events_seen {
        let orphan: Option<(String, i64)> = sqlx::query_as(
            "SELECT e.id, e.origin_seq FROM events e WHERE e.origin_device = ?1 AND NOT EXISTS \
             (SELECT 1 FROM audit_records a WHERE a.origin_device = ?1 AND a.seq = e.origin_seq AND a.content ->> '$.subject' = e.id) \
             ORDER BY e.origin_seq LIMIT 1",
        )
        .bind(device)
        .fetch_optional(&mut *conn)
        .await?;
        let (id, seq) = orphan.unwrap_or_default();
        return broken(
            Some(seq),
            format!(
                "事件 `{id}` 没有对应的审计记录（第 {seq} 条记录被删除，或事件为插入的伪造事件）"
            ),
        );
    }
    Ok(None)
}

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
            fast.append_status(at, 42, "sent", "网关：已受理\n发往 138****5678", by);
            let mut general = writer();
            let mut body =
                serde_json::json!({ "status": "sent", "detail": "网关：已受理\n发往 138****5678" });
            if let Some(by) = by {
                body["by"] = serde_json::json!(by);
            }
            general.append(at, PUSH_STATUS, "42", body);
            let (a, b) = (&fast.pending[0], &general.pending[0]);
            assert_eq!((&a.content, &a.hash), (&b.content, &b.hash));
        }
    }
}
