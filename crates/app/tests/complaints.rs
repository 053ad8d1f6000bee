//! 投诉 for the supervisor: every complaint with the clock of its decision
//! (30 working days from its own lodging time, on 2026's calendar), overdue
//! first; the days worked out by hand; only the supervisor may look.

mod common;
use common::*;
use ggzy_core::calendar::ClockState;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

fn lodged(id: &str, at: &str) -> String {
    format!(
        r#"{{"id":"l-{id}","type":"complaint.lodged","at":"{at}","complaint":{{"id":"{id}","channel":"suggestion_box","complainant":{{"id":"p-{id}","name":"林先生","phone":"13900000009"}},"subject":"未收到开标结果通知"}}}}"#
    )
}

#[tokio::test]
async fn the_supervisor_sees_each_complaint_with_its_clock_overdue_first() {
    let (app, _dir) = demo_app().await;
    let recent = (chrono::Local::now() - chrono::Duration::hours(2)).to_rfc3339();
    let lines = [
        lodged("T-RECENT", &recent),
        lodged("T-LATE", "2026-09-01T09:00:00+08:00"),
        lodged("T-DONE", "2026-09-30T10:00:00+08:00"),
        r#"{"id":"r-T-DONE","type":"complaint.resolved","at":"2026-10-12T10:00:00+08:00","complaint_id":"T-DONE","result":"已补发通知"}"#.to_owned(),
    ];
    let summary = app
        .store()
        .import(lines.join("\n").as_bytes(), "test", |_| {})
        .await
        .unwrap();
    assert_eq!(summary.accepted, 4, "{:?}", summary.refused);

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.complaints().await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let mine: Vec<_> = app
        .complaints()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.id.starts_with("T-"))
        .collect();
    let ids: Vec<&str> = mine.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["T-LATE", "T-RECENT", "T-DONE"]);
    // Lodged Tuesday 1 September: 30 working days, over the Mid-Autumn and
    // National Day holidays and the make-up 20 September and 10 October.
    assert_eq!(mine[0].due, "2026-10-19");
    assert!(
        matches!(mine[0].clock, Some(ClockState::Overdue { .. })),
        "{:?}",
        mine[0].clock
    );
    assert!(
        matches!(mine[1].clock, Some(ClockState::Running { left }) if left >= 28),
        "{:?}",
        mine[1].clock
    );
    // Resolved: 8, 9, 10 (make-up) and 12 October.
    assert_eq!((mine[2].clock, mine[2].took), (None, Some(4)));
    assert_eq!(mine[2].result.as_deref(), Some("已补发通知"));
    assert_eq!(mine[0].limit, "30 个工作日");

    // The supervisor's workbench counts them: the demo's open one (lodged
    // in October) and T-LATE are overdue, T-RECENT is open.
    let tasks = app.workbench().await.unwrap().tasks;
    let count = |kind: &str| tasks.iter().find(|t| t.kind == kind).map(|t| t.total);
    assert_eq!(
        (count("complaints_open"), count("complaints_overdue")),
        (Some(3), Some(2))
    );
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let tasks = app.workbench().await.unwrap().tasks;
    assert!(
        tasks.iter().all(|t| !t.kind.starts_with("complaints")),
        "center staff see no complaints"
    );
}
