//! Intake on a real SQLite file: all or nothing per event, idempotent
//! replays, refused lines kept for staff and retried once fixed.

mod common;
use common::*;
use ggzy_core::error::ErrorCode;
use ggzy_core::push::PushStatus;
use ggzy_core::role::Role;
use ggzy_core::role::StaffRole;
use ggzy_store::intake::LineOutcome;
use ggzy_store::outbox::Due;
use ggzy_store::pushes::PushFilter;
use ggzy_store::Store;
use serde_json::json;

#[tokio::test]
async fn an_accepted_event_brings_its_pushes_and_audit_record() {
    let d = staffed().await;
    let out = d
        .store
        .submit_event("test", &register("e1", "P1"))
        .await
        .unwrap();
    assert_eq!(
        out,
        LineOutcome::Accepted {
            event_id: "e1".into(),
            pushes: 2
        }
    );
    let pushes = d.store.pushes(&PushFilter::default()).await.unwrap();
    assert_eq!(pushes.len(), 2);
    assert!(pushes
        .iter()
        .all(|p| p.status == PushStatus::Queued && p.clause == "4.2" && p.event_id == "e1"));
    let tenderer = pushes
        .iter()
        .find(|p| p.recipient_role == Role::Tenderer)
        .unwrap();
    assert_eq!(
        (tenderer.channel.as_str(), tenderer.address.as_str()),
        ("sms", "0576-85000001")
    );
    let agency = pushes
        .iter()
        .find(|p| p.recipient_role == Role::Agency)
        .unwrap();
    assert_eq!(
        (agency.channel.as_str(), agency.address.as_str()),
        ("email", "a@agency.cn")
    );
    let verdict = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(
        (verdict.events, verdict.pushes, verdict.broken),
        (1, 2, None)
    );
}

#[tokio::test]
async fn a_refused_event_changes_nothing_but_is_kept() {
    let d = staffed().await;
    d.store
        .submit_event("test", &register("e1", "P1"))
        .await
        .unwrap();
    let before = snapshot(&d.store).await;
    let bad = [
        line(
            "e2",
            "materials.submitted",
            "P1",
            json!({"stage": "tender_notice"}),
        ),
        line(
            "e3",
            "notice.published",
            "P1",
            json!({"stage": "consultation", "url": "ftp://x"}),
        ),
        line(
            "e4",
            "materials.submitted",
            "NOPE",
            json!({"stage": "consultation"}),
        ),
        "{not json".to_owned(),
        register("e1", "P2"), // same id, other content
    ];
    let codes = [
        "out_of_order",
        "invalid_field",
        "unknown_project",
        "malformed",
        "id_conflict",
    ];
    for (raw, code) in bad.iter().zip(codes) {
        match d.store.submit_event("test", raw).await.unwrap() {
            LineOutcome::Refused { refusal, .. } => assert_eq!(refusal.code(), code, "{raw}"),
            other => panic!("{raw}: {other:?}"),
        }
    }
    assert_eq!(
        snapshot(&d.store).await,
        before,
        "a refusal wrote something"
    );
    let rejects = d.store.rejects(false).await.unwrap();
    assert_eq!(rejects.len(), 5);
    assert_eq!(rejects[0].event_id.as_deref(), Some("e2"));
    assert_eq!(rejects[0].locus.as_deref(), Some("4.4.3"));
    assert!(
        rejects[0].message.contains("备案审核通过后"),
        "{}",
        rejects[0].message
    );
    assert_eq!(rejects[1].locus.as_deref(), Some("url"));
}

