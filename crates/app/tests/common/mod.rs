//! What the app's tests share: the demo center in a temporary folder, and
//! experts and draws as the forms send them.
#![allow(dead_code)]

use ggzy_app::draws::{DrawForm, NeedInput};
use ggzy_app::experts::ExpertForm;
use ggzy_app::App;
use ggzy_core::experts::{check_character, ExpertStatus};
use ggzy_store::Store;

/// The demo center's database in a folder of its own.
pub async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

/// A valid resident ID number, one per `i`.
pub fn id_number(i: usize) -> String {
    let prefix = format!("33108219650708{i:03}");
    format!("{prefix}{}", check_character(&prefix).unwrap())
}

pub fn phone(i: usize) -> String {
    format!("1385761{i:04}")
}

/// Expert `Z00i` (评审专家i) of specialty A01, as the form sends it.
pub fn expert(i: usize, id_number: Option<String>) -> ExpertForm {
    ExpertForm {
        id: format!("Z{i:03}"),
        name: format!("评审专家{i}"),
        id_number,
        phone: Some(phone(i)),
        email: None,
        specialties: vec!["A01".into()],
        employer: format!("单位{i}"),
        region: "台州".into(),
        status: ExpertStatus::Active,
        unavailable: Vec::new(),
    }
}

/// Save experts `1..=n` as the logged-in user.
pub async fn save_experts(app: &App, n: usize) {
    for i in 1..=n {
        app.save_expert(expert(i, Some(id_number(i))))
            .await
            .unwrap();
    }
}

/// A draw of `count` A01 experts and `backups` backups for an evaluation at `start`.
pub fn draw(count: u32, backups: u32, start: chrono::DateTime<chrono::Local>) -> DrawForm {
    DrawForm {
        specialties: vec![NeedInput {
            code: "A01".into(),
            count,
        }],
        backups,
        evaluation_start: start.to_rfc3339(),
        duration_hours: 4.0,
        place: "三楼第二评标室".into(),
        contact_phone: "0576-85110086".into(),
        sender: "临海市公共资源交易中心".into(),
        avoid: Vec::new(),
        recent_days: None,
        regions: Vec::new(),
        reply_minutes: None,
    }
}

/// Change the database behind the app's back with `sql`, as someone with
/// the file could; what `audit verify` then names as broken (it must).
pub async fn tamper(app: &App, sql: &str) -> String {
    let before = app.store().verify_audit(|_, _| {}).await.unwrap().broken;
    assert!(before.is_none(), "intact before: {before:?}");
    sqlx::query(sql).execute(app.store().pool()).await.unwrap();
    app.store()
        .verify_audit(|_, _| {})
        .await
        .unwrap()
        .broken
        .expect("the change is found")
        .message
}
