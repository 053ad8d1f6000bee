//! A benchmark's targets: every one missed is told at the end as one
//! `MISSED:` line and the benchmark exits non-zero, so a regression cannot
//! pass unread in a long log.

use std::process::ExitCode;

#[derive(Debug, Default)]
pub struct Targets {
    missed: Vec<String>,
}

impl Targets {
    /// Note a target: `met`, or else `what` says what missed and by how much
    /// (e.g. `workbench p95 173 ms > 50 ms`).
    pub fn check(&mut self, met: bool, what: impl FnOnce() -> String) {
        if !met {
            self.missed.push(what());
        }
    }

    /// Print the misses; the exit code to end with.
    pub fn finish(self) -> ExitCode {
        for m in &self.missed {
            println!("MISSED: {m}");
        }
        if self.missed.is_empty() {
            println!("every target met");
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Targets;

    #[test]
    fn a_miss_fails_the_run() {
        let mut t = Targets::default();
        t.check(true, || unreachable!());
        assert_eq!(t.finish(), std::process::ExitCode::SUCCESS);
        let mut t = Targets::default();
        t.check(false, || "workbench p95 173 ms > 50 ms".into());
        assert_eq!(t.finish(), std::process::ExitCode::FAILURE);
    }
}
