//! The evidence pack (5.2c): what an assessor the center appoints needs to
//! check, offline and without the center's database, that the trail of a
//! period is whole — its events, their pushes and how each went, the audit
//! records that cover them, the chain's heads and the daily anchors.
//!
//! A pack is JSON Lines: a manifest first, then audit records (each
//! device's, contiguous up to its last), events and pushes, and last the
//! record of the export itself, chained on the exporting device, whose
//! content holds the SM3 of every byte before it. So a byte changed
//! anywhere is found: before the last line by that SM3 (and the checks of
//! what it says), in the last line by the chain. What no file can prove
//! alone is that the whole chain was not rebuilt: `verify` reports each
//! device's head and the anchors it holds, to compare with the anchors the
//! supervisory department kept (and `--expect-head`).

use crate::audit::{chain, hex, push_digest, pushes_digest, sm3, unhex, Hash, EVENT_ACCEPTED};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The pack format this code writes and reads.
pub const FORMAT: u32 = 1;

/// The kind of the record of an export, the pack's last line.
pub const EXPORTED: &str = "evidence.exported";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub center: String,
    /// The period's first and last days (the events' own days), `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub exported_at: String,
    pub exported_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackRecord {
    /// The device's uuid.
    pub device: String,
    pub seq: i64,
    /// The canonical content, exactly as chained.
    pub content: String,
    pub prev: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackEvent {
    /// The device whose record covers it.
    pub device: String,
    pub id: String,
    /// The stored line, exactly as its digest was taken.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackPush {
    pub id: uuid::Uuid,
    pub event: String,
    pub rule: String,
    pub role: String,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: String,
    pub address: String,
    /// The message as pushed: its head, the recipient's name, its body.
    pub head: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One line of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    Manifest(Manifest),
    Record(PackRecord),
    Event(PackEvent),
    Push(PackPush),
}

impl Line {
    /// The line as written in a pack, newline included.
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("a pack line serialises");
        s.push('\n');
        s
    }
}

/// What a pack that verifies holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackReport {
    pub manifest: Manifest,
    pub records: usize,
    pub events: usize,
    pub pushes: usize,
    /// Each device's first record in the pack and its head: (uuid, first seq, head).
    pub devices: Vec<(String, i64, crate::audit::Head)>,
    /// Anchored heads found in the pack's chain; those naming a record
    /// before the pack's first are counted apart.
    pub anchors_matched: usize,
    pub anchors_before: usize,
    /// The latest status each push's records give it (push id -> status).
    pub statuses: BTreeMap<String, String>,
    /// The export's own record: the head to compare.
    pub export: crate::audit::Head,
}

/// Why a pack does not verify: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行：{what}")]
pub struct PackError {
    pub line: usize,
    pub what: String,
}

fn fail<T>(line: usize, what: impl Into<String>) -> Result<T, PackError> {
    Err(PackError {
        line,
        what: what.into(),
    })
}

