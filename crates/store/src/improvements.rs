//! The improvement register (6): corrective and preventive actions, each
//! covered by its latest `improvement.saved` audit record (the row's SM3),
//! and the measures (`core::improvement::Metric`) over a period.

use crate::audit::AuditWriter;
use crate::{now, Result, Store, StoreError};
use chrono::NaiveDate;
use ggzy_core::audit::sm3_hex;
use ggzy_core::error::ErrorCode;
use ggzy_core::improvement::{Cause, ImprovementState, Metric};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

pub const SAVED: &str = "improvement.saved";

/// One item of the register, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Improvement {
    /// `GJ-2026-001`.
    pub id: String,
    #[sqlx(try_from = "String")]
    pub cause: Cause,
    /// What caused it: a survey's event id, a complaint id, a push number…
    pub cause_ref: Option<String>,
    /// The problem.
    pub title: String,
    /// The corrective or preventive measure.
    pub action: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: ImprovementState,
    /// The measure whose values before and after show the effect.
    #[sqlx(try_from = "OptionalMetric")]
    pub metric: Option<Metric>,
    /// The day the measure took effect, `YYYY-MM-DD`.
    pub done_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// A `metric` column read back (NULL: none chosen).
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub struct OptionalMetric(Option<String>);

impl TryFrom<OptionalMetric> for Option<Metric> {
    type Error = ggzy_core::model::UnknownCode;
    fn try_from(m: OptionalMetric) -> std::result::Result<Self, Self::Error> {
        m.0.map(Metric::try_from).transpose()
    }
}

/// What the audit record of a saved item holds: the SM3 of every field.
pub(crate) fn digest(i: &Improvement) -> String {
    sm3_hex(serde_json::to_string(i).expect("an item serialises"))
}

const SELECT: &str = "SELECT id, cause, cause_ref, title, action, owner, due, state, metric, \
     done_on, created_by, created_at FROM improvements";

impl Store {
    /// Every item, newest first.
    pub async fn improvements(&self) -> Result<Vec<Improvement>> {
        Ok(
            sqlx::query_as(&format!("{SELECT} ORDER BY created_at DESC, id DESC"))
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Keep an item: a new one (no `id`) under the year's next number, with
    /// `by` and now as who opened it and when; a known one as changed. A
    /// cause already registered (the same survey, complaint…) is refused,
    /// naming the item that holds it. Audited with the row's SM3.
    pub async fn save_improvement(&self, mut item: Improvement, by: &str) -> Result<Improvement> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let at = now();
        if item.id.is_empty() {
            let year = &at[..4];
            let taken: Vec<String> =
                sqlx::query_scalar("SELECT id FROM improvements WHERE id LIKE ?")
                    .bind(format!("GJ-{year}-%"))
                    .fetch_all(&mut *conn)
                    .await?;
            let n = taken
                .iter()
                .filter_map(|id| id.rsplit('-').next()?.parse::<u32>().ok())
                .max()
                .unwrap_or(0);
            item.id = format!("GJ-{year}-{:03}", n + 1);
            item.created_by = by.to_owned();
            item.created_at = at.clone();
        } else {
            let was: Option<(String, String)> =
                sqlx::query_as("SELECT created_by, created_at FROM improvements WHERE id = ?")
                    .bind(&item.id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let (created_by, created_at) =
                was.ok_or_else(|| StoreError::NotFound(format!("没有改进事项 `{}`", item.id)))?;
            item.created_by = created_by;
            item.created_at = created_at;
        }
        if let Some(r) = &item.cause_ref {
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT id FROM improvements WHERE cause = ? AND cause_ref = ? AND id <> ?",
            )
            .bind(item.cause.as_str())
            .bind(r)
            .bind(&item.id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(h) = holder {
                return Err(StoreError::invalid(
                    ErrorCode::Duplicate,
                    format!(
                        "该{}已登记为改进事项 {h}：请在该事项中整改",
                        item.cause.zh()
                    ),
                ));
            }
        }
        sqlx::query(
            "INSERT INTO improvements (id, cause, cause_ref, title, action, owner, due, state, metric, \
             done_on, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET cause = excluded.cause, cause_ref = excluded.cause_ref, \
             title = excluded.title, action = excluded.action, owner = excluded.owner, due = excluded.due, \
             state = excluded.state, metric = excluded.metric, done_on = excluded.done_on",
        )
        .bind(&item.id)
        .bind(item.cause.as_str())
        .bind(&item.cause_ref)
        .bind(&item.title)
        .bind(&item.action)
        .bind(&item.owner)
        .bind(&item.due)
        .bind(item.state.as_str())
        .bind(item.metric.map(Metric::as_str))
        .bind(&item.done_on)
        .bind(&item.created_by)
        .bind(&item.created_at)
        .execute(&mut *conn)
        .await?;
        let mut audit = AuditWriter::load(conn, self.device_n()).await?;
        audit.append(
            &at,
            SAVED,
            &item.id,
            json!({ "digest": digest(&item), "by": by }),
        );
        audit.flush(conn).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// A measure over the days `from` up to (not including) `to`, by the
    /// events' own days; `None` when the period holds nothing to measure.
    pub async fn metric(
        &self,
        metric: Metric,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<f64>> {
        let (from, to) = (from.to_string(), to.to_string());
        let value: Option<f64> = match metric {
            Metric::Satisfaction => {
                sqlx::query_scalar(
                    "SELECT avg((timeliness + completeness + accuracy + access + courtesy + complaint_handling) / 6.0) \
                     FROM surveys WHERE substr(answered_at, 1, 10) >= ? AND substr(answered_at, 1, 10) < ?",
                )
                .bind(&from)
                .bind(&to)
                .fetch_one(self.pool())
                .await?
            }
            Metric::Delivery => {
                sqlx::query_scalar(
                    "SELECT 100.0 * sum(s.status IN ('sent', 'delivered')) / nullif(count(*), 0) \
                     FROM pushes p JOIN events e ON e.no = p.event JOIN push_states s ON s.push_no = p.no \
                     WHERE s.status IN ('sent', 'delivered', 'failed', 'dead') \
                     AND substr(e.received_at, 1, 10) >= ? AND substr(e.received_at, 1, 10) < ?",
                )
                .bind(&from)
                .bind(&to)
                .fetch_one(self.pool())
                .await?
            }
            Metric::DeadLetters => Some(
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pushes p JOIN events e ON e.no = p.event \
                     JOIN push_states s ON s.push_no = p.no WHERE s.status = 'dead' \
                     AND substr(e.received_at, 1, 10) >= ? AND substr(e.received_at, 1, 10) < ?",
                )
                .bind(&from)
                .bind(&to)
                .fetch_one(self.pool())
                .await? as f64,
            ),
            Metric::Complaints => Some(
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM complaints WHERE substr(lodged_at, 1, 10) >= ? \
                     AND substr(lodged_at, 1, 10) < ?",
                )
                .bind(&from)
                .bind(&to)
                .fetch_one(self.pool())
                .await? as f64,
            ),
        };
        Ok(value.map(|v| (v * 100.0).round() / 100.0))
    }
}

/// Each item's row digest, by id (the audit's check).
pub(crate) async fn digests(conn: &mut sqlx::SqliteConnection) -> Result<BTreeMap<String, String>> {
    let rows: Vec<Improvement> = sqlx::query_as(SELECT).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|i| (i.id.clone(), digest(i))).collect())
}
