//! 设置 → 工作日历: admins keep each year's holidays and make-up working
//! days (2026's come with the product); a contradiction is refused naming
//! the day with nothing kept; only admins may change it; the kept calendar
//! is held to the audit trail.

mod common;
use common::*;
use ggzy_app::admin::YearExceptions;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn admins_keep_the_years_holidays_and_the_trail_holds_them() {
    let (app, _dir) = demo_app().await;
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let years = app.calendar().await.unwrap();
    assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [2026]);
    assert!(years[0].on.contains(&day("2026-02-14")));

    // 2027's New Year, as an admin would type it from the notice.
    let mut next = years.clone();
    next.push(YearExceptions {
        year: 2027,
        off: vec![day("2027-01-01"), day("2027-01-02"), day("2027-01-03")],
        on: vec![],
    });
    let kept = app.save_calendar(next.clone()).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert!(!app
        .store()
        .calendar()
        .await
        .unwrap()
        .is_working_day(day("2027-01-01")));

    // A make-up day on a weekday is no make-up day: refused, nothing kept.
    let mut wrong = next.clone();
    wrong[1].on.push(day("2027-01-05"));
    let e = app.save_calendar(wrong).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidSetting);
    assert!(e.message.contains("2027-01-05"), "{}", e.message);
    assert_eq!(app.calendar().await.unwrap(), kept);

    // Only admins.
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.save_calendar(next).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    // Held to the trail: changed behind the app, verify names it.
    let why = tamper(
        &app,
        "UPDATE meta SET value = replace(value, '2027-01-03', '2027-01-04') WHERE key = 'calendar'",
    )
    .await;
    assert!(why.contains("calendar"), "{why}");
}

/// 设置 → 办理时限: the law's and practice's limits until an admin sets
/// others; a limit of no days is refused naming it; the supervisor's board
/// counts with the limits kept; held to the trail.
#[tokio::test]
async fn admins_set_the_limits_the_clocks_run_on() {
    use ggzy_core::calendar::Limit;
    let (app, _dir) = demo_app().await;
    app.login("admin", DEMO_PASSWORD).await.unwrap();
    let limits = app.limits().await.unwrap();
    assert_eq!(
        (
            limits.complaint_accept,
            limits.complaint_decide,
            limits.deposit_refund
        ),
        (
            Limit::WorkingDays(3),
            Limit::WorkingDays(30),
            Limit::Days(5)
        )
    );
    let zero = ggzy_app::admin::Limits {
        complaint_decide: Limit::WorkingDays(0),
        ..limits
    };
    let e = app.save_limits(zero).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidSetting);
    assert!(e.message.contains("投诉处理期限"), "{}", e.message);
    let fifteen = ggzy_app::admin::Limits {
        complaint_decide: Limit::WorkingDays(15),
        ..limits
    };
    assert_eq!(app.save_limits(fifteen).await.unwrap(), fifteen);

    // The board's decision clock is 15 working days now.
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let board = app.complaints().await.unwrap();
    assert!(board.iter().all(|c| c.limit == "15 个工作日"), "{board:?}");
    assert_eq!(
        app.save_limits(limits).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    let why = tamper(
        &app,
        "UPDATE meta SET value = replace(value, '15', '45') WHERE key = 'limits'",
    )
    .await;
    assert!(why.contains("limits"), "{why}");
}
