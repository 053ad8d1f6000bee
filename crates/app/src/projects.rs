//! Projects: the searchable list and one project's timeline, as the UI reads them.

use crate::rights::Right;
use crate::{App, AppError, Result, ANY_ROLE};
use ggzy_core::catalog::{rule_by_id, Trigger};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Stage;
use ggzy_core::push::{Channel, PushStatus};
use ggzy_core::render::MASK;
use ggzy_core::role::Role;
use ggzy_store::projects::{ProjectFilter, ProjectSummary, TimelineEvent};
use ggzy_store::pushes::Push;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Rows per page of a list.
pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProjectItem {
    pub code: String,
    pub name: String,
    /// The stage touched last (the store writes only the engine's codes).
    #[ts(as = "Option<Stage>")]
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
    pub recipient_role: Role,
    pub recipient_id: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub address: String,
    pub text: String,
    pub status: PushStatus,
    #[ts(type = "number")]
    pub attempts: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Why this desktop does not send it (another device's, or held with a
    /// stale action); `None`: this desktop's dispatcher sends it.
    pub held: Option<ggzy_core::push::Hold>,
    /// Its status changes, oldest first (on the project timeline; empty in the push log).
    pub history: Vec<StatusItem>,
    pub project: Option<String>,
    /// The stage whose materials it asks staff to verify (4.x.1 and the
    /// like): the push links to that 查验 page.
    pub verify: Option<Stage>,
}

/// One status change of a push: each is also an audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct StatusItem {
    pub status: PushStatus,
    pub detail: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TimelineItem {
    pub id: String,
    /// The intake type, e.g. `filing.reviewed`.
    pub kind: String,
    pub at: String,
    #[ts(as = "Option<Stage>")]
    pub stage: Option<String>,
    /// Where it came from: `import:<file>`, `demo`, or the app.
    pub source: String,
    pub received_at: String,
    pub pushes: Vec<PushItem>,
    /// Recipients of its rule who were not pushed to, and why.
    pub silenced: Vec<SilencedItem>,
}

/// A recipient an event's rule left silent (its audit record keeps this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SilencedItem {
    pub clause: String,
    pub role_name: String,
    pub recipient_id: String,
    pub recipient_name: String,
    pub reason: String,
}

/// How a drawn expert shows to those who may not see who they are.
pub const CONCEALED: &str = "（评标专家身份保密）";

/// Whose identity among a project's drawn experts someone may see.
pub(crate) enum Sees {
    /// The supervisor: every one, every look audited.
    All,
    /// The staff of a draw's evaluation: those signed in, or everyone it
    /// called once the evaluation has begun. Nobody, for everyone else.
    Only(std::collections::BTreeSet<String>),
}

impl Sees {
    pub(crate) fn shows(&self, expert: &str) -> bool {
        match self {
            Sees::All => true,
            Sees::Only(ids) => ids.contains(expert),
        }
    }
}

impl App {
    /// Whose identity among project `code`'s drawn experts `me` may see.
    pub(crate) async fn sees_experts(&self, me: &crate::Session, code: &str) -> Result<Sees> {
        if Right::SeeExperts.roles().contains(&me.role) {
            return Ok(Sees::All);
        }
        Ok(Sees::Only(
            self.store()
                .revealed_experts(code, &me.username, chrono::Utc::now())
                .await?,
        ))
    }
}

/// Conceal every drawn expert of `detail` the viewer may not see: their
/// names, ids and contacts, and the pushes and silences addressed to them.
/// Whether any expert is left shown.
fn conceal_experts(detail: &mut ProjectDetail, sees: &Sees) -> bool {
    let mut shown = false;
    for p in detail
        .parties
        .iter_mut()
        .filter(|p| p.role == Role::Expert.as_str())
    {
        if sees.shows(&p.id) {
            shown = true;
            continue;
        }
        p.id = MASK.into();
        p.name = CONCEALED.into();
        p.phone = None;
        p.email = None;
    }
    for e in &mut detail.events {
        for p in e.pushes.iter_mut().filter(|p| !sees.shows(&p.recipient_id)) {
            conceal_push(p);
        }
        for s in e
            .silenced
            .iter_mut()
            .filter(|s| s.role_name == Role::Expert.zh() && !sees.shows(&s.recipient_id))
        {
            s.recipient_id = MASK.into();
            s.recipient_name = CONCEALED.into();
        }
    }
    shown
}

/// Conceal a push to a drawn expert: who, where, and what it told them.
pub(crate) fn conceal_push(p: &mut PushItem) {
    if p.recipient_role == Role::Expert {
        p.recipient_id = MASK.into();
        p.recipient_name = CONCEALED.into();
        p.address = MASK.into();
        p.text = CONCEALED.into();
    }
}

/// Conceal who an `experts.drawn` line names (an intake event as a page
/// shows it, e.g. a conflicted action): every expert's id, name and contacts.
pub(crate) fn conceal_event_line(event: &mut serde_json::Value) {
    if event["type"] != "experts.drawn" {
        return;
    }
    if let Some(experts) = event.get_mut("experts").and_then(|e| e.as_array_mut()) {
        for e in experts {
            *e = serde_json::json!({"id": MASK, "name": CONCEALED});
        }
    }
}

