//! Bytes → typed rows: encodings, era dates, header mapping, per-line errors (SPEC §3).
//! IMPLEMENTED BY THE INGEST HELPER.
