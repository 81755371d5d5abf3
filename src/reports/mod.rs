//! Reports built on evaluated notices: the stateless `check`, dashboard figures, case items, exports.
pub mod cases;
pub mod check;
pub mod dashboard;
pub mod stats;
