//! Satisfaction surveys (5.2b, Appendix A) as their events leave them: one
//! row per answered form, written the same way by intake and by a fold.

use crate::{Result, Store};
use ggzy_core::event::{Envelope, EventBody};
use sqlx::SqliteConnection;

/// A `surveys` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SurveyRow {
    pub event_id: String,
    /// The respondent, a party as JSON.
    pub respondent: String,
    pub timeliness: i64,
    pub completeness: i64,
    pub accuracy: i64,
    pub access: i64,
    pub courtesy: i64,
    pub complaint_handling: i64,
    pub remarks: Option<String>,
    /// The event's own time.
    pub answered_at: String,
    pub project: Option<String>,
    /// The rest of the form (`SurveyDetails`) as JSON, when any was given.
    pub details: Option<String>,
}

impl SurveyRow {
    /// The row a `survey.answered` event leaves.
    pub(crate) fn of(env: &Envelope) -> Option<SurveyRow> {
        let EventBody::SurveyAnswered {
            respondent,
            scores,
            remarks,
            details,
        } = &env.body
        else {
            return None;
        };
        let [timeliness, completeness, accuracy, access, courtesy, complaint_handling] =
            scores.items().map(i64::from);
        Some(SurveyRow {
            event_id: env.id.clone(),
            respondent: serde_json::to_string(respondent).ok()?,
            timeliness,
            completeness,
            accuracy,
            access,
            courtesy,
            complaint_handling,
            remarks: remarks.clone(),
            answered_at: env.at.to_rfc3339(),
            project: env.project.clone(),
            details: (!details.is_empty())
                .then(|| serde_json::to_string(details).ok())
                .flatten(),
        })
    }

    /// The six scores in Appendix A's order.
    pub fn scores(&self) -> [i64; 6] {
        [
            self.timeliness,
            self.completeness,
            self.accuracy,
            self.access,
            self.courtesy,
            self.complaint_handling,
        ]
    }

    pub(crate) async fn write(&self, conn: &mut SqliteConnection) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO surveys (event_id, respondent, timeliness, completeness, accuracy, \
             access, courtesy, complaint_handling, remarks, answered_at, project, details) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&self.event_id)
        .bind(&self.respondent)
        .bind(self.timeliness)
        .bind(self.completeness)
        .bind(self.accuracy)
        .bind(self.access)
        .bind(self.courtesy)
        .bind(self.complaint_handling)
        .bind(&self.remarks)
        .bind(&self.answered_at)
        .bind(&self.project)
        .bind(&self.details)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Every column of a `surveys` row, for `SurveyRow`.
pub(crate) const SELECT: &str = "SELECT event_id, respondent, timeliness, completeness, accuracy, \
     access, courtesy, complaint_handling, remarks, answered_at, project, details FROM surveys";

impl Store {
    /// Every answered form, newest first.
    pub async fn surveys(&self) -> Result<Vec<SurveyRow>> {
        Ok(
            sqlx::query_as(&format!("{SELECT} ORDER BY answered_at DESC, event_id"))
                .fetch_all(self.pool())
                .await?,
        )
    }
}
