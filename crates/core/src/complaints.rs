//! Complaints (5.1): their states, the steps staff take on them, and the
//! limits their clocks run on, in working days (`calendar`), counted from
//! the complaint's own lodging time.
//!
//! lodged → accepted (or refused, with the reason told to the complainant)
//! → under investigation (once a supervisor is assigned) → decided (the
//! 5.1.2 feedback push) → feedback sent (that push delivered: the outbox
//! knows, not the record).

use crate::calendar::{Calendar, Clock, ClockState, Limit};
use crate::deadlines::Limits;
use crate::event::{Attachment, Complaint};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The two clocks of a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ComplaintLimit {
    /// To decide whether it is accepted (受理).
    Accept,
    /// To decide it and give the complainant feedback (5.1.2).
    Decide,
}

impl ComplaintLimit {
    pub const ALL: [ComplaintLimit; 2] = [ComplaintLimit::Accept, ComplaintLimit::Decide];

    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintLimit::Accept => "accept",
            ComplaintLimit::Decide => "decide",
        }
    }

    /// What runs out, as a reminder says it.
    pub fn zh(self) -> &'static str {
        match self {
            ComplaintLimit::Accept => "受理决定",
            ComplaintLimit::Decide => "处理决定",
        }
    }
}

/// To decide whether a complaint is accepted (受理), by default.
pub const ACCEPT: Limit = Limit::WorkingDays(3);

/// To decide it and give the complainant feedback (5.1.2), by default.
pub const DECIDE: Limit = Limit::WorkingDays(30);

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ComplaintState {
    Lodged,
    Accepted,
    Investigating,
    Refused,
    Decided,
}

impl ComplaintState {
    pub const ALL: [ComplaintState; 5] = [
        ComplaintState::Lodged,
        ComplaintState::Accepted,
        ComplaintState::Investigating,
        ComplaintState::Refused,
        ComplaintState::Decided,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            ComplaintState::Lodged => "待受理",
            ComplaintState::Accepted => "已受理",
            ComplaintState::Investigating => "调查中",
            ComplaintState::Refused => "不予受理",
            ComplaintState::Decided => "已处理",
        }
    }

    /// Whether its clocks still run.
    pub fn open(self) -> bool {
        !matches!(self, ComplaintState::Refused | ComplaintState::Decided)
    }
}

/// One step taken on a complaint after its lodging, by its event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Step {
    /// The event's id.
    pub event: String,
    /// The event's own time, RFC 3339.
    pub at: String,
    pub what: StepKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum StepKind {
    Accepted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        assignee: Option<String>,
    },
    Refused {
        reason: String,
    },
    Assigned {
        assignee: String,
    },
    Noted {
        note: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<Attachment>,
    },
    Reminded {
        limit: ComplaintLimit,
        #[ts(type = "string")]
        due: chrono::NaiveDate,
        overdue: bool,
    },
}

/// A complaint as its events leave it. A record written before complaints
/// had steps reads the same: the new fields are left out when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintRecord {
    pub complaint: Complaint,
    pub project: Option<String>,
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

impl ComplaintRecord {
    pub fn state(&self) -> ComplaintState {
        if self.result.is_some() {
            return ComplaintState::Decided;
        }
        let mut state = ComplaintState::Lodged;
        for s in &self.steps {
            state = match &s.what {
                StepKind::Accepted { assignee: None } => ComplaintState::Accepted,
                StepKind::Accepted { assignee: Some(_) } | StepKind::Assigned { .. } => {
                    ComplaintState::Investigating
                }
                StepKind::Refused { .. } => ComplaintState::Refused,
                StepKind::Noted { .. } | StepKind::Reminded { .. } => state,
            };
        }
        state
    }

    /// The supervisor investigating it, if one is assigned.
    pub fn assignee(&self) -> Option<&str> {
        self.steps.iter().rev().find_map(|s| match &s.what {
            StepKind::Accepted { assignee } => assignee.as_deref(),
            StepKind::Assigned { assignee } => Some(assignee),
            _ => None,
        })
    }

    /// When it was accepted or refused: the step's own time.
    pub fn admitted_at(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.what {
            StepKind::Accepted { .. } | StepKind::Refused { .. } => Some(s.at.as_str()),
            _ => None,
        })
    }

    /// Why it was not accepted.
    pub fn refusal(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.what {
            StepKind::Refused { reason } => Some(reason.as_str()),
            _ => None,
        })
    }

    /// Every file its notes keep.
    pub fn files(&self) -> impl Iterator<Item = &Attachment> {
        self.steps.iter().flat_map(|s| match &s.what {
            StepKind::Noted { files, .. } => files.as_slice(),
            _ => &[],
        })
    }
}

/// A reminder a clock calls for: which clock, its last day, and whether
/// that day has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminder {
    pub limit: ComplaintLimit,
    pub due: NaiveDate,
    pub overdue: bool,
    /// The moment it fell due, the same on every device that reminds: the
    /// deadline once passed, else the start of the first day within
    /// `remind_before` working days of the last (Beijing time).
    pub since: DateTime<FixedOffset>,
}

impl ComplaintRecord {
    /// The clocks still running, each from the complaint's own lodging
    /// time: whether to accept it until that is decided, and the decision
    /// until it is made (or the complaint refused).
    pub fn clocks(
        &self,
        lodged: DateTime<FixedOffset>,
        calendar: &Calendar,
        limits: &Limits,
    ) -> Vec<(ComplaintLimit, Clock)> {
        let state = self.state();
        ComplaintLimit::ALL
            .into_iter()
            .filter(|l| match l {
                ComplaintLimit::Accept => state == ComplaintState::Lodged,
                ComplaintLimit::Decide => state.open(),
            })
            .map(|l| (l, Clock::start(calendar, lodged, limits.complaint(l))))
            .collect()
    }

    /// The reminders due at `now`: a clock within `remind_before` working
    /// days of its last day, or past it.
    pub fn reminders(
        &self,
        lodged: DateTime<FixedOffset>,
        calendar: &Calendar,
        limits: &Limits,
        now: DateTime<FixedOffset>,
    ) -> Vec<Reminder> {
        self.clocks(lodged, calendar, limits)
            .into_iter()
            .filter_map(|(limit, clock)| {
                let ahead = i64::from(limits.remind_before);
                let (overdue, since) = match clock.state(calendar, now) {
                    ClockState::Running { left } if left <= ahead => {
                        let mut day = clock.due;
                        while let Some(before) = day.pred_opt().filter(|d| {
                            *d > clock
                                .started
                                .with_timezone(&crate::calendar::beijing())
                                .date_naive()
                                && calendar.working_days_between(*d, clock.due) <= ahead
                        }) {
                            day = before;
                        }
                        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
                        let since = chrono::TimeZone::from_local_datetime(
                            &crate::calendar::beijing(),
                            &midnight,
                        )
                        .single()
                        .expect("a fixed offset has no gaps");
                        (false, since)
                    }
                    ClockState::Running { .. } => return None,
                    ClockState::Overdue { .. } => (true, clock.deadline()),
                };
                Some(Reminder {
                    limit,
                    due: clock.due,
                    overdue,
                    since,
                })
            })
            .collect()
    }
}
