//! Desktops acting offline on the same projects, then syncing through one
//! server on a real PostgreSQL: every desktop ends with the same projects,
//! pushes and conflicts, each event once, every chain verifying; the action
//! the server's order makes stale is a conflict on every desktop, with its
//! pushes held from the dispatcher of the desktop that recorded it.

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_store::Store;
use ggzy_sync::Client;
use serde_json::json;
use store_common::{import_all, line, register, review, staffed};

/// What a person sees of a desktop's data, without its local numbering:
/// projections, events, pushes (with their texts and where they stand) and
/// conflicts, in a stable order.
async fn seen(store: &Store) -> String {
    let queries = [
        "SELECT json_group_array(json_array(code, name, stage, progress, filing_pending, materials_pending)) \
         FROM (SELECT * FROM projects ORDER BY code)",
        "SELECT json_group_array(json_array(project, role, id, name, position)) \
         FROM (SELECT * FROM parties ORDER BY project, position)",
        "SELECT json_group_array(json_array(username, party, status)) FROM (SELECT * FROM members ORDER BY username)",
        "SELECT json_group_array(json_array(id, project, record)) FROM (SELECT * FROM complaints ORDER BY id)",
        // Each event with the time its own desktop accepted it, on every desktop.
        "SELECT json_group_array(json_array(id, hex(digest), received_at)) FROM (SELECT * FROM events ORDER BY id)",
        "SELECT json_group_array(json_array(hex(id), rule, recipient_role, recipient_id, channel, address, text, status)) \
         FROM (SELECT * FROM push_texts ORDER BY id)",
        "SELECT json_group_array(json_array(d.id, c.origin_seq, c.event_id, c.kind)) FROM \
         (SELECT * FROM conflicts ORDER BY origin_device, origin_seq) c JOIN devices d ON d.n = c.origin_device",
        "SELECT json_group_array(json_array(d.id, r.origin_seq, r.how, r.event, r.by, r.at)) FROM \
         (SELECT * FROM conflict_resolutions ORDER BY origin_device, origin_seq) r JOIN devices d ON d.n = r.origin_device",
    ];
    let mut out = String::new();
    for q in queries {
        let rows: String = sqlx::query_scalar(q).fetch_one(store.pool()).await.unwrap();
        out.push_str(&rows);
        out.push('\n');
    }
    out
}

