//! Staff actions: each form becomes an intake event and goes through the
//! same core path as an imported line. It is checked first, so a refused
//! form changes nothing and leaves no reject behind; the refusal names the
//! clause or field, as an import's would.

use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{recorded_by, Outcome, Stage};
use ggzy_core::materials::{CheckedItem, Verdict};
use ggzy_core::role::StaffRole;
use ggzy_store::intake::LineOutcome;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PartyInput {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<String>,
    /// How the party asked to be reached: `sms`, `email`, `both` or `none` (3.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub prefer: Option<String>,
}

/// A form, in the shape of the intake event it becomes (less `id` and `at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type")]
#[ts(export)]
pub enum Action {
    /// 4.2 项目登记
    #[serde(rename = "project.registered")]
    RegisterProject {
        project: String,
        name: String,
        tenderer: PartyInput,
        agency: PartyInput,
    },
    #[serde(rename = "project.bidder_added")]
    AddBidder { project: String, bidder: PartyInput },
    /// 备案 submitted (4.4.1, 4.5.1, 4.9.1 with the winner, 4.10.1): recorded
    /// by center staff, it tells the supervisory staff who review it.
    #[serde(rename = "filing.submitted")]
    SubmitFiling {
        project: String,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        round: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        winner: Option<String>,
    },
    /// 备案审核 outcome, with the opinion of a rejection
    #[serde(rename = "filing.reviewed")]
    ReviewFiling {
        project: String,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        round: Option<u32>,
        outcome: Outcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        opinion: Option<String>,
    },
    /// 发布资料 submitted (4.x.1 tells center staff to verify them): recorded
    /// by center staff when the e-trading system does not send it.
    #[serde(rename = "materials.submitted")]
    SubmitMaterials {
        project: String,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        round: Option<u32>,
    },
    /// 发布资料查验: the verdict on the checklist; a return gives its reason
    #[serde(rename = "materials.verified")]
    VerifyMaterials {
        project: String,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        round: Option<u32>,
        outcome: Verdict,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
        #[serde(default)]
        checklist: Vec<CheckedItem>,
    },
    /// 公告发布, with its URL
    #[serde(rename = "notice.published")]
    Publish {
        project: String,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        round: Option<u32>,
        url: String,
    },
    /// 4.11 保证金退还 (no bidders: all of them)
    #[serde(rename = "deposit.refunded")]
    RefundDeposits {
        project: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        bidders: Option<Vec<String>>,
    },
}

/// Each kind of action, by the intake type it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum ActionKind {
    #[serde(rename = "project.registered")]
    RegisterProject,
    #[serde(rename = "project.bidder_added")]
    AddBidder,
    #[serde(rename = "filing.submitted")]
    SubmitFiling,
    #[serde(rename = "filing.reviewed")]
    ReviewFiling,
    #[serde(rename = "materials.submitted")]
    SubmitMaterials,
    #[serde(rename = "materials.verified")]
    VerifyMaterials,
    #[serde(rename = "notice.published")]
    Publish,
    #[serde(rename = "deposit.refunded")]
    RefundDeposits,
}

impl ActionKind {
    pub const ALL: [ActionKind; 8] = [
        ActionKind::RegisterProject,
        ActionKind::AddBidder,
        ActionKind::SubmitFiling,
        ActionKind::ReviewFiling,
        ActionKind::SubmitMaterials,
        ActionKind::VerifyMaterials,
        ActionKind::Publish,
        ActionKind::RefundDeposits,
    ];

    pub fn event_type(self) -> &'static str {
        match self {
            ActionKind::RegisterProject => "project.registered",
            ActionKind::AddBidder => "project.bidder_added",
            ActionKind::SubmitFiling => "filing.submitted",
            ActionKind::ReviewFiling => "filing.reviewed",
            ActionKind::SubmitMaterials => "materials.submitted",
            ActionKind::VerifyMaterials => "materials.verified",
            ActionKind::Publish => "notice.published",
            ActionKind::RefundDeposits => "deposit.refunded",
        }
    }

    /// How staff call it (its button, and a refusal's first words).
    pub fn title(self) -> &'static str {
        match self {
            ActionKind::RegisterProject => "登记项目",
            ActionKind::AddBidder => "新增投标人",
            ActionKind::SubmitFiling => "登记备案",
            ActionKind::ReviewFiling => "备案审核",
            ActionKind::SubmitMaterials => "登记发布资料",
            ActionKind::VerifyMaterials => "查验发布资料",
            ActionKind::Publish => "发布公告",
            ActionKind::RefundDeposits => "退还保证金",
        }
    }

    /// The stages the action may name (none: it names no stage). A filing
    /// and its review are for the stages with a filing review only.
    pub fn stages(self) -> Vec<Stage> {
        match self {
            ActionKind::SubmitFiling | ActionKind::ReviewFiling => Stage::ALL
                .into_iter()
                .filter(|s| s.has_filing_review())
                .collect(),
            ActionKind::SubmitMaterials | ActionKind::VerifyMaterials | ActionKind::Publish => {
                Stage::ALL.to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// Who does it: the roles that record its event type (one table for
    /// forms and imports, `event::recorded_by`).
    pub fn roles(self) -> &'static [StaffRole] {
        recorded_by(self.event_type())
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::RegisterProject { .. } => ActionKind::RegisterProject,
            Action::AddBidder { .. } => ActionKind::AddBidder,
            Action::SubmitFiling { .. } => ActionKind::SubmitFiling,
            Action::ReviewFiling { .. } => ActionKind::ReviewFiling,
            Action::SubmitMaterials { .. } => ActionKind::SubmitMaterials,
            Action::VerifyMaterials { .. } => ActionKind::VerifyMaterials,
            Action::Publish { .. } => ActionKind::Publish,
            Action::RefundDeposits { .. } => ActionKind::RefundDeposits,
        }
    }
}

