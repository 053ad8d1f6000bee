//! A project's publication materials as their verification (查验) saw them:
//! each submission, paired with the verdict that followed it.

use crate::{Result, Store, StoreError};
use ggzy_core::event::{parse, EventBody, Stage};
use ggzy_core::materials::MaterialsRound;

impl Store {
    /// Every submission of the project's materials in the order they were
    /// accepted, each with its verdict once one was recorded; the times are
    /// the events' own.
    pub async fn materials_rounds(&self, code: &str) -> Result<Vec<MaterialsRound>> {
        let rows: Vec<(String, String, String, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, body ->> '$.type', body ->> '$.stage', coalesce(body ->> '$.round', 1), \
             body ->> '$.at', body, source FROM events \
             WHERE project = ? AND body ->> '$.type' IN ('materials.submitted', 'materials.verified') \
             ORDER BY no",
        )
        .bind(code)
        .fetch_all(self.pool())
        .await?;
        let mut rounds: Vec<MaterialsRound> = Vec::new();
        for (id, kind, stage, round, at, body, source) in rows {
            let corrupt = |what: String| StoreError::Corrupt(format!("event `{id}`: {what}"));
            let stage = Stage::try_from(stage).map_err(|e| corrupt(e.to_string()))?;
            let round = u32::try_from(round).map_err(|e| corrupt(e.to_string()))?;
            if kind == "materials.submitted" {
                rounds.push(MaterialsRound {
                    stage,
                    round,
                    submitted_event: id,
                    submitted_at: at,
                    verdict: None,
                    verified_event: None,
                    verified_at: None,
                    verified_by: None,
                    reason: None,
                    checklist: Vec::new(),
                    minutes: None,
                });
                continue;
            }
            // The stored line, read as intake reads it.
            let EventBody::MaterialsVerified {
                verdict,
                reason,
                checklist,
                ..
            } = parse(&body).map_err(|e| corrupt(e.to_string()))?.body
            else {
                return Err(corrupt("not a materials verification".into()));
            };
            // The order admits a verdict only on the submission waiting for one.
            let open = rounds
                .iter_mut()
                .rev()
                .find(|r| r.stage == stage && r.round == round)
                .filter(|r| r.verdict.is_none())
                .ok_or_else(|| corrupt("a verdict with no submission waiting for it".into()))?;
            open.decide((&id, &at, &source), verdict, reason, checklist);
        }
        Ok(rounds)
    }
}
