//! `ggzy import` of a file, timed as a separate process (the real binary,
//! built beside the benchmark), with the staff its pushes go to.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub const CENTER_STAFF: usize = 6;
pub const SUPERVISOR_STAFF: usize = 4;

/// One import into a fresh database at `db` holding the bench's staff: its
/// wall time and peak RSS (KiB).
pub fn import_once(ggzy: &Path, db: &Path, file: &Path) -> Result<(f64, i64)> {
    let dir = db.parent().context("a folder")?;
    let name = db
        .file_name()
        .and_then(|n| n.to_str())
        .context("a UTF-8 name")?;
    remove_db(dir, name);
    for i in 0..CENTER_STAFF + SUPERVISOR_STAFF {
        let (role, name) = if i < CENTER_STAFF {
            ("center_staff", format!("cs{i}"))
        } else {
            ("supervisor_staff", format!("ss{i}"))
        };
        let mut child = Command::new(ggzy)
            .args(["--db"])
            .arg(db)
            .args([
                "user",
                "add",
                "--username",
                &name,
                "--name",
                &name,
                "--role",
                role,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(b"bench password\n")?;
        if !child.wait()?.success() {
            bail!("user add failed");
        }
    }

    // The import, measured as a separate process.
    settle();
    let t = Instant::now();
    let child = Command::new(ggzy)
        .arg("--db")
        .arg(db)
        .arg("import")
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()?;
    let (status, peak_kb) = wait_with_peak_rss(child.id() as i32)?;
    let secs = t.elapsed().as_secs_f64();
    if status != 0 {
        bail!("ggzy import exited with {status}");
    }
    Ok((secs, peak_kb))
}

/// Let the kernel write out what the last step left dirty, so no step is
/// timed while paying for the one before.
pub fn settle() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// Remove a database and its WAL files, if there.
pub fn remove_db(dir: &Path, name: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}{suffix}")));
    }
}

/// Wait for a child and read its own peak resident set (KiB) from wait4.
pub fn wait_with_peak_rss(pid: i32) -> Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: plain syscall on our own child; rusage is fully written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    Ok((libc::WEXITSTATUS(status), usage.ru_maxrss))
}
