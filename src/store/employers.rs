//! Employers (事業所 / 所属所) of an insurer: their contacts, and how each one is doing on the rules.
use super::insurers::InsurerId;
use super::schema::{employers, notices};
use super::users::Email;
use super::{now_utc, DbConn};
use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Database id of an employer (not its 事業所記号).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmployerId(pub i64);

/// More addresses than this for one employer is a paste accident, not a contact list.
pub const MAX_CONTACTS: usize = 20;

/// Reads the contact addresses typed into a form or sent to the API: separated by commas, 、,
/// semicolons, spaces or new lines; duplicates dropped, order kept.
pub fn parse_contacts(input: &str) -> Result<Vec<Email>, String> {
    let mut out: Vec<Email> = Vec::new();
    for part in split_contacts(input) {
        let e = Email::parse(part)?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.len() > MAX_CONTACTS {
        return Err(format!(
            "連絡先メールアドレスは{MAX_CONTACTS}件までです（{}件指定されています）",
            out.len()
        ));
    }
    Ok(out)
}

/// The addresses of the stored `contact_emails` text (comma or newline separated).
pub fn contacts_of(stored: &str) -> Vec<String> {
    split_contacts(stored).map(str::to_string).collect()
}

fn split_contacts(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| matches!(c, ',' | '、' | ';' | '，') || c.is_whitespace())
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = employers)]
struct EmployerRow {
    id: i64,
    code: String,
    name: Option<String>,
    contact_emails: String,
    opt_out: bool,
    updated_at: NaiveDateTime,
    late_with_numbers_since: Option<NaiveDate>,
    late_with_numbers_by: Option<String>,
    postal_code: Option<String>,
    address: Option<String>,
}

/// An employer with its figures as of a date. Submission counts cover every stored notice; the
/// registration counts are the notices still waiting for registration on that date (SPEC §2.2).
#[derive(Clone, Debug, Serialize)]
pub struct EmployerSummary {
    pub id: EmployerId,
    pub code: String,
    pub name: Option<String>,
    pub contact_emails: Vec<String>,
    pub opt_out: bool,
    pub updated_at: NaiveDateTime,
    /// 「マイナンバー提出遅延」: marked by the insurer as late with My Numbers since this date (SPEC
    /// §4.1); None when not marked.
    pub my_number_late_since: Option<NaiveDate>,
    /// Who marked it (an e-mail).
    pub my_number_late_by: Option<String>,
    /// The postal address letters to its members go 気付 when a member's own is not known.
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub notices: i64,
    /// Notices received on or before their submission deadline.
    pub submission_met: i64,
    /// Not registered as of the date, and the registration deadline has passed.
    pub open_breached: i64,
    /// Not registered as of the date, deadline within `warn_days`.
    pub open_at_risk: i64,
}

impl EmployerSummary {
    /// Share of notices submitted in time; None without notices.
    pub fn submission_rate(&self) -> Option<f64> {
        (self.notices > 0).then(|| self.submission_met as f64 / self.notices as f64)
    }

    /// Worst first: most open breaches, then most at risk, then the lowest submission rate.
    fn worst_first(a: &EmployerSummary, b: &EmployerSummary) -> std::cmp::Ordering {
        let rate = |e: &EmployerSummary| e.submission_rate().unwrap_or(f64::INFINITY);
        b.open_breached
            .cmp(&a.open_breached)
            .then(b.open_at_risk.cmp(&a.open_at_risk))
            .then(rate(a).total_cmp(&rate(b)))
            .then(b.notices.cmp(&a.notices))
            .then(a.code.cmp(&b.code))
    }
}

/// One employer's counts (see [`EmployerSummary`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    notices: i64,
    submission_met: i64,
    open_breached: i64,
    open_at_risk: i64,
}

/// The counts of every employer of an insurer as of a date. They change only with the insurer's
/// data version (imports, settings) and the date, so callers may keep them under that key.
#[derive(Clone, Debug, Default)]
pub struct Figures(HashMap<i64, Counts>);

type Cond = Box<
    dyn diesel::expression::BoxableExpression<
        notices::table,
        super::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

/// The insurer's notices (of `only` employer), and `more`.
fn scope(insurer: InsurerId, only: Option<EmployerId>, more: Vec<Cond>) -> Cond {
    let mut c: Vec<Cond> = vec![Box::new(notices::insurer_id.eq(insurer.0))];
    if let Some(e) = only {
        c.push(Box::new(notices::employer_id.eq(e.0)));
    }
    c.extend(more);
    all_of(c)
}

fn all_of(conds: Vec<Cond>) -> Cond {
    conds
        .into_iter()
        .reduce(|a, b| Box::new(a.and(b)))
        .expect("the insurer condition is always there")
}