#[tokio::test]
async fn importing_the_same_file_twice_changes_nothing() {
    let d = staffed().await;
    let file = [
        register("e1", "P1"),
        line(
            "e2",
            "materials.submitted",
            "P1",
            json!({"stage": "consultation"}),
        ),
        line(
            "bad",
            "materials.submitted",
            "P1",
            json!({"stage": "award"}),
        ),
        line(
            "e2v",
            "materials.verified",
            "P1",
            json!({"stage": "consultation", "outcome": "passed"}),
        ),
        line(
            "e3",
            "notice.published",
            "P1",
            json!({"stage": "consultation", "url": "https://x.cn/1"}),
        ),
    ]
    .join("\n");
    let first = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!(
        (first.accepted, first.duplicates, first.refused.len()),
        (4, 0, 1)
    );
    assert_eq!(first.refused[0].line, 3);
    let before = snapshot(&d.store).await;
    let rejects = d.store.rejects(true).await.unwrap();
    let second = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!(
        (second.accepted, second.duplicates, second.refused.len()),
        (0, 4, 1)
    );
    let LineOutcome::Refused { refusal, .. } = &second.refused[0].outcome else {
        panic!()
    };
    assert_eq!(refusal.code(), "already_refused");
    assert_eq!(snapshot(&d.store).await, before);
    assert_eq!(d.store.rejects(true).await.unwrap(), rejects);
}

#[tokio::test]
async fn a_line_refused_out_of_order_is_not_taken_by_a_second_import() {
    let d = staffed().await;
    // The bidder arrives before its project is registered.
    let file = [
        line(
            "b1",
            "project.bidder_added",
            "P1",
            json!({"bidder": {"id": "B1", "name": "甲公司", "phone": "13900000001"}}),
        ),
        register("e1", "P1"),
    ]
    .join("\n");
    let first = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!((first.accepted, first.refused.len()), (1, 1));
    let before = snapshot(&d.store).await;
    let second = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!(
        (second.accepted, second.duplicates, second.refused.len()),
        (0, 1, 1)
    );
    assert_eq!(snapshot(&d.store).await, before);
    // Retrying is the explicit way to take it now.
    let retry = d.store.retry_rejects(None).await.unwrap();
    assert_eq!(retry.accepted, 1);
}

