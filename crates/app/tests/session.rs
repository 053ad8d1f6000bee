//! The app's commands on a real SQLite file, no window: who may do what.

use ggzy_app::projects::ProjectQuery;
use ggzy_app::{App, ANY_ROLE};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{Outcome, Stage};
use ggzy_core::materials::{CheckedItem, Verdict};
use ggzy_core::role::StaffRole;
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::users::NewUser;
use ggzy_store::Store;

/// A file imported as the window does it: chosen in the dialog (the shell
/// registers the choice), then imported by the handle the page got back.
async fn import(
    app: &App,
    path: impl AsRef<std::path::Path>,
    progress: impl FnMut(ggzy_app::import::ImportProgress),
) -> ggzy_app::Result<ggzy_app::import::ImportReport> {
    let chosen = app.chosen_file(path.as_ref().to_owned()).await?;
    app.import_file(&chosen.handle, progress).await
}

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

#[tokio::test]
async fn nothing_but_login_works_before_login() {
    let (app, _dir) = demo_app().await;
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
    let err = app.login("zhangwei", "wrong").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BadCredentials);
    assert!(app.session().await.is_none());

    let s = app.login(" zhangwei ", DEMO_PASSWORD).await.unwrap();
    assert_eq!((s.name.as_str(), s.role), ("张伟", StaffRole::CenterStaff));
    assert_eq!(s.role_name, "中心工作人员");
    let wb = app.workbench().await.unwrap();
    assert_eq!(wb.projects, 12, "the demo center's projects");
    assert!(wb.pushes_queued > 0);
    assert_eq!(wb.recent[0].kind, "user.login", "{:?}", wb.recent[0]);
    assert_eq!(wb.recent[0].subject, "zhangwei");

    app.logout();
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
}

/// Every command reads the person again: an admin's change on another
/// desktop (here another app on the same database) applies at once.
#[tokio::test]
async fn a_disabled_or_demoted_person_loses_their_rights_at_once() {
    use ggzy_app::admin::StaffUserChange;
    let (app, dir) = demo_app().await;
    let admin = App::new(Store::open(&dir.path().join("ggzy.db")).await.unwrap());
    admin.login("admin", DEMO_PASSWORD).await.unwrap();
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert!(app.staff_users().await.is_err());
    app.projects(ProjectQuery::default()).await.unwrap();

    let change = |role, active| StaffUserChange {
        role,
        active,
        reset_password: false,
    };
    admin
        .change_staff_user("zhangwei", change(Some(StaffRole::SupervisorStaff), None))
        .await
        .unwrap();
    let err = app
        .require(&[StaffRole::CenterStaff], "登记项目")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "demoted: {}", err.message);
    assert_eq!(
        app.session().await.unwrap().role,
        StaffRole::SupervisorStaff
    );

    admin
        .change_staff_user("zhangwei", change(None, Some(false)))
        .await
        .unwrap();
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
    assert!(app.session().await.is_none(), "logged out for good");
}

