//! The desktop is its deployment's dispatcher. An admin configures the
//! channels in 设置 (the secret goes to the real OS keyring: gnome-keyring on
//! the test's session bus, never the database); the dispatcher starts afresh
//! and the demo center's SMS pushes reach a real gateway on loopback; the
//! project timeline shows each push's history. The contact rules (3.4) set
//! in 设置 decide the channels of a project registered in the window.

use ggzy_e2e::Driven;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_configures_channels_and_the_desktop_sends() {
    let fake = ggzy_providers::gateway().await;
    // The demo's data as a center's own: the demo itself sends only through its simulated channel.
    let app = Driven::start_sample().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    // The form, as staff fill it: one SMS gateway.
    app.click("[data-test=sms-add]").await;
    app.fill("[data-test=sms-name-0]", "gw").await;
    app.fill("[data-test=sms-url-0]", &fake.url("/sms")).await;
    app.fill("[data-test=sms-key-id-0]", "ggzy-test").await;
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
    // The JSON tab shows what was saved: the form's gateway, no secret.
    app.click("#tab-json").await;
    let saved = app
        .client
        .execute(
            "return document.querySelector('[data-test=channels-config]').value",
            vec![],
        )
        .await
        .expect("the JSON text");
    let saved: serde_json::Value =
        serde_json::from_str(saved.as_str().expect("text")).expect("saved JSON");
    assert_eq!(saved["sms"][0]["key_id"], "ggzy-test", "{saved}");
    assert!(!saved.to_string().contains(ggzy_providers::SECRET));

    // 联系规则 (3.4): a party with both a phone and an email gets both; no
    // work group can be chosen before its robot is configured.
    app.text_contains(
        "[data-test=contacts-card]",
        "须先在“推送通道”中配置钉钉群机器人",
    )
    .await;
    app.click("[data-test=contacts-both] [data-both=both]")
        .await;
    app.click("[data-test=contacts-save]").await;
    app.text_contains(".el-message--success", "联系规则已保存")
        .await;
    app.screenshot("settings-contacts").await;

    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.taken() < 220 {
        assert!(
            Instant::now() < deadline,
            "the gateway got {} of 220 SMS",
            fake.taken()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = fake.seen();
    assert_eq!((seen.taken.len(), seen.bad_signatures), (220, 0));

    app.click("[data-test=logout]").await;
    app.login("zhangwei", "Demo@2026").await;
    app.click("[data-menu='/projects']").await;
    // The rules at work: the tenderer has both contacts and gets both; the
    // agency asked for mandatory notices only, and 4.2 is not one.
    app.click("[data-test=register-project]").await;
    app.fill_all(&[
        ("register-code", "LH-2026-0701"),
        ("register-name", "临海市古城墙修缮工程"),
        ("tenderer-id", "T701"),
        ("tenderer-name", "临海市文物局"),
        ("tenderer-phone", "0576-85000701"),
        ("tenderer-email", "t701@lh.gov.cn"),
        ("agency-id", "A701"),
        ("agency-name", "浙江古城招标代理有限公司"),
        ("agency-email", "a701@gczb.cn"),
    ])
    .await;
    app.choose("[data-test=agency-prefer]", "[data-prefer=none]")
        .await;
    app.click("[data-test=register-submit]").await;
    app.text_contains("[data-test=parties]", "A701，仅接收必达通知")
        .await;
    let timeline = app
        .text_contains("[data-test=timeline]", "t701@lh.gov.cn")
        .await;
    assert!(timeline.contains("0576-85000701"), "{timeline}");
    assert!(!timeline.contains("a701@gczb.cn"), "{timeline}");
    // The agency's silence is on the record: 未推送, to whom, and why.
    let silenced = app.text_contains("[data-test=silenced]", "未推送").await;
    assert!(
        silenced.contains("4.2") && silenced.contains("A701") && silenced.contains("不接收推送"),
        "{silenced}"
    );
    app.screenshot("contact-rules-at-work").await;
    app.open_project("LH-2026-0101", "老旧小区").await;
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
