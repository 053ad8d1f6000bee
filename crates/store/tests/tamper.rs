//! Tampering with the SQLite file by hand: `verify` fails and names the
//! record. The attacker first drops the append-only triggers, as anyone
//! with the file and the sqlite3 shell could.

mod common;
use common::*;
use ggzy_core::audit::{chain, hex, Hash};
use ggzy_store::audit::Verdict;
use ggzy_store::Store;
use serde_json::json;

async fn seeded() -> Db {
    let d = staffed().await;
    let lines = [
        register("e1", "P1"),
        line(
            "e2",
            "materials.submitted",
            "P1",
            json!({"stage": "consultation"}),
        ),
        line(
            "e3",
            "materials.verified",
            "P1",
            json!({"stage": "consultation", "outcome": "returned", "reason": "请补充 https://x.cn/1 所列附件"}),
        ),
        register("e4", "P2"),
        line(
            "e5",
            "filing.submitted",
            "P2",
            json!({"stage": "tender_notice"}),
        ),
    ]
    .join("\n");
    let s = d.store.import(lines.as_bytes(), "t", |_| {}).await.unwrap();
    assert_eq!(s.accepted, 5);
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
    // Records 1–2 are the two users; events e1..e5 are records 3..7.
    d
}

async fn attack(store: &Store, sql: &[&str]) {
    for t in [
        "audit_records_no_update",
        "audit_records_no_delete",
        "events_no_update",
        "events_no_delete",
        "pushes_no_delete",
        "pushes_no_update",
        "messages_no_update",
        "messages_no_delete",
    ] {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
    for s in sql {
        sqlx::query(s).execute(store.pool()).await.unwrap();
    }
}

async fn broken_at(store: &Store) -> (Option<i64>, String) {
    let v: Verdict = store.verify_audit(|_, _| {}).await.unwrap();
    let b = v.broken.expect("verify should fail");
    (b.seq, b.message)
}

#[tokio::test]
async fn the_database_refuses_to_change_the_trail() {
    let d = seeded().await;
    for sql in [
        "UPDATE audit_records SET content = '{}' WHERE seq = 3",
        "DELETE FROM audit_records WHERE seq = 7",
        "DELETE FROM events",
    ] {
        let err = sqlx::query(sql).execute(d.store.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn an_altered_record_is_named() {
    let d = seeded().await;
    attack(
        &d.store,
        &["UPDATE audit_records SET content = replace(content, 'e3', 'e9') WHERE seq = 5"],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(5), "{msg}");
    assert!(msg.contains("篡改"), "{msg}");
}

#[tokio::test]
async fn a_removed_record_is_named() {
    let d = seeded().await;
    attack(&d.store, &["DELETE FROM audit_records WHERE seq = 4"]).await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(4), "{msg}");
    assert!(msg.contains("删除"), "{msg}");
}

#[tokio::test]
async fn a_removed_last_record_is_named() {
    let d = seeded().await;
    attack(&d.store, &["DELETE FROM audit_records WHERE seq = 7"]).await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(7), "{msg}");
}

#[tokio::test]
async fn an_inserted_record_is_named_even_with_a_correct_hash() {
    let d = seeded().await;
    let (prev,): (Vec<u8>,) = sqlx::query_as("SELECT hash FROM audit_records WHERE seq = 7")
        .fetch_one(d.store.pool())
        .await
        .unwrap();
    let prev: Hash = prev.try_into().unwrap();
    let content = r#"{"at":"2026-11-27T10:00:00.000+08:00","event_digest":"00","kind":"event.accepted","pushes":[],"subject":"forged"}"#;
    let (prev, hash) = (hex(&prev), hex(&chain(&prev, content)));
    let device = d.store.device_n();
    let insert = format!(
        "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) \
         VALUES ({device}, 8, '{content}', X'{prev}', X'{hash}')"
    );
    attack(&d.store, &[&insert]).await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(8), "{msg}");
}

#[tokio::test]
async fn a_record_inserted_mid_chain_is_named() {
    let d = seeded().await;
    // Shift records 5.. up by one and slip a forged record in at 5, chained to 4.
    let (prev,): (Vec<u8>,) = sqlx::query_as("SELECT hash FROM audit_records WHERE seq = 4")
        .fetch_one(d.store.pool())
        .await
        .unwrap();
    let prev: Hash = prev.try_into().unwrap();
    let content = r#"{"at":"x","kind":"user.added","subject":"mallory"}"#;
    let (prev, hash) = (hex(&prev), hex(&chain(&prev, content)));
    let device = d.store.device_n();
    let insert = format!(
        "INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) \
         VALUES ({device}, 5, '{content}', X'{prev}', X'{hash}')"
    );
    attack(
        &d.store,
        &[
            "UPDATE audit_records SET seq = seq + 100 WHERE seq >= 5",
            "UPDATE audit_records SET seq = seq - 99 WHERE seq >= 105",
            &insert,
        ],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(
        seq,
        Some(6),
        "the record after the forgery no longer follows: {msg}"
    );
}

#[tokio::test]
async fn an_altered_push_or_event_is_named_by_its_record() {
    let d = seeded().await;
    attack(
        &d.store,
        &[
            "UPDATE messages SET body = replace(body, 'https://x.cn/1', 'https://evil.cn/1') \
                        WHERE no IN (SELECT message FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e3'))",
        ],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(5), "{msg}");
    assert!(msg.contains("e3"), "{msg}");

    // One recipient's name (and so its greeting), or a push pointed at another message.
    let d = seeded().await;
    attack(&d.store, &["UPDATE pushes SET recipient_name = '假' || recipient_name WHERE no = (SELECT max(no) FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e3'))"]).await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(5), "{msg}");
    let d = seeded().await;
    attack(
        &d.store,
        &["UPDATE pushes SET message = (SELECT min(no) FROM messages) WHERE event = (SELECT no FROM events WHERE id = 'e5')"],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(7), "{msg}");
    // A push moved under another event: neither matches its record any more,
    // and the first in the chain is named (here the one it was moved to).
    let d = seeded().await;
    attack(
        &d.store,
        &["UPDATE pushes SET event = (SELECT no FROM events WHERE id = 'e1') \
           WHERE no = (SELECT max(no) FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e3'))"],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(3), "{msg}");
    assert!(msg.contains("e1"), "{msg}");
    let d = seeded().await;
    attack(
        &d.store,
        &["UPDATE pushes SET event = (SELECT no FROM events WHERE id = 'e5') \
           WHERE no = (SELECT max(no) FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e3'))"],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(5), "the one it left: {msg}");
    assert!(msg.contains("e3"), "{msg}");

    let d = seeded().await;
    attack(
        &d.store,
        &["UPDATE events SET body = replace(body, 'P2 工程', 'P2 改名') WHERE id = 'e4'"],
    )
    .await;
    let (seq, msg) = broken_at(&d.store).await;
    assert_eq!(seq, Some(6), "{msg}");

    let d = seeded().await;
    attack(
        &d.store,
        &["DELETE FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e1') AND recipient_role = 'agency'"],
    )
    .await;
    let (seq, _) = broken_at(&d.store).await;
    assert_eq!(seq, Some(3));
}
