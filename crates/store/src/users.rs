//! The staff directory: users, roles, argon2 password hashes.

use crate::audit::AuditWriter;
use crate::{hash_password, now, verify_password, Result, Store, StoreError};
use ggzy_core::audit::sm3_hex;
use ggzy_core::engine::Directory;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{valid_email, valid_phone};
use ggzy_core::password;
use ggzy_core::role::StaffRole;
use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, SqliteConnection};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub role: StaffRole,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `None`: generate a one-time password that must be changed at first login.
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct User {
    pub username: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: StaffRole,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    /// Locked after repeated wrong passwords, until then (may have passed).
    pub locked_until: Option<String>,
    pub created_at: String,
}

/// What an admin changes of a staff member (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<StaffRole>,
    pub active: Option<bool>,
    pub reset_password: bool,
}

pub const MIN_PASSWORD_LEN: usize = 8;

/// Wrong passwords in a row that lock an account, and for how long.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;

const SELECT_USER: &str =
    "SELECT username, name, role, phone, email, active, must_change_password, locked_until, created_at FROM users";

/// A user's row as the audit trail holds it: every field that decides what
/// the person may do, the password as the SM3 of its hash. Each record that
/// changes a user carries this, read back after the change, and `verify`
/// holds the table to the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct UserState {
    pub name: String,
    pub role: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    pub password: String,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
}

/// A user's row as stored, for its `UserState`.
#[derive(FromRow)]
pub(crate) struct UserRow {
    pub username: String,
    name: String,
    role: String,
    phone: Option<String>,
    email: Option<String>,
    active: bool,
    must_change_password: bool,
    password_hash: String,
    failed_logins: i64,
    locked_until: Option<String>,
}

impl UserRow {
    pub(crate) fn state(self) -> UserState {
        UserState {
            name: self.name,
            role: self.role,
            phone: self.phone,
            email: self.email,
            active: self.active,
            must_change_password: self.must_change_password,
            password: sm3_hex(&self.password_hash),
            failed_logins: self.failed_logins,
            locked_until: self.locked_until,
        }
    }
}

/// Every user's row (`?1` NULL) or one user's, by username.
pub(crate) const SELECT_ROWS: &str =
    "SELECT username, name, role, phone, email, active, must_change_password, password_hash, \
     failed_logins, locked_until FROM users WHERE ?1 IS NULL OR username = ?1 ORDER BY username";

/// The state of `username` as it is now in the transaction, for its record.
async fn state_of(conn: &mut SqliteConnection, username: &str) -> Result<serde_json::Value> {
    let row: UserRow = sqlx::query_as(SELECT_ROWS)
        .bind(username)
        .fetch_one(&mut *conn)
        .await?;
    Ok(serde_json::to_value(row.state())?)
}

/// Chain the record of a change to `username` with the user's state after
/// it, in the caller's transaction.
async fn record_user(
    conn: &mut SqliteConnection,
    device: i64,
    at: &str,
    kind: &'static str,
    username: &str,
    mut body: serde_json::Value,
) -> Result<()> {
    body["state"] = state_of(conn, username).await?;
    AuditWriter::record(conn, device, at, kind, username, body).await?;
    Ok(())
}

/// The one answer to a login that did not succeed, whatever the reason:
/// nothing tells a wrong name from a wrong password, a disabled or a locked
/// account (the audit trail does, for the administrator).
fn bad_credentials() -> StoreError {
    StoreError::invalid(
        ErrorCode::BadCredentials,
        format!("用户名或密码错误，或账户已锁定、停用：请重新输入（连续 {MAX_FAILED_LOGINS} 次错误将锁定账户 {LOCK_MINUTES} 分钟），仍无法登录请联系系统管理员"),
    )
}

