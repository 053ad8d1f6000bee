//! The standard's order, per project, stage and correction round: a filing
//! review passes before that stage's materials are checked; a rejection sends
//! the filing back for resubmission; publication follows a passed materials
//! verification, and a returned one waits for the materials again;
//! each stage waits for the one before it. An out-of-order step is refused
//! naming the clause it breaks.

use crate::error::Refusal;
use crate::event::{EventBody, Outcome, Party, Stage};
use crate::materials::Verdict;
use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a stage's filing review stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filing {
    #[default]
    None,
    Pending,
    Rejected,
    Passed,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Filing {
    fn is_none(&self) -> bool {
        *self == Filing::None
    }

    fn zh(self) -> &'static str {
        match self {
            Filing::None => "尚未提交备案",
            Filing::Pending => "备案审核中",
            Filing::Rejected => "备案未通过审核，待重新提交",
            Filing::Passed => "备案已通过审核",
        }
    }
}

/// Where the verification (查验) of a stage's publication materials stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    #[default]
    None,
    Pending,
    Returned,
    Passed,
}

impl Verification {
    fn is_none(&self) -> bool {
        *self == Verification::None
    }

    pub fn zh(self) -> &'static str {
        match self {
            Verification::None => "尚未提交发布资料",
            Verification::Pending => "发布资料待查验",
            Verification::Returned => "发布资料已退回，待重新提交",
            Verification::Passed => "发布资料已查验通过",
        }
    }
}

/// Progress of one stage (and correction round).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageProgress {
    pub stage: Stage,
    pub round: u32,
    #[serde(default, skip_serializing_if = "Filing::is_none")]
    pub filing: Filing,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filings: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub materials: u32,
    #[serde(default, skip_serializing_if = "Verification::is_none")]
    pub verification: Verification,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The mutable part of a project, stored as one small JSON value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunded: Vec<String>,
    #[serde(default)]
    pub stages: Vec<StageProgress>,
    /// The stage (and round) touched last: what lists show as "current".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<(Stage, u32)>,
}

/// A party attached to a project: its tenderer, agency, bidders and experts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectParty {
    pub role: Role,
    #[serde(flatten)]
    pub party: Party,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub code: String,
    pub name: String,
    /// Shared between a state and its successor: a step that adds no party
    /// copies none.
    pub parties: Arc<Vec<ProjectParty>>,
    pub progress: Progress,
}

/// The clause ids of one stage's steps, for rules and for refusals.
pub struct StageClauses {
    pub filing: &'static str,
    pub review: &'static str,
    pub materials: &'static str,
    pub notice: &'static str,
}

pub fn clauses(stage: Stage) -> StageClauses {
    let (filing, review, materials, notice) = match stage {
        Stage::Consultation => ("-", "-", "4.3.1", "4.3.2"),
        Stage::TenderNotice => ("4.4.1", "4.4.2", "4.4.3", "4.4.4"),
        Stage::Correction => ("4.5.1", "4.5.2", "4.5.3", "4.5.4"),
        Stage::BidOpening => ("-", "-", "4.7.1", "4.7.2"),
        Stage::EvaluationResult => ("-", "-", "4.8.1", "4.8.2"),
        Stage::Award => ("4.9.1", "4.9.2", "4.9.3", "4.9.4"),
        Stage::Contract => ("4.10.1", "4.10.2", "4.10.3", "4.10.4"),
        Stage::Performance => ("-", "-", "4.12.1", "4.12.2"),
    };
    StageClauses {
        filing,
        review,
        materials,
        notice,
    }
}

/// The stage whose notice must be published before this stage may start.
fn prerequisite(stage: Stage) -> Option<Stage> {
    match stage {
        Stage::Consultation | Stage::TenderNotice => None,
        Stage::Correction | Stage::BidOpening => Some(Stage::TenderNotice),
        Stage::EvaluationResult => Some(Stage::BidOpening),
        Stage::Award => Some(Stage::EvaluationResult),
        Stage::Contract => Some(Stage::Award),
        Stage::Performance => Some(Stage::Contract),
    }
}

