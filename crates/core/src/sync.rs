//! What travels between a desktop and the sync server. Each desktop appends
//! to its own numbered series: the records of its audit chain, each with
//! what it covers when that is more than its content (an accepted event's
//! line). The server gives every record a place in one global order; a
//! desktop downloads the others' records by that order, a page at a time.

use crate::audit::{chain, hex, push_digest, pushes_digest, sm3, Hash};
use crate::push::{Channel, Secret};
use crate::role::Role;
use serde::{Deserialize, Serialize};

/// The series the sync server writes itself: the e-trading system's events
/// it decides (`POST /api/v1/intake`). Every server instance appends to it,
/// in the global order.
pub const SERVER_DEVICE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6767_7a79_7365_7276_6572_0000_0000_0001);

/// One record of a device's series, as its chain holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: i64,
    pub content: String,
    #[serde(with = "hex32")]
    pub prev_hash: Hash,
    #[serde(with = "hex32")]
    pub hash: Hash,
    /// What the record covers beyond its content: an accepted event's
    /// canonical line (its digest is in the content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The pushes an accepted event's record covers (their digest is in
    /// the content): another device stores them as they are, never decides
    /// them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushes: Vec<CarriedPush>,
}

/// A push as it travels with its event's record: everything its digest
/// covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedPush {
    pub id: uuid::Uuid,
    pub rule: String,
    pub role: Role,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub address: String,
    /// The message's head (`【center】`) and body, as `messages` holds them.
    pub head: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

impl CarriedPush {
    /// A push the engine drafted for the event `event_id` at `at`, under its
    /// idempotency key.
    pub fn drafted(
        d: crate::push::PushDraft,
        event_id: &str,
        at: &chrono::DateTime<chrono::FixedOffset>,
    ) -> Self {
        CarriedPush {
            id: d.key(event_id, at),
            rule: d.rule.to_owned(),
            role: d.recipient.role,
            recipient_id: d.recipient.id,
            recipient_name: d.recipient.name,
            channel: d.channel,
            address: d.address,
            head: d.message.head,
            body: d.message.body,
            secret: d.secret,
        }
    }

    /// The digest its event's record covers it by.
    pub fn digest(&self, event_id: &str) -> Hash {
        push_digest(
            &self.id,
            event_id,
            &self.rule,
            self.role.as_str(),
            &self.recipient_id,
            &self.recipient_name,
            self.channel.as_str(),
            &self.address,
            (&self.head, &sm3(&self.body)),
            self.secret.map(Secret::as_str),
        )
    }
}

impl Record {
    /// Whether the record's hash is SM3 of its predecessor's hash and its
    /// content, and the line and pushes it carries are the ones its content
    /// names.
    pub fn holds(&self) -> Result<(), String> {
        if chain(&self.prev_hash, &self.content) != self.hash {
            return Err(format!("第 {} 条记录的哈希与其内容不符", self.seq));
        }
        let Some(body) = &self.body else {
            return match self.pushes.is_empty() {
                true => Ok(()),
                false => Err(format!(
                    "第 {} 条记录不是接收事件的记录，却附有推送",
                    self.seq
                )),
            };
        };
        let content = serde_json::from_str::<serde_json::Value>(&self.content).ok();
        let field = |k: &str| {
            content
                .as_ref()
                .and_then(|c| c.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        if field("event_digest") != hex(&sm3(body)) {
            return Err(format!("第 {} 条记录所附事件与记录中的摘要不符", self.seq));
        }
        let count = content.as_ref().and_then(|c| c.get("pushes")?.as_u64());
        let digests = self.pushes.iter().map(|p| p.digest(field("subject")));
        if count != Some(self.pushes.len() as u64)
            || field("pushes_digest") != pushes_digest(digests.collect())
        {
            return Err(format!("第 {} 条记录所附推送与记录中的摘要不符", self.seq));
        }
        Ok(())
    }
}

/// A desktop's upload: the next records of its own series, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The desktop's device id (its database's `device_id`).
    pub device_id: uuid::Uuid,
    pub records: Vec<Record>,
    /// This desktop's pushes the server is to send from now on (connected
    /// mode: the desktop's dispatcher is off), each named with the record
    /// of its event, which the server holds already.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hand_over: Vec<HandOver>,
}

/// A push handed to the server to send: its id, the seq of its event's
/// record in the desktop's series, and its series of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOver {
    pub push: uuid::Uuid,
    pub seq: i64,
    /// The series of attempts (0; more once staff re-drove it).
    #[serde(default)]
    pub series: i64,
}

/// What the server did with an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// Records new to the server.
    pub stored: u64,
    /// Records it held already, identical (a repeated upload).
    pub duplicates: u64,
    /// The series' head the server now holds: (seq, hash in hex).
    pub head_seq: i64,
    pub head_hash: String,
    /// Tamper alarms the server holds, of every device (admins are shown them).
    #[serde(default)]
    pub alarms: i64,
    /// Pushes handed over that the server had not been handed before.
    #[serde(default)]
    pub handed: u64,
}

/// A tamper alarm the server raised: a device's series that no longer
/// matches what the server holds of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// The device as the server enrolled it (`ggzy-server device add --name`).
    pub device: String,
    pub kind: String,
    pub detail: String,
    /// When the server raised it (RFC 3339).
    pub at: String,
}

