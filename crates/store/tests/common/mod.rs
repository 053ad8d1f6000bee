//! Test helpers: a real SQLite file in a temp dir, staff, and a dump of
//! every table to compare states.
#![allow(dead_code)]

use ggzy_core::role::StaffRole;
use ggzy_store::users::NewUser;
use ggzy_store::Store;
use serde_json::{json, Value};

pub struct Db {
    pub store: Store,
    pub dir: tempfile::TempDir,
}

impl Db {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("ggzy.db")
    }
}

pub async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    Db { store, dir }
}

/// A database with one center staff and one supervisory staff member.
pub async fn staffed() -> Db {
    let d = db().await;
    add_staff(&d.store, "cs1", "张一", StaffRole::CenterStaff).await;
    add_staff(&d.store, "ss1", "王一", StaffRole::SupervisorStaff).await;
    d
}

pub async fn add_staff(store: &Store, username: &str, name: &str, role: StaffRole) {
    store
        .add_user(
            NewUser {
                username: username.into(),
                name: name.into(),
                role,
                phone: None,
                email: None,
                password: Some("correct horse".into()),
            },
            "test",
        )
        .await
        .unwrap();
}

/// Every table's rows, in a stable order, as one string. `rejects` is left
/// out, and the audit records of kept refusals with the chain's head:
/// keeping a refused line, audited, is the one write a refusal makes.
pub async fn snapshot(store: &Store) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('rejects', '_sqlx_migrations') ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut out = String::new();
    for t in tables {
        let cols: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .fetch_all(store.pool())
                .await
                .unwrap();
        let only = match t.as_str() {
            "audit_records" => " WHERE content ->> '$.kind' <> 'rejects.kept'",
            "audit_heads" => " WHERE false",
            _ => "",
        };
        let sql = format!(
            "SELECT coalesce(json_group_array(json_array({})), '[]') FROM (SELECT * FROM {t}{only} ORDER BY {})",
            // quote(): any value as an SQL literal, blobs included.
            cols.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(", "),
            (1..=cols.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        );
        let dump: String = sqlx::query_scalar(&sql)
            .fetch_one(store.pool())
            .await
            .unwrap();
        out.push_str(&format!("{t}: {dump}\n"));
    }
    out
}

pub fn line(id: &str, kind: &str, project: &str, fields: Value) -> String {
    let mut e =
        json!({"id": id, "type": kind, "at": "2026-11-27T09:30:00+08:00", "project": project});
    for (k, v) in fields.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string()
}

/// The filing of the tender notice, round 1.
pub fn filing(id: &str, project: &str) -> String {
    line(
        id,
        "filing.submitted",
        project,
        json!({"stage": "tender_notice", "round": 1}),
    )
}

/// The review of that filing: `passed` or `rejected`.
pub fn review(id: &str, project: &str, outcome: &str) -> String {
    line(
        id,
        "filing.reviewed",
        project,
        json!({"stage": "tender_notice", "round": 1, "outcome": outcome, "opinion": "意见"}),
    )
}

/// The tender notice's materials, submitted for checking.
pub fn materials(id: &str, project: &str) -> String {
    line(
        id,
        "materials.submitted",
        project,
        json!({"stage": "tender_notice"}),
    )
}

/// The verdict on those materials: `passed` or `returned`.
pub fn verdict(id: &str, project: &str, outcome: &str) -> String {
    line(
        id,
        "materials.verified",
        project,
        json!({"stage": "tender_notice", "outcome": outcome, "reason": "资料不全"}),
    )
}

/// Project `P{i}` registered, its tenderer and agency each with a mobile
/// phone (both take SMS).
pub fn mobile_project(i: usize) -> String {
    line(
        &format!("r{i}"),
        "project.registered",
        &format!("P{i}"),
        json!({"name": format!("项目{i}"),
               "tenderer": {"id": format!("T{i}"), "name": "招标人", "phone": format!("1380000{i:04}")},
               "agency": {"id": "A", "name": "代理机构", "phone": "13900000000"}}),
    )
}

/// Import `lines` as one file; every line must be accepted.
pub async fn import_all(store: &Store, lines: &[String]) {
    let s = store
        .import(std::io::Cursor::new(lines.join("\n")), "test", |_| {})
        .await
        .unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused);
}

pub fn register(id: &str, project: &str) -> String {
    line(
        id,
        "project.registered",
        project,
        json!({"name": format!("{project} 工程"), "tenderer": {"id": "T", "name": "招标人", "phone": "0576-85000001"},
               "agency": {"id": "A", "name": "代理机构", "email": "a@agency.cn"}}),
    )
}

pub async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
}
