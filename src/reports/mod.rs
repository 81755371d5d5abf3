//! Reports built on evaluated notices: the stateless `check`, dashboard figures, case items, the
//! checklist, survey and 改善計画 views, chart geometry, exports.
pub mod analysis;
pub mod audit;
pub mod bundle;
pub mod cases;
pub mod charts;
pub mod check;
pub mod checklist;
pub mod dashboard;
pub mod export;
pub mod plan;
pub mod rollups;
pub mod stats;
pub mod survey;
pub mod survey_export;
pub mod workload;
pub mod xlsx;
