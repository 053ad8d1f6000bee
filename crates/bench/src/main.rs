//! `make bench`: import a synthetic year of a large trading center with the
//! real `ggzy import` (a child process, so its peak memory is its own), and
//! in the same run measure bare bulk inserts of as many rows into SQLite,
//! import and baseline taking turns for a few rounds.

use anyhow::{bail, Context, Result};
use clap::Parser;
use ggzy_providers::targets::Targets;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite};

use ggzy_bench::import::{import_once, remove_db, settle};
use ggzy_bench::year::{generate, project_code};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

// The same allocator as `ggzy`, so the baseline is measured the same way.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// Projects in the synthetic year
    #[arg(long, default_value_t = 10_000)]
    projects: u32,
    /// Keep the generated files in this folder instead of a temp dir
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rounds of import + baseline, taken in turn
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Only time the desktop commands on the year already imported in --dir
    #[arg(long, requires = "dir")]
    queries_only: bool,
    /// Bidders per project at most (at least 10 fewer): 25 gives ≈ 1.64 M
    /// pushes for 10,000 projects, 30 gives ≈ 2 M
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(10..=200))]
    max_bidders: u32,
}

fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let mut targets = Targets::default();
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let ggzy = std::env::current_exe()?.with_file_name("ggzy");
    if !ggzy.exists() {
        bail!(
            "{} not found: build it first (make bench does)",
            ggzy.display()
        );
    }

    let file = dir.join("year.jsonl");
    let db = dir.join("bench.db");
    if args.queries_only {
        if !db.exists() {
            bail!(
                "{} not found: run `make bench BENCH_ARGS=\"--dir DIR\"` first",
                db.display()
            );
        }
        tokio::runtime::Runtime::new()?.block_on(desktop_queries(
            &db,
            args.projects,
            &mut targets,
        ))?;
        return Ok(targets.finish());
    }
    let t = Instant::now();
    let events = generate(&file, args.projects, args.max_bidders)?;
    let file_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
    println!(
        "generated {events} events for {} projects ({file_mb:.0} MB) in {:.1}s",
        args.projects,
        t.elapsed().as_secs_f64()
    );

    // Import and baseline take turns, so each pair meets the host in the same
    // mood (on this shared VM the same build swings by ±15 % from one minute
    // to the next); every round is printed and the medians are the figures.
    let rt = tokio::runtime::Runtime::new()?;
    let mut rounds = Vec::new();
    let mut totals = (0, 0, 0, 0);
    println!();
    println!("round   import s   events/s   peak RSS MB   baseline s   import/baseline");
    for round in 1..=args.rounds {
        let (secs, peak_kb) = import_once(&ggzy, &db, &file)?;
        let (accepted, pushes, audit) = rt.block_on(counts(&db))?;
        if accepted != events {
            bail!("only {accepted} of {events} events were accepted");
        }
        let db_bytes: u64 = ["bench.db", "bench.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum();
        totals = (accepted, pushes, audit, db_bytes);
        let rows = accepted + pushes;
        remove_db(&dir, "bare.db");
        settle();
        let base_secs = rt.block_on(bare_inserts(&dir.join("bare.db"), rows))?;
        println!(
            "{round:>5} {secs:>10.2} {:>10.0} {:>13.1} {base_secs:>12.2} {:>16.1} %",
            accepted as f64 / secs,
            peak_kb as f64 / 1024.0,
            100.0 * base_secs / secs
        );
        rounds.push((secs, peak_kb, base_secs));
    }
    let (accepted, pushes, audit, db_bytes) = totals;
    let rows = accepted + pushes;
    let secs = median(rounds.iter().map(|r| r.0));
    let base_secs = median(rounds.iter().map(|r| r.2));
    let ratio = median(rounds.iter().map(|r| r.2 / r.0));
    let best_base = rounds.iter().map(|r| r.2).fold(f64::MAX, f64::min);
    let peak_kb = rounds.iter().map(|r| r.1).max().unwrap_or_default();
    settle();
    let copy_secs = rt.block_on(sqlite_copy(&dir))?;

    let n = args.rounds;
    println!();
    println!("GGZY Push import: a synthetic year of a large center (medians of {n} rounds)");
    println!("  projects                 {:>12}", args.projects);
    println!("  events accepted          {:>12}", accepted);
    println!("  pushes queued            {:>12}", pushes);
    println!("  audit records            {:>12}", audit);
    println!("  import wall time         {:>12.2} s", secs);
    println!(
        "  events/s                 {:>12.0}    target >= 20000",
        accepted as f64 / secs
    );
    println!("  pushes/s                 {:>12.0}", pushes as f64 / secs);
    println!("  rows/s (events+pushes)   {:>12.0}", rows as f64 / secs);
    println!(
        "  peak memory (RSS)        {:>12.1} MB  target < 200 MB (highest of {n})",
        peak_kb as f64 / 1024.0
    );
    println!(
        "  database size            {:>12.1} MB",
        db_bytes as f64 / 1e6
    );
    println!("baseline: bare bulk insert of the same {rows} rows (one table, 200-byte text, multi-row INSERT, one transaction), right after each import");
    println!("  baseline wall time       {:>12.2} s", base_secs);
    println!(
        "  baseline rows/s          {:>12.0}",
        rows as f64 / base_secs
    );
    println!(
        "  import / baseline        {:>12.1} %   target >= 25 % (median of the {n} pairs)",
        100.0 * ratio
    );
    println!(
        "  median import / best baseline {:>7.1} %   (the harshest reading)",
        100.0 * best_base / secs
    );
    println!("for scale: SQLite copying the imported rows into a fresh file by itself (INSERT ... SELECT, same schema and settings, one transaction: no parsing, deciding, hashing or binding)");
    println!("  copy wall time           {:>12.2} s", copy_secs);
    println!("  import / copy            {:>12.2} x", secs / copy_secs);

    settle();
    let verify_secs = verify_once(&ggzy, &db)?;
    settle();
    let walk_secs = rt.block_on(bare_walk(&db))?;
    println!("`ggzy audit verify` on that year: the chain walked, every event, push and status held to its record, every table held to the trail, the events replayed through the core");
    println!("  verify wall time         {:>12.2} s", verify_secs);
    println!(
        "  audit records/s          {:>12.0}",
        audit as f64 / verify_secs
    );
    println!("baseline: the bare chain walk (read every audit record in order and SM3-hash its previous hash and content, nothing compared)");
    println!("  walk wall time           {:>12.2} s", walk_secs);
    println!(
        "  verify / walk            {:>12.2} x",
        verify_secs / walk_secs
    );

    let rate = accepted as f64 / secs;
    targets.check(rate >= 20_000.0, || {
        format!("import {rate:.0} events/s < 20000")
    });
    targets.check(ratio >= 0.25, || {
        format!("import {:.1} % of the bare row rate < 25 %", 100.0 * ratio)
    });
    let peak_mb = peak_kb as f64 / 1024.0;
    targets.check(peak_mb < 200.0, || {
        format!("import peak {peak_mb:.1} MB >= 200 MB")
    });
    rt.block_on(desktop_queries(&db, args.projects, &mut targets))?;
    Ok(targets.finish())
}

