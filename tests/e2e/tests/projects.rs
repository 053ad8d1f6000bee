//! Staff find a project and read its trace: every event, and every push it
//! caused with recipient, channel, status and the exact text. Names that
//! hold markup are shown as the text they are.

use ggzy_e2e::Driven;

const DEMO_PASSWORD: &str = "Demo@2026";

const MARKUP: &str = r#"{"id":"x-001","type":"project.registered","at":"2026-11-20T09:00:00+08:00","project":"LH-2026-0999","name":"<b>加粗</b><img src=x onerror=alert(1)>工程","tenderer":{"id":"T9","name":"临海市<i>测试</i>局","phone":"0576-85000009"},"agency":{"id":"A9","name":"代理<script>x</script>公司","email":"a9@example.cn"}}"#;

#[tokio::test]
async fn a_project_is_found_and_its_pushes_read() {
    let app = Driven::start_with(&[MARKUP]).await;
    app.login("wangfang", DEMO_PASSWORD).await;
    app.click("[data-menu='/projects']").await;
    app.text_contains("[data-test=projects] .el-table__body", "LH-2026-0110")
        .await;
    app.screenshot("projects").await;

    app.fill("[data-test=project-search]", "0110").await;
    app.click("[data-test=project-search-button]").await;
    app.text_contains(".el-pagination", "共 1 条").await;
    let listed = app
        .text_contains("[data-test=projects] .el-table__body", "LH-2026-0110")
        .await;
    assert!(
        !listed.contains("LH-2026-0999"),
        "the search narrows the list: {listed}"
    );

    app.click("[data-test=open-project]").await;
    app.text_contains("[data-test=timeline]", "项目登记").await;
    // Open the first push of the registration: its exact text.
    app.click("[data-test=timeline] .el-table__expand-icon")
        .await;
    app.text_contains("[data-test=push-text]", "您好").await;
    app.screenshot("project-timeline").await;

    // The project whose name holds markup: shown as text, nothing rendered.
    app.click("[data-menu='/projects']").await;
    app.fill("[data-test=project-search]", "0999").await;
    app.click("[data-test=project-search-button]").await;
    app.text_contains(".el-pagination", "共 1 条").await;
    app.text_contains("[data-test=projects] .el-table__body", "<b>加粗</b>")
        .await;
    app.click("[data-test=open-project]").await;
    let title = app
        .text_contains("[data-test=project-title]", "<img src=x onerror=alert(1)>")
        .await;
    assert!(title.contains("<b>加粗</b>"), "{title}");
    let rendered = app
        .client
        .execute(
            "return document.querySelectorAll('#app b, #app img[src=x], #app script').length",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(rendered, 0, "no element was made from the names");
    app.screenshot("project-markup").await;

    // The list by what waits: the demo center has one filing under review.
    app.click("[data-menu='/projects']").await;
    app.choose("[data-test=project-status]", "[data-status=filing_review]")
        .await;
    app.text_where(".el-pagination", "counts one project", |t| {
        t.contains("共 1 条")
    })
    .await;
    app.text_contains("[data-test=projects] .el-table__body", "LH-2026-0102")
        .await;
    app.stop().await;
}
