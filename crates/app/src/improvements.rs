//! 持续改进 (6): the register of corrective and preventive actions. Each is
//! linked to what caused it; a survey answer of 较不满意 or worse is in the
//! register from the moment it is recorded, until someone takes it up as an
//! item of its own. An item's effect is its measure over the 30 days before
//! the action took effect beside the 30 days after.

use crate::rights::IMPROVERS;
use crate::surveys::item as survey_item;
use crate::{App, AppError, Result};
use chrono::{Duration, NaiveDate};
use ggzy_core::calendar::beijing;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{LOW_SCORE, SURVEY_ITEMS, SURVEY_LEVELS};
use ggzy_core::improvement::{Cause, ImprovementState, Metric, EFFECT_DAYS};
use ggzy_store::improvements::Improvement;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A measure before and after an action took effect.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Effect {
    pub metric: Metric,
    /// The first day measured before, `YYYY-MM-DD`.
    pub from: String,
    /// The day the action took effect: the first day measured after.
    pub at: String,
    /// The day after the last measured.
    pub to: String,
    #[ts(optional)]
    pub before: Option<f64>,
    #[ts(optional)]
    pub after: Option<f64>,
    /// Whether the measure moved the right way (`None`: nothing to compare).
    #[ts(optional)]
    pub better: Option<bool>,
}

/// An item of the register as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ImprovementView {
    /// Empty for a low score not yet taken up as an item of its own.
    pub id: String,
    pub cause: Cause,
    #[ts(optional)]
    pub cause_ref: Option<String>,
    pub title: String,
    pub action: String,
    pub owner: String,
    #[ts(optional)]
    pub due: Option<String>,
    pub state: ImprovementState,
    #[ts(optional)]
    pub metric: Option<Metric>,
    #[ts(optional)]
    pub done_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
    /// Not done and past its due day.
    pub overdue: bool,
    #[ts(optional)]
    pub effect: Option<Effect>,
}

/// An item as the form sends it (no `id`: a new one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImprovementForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id: Option<String>,
    pub cause: Cause,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cause_ref: Option<String>,
    pub title: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub due: Option<String>,
    pub state: ImprovementState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub metric: Option<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub done_on: Option<String>,
}

fn invalid(message: String) -> AppError {
    AppError::new(ErrorCode::Invalid, message)
}

fn date(field: &str, s: &Option<String>) -> Result<Option<NaiveDate>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| invalid(format!("{field}`{d}`不是日期：请按 2026-12-31 的格式填写"))),
    }
}

fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&beijing()).date_naive()
}

impl App {
    /// The register: items kept, and low scores not yet taken up, the
    /// open ones first.
    pub async fn improvements(&self) -> Result<Vec<ImprovementView>> {
        self.require(IMPROVERS, "查看持续改进").await?;
        self.improvements_unchecked().await
    }

    /// The register, for a caller that checked the role (the report).
    pub(crate) async fn improvements_unchecked(&self) -> Result<Vec<ImprovementView>> {
        let kept = self.store().improvements().await?;
        let mut out = Vec::new();
        for i in &kept {
            out.push(self.view(i.clone()).await?);
        }
        for row in self.store().surveys().await? {
            let s = survey_item(row)?;
            let taken = kept
                .iter()
                .any(|i| i.cause == Cause::Survey && i.cause_ref.as_deref() == Some(&s.event_id));
            if !s.low || taken {
                continue;
            }
            let low: Vec<String> = SURVEY_ITEMS
                .iter()
                .zip(s.scores)
                .filter(|(_, score)| *score <= LOW_SCORE)
                .map(|((_, name), score)| {
                    let level = SURVEY_LEVELS
                        .iter()
                        .find(|(v, _)| *v == score)
                        .map_or("", |l| l.1);
                    format!("{name}{level}")
                })
                .collect();
            out.push(ImprovementView {
                id: String::new(),
                cause: Cause::Survey,
                cause_ref: Some(s.event_id.clone()),
                title: format!("满意度调查（{}）：{}", s.respondent, low.join("、")),
                action: String::new(),
                owner: String::new(),
                due: None,
                state: ImprovementState::Open,
                metric: None,
                done_on: None,
                created_by: "满意度调查".into(),
                created_at: s.answered_at,
                overdue: false,
                effect: None,
            });
        }
        out.sort_by(|a, b| {
            (
                a.state == ImprovementState::Done,
                std::cmp::Reverse(a.overdue),
            )
                .cmp(&(
                    b.state == ImprovementState::Done,
                    std::cmp::Reverse(b.overdue),
                ))
                .then_with(|| b.created_at.cmp(&a.created_at))
        });
        Ok(out)
    }

