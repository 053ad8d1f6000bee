//! Devices and the e-trading system's intake are let in by bearer tokens,
//! issued once and kept only as SM3 of the token. A token is 32 random bytes,
//! so a fast hash is enough: there is no password to guess.

use crate::Refused;
use axum::http::{HeaderMap, StatusCode};
use rand::RngCore;
use sqlx::PgPool;

/// A fresh token, as printed to the operator once: `ggzy_` and 64 hex digits.
pub fn issue() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("ggzy_{}", ggzy_core::audit::hex(&bytes))
}

/// What is stored of a token.
pub fn digest(token: &str) -> Vec<u8> {
    ggzy_core::audit::sm3(token.trim()).to_vec()
}

/// Enroll a desktop: its token, shown once.
pub async fn add_device(pool: &PgPool, name: &str) -> anyhow::Result<String> {
    add(
        pool,
        "INSERT INTO devices (name, token_hash) VALUES ($1, $2)",
        "设备",
        name,
    )
    .await
}

/// Issue a token for the e-trading system's intake.
pub async fn add_intake(pool: &PgPool, name: &str) -> anyhow::Result<String> {
    add(
        pool,
        "INSERT INTO intake_tokens (name, token_hash) VALUES ($1, $2)",
        "接入令牌",
        name,
    )
    .await
}

/// A fresh token kept (as its digest) by `insert` under `name`; a name
/// taken already is said as `what` calls it.
async fn add(
    pool: &PgPool,
    insert: &'static str,
    what: &str,
    name: &str,
) -> anyhow::Result<String> {
    let token = issue();
    sqlx::query(insert)
        .bind(name)
        .bind(digest(&token))
        .execute(pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                anyhow::anyhow!("已有名为“{name}”的{what}：请换一个名称，或先吊销原有的")
            }
            _ => e.into(),
        })?;
    Ok(token)
}

/// Revoke a device's token: its next request is refused; what it uploaded stays.
pub async fn revoke_device(pool: &PgPool, name: &str) -> anyhow::Result<()> {
    let done = sqlx::query(
        "UPDATE devices SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL \
         AND token_hash <> ''::bytea",
    )
    .bind(name)
    .execute(pool)
    .await?;
    anyhow::ensure!(
        done.rows_affected() == 1,
        "没有名为“{name}”且未吊销的设备：用 ggzy-server device list 查看"
    );
    Ok(())
}

/// Revoke an intake token: the e-trading system's next request with it is
/// refused; what it sent stays.
pub async fn revoke_intake(pool: &PgPool, name: &str) -> anyhow::Result<()> {
    let done = sqlx::query(
        "UPDATE intake_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await?;
    anyhow::ensure!(
        done.rows_affected() == 1,
        "没有名为“{name}”且未吊销的接入令牌：用 ggzy-server intake-token list 查看"
    );
    Ok(())
}

/// One enrolled device or intake token, as an operator lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Holder {
    pub name: String,
    /// A device's own id, once its first upload bound it.
    pub device_id: Option<uuid::Uuid>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The enrolled desktops (not the server's own series), oldest first.
pub async fn devices(pool: &PgPool) -> anyhow::Result<Vec<Holder>> {
    Ok(sqlx::query_as(
        "SELECT name, device_id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, \
         to_char(revoked_at, 'YYYY-MM-DD HH24:MI:SS') AS revoked_at FROM devices \
         WHERE token_hash <> ''::bytea ORDER BY n",
    )
    .fetch_all(pool)
    .await?)
}

/// The intake tokens issued, oldest first.
pub async fn intake_tokens(pool: &PgPool) -> anyhow::Result<Vec<Holder>> {
    Ok(sqlx::query_as(
        "SELECT name, NULL::uuid AS device_id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, \
         to_char(revoked_at, 'YYYY-MM-DD HH24:MI:SS') AS revoked_at FROM intake_tokens ORDER BY n",
    )
    .fetch_all(pool)
    .await?)
}

/// An enrolled desktop, as a request's token names it.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    pub n: i64,
    /// The desktop's own id, once its first upload bound it.
    pub device_id: Option<uuid::Uuid>,
}

/// The device whose token the request bears, or why it is refused.
pub async fn device(pool: &PgPool, headers: &HeaderMap) -> Result<Device, Refused> {
    let token = bearer(headers)?;
    let row: Option<(i64, Option<uuid::Uuid>, bool)> = sqlx::query_as(
        "SELECT n, device_id, revoked_at IS NOT NULL FROM devices WHERE token_hash = $1",
    )
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    let (n, device_id) = standing(
        row.map(|(n, d, revoked)| ((n, d), revoked)),
        "设备令牌不正确：请在 设置 → 同步 中填写服务器管理员发放的令牌",
        "该设备的令牌已被吊销：请联系服务器管理员重新登记本机",
    )?;
    Ok(Device { n, device_id })
}

/// The intake token the request bears (its number), or why it is refused.
pub async fn intake(pool: &PgPool, headers: &HeaderMap) -> Result<i64, Refused> {
    let token = bearer(headers)?;
    let row: Option<(i64, bool)> =
        sqlx::query_as("SELECT n, revoked_at IS NOT NULL FROM intake_tokens WHERE token_hash = $1")
            .bind(digest(token))
            .fetch_optional(pool)
            .await?;
    standing(
        row,
        "接入令牌不正确：请使用服务器管理员以 ggzy-server intake-token add 发放的令牌",
        "该接入令牌已被吊销：请联系服务器管理员发放新的令牌",
    )
}

/// What a token's row (its holder, and whether it was revoked) comes to:
/// the holder, or a 401 saying `unknown` or `revoked`.
fn standing<T>(row: Option<(T, bool)>, unknown: &str, revoked: &str) -> Result<T, Refused> {
    match row {
        None => Err(Refused::new(StatusCode::UNAUTHORIZED, "bad_token", unknown)),
        Some((_, true)) => Err(Refused::new(
            StatusCode::UNAUTHORIZED,
            "revoked_token",
            revoked,
        )),
        Some((holder, false)) => Ok(holder),
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, Refused> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Refused::new(
                StatusCode::UNAUTHORIZED,
                "no_token",
                "请求未带令牌：须以 Authorization: Bearer <令牌> 发送",
            )
        })
}
