//! Per-insurer e-mail settings: sender, reply-to, bounce address, whether reminders go out, the
//! digest weekday and the evaluation hour, plus the date of the last scheduled evaluation. An
//! insurer without a row has the defaults (everything from the configuration, reminders OFF,
//! digest on Mondays): a new insurer's automatic reminders start switched off until an admin has
//! previewed them and switched them on (SPEC §5).
use super::insurers::InsurerId;
use super::schema::mail_settings as ms;
use super::DbConn;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

/// The settings an admin chooses. Values are validated by `mail::prefs::parse` before they get
/// here; `None` means "the configuration's value".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailPrefs {
    pub sender_name: Option<String>,
    pub from_address: Option<String>,
    pub reply_to: Option<String>,
    pub bounce_address: Option<String>,
    pub reminders_enabled: bool,
    /// ISO weekday of the weekly digest, 1 = Monday … 7 = Sunday.
    pub digest_weekday: u32,
    /// Japan hour of the daily evaluation; `None` = `mail_schedule_hour`.
    pub schedule_hour: Option<u32>,
}

impl Default for MailPrefs {
    fn default() -> Self {
        MailPrefs {
            sender_name: None,
            from_address: None,
            reply_to: None,
            bounce_address: None,
            // SPEC §5: off until an admin previews the reminders and switches them on.
            reminders_enabled: false,
            digest_weekday: 1,
            schedule_hour: None,
        }
    }
}

/// The stored row (or the defaults).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoredPrefs {
    pub prefs: MailPrefs,
    pub last_evaluated_on: Option<NaiveDate>,
    pub updated_by: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

type Row = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    i32,
    Option<i32>,
    Option<NaiveDate>,
    String,
    NaiveDateTime,
);

pub fn get(conn: &mut DbConn, insurer: InsurerId) -> Result<StoredPrefs, diesel::result::Error> {
    let row: Option<Row> = ms::table
        .find(insurer.0)
        .select((
            ms::sender_name,
            ms::from_address,
            ms::reply_to,
            ms::bounce_address,
            ms::reminders_enabled,
            ms::digest_weekday,
            ms::schedule_hour,
            ms::last_evaluated_on,
            ms::updated_by_label,
            ms::updated_at,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => StoredPrefs::default(),
        Some((name, from, reply, bounce, enabled, weekday, hour, last, by, at)) => StoredPrefs {
            prefs: MailPrefs {
                sender_name: name,
                from_address: from,
                reply_to: reply,
                bounce_address: bounce,
                reminders_enabled: enabled,
                digest_weekday: weekday.clamp(1, 7) as u32,
                schedule_hour: hour.map(|h| h.clamp(0, 23) as u32),
            },
            last_evaluated_on: last,
            updated_by: Some(by),
            updated_at: Some(at),
        },
    })
}

fn exists(conn: &mut DbConn, insurer: InsurerId) -> Result<bool, diesel::result::Error> {
    let n: i64 = ms::table
        .filter(ms::insurer_id.eq(insurer.0))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Saves the settings. Call inside a write transaction holding `outbox::lock_insurer`, which also
/// serialises the scheduler's `mark_evaluated` (no upsert: diesel's MultiConnection has none).
pub fn save(
    conn: &mut DbConn,
    insurer: InsurerId,
    p: &MailPrefs,
    by: &str,
    now: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let values = (
        ms::sender_name.eq(p.sender_name.as_deref()),
        ms::from_address.eq(p.from_address.as_deref()),
        ms::reply_to.eq(p.reply_to.as_deref()),
        ms::bounce_address.eq(p.bounce_address.as_deref()),
        ms::reminders_enabled.eq(p.reminders_enabled),
        ms::digest_weekday.eq(p.digest_weekday as i32),
        ms::schedule_hour.eq(p.schedule_hour.map(|h| h as i32)),
        ms::updated_by_label.eq(by),
        ms::updated_at.eq(now),
    );
    if exists(conn, insurer)? {
        diesel::update(ms::table.find(insurer.0))
            .set(values)
            .execute(conn)?;
    } else {
        diesel::insert_into(ms::table)
            .values((ms::insurer_id.eq(insurer.0), values))
            .execute(conn)?;
    }
    Ok(())
}

/// Records the Japan date of a scheduled evaluation (same locking as `save`).
pub fn mark_evaluated(
    conn: &mut DbConn,
    insurer: InsurerId,
    day: NaiveDate,
    now: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    if exists(conn, insurer)? {
        diesel::update(ms::table.find(insurer.0))
            .set(ms::last_evaluated_on.eq(Some(day)))
            .execute(conn)?;
    } else {
        let d = MailPrefs::default();
        diesel::insert_into(ms::table)
            .values((
                ms::insurer_id.eq(insurer.0),
                ms::reminders_enabled.eq(d.reminders_enabled),
                ms::digest_weekday.eq(d.digest_weekday as i32),
                ms::last_evaluated_on.eq(Some(day)),
                ms::updated_by_label.eq("system"),
                ms::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
