//! The tamper-evident trail: each record's hash is SM3 (GB/T 32905) over the
//! previous record's hash and its own canonical content, so changing,
//! inserting or removing any record breaks the chain from that point on.

use sm3::{Digest, Sm3};

/// An SM3 digest: 32 bytes, stored as a BLOB.
pub type Hash = [u8; 32];

/// The `prev_hash` of a device's first record.
pub const GENESIS: Hash = [0; 32];

/// SM3 of some bytes.
pub fn sm3(bytes: impl AsRef<[u8]>) -> Hash {
    Sm3::digest(bytes.as_ref()).into()
}

/// SM3 of some bytes, as lowercase hex (how digests appear inside JSON content).
pub fn sm3_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&sm3(bytes))
}

/// Bytes as lowercase hex.
/// A hash back from its 64 hex digits (either case); `None` for anything else.
pub fn unhex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// The hash of a record, chained to its predecessor: SM3(prev_hash ‖ content),
/// the 32 bytes of the previous hash followed by the content's UTF-8.
pub fn chain(prev_hash: &Hash, content: &str) -> Hash {
    let mut h = Sm3::new();
    h.update(prev_hash);
    h.update(content.as_bytes());
    h.finalize().into()
}

/// SM3 over a push's immutable content, as its event's audit record holds
/// it: its id, event, rule, recipient, channel and address, and its text as
/// it is pushed (the message's head, the recipient's name, the digest of
/// the message's body), then the secret it carries, if any.
#[allow(clippy::too_many_arguments)]
pub fn push_digest(
    id: &uuid::Uuid,
    event_id: &str,
    rule: &str,
    role: &str,
    recipient_id: &str,
    recipient_name: &str,
    channel: &str,
    address: &str,
    (head, body): (&str, &Hash),
    secret: Option<&str>,
) -> Hash {
    let mut h = Sm3::new();
    h.update(id.as_bytes());
    let fields = [
        event_id,
        rule,
        role,
        recipient_id,
        recipient_name,
        channel,
        address,
    ];
    for f in fields {
        h.update(f.as_bytes());
        h.update([0x1f]); // unit separator: fields cannot run into each other
    }
    h.update(head.as_bytes());
    h.update(recipient_name.as_bytes());
    h.update(body);
    h.update([0x1f]);
    if let Some(s) = secret {
        h.update(s.as_bytes());
        h.update([0x1f]);
    }
    h.finalize().into()
}

/// SM3 over the set of an event's push digests, in sorted order, in hex:
/// the `pushes_digest` of its record.
pub fn pushes_digest(mut digests: Vec<Hash>) -> String {
    digests.sort_unstable();
    sm3_hex(digests.concat())
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

impl<'a> From<&'a crate::engine::Silenced> for SilencedRecord<'a> {
    fn from(s: &'a crate::engine::Silenced) -> Self {
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

/// The content of an accepted event's record: its digest, and one digest
/// over all its pushes (each push digest covers the push's id and whole
/// content). Canonical JSON (keys sorted), as every record's content; the
/// desktop and the sync server write it alike.
pub fn accepted_content(
    at: &str,
    event_id: &str,
    event_digest: &Hash,
    push_digests: Vec<Hash>,
    silenced: &[crate::engine::Silenced],
) -> String {
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
    serde_json::to_string(&content).expect("plain strings serialise")
}

/// The content of a push's status change record (and who made it, if a
/// person). The push is named by its id, the same on every device, and by
/// `subject`: its local number on a desktop, its id on the server.
pub fn status_content(
    at: &str,
    subject: &str,
    push: &uuid::Uuid,
    status: crate::push::PushStatus,
    detail: &str,
    by: Option<&str>,
) -> String {
    // Keys in sorted order, as every record's content.
    #[derive(serde::Serialize)]
    struct Content<'a> {
        at: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<&'a str>,
        detail: &'a str,
        kind: &'static str,
        push: uuid::fmt::Simple,
        status: crate::push::PushStatus,
        subject: &'a str,
    }
    let content = Content {
        at,
        by,
        detail,
        kind: PUSH_STATUS,
        push: push.simple(),
        status,
        subject,
    };
    serde_json::to_string(&content).expect("plain strings serialise")
}

/// The kind of the sync server's record of a tamper alarm it raised.
pub const ALARM_RAISED: &str = "alarm.raised";

/// The kind of a push's status change record.
pub const PUSH_STATUS: &str = "push.status";

/// The kind of an accepted event's record.
pub const EVENT_ACCEPTED: &str = "event.accepted";

/// The head of a chain: its last record's seq and hash. Written down
/// elsewhere (printed, pushed to the supervisory department, held by the
/// sync server), it is what a rewritten history can no longer match.
/// Shown and parsed as `SEQ:HASH`, the hash in lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: Hash,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, hex(&self.hash))
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wrong = || {
            format!(
                "链头 `{s}` 的格式不对：应为“序号:哈希”，如 `1024:` 后接 64 位十六进制（ggzy audit head 打印的那一行）"
            )
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(wrong)?;
        let seq: i64 = seq.parse().ok().filter(|n| *n > 0).ok_or_else(wrong)?;
        let hash = unhex(hash).ok_or_else(wrong)?;
        Ok(Head { seq, hash })
    }
}

