//! Projects: the searchable list and one project's timeline, as the UI reads them.

use crate::{App, Result, ANY_ROLE};
use ggzy_store::projects::{ProjectFilter, ProjectSummary, TimelineEvent};
use ggzy_store::pushes::Push;
use serde::Serialize;
use ts_rs::TS;

/// Rows per page of a list.
pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProjectItem {
    pub code: String,
    pub name: String,
    /// The stage touched last, e.g. `tender_notice`.
    pub stage: Option<String>,
    pub registered_at: String,
    pub updated_at: String,
    #[ts(type = "number")]
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProjectList {
    #[ts(type = "number")]
    pub total: i64,
    pub items: Vec<ProjectItem>,
}

/// A push as staff see it: who, how, where it stands, the exact text (secrets masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PushItem {
    /// Local queue number: what an action on the push names.
    #[ts(type = "number")]
    pub no: i64,
    pub id: String,
    pub clause: String,
    pub rule: String,
    pub recipient_role: String,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: String,
    pub address: String,
    pub text: String,
    pub status: String,
    #[ts(type = "number")]
    pub attempts: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TimelineItem {
    pub id: String,
    /// The intake type, e.g. `filing.reviewed`.
    pub kind: String,
    pub at: String,
    pub stage: Option<String>,
    /// Where it came from: `import:<file>`, `demo`, or the app.
    pub source: String,
    pub received_at: String,
    pub pushes: Vec<PushItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProjectDetail {
    pub project: ProjectItem,
    pub events: Vec<TimelineItem>,
}

impl From<ProjectSummary> for ProjectItem {
    fn from(p: ProjectSummary) -> Self {
        ProjectItem {
            code: p.code,
            name: p.name,
            stage: p.stage,
            registered_at: p.registered_at,
            updated_at: p.updated_at,
            events: p.events,
        }
    }
}

impl From<Push> for PushItem {
    fn from(p: Push) -> Self {
        PushItem {
            no: p.no,
            id: p.id.to_string(),
            clause: p.clause,
            rule: p.rule,
            recipient_role: p.recipient_role,
            recipient_id: p.recipient_id,
            recipient_name: p.recipient_name,
            channel: p.channel,
            address: p.address,
            text: p.text,
            status: p.status,
            attempts: p.attempts,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl From<TimelineEvent> for TimelineItem {
    fn from(e: TimelineEvent) -> Self {
        TimelineItem {
            id: e.id,
            kind: e.kind,
            at: e.at,
            stage: e.stage,
            source: e.source,
            received_at: e.received_at,
            pushes: e.pushes.into_iter().map(PushItem::from).collect(),
        }
    }
}

impl App {
    /// One page (from 1) of the projects matching a search and a stage.
    pub async fn projects(
        &self,
        query: Option<String>,
        stage: Option<String>,
        page: i64,
    ) -> Result<ProjectList> {
        self.require(ANY_ROLE, "查看项目")?;
        let list = self
            .store()
            .projects(&ProjectFilter {
                query,
                stage,
                offset: (page.max(1) - 1) * PAGE_SIZE,
                limit: PAGE_SIZE,
            })
            .await?;
        Ok(ProjectList {
            total: list.total,
            items: list.items.into_iter().map(ProjectItem::from).collect(),
        })
    }

    pub async fn project(&self, code: &str) -> Result<ProjectDetail> {
        self.require(ANY_ROLE, "查看项目")?;
        let t = self.store().timeline(code).await?;
        Ok(ProjectDetail {
            project: t.project.into(),
            events: t.events.into_iter().map(TimelineItem::from).collect(),
        })
    }
}