#[tokio::test]
async fn a_refused_line_is_retried_once_its_cause_is_fixed() {
    let d = db().await; // no staff yet
    let file = [
        register("e1", "P1"),
        line(
            "e2",
            "materials.submitted",
            "P1",
            json!({"stage": "consultation"}),
        ),
    ]
    .join("\n");
    let s = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!(s.refused.len(), 1);
    let LineOutcome::Refused { refusal, .. } = &s.refused[0].outcome else {
        panic!()
    };
    assert_eq!(refusal.code(), "no_recipient");

    add_staff(&d.store, "cs1", "张一", StaffRole::CenterStaff).await;
    let retry = d.store.retry_rejects(None).await.unwrap();
    assert_eq!((retry.accepted, retry.refused.len()), (1, 0));
    assert!(d.store.rejects(false).await.unwrap().is_empty());
    let all = d.store.rejects(true).await.unwrap();
    assert_eq!(all[0].resolved_by.as_deref(), Some("e2"));
    let to_staff = d
        .store
        .pushes(&PushFilter {
            event_id: Some("e2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(to_staff.len(), 1);
    assert_eq!(
        (
            to_staff[0].recipient_id.as_str(),
            to_staff[0].channel.as_str()
        ),
        ("cs1", "desktop")
    );
}

#[tokio::test]
async fn a_fixed_line_with_the_same_id_resolves_its_reject() {
    let d = staffed().await;
    d.store
        .submit_event("t", &register("e1", "P1"))
        .await
        .unwrap();
    d.store
        .submit_event(
            "t",
            &line(
                "e2",
                "materials.submitted",
                "P1",
                json!({"stage": "consultation"}),
            ),
        )
        .await
        .unwrap();
    d.store
        .submit_event(
            "t",
            &line(
                "e2v",
                "materials.verified",
                "P1",
                json!({"stage": "consultation", "outcome": "passed"}),
            ),
        )
        .await
        .unwrap();
    let bad = line(
        "e3",
        "notice.published",
        "P1",
        json!({"stage": "consultation", "url": "www.x.cn"}),
    );
    assert!(matches!(
        d.store.submit_event("t", &bad).await.unwrap(),
        LineOutcome::Refused { .. }
    ));
    let good = line(
        "e3",
        "notice.published",
        "P1",
        json!({"stage": "consultation", "url": "https://www.x.cn"}),
    );
    assert!(matches!(
        d.store.submit_event("t", &good).await.unwrap(),
        LineOutcome::Accepted { .. }
    ));
    assert!(d.store.rejects(false).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_member_password_is_masked_in_the_message_and_the_audit_trail() {
    let d = staffed().await;
    let raw = json!({"id": "m1", "type": "member.registration_submitted", "at": "2026-11-27T09:30:00+08:00",
        "member": {"id": "M1", "name": "某公司", "username": "abc", "phone": "13800000000"}})
    .to_string();
    d.store.submit_event("t", &raw).await.unwrap();
    let p = &d.store.pushes(&PushFilter::default()).await.unwrap()[0];
    assert_eq!(p.recipient_id, "abc");
    assert!(p.text.contains("******"), "{}", p.text);
    assert_eq!(p.secret.as_deref(), Some("one_time_password"));
    let (pw_hash,): (Option<String>,) =
        sqlx::query_as("SELECT password_hash FROM members WHERE username = 'abc'")
            .fetch_one(d.store.pool())
            .await
            .unwrap();
    assert_eq!(
        pw_hash, None,
        "the password is issued by the dispatcher at send time, never stored in clear"
    );

    // At send time: a one-time password, stored only as its argon2id hash.
    let clear = d.store.issue_member_password("abc").await.unwrap();
    assert!(d.store.check_member_password("abc", &clear).await.unwrap());
    assert!(!d.store.check_member_password("abc", "guess").await.unwrap());
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM members WHERE username = 'abc'")
            .fetch_one(d.store.pool())
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&clear));
    let trail: Vec<String> = sqlx::query_scalar("SELECT content FROM audit_records")
        .fetch_all(d.store.pool())
        .await
        .unwrap();
    // Read by hand, the trail names what each record is about.
    let (subject,): (String,) = sqlx::query_as(
        "SELECT subject FROM audit_trail WHERE kind = 'member.password_issued' AND length(hash) = 64",
    )
    .fetch_one(d.store.pool())
    .await
    .unwrap();
    assert_eq!(subject, "abc");
    assert!(trail.iter().any(|c| c.contains("member.password_issued")));
    assert!(
        trail.iter().all(|c| !c.contains(&clear)),
        "the audit trail never holds the password"
    );
    assert!(d.store.issue_member_password("nobody").await.is_err());
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

#[tokio::test]
async fn the_demo_center_seeds_and_verifies() {
    let d = db().await;
    let s = d.store.seed_demo().await.unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused);
    assert!(s.accepted > 150 && s.pushes > 300, "{s:?}");
    assert_eq!(count(&d.store, "projects").await, 12);
    let again = d.store.seed_demo().await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, s.accepted));
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None);
    assert_eq!(v.pushes, s.pushes);

    // Bidders of one notice share a message; the file read by hand shows
    // every push's full text, the same as the app lists.
    let messages = count(&d.store, "messages").await;
    assert!(
        messages * 2 < s.pushes as i64,
        "{messages} messages for {} pushes",
        s.pushes
    );
    let by_hand: Vec<String> = sqlx::query_scalar("SELECT text FROM push_texts ORDER BY no")
        .fetch_all(d.store.pool())
        .await
        .unwrap();
    let listed = d.store.pushes(&PushFilter::default()).await.unwrap();
    assert_eq!(
        by_hand,
        listed.iter().map(|p| p.text.clone()).collect::<Vec<_>>()
    );
    for p in &listed {
        let greeting = format!("{}，您好！", p.recipient_name);
        assert!(
            p.text.starts_with('【') && p.text.contains(&greeting),
            "{}",
            p.text
        );
    }
}

