//! A driven desktop app: `tauri-driver` on a free port, the built
//! `ggzy-desktop` on its own temp database, a WebDriver client, and
//! screenshots saved as test artifacts. Run under `xvfb-run` and
//! `dbus-run-session` (see `make e2e`) so nothing outlives the test.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;

/// `<target>/<profile>/`, where this test or binary was built (a test runs
/// from `<target>/<profile>/deps/`, a binary from `<target>/<profile>/`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable dir");
    if dir.ends_with("deps") {
        dir.parent().expect("target dir").to_owned()
    } else {
        dir.to_owned()
    }
}

/// A binary built beside this one.
pub fn sibling(name: &str) -> PathBuf {
    let bin = profile_dir().join(name);
    assert!(
        bin.exists(),
        "{} is missing: build it first (`make e2e` builds ggzy-desktop and ggzy)",
        bin.display()
    );
    bin
}

fn app_binary() -> PathBuf {
    std::env::var_os("GGZY_DESKTOP")
        .map(PathBuf::from)
        .unwrap_or_else(|| sibling("ggzy-desktop"))
}

/// Where screenshots go: `<target>/e2e-screens/`.
pub fn artifacts() -> PathBuf {
    let dir = profile_dir()
        .parent()
        .expect("target dir")
        .join("e2e-screens");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Two free ports, for tauri-driver and the WebKitWebDriver behind it. Both
/// are held until both are chosen: ports asked for one after the other may
/// come back the same, and WebKitWebDriver then cannot listen.
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("a bound port").port();
    (port(&a), port(&b))
}

pub struct Driven {
    pub client: Client,
    driver: Child,
    /// `dbus-monitor` on the session bus, writing every `Notify` call to a
    /// file (in a session of its own, the driver's group runs it).
    monitor: Option<Child>,
    /// The driver leads a process group with its own D-Bus session.
    own_session: bool,
    pub dir: tempfile::TempDir,
    /// The started executable, to make sure it is gone at the end.
    application: PathBuf,
}

/// What `dbus-monitor` watches: every desktop notification sent.
const NOTIFY_CALLS: &str =
    "type='method_call',interface='org.freedesktop.Notifications',member='Notify'";

/// The running process of this executable, if any (tests run one at a time).
pub fn running(exe: &std::path::Path) -> Option<i32> {
    let exe = exe.canonicalize().ok()?;
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .as_deref()
                == Some(&exe)
        })
}

/// Whether some app on the session bus still holds the single-instance name
/// (`<identifier>.SingleInstance`, tauri-plugin-single-instance).
fn single_instance_held() -> bool {
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListNames",
        ])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(".SingleInstance"))
}

impl Driven {
    /// Start the app on a fresh database (seeded as the demo center on first start).
    pub async fn start() -> Driven {
        Driven::start_with(&[]).await
    }

    /// Start the app on the demo center plus these intake lines, imported
    /// with the real `ggzy` CLI before the window opens.
    pub async fn start_with(lines: &[&str]) -> Driven {
        let dir = tempfile::tempdir().expect("temp dir");
        if !lines.is_empty() {
            let db = dir.path().join("ggzy.db");
            let file = dir.path().join("extra.jsonl");
            std::fs::write(&file, lines.join("\n")).expect("write intake");
            for args in [
                vec!["demo".into()],
                vec!["import".into(), file.into_os_string()],
            ] {
                let status = Command::new(sibling("ggzy"))
                    .arg("--db")
                    .arg(&db)
                    .args(args)
                    .stdout(Stdio::null())
                    .status()
                    .expect("run ggzy");
                assert!(status.success(), "ggzy failed preparing the database");
            }
        }
        Driven::launch(&app_binary(), dir).await
    }

    /// Start the app on a database the caller prepared at `dir/ggzy.db`.
    pub async fn start_in(dir: tempfile::TempDir) -> Driven {
        Driven::launch(&app_binary(), dir).await
    }

    /// Start the app on a center's own database the caller prepared at
    /// `dir/ggzy.db` (not the demo).
    pub async fn start_own(dir: tempfile::TempDir) -> Driven {
        Driven::launch_env(&app_binary(), dir, &[]).await
    }

