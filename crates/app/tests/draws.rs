//! A draw followed in the app: answers recorded by the number an expert
//! gives (staff never see who was called), a decline answered by a backup,
//! the page's counts, and the printed record as a real PDF read back with
//! poppler's `pdftotext` (not this crate): inputs, commitment, seed, each
//! call, the signatures block; identities only as the printer may see them.

mod common;
use common::*;
use ggzy_app::draws::DrawForm;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

const PROJECT: &str = "LH-2026-0105";

/// The text of a PDF as poppler reads it.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian package poppler-utils): `make deps` installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn answers_by_the_experts_number_a_backup_and_the_printed_record() {
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    save_experts(&app, 5).await;
    let form = DrawForm {
        duration_hours: 3.5,
        recent_days: Some(30),
        reply_minutes: Some(45),
        ..draw(2, 1, chrono::Local::now() + chrono::Duration::days(2))
    };
    let d = app.run_draw(PROJECT, form).await.unwrap();
    let calls: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, expert_id FROM draw_calls WHERE draw_id = ? ORDER BY seq")
            .bind(&d.id)
            .fetch_all(app.store().pool())
            .await
            .unwrap();
    let n = |id: &str| -> usize { id[1..].parse().unwrap() };
    let (first, second) = (n(&calls[0].1), n(&calls[1].1));

    // Only the drawing staff record answers.
    app.login("liuyang", DEMO_PASSWORD).await.unwrap();
    let e = app
        .reply_call(&d.id, &phone(first), false)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    // A number nobody called is named as such, and changes nothing.
    let e = app
        .reply_call(&d.id, "13000000000", false)
        .await
        .unwrap_err();
    assert!(e.message.contains("没有"), "{}", e.message);
    // The first declines by phone: the backup is called.
    let r = app.reply_call(&d.id, &phone(first), false).await.unwrap();
    assert_eq!((r.called, r.short.len()), (1, 0));
    // The second confirms, giving their ID number.
    app.reply_call(&d.id, &id_number(second), true)
        .await
        .unwrap();
    let view = app.draw_view(&d.id).await.unwrap();
    let t = &view.tally[0];
    assert_eq!(
        (t.called, t.confirmed, t.declined, t.waiting, t.backups_left),
        (3, 1, 1, 1, 0)
    );
    let states: Vec<(&str, bool)> = view
        .calls
        .iter()
        .map(|c| (c.state.as_str(), c.backup))
        .collect();
    assert_eq!(
        states,
        [("不能参加", false), ("确认参加", false), ("待答复", true)]
    );
    assert!(
        view.calls.iter().all(|c| c.expert.is_none()),
        "counts and states, never who"
    );
    assert_eq!(view.reply_minutes, 45);

    // The record before anyone signs in: everything but who.
    let text = pdf_text(&app.draw_record_pdf(&d.id).await.unwrap());
    for want in [
        "评标专家抽取记录",
        "灵江大桥",
        PROJECT,
        "三楼第二评标室",
        &d.commitment[..16],
        &d.seed.clone().unwrap()[..16],
        "不能参加",
        "确认参加",
        "待答复",
        "备选",
        "监督人",
        "评标组织人",
        "第 1 页",
    ] {
        assert!(
            text.contains(want),
            "{want} missing from the record:\n{text}"
        );
    }
    assert!(
        !text.contains("评审专家"),
        "who was called stays out:\n{text}"
    );
    assert!(text.contains("身份保密"), "{text}");

    // At the evaluation the second signs in: the record printed then names them.
    app.sign_in(&d.id, &id_number(second)).await.unwrap();
    let text = pdf_text(&app.draw_record_pdf(&d.id).await.unwrap());
    assert!(text.contains(&format!("评审专家{second}")), "{text}");
    assert!(!text.contains(&format!("评审专家{first}")), "{text}");
    assert!(text.contains("已签到"), "{text}");
}
