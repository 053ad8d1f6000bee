//! The desktop is its deployment's dispatcher. An admin configures the
//! channels in 设置 (the secret goes to the real OS keyring: gnome-keyring on
//! the test's session bus, never the database); the dispatcher starts afresh
//! and the demo center's SMS pushes reach a real gateway on loopback; the
//! project timeline shows each push's history.

use ggzy_e2e::Driven;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_configures_channels_and_the_desktop_sends() {
    let fake = ggzy_providers::gateway().await;
    let app = Driven::start().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    let config = format!(
        r#"{{"sms": [{{"kind": "gateway", "name": "gw", "url": "{}", "key_id": "ggzy-test"}}]}}"#,
        fake.url("/sms")
    );
    app.fill("[data-test=channels-config]", &config).await;
    app.click("[data-test=channels-save]").await;
    // The secret it needs is asked for, by name, and nothing is saved without it.
    app.text_contains(".el-message--error", "请填写密钥：sms.gw")
        .await;
    app.fill("[data-secret='sms.gw']", ggzy_providers::SECRET)
        .await;
    app.click("[data-test=channels-save]").await;
    app.text_contains(".el-message--success", "推送通道已保存")
        .await;
    app.screenshot("settings-channels").await;

    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.taken() < 218 {
        assert!(
            Instant::now() < deadline,
            "the gateway got {} of 218 SMS",
            fake.taken()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = fake.seen();
    assert_eq!((seen.taken.len(), seen.bad_signatures), (218, 0));

    app.click("[data-test=logout]").await;
    app.login("zhangwei", "Demo@2026").await;
    app.click("[data-menu='/projects']").await;
    app.fill("[data-test=project-search]", "LH-2026-0101").await;
    app.click("[data-test=project-search-button]").await;
    app.text_contains(".el-pagination", "共 1 条").await;
    app.click("[data-test=open-project]").await;
    app.text_contains("[data-test=project-title]", "老旧小区")
        .await;
    app.click("[data-test=timeline] .el-table__expand-icon")
        .await;
    let history = app
        .text_contains("[data-test=push-history]", "已发送")
        .await;
    assert!(history.contains("gw：已受理，发往 139****"), "{history}");
    app.screenshot("push-history").await;

    // The secret is in the keyring only: not in the database or its WAL.
    for file in std::fs::read_dir(app.dir.path()).expect("the test's folder") {
        let path = file.expect("entry").path();
        // Folders and files gone since the listing (the WAL's shared memory) have nothing to read.
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(ggzy_providers::SECRET),
                "{}",
                path.display()
            );
        }
    }
    app.stop().await;
}