/// One stored record, as `verify` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    /// As stored: 32 bytes unless someone wrote otherwise.
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub content: String,
}

/// The first break in a chain, and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The record's content or hash no longer match each other.
    Altered { seq: i64 },
    /// Records `from..=to` are missing.
    Removed { from: i64, to: i64 },
    /// The record does not follow its predecessor: inserted, or written over.
    Unlinked { seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { seq } => write!(f, "第 {seq} 条审计记录被篡改（内容与哈希不符）"),
            Break::Removed { from, to } if from == to => write!(f, "第 {from} 条审计记录被删除"),
            Break::Removed { from, to } => write!(f, "第 {from}–{to} 条审计记录被删除"),
            Break::Unlinked { seq } => write!(
                f,
                "第 {seq} 条审计记录未接续前一条记录的哈希（在其之前有记录被插入、删除或改写）"
            ),
        }
    }
}

/// Walks one device's chain in `seq` order.
#[derive(Debug)]
pub struct ChainWalker {
    expected_seq: i64,
    prev_hash: Hash,
}

impl Default for ChainWalker {
    fn default() -> Self {
        ChainWalker {
            expected_seq: 1,
            prev_hash: GENESIS,
        }
    }
}

impl ChainWalker {
    /// Check the next record; the first error is the first break.
    pub fn step(&mut self, link: &Link) -> Result<(), Break> {
        let hash: Hash = match (
            <Hash>::try_from(&link.prev_hash[..]),
            <Hash>::try_from(&link.hash[..]),
        ) {
            (Ok(prev), Ok(hash)) if chain(&prev, &link.content) == hash => hash,
            _ => return Err(Break::Altered { seq: link.seq }),
        };
        if link.seq > self.expected_seq {
            return Err(Break::Removed {
                from: self.expected_seq,
                to: link.seq - 1,
            });
        }
        if link.seq < self.expected_seq || link.prev_hash[..] != self.prev_hash {
            return Err(Break::Unlinked { seq: link.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = hash;
        Ok(())
    }

    /// The last good record: (seq, hash).
    pub fn head(&self) -> (i64, Hash) {
        (self.expected_seq - 1, self.prev_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back_as_it_is_printed_and_a_wrong_one_is_named() {
        let head = Head {
            seq: 1024,
            hash: sm3("x"),
        };
        let printed = head.to_string();
        assert_eq!(printed.len(), "1024:".len() + 64);
        assert_eq!(printed.parse::<Head>(), Ok(head));
        assert_eq!(printed.to_uppercase().parse::<Head>(), Ok(head));
        let zero = format!("0:{}", hex(&head.hash));
        for wrong in ["", "1024", &zero, "x:ab", &printed[..60]] {
            let err = wrong.parse::<Head>().unwrap_err();
            assert!(err.contains("序号:哈希"), "{wrong}: {err}");
        }
    }

    fn links(n: i64) -> Vec<Link> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let content = format!("{{\"n\":{seq}}}");
                let hash = chain(&prev, &content);
                let l = Link {
                    seq,
                    prev_hash: prev.to_vec(),
                    hash: hash.to_vec(),
                    content,
                };
                prev = hash;
                l
            })
            .collect()
    }

    fn first_break(ls: &[Link]) -> Option<Break> {
        let mut w = ChainWalker::default();
        ls.iter().find_map(|l| w.step(l).err())
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        // GB/T 32905-2016, example 1: SM3("abc").
        assert_eq!(
            sm3_hex("abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn names_the_first_break() {
        let mut ls = links(5);
        assert_eq!(first_break(&ls), None);
        ls[2].content = "{\"n\":99}".into();
        assert_eq!(first_break(&ls), Some(Break::Altered { seq: 3 }));
        let mut ls = links(5);
        ls.remove(1);
        assert_eq!(first_break(&ls), Some(Break::Removed { from: 2, to: 2 }));
        let mut ls = links(5);
        // A forger rewrites record 3 and fixes its own hash: record 4 no longer follows.
        ls[2].content = "{\"n\":99}".into();
        let prev: Hash = ls[2].prev_hash[..].try_into().unwrap();
        ls[2].hash = chain(&prev, &ls[2].content).to_vec();
        assert_eq!(first_break(&ls), Some(Break::Unlinked { seq: 4 }));
        let mut ls = links(5);
        // A hash cut short is no hash.
        ls[1].hash.pop();
        assert_eq!(first_break(&ls), Some(Break::Altered { seq: 2 }));
    }
}
