//! The e-trading system's events posted to the server (`POST
//! /api/v1/intake`) on a real PostgreSQL: decided by the server on the
//! global order, whatever the desktops recorded before them; refused lines
//! named by line, code and message and kept; every desktop gets the
//! accepted events with their pushes.

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_core::sync::IntakeAnswer;
use ggzy_store::Store;
use ggzy_sync::Client;

use store_common::{filing, import_all, materials, register, review, staffed};

/// A server with the e-trading system's intake token, and a desktop with
/// staff (cs1, ss1) enrolled as 甲, whose first round told the server of
/// them: (the cluster, pool, base URL, intake token, the desktop, its client,
/// its token).
async fn set_up(
    max_body: usize,
) -> (
    common::Postgres,
    sqlx::PgPool,
    String,
    String,
    store_common::Db,
    Client,
    String,
) {
    let (pg, pool, base) = common::server(max_body).await;
    let intake = ggzy_server::tokens::add_intake(&pool, "交易系统")
        .await
        .unwrap();
    let a = staffed().await;
    let device = ggzy_server::tokens::add_device(&pool, "甲").await.unwrap();
    let a_sync = Client::new(&base, &device);
    a_sync.round(&a.store).await.unwrap();
    (pg, pool, base, intake, a, a_sync, device)
}

