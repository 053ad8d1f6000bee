//! 投诉 for the supervisor: every complaint with the clock of its decision
//! (30 working days from its own lodging time, on 2026's calendar), overdue
//! first; the days worked out by hand; only the supervisor may look.

mod common;
use common::*;
use ggzy_app::complaints::{ComplaintForm, ComplaintItem};
use ggzy_core::calendar::ClockState;
use ggzy_core::complaints::{ComplaintLimit, ComplaintState, StepKind};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::ComplaintChannel;
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
    let clock = |c: &ComplaintItem, limit| {
        c.clocks
            .iter()
            .find(|k| k.limit == limit)
            .map(|k| (k.due.clone(), k.state))
    };
    assert!(
        matches!(
            clock(&mine[0], ComplaintLimit::Decide),
            Some((_, ClockState::Overdue { .. }))
        ),
        "{:?}",
        mine[0].clocks
    );
    // Never accepted: its 3 working days to decide that ran out on 4 September.
    assert_eq!(
        clock(&mine[0], ComplaintLimit::Accept).map(|c| c.0),
        Some("2026-09-04".to_owned())
    );
    assert!(
        matches!(clock(&mine[1], ComplaintLimit::Decide), Some((_, ClockState::Running { left })) if left >= 28),
        "{:?}",
        mine[1].clocks
    );
    // Resolved: 8, 9, 10 (make-up) and 12 October.
    assert_eq!((mine[2].clocks.len(), mine[2].took), (0, Some(4)));
    assert_eq!(mine[2].result.as_deref(), Some("已补发通知"));
    assert_eq!(mine[2].state, ComplaintState::Decided);
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

/// A complaint taken by phone, from lodging to the 5.1.2 feedback: the
/// supervisors hear of it, one accepts it and hands it to a colleague, who
/// notes the investigation with a file kept under its SM3 and decides; the
/// complainant is told. Every step is the supervisor's alone, refused out
/// of order, and held to the audit trail.
#[tokio::test]
async fn a_complaint_goes_from_lodging_to_feedback_in_the_supervisors_hands() {
    let (app, _dir) = demo_app().await;
    // A second supervisor to hand it to.
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    app.add_staff_user(ggzy_app::admin::NewStaffUser {
        username: "sunli".into(),
        name: "孙丽".into(),
        role: ggzy_core::role::StaffRole::Supervisor,
        phone: None,
        email: None,
    })
    .await
    .unwrap();
    let form = ComplaintForm {
        channel: ComplaintChannel::Phone,
        name: "浙江宏远建设集团有限公司".into(),
        phone: Some("13957680001".into()),
        email: None,
        subject: "开标结果短信未收到".into(),
        project: Some("LH-2026-0101".into()),
    };

    // Center staff may neither lodge nor take any step.
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.lodge_complaint(form.clone()).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let before = app.inbox(None).await.unwrap().items.len();
    let id = app.lodge_complaint(form.clone()).await.unwrap();
    assert!(id.starts_with("TS-2026-"), "{id}");
    // Every supervisor is told, in their inbox.
    let inbox = app.inbox(None).await.unwrap().items;
    assert_eq!(inbox.len(), before + 1);
    assert!(
        inbox[0].text.contains("收到一件电话投诉") && inbox[0].text.contains(&id),
        "{}",
        inbox[0].text
    );

    // Out of order: a complaint is assigned once accepted, to a supervisor.
    let refused = app.assign_complaint(&id, "sunli").await.unwrap_err();
    assert!(refused.message.contains("尚未受理"), "{}", refused.message);
    let nobody = app
        .accept_complaint(&id, Some("zhangwei".into()))
        .await
        .unwrap_err();
    assert!(
        nobody.message.contains("不是在岗的投诉处理人员"),
        "{}",
        nobody.message
    );

    app.accept_complaint(&id, Some("sunli".into()))
        .await
        .unwrap();
    let detail = app.complaint(&id).await.unwrap();
    assert_eq!(detail.item.state, ComplaintState::Investigating);
    assert_eq!(detail.item.assignee.as_deref(), Some("孙丽"));
    assert_eq!(detail.steps[0].by, "陈静");
    // Accepted: only the decision's clock runs.
    let limits: Vec<_> = detail.item.clocks.iter().map(|c| c.limit).collect();
    assert_eq!(limits, [ComplaintLimit::Decide]);

    // A note of what was found, with a file.
    let receipt = "短信网关回执：2026-11-20 09:31 已提交，运营商未回执"
        .as_bytes()
        .to_vec();
    let done = app
        .note_complaint(
            &id,
            "调取了短信网关的提交记录。",
            vec![("回执.txt".into(), receipt.clone())],
        )
        .await
        .unwrap();
    assert_eq!(done.pushes, 0);
    let detail = app.complaint(&id).await.unwrap();
    let StepKind::Noted { files, note } = &detail.steps[1].what else {
        panic!("{:?}", detail.steps[1].what)
    };
    assert_eq!(note, "调取了短信网关的提交记录。");
    let sm3 = ggzy_core::audit::sm3_hex(&receipt);
    assert_eq!(
        (files[0].name.as_str(), files[0].sm3.as_str()),
        ("回执.txt", sm3.as_str())
    );
    assert_eq!(detail.steps[1].kept, std::slice::from_ref(&sm3));
    assert_eq!(app.complaint_file(&sm3).await.unwrap(), receipt);
    // A note with neither words nor files is refused, naming what is missing.
    let empty = app.note_complaint(&id, "  ", Vec::new()).await.unwrap_err();
    assert!(
        empty.message.contains("须有文字或附件"),
        "{}",
        empty.message
    );

    let decided = app
        .decide_complaint(&id, "经核实系运营商通道拥堵，已补发并约谈服务商。")
        .await
        .unwrap();
    assert_eq!(decided.pushes, 1, "the 5.1.2 feedback, by SMS");
    let detail = app.complaint(&id).await.unwrap();
    assert_eq!(detail.item.state, ComplaintState::Decided);
    assert!(detail.item.clocks.is_empty());
    assert_eq!(detail.feedback.len(), 1);
    assert_eq!(detail.feedback[0].rule, "5.1.2");
    assert_eq!(detail.feedback[0].address, "13957680001");
    // Closed: nothing more is taken.
    let closed = app
        .note_complaint(&id, "补记", Vec::new())
        .await
        .unwrap_err();
    assert!(closed.message.contains("已办结"), "{}", closed.message);

    // Center staff can fetch no file either.
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.complaint_file(&sm3).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        app.complaint(&id).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    // The trail holds: then a kept file changed by a byte is named.
    let verdict = app.store().verify_audit(|_, _| {}).await.unwrap();
    assert!(verdict.broken.is_none(), "{:?}", verdict.broken);
    change_a_byte(&_dir.path().join("ggzy.db"), &sm3).await;
    let verdict = app.store().verify_audit(|_, _| {}).await.unwrap();
    let broken = verdict.broken.expect("a changed file is found");
    assert!(broken.to_string().contains("complaint_files"), "{broken}");
}

