//! 设置 → 推送通道: admins only; a configuration is checked whole (fields,
//! times, every secret it needs) before anything is kept; secrets go to the
//! vault, never to the database; the dispatcher then builds from it.

use ggzy_app::channels::SecretValue;
use ggzy_app::App;
use ggzy_core::error::ErrorCode;
use ggzy_dispatch::secrets::{Memory, Secrets};
use ggzy_store::Store;
use std::sync::Arc;

const DEMO_PASSWORD: &str = "Demo@2026";
const SECRET: &str = "网关密钥-only-in-the-vault";

fn gateway(name: &str) -> String {
    format!(
        r#"{{"sms": [{{"kind": "gateway", "name": "{name}", "url": "http://127.0.0.1:9/sms", "key_id": "ggzy"}}], "quiet_hours": {{"start": "22:00", "end": "08:00"}}}}"#
    )
}

#[tokio::test]
async fn admins_keep_channels_with_secrets_in_the_vault_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ggzy.db");
    let store = Store::open(&db).await.unwrap();
    store.seed_sample().await.unwrap();
    // The OS keyring needs a logged-in desktop session, which `cargo test`
    // has not: the secrets live in memory here, behind the same Vault trait.
    let vault = Arc::new(Memory::default());
    let app = App::with_vault(store, vault.clone());

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.channel_settings().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let empty = app.channel_settings().await.unwrap();
    assert_eq!((empty.config, empty.secrets.len()), (None, 0));
    assert!(
        ggzy_dispatch::deployment::parse(&empty.example).is_ok(),
        "the example itself is a valid configuration"
    );
    assert!(
        app.dispatcher().await.unwrap().is_none(),
        "no channel yet: no dispatcher"
    );

    // Wrong: a field misspelt, a secret not given, a time that is no time.
    let typo = app
        .save_channel_settings(gateway("gw").replace("key_id", "keyid"), vec![])
        .await
        .unwrap_err();
    assert_eq!(typo.code, ErrorCode::InvalidConfig);
    assert!(typo.message.contains("keyid"), "{}", typo.message);
    let missing = app
        .save_channel_settings(gateway("gw"), vec![])
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::MissingSecret);
    assert!(missing.message.contains("sms.gw"), "{}", missing.message);
    let given = vec![SecretValue {
        name: "sms.gw".into(),
        value: SECRET.into(),
    }];
    let bad_time = app
        .save_channel_settings(gateway("gw").replace("22:00", "25:61"), given.clone())
        .await
        .unwrap_err();
    assert!(bad_time.message.contains("25:61"), "{}", bad_time.message);
    assert_eq!(
        vault.get("sms.gw"),
        None,
        "a refused configuration keeps no secret either"
    );
    // A channel that cannot be built (plain SMTP to a remote host) is refused
    // before any of its secrets is kept.
    let plain_smtp = gateway("gw").replace(
        r#""quiet_hours""#,
        r#""email": {"host": "smtp.example.gov.cn", "port": 25, "security": "none", "username": "u", "from": "noreply@example.gov.cn"}, "quiet_hours""#,
    );
    let mut with_smtp = given.clone();
    with_smtp.push(SecretValue {
        name: "smtp".into(),
        value: "邮箱密码".into(),
    });
    let refused = app
        .save_channel_settings(plain_smtp, with_smtp)
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("不加密的 SMTP"),
        "{}",
        refused.message
    );
    assert_eq!((vault.get("sms.gw"), vault.get("smtp")), (None, None));
    assert_eq!(app.store().dispatch_config().await.unwrap(), None);

    let saved = app
        .save_channel_settings(gateway("gw"), given)
        .await
        .unwrap();
    assert!(saved.config.as_deref().unwrap().contains("127.0.0.1:9"));
    assert_eq!(saved.secrets.len(), 1);
    assert!(saved.secrets[0].set && saved.secrets[0].label.contains("gw"));
    assert_eq!(vault.get("sms.gw").as_deref(), Some(SECRET));
    // Saving again without retyping the secret keeps it.
    app.save_channel_settings(gateway("gw"), vec![])
        .await
        .unwrap();
    assert!(app.dispatcher().await.unwrap().is_some());

    // Nowhere in the database file, its WAL or the audit trail.
    app.store().close().await;
    for file in std::fs::read_dir(dir.path()).unwrap() {
        // The WAL and shared-memory files may go as the pool closes: read what remains.
        if let Ok(bytes) = std::fs::read(file.unwrap().path()) {
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
        }
    }
}

/// A desktop providers can reach takes their delivery reports itself when
/// the channels ask for it (`receipts.listen`): the endpoint the app serves
/// marks a push its dispatcher sent through a (loopback) gateway delivered.
#[tokio::test]
async fn the_desktop_serves_delivery_receipts_when_asked() {
    let (store, _dir) = ggzy_providers::demo().await;
    let app = App::with_vault(store, Arc::new(Memory::default()));
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    assert!(
        app.receipts_server().await.unwrap().is_none(),
        "no channels yet"
    );
    let gateway = ggzy_providers::gateway().await;
    let config = format!(
        r#"{{"sms": [{{"kind": "gateway", "name": "gw", "url": "{}", "key_id": "ggzy-test"}}],
            "receipts": {{"listen": "127.0.0.1:0"}}}}"#,
        gateway.url("/sms")
    );
    let secrets = ["sms.gw", "receipts"].map(|name| SecretValue {
        name: name.into(),
        value: ggzy_providers::SECRET.into(),
    });
    app.save_channel_settings(config, secrets.to_vec())
        .await
        .unwrap();
    let server = app.receipts_server().await.unwrap().expect("asked for");
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve());
    app.dispatcher()
        .await
        .unwrap()
        .unwrap()
        .drain()
        .await
        .unwrap();
    let (key, ..) = gateway.seen().taken[0].clone();

    let body =
        serde_json::json!({"key": key, "status": "delivered", "detail": "用户已接收"}).to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = ggzy_providers::verify::gateway(
        ggzy_providers::SECRET,
        &ts,
        "POST",
        "/receipts/gateway",
        &body,
    );
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/receipts/gateway"))
        .header("X-Ggzy-Timestamp", ts)
        .header("X-Ggzy-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let status: String = sqlx::query_scalar(
        "SELECT s.status FROM sent_keys k JOIN push_states s ON s.push_no = k.push_no \
         WHERE lower(hex(k.key)) = replace(?, '-', '')",
    )
    .bind(&key)
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(status, "delivered");
}
