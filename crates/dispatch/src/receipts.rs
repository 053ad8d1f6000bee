//! The delivery-receipt endpoint: providers report what became of a push,
//! which becomes delivered or failed (with its audit record).
//!
//! - `POST /receipts/gateway`: `{"key", "status": "delivered"|"failed", "detail"}`,
//!   signed as the gateway's own requests are (`X-Ggzy-Timestamp`,
//!   `X-Ggzy-Signature`), within five minutes of now.
//! - `POST /receipts/aliyun/{token}`: Alibaba Cloud's SmsReport push, a JSON
//!   array of `{"out_id", "success", "err_code", "err_msg", …}`; Alibaba signs
//!   nothing, so the URL carries a secret token.
//!
//! And the experts' text replies to a 4.6 call (`1` / `Y` / 确认 confirms,
//! `2` / `N` / 不参加 declines; see `core::draw::Reply::from_sms`):
//!
//! - `POST /replies/gateway`: `{"phone", "text"}`, signed as above.
//! - `POST /replies/aliyun/{token}`: Alibaba Cloud's SmsUp push, a JSON
//!   array of `{"phone_number", "content", …}`.
//!
//! A reply is recorded when exactly one call waits for that number; a
//! decline calls the next backup (`Store::reply_by_sms`).

use crate::sms::gateway_signature;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use ggzy_store::draw_calls::SmsAnswer;
use ggzy_store::{Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Clone)]
struct Receiver {
    store: Store,
    gateway_secret: Option<Arc<str>>,
    aliyun_token: Option<Arc<str>>,
}

/// The endpoint a configuration asks for, bound and ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Bind `listen` (e.g. `127.0.0.1:8787`); a port in use is named.
    pub async fn bind(
        listen: &str,
        store: Store,
        secrets: &dyn crate::secrets::Secrets,
    ) -> Result<Server, StoreError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| StoreError::Listen {
                addr: format!("{listen}（回执）"),
                source,
            })?;
        let app = router(
            store,
            secrets.get("receipts"),
            secrets.get("receipts.aliyun"),
        );
        Ok(Server { listener, app })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until dropped (or the listener fails).
    pub async fn serve(self) -> std::io::Result<()> {
        tracing::info!(listen = ?self.listener.local_addr().ok(), "receipts endpoint up");
        axum::serve(self.listener, self.app).await
    }
}

pub fn router(
    store: Store,
    gateway_secret: Option<String>,
    aliyun_token: Option<String>,
) -> Router {
    Router::new()
        .route("/receipts/gateway", post(gateway))
        .route("/receipts/aliyun/{token}", post(aliyun))
        .route("/replies/gateway", post(gateway_reply))
        .route("/replies/aliyun/{token}", post(aliyun_reply))
        .with_state(Receiver {
            store,
            gateway_secret: gateway_secret.map(Into::into),
            aliyun_token: aliyun_token.map(Into::into),
        })
}

type Answer = (StatusCode, Json<Value>);

fn refuse(status: StatusCode, message: &str) -> Answer {
    (status, Json(json!({ "error": message })))
}

/// Equal without telling by timing how much of it matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn apply(store: &Store, key: &str, delivered: bool, detail: &str) -> Result<(), Answer> {
    let key: uuid::Uuid = key
        .parse()
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "key is not a UUID"))?;
    match store.receipt(key, delivered, detail).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(refuse(
            StatusCode::NOT_FOUND,
            "no push was sent under this key",
        )),
        Err(e) => {
            tracing::error!(error = %e, "receipt not recorded");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "not recorded; send again",
            ))
        }
    }
}

/// Whether a gateway request is signed with the gateway's secret, within
/// five minutes of now; if not, the answer to give.
fn signed(r: &Receiver, headers: &HeaderMap, path: &str, body: &str) -> Result<(), Answer> {
    let Some(secret) = &r.gateway_secret else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "gateway callbacks are not configured",
        ));
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let timestamp = header("x-ggzy-timestamp");
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    let expected = gateway_signature(secret, timestamp, "POST", path, body);
    if !fresh || !same(expected.as_bytes(), header("x-ggzy-signature").as_bytes()) {
        return Err(refuse(StatusCode::UNAUTHORIZED, "bad or stale signature"));
    }
    Ok(())
}

