//! GGZY Push store: SQLite through sqlx (WAL, foreign keys, migrations from
//! `migrations/` applied on open). Every write is one `BEGIN IMMEDIATE`
//! transaction that carries its audit records with it.

pub mod anchor;
pub mod audit;
pub mod complaints;
pub mod conflicts;
pub mod deadlines;
pub mod demo;
pub mod draw_calls;
pub mod draws;
pub mod error;
pub mod experts;
mod fold;
pub mod improvements;
pub mod intake;
mod lines;
pub mod materials;
pub mod members;
pub mod outbox;
pub mod overview;
pub mod pack;
pub mod projects;
pub mod pushes;
pub mod rejects;
mod retry;
pub mod settings;
pub mod statistics;
pub mod surveys;
pub mod sync;
pub mod users;

mod rows;

pub use error::StoreError;
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

use ggzy_core::error::ErrorCode;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, OwnedMutexGuard};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The app's identifier: its data directory name, shared with the desktop shell.
pub const APP_ID: &str = "cn.ggzy.push";

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// The database file, named in every error a caller shows (`StoreError::naming`).
    path: Arc<Path>,
    device: String,
    device_n: i64,
    /// This process's writers take turns here before `BEGIN IMMEDIATE`: a
    /// writer that finds SQLite's lock taken would sleep in its busy handler
    /// (1, 2, 5, 10 … ms) instead of starting the moment the lock is free.
    /// Other processes still meet the busy timeout.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Told after every commit: the checkpointer copies the WAL back.
    written: Arc<Notify>,
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring it up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        create_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32768")
            // Multi-row INSERTs in a transaction keep a statement journal: in memory, not a temp file.
            .pragma("temp_store", "MEMORY")
            // No checkpoint inside a commit (a writer would wait ~100 ms
            // for it, and everything behind it): the checkpointer does it.
            .pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::at(path, e))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migration_error(path, e))?;
        sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('device_id', ?)")
            .bind(uuid::Uuid::new_v4().to_string())
            .execute(&pool)
            .await?;
        let device: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'device_id'")
            .fetch_one(&pool)
            .await?;
        sqlx::query("INSERT OR IGNORE INTO devices (id) VALUES (?)")
            .bind(&device)
            .execute(&pool)
            .await?;
        let device_n: i64 = sqlx::query_scalar("SELECT n FROM devices WHERE id = ?")
            .bind(&device)
            .fetch_one(&pool)
            .await?;
        let written = Arc::new(Notify::new());
        let writer = Arc::default();
        tokio::spawn(checkpointer(
            pool.clone(),
            written.clone(),
            Arc::clone(&writer),
        ));
        Ok(Store {
            pool,
            path: path.into(),
            device,
            device_n,
            writer,
            written,
        })
    }

    /// Open an existing database to read only, as it is: never created,
    /// migrated or written (an auditor's `verify`, `audit head`). A missing,
    /// empty or foreign file, or one of another schema, is refused naming
    /// the path.
    pub async fn open_read_only(path: &Path) -> Result<Store> {
        let shown = path.display();
        let refuse = |what: String| StoreError::invalid(ErrorCode::NotADatabase, what);
        let meta = std::fs::metadata(path).map_err(|e| {
            refuse(format!(
                "找不到数据库文件 {shown}（{e}）：请检查路径；核验不会新建数据库"
            ))
        })?;
        if !meta.is_file() || meta.len() == 0 {
            return Err(refuse(format!(
                "{shown} 不是数据库文件（{}）：请指定本程序的数据库文件",
                if meta.is_file() {
                    "空文件"
                } else {
                    "是目录或特殊文件"
                }
            )));
        }
        let mut header = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
        if read.is_err() || &header != b"SQLite format 3\0" {
            return Err(refuse(format!(
                "{shown} 不是 SQLite 数据库：请指定本程序的数据库文件"
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::at(path, e))?;
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let schema: Option<i64> = sqlx::query_scalar(
            "SELECT max(version) FROM _sqlx_migrations WHERE success AND \
             EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'audit_records')",
        )
        .fetch_one(&pool)
        .await
        .ok()
        .flatten();
        match schema {
            Some(v) if v == latest => {}
            Some(v) if v < latest => {
                return Err(refuse(format!(
                    "数据库 {shown} 的结构较旧（第 {v} 号）：请先用本程序打开一次以升级，再核验"
                )))
            }
            Some(v) => {
                return Err(StoreError::invalid(
                    ErrorCode::SchemaTooNew,
                    format!(
                    "数据库 {shown} 已按更新版本的程序升级（结构第 {v} 号）：请升级本程序后再核验"
                ),
                ))
            }
            None => {
                return Err(refuse(format!(
                    "{shown} 不是本程序的数据库（没有审计记录表）：请指定本程序的数据库文件"
                )))
            }
        }
        let device: Option<(String, i64)> = sqlx::query_as(
            "SELECT m.value, d.n FROM meta m JOIN devices d ON d.id = m.value WHERE m.key = 'device_id'",
        )
        .fetch_optional(&pool)
        .await
        .map_err(|e| StoreError::at(path, e))?;
        let (device, device_n) = device.ok_or_else(|| {
            StoreError::Corrupt(format!("数据库 {shown} 没有本设备的编号（meta.device_id）"))
        })?;
        Ok(Store {
            pool,
            path: path.into(),
            device,
            device_n,
            writer: Arc::default(),
            written: Arc::default(),
        })
    }

    /// The database file this store has open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The app's own database: `<data dir>/cn.ggzy.push/ggzy.db`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join(APP_ID).join("ggzy.db"))
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The id (uuid) of the device this database belongs to.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// This device's local number, as its rows carry it (`origin_device`).
    pub fn device_n(&self) -> i64 {
        self.device_n
    }

    /// A connection holding SQLite's write lock: reads inside it see the
    /// latest state and nobody writes in between.
    pub(crate) async fn write(&self) -> Result<WriteTx> {
        self.write_on(None).await
    }

    /// As [`Store::write`], on `conn` if given (one a caller keeps for its
    /// cache). The turn comes first, then the connection: a writer never
    /// holds a connection from the pool while it waits for its turn.
    pub(crate) async fn write_on(&self, conn: Option<PoolConnection<Sqlite>>) -> Result<WriteTx> {
        let turn = self.writer.clone().lock_owned().await;
        let conn = match conn {
            Some(c) => c,
            None => self.pool.acquire().await?,
        };
        WriteTx::begin(conn, turn, self.written.clone()).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A consistent copy of the whole database at `to` (SQLite's `VACUUM
    /// INTO`: one read transaction, while others go on writing), readable by
    /// its owner only. An existing file is never overwritten.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        let Some(name) = to.to_str() else {
            return Err(StoreError::invalid(
                ErrorCode::BackupPath,
                format!(
                    "备份文件名 {} 含有无法识别的字符：请换一个文件名",
                    to.display()
                ),
            ));
        };
        if to.exists() {
            return Err(StoreError::invalid(
                ErrorCode::BackupExists,
                format!("{name} 已存在：备份不覆盖已有文件，请换一个文件名"),
            ));
        }
        create_private(to)?;
        let copied = sqlx::query("VACUUM INTO ?")
            .bind(name)
            .execute(self.pool())
            .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(to);
            return Err(StoreError::at(to, e));
        }
        Ok(())
    }
}

/// A new database file and the folders it goes in are the owner's alone
/// (0600, 0700; SQLite gives its -wal and -shm files the database's mode):
/// the trail and the staff's password hashes are no one else's to read.
/// An existing file or folder is left as its owner set it.
fn create_private(path: &Path) -> Result<()> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io(dir))?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

