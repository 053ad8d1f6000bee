//! 5.2c in the real window: the administrator exports this year's evidence
//! pack from 审计 through the system's save dialog, and the file verifies
//! alone — as an assessor's `ggzy audit verify --pack` would check it.

use ggzy_e2e::Driven;

#[tokio::test]
async fn the_administrator_exports_a_pack_that_verifies_alone() {
    let app = Driven::start().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/audit']").await;
    app.click("[data-test=evidence-export]").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pack.jsonl");
    app.save_in_file_dialog("导出评估证据包", &path).await;
    app.text_contains(".el-message--success", "证据包已保存到")
        .await;
    let bytes = std::fs::read(&path).expect("the pack was written");
    let report = ggzy_core::pack::verify(&bytes).expect("the pack verifies");
    assert!(
        report.events > 100,
        "the demo year's events: {}",
        report.events
    );
    assert_eq!(report.manifest.exported_by, "admin");
    app.screenshot("evidence").await;
    app.stop().await;
}
