//! A deployment's one dispatcher: its configuration saved in the store, its
//! secrets from the keyring or environment, and a lock beside the database
//! so a second dispatcher on the same database refuses to start.

use crate::config::{ConfigError, DispatchConfig};
use crate::secrets::Secrets;
use crate::worker::Dispatcher;
use ggzy_core::push::Channel;
use ggzy_core::reach::ContactRules;
use ggzy_store::{Store, StoreError};
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("推送通道配置有误（{path}）：{message}")]
    Json { path: String, message: String },
    #[error("已有发送程序在使用这个数据库（锁文件 {0}）：每个部署只运行一个发送程序")]
    Locked(PathBuf),
    #[error("无法创建锁文件 {0}：{1}")]
    LockFile(PathBuf, std::io::Error),
    #[error("本机已连接同步服务器 {0}：本机的推送交由服务器发送，本机不发送（若要本机发送，请先在 设置 → 同步 中清除服务器地址）")]
    Connected(String),
    #[error("{0}工作群需要先在 设置 → 推送通道（或 ggzy dispatch configure）中配置{0}群机器人")]
    NoRobot(&'static str),
    #[error("这是演示中心的数据库：演示数据只通过模拟通道发送，不能配置真实推送通道。请在本中心自己的数据库中配置（首次启动时设置本中心）")]
    DemoChannels,
    #[error("演示中心的数据库中有真实推送通道的配置（可能被人为写入）：为防止演示数据发往真实号码，拒绝发送。请删除该数据库文件后重新生成演示数据")]
    DemoWithChannels,
}

/// Read a configuration, naming the field that is wrong.
pub fn parse(json: &str) -> Result<DispatchConfig, SetupError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| SetupError::Json {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// The saved channel configuration; none saved yet: no channel.
pub async fn saved(store: &Store) -> Result<DispatchConfig, SetupError> {
    match store.dispatch_config().await? {
        Some(json) => parse(&json),
        None => Ok(DispatchConfig::default()),
    }
}

/// Save the contact rules (3.4), refusing a work group whose robot the saved
/// channels lack: its pushes would be dead letters from the start.
pub async fn save_contact_rules(
    store: &Store,
    rules: &ContactRules,
    by: &str,
) -> Result<(), SetupError> {
    let channels = saved(store).await?;
    for g in &rules.groups {
        let (configured, name) = match g.channel {
            Channel::Dingtalk => (channels.dingtalk.is_some(), "钉钉"),
            _ => (channels.wecom.is_some(), "企业微信"),
        };
        if !configured {
            return Err(SetupError::NoRobot(name));
        }
    }
    Ok(store.save_contact_rules(rules, by).await?)
}

/// Check a configuration whole (fields, times, every secret it needs) and
/// save it: nothing half-applied.
pub async fn configure(
    store: &Store,
    json: &str,
    secrets: &dyn Secrets,
    by: &str,
) -> Result<DispatchConfig, SetupError> {
    if store.is_demo().await? {
        return Err(SetupError::DemoChannels);
    }
    let config = parse(json)?;
    config.policy()?;
    config.routes(&center_name(store).await?, secrets)?;
    let canonical = serde_json::to_string_pretty(&config).expect("a config serialises");
    store.save_dispatch_config(&canonical, by).await?;
    Ok(config)
}

pub async fn center_name(store: &Store) -> Result<String, StoreError> {
    Ok(store
        .settings()
        .await?
        .into_iter()
        .find_map(|(k, v)| (k == "center_name").then_some(v))
        .unwrap_or_default())
}

/// The dispatcher the saved configuration describes; `None` while no
/// channel has been configured (pushes then wait, queued). A desktop
/// connected to a sync server has none: the server sends its pushes.
pub async fn dispatcher(
    store: &Store,
    secrets: &dyn Secrets,
) -> Result<Option<(Dispatcher, DispatchConfig)>, SetupError> {
    if let Some(server) = store.connected().await? {
        return Err(SetupError::Connected(server));
    }
    if store.is_demo().await? {
        return demo(store).await.map(Some);
    }
    let Some(json) = store.dispatch_config().await? else {
        return Ok(None);
    };
    let config = parse(&json)?;
    let routes = config.routes(&center_name(store).await?, secrets)?;
    Ok(Some((
        Dispatcher::new(store.clone(), routes, config.policy()?),
        config,
    )))
}

/// Held while this process dispatches for the database at `db`; the OS lets
/// go of it when the process ends, however it ends.
pub struct Lock(#[allow(dead_code)] File);

pub fn lock(db: &Path) -> Result<Lock, SetupError> {
    let path = db.with_extension("dispatch.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SetupError::LockFile(path.clone(), e))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock(file)),
        Err(_) => Err(SetupError::Locked(path)),
    }
}

/// A demo database may hold no channel configuration: refused at opening,
/// so its realistic numbers are never sent to.
pub async fn check_demo(store: &Store) -> Result<(), SetupError> {
    if store.is_demo().await? && store.dispatch_config().await?.is_some() {
        return Err(SetupError::DemoWithChannels);
    }
    Ok(())
}

/// The demo center's dispatcher: every channel but the inbox goes to the
/// simulated provider, which sends nothing anywhere; retries come quickly so
/// the demo moves while a newcomer watches. A demo database holding a real
/// configuration (written by hand) is refused.
async fn demo(store: &Store) -> Result<(Dispatcher, DispatchConfig), SetupError> {
    check_demo(store).await?;
    let mut routes = crate::worker::Routes::default().with(Channel::Desktop, crate::channel::Inbox);
    for channel in [
        Channel::Sms,
        Channel::Email,
        Channel::Dingtalk,
        Channel::Wecom,
    ] {
        routes = routes.with(
            channel,
            crate::simulated::Simulated::new(channel.zh(), store.clone()),
        );
    }
    let mut config = DispatchConfig::default();
    config.retry.max_attempts = 4;
    config.retry.first_retry_secs = 2;
    config.retry.max_retry_secs = 10;
    let policy = config.policy()?;
    Ok((Dispatcher::new(store.clone(), routes, policy), config))
}
