//! Complaints as they stand (5.1), each with its lodging and resolution
//! times: the events' own, in the offset they were written with.

use crate::{Result, Store, StoreError};
use ggzy_core::engine::ComplaintRecord;

/// One complaint as folded from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRow {
    pub record: ComplaintRecord,
    pub lodged_at: String,
    pub resolved_at: Option<String>,
}

impl Store {
    /// Every complaint.
    pub async fn complaints(&self) -> Result<Vec<ComplaintRow>> {
        let rows: Vec<(String, String, String, Option<String>)> =
            sqlx::query_as("SELECT id, record, lodged_at, resolved_at FROM complaints")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(id, record, lodged_at, resolved_at)| {
                Ok(ComplaintRow {
                    record: serde_json::from_str(&record).map_err(|e| {
                        StoreError::Corrupt(format!("投诉 `{id}` 的记录无法读取：{e}"))
                    })?,
                    lodged_at,
                    resolved_at,
                })
            })
            .collect()
    }
}
