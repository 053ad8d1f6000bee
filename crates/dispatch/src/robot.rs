//! Work-group robots: a DingTalk custom robot (signed timestamp) and a WeCom
//! group robot (at most 20 messages a minute each).

use crate::channel::{answer_outcome, Outcome, Outgoing, Sender};
use crate::http::{with_body, Http};
use async_trait::async_trait;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a robot webhook answers: `{"errcode": 0, "errmsg": "ok"}`.
#[derive(Deserialize)]
struct RobotAnswer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

fn robot_outcome(name: &str, body: &str, rate_limited: i64) -> Outcome {
    match serde_json::from_str::<RobotAnswer>(body) {
        Ok(a) if a.errcode == 0 => Outcome::Delivered(format!("{name}：已发到工作群")),
        Ok(a) if a.errcode == rate_limited => Outcome::Later(
            format!("{name}：发送过于频繁（{}）", a.errcode),
            Duration::from_secs(60),
        ),
        Ok(a) => Outcome::Rejected(format!("{name}：{} {}", a.errcode, a.errmsg)),
        Err(_) => Outcome::Unknown(format!("{name}：应答无法识别")),
    }
}

/// DingTalk custom robot with 加签: `timestamp` (ms) and `sign` =
/// Base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), URL-encoded.
pub struct DingTalk {
    /// The robot's webhook, `https://oapi.dingtalk.com/robot/send?access_token=…`.
    pub webhook: String,
    pub secret: String,
    pub http: Http,
    pub limit: RateLimit,
}

pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[async_trait]
impl Sender for DingTalk {
    fn name(&self) -> &str {
        "钉钉机器人"
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        let timestamp = chrono::Utc::now().timestamp_millis();
        let sign = dingtalk_sign(&self.secret, timestamp);
        let join = if self.webhook.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{join}timestamp={timestamp}&sign={}",
            self.webhook,
            percent_encoding::utf8_percent_encode(&sign, percent_encoding::NON_ALPHANUMERIC)
        );
        // 130101: sending too fast.
        robot_send(self.name(), &self.http, &url, &self.limit, m, 130_101).await
    }
}

/// WeCom group robot: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`;
/// the key in the URL is the secret.
pub struct WeCom {
    pub webhook: String,
    pub http: Http,
    pub limit: RateLimit,
}

#[async_trait]
impl Sender for WeCom {
    fn name(&self) -> &str {
        "企业微信机器人"
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        // 45009: over the robot's limit.
        robot_send(
            self.name(),
            &self.http,
            &self.webhook,
            &self.limit,
            m,
            45_009,
        )
        .await
    }
}

/// Post `m` as a text message to `url`, within `limit`; `rate_limited` is
/// the robot's error code for sending too fast.
async fn robot_send(
    name: &str,
    http: &Http,
    url: &str,
    limit: &RateLimit,
    m: &Outgoing,
    rate_limited: i64,
) -> Outcome {
    if let Some(wait) = limit.take() {
        return Outcome::Later(format!("{name}：每分钟至多 20 条，稍后发送"), wait);
    }
    let body = text_message(&m.text);
    let request = http::Request::post(url).header(http::header::CONTENT_TYPE, "application/json");
    let sent = async { http.send(with_body(request, body)?).await }.await;
    answer_outcome(name, sent, |_, body| {
        robot_outcome(name, body, rate_limited)
    })
}

/// A text message as both robots take it (DingTalk's and WeCom's documented
/// `{"msgtype": "text", "text": {"content": …}}`).
pub fn text_message(text: &str) -> String {
    json!({ "msgtype": "text", "text": { "content": text } }).to_string()
}

/// At most `max` sends in any `window`: a sliding window of send times.
pub struct RateLimit {
    max: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimit {
    /// The robots' documented limit: 20 messages a minute.
    pub fn per_minute(max: usize) -> Self {
        RateLimit {
            max,
            window: Duration::from_secs(60),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Take a slot now, or say how long until one frees.
    pub fn take(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut sent = self.sent.lock().expect("rate limit lock");
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            sent.pop_front();
        }
        if sent.len() < self.max {
            sent.push_back(now);
            None
        } else {
            let oldest = *sent.front().expect("full window");
            Some(self.window - now.duration_since(oldest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DingTalk's documented signing, for the known answer of its sample
    /// code (`ggzy_providers::verify::examples`).
    #[test]
    fn dingtalk_signs_as_its_documented_sample_does() {
        let (secret, ts, signature) = ggzy_providers::verify::examples::DINGTALK;
        assert_eq!(dingtalk_sign(secret, ts), signature);
    }

    /// The text message of WeCom's and DingTalk's documentation, byte for byte.
    #[test]
    fn a_text_message_is_the_documented_body() {
        let doc: serde_json::Value = serde_json::from_str(
            r#"{"msgtype": "text", "text": {"content": "广州今日天气：29度，大部分多云，降雨概率：60%"}}"#,
        )
        .unwrap();
        let ours: serde_json::Value = serde_json::from_str(&text_message(
            "广州今日天气：29度，大部分多云，降雨概率：60%",
        ))
        .unwrap();
        assert_eq!(ours, doc);
    }

    #[test]
    fn the_twenty_first_message_in_a_minute_waits() {
        let limit = RateLimit::per_minute(20);
        for _ in 0..20 {
            assert_eq!(limit.take(), None);
        }
        let wait = limit.take().expect("the 21st waits");
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
    }
}
