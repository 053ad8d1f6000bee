//! What crosses to the UI when a command fails: a stable `code` the UI
//! branches on, and a zh-CN `message` a person can act on.

use ggzy_core::error::ErrorCode;
use ggzy_store::StoreError;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
        }
    }

    pub fn not_logged_in() -> Self {
        AppError::new(ErrorCode::NotLoggedIn, "请先登录")
    }

    pub fn forbidden(what: &str) -> Self {
        AppError::new(
            ErrorCode::Forbidden,
            format!("您的角色无权{what}：请使用有此权限的账户登录"),
        )
    }
}

impl AppError {
    /// A failure of the database itself names its file, so whoever is
    /// called to help knows which one (the desktop's shell passes every
    /// command's error through here).
    pub fn naming_database(mut self, path: &std::path::Path) -> Self {
        if matches!(
            self.code,
            ErrorCode::Database | ErrorCode::DiskFull | ErrorCode::Corrupt | ErrorCode::Migration
        ) {
            self.message = format!("{}（数据库文件：{}）", self.message, path.display());
        }
        self
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match &e {
            // Details of the database stay in the log; the person gets what to do.
            StoreError::Db(_) | StoreError::Migrate(_) | StoreError::Io { .. } => {
                tracing::error!(error = %e, "store failure");
                AppError::new(e.code(), format!("{e}。请重试；如仍失败，请联系系统管理员"))
            }
            _ => AppError::new(e.code(), e.to_string()),
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
