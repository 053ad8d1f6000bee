//! One trait for every way a push leaves the building, and what a send can
//! come to. Adapters answer in these terms; the worker turns them into
//! push statuses.

use async_trait::async_trait;
use ggzy_store::outbox::Due;
use std::time::Duration;

/// What a sender needs of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The idempotency key, passed to every provider that accepts one.
    pub key: uuid::Uuid,
    pub clause: String,
    /// The step, in the standard's words (an email's subject).
    pub title: String,
    pub recipient: String,
    /// Phone, email, username or work group, as the channel needs.
    pub address: String,
    pub text: String,
}

impl From<&Due> for Outgoing {
    fn from(p: &Due) -> Self {
        Outgoing {
            key: p.send_key(),
            clause: p.clause.clone(),
            title: ggzy_core::catalog::rule_by_id(&p.rule)
                .map_or_else(|| p.clause.clone(), |r| r.title.to_owned()),
            recipient: p.recipient_name.clone(),
            address: p.address.clone(),
            text: p.text.clone(),
        }
    }
}

/// What one send came to. Each carries what happened, in words staff read
/// in the push's history (never a secret, never a full phone number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider took it; a receipt may follow.
    Accepted(String),
    /// It reached the person (the inbox, or a provider that says so at once).
    Delivered(String),
    /// It did not leave, or the provider failed: try again later.
    Retry(String),
    /// Not allowed to try yet (a rate limit): try again after the wait,
    /// without counting an attempt.
    Later(String, Duration),
    /// The provider refused it for good (bad number, bad address).
    Rejected(String),
    /// The request left but no answer came: ask before sending again.
    Unknown(String),
}

/// What a provider says about a push sent earlier whose answer never came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// This provider cannot be asked: send again under the same key.
    CannotAsk,
    /// The provider never got it: send.
    NotReceived,
    /// The provider has it: record this instead of sending.
    Known(Outcome),
    /// Asking failed (provider down): ask again later.
    Failed(String),
}

#[async_trait]
pub trait Sender: Send + Sync {
    /// The provider, as staff read it in a push's history.
    fn name(&self) -> &str;

    async fn send(&self, m: &Outgoing) -> Outcome;

    /// Whether an earlier send of `m` arrived, where the provider can be asked.
    async fn ask(&self, _m: &Outgoing) -> Asked {
        Asked::CannotAsk
    }
}

/// The in-app inbox: the push row *is* the inbox item, and the desktop app
/// raises the OS notification when it finds it; delivered on the spot.
pub struct Inbox;

#[async_trait]
impl Sender for Inbox {
    fn name(&self) -> &str {
        "消息中心"
    }

    async fn send(&self, _m: &Outgoing) -> Outcome {
        Outcome::Delivered("已送达收件箱".into())
    }
}

/// Senders in order of preference: the primary, then backups. A provider
/// that is down (retry) or refuses hands the push to the next; one whose
/// answer never came does not, since the push may have gone out.
pub struct Failover {
    name: String,
    senders: Vec<Box<dyn Sender>>,
}

impl Failover {
    pub fn new(senders: Vec<Box<dyn Sender>>) -> Self {
        let names: Vec<&str> = senders.iter().map(|s| s.name()).collect();
        Failover {
            name: names.join(" → "),
            senders,
        }
    }
}

#[async_trait]
impl Sender for Failover {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        let mut tried = Vec::new();
        for s in &self.senders {
            match s.send(m).await {
                Outcome::Retry(why) | Outcome::Rejected(why) | Outcome::Later(why, _)
                    if self.senders.len() > tried.len() + 1 =>
                {
                    tried.push(format!("{}：{why}", s.name()));
                }
                outcome if tried.is_empty() => return outcome,
                outcome => return prefixed(outcome, &tried),
            }
        }
        Outcome::Retry("没有配置短信服务商".into())
    }

    async fn ask(&self, m: &Outgoing) -> Asked {
        let mut asked_all = true;
        for s in &self.senders {
            match s.ask(m).await {
                Asked::Known(o) => return Asked::Known(o),
                Asked::NotReceived => {}
                Asked::CannotAsk => asked_all = false,
                Asked::Failed(why) => return Asked::Failed(format!("{}：{why}", s.name())),
            }
        }
        if asked_all {
            Asked::NotReceived
        } else {
            Asked::CannotAsk
        }
    }
}

/// Say which providers failed before the one that answered.
fn prefixed(outcome: Outcome, tried: &[String]) -> Outcome {
    let before = format!("{}；", tried.join("；"));
    match outcome {
        Outcome::Accepted(d) => Outcome::Accepted(before + &d),
        Outcome::Delivered(d) => Outcome::Delivered(before + &d),
        Outcome::Retry(d) => Outcome::Retry(before + &d),
        Outcome::Later(d, w) => Outcome::Later(before + &d, w),
        Outcome::Rejected(d) => Outcome::Rejected(before + &d),
        Outcome::Unknown(d) => Outcome::Unknown(before + &d),
    }
}

/// A phone number or email as logs may show it: 138****5678, z***@example.com.
pub fn mask(address: &str) -> String {
    if let Some((user, host)) = address.split_once('@') {
        let first: String = user.chars().take(1).collect();
        return format!("{first}***@{host}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "****".into()
    }
}

/// A provider's address that no request can be made to (saving the channels
/// checks it, so only a configuration written by other means gets here).
pub(crate) fn bad_address(provider: &str) -> String {
    format!("{provider}：地址无效，请在 设置 → 推送通道 中改正")
}

/// An HTTP answer in the terms of [`Outcome`]: a request that never
/// connected is retried; one whose answer never came is unknown; 429 and 5xx
/// are retried; other 4xx refused. `ok` reads a 2xx body.
pub(crate) fn answer_outcome(
    provider: &str,
    sent: Result<(http::StatusCode, bytes::Bytes), crate::http::Failed>,
    ok: impl FnOnce(http::StatusCode, &str) -> Outcome,
) -> Outcome {
    use crate::http::Failed;
    let (status, body) = match sent {
        Ok(answer) => answer,
        Err(Failed::BadAddress) => return Outcome::Retry(bad_address(provider)),
        Err(Failed::Connect) => return Outcome::Retry(format!("{provider}：连接失败")),
        Err(Failed::Timeout) => return Outcome::Unknown(format!("{provider}：等待应答超时")),
        Err(Failed::Interrupted) => {
            return Outcome::Unknown(format!("{provider}：请求已发出，应答中断"))
        }
    };
    let body = String::from_utf8_lossy(&body);
    if status.is_success() {
        ok(status, &body)
    } else if status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Outcome::Retry(format!("{provider}：HTTP {}", status.as_u16()))
    } else {
        Outcome::Rejected(format!(
            "{provider}：HTTP {} {}",
            status.as_u16(),
            short(&body)
        ))
    }
}

/// The start of a provider's answer, for the push's history.
pub(crate) fn short(body: &str) -> String {
    body.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn logs_show_contacts_masked() {
        assert_eq!(mask("13812345678"), "138****5678");
        assert_eq!(mask("zhang@example.com"), "z***@example.com");
        assert_eq!(mask("12"), "****");
    }
}