/// Copy what commits wrote to the WAL back into the database, beside the
/// writers rather than inside their commits (SQLite's own automatic
/// checkpoint runs in the commit that crosses its mark; it syncs the file,
/// and every writer waits). Runs a moment after writes, so a burst of
/// commits costs one checkpoint. The bulk is copied passively, never
/// waiting for a writer or reader; then what was committed meanwhile (little)
/// in the writers' turn, so the whole WAL is in the database and the next
/// writer starts the WAL again from its beginning: under a steady stream of
/// commits it would otherwise grow without end, every commit extending the
/// file. Ends when the pool is closed. If the process ends first, the WAL
/// stays beside the database, and whoever opens it next reads it.
async fn checkpointer(pool: SqlitePool, written: Arc<Notify>, writer: Arc<tokio::sync::Mutex<()>>) {
    let checkpoint = || sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool);
    loop {
        written.notified().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut done = checkpoint().await;
        if done.is_ok() {
            let _turn = writer.lock().await;
            done = checkpoint().await;
        }
        if let Err(e) = done {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "checkpoint failed; the next write tries again");
        }
    }
}

/// A database this program cannot bring up to date, said so a person can act.
fn migration_error(path: &Path, e: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError::*;
    let path = path.display();
    match e {
        VersionMismatch(v) => StoreError::invalid(
            ErrorCode::SchemaMismatch,
            format!(
                "数据库 {path} 的第 {v} 号结构与本程序内置的不一致：它由本程序的开发版本创建。\
                 请备份后移走该文件，再次打开时会新建数据库（演示数据可用 make run 重新生成）"
            ),
        ),
        VersionMissing(v) | VersionTooNew(v, _) => StoreError::invalid(
            ErrorCode::SchemaTooNew,
            format!("数据库 {path} 已按更新版本的程序升级（结构第 {v} 号）：请升级本程序后再打开"),
        ),
        other => StoreError::Migrate(other),
    }
}

