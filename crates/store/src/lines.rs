//! What became of intake lines: each line's outcome and a run's summary,
//! shared by the intake that decides them and the refused lines it keeps.

use ggzy_core::Refusal;

/// Lines per transaction when importing a file.
pub const BATCH: usize = 32_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Accepted {
        event_id: String,
        pushes: usize,
    },
    Duplicate {
        event_id: String,
    },
    Refused {
        event_id: Option<String>,
        refusal: Refusal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub line: u64,
    pub outcome: LineOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub accepted: u64,
    pub duplicates: u64,
    pub pushes: u64,
    pub refused: Vec<LineResult>,
}

impl Summary {
    pub(crate) fn add(&mut self, results: Vec<LineResult>) {
        for r in results {
            match &r.outcome {
                LineOutcome::Accepted { pushes, .. } => {
                    self.accepted += 1;
                    self.pushes += *pushes as u64;
                }
                LineOutcome::Duplicate { .. } => self.duplicates += 1,
                LineOutcome::Refused { .. } => self.refused.push(r),
            }
        }
    }
}
