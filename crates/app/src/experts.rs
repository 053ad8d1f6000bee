//! The expert pool (专家库) in the app, listed with ID numbers masked.

use crate::rights::Right;
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
pub use ggzy_core::experts::Expert;
use ggzy_core::experts::ExpertStatus;
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
}
