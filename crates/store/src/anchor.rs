//! The daily anchor (`ggzy_core::anchor`): the head of this device's chain,
//! recorded as the product's own event whose pushes go to the supervisory
//! department's recipients through the normal dispatch. The event and its
//! pushes are chained like any other, so the anchor is itself on the trail.

use crate::intake::LineOutcome;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ggzy_core::anchor::{self, DEFAULT_TIME};
use ggzy_core::audit::Head;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::Party;

/// Where anchor events say they came from.
const SOURCE: &str = "anchor";

/// What an anchor came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchored {
    /// The head went out: the event's id and its pushes.
    Sent {
        event_id: String,
        head: Head,
        pushes: usize,
    },
    /// No recipient is set (设置 → 审计链头存证): nothing was recorded.
    NoRecipients,
}

impl Store {
    /// The anchor's time of day (Beijing) and its recipients, as set.
    pub async fn anchor_settings(&self) -> Result<(NaiveTime, Vec<Party>)> {
        let all = self.settings().await?;
        let get = |key: &str| {
            all.iter()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let corrupt = |m: String| StoreError::Corrupt(format!("settings: {m}"));
        let time =
            anchor::parse_time(get("anchor_time").unwrap_or(DEFAULT_TIME)).map_err(corrupt)?;
        let recipients = anchor::parse_recipients(get("anchor_recipients").unwrap_or_default())
            .map_err(corrupt)?;
        Ok((time, recipients))
    }

    /// Push this device's head now to the anchor's recipients.
    pub async fn anchor(&self, now: DateTime<Utc>) -> Result<Anchored> {
        let (_, recipients) = self.anchor_settings().await?;
        if recipients.is_empty() {
            return Ok(Anchored::NoRecipients);
        }
        let head = self.audit_head().await?;
        let line = anchor::line(head, now, &recipients);
        match self.submit_own(SOURCE, &line).await? {
            LineOutcome::Accepted { event_id, pushes } => Ok(Anchored::Sent {
                event_id,
                head,
                pushes,
            }),
            LineOutcome::Duplicate { event_id } => Err(StoreError::invalid(
                ErrorCode::AnchorAgain,
                format!("本秒已存证过链头（{event_id}）：请稍后再试"),
            )),
            LineOutcome::Refused { refusal, .. } => {
                Err(StoreError::invalid(ErrorCode::Refused, refusal.to_string()))
            }
        }
    }

    /// `anchor`, when the day's anchor time has come and no anchor went out
    /// since (a manual one earlier in the day does not count).
    pub async fn anchor_if_due(&self, now: DateTime<Utc>) -> Result<Option<Anchored>> {
        let (time, recipients) = self.anchor_settings().await?;
        let Some(day) = anchor::due(now, time) else {
            return Ok(None);
        };
        if recipients.is_empty() || self.anchored_since(day, time).await? {
            return Ok(None);
        }
        self.anchor(now).await.map(Some)
    }

    async fn anchored_since(&self, day: NaiveDate, time: NaiveTime) -> Result<bool> {
        let (from, to) = anchor::ids_between(day, time);
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE id >= ? AND id < ?)")
                .bind(from)
                .bind(to)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
