//! 满意度 and 持续改进 in the real window, as center staff: Appendix A's
//! form typed in from a phone return visit with one item 很不满意, the
//! averages moving, and the answer waiting in the improvement register
//! until it is taken up as an item of its own.

use ggzy_e2e::Driven;

#[tokio::test]
async fn a_dissatisfied_answer_goes_into_the_improvement_register() {
    let app = Driven::start().await;
    app.login("zhangwei", "Demo@2026").await;
    app.click("[data-menu='/surveys']").await;
    // The demo's one answer: 信息及时性 5.
    app.text_contains("[data-average=timeliness]", "5.00").await;

    app.click("[data-test=survey-new]").await;
    app.click("[data-test=survey-method] label:nth-child(2)")
        .await;
    // 信息及时性: 很不满意 (the fifth level).
    app.click("[data-survey-item=timeliness] label:nth-child(5)")
        .await;
    app.fill_all(&[
        ("survey-respondent", "浙江宏远建设集团有限公司"),
        ("survey-phone", "13957680002"),
        ("survey-remarks", "开标结果短信晚到两小时"),
    ])
    .await;
    app.click("[data-test=survey-save]").await;
    app.text_contains(".el-message--success", "已列入持续改进")
        .await;
    // (5 + 1) / 2 = 3.00.
    app.text_contains("[data-average=timeliness]", "3.00").await;
    app.text_contains("[data-test=surveys]", "电话回访").await;
    app.screenshot("surveys").await;

    app.click("[data-menu='/improvements']").await;
    app.text_contains("[data-test=improvements]", "信息及时性很不满意")
        .await;
    app.click("[data-test=improvements] .el-link").await;
    app.fill_all(&[
        ("improvement-action", "短信通道增加备用服务商"),
        ("improvement-owner", "张伟"),
    ])
    .await;
    app.click("[data-test=improvement-state] label:nth-child(2)")
        .await;
    app.click("[data-test=improvement-save]").await;
    app.text_contains(".el-message--success", "改进事项 GJ-")
        .await;
    app.text_contains("[data-test=improvements]", "整改中")
        .await;
    app.text_contains("[data-test=improvements]", "短信通道增加备用服务商")
        .await;
    app.screenshot("improvements").await;
    app.stop().await;
}