impl Project {
    pub fn register(code: &str, name: &str, tenderer: &Party, agency: Option<&Party>) -> Self {
        let mut parties = vec![ProjectParty {
            role: Role::Tenderer,
            party: tenderer.clone(),
        }];
        if let Some(a) = agency {
            parties.push(ProjectParty {
                role: Role::Agency,
                party: a.clone(),
            });
        }
        Project {
            code: code.to_owned(),
            name: name.trim().to_owned(),
            parties: Arc::new(parties),
            progress: Progress::default(),
        }
    }

    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Party> {
        self.parties
            .iter()
            .filter(move |p| p.role == role)
            .map(|p| &p.party)
    }

    pub fn stage(&self, stage: Stage, round: u32) -> Option<&StageProgress> {
        self.progress
            .stages
            .iter()
            .find(|s| s.stage == stage && s.round == round)
    }

    fn stage_mut(&mut self, stage: Stage, round: u32) -> &mut StageProgress {
        let i = match self
            .progress
            .stages
            .iter()
            .position(|s| s.stage == stage && s.round == round)
        {
            Some(i) => i,
            None => {
                self.progress.stages.push(StageProgress {
                    stage,
                    round,
                    filing: Filing::None,
                    filings: 0,
                    materials: 0,
                    verification: Verification::None,
                    url: None,
                });
                self.progress.stages.len() - 1
            }
        };
        self.progress.current = Some((stage, round));
        &mut self.progress.stages[i]
    }

    /// A filing waits for the supervisory staff's review (their task).
    pub fn filing_pending(&self) -> bool {
        self.progress
            .stages
            .iter()
            .any(|s| s.filing == Filing::Pending)
    }

    /// Publication materials wait for their verification, or passed it and
    /// the notice is not out yet (the center staff's task).
    pub fn materials_pending(&self) -> bool {
        self.progress.stages.iter().any(|s| {
            s.url.is_none()
                && matches!(s.verification, Verification::Pending | Verification::Passed)
        })
    }

    /// The contract's filing is in (the contract signed) and some bidder's
    /// deposit is not refunded yet (4.11, within 5 days: `deadlines`).
    pub fn refund_pending(&self) -> bool {
        self.progress
            .stages
            .iter()
            .any(|s| s.stage == Stage::Contract && s.filings > 0)
            && self
                .with_role(Role::Bidder)
                .any(|b| !self.progress.refunded.contains(&b.id))
    }

    pub fn published(&self, stage: Stage) -> bool {
        self.progress
            .stages
            .iter()
            .any(|s| s.stage == stage && s.url.is_some())
    }

    /// The stage's start conditions: its predecessor published, corrections
    /// only while the tender is open and one round after another.
    fn may_start(&self, stage: Stage, round: u32, clause: &'static str) -> Result<(), Refusal> {
        if let Some(before) = prerequisite(stage) {
            if !self.published(before) {
                return Err(Refusal::order(
                    clause,
                    format!(
                        "{}须在{}发布之后进行",
                        stage.notice_zh(),
                        before.notice_zh()
                    ),
                ));
            }
        }
        if stage == Stage::Correction {
            if self.published(Stage::BidOpening) {
                return Err(Refusal::order(
                    clause,
                    "项目已开标，不能再发布更正（澄清、答疑）公告",
                ));
            }
            if round > 1
                && self
                    .stage(Stage::Correction, round - 1)
                    .is_none_or(|s| s.url.is_none())
            {
                return Err(Refusal::order(
                    clause,
                    format!("第{round}次更正须在第{}次更正公告发布之后进行", round - 1),
                ));
            }
        }
        Ok(())
    }

