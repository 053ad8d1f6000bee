//! A draw answered: a decline or no answer in time calls the next backup of
//! the same specialty, who gets the 4.6 push while the declined expert gets
//! nothing more; an SMS "1" confirms; a shortage alerts the staff who ran
//! the draw; sign-in by ID number reveals the expert to that staff only;
//! every call's row is held to the audit trail.

use chrono::{Duration, Utc};
use ggzy_core::draw::{Reply, Request};
use ggzy_core::experts::check_character;
use ggzy_store::draw_calls::SmsAnswer;
use ggzy_store::Store;

const PROJECT: &str = "LH-2026-0105";

fn id_number(i: usize) -> String {
    let prefix = format!("33108219700101{i:03}");
    format!("{prefix}{}", check_character(&prefix).unwrap())
}

fn request(start: chrono::DateTime<Utc>) -> Request {
    serde_json::from_value(serde_json::json!({
        "specialties": [{"code": "A01", "count": 2}],
        "backups": 2,
        "evaluation": {"start": start.to_rfc3339(), "duration_hours": 4, "place": "三楼第二评标室", "contact_phone": "0576-85110086"},
        "sender": "临海市公共资源交易中心",
        "reply_minutes": 30,
    }))
    .unwrap()
}

/// Pushes of a rule to a recipient.
async fn pushes(store: &Store, rule: &str, to: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pushes WHERE rule = ? AND recipient_id = ?")
        .bind(rule)
        .bind(to)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn declines_and_silence_call_backups_a_shortage_alerts_and_sign_in_reveals() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    let mut csv = String::from(
        "id,name,id_number,phone,email,specialties,employer,region,status,unavailable\n",
    );
    for i in 1..=6 {
        csv.push_str(&format!(
            "Q{i:02},专家{i},{},+86 139-5861-{i:04},,A01,单位{i},台州,active,\n",
            id_number(i)
        ));
    }
    store
        .import_experts(csv.as_bytes(), "r.csv", "admin")
        .await
        .unwrap();
    let start = Utc::now() + Duration::days(2);
    let d = store
        .run_draw(PROJECT, request(start), "zhangwei")
        .await
        .unwrap();
    let outcome = d.outcome.clone().unwrap();
    let (drawn, backups) = (&outcome.picks[0].drawn, &outcome.picks[0].backups);
    let calls = store.draw_calls(&d.id).await.unwrap();
    assert_eq!(
        calls.iter().map(|c| &c.expert_id).collect::<Vec<_>>(),
        drawn.iter().collect::<Vec<_>>()
    );
    assert!(calls.iter().all(|c| c.reply.is_none()));

    // A decline calls the first backup, who is told (4.6).
    let first = &drawn[0];
    let a = store
        .reply_call(&d.id, first, Reply::Declined, "zhangwei")
        .await
        .unwrap();
    assert_eq!((a.called, a.short.len()), (1, 0));
    assert_eq!(pushes(&store, "4.6", &backups[0]).await, 1);
    assert_eq!(
        pushes(&store, "4.6", first).await,
        1,
        "the declined expert gets nothing more"
    );
    assert_eq!(
        pushes(&store, "4.6", &backups[1]).await,
        0,
        "the second backup waits"
    );
    // A decline stands.
    let again = store
        .reply_call(&d.id, first, Reply::Confirmed, "zhangwei")
        .await;
    assert!(again.unwrap_err().to_string().contains("答复不能更改"));

    // The second drawn expert answers "1" by text from their phone.
    let second = &drawn[1];
    let n: usize = second[1..].parse().unwrap();
    let answer = store
        .reply_by_sms(&format!("1395861{n:04}"), " 1 ")
        .await
        .unwrap();
    assert_eq!(
        answer,
        SmsAnswer::Recorded {
            draw_id: d.id.clone(),
            reply: Reply::Confirmed
        }
    );
    assert_eq!(
        store.reply_by_sms("13958619999", "1").await.unwrap(),
        SmsAnswer::NoCall
    );

    // The first backup lets the half hour pass: the second backup is called.
    assert_eq!(
        store
            .expire_calls(Utc::now() + Duration::minutes(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .expire_calls(Utc::now() + Duration::minutes(31))
            .await
            .unwrap(),
        1
    );
    assert_eq!(pushes(&store, "4.6", &backups[1]).await, 1);

    // The last backup declines: nobody is left, and the drawer is alerted.
    let a = store
        .reply_call(&d.id, &backups[1], Reply::Declined, "zhangwei")
        .await
        .unwrap();
    assert_eq!(
        (a.called, a.short.clone()),
        (0, vec![("A01".to_owned(), 1)])
    );
    assert_eq!(pushes(&store, "short", "zhangwei").await, 1);
    let tally = store.draw_tally(&d.id).await.unwrap();
    assert_eq!(
        (
            tally[0].called,
            tally[0].confirmed,
            tally[0].declined,
            tally[0].waiting,
            tally[0].short
        ),
        (4, 1, 3, 0, 1)
    );
    // Filling again calls and alerts nobody twice.
    store.fill_draw(&d.id).await.unwrap();
    assert_eq!(pushes(&store, "short", "zhangwei").await, 1);
    assert_eq!(store.draw_calls(&d.id).await.unwrap().len(), 4);

    // Before the evaluation nobody but a sign-in reveals anyone.
    let now = Utc::now();
    assert!(store
        .revealed_experts(PROJECT, "zhangwei", now)
        .await
        .unwrap()
        .is_empty());
    let who = store
        .sign_in(&d.id, &id_number(n).to_lowercase(), "zhangwei")
        .await
        .unwrap();
    assert_eq!(&who.id, second);
    assert!(store
        .sign_in(&d.id, &id_number(n), "zhangwei")
        .await
        .unwrap_err()
        .to_string()
        .contains("已于"));
    let m: usize = first[1..].parse().unwrap();
    assert!(store
        .sign_in(&d.id, &id_number(m), "zhangwei")
        .await
        .unwrap_err()
        .to_string()
        .contains("不能参加"));
    assert!(store
        .sign_in(&d.id, &id_number(99), "zhangwei")
        .await
        .is_err());
    let seen = store
        .revealed_experts(PROJECT, "zhangwei", now)
        .await
        .unwrap();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        std::slice::from_ref(second)
    );
    assert!(store
        .revealed_experts(PROJECT, "liuyang", now)
        .await
        .unwrap()
        .is_empty());
    // From the evaluation's start, its staff see everyone it called.
    let later = store
        .revealed_experts(PROJECT, "zhangwei", start)
        .await
        .unwrap();
    assert_eq!(later.len(), 4);
    assert!(store
        .revealed_experts(PROJECT, "liuyang", start)
        .await
        .unwrap()
        .is_empty());

    // Every call's row is held to its record.
    assert!(store
        .verify_audit(|_, _| {})
        .await
        .unwrap()
        .broken
        .is_none());
    sqlx::query("UPDATE draw_calls SET reply = 'confirmed' WHERE expert_id = ?")
        .bind(first)
        .execute(store.pool())
        .await
        .unwrap();
    let why = store
        .verify_audit(|_, _| {})
        .await
        .unwrap()
        .broken
        .unwrap()
        .message;
    assert!(why.contains("draw_calls"), "{why}");
}

/// A shortage alert is the product's own: no intake may forge one.
#[tokio::test]
async fn no_intake_may_carry_a_shortage_alert() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    for (n, by) in [None, Some(ggzy_core::role::StaffRole::CenterStaff)]
        .into_iter()
        .enumerate()
    {
        let forged = format!(
            r#"{{"id":"short-{n}","type":"draw.short","at":"2026-12-06T08:00:00+08:00","project":"{PROJECT}","draw":"d","specialty":"A01","missing":1,"staff":"zhangwei"}}"#
        );
        let summary = store
            .import_with(forged.as_bytes(), "import", 10, by, |_| {})
            .await
            .unwrap();
        assert_eq!(summary.accepted, 0, "{by:?}");
        match &summary.refused[0].outcome {
            ggzy_store::intake::LineOutcome::Refused { refusal, .. } => {
                assert_eq!(refusal.code(), "own_type", "{by:?}: {refusal}");
                assert!(refusal.to_string().contains("专家抽取缺额"), "{refusal}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pushes(&store, "short", "zhangwei").await, 0);
}
