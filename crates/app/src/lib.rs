//! What the desktop app can do, with no window: each command checks who is
//! logged in and what their role allows, then calls the store. The Tauri
//! shell only forwards to these; tests call them on a temp database.

pub mod actions;
pub mod admin;
pub mod audit;
pub mod channels;
pub mod complaints;
pub mod conflicts;
pub mod contacts;
pub mod deadlines;
pub mod draws;
pub mod error;
pub mod experts;
pub mod import;
pub mod improvements;
pub mod labels;
pub mod materials;
pub mod open;
pub mod pdf;
pub mod projects;
pub mod pushes;
pub mod report;
pub mod rights;
pub mod setup;
pub mod statistics;
pub mod surveys;
pub mod sync;
pub mod templates;
mod xlsx;

pub use error::{AppError, Result};
pub use ggzy_core::error::ErrorCode;

use ggzy_core::role::StaffRole;
use ggzy_store::overview::{Activity, Overview, TaskKind};
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
    pub role: StaffRole,
    /// The role as staff call it.
    pub role_name: String,
    /// A one-time password is in use: nothing but changing it is allowed.
    pub must_change_password: bool,
    /// What the role may open and do (the commands check the same table).
    #[serde(flatten)]
    #[ts(flatten)]
    pub rights: rights::Rights,
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
    /// What waits for this person, by kind (their role decides which kinds).
    pub tasks: Vec<TaskGroup>,
    pub recent: Vec<ActivityItem>,
}

/// One kind of pending task: how many, and the projects longest waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TaskGroup {
    /// `filing_review`, `materials`, `failed_pushes`, `rejects`,
    /// `deadlines_overdue`, `deadlines_soon`, `complaints_overdue` or
    /// `complaints_open`.
    pub kind: String,
    pub title: String,
    #[ts(type = "number")]
    pub total: i64,
    /// The projects waiting (empty for pushes and rejects, which have their pages).
    pub projects: Vec<TaskProjectItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TaskProjectItem {
    pub code: String,
    pub name: String,
    #[ts(as = "Option<ggzy_core::event::Stage>")]
    pub stage: Option<String>,
    pub updated_at: String,
    /// A statutory step's clock, as staff read it (the deadline groups).
    #[ts(optional)]
    pub due: Option<String>,
}

/// What a project can be waiting on: the workbench's kinds of project task
/// and the project list's 待办 filter, as (kind, code, how staff call it).
pub const WAITING: [(TaskKind, &str, &str); 2] = [
    (TaskKind::FilingReview, "filing_review", "备案待审核"),
    (
        TaskKind::Materials,
        "materials",
        "发布资料待查验、公告待发布",
    ),
];

/// Projects listed per kind of task on the workbench.
const TASKS_LISTED: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ActivityItem {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
}

pub use rights::ANY_ROLE;

/// The session held, and when its person last did something.
struct Held {
    session: Session,
    seen: std::time::Instant,
    /// Ended for being idle: every command says so (not merely "log in"),
    /// whichever asks first, until the person logs in or out.
    expired: bool,
}

pub struct App {
    store: Store,
    session: Mutex<Option<Held>>,
    /// The user and the newest push a desktop notice has told them of.
    told: Mutex<Option<(String, i64)>>,
    /// An import or a retry is running.
    importing: std::sync::atomic::AtomicBool,
    /// The file last chosen in the import dialog: (handle, who chose it, path).
    chosen: Mutex<Option<(String, String, std::path::PathBuf)>>,
    /// Told whenever pushes were queued, so a dispatcher sends them at once.
    queued: std::sync::Arc<tokio::sync::Notify>,
    /// Told when an admin saved the channels: the dispatcher starts afresh.
    reconfigured: std::sync::Arc<tokio::sync::Notify>,
    /// Where channel secrets are kept: the OS keyring.
    vault: std::sync::Arc<dyn ggzy_dispatch::secrets::Vault>,
    /// What the last sync round came to, and the background round's wake-up.
    sync_last: Mutex<sync::Last>,
    sync_wake: tokio::sync::Notify,
}

