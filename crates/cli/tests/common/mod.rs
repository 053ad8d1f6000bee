//! What the CLI's process tests share: the built `ggzy` on a database, and
//! a run that must succeed.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The built `ggzy` on the database at `db` (never the environment's).
pub fn ggzy(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ggzy"));
    c.arg("--db").arg(db).env_remove("GGZY_DB");
    c
}

/// Run `c`; it must succeed. Its standard output.
pub fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
