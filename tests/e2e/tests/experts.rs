//! The expert pool and a draw in the real window: center staff import a
//! roster chosen in the system's dialog (ID numbers shown masked), then
//! draw for a project; the page shows how many were drawn, the commitment
//! and the seed, never who; the 4.6 pushes went out with the names concealed.

use ggzy_core::experts::check_character;
use ggzy_e2e::Driven;

/// A valid resident ID for a 17-digit prefix.
fn id_number(prefix: &str) -> String {
    format!("{prefix}{}", check_character(prefix).unwrap())
}

#[tokio::test]
async fn a_roster_is_imported_and_a_draw_shows_counts_not_names() {
    let app = Driven::start().await;
    let file = app.dir.path().join("roster.csv");
    let mut roster = String::from("编号,姓名,身份证号,手机,专业,工作单位\n");
    for i in 1..=12 {
        roster.push_str(&format!(
            "E{i:03},钱学明{i},{},1395863{i:04},A01,单位{i}\n",
            id_number(&format!("33100219720303{i:03}"))
        ));
    }
    std::fs::write(&file, roster).expect("write the roster");

    app.login("zhangwei", "Demo@2026").await;
    app.click("[data-menu='/experts']").await;
    app.click("[data-test=roster-import]").await;
    app.choose_in_file_dialog("选择专家名册", &file).await;
    let listed = app.text_contains("[data-test=experts]", "钱学明12").await;
    assert!(listed.contains("331002********"), "masked: {listed}");
    assert!(
        !listed.contains(&id_number("33100219720303001")),
        "{listed}"
    );
    app.screenshot("expert-pool").await;

    app.open_project("LH-2026-0105", "灵江大桥").await;
    app.click("[data-test=draw-open]").await;
    app.fill("[data-draw-code='0']", "A01").await;
    app.fill("[data-test=draw-place]", "三楼第二评标室").await;
    app.fill("[data-test=draw-phone]", "0576-85110086").await;
    app.screenshot("draw-form").await;
    app.click("[data-test=draw-submit]").await;
    let card = app
        .text_contains("[data-test=draws]", "专业 A01：抽中 3 名，备选 2 名")
        .await;
    assert!(
        card.contains("承诺值") && card.contains("公开的种子"),
        "{card}"
    );
    assert!(
        !card.contains("钱学明"),
        "who was drawn stays secret: {card}"
    );
    let timeline = app.text_contains("[data-test=timeline]", "4.6").await;
    assert!(!timeline.contains("钱学明"), "{timeline}");
    app.screenshot("draw-done").await;
    app.stop().await;
}
