//! Following a case (案件): its 担当者 and 次回対応日 (`case_workflow`, one row per notice at most)
//! and its append-only メモ (`case_notes`). Every function takes the insurer: a notice of another
//! insurer has no workflow here.
use super::insurers::InsurerId;
use super::schema::{case_notes, case_workflow, notices, users};
use super::users::UserId;
use super::{now_utc, DbConn};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

/// The 担当者 and 次回対応日 of one notice (both `None` when nobody set them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workflow {
    pub assignee: Option<Assignee>,
    pub follow_up_on: Option<NaiveDate>,
}

/// An assigned user as pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignee {
    pub id: UserId,
    /// The 表示名, or the e-mail when there is none (`users::shown_name`).
    pub name: String,
    /// Deactivated since being assigned: the case needs a new 担当者.
    pub active: bool,
}

/// One メモ of a case.
#[derive(Clone, Debug)]
pub struct Note {
    pub id: i64,
    pub author_user_id: Option<i64>,
    /// The author's 表示名, else how the note recorded them (the e-mail, or the CLI's label).
    pub author_label: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Whether `notice` is a notice of `insurer`, locking its row on PostgreSQL so that two writers of
/// the same case's workflow take turns (SQLite's write transaction is exclusive already).
pub fn lock_notice(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
) -> Result<bool, diesel::result::Error> {
    if matches!(conn, DbConn::Pg(_)) {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            #[allow(dead_code)]
            id: i64,
        }
        let found: Vec<Found> = diesel::sql_query(
            "SELECT id FROM notices WHERE id = $1 AND insurer_id = $2 FOR UPDATE",
        )
        .bind::<diesel::sql_types::BigInt, _>(notice)
        .bind::<diesel::sql_types::BigInt, _>(insurer.0)
        .load(conn)?;
        return Ok(!found.is_empty());
    }
    Ok(notices::table
        .filter(notices::insurer_id.eq(insurer.0))
        .filter(notices::id.eq(notice))
        .select(notices::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// A user of `insurer` who can be assigned: `Ok(None)` when no such user (or another insurer's),
/// `Ok(Some(false))` when the user is deactivated.
pub fn assignable(
    conn: &mut DbConn,
    insurer: InsurerId,
    user: UserId,
) -> Result<Option<bool>, diesel::result::Error> {
    let found: Option<Option<NaiveDateTime>> = users::table
        .filter(users::insurer_id.eq(insurer.0))
        .filter(users::id.eq(user.0))
        .select(users::deactivated_at)
        .first(conn)
        .optional()?;
    Ok(found.map(|deactivated| deactivated.is_none()))
}

/// Sets both fields of a notice's workflow (the caller checked the notice and the user belong to
/// `insurer`, inside its write transaction).
pub fn set(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
    assignee: Option<UserId>,
    follow_up_on: Option<NaiveDate>,
    by: &str,
) -> Result<(), diesel::result::Error> {
    let now = now_utc();
    let assignee = assignee.map(|u| u.0);
    super::update_or_insert(
        conn,
        |c| {
            diesel::update(
                case_workflow::table
                    .filter(case_workflow::insurer_id.eq(insurer.0))
                    .filter(case_workflow::notice_id.eq(notice)),
            )
            .set((
                case_workflow::assignee_user_id.eq(assignee),
                case_workflow::follow_up_on.eq(follow_up_on),
                case_workflow::updated_by_label.eq(by),
                case_workflow::updated_at.eq(now),
            ))
            .execute(c)
        },
        |c| {
            diesel::insert_into(case_workflow::table)
                .values((
                    case_workflow::notice_id.eq(notice),
                    case_workflow::insurer_id.eq(insurer.0),
                    case_workflow::assignee_user_id.eq(assignee),
                    case_workflow::follow_up_on.eq(follow_up_on),
                    case_workflow::updated_by_label.eq(by),
                    case_workflow::updated_at.eq(now),
                ))
                .execute(c)
        },
    )
}

/// The workflow of these notices of `insurer` (notices without one are absent).
pub fn of_notices(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, Workflow>, diesel::result::Error> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    type Row = (
        i64,
        Option<NaiveDate>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Row> = case_workflow::table
            .left_join(
                users::table.on(users::id
                    .nullable()
                    .eq(case_workflow::assignee_user_id)
                    .and(users::insurer_id.eq(case_workflow::insurer_id))),
            )
            .filter(case_workflow::insurer_id.eq(insurer.0))
            .filter(case_workflow::notice_id.eq_any(chunk))
            .select((
                case_workflow::notice_id,
                case_workflow::follow_up_on,
                case_workflow::assignee_user_id,
                users::display_name.nullable(),
                users::email.nullable(),
                users::deactivated_at.nullable(),
            ))
            .load(conn)?;
        for (notice, follow_up_on, assignee, display_name, email, deactivated) in rows {
            let assignee = match (assignee, email) {
                (Some(id), Some(email)) => Some(Assignee {
                    id: UserId(id),
                    name: super::users::shown_name(display_name.as_deref().unwrap_or(""), &email)
                        .to_string(),
                    active: deactivated.is_none(),
                }),
                _ => None,
            };
            out.insert(
                notice,
                Workflow {
                    assignee,
                    follow_up_on,
                },
            );
        }
    }
    Ok(out)
}

/// The workflow of one notice of `insurer` (the default when none was set).
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
) -> Result<Workflow, diesel::result::Error> {
    Ok(of_notices(conn, insurer, std::iter::once(notice))?
        .remove(&notice)
        .unwrap_or_default())
}

/// Appends a メモ (the body already checked and masked). Returns it as stored.
pub fn add_note(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
    author: Option<UserId>,
    author_label: &str,
    body: &str,
) -> Result<Note, diesel::result::Error> {
    diesel::insert_into(case_notes::table)
        .values((
            case_notes::insurer_id.eq(insurer.0),
            case_notes::notice_id.eq(notice),
            case_notes::author_user_id.eq(author.map(|u| u.0)),
            case_notes::author_label.eq(author_label),
            case_notes::body.eq(body),
            case_notes::created_at.eq(now_utc()),
        ))
        .execute(conn)?;
    let id: i64 = case_notes::table
        .filter(case_notes::insurer_id.eq(insurer.0))
        .filter(case_notes::notice_id.eq(notice))
        .order(case_notes::id.desc())
        .select(case_notes::id)
        .first(conn)?;
    notes_where(conn, insurer, notice, Some(id))?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

/// The メモ of one notice of `insurer`, oldest first (the order they were written in). The author
/// is named by their 表示名 today when they have one, else as the note recorded them.
pub fn notes(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
) -> Result<Vec<Note>, diesel::result::Error> {
    notes_where(conn, insurer, notice, None)
}

fn notes_where(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: i64,
    only: Option<i64>,
) -> Result<Vec<Note>, diesel::result::Error> {
    let mut q = case_notes::table
        .left_join(
            users::table.on(users::id
                .nullable()
                .eq(case_notes::author_user_id)
                .and(users::insurer_id.eq(case_notes::insurer_id))),
        )
        .filter(case_notes::insurer_id.eq(insurer.0))
        .filter(case_notes::notice_id.eq(notice))
        .order(case_notes::id.asc())
        .select((
            case_notes::id,
            case_notes::author_user_id,
            case_notes::author_label,
            users::display_name.nullable(),
            case_notes::body,
            case_notes::created_at,
        ))
        .into_boxed::<super::MultiBackend>();
    if let Some(id) = only {
        q = q.filter(case_notes::id.eq(id));
    }
    type Row = (
        i64,
        Option<i64>,
        String,
        Option<String>,
        String,
        NaiveDateTime,
    );
    let rows: Vec<Row> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, author_user_id, label, display_name, body, created_at)| Note {
                id,
                author_user_id,
                author_label: super::users::shown_name(
                    display_name.as_deref().unwrap_or(""),
                    &label,
                )
                .to_string(),
                body,
                created_at,
            },
        )
        .collect())
}

/// The active users of `insurer` who can be assigned, as (id, shown name), by name.
pub fn assignable_users(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<(UserId, String)>, diesel::result::Error> {
    let rows: Vec<(i64, String, String)> = users::table
        .filter(users::insurer_id.eq(insurer.0))
        .filter(users::deactivated_at.is_null())
        .select((users::id, users::display_name, users::email))
        .load(conn)?;
    let mut out: Vec<(UserId, String)> = rows
        .into_iter()
        .map(|(id, d, e)| (UserId(id), super::users::shown_name(&d, &e).to_string()))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
