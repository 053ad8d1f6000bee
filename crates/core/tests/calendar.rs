//! Working-day clocks over 2026's real calendar (国办发明电〔2025〕7号),
//! every expected day worked out by hand from the notice and a wall
//! calendar, not by the code under test.

use chrono::{DateTime, NaiveDate};
use ggzy_core::calendar::{china_2026, Calendar, Clock, ClockState, Limit, YearExceptions};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn cal() -> Calendar {
    Calendar::new(&[china_2026()]).unwrap()
}

#[test]
fn the_year_has_248_working_days_with_its_make_up_days() {
    let c = cal();
    let worked = day("2026-01-01")
        .iter_days()
        .take_while(|d| *d <= day("2026-12-31"))
        .filter(|d| c.is_working_day(*d))
        .count();
    // 261 weekdays, 19 of them off, 6 weekend days worked.
    assert_eq!(worked, 248);
    for (d, working) in [
        ("2026-01-01", false),
        ("2026-01-04", true),  // Sunday, worked for New Year
        ("2026-02-14", true),  // Saturday before the Spring Festival
        ("2026-02-16", false), // Monday of the Spring Festival
        ("2026-02-23", false),
        ("2026-02-24", true),
        ("2026-02-28", true), // Saturday after it
        ("2026-04-06", false),
        ("2026-05-05", false),
        ("2026-05-09", true),
        ("2026-06-19", false),
        ("2026-09-20", true),
        ("2026-09-25", false),
        ("2026-10-07", false),
        ("2026-10-08", true),
        ("2026-10-10", true),
        ("2026-10-11", false), // an ordinary Sunday
        ("2026-12-07", true),
    ] {
        assert_eq!(c.is_working_day(day(d)), working, "{d}");
    }
}

#[test]
fn periods_count_from_the_next_day_over_weekends_holidays_and_make_up_days() {
    let c = cal();
    for (from, n, last) in [
        ("2026-02-13", 1, "2026-02-14"), // the make-up Saturday counts
        ("2026-02-12", 3, "2026-02-24"), // 13th, 14th, then the festival
        ("2026-09-30", 3, "2026-10-10"), // 8th, 9th, the make-up 10th
        ("2026-12-04", 3, "2026-12-09"), // Friday: Mon 7, Tue 8, Wed 9
        ("2026-04-30", 1, "2026-05-06"),
        ("2026-01-05", 30, "2026-02-14"),
    ] {
        assert_eq!(c.add_working_days(day(from), n), day(last), "{from} + {n}");
    }
    // Days, not working days: a last day off moves to the next working day.
    for (from, n, last) in [
        ("2026-09-26", 5, "2026-10-08"), // Oct 1 is the National Day
        ("2026-04-28", 5, "2026-05-06"), // May 3 is off
        ("2026-12-01", 5, "2026-12-07"), // Sunday 6th moves to Monday
        ("2026-12-02", 5, "2026-12-07"),
    ] {
        assert_eq!(c.add_days(day(from), n), day(last), "{from} + {n} days");
    }
    assert_eq!(
        c.working_days_between(day("2026-02-13"), day("2026-02-24")),
        2
    );
    assert_eq!(
        c.working_days_between(day("2026-02-24"), day("2026-02-13")),
        -2
    );
}

#[test]
fn a_clock_runs_on_beijing_days_and_says_how_late() {
    let c = cal();
    let clock = Clock::start(&c, at("2026-09-30T10:00:00+08:00"), Limit::WorkingDays(3));
    assert_eq!(clock.due, day("2026-10-10"));
    assert_eq!(clock.deadline(), at("2026-10-11T00:00:00+08:00"));
    for (now, state) in [
        ("2026-10-02T09:00:00+08:00", ClockState::Running { left: 3 }),
        ("2026-10-09T12:00:00+08:00", ClockState::Running { left: 1 }),
        ("2026-10-10T23:59:00+08:00", ClockState::Running { left: 0 }),
        ("2026-10-11T00:00:00+08:00", ClockState::Overdue { by: 1 }),
        ("2026-10-13T09:00:00+08:00", ClockState::Overdue { by: 2 }),
        // The same moment written in UTC.
        ("2026-10-13T01:00:00Z", ClockState::Overdue { by: 2 }),
    ] {
        assert_eq!(clock.state(&c, at(now)), state, "{now}");
    }
    // Lodged at 00:30 Beijing on the make-up Saturday (still Friday in UTC):
    // its day is the Saturday, so one working day runs to after the festival.
    let clock = Clock::start(&c, at("2026-02-13T16:30:00Z"), Limit::WorkingDays(1));
    assert_eq!(clock.due, day("2026-02-24"));
}

