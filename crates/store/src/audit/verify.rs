//! `verify`: walk every device's SM3 chain, check each head, and check that
//! every event and push is exactly what its record says; then the current
//! state against the trail (`state`).

use super::state::Replay;
use super::{pushes_digest, EVENT_ACCEPTED, PUSH_STATUS};
use crate::rows::push_digest;
use crate::{Result, Store, StoreError};
use ggzy_core::audit::{hex, sm3, Break, ChainWalker, Hash, Head, Link, GENESIS};
use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};
use std::collections::HashMap;

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

#[derive(FromRow)]
struct StatusCheck {
    push_no: i64,
    /// The push's id, as a status record names it (simple hex).
    push: String,
    status: String,
    detail: Option<String>,
    at: String,
    origin_seq: i64,
}

impl Store {
    /// Walk every device's chain; report the first broken record.
    /// `progress(done, total)` is called as records are checked.
    pub async fn verify_audit(&self, progress: impl FnMut(u64, u64)) -> Result<Verdict> {
        self.verify_audit_expecting(None, progress).await
    }

    /// As [`Store::verify_audit`], and this device's chain must still hold
    /// `expect`, a head written down earlier: a history truncated or
    /// rewritten below it (and every hash after recomputed) fails here.
    pub async fn verify_audit_expecting(
        &self,
        expect: Option<Head>,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Verdict> {
        let mut conn = self.pool().acquire().await?;
        // One read transaction: a consistent snapshot while writers go on.
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let own = (self.device_n(), expect);
        let result = verify_in(&mut conn, own, self.device(), &mut progress).await;
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        result
    }

    /// The head of this device's chain: what to write down, print or send
    /// away, for `verify_audit_expecting` to hold the chain to later.
    pub async fn audit_head(&self) -> Result<Head> {
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE origin_device = ?")
                .bind(self.device_n())
                .fetch_optional(self.pool())
                .await?;
        let Some((seq, hash)) = head else {
            return Ok(Head {
                seq: 0,
                hash: GENESIS,
            });
        };
        let hash = hash.try_into().map_err(|_| {
            StoreError::Corrupt("链头记录不是 32 字节的哈希：请运行 ggzy audit verify".into())
        })?;
        Ok(Head { seq, hash })
    }
}

async fn verify_in(
    conn: &mut SqliteConnection,
    (own, expect): (i64, Option<Head>),
    own_name: &str,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Verdict> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_records")
        .fetch_one(&mut *conn)
        .await?;
    // Every device with any trace here; a device number no table explains is itself a finding.
    let devices: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT n, (SELECT id FROM devices d WHERE d.n = x.n) FROM ( \
           SELECT DISTINCT origin_device AS n FROM audit_records UNION SELECT origin_device FROM audit_heads \
           UNION SELECT DISTINCT origin_device FROM events UNION SELECT ?1) x ORDER BY n",
    )
    .bind(own)
    .fetch_all(&mut *conn)
    .await?;
    let mut verdict = Verdict {
        records: 0,
        events: 0,
        pushes: 0,
        broken: None,
    };
    let mut replay = Replay::default();
    for (n, id) in devices {
        let name = id.unwrap_or_else(|| format!("#{n}（未登记的设备）"));
        let expect = expect.filter(|_| n == own);
        let w = Walk {
            own: n == own,
            device: n,
            name: &name,
            expect,
            total: total as u64,
        };
        if let Some(b) = walk(&w, conn, &mut verdict, &mut replay, progress).await? {
            verdict.broken = Some(b);
            return Ok(verdict);
        }
    }
    let found = match replay.check(conn).await? {
        None => super::projections::check(conn, own).await?,
        found => found,
    };
    if let Some((seq, message)) = found {
        verdict.broken = Some(Broken {
            device: own_name.to_owned(),
            seq,
            message,
        });
    }
    Ok(verdict)
}

/// One device's chain, walked.
struct Walk<'a> {
    /// This desktop's own chain (the others came down from the sync server).
    own: bool,
    device: i64,
    name: &'a str,
    /// A head this chain must still hold.
    expect: Option<Head>,
    total: u64,
}

