//! The rows of `report_rollups`: one per insurer and day of receipt, holding what the dashboard
//! and the analysis add up over that day's completed notices (`reports::rollups` builds and reads
//! them). Here: marking days dirty in the transaction that changes their notices, listing the
//! days to rebuild, reading clean rows, writing a rebuilt one.
//!
//! The guarantee is that a clean row always equals its day recomputed: every write that can change
//! what a day adds up — notices inserted or updated (old and new day), registration results and
//! registrations, deadlines, the error-cause table — marks the day (or all days) dirty in its own
//! transaction, and a dirty day is evaluated live until it is rebuilt.
use super::notices::NoticeRow;
use super::schema::{notices, report_rollups};
use super::DbConn;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::Date;

/// Sets a day dirty: its sums are dropped and its generation moves on, so a rebuild that read the
/// day before this change does not store what it computed.
const DIRTY: &str = "ON CONFLICT (insurer_id, day) DO UPDATE SET \
    generation = report_rollups.generation + 1, dashboard = NULL, analysis = NULL";

fn exec(conn: &mut DbConn, sql: &str, day: Option<NaiveDate>) -> QueryResult<usize> {
    match conn {
        DbConn::Pg(c) => match day {
            Some(d) => diesel::sql_query(sql).bind::<Date, _>(d).execute(c),
            None => diesel::sql_query(sql).execute(c),
        },
        DbConn::Sqlite(c) => {
            let sql = sql.replace("$1", "?1");
            match day {
                Some(d) => diesel::sql_query(sql).bind::<Date, _>(d).execute(c),
                None => diesel::sql_query(sql).execute(c),
            }
        }
    }
}

/// Marks dirty the days a SELECT names (one column `day`), for the insurer: used by the set-based
/// import with its stage tables.
pub(crate) fn mark_select(conn: &mut DbConn, insurer_id: i64, select: &str) -> QueryResult<usize> {
    exec(
        conn,
        &format!(
            "INSERT INTO report_rollups (insurer_id, day) \
             SELECT DISTINCT {insurer_id}, d.day FROM ({select}) d WHERE d.day IS NOT NULL {DIRTY}"
        ),
        None,
    )
}

/// Marks every day of the insurer dirty (a change that can touch any notice: the error-cause
/// table).
pub fn mark_all(conn: &mut DbConn, insurer_id: i64) -> QueryResult<usize> {
    exec(
        conn,
        &format!(
            "UPDATE report_rollups SET generation = generation + 1, dashboard = NULL, \
             analysis = NULL WHERE insurer_id = {insurer_id}"
        ),
        None,
    )
}

/// Adds a (dirty) row for every day the insurer has notices on and no row yet: a database whose
/// notices were loaded before the rollups existed.
pub fn add_missing_days(conn: &mut DbConn, insurer_id: i64) -> QueryResult<usize> {
    exec(
        conn,
        &format!(
            "INSERT INTO report_rollups (insurer_id, day) \
             SELECT DISTINCT {insurer_id}, n.received_on FROM notices n \
             WHERE n.insurer_id = {insurer_id} AND NOT EXISTS (SELECT 1 FROM report_rollups r \
                 WHERE r.insurer_id = {insurer_id} AND r.day = n.received_on) \
             ON CONFLICT (insurer_id, day) DO NOTHING"
        ),
        None,
    )
}

/// The days to rebuild, with the generation each was read at: dirty, or written by another
/// version of the code.
pub fn stale_days(
    conn: &mut DbConn,
    insurer_id: i64,
    version: i32,
) -> QueryResult<Vec<(NaiveDate, i64)>> {
    report_rollups::table
        .filter(report_rollups::insurer_id.eq(insurer_id))
        .filter(
            report_rollups::dashboard
                .is_null()
                .or(report_rollups::analysis.is_null())
                .or(report_rollups::version.ne(version)),
        )
        .order(report_rollups::day.asc())
        .select((report_rollups::day, report_rollups::generation))
        .load(conn)
}

