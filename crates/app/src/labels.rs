//! The names staff read for the codes the backend speaks, from where each is
//! defined (the core's enums, the intake types, the store's audit kinds):
//! the window gets them with the center's state at start (`center_state`)
//! and holds no copy of its own.

use ggzy_core::complaints::{ComplaintLimit, ComplaintState};
use ggzy_core::event::{kind_zh, ComplaintChannel, Outcome, Stage, OWN_TYPES, TYPES};
use ggzy_core::event::{SurveyMethod, SURVEY_ITEMS, SURVEY_LEVELS};
use ggzy_core::experts::ExpertStatus;
use ggzy_core::improvement::{Cause, ImprovementState, Metric};
use ggzy_core::materials::Verdict;
use ggzy_core::model::Reach;
use ggzy_core::push::{Channel, Hold, PushStatus};
use ggzy_core::role::{Role, StaffRole};
use serde::Serialize;
use ts_rs::TS;

/// A code and its name, in the order a list or a select shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Label<T> {
    pub code: T,
    pub name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Labels {
    pub stages: Vec<Label<Stage>>,
    pub outcomes: Vec<Label<Outcome>>,
    /// The verdicts of a materials verification (查验).
    pub verdicts: Vec<Label<Verdict>>,
    /// Whether an expert may be drawn.
    pub expert_statuses: Vec<Label<ExpertStatus>>,
    /// The standard's recipients (推送对象).
    pub roles: Vec<Label<Role>>,
    pub staff_roles: Vec<Label<StaffRole>>,
    pub channels: Vec<Label<Channel>>,
    /// The ways a complaint comes in (5.1.1).
    pub complaint_channels: Vec<Label<ComplaintChannel>>,
    /// Where a complaint stands (5.1.2).
    pub complaint_states: Vec<Label<ComplaintState>>,
    /// A complaint's two clocks.
    pub complaint_limits: Vec<Label<ComplaintLimit>>,
    /// How an Appendix A form came in.
    pub survey_methods: Vec<Label<SurveyMethod>>,
    /// Appendix A's six items in its order, by their score field.
    pub survey_items: Vec<Label<&'static str>>,
    /// Appendix A's five levels, 5 (很满意) first.
    pub survey_levels: Vec<Label<u8>>,
    /// What an improvement item was opened for (6).
    pub causes: Vec<Label<Cause>>,
    pub improvement_states: Vec<Label<ImprovementState>>,
    /// The measures an improvement's effect is shown by.
    pub metrics: Vec<Label<Metric>>,
    /// How a party asked to be reached (3.4).
    pub reaches: Vec<Label<Reach>>,
    pub push_statuses: Vec<Label<PushStatus>>,
    /// Why a push is not sent from this desktop.
    pub holds: Vec<Label<Hold>>,
    /// Intake types, the product's own included.
    pub event_types: Vec<Label<&'static str>>,
    /// Kinds of audit record.
    pub audit_kinds: Vec<Label<&'static str>>,
    /// What a project can be waiting on (the project list's 待办 filter).
    pub waiting: Vec<Label<&'static str>>,
    /// Kinds of sync conflict, and how one is resolved.
    pub conflict_kinds: Vec<Label<&'static str>>,
    pub resolutions: Vec<Label<&'static str>>,
}

fn labels<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<Label<T>> {
    all.iter()
        .map(|&code| Label {
            code,
            name: name(code),
        })
        .collect()
}

fn pairs(all: &[(&'static str, &'static str)]) -> Vec<Label<&'static str>> {
    all.iter()
        .map(|&(code, name)| Label { code, name })
        .collect()
}

impl Labels {
    pub fn new() -> Labels {
        let kinds: Vec<&'static str> = TYPES.into_iter().chain(OWN_TYPES).collect();
        Labels {
            stages: labels(&Stage::ALL, Stage::zh),
            outcomes: labels(&Outcome::ALL, Outcome::zh),
            verdicts: labels(&Verdict::ALL, Verdict::zh),
            expert_statuses: labels(&ExpertStatus::ALL, ExpertStatus::zh),
            roles: labels(&Role::ALL, Role::zh),
            staff_roles: labels(&StaffRole::ALL, StaffRole::zh),
            channels: labels(&Channel::ALL, Channel::zh),
            complaint_channels: labels(&ComplaintChannel::ALL, ComplaintChannel::zh),
            complaint_states: labels(&ComplaintState::ALL, ComplaintState::zh),
            complaint_limits: labels(&ComplaintLimit::ALL, ComplaintLimit::zh),
            survey_methods: labels(&SurveyMethod::ALL, SurveyMethod::zh),
            survey_items: pairs(&SURVEY_ITEMS),
            survey_levels: SURVEY_LEVELS
                .iter()
                .map(|&(code, name)| Label { code, name })
                .collect(),
            causes: labels(&Cause::ALL, Cause::zh),
            improvement_states: labels(&ImprovementState::ALL, ImprovementState::zh),
            metrics: labels(&Metric::ALL, Metric::zh),
            reaches: labels(&Reach::ALL, Reach::zh),
            push_statuses: labels(&PushStatus::ALL, PushStatus::zh),
            holds: labels(&Hold::ALL, Hold::zh),
            event_types: labels(&kinds, kind_zh),
            audit_kinds: pairs(&ggzy_store::audit::KINDS),
            waiting: crate::WAITING
                .into_iter()
                .map(|(_, code, name)| Label { code, name })
                .collect(),
            conflict_kinds: pairs(&ggzy_store::conflicts::KINDS),
            resolutions: pairs(&ggzy_store::conflicts::HOWS),
        }
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels::new()
    }
}
