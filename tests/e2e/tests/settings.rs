//! An admin keeps the center's details and adds a colleague, who logs in
//! with the one-time password and must change it before anything else.

use ggzy_e2e::Driven;

#[tokio::test]
async fn an_admin_adds_a_colleague_who_changes_the_one_time_password() {
    let app = Driven::start().await;
    app.login("admin", "Demo@2026").await;
    app.click("[data-menu='/settings']").await;
    app.text_contains("[data-test=users] .el-table__body", "zhangwei")
        .await;
    // The form fills from the backend after the page shows: wait for it,
    // or the new number is typed after the old one.
    app.value_contains("[data-test=center-phone]", "0576-85110086")
        .await;
    app.fill("[data-test=center-phone]", "0576-85119999").await;
    app.click("[data-test=save-center]").await;
    app.text_contains(".el-message--success", "已保存").await;

    // Every clause's message, as it will read with the phone just saved.
    app.fill("[data-test=template-filter]", "4.4.4").await;
    app.text_where(
        "[data-test=templates] .el-table__body",
        "lists 4.4.4 alone",
        |t| t.contains("招标公告发布") && !t.contains("4.4.3"),
    )
    .await;
    app.click("[data-test=templates] .el-table__expand-icon")
        .await;
    app.text_contains(
        "[data-sample='4.4.4']",
        "招标公告已发布，网址：https://ggzy.example.gov.cn/notice/2026/0001。该项目已完成招标公告阶段。如有疑问，请致电0576-85119999。",
    )
    .await;
    app.client
        .execute(
            "document.querySelector('[data-test=templates]').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll to the templates");
    app.screenshot("settings-templates").await;

    // 工作日历: 2026's notice comes with the product; a new year is added and kept.
    let card = app
        .text_contains("[data-test=calendar-years]", "2026 年")
        .await;
    assert!(!card.contains("2027"), "{card}");
    app.text_contains("[data-test=calendar]", "放假 33 天，调休上班 6 天")
        .await;
    app.click("[data-test=calendar-add]").await;
    app.click("[data-test=calendar-save]").await;
    app.text_contains(".el-message", "工作日历已保存").await;
    app.text_contains("[data-test=calendar-years]", "2027 年")
        .await;

    // Supervisory staff moved to complaints.
    app.click("[data-edit-user=wangfang]").await;
    app.click("[data-role=supervisor]").await;
    app.click("[data-test=edit-submit]").await;
    app.text_contains("[data-test=users] .el-table__body", "监督（投诉处理）人员")
        .await;

    app.click("[data-test=add-user]").await;
    app.fill("[data-test=user-username]", "zhoujie").await;
    app.fill("[data-test=user-name]", "周杰").await;
    app.click("[data-test=user-submit]").await;
    app.text_contains("[data-test=one-time]", "初始密码").await;
    let one_time = app
        .client
        .execute(
            "return document.querySelector('[data-test=one-time] .mono').innerText",
            vec![],
        )
        .await
        .expect("script ran");
    let one_time = one_time.as_str().expect("the password").to_owned();
    assert_eq!(one_time.len(), 12, "{one_time}");
    app.text_contains("[data-test=users] .el-table__body", "待修改初始密码")
        .await;
    app.screenshot("settings").await;

    // Close the dialog; log out and in as the colleague.
    app.close_dialog().await;
    app.click("[data-test=logout]").await;
    app.login("zhoujie", &one_time).await;
    app.fill("[data-test=current-password]", &one_time).await;
    app.fill("[data-test=new-password]", "周杰的新密码2026")
        .await;
    app.fill("[data-test=new-password-again]", "周杰的新密码2026")
        .await;
    app.screenshot("first-login").await;
    app.click("[data-test=change-password]").await;
    app.text_contains("[data-test=current-user]", "周杰（中心工作人员）")
        .await;
    app.stop().await;
}
