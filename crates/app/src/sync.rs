//! 设置 → 同步, and the desktop's background sync. The server's address is
//! a setting (audited like any); this desktop's token is a secret, kept in
//! the OS keyring, never in the database or a log. While a server is set,
//! the desktop sends what it has not sent yet and takes in what the other
//! devices did, every half minute and at once when asked (立即同步); it
//! works the same with the server out of reach, and the top bar says where
//! it stands.

use crate::rights::{ADMIN, ANY_ROLE};
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
use ggzy_sync::{Client, SyncError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where this desktop's token is kept in the keyring.
pub const TOKEN: &str = "sync.token";
/// How often the background upload runs while a server is set.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SyncSettings {
    /// Empty: this desktop does not sync.
    pub server: String,
    /// A token is kept in the keyring (it is never shown again).
    pub token_set: bool,
}

/// What an admin typed: the address, and a token when one is given anew.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SyncForm {
    pub server: String,
    #[ts(optional)]
    pub token: Option<String>,
}

/// Where sync stands, for the top bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    /// A server is set.
    pub configured: bool,
    /// The last attempt reached the server (`None`: none made yet).
    pub online: Option<bool>,
    /// This desktop's records the server does not hold yet.
    #[ts(type = "number")]
    pub waiting_up: i64,
    /// Records the server held, when last asked, that are not here yet.
    #[ts(type = "number")]
    pub waiting_down: i64,
    /// Actions the server's order found stale, waiting for staff.
    #[ts(type = "number")]
    pub conflicts: i64,
    /// When the last attempt succeeded (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Why the last attempt failed, as a person reads it.
    pub last_error: Option<String>,
    /// Tamper alarms the server holds (admins only; `None` for others).
    #[ts(type = "number | null")]
    pub alarms: Option<i64>,
}

/// A tamper alarm the server raised, as 设置 → 同步 lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ServerAlarm {
    pub device: String,
    pub detail: String,
    pub at: String,
}

/// What the last background or manual round came to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Last {
    online: Option<bool>,
    at: Option<String>,
    error: Option<String>,
    alarms: i64,
    /// The last place the server had given.
    server_last: i64,
}

impl App {
    pub async fn sync_settings(&self) -> Result<SyncSettings> {
        self.require(ADMIN, "查看同步设置").await?;
        Ok(SyncSettings {
            server: crate::admin::setting(self.store(), "sync_server").await?,
            token_set: self.vault_get(TOKEN).await.is_some(),
        })
    }

    /// Save the address (audited) and, if given, the token (keyring). A
    /// server without a token kept or given is refused; nothing is saved.
    pub async fn save_sync_settings(&self, form: SyncForm) -> Result<SyncSettings> {
        let me = self.require(ADMIN, "修改同步设置").await?;
        if self.store().is_demo().await? {
            return Err(AppError::new(
                ErrorCode::DemoCenter,
                "这是演示中心的数据库：演示数据不与同步服务器同步。请在本中心自己的数据库中设置同步",
            ));
        }
        let server = form.server.trim().to_owned();
        let token = form
            .token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if !server.is_empty() && token.is_none() && self.vault_get(TOKEN).await.is_none() {
            return Err(AppError::new(
                ErrorCode::MissingSecret,
                "请填写本机的同步令牌（由服务器管理员以 ggzy-server device add 发放）",
            ));
        }
        // The address is checked before anything is kept; then the token, so
        // a keyring that refuses it leaves the setting as it was.
        ggzy_store::settings::check("sync_server", &server)?;
        if let Some(token) = token {
            let vault = self.vault();
            tokio::task::spawn_blocking(move || vault.set(TOKEN, &token))
                .await
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?
                .map_err(|e| AppError::new(ErrorCode::Keyring, e))?;
        }
        self.store()
            .set_settings(&[("sync_server", &server)], &me.username)
            .await?;
        *self.sync_last.lock().expect("sync lock") = Last::default();
        self.sync_wake.notify_one();
        // Connected or not decides who sends this desktop's pushes.
        self.reconfigured.notify_one();
        self.sync_settings().await
    }

    /// Whether the server answers to this address and token (the form's,
    /// else the kept token): what it holds of this desktop, or why not.
    pub async fn test_sync(&self, form: SyncForm) -> Result<String> {
        self.require(ADMIN, "测试同步连接").await?;
        let token = match form
            .token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
        {
            Some(t) => t,
            None => self
                .vault_get(TOKEN)
                .await
                .ok_or_else(|| AppError::new(ErrorCode::MissingSecret, "请先填写本机的同步令牌"))?,
        };
        let checks = Client::new(form.server.trim(), &token)
            .check_heads(self.store())
            .await
            .map_err(sync_error)?;
        Ok(match checks.iter().find(|c| c.own) {
            Some(c) => c.to_string(),
            None => "连接正常：服务器尚未保存本机的记录".to_owned(),
        })
    }

    /// Where sync stands (asked by the window now and then: not activity).
    pub async fn sync_status(&self) -> Result<SyncStatus> {
        let me = self.require_quietly(ANY_ROLE, "查看同步状态").await?;
        self.status(ADMIN.contains(&me.role)).await
    }

