//! `ggzy-server`: every desktop's records in one PostgreSQL, in one global
//! order. It keeps no state of its own, so several instances may run over
//! one database behind any load balancer; PostgreSQL's transactions and
//! row locks order and guard what they share.

pub mod config;
pub mod sync;
pub mod tokens;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sqlx::PgPool;

/// The server's schema, applied on start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct State {
    pub pool: PgPool,
}

/// Every route, each request held to `max_body` bytes (413 past it, before
/// the body is read whole).
pub fn router(pool: PgPool, max_body: usize) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/sync/upload", post(sync::upload))
        .route("/api/v1/sync/download", get(sync::download))
        .route("/api/v1/sync/heads", get(sync::heads))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(State { pool })
}

/// The API over `pool` on a free loopback port, served in this process
/// (tests, benchmarks, `make server`'s neighbours): its base URL.
pub async fn serve_on_loopback(pool: PgPool, max_body: usize) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = router(pool, max_body);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

async fn health(axum::extract::State(s): axum::extract::State<State>) -> Response {
    match sqlx::query("SELECT 1").execute(&s.pool).await {
        Ok(_) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unreachable"})),
            )
                .into_response()
        }
    }
}

/// A refused request: its status, a stable code and what to do, in zh-CN.
#[derive(Debug, Serialize)]
pub struct Refused {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refused {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refused {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database");
        Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database",
            "服务器的数据库暂不可用：请稍后重试",
        )
    }
}
