//! Forgeries by someone who holds the database file: current state changed
//! behind the trail's back (caught by `verify` naming the table and row),
//! and history rewritten with every later hash recomputed (caught only by a
//! head written down earlier: `--expect-head`). The attacker drops the
//! append-only triggers first, as anyone with the sqlite3 shell could, and
//! re-chains with SM3 straight from the `sm3` crate, not the store's code.

mod common;
use common::*;
use ggzy_core::audit::Head;
use ggzy_core::error::ErrorCode;
use ggzy_core::reach::ContactRules;
use ggzy_core::role::StaffRole;
use ggzy_store::outbox::Attempt;
use ggzy_store::users::UserChange;
use ggzy_store::Store;
use serde_json::json;
use sm3::{Digest, Sm3};

/// A center that has lived a little: staff who logged in (one wrongly),
/// settings, a channel configuration and contact rules, pushes delivered,
/// dead and put back in line, lines refused, one corrected, one still open.
async fn lived() -> Db {
    let d = staffed().await;
    let s = &d.store;
    add_staff(s, "adm", "管理员", StaffRole::Admin).await;
    s.authenticate("cs1", "correct horse").await.unwrap();
    s.authenticate("ss1", "wrong horse").await.unwrap_err();
    s.authenticate("adm", "wrong horse").await.unwrap_err();
    s.set_settings(
        &[
            ("center_name", "临海中心"),
            ("center_phone", "0576-85000000"),
        ],
        "adm",
    )
    .await
    .unwrap();
    s.save_dispatch_config(r#"{"sms":[]}"#, "adm")
        .await
        .unwrap();
    s.save_contact_rules(&ContactRules::default(), "adm")
        .await
        .unwrap();
    let lines = [
        register("e1", "P1"),
        line(
            "e2",
            "filing.submitted",
            "P1",
            json!({"stage": "tender_notice"}),
        ),
        line(
            "e3",
            "materials.submitted",
            "NOPE",
            json!({"stage": "consultation"}),
        ),
        "{not json".to_owned(),
    ]
    .join("\n");
    s.import(lines.as_bytes(), "t", |_| {}).await.unwrap();
    let open = s.rejects(false).await.unwrap();
    let malformed = open.iter().find(|r| r.code == "malformed").unwrap();
    s.fix_reject(
        malformed.id,
        "app:cs1",
        Some(StaffRole::CenterStaff),
        &register("e4", "P4"),
    )
    .await
    .unwrap();

    let claimed = s.claim_due(100, 60).await.unwrap();
    assert!(claimed.len() >= 3, "{claimed:?}");
    let nos: Vec<i64> = claimed.iter().map(|c| c.push.no).collect();
    s.finish(nos[0], Attempt::Dead, "网关拒收", None)
        .await
        .unwrap();
    s.finish(nos[1], Attempt::Sent, "已受理", None)
        .await
        .unwrap();
    s.finish(nos[2], Attempt::Dead, "网关拒收", None)
        .await
        .unwrap();
    s.requeue(nos[2], "cs1").await.unwrap();
    s.finish(nos[2], Attempt::Delivered, "已送达", None)
        .await
        .unwrap();
    for n in &nos[3..] {
        s.finish(*n, Attempt::Delivered, "已送达", None)
            .await
            .unwrap();
    }
    s.change_user(
        "ss1",
        &UserChange {
            role: Some(StaffRole::SupervisorStaff),
            active: Some(true),
            reset_password: true,
        },
        "adm",
    )
    .await
    .unwrap();
    let v = s.verify_audit(|_, _| {}).await.unwrap();
    assert_eq!(v.broken, None, "a center's own work reads as intact");
    d
}

async fn attack(store: &Store, sql: &[&str]) {
    let triggers: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .unwrap();
    for t in triggers {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    for s in sql {
        sqlx::query(s).execute(&mut *conn).await.unwrap();
    }
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn verdict(store: &Store, expect: Option<Head>) -> Option<(Option<i64>, String)> {
    let v = store
        .verify_audit_expecting(expect, |_, _| {})
        .await
        .unwrap();
    v.broken.map(|b| (b.seq, b.message))
}

#[tokio::test]
async fn state_changed_behind_the_trail_is_named_with_its_table() {
    let forgeries: &[(&str, &str, &str)] = &[
        ("UPDATE push_states SET status = 'delivered' WHERE status = 'dead'", "push_states", "dead"),
        ("DELETE FROM push_states WHERE status = 'dead'", "push_states", "被删除"),
        ("UPDATE push_states SET series = 0", "push_states", "重新排队"),
        ("INSERT INTO push_states (push_no, status, updated_at) SELECT max(no), 'delivered', 'x' FROM pushes WHERE no NOT IN (SELECT push_no FROM push_states)", "push_states", "没有任何状态记录"),
        ("DELETE FROM push_status WHERE id = (SELECT max(id) FROM push_status)", "push_status", "被删除"),
        ("UPDATE push_status SET status = 'delivered' WHERE status = 'dead'", "push_status", "被改写"),
        ("UPDATE users SET role = 'admin' WHERE username = 'cs1'", "users", "role"),
        ("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'adm') WHERE username = 'cs1'", "users", "密码"),
        ("UPDATE users SET active = 0 WHERE username = 'adm'", "users", "active"),
        ("UPDATE users SET failed_logins = 0 WHERE username = 'adm'", "users", "failed_logins"),
        ("INSERT INTO users (username, name, role, password_hash, must_change_password, created_at) SELECT 'mallory', 'M', 'admin', password_hash, 0, 'x' FROM users WHERE username = 'adm'", "users", "mallory"),
        ("DELETE FROM users WHERE username = 'ss1'", "users", "被删除"),
        ("DELETE FROM rejects", "rejects", "被删除"),
        ("UPDATE rejects SET resolved_at = 'x', resolved_by = 'e1' WHERE resolved_at IS NULL", "rejects", "已处理"),
        ("UPDATE rejects SET resolved_at = NULL, resolved_by = NULL", "rejects", "待处理"),
        ("UPDATE rejects SET message = '格式正确' WHERE resolved_at IS NULL", "rejects", "原因"),
        ("UPDATE settings SET value = '假中心' WHERE key = 'center_name'", "settings", "假中心"),
        ("DELETE FROM settings WHERE key = 'center_phone'", "settings", "被删除"),
        ("UPDATE meta SET value = '{\"sms\":[{\"name\":\"evil\"}]}' WHERE key = 'dispatch_config'", "meta", "dispatch_config"),
        ("DELETE FROM meta WHERE key = 'contact_rules'", "meta", "contact_rules"),
    ];
    for (sql, table, says) in forgeries {
        let d = lived().await;
        named_after(&d.store, sql, table, says).await;
    }
}

/// `verify` fails after `sql`, naming `table` and saying `says`.
async fn named_after(store: &Store, sql: &str, table: &str, says: &str) {
    attack(store, &[sql]).await;
    let Some((_, message)) = verdict(store, None).await else {
        panic!("verify passed after: {sql}");
    };
    assert!(
        message.contains(&format!("表 {table} ")) && message.contains(says),
        "{sql}\n→ {message}"
    );
}

/// Records `from..` recomputed after an edit, and the head moved: the
/// chain is whole again, as a careful forger leaves it.
async fn rechain(store: &Store, from: i64) {
    let device = store.device_n();
    let mut prev: Vec<u8> = sqlx::query_scalar(
        "SELECT coalesce((SELECT hash FROM audit_records WHERE origin_device = ?1 AND seq = ?2 - 1), zeroblob(32))",
    )
    .bind(device)
    .bind(from)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, content FROM audit_records WHERE origin_device = ? AND seq >= ? ORDER BY seq",
    )
    .bind(device)
    .bind(from)
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (seq, content) in rows {
        let mut h = Sm3::new();
        h.update(&prev);
        h.update(content.as_bytes());
        let hash = h.finalize().to_vec();
        sqlx::query(
            "UPDATE audit_records SET prev_hash = ?, hash = ? WHERE origin_device = ? AND seq = ?",
        )
        .bind(&prev)
        .bind(&hash)
        .bind(device)
        .bind(seq)
        .execute(store.pool())
        .await
        .unwrap();
        prev = hash;
    }
    sqlx::query(
        "UPDATE audit_heads SET seq = (SELECT max(seq) FROM audit_records WHERE origin_device = ?1), hash = ?2 \
         WHERE origin_device = ?1",
    )
    .bind(device)
    .bind(&prev)
    .execute(store.pool())
    .await
    .unwrap();
}

/// The lived center, two more events at its tail, and the head written down
/// before them and after.
async fn anchored() -> (Db, Head, Head) {
    let d = lived().await;
    let before = d.store.audit_head().await.unwrap();
    let tail = [register("e8", "P8"), register("e9", "P9")].join("\n");
    d.store.import(tail.as_bytes(), "t", |_| {}).await.unwrap();
    let after = d.store.audit_head().await.unwrap();
    assert_eq!(after.seq, before.seq + 2);
    assert_eq!(verdict(&d.store, Some(before)).await, None);
    assert_eq!(verdict(&d.store, Some(after)).await, None);
    (d, before, after)
}

/// The last event, its pushes, messages and record removed as if they had
/// never been: nothing left behind for `verify` to trip on.
const DROP_E9: &[&str] = &[
    "DELETE FROM pushes WHERE event = (SELECT no FROM events WHERE id = 'e9')",
    "DELETE FROM messages WHERE no NOT IN (SELECT message FROM pushes)",
    "DELETE FROM parties WHERE project = 'P9'",
    "DELETE FROM projects WHERE code = 'P9'",
    "DELETE FROM audit_records WHERE seq = (SELECT origin_seq FROM events WHERE id = 'e9')",
    "DELETE FROM events WHERE id = 'e9'",
];

#[tokio::test]
async fn a_truncated_history_with_its_head_moved_fails_against_an_earlier_head() {
    let (d, _, after) = anchored().await;
    attack(&d.store, DROP_E9).await;
    rechain(&d.store, after.seq).await;
    assert_eq!(
        verdict(&d.store, None).await,
        None,
        "without a head kept elsewhere it passes"
    );
    let (seq, message) = verdict(&d.store, Some(after)).await.expect("caught");
    assert_eq!(seq, Some(after.seq), "{message}");
    assert!(message.contains("截断"), "{message}");
}

#[tokio::test]
async fn a_rewritten_middle_record_fails_against_a_later_head() {
    let (d, before, after) = anchored().await;
    // cs1's first record: who added them, rewritten; every later hash recomputed.
    let (seq,): (i64,) =
        sqlx::query_as("SELECT min(seq) FROM audit_records WHERE content ->> '$.subject' = 'cs1'")
            .fetch_one(d.store.pool())
            .await
            .unwrap();
    attack(
        &d.store,
        &[&format!(
            "UPDATE audit_records SET content = replace(content, '\"by\":\"test\"', '\"by\":\"mallory\"') WHERE seq = {seq}"
        )],
    )
    .await;
    rechain(&d.store, seq).await;
    assert_eq!(
        verdict(&d.store, None).await,
        None,
        "without a head kept elsewhere it passes"
    );
    for head in [before, after] {
        let (at, message) = verdict(&d.store, Some(head)).await.expect("caught");
        assert_eq!(at, Some(head.seq), "{message}");
        assert!(message.contains("所持链头"), "{message}");
    }
}

#[tokio::test]
async fn two_records_swapped_and_rechained_fail_against_a_later_head() {
    let (d, before, _) = anchored().await;
    // The first two records (two staff added) trade places.
    attack(
        &d.store,
        &[
            "UPDATE audit_records SET seq = -1 WHERE seq = 1",
            "UPDATE audit_records SET seq = 1 WHERE seq = 2",
            "UPDATE audit_records SET seq = 2 WHERE seq = -1",
        ],
    )
    .await;
    rechain(&d.store, 1).await;
    assert_eq!(
        verdict(&d.store, None).await,
        None,
        "without a head kept elsewhere it passes"
    );
    let (at, message) = verdict(&d.store, Some(before)).await.expect("caught");
    assert_eq!(at, Some(before.seq), "{message}");
}

#[tokio::test]
async fn a_forged_record_chained_in_place_of_the_tail_fails_against_a_later_head() {
    let (d, _, after) = anchored().await;
    // e9 never happened; in its place a login by cs1, with cs1's state as it is.
    attack(&d.store, DROP_E9).await;
    let (state,): (String,) = sqlx::query_as(
        "SELECT content ->> '$.state' FROM audit_records WHERE content ->> '$.subject' = 'cs1' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(d.store.pool())
    .await
    .unwrap();
    let forged = format!(
        r#"{{"at":"2026-12-01T09:00:00.000+08:00","kind":"user.login","state":{state},"subject":"cs1"}}"#
    );
    sqlx::query("INSERT INTO audit_records (origin_device, seq, content, prev_hash, hash) VALUES (?, ?, ?, zeroblob(32), zeroblob(32))")
        .bind(d.store.device_n())
        .bind(after.seq)
        .bind(&forged)
        .execute(d.store.pool())
        .await
        .unwrap();
    rechain(&d.store, after.seq).await;
    assert_eq!(
        verdict(&d.store, None).await,
        None,
        "without a head kept elsewhere it passes"
    );
    let (at, message) = verdict(&d.store, Some(after)).await.expect("caught");
    assert_eq!(at, Some(after.seq), "{message}");
}

#[tokio::test]
async fn verify_reads_the_file_as_it_is_and_refuses_what_is_no_database() {
    let d = lived().await;
    let path = d.path();
    d.store.close().await;
    let store = Store::open_read_only(&path).await.unwrap();
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap().broken, None);
    let head = store.audit_head().await.unwrap();
    assert!(head.seq > 10, "{head}");
    assert!(
        store.set_setting("center_name", "改", "x").await.is_err(),
        "a read-only store writes nothing"
    );

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mistyped.db");
    let err = Store::open_read_only(&missing).await.unwrap_err();
    assert!(err.to_string().contains("mistyped.db"), "{err}");
    assert!(!missing.exists(), "verify created the file it was given");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open_read_only(&empty).await.unwrap_err();
    assert!(
        err.to_string().contains("empty.db") && err.to_string().contains("空文件"),
        "{err}"
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "会议纪要 ".repeat(100)).unwrap();
    let err = Store::open_read_only(&text).await.unwrap_err();
    assert!(err.to_string().contains("notes.txt"), "{err}");
    let err = Store::open_read_only(dir.path()).await.unwrap_err();
    assert!(err.to_string().contains("目录"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_database_and_its_folder_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("ggzy.db");
    let store = Store::open(&path).await.unwrap();
    store.set_setting("center_name", "中心", "t").await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir.path().join("data").join("ggzy.db-wal")), 0o600);
}

/// The demo is marked in the database itself, audited; a center's own
/// database is never turned into the demo.
#[tokio::test]
async fn the_demo_is_marked_in_its_own_file_and_the_mark_is_held_to_the_trail() {
    let d = db().await;
    d.store.seed_demo().await.unwrap();
    assert!(d.store.is_demo().await.unwrap());
    d.store.seed_demo().await.unwrap();
    assert_eq!(verdict(&d.store, None).await, None);
    attack(&d.store, &["DELETE FROM meta WHERE key = 'demo'"]).await;
    let (_, message) = verdict(&d.store, None).await.expect("caught");
    assert!(message.contains("表 meta 中的 `demo`"), "{message}");

    let own = lived().await;
    let err = own.store.seed_demo().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDemo, "{err}");
    assert!(!own.store.is_demo().await.unwrap());
}

/// The projections (projects and their parties, members, complaints,
/// surveys) are what a replay of the events through the core leaves: a row
/// changed, added or removed by hand is named with its table.
#[tokio::test]
async fn projections_changed_behind_the_events_are_named_with_their_table() {
    const ONE_PARTY: &str =
        "(SELECT project, role, id FROM parties WHERE phone IS NOT NULL ORDER BY project, position LIMIT 1)";
    let forgeries: &[(&str, &str, &str)] = &[
        ("UPDATE projects SET name = '假项目' WHERE code = (SELECT min(code) FROM projects)", "projects", "名称"),
        ("UPDATE projects SET progress = json_set(progress, '$.current', NULL) WHERE code = (SELECT min(code) FROM projects)", "projects", "进度"),
        ("UPDATE projects SET filing_pending = 1 - filing_pending WHERE code = (SELECT min(code) FROM projects)", "projects", "待办标记"),
        ("INSERT INTO projects (code, name, progress, registered_at, updated_at) VALUES ('FAKE-1', '假项目', '{}', 'x', 'x')", "projects", "FAKE-1"),
        ("DELETE FROM projects WHERE code = (SELECT max(code) FROM projects)", "projects", "缺失"),
        (&format!("UPDATE parties SET phone = '13900000000' WHERE (project, role, id) = {ONE_PARTY}"), "parties", "联系方式"),
        (&format!("DELETE FROM parties WHERE (project, role, id) = {ONE_PARTY}"), "parties", "人数"),
        ("INSERT INTO parties (project, role, id, name, phone, position) SELECT min(code), 'bidder', 'EVIL', '假投标人', '13900000000', 99 FROM projects", "parties", "人数"),
        ("UPDATE members SET status = 'active' WHERE status = 'submitted'", "members", "状态"),
        ("UPDATE members SET party = json_set(party, '$.phone', '13900000000') WHERE username = 'tzxcl'", "members", "资料"),
        ("DELETE FROM members WHERE username = 'lhmy'", "members", "缺失"),
        ("UPDATE complaints SET record = json_set(record, '$.result', '已办结') WHERE resolved_at IS NULL", "complaints", "处理结果"),
        ("DELETE FROM complaints WHERE id = 'TS-2026-031'", "complaints", "缺失"),
        ("UPDATE surveys SET timeliness = 1", "surveys", "评分"),
        ("DELETE FROM surveys", "surveys", "缺失"),
    ];
    for (sql, table, says) in forgeries {
        let d = db().await;
        d.store.seed_sample().await.unwrap();
        assert_eq!(
            verdict(&d.store, None).await,
            None,
            "the sample reads as intact"
        );
        named_after(&d.store, sql, table, says).await;
    }
}
