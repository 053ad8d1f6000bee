//! 设置 → 推送通道 (admins): the deployment's channel configuration and its
//! secrets. The configuration (no secret in it) is checked whole and saved
//! in the database, audited; secrets go to the OS keyring, never to the
//! database, a file or a log. Saving restarts the desktop's dispatcher.

use crate::rights::ADMIN;
use crate::{App, AppError, Result};
use ggzy_core::error::ErrorCode;
pub use ggzy_dispatch::config::DispatchConfig;
use ggzy_dispatch::deployment::{self, SetupError};
use ggzy_dispatch::secrets::Vault;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use ts_rs::TS;

/// A starting point for a center with no channel yet: SMS through a gateway
/// with Alibaba Cloud as the backup, mail over STARTTLS, retries, quiet hours.
pub const EXAMPLE: &str = r#"{
  "sms": [
    { "kind": "gateway", "name": "primary", "url": "https://sms.example.gov.cn/api", "key_id": "ggzy" },
    { "kind": "aliyun", "name": "aliyun", "access_key_id": "LTAI…", "sign_name": "临海市公共资源交易中心", "template_code": "SMS_000000" }
  ],
  "email": { "host": "smtp.example.gov.cn", "port": 587, "security": "starttls", "username": "noreply@example.gov.cn", "from": "noreply@example.gov.cn" },
  "retry": { "max_attempts": 6, "first_retry_secs": 5, "max_retry_secs": 1800, "timeout_ms": 10000 },
  "quiet_hours": { "start": "22:00", "end": "08:00", "urgent": ["4.6"] }
}"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ChannelSettings {
    /// The saved configuration as saved, or `None` while there is none.
    pub config: Option<String>,
    /// The saved configuration read, every default filled in (no channel
    /// while none is saved); `None` when the saved text cannot be read
    /// (it was written by hand), which the JSON editor then shows.
    pub form: Option<DispatchConfig>,
    /// What each section and SMS provider starts as when added in the form.
    pub starting: DispatchConfig,
    /// An example to start from.
    pub example: String,
    /// The secrets the saved configuration needs, and whether each is kept.
    pub secrets: Vec<SecretState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SecretState {
    pub name: String,
    /// What it is, in words.
    pub label: String,
    pub set: bool,
}

/// A secret typed in by an admin: sent once, kept in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SecretValue {
    pub name: String,
    pub value: String,
}

impl App {
    /// The keyring (or, in tests, memory) secrets live in.
    pub fn vault(&self) -> Arc<dyn Vault> {
        self.vault.clone()
    }

    pub async fn channel_settings(&self) -> Result<ChannelSettings> {
        self.require(ADMIN, "查看推送通道").await?;
        let config = self.store().dispatch_config().await?;
        let secrets = match &config {
            Some(json) => self.secrets_of(json).await?,
            None => Vec::new(),
        };
        let form = match &config {
            Some(json) => deployment::parse(json).ok(),
            None => Some(DispatchConfig::default()),
        };
        Ok(ChannelSettings {
            config,
            form,
            starting: DispatchConfig::starting_points(),
            example: EXAMPLE.to_owned(),
            secrets,
        })
    }

    /// A configuration typed as JSON, read with every default filled in
    /// (for the form), or where it is wrong. Nothing is kept.
    pub async fn read_channel_config(&self, config: String) -> Result<DispatchConfig> {
        self.require(ADMIN, "查看推送通道").await?;
        if config.trim().is_empty() {
            return Ok(DispatchConfig::default());
        }
        deployment::parse(&config).map_err(setup_error)
    }

    /// The secrets a configuration (not yet saved) needs, and which are kept;
    /// a configuration that cannot be read says where.
    pub async fn channel_secrets(&self, config: String) -> Result<Vec<SecretState>> {
        self.require(ADMIN, "查看推送通道").await?;
        self.secrets_of(&config).await
    }

