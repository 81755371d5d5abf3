//! 要因分析: the insurer's intermediate-server error codes and the cause each stands for.
use super::insurers::InsurerId;
use super::schema::{error_causes, registration_results};
use super::{now_utc, write_tx, DbConn};
use crate::reports::analysis::Cause;
use diesel::prelude::*;
use std::collections::HashMap;

/// The insurer's mapping, by error code (codes compared trimmed and upper case).
pub fn mapping(conn: &mut DbConn, insurer: InsurerId) -> QueryResult<Vec<(String, Cause)>> {
    let rows: Vec<(String, String)> = error_causes::table
        .filter(error_causes::insurer_id.eq(insurer.0))
        .order(error_causes::error_code.asc())
        .select((error_causes::error_code, error_causes::cause))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, cause)| Cause::parse(&cause).map(|c| (code, c)))
        .collect())
}

/// The comparable form of an error code.
pub fn normal_code(code: &str) -> String {
    crate::ingest::mask_digits(code.trim())
        .to_uppercase()
        .replace(['－', '‐'], "-")
}

/// Replaces the insurer's whole mapping (in one transaction); returns whether anything changed.
pub fn replace_all(
    conn: &mut DbConn,
    insurer: InsurerId,
    entries: &[(String, Cause)],
    by: &str,
) -> QueryResult<bool> {
    write_tx(conn, |c| replace_all_in_tx(c, insurer, entries, by))
}

/// [`replace_all`] in the caller's write transaction.
pub fn replace_all_in_tx(
    c: &mut DbConn,
    insurer: InsurerId,
    entries: &[(String, Cause)],
    by: &str,
) -> QueryResult<bool> {
    let before = mapping(c, insurer)?;
    let mut after: Vec<(String, Cause)> = entries
        .iter()
        .map(|(code, cause)| (normal_code(code), *cause))
        .collect();
    after.sort_by(|a, b| a.0.cmp(&b.0));
    after.dedup_by(|a, b| a.0 == b.0);
    if before == after {
        return Ok(false);
    }
    diesel::delete(error_causes::table.filter(error_causes::insurer_id.eq(insurer.0)))
        .execute(c)?;
    let now = now_utc();
    for (code, cause) in &after {
        diesel::insert_into(error_causes::table)
            .values((
                error_causes::insurer_id.eq(insurer.0),
                error_causes::error_code.eq(code),
                error_causes::cause.eq(cause.code()),
                error_causes::updated_by_label.eq(by),
                error_causes::updated_at.eq(now),
            ))
            .execute(c)?;
    }
    // An error result's cause is part of the 要因分析 sums of its notice's day.
    super::rollups::mark_all(c, insurer.0)?;
    Ok(true)
}

/// An error result's code and message.
pub type ErrorResult = (Option<String>, Option<String>);

/// The latest error result (code, message) of each of `notice_ids` that has one.
pub fn latest_errors(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice_ids: &[&str],
) -> QueryResult<HashMap<String, ErrorResult>> {
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = registration_results::table
        .filter(registration_results::insurer_id.eq(insurer.0))
        .filter(registration_results::notice_id.eq_any(notice_ids))
        .filter(registration_results::result.eq("error"))
        .order(registration_results::id.asc())
        .select((
            registration_results::id,
            registration_results::notice_id,
            registration_results::error_code,
            registration_results::error_message,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(_, id, code, message)| (id, (code, message)))
        .collect())
}