fn validate(u: &NewUser) -> Result<()> {
    let bad = |m: String| Err(StoreError::invalid(ErrorCode::InvalidUser, m));
    let name_ok = (2..=32).contains(&u.username.len())
        && u.username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !name_ok {
        return bad(format!(
            "用户名 `{}` 无效：须为 2–32 位字母、数字或 _ . -",
            u.username
        ));
    }
    if u.name.trim().is_empty() {
        return bad("姓名不能为空".into());
    }
    if let Some(p) = u.phone.as_deref().filter(|p| !valid_phone(p)) {
        return bad(format!("`{p}` 不是有效的电话号码"));
    }
    if let Some(e) = u.email.as_deref().filter(|e| !valid_email(e)) {
        return bad(format!("`{e}` 不是有效的电子邮箱"));
    }
    if let Some(p) = &u.password {
        if p.chars().count() < MIN_PASSWORD_LEN {
            return bad(format!("密码过短：至少 {MIN_PASSWORD_LEN} 个字符"));
        }
    }
    Ok(())
}

impl Store {
    /// Add a user. Returns the generated one-time password when none was given:
    /// it is shown once and never stored.
    pub async fn add_user(&self, new: NewUser, by: &str) -> Result<Option<String>> {
        validate(&new)?;
        let (password, generated) = match &new.password {
            Some(p) => (p.clone(), false),
            None => (password::generate(), true),
        };
        let hash = hash_password(&password).await;
        let mut tx = self.write().await?;
        insert_user(tx.conn(), self.device_n(), &new, &hash, generated, by).await?;
        tx.commit().await?;
        Ok(generated.then_some(password))
    }

    /// Set up a new center in one transaction: its settings and its first
    /// admin (with a password the person chose), only while it has no admin
    /// and is not the demo — checked inside the transaction, so two set-ups
    /// at once cannot both stand. Everything is checked before anything is
    /// written.
    pub async fn set_up_center(&self, settings: &[(&str, &str)], admin: NewUser) -> Result<()> {
        validate(&admin)?;
        self.check_settings(settings)?;
        let Some(password) = &admin.password else {
            return Err(StoreError::invalid(
                ErrorCode::InvalidUser,
                "请为管理员设置密码",
            ));
        };
        let hash = hash_password(password).await;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin') \
             OR EXISTS (SELECT 1 FROM meta WHERE key = 'demo' AND value = '1')",
        )
        .fetch_one(&mut *conn)
        .await?;
        if taken {
            return Err(StoreError::invalid(
                ErrorCode::AlreadySetUp,
                "本中心已设置过：请用管理员账户登录（新增用户请到 设置 → 用户与角色）",
            ));
        }
        insert_user(conn, self.device_n(), &admin, &hash, false, "setup").await?;
        crate::settings::write_settings(conn, self.device_n(), settings, "setup").await?;
        tx.commit().await
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        Ok(
            sqlx::query_as(&format!("{SELECT_USER} ORDER BY role, username"))
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// A logged-in person as the directory has them now, with the minutes a
    /// session may stay idle (`session_idle_minutes`); `None` if no such user.
    pub async fn session_user(&self, username: &str) -> Result<Option<(User, u64)>> {
        let user: Option<User> = sqlx::query_as(&format!("{SELECT_USER} WHERE username = ?"))
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        let idle: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'session_idle_minutes'")
                .fetch_optional(self.pool())
                .await?;
        let idle = idle
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::settings::SESSION_IDLE_MINUTES);
        Ok(user.map(|u| (u, idle)))
    }

    pub async fn user(&self, username: &str) -> Result<User> {
        sqlx::query_as(&format!("{SELECT_USER} WHERE username = ?"))
            .bind(username)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有用户 `{username}`")))
    }

