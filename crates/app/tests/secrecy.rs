//! Who the drawn experts are stays secret (4.6): the project view and the
//! push log conceal their names, ids, contacts and what they were sent from
//! every role but the supervisor (监督), whose every look is audited.

mod common;
use common::*;
use ggzy_app::projects::CONCEALED;
use ggzy_app::pushes::PushLogQuery;
use ggzy_app::App;
use ggzy_core::role::Role;
use ggzy_store::demo::DEMO_PASSWORD;

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

/// A draw's own staff (who ran it) see an expert once they sign in, and
/// everyone it called once the evaluation has begun; another center staff
/// member, the supervisory staff and the admin see nobody, before or after;
/// the draw's page shows counts and states, never who, until then.
#[tokio::test]
async fn the_staff_of_an_evaluation_see_experts_from_sign_in_or_its_start_and_nobody_else_does() {
    let (app, _dir) = demo_app().await;
    let code = "LH-2026-0105";
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    save_experts(&app, 4).await;
    let start = chrono::Local::now() + chrono::Duration::seconds(4);
    let d = app.run_draw(code, draw(2, 1, start)).await.unwrap();
    let names = |text: &str| {
        (1..=4)
            .filter(|i| text.contains(&format!("评审专家{i}")))
            .count()
    };
    let view = app.draw_view(&d.id).await.unwrap();
    assert_eq!((view.calls.len(), view.tally[0].waiting), (2, 2));
    assert_eq!(
        names(&serde_json::to_string(&view).unwrap()),
        0,
        "counts, never who"
    );
    assert_eq!(
        names(&serde_json::to_string(&app.project(code).await.unwrap()).unwrap()),
        0
    );

    // The one in front of them signs in: the drawer now sees that one.
    let (drawn,): (String,) =
        sqlx::query_as("SELECT expert_id FROM draw_calls WHERE draw_id = ? AND seq = 1")
            .bind(&d.id)
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    let i: usize = drawn[1..].parse().unwrap();
    let shown = app.sign_in(&d.id, &id_number(i)).await.unwrap();
    assert_eq!(shown.name, format!("评审专家{i}"));
    assert!(
        !shown.id_number.contains(&id_number(i)[6..14]),
        "masked: {}",
        shown.id_number
    );
    let view = app.draw_view(&d.id).await.unwrap();
    assert_eq!(names(&serde_json::to_string(&view).unwrap()), 1);
    let detail = serde_json::to_string(&app.project(code).await.unwrap()).unwrap();
    assert_eq!(names(&detail), 1, "{detail}");
    let query = || PushLogQuery {
        project: Some(code.into()),
        ..Default::default()
    };
    assert_eq!(
        names(&serde_json::to_string(&app.push_log(query()).await.unwrap()).unwrap()),
        1
    );
    for user in ["lina", "liuyang", "admin"] {
        app.login(user, DEMO_PASSWORD).await.unwrap();
        assert_eq!(
            names(&serde_json::to_string(&app.project(code).await.unwrap()).unwrap()),
            0,
            "{user}"
        );
        assert_eq!(
            names(&serde_json::to_string(&app.draw_view(&d.id).await.unwrap()).unwrap()),
            0,
            "{user}"
        );
    }

    // From the evaluation's start its staff see everyone it called; still nobody else.
    let wait = start - chrono::Local::now() + chrono::Duration::milliseconds(300);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    for user in ["lina", "liuyang", "admin"] {
        app.login(user, DEMO_PASSWORD).await.unwrap();
        assert_eq!(
            names(&serde_json::to_string(&app.project(code).await.unwrap()).unwrap()),
            0,
            "{user}"
        );
        assert_eq!(
            names(&serde_json::to_string(&app.push_log(query()).await.unwrap()).unwrap()),
            0,
            "{user}"
        );
    }
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let view = app.draw_view(&d.id).await.unwrap();
    assert!(view.started);
    assert_eq!(names(&serde_json::to_string(&view).unwrap()), 2);
    assert_eq!(
        names(&serde_json::to_string(&app.project(code).await.unwrap()).unwrap()),
        2
    );
    // Every look that showed someone is on the trail, by who looked.
    let by: Vec<String> = looks(&app).await.into_iter().map(|(_, by)| by).collect();
    assert!(
        by.len() >= 4 && by.iter().all(|b| b == "zhangwei"),
        "{by:?}"
    );
}
