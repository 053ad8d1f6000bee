//! 设置 → 同步 in the real window, against a real sync server on a real
//! PostgreSQL (started here): an admin tests the connection and saves; the
//! desktop sends its records in the background, and the top bar says it is
//! online and synced.

use ggzy_e2e::Driven;

/// The sample center's window, its admin on 设置 with `base` typed in as
/// the sync server's address.
async fn admin_typing_server(base: &str) -> Driven {
    let app = Driven::start_sample().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    app.fill("[data-test=sync-server]", base).await;
    app
}

/// A real sync server on a real PostgreSQL, both started here.
async fn server() -> (ggzy_pg::Postgres, sqlx::PgPool, String) {
    let pg = ggzy_pg::Postgres::start();
    let (pool, base) = ggzy_server::start_local(&pg.database("ggzy").await, 16 << 20)
        .await
        .unwrap();
    (pg, pool, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_the_desktop_and_the_top_bar_says_it_synced() {
    let (_pg, pool, base) = server().await;
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();

    let app = admin_typing_server(&base).await;
    app.fill("[data-test=sync-token]", "ggzy_wrong").await;
    app.click("[data-test=sync-test]").await;
    app.text_contains(".el-message--error", "令牌").await;
    app.fill("[data-test=sync-token]", &token).await;
    app.click("[data-test=sync-test]").await;
    app.text_contains("[data-test=sync-tested]", "连接正常")
        .await;
    app.click("[data-test=sync-save]").await;
    app.text_contains(".el-message--success", "同步设置已保存")
        .await;

    // The save wakes the background round; 立即同步 asks again at once.
    app.click("[data-test=sync-now]").await;
    app.text_contains("[data-test=sync-state]", "在线 · 已同步")
        .await;
    app.screenshot("sync-top-bar").await;
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        held > 100,
        "the desktop's records reached the server: {held}"
    );
}

/// Another desktop of the center (its own database, in this test's
/// process), with the demo staff and none of their events: it registers a
/// project, submits its filing and syncs.
async fn filing_elsewhere(dir: &std::path::Path, base: &str, token: &str) {
    let store = ggzy_store::Store::open(&dir.join("other.db"))
        .await
        .unwrap();
    store.seed_staff().await.unwrap();
    let lines = [
        r#"{"id":"other-1","type":"project.registered","at":"2026-12-07T09:00:00+08:00","project":"SYNC-0001","name":"跨机同步测试工程","tenderer":{"id":"T1","name":"某局","phone":"13800000001"},"agency":{"id":"A1","name":"某代理","phone":"13800000002"}}"#,
        r#"{"id":"other-2","type":"filing.submitted","at":"2026-12-07T09:05:00+08:00","project":"SYNC-0001","stage":"tender_notice"}"#,
    ];
    let s = store
        .import(std::io::Cursor::new(lines.join("\n")), "其他电脑", |_| {})
        .await
        .unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused);
    ggzy_sync::Client::new(base, token)
        .round(&store)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_recorded_on_another_desktop_reaches_this_inbox_as_a_notification() {
    let (_pg, pool, base) = server().await;
    let here = ggzy_server::tokens::add_device(&pool, "监管部门")
        .await
        .unwrap();
    let there = ggzy_server::tokens::add_device(&pool, "交易中心")
        .await
        .unwrap();

    let app = admin_typing_server(&base).await;
    app.fill("[data-test=sync-token]", &here).await;
    app.click("[data-test=sync-save]").await;
    app.text_contains(".el-message--success", "同步设置已保存")
        .await;
    app.click("[data-test=logout]").await;

    // The reviewer logs in here and reads her inbox. Meanwhile, at the
    // center, a filing is recorded and goes up; 立即同步 takes it in: one
    // new message, told by a desktop notification.
    app.login("wangfang", "Demo@2026").await;
    app.find("[data-test=current-user]").await;
    app.click("[data-menu='/inbox']").await;
    app.find("[data-test=inbox] .el-table__body").await;
    let dir = tempfile::tempdir().unwrap();
    filing_elsewhere(dir.path(), &base, &there).await;
    app.click("[data-test=sync-now]").await;
    app.text_contains("[data-test=sync-state]", "在线 · 已同步")
        .await;
    app.notified("王芳，您有 1 条未读消息").await;
    app.text_contains("[data-test=unread] .el-badge__content", "1")
        .await;
    // The center sends that push, not this desktop: the inbox says so.
    app.click("[data-menu='/workbench']").await;
    app.click("[data-menu='/inbox']").await;
    app.text_contains("[data-test=inbox] .el-table__body", "由其他电脑发送")
        .await;
    app.open_project("SYNC-0001", "跨机同步测试工程").await;
    app.text_contains("[data-test=timeline]", "4.4.1").await;
    app.screenshot("filing-from-another-desktop").await;
}

/// A center's own database with the demo staff (password Demo@2026), its
/// name set, and these intake lines: the desktop at `dir`.
async fn desktop(lines: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = ggzy_store::Store::open(&dir.path().join("ggzy.db"))
        .await
        .unwrap();
    store.seed_staff().await.unwrap();
    store
        .set_settings(&[("center_name", "临海市公共资源交易中心")], "admin")
        .await
        .unwrap();
    let s = store
        .import(std::io::Cursor::new(lines.join("\n")), "test", |_| {})
        .await
        .unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused);
    store.close().await;
    dir
}