/// Check a pack, every byte of it.
pub fn verify(bytes: &[u8]) -> Result<PackReport, PackError> {
    if !bytes.ends_with(b"\n") {
        return fail(0, "证据包不完整：最后一行缺少换行（文件被截断或改动）");
    }
    let body = &bytes[..bytes.len() - 1];
    let mut starts = vec![0];
    starts.extend(
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let last_start = *starts.last().expect("one line at least");

    let mut manifest = None;
    let mut records: Vec<(usize, PackRecord)> = Vec::new();
    let mut events: Vec<(usize, PackEvent)> = Vec::new();
    let mut pushes: Vec<(usize, PackPush)> = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let n = i + 1;
        let end = starts.get(i + 1).map_or(body.len(), |next| next - 1);
        let text =
            std::str::from_utf8(&body[start..end]).or_else(|_| fail(n, "不是 UTF-8 文本"))?;
        let line: Line =
            serde_json::from_str(text).or_else(|e| fail(n, format!("无法读取（{e}）")))?;
        // Each line as it was written: a byte changed where JSON would not
        // notice (an escape spelled otherwise) is still a change.
        if line.to_line().as_bytes() != &bytes[start..end + 1] {
            return fail(n, "与写出时的字节不同");
        }
        match (n, line) {
            (1, Line::Manifest(m)) => {
                if m.format != FORMAT {
                    return fail(
                        1,
                        format!(
                            "证据包格式 {} 不受支持（本程序读取格式 {FORMAT}）",
                            m.format
                        ),
                    );
                }
                manifest = Some(m);
            }
            (1, _) => return fail(1, "第一行须为清单（manifest）"),
            (_, Line::Manifest(_)) => return fail(n, "清单只能在第一行"),
            (_, Line::Record(r)) => records.push((n, r)),
            (_, Line::Event(e)) => events.push((n, e)),
            (_, Line::Push(p)) => pushes.push((n, p)),
        }
    }
    let manifest = manifest.expect("line 1 checked");
    let lines = starts.len();

    // The export's record is the last line, and holds the SM3 of all before it.
    let Some((at, last)) = records.last().filter(|(n, _)| *n == lines) else {
        return fail(lines, "最后一行须为导出记录");
    };
    let content: Value = serde_json::from_str(&last.content)
        .or_else(|e| fail(*at, format!("导出记录无法读取（{e}）")))?;
    if content["kind"] != EXPORTED {
        return fail(*at, "最后一行不是导出记录");
    }
    if content["digest"].as_str() != Some(hex(&sm3(&bytes[..last_start])).as_str()) {
        return fail(*at, "证据包内容与导出记录中的 SM3 不符：导出后被改动");
    }

    // Each device's records: contiguous, each chained to the one before.
    let mut heads: BTreeMap<String, (i64, i64, Hash)> = BTreeMap::new();
    let mut by_subject: HashMap<(String, String), (usize, Value)> = HashMap::new();
    let mut hashes: HashMap<(String, i64), Hash> = HashMap::new();
    let mut statuses: BTreeMap<String, String> = BTreeMap::new();
    for (n, r) in &records {
        let (Some(prev), Some(hash)) = (unhex(&r.prev), unhex(&r.hash)) else {
            return fail(*n, "哈希须为 64 位十六进制");
        };
        if chain(&prev, &r.content) != hash {
            return fail(
                *n,
                format!("设备 {} 第 {} 条审计记录的哈希与内容不符", r.device, r.seq),
            );
        }
        match heads.get_mut(&r.device) {
            Some((_, head_seq, head_hash)) => {
                if r.seq != *head_seq + 1 || prev != *head_hash {
                    return fail(
                        *n,
                        format!(
                            "设备 {} 的审计记录在第 {} 条处断开（缺失、插入或顺序被改动）",
                            r.device, r.seq
                        ),
                    );
                }
                *head_seq = r.seq;
                *head_hash = hash;
            }
            None => {
                heads.insert(r.device.clone(), (r.seq, r.seq, hash));
            }
        }
        hashes.insert((r.device.clone(), r.seq), hash);
        let c: Value = serde_json::from_str(&r.content)
            .or_else(|e| fail(*n, format!("审计记录内容无法读取（{e}）")))?;
        let kind = c["kind"].as_str().unwrap_or_default();
        if kind == EVENT_ACCEPTED {
            let subject = c["subject"].as_str().unwrap_or_default().to_owned();
            by_subject.insert((r.device.clone(), subject), (*n, c));
        } else if kind == crate::audit::PUSH_STATUS {
            if let (Some(push), Some(status)) = (c["push"].as_str(), c["status"].as_str()) {
                statuses.insert(push.to_owned(), status.to_owned());
            }
        }
    }

    // Each event is the one its record covers, with exactly its pushes.
    let mut of_event: HashMap<&str, Vec<Hash>> = HashMap::new();
    for (_, p) in &pushes {
        of_event
            .entry(p.event.as_str())
            .or_default()
            .push(push_digest(
                &p.id,
                &p.event,
                &p.rule,
                &p.role,
                &p.recipient_id,
                &p.recipient_name,
                &p.channel,
                &p.address,
                (&p.head, &sm3(&p.body)),
                p.secret.as_deref(),
            ));
    }
    let mut anchors_matched = 0;
    let mut anchors_before = 0;
    for (n, e) in &events {
        let Some((_, c)) = by_subject.get(&(e.device.clone(), e.id.clone())) else {
            return fail(*n, format!("事件 `{}` 没有覆盖它的审计记录", e.id));
        };
        if c["event_digest"].as_str() != Some(hex(&sm3(&e.body)).as_str()) {
            return fail(*n, format!("事件 `{}` 的内容与其审计记录不符", e.id));
        }
        let digests = of_event.remove(e.id.as_str()).unwrap_or_default();
        if c["pushes"].as_u64() != Some(digests.len() as u64)
            || c["pushes_digest"].as_str() != Some(pushes_digest(digests).as_str())
        {
            return fail(
                *n,
                format!(
                    "事件 `{}` 的推送与其审计记录不符（缺失、多出或被改动）",
                    e.id
                ),
            );
        }
        let body: Value = serde_json::from_str(&e.body)
            .or_else(|err| fail(*n, format!("事件 `{}` 无法读取（{err}）", e.id)))?;
        if body["type"] == crate::event::ANCHORED {
            let head: crate::audit::Head = body["head"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .or_else(|m: String| fail(*n, m))?;
            match hashes.get(&(e.device.clone(), head.seq)) {
                Some(h) if *h == head.hash => anchors_matched += 1,
                Some(_) => {
                    return fail(*n, format!("存证的链头 {head} 与包中的审计记录不符"));
                }
                None if heads
                    .get(&e.device)
                    .is_some_and(|(first, ..)| head.seq < *first) =>
                {
                    anchors_before += 1
                }
                None => return fail(*n, format!("存证的链头 {head} 不在包中的审计记录里")),
            }
        }
    }
    if let Some((event, _)) = of_event.into_iter().next() {
        let n = pushes
            .iter()
            .find(|(_, p)| p.event == event)
            .map_or(0, |(n, _)| *n);
        return fail(n, format!("推送所属的事件 `{event}` 不在包中"));
    }

    // The export chains onto its device's records in the pack, never
    // starting a chain of its own.
    if heads
        .get(&last.device)
        .is_none_or(|(first, ..)| *first == last.seq)
    {
        return fail(*at, "导出记录没有接在本设备的审计记录之后");
    }
    let export = crate::audit::Head {
        seq: last.seq,
        hash: unhex(&last.hash).expect("checked above"),
    };
    Ok(PackReport {
        manifest,
        records: records.len(),
        events: events.len(),
        pushes: pushes.len(),
        devices: heads
            .into_iter()
            .map(|(d, (first, seq, hash))| (d, first, crate::audit::Head { seq, hash }))
            .collect(),
        anchors_matched,
        anchors_before,
        statuses,
        export,
    })
}
