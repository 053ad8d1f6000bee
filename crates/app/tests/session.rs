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
