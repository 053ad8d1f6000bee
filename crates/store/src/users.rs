//! The staff directory: users, roles, argon2 password hashes.

use crate::audit::AuditWriter;
use crate::intake::staff_member;
use crate::{now, Result, Store, StoreError};
use ggzy_core::engine::Directory;
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
    pub role: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: String,
}

pub const MIN_PASSWORD_LEN: usize = 8;

fn validate(u: &NewUser) -> Result<()> {
    let bad = |m: String| Err(StoreError::invalid("invalid_user", m));
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
        let hash = password::hash(&password);
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let exists: Option<String> =
            sqlx::query_scalar("SELECT username FROM users WHERE username = ?")
                .bind(&new.username)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_some() {
            return Err(StoreError::invalid(
                "user_exists",
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
        .bind(&hash)
        .bind(generated)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        AuditWriter::record(
            conn,
            self.device_n(),
            &at,
            "user.added",
            &new.username,
            json!({ "name": new.name.trim(), "role": new.role.as_str(), "by": by }),
        )
        .await?;
        tx.commit().await?;
        Ok(generated.then_some(password))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        Ok(sqlx::query_as(
            "SELECT username, name, role, phone, email, active, must_change_password, created_at \
             FROM users ORDER BY role, username",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

/// Active staff of the two roles the standard pushes to.
pub(crate) async fn directory(conn: &mut SqliteConnection) -> Result<Directory> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT username, name, role FROM users WHERE active = 1 \
         AND role IN ('center_staff', 'supervisor_staff') ORDER BY username",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut d = Directory::default();
    for (username, name, role) in rows {
        let member = staff_member(username, name);
        match role.as_str() {
            "center_staff" => d.center_staff.push(member),
            _ => d.supervisor_staff.push(member),
        }
    }
    Ok(d)
}
