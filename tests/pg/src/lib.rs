//! A real PostgreSQL for a test or a benchmark: a fresh cluster in a temporary folder (the
//! machine's PostgreSQL binaries, `initdb -A trust`), listening only on a Unix
//! socket in that folder, stopped and removed when the test ends. Nothing
//! outside the test depends on it. As root, the cluster belongs to the
//! `postgres` user (initdb refuses root).

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|b| b.join("initdb").exists())
        .expect("PostgreSQL's binaries (apt install postgresql, or PG_BIN=…/bin)")
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = pg_bin();
        let uid = Command::new("id").arg("-u").output().unwrap().stdout;
        let as_postgres = String::from_utf8_lossy(&uid).trim() == "0";
        let dir = tempfile::Builder::new()
            .prefix("ggzy-pg")
            .tempdir()
            .unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown to postgres");
        }
        let port = free_port();
        let pg = Postgres {
            dir,
            port,
            bin,
            as_postgres,
        };
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ],
            Some(&data),
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses='' -c fsync=off -c max_connections=200",
            pg.dir.path().display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-w",
                "-l",
                &pg.dir.path().join("log").display().to_string(),
                "-o",
                &opts,
                "start",
                "-D",
            ],
            Some(&data),
        );
        pg
    }

    fn run(&self, tool: &str, args: &[&str], data: Option<&PathBuf>) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args);
        if let Some(d) = data {
            cmd.arg(d);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A database URL for a new, empty database of this cluster.
    pub async fn database(&self, name: &str) -> String {
        let admin = self.url("postgres");
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        self.url(name)
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost/{db}?host={}&port={}",
            self.dir.path().display(),
            self.port
        )
    }

    /// Stop the server at once (as a crash would), for tests that need it gone.
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        if data.exists() {
            let mut cmd = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(self.bin.join("pg_ctl"));
                c
            } else {
                Command::new(self.bin.join("pg_ctl"))
            };
            let _ = cmd
                .args(["-w", "-m", "immediate", "stop", "-D"])
                .arg(&data)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
