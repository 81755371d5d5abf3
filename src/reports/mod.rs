//! Reports built on evaluated notices: the stateless `check`, dashboard figures, case items, exports.
pub mod analysis;
pub mod cases;
pub mod check;
pub mod checklist;
pub mod dashboard;
pub mod export;
pub mod stats;
pub mod survey;
pub mod workload;