#[tokio::test]
async fn the_outbox_claims_retries_and_finishes_with_a_trace() {
    use ggzy_store::outbox::Attempt;
    let d = staffed().await;
    d.store
        .submit_event("t", &register("e1", "P1"))
        .await
        .unwrap();
    let claimed = d.store.claim_due(10, 60).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let claimed: Vec<_> = claimed.into_iter().map(|c| c.push).collect();
    let log = d.store.pushes(&Default::default()).await.unwrap();
    assert!(
        log.iter().all(|p| p.status == PushStatus::Sending),
        "{log:?}"
    );
    assert_eq!(
        claimed,
        log.iter().map(Due::from).collect::<Vec<_>>(),
        "a claimed push says what the log shows, field for field"
    );
    assert!(
        d.store.claim_due(10, 60).await.unwrap().is_empty(),
        "a leased push is not claimed twice"
    );
    d.store
        .finish(
            claimed[0].no,
            Attempt::Retry,
            "HTTP 500",
            Some("2000-01-01T00:00:00+08:00"),
        )
        .await
        .unwrap();
    d.store
        .finish(claimed[1].no, Attempt::Delivered, "ok", None)
        .await
        .unwrap();
    let again = d.store.claim_due(10, 60).await.unwrap();
    assert_eq!(again.len(), 1, "the retry is due again");
    assert_eq!(
        (again[0].push.id, again[0].push.attempts),
        (claimed[0].id, 1)
    );
    assert!(
        !again[0].uncertain,
        "a retry after an answer is not uncertain"
    );
    assert_eq!(count(&d.store, "push_status").await, 2);

    // Pushes queued later are claimed after the cursor; a lease that runs out is claimed again.
    d.store
        .submit_event("t", &register("e2", "P2"))
        .await
        .unwrap();
    let fresh = d.store.claim_due(10, -1).await.unwrap();
    let e2 = PushFilter {
        event_id: Some("e2".into()),
        ..Default::default()
    };
    assert_eq!(
        fresh.iter().map(|c| c.push.no).collect::<Vec<_>>(),
        d.store
            .pushes(&e2)
            .await
            .unwrap()
            .iter()
            .map(|p| p.no)
            .collect::<Vec<_>>()
    );
    assert!(fresh.iter().all(|c| !c.uncertain));
    let expired = d.store.claim_due(10, 60).await.unwrap();
    assert!(
        expired.iter().all(|c| c.uncertain),
        "a worker may have died mid-send"
    );
    let mut nos: Vec<i64> = expired.iter().map(|c| c.push.no).collect();
    nos.sort();
    assert_eq!(nos, fresh.iter().map(|c| c.push.no).collect::<Vec<_>>());
    assert!(d.store.finish(9999, Attempt::Sent, "", None).await.is_err());

    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
    // What a push carries never changes; where it stands lives in push_states.
    let err = sqlx::query("UPDATE pushes SET recipient_name = 'x'")
        .execute(d.store.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query("UPDATE messages SET body = 'x'")
        .execute(d.store.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

/// Fresh pushes are claimed as one leased range, with nothing written for
/// each: they still read as being sent, not queued; a range whose lease ran
/// out comes back a part at a time, as uncertain; once every push of it is
/// recorded, nothing is left pending.
#[tokio::test]
async fn a_leased_range_reads_as_sending_and_comes_back_in_parts_when_it_runs_out() {
    use ggzy_store::outbox::Attempt;
    let d = staffed().await;
    for (e, p) in [("e1", "P1"), ("e2", "P2"), ("e3", "P3")] {
        d.store.submit_event("t", &register(e, p)).await.unwrap();
    }
    let status = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .pushes(&Default::default())
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.status)
                .collect::<Vec<_>>()
        }
    };
    let first = d.store.claim_due(4, 60).await.unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(
        status(&d.store).await,
        [
            PushStatus::Sending,
            PushStatus::Sending,
            PushStatus::Sending,
            PushStatus::Sending,
            PushStatus::Queued,
            PushStatus::Queued
        ]
    );
    assert_eq!(d.store.overview().await.unwrap().pushes_queued, 2);
    let err = d
        .store
        .requeue(first[0].push.no, "admin")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("“发送中”"), "{err}");

    assert_eq!(d.store.take_over_leases().await.unwrap(), 4);
    let part = d.store.claim_due(3, 60).await.unwrap();
    assert_eq!(
        part.iter()
            .map(|c| (c.push.no, c.uncertain))
            .collect::<Vec<_>>(),
        first
            .iter()
            .take(3)
            .map(|c| (c.push.no, true))
            .collect::<Vec<_>>(),
        "the range's pushes come back first, each may have gone out"
    );
    let rest = d.store.claim_due(3, 60).await.unwrap();
    assert_eq!(
        rest.iter().map(|c| c.uncertain).collect::<Vec<_>>(),
        [true, false, false],
        "the range's last push, then the fresh ones"
    );
    assert_eq!(rest[0].push.no, first[3].push.no);
    assert!(d.store.claim_due(10, 60).await.unwrap().is_empty());
    assert_eq!(d.store.overview().await.unwrap().pushes_queued, 0);

    for c in part.iter().chain(&rest) {
        assert!(d.store.dispatch_pending().await.unwrap());
        d.store
            .finish(c.push.no, Attempt::Sent, "ok", None)
            .await
            .unwrap();
    }
    assert!(
        !d.store.dispatch_pending().await.unwrap(),
        "every lease went with its last push"
    );
    assert_eq!(status(&d.store).await, [PushStatus::Sent; 6]);
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// Enough lines for several slices in one transaction: what is decided on the
/// blocking thread while the slice before is written must equal what one
/// event at a time gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_equals_one_event_at_a_time() {
    let mut lines = Vec::new();
    for p in 0..70 {
        let code = format!("P{p}");
        lines.push(register(&format!("r{p}"), &code));
        for b in 0..18 {
            lines.push(line(&format!("b{p}-{b}"), "project.bidder_added", &code,
                json!({"bidder": {"id": format!("B{b}"), "name": format!("投标人{b}"), "phone": "13900000001"}})));
        }
    }
    for p in 0..70 {
        let code = format!("P{p}");
        lines.push(line(
            &format!("f{p}"),
            "filing.submitted",
            &code,
            json!({"stage": "tender_notice"}),
        ));
        lines.push(line(
            &format!("v{p}"),
            "filing.reviewed",
            &code,
            json!({"stage": "tender_notice", "outcome": "passed"}),
        ));
        lines.push(line(
            &format!("m{p}"),
            "materials.submitted",
            &code,
            json!({"stage": "tender_notice"}),
        ));
        lines.push(line(
            &format!("c{p}"),
            "materials.verified",
            &code,
            json!({"stage": "tender_notice", "outcome": "passed"}),
        ));
        lines.push(line(
            &format!("n{p}"),
            "notice.published",
            &code,
            json!({"stage": "tender_notice", "url": format!("https://x.cn/{p}")}),
        ));
        // Out of order on purpose: refused in both.
        lines.push(line(
            &format!("x{p}"),
            "materials.submitted",
            &code,
            json!({"stage": "award"}),
        ));
    }
    assert!(lines.len() > 1500);

    let batch = staffed().await;
    let s = batch
        .store
        .import(lines.join("\n").as_bytes(), "big", |_| {})
        .await
        .unwrap();
    assert_eq!(
        (s.accepted as usize, s.refused.len()),
        (lines.len() - 70, 70)
    );

    let single = staffed().await;
    for l in &lines {
        single.store.submit_event("one", l).await.unwrap();
    }
    let texts = |pushes: Vec<ggzy_store::pushes::Push>| {
        let mut v: Vec<(uuid::Uuid, String, String)> = pushes
            .into_iter()
            .map(|p| (p.id, p.recipient_id, p.text))
            .collect();
        v.sort();
        v
    };
    let a = texts(batch.store.pushes(&PushFilter::default()).await.unwrap());
    let b = texts(single.store.pushes(&PushFilter::default()).await.unwrap());
    assert_eq!(a.len(), 70 * (2 + 1 + 2 + 1 + 2));
    assert_eq!(a, b);
    let v = batch.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events as usize), (None, lines.len() - 70));
    assert_eq!(count(&batch.store, "parties").await, 70 * 20);

    // The same in transactions of 700 lines (a slice of 700 closes each; the
    // next is decided while it commits), with a replay of a transaction's
    // last line right after it: still a duplicate, not a second event.
    let mut replayed = lines.clone();
    replayed.insert(700, lines[699].clone());
    let small = staffed().await;
    let mut commits = Vec::new();
    let s = small
        .store
        .import_with(replayed.join("\n").as_bytes(), "small", 700, None, |n| {
            commits.push(n)
        })
        .await
        .unwrap();
    assert_eq!(commits, vec![700, 1400, replayed.len() as u64]);
    assert_eq!(
        (s.accepted as usize, s.duplicates, s.refused.len()),
        (lines.len() - 70, 1, 70)
    );
    let c = texts(small.store.pushes(&PushFilter::default()).await.unwrap());
    assert_eq!(c, b);
    let v = small.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events as usize), (None, lines.len() - 70));
}

