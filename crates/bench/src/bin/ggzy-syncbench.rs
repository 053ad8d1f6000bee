//! `make bench-sync`: a desktop's 100,000 records uploaded to the sync server
//! (the real client, HTTP on loopback, the real server on a real
//! PostgreSQL), against PostgreSQL's bulk `COPY` of the very same rows into a
//! table of the same shape, in the same run, rounds taken in turn; then a
//! fresh desktop downloads two desktops' 200,000 records.
//! Last, the benchmark's year (as `make bench` imports it) is posted to the
//! server's intake in bodies of 5,000 lines, against `ggzy import` of the
//! same file (the real binary) in the same run.
//! Targets (issue 22): the upload at least 10 % of COPY's rate; the
//! download of 200,000 records within 10 s (atuin's sync takes 12.3 s); the
//! HTTP intake at least half the rate of `ggzy import`.

use anyhow::{ensure, Context, Result};
use ggzy_bench::import::{import_once, settle, CENTER_STAFF, SUPERVISOR_STAFF};
use ggzy_bench::year::generate;
use ggzy_core::role::StaffRole;
use ggzy_core::sync::IntakeAnswer;
use ggzy_providers::targets::Targets;
use ggzy_store::users::NewUser;
use ggzy_store::Store;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

const RECORDS: usize = 100_000;
const ROUNDS: usize = 3;

fn main() -> Result<ExitCode> {
    // The server runs in this process: its errors (a refused body's cause) show here.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
        .init();
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let desktop = desktop(&dir.path().join("desktop.db")).await?;
    let waiting = desktop.uploaded().await?.waiting;
    println!("a desktop with {waiting} records waiting to go up");
    let pg = ggzy_pg::Postgres::start();
    let mut targets = Targets::default();
    let (mut uploads, mut copies) = (Vec::new(), Vec::new());
    println!("round   upload s   records/s   COPY s   rows/s   upload/COPY");
    for round in 1..=ROUNDS {
        let url = pg.database(&format!("round{round}")).await;
        let (pool, base) = ggzy_server::start_local(&url, 64 << 20).await?;
        let token = ggzy_server::tokens::add_device(&pool, "bench").await?;
        sqlx::query("DELETE FROM meta WHERE key = 'sync_uploaded'")
            .execute(desktop.pool())
            .await?;

        let t = Instant::now();
        let stored = ggzy_sync::Client::new(&base, &token)
            .upload(&desktop)
            .await?
            .stored;
        let upload = t.elapsed().as_secs_f64();
        ensure!(stored as i64 == waiting, "stored {stored} of {waiting}");

        let copy = copy(&pool).await?;
        let (up_rate, copy_rate) = (stored as f64 / upload, stored as f64 / copy);
        println!(
            "{round:>5}   {upload:>8.2}   {up_rate:>9.0}   {copy:>6.2}   {copy_rate:>6.0}   {:>10.1} %",
            100.0 * up_rate / copy_rate
        );
        uploads.push(up_rate);
        copies.push(copy_rate);
        pool.close().await;
    }
    let ratios: Vec<f64> = uploads.iter().zip(&copies).map(|(u, c)| u / c).collect();
    let share = 100.0 * median(&ratios);
    println!("upload, records/s (median)       {:.0}", median(&uploads));
    println!(
        "COPY of the same rows, rows/s    {:.0}   (the baseline)",
        median(&copies)
    );
    println!(
        "upload / COPY                    {share:.1} %   target >= 10 % (median of the rounds)"
    );
    targets.check(share >= 10.0, || {
        format!("sync upload {share:.1} % of COPY < 10 %")
    });

    // Download: two desktops' series on one server, taken by a fresh desktop.
    let url = pg.database("download").await;
    let (pool, base) = ggzy_server::start_local(&url, 64 << 20).await?;
    let second = desktop_of(&dir.path().join("second.db"), "d").await?;
    for (store, name) in [(&desktop, "one"), (&second, "two")] {
        sqlx::query("DELETE FROM meta WHERE key = 'sync_uploaded'")
            .execute(store.pool())
            .await?;
        let token = ggzy_server::tokens::add_device(&pool, name).await?;
        ggzy_sync::Client::new(&base, &token).upload(store).await?;
    }
    let fresh = Store::open(&dir.path().join("fresh.db")).await?;
    let token = ggzy_server::tokens::add_device(&pool, "fresh").await?;
    let t = Instant::now();
    let got = ggzy_sync::Client::new(&base, &token)
        .download(&fresh)
        .await?;
    let download = t.elapsed().as_secs_f64();
    ensure!(
        got.records as i64 == 2 * waiting,
        "downloaded {} of {}",
        got.records,
        2 * waiting
    );
    println!(
        "download of {} records to a fresh desktop   {download:.2} s   target <= 10 s   (atuin's sync: 12.3 s for 200,000)",
        got.records
    );
    targets.check(download <= 10.0, || {
        format!(
            "sync download of {} records took {download:.2} s > 10 s",
            got.records
        )
    });
    pool.close().await;
    intake(dir.path(), &pg, &mut targets).await?;
    Ok(targets.finish())
}

/// Lines of the year per intake request.
const BODY_LINES: usize = 5_000;

