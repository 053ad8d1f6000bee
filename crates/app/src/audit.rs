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

/// The head of this desktop's chain, to copy or print and keep elsewhere:
/// `ggzy audit verify --expect-head` holds the chain to it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AuditHead {
    #[ts(type = "number")]
    pub seq: i64,
    /// SM3 of the last record, in hex.
    pub hash: String,
    /// The one line `ggzy audit head` prints: `SEQ:HASH`.
    pub line: String,
    /// When it was read (RFC 3339), for the printed copy.
    pub read_at: String,
}

impl App {
    pub async fn audit_head(&self) -> Result<AuditHead> {
        self.require(ANY_ROLE, "查看审计链头").await?;
        let head = self.store().audit_head().await?;
        Ok(AuditHead {
            seq: head.seq,
            hash: ggzy_core::audit::hex(&head.hash),
            line: head.to_string(),
            read_at: ggzy_store::now(),
        })
    }

    pub async fn verify_audit(&self, progress: impl FnMut(AuditProgress)) -> Result<AuditReport> {
        self.require(ANY_ROLE, "验证审计链").await?;
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
