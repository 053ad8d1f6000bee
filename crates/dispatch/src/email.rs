//! Email over SMTP with lettre: implicit TLS (465), STARTTLS (587), or
//! plain only where the server is this machine (tests, a local relay).

use crate::channel::{mask, Outcome, Outgoing, Sender};
use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Security {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain, then STARTTLS before anything is said (usually port 587).
    Starttls,
    /// No encryption: refused unless the host is loopback.
    None,
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The center's name, the subject's first part.
    sender_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("发件地址 `{0}` 不是有效的电子邮箱，请填写如 noreply@ggzy.example.gov.cn")]
    From(String),
    #[error("SMTP 服务器 `{0}` 无法使用 TLS：{1}")]
    Tls(String, String),
    #[error(
        "不加密的 SMTP 只允许本机服务器（127.0.0.1、localhost），`{0}` 请选择 TLS 或 STARTTLS"
    )]
    Plain(String),
}

/// Where mail goes from. Secret: `smtp` (the password), when `username` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    pub from: String,
    /// A PEM file of the CA that signed the server's certificate, for an
    /// office mail server under the government's own CA (else the public roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_file: Option<String>,
}

impl Smtp {
    pub fn new(
        cfg: &EmailConfig,
        password: Option<String>,
        sender_name: &str,
        timeout: Duration,
    ) -> Result<Smtp, SmtpSetupError> {
        let host = cfg.host.as_str();
        let tls_error = |e: String| SmtpSetupError::Tls(host.to_owned(), e);
        let tls = || -> Result<TlsParameters, SmtpSetupError> {
            let mut b = TlsParameters::builder(host.to_owned());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| tls_error(format!("CA 证书 {path} 无法读取：{e}")))?;
                let ca = Certificate::from_pem(&pem)
                    .map_err(|e| tls_error(format!("CA 证书 {path} 无效：{e}")))?;
                b = b.add_root_certificate(ca);
            }
            b.build().map_err(|e| tls_error(e.to_string()))
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
        let builder = match cfg.security {
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
            Security::Starttls => builder.tls(Tls::Required(tls()?)),
            Security::None if matches!(host, "127.0.0.1" | "localhost" | "::1") => builder,
            Security::None => return Err(SmtpSetupError::Plain(host.to_owned())),
        };
        let mut builder = builder.port(cfg.port).timeout(Some(timeout));
        if let (Some(u), Some(p)) = (&cfg.username, password) {
            builder = builder.credentials(Credentials::new(u.clone(), p));
        }
        let address = cfg
            .from
            .parse()
            .map_err(|_| SmtpSetupError::From(cfg.from.clone()))?;
        Ok(Smtp {
            transport: builder.build(),
            from: Mailbox::new(Some(sender_name.to_owned()), address),
            sender_name: sender_name.to_owned(),
        })
    }
}

#[async_trait]
impl Sender for Smtp {
    fn name(&self) -> &str {
        "电子邮件"
    }

    async fn send(&self, m: &Outgoing) -> Outcome {
        let to = mask(&m.address);
        let Ok(address) = m.address.parse() else {
            return Outcome::Rejected(format!("电子邮箱 {to} 格式不正确"));
        };
        // The push's key as Message-ID: a server or reader that sees the same
        // message twice (sent again after an unknown answer) knows it.
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(m.recipient.clone()), address))
            .subject(format!("{}：{}", self.sender_name, m.title))
            .message_id(Some(format!("<{}@ggzy-push>", m.key)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone());
        let message = match message {
            Ok(msg) => msg,
            Err(e) => return Outcome::Rejected(format!("邮件无法生成：{e}")),
        };
        match self.transport.send(message).await {
            Ok(r) => Outcome::Accepted(format!(
                "邮件服务器已接收，发往 {to}（{}）",
                r.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Outcome::Rejected(format!("邮件服务器拒收 {to}：{e}")),
            Err(e) if e.is_timeout() => Outcome::Unknown(format!("邮件服务器应答超时（{to}）")),
            Err(e) => Outcome::Retry(format!("邮件发送失败（{to}）：{e}")),
        }
    }
}
