//! Cold start of the desktop app, measured beside an empty Tauri window
//! built the same way (same Tauri, profile and window), in one run, rounds
//! taking turns. Each start is timed from the moment its process began
//! (`/proc/<pid>/stat`, so the WebDriver's own start-up is not counted) to
//! the moment its page was interactive: the empty window's one element; the
//! app's login form, then — logged in the moment the form is ready — its
//! workbench with its figures. Then, after 5 s idle, the memory of every
//! process of each (PSS, so libraries shared between them count once, and
//! RSS). Run by `make bench` under `xvfb-run` + `dbus-run-session`.

use ggzy_e2e::{running, sibling, Driven};
use ggzy_providers::targets::Targets;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const IDLE: Duration = Duration::from_secs(5);

/// Seconds since boot, now (10 ms resolution).
fn uptime() -> f64 {
    let text = std::fs::read_to_string("/proc/uptime").expect("/proc/uptime");
    text.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("uptime seconds")
}

/// `/proc/<pid>/stat` fields after the command name: state is the first.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// When the process began, in seconds since boot.
fn started(pid: i32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let fields = stat_fields(pid).expect("the app's /proc/<pid>/stat");
    // starttime is field 22 of stat; field 3 (state) is index 0 here.
    fields[19].parse::<f64>().expect("starttime") / tick
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The process and all its descendants (WebKit's web and network processes).
fn tree(root: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> = pids()
        .into_iter()
        .filter_map(|pid| Some((pid, stat_fields(pid)?.get(1)?.parse().ok()?)))
        .collect();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// (PSS, RSS) in MB over these processes.
fn memory(pids: &[i32]) -> (f64, f64) {
    let (mut pss, mut rss) = (0u64, 0u64);
    for pid in pids {
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        for line in text.lines() {
            let kb = || {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("Pss:") {
                pss += kb();
            } else if line.starts_with("Rss:") {
                rss += kb();
            }
        }
    }
    (pss as f64 / 1024.0, rss as f64 / 1024.0)
}

/// Wait until `condition` (a JS expression) holds in the page, checked in
/// the page itself once a frame (WebDriver polling would load the very page
/// it times); the uptime when it did. Retried while no page answers yet.
async fn until(app: &Driven, condition: &str, what: &str) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1]; \
         const check = () => {{ if ({condition}) {{ window.__ready ??= performance.now(); done(true) }} \
           else requestAnimationFrame(check) }}; \
         check();"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = app
            .client
            .execute_async(&script, vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if ok {
            return uptime();
        }
        if Instant::now() > deadline {
            app.screenshot("startbench-failure").await;
            panic!("never {what} (see startbench-failure.png)");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Start {
    /// ms from process start to the first interactive screen.
    first: f64,
    /// ms from the login click to the workbench's figures (the app only).
    login: Option<f64>,
    pss: f64,
    rss: f64,
    processes: usize,
}

async fn start(exe: &Path, db_from: Option<&Path>) -> Start {
    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(db) = db_from {
        // The database file and its write-ahead log, as the CLI left them.
        for ext in ["", "-wal"] {
            let from = db.with_file_name(format!("demo.db{ext}"));
            if from.exists() {
                std::fs::copy(&from, dir.path().join(format!("ggzy.db{ext}")))
                    .expect("copy the demo database");
            }
        }
    }
    assert!(
        running(exe).is_none(),
        "{} is already running",
        exe.display()
    );
    let app = Driven::launch(exe, dir).await;
    let (first, login) = if db_from.is_some() {
        let ready = until(
            &app,
            "document.querySelector('[data-test=login]')?.disabled === false",
            "showed the login form",
        )
        .await;
        app.fill("[data-test=username]", "zhangwei").await;
        app.fill("[data-test=password]", "Demo@2026").await;
        // Timed inside the page, from the click to the first frame showing
        // the workbench's figures: the WebDriver's round trips are not counted.
        app.client
            .execute(
                "const b = window.__bench = {}; \
                 document.addEventListener('click', () => { b.click ??= performance.now() }, true); \
                 const check = () => { const e = document.querySelector('[data-counter=projects]:not(.rehearsal *)'); \
                   if (e) b.frame ??= performance.now(); \
                   if (e && /[1-9]/.test(e.innerText)) b.shown = performance.now(); else requestAnimationFrame(check) }; \
                 requestAnimationFrame(check);",
                vec![],
            )
            .await
            .expect("install the timer");
        app.click("[data-test=login]").await;
        until(
            &app,
            "!!window.__bench.shown",
            "showed the workbench's figures",
        )
        .await;
        let login = app
            .client
            .execute("return window.__bench.shown - window.__bench.click", vec![])
            .await
            .ok()
            .and_then(|v| v.as_f64())
            .expect("the page's timing");
        // Where the time after the click went: each backend round trip
        // (`ipc <command>`, measured by the page's `call`) and the first
        // frame with the workbench's cards, all from the click.
        let steps = app
            .client
            .execute(
                "const c = window.__bench.click; \
                 const ipc = performance.getEntriesByType('measure') \
                   .filter(m => m.name.startsWith('ipc ') && m.startTime >= c) \
                   .map(m => `${m.name.slice(4)} ${(m.startTime - c).toFixed(0)}+${m.duration.toFixed(0)}`); \
                 const marks = performance.getEntriesByType('mark').filter(m => m.startTime >= c) \
                   .map(m => `${m.name} ${(m.startTime - c).toFixed(0)}`); \
                 return [...ipc, ...marks, `cards ${(window.__bench.frame - c).toFixed(0)}`].join(', ')",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!("    after the click (ms from it, start+duration): {steps}");
        (ready, Some(login))
    } else {
        let ready = until(
            &app,
            "!!document.getElementById('ready')",
            "showed its page",
        )
        .await;
        (ready, None)
    };
    let pid = running(exe).expect("the started process");
    let first = (first - started(pid)) * 1000.0;
    // Of that, the page's own part: from its navigation's start to the
    // script's start (`main` mark, the app only) and to the poll that saw it
    // ready.
    let page = app
        .client
        .execute(
            "const m = performance.getEntriesByName('main')[0]; \
             const n = performance.getEntriesByType('navigation')[0]; \
             const ipc = performance.getEntriesByType('measure').filter(e => e.name.startsWith('ipc ') && e.startTime < window.__ready) \
               .map(e => `${e.name} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)}`); \
             return [`page: html ${n ? n.responseEnd.toFixed(0) : '?'}`, `script ${m ? m.startTime.toFixed(0) : '-'}`, ...ipc, `ready ${window.__ready.toFixed(0)}`].join(', ')",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    println!(
        "    {}: {first:.0} ms from process start; {page}",
        exe.file_name().unwrap_or_default().to_string_lossy()
    );
    tokio::time::sleep(IDLE).await;
    let processes = tree(pid);
    let (pss, rss) = memory(&processes);
    // Dropped: the driver is stopped and the app gone before the next start.
    app.stop().await;
    Start {
        first,
        login,
        pss,
        rss,
        processes: processes.len(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.0}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|r| r.parse().expect("rounds: a number"))
        .unwrap_or(ROUNDS);
    let app = sibling("ggzy-desktop");
    let empty = sibling("ggzy-empty-window");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    let seeded = Command::new(sibling("ggzy"))
        .arg("--db")
        .arg(&db)
        .arg("demo")
        .stdout(Stdio::null())
        .status()
        .expect("run ggzy demo");
    assert!(seeded.success(), "ggzy demo failed");

    // One start of each first, not counted: the disk cache then holds both.
    start(&empty, None).await;
    start(&app, Some(&db)).await;
    let (mut e, mut a) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let es = start(&empty, None).await;
        let as_ = start(&app, Some(&db)).await;
        println!(
            "round {round}: empty window {:.0} ms; app login form {:.0} ms, workbench {:.0} ms after login",
            es.first,
            as_.first,
            as_.login.unwrap_or_default()
        );
        e.push(es);
        a.push(as_);
    }
    let firsts = |v: &[Start]| v.iter().map(|s| s.first).collect::<Vec<_>>();
    let logins: Vec<f64> = a.iter().filter_map(|s| s.login).collect();
    let wb: Vec<f64> = a.iter().filter_map(|s| Some(s.first + s.login?)).collect();
    let (base, form, to_wb) = (median(firsts(&e)), median(firsts(&a)), median(wb.clone()));
    println!("\ncold start, ms from process start, median of {rounds} (each run listed):");
    println!(
        "  empty Tauri window, page shown      {base:>6.0}   [{}]   baseline",
        list(&firsts(&e))
    );
    println!(
        "  app, login form interactive         {form:>6.0}   [{}]   {:.2}× the baseline",
        list(&firsts(&a)),
        form / base
    );
    println!(
        "  app, login click → workbench        {:>6.0}   [{}]",
        median(logins.clone()),
        list(&logins)
    );
    println!(
        "  app, start → workbench interactive  {to_wb:>6.0}   [{}]   {:.2}× the baseline (target ≤ 1.5×)",
        list(&wb),
        to_wb / base
    );
    // Each round's app start beside the empty window started just before it:
    // the machine's slower and faster minutes then weigh on both alike.
    let paired: Vec<f64> = wb.iter().zip(&e).map(|(a, e)| a / e.first).collect();
    println!(
        "  paired, each round's start → workbench over its empty window: [{}], median {:.2}×",
        paired
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        median(paired.clone())
    );
    let mem = |v: &[Start]| {
        (
            median(v.iter().map(|s| s.pss).collect()),
            median(v.iter().map(|s| s.rss).collect()),
            v[0].processes,
        )
    };
    let (ep, er, en) = mem(&e);
    let (ap, ar, an) = mem(&a);
    println!(
        "\nmemory after {} s idle, all processes (PSS / RSS, MB, median):",
        IDLE.as_secs()
    );
    println!("  empty Tauri window          {ep:>6.0} / {er:>4.0}   ({en} processes)");
    println!("  app, workbench shown        {ap:>6.0} / {ar:>4.0}   ({an} processes)");
    let mut targets = Targets::default();
    let ratio = to_wb / base;
    targets.check(ratio <= 1.5, || {
        format!("cold start → workbench {ratio:.2}× the empty window > 1.5×")
    });
    targets.finish()
}