async fn verified(store: &Store) {
    let v = store.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desktops_offline_on_one_filing_converge_and_the_stale_review_is_a_conflict() {
    let (_pg, pool, base) = common::server(16 << 20).await;
    let (a, b) = (staffed().await, staffed().await);
    let a_sync = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "甲").await.unwrap(),
    );
    let b_sync = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "乙").await.unwrap(),
    );

    // The e-trading system's events reach desktop A; both desktops get them.
    let filing = |id: &str, p: &str| {
        line(
            id,
            "filing.submitted",
            p,
            json!({"stage": "tender_notice", "round": 1}),
        )
    };
    import_all(
        &a.store,
        &[
            register("r1", "P1"),
            register("r2", "P2"),
            filing("f1", "P1"),
            filing("f2", "P2"),
        ],
    )
    .await;
    let first = a_sync.round(&a.store).await.unwrap();
    assert_eq!(
        (first.sent.stored, first.received.records),
        (a.store.uploaded().await.unwrap().seq as u64, 0)
    );
    // A page that does not start right after the cursor is refused whole.
    let c_token = ggzy_server::tokens::add_device(&pool, "丙").await.unwrap();
    let skipped: ggzy_core::sync::Page = reqwest::Client::new()
        .get(format!("{base}/api/v1/sync/download?after=1"))
        .bearer_auth(&c_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = store_common::db().await;
    let err = c
        .store
        .apply_page(&skipped.check().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("缺失"), "{err}");
    assert_eq!(c.store.downloaded().await.unwrap(), 0);

    let down = b_sync.round(&b.store).await.unwrap();
    assert_eq!(down.received.events, 4, "{down:?}");
    assert_eq!(seen(&a.store).await, seen(&b.store).await);
    verified(&b.store).await;

    // Offline, both review P1's filing; A also reviews P2's. B syncs first,
    // so the server places B's review of P1 before A's.
    import_all(&b.store, &[review("b-rev-p1", "P1", "rejected")]).await;
    import_all(
        &a.store,
        &[
            review("a-rev-p1", "P1", "passed"),
            review("a-rev-p2", "P2", "passed"),
        ],
    )
    .await;
    b_sync.round(&b.store).await.unwrap();
    let a_round = a_sync.round(&a.store).await.unwrap();
    assert_eq!(a_round.received.conflicts, 1, "{a_round:?}");
    let b_round = b_sync.round(&b.store).await.unwrap();
    assert_eq!(b_round.received.conflicts, 1, "{b_round:?}");
    // A round more each: nothing moves, nothing doubles.
    assert_eq!(a_sync.round(&a.store).await.unwrap().received.records, 0);
    assert_eq!(b_sync.round(&b.store).await.unwrap().received.records, 0);

    let (seen_a, seen_b) = (seen(&a.store).await, seen(&b.store).await);
    assert_eq!(seen_a, seen_b);
    assert!(seen_a.contains(r#""a-rev-p1","stale"]"#), "{seen_a}");
    assert!(!seen_a.contains(r#""a-rev-p2","stale"]"#), "{seen_a}");
    for d in [&a, &b] {
        verified(&d.store).await;
        assert_eq!(d.store.conflicts_open().await.unwrap(), 1);
    }
    // P1 stands as B's rejection left it, on both.
    let p1: String = sqlx::query_scalar("SELECT progress FROM projects WHERE code = 'P1'")
        .fetch_one(a.store.pool())
        .await
        .unwrap();
    assert!(p1.contains("rejected"), "{p1}");

    // A's stale review's pushes wait for people on A; none of B's pushes,
    // nor A's on B, are A's or B's dispatcher's to send.
    let held: Vec<String> = sqlx::query_scalar(
        "SELECT e.id FROM push_holds h JOIN pushes p ON p.no = h.push_no JOIN events e ON e.no = p.event \
         WHERE h.why = 'held' GROUP BY e.id",
    )
    .fetch_all(a.store.pool())
    .await
    .unwrap();
    assert_eq!(held, ["a-rev-p1"]);
    // A supervisory staff member on B re-records nothing and withdraws A's
    // stale review; the resolution reaches A, and the conflict is closed on both.
    let c = b.store.conflicts().await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].event_id.as_str(), c[0].own), ("a-rev-p1", false));
    assert!(
        c[0].standing
            .as_deref()
            .unwrap_or_default()
            .contains("b-rev-p1"),
        "{c:?}"
    );
    let withdraw = ggzy_store::conflicts::Resolution::Withdrawn;
    b.store
        .resolve_conflict(&c[0].device, c[0].seq, &withdraw, "ss1")
        .await
        .unwrap();
    let again = b
        .store
        .resolve_conflict(&c[0].device, c[0].seq, &withdraw, "ss1")
        .await;
    assert!(again.unwrap_err().to_string().contains("已处理过"));
    b_sync.round(&b.store).await.unwrap();
    a_sync.round(&a.store).await.unwrap();
    assert_eq!(seen(&a.store).await, seen(&b.store).await);
    for d in [&a, &b] {
        assert_eq!(d.store.conflicts_open().await.unwrap(), 0);
        verified(&d.store).await;
    }
    // (Claiming marks this desktop's own pushes as being sent: last.)
    for d in [&a, &b] {
        let due = d.store.claim_due(10_000, 60).await.unwrap();
        let mine: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pushes p JOIN events e ON e.no = p.event \
             WHERE e.origin_device = (SELECT n FROM devices WHERE id = (SELECT value FROM meta WHERE key = 'device_id')) \
             AND e.id <> 'a-rev-p1'",
        )
        .fetch_one(d.store.pool())
        .await
        .unwrap();
        assert_eq!(
            due.len() as i64,
            mine,
            "only this desktop's own, unheld pushes are sent here"
        );
    }

    // A hold taken off by hand (another device's push would go out from
    // here too) is named by verify.
    let (no, id): (i64, Vec<u8>) =
        sqlx::query_as("SELECT push_no, id FROM push_holds WHERE why = 'remote' LIMIT 1")
            .fetch_one(a.store.pool())
            .await
            .unwrap();
    sqlx::query("DELETE FROM push_holds WHERE push_no = ?")
        .bind(no)
        .execute(a.store.pool())
        .await
        .unwrap();
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert!(v.broken.unwrap().message.contains("push_holds"));
    sqlx::query("INSERT INTO push_holds (push_no, why, id) VALUES (?, 'remote', ?)")
        .bind(no)
        .bind(id)
        .execute(a.store.pool())
        .await
        .unwrap();
    verified(&a.store).await;

    // A resolution nobody recorded is named by verify.
    sqlx::query("UPDATE conflict_resolutions SET how = 'rerecorded', event = 'a-rev-p2'")
        .execute(a.store.pool())
        .await
        .unwrap();
    let v = a.store.verify_audit(|_, _| {}).await.unwrap();
    assert!(v.broken.unwrap().message.contains("conflict_resolutions"));
}