/// Walk one device's chain: each record in order, what it covers (events,
/// pushes, status history), the head; the state it records goes to `replay`.
async fn walk(
    w: &Walk<'_>,
    conn: &mut SqliteConnection,
    verdict: &mut Verdict,
    replay: &mut Replay,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Option<Broken>> {
    let (device, name, total) = (w.device, w.name, w.total);
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
    let mut statuses_seen = 0i64;
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

        let statuses: Vec<StatusCheck> = sqlx::query_as(
            "SELECT h.push_no, lower(hex(p.id)) AS push, h.status, h.detail, h.at, h.origin_seq \
             FROM push_status h JOIN pushes p ON p.no = h.push_no \
             WHERE h.origin_device = ? AND h.origin_seq BETWEEN ? AND ?",
        )
        .bind(device)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await?;
        let mut statuses: HashMap<i64, StatusCheck> =
            statuses.into_iter().map(|c| (c.origin_seq, c)).collect();

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
            if let Some(head) = w.expect.filter(|h| h.seq == r.seq) {
                if head.hash[..] != link.hash[..] {
                    return broken(
                        Some(r.seq),
                        format!(
                            "第 {} 条审计记录的哈希与所持链头 {head} 不符：此前的审计记录被改写、插入或删除后重新计算了哈希",
                            r.seq
                        ),
                    );
                }
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
                    if duplicate(conn, device, r.seq, &subject).await? {
                        verdict.records += 1;
                        continue;
                    }
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
            if field("kind") == PUSH_STATUS {
                let row = statuses.remove(&r.seq);
                // Another device's push is found by its id (the subject is
                // its number there); one of an event accepted here first
                // from elsewhere is not here at all, nor its history.
                let named = field("push");
                if !w.own && row.is_none() && (named.is_empty() || !has_push(conn, &named).await?) {
                    verdict.records += 1;
                    continue;
                }
                let same = row.as_ref().is_some_and(|h| {
                    (if w.own {
                        h.push_no.to_string() == subject
                    } else {
                        true
                    }) && (named.is_empty() || h.push == named)
                        && h.status == field("status")
                        && h.detail.as_deref().unwrap_or_default() == field("detail")
                        && h.at == field("at")
                });
                if !same {
                    return broken(
                        Some(r.seq),
                        format!(
                            "表 push_status 中第 {subject} 号推送的状态记录与第 {} 条审计记录不符（{}）",
                            r.seq,
                            if row.is_some() { "被改写" } else { "被删除" }
                        ),
                    );
                }
                statuses_seen += 1;
            }
            if w.own {
                // Users, settings and refused lines are each desktop's own.
                replay.record(r.seq, &field("kind"), &subject, &content);
            }
            replay.shared(&field("kind"), &subject, &content);
            verdict.records += 1;
        }
        if let Some((seq, h)) = statuses.into_iter().min_by_key(|(s, _)| *s) {
            return broken(
                Some(seq),
                format!(
                    "表 push_status 中第 {} 号推送的状态记录指向第 {seq} 条审计记录，但该记录不是它的记录（插入的伪造记录）",
                    h.push_no
                ),
            );
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
    if let Some(head) = w.expect.filter(|h| h.seq > last_seq) {
        return broken(
            Some(last_seq + 1),
            format!(
                "审计链只到第 {last_seq} 条，而所持链头为 {head}：第 {}–{} 条记录被删除（链尾被截断）",
                last_seq + 1,
                head.seq
            ),
        );
    }
    let status_total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM push_status WHERE origin_device = ?")
            .bind(device)
            .fetch_one(&mut *conn)
            .await?;
    if status_total != statuses_seen {
        let (push_no, seq): (i64, i64) = sqlx::query_as(
            "SELECT push_no, origin_seq FROM push_status h WHERE origin_device = ?1 AND NOT EXISTS \
             (SELECT 1 FROM audit_records a WHERE a.origin_device = ?1 AND a.seq = h.origin_seq) \
             ORDER BY origin_seq LIMIT 1",
        )
        .bind(device)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default();
        return broken(
            Some(seq),
            format!("表 push_status 中第 {push_no} 号推送的状态记录没有对应的审计记录（插入的伪造记录）"),
        );
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

/// Whether the event record `seq` of `device` names an event accepted here
/// first from another record: kept as a conflict, with no row of its own.
async fn duplicate(conn: &mut SqliteConnection, device: i64, seq: i64, id: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM conflicts c WHERE c.origin_device = ?1 AND c.origin_seq = ?2 \
         AND c.kind = 'duplicate' AND c.event_id = ?3 AND EXISTS (SELECT 1 FROM events e WHERE e.id = ?3))",
    )
    .bind(device)
    .bind(seq)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Whether another device's push with this id (simple hex) is here.
async fn has_push(conn: &mut SqliteConnection, id: &str) -> Result<bool> {
    let Ok(id) = uuid::Uuid::try_parse(id) else {
        return Ok(false);
    };
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM push_holds WHERE why = 'remote' AND id = ?)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}
