//! 设置 → 同步 and the desktop's upload, against a real sync server on a
//! real PostgreSQL (started by the test): the address audited, the token in
//! the vault only, a wrong token or an unreachable server said in words, and
//! what waits sent by 立即同步.

mod common;
use ggzy_app::sync::{SyncForm, TOKEN};
use ggzy_app::App;
use ggzy_core::error::ErrorCode;
use ggzy_dispatch::secrets::{Memory, Secrets};
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::Store;
use std::sync::Arc;

async fn server() -> (ggzy_pg::Postgres, sqlx::PgPool, String) {
    let pg = ggzy_pg::Postgres::start();
    let (pool, base) = ggzy_server::start_local(&pg.database("ggzy").await, 16 << 20)
        .await
        .unwrap();
    (pg, pool, base)
}

/// An admin logged in on a fresh center's database (`demo`: the demo's),
/// its secrets in `vault`; the folder it lives in.
async fn admin_on(
    demo: bool,
    vault: Arc<dyn ggzy_dispatch::secrets::Vault>,
) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    if demo {
        store.seed_demo().await.unwrap();
    } else {
        store.seed_sample().await.unwrap();
    }
    let app = App::with_vault(store, vault);
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    (app, dir)
}

/// A form naming a server on this machine, with a token.
fn local_form() -> SyncForm {
    SyncForm {
        server: "http://127.0.0.1:8790".into(),
        token: Some("ggzy_x".into()),
    }
}

/// The vault, counting how often it is read: a keyring may ask the person to
/// unlock it, so a desktop that does not sync must never read it for sync.
#[derive(Default)]
struct Counted(Memory, std::sync::atomic::AtomicUsize);

impl Secrets for Counted {
    fn get(&self, name: &str) -> Option<String> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.get(name)
    }
}

impl ggzy_dispatch::secrets::Vault for Counted {
    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set(name, value)
    }
}

#[tokio::test]
async fn a_desktop_without_a_server_never_reads_the_keyring_for_sync() {
    let vault = Arc::new(Counted::default());
    let (app, _dir) = admin_on(false, vault.clone()).await;
    app.sync_now().await.unwrap();
    app.sync_status().await.unwrap();
    assert!(app.server_alarms().await.unwrap().is_empty());
    assert_eq!(vault.1.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// A keyring that refuses to keep anything (locked, or no session).
struct Refusing;

impl Secrets for Refusing {
    fn get(&self, _: &str) -> Option<String> {
        None
    }
}

impl ggzy_dispatch::secrets::Vault for Refusing {
    fn set(&self, _: &str, _: &str) -> Result<(), String> {
        Err("钥匙串已锁定".into())
    }
}

#[tokio::test]
async fn a_keyring_that_refuses_the_token_leaves_the_server_unset() {
    let (app, _dir) = admin_on(false, Arc::new(Refusing)).await;
    let err = app.save_sync_settings(local_form()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Keyring, "{}", err.message);
    assert!(err.message.contains("钥匙串"), "{}", err.message);
    assert_eq!(
        app.sync_settings().await.unwrap().server,
        "",
        "nothing half-saved"
    );
    assert!(!app.sync_status().await.unwrap().configured);
}

#[tokio::test]
async fn the_demo_center_never_syncs() {
    let (app, _dir) = admin_on(true, Arc::new(Memory::default())).await;
    let err = app.save_sync_settings(local_form()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DemoCenter, "{}", err.message);
}

#[tokio::test]
async fn an_admin_sets_the_server_and_the_desktop_sends_what_waits() {
    let (_pg, pool, base) = server().await;
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_sample().await.unwrap();
    let vault = Arc::new(Memory::default());
    let app = App::with_vault(store, vault.clone());

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.sync_settings().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    let before = app.sync_status().await.unwrap();
    assert!(!before.configured && before.online.is_none());
    assert!(before.waiting_up > 100, "{before:?}");
    // Nothing set: 立即同步 sends nothing and fails nothing.
    assert_eq!(app.sync_now().await.unwrap().waiting_up, before.waiting_up);

    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let form = |server: &str, token: Option<&str>| SyncForm {
        server: server.into(),
        token: token.map(str::to_owned),
    };
    // A server without a token, or an address that is none, saves nothing.
    let err = app.save_sync_settings(form(&base, None)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::MissingSecret);
    let err = app
        .save_sync_settings(form("192.168.1.10:8790", Some(&token)))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidSetting, "{}", err.message);
    assert!(vault.get(TOKEN).is_none(), "nothing kept of a refused form");

    // 测试连接: a wrong token and a server out of reach are said.
    let err = app
        .test_sync(form(&base, Some("ggzy_wrong")))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerRefused, "{}", err.message);
    assert!(err.message.contains("令牌"), "{}", err.message);
    let err = app
        .test_sync(form("http://127.0.0.1:9", Some(&token)))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerUnreachable, "{}", err.message);
    let ok = app.test_sync(form(&base, Some(&token))).await.unwrap();
    assert!(ok.contains("连接正常"), "{ok}");

    let saved = app
        .save_sync_settings(form(&base, Some(&token)))
        .await
        .unwrap();
    assert!(saved.token_set && saved.server == base);
    assert_eq!(vault.get(TOKEN).as_deref(), Some(token.as_str()));
    let in_db: i64 =
        sqlx::query_scalar("SELECT count(*) FROM settings WHERE value LIKE '%' || ? || '%'")
            .bind(&token)
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    assert_eq!(in_db, 0, "the token is never in the database");

    let now = app.sync_now().await.unwrap();
    assert_eq!(
        (now.configured, now.online, now.waiting_up),
        (true, Some(true), 0)
    );
    assert!(now.last_sync_at.is_some() && now.last_error.is_none());
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&pool)
        .await
        .unwrap();
    let head = app.store().audit_head().await.unwrap();
    assert_eq!(held, head.seq, "every record of this desktop's chain");
    assert!(
        held > before.waiting_up,
        "the logins' and the setting's records too"
    );
    let ok = app.test_sync(form(&base, None)).await.unwrap();
    assert!(ok.contains("一致"), "{ok}");

    // A tamper alarm on the server (raised by another desktop's upload; the
    // server's tests raise them for real): admins are shown it, others not.
    sqlx::query("INSERT INTO alarms (device, kind, detail) SELECT n, 'tamper', '第 2 条记录与服务器已保存的不同' FROM devices WHERE name = '一号机'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(app.sync_now().await.unwrap().alarms, Some(1));
    let listed = app.server_alarms().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device, "一号机");
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(app.sync_status().await.unwrap().alarms, None);
    assert_eq!(
        app.server_alarms().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("admin", DEMO_PASSWORD).await.unwrap();

    // The server revokes this desktop: 立即同步 says so, the top bar too.
    ggzy_server::tokens::revoke_device(&pool, "一号机")
        .await
        .unwrap();
    let err = app.sync_now().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerRefused);
    let status = app.sync_status().await.unwrap();
    assert_eq!(status.online, Some(true), "reached, and refused");
    assert!(status.last_error.unwrap().contains("吊销"));
}