/// A session idle longer than the center allows ends; what the window asks
/// by itself (the unread count) does not keep it alive; work does.
#[tokio::test]
async fn an_idle_session_ends_and_polls_do_not_keep_it_alive() {
    use std::time::Duration;
    let min = |m: u64| Duration::from_secs(60 * m);
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    app.age_session(min(10));
    app.workbench().await.unwrap();
    app.age_session(min(10));
    app.inbox_unread().await.unwrap();
    app.age_session(min(6));
    let err = app.workbench().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionExpired, "{}", err.message);
    assert!(err.message.contains("15 分钟"), "{}", err.message);
    // Whatever asks next (the window's poll came first) hears the same.
    assert_eq!(
        app.inbox_unread().await.unwrap_err().code,
        ErrorCode::SessionExpired
    );
    assert!(app.session().await.is_none());
    app.logout();
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        ErrorCode::NotLoggedIn
    );

    // The center allows 30 minutes: 20 away is fine.
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    app.store()
        .set_setting("session_idle_minutes", "30", "admin")
        .await
        .unwrap();
    app.age_session(min(20));
    app.workbench().await.unwrap();
    for bad in ["0", "481", "半小时"] {
        let err = app
            .store()
            .set_setting("session_idle_minutes", bad, "admin")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("1–480"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_role_is_checked_by_the_backend() {
    let (app, _dir) = demo_app().await;
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let err = app
        .require(&[StaffRole::CenterStaff], "登记项目")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert!(err.message.contains("登记项目"), "{}", err.message);
    assert!(app.require(ANY_ROLE, "查看").await.is_ok());
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_first() {
    let (app, _dir) = demo_app().await;
    let one_time = app
        .store()
        .add_user(
            NewUser {
                username: "xiaozhou".into(),
                name: "周晓".into(),
                role: StaffRole::CenterStaff,
                phone: None,
                email: None,
                password: None,
            },
            "admin",
        )
        .await
        .unwrap()
        .unwrap();
    let s = app.login("xiaozhou", &one_time).await.unwrap();
    assert!(s.must_change_password);
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        ErrorCode::MustChangePassword
    );
    let s = app
        .change_password(&one_time, "新的密码 2026")
        .await
        .unwrap();
    assert!(!s.must_change_password);
    app.workbench().await.unwrap();
}

#[tokio::test]
async fn projects_are_searched_paged_and_traced() {
    let (app, _dir) = demo_app().await;
    assert_eq!(
        app.projects(ProjectQuery {
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap_err()
        .code,
        ErrorCode::NotLoggedIn
    );
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();

    let all = app
        .projects(ProjectQuery {
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((all.total, all.items.len()), (12, 12));
    // A search matches code or name; LIKE's wildcards are taken literally.
    let hit = app
        .projects(ProjectQuery {
            query: Some("0110".into()),
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hit.total, 1);
    assert_eq!(hit.items[0].code, "LH-2026-0110");
    assert_eq!(
        app.projects(ProjectQuery {
            query: Some("%".into()),
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .total,
        0
    );
    // Past the last page: nothing, but the total still says how many.
    let beyond = app
        .projects(ProjectQuery {
            page: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (12, 0));

    let detail = app.project("LH-2026-0110").await.unwrap();
    assert_eq!(detail.project.code, "LH-2026-0110");
    assert_eq!(detail.events.len() as i64, detail.project.events);
    let registered = &detail.events[0];
    assert_eq!(registered.kind, "project.registered");
    assert!(
        !registered.pushes.is_empty(),
        "4.2 pushes to tenderer and agency"
    );
    let push = &registered.pushes[0];
    assert_eq!(push.clause, "4.2");
    assert!(push.text.contains(&detail.project.name), "{}", push.text);
    assert_eq!(
        app.project("NOPE").await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

fn party(id: &str, name: &str, phone: &str) -> ggzy_app::actions::PartyInput {
    ggzy_app::actions::PartyInput {
        id: id.into(),
        name: name.into(),
        phone: Some(phone.into()),
        email: None,
        prefer: None,
    }
}

#[tokio::test]
async fn actions_follow_the_standard_and_the_roles() {
    use ggzy_app::actions::Action;
    let (app, _dir) = demo_app().await;
    let register = Action::RegisterProject {
        project: "LH-2026-0500".into(),
        name: "临海市东湖公园改造工程".into(),
        tenderer: party("T500", "临海市园林局", "0576-85000500"),
        agency: party("A500", "浙江临海招标代理有限公司", "13800000500"),
    };
    // Supervisory staff may not register a project: refused by the backend.
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.act(register.clone()).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let before = app.store().overview().await.unwrap();
    let done = app.act(register).await.unwrap();
    assert_eq!(done.pushes, 2, "4.2: tenderer and agency");
    // Materials before the filing passed: refused, naming the clause, nothing kept.
    let early = Action::SubmitMaterials {
        project: "LH-2026-0500".into(),
        stage: Stage::TenderNotice,
        round: None,
    };
    // Asked while the form is open: why not, before anything is sent.
    let why = app
        .check_action(early.clone())
        .await
        .unwrap()
        .expect("not allowed yet");
    assert!(why.contains("4.4.3"), "{why}");
    let publish_blank = Action::Publish {
        project: "LH-2026-0500".into(),
        stage: Stage::Consultation,
        round: None,
        url: String::new(),
    };
    let why = app
        .check_action(publish_blank)
        .await
        .unwrap()
        .expect("materials first");
    assert!(why.contains("4.3"), "the order, not the blank URL: {why}");
    let err = app.act(early.clone()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused);
    assert!(err.message.contains("4.4.3"), "{}", err.message);
    let after = app.store().overview().await.unwrap();
    assert_eq!(
        after.rejects_open, before.rejects_open,
        "a refused form leaves no reject"
    );
    assert_eq!(after.projects, before.projects + 1);

    let stage = || Stage::TenderNotice;
    let project = || "LH-2026-0500".to_owned();
    app.act(Action::SubmitFiling {
        project: project(),
        stage: stage(),
        round: None,
        winner: None,
    })
    .await
    .unwrap();
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let no_opinion = Action::ReviewFiling {
        project: project(),
        stage: stage(),
        round: None,
        outcome: Outcome::Rejected,
        opinion: None,
    };
    assert_eq!(
        app.act(no_opinion).await.unwrap_err().code,
        ErrorCode::Refused
    );
    app.act(Action::ReviewFiling {
        project: project(),
        stage: stage(),
        round: None,
        outcome: Outcome::Passed,
        opinion: None,
    })
    .await
    .unwrap();

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(app.check_action(early.clone()).await.unwrap(), None);
    app.act(early.clone()).await.unwrap();
    let verdict = |outcome, reason: Option<&str>| Action::VerifyMaterials {
        project: project(),
        stage: stage(),
        round: None,
        outcome,
        reason: reason.map(str::to_owned),
        checklist: vec![CheckedItem {
            item: "附件齐全，能正常打开".into(),
            ok: outcome == Verdict::Passed,
            remark: reason.map(str::to_owned),
        }],
    };
    let publish = || Action::Publish {
        project: project(),
        stage: stage(),
        round: None,
        url: "https://ggzy.linhai.gov.cn/notice/500".into(),
    };
    // Returned: the parties are told why, and publication is refused
    // until a resubmission passes.
    let returned = app
        .act(verdict(Verdict::Returned, Some("附件无法打开")))
        .await
        .unwrap();
    assert_eq!(returned.pushes, 2, "the tenderer and the agency");
    let err = app.act(publish()).await.unwrap_err();
    assert!(
        err.message.contains("4.4.4") && err.message.contains("已退回"),
        "{}",
        err.message
    );
    app.act(early).await.unwrap();
    app.act(verdict(Verdict::Passed, None)).await.unwrap();
    app.act(publish()).await.unwrap();
    let trace = app.project("LH-2026-0500").await.unwrap();
    let clauses: Vec<&str> = trace
        .events
        .iter()
        .flat_map(|e| e.pushes.iter().map(|p| p.clause.as_str()))
        .collect();
    for c in ["4.2", "4.4.1", "4.4.2", "4.4.3", "returned", "4.4.4"] {
        assert!(clauses.contains(&c), "{c} in {clauses:?}");
    }
    assert!(trace.events.iter().all(|e| e.source.starts_with("app:")));
    assert_eq!(
        app.store().verify_audit(|_, _| {}).await.unwrap().broken,
        None
    );
}

#[tokio::test]
async fn the_push_log_pages_and_the_inbox_tells_once() {
    use ggzy_app::pushes::PushLogQuery;
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();

    // Newest first, by pages that do not overlap.
    let first = app.push_log(PushLogQuery::default()).await.unwrap();
    assert_eq!(first.items.len(), 20);
    let second = app
        .push_log(PushLogQuery {
            before: first.next_before,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(second
        .items
        .iter()
        .all(|p| !first.items.iter().any(|q| q.id == p.id)));
    let by_clause = app
        .push_log(PushLogQuery {
            clause: Some("4.2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!by_clause.items.is_empty() && by_clause.items.iter().all(|p| p.clause == "4.2"));
    let one_project = app
        .push_log(PushLogQuery {
            clause: Some("4.2".into()),
            project: Some("LH-2026-0110".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one_project.items.len(), 2, "tenderer and agency");
    assert_eq!(one_project.next_before, None, "one page holds them all");
    let bad = PushLogQuery {
        from: Some("2026-13-01".into()),
        ..Default::default()
    };
    assert_eq!(
        app.push_log(bad).await.unwrap_err().code,
        ErrorCode::InvalidDate
    );

    // Center staff get pushes of their own (e.g. 4.2's notice to staff, if any, or 4.4.3);
    // the first look raises one notice, and reading the inbox clears the count.
    let unread = app.inbox_unread().await.unwrap();
    assert!(unread > 0, "the demo center has pushes to 张伟");
    let notice = app.inbox_notice().await.unwrap().expect("a notice");
    assert!(
        notice.body.contains(&format!("{unread} 条未读消息")),
        "{}",
        notice.body
    );
    assert_eq!(app.inbox_notice().await.unwrap(), None, "told once");
    let inbox = app.inbox(None).await.unwrap();
    assert!(inbox.items.iter().all(|p| p.recipient_id == "zhangwei"));
    assert_eq!(app.inbox_unread().await.unwrap(), 0);
}

#[tokio::test]
async fn a_failed_push_is_put_back_in_line_by_center_staff_only() {
    use ggzy_store::outbox::Attempt;
    let (app, _dir) = demo_app().await;
    let claimed = app.store().claim_due(2, 60).await.unwrap();
    let (dead, sending) = (claimed[0].push.no, claimed[1].push.no);
    app.store()
        .finish(dead, Attempt::Dead, "gateway said no", None)
        .await
        .unwrap();

    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.requeue(dead).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.requeue(sending).await.unwrap_err().code,
        ErrorCode::NotFailed
    );
    app.requeue(dead).await.unwrap();
    // Due at once: the next claim takes it again.
    let again = app.store().claim_due(10, 60).await.unwrap();
    assert!(again.iter().any(|c| c.push.no == dead));
    assert_eq!(
        app.store().verify_audit(|_, _| {}).await.unwrap().broken,
        None
    );
}

#[tokio::test]
async fn the_audit_trail_is_verified_with_progress() {
    let (app, dir) = demo_app().await;
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let mut seen = Vec::new();
    let report = app.verify_audit(|p| seen.push(p)).await.unwrap();
    assert!(report.intact, "{:?}", report.broken);
    assert!(report.events > 0 && report.pushes > 0);
    let last = seen.last().expect("progress was reported");
    assert_eq!((last.done, last.total), (report.records, report.records));

    // Altered by hand: the report names the record.
    sqlx::query("DROP TRIGGER audit_records_no_update")
        .execute(app.store().pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit_records SET content = replace(content, 'demo', 'dem0') WHERE seq = 20",
    )
    .execute(app.store().pool())
    .await
    .unwrap();
    let report = app.verify_audit(|_| {}).await.unwrap();
    assert!(!report.intact);
    assert_eq!(report.broken_seq, Some(20), "{:?}", report.broken);
    drop(dir);
}

#[tokio::test]
async fn the_audit_head_is_shown_as_the_line_verify_holds_the_chain_to() {
    let (app, _dir) = demo_app().await;
    assert_eq!(
        app.audit_head().await.unwrap_err().code,
        ErrorCode::NotLoggedIn
    );
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let head = app.audit_head().await.unwrap();
    // The login itself is the last record.
    let stored = app.store().audit_head().await.unwrap();
    assert_eq!(head.line, stored.to_string());
    assert_eq!(head.line, format!("{}:{}", head.seq, head.hash));
    let held = head.line.parse().unwrap();
    let v = app
        .store()
        .verify_audit_expecting(Some(held), |_, _| {})
        .await
        .unwrap();
    assert_eq!(v.broken, None);
}

#[tokio::test]
async fn admins_set_the_daily_anchor_and_send_one_now() {
    use ggzy_app::audit::AnchorSettings;
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.anchor_settings().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        app.anchor_now().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let unset = app.anchor_settings().await.unwrap();
    assert_eq!(unset.time, "17:30");
    assert_eq!(
        app.anchor_now().await.unwrap_err().code,
        ErrorCode::NoAnchorRecipients
    );

    let bad = AnchorSettings {
        time: "18:00".into(),
        recipients: "王科长".into(),
    };
    let err = app.save_anchor_settings(bad).await.unwrap_err();
    assert!(err.message.contains("第 1 行"), "{}", err.message);
    assert_eq!(
        app.anchor_settings().await.unwrap(),
        unset,
        "nothing half-applied"
    );
    let set = AnchorSettings {
        time: "18:00".into(),
        recipients: "王科长 13800000001".into(),
    };
    assert_eq!(app.save_anchor_settings(set.clone()).await.unwrap(), set);
    let head = app.audit_head().await.unwrap();
    let sent = app.anchor_now().await.unwrap();
    assert_eq!((sent.head.as_str(), sent.pushes), (head.line.as_str(), 1));
}

#[tokio::test]
async fn admins_keep_the_center_and_its_staff() {
    use ggzy_app::admin::{CenterSettings, NewStaffUser};
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.staff_users().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("admin", DEMO_PASSWORD).await.unwrap();

    let before = app.center_settings().await.unwrap();
    let bad = CenterSettings {
        center_name: "新名称".into(),
        center_phone: "不是电话".into(),
        session_idle_minutes: 15,
    };
    assert_eq!(
        app.save_center_settings(bad).await.unwrap_err().code,
        ErrorCode::InvalidSetting
    );
    assert_eq!(
        app.center_settings().await.unwrap(),
        before,
        "nothing half-applied"
    );
    let saved = app
        .save_center_settings(CenterSettings {
            center_name: before.center_name.clone(),
            center_phone: "0576-85119999".into(),
            session_idle_minutes: 20,
        })
        .await
        .unwrap();
    assert_eq!(saved.center_phone, "0576-85119999");

    let one_time = app
        .add_staff_user(NewStaffUser {
            username: "zhoujie".into(),
            name: "周杰".into(),
            role: StaffRole::CenterStaff,
            phone: Some("13857610009".into()),
            email: None,
        })
        .await
        .unwrap();
    let users = app.staff_users().await.unwrap();
    let u = users.iter().find(|u| u.username == "zhoujie").unwrap();
    assert!(u.must_change_password && u.role_name == "中心工作人员");
    assert!(
        app.login("zhoujie", &one_time)
            .await
            .unwrap()
            .must_change_password
    );
}

fn intake_line(id: &str, kind: &str, project: &str, fields: serde_json::Value) -> String {
    let mut e = serde_json::json!({"id": id, "type": kind, "at": "2026-11-27T09:30:00+08:00", "project": project});
    for (k, v) in fields.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string()
}

fn register_line(id: &str, project: &str) -> String {
    intake_line(
        id,
        "project.registered",
        project,
        serde_json::json!({"name": format!("{project} 工程"),
            "tenderer": {"id": "T9", "name": "招标人", "phone": "0576-85000001"},
            "agency": {"id": "A9", "name": "代理机构", "email": "a@agency.cn"}}),
    )
}

fn bidder_line(id: &str, project: &str) -> String {
    intake_line(
        id,
        "project.bidder_added",
        project,
        serde_json::json!({"bidder": {"id": "B9", "name": "投标人", "phone": "13800000009"}}),
    )
}

/// A person imports only what their role records: center staff cannot pass
/// a filing by importing its review, the supervisory department's alone.
#[tokio::test]
async fn an_import_carries_only_the_event_types_the_person_records() {
    let (app, dir) = demo_app().await;
    let file = dir.path().join("review.jsonl");
    let review = intake_line(
        "rv-1",
        "filing.reviewed",
        "RV-001",
        serde_json::json!({"stage": "tender_notice", "outcome": "passed"}),
    );
    let lines = [
        register_line("rv-0", "RV-001"),
        intake_line(
            "rv-s",
            "filing.submitted",
            "RV-001",
            serde_json::json!({"stage": "tender_notice"}),
        ),
        review.clone(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let pending = || async {
        sqlx::query_scalar::<_, bool>("SELECT filing_pending FROM projects WHERE code = 'RV-001'")
            .fetch_one(app.store().pool())
            .await
            .unwrap()
    };

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let report = import(&app, &file, |_| {}).await.unwrap();
    assert_eq!((report.accepted, report.refused_total), (2, 1));
    let refused = &report.refused[0];
    assert_eq!((refused.line, refused.code.as_str()), (3, "not_yours"));
    assert!(
        refused.message.contains("行政监督部门工作人员")
            && refused.message.contains("中心工作人员"),
        "{}",
        refused.message
    );
    assert!(
        pending().await,
        "the filing is still waiting for its review"
    );
    // Retried by the same person: still theirs to leave.
    assert_eq!(app.retry_rejects().await.unwrap().still_refused, 1);
    assert!(pending().await);

    // The supervisory staff's own import takes it.
    let own = dir.path().join("own.jsonl");
    std::fs::write(&own, &review).unwrap();
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        import(&app, &own, |_| {}).await.unwrap_err().code,
        ErrorCode::Forbidden,
        "supervisory staff do not import (IMPORTERS)"
    );
    // The system intake (an operator's `ggzy rejects retry`) takes every type.
    let s = app.store().retry_rejects(None).await.unwrap();
    assert_eq!(s.accepted, 1);
    assert!(!pending().await);
}

#[tokio::test]
async fn a_file_is_imported_and_its_refused_lines_fixed_and_retried() {
    let (app, dir) = demo_app().await;
    let file = dir.path().join("收到的事件.jsonl");
    let lines = [
        register_line("imp-1", "IMP-001"),
        String::new(), // blank lines are skipped, but counted
        bidder_line("imp-2", "IMP-009"),
        "{\"id\": \"imp-3\", \"type\":".to_owned(),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let path = file.to_str().unwrap();

    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        import(&app, path, |_| {}).await.unwrap_err().code,
        ErrorCode::Forbidden,
        "supervisory staff do not import"
    );
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let missing = import(&app, "/nowhere/events.jsonl", |_| {})
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::ReadFailed);
    assert!(
        missing.message.contains("/nowhere/events.jsonl"),
        "{}",
        missing.message
    );

    // Only a file chosen in the dialog is read: never a path the page sends,
    // nor a choice used up, nor another person's.
    for handle in [path, "", "../../etc/passwd"] {
        let err = app.import_file(handle, |_| {}).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotChosen, "{handle}: {}", err.message);
    }
    let chosen = app.chosen_file(file.clone()).await.unwrap();
    assert_eq!(chosen.name, "收到的事件.jsonl");
    app.login("lina", DEMO_PASSWORD).await.unwrap();
    let err = app.import_file(&chosen.handle, |_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotChosen, "another person's choice");
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();

    let mut heard = Vec::new();
    let chosen = app.chosen_file(file.clone()).await.unwrap();
    let report = app
        .import_file(&chosen.handle, |p| heard.push(p))
        .await
        .unwrap();
    let err = app.import_file(&chosen.handle, |_| {}).await.unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::NotChosen,
        "a choice is good for one import"
    );
    assert_eq!(
        (
            report.lines,
            report.accepted,
            report.duplicates,
            report.refused_total
        ),
        (3, 1, 0, 2)
    );
    assert!(
        report.pushes > 0,
        "a registration tells the tenderer and agency"
    );
    let last = heard.last().unwrap();
    assert_eq!(last.bytes_done, last.bytes_total);
    assert_eq!(last.bytes_total, std::fs::metadata(&file).unwrap().len());
    let refused: Vec<_> = report
        .refused
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(refused, [(3, "unknown_project"), (4, "malformed")]);
    assert!(
        report.refused[0].message.contains("IMP-009"),
        "{}",
        report.refused[0].message
    );

    // The same file again changes nothing.
    let again = import(&app, path, |_| {}).await.unwrap();
    assert_eq!(
        (again.accepted, again.duplicates, again.refused_total),
        (0, 1, 2)
    );
    let open = app.rejects(0).await.unwrap();
    assert_eq!(open.total, 2);
    assert_eq!(open.items[0].source, "app:zhangwei import:收到的事件.jsonl");
    let malformed = &open.items[1];
    assert_eq!(malformed.raw, lines[3]);

    // A correction still wrong: the reason comes back, nothing is kept.
    let err = app
        .fix_reject(malformed.id, &bidder_line("imp-3", "IMP-404"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused);
    assert!(err.message.contains("IMP-404"), "{}", err.message);
    assert_eq!(app.rejects(0).await.unwrap().total, 2);
    // Corrected: taken, and the reject is resolved by it.
    let id = app
        .fix_reject(malformed.id, &bidder_line("imp-3", "IMP-001"))
        .await
        .unwrap();
    assert_eq!(id, "imp-3");
    let open = app.rejects(0).await.unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(
        app.fix_reject(malformed.id, &bidder_line("imp-3", "IMP-001"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::RejectNotOpen
    );

    // The cause of the other one fixed elsewhere: a retry takes it.
    let r = app.retry_rejects().await.unwrap();
    assert_eq!((r.accepted, r.still_refused), (0, 1));
    import(&app, path, |_| {}).await.unwrap();
    let fixed = dir.path().join("补登.jsonl");
    std::fs::write(&fixed, register_line("imp-4", "IMP-009")).unwrap();
    let report = import(&app, &fixed, |_| {}).await.unwrap();
    assert_eq!(report.accepted, 1);
    let r = app.retry_rejects().await.unwrap();
    assert_eq!((r.accepted, r.still_refused), (1, 0));
    assert_eq!(app.rejects(0).await.unwrap().total, 0);
    assert!(app.workbench().await.unwrap().rejects_open == 0);
    let detail = app.project("IMP-009").await.unwrap();
    let parties: Vec<_> = detail
        .parties
        .iter()
        .map(|p| (p.role_name.as_str(), p.id.as_str()))
        .collect();
    assert_eq!(
        parties,
        [("招标人", "T9"), ("招标代理机构", "A9"), ("投标人", "B9")],
        "in order of arrival, for the award's winner to be picked from"
    );
    assert_eq!(detail.events.len(), 2, "registered, then the bidder");
    assert!(app
        .store()
        .verify_audit(|_, _| {})
        .await
        .unwrap()
        .broken
        .is_none());
}

#[tokio::test]
async fn an_admin_changes_a_role_disables_and_unlocks_a_colleague() {
    use ggzy_app::admin::StaffUserChange;
    let (app, _dir) = demo_app().await;
    let change = |role, active, reset_password| StaffUserChange {
        role,
        active,
        reset_password,
    };
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.change_staff_user("wangfang", change(Some(StaffRole::Admin), None, false))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // Locked out by wrong passwords.
    for _ in 0..5 {
        app.login("zhangwei", "wrong").await.unwrap_err();
    }
    assert_eq!(
        app.login("zhangwei", DEMO_PASSWORD).await.unwrap_err().code,
        ErrorCode::BadCredentials,
        "locked, and told no more than a wrong password is"
    );

    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let find = |users: Vec<ggzy_app::admin::StaffUser>, name: &str| {
        users.into_iter().find(|u| u.username == name).unwrap()
    };
    assert!(find(app.staff_users().await.unwrap(), "zhangwei").locked);
    assert_eq!(
        app.change_staff_user("admin", change(None, Some(false), false))
            .await
            .unwrap_err()
            .code,
        ErrorCode::OwnAccount,
        "an admin cannot lock themselves out"
    );
    assert_eq!(
        app.change_staff_user("nobody", change(None, Some(false), false))
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.change_staff_user(
            "zhangwei",
            change(Some(StaffRole::CenterStaff), Some(true), false)
        )
        .await
        .unwrap_err()
        .code,
        ErrorCode::NothingChanged
    );

    // A new one-time password unlocks the account.
    let one_time = app
        .change_staff_user("zhangwei", change(None, None, true))
        .await
        .unwrap()
        .unwrap();
    let u = find(app.staff_users().await.unwrap(), "zhangwei");
    assert!(!u.locked && u.must_change_password);

    // Supervisory staff made supervisor (complaints): out of the filing pushes.
    assert!(app
        .change_staff_user("wangfang", change(Some(StaffRole::Supervisor), None, false))
        .await
        .unwrap()
        .is_none());
    let u = find(app.staff_users().await.unwrap(), "wangfang");
    assert_eq!(u.role_name, "监督（投诉处理）人员");
    let s = app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(s.role, StaffRole::Supervisor);

    app.login("admin", DEMO_PASSWORD).await.unwrap();
    app.change_staff_user("wangfang", change(None, Some(false), false))
        .await
        .unwrap();
    assert_eq!(
        app.login("wangfang", DEMO_PASSWORD).await.unwrap_err().code,
        ErrorCode::BadCredentials,
        "disabled, and told no more than a wrong password is"
    );
    let s = app.login("zhangwei", &one_time).await.unwrap();
    assert!(s.must_change_password);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_trail WHERE kind = 'user.changed' ORDER BY seq")
            .fetch_all(app.store().pool())
            .await
            .unwrap();
    assert!(kinds.len() >= 3, "{kinds:?}");
    assert!(app
        .store()
        .verify_audit(|_, _| {})
        .await
        .unwrap()
        .broken
        .is_none());
}

#[tokio::test]
async fn every_clause_previews_with_the_centers_name_and_phone() {
    let (app, _dir) = demo_app().await;
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let center = app.center_settings().await.unwrap();
    let previews = app.template_previews().await.unwrap();
    assert_eq!(previews.len(), ggzy_core::catalog::CATALOG.len());
    for p in &previews {
        assert!(!p.samples.is_empty(), "{} reaches someone", p.rule);
        for s in &p.samples {
            assert!(
                s.text.starts_with(&format!("【{}】", center.center_name)),
                "{}",
                s.text
            );
            assert!(s.text.contains(&center.center_phone), "{}", s.text);
            assert!(!s.text.contains('{'), "every item filled: {}", s.text);
        }
    }
    let published = previews.iter().find(|p| p.rule == "4.4.4").unwrap();
    assert_eq!(published.items, ["project_name", "url"]);
    assert!(published.samples[0]
        .text
        .contains("该项目已完成招标公告阶段"));
    let member = previews.iter().find(|p| p.rule == "4.1.2a").unwrap();
    assert!(member.samples[0].text.contains("******"), "no secret shown");
}

#[tokio::test]
async fn the_workbench_lists_what_waits_for_each_role() {
    use ggzy_app::actions::Action;
    let (app, _dir) = demo_app().await;
    let waiting = |wb: &ggzy_app::Workbench, kind: &str| {
        wb.tasks.iter().find(|t| t.kind == kind).map(|t| {
            (
                t.total,
                t.projects
                    .iter()
                    .map(|p| p.code.clone())
                    .collect::<Vec<_>>(),
            )
        })
    };
    let code = || "LH-2026-0700".to_owned();
    let stage = || Stage::TenderNotice;

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let kinds: Vec<String> = app
        .workbench()
        .await
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "materials",
            "failed_pushes",
            "rejects",
            "deadlines_overdue",
            "deadlines_soon"
        ]
    );
    app.act(Action::RegisterProject {
        project: code(),
        name: "临海市北洋路改造工程".into(),
        tenderer: party("T700", "临海市交通局", "0576-85000700"),
        agency: party("A700", "浙江临海招标代理有限公司", "13800000700"),
    })
    .await
    .unwrap();
    app.act(Action::SubmitFiling {
        project: code(),
        stage: stage(),
        round: None,
        winner: None,
    })
    .await
    .unwrap();

    // The list filters by what waits and by registration day.
    let today = chrono::Local::now().date_naive();
    let list = |status: &str, from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>| {
        ProjectQuery {
            status: Some(status.into()),
            registered_from: from.map(|d| d.to_string()),
            registered_to: to.map(|d| d.to_string()),
            page: 1,
            ..Default::default()
        }
    };
    let found = app
        .projects(list("filing_review", Some(today), Some(today)))
        .await
        .unwrap();
    assert!(found.items.iter().any(|p| p.code == code()), "{found:?}");
    assert!(
        found.items.iter().all(|p| p.code != "LH-2026-0104"),
        "its filing passed"
    );
    let yesterday = today.pred_opt().unwrap();
    let none = app
        .projects(list("filing_review", None, Some(yesterday)))
        .await
        .unwrap();
    assert!(
        none.items.iter().all(|p| p.code != code()),
        "registered today"
    );
    let bad = app
        .projects(ProjectQuery {
            registered_from: Some("2026-13-01".into()),
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        bad.code == ErrorCode::Invalid && bad.message.contains("YYYY-MM-DD"),
        "{bad:?}"
    );
    let reversed = app
        .projects(list("", Some(today), Some(yesterday)))
        .await
        .unwrap_err();
    assert!(reversed.message.contains("晚于"), "{reversed:?}");
    assert_eq!(
        app.projects(list("done", None, None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );

    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let wb = app.workbench().await.unwrap();
    let (total, codes) = waiting(&wb, "filing_review").expect("supervisory staff review filings");
    assert!(codes.contains(&code()), "{codes:?}");
    assert!(waiting(&wb, "materials").is_none(), "not their task");
    app.act(Action::ReviewFiling {
        project: code(),
        stage: stage(),
        round: None,
        outcome: Outcome::Passed,
        opinion: None,
    })
    .await
    .unwrap();
    let (after, codes) = waiting(&app.workbench().await.unwrap(), "filing_review").unwrap();
    assert_eq!(after, total - 1);
    assert!(!codes.contains(&code()));

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let before = waiting(&app.workbench().await.unwrap(), "materials")
        .unwrap()
        .0;
    app.act(Action::SubmitMaterials {
        project: code(),
        stage: stage(),
        round: None,
    })
    .await
    .unwrap();
    let (total, codes) = waiting(&app.workbench().await.unwrap(), "materials").unwrap();
    assert_eq!(total, before + 1);
    assert!(codes.contains(&code()) || total > 10, "{codes:?}");
    app.act(Action::VerifyMaterials {
        project: code(),
        stage: stage(),
        round: None,
        outcome: Verdict::Passed,
        reason: None,
        checklist: Vec::new(),
    })
    .await
    .unwrap();
    let (passed, _) = waiting(&app.workbench().await.unwrap(), "materials").unwrap();
    assert_eq!(passed, total, "passed and not yet published: still theirs");
    app.act(Action::Publish {
        project: code(),
        stage: stage(),
        round: None,
        url: "https://ggzy.example.gov.cn/notice/700".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        waiting(&app.workbench().await.unwrap(), "materials")
            .unwrap()
            .0,
        before
    );
}

/// A center's own new database starts empty: the first start sets up its
/// name and first admin, with a password the person chooses, once.
#[tokio::test]
async fn a_first_start_sets_up_the_center_and_its_admin_once() {
    use ggzy_app::setup::SetUp;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(Store::open(&dir.path().join("ggzy.db")).await.unwrap());
    let state = app.center_state().await.unwrap();
    assert!(!state.set_up && !state.demo && state.demo_accounts.is_empty());
    app.may_open_demo()
        .await
        .expect("the set-up screen may open the demo");
    assert_eq!(
        app.login("admin", DEMO_PASSWORD).await.unwrap_err().code,
        ErrorCode::BadCredentials
    );
    let form = |password: &str, phone: &str| SetUp {
        center_name: "三门县公共资源交易中心".into(),
        center_phone: phone.into(),
        username: "sanmen".into(),
        name: "王管理".into(),
        password: password.into(),
    };
    for (bad, code) in [
        (form("short", "0576-83300000"), ErrorCode::WeakPassword),
        (
            form("Sanmen@20261", "0576-83300000"),
            ErrorCode::WeakPassword,
        ),
        (form("Tiantai#2026x", "不是电话"), ErrorCode::InvalidSetting),
    ] {
        assert_eq!(app.set_up_center(bad).await.unwrap_err().code, code);
    }
    assert!(
        app.store().users().await.unwrap().is_empty(),
        "nothing half-applied"
    );
    assert!(app.store().settings().await.unwrap().is_empty());

    let s = app
        .set_up_center(form("Tiantai#2026x", "0576-83300000"))
        .await
        .unwrap();
    assert_eq!((s.username.as_str(), s.role), ("sanmen", StaffRole::Admin));
    assert!(!s.must_change_password, "the person chose it");
    let state = app.center_state().await.unwrap();
    assert!(state.set_up);
    assert_eq!(state.center_name, "三门县公共资源交易中心");
    assert_eq!(
        app.set_up_center(form("Another#2026x", ""))
            .await
            .unwrap_err()
            .code,
        ErrorCode::AlreadySetUp
    );
    assert_eq!(
        app.may_open_demo().await.unwrap_err().code,
        ErrorCode::AlreadySetUp,
        "a center in use is never switched away from"
    );
    assert_eq!(
        app.workbench().await.unwrap().pushes_queued,
        0,
        "no demo pushes"
    );
    assert_eq!(
        app.store().verify_audit(|_, _| {}).await.unwrap().broken,
        None
    );
}

/// The demo says it is the demo, shows its accounts, cannot be set up as a
/// center, and takes no real channel.
#[tokio::test]
async fn the_demo_shows_its_accounts_and_takes_no_real_channel() {
    let (app, _dir) = demo_app().await;
    let state = app.center_state().await.unwrap();
    assert!(state.demo && state.set_up);
    assert_eq!(state.demo_password.as_deref(), Some(DEMO_PASSWORD));
    assert!(state
        .demo_accounts
        .iter()
        .any(|a| a.username == "zhangwei" && a.role_name == "中心工作人员"));
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let config = r#"{"sms": [{"kind": "gateway", "name": "gw", "url": "https://sms.example.gov.cn/api", "key_id": "k"}]}"#;
    let secret = ggzy_app::channels::SecretValue {
        name: "sms.gw".into(),
        value: "s3cret".into(),
    };
    let err = app
        .save_channel_settings(config.into(), vec![secret])
        .await
        .unwrap_err();
    assert!(err.message.contains("演示中心"), "{}", err.message);
    assert!(
        app.dispatcher().await.unwrap().is_some(),
        "the demo's simulated dispatcher"
    );
}

/// A failure of the database itself names its file (the shell passes every
/// command's outcome through `App::named`).
#[tokio::test]
async fn a_database_failure_names_the_file() {
    let (app, dir) = demo_app().await;
    app.store().close().await;
    let err = app
        .named(app.login("zhangwei", DEMO_PASSWORD).await)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Database);
    let path = dir.path().join("ggzy.db");
    assert!(
        err.message.contains(&path.display().to_string()),
        "{}",
        err.message
    );
    // A refusal is no database failure: no file named.
    let (app, _dir) = demo_app().await;
    let err = app.named(app.login("zhangwei", "wrong").await).unwrap_err();
    assert!(!err.message.contains("ggzy.db"), "{}", err.message);
}

/// The one way the desktop opens the app: the demo seeded into a new file
/// and only then; a center's own new file left empty for its set-up.
#[tokio::test]
async fn the_app_opens_a_new_demo_seeded_and_a_new_center_empty() {
    use ggzy_app::open::{Choice, Opened};
    let dir = tempfile::tempdir().unwrap();
    let demo = Choice {
        path: dir.path().join("demo.db"),
        demo: true,
    };
    let app = Opened::open(demo.clone())
        .await
        .unwrap()
        .into_app()
        .await
        .unwrap();
    let state = app.center_state().await.unwrap();
    assert!(state.demo && state.set_up);
    let events = app.store().overview().await.unwrap().events;
    app.store().close().await;
    let again = Opened::open(demo).await.unwrap().into_app().await.unwrap();
    assert_eq!(
        again.store().overview().await.unwrap().events,
        events,
        "an existing demo is opened, not seeded again"
    );

    let own = Opened::open(Choice {
        path: dir.path().join("ggzy.db"),
        demo: false,
    })
    .await
    .unwrap()
    .into_app()
    .await
    .unwrap();
    let state = own.center_state().await.unwrap();
    assert!(!state.demo && !state.set_up, "the set-up screen shows");
}