/// Counts per employer (all of them, or `only` one).
///
/// Notices and submissions: two grouped queries. Open registrations: the rows not registered by
/// `as_of` whose deadline is at most `warn_days` away, read through the (insurer_id,
/// registered_on, registration_deadline) index and counted here: there are few of them, and a
/// grouped query would walk the whole (insurer_id, employer_id) index instead on SQLite, whose
/// planner prefers an index that already gives the group order.
pub fn figures(
    conn: &mut DbConn,
    insurer: InsurerId,
    only: Option<EmployerId>,
    as_of: NaiveDate,
    warn_days: u32,
) -> Result<Figures, diesel::result::Error> {
    let scope = |more: Vec<Cond>| scope(insurer, only, more);
    let grouped = |cond: Cond, conn: &mut DbConn| {
        notices::table
            .filter(cond)
            .group_by(notices::employer_id)
            .select((notices::employer_id, count_star()))
            .load::<(i64, i64)>(conn)
    };
    let mut out: HashMap<i64, Counts> = HashMap::new();
    for (id, n) in grouped(scope(vec![]), conn)? {
        out.entry(id).or_default().notices = n;
    }
    let met = scope(vec![Box::new(
        notices::received_on.le(notices::submission_deadline),
    )]);
    for (id, n) in grouped(met, conn)? {
        out.entry(id).or_default().submission_met = n;
    }
    add_open(conn, insurer, only, as_of, warn_days, &mut out)?;
    Ok(Figures(out))
}

/// [`figures`] of every employer, with each one's notices and submissions met (all time) already
/// known: (employer id, notices, met), from the report rollups (`reports::rollups::employer_totals`)
/// instead of two grouped queries over every notice.
pub fn figures_with_totals(
    conn: &mut DbConn,
    insurer: InsurerId,
    totals: impl IntoIterator<Item = (i64, i64, i64)>,
    as_of: NaiveDate,
    warn_days: u32,
) -> Result<Figures, diesel::result::Error> {
    let mut out: HashMap<i64, Counts> = HashMap::new();
    for (id, notices, submission_met) in totals {
        let c = out.entry(id).or_default();
        c.notices = notices;
        c.submission_met = submission_met;
    }
    add_open(conn, insurer, None, as_of, warn_days, &mut out)?;
    Ok(Figures(out))
}

/// Adds the open registrations (breached, at risk) as of `as_of` to the counts.
fn add_open(
    conn: &mut DbConn,
    insurer: InsurerId,
    only: Option<EmployerId>,
    as_of: NaiveDate,
    warn_days: u32,
    out: &mut HashMap<i64, Counts>,
) -> Result<(), diesel::result::Error> {
    let warn_until = as_of
        .checked_add_days(Days::new(u64::from(warn_days)))
        .unwrap_or(as_of);
    let scope = |more: Vec<Cond>| scope(insurer, only, more);
    // Not registered by `as_of`: no registration yet, or one dated later (not happened then).
    let unregistered: [Cond; 2] = [
        Box::new(notices::registered_on.is_null()),
        Box::new(notices::registered_on.assume_not_null().gt(as_of)),
    ];
    for cond in unregistered {
        let rows: Vec<(i64, NaiveDate, NaiveDate)> = notices::table
            .filter(scope(vec![
                cond,
                Box::new(notices::registration_deadline.le(warn_until)),
            ]))
            .select((
                notices::employer_id,
                notices::received_on,
                notices::registration_deadline,
            ))
            .load(conn)?;
        // SPEC §2.2 for a notice waiting on `as_of` (received by then, not registered by then).
        for (id, received_on, deadline) in rows {
            if received_on > as_of {
                continue;
            }
            let c = out.entry(id).or_default();
            if deadline < as_of {
                c.open_breached += 1;
            } else {
                c.open_at_risk += 1;
            }
        }
    }
    Ok(())
}

fn summary(r: EmployerRow, f: &Figures) -> EmployerSummary {
    let c = f.0.get(&r.id).copied().unwrap_or_default();
    EmployerSummary {
        id: EmployerId(r.id),
        notices: c.notices,
        submission_met: c.submission_met,
        open_breached: c.open_breached,
        open_at_risk: c.open_at_risk,
        contact_emails: contacts_of(&r.contact_emails),
        code: r.code,
        name: r.name,
        opt_out: r.opt_out,
        updated_at: r.updated_at,
        my_number_late_since: r.late_with_numbers_since,
        my_number_late_by: r.late_with_numbers_by,
        postal_code: r.postal_code,
        address: r.address,
    }
}

/// Every employer of the insurer with its figures, worst first.
pub fn summaries(
    conn: &mut DbConn,
    insurer: InsurerId,
    figures: &Figures,
) -> Result<Vec<EmployerSummary>, diesel::result::Error> {
    let rows: Vec<EmployerRow> = employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .select(EmployerRow::as_select())
        .load(conn)?;
    let mut out: Vec<EmployerSummary> = rows.into_iter().map(|r| summary(r, figures)).collect();
    out.sort_by(EmployerSummary::worst_first);
    Ok(out)
}

