//! Refused lines taken again: one corrected by a person, or all of them
//! once their cause is fixed (staff added, the project registered, ...).
//! Both go through the intake as any line does.

use crate::audit::AuditWriter;
use crate::lines::{LineOutcome, LineResult, Summary, BATCH};
use crate::rejects::FIXED;
use crate::{now, Result, Store, StoreError};
use ggzy_core::error::ErrorCode;
use ggzy_core::role::StaffRole;
use ggzy_core::Refusal;

impl Store {
    /// A refused line corrected by a person: the new text goes the same way
    /// as any line. If it is taken (or was taken already), the reject is
    /// marked resolved by that event in the same transaction; if it is
    /// refused, nothing is kept and the reject stays open, and the refusal
    /// is returned for the person to fix again.
    pub async fn fix_reject(
        &self,
        id: i64,
        source: &str,
        by: Option<StaffRole>,
        line: &str,
    ) -> Result<LineOutcome> {
        let mut tx = self.write().await?;
        let open: Option<String> =
            sqlx::query_scalar("SELECT digest FROM rejects WHERE id = ? AND resolved_at IS NULL")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        let Some(digest) = open else {
            return Err(StoreError::invalid(
                ErrorCode::RejectNotOpen,
                format!("拒收记录 {id} 不存在或已处理，请刷新列表"),
            ));
        };
        let mut intake = self.retrying_intake(source).by(by);
        let (mut results, _) = intake
            .run_in(
                &mut tx,
                std::iter::once(Ok((1, line.trim().to_owned(), None))),
                usize::MAX,
                &mut |_, _| {},
            )
            .await?;
        let outcome = results.remove(0).outcome;
        match &outcome {
            LineOutcome::Accepted { event_id, .. } | LineOutcome::Duplicate { event_id } => {
                let at = now();
                sqlx::query("UPDATE rejects SET resolved_at = ?, resolved_by = ? WHERE id = ?")
                    .bind(&at)
                    .bind(event_id)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
                let body = serde_json::json!({ "event": event_id, "by": source });
                AuditWriter::record(tx.conn(), self.device_n(), &at, FIXED, &digest, body).await?;
                tx.commit().await?;
            }
            LineOutcome::Refused { .. } => {
                tx.rollback().await?;
            }
        }
        Ok(outcome)
    }

    /// Submit every open reject again, in the order it arrived (after the
    /// cause is fixed: staff added, the project registered, ...).
    pub async fn retry_rejects(&self, by: Option<StaffRole>) -> Result<Summary> {
        let open = self.rejects(false).await?;
        // A line that was no text (too long, not UTF-8) is kept only in part:
        // sent again as it is, what was kept could pass where the line did
        // not. It stays refused until a person corrects it.
        let (unreadable, open): (Vec<_>, Vec<_>) = open
            .into_iter()
            .partition(|r| matches!(r.code.as_str(), "line_too_long" | "not_utf8"));
        let mut summary = Summary::default();
        summary.add(
            unreadable
                .into_iter()
                .map(|r| LineResult {
                    line: r.line_no.unwrap_or_default() as u64,
                    outcome: LineOutcome::Refused {
                        event_id: r.event_id,
                        refusal: Refusal::AlreadyRefused {
                            reject: r.id,
                            reason: r.message,
                        },
                    },
                })
                .collect(),
        );
        let lines: Vec<_> = open
            .into_iter()
            .map(|r| (r.line_no.unwrap_or_default() as u64, r.raw, None))
            .collect();
        let mut intake = self.retrying_intake("retry").by(by);
        for batch in lines.chunks(BATCH) {
            summary.add(intake.submit(batch.to_vec()).await?);
        }
        Ok(summary)
    }
}
