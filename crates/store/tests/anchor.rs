//! The daily anchor: the head goes to the supervisory department's
//! recipients at the set time, once a day, as pushes on the trail; no
//! intake can carry it.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use ggzy_store::anchor::Anchored;
use ggzy_store::Store;

/// A UTC instant given as Beijing wall time on 2026-12-06.
fn beijing(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap() - chrono::Duration::hours(8)
}

async fn set_recipients(store: &Store) {
    store
        .set_settings(
            &[
                ("center_name", "临海市公共资源交易中心"),
                ("anchor_time", "08:00"),
                (
                    "anchor_recipients",
                    "王科长 13800000001 wang@jd.gov.cn\n李主任 li@jd.gov.cn",
                ),
            ],
            "admin",
        )
        .await
        .unwrap();
}

async fn anchor_pushes(store: &Store) -> Vec<(String, String, String, String, String)> {
    sqlx::query_as(
        "SELECT recipient_role, recipient_id, channel, address, text FROM push_texts \
         WHERE rule = 'anchor' ORDER BY no",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn the_head_goes_out_once_a_day_at_the_set_time_to_every_contact() {
    let db = common::staffed().await;
    let store = &db.store;
    // No recipients yet: nothing goes out, nothing is recorded.
    assert_eq!(store.anchor_if_due(beijing(9, 0)).await.unwrap(), None);
    assert_eq!(
        store.anchor(beijing(9, 0)).await.unwrap(),
        Anchored::NoRecipients
    );
    set_recipients(store).await;
    assert_eq!(store.anchor_if_due(beijing(7, 59)).await.unwrap(), None);
    let head = store.audit_head().await.unwrap();

    let sent = store.anchor_if_due(beijing(8, 0)).await.unwrap();
    assert_eq!(
        sent,
        Some(Anchored::Sent {
            event_id: "anchor-2026-12-06T08:00:00".into(),
            head,
            pushes: 3,
        })
    );
    let pushes = anchor_pushes(store).await;
    let to: Vec<(&str, &str, &str)> = pushes
        .iter()
        .map(|p| (p.1.as_str(), p.2.as_str(), p.3.as_str()))
        .collect();
    assert_eq!(
        to,
        [
            ("anchor:1", "sms", "13800000001"),
            ("anchor:1", "email", "wang@jd.gov.cn"),
            ("anchor:2", "email", "li@jd.gov.cn"),
        ]
    );
    for p in &pushes {
        assert_eq!(p.0, "supervisor_staff");
        assert!(p.4.contains(&head.to_string()), "{}", p.4);
        assert!(p.4.contains("2026-12-06 08:00"), "{}", p.4);
        assert!(p.4.starts_with("【临海市公共资源交易中心】"), "{}", p.4);
    }
    // Once a day: later the same day nothing more; the next day again.
    assert_eq!(store.anchor_if_due(beijing(17, 0)).await.unwrap(), None);
    let next_day = beijing(8, 0) + chrono::Duration::days(1);
    assert!(matches!(
        store.anchor_if_due(next_day).await.unwrap(),
        Some(Anchored::Sent { pushes: 3, .. })
    ));
    // No staff member's inbox holds them.
    assert_eq!(store.inbox_unread("ss1").await.unwrap().0, 0);
    // The anchor is on the trail, and the trail still holds the head it sent.
    let verdict = store
        .verify_audit_expecting(Some(head), |_, _| {})
        .await
        .unwrap();
    assert_eq!(verdict.broken, None);
    assert_eq!(verdict.pushes, 6);
}

#[tokio::test]
async fn a_manual_anchor_before_the_time_leaves_the_daily_one_due() {
    let db = common::staffed().await;
    set_recipients(&db.store).await;
    assert!(matches!(
        db.store.anchor(beijing(7, 0)).await.unwrap(),
        Anchored::Sent { .. }
    ));
    assert!(db
        .store
        .anchor_if_due(beijing(8, 1))
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn no_intake_may_carry_an_anchor() {
    for by in [None, Some(ggzy_core::role::StaffRole::CenterStaff)] {
        let db = common::staffed().await;
        let store = &db.store;
        let head = store.audit_head().await.unwrap();
        let forged = format!(
            r#"{{"id":"anchor-x","type":"audit.anchored","at":"2026-12-06T08:00:00+08:00","head":"{head}","recipients":[{{"id":"x","name":"某人","phone":"13900000000"}}]}}"#
        );
        let summary = store
            .import_with(forged.as_bytes(), "import", 10, by, |_| {})
            .await
            .unwrap();
        assert_eq!(summary.accepted, 0, "{by:?}");
        let refusal = match &summary.refused[0].outcome {
            ggzy_store::intake::LineOutcome::Refused { refusal, .. } => refusal.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(refusal.code(), "own_type", "{by:?}: {refusal}");
        assert!(anchor_pushes(store).await.is_empty());
    }
}

#[tokio::test]
async fn recipients_without_a_contact_are_refused_naming_the_line() {
    let db = common::db().await;
    let err = db
        .store
        .set_settings(
            &[("anchor_recipients", "王科长 13800000001\n李主任")],
            "admin",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("第 2 行"), "{err}");
    let err = db
        .store
        .set_setting("anchor_time", "17点", "admin")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("17点"), "{err}");
}
