//! Continuous improvement (6): the register of corrective and preventive
//! actions, each linked to what caused it, and the measures whose values
//! before and after an action show its effect.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What an improvement item was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Cause {
    /// A dissatisfied answer to the survey (较不满意 or worse): its event id.
    Survey,
    /// A complaint: its id.
    Complaint,
    /// A failed or late push: its number.
    Push,
    /// A figure of the statistics: what it is.
    Statistic,
    Other,
}

impl Cause {
    pub const ALL: [Cause; 5] = [
        Cause::Survey,
        Cause::Complaint,
        Cause::Push,
        Cause::Statistic,
        Cause::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Survey => "survey",
            Cause::Complaint => "complaint",
            Cause::Push => "push",
            Cause::Statistic => "statistic",
            Cause::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Cause::Survey => "满意度低分",
            Cause::Complaint => "投诉",
            Cause::Push => "推送失败或迟延",
            Cause::Statistic => "统计数据",
            Cause::Other => "其他",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ImprovementState {
    Open,
    Doing,
    Done,
}

impl ImprovementState {
    pub const ALL: [ImprovementState; 3] = [
        ImprovementState::Open,
        ImprovementState::Doing,
        ImprovementState::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImprovementState::Open => "open",
            ImprovementState::Doing => "doing",
            ImprovementState::Done => "done",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ImprovementState::Open => "待整改",
            ImprovementState::Doing => "整改中",
            ImprovementState::Done => "已完成",
        }
    }
}

/// A measure of the service, computed from the data for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Metric {
    /// The average of every item of the surveys answered (1–5).
    Satisfaction,
    /// The share of pushes that reached the provider or the recipient, of
    /// those settled (%).
    Delivery,
    /// Pushes that failed for good (dead letters).
    DeadLetters,
    /// Complaints lodged.
    Complaints,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::Satisfaction,
        Metric::Delivery,
        Metric::DeadLetters,
        Metric::Complaints,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Satisfaction => "satisfaction",
            Metric::Delivery => "delivery",
            Metric::DeadLetters => "dead_letters",
            Metric::Complaints => "complaints",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Metric::Satisfaction => "满意度平均分",
            Metric::Delivery => "推送成功率（%）",
            Metric::DeadLetters => "最终失败的推送（条）",
            Metric::Complaints => "投诉（件）",
        }
    }

    /// Whether a higher value is the better one.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Satisfaction | Metric::Delivery)
    }
}

/// How many days before and after an action took effect its measure is
/// compared over.
pub const EFFECT_DAYS: i64 = 30;

crate::model::codes!(Cause => "原因", ImprovementState => "状态", Metric => "衡量指标");
