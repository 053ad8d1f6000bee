//! Who may do what in the app: the one table the commands check and the
//! session hands the UI (its menus, the actions on a project, the other
//! rights), so the window holds no permission table of its own.

use crate::actions::ActionKind;
use ggzy_core::role::StaffRole;
use serde::Serialize;
use ts_rs::TS;

/// Every role that works in the app.
pub const ANY_ROLE: &[StaffRole] = &StaffRole::ALL;
/// Settings, users, channels, contacts and the anchor's recipients.
pub const ADMIN: &[StaffRole] = &[StaffRole::Admin];
/// Importing files and mending what an import refused.
pub const IMPORTERS: &[StaffRole] = &[StaffRole::CenterStaff, StaffRole::Admin];
/// Putting a failed push back in line.
pub const RESENDERS: &[StaffRole] = &[StaffRole::CenterStaff, StaffRole::Admin];
/// Who keeps the expert pool: center staff, who draw from it, and admins.
pub const POOL_KEEPERS: &[StaffRole] = &[StaffRole::CenterStaff, StaffRole::Admin];
/// Who may look the pool up: its keepers, and the supervisor.
pub const POOL_READERS: &[StaffRole] = &[
    StaffRole::CenterStaff,
    StaffRole::Admin,
    StaffRole::Supervisor,
];
/// Who records and reads the satisfaction surveys (5.2b).
pub use ggzy_core::event::SURVEYORS;
/// Who keeps the improvement register (6): the center's staff, whose work
/// it corrects, and the supervisor, whose findings open its items.
pub const IMPROVERS: &[StaffRole] = &[StaffRole::CenterStaff, StaffRole::Supervisor];
/// Who reads the statistics: everyone but the supervisory department, whose
/// figures are its own filings.
pub const ANALYSTS: &[StaffRole] = &[
    StaffRole::CenterStaff,
    StaffRole::Supervisor,
    StaffRole::Admin,
];
/// Who evaluates the service (5.2a, 5.2c): the administrator and the supervisor.
pub const EVALUATORS: &[StaffRole] = &[StaffRole::Admin, StaffRole::Supervisor];
/// Who handles complaints (5.1): the supervisor (监督/投诉处理).
pub const COMPLAINT_HANDLERS: &[StaffRole] = &[StaffRole::Supervisor];
/// Staff whom pushes go to, and so have an inbox: the standard's two roles,
/// and the supervisors told of complaints.
pub const INBOX_HOLDERS: &[StaffRole] = &[
    StaffRole::CenterStaff,
    StaffRole::SupervisorStaff,
    StaffRole::Supervisor,
];

/// A page of the side menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MenuItem {
    pub path: &'static str,
    pub title: &'static str,
}

/// The side menu in order, each page with the roles that work in it.
const PAGES: [(MenuItem, &[StaffRole]); 13] = [
    (page("/workbench", "工作台"), ANY_ROLE),
    (page("/projects", "项目"), ANY_ROLE),
    (page("/complaints", "投诉"), COMPLAINT_HANDLERS),
    (page("/surveys", "满意度"), SURVEYORS),
    (page("/improvements", "持续改进"), IMPROVERS),
    (page("/statistics", "统计"), ANALYSTS),
    (page("/experts", "专家库"), POOL_READERS),
    (page("/pushes", "推送记录"), ANY_ROLE),
    (page("/inbox", "消息"), INBOX_HOLDERS),
    (page("/import", "导入"), IMPORTERS),
    (page("/conflicts", "同步冲突"), ANY_ROLE),
    (page("/audit", "审计"), ANY_ROLE),
    (page("/settings", "设置"), ADMIN),
];

const fn page(path: &'static str, title: &'static str) -> MenuItem {
    MenuItem { path, title }
}

/// A right that is neither a page nor an action on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Right {
    /// 重新发送: put a failed push back in line.
    Resend,
    /// See who the drawn experts are (names, contacts, what they were sent):
    /// every look is audited. Everyone else sees them concealed (4.6).
    SeeExperts,
    /// Look up the expert pool (ID numbers masked).
    SeePool,
    /// Import a roster and edit experts.
    KeepPool,
    /// Draw experts for a project (4.6): whoever records `experts.drawn`.
    DrawExperts,
    /// See the complaints and their clocks (5.1).
    SeeComplaints,
    /// Export a period's evidence pack for a third-party assessor (5.2c) and
    /// the self-evaluation report (5.2a): the center's management.
    Evaluate,
}

impl Right {
    const ALL: [Right; 7] = [
        Right::Resend,
        Right::SeeExperts,
        Right::SeePool,
        Right::KeepPool,
        Right::DrawExperts,
        Right::SeeComplaints,
        Right::Evaluate,
    ];

    pub fn roles(self) -> &'static [StaffRole] {
        match self {
            Right::Resend => RESENDERS,
            Right::SeeExperts => &[StaffRole::Supervisor],
            Right::SeePool => POOL_READERS,
            Right::KeepPool => POOL_KEEPERS,
            Right::DrawExperts => ggzy_core::event::recorded_by("experts.drawn"),
            Right::SeeComplaints => COMPLAINT_HANDLERS,
            Right::Evaluate => EVALUATORS,
        }
    }
}

/// An action on a project that a role may take, as its button says it,
/// with the stages its form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ActionOffer {
    #[serde(rename = "type")]
    pub kind: ActionKind,
    pub title: &'static str,
    pub stages: Vec<ggzy_core::event::Stage>,
}

/// What `role` may open and do: the session carries it to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Rights {
    pub menus: Vec<MenuItem>,
    pub actions: Vec<ActionOffer>,
    pub rights: Vec<Right>,
}

impl Rights {
    pub fn of(role: StaffRole) -> Rights {
        Rights {
            menus: PAGES
                .iter()
                .filter(|(_, roles)| roles.contains(&role))
                .map(|(m, _)| *m)
                .collect(),
            actions: ActionKind::ALL
                .into_iter()
                .filter(|a| a.roles().contains(&role))
                .map(|kind| ActionOffer {
                    kind,
                    title: kind.title(),
                    stages: kind.stages(),
                })
                .collect(),
            rights: Right::ALL
                .into_iter()
                .filter(|r| r.roles().contains(&role))
                .collect(),
        }
    }
}
