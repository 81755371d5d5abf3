//! Reports built on evaluated notices: the stateless `check`, dashboard figures, exports.
pub mod check;
pub mod stats;
