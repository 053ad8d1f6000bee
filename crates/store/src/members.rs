//! Platform members (4.1). Their passwords follow note P: the dispatcher
//! issues a one-time password when it sends the 4.1.2a or 4.1.2c message;
//! only its argon2id hash is kept, it expires, and the audit trail records
//! that one was issued, never what it was.

use crate::audit::AuditWriter;
use crate::{hash_password, now, verify_password, Result, Store, StoreError};
use ggzy_core::password;
use serde_json::json;

/// How long an issued one-time password stays valid (told in the message as 24小时).
pub const PASSWORD_TTL_HOURS: i64 = 24;

impl Store {
    /// Issue a fresh one-time password for a member: store its hash and
    /// expiry, and return the clear text for the one message that carries it.
    pub async fn issue_member_password(&self, username: &str) -> Result<String> {
        let clear = password::generate();
        let hash = hash_password(&clear).await;
        let expires = (chrono::Local::now() + chrono::Duration::hours(PASSWORD_TTL_HOURS))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let at = now();
        let updated = sqlx::query(
            "UPDATE members SET password_hash = ?, password_expires_at = ?, updated_at = ? WHERE username = ?",
        )
        .bind(&hash)
        .bind(&expires)
        .bind(&at)
        .bind(username)
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "没有用户名为 `{username}` 的会员"
            )));
        }
        AuditWriter::record(
            conn,
            self.device_n(),
            &at,
            "member.password_issued",
            username,
            json!({ "expires_at": expires }),
        )
        .await?;
        tx.commit().await?;
        Ok(clear)
    }

    /// Whether a member's password is right and not expired.
    pub async fn check_member_password(&self, username: &str, candidate: &str) -> Result<bool> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT password_hash, password_expires_at FROM members WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let Some((Some(hash), expires)) = row else {
            return Ok(false);
        };
        let live = expires
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
            .is_none_or(|e| e > chrono::Local::now());
        Ok(live && verify_password(candidate, &hash).await)
    }
}