    /// Keep an item (new, or one taken up from a low score, or changed);
    /// an item done without a day it took effect took effect today.
    pub async fn save_improvement(&self, form: ImprovementForm) -> Result<ImprovementView> {
        let me = self.require(IMPROVERS, "登记改进事项").await?;
        let title = form.title.trim();
        if title.is_empty() {
            return Err(invalid("请写明要改进的问题".into()));
        }
        let due = date("整改期限", &form.due)?;
        let mut done_on = date("生效日期", &form.done_on)?;
        if form.state == ImprovementState::Done && done_on.is_none() {
            done_on = Some(today());
        }
        let cause_ref = form
            .cause_ref
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let known = match (form.cause, &cause_ref) {
            (Cause::Complaint, Some(r)) => {
                let complaints = self.store().complaints().await?;
                complaints.iter().any(|c| &c.record.complaint.id == r)
            }
            (Cause::Survey, Some(r)) => {
                let surveys = self.store().surveys().await?;
                surveys.iter().any(|s| &s.event_id == r)
            }
            (Cause::Complaint | Cause::Survey | Cause::Push, None) => {
                return Err(invalid(format!("请写明引起它的{}", form.cause.zh())));
            }
            _ => true,
        };
        if !known {
            return Err(invalid(format!(
                "没有{} `{}`：请写明引起它的{}",
                form.cause.zh(),
                cause_ref.as_deref().unwrap_or_default(),
                form.cause.zh()
            )));
        }
        let item = Improvement {
            id: form.id.unwrap_or_default(),
            cause: form.cause,
            cause_ref,
            title: title.to_owned(),
            action: form.action.trim().to_owned(),
            owner: form.owner.trim().to_owned(),
            due: due.map(|d| d.to_string()),
            state: form.state,
            metric: form.metric,
            done_on: done_on.map(|d| d.to_string()),
            created_by: String::new(),
            created_at: String::new(),
        };
        let kept = self.store().save_improvement(item, &me.username).await?;
        self.view(kept).await
    }

    async fn view(&self, i: Improvement) -> Result<ImprovementView> {
        let effect = match (i.metric, i.done_on.as_deref()) {
            (Some(metric), Some(day)) => {
                let at = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|e| {
                    AppError::new(
                        ErrorCode::Corrupt,
                        format!("改进事项 `{}` 的生效日期 `{day}` 无法读取（{e}）", i.id),
                    )
                })?;
                let from = at - Duration::days(EFFECT_DAYS);
                let to = (at + Duration::days(EFFECT_DAYS)).min(today() + Duration::days(1));
                let before = self.store().metric(metric, from, at).await?;
                let after = self.store().metric(metric, at, to).await?;
                let better = match (before, after) {
                    (Some(b), Some(a)) if a != b => Some((a > b) == metric.higher_is_better()),
                    _ => None,
                };
                Some(Effect {
                    metric,
                    from: from.to_string(),
                    at: at.to_string(),
                    to: to.to_string(),
                    before,
                    after,
                    better,
                })
            }
            _ => None,
        };
        let overdue = i.state != ImprovementState::Done
            && i.due
                .as_deref()
                .is_some_and(|d| d < today().to_string().as_str());
        Ok(ImprovementView {
            id: i.id,
            cause: i.cause,
            cause_ref: i.cause_ref,
            title: i.title,
            action: i.action,
            owner: i.owner,
            due: i.due,
            state: i.state,
            metric: i.metric,
            done_on: i.done_on,
            created_by: i.created_by,
            created_at: i.created_at,
            overdue,
            effect,
        })
    }
}
