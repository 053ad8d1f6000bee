//! The day's work across two roles, in the real window: center staff
//! register a project and record its filing; supervisory staff pass it;
//! center staff verify the publication materials (returned once with the
//! reason, then passed) and publish. Each step's
//! pushes show in the project's timeline. A role that may not act sees no
//! action, and the backend refuses the action forged from the page.

use ggzy_e2e::Driven;

const DEMO_PASSWORD: &str = "Demo@2026";

async fn as_user(app: &Driven, username: &str) {
    if app
        .client
        .find(fantoccini_css("[data-test=logout]"))
        .await
        .is_ok()
    {
        app.click("[data-test=logout]").await;
    }
    app.login(username, DEMO_PASSWORD).await;
    app.find("[data-test=current-user]").await;
}

fn fantoccini_css(css: &str) -> ggzy_e2e::fantoccini::Locator<'_> {
    ggzy_e2e::fantoccini::Locator::Css(css)
}

/// Open an action, pick the stage, fill what else it asks, submit, wait for the trace.
async fn act(app: &Driven, action: &str, url: Option<&str>, expect_clause: &str) {
    app.click(&format!("[data-action='{action}']")).await;
    app.choose("[data-test=action-stage]", "[data-stage=tender_notice]")
        .await;
    if let Some(url) = url {
        app.fill("[data-test=action-url]", url).await;
    }
    app.click("[data-test=action-submit]").await;
    app.text_contains(".el-message--success", "已办理").await;
    app.text_contains("[data-test=timeline]", expect_clause)
        .await;
}

