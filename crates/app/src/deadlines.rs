//! The statutory steps projects owe (a deposit refund, a verification of
//! materials), each on its clock: what is late and what is due soon, for
//! the center staff who take them (their workbench) and the statistics.

use crate::{App, Result, TaskGroup, TaskProjectItem};
use chrono::Utc;
use ggzy_core::calendar::{beijing, Clock, ClockState};
use ggzy_core::deadlines::Deadline;
use ggzy_store::deadlines::OwedStep;

/// An owed step with its clock as it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub step: OwedStep,
    pub clock: Clock,
    pub state: ClockState,
}

impl Running {
    /// As staff read it: `保证金退还：逾期 2 个工作日（2026-12-03 到期）`.
    pub fn text(&self) -> String {
        let what = match (self.step.owed.deadline, self.step.owed.stage) {
            (Deadline::MaterialsVerify, Some(stage)) => {
                format!("{}发布资料查验", stage.notice_zh())
            }
            (d, _) => d.zh().to_owned(),
        };
        let when = match self.state {
            ClockState::Overdue { by } => format!("逾期 {by} 个工作日"),
            ClockState::Running { left: 0 } => "今日到期".to_owned(),
            ClockState::Running { left } => format!("剩 {left} 个工作日"),
        };
        format!(
            "{what}：{when}（{} 到期，{}）",
            self.clock.due,
            self.clock.limit.zh()
        )
    }
}

impl App {
    /// Every owed step with its clock, the most overdue first.
    pub(crate) async fn running_deadlines(&self) -> Result<Vec<Running>> {
        let calendar = self.store().calendar().await?;
        let limits = self.store().limits().await?;
        let now = Utc::now().with_timezone(&beijing());
        let mut out: Vec<Running> = self
            .store()
            .owed_steps()
            .await?
            .into_iter()
            .map(|step| {
                let limit = step.owed.deadline.limit(&limits);
                let clock = Clock::start(&calendar, step.owed.since, limit);
                let state = clock.state(&calendar, now);
                Running { step, clock, state }
            })
            .collect();
        out.sort_by_key(|r| match r.state {
            ClockState::Overdue { by } => (0, -by),
            ClockState::Running { left } => (1, left),
        });
        Ok(out)
    }

    /// The workbench's two groups: steps past their last day, and steps
    /// within the reminder's working days of it.
    pub(crate) async fn deadline_tasks(&self) -> Result<[TaskGroup; 2]> {
        let remind = i64::from(self.store().limits().await?.remind_before);
        let (late, soon): (Vec<Running>, Vec<Running>) = self
            .running_deadlines()
            .await?
            .into_iter()
            .filter(|r| !matches!(r.state, ClockState::Running { left } if left > remind))
            .partition(|r| matches!(r.state, ClockState::Overdue { .. }));
        let group = |kind: &str, title: &str, list: Vec<Running>| TaskGroup {
            kind: kind.into(),
            title: title.into(),
            total: list.len() as i64,
            projects: list
                .iter()
                .map(|r| TaskProjectItem {
                    code: r.step.code.clone(),
                    name: r.step.name.clone(),
                    stage: r.step.owed.stage.map(|s| s.as_str().to_owned()),
                    updated_at: r.step.owed.since.to_rfc3339(),
                    due: Some(r.text()),
                })
                .collect(),
        };
        Ok([
            group("deadlines_overdue", "逾期的法定时限", late),
            group("deadlines_soon", "即将到期的法定时限", soon),
        ])
    }
}
