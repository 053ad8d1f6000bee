//! Who receives pushes (the roles of clauses.md) and who uses the desktop app.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ts_rs::TS;

/// A recipient role of the standard (推送对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    Member,
    Tenderer,
    Agency,
    Bidder,
    WinningBidder,
    LosingBidder,
    Expert,
    CenterStaff,
    SupervisorStaff,
    /// The center's own supervisors (监督/投诉处理), told of complaints.
    Supervisor,
    Complainant,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Member,
        Role::Tenderer,
        Role::Agency,
        Role::Bidder,
        Role::WinningBidder,
        Role::LosingBidder,
        Role::Expert,
        Role::CenterStaff,
        Role::SupervisorStaff,
        Role::Supervisor,
        Role::Complainant,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Tenderer => "tenderer",
            Role::Agency => "agency",
            Role::Bidder => "bidder",
            Role::WinningBidder => "winning_bidder",
            Role::LosingBidder => "losing_bidder",
            Role::Expert => "expert",
            Role::CenterStaff => "center_staff",
            Role::SupervisorStaff => "supervisor_staff",
            Role::Supervisor => "supervisor",
            Role::Complainant => "complainant",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Role::Member => "服务对象",
            Role::Tenderer => "招标人",
            Role::Agency => "招标代理机构",
            Role::Bidder => "投标人",
            Role::WinningBidder => "中标人",
            Role::LosingBidder => "未中标人",
            Role::Expert => "评标专家",
            Role::CenterStaff => "公共资源交易中心相关人员",
            Role::SupervisorStaff => "行政监督部门相关人员",
            Role::Supervisor => "投诉处理人员",
            Role::Complainant => "投诉人",
        }
    }

    /// Staff roles are resolved from the directory, not from the event.
    pub fn staff(self) -> Option<StaffRole> {
        match self {
            Role::CenterStaff => Some(StaffRole::CenterStaff),
            Role::SupervisorStaff => Some(StaffRole::SupervisorStaff),
            Role::Supervisor => Some(StaffRole::Supervisor),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user role in the staff directory (the desktop app's users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StaffRole {
    CenterStaff,
    SupervisorStaff,
    Supervisor,
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [
        StaffRole::CenterStaff,
        StaffRole::SupervisorStaff,
        StaffRole::Supervisor,
        StaffRole::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::CenterStaff => "center_staff",
            StaffRole::SupervisorStaff => "supervisor_staff",
            StaffRole::Supervisor => "supervisor",
            StaffRole::Admin => "admin",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            StaffRole::CenterStaff => "中心工作人员",
            StaffRole::SupervisorStaff => "行政监督部门工作人员",
            StaffRole::Supervisor => "监督（投诉处理）人员",
            StaffRole::Admin => "系统管理员",
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StaffRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StaffRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("未知角色 `{s}`：可选 center_staff、supervisor_staff、supervisor、admin")
            })
    }
}

crate::model::codes!(Role => "推送对象", StaffRole => "角色");
