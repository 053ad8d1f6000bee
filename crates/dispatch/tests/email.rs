//! A real SMTP server (mailin-embedded) on loopback, speaking STARTTLS with a
//! certificate from the office's own CA and asking for a password, receives
//! the demo center's email push as rendered.

use ggzy_core::push::Channel;
use ggzy_dispatch::channel::Inbox;
use ggzy_dispatch::email::{EmailConfig, Security, Smtp};
use ggzy_dispatch::{Dispatcher, Policy, Routes};
use mailin_embedded::{response, AuthMechanism, Handler, Response, Server, SslConfig};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each mail taken: its recipients and raw bytes.
type Received = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

#[derive(Clone, Default)]
struct Mailbox {
    received: Received,
    current: Vec<u8>,
    to: Vec<String>,
    authed: bool,
}

impl Handler for Mailbox {
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.authed = user == "noreply" && password == "邮箱密码-1";
        if self.authed {
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }

    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.authed {
            response::OK
        } else {
            response::AUTHENTICATION_REQUIRED
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received
            .lock()
            .unwrap()
            .push((self.to.clone(), std::mem::take(&mut self.current)));
        response::OK
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_smtp_server_receives_the_rendered_mail() {
    let dir = tempfile::tempdir().unwrap();
    // The office CA's certificate for the mail server's name.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("smtp.pem"), dir.path().join("smtp.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let mailbox = Mailbox::default();
    let received = mailbox.received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = Server::new(mailbox);
    server
        .with_name("mail.linhai.example")
        .with_ssl(SslConfig::SelfSigned {
            cert_path: cert_path.display().to_string(),
            key_path: key_path.display().to_string(),
        })
        .unwrap()
        .with_auth(AuthMechanism::Plain)
        .with_tcp_listener(listener);
    std::thread::spawn(move || server.serve().is_ok());

    let (store, _db) = ggzy_providers::demo().await;
    let cfg = EmailConfig {
        host: "localhost".into(),
        port,
        security: Security::Starttls,
        username: Some("noreply".into()),
        from: "noreply@ggzy.linhai.example".into(),
        ca_file: Some(cert_path.display().to_string()),
    };
    let smtp = Smtp::new(
        &cfg,
        Some("邮箱密码-1".into()),
        "临海市公共资源交易中心",
        Duration::from_secs(5),
    )
    .unwrap();
    let d = Dispatcher::new(
        store.clone(),
        Routes::default()
            .with(Channel::Email, smtp)
            .with(Channel::Desktop, Inbox),
        Policy::default(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().is_empty() {
        d.run_once().await.unwrap();
        assert!(Instant::now() < deadline, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (address, text, key, member): (String, String, uuid::Uuid, String) = sqlx::query_as(
        "SELECT address, text, id, recipient_id FROM push_texts WHERE channel = 'email'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let (to, raw) = received.lock().unwrap()[0].clone();
    assert_eq!(to, vec![address.clone()]);
    let mail = mailparse::parse_mail(&raw).unwrap();
    let header = |name: &str| {
        use mailparse::MailHeaderMap;
        mail.headers
            .get_first_value(name)
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    assert_eq!(header("Subject"), "临海市公共资源交易中心：会员注册提交");
    assert!(header("From").contains("noreply@ggzy.linhai.example"));
    assert!(header("To").contains(&address));
    assert_eq!(header("Message-ID"), format!("<{key}@ggzy-push>"));
    assert!(
        mail.ctype.mimetype == "text/plain" && mail.ctype.charset.eq_ignore_ascii_case("utf-8")
    );
    // The registration message (4.1.2a) carries a one-time password issued
    // at send time where the stored text has its mask; the member can log in with it.
    let body = mail.get_body().unwrap();
    let (before, after) = text
        .split_once(ggzy_core::render::MASK)
        .expect("the stored text is masked");
    let password = body
        .trim_end()
        .strip_prefix(before)
        .and_then(|rest| rest.strip_suffix(after))
        .unwrap_or_else(|| panic!("the mail is the stored text with a password: {body}"));
    assert_eq!(password.len(), 12, "{password}");
    assert!(store
        .check_member_password(&member, password)
        .await
        .unwrap());
    let s = ggzy_providers::channel_statuses(&store, "email").await;
    assert_eq!(s.get("sent"), Some(&1), "{s:?}");

    // A wrong password is the server's permanent refusal: a dead letter, said plainly.
    let wrong = Smtp::new(
        &cfg,
        Some("wrong".into()),
        "临海市公共资源交易中心",
        Duration::from_secs(5),
    )
    .unwrap();
    let m = ggzy_dispatch::Outgoing {
        key: uuid::Uuid::now_v7(),
        clause: "4.2".into(),
        title: "项目受理登记".into(),
        recipient: "代理机构".into(),
        address: address.clone(),
        text: text.clone(),
    };
    use ggzy_dispatch::Sender;
    assert!(matches!(
        wrong.send(&m).await,
        ggzy_dispatch::Outcome::Rejected(_)
    ));
}