/// The benchmark's year posted to the server's intake, against `ggzy import`
/// of the same file.
async fn intake(dir: &Path, pg: &ggzy_pg::Postgres, targets: &mut Targets) -> Result<()> {
    let file = dir.join("year.jsonl");
    let events = generate(&file, 10_000, 25)?;
    let ggzy = std::env::current_exe()?.with_file_name("ggzy");
    ensure!(
        ggzy.exists(),
        "{} not found: build it first (make bench-sync does)",
        ggzy.display()
    );
    let (db, year) = (dir.join("import.db"), file.clone());
    settle();
    let (import, _) = tokio::task::spawn_blocking(move || import_once(&ggzy, &db, &year)).await??;

    // The server, and the same staff as the import's (a desktop's users,
    // uploaded: the server addresses staff pushes to them).
    let url = pg.database("intake").await;
    let (pool, base) = ggzy_server::start_local(&url, 64 << 20).await?;
    let staff = Store::open(&dir.join("staff.db")).await?;
    for i in 0..CENTER_STAFF + SUPERVISOR_STAFF {
        let (role, name) = match i < CENTER_STAFF {
            true => (StaffRole::CenterStaff, format!("cs{i}")),
            false => (StaffRole::SupervisorStaff, format!("ss{i}")),
        };
        let user = NewUser {
            username: name.clone(),
            name,
            role,
            phone: None,
            email: None,
            password: Some("bench password".into()),
        };
        staff.add_user(user, "bench").await?;
    }
    let device = ggzy_server::tokens::add_device(&pool, "staff").await?;
    ggzy_sync::Client::new(&base, &device)
        .upload(&staff)
        .await?;
    let token = ggzy_server::tokens::add_intake(&pool, "bench").await?;

    let text = std::fs::read_to_string(&file)?;
    let lines: Vec<&str> = text.lines().collect();
    let http = reqwest::Client::new();
    settle();
    let t = Instant::now();
    let mut accepted = 0;
    for body in lines.chunks(BODY_LINES) {
        let answer: IntakeAnswer = http
            .post(format!("{base}/api/v1/intake"))
            .bearer_auth(&token)
            .body(body.join("\n"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ensure!(
            answer.refused.is_empty(),
            "refused: {:?}",
            answer.refused.first()
        );
        accepted += answer.accepted;
    }
    let posted = t.elapsed().as_secs_f64();
    ensure!(accepted == events, "accepted {accepted} of {events}");
    let (http_rate, import_rate) = (events as f64 / posted, events as f64 / import);
    let share = 100.0 * http_rate / import_rate;
    println!("HTTP intake of the year ({events} events)   {posted:.2} s   {http_rate:.0} events/s");
    println!("ggzy import of the same file            {import:.2} s   {import_rate:.0} events/s   (the baseline)");
    println!("HTTP intake / ggzy import               {share:.1} %   target >= 50 %");
    targets.check(share >= 50.0, || {
        format!("HTTP intake {share:.1} % of ggzy import < 50 %")
    });
    Ok(())
}

/// A desktop database whose chain holds about RECORDS records: that many
/// projects registered, each one event and its audit record.
async fn desktop(path: &std::path::Path) -> Result<Store> {
    desktop_of(path, "s").await
}

/// As [`desktop`], its event ids and project codes starting with `prefix`.
async fn desktop_of(path: &std::path::Path, prefix: &str) -> Result<Store> {
    let store = Store::open(path).await?;
    let mut lines = Vec::with_capacity(RECORDS * 400);
    for p in 0..RECORDS {
        writeln!(
            lines,
            r#"{{"id":"{prefix}-{p:06}","type":"project.registered","at":"2026-03-02T09:00:00+08:00","project":"{prefix}-{p:06}","name":"某某区第{p}号道路改造工程施工招标","tenderer":{{"id":"T{p}","name":"某某区交通运输局","phone":"13800000001","email":"jt@example.gov.cn"}},"agency":{{"id":"A{p}","name":"某某招标代理有限公司","phone":"13900000002"}}}}"#
        )?;
    }
    let summary = store
        .import(std::io::Cursor::new(lines), "bench", |_| {})
        .await?;
    ensure!(
        summary.refused.is_empty(),
        "refused: {:?}",
        summary.refused.first()
    );
    Ok(store)
}

/// Seconds PostgreSQL takes to `COPY` the uploaded rows, as they are
/// stored, into a fresh table of the same shape (text format, one stream).
async fn copy(pool: &sqlx::PgPool) -> Result<f64> {
    let mut conn = pool.acquire().await?;
    sqlx::query("CREATE TABLE records_copy (LIKE records INCLUDING ALL)")
        .execute(&mut *conn)
        .await?;
    let mut out = conn
        .copy_out_raw("COPY records (gseq, device, seq, content, prev_hash, hash, body, pushes, received_at) TO STDOUT")
        .await?;
    let mut data = Vec::new();
    use futures_util::StreamExt;
    while let Some(chunk) = out.next().await {
        data.extend_from_slice(&chunk?);
    }
    drop(out);
    let t = Instant::now();
    let mut copy = conn
        .copy_in_raw("COPY records_copy (gseq, device, seq, content, prev_hash, hash, body, pushes, received_at) FROM STDIN")
        .await?;
    copy.send(data).await?;
    let rows = copy.finish().await.context("COPY")?;
    ensure!(rows > 0, "COPY took no row");
    Ok(t.elapsed().as_secs_f64())
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
