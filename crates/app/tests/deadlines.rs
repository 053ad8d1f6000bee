//! The statutory steps center staff owe, on their workbench: the demo's
//! tender-notice materials waiting since a Friday night before a make-up
//! Saturday, and a contract filed before National Day with no deposit
//! refunded; the last days worked out by hand on 2026's calendar.

mod common;
use common::*;
use ggzy_store::demo::DEMO_PASSWORD;

#[tokio::test]
async fn late_refunds_and_verifications_are_on_the_center_staffs_workbench() {
    let (app, _dir) = demo_app().await;
    // LH-2026-0109's award is published; its contract filed Monday 28
    // September. Five days: 29, 30, 1, 2, 3 October — a holiday, so the
    // next working day, Thursday 8 October (第二百零三条).
    let contract = r#"{"id":"c-0109","type":"filing.submitted","at":"2026-09-28T10:00:00+08:00","project":"LH-2026-0109","stage":"contract"}"#;
    let summary = app
        .store()
        .import(contract.as_bytes(), "test", |_| {})
        .await
        .unwrap();
    assert_eq!(summary.accepted, 1, "{:?}", summary.refused);

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let tasks = app.workbench().await.unwrap().tasks;
    let late = tasks
        .iter()
        .find(|t| t.kind == "deadlines_overdue")
        .expect("the late group");
    let lines: Vec<(&str, &str)> = late
        .projects
        .iter()
        .map(|p| (p.code.as_str(), p.due.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let of = |code: &str| {
        lines
            .iter()
            .find(|l| l.0 == code)
            .map(|l| l.1)
            .unwrap_or_default()
    };
    // Submitted Friday 9 October, 23:18: one working day is Saturday the
    // 10th, a make-up working day.
    assert!(
        of("LH-2026-0104").starts_with("招标公告发布资料查验：逾期"),
        "{lines:?}"
    );
    assert!(
        of("LH-2026-0104").contains("2026-10-10 到期，1 个工作日"),
        "{lines:?}"
    );
    assert!(
        of("LH-2026-0109").starts_with("保证金退还：逾期"),
        "{lines:?}"
    );
    assert!(
        of("LH-2026-0109").contains("2026-10-08 到期，5 日"),
        "{lines:?}"
    );

    // Refunded: no longer owed.
    let refund = r#"{"id":"r-0109","type":"deposit.refunded","at":"2026-10-12T10:00:00+08:00","project":"LH-2026-0109"}"#;
    app.store()
        .import(refund.as_bytes(), "test", |_| {})
        .await
        .unwrap();
    let tasks = app.workbench().await.unwrap().tasks;
    let late = tasks
        .iter()
        .find(|t| t.kind == "deadlines_overdue")
        .unwrap();
    assert_eq!(late.total, 1);
    assert_eq!(late.projects[0].code, "LH-2026-0104");

    // The supervisor and the supervisory department see none of these.
    for who in ["chenjing", "wangfang"] {
        app.login(who, DEMO_PASSWORD).await.unwrap();
        let tasks = app.workbench().await.unwrap().tasks;
        assert!(
            tasks.iter().all(|t| !t.kind.starts_with("deadlines")),
            "{who}"
        );
    }
}
