//! The session tells the window what its person may open and do, and the
//! commands hold them to exactly that: a page shown is a page that works,
//! a page or button not shown is a command refused.

use ggzy_app::actions::ActionKind;
use ggzy_app::labels::Labels;
use ggzy_app::rights::Right;
use ggzy_app::App;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::Store;

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

/// Whether a command was let through the role check (it may still fail for
/// another reason, e.g. no such push).
fn allowed<T>(r: ggzy_app::Result<T>) -> bool {
    !matches!(r, Err(e) if e.code == ErrorCode::Forbidden)
}

#[tokio::test]
async fn each_role_is_told_its_menus_actions_and_rights_and_held_to_them() {
    let (app, _dir) = demo_app().await;
    for (user, menus, actions, resend) in [
        (
            "zhangwei",
            &[
                "/workbench",
                "/projects",
                "/surveys",
                "/improvements",
                "/statistics",
                "/experts",
                "/pushes",
                "/inbox",
                "/import",
                "/conflicts",
                "/audit",
            ][..],
            &[
                ActionKind::RegisterProject,
                ActionKind::AddBidder,
                ActionKind::SubmitFiling,
                ActionKind::SubmitMaterials,
                ActionKind::VerifyMaterials,
                ActionKind::Publish,
                ActionKind::RefundDeposits,
            ][..],
            true,
        ),
        (
            "liuyang",
            &[
                "/workbench",
                "/projects",
                "/pushes",
                "/inbox",
                "/conflicts",
                "/audit",
            ][..],
            &[ActionKind::ReviewFiling][..],
            false,
        ),
        (
            "chenjing",
            &[
                "/workbench",
                "/projects",
                "/complaints",
                "/surveys",
                "/improvements",
                "/statistics",
                "/experts",
                "/pushes",
                "/inbox",
                "/conflicts",
                "/audit",
            ][..],
            &[][..],
            false,
        ),
        (
            "admin",
            &[
                "/workbench",
                "/projects",
                "/statistics",
                "/experts",
                "/pushes",
                "/import",
                "/conflicts",
                "/audit",
                "/settings",
            ][..],
            &[][..],
            true,
        ),
    ] {
        let s = app.login(user, DEMO_PASSWORD).await.unwrap();
        let paths: Vec<&str> = s.rights.menus.iter().map(|m| m.path).collect();
        assert_eq!(paths, menus, "{user}");
        assert!(s.rights.menus.iter().all(|m| !m.title.is_empty()));
        let kinds: Vec<ActionKind> = s.rights.actions.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, actions, "{user}");
        assert_eq!(s.rights.rights.contains(&Right::Resend), resend, "{user}");

        // The pages' commands answer as the menu says.
        assert_eq!(
            allowed(app.rejects(1).await),
            menus.contains(&"/import"),
            "{user}: import"
        );
        assert_eq!(
            allowed(app.complaints().await),
            menus.contains(&"/complaints"),
            "{user}: complaints"
        );
        assert_eq!(
            allowed(app.channel_settings().await),
            menus.contains(&"/settings"),
            "{user}: settings"
        );
        // Every step on a complaint is the supervisor's alone.
        let handler = menus.contains(&"/complaints");
        assert_eq!(
            allowed(app.complaint("TS-2026-032").await),
            handler,
            "{user}"
        );
        assert_eq!(allowed(app.assignable().await), handler, "{user}");
        assert_eq!(
            allowed(app.accept_complaint("TS-2026-032", None).await),
            handler,
            "{user}"
        );
        assert_eq!(
            allowed(app.refuse_complaint("nope", "x").await),
            handler,
            "{user}"
        );
        assert_eq!(
            allowed(app.assign_complaint("nope", "chenjing").await),
            handler,
            "{user}"
        );
        assert_eq!(
            allowed(app.note_complaint("nope", "x", Vec::new()).await),
            handler,
            "{user}"
        );
        assert_eq!(
            allowed(app.decide_complaint("nope", "x").await),
            handler,
            "{user}"
        );
        assert_eq!(allowed(app.complaint_file("00").await), handler, "{user}");
        assert_eq!(
            allowed(app.surveys().await),
            menus.contains(&"/surveys"),
            "{user}: surveys"
        );
        assert_eq!(
            allowed(app.improvements().await),
            menus.contains(&"/improvements"),
            "{user}: improvements"
        );
        assert_eq!(
            allowed(app.statistics("2026-01-01", "2026-12-31").await),
            menus.contains(&"/statistics"),
            "{user}: statistics"
        );
        let evaluator = s.rights.rights.contains(&Right::Evaluate);
        assert_eq!(evaluator, ["chenjing", "admin"].contains(&user), "{user}");
        assert_eq!(
            allowed(app.self_evaluation("2026-01-01", "2026-12-31").await),
            evaluator,
            "{user}: report"
        );
        assert_eq!(
            allowed(app.evidence_pack("2026-01-01", "2026-01-02").await),
            evaluator,
            "{user}: evidence"
        );
        assert_eq!(
            allowed(app.limits().await),
            menus.contains(&"/settings"),
            "{user}: limits"
        );
        assert_eq!(allowed(app.requeue(1).await), resend, "{user}: resend");
        let query = ggzy_app::experts::ExpertListQuery {
            page: 1,
            page_size: 10,
            ..Default::default()
        };
        assert_eq!(
            allowed(app.experts(query).await),
            menus.contains(&"/experts"),
            "{user}: the expert pool"
        );
        app.logout();
    }
}

/// Every code the window shows has its name from the backend: each kind of
/// audit record the demo center holds, every intake type, every status.
#[tokio::test]
async fn every_code_the_window_shows_has_a_name() {
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    app.login("zhangwei", "wrong").await.unwrap_err();
    let labels = app.center_state().await.unwrap().labels;
    assert_eq!(
        labels,
        Labels::new(),
        "the window gets them with the center's state"
    );
    let kinds: Vec<String> = sqlx::query_scalar("SELECT DISTINCT kind FROM audit_trail")
        .fetch_all(app.store().pool())
        .await
        .unwrap();
    assert!(kinds.len() >= 4, "{kinds:?}");
    for kind in &kinds {
        assert!(
            labels.audit_kinds.iter().any(|l| l.code == kind),
            "audit kind {kind} has no name"
        );
    }
    assert!(labels.event_types.iter().all(|l| l.name != l.code));
    assert_eq!(labels.push_statuses.len(), 8);
    let json = serde_json::to_value(&labels).unwrap();
    assert_eq!(
        json["stages"][1],
        serde_json::json!({"code": "tender_notice", "name": "招标公告"})
    );
    assert_eq!(json["staff_roles"][1]["name"], "行政监督部门工作人员");
}
