//! The app's commands on a real SQLite file, no window: who may do what.

use ggzy_app::{App, ANY_ROLE};
use ggzy_core::role::StaffRole;
use ggzy_store::demo::DEMO_PASSWORD;
use ggzy_store::users::NewUser;
use ggzy_store::Store;

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ggzy.db")).await.unwrap();
    store.seed_demo().await.unwrap();
    (App::new(store), dir)
}

#[tokio::test]
async fn nothing_but_login_works_before_login() {
    let (app, _dir) = demo_app().await;
    assert_eq!(app.workbench().await.unwrap_err().code, "not_logged_in");
    let err = app.login("zhangwei", "wrong").await.unwrap_err();
    assert_eq!(err.code, "bad_credentials");
    assert!(app.session().is_none());

    let s = app.login(" zhangwei ", DEMO_PASSWORD).await.unwrap();
    assert_eq!((s.name.as_str(), s.role), ("张伟", StaffRole::CenterStaff));
    assert_eq!(s.role_name, "中心工作人员");
    let wb = app.workbench().await.unwrap();
    assert_eq!(wb.projects, 12, "the demo center's projects");
    assert!(wb.pushes_queued > 0);
    assert_eq!(wb.recent[0].kind, "user.login", "{:?}", wb.recent[0]);
    assert_eq!(wb.recent[0].subject, "zhangwei");

    app.logout();
    assert_eq!(app.workbench().await.unwrap_err().code, "not_logged_in");
}

#[tokio::test]
async fn a_role_is_checked_by_the_backend() {
    let (app, _dir) = demo_app().await;
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    let err = app
        .require(&[StaffRole::CenterStaff], "登记项目")
        .unwrap_err();
    assert_eq!(err.code, "forbidden");
    assert!(err.message.contains("登记项目"), "{}", err.message);
    assert!(app.require(ANY_ROLE, "查看").is_ok());
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_first() {
    let (app, _dir) = demo_app().await;
    let one_time = app
        .store()
        .add_user(
            NewUser {
                username: "xiaozhou".into(),
                name: "周晓".into(),
                role: StaffRole::CenterStaff,
                phone: None,
                email: None,
                password: None,
            },
            "admin",
        )
        .await
        .unwrap()
        .unwrap();
    let s = app.login("xiaozhou", &one_time).await.unwrap();
    assert!(s.must_change_password);
    assert_eq!(
        app.workbench().await.unwrap_err().code,
        "must_change_password"
    );
    let s = app
        .change_password(&one_time, "新的密码 2026")
        .await
        .unwrap();
    assert!(!s.must_change_password);
    app.workbench().await.unwrap();
}

#[tokio::test]
async fn projects_are_searched_paged_and_traced() {
    let (app, _dir) = demo_app().await;
    assert_eq!(
        app.projects(None, None, 1).await.unwrap_err().code,
        "not_logged_in"
    );
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();

    let all = app.projects(None, None, 1).await.unwrap();
    assert_eq!((all.total, all.items.len()), (12, 12));
    // A search matches code or name; LIKE's wildcards are taken literally.
    let hit = app.projects(Some("0110".into()), None, 1).await.unwrap();
    assert_eq!(hit.total, 1);
    assert_eq!(hit.items[0].code, "LH-2026-0110");
    assert_eq!(
        app.projects(Some("%".into()), None, 1).await.unwrap().total,
        0
    );
    // Past the last page: nothing, but the total still says how many.
    let beyond = app.projects(None, None, 2).await.unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (12, 0));

    let detail = app.project("LH-2026-0110").await.unwrap();
    assert_eq!(detail.project.code, "LH-2026-0110");
    assert_eq!(detail.events.len() as i64, detail.project.events);
    let registered = &detail.events[0];
    assert_eq!(registered.kind, "project.registered");
    assert!(
        !registered.pushes.is_empty(),
        "4.2 pushes to tenderer and agency"
    );
    let push = &registered.pushes[0];
    assert_eq!(push.clause, "4.2");
    assert!(push.text.contains(&detail.project.name), "{}", push.text);
    assert_eq!(app.project("NOPE").await.unwrap_err().code, "not_found");
}
