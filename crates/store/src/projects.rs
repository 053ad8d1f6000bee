//! Projects as staff look them up: a page of the list, searched and
//! filtered, and one project's timeline of events with the pushes each
//! caused. Every query reads one page or one project, never a whole table.

use crate::audit::SilencedRecord;
use crate::pushes::{Push, PushFilter, StatusChange};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder, Sqlite};

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Part of the code or the name.
    pub query: Option<String>,
    /// The stage touched last, e.g. `tender_notice`.
    pub stage: Option<String>,
    /// Only projects waiting on this kind of task.
    pub waiting: Option<crate::overview::TaskKind>,
    /// Registered on or after this day, and before this one (`YYYY-MM-DD`).
    pub registered_from: Option<String>,
    pub registered_before: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ProjectSummary {
    pub code: String,
    pub name: String,
    pub stage: Option<String>,
    pub registered_at: String,
    pub updated_at: String,
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectPage {
    pub total: i64,
    pub items: Vec<ProjectSummary>,
}

/// One event of a project, with the pushes it caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct TimelineEvent {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub at: String,
    pub stage: Option<String>,
    pub source: String,
    pub received_at: String,
    #[sqlx(skip)]
    pub pushes: Vec<Push>,
    /// Recipients its rule left silent, from its audit record.
    #[sqlx(skip)]
    pub silenced: Vec<SilencedRecord<'static>>,
}

/// A party of a project: tenderer, agency, bidder or expert, in order of arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ProjectPartyRow {
    pub role: String,
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub prefer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub project: ProjectSummary,
    pub events: Vec<TimelineEvent>,
}

/// A project with its number of events; `p` is the projects (or a page of them).
const SUMMARY: &str = "SELECT p.code, p.name, p.stage, p.registered_at, p.updated_at, \
    (SELECT count(*) FROM events e WHERE e.project = p.code) AS events FROM";

/// `%text%` for LIKE, with LIKE's own wildcards taken literally.
pub(crate) fn contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    pub async fn projects(&self, filter: &ProjectFilter) -> Result<ProjectPage> {
        let push_where = |qb: &mut QueryBuilder<'_, Sqlite>| {
            qb.push(" WHERE 1 = 1");
            if let Some(q) = filter
                .query
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
            {
                let pattern = contains(q);
                qb.push(" AND (p.code LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR p.name LIKE ")
                    .push_bind(pattern)
                    .push(" ESCAPE '\\')");
            }
            if let Some(stage) = filter.stage.as_deref().filter(|s| !s.is_empty()) {
                qb.push(" AND p.stage = ").push_bind(stage.to_owned());
            }
            match filter.waiting {
                Some(crate::overview::TaskKind::FilingReview) => {
                    qb.push(" AND p.filing_pending = 1");
                }
                Some(crate::overview::TaskKind::Materials) => {
                    qb.push(" AND p.materials_pending = 1");
                }
                None => {}
            }
            // Times are RFC 3339 in the center's offset: a day compares as a prefix.
            if let Some(day) = &filter.registered_from {
                qb.push(" AND p.registered_at >= ").push_bind(day.clone());
            }
            if let Some(day) = &filter.registered_before {
                qb.push(" AND p.registered_at < ").push_bind(day.clone());
            }
        };
        let mut count: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT count(*) FROM projects p");
        push_where(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        // The page is chosen first, so events are counted for its rows only.
        let mut page: QueryBuilder<'_, Sqlite> = QueryBuilder::new(SUMMARY);
        page.push(" (SELECT * FROM projects p");
        push_where(&mut page);
        page.push(" ORDER BY p.updated_at DESC, p.code LIMIT ")
            .push_bind(filter.limit.clamp(1, 200))
            .push(" OFFSET ")
            .push_bind(filter.offset.max(0))
            .push(") p ORDER BY p.updated_at DESC, p.code");
        let items = page.build_query_as().fetch_all(self.pool()).await?;
        Ok(ProjectPage { total, items })
    }

    /// A project's events in the order they were accepted, each with its pushes.
    pub async fn project_parties(&self, code: &str) -> Result<Vec<ProjectPartyRow>> {
        Ok(sqlx::query_as(
            "SELECT role, id, name, phone, email, prefer FROM parties WHERE project = ? ORDER BY position",
        )
        .bind(code)
        .fetch_all(self.pool())
        .await?)
    }

    /// One project's line of the list, or that there is no such project.
    pub async fn project_summary(&self, code: &str) -> Result<ProjectSummary> {
        sqlx::query_as(&format!("{SUMMARY} projects p WHERE p.code = ?"))
            .bind(code)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有编号为 `{code}` 的项目")))
    }

    pub async fn timeline(&self, code: &str) -> Result<Timeline> {
        let project = self.project_summary(code).await?;
        let mut events: Vec<TimelineEvent> = sqlx::query_as(
            "SELECT id, body ->> '$.type' AS type, body ->> '$.at' AS at, body ->> '$.stage' AS stage, \
             source, received_at FROM events WHERE project = ? ORDER BY no",
        )
        .bind(code)
        .fetch_all(self.pool())
        .await?;
        let filter = PushFilter {
            project: Some(code.to_owned()),
            ..Default::default()
        };
        let index: std::collections::HashMap<String, usize> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let mut pushes: Vec<Vec<Push>> = vec![Vec::new(); events.len()];
        self.for_each_push(&filter, |push| {
            if let Some(&i) = index.get(&push.event_id) {
                pushes[i].push(push);
            }
        })
        .await?;
        // Each push's status changes: sent, delivered, retried, re-driven.
        let nos: Vec<i64> = pushes.iter().flatten().map(|p| p.no).collect();
        let mut history: std::collections::HashMap<i64, Vec<StatusChange>> =
            std::collections::HashMap::new();
        for change in self.push_history(&nos).await? {
            history.entry(change.push_no).or_default().push(change);
        }
        // Whom each event's rule left silent: kept in the event's audit record only.
        let silences: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.id, a.content ->> '$.silenced' FROM events e JOIN audit_records a \
             ON a.origin_device = e.origin_device AND a.seq = e.origin_seq \
             WHERE e.project = ? AND a.content ->> '$.silenced' IS NOT NULL",
        )
        .bind(code)
        .fetch_all(self.pool())
        .await?;
        for (id, silenced) in silences {
            if let Some(&i) = index.get(&id) {
                events[i].silenced = serde_json::from_str(&silenced).map_err(|e| {
                    StoreError::Corrupt(format!("the audit record of event `{id}`: {e}"))
                })?;
            }
        }
        for (e, mut p) in events.iter_mut().zip(pushes) {
            for push in &mut p {
                push.history = history.remove(&push.no).unwrap_or_default();
            }
            e.pushes = p;
        }
        Ok(Timeline { project, events })
    }
}