#[tokio::test]
async fn an_id_conflict_stays_open_even_when_its_id_is_accepted_in_the_same_batch() {
    let d = staffed().await;
    // The second line reuses the first one's id with other content.
    let file = [register("e1", "P1"), register("e1", "P2")].join("\n");
    let s = d.store.import(file.as_bytes(), "f", |_| {}).await.unwrap();
    assert_eq!((s.accepted, s.refused.len()), (1, 1));
    let open = d.store.rejects(false).await.unwrap();
    assert_eq!(
        open.len(),
        1,
        "the conflicting line must stay visible to staff"
    );
    assert_eq!(open[0].code, "id_conflict");
    assert_eq!(open[0].line_no, Some(2));
}

/// Staff act in the app between two transactions of an import: the slice
/// decided while the first transaction committed is decided again on what
/// they wrote, not on what the import alone knew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_between_two_transactions_of_an_import_is_taken_into_account() {
    let d = staffed().await;
    let lines = [
        register("e1", "P1"),
        line(
            "e2",
            "filing.submitted",
            "P1",
            json!({"stage": "tender_notice"}),
        ),
        // Allowed only once the filing review has passed.
        line(
            "e3",
            "materials.submitted",
            "P1",
            json!({"stage": "tender_notice"}),
        ),
    ];
    let path = d.path();
    let mut commits = 0;
    let s = d
        .store
        .import_with(lines.join("\n").as_bytes(), "f", 2, None, |_| {
            commits += 1;
            if commits > 1 {
                return;
            }
            // The review, from the app's own connection, before the next transaction begins.
            let path = path.clone();
            std::thread::spawn(move || {
                tokio::runtime::Runtime::new().unwrap().block_on(async {
                    let app = Store::open(&path).await.unwrap();
                    let review = line(
                        "r1",
                        "filing.reviewed",
                        "P1",
                        json!({"stage": "tender_notice", "outcome": "passed"}),
                    );
                    let out = app.submit_event("app", &review).await.unwrap();
                    assert!(matches!(out, LineOutcome::Accepted { .. }), "{out:?}");
                    app.close().await;
                })
            })
            .join()
            .unwrap();
        })
        .await
        .unwrap();
    assert_eq!((s.accepted, s.refused.len()), (3, 0), "{:?}", s.refused);
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events), (None, 4));
}

