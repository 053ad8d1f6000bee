//! 导入: an intake JSON-lines file read through the same path as the CLI's
//! `ggzy import`, with progress; refused lines are kept with their reasons,
//! and can be corrected and sent again one by one, or all retried once
//! their cause is fixed.

use crate::rights::IMPORTERS;
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
use ggzy_store::intake::{LineOutcome, LineResult};
use ggzy_store::rejects::Reject;
use serde::Serialize;
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use ts_rs::TS;

/// Who brings data in: center staff, and admins.
/// Refused lines an import reports line by line; all of them are kept.
pub const REPORTED_REFUSALS: usize = 1000;
/// Open rejects per page.
pub const REJECTS_PAGE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ImportProgress {
    #[ts(type = "number")]
    pub bytes_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
    /// Lines committed so far.
    #[ts(type = "number")]
    pub lines: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RefusedLine {
    #[ts(type = "number")]
    pub line: u64,
    pub event_id: Option<String>,
    pub code: String,
    /// The field or clause at fault.
    pub locus: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ImportReport {
    pub file: String,
    #[ts(type = "number")]
    pub lines: u64,
    #[ts(type = "number")]
    pub accepted: u64,
    #[ts(type = "number")]
    pub duplicates: u64,
    #[ts(type = "number")]
    pub pushes: u64,
    #[ts(type = "number")]
    pub refused_total: u64,
    /// The first `REPORTED_REFUSALS` refused lines, in file order.
    pub refused: Vec<RefusedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RejectItem {
    #[ts(type = "number")]
    pub id: i64,
    pub source: String,
    #[ts(type = "number | null")]
    pub line_no: Option<i64>,
    pub event_id: Option<String>,
    /// The line as it came, to be corrected.
    pub raw: String,
    pub code: String,
    pub locus: Option<String>,
    pub message: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RejectList {
    pub items: Vec<RejectItem>,
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub page_size: i64,
}

/// What sending lines again came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RetryReport {
    #[ts(type = "number")]
    pub accepted: u64,
    #[ts(type = "number")]
    pub duplicates: u64,
    #[ts(type = "number")]
    pub still_refused: u64,
}

impl From<Reject> for RejectItem {
    fn from(r: Reject) -> Self {
        RejectItem {
            id: r.id,
            source: r.source,
            line_no: r.line_no,
            event_id: r.event_id,
            raw: r.raw,
            code: r.code,
            locus: r.locus,
            message: r.message,
            created_at: r.created_at,
        }
    }
}

fn refused_line(r: LineResult) -> Option<RefusedLine> {
    match r.outcome {
        LineOutcome::Refused { event_id, refusal } => Some(RefusedLine {
            line: r.line,
            event_id,
            code: refusal.code().to_owned(),
            locus: refusal.locus(),
            message: refusal.to_string(),
        }),
        _ => None,
    }
}

/// Counts the bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Set while an import runs: one at a time.
pub(crate) struct ImportGuard<'a>(&'a AtomicBool);

impl Drop for ImportGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A file the person chose in the system's dialog: what the page gets back
/// and names to import it. The page never names a path itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ChosenFile {
    /// Good for one import, by the person who chose it.
    pub handle: String,
    /// The file's name, to show.
    pub name: String,
}

impl App {
    /// Remember a file the system's dialog returned (the shell calls this,
    /// never the page): the handle the page may import it by.
    pub async fn chosen_file(&self, path: std::path::PathBuf) -> Result<ChosenFile> {
        let session = self.may_import().await?;
        let handle = uuid::Uuid::new_v4().to_string();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        *self.chosen.lock().expect("chosen lock") = Some((handle.clone(), session.username, path));
        Ok(ChosenFile { handle, name })
    }

    /// Import the file chosen in the dialog under `handle`. `progress`
    /// hears after each transaction commits (every 32,000 lines) and at the end.
    pub async fn import_file(
        &self,
        handle: &str,
        mut progress: impl FnMut(ImportProgress),
    ) -> Result<ImportReport> {
        let session = self.may_import().await?;
        let _guard = self.importing()?;
        let path = self.take_chosen(handle, &session)?;
        let path = path.as_path();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cannot = |why: String| {
            AppError::new(
                ErrorCode::ReadFailed,
                format!(
                    "无法读取文件 {}：{why}。请确认路径正确、文件可读",
                    path.display()
                ),
            )
        };
        let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
        if !meta.is_file() {
            return Err(cannot("这不是一个文件".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
        let read = Arc::new(AtomicU64::new(0));
        let reader = BufReader::with_capacity(
            1 << 16,
            Counted {
                inner: file,
                read: read.clone(),
            },
        );
        let bytes_total = meta.len();
        let source = format!("app:{} import:{file_name}", session.username);
        let summary = self
            .store()
            .import_by(reader, &source, session.role, |lines| {
                progress(ImportProgress {
                    bytes_done: read.load(Ordering::Relaxed).min(bytes_total),
                    bytes_total,
                    lines,
                })
            })
            .await?;
        self.queued.notify_one();
        let refused_total = summary.refused.len() as u64;
        let lines = summary.accepted + summary.duplicates + refused_total;
        progress(ImportProgress {
            bytes_done: bytes_total,
            bytes_total,
            lines,
        });
        Ok(ImportReport {
            file: path.display().to_string(),
            lines,
            accepted: summary.accepted,
            duplicates: summary.duplicates,
            pushes: summary.pushes,
            refused_total,
            refused: summary
                .refused
                .into_iter()
                .take(REPORTED_REFUSALS)
                .filter_map(refused_line)
                .collect(),
        })
    }

    /// The session, if it may import (the shell asks before it opens a file dialog).
    /// The file chosen in the dialog under `handle` by this person; taken,
    /// so one choice serves one import.
    pub(crate) fn take_chosen(
        &self,
        handle: &str,
        session: &crate::Session,
    ) -> Result<std::path::PathBuf> {
        let chosen = self.chosen.lock().expect("chosen lock").take();
        match chosen {
            Some((h, who, path)) if h == handle && who == session.username => Ok(path),
            other => {
                // Not taken: a wrong handle leaves the person's choice as it was.
                *self.chosen.lock().expect("chosen lock") = other;
                Err(AppError::new(
                    ErrorCode::NotChosen,
                    "只能导入在“选择文件”对话框中选定的文件：请先选择文件",
                ))
            }
        }
    }

    pub async fn may_import(&self) -> Result<crate::Session> {
        self.require(IMPORTERS, "导入数据").await
    }

    fn importing(&self) -> Result<ImportGuard<'_>> {
        if self.importing.swap(true, Ordering::AcqRel) {
            return Err(AppError::new(
                ErrorCode::Busy,
                "已有导入正在进行，请等它完成后再试",
            ));
        }
        Ok(ImportGuard(&self.importing))
    }

    /// Open rejects, a page at a time (0 is the first).
    pub async fn rejects(&self, page: i64) -> Result<RejectList> {
        self.require(IMPORTERS, "查看拒收数据").await?;
        let (items, total) = self
            .store()
            .open_rejects(page.max(0) * REJECTS_PAGE, REJECTS_PAGE)
            .await?;
        Ok(RejectList {
            items: items.into_iter().map(RejectItem::from).collect(),
            total,
            page_size: REJECTS_PAGE,
        })
    }

    /// Send a corrected line in place of reject `id`. A line refused again
    /// comes back as the error `refused` with its reason; nothing is kept.
    pub async fn fix_reject(&self, id: i64, line: &str) -> Result<String> {
        let session = self.require(IMPORTERS, "修正拒收数据").await?;
        if line.trim().is_empty() {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "修正后的内容为空：请填写一行完整的事件 JSON",
            ));
        }
        let source = format!("app:{} fix", session.username);
        match self
            .store()
            .fix_reject(id, &source, Some(session.role), line)
            .await?
        {
            LineOutcome::Accepted { event_id, .. } | LineOutcome::Duplicate { event_id } => {
                Ok(event_id)
            }
            LineOutcome::Refused { refusal, .. } => Err(AppError::new(
                ErrorCode::Refused,
                format!("仍未通过：{refusal}"),
            )),
        }
    }

    /// Send every open reject again as it is (its cause fixed elsewhere).
    pub async fn retry_rejects(&self) -> Result<RetryReport> {
        let session = self.require(IMPORTERS, "重试拒收数据").await?;
        let _guard = self.importing()?;
        let s = self.store().retry_rejects(Some(session.role)).await?;
        Ok(RetryReport {
            accepted: s.accepted,
            duplicates: s.duplicates,
            still_refused: s.refused.len() as u64,
        })
    }
}