/// A desktop of the center with the demo staff (none of their events) and
/// this server set by its admin, with its own token.
async fn desktop(
    base: &str,
    pool: &sqlx::PgPool,
    name: &str,
    sample: bool,
) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    if sample {
        store.seed_sample().await.unwrap();
    } else {
        store.seed_staff().await.unwrap();
    }
    let app = App::with_vault(store, Arc::new(Memory::default()));
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let token = ggzy_server::tokens::add_device(pool, name).await.unwrap();
    app.save_sync_settings(SyncForm {
        server: base.into(),
        token: Some(token),
    })
    .await
    .unwrap();
    (app, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_recorded_on_one_desktop_is_reviewed_on_another() {
    use ggzy_app::actions::{Action, PartyInput};
    use ggzy_core::event::{Outcome, Stage};
    let (_pg, pool, base) = server().await;
    let (center, _a) = desktop(&base, &pool, "中心", true).await;
    let (supervision, _b) = desktop(&base, &pool, "监管部门", false).await;
    let party = |id: &str, phone: &str| PartyInput {
        id: id.into(),
        name: format!("{id} 单位"),
        phone: Some(phone.into()),
        email: None,
        prefer: None,
    };

    // The center's staff register a project and submit its filing.
    center.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    center
        .act(Action::RegisterProject {
            project: "SYNC-1".into(),
            name: "同步测试工程".into(),
            tenderer: party("T1", "13800000001"),
            agency: party("A1", "13800000002"),
        })
        .await
        .unwrap();
    center
        .act(Action::SubmitFiling {
            project: "SYNC-1".into(),
            stage: Stage::TenderNotice,
            round: None,
            winner: None,
        })
        .await
        .unwrap();
    let up = center.sync_now().await.unwrap();
    assert_eq!(
        (up.online, up.waiting_up, up.conflicts),
        (Some(true), 0, 0),
        "{up:?}"
    );

    // The reviewer's desktop, elsewhere: the filing waits in their inbox,
    // told by a desktop notification, and they review it there.
    supervision.login("liuyang", DEMO_PASSWORD).await.unwrap();
    supervision.inbox(None).await.unwrap();
    assert_eq!(
        supervision.inbox_notice().await.unwrap(),
        None,
        "nothing unread yet"
    );
    let down = supervision.sync_now().await.unwrap();
    assert_eq!((down.waiting_down, down.conflicts), (0, 0), "{down:?}");
    let notice = supervision
        .inbox_notice()
        .await
        .unwrap()
        .expect("a notice of the new filing");
    assert!(notice.body.contains("刘洋"), "{notice:?}");
    let inbox = supervision.inbox(None).await.unwrap();
    let filed = inbox
        .items
        .iter()
        .find(|p| p.text.contains("同步测试工程") && p.rule.starts_with("4.4.1"))
        .expect("the filing's push in the reviewer's inbox");
    // It is the center's push: shown as sent from there, never from here.
    assert_eq!(filed.held, Some(ggzy_core::push::Hold::Remote));
    assert_eq!(filed.status, ggzy_core::push::PushStatus::Queued);
    supervision
        .act(Action::ReviewFiling {
            project: "SYNC-1".into(),
            stage: Stage::TenderNotice,
            round: None,
            outcome: Outcome::Passed,
            opinion: None,
        })
        .await
        .unwrap();
    // This desktop's dispatcher takes its own review's pushes, which come
    // after the center's in its queue: the center's push still waits to be
    // sent from there, never shown as being sent from here.
    let own = supervision.store().claim_due(100, 60).await.unwrap();
    assert!(own.iter().all(|c| c.push.no > filed.no) && !own.is_empty());
    let again = supervision.inbox(None).await.unwrap();
    let again = again.items.iter().find(|p| p.no == filed.no).unwrap();
    assert_eq!(again.status, ggzy_core::push::PushStatus::Queued);
    supervision.sync_now().await.unwrap();

    // Back at the center, the review is in the project's timeline.
    center.sync_now().await.unwrap();
    let project = center.project("SYNC-1").await.unwrap();
    let kinds: Vec<&str> = project.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"filing.reviewed"), "{kinds:?}");
    for app in [&center, &supervision] {
        let report = app.verify_audit(|_| {}).await;
        let report = match report {
            Ok(r) => r,
            Err(e) => panic!("{e:?}"),
        };
        assert!(report.intact, "{:?}", report.broken);
    }
}

