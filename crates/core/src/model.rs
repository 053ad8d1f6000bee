//! The plain facts the rest of the core speaks of, at the bottom of it:
//! who a party is and how it asked to be reached. Nothing here imports
//! another module of the core.

use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    Sms,
    Email,
    Both,
    /// Only what a mandatory clause carries (a party's preference only).
    None,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Sms => "sms",
            Reach::Email => "email",
            Reach::Both => "both",
            Reach::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Reach> {
        [Reach::Sms, Reach::Email, Reach::Both, Reach::None]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}
