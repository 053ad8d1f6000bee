//! A desktop whose clock is hours off converges like the others, and its
//! times are shown as it recorded them. The skewed desktop is this test
//! binary run again under `faketime` (libfaketime, its clock five hours
//! behind): a real process with a wrong clock, not a clock passed in. Its
//! part is the branch taken when `GGZY_SKEWED_DB` is set.

mod common;
#[path = "../../store/tests/common/mod.rs"]
mod store_common;

use ggzy_store::Store;
use ggzy_sync::Client;
use store_common::{filing, import_all, register, review, staffed};

const TEST: &str = "a_desktop_five_hours_behind_converges_and_keeps_its_times";

/// The skewed desktop's part: take in what waits, review the filing
/// offline-style (recorded here, with this clock), and send it up.
async fn skewed(db: &str, base: &str, token: &str) {
    let store = Store::open(std::path::Path::new(db)).await.unwrap();
    store.seed_staff().await.unwrap();
    let sync = Client::new(base, token);
    sync.round(&store).await.unwrap();
    import_all(&store, &[review("late-review", "P1", "passed")]).await;
    sync.round(&store).await.unwrap();
}

async fn received_at(store: &Store, id: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let at: String = sqlx::query_scalar("SELECT received_at FROM events WHERE id = ?")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(&at).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_five_hours_behind_converges_and_keeps_its_times() {
    if let Ok(db) = std::env::var("GGZY_SKEWED_DB") {
        let base = std::env::var("GGZY_SKEWED_BASE").unwrap();
        let token = std::env::var("GGZY_SKEWED_TOKEN").unwrap();
        return skewed(&db, &base, &token).await;
    }
    let (_pg, pool, base) = common::server(16 << 20).await;
    let a = staffed().await;
    let a_sync = Client::new(
        &base,
        &ggzy_server::tokens::add_device(&pool, "甲").await.unwrap(),
    );
    import_all(&a.store, &[register("r1", "P1"), filing("f1", "P1")]).await;
    a_sync.round(&a.store).await.unwrap();

    // The other desktop, five hours behind, in its own process.
    let dir = tempfile::tempdir().unwrap();
    let b_db = dir.path().join("skewed.db");
    let b_token = ggzy_server::tokens::add_device(&pool, "乙").await.unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = tokio::process::Command::new("faketime")
        .args(["-m", "-f", "-5h"])
        .arg(&exe)
        .args(["--exact", TEST, "--nocapture"])
        .env("GGZY_SKEWED_DB", &b_db)
        .env("GGZY_SKEWED_BASE", &base)
        .env("GGZY_SKEWED_TOKEN", &b_token)
        .output()
        .await
        .expect("faketime runs (Debian package faketime)");
    assert!(
        out.status.success(),
        "the skewed desktop failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // A takes in B's review after its own events, wherever B's clock put it.
    a_sync.round(&a.store).await.unwrap();
    let b = Store::open(&b_db).await.unwrap();
    Client::new(&base, &b_token).round(&b).await.unwrap();
    let p1 = |s: &Store| {
        let pool = s.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT progress FROM projects WHERE code = 'P1'")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (on_a, on_b) = (p1(&a.store).await, p1(&b).await);
    assert_eq!(on_a, on_b);
    assert!(on_a.contains("passed"), "{on_a}");
    assert!(a.store.conflicts().await.unwrap().is_empty());
    // Its time is shown as B recorded it: five hours before A's clock,
    // though it came after A's events, on both desktops.
    let (filed, reviewed) = (
        received_at(&a.store, "f1").await,
        received_at(&a.store, "late-review").await,
    );
    let behind = filed - reviewed;
    assert!(
        behind > chrono::Duration::hours(4) && behind < chrono::Duration::hours(6),
        "filed {filed}, reviewed {reviewed}"
    );
    assert_eq!(reviewed, received_at(&b, "late-review").await);
    for s in [&a.store, &b] {
        let v = s.verify_audit(|_, _| {}).await.unwrap();
        assert_eq!(v.broken, None, "{v:?}");
    }
}
