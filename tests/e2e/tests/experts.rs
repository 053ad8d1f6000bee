//! The expert pool and a draw in the real window: center staff import a
//! roster chosen in the system's dialog (ID numbers shown masked), then
//! draw for a project; the page shows how many were drawn, the commitment
//! and the seed, never who; the 4.6 pushes went out with the names concealed.
//! On the draw's page a decline by phone calls a backup, a sign-in by ID
//! card names that one expert, and the record prints and saves as a PDF.

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

    // The draw's page: counts and states, never who.
    app.click("[data-draw-open]").await;
    app.text_contains("[data-test=draw-tally]", "A01").await;
    let calls = app.text_contains("[data-test=draw-calls]", "待答复").await;
    assert!(!calls.contains("钱学明"), "{calls}");
    let store = ggzy_store::Store::open_read_only(&app.dir.path().join("ggzy.db"))
        .await
        .expect("the app's database");
    let drawn: Vec<String> = sqlx::query_scalar("SELECT expert_id FROM draw_calls ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .unwrap();
    store.close().await;
    let n = |id: &str| -> usize { id[1..].parse().unwrap() };
    let (first, second) = (n(&drawn[0]), n(&drawn[1]));

    // The first phones to decline, giving their number: the backup is called.
    app.click("[data-test=reply-open]").await;
    app.fill("[data-test=reply-who]", &format!("1395863{first:04}"))
        .await;
    app.click("[data-reply=decline]").await;
    app.click("[data-test=reply-submit]").await;
    app.text_contains("[data-call='4']", "待答复").await;
    app.text_contains("[data-call='1']", "不能参加").await;
    let calls = app.text_contains("[data-test=draw-calls]", "备选").await;
    assert!(!calls.contains("钱学明"), "{calls}");
    app.screenshot("draw-declined").await;

    // At the evaluation the second signs in by ID card: named to this staff.
    app.click("[data-test=signin-open]").await;
    app.fill(
        "[data-test=signin-id]",
        &id_number(&format!("33100219720303{second:03}")),
    )
    .await;
    app.click("[data-test=signin-submit]").await;
    app.text_contains("[data-test=signin-done]", &format!("钱学明{second}"))
        .await;
    app.screenshot("draw-signed-in").await;
    app.click("[data-test=signin-close]").await;
    app.text_contains("[data-call='2']", "已签到").await;

    // The printed record, on screen and as a PDF saved where chosen.
    app.click("[data-test=draw-print]").await;
    let record = app
        .text_contains("[data-test=draw-record]", &format!("钱学明{second}"))
        .await;
    assert!(
        record.contains("监督人") && record.contains("承诺值"),
        "{record}"
    );
    // By name and id: 钱学明1 is a prefix of 钱学明12.
    assert!(!record.contains(&format!("钱学明{first}（")), "{record}");
    app.screenshot("draw-record").await;
    let pdf = app.dir.path().join("record.pdf");
    app.click("[data-test=record-pdf]").await;
    app.save_in_file_dialog("导出专家抽取记录", &pdf).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !pdf.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no PDF written at {}",
            pdf.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let out = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("评标专家抽取记录") && text.contains(&format!("钱学明{second}")),
        "{text}"
    );
    app.stop().await;
}
