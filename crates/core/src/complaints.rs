//! Complaints (5.1): the time limits their clocks run on, in working days
//! (`calendar`), counted from the complaint's own lodging time.

use crate::calendar::Limit;

/// To decide whether a complaint is accepted (受理).
pub const ACCEPT: Limit = Limit::WorkingDays(3);

/// To decide it and give the complainant feedback (5.1.2).
pub const DECIDE: Limit = Limit::WorkingDays(30);
