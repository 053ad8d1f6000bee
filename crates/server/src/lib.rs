//! `ggzy-server`: every desktop's records in one PostgreSQL, in one global
//! order. It keeps no state of its own, so several instances may run over
//! one database behind any load balancer; PostgreSQL's transactions and
//! row locks order and guard what they share.

pub mod config;
pub mod dispatch;
pub mod intake;
mod series;
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
    /// The center the pushes of the events the server decides name.
    pub center: std::sync::Arc<ggzy_core::render::Center>,
}

/// Every route, each request held to `max_body` bytes (413 past it, before
/// the body is read whole); the events the server decides are `center`'s.
pub fn router(pool: PgPool, max_body: usize, center: ggzy_core::render::Center) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/sync/upload", post(sync::upload))
        .route("/api/v1/sync/download", get(sync::download))
        .route("/api/v1/sync/heads", get(sync::heads))
        .route("/api/v1/alarms", get(sync::alarms))
        .route("/api/v1/intake", post(intake::intake))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(State {
            pool,
            center: std::sync::Arc::new(center),
        })
}

/// Serve the API as `config` says — HTTPS when it names a certificate and
/// key — send the outbox and keep the fold of the global order current,
/// until `stop` resolves; then take no new request, finish those under way
/// (at most 30 s) and the batch being sent.
pub async fn serve(
    pool: PgPool,
    config: &config::Config,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let center = ggzy_core::render::Center {
        name: config.center_name.clone(),
        phone: None,
    };
    let dispatch = dispatch::Dispatch::configured(pool.clone(), config)?;
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let when = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let sending = tokio::spawn(dispatch.run(when(stopped.clone())));
    let folding = tokio::spawn(intake::keep_folded(pool.clone(), when(stopped.clone())));
    let served = listen(pool, config, center, when(stopped)).await;
    let _ = tokio::join!(sending, folding);
    served
}

async fn listen(
    pool: PgPool,
    config: &config::Config,
    center: ggzy_core::render::Center,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(pool, config.max_body_bytes, center);
    let Some((cert, key)) = &config.tls else {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("无法监听 {}：{e}", config.listen))?;
        tracing::info!(listen = %listener.local_addr()?, tls = false, "ggzy-server serving");
        return Ok(axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await?);
    };
    // One provider for the whole process (several crates may enable rustls).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "无法读取 TLS 证书 {} 或私钥 {}：{e}",
                cert.display(),
                key.display()
            )
        })?;
    let addr: std::net::SocketAddr = config.listen.parse().map_err(|_| {
        anyhow::anyhow!("监听地址 `{}` 须为 IP:端口，如 0.0.0.0:8790", config.listen)
    })?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        stop.await;
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    tracing::info!(listen = %addr, tls = true, "ggzy-server serving");
    axum_server::bind_rustls(addr, tls)
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .map_err(|e| anyhow::anyhow!("无法监听 {addr}：{e}"))
}

/// A server on this machine over the database at `url`: connected,
/// migrated and serving on a loopback port (tests, benchmarks): its pool
/// and base URL.
pub async fn start_local(url: &str, max_body: usize) -> anyhow::Result<(PgPool, String)> {
    let pool = PgPool::connect(url).await?;
    MIGRATOR.run(&pool).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = router(pool.clone(), max_body, ggzy_core::render::Center::default());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((pool, base))
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
