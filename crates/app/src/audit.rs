//! Verifying the audit trail from the app, with progress.

use crate::{App, Result, ANY_ROLE};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AuditProgress {
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AuditReport {
    #[ts(type = "number")]
    pub records: u64,
    #[ts(type = "number")]
    pub events: u64,
    #[ts(type = "number")]
    pub pushes: u64,
    pub intact: bool,
    /// The first broken record, as a person reads it.
    pub broken: Option<String>,
    #[ts(type = "number | null")]
    pub broken_seq: Option<i64>,
}

impl App {
    pub async fn verify_audit(&self, progress: impl FnMut(AuditProgress)) -> Result<AuditReport> {
        self.require(ANY_ROLE, "验证审计链")?;
        let mut progress = progress;
        let v = self
            .store()
            .verify_audit(|done, total| progress(AuditProgress { done, total }))
            .await?;
        Ok(AuditReport {
            records: v.records,
            events: v.events,
            pushes: v.pushes,
            intact: v.broken.is_none(),
            broken_seq: v.broken.as_ref().and_then(|b| b.seq),
            broken: v.broken.map(|b| b.to_string()),
        })
    }
}