/// `ggzy audit verify` on the imported year, timed; it must find it intact.
fn verify_once(ggzy: &Path, db: &Path) -> Result<f64> {
    let t = Instant::now();
    let out = Command::new(ggzy)
        .arg("--db")
        .arg(db)
        .args(["audit", "verify"])
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "audit verify failed on the imported year: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(secs)
}

/// The baseline of `verify`: every record read in chain order and hashed.
async fn bare_walk(db: &Path) -> Result<f64> {
    use futures_util::TryStreamExt;
    use sm3::{Digest, Sm3};
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await?;
    let t = Instant::now();
    let mut rows = sqlx::query_as::<_, (Vec<u8>, String)>(
        "SELECT prev_hash, content FROM audit_records ORDER BY origin_device, seq",
    )
    .fetch(&mut conn);
    let mut n = 0u64;
    while let Some((prev, content)) = rows.try_next().await? {
        let mut h = Sm3::new();
        h.update(&prev);
        h.update(content.as_bytes());
        n += u64::from(h.finalize()[0]);
    }
    std::hint::black_box(n);
    Ok(t.elapsed().as_secs_f64())
}

/// The desktop app's commands on the imported year, as the window calls
/// them (`ggzy_app::App`, role checks and all): p50 and p95 of each.
async fn desktop_queries(db: &Path, projects: u32, targets: &mut Targets) -> Result<()> {
    const CALLS: usize = 200;
    let store = ggzy_store::Store::open(db).await?;
    let app = ggzy_app::App::new(store);
    app.login("cs0", "bench password").await?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut figures = Vec::new();
    macro_rules! measure {
        ($name:expr, $call:expr) => {{
            let mut times = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                let t = Instant::now();
                $call;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            figures.push(($name, times[CALLS / 2], times[CALLS * 95 / 100]));
        }};
    }
    let code = |rng: &mut StdRng| project_code(rng.gen_range(0..projects));
    measure!("project list page (search)", {
        let q = format!("{:05}", rng.gen_range(0..projects));
        app.projects(ggzy_app::projects::ProjectQuery {
            query: Some(q),
            page: 1,
            ..Default::default()
        })
        .await?
    });
    measure!("project list page (deep)", {
        let page = rng.gen_range(1..=(projects as i64 / 20).max(1));
        app.projects(ggzy_app::projects::ProjectQuery {
            page,
            ..Default::default()
        })
        .await?
    });
    measure!("project timeline", app.project(&code(&mut rng)).await?);
    let mut before = None;
    measure!("push log page (walking back)", {
        let page = app
            .push_log(ggzy_app::pushes::PushLogQuery {
                before,
                ..Default::default()
            })
            .await?;
        before = page.next_before;
        page
    });
    measure!("push log page (clause 4.4.2)", {
        app.push_log(ggzy_app::pushes::PushLogQuery {
            clause: Some("4.4.2".into()),
            ..Default::default()
        })
        .await?
    });
    // The worst case: a filter nothing matches walks the whole log.
    measure!("push log page (no match)", {
        app.push_log(ggzy_app::pushes::PushLogQuery {
            clause: Some("5.1.2".into()),
            ..Default::default()
        })
        .await?
    });
    measure!("inbox page", app.inbox(None).await?);
    measure!("inbox unread count", app.inbox_unread().await?);
    measure!("workbench", app.workbench().await?);
    measure!("project list (what waits)", {
        app.projects(ggzy_app::projects::ProjectQuery {
            status: Some("materials".into()),
            page: 1,
            ..Default::default()
        })
        .await?
    });
    println!("desktop commands on the imported year ({CALLS} calls each)");
    println!("  {:<32} {:>8} {:>8}", "", "p50 ms", "p95 ms");
    for (name, p50, p95) in figures {
        println!("  {name:<32} {p50:>8.2} {p95:>8.2}    target p95 <= 50 ms");
        targets.check(p95 <= 50.0, || format!("{name} p95 {p95:.0} ms > 50 ms"));
    }
    Ok(())
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// SQLite's own floor for the rows an import writes: the imported database
/// copied table by table into a fresh one with the same schema and settings.
/// A WHERE clause keeps SQLite from copying pages whole (its transfer
/// optimisation), so every row is checked and inserted as an import does.
async fn sqlite_copy(dir: &Path) -> Result<f64> {
    let path = dir.join("copy.db");
    remove_db(dir, "copy.db");
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .pragma("cache_size", "-32768")
        .pragma("temp_store", "MEMORY")
        .pragma("wal_autocheckpoint", "10000")
        .connect()
        .await?;
    // The same schema, every migration applied, so the copy lands in the same tables.
    sqlx::migrate!("../../migrations").run(&mut conn).await?;
    let source = dir.join("bench.db");
    sqlx::query("ATTACH ? AS src")
        .bind(source.to_str().context("a UTF-8 path")?)
        .execute(&mut conn)
        .await?;
    let t = Instant::now();
    sqlx::raw_sql(
        "BEGIN IMMEDIATE;
         INSERT INTO devices SELECT * FROM src.devices WHERE n > 0;
         INSERT INTO users SELECT * FROM src.users WHERE rowid > 0;
         INSERT INTO projects SELECT * FROM src.projects WHERE rowid > 0;
         INSERT INTO parties SELECT * FROM src.parties;
         INSERT INTO events (no, id, project, body, digest, source, received_at, origin_device, origin_seq)
           SELECT no, id, project, body, digest, source, received_at, origin_device, origin_seq FROM src.events WHERE no > 0;
         INSERT INTO messages SELECT * FROM src.messages WHERE no > 0;
         INSERT INTO pushes (no, id, event, rule, recipient_role, recipient_id, recipient_name, channel, address, message, secret)
           SELECT no, id, event, rule, recipient_role, recipient_id, recipient_name, channel, address, message, secret
           FROM src.pushes WHERE no > 0;
         INSERT INTO audit_records (id, origin_device, seq, content, prev_hash, hash)
           SELECT id, origin_device, seq, content, prev_hash, hash FROM src.audit_records WHERE id > 0;
         INSERT INTO audit_heads SELECT * FROM src.audit_heads WHERE origin_device > 0;
         COMMIT;",
    )
    .execute(&mut conn)
    .await?;
    Ok(t.elapsed().as_secs_f64())
}

async fn counts(db: &Path) -> Result<(u64, u64, u64)> {
    let mut conn = SqliteConnectOptions::new().filename(db).connect().await?;
    let q = |t: &'static str| format!("SELECT count(*) FROM {t}");
    let e: i64 = sqlx::query_scalar(&q("events"))
        .fetch_one(&mut conn)
        .await?;
    let p: i64 = sqlx::query_scalar(&q("pushes"))
        .fetch_one(&mut conn)
        .await?;
    let a: i64 = sqlx::query_scalar(&q("audit_records"))
        .fetch_one(&mut conn)
        .await?;
    Ok((e as u64, p as u64, a as u64))
}

/// The baseline: as many rows as fast as SQLite takes them through sqlx.
async fn bare_inserts(path: &Path, rows: u64) -> Result<f64> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut conn)
        .await?;
    let body = "x".repeat(200);
    let t = Instant::now();
    sqlx::query("BEGIN").execute(&mut conn).await?;
    let mut left = rows;
    while left > 0 {
        let n = left.min(200);
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO t (body) ");
        qb.push_values(0..n, |mut b, _| {
            b.push_bind(body.as_str());
        });
        qb.build().execute(&mut conn).await?;
        left -= n;
    }
    sqlx::query("COMMIT").execute(&mut conn).await?;
    Ok(t.elapsed().as_secs_f64())
}
