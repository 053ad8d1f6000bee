//! Store errors: a stable `code()` for callers, a zh-CN message for people.

use ggzy_core::error::ErrorCode;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Db(sqlx::Error),

    /// The disk the database is on is full (SQLite's `SQLITE_FULL`): the
    /// transaction was rolled back whole.
    #[error("磁盘已满，数据库无法写入：本次操作没有保存任何内容，已保存的数据不受影响。请清理磁盘空间后重试")]
    Full,

    /// A database error on opening a file, naming it.
    #[error("数据库 {path} 出错：{source}")]
    File { path: PathBuf, source: sqlx::Error },

    #[error("数据库升级失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("无法创建 {path}：{source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file or stream that could not be read (`what` names it).
    #[error("无法读取{what}：{source}")]
    Read {
        what: String,
        source: std::io::Error,
    },

    /// A port that could not be listened on.
    #[error("端口 {addr} 无法监听：{source}。请换一个端口，或停止占用它的程序")]
    Listen {
        addr: String,
        source: std::io::Error,
    },

    /// Bad input to a store operation, with what to do about it.
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String },

    #[error("{0}")]
    NotFound(String),

    /// Stored data that does not parse: only a hand edit of the file does this.
    #[error("数据损坏：{0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Db(_) | StoreError::File { .. } => ErrorCode::Database,
            StoreError::Full => ErrorCode::DiskFull,
            StoreError::Migrate(_) => ErrorCode::Migration,
            StoreError::Io { .. } => ErrorCode::WriteFailed,
            StoreError::Read { .. } => ErrorCode::ReadFailed,
            StoreError::Listen { .. } => ErrorCode::PortUnavailable,
            StoreError::Invalid { code, .. } => *code,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Corrupt(_) => ErrorCode::Corrupt,
        }
    }

    /// This error as a person outside the store reads it: a database
    /// failure names the file at `path` (the store's own errors name their
    /// cause already).
    pub fn naming(self, path: &std::path::Path) -> Self {
        match self {
            StoreError::Db(source) => StoreError::at(path, source),
            StoreError::Corrupt(m) => StoreError::Corrupt(format!("{}：{m}", path.display())),
            other => other,
        }
    }

    /// A database error on the file at `path`.
    pub(crate) fn at(path: &std::path::Path, source: sqlx::Error) -> Self {
        StoreError::File {
            path: path.to_owned(),
            source,
        }
    }

    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // SQLITE_FULL, and SQLITE_IOERR_WRITE (778) as a full disk may also report itself.
        let full = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "13" || c == "778");
        if full {
            StoreError::Full
        } else {
            StoreError::Db(e)
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
