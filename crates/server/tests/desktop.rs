//! A desktop's real database (SQLite) sends its series to a real server
//! (PostgreSQL) through the sync client: all of it once, only what is new
//! after, nothing twice when an answer was lost, and a history rewritten on
//! the desktop after it went up is refused and raised as an alarm.

mod common;

use ggzy_core::audit::{chain, Hash};
use ggzy_store::Store;
use ggzy_sync::{Client, Found, SyncError};

struct Setup {
    _pg: common::Postgres,
    pool: sqlx::PgPool,
    base: String,
    _dir: tempfile::TempDir,
    store: Store,
}

async fn setup() -> Setup {
    let (pg, pool, base) = common::server(16 << 20).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_sample().await.unwrap();
    Setup {
        _pg: pg,
        pool,
        base,
        _dir: dir,
        store,
    }
}

async fn held(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_desktop_sends_its_series_once_and_only_what_is_new_after() {
    let s = setup().await;
    let token = ggzy_server::tokens::add_device(&s.pool, "一号机")
        .await
        .unwrap();
    let client = Client::new(&s.base, &token);
    let before = s.store.uploaded().await.unwrap();
    assert_eq!(before.seq, 0);
    assert!(before.waiting > 100, "{before:?}");

    let stored = client.upload(&s.store).await.unwrap().stored;
    assert_eq!(stored as i64, before.waiting);
    assert_eq!(held(&s.pool).await, before.waiting);
    let after = s.store.uploaded().await.unwrap();
    assert_eq!((after.seq, after.waiting), (before.waiting, 0));
    // Every event went up with its line, and the server's copy is the chain.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM records WHERE body IS NOT NULL")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    let local: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(s.store.pool())
        .await
        .unwrap();
    assert_eq!(events, local);

    // Nothing new: nothing sent, but the server is still asked, so a wrong
    // token is said even then.
    assert_eq!(client.upload(&s.store).await.unwrap().stored, 0);
    let err = Client::new(&s.base, "ggzy_wrong")
        .upload(&s.store)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::Refused { code, .. } if code == "bad_token"),
        "{err}"
    );
    // The answer to an upload was lost (the cursor never moved): sent
    // again, stored once.
    sqlx::query("UPDATE meta SET value = '10' WHERE key = 'sync_uploaded'")
        .execute(s.store.pool())
        .await
        .unwrap();
    assert_eq!(client.upload(&s.store).await.unwrap().stored, 0);
    assert_eq!(held(&s.pool).await, before.waiting);
    assert_eq!(s.store.uploaded().await.unwrap().waiting, 0);

    // New work on the desktop goes up alone.
    s.store.authenticate("admin", "wrong").await.unwrap_err();
    let waiting = s.store.uploaded().await.unwrap().waiting;
    assert!(waiting >= 1);
    assert_eq!(
        client.upload(&s.store).await.unwrap().stored as i64,
        waiting
    );
}

#[tokio::test]
async fn a_history_rewritten_after_it_went_up_is_refused_and_raised() {
    let s = setup().await;
    let token = ggzy_server::tokens::add_device(&s.pool, "一号机")
        .await
        .unwrap();
    let client = Client::new(&s.base, &token);
    client.upload(&s.store).await.unwrap();
    let checks = client.check_heads(&s.store).await.unwrap();
    assert_eq!(checks.len(), 1);
    assert!(
        checks[0].own && checks[0].found == Found::Same,
        "{}",
        checks[0]
    );

    // Someone with the file (and the sqlite3 shell, which drops the
    // append-only triggers) edits record 5 and re-chains everything after
    // it, so the desktop's own chain holds again.
    let triggers: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(s.store.pool())
            .await
            .unwrap();
    for t in triggers {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(s.store.pool())
            .await
            .unwrap();
    }
    let device = s.store.device_n();
    let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, content, prev_hash FROM audit_records WHERE origin_device = ? AND seq >= 5 ORDER BY seq",
    )
    .bind(device)
    .fetch_all(s.store.pool())
    .await
    .unwrap();
    let mut prev: Hash = rows[0].2.clone().try_into().unwrap();
    for (seq, content, _) in rows {
        let content = if seq == 5 {
            content.replacen('"', "\"forged\":1,\"", 1)
        } else {
            content
        };
        let hash = chain(&prev, &content);
        sqlx::query("UPDATE audit_records SET content = ?, prev_hash = ?, hash = ? WHERE origin_device = ? AND seq = ?")
            .bind(&content)
            .bind(prev.to_vec())
            .bind(hash.to_vec())
            .bind(device)
            .bind(seq)
            .execute(s.store.pool())
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE audit_heads SET hash = ? WHERE origin_device = ?")
        .bind(prev.to_vec())
        .bind(device)
        .execute(s.store.pool())
        .await
        .unwrap();
    // Held to the server's head, the desktop's chain no longer has it.
    let checks = client.check_heads(&s.store).await.unwrap();
    assert!(
        matches!(checks[0].found, Found::Differs(_)),
        "{}",
        checks[0]
    );
    assert!(checks[0].to_string().contains("改写"), "{}", checks[0]);

    // One new record, chained to the forged tail, goes up next.
    s.store.authenticate("admin", "wrong").await.unwrap_err();

    let err = client.upload(&s.store).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Refused { code, .. } if code == "tampered"),
        "{err}"
    );
    let alarms: i64 = sqlx::query_scalar("SELECT count(*) FROM alarms")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(alarms, 1);
    // Any enrolled desktop is told of it (its admins see it).
    let other = ggzy_server::tokens::add_device(&s.pool, "二号机")
        .await
        .unwrap();
    let told = Client::new(&s.base, &other).alarms().await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].device, "一号机");
    assert!(told[0].detail.contains("改写"), "{told:?}");

    // And had the server been the one rewritten, the desktop would not
    // take its word: the cursor refuses a head this chain does not have.
    let err = s.store.set_uploaded(3, &[7; 32]).await.unwrap_err();
    assert!(err.to_string().contains("第 3 条"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_says_so_and_the_desktop_keeps_its_place() {
    let s = setup().await;
    let client = Client::new("http://127.0.0.1:9", "ggzy_whatever");
    let err = client.upload(&s.store).await.unwrap_err();
    assert!(matches!(err, SyncError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("离线工作"), "{err}");
    assert_eq!(s.store.uploaded().await.unwrap().seq, 0);
}
