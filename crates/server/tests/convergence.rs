//! Convergence, as a property: two to five desktops act offline on the same
//! projects in random orders and sync in random orders, with uploads
//! repeated and cut short (an answer lost); when all have synced, the
//! server and every desktop hold every event exactly once, every desktop
//! shows the same projects, pushes and conflicts, every chain verifies, and
//! the conflicts are exactly the actions that the server's order refuses —
//! found again here by importing the events, in that order, into a fresh
//! database through the intake (not the sync's fold).

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_core::sync::Upload;
use ggzy_store::intake::LineOutcome;
use ggzy_store::Store;
use ggzy_sync::Client;
use proptest::prelude::*;
use serde_json::json;
use store_common::{line, register, staffed, Db};

#[derive(Debug, Clone)]
enum Step {
    /// A desktop records an action (one of a few steps on two projects).
    Act(usize, u8),
    /// A desktop syncs: a whole round.
    Sync(usize),
    /// A desktop's upload is cut short: its first records reach the
    /// server, the answer is lost (its cursor stays).
    CutShort(usize, u8),
}

fn step(devices: usize) -> impl Strategy<Value = Step> {
    let d = 0..devices;
    prop_oneof![
        4 => (d.clone(), 0u8..14).prop_map(|(d, a)| Step::Act(d, a)),
        2 => d.clone().prop_map(Step::Sync),
        1 => (d, 1u8..4).prop_map(|(d, n)| Step::CutShort(d, n)),
    ]
}

/// The line of action `a` recorded by desktop `d` as its `n`th.
fn action(d: usize, n: usize, a: u8) -> String {
    let id = format!("d{d}-{n}");
    let p = if a.is_multiple_of(2) { "P0" } else { "P1" };
    match a / 2 {
        0 => register(&id, p),
        1 => line(
            &id,
            "filing.submitted",
            p,
            json!({"stage": "tender_notice", "round": 1}),
        ),
        2 => line(
            &id,
            "filing.reviewed",
            p,
            json!({"stage": "tender_notice", "round": 1, "outcome": "passed"}),
        ),
        3 => line(
            &id,
            "filing.reviewed",
            p,
            json!({"stage": "tender_notice", "round": 1, "outcome": "rejected", "opinion": "不全"}),
        ),
        4 => line(
            &id,
            "materials.submitted",
            p,
            json!({"stage": "tender_notice", "round": 1}),
        ),
        5 => line(
            &id,
            "materials.verified",
            p,
            json!({"stage": "tender_notice", "round": 1, "outcome": "passed"}),
        ),
        _ => line(
            &id,
            "notice.published",
            p,
            json!({"stage": "tender_notice", "round": 1, "url": format!("https://x.cn/{id}")}),
        ),
    }
}

/// What a person sees of a desktop, without its local numbering.
async fn seen(store: &Store) -> String {
    let queries = [
        "SELECT json_group_array(json_array(code, stage, progress)) FROM (SELECT * FROM projects ORDER BY code)",
        "SELECT json_group_array(json_array(project, role, id, position)) FROM (SELECT * FROM parties ORDER BY project, position)",
        "SELECT json_group_array(json_array(id, hex(digest))) FROM (SELECT * FROM events ORDER BY id)",
        "SELECT json_group_array(json_array(hex(id), recipient_id, channel, text)) FROM (SELECT * FROM push_texts ORDER BY id)",
        "SELECT json_group_array(event_id) FROM (SELECT event_id FROM conflicts ORDER BY event_id)",
    ];
    let mut out = String::new();
    for q in queries {
        out.push_str(
            &sqlx::query_scalar::<_, String>(q)
                .fetch_one(store.pool())
                .await
                .unwrap(),
        );
        out.push('\n');
    }
    out
}

async fn run(devices: usize, steps: Vec<Step>, case: usize, pg: &ggzy_pg::Postgres) {
    let (pool, base) =
        ggzy_server::start_local(&pg.database(&format!("case{case}")).await, 16 << 20)
            .await
            .unwrap();
    let mut desks: Vec<(Db, Client, String)> = Vec::new();
    for d in 0..devices {
        let token = ggzy_server::tokens::add_device(&pool, &format!("desk{d}"))
            .await
            .unwrap();
        desks.push((staffed().await, Client::new(&base, &token), token));
    }
    let mut recorded = vec![0usize; devices];
    for s in &steps {
        match *s {
            Step::Act(d, a) => {
                recorded[d] += 1;
                let l = action(d, recorded[d], a);
                // Refused here and now (the step is not open on this
                // desktop): nothing is kept but the reject, as with any line.
                desks[d]
                    .0
                    .store
                    .import(std::io::Cursor::new(l), "test", |_| {})
                    .await
                    .unwrap();
            }
            Step::Sync(d) => {
                desks[d].1.round(&desks[d].0.store).await.unwrap();
            }
            Step::CutShort(d, n) => {
                let store = &desks[d].0.store;
                let after = store.uploaded().await.unwrap().seq;
                let records = store.outgoing(after, i64::from(n)).await.unwrap();
                let up = Upload {
                    device_id: store.device().parse().unwrap(),
                    records,
                    hand_over: Vec::new(),
                };
                let answer = reqwest::Client::new()
                    .post(format!("{base}/api/v1/sync/upload"))
                    .bearer_auth(&desks[d].2)
                    .json(&up)
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success(), "{:?}", answer.text().await);
                // The answer is lost: the cursor stays where it was.
            }
        }
    }
    // Everyone syncs until nothing moves: up, then down, twice round.
    for _ in 0..2 {
        for (db, client, _) in &desks {
            client.round(&db.store).await.unwrap();
        }
    }

    // Each event once on the server and on every desktop.
    let (records, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT (device, seq)) FROM records")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(records, distinct);
    let first = seen(&desks[0].0.store).await;
    for (i, (db, ..)) in desks.iter().enumerate() {
        assert_eq!(
            seen(&db.store).await,
            first,
            "desktop {i} differs from desktop 0"
        );
        let v = db.store.verify_audit(|_, _| {}).await.unwrap();
        assert_eq!(v.broken, None, "desktop {i}");
    }

    // The oracle: the events in the server's order, imported into a fresh
    // database one by one; what it refuses, or takes as a repeat, is what
    // the desktops hold as conflicts.
    let lines: Vec<String> =
        sqlx::query_scalar("SELECT body FROM records WHERE body IS NOT NULL ORDER BY gseq")
            .fetch_all(&pool)
            .await
            .unwrap();
    let oracle = staffed().await;
    let mut stale = Vec::new();
    for l in &lines {
        let id = serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        match oracle.store.submit_form("oracle", l).await.unwrap() {
            LineOutcome::Accepted { .. } => {}
            _ => stale.push(id),
        }
    }
    stale.sort();
    let held: Vec<String> = sqlx::query_scalar("SELECT event_id FROM conflicts ORDER BY event_id")
        .fetch_all(desks[0].0.store.pool())
        .await
        .unwrap();
    assert_eq!(
        held, stale,
        "conflicts are exactly the actions the order refuses"
    );
    pool.close().await;
}

#[test]
fn desktops_acting_offline_converge_through_the_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = ggzy_pg::Postgres::start();
    let case = std::cell::Cell::new(0usize);
    let strategy =
        (2usize..=5).prop_flat_map(|n| (Just(n), proptest::collection::vec(step(n), 4..40)));
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest::test_runner::TestRunner::new(config)
        .run(&strategy, |(n, steps)| {
            case.set(case.get() + 1);
            rt.block_on(run(n, steps, case.get(), &pg));
            Ok(())
        })
        .unwrap();
}
