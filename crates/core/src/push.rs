//! A push as the engine decides it, before the store gives it a place in the
//! outbox. Its id is its idempotency key: the same event, clause, recipient
//! and channel always give the same key, on every device.

use crate::render::Message;
use crate::role::Role;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Channel {
    Sms,
    Email,
    /// The staff member's in-app inbox and a desktop notification.
    Desktop,
    Dingtalk,
    Wecom,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Sms,
        Channel::Email,
        Channel::Desktop,
        Channel::Dingtalk,
        Channel::Wecom,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            Channel::Sms => "短信",
            Channel::Email => "电子邮件",
            Channel::Desktop => "桌面通知",
            Channel::Dingtalk => "钉钉",
            Channel::Wecom => "企业微信",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Desktop => "desktop",
            Channel::Dingtalk => "dingtalk",
            Channel::Wecom => "wecom",
        }
    }
}

/// Where a push stands in the outbox. A push has no state of its own until
/// a worker claims it: `Queued` above the outbox cursor, `Sending` at or
/// below it; every change after that is a `push_status` row, audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PushStatus {
    Queued,
    Sending,
    /// Failed, or held back by quiet hours: due again at `next_attempt_at`.
    Retrying,
    /// The request left and no answer came: the provider is asked before any resend.
    Unknown,
    /// Accepted by the provider.
    Sent,
    /// Confirmed delivered (a provider's receipt, or the inbox itself).
    Delivered,
    /// The provider reported that delivery failed.
    Failed,
    /// Failed for good: a dead letter for staff to re-drive.
    Dead,
}

impl PushStatus {
    pub const ALL: [PushStatus; 8] = [
        PushStatus::Queued,
        PushStatus::Sending,
        PushStatus::Retrying,
        PushStatus::Unknown,
        PushStatus::Sent,
        PushStatus::Delivered,
        PushStatus::Failed,
        PushStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PushStatus::Queued => "queued",
            PushStatus::Sending => "sending",
            PushStatus::Retrying => "retrying",
            PushStatus::Unknown => "unknown",
            PushStatus::Sent => "sent",
            PushStatus::Delivered => "delivered",
            PushStatus::Failed => "failed",
            PushStatus::Dead => "dead",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            PushStatus::Queued => "待发送",
            PushStatus::Sending => "发送中",
            PushStatus::Retrying => "待重试",
            PushStatus::Unknown => "结果未知",
            PushStatus::Sent => "已发送",
            PushStatus::Delivered => "已送达",
            PushStatus::Failed => "送达失败",
            PushStatus::Dead => "死信",
        }
    }

    /// Nothing more will happen to it unless staff re-drive it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PushStatus::Sent | PushStatus::Delivered | PushStatus::Failed | PushStatus::Dead
        )
    }
}

impl std::fmt::Display for PushStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why this desktop's dispatcher does not send a push it shows: another
/// device's (that device, or the server, sends it), or held with an action
/// the sync server's order found stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Hold {
    Remote,
    /// Another device's that the sync server sends (an event it decided).
    Server,
    Held,
}

impl Hold {
    pub const ALL: [Hold; 3] = [Hold::Remote, Hold::Server, Hold::Held];

    pub fn as_str(self) -> &'static str {
        match self {
            Hold::Remote => "remote",
            Hold::Server => "server",
            Hold::Held => "held",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Hold::Remote => "由其他电脑发送",
            Hold::Server => "由同步服务器发送",
            Hold::Held => "因同步冲突暂停",
        }
    }
}

crate::model::codes!(Channel => "通道", PushStatus => "推送状态", Hold => "暂停原因");

/// A secret the dispatcher issues at send time; stored copies show the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secret {
    OneTimePassword,
}

impl Secret {
    pub fn as_str(self) -> &'static str {
        "one_time_password"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub role: Role,
    /// Username for staff and members, the party id from the event otherwise.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDraft {
    pub rule: &'static str,
    pub clause: &'static str,
    pub recipient: Recipient,
    pub channel: Channel,
    /// Phone, email or username, as the channel needs.
    pub address: String,
    pub message: Message,
    pub secret: Option<Secret>,
}

impl PushDraft {
    /// The exact text pushed.
    pub fn text(&self) -> String {
        self.message.text(&self.recipient.name)
    }

    /// The idempotency key: a UUID in the version 7 layout whose time is the
    /// event's own `at` and whose other bits are SM3 of (event, rule,
    /// recipient, channel). Deterministic, so every device and every replay
    /// derives the same key; time-ordered, so the outbox index grows at its
    /// right edge instead of dirtying a random page for every push.
    pub fn key(&self, event_id: &str, at: &DateTime<FixedOffset>) -> uuid::Uuid {
        let mut h = Sm3::new();
        for part in [
            event_id,
            self.rule,
            self.recipient.role.as_str(),
            &self.recipient.id,
            self.channel.as_str(),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        let digest = h.finalize();
        let mut bits = [0u8; 10];
        bits.copy_from_slice(&digest[..10]);
        let millis = at.timestamp_millis().max(0) as u64;
        uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid()
    }
}

/// The key a push is sent under in its `series`-th series of attempts: its
/// own key first; after a person re-drives it, a key derived from it (same
/// time, other bits SM3 of the key and the series), the same on every device.
pub fn series_key(key: uuid::Uuid, series: i64) -> uuid::Uuid {
    if series == 0 {
        return key;
    }
    let mut h = Sm3::new();
    h.update(key.as_bytes());
    h.update(series.to_be_bytes());
    let digest = h.finalize();
    let mut bits = [0u8; 10];
    bits.copy_from_slice(&digest[..10]);
    let (secs, nanos) = key.get_timestamp().map_or((0, 0), |t| t.to_unix());
    let millis = secs * 1000 + u64::from(nanos) / 1_000_000;
    uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::series_key;

    #[test]
    fn a_re_drive_has_a_key_of_its_own_at_the_same_time() {
        let key = uuid::Uuid::now_v7();
        assert_eq!(series_key(key, 0), key);
        let one = series_key(key, 1);
        assert_ne!(one, key);
        assert_ne!(one, series_key(key, 2));
        assert_eq!(one, series_key(key, 1), "the same on every device");
        assert_eq!(one.get_version_num(), 7);
        assert_eq!(
            one.get_timestamp().unwrap().to_unix().0,
            key.get_timestamp().unwrap().to_unix().0
        );
    }
}
