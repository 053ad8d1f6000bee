//! 设置 → 联系规则 (admins): how parties are reached (3.4) — the channel for
//! a party with both a phone and an email, the clauses no preference can
//! silence, and the work groups (DingTalk / WeCom robots) that receive a copy
//! of what staff are told. Saved with the data, audited; they decide the
//! pushes of events accepted from then on.

use crate::rights::ADMIN;
use crate::{App, AppError, Result};
use ggzy_core::catalog::CATALOG;
use ggzy_core::error::ErrorCode;
use ggzy_core::push::Channel;
use ggzy_core::reach::{ContactRules, Reach, WorkGroup};
use ggzy_core::role::Role;
use ggzy_dispatch::deployment::{self, SetupError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The rules as the form edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactSettings {
    /// `sms`, `email` or `both`.
    pub both: String,
    /// Clause ids, e.g. `4.6`.
    pub mandatory: Vec<String>,
    /// Staff roles (`center_staff`, `supervisor_staff`) whose pushes each
    /// group also receives; empty: no group.
    pub dingtalk_roles: Vec<String>,
    pub wecom_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ClauseOption {
    pub clause: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ContactForm {
    pub settings: ContactSettings,
    /// Every clause of the standard, in order.
    pub clauses: Vec<ClauseOption>,
    /// Whether 推送通道 has the robot a group needs.
    pub dingtalk_configured: bool,
    pub wecom_configured: bool,
}

impl From<&ContactRules> for ContactSettings {
    fn from(r: &ContactRules) -> Self {
        let roles = |c: Channel| {
            r.groups
                .iter()
                .filter(|g| g.channel == c)
                .flat_map(|g| g.roles.iter().map(|r| r.as_str().to_owned()))
                .collect()
        };
        ContactSettings {
            both: r.both.as_str().to_owned(),
            mandatory: r.mandatory.clone(),
            dingtalk_roles: roles(Channel::Dingtalk),
            wecom_roles: roles(Channel::Wecom),
        }
    }
}

fn invalid(message: String) -> AppError {
    AppError::new(ErrorCode::InvalidContactRules, message)
}

impl TryFrom<ContactSettings> for ContactRules {
    type Error = AppError;

    fn try_from(s: ContactSettings) -> Result<Self> {
        let both = Reach::parse(&s.both)
            .ok_or_else(|| invalid(format!("“两者皆有时”不能是 `{}`", s.both)))?;
        let mut groups = Vec::new();
        for (channel, roles) in [
            (Channel::Dingtalk, s.dingtalk_roles),
            (Channel::Wecom, s.wecom_roles),
        ] {
            if roles.is_empty() {
                continue;
            }
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| invalid(format!("没有角色 `{r}`"))))
                .collect::<Result<Vec<_>>>()?;
            groups.push(WorkGroup { channel, roles });
        }
        let rules = ContactRules {
            both,
            mandatory: s.mandatory,
            groups,
        };
        rules.check().map_err(invalid)?;
        Ok(rules)
    }
}

impl App {
    pub async fn contact_rules(&self) -> Result<ContactForm> {
        self.require(ADMIN, "查看联系规则").await?;
        let rules = self.store().contact_rules().await?;
        let channels = deployment::saved(self.store())
            .await
            .map_err(|e| AppError::new(ErrorCode::Corrupt, e.to_string()))?;
        let mut clauses: Vec<ClauseOption> = Vec::new();
        for rule in CATALOG {
            if !clauses.iter().any(|c| c.clause == rule.clause) {
                clauses.push(ClauseOption {
                    clause: rule.clause.to_owned(),
                    title: rule.title.to_owned(),
                });
            }
        }
        Ok(ContactForm {
            settings: ContactSettings::from(&rules),
            clauses,
            dingtalk_configured: channels.dingtalk.is_some(),
            wecom_configured: channels.wecom.is_some(),
        })
    }

    /// Check and save; a work group needs its robot in 推送通道 first.
    pub async fn save_contact_rules(&self, settings: ContactSettings) -> Result<ContactForm> {
        let me = self.require(ADMIN, "修改联系规则").await?;
        let rules = ContactRules::try_from(settings)?;
        deployment::save_contact_rules(self.store(), &rules, &me.username)
            .await
            .map_err(|e| match e {
                SetupError::Store(e) => e.into(),
                SetupError::NoRobot(_) => {
                    AppError::new(ErrorCode::ChannelNotConfigured, e.to_string())
                }
                other => AppError::new(ErrorCode::InvalidConfig, other.to_string()),
            })?;
        self.contact_rules().await
    }
}