    /// Send now what waits (立即同步), and say where it stands.
    pub async fn sync_now(&self) -> Result<SyncStatus> {
        let me = self.require(ANY_ROLE, "立即同步").await?;
        if let Some(e) = self.sync_round().await? {
            return Err(sync_error(e));
        }
        self.status(ADMIN.contains(&me.role)).await
    }

    /// The tamper alarms the server raised, newest first.
    pub async fn server_alarms(&self) -> Result<Vec<ServerAlarm>> {
        self.require(ADMIN, "查看服务器告警").await?;
        let server = crate::admin::setting(self.store(), "sync_server").await?;
        if server.is_empty() {
            return Ok(Vec::new());
        }
        let Some(token) = self.vault_get(TOKEN).await else {
            return Ok(Vec::new());
        };
        let alarms = Client::new(&server, &token)
            .alarms()
            .await
            .map_err(sync_error)?;
        Ok(alarms
            .into_iter()
            .map(|a| ServerAlarm {
                device: a.device,
                detail: a.detail,
                at: a.at,
            })
            .collect())
    }

    /// Sync in the background while the app runs: every [`EVERY`], and at
    /// once after the settings change.
    pub async fn sync_forever(&self) {
        loop {
            if let Err(e) = self.sync_round().await {
                tracing::warn!(error = %e, "sync round");
            }
            let _ = tokio::time::timeout(EVERY, self.sync_wake.notified()).await;
        }
    }

    /// One round, if a server is set: `Some(failure)` when it failed (kept
    /// for the top bar), `None` when it went through or there is no server.
    async fn sync_round(&self) -> Result<Option<SyncError>> {
        let server = crate::admin::setting(self.store(), "sync_server").await?;
        // The keyring only once a server is set: a locked keyring may ask
        // the person to unlock it, which a desktop that does not sync never should.
        if server.is_empty() {
            return Ok(None);
        }
        let Some(token) = self.vault_get(TOKEN).await else {
            return Ok(None);
        };
        let outcome = Client::new(&server, &token).round(self.store()).await;
        let mut last = self.sync_last.lock().expect("sync lock");
        Ok(match outcome {
            Ok(round) => {
                *last = Last {
                    online: Some(true),
                    at: Some(chrono::Local::now().to_rfc3339()),
                    error: None,
                    alarms: round.sent.alarms,
                    server_last: round.received.server_last,
                };
                None
            }
            Err(e) => {
                last.online = Some(!matches!(e, SyncError::Unreachable { .. }));
                last.error = Some(e.to_string());
                Some(e)
            }
        })
    }

    async fn status(&self, admin: bool) -> Result<SyncStatus> {
        let configured = !crate::admin::setting(self.store(), "sync_server")
            .await?
            .is_empty();
        let waiting_up = self.store().uploaded().await?.waiting;
        let downloaded = self.store().downloaded().await?;
        let conflicts = self.store().conflicts_open().await?;
        let last = self.sync_last.lock().expect("sync lock").clone();
        Ok(SyncStatus {
            configured,
            online: last.online,
            waiting_up,
            waiting_down: (last.server_last - downloaded).max(0),
            conflicts,
            last_sync_at: last.at,
            last_error: last.error,
            alarms: admin.then_some(last.alarms),
        })
    }

    /// A secret from the vault, read off the async threads (the keyring
    /// may block on D-Bus).
    async fn vault_get(&self, name: &'static str) -> Option<String> {
        let vault = self.vault();
        tokio::task::spawn_blocking(move || vault.get(name))
            .await
            .ok()
            .flatten()
    }
}

impl App {
    /// With a sync server set, a draw goes on only once the server holds
    /// its commitment (sent with everything else that waits): so no two
    /// draws for a project can be made apart, offline, and both stand.
    /// Without a server, nothing to do.
    pub(crate) async fn commitment_to_server(&self) -> Result<()> {
        let server = crate::admin::setting(self.store(), "sync_server").await?;
        if server.is_empty() {
            return Ok(());
        }
        let token = self.vault_get(TOKEN).await.ok_or_else(|| {
            AppError::new(
                ErrorCode::MissingSecret,
                "本机已设置同步服务器，抽取须先由服务器记录承诺值，但钥匙串中没有同步令牌：请管理员在 设置 → 同步 重新保存令牌；本次抽取未进行",
            )
        })?;
        if let Err(e) = Client::new(&server, &token).upload(self.store()).await {
            let e = sync_error(e);
            return Err(AppError::new(
                e.code,
                format!(
                    "抽取须先由同步服务器记录承诺值，现在未能送达（{}）：本次抽取未进行，承诺值留在审计记录中；网络恢复后请重新抽取",
                    e.message
                ),
            ));
        }
        Ok(())
    }
}

fn sync_error(e: SyncError) -> AppError {
    match e {
        SyncError::Store(e) => e.into(),
        SyncError::Unreachable { .. } => AppError::new(ErrorCode::ServerUnreachable, e.to_string()),
        SyncError::Refused { .. } => AppError::new(ErrorCode::ServerRefused, e.to_string()),
    }
}