    /// An admin changes another staff member's role or whether they may log
    /// in, or gives them a new one-time password (which also unlocks the
    /// account): all asked for in one change, checked first, written in one
    /// transaction and audited as `user.changed`. Returns the new one-time
    /// password when one was asked for. Nobody changes their own account
    /// this way, so there is always an admin left to undo a change.
    pub async fn change_user(
        &self,
        username: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<String>> {
        if username == by {
            return Err(StoreError::invalid(
                ErrorCode::OwnAccount,
                "不能修改自己的角色、停用自己或重置自己的密码：请由另一位管理员操作（修改自己的密码请用右上角的“修改密码”）",
            ));
        }
        // Made before the write lock is taken: hashing takes tens of milliseconds.
        let password = change.reset_password.then(password::generate);
        let hash = match &password {
            Some(p) => Some(hash_password(p).await),
            None => None,
        };
        let mut tx = self.write().await?;
        let conn = tx.conn();
        // Read inside the write transaction: what is compared is what is changed.
        let current: User = sqlx::query_as(&format!("{SELECT_USER} WHERE username = ?"))
            .bind(username)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有用户 `{username}`")))?;
        let mut body = serde_json::Map::new();
        body.insert("by".into(), by.into());
        if let Some(role) = change.role.filter(|r| *r != current.role) {
            sqlx::query("UPDATE users SET role = ? WHERE username = ?")
                .bind(role.as_str())
                .bind(username)
                .execute(&mut *conn)
                .await?;
            body.insert("role".into(), role.as_str().into());
        }
        if let Some(active) = change.active.filter(|a| *a != current.active) {
            sqlx::query("UPDATE users SET active = ? WHERE username = ?")
                .bind(active)
                .bind(username)
                .execute(&mut *conn)
                .await?;
            body.insert("active".into(), active.into());
        }
        if let Some(hash) = &hash {
            sqlx::query(
                "UPDATE users SET password_hash = ?, must_change_password = 1, failed_logins = 0, \
                 locked_until = NULL WHERE username = ?",
            )
            .bind(hash)
            .bind(username)
            .execute(&mut *conn)
            .await?;
            body.insert("password_reset".into(), true.into());
        }
        if body.len() == 1 {
            return Err(StoreError::invalid(
                ErrorCode::NothingChanged,
                format!("用户 `{username}` 没有任何改动"),
            ));
        }
        let at = now();
        record_user(
            conn,
            self.device_n(),
            &at,
            "user.changed",
            username,
            body.into(),
        )
        .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// Check a staff member's password. `MAX_FAILED_LOGINS` wrong ones in a
    /// row lock the account for `LOCK_MINUTES`. An unknown name, a disabled
    /// or locked account and a wrong password get the same answer after the
    /// same work, and every attempt is in the audit trail. The caller checks
    /// `must_change_password`.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User> {
        self.attempt(username, password, "user.login").await?;
        self.user(username).await
    }

    /// One try of `username`'s password, counted before it is checked: the
    /// count is taken in a write transaction (with its record) and only an
    /// account with tries left gets one, so attempts made in parallel never
    /// check more than `MAX_FAILED_LOGINS` passwords between two successes.
    /// On success the count starts again and `done` is recorded; a wrong
    /// password leaves it counted, and the last one locks the account.
    async fn attempt(&self, username: &str, password: &str, done: &'static str) -> Result<()> {
        let at = now();
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let taken: Option<(String,)> = sqlx::query_as(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE username = ?1 AND active = 1 \
             AND failed_logins < ?2 AND (locked_until IS NULL OR unixepoch(locked_until) <= unixepoch(?3)) RETURNING password_hash",
        )
        .bind(username)
        .bind(MAX_FAILED_LOGINS)
        .bind(&at)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((hash,)) = taken else {
            // Unknown, disabled, locked or out of tries: the same work and
            // answer as a wrong password; the trail says which it was.
            let reason: Option<(bool, Option<String>)> =
                sqlx::query_as("SELECT active, locked_until FROM users WHERE username = ?")
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?;
            let why = match reason {
                None => "unknown",
                Some((false, _)) => "disabled",
                Some((true, _)) => "locked",
            };
            let name: String = username.chars().take(64).collect();
            let body = json!({ "reason": why });
            AuditWriter::record(
                conn,
                self.device_n(),
                &at,
                "user.login_refused",
                &name,
                body,
            )
            .await?;
            tx.commit().await?;
            verify_password(password, password::DECOY).await;
            return Err(bad_credentials());
        };
        record_user(
            conn,
            self.device_n(),
            &at,
            "user.login_attempt",
            username,
            json!({}),
        )
        .await?;
        tx.commit().await?;

        let ok = verify_password(password, &hash).await;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let at = now();
        let (kind, body) = if ok {
            sqlx::query(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?",
            )
            .bind(username)
            .execute(&mut *conn)
            .await?;
            (done, json!({}))
        } else {
            let failed: i64 =
                sqlx::query_scalar("SELECT failed_logins FROM users WHERE username = ?")
                    .bind(username)
                    .fetch_one(&mut *conn)
                    .await?;
            if failed >= MAX_FAILED_LOGINS {
                let until = (chrono::Local::now() + chrono::Duration::minutes(LOCK_MINUTES))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
                sqlx::query(
                    "UPDATE users SET failed_logins = 0, locked_until = ? WHERE username = ?",
                )
                .bind(&until)
                .bind(username)
                .execute(&mut *conn)
                .await?;
                ("user.locked", json!({ "failed": failed, "until": until }))
            } else {
                ("user.login_failed", json!({ "failed": failed }))
            }
        };
        record_user(conn, self.device_n(), &at, kind, username, body).await?;
        tx.commit().await?;
        if ok {
            Ok(())
        } else {
            Err(bad_credentials())
        }
    }

    /// Change one's own password: the current one is checked as a login's
    /// is (a wrong one counts toward the lock), the new one must be long
    /// enough and different. Clears `must_change_password`.
    pub async fn change_password(&self, username: &str, current: &str, new: &str) -> Result<()> {
        if new.chars().count() < MIN_PASSWORD_LEN {
            return Err(StoreError::invalid(
                ErrorCode::WeakPassword,
                format!("新密码过短：至少 {MIN_PASSWORD_LEN} 个字符"),
            ));
        }
        if new == current {
            return Err(StoreError::invalid(
                ErrorCode::WeakPassword,
                "新密码不能与当前密码相同",
            ));
        }
        self.attempt(username, current, "user.password_checked")
            .await
            .map_err(|e| match e {
                StoreError::Invalid {
                    code: ErrorCode::BadCredentials,
                    ..
                } => StoreError::invalid(
                    ErrorCode::BadCredentials,
                    format!("当前密码不正确，请重新输入（连续 {MAX_FAILED_LOGINS} 次错误将锁定账户 {LOCK_MINUTES} 分钟）"),
                ),
                other => other,
            })?;
        let hash = hash_password(new).await;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        sqlx::query(
            "UPDATE users SET password_hash = ?, must_change_password = 0 WHERE username = ?",
        )
        .bind(&hash)
        .bind(username)
        .execute(&mut *conn)
        .await?;
        record_user(
            conn,
            self.device_n(),
            &now(),
            "user.password_changed",
            username,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Add a user (its password already hashed) with its record, in the
/// caller's transaction; a username taken is refused.
async fn insert_user(
    conn: &mut SqliteConnection,
    device: i64,
    new: &NewUser,
    hash: &str,
    generated: bool,
    by: &str,
) -> Result<()> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT username FROM users WHERE username = ?")
            .bind(&new.username)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_some() {
        return Err(StoreError::invalid(
            ErrorCode::UserExists,
            format!("用户名 `{}` 已存在，请换一个用户名", new.username),
        ));
    }
    let at = now();
    sqlx::query(
        "INSERT INTO users (username, name, role, phone, email, password_hash, must_change_password, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&new.username)
    .bind(new.name.trim())
    .bind(new.role.as_str())
    .bind(&new.phone)
    .bind(&new.email)
    .bind(hash)
    .bind(generated)
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    let body = json!({ "name": new.name.trim(), "role": new.role.as_str(), "by": by });
    record_user(conn, device, &at, "user.added", &new.username, body).await
}

/// Active staff of the two roles the standard pushes to.
pub(crate) async fn directory(conn: &mut SqliteConnection) -> Result<Directory> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT username, name, role FROM users WHERE active = 1 \
         AND role IN ('center_staff', 'supervisor_staff', 'supervisor') ORDER BY username",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Directory::of(rows))
}
