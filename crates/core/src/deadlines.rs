//! The statutory limits the product's clocks run on (`calendar`), as an
//! admin sets them; the defaults are the law's, or common practice's where
//! the law is silent.

use crate::calendar::Limit;
use crate::complaints::{ComplaintLimit, ACCEPT, DECIDE};
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
