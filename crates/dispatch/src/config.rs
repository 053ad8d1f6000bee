//! Which channels a deployment has and how hard to try: plain settings
//! (no secret among them: they live in [`crate::secrets`]).

use crate::channel::{Failover, Inbox, Sender};
use crate::email::{EmailConfig, Smtp};
use crate::robot::{DingTalk, RateLimit, WeCom};
use crate::secrets::Secrets;
use crate::sms::{Aliyun, Gateway};
use crate::worker::{Policy, QuietHours, Routes};
use chrono::NaiveTime;
use ggzy_core::push::Channel;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct DispatchConfig {
    /// SMS providers, the primary first; a provider that is down hands over to the next.
    #[serde(default)]
    pub sms: Vec<SmsProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<EmailConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub dingtalk: Option<DingTalkConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub wecom: Option<WeComConfig>,
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default)]
    pub sending: SendingConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub quiet_hours: Option<QuietConfig>,
    /// Where providers report delivery: `127.0.0.1:8787` (this machine
    /// only), or e.g. `0.0.0.0:8787` to take an intranet gateway's reports. Secrets, for
    /// the kinds of SMS provider configured: `receipts` (gateways' signing
    /// secret), `receipts.aliyun` (the token in Alibaba Cloud's report URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub receipts: Option<ReceiptsConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsConfig {
    pub listen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SmsProvider {
    /// Secret: `sms.<name>` (the shared signing secret).
    Gateway {
        name: String,
        url: String,
        key_id: String,
    },
    /// Secret: `sms.<name>` (the AccessKey secret).
    Aliyun {
        name: String,
        #[serde(default = "aliyun_endpoint")]
        endpoint: String,
        access_key_id: String,
        sign_name: String,
        template_code: String,
    },
}

fn aliyun_endpoint() -> String {
    "https://dysmsapi.aliyuncs.com/".into()
}

/// Secret: `dingtalk` (the robot's 加签 secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct DingTalkConfig {
    pub webhook: String,
}

/// Secret: `wecom` (the robot's key, which the webhook URL carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct WeComConfig {
    #[serde(default = "wecom_url")]
    pub url: String,
}

fn wecom_url() -> String {
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    #[ts(type = "number")]
    pub max_attempts: i64,
    #[ts(type = "number")]
    pub first_retry_secs: u64,
    #[ts(type = "number")]
    pub max_retry_secs: u64,
    /// How long a provider may take to answer.
    #[ts(type = "number")]
    pub timeout_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        let p = Policy::default();
        RetryConfig {
            max_attempts: p.max_attempts,
            first_retry_secs: p.first_retry.as_secs(),
            max_retry_secs: p.max_retry.as_secs(),
            timeout_ms: 10_000,
        }
    }
}

/// How much is sent at once. The defaults suit an office gateway; a bulk
/// SMS platform takes fewer, bigger batches with more in flight (`make
/// bench-dispatch` measures both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default, deny_unknown_fields)]
pub struct SendingConfig {
    /// Pushes claimed at a time.
    #[ts(type = "number")]
    pub batch: i64,
    /// Requests in flight at once.
    #[ts(type = "number")]
    pub concurrency: usize,
    /// Batches claimed ahead of the sends. Settings saved before 2026-11-28
    /// call it `lanes` (batches sent side by side, `concurrency` each).
    #[ts(type = "number")]
    #[serde(alias = "lanes")]
    pub ahead: usize,
}

