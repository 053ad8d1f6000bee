//! The statutory limits the product's clocks run on (`calendar`), as an
//! admin sets them (the defaults are the law's, or common practice's where
//! the law is silent); and the steps of a project the center owes by such a
//! limit: a deposit refund, a verification of materials.

use crate::calendar::Limit;
use crate::complaints::{ComplaintLimit, ACCEPT, DECIDE};
use crate::event::Stage;
use crate::workflow::{Project, Verification};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Limits {
    /// To decide whether a complaint is accepted (受理).
    pub complaint_accept: Limit,
    /// To decide a complaint and feed the result back (5.1.2).
    pub complaint_decide: Limit,
    /// To refund the bid deposits after the contract is signed (招标投标法
    /// 实施条例 第五十七条: 5 日).
    pub deposit_refund: Limit,
    /// To verify submitted publication materials (发布资料查验).
    pub materials_verify: Limit,
    /// How many working days before a last day the one responsible is reminded.
    pub remind_before: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            complaint_accept: ACCEPT,
            complaint_decide: DECIDE,
            deposit_refund: Limit::Days(5),
            materials_verify: Limit::WorkingDays(1),
            remind_before: 1,
        }
    }
}

impl Limits {
    pub fn complaint(&self, which: ComplaintLimit) -> Limit {
        match which {
            ComplaintLimit::Accept => self.complaint_accept,
            ComplaintLimit::Decide => self.complaint_decide,
        }
    }

    /// Refused, naming the limit: a limit of no days or of more than a
    /// year, a reminder further ahead than a month of working days.
    pub fn check(&self) -> Result<(), String> {
        let named = [
            ("投诉受理期限", self.complaint_accept),
            ("投诉处理期限", self.complaint_decide),
            ("保证金退还期限", self.deposit_refund),
            ("发布资料查验期限", self.materials_verify),
        ];
        for (name, limit) in named {
            let n = match limit {
                Limit::WorkingDays(n) | Limit::Days(n) => n,
            };
            if !(1..=366).contains(&n) {
                return Err(format!("{name}须在 1 到 366 天之间，现为 {n}"));
            }
        }
        if self.remind_before > 22 {
            return Err(format!(
                "提前提醒的天数最多 22 个工作日，现为 {}",
                self.remind_before
            ));
        }
        Ok(())
    }
}

/// A statutory step of a project the center must take in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Deadline {
    /// Refund the bid deposits once the contract is signed (4.11).
    DepositRefund,
    /// Verify submitted publication materials (发布资料查验).
    MaterialsVerify,
}

impl Deadline {
    pub const ALL: [Deadline; 2] = [Deadline::DepositRefund, Deadline::MaterialsVerify];

    pub fn zh(self) -> &'static str {
        match self {
            Deadline::DepositRefund => "保证金退还",
            Deadline::MaterialsVerify => "发布资料查验",
        }
    }

    pub fn limit(self, limits: &Limits) -> Limit {
        match self {
            Deadline::DepositRefund => limits.deposit_refund,
            Deadline::MaterialsVerify => limits.materials_verify,
        }
    }
}

/// One accepted event of a project, as the deadlines read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Happened {
    pub kind: String,
    pub stage: Option<Stage>,
    /// 1 when the event names none.
    pub round: u32,
    pub at: DateTime<FixedOffset>,
}

/// A step a project still owes, and since when (its starting event's own time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    pub deadline: Deadline,
    pub stage: Option<Stage>,
    pub round: u32,
    pub since: DateTime<FixedOffset>,
}

/// What a project still owes, from its state and its events in order: each
/// verification still to be given, since its materials' submission; and,
/// once the contract's filing is submitted (the first the center hears of a
/// signed contract), the refund of every deposit not yet refunded.
pub fn owed(project: &Project, events: &[Happened]) -> Vec<Owed> {
    let mut out = Vec::new();
    for s in &project.progress.stages {
        if s.verification != Verification::Pending {
            continue;
        }
        let submitted = events.iter().rev().find(|e| {
            e.kind == "materials.submitted" && e.stage == Some(s.stage) && e.round == s.round
        });
        if let Some(e) = submitted {
            out.push(Owed {
                deadline: Deadline::MaterialsVerify,
                stage: Some(s.stage),
                round: s.round,
                since: e.at,
            });
        }
    }
    let unrefunded = project
        .refund_targets(None)
        .is_ok_and(|rest| !rest.is_empty());
    let signed = events
        .iter()
        .find(|e| e.kind == "filing.submitted" && e.stage == Some(Stage::Contract));
    if let (true, Some(e)) = (unrefunded, signed) {
        out.push(Owed {
            deadline: Deadline::DepositRefund,
            stage: None,
            round: 1,
            since: e.at,
        });
    }
    out
}