/// A `BEGIN IMMEDIATE` transaction on a pooled connection. Dropped without
/// `commit`, it rolls back before the connection is reused.
pub(crate) struct WriteTx {
    conn: Option<PoolConnection<Sqlite>>,
    /// Released after the connection is handed back or closed.
    _turn: OwnedMutexGuard<()>,
    written: Arc<Notify>,
}

impl WriteTx {
    async fn begin(
        mut conn: PoolConnection<Sqlite>,
        turn: OwnedMutexGuard<()>,
        written: Arc<Notify>,
    ) -> Result<WriteTx> {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(WriteTx {
            conn: Some(conn),
            _turn: turn,
            written,
        })
    }

    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("open until commit")
    }

    /// End the transaction. The connection is handed back only if that
    /// worked: after a failed COMMIT SQLite keeps the transaction open, and
    /// `Drop` then closes the connection rather than let anyone reuse it.
    async fn end(mut self, sql: &'static str) -> Result<PoolConnection<Sqlite>> {
        sqlx::query(sql).execute(self.conn()).await?;
        self.written.notify_one();
        Ok(self.conn.take().expect("open until commit"))
    }

    pub(crate) async fn commit(self) -> Result<()> {
        self.end("COMMIT").await.map(drop)
    }

    /// Commit and keep the connection for the next transaction.
    pub(crate) async fn commit_keep(self) -> Result<PoolConnection<Sqlite>> {
        self.end("COMMIT").await
    }

    /// Commit, tell `committed`, and at once begin the next transaction on
    /// the same connection. After a failed COMMIT the transaction is still
    /// open, for the caller to roll back.
    pub(crate) async fn renew(&mut self, committed: impl FnOnce()) -> Result<()> {
        sqlx::query("COMMIT").execute(self.conn()).await?;
        self.written.notify_one();
        committed();
        sqlx::query("BEGIN IMMEDIATE").execute(self.conn()).await?;
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<PoolConnection<Sqlite>> {
        self.end("ROLLBACK").await
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Never hand a connection back mid-transaction: close it instead,
            // which makes SQLite roll the transaction back.
            let _ = conn.detach();
        }
    }
}