/// Stores a day's rebuilt sums, unless the day changed since `generation` was read (then it stays
/// dirty). Returns whether it was stored.
#[allow(clippy::too_many_arguments)]
pub fn store(
    conn: &mut DbConn,
    insurer_id: i64,
    day: NaiveDate,
    generation: i64,
    version: i32,
    max_registered_on: Option<NaiveDate>,
    dashboard: &str,
    analysis: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        report_rollups::table
            .filter(report_rollups::insurer_id.eq(insurer_id))
            .filter(report_rollups::day.eq(day))
            .filter(report_rollups::generation.eq(generation)),
    )
    .set((
        report_rollups::version.eq(version),
        report_rollups::max_registered_on.eq(max_registered_on),
        report_rollups::dashboard.eq(dashboard),
        report_rollups::analysis.eq(analysis),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Which sums to read.
#[derive(Clone, Copy, Debug)]
pub enum Sums {
    Dashboard,
    Analysis,
}

/// The clean rows of the days in [from, to] that stand for `as_of` (every completed notice of the
/// day registered by then), of this version: (day, sums).
pub fn clean(
    conn: &mut DbConn,
    insurer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    version: i32,
    sums: Sums,
) -> QueryResult<Vec<(NaiveDate, String)>> {
    let q = report_rollups::table
        .filter(report_rollups::insurer_id.eq(insurer_id))
        .filter(report_rollups::day.between(from, to.min(as_of)))
        .filter(report_rollups::version.eq(version))
        .filter(
            report_rollups::max_registered_on
                .is_null()
                .or(report_rollups::max_registered_on.le(as_of)),
        )
        .order(report_rollups::day.asc());
    match sums {
        Sums::Dashboard => q
            .filter(report_rollups::dashboard.is_not_null())
            .select((
                report_rollups::day,
                report_rollups::dashboard.assume_not_null(),
            ))
            .load(conn),
        Sums::Analysis => q
            .filter(report_rollups::analysis.is_not_null())
            .select((
                report_rollups::day,
                report_rollups::analysis.assume_not_null(),
            ))
            .load(conn),
    }
}

/// The first day in [from, to] the insurer received a notice on.
pub fn first_day_from(
    conn: &mut DbConn,
    insurer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Option<NaiveDate>> {
    notices::table
        .filter(notices::insurer_id.eq(insurer_id))
        .filter(notices::received_on.between(from, to))
        .select(diesel::dsl::min(notices::received_on))
        .first(conn)
}

/// The insurer's notices received on `day`, by id after `after` (the `notices_received` index
/// gives them in that order).
pub fn received_on_after(
    conn: &mut DbConn,
    insurer_id: i64,
    day: NaiveDate,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    notices::table
        .filter(notices::insurer_id.eq(insurer_id))
        .filter(notices::received_on.eq(day))
        .filter(notices::id.gt(after))
        .order(notices::id.asc())
        .limit(limit)
        .select(NoticeRow::as_select())
        .load(conn)
}

/// The insurer's notices received in [from, to] with no registration, in the order of the
/// `notices_open_registration` index (deadline, id) after `after`: the notices whose statuses
/// still change with time.
pub fn unregistered_after(
    conn: &mut DbConn,
    insurer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    // SQLite (no statistics) would take the received_on range to the index of receipt and walk
    // the whole year; `+` keeps that index out, so it reads the unregistered notices only.
    let received = match conn {
        DbConn::Sqlite(_) => "+notices.received_on BETWEEN ",
        DbConn::Pg(_) => "notices.received_on BETWEEN ",
    };
    let q = notices::table
        .filter(notices::insurer_id.eq(insurer_id))
        .filter(notices::registered_on.is_null())
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(received)
                .bind::<Date, _>(from)
                .sql(" AND ")
                .bind::<Date, _>(to),
        )
        .into_boxed();
    by_deadline_after(conn, q, after, limit)
}

/// The insurer's notices received by `as_of` and not registered by then (no registration, or
/// one dated later), a chunk at a time after `after` (deadline, id): the open work as of that date.
/// Read through `notices_open_registration` as two ranges of it.
pub fn open_after(
    conn: &mut DbConn,
    insurer_id: i64,
    as_of: NaiveDate,
    later: bool,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    if !later {
        return unregistered_after(conn, insurer_id, EARLIEST, as_of, after, limit);
    }
    let q = notices::table
        .filter(notices::insurer_id.eq(insurer_id))
        .filter(notices::registered_on.gt(as_of))
        .filter(notices::received_on.le(as_of))
        .into_boxed();
    by_deadline_after(conn, q, after, limit)
}

/// `q`'s rows in (registration deadline, id) order after `after`: keyset paging along
/// `notices_open_registration`.
fn by_deadline_after(
    conn: &mut DbConn,
    mut q: notices::BoxedQuery<'_, super::MultiBackend>,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    if let Some((deadline, id)) = after {
        q = q.filter(
            notices::registration_deadline
                .gt(deadline)
                .or(notices::registration_deadline
                    .eq(deadline)
                    .and(notices::id.gt(id))),
        );
    }
    q.order((notices::registration_deadline.asc(), notices::id.asc()))
        .limit(limit)
        .select(NoticeRow::as_select())
        .load(conn)
}

/// The first day "all time" starts on (receipt dates are refused long after it).
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01"),
};

/// The insurers that have notices.
pub fn insurers_with_notices(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    use super::schema::insurers;
    insurers::table
        .filter(diesel::dsl::exists(
            notices::table.filter(notices::insurer_id.eq(insurers::id)),
        ))
        .select(insurers::id)
        .load(conn)
}
