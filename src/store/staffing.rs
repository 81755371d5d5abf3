//! The insurer's staffing for 資格届 per month, with ISO-week overrides (checklist 2-②).
use super::insurers::InsurerId;
use super::schema::staffing;
use super::{now_utc, update_or_insert, write_tx, DbConn};
use crate::domain::staffing::StaffingPeriod;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = staffing)]
struct Row {
    period_kind: String,
    starts_on: chrono::NaiveDate,
    staff: f64,
    note: String,
    updated_by_label: String,
    updated_at: NaiveDateTime,
}

/// One staffing figure as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffingEntry {
    pub period: StaffingPeriod,
    pub staff: f64,
    pub note: String,
    pub updated_by_label: String,
    pub updated_at: NaiveDateTime,
}

/// Every figure of the insurer, months before weeks, each in date order.
pub fn entries(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<StaffingEntry>, diesel::result::Error> {
    let rows: Vec<Row> = staffing::table
        .filter(staffing::insurer_id.eq(insurer.0))
        .order((staffing::period_kind.asc(), staffing::starts_on.asc()))
        .select(Row::as_select())
        .load(conn)?;
    // The CHECK constraint and the writers below keep rows valid; a row that still does not
    // describe a period is skipped rather than shown as a wrong one.
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            StaffingPeriod::from_parts(&r.period_kind, r.starts_on).map(|period| StaffingEntry {
                period,
                staff: r.staff,
                note: r.note,
                updated_by_label: r.updated_by_label,
                updated_at: r.updated_at,
            })
        })
        .collect())
}

fn upsert(
    c: &mut DbConn,
    insurer: InsurerId,
    period: StaffingPeriod,
    staff: f64,
    note: &str,
    by: &str,
) -> Result<(), diesel::result::Error> {
    let now = now_utc();
    update_or_insert(
        c,
        |c| {
            diesel::update(
                staffing::table
                    .filter(staffing::insurer_id.eq(insurer.0))
                    .filter(staffing::period_kind.eq(period.kind()))
                    .filter(staffing::starts_on.eq(period.starts_on())),
            )
            .set((
                staffing::staff.eq(staff),
                staffing::note.eq(note),
                staffing::updated_by_label.eq(by),
                staffing::updated_at.eq(now),
            ))
            .execute(c)
        },
        |c| {
            diesel::insert_into(staffing::table)
                .values((
                    staffing::insurer_id.eq(insurer.0),
                    staffing::period_kind.eq(period.kind()),
                    staffing::starts_on.eq(period.starts_on()),
                    staffing::staff.eq(staff),
                    staffing::note.eq(note),
                    staffing::updated_by_label.eq(by),
                    staffing::updated_at.eq(now),
                ))
                .execute(c)
        },
    )
}

fn remove(
    c: &mut DbConn,
    insurer: InsurerId,
    period: StaffingPeriod,
) -> Result<bool, diesel::result::Error> {
    diesel::delete(
        staffing::table
            .filter(staffing::insurer_id.eq(insurer.0))
            .filter(staffing::period_kind.eq(period.kind()))
            .filter(staffing::starts_on.eq(period.starts_on())),
    )
    .execute(c)
    .map(|n| n > 0)
}

/// Sets one period's figure (`Some`) or removes it (`None`; true when there was one).
pub fn set(
    conn: &mut DbConn,
    insurer: InsurerId,
    period: StaffingPeriod,
    staff: Option<f64>,
    note: &str,
    by: &str,
) -> Result<bool, diesel::result::Error> {
    write_tx(conn, |c| set_in_tx(c, insurer, period, staff, note, by))
}

/// [`set`] in the caller's write transaction.
pub fn set_in_tx(
    c: &mut DbConn,
    insurer: InsurerId,
    period: StaffingPeriod,
    staff: Option<f64>,
    note: &str,
    by: &str,
) -> Result<bool, diesel::result::Error> {
    match staff {
        Some(s) => upsert(c, insurer, period, s, note, by).map(|_| true),
        None => remove(c, insurer, period),
    }
}

/// Replaces all of the insurer's figures with `entries` (period, staff, note) in one transaction.
pub fn replace_all(
    conn: &mut DbConn,
    insurer: InsurerId,
    entries: &[(StaffingPeriod, f64, String)],
    by: &str,
) -> Result<(), diesel::result::Error> {
    write_tx(conn, |c| replace_all_in_tx(c, insurer, entries, by))
}

/// [`replace_all`] in the caller's write transaction.
pub fn replace_all_in_tx(
    c: &mut DbConn,
    insurer: InsurerId,
    entries: &[(StaffingPeriod, f64, String)],
    by: &str,
) -> Result<(), diesel::result::Error> {
    diesel::delete(staffing::table.filter(staffing::insurer_id.eq(insurer.0))).execute(c)?;
    for (period, staff, note) in entries {
        upsert(c, insurer, *period, *staff, note, by)?;
    }
    Ok(())
}