/// The server's alarms, newest first (`GET /api/v1/alarms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarms {
    pub alarms: Vec<Alarm>,
}

/// A record as another device downloads it: whose, and its place in the
/// global order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    pub gseq: i64,
    pub device_id: uuid::Uuid,
    #[serde(flatten)]
    pub record: Record,
}

/// A page of the global order after a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub records: Vec<Placed>,
    /// The cursor to ask from next (the last record's gseq, or the one asked).
    pub next: i64,
    /// More records wait after this page.
    pub more: bool,
    /// The last place the server has given (what waits: `last - next`).
    #[serde(default)]
    pub last: i64,
}

/// A page whose every record holds (hash, line and pushes as its content
/// names them), with each accepted event's line read: what a desktop
/// applies. Checking is pure work, done before the desktop's write turn
/// (while the page before is written).
#[derive(Debug, Clone)]
pub struct Checked {
    page: Page,
    /// Each record's event (an accepted event's record), in page order.
    events: Vec<Option<crate::event::Envelope>>,
}

/// A record of a page that does not hold: whose, which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsound {
    pub device_id: uuid::Uuid,
    pub seq: i64,
    pub why: String,
}

impl Page {
    /// Check every record of the page and read its events.
    pub fn check(self) -> Result<Checked, Unsound> {
        let events = self
            .records
            .iter()
            .map(|p| {
                let unsound = |why: String| Unsound {
                    device_id: p.device_id,
                    seq: p.record.seq,
                    why,
                };
                p.record.holds().map_err(unsound)?;
                p.record
                    .body
                    .as_deref()
                    .map(crate::event::parse)
                    .transpose()
                    .map_err(|e| unsound(format!("所附事件无法读取（{e}）")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Checked { page: self, events })
    }
}

impl Checked {
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// The records with their events, in page order.
    pub fn records(&self) -> impl Iterator<Item = (&Placed, Option<&crate::event::Envelope>)> {
        self.page
            .records
            .iter()
            .zip(self.events.iter().map(Option::as_ref))
    }
}

/// The head of one device's series as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesHead {
    pub device_id: uuid::Uuid,
    pub seq: i64,
    #[serde(with = "hex32")]
    pub hash: Hash,
}

/// Every series' head on the server (`GET /api/v1/sync/heads`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    pub heads: Vec<SeriesHead>,
}

/// The answer to `POST /api/v1/intake`: what became of the body's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeAnswer {
    pub accepted: u64,
    /// Lines whose event the server holds already, identical.
    pub duplicates: u64,
    /// Pushes the accepted events made.
    pub pushes: u64,
    /// Each refused line (kept on the server as a reject).
    pub refused: Vec<RefusedLine>,
}

/// A line of an intake body the server refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedLine {
    /// 1-based, counting every line of the body (blank ones too).
    pub line: u64,
    pub event_id: Option<String>,
    /// The refusal's stable code (as `ggzy import` prints it).
    pub code: String,
    pub message: String,
}

/// A 32-byte hash as lowercase hex on the wire.
mod hex32 {
    use crate::audit::{hex, Hash};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        crate::audit::unhex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` 不是 64 位十六进制的哈希")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{sm3, GENESIS};

    fn record(seq: i64, prev: Hash, content: &str, body: Option<&str>) -> Record {
        Record {
            seq,
            content: content.to_owned(),
            prev_hash: prev,
            hash: chain(&prev, content),
            body: body.map(str::to_owned),
            pushes: Vec::new(),
        }
    }

    fn push() -> CarriedPush {
        CarriedPush {
            id: uuid::Uuid::from_u128(7),
            rule: "4.4.2-reject".into(),
            role: Role::Agency,
            recipient_id: "a1".into(),
            recipient_name: "某代理".into(),
            channel: Channel::Sms,
            address: "13800000000".into(),
            head: "【中心】".into(),
            body: "，您好！".into(),
            secret: None,
        }
    }

    #[test]
    fn a_record_holds_only_with_its_own_hash_line_and_pushes() {
        let line = r#"{"id":"e1"}"#;
        let content = format!(
            r#"{{"event_digest":"{}","kind":"event.accepted","pushes":1,"pushes_digest":"{}","subject":"e1"}}"#,
            hex(&sm3(line)),
            pushes_digest(vec![push().digest("e1")])
        );
        let mut r = record(1, GENESIS, &content, Some(line));
        r.pushes = vec![push()];
        assert_eq!(r.holds(), Ok(()));
        let wire = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&wire).unwrap(), r);

        let mut other_line = r.clone();
        other_line.body = Some(r#"{"id":"e2"}"#.into());
        assert!(other_line.holds().unwrap_err().contains("事件与记录"));
        let mut other_push = r.clone();
        other_push.pushes[0].address = "13900000000".into();
        assert!(other_push.holds().unwrap_err().contains("推送与记录"));
        let mut one_less = r.clone();
        one_less.pushes.clear();
        assert!(one_less.holds().unwrap_err().contains("推送与记录"));
        let mut altered = r.clone();
        altered.content = altered.content.replace("event", "evil");
        assert!(altered.holds().unwrap_err().contains("哈希"));
        assert!(serde_json::from_str::<Record>(&wire.replace(&hex(&r.hash), "zz")).is_err());
    }
}