/// A database whose schema this program does not know is refused with what
/// to do, and left as it is.
#[tokio::test]
async fn a_database_from_another_version_is_refused_with_what_to_do() {
    let d = staffed().await;
    let path = d.path();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    d.store.close().await;
    let err = Store::open(&path).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaMismatch);
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("移走"),
        "{msg}"
    );

    let d = staffed().await;
    let path = d.path();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'later', 1, x'00', 0)",
    )
    .execute(d.store.pool())
    .await
    .unwrap();
    d.store.close().await;
    let err = Store::open(&path).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaTooNew, "{err}");
    assert!(err.to_string().contains("升级本程序"), "{err}");
    // Left as it was: the staff are still there.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        path.display()
    ))
    .await
    .unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, 2);
}

/// A transaction that fails in the middle of an import, while the deciding
/// thread is ahead of the writer: the import reports the error, the
/// transactions before it stay, nothing of the failed one is written, and
/// the same file imported again (once the fault is gone) takes up where it
/// stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_import_keeps_the_transactions_before_and_nothing_after() {
    let d = staffed().await;
    // A real failure from SQLite itself when the fifth event is written.
    sqlx::query(
        "CREATE TRIGGER fault BEFORE INSERT ON events WHEN NEW.id = 'e5' \
         BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
    )
    .execute(d.store.pool())
    .await
    .unwrap();
    let file: Vec<String> = (1..=8)
        .map(|i| register(&format!("e{i}"), &format!("P{i}")))
        .collect();
    let file = file.join("\n");
    let mut committed = Vec::new();
    let err = d
        .store
        .import_with(file.as_bytes(), "f", 2, None, |line| committed.push(line))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk says no"), "{err}");
    assert_eq!(committed, [2, 4], "two transactions were committed");
    assert_eq!(count(&d.store, "events").await, 4);
    assert_eq!(count(&d.store, "projects").await, 4);
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events), (None, 4));

    sqlx::query("DROP TRIGGER fault")
        .execute(d.store.pool())
        .await
        .unwrap();
    let s = d
        .store
        .import_with(file.as_bytes(), "f", 2, None, |_| {})
        .await
        .unwrap();
    assert_eq!((s.accepted, s.duplicates, s.refused.len()), (4, 4, 0));
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events, v.pushes), (None, 8, 16));
}

