//! Rollups of the figures by day of receipt (issue 19): what makes the dashboard, 要因分析,
//! checklist and survey cost what they show rather than how many notices the insurer has.
//!
//! A notice whose registration is complete no longer changes with time: evaluated on any date from
//! its registration on, its statuses, days and causes are the same. So for each insurer and day of
//! receipt, the sums the dashboard ([`dashboard::State`]) and the analysis ([`analysis::State`])
//! add up over that day's completed notices are kept in `report_rollups`; a page merges the
//! days of its period and evaluates live only
//! - the notices without a registration (their statuses move with the as-of date), and
//! - every notice of a day whose row is dirty (changed since it was built), of another version of
//!   this code, or that does not stand for the as-of date (a registration later than it).
//!
//! The sums are the accumulators' own states, merged: a page's figures are the same fold over the
//! same notices, whichever of them came from a rollup — `tests/rollups.rs` compares them with a
//! full recomputation on both backends.
//!
//! Rows are marked dirty by the store in the transaction that changes their notices
//! (`store::rollups`); [`refresh`] rebuilds them, called after imports, settings and error-cause
//! changes, and by `serve` at start for rows an older version wrote.
use super::{analysis, dashboard};
use crate::store::insurers::Insurer;
use crate::store::notices::NoticeRow;
use crate::store::rollups::{self as store, Sums};
use crate::store::DbConn;
use chrono::NaiveDate;
use diesel::QueryResult;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The format of the stored sums: rows of another version are rebuilt, never read. Bump it when
/// a state's fields or what `add` counts change.
pub const VERSION: i32 = 1;

const READ_CHUNK: i64 = 50_000;

/// The as-of date a day's completed notices are evaluated on when its rollup is built: any date
/// from their registrations on gives the same result.
const BUILT_AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31"),
};

/// The state of a report that can be folded over rows and merged.
pub trait Rollup: Default + Serialize + DeserializeOwned {
    const SUMS: Sums;
    /// What `add_rows` needs besides the rows, read once per fold.
    type Context;
    fn context(conn: &mut DbConn, insurer: &Insurer) -> QueryResult<Self::Context>;
    fn add_rows(
        &mut self,
        conn: &mut DbConn,
        insurer: &Insurer,
        cx: &Self::Context,
        rows: &[NoticeRow],
        as_of: NaiveDate,
    ) -> QueryResult<()>;
    fn merge(&mut self, other: &Self);
}

impl Rollup for dashboard::State {
    const SUMS: Sums = Sums::Dashboard;
    type Context = ();
    fn context(_: &mut DbConn, _: &Insurer) -> QueryResult<()> {
        Ok(())
    }
    fn add_rows(
        &mut self,
        _: &mut DbConn,
        insurer: &Insurer,
        _: &(),
        rows: &[NoticeRow],
        as_of: NaiveDate,
    ) -> QueryResult<()> {
        dashboard::State::add_rows(self, &insurer.rules, rows, as_of);
        Ok(())
    }
    fn merge(&mut self, other: &Self) {
        dashboard::State::merge(self, other)
    }
}

impl Rollup for analysis::State {
    const SUMS: Sums = Sums::Analysis;
    /// The insurer's error codes and their causes.
    type Context = HashMap<String, analysis::Cause>;
    fn context(conn: &mut DbConn, insurer: &Insurer) -> QueryResult<Self::Context> {
        Ok(crate::store::error_causes::mapping(conn, insurer.id)?
            .into_iter()
            .collect())
    }
    fn add_rows(
        &mut self,
        conn: &mut DbConn,
        insurer: &Insurer,
        cx: &Self::Context,
        rows: &[NoticeRow],
        as_of: NaiveDate,
    ) -> QueryResult<()> {
        analysis::State::add_rows(self, conn, insurer, cx, rows, as_of)
    }
    fn merge(&mut self, other: &Self) {
        analysis::State::merge(self, other)
    }
}

