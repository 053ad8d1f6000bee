//! Verifying the audit trail from the app, with progress.

use crate::rights::ADMIN;
use crate::{App, AppError, Result, ANY_ROLE};
use ggzy_core::error::ErrorCode;
use ggzy_store::anchor::Anchored;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The daily anchor (设置 → 审计链头存证): when, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnchorSettings {
    /// Beijing time, `HH:MM`.
    pub time: String,
    /// One recipient a line: a name, then a mobile number, an email or both.
    pub recipients: String,
}

/// An anchor sent now, from the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AnchorSent {
    pub event_id: String,
    /// `SEQ:HASH`, as sent.
    pub head: String,
    #[ts(type = "number")]
    pub pushes: usize,
}

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
    /// The evidence pack of the days `from` to `to` (5.2c), its export
    /// recorded in the trail; the shell writes it where the person chooses.
    pub async fn evidence_pack(&self, from: &str, to: &str) -> Result<Vec<u8>> {
        let me = self
            .require(crate::rights::EVALUATORS, "导出评估证据包")
            .await?;
        let day = |what: &str, d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                AppError::new(
                    ErrorCode::Invalid,
                    format!("{what}`{d}`不是日期：请按 2026-12-31 的格式选择"),
                )
            })
        };
        let (from, to) = (day("起始日", from)?, day("截止日", to)?);
        if from > to {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!("起始日 {from} 晚于截止日 {to}：请重新选择期间"),
            ));
        }
        Ok(self
            .store()
            .evidence_pack(from, to, &me.username)
            .await?
            .bytes)
    }

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

    pub async fn anchor_settings(&self) -> Result<AnchorSettings> {
        self.require(ADMIN, "查看审计链头存证设置").await?;
        let time = crate::admin::setting(self.store(), "anchor_time").await?;
        Ok(AnchorSettings {
            time: if time.is_empty() {
                ggzy_core::anchor::DEFAULT_TIME.to_owned()
            } else {
                time
            },
            recipients: crate::admin::setting(self.store(), "anchor_recipients").await?,
        })
    }

    /// Both settings or neither (checked and written together by the store).
    pub async fn save_anchor_settings(&self, s: AnchorSettings) -> Result<AnchorSettings> {
        let me = self.require(ADMIN, "修改审计链头存证设置").await?;
        self.store()
            .set_settings(
                &[
                    ("anchor_time", &s.time),
                    ("anchor_recipients", &s.recipients),
                ],
                &me.username,
            )
            .await?;
        self.anchor_settings().await
    }

    /// Send the head now, besides the daily one (e.g. before handing the
    /// machine over); the dispatcher sends it at once.
    pub async fn anchor_now(&self) -> Result<AnchorSent> {
        self.require(ADMIN, "推送审计链头存证").await?;
        match self.store().anchor(chrono::Utc::now()).await? {
            Anchored::Sent {
                event_id,
                head,
                pushes,
            } => {
                self.queued.notify_one();
                Ok(AnchorSent {
                    event_id,
                    head: head.to_string(),
                    pushes,
                })
            }
            Anchored::NoRecipients => Err(AppError::new(
                ErrorCode::NoAnchorRecipients,
                "尚未设置存证接收人：请在下方填写行政监督部门接收人后保存，再推送",
            )),
        }
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
