//! What the workbench shows at a glance: counters and the latest activity.

use crate::{Result, Store};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Overview {
    pub projects: i64,
    pub events: i64,
    pub pushes_queued: i64,
    /// Failed for good (dead) or waiting for a retry.
    pub pushes_failing: i64,
    pub rejects_open: i64,
}

/// One audit record, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Activity {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
}

impl Store {
    /// The counters. Queued: the pushes past the outbox cursor that have no
    /// state yet. Pushes are numbered in a row (`no` is the rowid, and no
    /// push is ever deleted), so those past the cursor are `max(no) -
    /// cursor`, read at once, where counting them row by row took a second
    /// and more at 1.6 M queued.
    pub async fn overview(&self) -> Result<Overview> {
        Ok(sqlx::query_as(
            "SELECT (SELECT count(*) FROM projects) AS projects, \
                    (SELECT count(*) FROM events) AS events, \
                    coalesce((SELECT max(no) FROM pushes), 0) - c.cursor \
                      - (SELECT count(*) FROM push_states WHERE push_no > c.cursor) AS pushes_queued, \
                    (SELECT count(*) FROM push_states WHERE status IN ('retrying', 'dead')) AS pushes_failing, \
                    (SELECT count(*) FROM rejects WHERE resolved_at IS NULL) AS rejects_open \
             FROM (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_cursor'), 0) \
                   AS cursor) c",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// The latest audit records of this device, newest first: walked back
    /// along the device's own chain (its `(origin_device, seq)` key), so the
    /// newest few are read and nothing is sorted. (Through the `audit_trail`
    /// view ordered by id, SQLite sorted the whole trail: 0.8–1.3 s for half
    /// a million records.)
    pub async fn recent_activity(&self, limit: i64) -> Result<Vec<Activity>> {
        Ok(sqlx::query_as(
            "SELECT seq, \
                    coalesce(iif(json_valid(content), content ->> '$.at', NULL), '') AS at, \
                    coalesce(iif(json_valid(content), content ->> '$.kind', NULL), '') AS kind, \
                    coalesce(iif(json_valid(content), content ->> '$.subject', NULL), '') AS subject \
             FROM audit_records WHERE origin_device = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(self.device_n())
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

/// A project waiting for staff: what waits is the task's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct TaskProject {
    pub code: String,
    pub name: String,
    pub stage: Option<String>,
    pub updated_at: String,
}

/// What staff may be waited on for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A filing awaits the supervisory staff's review.
    FilingReview,
    /// Materials were submitted; the center staff check them and publish.
    Materials,
}

impl Store {
    /// Projects waiting on this kind of task, longest waiting first (up to
    /// `limit`), and how many there are. Found through partial indexes.
    pub async fn waiting_projects(
        &self,
        kind: TaskKind,
        limit: i64,
    ) -> Result<(Vec<TaskProject>, i64)> {
        let flag = match kind {
            TaskKind::FilingReview => "filing_pending",
            TaskKind::Materials => "materials_pending",
        };
        let total = sqlx::query_scalar(&format!("SELECT count(*) FROM projects WHERE {flag} = 1"))
            .fetch_one(self.pool())
            .await?;
        let items = sqlx::query_as(&format!(
            "SELECT code, name, stage, updated_at FROM projects WHERE {flag} = 1 \
             ORDER BY updated_at LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok((items, total))
    }
}