impl App {
    pub fn new(store: Store) -> Self {
        // The password check's working memory, made ready before anyone can
        // have typed a password rather than during the first login; after
        // the window's own start, not competing with it for the cores.
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_secs(1));
            ggzy_core::password::prepare();
        });
        App::with_vault(store, std::sync::Arc::new(ggzy_dispatch::secrets::Keyring))
    }

    /// An app keeping channel secrets in `vault` (tests: memory; the OS
    /// keyring needs a logged-in desktop session).
    pub fn with_vault(
        store: Store,
        vault: std::sync::Arc<dyn ggzy_dispatch::secrets::Vault>,
    ) -> Self {
        App {
            store,
            session: Mutex::new(None),
            told: Mutex::new(None),
            importing: Default::default(),
            chosen: Mutex::new(None),
            queued: Default::default(),
            reconfigured: Default::default(),
            vault,
            sync_last: Mutex::default(),
            sync_wake: tokio::sync::Notify::new(),
        }
    }

    /// What the app notifies after an admin saved the channels.
    pub fn reconfigured(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.reconfigured.clone()
    }

    /// What the app notifies after queueing pushes (the dispatcher's wake-up).
    pub fn queued(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.queued.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A command's outcome as the person sees it: a failure of the database
    /// itself names the file (`AppError::naming_database`).
    pub fn named<T>(&self, outcome: Result<T>) -> Result<T> {
        outcome.map_err(|e| e.naming_database(self.store.path()))
    }

    /// Who is logged in, as last checked; `None` once the session has been
    /// idle longer than allowed (it is ended at the next command).
    pub async fn session(&self) -> Option<Session> {
        self.current(false).await.ok()
    }

    fn hold(&self, session: Session) {
        *self.session.lock().expect("session lock") = Some(Held {
            session,
            seen: std::time::Instant::now(),
            expired: false,
        });
    }

    /// The logged-in person as the directory has them now: a person disabled
    /// since is logged out, a role changed since applies at once, and a
    /// session idle longer than the center allows (设置, default 15 minutes)
    /// ends. `active`: the person did something (a poll does not count).
    async fn current(&self, active: bool) -> Result<Session> {
        let (username, seen, expired) = {
            let held = self.session.lock().expect("session lock");
            let held = held.as_ref().ok_or_else(AppError::not_logged_in)?;
            (held.session.username.clone(), held.seen, held.expired)
        };
        let now = self.store.session_user(&username).await?;
        let Some((user, idle_minutes)) = now.filter(|(u, _)| u.active) else {
            self.logout();
            return Err(AppError::new(
                ErrorCode::NotLoggedIn,
                "该账户已停用或已被删除，已退出登录：请联系系统管理员",
            ));
        };
        if expired || seen.elapsed() > std::time::Duration::from_secs(60 * idle_minutes) {
            if let Some(h) = self.session.lock().expect("session lock").as_mut() {
                h.expired = true;
            }
            return Err(AppError::new(
                ErrorCode::SessionExpired,
                format!("已超过 {idle_minutes} 分钟未操作，为安全已退出登录：请重新登录，登录后回到原来的页面"),
            ));
        }
        let session = session_of(user);
        let mut held = self.session.lock().expect("session lock");
        match held.as_mut() {
            // Still the same person (no logout or other login meanwhile).
            Some(h) if h.session.username == username => {
                h.session = session.clone();
                if active {
                    h.seen = std::time::Instant::now();
                }
                Ok(session)
            }
            _ => Err(AppError::not_logged_in()),
        }
    }

    /// For tests: the session as if its person had been away `by`.
    #[doc(hidden)]
    pub fn age_session(&self, by: std::time::Duration) {
        if let Some(h) = self.session.lock().expect("session lock").as_mut() {
            h.seen -= by;
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Session> {
        let user = self.store.authenticate(username.trim(), password).await?;
        let session = session_of(user);
        self.hold(session.clone());
        Ok(session)
    }

    pub fn logout(&self) {
        *self.session.lock().expect("session lock") = None;
    }

    /// Change the logged-in user's own password; allowed with a one-time password.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<Session> {
        let mut session = self.current(true).await?;
        self.store
            .change_password(&session.username, current, new)
            .await?;
        session.must_change_password = false;
        self.hold(session.clone());
        Ok(session)
    }

    /// The session, if its role may do `what`. Every command but login and
    /// the password change starts here.
    pub async fn require(&self, allowed: &[StaffRole], what: &str) -> Result<Session> {
        let session = self.current(true).await?;
        permitted(session, allowed, what)
    }

    /// As [`App::require`], for what the window asks by itself (the unread
    /// count, notices): it does not keep an idle session alive.
    pub async fn require_quietly(&self, allowed: &[StaffRole], what: &str) -> Result<Session> {
        let session = self.current(false).await?;
        permitted(session, allowed, what)
    }
}

/// The session of a user the store has just read.
fn session_of(user: ggzy_store::users::User) -> Session {
    let role = user.role;
    Session {
        username: user.username,
        name: user.name,
        role,
        role_name: role.zh().to_owned(),
        must_change_password: user.must_change_password,
        rights: rights::Rights::of(role),
    }
}

/// `session`, if its role may do `what` and no one-time password waits.
fn permitted(session: Session, allowed: &[StaffRole], what: &str) -> Result<Session> {
    {
        if session.must_change_password {
            return Err(AppError::new(
                ErrorCode::MustChangePassword,
                "首次登录请先修改初始密码",
            ));
        }
        if !allowed.contains(&session.role) {
            return Err(AppError::forbidden(what));
        }
        Ok(session)
    }
}

impl App {
    pub async fn workbench(&self) -> Result<Workbench> {
        let me = self.require(ANY_ROLE, "查看工作台").await?;
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
        let mut tasks = Vec::new();
        let project_kinds: &[(TaskKind, &str, &str)] = match me.role {
            StaffRole::SupervisorStaff => &WAITING[..1],
            StaffRole::CenterStaff | StaffRole::Admin => &WAITING[1..],
            StaffRole::Supervisor => &[],
        };
        for &(kind, key, title) in project_kinds {
            let (items, total) = self.store.waiting_projects(kind, TASKS_LISTED).await?;
            tasks.push(TaskGroup {
                kind: key.into(),
                title: title.into(),
                total,
                projects: items
                    .into_iter()
                    .map(|p| TaskProjectItem {
                        code: p.code,
                        name: p.name,
                        stage: p.stage,
                        updated_at: p.updated_at,
                        due: None,
                    })
                    .collect(),
            });
        }
        for (kind, title, total, roles) in [
            (
                "failed_pushes",
                "发送失败的推送",
                pushes_failing,
                rights::RESENDERS,
            ),
            (
                "rejects",
                "待处理的拒收数据",
                rejects_open,
                rights::IMPORTERS,
            ),
        ] {
            if roles.contains(&me.role) {
                tasks.push(TaskGroup {
                    kind: kind.into(),
                    title: title.into(),
                    total,
                    projects: Vec::new(),
                });
            }
        }
        if matches!(me.role, StaffRole::CenterStaff | StaffRole::Admin) {
            tasks.extend(self.deadline_tasks().await?);
        }
        if rights::Right::SeeComplaints.roles().contains(&me.role) {
            let (open, late) = self.complaints_open().await?;
            for (kind, title, total) in [
                ("complaints_overdue", "逾期的投诉", late),
                ("complaints_open", "待办结的投诉", open),
            ] {
                tasks.push(TaskGroup {
                    kind: kind.into(),
                    title: title.into(),
                    total,
                    projects: Vec::new(),
                });
            }
        }
        Ok(Workbench {
            projects,
            events,
            pushes_queued,
            pushes_failing,
            rejects_open,
            tasks,
            recent,
        })
    }
}
