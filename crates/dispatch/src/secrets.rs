//! Where channel secrets come from: never the configuration, the database
//! or a log. A deployment reads them from the OS keyring (the desktop app)
//! or from its service environment (`GGZY_SECRET_…`, e.g. a systemd
//! credential), in that order.

use std::collections::HashMap;

pub trait Secrets: Send + Sync {
    /// The secret called `name` (`sms.<provider>`, `smtp`, `dingtalk`, `wecom`).
    fn get(&self, name: &str) -> Option<String>;
}

/// The environment variable holding secret `name`: `sms.primary` →
/// `GGZY_SECRET_SMS_PRIMARY` (anything but ASCII letters and digits becomes `_`).
pub fn env_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("GGZY_SECRET_{safe}")
}

/// Secrets from the process environment.
pub struct Env;

impl Secrets for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(env_name(name)).ok().filter(|v| !v.is_empty())
    }
}

/// Secrets held in memory: what a caller has just read from the keyring or
/// been handed (tests hand theirs here).
#[derive(Default)]
pub struct Held(pub HashMap<String, String>);

impl Secrets for Held {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// The first source that has it.
pub struct First(pub Vec<Box<dyn Secrets>>);

impl Secrets for First {
    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find_map(|s| s.get(name))
    }
}
