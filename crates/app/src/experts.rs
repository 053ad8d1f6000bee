//! The expert pool (专家库) and the draw (专家抽取) in the app. The pool is
//! listed with ID numbers masked; a draw is shown by its counts, commitment
//! and seed, never by who was drawn (4.6: the drawing staff see progress,
//! not names).

use crate::rights::Right;
use crate::{App, AppError, Result};
use ggzy_core::draw::{Avoidance, Request};
use ggzy_core::error::ErrorCode;
pub use ggzy_core::experts::Expert;
use ggzy_core::experts::ExpertStatus;
use ggzy_store::draws::DrawRecord;
use ggzy_store::experts::ExpertQuery;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct ExpertListQuery {
    #[ts(optional)]
    pub text: Option<String>,
    #[ts(optional)]
    pub specialty: Option<String>,
    #[ts(optional)]
    pub status: Option<ExpertStatus>,
    /// From 1.
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ExpertList {
    #[ts(type = "number")]
    pub total: i64,
    /// ID numbers masked.
    pub items: Vec<Expert>,
}

/// An expert as the edit form sends it: without an ID number the one on
/// record is kept (the form only ever shows it masked).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct ExpertForm {
    pub id: String,
    pub name: String,
    #[ts(optional)]
    pub id_number: Option<String>,
    #[ts(optional)]
    pub phone: Option<String>,
    #[ts(optional)]
    pub email: Option<String>,
    pub specialties: Vec<String>,
    pub employer: String,
    pub region: String,
    pub status: ExpertStatus,
    /// YYYY-MM-DD each.
    pub unavailable: Vec<String>,
}

/// A roster row that was refused: nothing of the file was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RosterLine {
    pub line: u32,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RosterResult {
    pub rows: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub refused: Vec<RosterLine>,
}

