//! 设置 → 同步 in the real window, against a real sync server on a real
//! PostgreSQL (started here): an admin tests the connection and saves; the
//! desktop sends its records in the background, and the top bar says it is
//! online and synced.

use ggzy_e2e::Driven;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_the_desktop_and_the_top_bar_says_it_synced() {
    let pg = ggzy_pg::Postgres::start();
    let (pool, base) = ggzy_server::start_local(&pg.database("ggzy").await, 16 << 20)
        .await
        .unwrap();
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();

    let app = Driven::start_sample().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    app.fill("[data-test=sync-server]", &base).await;
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
