//! What the desktop app can do, with no window: each command checks who is
//! logged in and what their role allows, then calls the store. The Tauri
//! shell only forwards to these; tests call them on a temp database.

pub mod actions;
pub mod admin;
pub mod audit;
pub mod error;
pub mod import;
pub mod projects;
pub mod pushes;
pub mod templates;

pub use error::{AppError, Result};

use ggzy_core::role::StaffRole;
use ggzy_store::overview::{Activity, Overview};
use ggzy_store::Store;
use serde::Serialize;
use std::sync::Mutex;
use ts_rs::TS;

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Session {
    pub username: String,
    pub name: String,
    #[ts(type = "\"center_staff\" | \"supervisor_staff\" | \"supervisor\" | \"admin\"")]
    pub role: StaffRole,
    /// The role as staff call it.
    pub role_name: String,
    /// A one-time password is in use: nothing but changing it is allowed.
    pub must_change_password: bool,
}

/// The workbench at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Workbench {
    #[ts(type = "number")]
    pub projects: i64,
    #[ts(type = "number")]
    pub events: i64,
    #[ts(type = "number")]
    pub pushes_queued: i64,
    #[ts(type = "number")]
    pub pushes_failing: i64,
    #[ts(type = "number")]
    pub rejects_open: i64,
    pub recent: Vec<ActivityItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ActivityItem {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
}

/// Every role that works in the app.
pub const ANY_ROLE: &[StaffRole] = &StaffRole::ALL;

pub struct App {
    store: Store,
    session: Mutex<Option<Session>>,
    /// The user and the newest push a desktop notice has told them of.
    told: Mutex<Option<(String, i64)>>,
    /// An import or a retry is running.
    importing: std::sync::atomic::AtomicBool,
}

impl App {
    pub fn new(store: Store) -> Self {
        App {
            store,
            session: Mutex::new(None),
            told: Mutex::new(None),
            importing: Default::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn session(&self) -> Option<Session> {
        self.session.lock().expect("session lock").clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Session> {
        let user = self.store.authenticate(username.trim(), password).await?;
        let role: StaffRole = user
            .role
            .parse()
            .map_err(|e: String| AppError::new("corrupt", e))?;
        let session = Session {
            username: user.username,
            name: user.name,
            role,
            role_name: role.zh().to_owned(),
            must_change_password: user.must_change_password,
        };
        *self.session.lock().expect("session lock") = Some(session.clone());
        Ok(session)
    }

    pub fn logout(&self) {
        *self.session.lock().expect("session lock") = None;
    }

    /// Change the logged-in user's own password; allowed with a one-time password.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<Session> {
        let mut session = self.session().ok_or_else(AppError::not_logged_in)?;
        self.store
            .change_password(&session.username, current, new)
            .await?;
        session.must_change_password = false;
        *self.session.lock().expect("session lock") = Some(session.clone());
        Ok(session)
    }

    /// The session, if its role may do `what`. Every command but login and
    /// the password change starts here.
    pub fn require(&self, allowed: &[StaffRole], what: &str) -> Result<Session> {
        let session = self.session().ok_or_else(AppError::not_logged_in)?;
        if session.must_change_password {
            return Err(AppError::new(
                "must_change_password",
                "首次登录请先修改初始密码",
            ));
        }
        if !allowed.contains(&session.role) {
            return Err(AppError::forbidden(what));
        }
        Ok(session)
    }

    pub async fn workbench(&self) -> Result<Workbench> {
        self.require(ANY_ROLE, "查看工作台")?;
        let Overview {
            projects,
            events,
            pushes_queued,
            pushes_failing,
            rejects_open,
        } = self.store.overview().await?;
        let recent = self
            .store
            .recent_activity(10)
            .await?
            .into_iter()
            .map(|a: Activity| ActivityItem {
                seq: a.seq,
                at: a.at,
                kind: a.kind,
                subject: a.subject,
            })
            .collect();
        Ok(Workbench {
            projects,
            events,
            pushes_queued,
            pushes_failing,
            rejects_open,
            recent,
        })
    }
}
