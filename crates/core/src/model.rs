//! The plain facts the rest of the core speaks of, at the bottom of it:
//! who a party is and how it asked to be reached. Nothing here imports
//! another module of the core.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A person or firm named in an event. `username` is only for members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// How the party asked to be reached (3.4): `sms`, `email`, `both`, or
    /// `none` (mandatory clauses only). Absent: the center's rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer: Option<Reach>,
}

/// A way to be reached, as a party prefers it or the center configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Reach {
    Sms,
    Email,
    Both,
    /// Only what a mandatory clause carries (a party's preference only).
    None,
}

impl Reach {
    pub const ALL: [Reach; 4] = [Reach::Sms, Reach::Email, Reach::Both, Reach::None];

    pub fn zh(self) -> &'static str {
        match self {
            Reach::Sms => "短信",
            Reach::Email => "电子邮件",
            Reach::Both => "短信和电子邮件",
            Reach::None => "仅接收必达通知",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Sms => "sms",
            Reach::Email => "email",
            Reach::Both => "both",
            Reach::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Reach> {
        Reach::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A code of the contract (a channel, a role, a stage, a status) that is not
/// one of its kind's: what a stored or typed string turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的{what}代码 `{code}`")]
pub struct UnknownCode {
    pub what: &'static str,
    pub code: String,
}

/// `TryFrom<String>` for enums with `ALL` and `as_str`, so a code read back
/// from the database becomes its type at the seam (sqlx's `try_from`),
/// never travelling on as a string.
macro_rules! codes {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = $crate::model::UnknownCode;
            fn try_from(code: String) -> Result<Self, Self::Error> {
                <$t>::ALL
                    .into_iter()
                    .find(|c| c.as_str() == code)
                    .ok_or($crate::model::UnknownCode { what: $what, code })
            }
        }
    )*};
}
pub(crate) use codes;

codes!(Reach => "联系方式");

#[cfg(test)]
mod tests {
    use crate::error::ErrorCode;
    use crate::event::{Outcome, Stage};
    use crate::push::{Channel, PushStatus};
    use crate::role::{Role, StaffRole};

    /// Each code reads back as itself, and is spelled as serde spells it
    /// (the store writes `as_str`; the window and the outbox read serde).
    fn round_trip<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy
            + PartialEq
            + std::fmt::Debug
            + serde::Serialize
            + TryFrom<String, Error = super::UnknownCode>,
    {
        for &c in all {
            assert_eq!(T::try_from(as_str(c).to_owned()), Ok(c));
            assert_eq!(serde_json::to_value(c).unwrap(), as_str(c), "{c:?}");
        }
        let err = T::try_from("nonsense".to_owned()).unwrap_err();
        assert!(err.to_string().contains("`nonsense`"), "{err}");
    }

    #[test]
    fn every_code_reads_back_as_itself_and_as_serde_spells_it() {
        round_trip(&Channel::ALL, Channel::as_str);
        round_trip(&PushStatus::ALL, PushStatus::as_str);
        round_trip(&crate::push::Hold::ALL, crate::push::Hold::as_str);
        round_trip(&Role::ALL, Role::as_str);
        round_trip(&StaffRole::ALL, StaffRole::as_str);
        round_trip(&Stage::ALL, Stage::as_str);
        round_trip(&Outcome::ALL, Outcome::as_str);
        round_trip(&ErrorCode::ALL, ErrorCode::as_str);
        round_trip(&super::Reach::ALL, super::Reach::as_str);
    }

    #[test]
    fn every_intake_type_has_a_name_of_its_own() {
        use crate::event::{kind_zh, OWN_TYPES, TYPES};
        for kind in TYPES.iter().chain(&OWN_TYPES) {
            assert_ne!(kind_zh(kind), *kind, "{kind} has no name");
        }
        assert_eq!(kind_zh("some.type"), "some.type");
    }
}
