//! Staff log in to the real app and land on the workbench, verify the audit
//! trail and see its head, stay logged in when the page reloads; the backend refuses a command forged from the page when nobody is
//! logged in.

use ggzy_e2e::Driven;

const DEMO_PASSWORD: &str = "Demo@2026";

#[tokio::test]
async fn center_staff_log_in_to_the_workbench() {
    let app = Driven::start().await;
    app.find("[data-test=username]").await;
    app.screenshot("login").await;

    // A wrong password is refused with a message that says what to do.
    app.login("zhangwei", "not the password").await;
    app.text_contains(".el-message", "用户名或密码错误").await;

    app.login("zhangwei", DEMO_PASSWORD).await;
    app.text_contains("[data-test=current-user]", "张伟（中心工作人员）")
        .await;
    // The demo center's twelve projects, counted by the backend.
    app.text_contains("[data-counter=projects]", "12").await;
    // The latest activity of the trail (the demo's dispatcher may be
    // writing it faster than the login's own record shows in the top ten).
    app.text_where("[data-test=recent]", "timed entries", |t| {
        t.lines().filter(|l| l.contains(" · ")).count() >= 5
    })
    .await;
    // The demo's tender-notice materials wait past their one working day
    // (submitted Friday 9 October, due the make-up Saturday after).
    app.text_contains(
        "[data-task-due='LH-2026-0104']",
        "招标公告发布资料查验：逾期",
    )
    .await;
    app.text_contains("[data-task=deadlines_overdue]", "2026-10-10 到期")
        .await;
    app.screenshot("workbench").await;

    // The audit trail, verified from the window with progress.
    app.click("[data-menu='/audit']").await;
    app.click("[data-test=verify]").await;
    app.text_contains("[data-test=verify-result]", "审计链完整")
        .await;
    app.text_contains("[data-test=verify-progress]", "100%")
        .await;
    // The head to keep elsewhere, as `ggzy audit head` prints it.
    app.text_where("[data-test=audit-head-line]", "SEQ:HASH", |t| {
        t.trim()
            .split_once(':')
            .is_some_and(|(seq, hash)| seq.parse::<u64>().is_ok_and(|n| n > 0) && hash.len() == 64)
    })
    .await;
    app.screenshot("audit").await;

    // The page reloaded (the backend still holds the session): it shows the
    // login form at once, learns it is logged in and goes back by itself to
    // the page it was on.
    app.client.refresh().await.expect("reload the page");
    app.text_contains("[data-test=current-user]", "张伟（中心工作人员）")
        .await;
    app.find("[data-test=audit-head]").await;

    // Logged out, a command sent by hand from the page is refused by the backend.
    app.click("[data-test=logout]").await;
    app.find("[data-test=username]").await;
    let refused = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('workbench').then(
               () => done('accepted'), (e) => done(e.code));",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(refused, "not_logged_in");
    app.stop().await;
}

/// A center that allows one idle minute: left alone for longer (the unread
/// count the window polls meanwhile does not keep the session alive), the
/// app shows the login form, and logging in again brings the person back to
/// the page they were on.
#[tokio::test]
async fn an_idle_session_returns_to_login_and_back_to_the_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ggzy.db");
    for args in [
        vec!["demo"],
        vec!["settings", "set", "session_idle_minutes", "1"],
    ] {
        let status = std::process::Command::new(ggzy_e2e::sibling("ggzy"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run ggzy");
        assert!(status.success());
    }
    let app = Driven::start_in(dir).await;
    app.login("zhangwei", DEMO_PASSWORD).await;
    app.text_contains("[data-test=current-user]", "张伟").await;
    app.click("[data-menu='/audit']").await;
    app.find("[data-test=verify]").await;

    // The window asks for the unread count every few seconds: once the
    // minute is up, that question ends the session and the login shows by
    // itself.
    tokio::time::sleep(std::time::Duration::from_secs(62)).await;
    app.text_contains("[data-test=expired]", "长时间未操作")
        .await;
    app.find("[data-test=username]").await;
    app.screenshot("session-expired").await;

    app.login("zhangwei", DEMO_PASSWORD).await;
    app.find("[data-test=audit-head]").await;
    let url = app.client.current_url().await.expect("url");
    assert!(url.as_str().ends_with("#/audit"), "{url}");
    app.stop().await;
}