/// A role as staff read it (招标人), or its code when unknown.
fn role_name(role: &str) -> String {
    ggzy_core::role::Role::parse(role).map_or_else(|| role.to_owned(), |r| r.zh().to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProjectDetail {
    pub project: ProjectItem,
    /// Tenderer, agency, bidders and experts, in order of arrival.
    pub parties: Vec<PartyItem>,
    pub events: Vec<TimelineItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PartyItem {
    #[ts(as = "Role")]
    pub role: String,
    pub role_name: String,
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub prefer: Option<String>,
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
        let verify = match rule_by_id(&p.rule).map(|r| r.trigger) {
            Some(Trigger::MaterialsSubmitted(stage)) => Some(stage),
            _ => None,
        };
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
            held: p.held,
            status: p.status,
            attempts: p.attempts,
            created_at: p.created_at,
            updated_at: p.updated_at,
            history: p
                .history
                .into_iter()
                .map(|h| StatusItem {
                    status: h.status,
                    detail: h.detail,
                    at: h.at,
                })
                .collect(),
            verify,
            project: p.project,
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
            silenced: e
                .silenced
                .into_iter()
                .map(|s| SilencedItem {
                    clause: s.clause.into_owned(),
                    role_name: role_name(&s.role),
                    recipient_id: s.recipient_id.into_owned(),
                    recipient_name: s.recipient_name.into_owned(),
                    reason: s.reason.into_owned(),
                })
                .collect(),
        }
    }
}

/// What the project list is asked for; absent or empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct ProjectQuery {
    #[ts(optional)]
    pub query: Option<String>,
    #[ts(optional)]
    pub stage: Option<Stage>,
    /// `filing_review` or `materials`: projects waiting on that task.
    #[ts(optional)]
    pub status: Option<String>,
    /// Registered on or after this day (`YYYY-MM-DD`).
    #[ts(optional)]
    pub registered_from: Option<String>,
    /// Registered on or before this day.
    #[ts(optional)]
    pub registered_to: Option<String>,
    /// From 1.
    #[ts(type = "number")]
    pub page: i64,
}

impl App {
    /// One page (from 1) of the projects matching a search and a stage.
    pub async fn projects(&self, q: ProjectQuery) -> Result<ProjectList> {
        self.require(ANY_ROLE, "查看项目").await?;
        let waiting = match q.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(code) => Some(
                crate::WAITING
                    .iter()
                    .find(|(_, c, _)| *c == code)
                    .map(|(kind, _, _)| *kind)
                    .ok_or_else(|| {
                        let known: Vec<String> = crate::WAITING
                            .iter()
                            .map(|(_, c, title)| format!("{c}（{title}）"))
                            .collect();
                        AppError::new(
                            ErrorCode::Invalid,
                            format!("没有名为 `{code}` 的项目状态：可选 {}", known.join("、")),
                        )
                    })?,
            ),
        };
        let day = |d: Option<String>, what: &str| -> Result<Option<chrono::NaiveDate>> {
            d.filter(|d| !d.trim().is_empty())
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        AppError::new(
                            ErrorCode::Invalid,
                            format!(
                                "{what} `{d}` 不是有效日期：请按 YYYY-MM-DD 填写，如 2026-11-27"
                            ),
                        )
                    })
                })
                .transpose()
        };
        let from = day(q.registered_from, "登记日期起")?;
        let to = day(q.registered_to, "登记日期止")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(AppError::new(
                    ErrorCode::Invalid,
                    format!("登记日期起 {f} 晚于止 {t}：请调换或改正"),
                ));
            }
        }
        let list = self
            .store()
            .projects(&ProjectFilter {
                query: q.query,
                stage: q.stage.map(|s| s.as_str().to_owned()),
                waiting,
                registered_from: from.map(|d| d.to_string()),
                // The last day counts whole.
                registered_before: to.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
                offset: (q.page.max(1) - 1) * PAGE_SIZE,
                limit: PAGE_SIZE,
            })
            .await?;
        Ok(ProjectList {
            total: list.total,
            items: list.items.into_iter().map(ProjectItem::from).collect(),
        })
    }

    /// A project, its parties and its timeline. Drawn experts are concealed
    /// but from those who may see them (`Sees`), and such a look is audited.
    pub async fn project(&self, code: &str) -> Result<ProjectDetail> {
        let me = self.require(ANY_ROLE, "查看项目").await?;
        let t = self.store().timeline(code).await?;
        let parties = self.store().project_parties(code).await?;
        let sees = self.sees_experts(&me, code).await?;
        let mut detail = ProjectDetail {
            project: t.project.into(),
            parties: parties
                .into_iter()
                .map(|p| PartyItem {
                    role_name: role_name(&p.role),
                    role: p.role,
                    id: p.id,
                    name: p.name,
                    phone: p.phone,
                    email: p.email,
                    prefer: p.prefer,
                })
                .collect(),
            events: t.events.into_iter().map(TimelineItem::from).collect(),
        };
        if conceal_experts(&mut detail, &sees) {
            self.store()
                .record_experts_viewed(code, &me.username)
                .await?;
        }
        Ok(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drawn expert named in an event line (a conflicted action on its
    /// page) is concealed; any other line is left as it is.
    #[test]
    fn an_experts_drawn_line_is_concealed() {
        let mut drawn = serde_json::json!({"type": "experts.drawn", "sender": "中心",
            "experts": [{"id": "E1", "name": "周建国", "phone": "13958610001"}]});
        conceal_event_line(&mut drawn);
        let shown = drawn.to_string();
        assert!(
            !shown.contains("周建国") && !shown.contains("E1") && !shown.contains("1395861"),
            "{shown}"
        );
        assert_eq!(drawn["sender"], "中心");
        let mut other = serde_json::json!({"type": "filing.reviewed", "opinion": "周建国"});
        let before = other.clone();
        conceal_event_line(&mut other);
        assert_eq!(other, before);
    }
}
