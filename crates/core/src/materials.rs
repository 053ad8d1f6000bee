//! Verifying publication materials (发布资料查验): the verdict staff record,
//! the checklist it was reached on, and the checklists a center keeps per
//! stage (edited by admins; these defaults come from practice).

use crate::event::Stage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// The verdict on submitted materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Verdict {
    /// 通过: the notice may be published.
    Passed,
    /// 退回: the materials go back to the tenderer and agency, with the reason.
    Returned,
}

impl Verdict {
    pub const ALL: [Verdict; 2] = [Verdict::Passed, Verdict::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Returned => "returned",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Passed => "通过",
            Verdict::Returned => "退回",
        }
    }
}

crate::model::codes!(Verdict => "查验结论");

/// One item of a checklist as it was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CheckedItem {
    pub item: String,
    pub ok: bool,
    /// Required when the item failed: what is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub remark: Option<String>,
}

/// One submission of a stage's materials, and its verdict once recorded:
/// what the 查验 page lists, and the time it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MaterialsRound {
    pub stage: Stage,
    pub round: u32,
    pub submitted_event: String,
    /// The submission event's own time (RFC 3339, as it carried it).
    pub submitted_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verified_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verified_at: Option<String>,
    /// Who recorded the verdict (the event's source, e.g. `app:zhangwei`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    pub checklist: Vec<CheckedItem>,
    /// Minutes from the submission to the verdict, by the events' own times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub minutes: Option<i64>,
}

impl MaterialsRound {
    /// A verdict on this submission (`event`, at its own time `at`, recorded by `by`).
    pub fn decide(
        &mut self,
        (event, at, by): (&str, &str, &str),
        verdict: Verdict,
        reason: Option<String>,
        checklist: Vec<CheckedItem>,
    ) {
        self.verdict = Some(verdict);
        self.verified_event = Some(event.to_owned());
        self.verified_at = Some(at.to_owned());
        self.verified_by = Some(by.to_owned());
        self.reason = reason;
        self.checklist = checklist;
        let time = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
        self.minutes = match (time(&self.submitted_at), time(at)) {
            (Some(from), Some(to)) => Some((to - from).num_minutes()),
            _ => None,
        };
    }
}

/// The most items one stage's checklist may have.
pub const MAX_ITEMS: usize = 30;
/// The most characters one item may have.
pub const MAX_ITEM_CHARS: usize = 100;

/// The checklist of each stage: what staff check before a notice goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Checklists(pub BTreeMap<Stage, Vec<String>>);

/// What every notice is checked for, whatever its stage.
const COMMON: [&str; 4] = [
    "项目名称、项目编号与登记信息一致",
    "公告内容完整，格式符合发布媒介要求",
    "附件齐全，能正常打开",
    "联系人及联系方式准确",
];

fn stage_items(stage: Stage) -> &'static [&'static str] {
    match stage {
        Stage::Consultation => &["征询事项、征询期限表述明确"],
        Stage::TenderNotice => &[
            "公告内容与已备案的招标文件一致",
            "资格条件无排斥、限制潜在投标人的内容",
            "招标文件发售期不少于5日",
            "自招标文件发出至投标截止不少于20日",
        ],
        Stage::Correction => &[
            "更正内容与已备案的更正文件一致",
            "澄清或修改距投标截止不少于15日，不足的已顺延截止时间",
        ],
        Stage::BidOpening => &["开标记录与现场记录一致", "投标人名称、投标报价准确"],
        Stage::EvaluationResult => &[
            "中标候选人及排序与评标报告一致",
            "公示期不少于3日",
            "异议的提出方式和期限明确",
        ],
        Stage::Award => &["中标（成交）人与已备案的结果一致", "中标（成交）金额准确"],
        Stage::Contract => &[
            "合同与已备案的合同资料一致",
            "合同主要条款与招标文件、投标文件一致",
        ],
        Stage::Performance => &["履约情况表述完整", "验收结论明确"],
    }
}

impl Default for Checklists {
    fn default() -> Self {
        Checklists(
            Stage::ALL
                .into_iter()
                .map(|s| {
                    let items = stage_items(s).iter().chain(&COMMON);
                    (s, items.map(|i| i.to_string()).collect())
                })
                .collect(),
        )
    }
}

impl Checklists {
    /// The items of a stage (none when an admin cleared them).
    pub fn of(&self, stage: Stage) -> &[String] {
        self.0.get(&stage).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the checklists may be kept as they are; if not, what is wrong.
    pub fn check(&self) -> Result<(), String> {
        for (stage, items) in &self.0 {
            let name = stage.notice_zh();
            if items.len() > MAX_ITEMS {
                return Err(format!(
                    "{name}的查验项有 {} 项，最多 {MAX_ITEMS} 项",
                    items.len()
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let n = i + 1;
                if item.trim().is_empty() {
                    return Err(format!("{name}的第 {n} 项查验项为空：请填写或删除"));
                }
                if item.chars().count() > MAX_ITEM_CHARS {
                    return Err(format!("{name}的第 {n} 项查验项超过 {MAX_ITEM_CHARS} 字"));
                }
                if items[..i].iter().any(|o| o.trim() == item.trim()) {
                    return Err(format!("{name}的第 {n} 项查验项与前面的重复：{item}"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_has_default_items_that_pass_the_check() {
        let d = Checklists::default();
        for s in Stage::ALL {
            assert!(d.of(s).len() > COMMON.len(), "{s:?}");
        }
        d.check().expect("the defaults are valid");
    }

    #[test]
    fn a_blank_or_repeated_item_is_refused_by_stage_and_number() {
        let mut d = Checklists::default();
        d.0.get_mut(&Stage::Award).unwrap().push("  ".into());
        let e = d.check().unwrap_err();
        assert!(
            e.contains("中标（成交）结果公告") && e.contains("第 7 项"),
            "{e}"
        );
        let mut d = Checklists::default();
        let first = d.of(Stage::Consultation)[0].clone();
        d.0.get_mut(&Stage::Consultation).unwrap().push(first);
        assert!(d.check().unwrap_err().contains("重复"));
    }
}
