//! `ggzy sync` killed with SIGKILL at random points twenty times while a
//! desktop's 10,000 records go up to a real server (on a real PostgreSQL),
//! and ten times while a second desktop takes them down: afterwards the
//! server holds the whole chain once, each desktop's cursor was never ahead
//! of what the server or the desktop held, both chains verify, and the
//! second desktop holds every project the first registered, once.

mod common;

use common::{ggzy, ok};

use rand::Rng;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// 10,000 registrations: as many records on the desktop's chain.
fn intake(db: &Path, dir: &Path) {
    let file = dir.join("intake.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for p in 0..10_000 {
        writeln!(
            f,
            r#"{{"id":"k-{p:05}","type":"project.registered","at":"2026-03-02T09:00:00+08:00","project":"K-{p:05}","name":"第{p}号工程","tenderer":{{"id":"T{p}","name":"某局","phone":"13800000001"}}}}"#
        )
        .unwrap();
    }
    drop(f);
    ok(ggzy(db).arg("import").arg(&file));
}

fn status(db: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(ggzy(db).args(["sync", "status", "--json"]))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_twenty_times_leaves_the_whole_chain_on_the_server_once() {
    let pg = ggzy_pg::Postgres::start();
    let (pool, base) = ggzy_server::start_local(&pg.database("ggzy").await, 16 << 20)
        .await
        .unwrap();
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desktop.db");
    intake(&db, dir.path());

    let held = || async {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM records",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let mut rng = rand::thread_rng();
    let mut killed = 0;
    for kill in 0..20 {
        let mut child = ggzy(&db)
            .args(["sync", "--server", &base])
            .env("GGZY_SYNC_TOKEN", &token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..400))).await;
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let (records, seqs, last) = held().await;
        assert_eq!(
            (records, seqs),
            (last, last),
            "kill {kill}: a whole prefix, once"
        );
        let cursor = status(&db)["head"].as_i64().unwrap();
        assert!(
            cursor <= last,
            "kill {kill}: cursor {cursor} ahead of the server's {last}"
        );
    }
    assert!(killed > 0, "some syncs were cut short");

    let done: serde_json::Value = serde_json::from_str(&ok(ggzy(&db)
        .args(["sync", "--server", &base, "--json"])
        .env("GGZY_SYNC_TOKEN", &token)))
    .unwrap();
    assert_eq!(done["waiting"], 0, "{done}");
    let head = done["head"].as_i64().unwrap();
    assert!(head >= 10_000, "{done}");
    assert_eq!(held().await, (head, head, head));
    ok(ggzy(&db)
        .args(["audit", "verify", "--server", &base])
        .env("GGZY_SYNC_TOKEN", &token));

    // A second desktop takes the 10,000 down, killed ten times on the way:
    // each page comes whole with its cursor, or not at all.
    let other = dir.path().join("other.db");
    let other_token = ggzy_server::tokens::add_device(&pool, "二号机")
        .await
        .unwrap();
    // `audit verify` must pass; the events its chains cover.
    let projects = |db: &Path| -> i64 {
        let out = ok(ggzy(db).args(["audit", "verify"]));
        let events = out.split("覆盖 ").nth(1).and_then(|t| t.split(' ').next());
        events
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{out}"))
    };
    let mut cut = 0;
    for _ in 0..10 {
        let mut child = ggzy(&other)
            .args(["sync", "--server", &base])
            .env("GGZY_SYNC_TOKEN", &other_token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..600))).await;
        if child.try_wait().unwrap().is_none() {
            cut += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Whatever came down is whole: the chain verifies, with its events.
        let cursor = status(&other)["cursor"].as_i64().unwrap();
        assert!(cursor <= head, "cursor {cursor} past the server's {head}");
        projects(&other);
    }
    assert!(cut > 0, "some downloads were cut short");
    let done: serde_json::Value = serde_json::from_str(&ok(ggzy(&other)
        .args(["sync", "--server", &base, "--json"])
        .env("GGZY_SYNC_TOKEN", &other_token)))
    .unwrap();
    assert_eq!(
        (done["conflicts"].as_i64(), done["cursor"].as_i64()),
        (Some(0), Some(head)),
        "{done}"
    );
    assert_eq!(projects(&other), 10_000);
}