/// Records of what sends came to are made ready before the writers' turn;
/// events accepted meanwhile (each with its audit record) move the chain's
/// head, and the records are made again on it: the chain stays whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_made_ready_while_events_are_accepted_keep_the_chain_whole() {
    use ggzy_store::outbox::{Attempt, Finished};
    let d = staffed().await;
    for i in 0..100 {
        let line = register(&format!("a{i}"), &format!("A{i}"));
        d.store.submit_event("t", &line).await.unwrap();
    }
    let claimed = d.store.claim_due(1000, 60).await.unwrap();
    assert_eq!(claimed.len(), 200);
    let events = {
        let store = d.store.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                let line = register(&format!("b{i}"), &format!("B{i}"));
                store.submit_event("t", &line).await.unwrap();
            }
        })
    };
    for c in &claimed {
        let done = Finished {
            push_no: c.push.no,
            push_id: c.push.id,
            attempt: Attempt::Sent,
            detail: "网关：已受理".into(),
            retry_at: None,
        };
        d.store.finish_all(&[done]).await.unwrap();
    }
    events.await.unwrap();
    assert_eq!(count(&d.store, "push_status").await, 200);
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!((v.broken, v.events), (None, 200));
}

/// A file as it arrives from other systems: a byte order mark, a line that
/// is not UTF-8, one that runs on for 200 KiB, a key given twice. Each bad
/// line is refused naming its line and what is wrong, kept cut to a bound,
/// and the good ones are taken.
#[tokio::test]
async fn bytes_that_are_no_line_of_intake_are_refused_by_line_and_kept_bounded() {
    let d = staffed().await;
    let mut file = b"\xef\xbb\xbf".to_vec();
    file.extend(register("e1", "P1").as_bytes());
    file.extend(b"\n{\"id\":\"e2\",\"type\":\"project.registered\",\"name\":\"\xff\xfe\"}\n");
    file.extend(format!("{{\"id\":\"e3\",\"pad\":\"{}\"}}\n", "x".repeat(200 * 1024)).as_bytes());
    file.extend(
        register("e4", "P4")
            .replacen("\"id\":\"e4\"", "\"id\":\"e4\",\"id\":\"e5\"", 1)
            .as_bytes(),
    );
    file.extend(b"\n\n");
    file.extend(register("e6", "P6").as_bytes());
    let s = d.store.import(&file[..], "f", |_| {}).await.unwrap();
    assert_eq!(
        s.accepted, 2,
        "the first line's BOM is no fault: {:?}",
        s.refused
    );
    let refused: Vec<(u64, &str, String)> = s
        .refused
        .iter()
        .map(|r| match &r.outcome {
            LineOutcome::Refused { refusal, .. } => (r.line, refusal.code(), refusal.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        refused.iter().map(|(l, c, _)| (*l, *c)).collect::<Vec<_>>(),
        [(2, "not_utf8"), (3, "line_too_long"), (4, "malformed")]
    );
    assert!(refused[0].2.contains("第 48 字节"), "{}", refused[0].2);
    assert!(refused[2].2.contains("`id` 重复出现"), "{}", refused[2].2);
    let kept = d.store.rejects(false).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert!(kept
        .iter()
        .all(|r| r.raw.len() <= ggzy_core::event::MAX_LINE + 4));
    // Retried as they are, the unreadable two stay refused: what was kept is not the line.
    let retry = d.store.retry_rejects(None).await.unwrap();
    assert_eq!((retry.accepted, retry.refused.len()), (0, 3));
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// A person's form is decided once: kept whole when accepted; when refused,
/// nothing at all (no event, push, reject or audit record), since the person
/// corrects it on the screen it came from.
#[tokio::test]
async fn a_form_is_kept_when_accepted_and_leaves_nothing_when_refused() {
    let d = staffed().await;
    let head = d.store.audit_head().await.unwrap();
    let refused = d
        .store
        .submit_form(
            "app:cs1",
            &line(
                "f1",
                "materials.submitted",
                "NOPE",
                json!({"stage": "consultation"}),
            ),
        )
        .await
        .unwrap();
    assert!(
        matches!(refused, LineOutcome::Refused { .. }),
        "{refused:?}"
    );
    assert!(d.store.rejects(true).await.unwrap().is_empty());
    assert_eq!(
        d.store.audit_head().await.unwrap(),
        head,
        "nothing on the trail"
    );
    assert_eq!(count(&d.store, "events").await, 0);

    let accepted = d
        .store
        .submit_form("app:cs1", &register("f2", "P1"))
        .await
        .unwrap();
    assert!(
        matches!(accepted, LineOutcome::Accepted { pushes, .. } if pushes > 0),
        "{accepted:?}"
    );
    assert_eq!(count(&d.store, "events").await, 1);
    assert!(count(&d.store, "pushes").await > 0);
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// A complaint's times are its events' own (Beijing time as they say it),
/// not when this desktop received them: the clocks and statistics run on
/// them.
#[tokio::test]
async fn a_complaint_is_lodged_and_resolved_at_its_events_own_times() {
    let d = staffed().await;
    let lodged = r#"{"id":"c1","type":"complaint.lodged","at":"2026-12-01T09:15:00+08:00","complaint":{"id":"C1","channel":"phone","complainant":{"id":"c","name":"林先生","phone":"13900000009"},"subject":"未收到通知"}}"#;
    let resolved = r#"{"id":"c2","type":"complaint.resolved","at":"2026-12-03T16:40:00+08:00","complaint_id":"C1","result":"已补发"}"#;
    import_all(&d.store, &[lodged.to_owned()]).await;
    import_all(&d.store, &[resolved.to_owned()]).await;
    let times: (String, Option<String>) =
        sqlx::query_as("SELECT lodged_at, resolved_at FROM complaints WHERE id = 'C1'")
            .fetch_one(d.store.pool())
            .await
            .unwrap();
    assert_eq!(
        times,
        (
            "2026-12-01T09:15:00+08:00".to_owned(),
            Some("2026-12-03T16:40:00+08:00".to_owned())
        )
    );
}
