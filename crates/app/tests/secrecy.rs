//! Who the drawn experts are stays secret (4.6): the project view and the
//! push log conceal their names, ids, contacts and what they were sent from
//! every role but the supervisor (监督), whose every look is audited.

use ggzy_app::projects::CONCEALED;
use ggzy_app::pushes::PushLogQuery;
use ggzy_app::App;
use ggzy_core::role::Role;
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::Store;

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

async fn looks(app: &App) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT json_extract(content, '$.subject'), json_extract(content, '$.by') \
         FROM audit_records WHERE json_extract(content, '$.kind') = 'experts.viewed' ORDER BY seq",
    )
    .fetch_all(app.store().pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn drawn_experts_are_concealed_but_from_the_supervisor_whose_looks_are_audited() {
    let (app, _dir) = demo_app().await;
    let (code, expert): (String, String) =
        sqlx::query_as("SELECT project, name FROM parties WHERE role = 'expert' LIMIT 1")
            .fetch_one(app.store().pool())
            .await
            .expect("the demo center has drawn experts");
    let query = || PushLogQuery {
        project: Some(code.clone()),
        ..Default::default()
    };

    for user in ["zhangwei", "wangfang", "admin"] {
        app.login(user, DEMO_PASSWORD).await.unwrap();
        let detail = app.project(&code).await.unwrap();
        let experts: Vec<_> = detail
            .parties
            .iter()
            .filter(|p| p.role == "expert")
            .collect();
        assert!(!experts.is_empty());
        for p in experts {
            assert_eq!(p.name, CONCEALED, "{user}");
            assert_eq!((p.phone.as_deref(), p.email.as_deref()), (None, None));
        }
        let shown = serde_json::to_string(&detail).unwrap();
        assert!(!shown.contains(&expert), "{user} sees {expert}: {shown}");
        let log = app.push_log(query()).await.unwrap();
        let to_experts: Vec<_> = log
            .items
            .iter()
            .filter(|p| p.recipient_role == Role::Expert)
            .collect();
        assert!(!to_experts.is_empty(), "{user}");
        assert!(to_experts
            .iter()
            .all(|p| p.recipient_name == CONCEALED && !p.text.contains(&expert)));
    }
    assert!(looks(&app).await.is_empty(), "no look was taken");

    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let detail = app.project(&code).await.unwrap();
    assert!(detail.parties.iter().any(|p| p.name == expert));
    let log = app.push_log(query()).await.unwrap();
    assert!(log.items.iter().any(|p| p.recipient_name == expert));
    assert_eq!(
        looks(&app).await,
        [
            (code.clone(), "chenjing".to_owned()),
            (code.clone(), "chenjing".to_owned())
        ]
    );
}
