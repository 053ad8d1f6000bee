//! A database from before a migration that derives a column reads, once
//! migrated, as the core derives it: the backfill of `refund_pending`
//! (0011) run again over a demo center whose marks were wiped gives every
//! project the mark `Project::refund_pending` gives it, which `audit verify`
//! holds each row to.

use ggzy_store::Store;

#[tokio::test]
async fn the_refund_backfill_agrees_with_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    // LH-2026-0109's award is out and no deposit refunded: its contract
    // filed, the refund is owed.
    let contract = r#"{"id":"c-0109","type":"filing.submitted","at":"2026-11-28T10:00:00+08:00","project":"LH-2026-0109","stage":"contract"}"#;
    store
        .import(contract.as_bytes(), "test", |_| {})
        .await
        .unwrap();
    let owed: Vec<String> =
        sqlx::query_scalar("SELECT code FROM projects WHERE refund_pending = 1")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(owed, ["LH-2026-0109"]);

    sqlx::query("UPDATE projects SET refund_pending = 0")
        .execute(store.pool())
        .await
        .unwrap();
    let wiped = store.verify_audit(|_, _| {}).await.unwrap().broken;
    assert!(wiped.is_some(), "a wrong mark is found");

    let migration = include_str!("../../../migrations/0011_refund_pending.sql");
    let backfill = migration
        .split(';')
        .find(|s| s.contains("UPDATE projects"))
        .unwrap();
    sqlx::query(backfill).execute(store.pool()).await.unwrap();
    let verdict = store.verify_audit(|_, _| {}).await.unwrap();
    assert!(verdict.broken.is_none(), "{:?}", verdict.broken);
}