/// The argon2id hash of a password. Hashing takes tens of milliseconds of
/// CPU: it runs on a blocking thread, never on the async workers, which
/// meanwhile serve the dispatcher, receipts and the window.
pub(crate) async fn hash_password(clear: &str) -> String {
    let clear = clear.to_owned();
    tokio::task::spawn_blocking(move || ggzy_core::password::hash(&clear))
        .await
        .expect("argon2 hashing panicked")
}

/// Whether `clear` matches the argon2id hash `phc`; off the async workers,
/// as [`hash_password`].
pub(crate) async fn verify_password(clear: &str, phc: &str) -> bool {
    let (clear, phc) = (clear.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || ggzy_core::password::verify(&clear, &phc))
        .await
        .expect("argon2 verifying panicked")
}

/// Now, as stored: RFC 3339 with the local offset, to the millisecond.
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A party of no project, its foreign key checked only at COMMIT: a COMMIT that fails.
    async fn insert_orphan(tx: &mut WriteTx) {
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(tx.conn())
            .await
            .unwrap();
        sqlx::query("INSERT INTO parties (project, role, id, name, position) VALUES ('NOPE', 'bidder', 'B', 'x', 0)")
            .execute(tx.conn())
            .await
            .unwrap();
    }

    /// Commits go to the WAL only; what they wrote reaches the database
    /// file itself soon after, copied by the checkpointer beside the
    /// writers (without it nothing would until the last connection closed).
    #[tokio::test]
    async fn what_commits_write_reaches_the_database_file_soon_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        let mut tx = store.write().await.unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO meta (key, value) SELECT 'filler' || i, hex(randomblob(500)) FROM n",
        )
        .execute(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() < before + 1_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "2 MB committed, the database file still {} bytes",
                std::fs::metadata(&path).unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Under a steady stream of commits (a dispatcher sending for minutes)
    /// the WAL is copied back whole now and then and starts again from its
    /// beginning: it does not grow by everything written.
    #[tokio::test]
    async fn a_steady_stream_of_commits_keeps_the_wal_from_growing_without_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).await.unwrap();
        let rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
                    INSERT INTO meta (key, value) SELECT 'filler' || i, hex(randomblob(500)) FROM n \
                    WHERE true ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        // 300 commits of ~200 kB each, a few ms apart: ~60 MB through the WAL.
        for _ in 0..300 {
            let mut tx = store.write().await.unwrap();
            sqlx::query(rows).execute(tx.conn()).await.unwrap();
            tx.commit().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let wal = std::fs::metadata(dir.path().join("t.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal < 25_000_000,
            "~60 MB committed in a steady stream, the WAL grew to {wal} bytes"
        );
    }

    /// A COMMIT that fails leaves SQLite's transaction open: that connection
    /// must never serve anyone again, or its half-done writes would be
    /// committed by whoever got it next.
    #[tokio::test]
    async fn a_failed_commit_never_returns_an_open_transaction_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let mut tx = store.write().await.unwrap();
        insert_orphan(&mut tx).await;
        let err = tx.commit().await.unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");

        // Every connection the pool hands out now starts clean, and nothing was written.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut c = store.pool().acquire().await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *c)
                .await
                .unwrap();
            sqlx::query("ROLLBACK").execute(&mut *c).await.unwrap();
            held.push(c);
        }
        drop(held);
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM parties")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    /// A transaction renewed mid-import: a COMMIT that fails is not reported
    /// as committed and can still be rolled back, writing nothing.
    #[tokio::test]
    async fn a_failed_renew_reports_nothing_committed_and_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let mut tx = store.write().await.unwrap();
        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 'now')")
            .execute(tx.conn())
            .await
            .unwrap();
        let mut said = 0;
        tx.renew(|| said += 1).await.unwrap();
        assert_eq!(said, 1, "a good COMMIT is reported");

        insert_orphan(&mut tx).await;
        let err = tx.renew(|| said += 1).await.unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        assert_eq!(said, 1, "a failed COMMIT is not reported");
        tx.rollback().await.unwrap();
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM settings WHERE key = 'a'), (SELECT count(*) FROM parties)",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(counts, (1, 0));
    }
}
