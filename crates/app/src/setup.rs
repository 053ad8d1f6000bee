//! Before anyone logs in: what the window shows first. A center's own
//! database with no staff yet is set up here (its name and phone and the
//! first admin, with a password the person chooses); the demo center says
//! it is the demo and shows its accounts.

use crate::{App, AppError, Result, Session};
use ggzy_core::error::ErrorCode;
use ggzy_core::role::StaffRole;
use ggzy_store::demo::{DEMO_PASSWORD, DEMO_USERS};
use ggzy_store::users::NewUser;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the login screen needs to know, before anyone logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CenterState {
    /// This is the demo center (演示数据): a banner on every screen.
    pub demo: bool,
    /// The center has its first admin; if not, the set-up screen shows.
    pub set_up: bool,
    pub center_name: String,
    /// The demo's accounts, shown on its login screen (empty otherwise).
    pub demo_accounts: Vec<DemoAccount>,
    /// The demo accounts' password (demo data only).
    pub demo_password: Option<String>,
    /// The name of every code the window shows (asked with the rest at
    /// start: one round trip fewer while the window opens).
    pub labels: crate::labels::Labels,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DemoAccount {
    pub username: String,
    pub name: String,
    pub role_name: String,
}

/// The first start's form.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SetUp {
    pub center_name: String,
    pub center_phone: String,
    pub username: String,
    pub name: String,
    pub password: String,
}

impl App {
    pub async fn center_state(&self) -> Result<CenterState> {
        let demo = self.store().is_demo().await?;
        let set_up = self
            .store()
            .users()
            .await?
            .iter()
            .any(|u| u.role == StaffRole::Admin);
        let center_name = crate::admin::setting(self.store(), "center_name").await?;
        let demo_accounts = if demo {
            DEMO_USERS
                .iter()
                .map(|(username, name, role, _)| DemoAccount {
                    username: (*username).into(),
                    name: (*name).into(),
                    role_name: role.zh().into(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(CenterState {
            demo,
            set_up,
            center_name,
            demo_accounts,
            labels: crate::labels::Labels::new(),
            demo_password: demo.then(|| DEMO_PASSWORD.to_owned()),
        })
    }

    /// Whether the window may leave this database for the demo center (the
    /// set-up screen's 打开演示中心): only a center not set up yet, so a
    /// center in use is never switched away from before its login.
    pub async fn may_open_demo(&self) -> Result<()> {
        let state = self.center_state().await?;
        if state.set_up && !state.demo {
            return Err(AppError::new(
                ErrorCode::AlreadySetUp,
                "本中心已设置，不能从登录页切换到演示中心：演示请以 GGZY_DEMO=1 启动本程序",
            ));
        }
        Ok(())
    }

    /// Set up a new center: its name and phone, and its first admin, who is
    /// then logged in. Only a center with no admin yet, and never the demo;
    /// everything is checked before anything is written.
    pub async fn set_up_center(&self, s: SetUp) -> Result<Session> {
        if s.center_name.trim().is_empty() {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "请填写中心名称（每条消息的署名）",
            ));
        }
        ggzy_core::password::strong_enough(&s.password, s.username.trim())
            .map_err(|m| AppError::new(ErrorCode::WeakPassword, m))?;
        let admin = NewUser {
            username: s.username.trim().into(),
            name: s.name.trim().into(),
            role: StaffRole::Admin,
            phone: None,
            email: None,
            password: Some(s.password.clone()),
        };
        let settings = [
            ("center_name", s.center_name.trim()),
            ("center_phone", s.center_phone.trim()),
        ];
        self.store().set_up_center(&settings, admin).await?;
        self.login(s.username.trim(), &s.password).await
    }
}
