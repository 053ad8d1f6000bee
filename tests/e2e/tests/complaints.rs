//! 投诉 in the real window, as the supervisor (监督): the demo's open
//! complaint with its working-day clock, and the resolved one with the
//! working days it took.

use ggzy_e2e::Driven;

#[tokio::test]
async fn the_supervisor_sees_the_complaints_with_their_clocks() {
    let app = Driven::start().await;
    app.login("chenjing", "Demo@2026").await;
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
    app.text_contains("[data-complaint='TS-2026-031']", "已办结")
        .await;
    app.screenshot("complaints").await;
    app.stop().await;
}
