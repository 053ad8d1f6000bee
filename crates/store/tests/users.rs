//! Staff logins: argon2 check, lock after repeated failures, the one-time
//! password changed at first login, every outcome in the audit trail.

mod common;
use common::*;
use ggzy_core::error::ErrorCode;
use ggzy_core::role::StaffRole;
use ggzy_store::users::{NewUser, MAX_FAILED_LOGINS};
use ggzy_store::{Store, StoreError};

fn code(e: StoreError) -> (String, String) {
    (e.code().to_string(), e.to_string())
}

async fn trail_kinds(store: &Store, subject: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM audit_trail WHERE subject = ? ORDER BY seq")
        .bind(subject)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_read_alike() {
    let d = staffed().await;
    let user = d.store.authenticate("cs1", "correct horse").await.unwrap();
    assert_eq!(
        (user.name.as_str(), user.role.as_str()),
        ("张一", "center_staff")
    );

    let wrong = code(
        d.store
            .authenticate("cs1", "wrong horse")
            .await
            .unwrap_err(),
    );
    let unknown = code(
        d.store
            .authenticate("nobody", "wrong horse")
            .await
            .unwrap_err(),
    );
    assert_eq!(wrong.0, "bad_credentials");
    assert_eq!(
        wrong, unknown,
        "nothing tells a wrong name from a wrong password"
    );
    assert_eq!(
        trail_kinds(&d.store, "cs1").await,
        [
            "user.added",
            "user.login_attempt",
            "user.login",
            "user.login_attempt",
            "user.login_failed"
        ]
    );
    assert_eq!(
        trail_kinds(&d.store, "nobody").await,
        ["user.login_refused"]
    );
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_against_the_right_password() {
    let d = staffed().await;
    // A success in between starts the count again.
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        d.store.authenticate("cs1", "guess").await.unwrap_err();
    }
    d.store.authenticate("cs1", "correct horse").await.unwrap();
    for _ in 0..MAX_FAILED_LOGINS {
        let (c, _) = code(d.store.authenticate("cs1", "guess").await.unwrap_err());
        assert_eq!(c, "bad_credentials");
    }
    let locked = code(
        d.store
            .authenticate("cs1", "correct horse")
            .await
            .unwrap_err(),
    );
    let unknown = code(d.store.authenticate("nobody", "guess").await.unwrap_err());
    assert_eq!(
        locked, unknown,
        "a locked account reads as any failed login"
    );
    let kinds = trail_kinds(&d.store, "cs1").await;
    assert!(kinds.contains(&"user.locked".to_owned()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("user.login_refused"));
    // Others are not affected.
    d.store.authenticate("ss1", "correct horse").await.unwrap();

    // When the lock runs out, the right password works again.
    sqlx::query(
        "UPDATE users SET locked_until = '2000-01-01T00:00:00.000+08:00' WHERE username = 'cs1'",
    )
    .execute(d.store.pool())
    .await
    .unwrap();
    d.store.authenticate("cs1", "correct horse").await.unwrap();
}

#[tokio::test]
async fn a_one_time_password_is_changed_at_first_login() {
    let d = db().await;
    let one_time = d
        .store
        .add_user(
            NewUser {
                username: "new".into(),
                name: "新同事".into(),
                role: StaffRole::CenterStaff,
                phone: None,
                email: None,
                password: None,
            },
            "admin",
        )
        .await
        .unwrap()
        .expect("a generated password");
    let user = d.store.authenticate("new", &one_time).await.unwrap();
    assert!(user.must_change_password);

    for (current, new, want) in [
        ("not it", "a long new secret", ErrorCode::BadCredentials),
        (one_time.as_str(), "short", ErrorCode::WeakPassword),
        (
            one_time.as_str(),
            one_time.as_str(),
            ErrorCode::WeakPassword,
        ),
    ] {
        let err = d
            .store
            .change_password("new", current, new)
            .await
            .unwrap_err();
        assert_eq!(err.code(), want, "{err}");
    }
    // Refused changes changed nothing.
    assert!(
        d.store
            .authenticate("new", &one_time)
            .await
            .unwrap()
            .must_change_password
    );

    d.store
        .change_password("new", &one_time, "a long new secret")
        .await
        .unwrap();
    assert!(d.store.authenticate("new", &one_time).await.is_err());
    let user = d
        .store
        .authenticate("new", "a long new secret")
        .await
        .unwrap();
    assert!(!user.must_change_password);
    assert!(trail_kinds(&d.store, "new")
        .await
        .contains(&"user.password_changed".to_owned()));
}

/// Migration 0002 fills `filing_pending` / `materials_pending` in for a
/// database made before them, in SQL over the stored progress; from then on
/// the store writes them from the core's `Project`. Both must agree: its
/// UPDATE, run again over the demo center with the flags cleared, must give
/// back what the store wrote.
#[tokio::test]
async fn the_migrations_backfill_of_what_waits_agrees_with_the_store() {
    let d = db().await;
    d.store.seed_demo().await.unwrap();
    let flags = |store: &Store| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_as::<_, (String, bool, bool)>(
                "SELECT code, filing_pending, materials_pending FROM projects ORDER BY code",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let written = flags(&d.store).await;
    assert!(written.iter().any(|r| r.1), "the demo has a filing waiting");
    assert!(
        written.iter().any(|r| r.2),
        "the demo has materials waiting"
    );
    sqlx::query("UPDATE projects SET filing_pending = 0, materials_pending = 0")
        .execute(d.store.pool())
        .await
        .unwrap();
    let migration = include_str!("../../../migrations/0002_project_tasks.sql");
    let backfill = migration
        .split(';')
        .find_map(|s| s.find("UPDATE projects").map(|at| &s[at..]))
        .expect("the backfill statement");
    sqlx::query(backfill).execute(d.store.pool()).await.unwrap();
    assert_eq!(flags(&d.store).await, written);
}

/// argon2 takes tens of milliseconds: while a login is checked, the one
/// thread of this runtime goes on serving other tasks (in the app: the
/// dispatcher, receipts, the window's other commands).
#[tokio::test(flavor = "current_thread")]
async fn checking_a_password_leaves_the_runtime_free() {
    let d = staffed().await;
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    tokio::task::yield_now().await;
    let before = ticks.load(std::sync::atomic::Ordering::Relaxed);
    d.store.authenticate("cs1", "correct horse").await.unwrap();
    d.store.authenticate("nobody", "guess").await.unwrap_err();
    let during = ticks.load(std::sync::atomic::Ordering::Relaxed) - before;
    ticker.abort();
    // Two argon2 checks take well over 10 ms; blocking the thread, they
    // would leave the ticker at 0–2.
    assert!(during >= 5, "the runtime stood still: {during} ticks");
}

/// Tries are counted before the password is checked: twenty wrong logins
/// at once get `MAX_FAILED_LOGINS` checks, no more, and lock the account;
/// a disabled account answers as a wrong password does.
#[tokio::test]
async fn parallel_attempts_never_get_more_tries_than_the_limit() {
    let d = staffed().await;
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let store = d.store.clone();
            tokio::spawn(async move { store.authenticate("cs1", "guess").await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tries {
        answers.push(code(t.await.unwrap().unwrap_err()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let kinds = trail_kinds(&d.store, "cs1").await;
    let checked = kinds.iter().filter(|k| *k == "user.login_attempt").count();
    assert_eq!(checked as i64, MAX_FAILED_LOGINS, "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "user.login_refused").count(),
        20 - checked
    );
    assert!(kinds.contains(&"user.locked".to_owned()));
    d.store
        .authenticate("cs1", "correct horse")
        .await
        .unwrap_err();
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// A wrong current password in a password change counts as a wrong login.
#[tokio::test]
async fn wrong_current_passwords_in_a_change_lock_the_account() {
    let d = staffed().await;
    for _ in 0..MAX_FAILED_LOGINS {
        let (c, _) = code(
            d.store
                .change_password("cs1", "guess", "a new password")
                .await
                .unwrap_err(),
        );
        assert_eq!(c, "bad_credentials");
    }
    assert_eq!(
        code(
            d.store
                .authenticate("cs1", "correct horse")
                .await
                .unwrap_err()
        )
        .0,
        "bad_credentials",
        "locked"
    );
    // A disabled account: the same answer as the rest.
    d.store
        .change_user(
            "ss1",
            &ggzy_store::users::UserChange {
                active: Some(false),
                ..Default::default()
            },
            "admin",
        )
        .await
        .unwrap();
    let disabled = code(
        d.store
            .authenticate("ss1", "correct horse")
            .await
            .unwrap_err(),
    );
    let unknown = code(
        d.store
            .authenticate("nobody", "correct horse")
            .await
            .unwrap_err(),
    );
    assert_eq!(disabled, unknown);
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}

/// Two first set-ups at once (a forged second call from the page): the
/// check is inside the transaction, so one stands and the other changes
/// nothing.
#[tokio::test]
async fn two_set_ups_at_once_leave_one_admin() {
    let d = db().await;
    let admin = |u: &str| NewUser {
        username: u.into(),
        name: "管理员".into(),
        role: StaffRole::Admin,
        phone: None,
        email: None,
        password: Some("Tiantai#2026x".into()),
    };
    let (a, b) = tokio::join!(
        d.store
            .set_up_center(&[("center_name", "甲中心")], admin("first")),
        d.store
            .set_up_center(&[("center_name", "乙中心")], admin("second")),
    );
    let refused = [a, b]
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.code())
        .collect::<Vec<_>>();
    assert_eq!(refused, [ErrorCode::AlreadySetUp]);
    assert_eq!(d.store.users().await.unwrap().len(), 1);
    assert_eq!(d.store.settings().await.unwrap().len(), 1);
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);
}