    async fn secrets_of(&self, config: &str) -> Result<Vec<SecretState>> {
        let names = deployment::parse(config)
            .map_err(setup_error)?
            .secret_names();
        let vault = self.vault();
        // The keyring may block on D-Bus: off the async threads.
        tokio::task::spawn_blocking(move || {
            names
                .into_iter()
                .map(|(name, label)| SecretState {
                    set: vault.get(&name).is_some(),
                    name,
                    label,
                })
                .collect()
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
    }

    /// Check `config` (fields, times, and that every secret it needs is
    /// kept or given here), keep the given secrets, save the configuration.
    /// A configuration that fails its check saves nothing, secrets included.
    pub async fn save_channel_settings(
        &self,
        config: String,
        secrets: Vec<SecretValue>,
    ) -> Result<ChannelSettings> {
        let me = self.require(ADMIN, "修改推送通道").await?;
        if self.store().is_demo().await? {
            // Refused before any secret reaches the keyring.
            return Err(setup_error(deployment::SetupError::DemoChannels));
        }
        let parsed = deployment::parse(&config).map_err(setup_error)?;
        let needed: Vec<String> = parsed.secret_names().into_iter().map(|(n, _)| n).collect();
        if let Some(s) = secrets.iter().find(|s| !needed.contains(&s.name)) {
            return Err(AppError::new(
                ErrorCode::InvalidConfig,
                format!("配置中没有用到密钥 `{}`：请先在配置中加上对应通道", s.name),
            ));
        }
        let given: Vec<SecretValue> = secrets
            .into_iter()
            .filter(|s| !s.value.is_empty())
            .collect();
        // What the vault keeps, with what was typed in over it.
        let mut held = self.held(needed.clone()).await;
        for s in &given {
            held.0.insert(s.name.clone(), s.value.clone());
        }
        let missing: Vec<String> = needed
            .into_iter()
            .filter(|n| !held.0.contains_key(n))
            .collect();
        if !missing.is_empty() {
            return Err(AppError::new(
                ErrorCode::MissingSecret,
                format!("请填写密钥：{}", missing.join("、")),
            ));
        }
        // Check it whole — times, retries, every channel built with these
        // secrets (addresses, CA file, TLS) — before keeping anything.
        parsed.policy().map_err(|e| setup_error(e.into()))?;
        let center = deployment::center_name(self.store()).await?;
        parsed
            .routes(&center, &held)
            .map_err(|e| setup_error(e.into()))?;
        let vault = self.vault();
        tokio::task::spawn_blocking(move || {
            given.iter().try_for_each(|s| vault.set(&s.name, &s.value))
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| AppError::new(ErrorCode::Keyring, e))?;
        deployment::configure(self.store(), &config, &held, &me.username)
            .await
            .map_err(setup_error)?;
        self.reconfigured.notify_one();
        self.channel_settings().await
    }
}

impl App {
    /// The dispatcher the saved channels describe, its secrets read from the
    /// vault (off the async threads); `None` while no channel is configured.
    pub async fn dispatcher(
        &self,
    ) -> std::result::Result<Option<ggzy_dispatch::Dispatcher>, SetupError> {
        // The demo needs no configuration (its channel is simulated).
        let names: Vec<String> = match self.store().dispatch_config().await? {
            Some(json) => deployment::parse(&json)?
                .secret_names()
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            None if self.store().is_demo().await? => Vec::new(),
            None => return Ok(None),
        };
        let held = self.held(names).await;
        Ok(deployment::dispatcher(self.store(), &held)
            .await?
            .map(|(d, _)| d.with_waker(self.queued())))
    }
}

impl App {
    /// The delivery-receipt endpoint, when the saved channels ask for one
    /// (`receipts.listen`): bound, its secrets from the vault. A desktop
    /// providers can reach (an office gateway on the intranet) then takes
    /// their reports itself, as `ggzy dispatch run` does.
    pub async fn receipts_server(
        &self,
    ) -> std::result::Result<Option<ggzy_dispatch::receipts::Server>, SetupError> {
        let Some(receipts) = deployment::saved(self.store()).await?.receipts else {
            return Ok(None);
        };
        let held = self
            .held(vec!["receipts".into(), "receipts.aliyun".into()])
            .await;
        Ok(Some(
            ggzy_dispatch::receipts::Server::bind(&receipts.listen, self.store().clone(), &held)
                .await?,
        ))
    }
}

impl App {
    /// These secrets, read from the vault off the async threads (the
    /// keyring blocks on D-Bus and may not run inside the async runtime).
    async fn held(&self, names: Vec<String>) -> ggzy_dispatch::secrets::Held {
        let vault = self.vault();
        tokio::task::spawn_blocking(move || {
            ggzy_dispatch::secrets::Held(
                names
                    .into_iter()
                    .filter_map(|n| vault.get(&n).map(|v| (n, v)))
                    .collect(),
            )
        })
        .await
        .expect("reading the vault does not panic")
    }
}

fn setup_error(e: SetupError) -> AppError {
    match e {
        SetupError::Store(e) => e.into(),
        other => AppError::new(ErrorCode::InvalidConfig, other.to_string()),
    }
}
