//! Verifying publication materials (查验) in the app: the page of a stage
//! with the center's checklist and every submission's verdict and time, the
//! verdict as an action, and the checklists admins keep.

use ggzy_app::actions::Action;
use ggzy_app::App;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Stage;
use ggzy_core::materials::{CheckedItem, Verdict};
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::Store;

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

/// The demo's project whose tender-notice materials wait for their verdict.
const WAITING: &str = "LH-2026-0104";
/// The demo's project whose materials were returned once, then passed.
const RETURNED_ONCE: &str = "LH-2026-0105";

#[tokio::test]
async fn the_page_lists_each_submission_with_its_verdict_and_time() {
    let (app, _dir) = demo_app().await;
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let v = app
        .materials(RETURNED_ONCE, Stage::TenderNotice, None)
        .await
        .unwrap();
    assert_eq!(v.state, "发布资料已查验通过");
    assert!(!v.waiting);
    let verdicts: Vec<_> = v.rounds.iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts, [Some(Verdict::Returned), Some(Verdict::Passed)]);
    let first = &v.rounds[0];
    assert!(first.reason.as_deref().unwrap().contains("截止时间"));
    assert!(!first.checklist[0].ok);
    // The demo's events are 97 minutes apart: submission to verdict.
    assert_eq!(first.minutes, Some(97));

    let v = app
        .materials(WAITING, Stage::TenderNotice, None)
        .await
        .unwrap();
    assert!(v.waiting);
    assert_eq!(v.state, "发布资料待查验");
    assert_eq!(v.rounds.len(), 1);
    assert!(v.rounds[0].verdict.is_none());
    assert!(
        v.checklist.iter().any(|i| i.contains("招标文件发售期")),
        "{:?}",
        v.checklist
    );

    let err = app
        .materials("NOPE", Stage::TenderNotice, None)
        .await
        .unwrap_err();
    assert!(err.message.contains("NOPE"), "{}", err.message);
}

#[tokio::test]
async fn a_verdict_is_recorded_by_center_staff_and_timed() {
    let (app, _dir) = demo_app().await;
    let verdict = |outcome: Verdict, ok: bool| Action::VerifyMaterials {
        project: WAITING.into(),
        stage: Stage::TenderNotice,
        round: None,
        outcome,
        reason: (outcome == Verdict::Returned).then(|| "附件缺少资格审查表".to_owned()),
        checklist: vec![CheckedItem {
            item: "附件齐全，能正常打开".into(),
            ok,
            remark: (!ok).then(|| "缺资格审查表".to_owned()),
        }],
    };
    // Supervisory staff do not verify materials: refused by the backend.
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let err = app.act(verdict(Verdict::Passed, true)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{}", err.message);

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    // A pass over a failed item is refused naming the item.
    let err = app.act(verdict(Verdict::Passed, false)).await.unwrap_err();
    assert!(err.message.contains("checklist[0].ok"), "{}", err.message);
    let done = app.act(verdict(Verdict::Returned, false)).await.unwrap();
    assert_eq!(done.pushes, 2, "the tenderer and the agency are told why");
    let v = app
        .materials(WAITING, Stage::TenderNotice, None)
        .await
        .unwrap();
    assert_eq!(v.state, "发布资料已退回，待重新提交");
    let last = v.rounds.last().unwrap();
    assert_eq!(last.verified_by.as_deref(), Some("app:zhangwei"));
    assert_eq!(last.reason.as_deref(), Some("附件缺少资格审查表"));
    assert!(last.minutes.is_some_and(|m| m >= 0), "{last:?}");
    // What the tenderer was sent says why.
    let detail = app.project(WAITING).await.unwrap();
    let told = detail
        .events
        .iter()
        .flat_map(|e| &e.pushes)
        .find(|p| p.clause == "returned")
        .expect("the return's push");
    assert!(told.text.contains("附件缺少资格审查表"), "{}", told.text);
}

#[tokio::test]
async fn admins_keep_the_checklists_and_every_change_is_audited() {
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.checklists().await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let mut lists = app.checklists().await.unwrap();
    lists
        .0
        .insert(Stage::TenderNotice, vec!["公告已经分管领导审签".into()]);
    app.save_checklists(lists.clone()).await.unwrap();
    let mut blank = lists.clone();
    blank.0.insert(Stage::Award, vec!["".into()]);
    let err = app.save_checklists(blank).await.unwrap_err();
    assert!(
        err.message.contains("中标（成交）结果公告") && err.message.contains("第 1 项"),
        "{}",
        err.message
    );
    assert_eq!(app.checklists().await.unwrap(), lists, "nothing half-saved");

    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let v = app
        .materials(WAITING, Stage::TenderNotice, None)
        .await
        .unwrap();
    assert_eq!(v.checklist, ["公告已经分管领导审签"]);
    let report = app.store().verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(
        report.broken, None,
        "the saved checklists match their record"
    );
    let changed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_records WHERE content ->> '$.kind' = 'checklists.changed'",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(changed, 1);
}
