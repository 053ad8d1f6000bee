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

/// Where secrets are kept and read: the OS keyring on a desktop.
pub trait Vault: Secrets {
    /// Keep `value` as secret `name` (replacing any before it).
    fn set(&self, name: &str, value: &str) -> Result<(), String>;
}

/// The OS keyring (Secret Service on Linux, Credential Manager on Windows,
/// Keychain on macOS), service `ggzy-push`, one entry per secret; the
/// environment is read where the keyring has none.
pub struct Keyring;

const SERVICE: &str = "ggzy-push";

impl Secrets for Keyring {
    fn get(&self, name: &str) -> Option<String> {
        keyring::Entry::new(SERVICE, name)
            .and_then(|e| e.get_password())
            .ok()
            .or_else(|| Env.get(name))
    }
}

impl Vault for Keyring {
    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        keyring::Entry::new(SERVICE, name)
            .and_then(|e| e.set_password(value))
            .map_err(|e| {
                format!("系统钥匙串无法保存密钥 `{name}`：{e}（请确认桌面已登录并解锁钥匙串）")
            })
    }
}

/// Secrets held in memory only, for tests of the admin screens: the OS
/// keyring needs a logged-in desktop session, which `cargo test` has not.
#[derive(Default)]
pub struct Memory(pub std::sync::Mutex<HashMap<String, String>>);

impl Secrets for Memory {
    fn get(&self, name: &str) -> Option<String> {
        self.0.lock().expect("secrets lock").get(name).cloned()
    }
}

impl Vault for Memory {
    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        self.0
            .lock()
            .expect("secrets lock")
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}