async fn post(base: &str, token: Option<&str>, body: String) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/v1/intake"))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn answer(base: &str, token: &str, lines: &[String]) -> IntakeAnswer {
    let res = post(base, Some(token), lines.join("\n")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn scalar(store: &Store, q: &str) -> i64 {
    sqlx::query_scalar(q).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_intake_decides_on_the_global_order_and_reaches_every_desktop() {
    // A's staff reach the server with A's first round: the server's pushes
    // to staff go to them.
    let (_pg, pool, base, intake, a, a_sync, device) = set_up(16 << 20).await;

    let own = format!(
        r#"{{"id":"x","type":"audit.anchored","at":"2026-12-06T08:00:00+08:00","head":"1:{}","recipients":[{{"id":"x","name":"某人","phone":"13900000000"}}]}}"#,
        "0".repeat(64)
    );
    let body = [
        register("r1", "P1"),
        String::new(),
        filing("f1", "P1"),
        "{not json".to_owned(),
        own,
        // Materials before the filing's review: out of order.
        materials("m0", "P1"),
    ];
    let first = answer(&base, &intake, &body).await;
    assert_eq!((first.accepted, first.duplicates), (2, 0), "{first:?}");
    assert!(first.pushes > 0);
    let refused: Vec<(u64, Option<&str>, &str)> = first
        .refused
        .iter()
        .map(|r| (r.line, r.event_id.as_deref(), r.code.as_str()))
        .collect();
    assert_eq!(
        refused,
        [
            (4, None, "malformed"),
            (5, Some("x"), "own_type"),
            (6, Some("m0"), "out_of_order")
        ]
    );
    assert!(
        first.refused[2].message.contains("备案审核通过后"),
        "{first:?}"
    );
    // The same body again: nothing new.
    let again = answer(&base, &intake, &body).await;
    assert_eq!((again.accepted, again.duplicates), (0, 2), "{again:?}");
    let rejects: i64 = sqlx::query_scalar("SELECT count(*) FROM intake_rejects WHERE line = 6")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rejects, 2);

    // Desktop A gets the server's events with their pushes: kept, shown,
    // never A's dispatcher's to send; supervisory staff ss1 has the filing in the inbox.
    let round = a_sync.round(&a.store).await.unwrap();
    assert_eq!(round.received.events, 2, "{round:?}");
    let pushes = scalar(
        &a.store,
        "SELECT count(*) FROM pushes p JOIN events e ON e.no = p.event WHERE e.id IN ('r1', 'f1')",
    )
    .await;
    assert_eq!(pushes, first.pushes as i64);
    assert_eq!(
        scalar(
            &a.store,
            "SELECT count(*) FROM push_holds WHERE why = 'remote'"
        )
        .await,
        pushes
    );
    assert!(
        scalar(
            &a.store,
            "SELECT count(*) FROM pushes WHERE recipient_id = 'ss1' AND channel = 'desktop'"
        )
        .await
            > 0
    );
    assert_eq!(
        scalar(
            &a.store,
            "SELECT filing_pending FROM projects WHERE code = 'P1'"
        )
        .await,
        1
    );
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");

    // A passes the filing offline and syncs: the server decides the next
    // materials on the order that holds A's review.
    import_all(&a.store, &[review("rev1", "P1", "passed")]).await;
    a_sync.round(&a.store).await.unwrap();
    let after = answer(&base, &intake, &[materials("m1", "P1")]).await;
    assert_eq!(after.accepted, 1, "{after:?}");
    a_sync.round(&a.store).await.unwrap();
    assert_eq!(
        scalar(
            &a.store,
            "SELECT materials_pending FROM projects WHERE code = 'P1'"
        )
        .await,
        1
    );
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");

    // No token, or a device's where an intake token belongs: refused.
    for (token, code) in [(None, "no_token"), (Some(device.as_str()), "bad_token")] {
        let res = post(&base, token, materials("m2", "P1")).await;
        assert_eq!(res.status(), 401);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["code"], code, "{v}");
    }
    let res = post(&base, Some(&intake), "\n\n".into()).await;
    assert_eq!(res.status(), 422);
    ggzy_server::tokens::revoke_intake(&pool, "交易系统")
        .await
        .unwrap();
    let res = post(&base, Some(&intake), materials("m2", "P1")).await;
    assert_eq!(res.status(), 401);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["code"], "revoked_token", "{v}");
    // The operator's lists: the desktop and the token, not the server's own series.
    let devices = ggzy_server::tokens::devices(&pool).await.unwrap();
    assert_eq!(
        devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["甲"]
    );
    let tokens = ggzy_server::tokens::intake_tokens(&pool).await.unwrap();
    assert!(tokens[0].revoked_at.is_some(), "{tokens:?}");
    assert!(ggzy_server::tokens::revoke_device(&pool, "(服务器)")
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_intake_body_is_refused_before_it_is_read() {
    let (_pg, pool, base) = common::server(4 << 10).await;
    let intake = ggzy_server::tokens::add_intake(&pool, "交易系统")
        .await
        .unwrap();
    let lines: Vec<String> = (0..100)
        .map(|i| register(&format!("r{i}"), &format!("P{i}")))
        .collect();
    let res = post(&base, Some(&intake), lines.join("\n")).await;
    assert_eq!(res.status(), 413);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(held, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_finds_the_same_stale_actions_as_the_desktops() {
    let (_pg, pool, base, intake, a, a_sync, _) = set_up(16 << 20).await;
    let b = staffed().await;
    let b_sync = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "乙").await.unwrap(),
    );
    let done = answer(&base, &intake, &[register("r1", "P1"), filing("f1", "P1")]).await;
    assert_eq!(done.accepted, 2, "{done:?}");
    b_sync.round(&b.store).await.unwrap();
    a_sync.round(&a.store).await.unwrap();
    // Offline, both review the filing; B's reaches the server first.
    import_all(&b.store, &[review("b-rev", "P1", "rejected")]).await;
    import_all(&a.store, &[review("a-rev", "P1", "passed")]).await;
    b_sync.round(&b.store).await.unwrap();
    a_sync.round(&a.store).await.unwrap();
    b_sync.round(&b.store).await.unwrap();
    // The server folds both reviews in its order (as its instances do in
    // the background): A's is stale, as on both desktops.
    let folded = ggzy_server::intake::fold_placed(&pool).await.unwrap();
    assert!(folded > 0);
    assert_eq!(ggzy_server::intake::fold_placed(&pool).await.unwrap(), 0);
    let stale: Vec<String> = sqlx::query_scalar("SELECT event_id FROM fold_stale")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stale, ["a-rev"]);
    // Materials for the filing B rejected are refused.
    let next = answer(&base, &intake, &[materials("m1", "P1")]).await;
    assert_eq!(next.refused.len(), 1, "{next:?}");
    assert_eq!(next.refused[0].code, "out_of_order");
    let stale: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, kind FROM fold_stale ORDER BY gseq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stale, [("a-rev".to_owned(), "stale".to_owned())]);
    for d in [&a, &b] {
        let conflicts: Vec<String> = d
            .store
            .conflicts()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.event_id)
            .collect();
        assert_eq!(conflicts, ["a-rev"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_body_is_decided_in_its_order_and_its_refusals_named_by_line() {
    let (_pg, pool, base, intake, ..) = set_up(16 << 20).await;
    // 1,300 projects registered, then each one's filing: most filings are
    // decided in a later part of the body than their project's registration.
    let mut body: Vec<String> = (0..1300)
        .map(|i| register(&format!("r{i}"), &format!("P{i}")))
        .collect();
    body.extend((0..1300).map(|i| filing(&format!("f{i}"), &format!("P{i}"))));
    body[2100] = materials("m-early", "P800");
    let done = answer(&base, &intake, &body).await;
    assert_eq!(done.accepted, 2599, "{:?}", done.refused);
    let refused: Vec<(u64, &str)> = done
        .refused
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(refused, [(2101, "out_of_order")]);
    // The server's series holds them in the body's order, chained.
    let subjects: Vec<String> = sqlx::query_scalar(
        "SELECT r.content::json->>'subject' FROM records r JOIN devices d ON d.n = r.device \
         WHERE d.name = '(服务器)' ORDER BY r.seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(subjects.len(), 2599);
    assert_eq!(
        (subjects[0].as_str(), subjects[1300].as_str()),
        ("r0", "f0")
    );
    assert_eq!(subjects[2598], "f1299");
}

/// A verification returned, the materials submitted again and passed, then
/// publication: the server decides the whole order, the product's own push
/// of the return included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_decides_a_verification_returned_then_passed() {
    let (_pg, _pool, base, intake, _a, _a_sync, _device) = set_up(16 << 20).await;
    let body = [
        register("r1", "P1"),
        filing("f1", "P1"),
        review("v1", "P1", "passed"),
        materials("m1", "P1"),
        store_common::verdict("c1", "P1", "returned"),
        materials("m2", "P1"),
        store_common::verdict("c2", "P1", "passed"),
        store_common::line(
            "n1",
            "notice.published",
            "P1",
            serde_json::json!({"stage": "tender_notice", "url": "https://x.cn/1"}),
        ),
    ];
    let a = answer(&base, &intake, &body).await;
    assert!(a.refused.is_empty(), "{:?}", a.refused);
    assert_eq!(a.accepted, 8);
}
