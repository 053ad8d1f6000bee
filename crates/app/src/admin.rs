//! 设置: the center's settings and the staff directory, for admins.

use crate::rights::ADMIN;
use crate::{App, AppError, Result, ANY_ROLE};
pub use ggzy_core::calendar::YearExceptions;
pub use ggzy_core::deadlines::Limits;
use ggzy_core::error::ErrorCode;
use ggzy_core::role::StaffRole;
use ggzy_store::users::{NewUser, UserChange};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CenterSettings {
    pub center_name: String,
    pub center_phone: String,
    /// Minutes without a command after which a desktop's session ends.
    pub session_idle_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct StaffUser {
    pub username: String,
    pub name: String,
    pub role: StaffRole,
    pub role_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    /// Locked now after repeated wrong passwords (a new password unlocks it).
    pub locked: bool,
}

/// What an admin changes of a colleague; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct StaffUserChange {
    #[ts(optional)]
    pub role: Option<StaffRole>,
    #[ts(optional)]
    pub active: Option<bool>,
    #[serde(default)]
    pub reset_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct NewStaffUser {
    pub username: String,
    pub name: String,
    pub role: StaffRole,
    #[ts(optional)]
    pub phone: Option<String>,
    #[ts(optional)]
    pub email: Option<String>,
}

/// One setting's value, blank when unset.
pub(crate) async fn setting(store: &ggzy_store::Store, key: &str) -> Result<String> {
    Ok(store
        .settings()
        .await?
        .into_iter()
        .find_map(|(k, v)| (k == key).then_some(v))
        .unwrap_or_default())
}

impl App {
    /// Each year's public holidays and make-up working days, on which every
    /// statutory clock runs (设置 → 工作日历).
    pub async fn calendar(&self) -> Result<Vec<YearExceptions>> {
        self.require(ADMIN, "查看工作日历").await?;
        Ok(self.store().calendar_years().await?)
    }

    /// Keep the years as the State Council's notices set them; a day both
    /// off and worked, or a make-up day that is no weekend, is refused
    /// naming it, and nothing is kept. Audited.
    pub async fn save_calendar(&self, years: Vec<YearExceptions>) -> Result<Vec<YearExceptions>> {
        let me = self.require(ADMIN, "修改工作日历").await?;
        self.store().save_calendar(&years, &me.username).await?;
        self.calendar().await
    }

    /// The statutory limits the clocks run on (设置 → 办理时限).
    pub async fn limits(&self) -> Result<Limits> {
        self.require(ADMIN, "查看办理时限").await?;
        Ok(self.store().limits().await?)
    }

    /// Keep the limits; one out of range is refused naming it. Audited.
    pub async fn save_limits(&self, limits: Limits) -> Result<Limits> {
        let me = self.require(ADMIN, "修改办理时限").await?;
        self.store().save_limits(&limits, &me.username).await?;
        self.limits().await
    }

    pub async fn center_settings(&self) -> Result<CenterSettings> {
        self.require(ANY_ROLE, "查看中心设置").await?;
        let all = self.store().settings().await?;
        let get = |k: &str| {
            all.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Ok(CenterSettings {
            center_name: get("center_name"),
            center_phone: get("center_phone"),
            session_idle_minutes: get("session_idle_minutes")
                .parse()
                .unwrap_or(ggzy_store::settings::SESSION_IDLE_MINUTES as u32),
        })
    }

    /// All the settings, or none (checked and written together by the store).
    pub async fn save_center_settings(&self, s: CenterSettings) -> Result<CenterSettings> {
        let me = self.require(ADMIN, "修改中心设置").await?;
        self.store()
            .set_settings(
                &[
                    ("center_name", &s.center_name),
                    ("center_phone", &s.center_phone),
                    ("session_idle_minutes", &s.session_idle_minutes.to_string()),
                ],
                &me.username,
            )
            .await?;
        self.center_settings().await
    }

    pub async fn staff_users(&self) -> Result<Vec<StaffUser>> {
        self.require(ADMIN, "管理用户").await?;
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| StaffUser {
                role_name: u.role.zh().to_owned(),
                username: u.username,
                name: u.name,
                role: u.role,
                phone: u.phone,
                email: u.email,
                active: u.active,
                must_change_password: u.must_change_password,
                locked: u
                    .locked_until
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t > chrono::Local::now()),
            })
            .collect())
    }

    /// Add a staff member; returns the one-time password, to be handed over once.
    pub async fn add_staff_user(&self, new: NewStaffUser) -> Result<String> {
        let me = self.require(ADMIN, "新增用户").await?;
        let opt = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let password = self
            .store()
            .add_user(
                NewUser {
                    username: new.username.trim().to_owned(),
                    name: new.name,
                    role: new.role,
                    phone: opt(new.phone),
                    email: opt(new.email),
                    password: None,
                },
                &me.username,
            )
            .await?;
        password.ok_or_else(|| AppError::new(ErrorCode::Internal, "未生成初始密码"))
    }

    /// Change a colleague's role or access, or give them a new one-time
    /// password (returned, to be handed over once).
    pub async fn change_staff_user(
        &self,
        username: &str,
        change: StaffUserChange,
    ) -> Result<Option<String>> {
        let me = self.require(ADMIN, "修改用户").await?;
        Ok(self
            .store()
            .change_user(
                username,
                &UserChange {
                    role: change.role,
                    active: change.active,
                    reset_password: change.reset_password,
                },
                &me.username,
            )
            .await?)
    }
}
