//! Center staff import an intake file: progress, per-line results, and a
//! refused line corrected in place until it is taken.

use ggzy_e2e::Driven;

fn bidder(id: &str, project: &str) -> String {
    serde_json::json!({"id": id, "type": "project.bidder_added", "at": "2026-11-27T09:30:00+08:00",
        "project": project, "bidder": {"id": "B77", "name": "临海路桥公司", "phone": "13800000077"}})
    .to_string()
}

#[tokio::test]
async fn an_import_reports_each_line_and_a_refused_one_is_fixed() {
    let app = Driven::start().await;
    let file = app.dir.path().join("jiaoyi-export.jsonl");
    let register = serde_json::json!({"id": "imp-1", "type": "project.registered",
        "at": "2026-11-27T09:00:00+08:00", "project": "IMP-001", "name": "东湖引水工程",
        "tenderer": {"id": "T77", "name": "临海水务", "phone": "0576-85000077"},
        "agency": {"id": "A77", "name": "台州招标代理", "email": "a77@agency.cn"}});
    let lines = [
        register.to_string(),
        bidder("imp-2", "IMP-404"),
        "{\"id\": \"imp-3\",".into(),
    ];
    std::fs::write(&file, lines.join("\n")).expect("write the file");

    app.login("zhangwei", "Demo@2026").await;
    app.click("[data-menu='/import']").await;
    // The file is chosen in the system's dialog: the page itself can name no path.
    app.click("[data-test=import-pick]").await;
    app.choose_in_file_dialog("选择要导入的事件文件", &file)
        .await;
    app.text_contains("[data-test=import-chosen]", "jiaoyi-export.jsonl")
        .await;
    app.click("[data-test=import-start]").await;
    app.text_contains("[data-test=import-summary]", "共 3 行：受理 1 行")
        .await;
    app.text_contains("[data-test=import-summary]", "拒收 2 行")
        .await;
    app.text_contains("[data-test=import-refused] .el-table__body", "IMP-404")
        .await;
    app.text_contains("[data-test=rejects] .el-table__body", "jiaoyi-export.jsonl")
        .await;
    app.screenshot("import").await;

    // The malformed line, corrected first wrongly (the reason changes and the
    // dialog stays), then rightly.
    app.click("[data-test=rejects] .el-table__body tr:last-child [data-fix]")
        .await;
    app.fill("[data-test=fix-text]", &bidder("imp-3", "IMP-405"))
        .await;
    app.click("[data-test=fix-submit]").await;
    app.text_contains("[data-test=fix-reason]", "IMP-405").await;
    app.screenshot("import-fix").await;
    app.fill("[data-test=fix-text]", &bidder("imp-3", "IMP-001"))
        .await;
    app.click("[data-test=fix-submit]").await;
    app.text_contains(".el-message--success", "已受理事件 imp-3")
        .await;
    app.text_contains("[data-test=rejects-title]", "待处理的拒收数据（1）")
        .await;

    // The bidder is on the project now.
    app.open_project("IMP-001", "东湖引水工程").await;
    app.text_contains("[data-test=timeline]", "新增投标人")
        .await;
    app.stop().await;
}