/// Whether the URL's token is Alibaba Cloud's; if not, the answer to give.
fn aliyun_token(r: &Receiver, token: &str) -> Result<(), Answer> {
    let Some(expected) = &r.aliyun_token else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "aliyun callbacks are not configured",
        ));
    };
    if !same(expected.as_bytes(), token.as_bytes()) {
        return Err(refuse(StatusCode::UNAUTHORIZED, "bad token"));
    }
    Ok(())
}

async fn gateway(State(r): State<Receiver>, headers: HeaderMap, body: String) -> Answer {
    if let Err(a) = signed(&r, &headers, "/receipts/gateway", &body) {
        return a;
    }
    #[derive(Deserialize)]
    struct Report {
        key: String,
        status: String,
        #[serde(default)]
        detail: String,
    }
    let Ok(report) = serde_json::from_str::<Report>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "expected {key, status, detail}");
    };
    let delivered = match report.status.as_str() {
        "delivered" => true,
        "failed" => false,
        _ => return refuse(StatusCode::BAD_REQUEST, "status is delivered or failed"),
    };
    let detail = format!(
        "短信网关回执：{}",
        if report.detail.is_empty() {
            &report.status
        } else {
            &report.detail
        }
    );
    match apply(&r.store, &report.key, delivered, &detail).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "ok": true }))),
        Err(a) => a,
    }
}

async fn aliyun(
    State(r): State<Receiver>,
    Path(token): Path<String>,
    Json(reports): Json<Vec<Value>>,
) -> Answer {
    if let Err(a) = aliyun_token(&r, &token) {
        return a;
    }
    for report in &reports {
        let Some(key) = report["out_id"].as_str() else {
            continue;
        };
        let delivered = report["success"].as_bool().unwrap_or(false);
        let detail = format!(
            "阿里云短信回执：{} {}",
            report["err_code"].as_str().unwrap_or(""),
            report["err_msg"].as_str().unwrap_or("")
        );
        match apply(&r.store, key, delivered, detail.trim()).await {
            // A report for something this device never sent is not worth a resend.
            Ok(()) | Err((StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST, _)) => {}
            Err(_) => {
                return (
                    StatusCode::OK,
                    Json(json!({ "code": 1, "msg": "稍后重试" })),
                )
            }
        }
    }
    (StatusCode::OK, Json(json!({ "code": 0, "msg": "成功" })))
}

/// Record an expert's text reply; what became of it, for the answer.
async fn reply(store: &Store, phone: &str, text: &str) -> Result<&'static str, Answer> {
    match store.reply_by_sms(phone, text).await {
        Ok(SmsAnswer::Recorded { .. }) => Ok("recorded"),
        Ok(SmsAnswer::NotAnAnswer) => Ok("not a yes or a no: nothing recorded"),
        Ok(SmsAnswer::NoCall) => Ok("no call waits for this number"),
        Ok(SmsAnswer::Ambiguous) => Ok("several calls wait for this number: staff record it"),
        Err(e) => {
            tracing::error!(error = %e, "reply not recorded");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "not recorded; send again",
            ))
        }
    }
}

async fn gateway_reply(State(r): State<Receiver>, headers: HeaderMap, body: String) -> Answer {
    if let Err(a) = signed(&r, &headers, "/replies/gateway", &body) {
        return a;
    }
    #[derive(Deserialize)]
    struct Incoming {
        phone: String,
        text: String,
    }
    let Ok(m) = serde_json::from_str::<Incoming>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "expected {phone, text}");
    };
    match reply(&r.store, &m.phone, &m.text).await {
        Ok(what) => (StatusCode::OK, Json(json!({ "ok": true, "result": what }))),
        Err(a) => a,
    }
}

async fn aliyun_reply(
    State(r): State<Receiver>,
    Path(token): Path<String>,
    Json(messages): Json<Vec<Value>>,
) -> Answer {
    if let Err(a) = aliyun_token(&r, &token) {
        return a;
    }
    for m in &messages {
        let (Some(phone), Some(text)) = (m["phone_number"].as_str(), m["content"].as_str()) else {
            continue;
        };
        if reply(&r.store, phone, text).await.is_err() {
            return (
                StatusCode::OK,
                Json(json!({ "code": 1, "msg": "稍后重试" })),
            );
        }
    }
    (StatusCode::OK, Json(json!({ "code": 0, "msg": "成功" })))
}
