//! The desktop is its deployment's dispatcher: with channels configured
//! (`ggzy dispatch configure`, the secret in the environment), the demo
//! center's SMS pushes reach a real gateway on loopback, and the project
//! timeline shows each push's history.

use ggzy_e2e::{sibling, Driven};
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_sends_through_the_configured_gateway() {
    let fake = ggzy_providers::gateway().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ggzy.db");
    let config = dir.path().join("dispatch.json");
    std::fs::write(
        &config,
        format!(r#"{{"sms": [{{"kind": "gateway", "name": "gw", "url": "{}", "key_id": "ggzy-test"}}]}}"#, fake.url("/sms")),
    )
    .expect("config");
    // The app inherits this through tauri-driver and WebKitWebDriver.
    std::env::set_var("GGZY_SECRET_SMS_GW", ggzy_providers::SECRET);
    for args in [
        vec!["demo".into()],
        vec![
            "dispatch".into(),
            "configure".into(),
            config.into_os_string(),
        ],
    ] {
        let status = Command::new(sibling("ggzy"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .status()
            .expect("run ggzy");
        assert!(status.success(), "ggzy failed preparing the database");
    }

    let app = Driven::start_in(dir).await;
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
    app.stop().await;
}
