//! 5.2c from the app: the administrator and the supervisor export a
//! period's evidence pack, which verifies alone; center staff may not; a
//! period the wrong way round is refused, naming both days.

mod common;
use common::*;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

#[tokio::test]
async fn evaluators_export_a_pack_that_verifies_alone() {
    let (app, _dir) = demo_app().await;
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let e = app
        .evidence_pack("2026-01-01", "2026-12-31")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let e = app
        .evidence_pack("2026-12-31", "2026-01-01")
        .await
        .unwrap_err();
    assert!(
        e.message.contains("2026-12-31") && e.message.contains("2026-01-01"),
        "{}",
        e.message
    );
    // October alone: the demo's events of that month, and their pushes.
    let bytes = app.evidence_pack("2026-10-01", "2026-10-31").await.unwrap();
    let report = ggzy_core::pack::verify(&bytes).expect("verifies");
    assert_eq!(report.manifest.exported_by, "chenjing");
    assert_eq!(
        (report.manifest.from.as_str(), report.manifest.to.as_str()),
        ("2026-10-01", "2026-10-31")
    );
    // Counted here from every stored event's own time, read in Beijing time.
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM events")
        .fetch_all(app.store().pool())
        .await
        .unwrap();
    let in_october = bodies
        .iter()
        .filter(|b| {
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            v["at"].as_str().unwrap().starts_with("2026-10-")
        })
        .count();
    assert_eq!(
        report.events, in_october,
        "every event of October, and no other"
    );
    assert!(report.pushes > 0);
    // The export is in the trail, which still verifies.
    let verdict = app.store().verify_audit(|_, _| {}).await.unwrap();
    assert!(verdict.broken.is_none(), "{:?}", verdict.broken);
}