/// The admin connects this window to the server with its token, then
/// `user` logs in.
async fn connect(app: &Driven, base: &str, token: &str, user: &str) {
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    app.fill("[data-test=sync-server]", base).await;
    app.fill("[data-test=sync-token]", token).await;
    app.click("[data-test=sync-save]").await;
    app.text_contains(".el-message--success", "同步设置已保存")
        .await;
    app.click("[data-test=logout]").await;
    app.login(user, "Demo@2026").await;
    app.find("[data-test=current-user]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desktop_windows_an_action_on_one_is_a_notification_on_the_other() {
    let (_pg, pool, base) = server().await;
    let center_token = ggzy_server::tokens::add_device(&pool, "交易中心")
        .await
        .unwrap();
    let review_token = ggzy_server::tokens::add_device(&pool, "监管部门")
        .await
        .unwrap();
    let registered = r#"{"id":"win-1","type":"project.registered","at":"2026-12-07T09:00:00+08:00","project":"WIN-0001","name":"双窗口同步测试工程","tenderer":{"id":"T1","name":"某局","phone":"13800000001"},"agency":{"id":"A1","name":"某代理","phone":"13800000002"}}"#;

    // The center's desktop, on this session bus, and the supervisory
    // department's in another window with its own bus, keyring and
    // notifications: both connected, the reviewer reading her inbox.
    let center = Driven::start_own(desktop(&[registered]).await).await;
    connect(&center, &base, &center_token, "zhangwei").await;
    let review = Driven::start_elsewhere(desktop(&[]).await).await;
    connect(&review, &base, &review_token, "wangfang").await;
    review.click("[data-menu='/inbox']").await;
    review.find("[data-test=inbox] .el-table__body").await;

    // Center staff record the project's filing in their window; it goes up.
    center.open_project("WIN-0001", "双窗口同步测试工程").await;
    center.click("[data-action='filing.submitted']").await;
    center
        .choose("[data-test=action-stage]", "[data-stage=tender_notice]")
        .await;
    center.click("[data-test=action-submit]").await;
    center.text_contains(".el-message--success", "已办理").await;
    center.click("[data-test=sync-now]").await;
    center
        .text_contains("[data-test=sync-state]", "在线 · 已同步")
        .await;

    // 立即同步 in the reviewer's window takes it in: her desktop
    // notification says so, and her inbox shows it.
    review.click("[data-test=sync-now]").await;
    review.notified("王芳，您有 1 条未读消息").await;
    review.click("[data-menu='/workbench']").await;
    review.click("[data-menu='/inbox']").await;
    review
        .text_contains("[data-test=inbox] .el-table__body", "4.4.1")
        .await;
    review.screenshot("two-windows-reviewer").await;
    center.screenshot("two-windows-center").await;
    // The center's window saw no notification for it: not its staff's.
    let center_bus = std::fs::read_to_string(center.dir.path().join("notify.log")).unwrap();
    assert!(!center_bus.contains("王芳"), "{center_bus}");
}
