//! One way to open the app, for the desktop and the CLI alike: which
//! database (the center's own, or the demo's file beside it), opened owner
//! only, a demo holding real channels refused, the demo seeded into a new
//! file; and, for the deployment's one dispatcher, the loop that keeps it
//! and its receipts endpoint running and starts them afresh when an admin
//! saves the channels.

use crate::App;
use ggzy_dispatch::deployment::SetupError;
use ggzy_store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// Which database to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub path: PathBuf,
    /// Open it as the demo center (seeded if new).
    pub demo: bool,
}

impl Choice {
    /// The desktop's choice from its environment: `GGZY_DEMO=1` (as `make
    /// run` sets) for the demo; `GGZY_DB` for the file (tests, a second
    /// office), else the data directory's `ggzy.db`, or `demo.db` beside it.
    pub fn from_env() -> Result<Choice, String> {
        let demo = std::env::var("GGZY_DEMO").is_ok_and(|v| v == "1");
        let path = std::env::var_os("GGZY_DB")
            .map(PathBuf::from)
            .or_else(|| {
                let own = Store::default_path()?;
                Some(if demo {
                    own.with_file_name("demo.db")
                } else {
                    own
                })
            })
            .ok_or_else(|| "找不到用户数据目录：请设置 GGZY_DB 指向数据库文件".to_owned())?;
        Ok(Choice { path, demo })
    }
}

/// A database opened and checked, not yet seeded.
pub struct Opened {
    pub path: PathBuf,
    store: Store,
    seed_demo: bool,
}

/// Open a database as every front door does: created owner-only if new,
/// and a demo holding real channels (written by hand) refused, since its
/// realistic numbers would be sent to.
pub async fn open_store(path: &Path) -> Result<Store, SetupError> {
    let store = Store::open(path).await?;
    ggzy_dispatch::deployment::check_demo(&store).await?;
    Ok(store)
}

impl Opened {
    /// Open the chosen database (`seed` waits: the desktop seeds only past
    /// its single-instance check, so a second start never seeds too).
    pub async fn open(choice: Choice) -> Result<Opened, String> {
        let fresh = !choice.path.exists();
        let store = open_store(&choice.path)
            .await
            .map_err(|e| format!("{}：{e}", choice.path.display()))?;
        Ok(Opened {
            seed_demo: choice.demo && fresh,
            path: choice.path,
            store,
        })
    }

    /// The app on it, the demo seeded first into a new demo file. A
    /// center's own new database stays empty: the window shows the set-up.
    pub async fn into_app(self) -> Result<App, StoreError> {
        if self.seed_demo {
            self.store.seed_demo().await?;
            tracing::info!(path = %self.path.display(), "seeded the demo center into a new database");
        }
        Ok(App::new(self.store))
    }
}

impl App {
    /// Standalone (no sync server), the desktop is its deployment's one
    /// dispatcher, once channels are configured; it starts afresh whenever
    /// an admin saves them. If another dispatcher holds the database (`ggzy
    /// dispatch run`), that one sends and this one does not. Runs until the
    /// process ends.
    pub async fn dispatch_forever(&self, db: &Path) {
        let _lock = match ggzy_dispatch::deployment::lock(db) {
            Ok(lock) => lock,
            Err(e) => return tracing::info!(error = %e, "not dispatching here"),
        };
        loop {
            let reconfigured = self.reconfigured();
            match self.dispatcher().await {
                Ok(Some(d)) => {
                    tracing::info!("dispatching pushes");
                    // Providers' delivery reports, when the channels ask for them here.
                    let receipts = async {
                        match self.receipts_server().await {
                            Ok(Some(server)) => {
                                if let Err(e) = server.serve().await {
                                    tracing::error!(error = %e, "the receipts endpoint stopped");
                                }
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "no receipts endpoint"),
                        }
                        std::future::pending::<()>().await
                    };
                    tokio::select! {
                        stopped = d.run(std::time::Duration::from_secs(2)) => {
                            if let Err(e) = stopped {
                                tracing::error!(error = %e, "the dispatcher stopped");
                            }
                        }
                        _ = receipts => {}
                        _ = reconfigured.notified() => continue,
                    }
                }
                Ok(None) => tracing::info!("no push channel configured yet: pushes wait, queued"),
                // Connected: the sync server sends this desktop's pushes.
                Err(e @ ggzy_dispatch::deployment::SetupError::Connected(_)) => {
                    tracing::info!(reason = %e, "not dispatching here")
                }
                Err(e) => tracing::warn!(error = %e, "the dispatcher did not start"),
            }
            reconfigured.notified().await;
        }
    }
}
