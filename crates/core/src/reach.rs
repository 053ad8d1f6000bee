//! How a push reaches a party (3.4: push according to what the party needs):
//! from the party's contacts and its own preference, the center's rule for a
//! party with both a phone and an email, and the clauses no preference can
//! silence. Also the work groups (DingTalk / WeCom robots) that receive a
//! copy of what staff are told.

use crate::catalog::CATALOG;
use crate::model::Party;
use crate::push::Channel;
use crate::role::Role;
use serde::{Deserialize, Serialize};

pub use crate::model::Reach;

/// Whether a party reached this way is sent `channel`.
fn wants(reach: Reach, channel: Channel) -> bool {
    matches!(
        (reach, channel),
        (Reach::Both, _) | (Reach::Sms, Channel::Sms) | (Reach::Email, Channel::Email)
    )
}

/// A DingTalk or WeCom group robot that receives the pushes of staff roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkGroup {
    pub channel: Channel,
    /// Staff roles whose pushes the group also receives.
    pub roles: Vec<Role>,
}

/// The center's rules (设置 → 联系规则), saved with the data so every device
/// decides alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactRules {
    /// A party with both a phone and an email and no preference of its own.
    pub both: Reach,
    /// Clauses no preference can silence: a party that prefers `none` still
    /// gets them, on the channels `both` names.
    pub mandatory: Vec<String>,
    pub groups: Vec<WorkGroup>,
}

impl Default for ContactRules {
    fn default() -> Self {
        ContactRules {
            both: Reach::Sms,
            mandatory: default_mandatory(),
            groups: Vec::new(),
        }
    }
}

/// One-time passwords and the expert draw must reach whoever they are for.
fn default_mandatory() -> Vec<String> {
    ["4.1.2a", "4.1.2c", "4.6"].map(String::from).to_vec()
}

impl ContactRules {
    /// What is wrong with these rules, in words an administrator can act on.
    pub fn check(&self) -> Result<(), String> {
        if self.both == Reach::None {
            return Err("“两者皆有时”须为短信、邮件或两者：不能不推送".into());
        }
        for clause in &self.mandatory {
            if !CATALOG.iter().any(|r| r.clause == clause) {
                return Err(format!("必达条款 `{clause}` 不在标准的条款中"));
            }
        }
        let mut seen = Vec::new();
        for g in &self.groups {
            if !matches!(g.channel, Channel::Dingtalk | Channel::Wecom) {
                return Err(format!(
                    "工作群的通道须为 dingtalk 或 wecom，不能是 `{}`",
                    g.channel.as_str()
                ));
            }
            if seen.contains(&g.channel) {
                return Err(format!(
                    "`{}` 工作群重复：每个通道一个群机器人",
                    g.channel.as_str()
                ));
            }
            seen.push(g.channel);
            if let Some(r) = g.roles.iter().find(|r| r.staff().is_none()) {
                return Err(format!(
                    "工作群只接收工作人员的推送，`{}` 不是工作人员角色",
                    r.as_str()
                ));
            }
        }
        Ok(())
    }

    pub fn is_mandatory(&self, clause: &str) -> bool {
        self.mandatory.iter().any(|c| c == clause)
    }

    /// The channels (with addresses) a party gets a push of `clause` on: none
    /// when it has declined and the clause is not mandatory. `single` keeps
    /// one channel only: a message carrying a one-time password is issued once.
    pub fn channels(&self, party: &Party, clause: &str, single: bool) -> Vec<(Channel, String)> {
        let contacts: Vec<(Channel, &String)> = [
            (Channel::Sms, party.phone.as_ref()),
            (Channel::Email, party.email.as_ref()),
        ]
        .into_iter()
        .filter_map(|(c, a)| Some((c, a?)))
        .collect();
        let reach = match party.prefer {
            Some(Reach::None) if self.is_mandatory(clause) => self.both,
            Some(p) => p,
            None => self.both,
        };
        let mut out: Vec<(Channel, String)> = contacts
            .iter()
            .filter(|(c, _)| wants(reach, *c))
            .map(|(c, a)| (*c, (*a).clone()))
            .collect();
        if out.is_empty() && reach != Reach::None {
            // The preferred channel has no contact: the one there is.
            out.extend(contacts.first().map(|(c, a)| (*c, (*a).clone())));
        }
        if single {
            out.truncate(1);
        }
        out
    }

