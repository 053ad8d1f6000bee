//! The server killed (kill -9) mid-upload, ten times, and PostgreSQL
//! refusing writes: the desktop goes on working, nothing is lost or stored
//! twice, the desktop's cursor is never ahead of what the server holds, and
//! the next sync resumes where it stopped.

mod common;

use ggzy_store::Store;
use ggzy_sync::{Client, SyncError};
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// A desktop whose chain holds `n` accepted events (and their records).
async fn desktop(dir: &std::path::Path, n: usize) -> Store {
    let store = Store::open(&dir.join("desktop.db")).await.unwrap();
    let mut lines = Vec::new();
    for p in 0..n {
        writeln!(
            lines,
            r#"{{"id":"c-{p:05}","type":"project.registered","at":"2026-03-02T09:00:00+08:00","project":"C-{p:05}","name":"第{p}号工程","tenderer":{{"id":"T{p}","name":"某局","phone":"13800000001"}}}}"#
        )
        .unwrap();
    }
    let s = store
        .import(std::io::Cursor::new(lines), "test", |_| {})
        .await
        .unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused.first());
    store
}

/// The real `ggzy-server` binary, serving `url` on `port`.
fn serve(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ggzy-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("GGZY_SERVER_DATABASE_URL", url)
        .env("GGZY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn up(base: &str) {
    for _ in 0..100 {
        if reqwest::get(format!("{base}/health"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// A fresh cluster with the server's database migrated: its URL and a pool on it.
async fn migrated() -> (common::Postgres, String, sqlx::PgPool) {
    let pg = common::Postgres::start();
    let url = pg.database("ggzy").await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    ggzy_server::MIGRATOR.run(&pool).await.unwrap();
    (pg, url, pool)
}

/// A port nothing listens on, and the server's base URL there.
fn free_port() -> (u16, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    (port, format!("http://127.0.0.1:{port}"))
}

/// What the server holds of the series: (records, distinct seqs, last seq).
async fn held(pool: &sqlx::PgPool) -> (i64, i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM records")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_mid_upload_ten_times_loses_and_doubles_nothing() {
    let (_pg, url, pool) = migrated().await;
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = desktop(dir.path(), 10_000).await;
    let total = store.uploaded().await.unwrap().waiting;
    let (port, base) = free_port();
    let client = Client::new(&base, &token);

    let mut interrupted = 0;
    for round in 0..10u64 {
        let mut server = serve(&url, port);
        up(&base).await;
        // The desktop works on meanwhile: a login attempt is a record too.
        store.authenticate("nobody", "x").await.unwrap_err();
        let upload = client.upload(&store);
        let killed = async {
            tokio::time::sleep(std::time::Duration::from_millis(20 + 37 * round)).await;
            server.kill().unwrap();
        };
        let (outcome, ()) = tokio::join!(upload, killed);
        let _ = server.wait();
        if outcome.is_err() {
            interrupted += 1;
        }
        // Never ahead: the cursor is at most what the server holds, and
        // the server holds a whole prefix of the chain, each record once.
        let (records, seqs, last) = held(&pool).await;
        assert_eq!((records, seqs), (last, last), "round {round}");
        assert!(store.uploaded().await.unwrap().seq <= last, "round {round}");
    }
    assert!(interrupted > 0, "some uploads were cut short");

    let mut server = serve(&url, port);
    up(&base).await;
    client.upload(&store).await.unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let head = store.audit_head().await.unwrap();
    assert_eq!(held(&pool).await, (head.seq, head.seq, head.seq));
    assert!(head.seq >= total + 10);
    assert_eq!(store.uploaded().await.unwrap().waiting, 0);
}

/// Every new transaction on the database read-only (or writable again), as
/// a database out of space or in recovery refuses writes; its connections
/// are ended so the next ones take the setting.
async fn read_only(admin: &sqlx::PgPool, on: bool) {
    let on = if on { "on" } else { "off" };
    sqlx::query(&format!(
        "ALTER DATABASE ggzy SET default_transaction_read_only = {on}"
    ))
    .execute(admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'ggzy' AND pid <> pg_backend_pid()")
        .execute(admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_refusing_writes_applies_nothing_and_the_next_sync_resumes() {
    let (pg, pool, base) = common::server(16 << 20).await;
    let token = ggzy_server::tokens::add_device(&pool, "一号机")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = desktop(dir.path(), 3_000).await;
    let client = Client::new(&base, &token);

    let admin = sqlx::PgPool::connect(&pg.url("postgres")).await.unwrap();
    read_only(&admin, true).await;
    let err = client.upload(&store).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Refused { code, .. } if code == "database"),
        "{err}"
    );
    assert!(err.to_string().contains("稍后重试"), "{err}");
    assert_eq!(
        store.uploaded().await.unwrap().seq,
        0,
        "the cursor did not move"
    );

    read_only(&admin, false).await;
    let sent = client.upload(&store).await.unwrap();
    let head = store.audit_head().await.unwrap();
    assert_eq!(sent.stored as i64, head.seq);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(held, head.seq);
}

/// What a person sees of a desktop's projects and events, without its local
/// numbering.
async fn projects_and_events(store: &Store) -> (String, String) {
    let q = |sql: &'static str| async move {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    (
        q("SELECT json_group_array(json_array(code, progress)) FROM (SELECT * FROM projects ORDER BY code)").await,
        q("SELECT json_group_array(id) FROM (SELECT id FROM events ORDER BY id)").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktops_work_on_through_an_outage_and_converge_once_the_server_is_back() {
    let (_pg, url, pool) = migrated().await;
    let (port, base) = free_port();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        desktop(&dir.path().join("a"), 0).await,
        desktop(&dir.path().join("b"), 0).await,
    );
    let ca = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "甲").await.unwrap(),
    );
    let cb = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "乙").await.unwrap(),
    );
    let import = |store: &Store, from: usize, to: usize| {
        let mut lines = Vec::new();
        for p in from..to {
            writeln!(
                lines,
                r#"{{"id":"o-{p:05}","type":"project.registered","at":"2026-03-02T09:00:00+08:00","project":"O-{p:05}","name":"第{p}号工程","tenderer":{{"id":"T{p}","name":"某局","phone":"13800000001"}}}}"#
            )
            .unwrap();
        }
        let store = store.clone();
        async move {
            let s = store
                .import(std::io::Cursor::new(lines), "test", |_| {})
                .await
                .unwrap();
            assert!(s.refused.is_empty());
        }
    };

    // The server is down: each desktop works on, and its sync says so.
    for round in 0..3 {
        import(&a, round * 1_000, round * 1_000 + 500).await;
        import(&b, round * 1_000 + 500, round * 1_000 + 1_000).await;
        for (store, client) in [(&a, &ca), (&b, &cb)] {
            let err = client.round(store).await.unwrap_err();
            assert!(matches!(err, SyncError::Unreachable { .. }), "{err}");
        }
    }
    // Back, but killed mid-round a few times: each round resumes.
    for kill in 0..4u64 {
        let mut server = serve(&url, port);
        up(&base).await;
        let rounds = async {
            let _ = ca.round(&a).await;
            let _ = cb.round(&b).await;
        };
        let killed = async {
            tokio::time::sleep(std::time::Duration::from_millis(100 + 150 * kill)).await;
            server.kill().unwrap();
        };
        tokio::join!(rounds, killed);
        let _ = server.wait();
    }
    // Back for good: two rounds each, and they agree.
    let mut server = serve(&url, port);
    up(&base).await;
    for _ in 0..2 {
        ca.round(&a).await.unwrap();
        cb.round(&b).await.unwrap();
    }
    server.kill().unwrap();
    let _ = server.wait();
    let (on_a, on_b) = (projects_and_events(&a).await, projects_and_events(&b).await);
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.1.matches("o-").count(), 3_000, "every event, once");
    for store in [&a, &b] {
        let v = store.verify_audit(|_, _| {}).await.unwrap();
        assert_eq!(v.broken, None);
        assert_eq!(store.conflicts_open().await.unwrap(), 0);
    }
}
