//! Import batches as the web pages read them: the history of an insurer and one batch's rejects.
use super::insurers::InsurerId;
use super::schema::{import_batches, import_rejects};
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;

/// Database id of an import batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BatchId(pub i64);

/// One stored batch. Times are UTC.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = import_batches)]
pub struct BatchRow {
    pub id: i64,
    /// notices | registrations
    pub file_kind: String,
    pub file_name: String,
    pub sha256: String,
    /// running | completed
    pub status: String,
    pub rows_read: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub rows_new: i64,
    pub rows_changed: i64,
    pub rows_unchanged: i64,
    pub error: Option<String>,
    pub created_by_label: String,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// The insurer's batches, newest first (page is 1-based), and their total.
pub fn list(
    conn: &mut DbConn,
    insurer: InsurerId,
    page: i64,
    per_page: i64,
) -> Result<(Vec<BatchRow>, i64), diesel::result::Error> {
    let total: i64 = import_batches::table
        .filter(import_batches::insurer_id.eq(insurer.0))
        .select(count_star())
        .first(conn)?;
    let rows = import_batches::table
        .filter(import_batches::insurer_id.eq(insurer.0))
        .order((import_batches::created_at.desc(), import_batches::id.desc()))
        .offset((page.max(1) - 1).saturating_mul(per_page))
        .limit(per_page)
        .select(BatchRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One batch of this insurer (None for another insurer's id).
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: BatchId,
) -> Result<Option<BatchRow>, diesel::result::Error> {
    import_batches::table
        .filter(import_batches::insurer_id.eq(insurer.0))
        .filter(import_batches::id.eq(id.0))
        .select(BatchRow::as_select())
        .first(conn)
        .optional()
}

/// The first `limit` rejected rows of a batch in line order: (line, reason). Reasons never carry
/// row content, so no My Number can be in them.
pub fn rejects(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: BatchId,
    limit: i64,
) -> Result<Vec<(i64, String)>, diesel::result::Error> {
    import_rejects::table
        .filter(import_rejects::insurer_id.eq(insurer.0))
        .filter(import_rejects::batch_id.eq(id.0))
        .order((import_rejects::line.asc(), import_rejects::id.asc()))
        .limit(limit)
        .select((import_rejects::line, import_rejects::reason))
        .load(conn)
}