/// What an accepted action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ActionDone {
    pub event_id: String,
    #[ts(type = "number")]
    pub pushes: i64,
}

impl Action {
    /// Stand-ins for what a person has not typed yet, so a check while the
    /// form is being filled in asks only whether the standard allows the step.
    fn with_placeholders(mut self) -> Action {
        match &mut self {
            Action::Publish { url, .. } if url.trim().is_empty() => {
                *url = "https://example.invalid/".into()
            }
            Action::ReviewFiling {
                outcome, opinion, ..
            } if *outcome == Outcome::Rejected
                && opinion.as_deref().is_none_or(|o| o.trim().is_empty()) =>
            {
                *opinion = Some("…".into())
            }
            Action::VerifyMaterials {
                outcome, reason, ..
            } if *outcome == Verdict::Returned
                && reason.as_deref().is_none_or(|r| r.trim().is_empty()) =>
            {
                *reason = Some("…".into())
            }
            _ => {}
        }
        self
    }
}

impl App {
    /// Whether the standard allows this step now: `None`, or why not (the
    /// clause it would break). Nothing is kept.
    pub async fn check_action(&self, action: Action) -> Result<Option<String>> {
        let kind = action.kind();
        let session = self.require(kind.roles(), kind.title()).await?;
        let (source, line) = event_line(&session.username, &action.with_placeholders())?;
        Ok(match self.store().check_event(&source, &line).await? {
            LineOutcome::Refused { refusal, .. } => Some(refusal.to_string()),
            _ => None,
        })
    }

    pub async fn act(&self, action: Action) -> Result<ActionDone> {
        let kind = action.kind();
        let session = self.require(kind.roles(), kind.title()).await?;
        let (source, line) = event_line(&session.username, &action)?;
        // Decided once: kept when accepted; a refused form leaves nothing behind.
        let done = outcome_of(
            kind.title(),
            self.store().submit_form(&source, &line).await?,
        )?;
        self.queued.notify_one();
        Ok(done)
    }
}

impl App {
    /// A person's step written as its intake event (`body` without `id` and
    /// `at`), by a person whose role records its type; with `files`, their
    /// bytes are kept with it (a complaint's note).
    pub(crate) async fn record_step(
        &self,
        body: serde_json::Value,
        files: Vec<Vec<u8>>,
    ) -> Result<ActionDone> {
        let kind = body["type"].as_str().unwrap_or_default().to_owned();
        let title = ggzy_core::event::kind_zh(&kind).to_owned();
        let session = self.require(recorded_by(&kind), &title).await?;
        let (source, line) = event_line(&session.username, &body)?;
        let outcome = if files.is_empty() {
            self.store().submit_form(&source, &line).await?
        } else {
            self.store()
                .submit_with_files(&source, &line, files)
                .await?
        };
        let done = outcome_of(&title, outcome)?;
        self.queued.notify_one();
        Ok(done)
    }
}

/// What a person's step came to, as they are told it: done, or refused
/// naming the clause or field, or already done.
fn outcome_of(title: &str, outcome: LineOutcome) -> Result<ActionDone> {
    match outcome {
        LineOutcome::Accepted { event_id, pushes } => Ok(ActionDone {
            event_id,
            pushes: pushes as i64,
        }),
        LineOutcome::Refused { refusal, .. } => Err(AppError::new(
            ErrorCode::Refused,
            format!("{title}未能办理：{refusal}"),
        )),
        LineOutcome::Duplicate { event_id } => Err(AppError::new(
            ErrorCode::Duplicate,
            format!("事件 {event_id} 已办理过，未重复办理"),
        )),
    }
}

/// The intake line a form becomes, with a fresh id and the time now, and its source.
fn event_line(username: &str, action: &impl Serialize) -> Result<(String, String)> {
    let mut event = serde_json::to_value(action)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    event["id"] = format!("app-{}", uuid::Uuid::now_v7()).into();
    event["at"] = chrono::Local::now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        .into();
    Ok((format!("app:{username}"), event.to_string()))
}