#[tokio::test]
async fn a_tender_notice_goes_from_registration_to_publication() {
    let app = Driven::start().await;

    as_user(&app, "zhangwei").await;
    app.click("[data-menu='/projects']").await;
    app.click("[data-test=register-project]").await;
    app.fill_all(&[
        ("register-code", "LH-2026-0600"),
        ("register-name", "临海市东湖公园改造工程"),
        ("tenderer-id", "T600"),
        ("tenderer-name", "临海市园林管理局"),
        ("tenderer-phone", "0576-85000600"),
        ("agency-id", "A600"),
        ("agency-name", "浙江临海招标代理有限公司"),
        ("agency-email", "bid@lhzb.cn"),
    ])
    .await;
    app.screenshot("register-project").await;
    app.click("[data-test=register-submit]").await;
    app.text_contains("[data-test=timeline]", "项目登记").await;
    app.text_contains("[data-test=timeline]", "4.2").await;
    // Center staff are not offered the filing review; they record the filing.
    let offered = app
        .text_contains("[data-test=project-actions]", "发布公告")
        .await;
    assert!(!offered.contains("备案审核"), "{offered}");
    // Materials before the filing passed: the dialog says why not, and will not send.
    app.click("[data-action='materials.submitted']").await;
    app.choose("[data-test=action-stage]", "[data-stage=tender_notice]")
        .await;
    app.text_contains("[data-test=action-why]", "4.4.3").await;
    assert!(
        app.disabled("[data-test=action-submit]").await,
        "确定办理 is disabled"
    );
    app.screenshot("action-not-yet").await;
    app.close_dialog().await;
    act(&app, "filing.submitted", None, "4.4.1").await;

    as_user(&app, "wangfang").await;
    // The filing recorded for her review: a desktop notification, and the inbox shows it.
    app.notified("王芳，您有").await;
    app.find("[data-test=unread] .el-badge__content").await;
    // Her workbench lists the filing waiting for her review.
    app.text_contains(
        "[data-task=filing_review]",
        "LH-2026-0600 临海市东湖公园改造工程",
    )
    .await;
    app.screenshot("workbench-tasks").await;
    app.click("[data-menu='/inbox']").await;
    app.text_contains("[data-test=inbox] .el-table__body", "4.4.1")
        .await;
    app.screenshot("inbox").await;
    app.open_project("LH-2026-0600", "东湖公园").await;
    let offered = app
        .text_contains("[data-test=project-actions]", "备案审核")
        .await;
    assert!(!offered.contains("发布公告"), "{offered}");
    // Forged from the page: the backend refuses what the role may not do.
    let refused = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('act', { action: { type: 'notice.published',
               project: 'LH-2026-0600', stage: 'tender_notice', url: 'https://evil.example/x' } })
               .then(() => done('accepted'), (e) => done(e.code));",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(refused, "forbidden");
    act(&app, "filing.reviewed", None, "4.4.2").await;
    app.screenshot("filing-review").await;

    as_user(&app, "zhangwei").await;
    app.open_project("LH-2026-0600", "东湖公园").await;
    act(&app, "materials.submitted", None, "4.4.3").await;

    // 查验, from the timeline: one item fails, so the materials go back with the reason.
    app.click("[data-verify=tender_notice]").await;
    app.text_contains("[data-test=materials-state]", "待查验")
        .await;
    const ATTACHED: &str = "附件齐全，能正常打开";
    app.click(&format!("[data-item='{ATTACHED}'] [data-ok=no]"))
        .await;
    app.fill(&format!("[data-remark='{ATTACHED}']"), "资格审查表无法打开")
        .await;
    app.text_contains("[data-test=verify-why]", "只能退回")
        .await;
    assert!(
        app.disabled("[data-test=verify-pass]").await,
        "no pass over a failed item"
    );
    app.fill(
        "[data-test=return-reason]",
        "资格审查表无法打开，请重新上传",
    )
    .await;
    app.screenshot("materials-return").await;
    app.click("[data-test=verify-return]").await;
    app.text_contains("[data-test=materials-state]", "已退回")
        .await;
    app.find("[data-test=materials-rounds] [data-verdict=returned]")
        .await;
    // Publication is refused until a pass: the form says why.
    app.open_project("LH-2026-0600", "东湖公园").await;
    // The return on the timeline, with the product's own push to the parties.
    app.text_contains("[data-test=timeline]", "发布资料查验")
        .await;
    app.text_contains("[data-test=timeline]", "returned").await;
    app.click("[data-action='notice.published']").await;
    app.choose("[data-test=action-stage]", "[data-stage=tender_notice]")
        .await;
    app.text_contains("[data-test=action-why]", "已退回").await;
    app.close_dialog().await;

    // Resubmitted; the inbox's 4.4.3 links to the page, where every item passes.
    act(&app, "materials.submitted", None, "4.4.3").await;
    app.click("[data-menu='/inbox']").await;
    app.click("[data-test=inbox] [data-verify=tender_notice]")
        .await;
    app.text_contains("[data-test=materials-title]", "东湖公园")
        .await;
    app.text_contains("[data-test=materials-state]", "待查验")
        .await;
    let fine = app
        .client
        .find_all(fantoccini_css("[data-test=checklist] [data-ok=yes]"))
        .await
        .expect("the checklist");
    assert!(
        fine.len() >= 5,
        "the tender notice's checklist: {}",
        fine.len()
    );
    for row in 1..=fine.len() {
        app.click(&format!(
            "[data-test=checklist] .el-table__row:nth-child({row}) [data-ok=yes]"
        ))
        .await;
    }
    app.click("[data-test=verify-pass]").await;
    app.text_contains("[data-test=materials-state]", "已查验通过")
        .await;
    app.screenshot("materials-passed").await;

    app.open_project("LH-2026-0600", "东湖公园").await;
    act(
        &app,
        "notice.published",
        Some("https://ggzy.linhai.gov.cn/notice/600"),
        "4.4.4",
    )
    .await;
    app.text_contains("[data-test=timeline]", "公告发布").await;
    app.screenshot("published").await;

    // The push log finds the project's pushes by clause.
    app.click("[data-menu='/pushes']").await;
    app.fill("[data-test=log-project]", "LH-2026-0600").await;
    app.fill("[data-test=log-clause]", "4.4.4").await;
    app.click("[data-test=log-search]").await;
    // Filtered: 4.4.4's two pushes and nothing else.
    app.text_where(
        "[data-test=push-log] .el-table__body",
        "held only the two 4.4.4 pushes",
        |t| t.matches("4.4.4").count() == 2 && !t.contains("4.4.3") && !t.contains("4.2"),
    )
    .await;
    assert!(
        app.disabled("[data-test=page-next]").await,
        "one page holds them: no 下一页"
    );
    app.screenshot("push-log").await;
    app.stop().await;
}
