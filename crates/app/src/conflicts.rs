//! 同步冲突: the actions the sync server's order found stale, each beside
//! what stands in its place, for the staff who take that step to withdraw
//! or re-record after the current state. The roles are checked here; the
//! store keeps the resolution with its audit record, which syncs.

use crate::rights::{Right, ANY_ROLE, IMPORTERS};
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::recorded_by;
use ggzy_core::role::StaffRole;
use ggzy_store::conflicts::Resolution;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A conflict as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ConflictItem {
    /// The device that recorded the action, and its record there: the key.
    pub device: String,
    #[ts(type = "number")]
    pub seq: i64,
    /// Recorded on this desktop (else on another).
    pub own: bool,
    pub event_id: String,
    /// `stale` or `duplicate` (names in `labels.conflict_kinds`).
    pub kind: String,
    /// Why the order refuses it.
    pub reason: String,
    pub found_at: String,
    pub project: Option<String>,
    /// The action as recorded, and what stands in its place: intake events.
    #[ts(type = "Record<string, unknown> | null")]
    pub action: Option<serde_json::Value>,
    #[ts(type = "Record<string, unknown> | null")]
    pub standing: Option<serde_json::Value>,
    pub resolved: Option<Resolved>,
    /// The person may resolve it (their role takes this step).
    pub may_resolve: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Resolved {
    /// `withdrawn` or `rerecorded` (names in `labels.resolutions`).
    pub how: String,
    pub by: String,
    pub at: String,
    /// The event it was re-recorded as.
    pub event: Option<String>,
}

/// How a person resolves a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "how", rename_all = "snake_case")]
#[ts(export)]
pub enum ResolveForm {
    /// 撤回: the action stays void; its pushes never go.
    Withdrawn,
    /// 按当前状态重新办理: recorded anew on the project as `event_id`.
    Rerecorded { event_id: String },
}

/// The roles that resolve a conflict: those who take its step (an event id
/// accepted twice: those who import).
fn resolvers(kind: &str, action: Option<&serde_json::Value>) -> &'static [StaffRole] {
    let kind_of = action.and_then(|a| a.get("type")?.as_str());
    match (kind, kind_of) {
        ("stale", Some(t)) => recorded_by(t),
        _ => IMPORTERS,
    }
}

impl App {
    /// Every conflict, open ones first.
    pub async fn conflicts(&self) -> Result<Vec<ConflictItem>> {
        let me = self.require(ANY_ROLE, "查看同步冲突").await?;
        // Who was drawn stays secret here too (4.6), but from the supervisor.
        let sees = Right::SeeExperts.roles().contains(&me.role);
        let parse = |line: Option<String>| {
            line.and_then(|l| serde_json::from_str(&l).ok())
                .map(|mut v: serde_json::Value| {
                    if !sees {
                        crate::projects::conceal_event_line(&mut v);
                    }
                    v
                })
        };
        Ok(self
            .store()
            .conflicts()
            .await?
            .into_iter()
            .map(|c| {
                let action: Option<serde_json::Value> = parse(c.body);
                let may_resolve =
                    c.resolved.is_none() && resolvers(&c.kind, action.as_ref()).contains(&me.role);
                ConflictItem {
                    device: c.device,
                    seq: c.seq,
                    own: c.own,
                    event_id: c.event_id,
                    kind: c.kind,
                    reason: c.reason,
                    found_at: c.found_at,
                    project: c.project,
                    action,
                    standing: parse(c.standing),
                    resolved: c.resolved.map(|(how, by, at, event)| Resolved {
                        how,
                        by,
                        at,
                        event,
                    }),
                    may_resolve,
                }
            })
            .collect())
    }

    /// Resolve the conflict of `device`'s record `seq`: audited, and synced.
    pub async fn resolve_conflict(&self, device: &str, seq: i64, form: ResolveForm) -> Result<()> {
        let me = self.require(ANY_ROLE, "处理同步冲突").await?;
        let found = self
            .store()
            .conflicts()
            .await?
            .into_iter()
            .find(|c| c.device == device && c.seq == seq)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "没有这项同步冲突：请刷新页面"))?;
        let action = found
            .body
            .as_deref()
            .and_then(|l| serde_json::from_str(l).ok());
        if !resolvers(&found.kind, action.as_ref()).contains(&me.role) {
            return Err(AppError::forbidden("处理这项同步冲突"));
        }
        let how = match form {
            ResolveForm::Withdrawn => Resolution::Withdrawn,
            ResolveForm::Rerecorded { event_id } => Resolution::Rerecorded { event: event_id },
        };
        self.store()
            .resolve_conflict(device, seq, &how, &me.username)
            .await?;
        Ok(())
    }
}
