//! 满意度 (5.2b, Appendix A): the form in the app — six items by five
//! levels, remarks, the respondent unit or person, address, phone, date —
//! recorded from paper, a phone return visit, on site or online, linked to
//! the project and push it concerns when known; and every answered form
//! with the averages per item.

use crate::actions::ActionDone;
use crate::rights::SURVEYORS;
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{SurveyDetails, SurveyMethod, LOW_SCORE, SURVEY_ITEMS};
use ggzy_store::surveys::SurveyRow;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

/// Appendix A as staff fill it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SurveyForm {
    pub method: SurveyMethod,
    /// 被调查单位或个人.
    pub respondent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    /// The date written on the form, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub filled_on: Option<chrono::NaiveDate>,
    /// The six scores in Appendix A's order, each 1 (很不满意) to 5 (很满意).
    pub scores: [u8; 6],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub remarks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub project: Option<String>,
    /// The push it concerns (its id), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub push: Option<String>,
}

/// One answered form on the list.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SurveyItem {
    pub event_id: String,
    pub respondent: String,
    #[ts(optional)]
    pub phone: Option<String>,
    pub details: SurveyDetails,
    pub scores: [u8; 6],
    #[ts(optional)]
    pub remarks: Option<String>,
    #[ts(optional)]
    pub project: Option<String>,
    /// The event's own time.
    pub answered_at: String,
    /// Whether any item is 较不满意 or worse (an improvement item opens).
    pub low: bool,
}

/// Every answered form, with the average of each item.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SurveyList {
    pub items: Vec<SurveyItem>,
    /// The average of each item (0 with no answers), 2 decimals.
    pub averages: Vec<f64>,
}

/// A row read back as the list shows it.
pub(crate) fn item(r: SurveyRow) -> Result<SurveyItem> {
    let corrupt = |e: serde_json::Error| {
        AppError::new(
            ErrorCode::Corrupt,
            format!(
                "满意度答卷 `{}` 无法读取（{e}）：请运行 ggzy audit verify",
                r.event_id
            ),
        )
    };
    let respondent: ggzy_core::event::Party =
        serde_json::from_str(&r.respondent).map_err(corrupt)?;
    let details = match &r.details {
        Some(d) => serde_json::from_str(d).map_err(corrupt)?,
        None => SurveyDetails::default(),
    };
    let scores = r.scores().map(|s| s as u8);
    Ok(SurveyItem {
        low: scores.iter().any(|&s| s <= LOW_SCORE),
        event_id: r.event_id,
        respondent: respondent.name,
        phone: respondent.phone,
        details,
        scores,
        remarks: r.remarks,
        project: r.project,
        answered_at: r.answered_at,
    })
}

/// The average of each item over `items`, 2 decimals.
pub(crate) fn averages(items: &[SurveyItem]) -> Vec<f64> {
    (0..SURVEY_ITEMS.len())
        .map(|i| {
            if items.is_empty() {
                return 0.0;
            }
            let sum: f64 = items.iter().map(|s| f64::from(s.scores[i])).sum();
            (sum / items.len() as f64 * 100.0).round() / 100.0
        })
        .collect()
}

impl App {
    pub async fn surveys(&self) -> Result<SurveyList> {
        self.require(SURVEYORS, "查看满意度调查").await?;
        let items = self
            .store()
            .surveys()
            .await?
            .into_iter()
            .map(item)
            .collect::<Result<Vec<_>>>()?;
        Ok(SurveyList {
            averages: averages(&items),
            items,
        })
    }

    /// Record one form as a `survey.answered` event.
    pub async fn record_survey(&self, form: SurveyForm) -> Result<ActionDone> {
        fn blank(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let name = form.respondent.trim();
        let mut respondent = json!({ "id": name, "name": name });
        if let Some(p) = blank(&form.phone) {
            respondent["phone"] = p.into();
        }
        let mut body = json!({
            "type": "survey.answered",
            "respondent": respondent,
            "scores": SURVEY_ITEMS
                .iter()
                .zip(form.scores)
                .map(|((field, _), s)| ((*field).to_owned(), json!(s)))
                .collect::<serde_json::Map<_, _>>(),
            "method": form.method,
        });
        for (key, value) in [
            ("remarks", blank(&form.remarks)),
            ("address", blank(&form.address)),
            ("project", blank(&form.project)),
            ("push", blank(&form.push)),
        ] {
            if let Some(v) = value {
                body[key] = v.into();
            }
        }
        if let Some(d) = form.filled_on {
            body["filled_on"] = d.to_string().into();
        }
        self.record_step(body, Vec::new()).await
    }
}