    /// Start the app as a center would the first time: no database, no demo.
    pub async fn start_fresh() -> Driven {
        let dir = tempfile::tempdir().expect("temp dir");
        Driven::launch_env(&app_binary(), dir, &[]).await
    }

    /// Start the app on the demo center's data as a center's own (not marked
    /// as the demo: it sends through the channels a test configures, to
    /// providers played on loopback).
    pub async fn start_sample() -> Driven {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ggzy_store::Store::open(&dir.path().join("ggzy.db"))
            .await
            .expect("open the database");
        store.seed_sample().await.expect("seed the sample center");
        store.close().await;
        Driven::launch_env(&app_binary(), dir, &[]).await
    }

    /// Start `application` (the app, or the benchmark's empty window) on the
    /// database `dir/ggzy.db`, with its own data and config folders in `dir`.
    /// Start `application` on `dir/ggzy.db` as the demo center (seeded on
    /// first start), as `make run` does.
    pub async fn launch(application: &std::path::Path, dir: tempfile::TempDir) -> Driven {
        Driven::launch_env(application, dir, &[("GGZY_DEMO", "1")]).await
    }

    /// Start `application` with these environment variables besides.
    pub async fn launch_env(
        application: &std::path::Path,
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
    ) -> Driven {
        // The app before this one may be gone while the bus still holds its
        // single-instance name for a moment: an app started then would try to
        // hand over to it, get no reply, and fail to start.
        let deadline = Instant::now() + Duration::from_secs(10);
        while single_instance_held() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Desktop notifications are D-Bus calls to org.freedesktop.Notifications:
        // watch the bus itself, since the plugin reports no failure on Linux.
        let monitor = Command::new("dbus-monitor")
            .args(["--session", NOTIFY_CALLS])
            .stdout(std::fs::File::create(dir.path().join("notify.log")).expect("monitor log"))
            .spawn()
            .expect("dbus-monitor (package dbus) under dbus-run-session: run through `make e2e`");
        let (port, native_port) = free_ports();
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("GGZY_DB", dir.path().join("ggzy.db"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("tauri-driver not found: `make e2e` installs it (cargo install tauri-driver --locked)");
        Driven::connect(application, dir, port, driver, Some(monitor)).await
    }

    /// Start the app on a database the caller prepared at `dir/ggzy.db` (a
    /// center's own, not the demo) as on another desktop: in a D-Bus session
    /// of its own with a keyring of its own (`with-keyring`), so its
    /// single-instance name, its secrets and its desktop notifications are
    /// its own, and watched in that session. Two windows side by side.
    pub async fn start_elsewhere(dir: tempfile::TempDir) -> Driven {
        let (port, native_port) = free_ports();
        let log = dir.path().join("notify.log");
        let script = format!(
            "dbus-monitor --session \"{NOTIFY_CALLS}\" > '{}' & exec tauri-driver --port {port} --native-port {native_port}",
            log.display()
        );
        let driver = Command::new("dbus-run-session")
            .args([
                "--",
                concat!(env!("CARGO_MANIFEST_DIR"), "/with-keyring"),
                "sh",
                "-c",
                &script,
            ])
            .env("GGZY_DB", dir.path().join("ggzy.db"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            // Its own process group: the whole session is stopped at the end.
            .process_group(0)
            .spawn()
            .expect("dbus-run-session (package dbus) and tauri-driver");
        Driven::connect(&app_binary(), dir, port, driver, None).await
    }

    /// A WebDriver session with the app `driver` starts.
    async fn connect(
        application: &std::path::Path,
        dir: tempfile::TempDir,
        port: u16,
        driver: Child,
        monitor: Option<Child>,
    ) -> Driven {
        let caps = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": application },
        });
        let caps = caps.as_object().expect("an object").clone();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            // WebKitWebDriver waits for an app that died at start without
            // end: a bounded wait turns that into a failure, not a hung run.
            let mut builder = ClientBuilder::rustls().expect("rustls");
            builder.capabilities(caps.clone());
            let connect = builder.connect(&url);
            let Ok(connected) = tokio::time::timeout(Duration::from_secs(60), connect).await else {
                panic!("the app never opened its window for WebDriver at {url} (did it fail to start? see its output above)");
            };
            match connected {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no WebDriver session at {url}: {e}"),
            }
        };
        Driven {
            client,
            own_session: monitor.is_none(),
            driver,
            monitor,
            dir,
            application: application.to_owned(),
        }
    }

    /// Wait for an element (the UI loads asynchronously).
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` never appeared: {e}"))
    }

    /// Wait until the element's text contains `want`; return the text.
    pub async fn text_contains(&self, css: &str, want: &str) -> String {
        self.text_where(css, &format!("says `{want}`"), |t| t.contains(want))
            .await
    }

    /// Wait until the element's text passes `ok` (`what` says what was awaited); return the text.
    pub async fn text_where(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        // innerText: what a person sees (WebKit's element text skips table cells).
        self.read_until(css, "innerText", &format!("never {what}; it says"), ok)
            .await
    }

    /// Wait until a field holds `want` (a form filled from the backend is
    /// filled after the page shows); return its value.
    pub async fn value_contains(&self, css: &str, want: &str) -> String {
        let what = format!("never holds `{want}`; it holds");
        self.read_until(css, "value", &what, |v| v.contains(want))
            .await
    }

    /// Read the element's `property` until it passes `ok`; on timeout, a
    /// screenshot and a panic saying `failed` with what was last read.
    async fn read_until(
        &self,
        css: &str,
        property: &str,
        failed: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        let script = format!(
            "const e = document.querySelector(arguments[0]); return e ? e.{property} : '';"
        );
        loop {
            let read = self
                .client
                .execute(&script, vec![css.into()])
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            if ok(&read) {
                return read;
            }
            if Instant::now() > deadline {
                self.screenshot("failure").await;
                panic!("`{css}` {failed} `{read}` (see failure.png)");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        // WebDriver's clear does not reach Vue's model in WebKit: empty it as typing would.
        self.client
            .execute(
                "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'));",
                vec![serde_json::to_value(&e).expect("element reference")],
            )
            .await
            .expect("clear");
        e.send_keys(value).await.expect("type");
    }

    /// Find one project by its code in 项目 and open it; `title` is part of
    /// its name, waited for on the detail page.
    pub async fn open_project(&self, code: &str, title: &str) {
        self.click("[data-menu='/projects']").await;
        self.fill("[data-test=project-search]", code).await;
        self.click("[data-test=project-search-button]").await;
        self.text_contains(".el-pagination", "共 1 条").await;
        self.click("[data-test=open-project]").await;
        self.text_contains("[data-test=project-title]", title).await;
    }

    /// Fill a form's fields, each named by its `data-test`.
    pub async fn fill_all(&self, fields: &[(&str, &str)]) {
        for (field, value) in fields {
            self.fill(&format!("[data-test={field}]"), value).await;
        }
    }

    /// Click once the element takes clicks (it may still be fading in) and
    /// has stopped moving: a dialog slides 20 px as it opens, and a click
    /// aimed at a moving button lands beside it, lost without an error.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = self.find(css).await;
            self.client
                .execute_async(
                    "const [e, done] = arguments; let last = '', same = 0;
                     const tick = () => {
                       const r = e.getBoundingClientRect(), now = [r.x, r.y, r.width, r.height].join();
                       same = now === last ? same + 1 : 0; last = now;
                       if (same >= 2) done(); else requestAnimationFrame(tick);
                     };
                     requestAnimationFrame(tick);",
                    vec![serde_json::to_value(&e).expect("element reference")],
                )
                .await
                .unwrap_or_else(|err| panic!("`{css}` never stood still: {err}"));
            match e.click().await {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => {
                    self.screenshot("failure").await;
                    panic!("could not click `{css}`: {e} (see failure.png)");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Open a select and pick the option matching `option` in the list now
    /// open (lists of selects opened before stay in the page, hidden).
    pub async fn choose(&self, select: &str, option: &str) {
        self.click(select).await;
        self.click(&format!(
            ".el-select__popper:not([style*='display: none']) .el-select-dropdown__item{option}"
        ))
        .await;
    }

    /// Whether a control is disabled (it will not take the click).
    pub async fn disabled(&self, css: &str) -> bool {
        self.find(css)
            .await
            .attr("disabled")
            .await
            .expect("attribute")
            .is_some()
    }

    /// Answer the system's file dialog (GTK's, a window of its own that
    /// WebDriver cannot see) as a person would: find it by its title, type
    /// the file's path into its location field and press Enter. Needs
    /// `xdotool`; the path in ASCII (xdotool types through the keymap).
    pub async fn choose_in_file_dialog(&self, title: &str, path: &std::path::Path) {
        self.type_in_file_dialog(title, "ctrl+l", path).await
    }

    /// Answer the system's save dialog as a person would: replace the name
    /// it offers (GTK selects it without its extension) with the whole path.
    pub async fn save_in_file_dialog(&self, title: &str, path: &std::path::Path) {
        self.type_in_file_dialog(title, "ctrl+a", path).await
    }

    async fn type_in_file_dialog(&self, title: &str, first: &str, path: &std::path::Path) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let window = loop {
            let found = Command::new("xdotool")
                .args(["search", "--name", title])
                .output()
                .expect("xdotool (Debian package xdotool): `make deps` installs it");
            let id = String::from_utf8_lossy(&found.stdout)
                .lines()
                .last()
                .map(str::to_owned);
            if let Some(id) = id.filter(|i| !i.trim().is_empty()) {
                break id;
            }
            assert!(
                Instant::now() < deadline,
                "no file dialog titled `{title}` opened"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // The dialog takes a moment to be ready for keys after it maps.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let path = path.to_str().expect("an ASCII path");
        for args in [
            vec!["windowfocus", "--sync", window.as_str()],
            vec!["key", "--clearmodifiers", first],
            vec!["type", "--delay", "30", path],
            vec!["key", "Return"],
        ] {
            let status = Command::new("xdotool")
                .args(&args)
                .status()
                .expect("xdotool");
            assert!(status.success(), "xdotool {args:?} failed");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Close the open dialog with its × button.
    pub async fn close_dialog(&self) {
        self.client
            .execute(
                "document.querySelector('.el-dialog__headerbtn').click()",
                vec![],
            )
            .await
            .expect("close the dialog");
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts().join(format!("{name}.png")), png).expect("save screenshot");
    }

    pub async fn login(&self, username: &str, password: &str) {
        self.fill("[data-test=username]", username).await;
        self.fill("[data-test=password]", password).await;
        self.click("[data-test=login]").await;
    }

    /// Wait until a desktop notification carrying `text` has gone out on the bus.
    pub async fn notified(&self, text: &str) -> String {
        let log = self.dir.path().join("notify.log");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let seen = std::fs::read_to_string(&log).unwrap_or_default();
            if seen.contains(text) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "no desktop notification with `{text}`; the bus saw:\n{seen}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// End the session; the driver stops when dropped.
    pub async fn stop(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Driven {
    /// Stop the driver with SIGTERM (never SIGKILL), so it closes the app,
    /// also when a test fails half-way.
    fn drop(&mut self) {
        // SAFETY: signalling our own child process (or the group it leads).
        let pid = self.driver.id() as i32;
        unsafe { libc::kill(if self.own_session { -pid } else { pid }, libc::SIGTERM) };
        let _ = self.driver.wait();
        if let Some(monitor) = &mut self.monitor {
            let _ = monitor.kill();
            let _ = monitor.wait();
        }
        // Now and then WebKitWebDriver ends its session and exits leaving the
        // app running, idle, with no page; the next test's app would then
        // find it (single instance) and hand over to it. Close it: SIGTERM
        // after 3 s, SIGKILL after 6.
        let asked = Instant::now();
        while let Some(pid) = running(&self.application) {
            let waited = asked.elapsed();
            let signal = if waited > Duration::from_secs(6) {
                libc::SIGKILL
            } else if waited > Duration::from_secs(3) {
                libc::SIGTERM
            } else {
                0
            };
            if signal != 0 {
                eprintln!(
                    "{} outlived its WebDriver session: signal {signal}",
                    self.application.display()
                );
                // SAFETY: signalling the app this test started.
                unsafe { libc::kill(pid, signal) };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