/// What a draw asks for, as the form sends it (the same fields as the
/// request file of `ggzy draw run`).
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
#[ts(export)]
pub struct DrawForm {
    pub specialties: Vec<NeedInput>,
    pub backups: u32,
    /// RFC 3339.
    pub evaluation_start: String,
    pub duration_hours: f64,
    pub place: String,
    pub contact_phone: String,
    pub sender: String,
    pub avoid: Vec<String>,
    #[ts(optional)]
    pub recent_days: Option<u32>,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct NeedInput {
    pub code: String,
    pub count: u32,
}

/// A draw as its staff see it: how many, never who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DrawSummary {
    pub id: String,
    pub created_at: String,
    pub created_by: String,
    pub commitment: String,
    #[ts(optional)]
    pub seed: Option<String>,
    pub picks: Vec<PickCount>,
    /// Candidates each avoidance rule kept out, by the rule's name.
    pub excluded: Vec<ExcludedCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PickCount {
    pub code: String,
    pub drawn: u32,
    pub backups: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ExcludedCount {
    pub rule: String,
    pub count: u32,
}

impl From<DrawRecord> for DrawSummary {
    fn from(d: DrawRecord) -> Self {
        let (picks, excluded) = match d.outcome {
            Some(o) => (
                o.picks
                    .iter()
                    .map(|p| PickCount {
                        code: p.code.clone(),
                        drawn: p.drawn.len() as u32,
                        backups: p.backups.len() as u32,
                    })
                    .collect(),
                Avoidance::ALL
                    .into_iter()
                    .filter_map(|r| {
                        o.excluded.get(&r).map(|n| ExcludedCount {
                            rule: r.zh().to_owned(),
                            count: *n,
                        })
                    })
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        DrawSummary {
            id: d.id,
            created_at: d.created_at,
            created_by: d.created_by,
            commitment: d.commitment,
            seed: d.seed,
            picks,
            excluded,
        }
    }
}

fn invalid(message: String) -> AppError {
    AppError::new(ErrorCode::Invalid, message)
}

impl App {
    pub async fn experts(&self, q: ExpertListQuery) -> Result<ExpertList> {
        self.require(Right::SeePool.roles(), "查看专家库").await?;
        let size = i64::from(q.page_size.clamp(1, 200));
        let page = self
            .store()
            .experts(&ExpertQuery {
                text: q.text,
                specialty: q.specialty,
                status: q.status,
                offset: i64::from(q.page.max(1) - 1) * size,
                limit: size,
            })
            .await?;
        Ok(ExpertList {
            total: page.total,
            items: page.items.into_iter().map(Expert::masked).collect(),
        })
    }

    /// Add or change one expert; audited.
    pub async fn save_expert(&self, form: ExpertForm) -> Result<Expert> {
        let me = self.require(Right::KeepPool.roles(), "维护专家库").await?;
        let id_number = match form.id_number.filter(|n| !n.trim().is_empty()) {
            Some(n) => n.trim().to_ascii_uppercase(),
            None => match self.store().expert(form.id.trim()).await {
                Ok(e) => e.id_number,
                Err(_) => return Err(invalid("身份证号（id_number）：新增专家时必填".into())),
            },
        };
        let mut unavailable = Vec::new();
        for d in &form.unavailable {
            unavailable.push(
                chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    invalid(format!(
                        "不可用日期（unavailable）`{d}` 不是 YYYY-MM-DD 格式"
                    ))
                })?,
            );
        }
        unavailable.sort();
        unavailable.dedup();
        let trimmed = |o: Option<String>| o.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let expert = Expert {
            id: form.id.trim().to_owned(),
            name: form.name.trim().to_owned(),
            id_number,
            phone: trimmed(form.phone),
            email: trimmed(form.email),
            specialties: form
                .specialties
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            employer: form.employer.trim().to_owned(),
            region: form.region.trim().to_owned(),
            status: form.status,
            unavailable,
        };
        self.store().save_expert(&expert, &me.username).await?;
        Ok(expert.masked())
    }

    /// Import the roster chosen in the dialog under `handle`: all of it or nothing.
    pub async fn import_roster(&self, handle: &str) -> Result<RosterResult> {
        let me = self
            .require(Right::KeepPool.roles(), "导入专家名册")
            .await?;
        let path = self.take_chosen(handle, &me)?;
        let bytes = std::fs::read(&path).map_err(|e| {
            AppError::new(
                ErrorCode::ReadFailed,
                format!("无法读取文件 {}：{e}", path.display()),
            )
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = self
            .store()
            .import_experts(&bytes, &name, &me.username)
            .await?;
        Ok(RosterResult {
            rows: r.rows as u32,
            added: r.added as u32,
            updated: r.updated as u32,
            unchanged: r.unchanged as u32,
            refused: r
                .refused
                .into_iter()
                .map(|x| RosterLine {
                    line: x.line as u32,
                    column: x.column,
                    message: x.message,
                })
                .collect(),
        })
    }

    /// Draw experts for a project: the drawn are told (4.6); the summary
    /// says how many, never who.
    pub async fn run_draw(&self, project: &str, form: DrawForm) -> Result<DrawSummary> {
        let me = self
            .require(Right::DrawExperts.roles(), "抽取评标专家")
            .await?;
        let request: Request = serde_json::from_value(serde_json::json!({
            "specialties": form.specialties.iter().map(|n| serde_json::json!({"code": n.code.trim(), "count": n.count})).collect::<Vec<_>>(),
            "backups": form.backups,
            "evaluation": {
                "start": form.evaluation_start,
                "duration_hours": form.duration_hours,
                "place": form.place.trim(),
                "contact_phone": form.contact_phone.trim(),
            },
            "sender": form.sender.trim(),
            "avoid": form.avoid,
            "recent_days": form.recent_days,
            "regions": form.regions,
        }))
        .map_err(|e| invalid(format!("抽取请求无效：{e}")))?;
        let d = self
            .store()
            .run_draw(project, request, &me.username)
            .await?;
        self.queued.notify_one();
        Ok(d.into())
    }

    /// A project's draws, newest first, as counts.
    pub async fn draws(&self, project: &str) -> Result<Vec<DrawSummary>> {
        self.require(crate::ANY_ROLE, "查看专家抽取").await?;
        let mut out = Vec::new();
        for d in self.store().project_draws(project).await? {
            out.push(d.into());
        }
        Ok(out)
    }
}
