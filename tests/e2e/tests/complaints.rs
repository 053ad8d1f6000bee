//! 投诉 in the real window, as the supervisor (监督): the demo's open
//! complaint with its working-day clocks and the resolved one with the
//! working days it took; then a complaint taken by phone from lodging to
//! the 5.1.2 feedback — told on the desktop, accepted and assigned, noted
//! with a file kept in the store, decided, and the feedback sent.

use ggzy_e2e::Driven;

#[tokio::test]
async fn the_supervisor_takes_a_complaint_from_lodging_to_feedback() {
    let app = Driven::start().await;
    app.login("chenjing", "Demo@2026").await;
    // Read the inbox first, so the next notice is the lodging's alone.
    app.click("[data-menu='/inbox']").await;
    app.text_where("[data-menu='/inbox']", "shows no unread count", |t| {
        !t.chars().any(|c| c.is_ascii_digit())
    })
    .await;
    app.click("[data-menu='/complaints']").await;
    let table = app
        .text_contains("[data-test=complaints]", "开标结果公告发布后未收到短信通知")
        .await;
    assert!(
        table.contains("林先生") && table.contains("电话"),
        "{table}"
    );
    let open = app
        .text_contains("[data-complaint='TS-2026-032']", "个工作日")
        .await;
    assert!(
        open.contains("逾期") || open.contains("剩") || open.contains("今日到期"),
        "{open}"
    );
    app.click("[data-test=complaint-filter] label:nth-child(2)")
        .await;
    app.text_contains("[data-complaint='TS-2026-031']", "已办结")
        .await;
    app.screenshot("complaints").await;

    // Lodged by phone: every supervisor is told on the desktop.
    app.click("[data-test=complaint-lodge]").await;
    app.click("[data-test=lodge-channel] label:nth-child(1)")
        .await;
    app.fill_all(&[
        ("lodge-name", "浙江宏远建设集团有限公司"),
        ("lodge-phone", "13957680001"),
        ("lodge-subject", "开标结果短信未收到"),
        ("lodge-project", "LH-2026-0101"),
    ])
    .await;
    app.click("[data-test=lodge-save]").await;
    app.text_contains(".el-message--success", "已登记投诉 TS-2026-033")
        .await;
    app.notified("陈静，您有 1 条未读消息").await;
    app.text_contains("[data-test=complaint-title]", "TS-2026-033")
        .await;
    app.text_contains("[data-test=complaint-state]", "待受理")
        .await;
    app.text_contains("[data-clock=accept]", "受理决定剩 3 个工作日")
        .await;

    // Accepted and handed to the supervisor herself.
    app.click("[data-test=complaint-accept]").await;
    app.choose("[data-test=complaint-assignee]", ":nth-child(1)")
        .await;
    app.click("[data-test=complaint-submit]").await;
    app.text_contains("[data-test=complaint-state]", "调查中")
        .await;
    app.text_contains("[data-test=complaint-steps]", "受理，交由 陈静 调查")
        .await;

    // A note with the gateway's receipt attached, chosen in the system's dialog.
    let dir = tempfile::tempdir().unwrap();
    let receipt = dir.path().join("receipt.txt");
    std::fs::write(
        &receipt,
        "gateway receipt: submitted 09:31, no delivery report",
    )
    .unwrap();
    app.click("[data-test=complaint-note]").await;
    app.fill("[data-test=complaint-text]", "调取了短信网关的提交记录。")
        .await;
    app.click("[data-test=complaint-attach]").await;
    app.choose_in_file_dialog("选择调查记录的附件", &receipt)
        .await;
    app.text_contains("[data-test=complaint-steps]", "调取了短信网关的提交记录。")
        .await;
    app.find("[data-file='receipt.txt']").await;

    // Decided: the 5.1.2 feedback goes to the complainant's phone.
    app.click("[data-test=complaint-decide]").await;
    app.fill(
        "[data-test=complaint-text]",
        "经核实系运营商通道拥堵，已补发。",
    )
    .await;
    app.click("[data-test=complaint-submit]").await;
    app.text_contains("[data-test=complaint-state]", "已处理")
        .await;
    app.text_where("[data-feedback=sms]", "shows the SMS sent", |t| {
        t.contains("已发送") || t.contains("已送达")
    })
    .await;
    app.text_contains("[data-test=complaint-feedback]", "13957680001")
        .await;
    app.screenshot("complaint-decided").await;
    app.stop().await;
}