/// One employer of the insurer with its figures; None for an id of another insurer.
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
    figures: &Figures,
) -> Result<Option<EmployerSummary>, diesel::result::Error> {
    Ok(employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .filter(employers::id.eq(id.0))
        .select(EmployerRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| summary(r, figures)))
}

/// The 事業所記号 of an employer of this insurer (None for another insurer's id).
pub fn code_of(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
) -> Result<Option<String>, diesel::result::Error> {
    employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .filter(employers::id.eq(id.0))
        .select(employers::code)
        .first(conn)
        .optional()
}

/// What staff can edit on an employer, as stored: contacts, opt-out, postal code and address.
#[derive(Clone, Debug)]
pub struct Editable {
    pub code: String,
    pub contact_emails: Vec<String>,
    pub opt_out: bool,
    pub postal_code: Option<String>,
    pub address: Option<String>,
}

/// The editable fields of an employer of this insurer (None for another insurer's id).
pub fn editable(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
) -> Result<Option<Editable>, diesel::result::Error> {
    type Row = (String, String, bool, Option<String>, Option<String>);
    let row: Option<Row> = employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .filter(employers::id.eq(id.0))
        .select((
            employers::code,
            employers::contact_emails,
            employers::opt_out,
            employers::postal_code,
            employers::address,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(code, contacts, opt_out, postal_code, address)| Editable {
            code,
            contact_emails: contacts_of(&contacts),
            opt_out,
            postal_code,
            address,
        }),
    )
}

/// Sets an employer's contact addresses and opt-out. False when the id is not this insurer's.
pub fn update_contacts(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
    emails: &[Email],
    opt_out: bool,
) -> Result<bool, diesel::result::Error> {
    let text = emails
        .iter()
        .map(Email::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    let n = diesel::update(
        employers::table
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(employers::id.eq(id.0)),
    )
    .set((
        employers::contact_emails.eq(text),
        employers::opt_out.eq(opt_out),
        employers::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the employer's postal address (None clears). False when the id is not this insurer's.
pub fn update_address(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
    postal_code: Option<&str>,
    address: Option<&str>,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        employers::table
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(employers::id.eq(id.0)),
    )
    .set((
        employers::postal_code.eq(postal_code),
        employers::address.eq(address),
        employers::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// A 「マイナンバー提出遅延」 mark: since when, by whom.
pub type LateMark = (NaiveDate, Option<String>);

/// The employer's 「マイナンバー提出遅延」 mark (inner None: not marked); None for an id of another
/// insurer.
pub fn my_number_late(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
) -> Result<Option<Option<LateMark>>, diesel::result::Error> {
    let row: Option<(Option<NaiveDate>, Option<String>)> = employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .filter(employers::id.eq(id.0))
        .select((
            employers::late_with_numbers_since,
            employers::late_with_numbers_by,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(since, by)| since.map(|d| (d, by))))
}

/// Marks the employer as late with My Numbers since `since` by `by` (SPEC §4.1), or clears the mark
/// with None. False when the id is not this insurer's. The caller audits the change.
pub fn set_my_number_late(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
    mark: Option<(NaiveDate, &str)>,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        employers::table
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(employers::id.eq(id.0)),
    )
    .set((
        employers::late_with_numbers_since.eq(mark.map(|m| m.0)),
        employers::late_with_numbers_by.eq(mark.map(|m| m.1)),
        employers::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the employer's opt-out (the one-click unsubscribe). False when it was already set or the
/// employer is not the insurer's.
pub fn set_opt_out(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: EmployerId,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        employers::table
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(employers::id.eq(id.0))
            .filter(employers::opt_out.eq(false)),
    )
    .set((
        employers::opt_out.eq(true),
        employers::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_split_on_every_usual_separator_and_drop_duplicates() {
        let got =
            parse_contacts(" a@example.jp, B@example.jp\nc@example.jp、a@example.jp;d@example.jp ")
                .unwrap();
        let got: Vec<&str> = got.iter().map(Email::as_str).collect();
        assert_eq!(
            got,
            [
                "a@example.jp",
                "b@example.jp",
                "c@example.jp",
                "d@example.jp"
            ]
        );
        assert_eq!(parse_contacts("  \n ").unwrap(), Vec::<Email>::new());
        assert!(parse_contacts("a@example.jp, not-an-address")
            .unwrap_err()
            .contains("not-an-address"));
        assert_eq!(
            contacts_of("a@example.jp\nb@example.jp,c@example.jp"),
            ["a@example.jp", "b@example.jp", "c@example.jp"]
        );
    }

    #[test]
    fn too_many_contacts_are_refused() {
        let many: Vec<String> = (0..=MAX_CONTACTS)
            .map(|i| format!("u{i}@example.jp"))
            .collect();
        assert!(parse_contacts(&many.join(",")).is_err());
    }
}