/// Change one byte of a kept file behind the app's back, as someone with
/// the database file could.
async fn change_a_byte(db: &std::path::Path, sm3: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE complaint_files SET bytes = CAST(replace(CAST(bytes AS TEXT), '未', '末') AS BLOB) WHERE sm3 = ?")
        .bind(sm3)
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A refused complaint tells the complainant why; the reminders fire on
/// the right working day, to the assignee before the last day and to every
/// supervisor after it, each once.
#[tokio::test]
async fn refusals_are_told_and_clocks_remind_on_the_right_day() {
    let (app, _dir) = demo_app().await;
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let line = |id: &str, at: &str| lodged(id, at);
    let summary = app
        .store()
        .import(
            [
                line("R-1", "2026-09-23T10:00:00+08:00"),
                line("R-2", "2026-09-23T10:00:00+08:00"),
            ]
            .join("\n")
            .as_bytes(),
            "test",
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(summary.accepted, 2, "{:?}", summary.refused);

    let no_reason = app.refuse_complaint("R-2", " ").await.unwrap_err();
    assert!(
        no_reason.message.contains("必须写明理由"),
        "{}",
        no_reason.message
    );
    let told = app
        .refuse_complaint("R-2", "所反映事项已由行政监督部门处理")
        .await
        .unwrap();
    assert_eq!(told.pushes, 1);
    let r2 = app.complaint("R-2").await.unwrap();
    assert_eq!(r2.item.state, ComplaintState::Refused);
    assert_eq!(
        r2.refusal.as_deref(),
        Some("所反映事项已由行政监督部门处理")
    );
    assert_eq!(r2.feedback[0].rule, "refused");
    let decide = app.decide_complaint("R-2", "x").await.unwrap_err();
    assert!(decide.message.contains("不予受理"), "{}", decide.message);

    // R-1, lodged the Wednesday before Mid-Autumn: whether to accept it is
    // due 29 September (24, 28, 29). On the 25th (a holiday) nothing yet.
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let store = app.store();
    assert_eq!(
        store
            .remind_complaints(at("2026-09-25T09:00:00+08:00"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .remind_complaints(at("2026-09-28T09:00:00+08:00"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .remind_complaints(at("2026-09-28T15:00:00+08:00"))
            .await
            .unwrap(),
        0,
        "once"
    );
    assert_eq!(
        store
            .remind_complaints(at("2026-09-30T09:00:00+08:00"))
            .await
            .unwrap(),
        1
    );
    let reminded: Vec<_> = app
        .complaint("R-1")
        .await
        .unwrap()
        .steps
        .into_iter()
        .filter_map(|s| match s.what {
            StepKind::Reminded {
                limit,
                due,
                overdue,
            } => Some((limit, due.to_string(), overdue)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reminded,
        [
            (ComplaintLimit::Accept, "2026-09-29".to_owned(), false),
            (ComplaintLimit::Accept, "2026-09-29".to_owned(), true)
        ]
    );
    // Nobody assigned yet: both went to every supervisor (the demo's one).
    let inbox = app.inbox(None).await.unwrap().items;
    let texts: Vec<&str> = inbox
        .iter()
        .filter(|p| p.rule == "remind")
        .map(|p| p.text.as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("受理决定期限已于 2026-09-29 届满，现已逾期")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("受理决定期限将于 2026-09-29 届满")),
        "{texts:?}"
    );
    // Each reminder is one event whenever and wherever it is made: a run
    // later the same day writes the very same line, and nothing is refused.
    let rejects = app.store().rejects(true).await.unwrap();
    assert!(rejects.is_empty(), "{rejects:?}");
    // The trail holds with the reminders in it.
    let verdict = app.store().verify_audit(|_, _| {}).await.unwrap();
    assert!(verdict.broken.is_none(), "{:?}", verdict.broken);
}