impl Default for SendingConfig {
    fn default() -> Self {
        let p = Policy::default();
        SendingConfig {
            batch: p.batch,
            concurrency: p.concurrency,
            ahead: p.ahead,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct QuietConfig {
    /// `22:00`
    pub start: String,
    /// `08:00`
    pub end: String,
    /// Clauses sent at any hour.
    #[serde(default = "urgent_clauses")]
    pub urgent: Vec<String>,
}

/// Experts drawn (4.6): they must know at once, whatever the hour.
fn urgent_clauses() -> Vec<String> {
    vec!["4.6".into()]
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("缺少密钥 `{0}`：请在 设置 → 推送通道 中填写（保存在系统钥匙串），或设置环境变量 {1}")]
    MissingSecret(String, String),
    #[error("{0}")]
    Smtp(#[from] crate::email::SmtpSetupError),
    #[error("免打扰时段 `{0}` 不是 HH:MM 形式的时间")]
    Time(String),
    #[error("短信服务商名称 `{0}` 重复：每个服务商需要不同的名称（密钥按名称保存）")]
    DuplicateName(String),
    #[error("{0}")]
    Field(String),
    #[error("重试次数须在 1–100 之间，现为 {0}")]
    Attempts(i64),
    #[error("发送设置 `{0}` 须在 {1} 之间，现为 {2}")]
    Sending(&'static str, &'static str, i64),
    #[error("HTTP 客户端无法创建：{0}")]
    Http(String),
}

impl DispatchConfig {
    /// What each part of a configuration starts as when an admin adds it
    /// in the settings form: every optional section, and one SMS provider
    /// of each kind, with this backend's defaults and blanks to fill in.
    pub fn starting_points() -> DispatchConfig {
        DispatchConfig {
            sms: vec![
                SmsProvider::Gateway {
                    name: "gateway".into(),
                    url: String::new(),
                    key_id: String::new(),
                },
                SmsProvider::Aliyun {
                    name: "aliyun".into(),
                    endpoint: aliyun_endpoint(),
                    access_key_id: String::new(),
                    sign_name: String::new(),
                    template_code: String::new(),
                },
            ],
            email: Some(EmailConfig {
                host: String::new(),
                port: 587,
                security: crate::email::Security::Starttls,
                username: None,
                from: String::new(),
                ca_file: None,
            }),
            dingtalk: Some(DingTalkConfig {
                webhook: String::new(),
            }),
            wecom: Some(WeComConfig { url: wecom_url() }),
            retry: RetryConfig::default(),
            sending: SendingConfig::default(),
            quiet_hours: Some(QuietConfig {
                start: "22:00".into(),
                end: "08:00".into(),
                urgent: urgent_clauses(),
            }),
            receipts: Some(ReceiptsConfig {
                listen: "127.0.0.1:8787".into(),
            }),
        }
    }

    /// The senders this configuration names, each with its secret; the inbox always.
    pub fn routes(&self, center_name: &str, secrets: &dyn Secrets) -> Result<Routes, ConfigError> {
        self.check_fields()?;
        let timeout = Duration::from_millis(self.retry.timeout_ms.max(100));
        let http = crate::http::Http::new(timeout, timeout.min(Duration::from_secs(5)))
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        let secret = |name: &str| {
            secrets.get(name).ok_or_else(|| {
                ConfigError::MissingSecret(name.into(), crate::secrets::env_name(name))
            })
        };
        let mut routes = Routes::default().with(Channel::Desktop, Inbox);
        let mut names = std::collections::HashSet::new();
        let mut sms: Vec<Box<dyn Sender>> = Vec::new();
        for p in &self.sms {
            let name = match p {
                SmsProvider::Gateway { name, .. } | SmsProvider::Aliyun { name, .. } => name,
            };
            if !names.insert(name.clone()) {
                return Err(ConfigError::DuplicateName(name.clone()));
            }
            let key = format!("sms.{name}");
            sms.push(match p {
                SmsProvider::Gateway { name, url, key_id } => Box::new(Gateway::new(
                    name,
                    url,
                    key_id,
                    &secret(&key)?,
                    http.clone(),
                )),
                SmsProvider::Aliyun {
                    name,
                    endpoint,
                    access_key_id,
                    sign_name,
                    template_code,
                } => Box::new(Aliyun {
                    name: name.clone(),
                    endpoint: endpoint.clone(),
                    access_key_id: access_key_id.clone(),
                    access_key_secret: secret(&key)?,
                    sign_name: sign_name.clone(),
                    template_code: template_code.clone(),
                    http: http.clone(),
                }),
            });
        }
        if !sms.is_empty() {
            routes = routes.with(Channel::Sms, Failover::new(sms));
        }
        if let Some(e) = &self.email {
            let password = match &e.username {
                Some(_) => Some(secret("smtp")?),
                None => None,
            };
            routes = routes.with(
                Channel::Email,
                Smtp::new(e, password, center_name, timeout)?,
            );
        }
        if let Some(d) = &self.dingtalk {
            routes = routes.with(
                Channel::Dingtalk,
                DingTalk {
                    webhook: d.webhook.clone(),
                    secret: secret("dingtalk")?,
                    http: http.clone(),
                    limit: RateLimit::per_minute(20),
                },
            );
        }
        if let Some(w) = &self.wecom {
            let key = secret("wecom")?;
            routes = routes.with(
                Channel::Wecom,
                WeCom {
                    webhook: format!("{}?key={key}", w.url),
                    http,
                    limit: RateLimit::per_minute(20),
                },
            );
        }
        Ok(routes)
    }

    /// Every secret this configuration needs: its name and what it is, in words.
    pub fn secret_names(&self) -> Vec<(String, String)> {
        let mut names = Vec::new();
        for p in &self.sms {
            match p {
                SmsProvider::Gateway { name, .. } => names.push((
                    format!("sms.{name}"),
                    format!("短信网关“{name}”的共享签名密钥"),
                )),
                SmsProvider::Aliyun { name, .. } => names.push((
                    format!("sms.{name}"),
                    format!("阿里云短信“{name}”的 AccessKey Secret"),
                )),
            }
        }
        if self.email.as_ref().is_some_and(|e| e.username.is_some()) {
            names.push(("smtp".into(), "发信邮箱的密码（或授权码）".into()));
        }
        if self.dingtalk.is_some() {
            names.push(("dingtalk".into(), "钉钉机器人的加签密钥（SEC 开头）".into()));
        }
        if self.wecom.is_some() {
            names.push(("wecom".into(), "企业微信机器人 Webhook 地址中的 key".into()));
        }
        // Receipts from the kinds of provider there are: each needs its own.
        if self.receipts.is_some() {
            let kind = |aliyun: bool| {
                self.sms
                    .iter()
                    .any(|p| matches!(p, SmsProvider::Aliyun { .. }) == aliyun)
            };
            if kind(false) {
                names.push(("receipts".into(), "短信网关回执的签名密钥".into()));
            }
            if kind(true) {
                names.push(("receipts.aliyun".into(), "阿里云回执地址中的令牌".into()));
            }
        }
        names
    }

    /// Every field a channel needs is filled in, and every address is an
    /// http(s) URL: a blank left in the form is named, not found at send time.
    fn check_fields(&self) -> Result<(), ConfigError> {
        let blank = |what: String| Err(ConfigError::Field(format!("{what}不能为空")));
        // What the sender will take, checked here so it fails at saving, not at sending.
        let url = |what: String, u: &str| {
            if crate::http::usable(u) && crate::http::private(u) {
                Ok(())
            } else if crate::http::usable(u) {
                Err(ConfigError::Field(format!(
                    "{what} `{u}` 须为 https 地址：明文 http 只可用于本机回环地址（127.0.0.1、localhost），否则短信内容与签名会在网络上明文传输"
                )))
            } else if !u.is_ascii() {
                Err(ConfigError::Field(format!(
                    "{what} `{u}` 含非 ASCII 字符：中文域名请写作 xn-- 形式，路径中的中文请先做百分号编码"
                )))
            } else {
                Err(ConfigError::Field(format!(
                    "{what} `{u}` 不是 http(s) 地址，如 https://sms.example.gov.cn/api"
                )))
            }
        };
        for p in &self.sms {
            match p {
                SmsProvider::Gateway {
                    name,
                    url: u,
                    key_id,
                } => {
                    if name.trim().is_empty() {
                        return blank("短信服务商名称".into());
                    }
                    url(format!("短信网关“{name}”的地址"), u)?;
                    if key_id.trim().is_empty() {
                        return blank(format!("短信网关“{name}”的 Key ID"));
                    }
                    if !crate::sms::key_id_usable(key_id) {
                        return Err(ConfigError::Field(format!(
                            "短信网关“{name}”的 Key ID 只能含英文字母、数字和符号（服务商发给中心的那串）"
                        )));
                    }
                }
                SmsProvider::Aliyun {
                    name,
                    endpoint,
                    access_key_id,
                    sign_name,
                    template_code,
                } => {
                    if name.trim().is_empty() {
                        return blank("短信服务商名称".into());
                    }
                    url(format!("阿里云短信“{name}”的接口地址"), endpoint)?;
                    for (field, v) in [
                        ("AccessKey ID", access_key_id),
                        ("短信签名", sign_name),
                        ("模板编号", template_code),
                    ] {
                        if v.trim().is_empty() {
                            return blank(format!("阿里云短信“{name}”的{field}"));
                        }
                    }
                }
            }
        }
        if let Some(e) = &self.email {
            if e.host.trim().is_empty() {
                return blank("发信服务器".into());
            }
            if e.from.trim().is_empty() {
                return blank("发件地址".into());
            }
        }
        if let Some(d) = &self.dingtalk {
            url("钉钉机器人的 Webhook".into(), &d.webhook)?;
        }
        if let Some(w) = &self.wecom {
            url("企业微信机器人的接口地址".into(), &w.url)?;
        }
        Ok(())
    }

    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let r = &self.retry;
        if !(1..=100).contains(&r.max_attempts) {
            return Err(ConfigError::Attempts(r.max_attempts));
        }
        let s = &self.sending;
        for (name, value, range, words) in [
            ("batch", s.batch, 1..=10_000, "1–10000"),
            ("concurrency", s.concurrency as i64, 1..=1_024, "1–1024"),
            ("ahead", s.ahead as i64, 1..=16, "1–16"),
        ] {
            if !range.contains(&value) {
                return Err(ConfigError::Sending(name, words, value));
            }
        }
        let time = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| ConfigError::Time(s.to_owned()))
        };
        let quiet = match &self.quiet_hours {
            Some(q) => Some(QuietHours {
                start: time(&q.start)?,
                end: time(&q.end)?,
                urgent: q.urgent.clone(),
            }),
            None => None,
        };
        Ok(Policy {
            max_attempts: r.max_attempts,
            first_retry: Duration::from_secs(r.first_retry_secs),
            max_retry: Duration::from_secs(r.max_retry_secs.max(r.first_retry_secs)),
            quiet,
            batch: s.batch,
            concurrency: s.concurrency,
            ahead: s.ahead,
            ..Policy::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_settings_reach_the_policy_and_bad_ones_are_named() {
        let config: DispatchConfig =
            serde_json::from_str(r#"{"sending": {"batch": 1024, "concurrency": 128, "ahead": 2}}"#)
                .unwrap();
        let p = config.policy().unwrap();
        assert_eq!((p.batch, p.concurrency, p.ahead), (1024, 128, 2));
        let saved_before: DispatchConfig =
            serde_json::from_str(r#"{"sending": {"batch": 1024, "concurrency": 128, "lanes": 2}}"#)
                .unwrap();
        assert_eq!(saved_before, config, "settings saved as `lanes` still open");
        let default = DispatchConfig::default().policy().unwrap();
        assert_eq!(default.batch, Policy::default().batch);
        let zero: DispatchConfig =
            serde_json::from_str(r#"{"sending": {"concurrency": 0}}"#).unwrap();
        let err = zero.policy().unwrap_err().to_string();
        assert!(
            err.contains("concurrency") && err.contains("1–1024"),
            "{err}"
        );
    }

    /// What a form left blank, or an address that is none, is named before
    /// anything is saved (it would otherwise surface as failed sends).
    #[test]
    fn blanks_and_non_urls_are_named() {
        let secrets = crate::secrets::Memory::default();
        for (json, says) in [
            (
                r#"{"sms": [{"kind": "gateway", "name": " ", "url": "https://x.cn", "key_id": "k"}]}"#,
                "短信服务商名称不能为空",
            ),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "not a url", "key_id": "k"}]}"#,
                "短信网关“gw”的地址 `not a url` 不是 http(s) 地址",
            ),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://x.cn", "key_id": ""}]}"#,
                "Key ID不能为空",
            ),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://x.cn", "key_id": "中心密钥"}]}"#,
                "短信网关“gw”的 Key ID 只能含英文字母、数字和符号",
            ),
            (
                r#"{"sms": [{"kind": "aliyun", "name": "ali", "access_key_id": "a", "sign_name": "", "template_code": "t"}]}"#,
                "阿里云短信“ali”的短信签名不能为空",
            ),
            (r#"{"dingtalk": {"webhook": ""}}"#, "钉钉机器人的 Webhook"),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://短信.临海.cn/api", "key_id": "k"}]}"#,
                "中文域名请写作 xn-- 形式",
            ),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "ftp://x.cn", "key_id": "k"}]}"#,
                "不是 http(s) 地址",
            ),
            (
                r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "http://sms.example.gov.cn/api", "key_id": "k"}]}"#,
                "短信网关“gw”的地址 `http://sms.example.gov.cn/api` 须为 https 地址",
            ),
            (
                r#"{"dingtalk": {"webhook": "http://10.0.0.8/robot/send"}}"#,
                "须为 https 地址",
            ),
            (
                r#"{"email": {"host": "", "port": 587, "security": "starttls", "from": "a@x.cn"}}"#,
                "发信服务器不能为空",
            ),
        ] {
            let config: DispatchConfig = serde_json::from_str(json).unwrap();
            let err = match config.routes("中心", &secrets) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{json} was taken"),
            };
            assert!(err.contains(says), "{json}: {err}");
        }
    }
}