/// The state of the notices received in [from, to], evaluated as of `as_of`.
pub fn fold<R: Rollup>(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> QueryResult<R> {
    fold_with(conn, insurer, from, to, as_of, true)
}

/// [`fold`] without the rollups: every notice evaluated live (what the rollups must equal).
pub fn recompute<R: Rollup>(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> QueryResult<R> {
    fold_with(conn, insurer, from, to, as_of, false)
}

fn fold_with<R: Rollup>(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    rollups: bool,
) -> QueryResult<R> {
    let mut acc = R::default();
    if from > to {
        return Ok(acc);
    }
    let started = std::time::Instant::now();
    let cx = R::context(conn, insurer)?;
    let ins = insurer.id.0;
    let mut covered = BTreeSet::new();
    let clean = if rollups {
        store::clean(conn, ins, from, to, as_of, VERSION, R::SUMS)?
    } else {
        Vec::new()
    };
    for (day, json) in clean {
        match serde_json::from_str::<R>(&json) {
            Ok(sums) => {
                acc.merge(&sums);
                covered.insert(day);
            }
            // Evaluated live instead; the next refresh of a changed day writes it anew.
            Err(e) => tracing::warn!(insurer = ins, %day, error = %e, "unreadable rollup"),
        }
    }
    let merged = started.elapsed().as_millis() as u64;
    // The days without a usable rollup, whole.
    let mut next = Some(from);
    while let Some(start) = next.filter(|d| *d <= to) {
        let Some(day) = store::first_day_from(conn, ins, start, to)? else {
            break;
        };
        if !covered.contains(&day) {
            each_chunk_of_day(conn, ins, day, |conn, rows| {
                acc.add_rows(conn, insurer, &cx, &rows, as_of)
            })?;
        }
        next = day.succ_opt();
    }
    // The notices of covered days that have no registration.
    let mut after: Option<(NaiveDate, i64)> = None;
    loop {
        let rows = store::unregistered_after(conn, ins, from, to, after, READ_CHUNK)?;
        let Some(last) = rows.last() else { break };
        after = Some((last.registration_deadline, last.id));
        let open: Vec<NoticeRow> = rows
            .into_iter()
            .filter(|r| covered.contains(&r.received_on))
            .collect();
        acc.add_rows(conn, insurer, &cx, &open, as_of)?;
    }
    tracing::debug!(
        insurer = ins,
        %from,
        %to,
        %as_of,
        days = covered.len(),
        merged_ms = merged,
        ms = started.elapsed().as_millis() as u64,
        sums = ?R::SUMS,
        "report fold"
    );
    Ok(acc)
}

/// Every employer's notices and submissions met over all time, as of `as_of`: (employer id,
/// notices, met), for `store::employers::figures_with_totals`.
pub fn employer_totals(
    conn: &mut DbConn,
    insurer: &Insurer,
    as_of: NaiveDate,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let all: dashboard::State = fold(conn, insurer, store::EARLIEST, BUILT_AS_OF, as_of)?;
    Ok(all.employer_totals().collect())
}

/// Calls `f` with the insurer's notices received on `day`, a chunk at a time.
fn each_chunk_of_day(
    conn: &mut DbConn,
    insurer_id: i64,
    day: NaiveDate,
    mut f: impl FnMut(&mut DbConn, Vec<NoticeRow>) -> QueryResult<()>,
) -> QueryResult<()> {
    let mut after = 0i64;
    loop {
        let rows = store::received_on_after(conn, insurer_id, day, after, READ_CHUNK)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id;
        f(conn, rows)?;
    }
}

/// Rebuilds the insurer's dirty and outdated days. Each day is stored only if it did not change
/// while it was being read (otherwise it stays dirty and is evaluated live). Returns the number
/// of days stored.
pub fn refresh(conn: &mut DbConn, insurer: &Insurer) -> QueryResult<usize> {
    let ins = insurer.id.0;
    let stale = store::stale_days(conn, ins, VERSION)?;
    if stale.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let cx = analysis::State::context(conn, insurer)?;
    let mut stored = 0;
    for (day, generation) in stale {
        let mut dash = dashboard::State::default();
        let mut ana = analysis::State::default();
        let mut latest: Option<NaiveDate> = None;
        each_chunk_of_day(conn, ins, day, |conn, rows| {
            // Only the completed notices: the others are evaluated live on every page.
            let done: Vec<NoticeRow> = rows
                .into_iter()
                .filter(|r| r.registered_on.is_some())
                .collect();
            latest = latest.max(done.iter().filter_map(|r| r.registered_on).max());
            dash.add_rows(&insurer.rules, &done, BUILT_AS_OF);
            ana.add_rows(conn, insurer, &cx, &done, BUILT_AS_OF)
        })?;
        let (Ok(d), Ok(a)) = (serde_json::to_string(&dash), serde_json::to_string(&ana)) else {
            continue;
        };
        if store::store(conn, ins, day, generation, VERSION, latest, &d, &a)? {
            stored += 1;
        }
    }
    tracing::info!(
        insurer = %insurer.number,
        days = stored,
        ms = started.elapsed().as_millis() as u64,
        "report rollups rebuilt"
    );
    Ok(stored)
}

/// Adds the rows a database loaded before the rollups existed lacks, then rebuilds every stale
/// day of every insurer (`serve` runs it once at start, in the background).
pub fn refresh_all(conn: &mut DbConn) -> Result<usize, crate::store::insurers::InsurerError> {
    let mut stored = 0;
    for id in store::insurers_with_notices(conn)? {
        let insurer = crate::store::insurers::get(conn, crate::store::insurers::InsurerId(id))?;
        store::add_missing_days(conn, id)?;
        stored += refresh(conn, &insurer)?;
    }
    Ok(stored)
}

/// [`refresh`] after a change to the insurer's data (an import, settings, the error-cause
/// table), with the insurer as stored now. A failure is logged, not returned: the change is
/// committed, and the days it left dirty are evaluated live until the next refresh.
pub fn refresh_after_change(conn: &mut DbConn, insurer: crate::store::insurers::InsurerId) {
    let r = crate::store::insurers::get(conn, insurer)
        .and_then(|i| refresh(conn, &i).map_err(Into::into));
    if let Err(e) = r {
        tracing::warn!(insurer = insurer.0, error = %e, "report rollups not rebuilt");
    }
}
