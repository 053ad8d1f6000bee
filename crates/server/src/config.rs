//! Where the server's settings come from: a flag, else its environment
//! variable, else the configuration file (`--config`, TOML), else the default.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What `--config FILE` may hold (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub center_name: Option<String>,
    pub dispatch_config: Option<PathBuf>,
}

impl File {
    pub fn read(path: &Path) -> anyhow::Result<File> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("无法读取配置文件 {}：{e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("配置文件 {} 有误：{e}", path.display()))
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8790";
/// An upload or intake body past this is refused with 413 (16 MiB).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub database_url: String,
    pub listen: String,
    pub max_body_bytes: usize,
    /// HTTPS with this certificate chain and key (PEM), both or neither.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The center's name, as the pushes of the events the server decides
    /// open with it (`【name】`): the same as the desktops' 设置 → 中心名称.
    pub center_name: String,
    /// The channels the server sends the pushes of the events it decides
    /// through (the JSON of `ggzy dispatch configure`; secrets from
    /// `GGZY_SECRET_…` in its environment). None: they wait in its outbox.
    pub dispatch_config: Option<PathBuf>,
}

/// What flags and the environment gave (clap read them); `None` where not.
#[derive(Debug, Default)]
pub struct Given {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub center_name: Option<String>,
    pub dispatch_config: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

impl Config {
    /// Flags and environment (`given`) over the file over the defaults.
    pub fn resolve(given: Given) -> anyhow::Result<Config> {
        let file = given
            .config
            .as_deref()
            .map(File::read)
            .transpose()?
            .unwrap_or_default();
        let tls = match (given.tls_cert.or(file.tls_cert), given.tls_key.or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!(
                "TLS 须同时给出证书和私钥：--tls-cert 与 --tls-key（或配置文件中的 tls_cert、tls_key）"
            ),
        };
        Ok(Config {
            database_url: given.database_url.or(file.database_url).ok_or_else(|| {
                anyhow::anyhow!(
                    "未指定数据库：请用 --database-url、环境变量 GGZY_SERVER_DATABASE_URL 或配置文件中的 database_url 给出 PostgreSQL 地址"
                )
            })?,
            listen: given
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            max_body_bytes: given
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(DEFAULT_MAX_BODY),
            tls,
            center_name: given
                .center_name
                .or(file.center_name)
                .unwrap_or_else(|| ggzy_core::render::Center::default().name),
            dispatch_config: given.dispatch_config.or(file.dispatch_config),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_file_which_wins_over_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "database_url = \"postgres://file\"\nlisten = \"0.0.0.0:1\"\n",
        )
        .unwrap();
        let given = |listen: Option<&str>, cert: Option<&str>| Given {
            listen: listen.map(str::to_owned),
            tls_cert: cert.map(PathBuf::from),
            config: Some(path.clone()),
            ..Given::default()
        };
        let c = Config::resolve(given(Some("127.0.0.1:2"), None)).unwrap();
        assert_eq!(
            c,
            Config {
                database_url: "postgres://file".into(),
                listen: "127.0.0.1:2".into(),
                max_body_bytes: DEFAULT_MAX_BODY,
                tls: None,
                center_name: "公共资源交易中心".into(),
                dispatch_config: None,
            }
        );
        let err = Config::resolve(given(None, Some("cert.pem")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--tls-key"), "{err}");
        std::fs::write(&path, "database = \"typo\"\n").unwrap();
        let err = Config::resolve(given(None, None)).unwrap_err().to_string();
        assert!(err.contains("database"), "{err}");
        let err = Config::resolve(Given::default()).unwrap_err().to_string();
        assert!(err.contains("GGZY_SERVER_DATABASE_URL"), "{err}");
    }
}
