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
}

impl Config {
    /// Flags and environment (`given`, as clap read them) over the file over the defaults.
    pub fn resolve(
        database_url: Option<String>,
        listen: Option<String>,
        max_body_bytes: Option<usize>,
        file: Option<&PathBuf>,
    ) -> anyhow::Result<Config> {
        let file = file.map(|f| File::read(f)).transpose()?.unwrap_or_default();
        Ok(Config {
            database_url: database_url.or(file.database_url).ok_or_else(|| {
                anyhow::anyhow!(
                    "未指定数据库：请用 --database-url、环境变量 GGZY_SERVER_DATABASE_URL 或配置文件中的 database_url 给出 PostgreSQL 地址"
                )
            })?,
            listen: listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            max_body_bytes: max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(DEFAULT_MAX_BODY),
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
        let c = Config::resolve(None, Some("127.0.0.1:2".into()), None, Some(&path)).unwrap();
        assert_eq!(
            c,
            Config {
                database_url: "postgres://file".into(),
                listen: "127.0.0.1:2".into(),
                max_body_bytes: DEFAULT_MAX_BODY,
            }
        );
        std::fs::write(&path, "database = \"typo\"\n").unwrap();
        let err = Config::resolve(None, None, None, Some(&path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database"), "{err}");
        let err = Config::resolve(None, None, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("GGZY_SERVER_DATABASE_URL"), "{err}");
    }
}
