//! The 查验 page: a stage's publication materials, the checklist to verify
//! them on, and every submission with its verdict. The verdict itself is an
//! action (`materials.verified`) and goes through `act` like any other.

use crate::rights::{ADMIN, ANY_ROLE};
use crate::{App, Result};
pub use ggzy_core::event::Stage;
pub use ggzy_core::materials::Checklists;
use ggzy_core::materials::{MaterialsRound, Verdict};
use ggzy_core::workflow::Verification;
use serde::Serialize;
use ts_rs::TS;

/// One stage (and round) of a project's materials, as the 查验 page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MaterialsView {
    pub project: String,
    pub name: String,
    pub stage: Stage,
    pub round: u32,
    /// Whether a submission waits for its verdict (the checklist is to be filled in).
    pub waiting: bool,
    /// Where the verification stands, as staff say it.
    pub state: String,
    /// The stage's checklist as the center keeps it now.
    pub checklist: Vec<String>,
    /// Every submission of this stage and round, the latest last.
    pub rounds: Vec<MaterialsRound>,
}

impl App {
    /// The 查验 page of a stage; without a round, of its latest round.
    pub async fn materials(
        &self,
        code: &str,
        stage: Stage,
        round: Option<u32>,
    ) -> Result<MaterialsView> {
        self.require(ANY_ROLE, "查看发布资料查验").await?;
        let summary = self.store().project_summary(code).await?;
        let mut rounds = self.store().materials_rounds(code).await?;
        rounds.retain(|r| r.stage == stage);
        let round = round
            .or_else(|| rounds.iter().map(|r| r.round).max())
            .unwrap_or(1);
        rounds.retain(|r| r.round == round);
        let state = match rounds.last().map(|r| r.verdict) {
            None => Verification::None,
            Some(None) => Verification::Pending,
            Some(Some(Verdict::Returned)) => Verification::Returned,
            Some(Some(Verdict::Passed)) => Verification::Passed,
        };
        let checklist = self.store().checklists().await?.of(stage).to_vec();
        Ok(MaterialsView {
            project: summary.code,
            name: summary.name,
            stage,
            round,
            waiting: state == Verification::Pending,
            state: state.zh().to_owned(),
            checklist,
            rounds,
        })
    }

    pub async fn checklists(&self) -> Result<Checklists> {
        self.require(ADMIN, "查看查验清单").await?;
        Ok(self.store().checklists().await?)
    }

    /// Check and save every stage's checklist; audited.
    pub async fn save_checklists(&self, lists: Checklists) -> Result<Checklists> {
        let me = self.require(ADMIN, "修改查验清单").await?;
        self.store().save_checklists(&lists, &me.username).await?;
        self.checklists().await
    }
}
