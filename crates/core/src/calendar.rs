//! Working days (工作日) and the statutory clocks that run on them.
//!
//! A day is a working day when it is a weekday the State Council's yearly
//! notice does not make a holiday (放假), or a weekend day it makes a
//! make-up working day (调休上班). Admins keep each year's exceptions; the
//! ones published when this was written come with the product.
//!
//! Periods are counted as the Civil Code counts them: the day a period
//! starts on does not count (第二百零一条), and a period counted in days
//! whose last day is a holiday ends on the next working day (第二百零三条).
//! A deadline is the end of its last day, Beijing time.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Beijing time, in which every day of the calendar is a day.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00")
}

/// A year's exceptions to the week, as the State Council's notice sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct YearExceptions {
    pub year: i32,
    /// Public holidays and the days moved to join them (放假).
    #[ts(type = "string[]")]
    pub off: Vec<NaiveDate>,
    /// Weekend days worked instead (调休上班).
    #[ts(type = "string[]")]
    pub on: Vec<NaiveDate>,
}

/// 2026, by 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号).
pub fn china_2026() -> YearExceptions {
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("a 2026 date");
    let span = |m, from: u32, to: u32| (from..=to).map(move |day| d(m, day));
    YearExceptions {
        year: 2026,
        off: span(1, 1, 3)
            .chain(span(2, 15, 23))
            .chain(span(4, 4, 6))
            .chain(span(5, 1, 5))
            .chain(span(6, 19, 21))
            .chain(span(9, 25, 27))
            .chain(span(10, 1, 7))
            .collect(),
        on: vec![d(1, 4), d(2, 14), d(2, 28), d(5, 9), d(9, 20), d(10, 10)],
    }
}

/// The years the product knows when admins have kept none.
pub fn known_years() -> Vec<YearExceptions> {
    vec![china_2026()]
}

/// Which days are working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// A calendar of these years' exceptions (the holiday spans as the
    /// notice writes them, weekends within them included). Refused, naming
    /// the day: a day both off and on, an `on` day that is a weekday (no
    /// make-up at all), a day outside its year, a year given twice.
    pub fn new(years: &[YearExceptions]) -> Result<Calendar, String> {
        let mut c = Calendar::default();
        for y in years {
            if !c.years.insert(y.year) {
                return Err(format!("{} 年的节假日安排重复", y.year));
            }
            for d in y.off.iter().chain(&y.on) {
                if d.year() != y.year {
                    return Err(format!("{d} 不在 {} 年内", y.year));
                }
            }
            c.off.extend(&y.off);
            for d in &y.on {
                if !weekend(*d) {
                    return Err(format!("{d} 本是工作日，不必列为调休上班日"));
                }
                if c.off.contains(d) {
                    return Err(format!("{d} 不能既放假又上班"));
                }
                c.on.insert(*d);
            }
        }
        Ok(c)
    }

    /// The years whose exceptions it holds: a clock reaching past them
    /// counts only weekends, which the workbench says.
    pub fn years(&self) -> &BTreeSet<i32> {
        &self.years
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.on.contains(&d) {
            return true;
        }
        !weekend(d) && !self.off.contains(&d)
    }

    /// The last day of a period of `n` working days starting on `from`:
    /// the n-th working day after it (`from` itself not counted).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("a date before the end of time");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The last day of a period of `n` days starting on `from` (`from`
    /// not counted), moved on to the next working day if it is not one.
    pub fn add_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from + Duration::days(i64::from(n));
        while !self.is_working_day(d) {
            d = d.succ_opt().expect("a date before the end of time");
        }
        d
    }

    /// Working days after `from` up to and including `to` (negative when
    /// `to` comes first): how far a clock has run.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut d = a;
        while d < b {
            d = d.succ_opt().expect("a date before the end of time");
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}

fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// How long a statutory limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "unit", content = "n", rename_all = "snake_case")]
#[ts(export)]
pub enum Limit {
    /// 工作日.
    WorkingDays(u32),
    /// 日 (calendar days; a last day off moves to the next working day).
    Days(u32),
}

impl Limit {
    pub fn zh(self) -> String {
        match self {
            Limit::WorkingDays(n) => format!("{n} 个工作日"),
            Limit::Days(n) => format!("{n} 日"),
        }
    }
}

/// Where a clock stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum ClockState {
    /// Working days left after today (0: today is the last day).
    Running {
        #[ts(type = "number")]
        left: i64,
    },
    /// Working days past the last day.
    Overdue {
        #[ts(type = "number")]
        by: i64,
    },
}

/// A statutory clock: started by an event at its own time, due at the end
/// of its last day (Beijing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub started: DateTime<FixedOffset>,
    pub limit: Limit,
    /// The last day.
    pub due: NaiveDate,
}

impl Clock {
    pub fn start(calendar: &Calendar, started: DateTime<FixedOffset>, limit: Limit) -> Clock {
        let day = started.with_timezone(&beijing()).date_naive();
        let due = match limit {
            Limit::WorkingDays(n) => calendar.add_working_days(day, n),
            Limit::Days(n) => calendar.add_days(day, n),
        };
        Clock {
            started,
            limit,
            due,
        }
    }

    /// The moment it runs out: the end of its last day, Beijing time.
    pub fn deadline(&self) -> DateTime<FixedOffset> {
        let next = self.due.succ_opt().expect("a date before the end of time");
        beijing()
            .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("a fixed offset has no gaps")
    }

    pub fn state(&self, calendar: &Calendar, at: DateTime<FixedOffset>) -> ClockState {
        let today = at.with_timezone(&beijing()).date_naive();
        if at < self.deadline() {
            ClockState::Running {
                left: calendar.working_days_between(today, self.due),
            }
        } else {
            ClockState::Overdue {
                by: calendar.working_days_between(self.due, today).max(1),
            }
        }
    }
}
