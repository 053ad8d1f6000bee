//! The statutory steps projects still owe (`core::deadlines`): found among
//! the projects that may owe one — materials waiting, or a contract filed
//! with deposits not all refunded (`projects.refund_pending`) — and their
//! events, read by project.

use crate::{Result, Store};
use ggzy_core::deadlines::{owed, Happened, Owed};
use ggzy_core::event::Stage;

/// A project's owed step, with the project's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedStep {
    pub code: String,
    pub name: String,
    pub owed: Owed,
}

impl Store {
    /// Every step a project owes now, by project.
    pub async fn owed_steps(&self) -> Result<Vec<OwedStep>> {
        // Through the two partial indexes: the few projects waiting.
        let codes: Vec<String> = sqlx::query_scalar(
            "SELECT code FROM projects WHERE materials_pending = 1 \
             UNION SELECT code FROM projects WHERE refund_pending = 1 ORDER BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let mut conn = self.pool().acquire().await?;
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let projects = crate::fold::load_projects(&mut conn, &refs).await?;
        let mut out = Vec::new();
        for project in projects {
            let rows: Vec<(String, Option<String>, Option<i64>, String)> = sqlx::query_as(
                "SELECT body ->> '$.type', body ->> '$.stage', body ->> '$.round', body ->> '$.at' \
                 FROM events WHERE project = ? ORDER BY no",
            )
            .bind(&project.code)
            .fetch_all(&mut *conn)
            .await?;
            let events: Vec<Happened> = rows
                .into_iter()
                .filter_map(|(kind, stage, round, at)| {
                    Some(Happened {
                        kind,
                        stage: stage.and_then(|s| Stage::try_from(s).ok()),
                        round: round.map_or(1, |r| r as u32),
                        // Accepted events' times parsed once already.
                        at: chrono::DateTime::parse_from_rfc3339(&at).ok()?,
                    })
                })
                .collect();
            for o in owed(&project, &events) {
                out.push(OwedStep {
                    code: project.code.clone(),
                    name: project.name.clone(),
                    owed: o,
                });
            }
        }
        Ok(out)
    }
}
