//! 投诉 (5.1) for the supervisor: every complaint with the clock of its
//! decision, counted in working days from its own lodging time, overdue
//! first.

use crate::rights::Right;
use crate::{App, AppError, Result};
use chrono::{DateTime, FixedOffset};
use ggzy_core::calendar::{beijing, Clock, ClockState};
use ggzy_core::complaints::DECIDE;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::ComplaintChannel;
use serde::Serialize;
use ts_rs::TS;

/// A complaint on the supervisors' board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ComplaintItem {
    pub id: String,
    pub channel: ComplaintChannel,
    pub complainant: String,
    pub subject: String,
    #[ts(optional)]
    pub project: Option<String>,
    /// RFC 3339, as the lodging event says.
    pub lodged_at: String,
    #[ts(optional)]
    pub resolved_at: Option<String>,
    #[ts(optional)]
    pub result: Option<String>,
    /// The decision's limit as staff read it (30 个工作日).
    pub limit: String,
    /// Its last day, `YYYY-MM-DD` (Beijing).
    pub due: String,
    /// Still open: where its clock stands.
    #[ts(optional)]
    pub clock: Option<ClockState>,
    /// Resolved: the working days it took.
    #[ts(optional, type = "number")]
    pub took: Option<i64>,
}

fn time(what: &str, s: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).map_err(|e| {
        AppError::new(
            ErrorCode::Corrupt,
            format!("投诉的{what}`{s}`无法读取（{e}）：请运行 ggzy audit verify"),
        )
    })
}

impl App {
    /// Every complaint with its clock: open ones overdue first, then by
    /// their last day; resolved ones after, newest first.
    pub async fn complaints(&self) -> Result<Vec<ComplaintItem>> {
        self.require(Right::SeeComplaints.roles(), "查看投诉")
            .await?;
        self.complaint_items().await
    }

    /// How many complaints are open, and how many of those are overdue
    /// (the supervisor's workbench).
    pub(crate) async fn complaints_open(&self) -> Result<(i64, i64)> {
        let items = self.complaint_items().await?;
        let open = items.iter().filter(|i| i.clock.is_some()).count() as i64;
        let late = items
            .iter()
            .filter(|i| matches!(i.clock, Some(ClockState::Overdue { .. })))
            .count() as i64;
        Ok((open, late))
    }

    async fn complaint_items(&self) -> Result<Vec<ComplaintItem>> {
        let calendar = self.store().calendar().await?;
        let now = chrono::Utc::now().with_timezone(&beijing());
        let mut items = Vec::new();
        for row in self.store().complaints().await? {
            let lodged = time("受理时间", &row.lodged_at)?;
            let clock = Clock::start(&calendar, lodged, DECIDE);
            let resolved = match &row.resolved_at {
                Some(at) => Some(time("办结时间", at)?),
                None => None,
            };
            let c = row.record.complaint;
            items.push(ComplaintItem {
                id: c.id,
                channel: c.channel,
                complainant: c.complainant.name,
                subject: c.subject,
                project: row.record.project,
                lodged_at: row.lodged_at,
                resolved_at: row.resolved_at,
                result: row.record.result,
                limit: DECIDE.zh(),
                due: clock.due.to_string(),
                clock: resolved.is_none().then(|| clock.state(&calendar, now)),
                took: resolved.map(|r| {
                    let day = |t: DateTime<FixedOffset>| t.with_timezone(&beijing()).date_naive();
                    calendar.working_days_between(day(lodged), day(r))
                }),
            });
        }
        // Overdue by most, then running by fewest days left, then resolved.
        let rank = |i: &ComplaintItem| match i.clock {
            Some(ClockState::Overdue { by }) => (0, -by, String::new()),
            Some(ClockState::Running { left }) => (1, left, String::new()),
            None => (2, 0, i.resolved_at.clone().unwrap_or_default()),
        };
        items.sort_by(|a, b| {
            let (ra, rb) = (rank(a), rank(b));
            (ra.0, ra.1)
                .cmp(&(rb.0, rb.1))
                .then_with(|| rb.2.cmp(&ra.2))
                .then_with(|| a.due.cmp(&b.due))
        });
        Ok(items)
    }
}