    /// The work groups that receive a push addressed to this staff role.
    pub fn groups_for(&self, role: Role) -> impl Iterator<Item = Channel> + '_ {
        self.groups
            .iter()
            .filter(move |g| g.roles.contains(&role))
            .map(|g| g.channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn party(phone: bool, email: bool, prefer: Option<Reach>) -> Party {
        Party {
            id: "p".into(),
            name: "某公司".into(),
            phone: phone.then(|| "13800000000".into()),
            email: email.then(|| "a@example.cn".into()),
            username: None,
            prefer,
        }
    }

    fn chans(rules: &ContactRules, p: &Party, clause: &str) -> Vec<Channel> {
        rules
            .channels(p, clause, false)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn contacts_preferences_and_the_centers_rule() {
        use Channel::{Email, Sms};
        let mut rules = ContactRules::default();
        assert_eq!(chans(&rules, &party(true, true, None), "4.2"), [Sms]);
        assert_eq!(chans(&rules, &party(false, true, None), "4.2"), [Email]);
        rules.both = Reach::Both;
        assert_eq!(chans(&rules, &party(true, true, None), "4.2"), [Sms, Email]);
        rules.both = Reach::Email;
        assert_eq!(chans(&rules, &party(true, true, None), "4.2"), [Email]);
        assert_eq!(
            chans(&rules, &party(true, false, None), "4.2"),
            [Sms],
            "only a phone"
        );
        // The party's own word wins over the center's rule.
        assert_eq!(
            chans(&rules, &party(true, true, Some(Reach::Sms)), "4.2"),
            [Sms]
        );
        assert_eq!(
            chans(&rules, &party(false, true, Some(Reach::Sms)), "4.2"),
            [Email],
            "prefers SMS but has no phone: still reached"
        );
        // Declined: silent, except for a mandatory clause.
        let declined = party(true, true, Some(Reach::None));
        assert!(chans(&rules, &declined, "4.2").is_empty());
        assert_eq!(chans(&rules, &declined, "4.6"), [Email]);
        // A one-time password goes out once.
        rules.both = Reach::Both;
        assert_eq!(
            rules
                .channels(&party(true, true, None), "4.1.2a", true)
                .len(),
            1
        );
    }

    #[test]
    fn bad_rules_are_named() {
        let mut rules = ContactRules {
            mandatory: vec!["9.9".into()],
            ..ContactRules::default()
        };
        assert!(rules.check().unwrap_err().contains("9.9"));
        rules.mandatory.clear();
        rules.groups = vec![WorkGroup {
            channel: Channel::Dingtalk,
            roles: vec![Role::Bidder],
        }];
        assert!(rules.check().unwrap_err().contains("bidder"));
        rules.groups[0].roles = vec![Role::CenterStaff];
        assert_eq!(rules.check(), Ok(()));
        rules.groups.push(rules.groups[0].clone());
        assert!(rules.check().unwrap_err().contains("重复"));
        rules.groups.clear();
        rules.both = Reach::None;
        assert!(rules.check().is_err());
    }

    proptest! {
        /// Whatever the preference, a mandatory clause reaches every party
        /// with a contact, only on channels it has a contact for.
        #[test]
        fn a_mandatory_clause_always_reaches(
            phone: bool, email: bool, prefer in prop::option::of(prop_oneof![
                Just(Reach::Sms), Just(Reach::Email), Just(Reach::Both), Just(Reach::None)]),
            both in prop_oneof![Just(Reach::Sms), Just(Reach::Email), Just(Reach::Both)],
        ) {
            prop_assume!(phone || email);
            let rules = ContactRules { both, ..ContactRules::default() };
            let got = rules.channels(&party(phone, email, prefer), "4.6", false);
            prop_assert!(!got.is_empty());
            for (c, _) in got {
                prop_assert!((c == Channel::Sms && phone) || (c == Channel::Email && email));
            }
        }
    }
}