    /// Check a project event against the order and apply it to a copy.
    /// Returns the new state and the parties the event adds.
    pub fn apply(&self, body: &EventBody) -> Result<(Project, Vec<ProjectParty>), Refusal> {
        let mut next = self.clone();
        let mut added = Vec::new();
        match body {
            EventBody::ProjectRegistered { .. } => {
                return Err(Refusal::order(
                    "4.2",
                    format!("项目 `{}` 已受理登记，不能重复登记", self.code),
                ));
            }
            EventBody::BidderAdded { bidder } => {
                if self.published(Stage::BidOpening) {
                    return Err(Refusal::order(
                        "4.7.2",
                        "项目已开标，投标人名单已确定，不能再添加投标人",
                    ));
                }
                if self.parties.iter().any(|p| p.party.id == bidder.id) {
                    return Err(Refusal::field(
                        "bidder.id",
                        format!("`{}` 已是本项目的当事人", bidder.id),
                    ));
                }
                added.push(ProjectParty {
                    role: Role::Bidder,
                    party: bidder.clone(),
                });
            }
            EventBody::FilingSubmitted {
                stage,
                round,
                winner,
            } => {
                let c = clauses(*stage);
                self.may_start(*stage, *round, c.filing)?;
                let state = self
                    .stage(*stage, *round)
                    .map(|s| s.filing)
                    .unwrap_or_default();
                match state {
                    Filing::Pending => {
                        return Err(Refusal::order(
                            c.filing,
                            format!("{}已有备案在审核中，请等待审核结果", stage.notice_zh()),
                        ))
                    }
                    Filing::Passed => {
                        let hint = if *stage == Stage::Correction {
                            "；新的更正请使用下一轮 round"
                        } else {
                            ""
                        };
                        return Err(Refusal::order(
                            c.filing,
                            format!("{}的备案已通过审核，不能重复备案{hint}", stage.notice_zh()),
                        ));
                    }
                    Filing::None | Filing::Rejected => {}
                }
                if let Some(w) = winner {
                    if !self.with_role(Role::Bidder).any(|b| &b.id == w) {
                        return Err(Refusal::field(
                            "winner",
                            format!("`{w}` 不是本项目的投标人"),
                        ));
                    }
                    next.progress.winner = Some(w.clone());
                }
                let s = next.stage_mut(*stage, *round);
                s.filing = Filing::Pending;
                s.filings += 1;
            }
            EventBody::FilingReviewed {
                stage,
                round,
                outcome,
                ..
            } => {
                let c = clauses(*stage);
                let state = self
                    .stage(*stage, *round)
                    .map(|s| s.filing)
                    .unwrap_or_default();
                if state != Filing::Pending {
                    return Err(Refusal::order(
                        c.review,
                        format!(
                            "{}没有待审核的备案（当前：{}）",
                            stage.notice_zh(),
                            state.zh()
                        ),
                    ));
                }
                next.stage_mut(*stage, *round).filing = match outcome {
                    Outcome::Passed => Filing::Passed,
                    Outcome::Rejected => Filing::Rejected,
                };
            }
            EventBody::MaterialsSubmitted { stage, round } => {
                let c = clauses(*stage);
                self.may_start(*stage, *round, c.materials)?;
                let current = self.stage(*stage, *round);
                if stage.has_filing_review() {
                    let state = current.map(|s| s.filing).unwrap_or_default();
                    if state != Filing::Passed {
                        return Err(Refusal::order(
                            c.materials,
                            format!(
                                "{}发布资料查验须在备案审核通过后进行（当前：{}）",
                                stage.notice_zh(),
                                state.zh()
                            ),
                        ));
                    }
                }
                if current.is_some_and(|s| s.url.is_some()) {
                    return Err(Refusal::order(
                        c.materials,
                        format!("{}已发布，不能再提交发布资料", stage.notice_zh()),
                    ));
                }
                // A resubmission (after a return, or of changed materials)
                // starts a new verification.
                let s = next.stage_mut(*stage, *round);
                s.materials += 1;
                s.verification = Verification::Pending;
            }
            EventBody::MaterialsVerified {
                stage,
                round,
                verdict,
                ..
            } => {
                let c = clauses(*stage);
                let state = self
                    .stage(*stage, *round)
                    .map(|s| s.verification)
                    .unwrap_or_default();
                if state != Verification::Pending {
                    return Err(Refusal::order(
                        c.materials,
                        format!(
                            "{}没有待查验的发布资料（当前：{}）",
                            stage.notice_zh(),
                            state.zh()
                        ),
                    ));
                }
                next.stage_mut(*stage, *round).verification = match verdict {
                    Verdict::Passed => Verification::Passed,
                    Verdict::Returned => Verification::Returned,
                };
            }
            EventBody::NoticePublished { stage, round, url } => {
                let c = clauses(*stage);
                let current = self.stage(*stage, *round);
                if current.is_some_and(|s| s.url.is_some()) {
                    return Err(Refusal::order(
                        c.notice,
                        format!("{}已发布过", stage.notice_zh()),
                    ));
                }
                let state = current.map(|s| s.verification).unwrap_or_default();
                if state != Verification::Passed {
                    return Err(Refusal::order(
                        c.notice,
                        format!(
                            "{}须在发布资料查验通过（{}）后才能发布（当前：{}）",
                            stage.notice_zh(),
                            c.materials,
                            state.zh()
                        ),
                    ));
                }
                next.stage_mut(*stage, *round).url = Some(url.clone());
            }
            EventBody::ExpertsDrawn { experts, .. } => {
                if !self.published(Stage::TenderNotice) {
                    return Err(Refusal::order("4.6", "专家抽取须在招标公告发布之后进行"));
                }
                if self.published(Stage::EvaluationResult) {
                    return Err(Refusal::order("4.6", "评标结果已公示，不能再抽取评标专家"));
                }
                for (i, e) in experts.iter().enumerate() {
                    if self.with_role(Role::Expert).any(|x| x.id == e.id) {
                        return Err(Refusal::field(
                            format!("experts[{i}].id"),
                            format!("专家 `{}` 已被抽取过", e.id),
                        ));
                    }
                    added.push(ProjectParty {
                        role: Role::Expert,
                        party: e.clone(),
                    });
                }
            }
            EventBody::DrawShort { .. } => {
                if !self.with_role(Role::Expert).any(|_| true) {
                    return Err(Refusal::order("4.6", "本项目尚未抽取专家，无缺额可言"));
                }
            }
            EventBody::DepositRefunded { bidders } => {
                if !self.published(Stage::Award) {
                    return Err(Refusal::order(
                        "4.11",
                        "保证金退还须在中标（成交）结果公告发布、中标人确定之后进行",
                    ));
                }
                let targets = self.refund_targets(bidders.as_deref())?;
                next.progress.refunded.extend(targets);
            }
            other => unreachable!("not a project event: {other:?}"),
        }
        if !added.is_empty() {
            Arc::make_mut(&mut next.parties).extend(added.iter().cloned());
        }
        Ok((next, added))
    }

    /// The bidders a refund covers: those named, or all not yet refunded.
    pub fn refund_targets(&self, named: Option<&[String]>) -> Result<Vec<String>, Refusal> {
        let refunded = &self.progress.refunded;
        match named {
            Some(list) => {
                for (i, b) in list.iter().enumerate() {
                    if !self.with_role(Role::Bidder).any(|p| &p.id == b) {
                        return Err(Refusal::field(
                            format!("bidders[{i}]"),
                            format!("`{b}` 不是本项目的投标人"),
                        ));
                    }
                    if refunded.contains(b) {
                        return Err(Refusal::order(
                            "4.11",
                            format!("投标人 `{b}` 的保证金已退还过"),
                        ));
                    }
                }
                Ok(list.to_vec())
            }
            None => {
                let rest: Vec<String> = self
                    .with_role(Role::Bidder)
                    .filter(|b| !refunded.contains(&b.id))
                    .map(|b| b.id.clone())
                    .collect();
                if rest.is_empty() {
                    return Err(Refusal::order("4.11", "全部投标人的保证金均已退还"));
                }
                Ok(rest)
            }
        }
    }
}