#[test]
fn a_calendar_that_says_nothing_or_contradicts_itself_is_refused() {
    let y = |off: &[&str], on: &[&str]| YearExceptions {
        year: 2026,
        off: off.iter().map(|d| day(d)).collect(),
        on: on.iter().map(|d| day(d)).collect(),
    };
    for (years, why) in [
        (
            vec![y(&["2026-10-10"], &["2026-10-10"])],
            "不能既放假又上班",
        ),
        (vec![y(&[], &["2026-10-09"])], "本是工作日"),
        (vec![y(&["2027-01-01"], &[])], "不在 2026 年内"),
        (vec![china_2026(), china_2026()], "重复"),
    ] {
        let e = Calendar::new(&years).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
}

/// A complaint lodged the Wednesday before 2026's Mid-Autumn holiday: each
/// clock's reminders, day by day, worked out by hand on the year's calendar.
#[test]
fn complaint_reminders_fire_on_the_right_working_day() {
    use ggzy_core::complaints::{ComplaintLimit, ComplaintRecord, Reminder, Step, StepKind};
    use ggzy_core::deadlines::Limits;
    use ggzy_core::event::{Complaint, ComplaintChannel, Party};
    let cal = cal();
    let lodged = at("2026-09-23T10:00:00+08:00");
    let mut record = ComplaintRecord {
        complaint: Complaint {
            id: "TS-1".into(),
            channel: ComplaintChannel::Phone,
            complainant: Party {
                id: "C1".into(),
                name: "林先生".into(),
                phone: Some("13957681234".into()),
                email: None,
                username: None,
                prefer: None,
            },
            subject: "未收到开标短信".into(),
        },
        project: None,
        result: None,
        steps: Vec::new(),
    };
    let limits = Limits::default();
    // Fell due: at the start of the reminder's first day, or at the deadline.
    let accept = |due: &str, overdue, since: &str| Reminder {
        limit: ComplaintLimit::Accept,
        due: day(due),
        overdue,
        since: at(since),
    };
    let decide = |due: &str, overdue, since: &str| Reminder {
        limit: ComplaintLimit::Decide,
        due: day(due),
        overdue,
        since: at(since),
    };
    // Accept within 3 working days: 9-24, (25–27 off) 9-28, 9-29.
    let cases = [
        ("2026-09-24T09:00:00+08:00", vec![]),
        ("2026-09-25T09:00:00+08:00", vec![]), // a holiday: two working days left
        (
            "2026-09-28T09:00:00+08:00",
            vec![accept("2026-09-29", false, "2026-09-28T00:00:00+08:00")],
        ),
        (
            "2026-09-29T23:59:00+08:00",
            vec![accept("2026-09-29", false, "2026-09-28T00:00:00+08:00")],
        ),
        (
            "2026-09-30T00:00:00+08:00",
            vec![accept("2026-09-29", true, "2026-09-30T00:00:00+08:00")],
        ),
    ];
    for (now, want) in cases {
        assert_eq!(
            record.reminders(lodged, &cal, &limits, at(now)),
            want,
            "at {now}"
        );
    }
    // Accepted: the decision's 30 working days run past National Day and
    // its make-up Saturday (10-10) to 11-11.
    record.steps.push(Step {
        event: "a".into(),
        at: "2026-09-24T09:00:00+08:00".into(),
        what: StepKind::Accepted { assignee: None },
    });
    let cases = [
        ("2026-09-30T09:00:00+08:00", vec![]),
        ("2026-11-09T09:00:00+08:00", vec![]),
        (
            "2026-11-10T09:00:00+08:00",
            vec![decide("2026-11-11", false, "2026-11-10T00:00:00+08:00")],
        ),
        (
            "2026-11-12T09:00:00+08:00",
            vec![decide("2026-11-11", true, "2026-11-12T00:00:00+08:00")],
        ),
    ];
    for (now, want) in cases {
        assert_eq!(
            record.reminders(lodged, &cal, &limits, at(now)),
            want,
            "at {now}"
        );
    }
    // Two days' notice: from 11-09.
    let early = Limits {
        remind_before: 2,
        ..limits
    };
    assert_eq!(
        record.reminders(lodged, &cal, &early, at("2026-11-09T09:00:00+08:00")),
        vec![decide("2026-11-11", false, "2026-11-09T00:00:00+08:00")]
    );
    // Decided: no clock runs.
    record.result = Some("已补发".into());
    assert!(record
        .reminders(lodged, &cal, &limits, at("2026-12-01T09:00:00+08:00"))
        .is_empty());
}