/// Connected to a sync server, a draw goes on only once the server holds
/// its commitment: with the server out of reach nothing is drawn or told
/// (the commitment stays in the trail, the draw never revealed); with it
/// back the draw goes through, and the server held the `draw.committed`
/// record before the seed was revealed.
#[tokio::test]
async fn a_connected_desktop_draws_only_once_the_server_holds_the_commitment() {
    let (_pg, pool, base) = server().await;
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();
    let (app, _dir) = admin_on(false, Arc::new(Memory::default())).await;
    // First an address where no server listens.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", nobody.local_addr().unwrap());
    drop(nobody);
    let form = |server: &str| SyncForm {
        server: server.into(),
        token: Some(token.clone()),
    };
    app.save_sync_settings(form(&dead)).await.unwrap();

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    common::save_experts(&app, 4).await;
    let draw = common::draw(2, 1, chrono::Local::now() + chrono::Duration::days(2));
    let told = |app: &App| {
        let pool = app.store().pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pushes WHERE rule = '4.6'")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = told(&app).await;
    let err = app
        .run_draw("LH-2026-0105", draw.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerUnreachable, "{}", err.message);
    assert!(
        err.message.contains("承诺值") && err.message.contains("未进行"),
        "{}",
        err.message
    );
    assert_eq!(told(&app).await, before, "nobody is told");
    let abandoned = app.draws("LH-2026-0105").await.unwrap();
    assert_eq!(abandoned.len(), 1);
    assert!(
        abandoned[0].seed.is_none() && abandoned[0].picks.is_empty(),
        "never revealed"
    );

    app.login("admin", DEMO_PASSWORD).await.unwrap();
    app.save_sync_settings(form(&base)).await.unwrap();
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let d = app.run_draw("LH-2026-0105", draw).await.unwrap();
    assert_eq!(told(&app).await, before + 2);
    // The server holds the commitment, recorded before the reveal.
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT content::json ->> 'kind' FROM records WHERE content::json ->> 'subject' = $1 ORDER BY gseq",
    )
    .bind(&d.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("draw.committed"),
        "{kinds:?}"
    );
}
