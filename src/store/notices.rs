//! Reading notices for the case list, the case page and the dashboard counts. Every function takes
//! the insurer: a notice of another insurer is simply not found.
//!
//! Statuses are not stored (they depend on the as-of date): the filters below turn SPEC §2.2 into
//! date comparisons on the stored deadlines, and `evaluate` applies the domain rules to the same
//! stored deadlines, so a filtered list and the statuses it shows always agree.
use super::insurers::InsurerId;
use super::schema::{employers, members, notices, registration_results};
use super::{DbConn, MultiBackend};
use crate::domain::rules::{self, Deadlines, NoticeFacts, EX_OFFICIO_FROM};
use crate::domain::{
    Evaluation, MyNumberStatus, NoticeKind, RegistrationRule, RuleSettings, Status,
};
use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;

/// Database id of a notice (not its 受付番号).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NoticeDbId(pub i64);

/// Which rule a status filter looks at. `five_day` / `standard` are the registration rule
/// restricted to that population (SPEC §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSel {
    Submission,
    Registration,
    FiveDay,
    Standard,
    Loss,
}

impl RuleSel {
    pub fn parse(s: &str) -> Option<RuleSel> {
        match s.trim() {
            "submission" => Some(RuleSel::Submission),
            "registration" => Some(RuleSel::Registration),
            "five_day" => Some(RuleSel::FiveDay),
            "standard" => Some(RuleSel::Standard),
            "loss" => Some(RuleSel::Loss),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            RuleSel::Submission => "submission",
            RuleSel::Registration => "registration",
            RuleSel::FiveDay => "five_day",
            RuleSel::Standard => "standard",
            RuleSel::Loss => "loss",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    ReceivedDesc,
    ReceivedAsc,
    EventDesc,
    EventAsc,
    RegistrationDeadlineAsc,
    RegistrationDeadlineDesc,
    NoticeId,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 7] = [
        (Sort::ReceivedDesc, "-received_on", "受付日（新しい順）"),
        (Sort::ReceivedAsc, "received_on", "受付日（古い順）"),
        (Sort::EventDesc, "-event_date", "事実発生日（新しい順）"),
        (Sort::EventAsc, "event_date", "事実発生日（古い順）"),
        (
            Sort::RegistrationDeadlineAsc,
            "registration_deadline",
            "登録期限（近い順）",
        ),
        (
            Sort::RegistrationDeadlineDesc,
            "-registration_deadline",
            "登録期限（遠い順）",
        ),
        (Sort::NoticeId, "notice_id", "受付番号順"),
    ];
    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL
            .iter()
            .find(|(_, c, _)| *c == s.trim())
            .map(|t| t.0)
    }
    pub fn code(self) -> &'static str {
        Sort::ALL
            .iter()
            .find(|t| t.0 == self)
            .map(|t| t.1)
            .unwrap_or("")
    }
}

/// A validated case-list filter. `employer` is already resolved to this insurer's employer id.
#[derive(Clone, Debug)]
pub struct NoticeFilter {
    pub as_of: NaiveDate,
    pub status: Option<Status>,
    pub rule: Option<RuleSel>,
    pub kind: Option<NoticeKind>,
    pub employer: Option<i64>,
    /// First and last day of a month of receipt.
    pub month: Option<(NaiveDate, NaiveDate)>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
    pub my_number: Option<MyNumberStatus>,
    /// Only notices not registered as of the date.
    pub pending: bool,
    /// Only notices that need a 資格確認書 (SPEC §2.4).
    pub ex_officio: bool,
    pub sort: Sort,
}

impl NoticeFilter {
    pub fn new(as_of: NaiveDate) -> NoticeFilter {
        NoticeFilter {
            as_of,
            status: None,
            rule: None,
            kind: None,
            employer: None,
            month: None,
            received_from: None,
            received_to: None,
            my_number: None,
            pending: false,
            ex_officio: false,
            sort: Sort::ReceivedDesc,
        }
    }
}

type Cond = Box<dyn BoxableExpression<notices::table, MultiBackend, SqlType = Bool>>;

fn all_of(conds: Vec<Cond>) -> Cond {
    conds
        .into_iter()
        .reduce(|a, b| Box::new(a.and(b)))
        .unwrap_or_else(|| Box::new(diesel::dsl::sql::<Bool>("1 = 1")))
}

fn any_of(conds: Vec<Cond>) -> Cond {
    conds
        .into_iter()
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(|| Box::new(diesel::dsl::sql::<Bool>("1 = 0")))
}

/// Registered on or before the as-of date (a later registration has not happened yet then).
fn registered_by(as_of: NaiveDate) -> Cond {
    Box::new(notices::registered_on.assume_not_null().le(as_of))
}

fn not_registered_by(as_of: NaiveDate) -> Cond {
    Box::new(
        notices::registered_on
            .is_null()
            .or(notices::registered_on.assume_not_null().gt(as_of)),
    )
}

/// SPEC §2.2 for the submission rule: complete the day the notice was received.
fn submission_status(s: Status) -> Cond {
    match s {
        Status::Met => Box::new(notices::received_on.le(notices::submission_deadline)),
        Status::Breached => Box::new(notices::received_on.gt(notices::submission_deadline)),
        Status::AtRisk | Status::Open | Status::NotApplicable => any_of(vec![]),
    }
}

/// SPEC §2.2 for the registration rule as of `as_of` with `warn_days`.
fn registration_status(s: Status, as_of: NaiveDate, warn_days: u32) -> Cond {
    let received: Cond = Box::new(notices::received_on.le(as_of));
    let warn_until = as_of
        .checked_add_days(Days::new(u64::from(warn_days)))
        .unwrap_or(as_of);
    match s {
        Status::Met => all_of(vec![
            registered_by(as_of),
            Box::new(
                notices::registered_on
                    .assume_not_null()
                    .le(notices::registration_deadline),
            ),
        ]),
        Status::Breached => any_of(vec![
            all_of(vec![
                registered_by(as_of),
                Box::new(
                    notices::registered_on
                        .assume_not_null()
                        .gt(notices::registration_deadline),
                ),
            ]),
            all_of(vec![
                not_registered_by(as_of),
                received,
                Box::new(notices::registration_deadline.lt(as_of)),
            ]),
        ]),
        Status::AtRisk => all_of(vec![
            not_registered_by(as_of),
            received,
            Box::new(notices::registration_deadline.ge(as_of)),
            Box::new(notices::registration_deadline.le(warn_until)),
        ]),
        Status::Open => all_of(vec![
            not_registered_by(as_of),
            received,
            Box::new(notices::registration_deadline.gt(warn_until)),
        ]),
        Status::NotApplicable => Box::new(notices::received_on.gt(as_of)),
    }
}

/// SPEC §2.4 as a filter.
fn ex_officio_cond(as_of: NaiveDate, ex_officio_days: u32) -> Cond {
    let waited_since = as_of
        .checked_sub_days(Days::new(u64::from(ex_officio_days)))
        .unwrap_or(as_of);
    all_of(vec![
        Box::new(notices::kind.eq_any(["acquisition", "dependent"])),
        Box::new(notices::received_on.ge(EX_OFFICIO_FROM)),
        Box::new(notices::received_on.le(as_of)),
        not_registered_by(as_of),
        Box::new(
            notices::received_on
                .le(waited_since)
                .or(notices::my_number_status.eq_any(["missing", "invalid"])),
        ),
    ])
}

fn filter_cond(insurer: InsurerId, f: &NoticeFilter, settings: &RuleSettings) -> Cond {
    let mut c: Vec<Cond> = vec![Box::new(notices::insurer_id.eq(insurer.0))];
    if let Some(k) = f.kind {
        c.push(Box::new(notices::kind.eq(k.code())));
    }
    if let Some(e) = f.employer {
        c.push(Box::new(notices::employer_id.eq(e)));
    }
    if let Some((first, last)) = f.month {
        c.push(Box::new(notices::received_on.between(first, last)));
    }
    if let Some(d) = f.received_from {
        c.push(Box::new(notices::received_on.ge(d)));
    }
    if let Some(d) = f.received_to {
        c.push(Box::new(notices::received_on.le(d)));
    }
    if let Some(m) = f.my_number {
        c.push(Box::new(notices::my_number_status.eq(m.code())));
    }
    match f.rule {
        Some(RuleSel::FiveDay) => c.push(Box::new(notices::registration_rule.eq("five_day"))),
        Some(RuleSel::Standard) => c.push(Box::new(notices::registration_rule.eq("standard"))),
        Some(RuleSel::Loss) => c.push(Box::new(notices::registration_rule.eq("loss"))),
        _ => {}
    }
    if f.pending {
        c.push(not_registered_by(f.as_of));
        c.push(Box::new(notices::received_on.le(f.as_of)));
    }
    if f.ex_officio {
        c.push(ex_officio_cond(f.as_of, settings.ex_officio_days));
    }
    if let Some(s) = f.status {
        let reg = || registration_status(s, f.as_of, settings.warn_days);
        c.push(match f.rule {
            Some(RuleSel::Submission) => submission_status(s),
            Some(_) => reg(),
            // Either rule: "breached" finds every notice that broke at least one of them.
            None => any_of(vec![submission_status(s), reg()]),
        });
    }
    all_of(c)
}

/// One notice as the list and the API show it.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: i64,
    pub notice_id: String,
    pub kind: String,
    pub employer_id: i64,
    pub member_id: i64,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    pub my_number_status: String,
    pub delay_cause: Option<String>,
    pub registered_at: Option<NaiveDateTime>,
    pub registered_on: Option<NaiveDate>,
    pub submission_deadline: NaiveDate,
    pub registration_deadline: NaiveDate,
    pub registration_rule: String,
    pub batch_id: Option<i64>,
}

impl NoticeRow {
    pub fn kind(&self) -> NoticeKind {
        NoticeKind::parse(&self.kind).unwrap_or(NoticeKind::Acquisition)
    }
    pub fn my_number(&self) -> MyNumberStatus {
        MyNumberStatus::parse_code(&self.my_number_status).unwrap_or(MyNumberStatus::Missing)
    }
    pub fn facts(&self) -> NoticeFacts {
        NoticeFacts {
            kind: self.kind(),
            event_date: self.event_date,
            received_on: self.received_on,
            my_number: self.my_number(),
            registered_on: self.registered_on,
        }
    }
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            submission: self.submission_deadline,
            registration: self.registration_deadline,
            registration_rule: RegistrationRule::parse(&self.registration_rule)
                .unwrap_or(RegistrationRule::Standard),
        }
    }
    /// Both rules as of `as_of`, on the stored deadlines.
    pub fn evaluate(&self, settings: &RuleSettings, as_of: NaiveDate) -> Evaluation {
        rules::evaluate_with(&self.facts(), &self.deadlines(), settings, as_of)
    }
}

/// The employer of a row, for display.
#[derive(Clone, Debug, Serialize)]
pub struct EmployerRef {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
}

pub fn count(
    conn: &mut DbConn,
    insurer: InsurerId,
    settings: &RuleSettings,
    f: &NoticeFilter,
) -> Result<i64, diesel::result::Error> {
    notices::table
        .filter(filter_cond(insurer, f, settings))
        .select(count_star())
        .first(conn)
}

/// Rows of the filtered list in its order, `limit` from `offset` (also used by the exports, which
/// walk the whole list in pages to keep memory flat).
pub fn rows(
    conn: &mut DbConn,
    insurer: InsurerId,
    settings: &RuleSettings,
    f: &NoticeFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<NoticeRow>, diesel::result::Error> {
    let q = notices::table
        .filter(filter_cond(insurer, f, settings))
        .select(NoticeRow::as_select())
        .into_boxed::<MultiBackend>();
    let q = match f.sort {
        Sort::ReceivedDesc => q.order((notices::received_on.desc(), notices::id.desc())),
        Sort::ReceivedAsc => q.order((notices::received_on.asc(), notices::id.asc())),
        Sort::EventDesc => q.order((notices::event_date.desc(), notices::id.desc())),
        Sort::EventAsc => q.order((notices::event_date.asc(), notices::id.asc())),
        Sort::RegistrationDeadlineAsc => {
            q.order((notices::registration_deadline.asc(), notices::id.asc()))
        }
        Sort::RegistrationDeadlineDesc => {
            q.order((notices::registration_deadline.desc(), notices::id.desc()))
        }
        Sort::NoticeId => q.order(notices::notice_id.asc()),
    };
    q.offset(offset.max(0)).limit(limit.max(0)).load(conn)
}

/// Rows of the filtered list with an id above `after`, in id order: keyset paging for reading a
/// whole insurer without OFFSET.
pub fn rows_after(
    conn: &mut DbConn,
    insurer: InsurerId,
    settings: &RuleSettings,
    f: &NoticeFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<NoticeRow>, diesel::result::Error> {
    notices::table
        .filter(filter_cond(insurer, f, settings))
        .filter(notices::id.gt(after))
        .order(notices::id.asc())
        .limit(limit)
        .select(NoticeRow::as_select())
        .load(conn)
}

pub fn employer_refs(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, EmployerRef>, diesel::result::Error> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(i64, String, Option<String>)> = employers::table
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(employers::id.eq_any(chunk))
            .select((employers::id, employers::code, employers::name))
            .load(conn)?;
        for (id, code, name) in found {
            out.insert(id, EmployerRef { id, code, name });
        }
    }
    Ok(out)
}

/// The employer id for a code of this insurer.
pub fn employer_id_by_code(
    conn: &mut DbConn,
    insurer: InsurerId,
    code: &str,
) -> Result<Option<i64>, diesel::result::Error> {
    employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .filter(employers::code.eq(code.trim()))
        .select(employers::id)
        .first(conn)
        .optional()
}

/// A member as the case page shows it (personal data: viewing it is audited).
#[derive(Clone, Debug, Serialize, Queryable)]
pub struct MemberView {
    pub symbol: String,
    pub number: String,
    pub dependent_seq: String,
    pub name: Option<String>,
    pub name_kana: Option<String>,
}

/// A registration result row for the case timeline.
#[derive(Clone, Debug, Serialize, Queryable)]
pub struct RegistrationView {
    pub result: String,
    pub registered_at: Option<NaiveDateTime>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub batch_id: Option<i64>,
    pub line: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub struct NoticeDetail {
    pub row: NoticeRow,
    pub employer: EmployerRef,
    pub member: MemberView,
    pub registrations: Vec<RegistrationView>,
}

/// One notice of this insurer, with its employer, member and registration results; `None` for an
/// id that does not exist or belongs to another insurer.
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: NoticeDbId,
) -> Result<Option<NoticeDetail>, diesel::result::Error> {
    let Some(row) = notices::table
        .filter(notices::insurer_id.eq(insurer.0))
        .filter(notices::id.eq(id.0))
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let employer = employer_refs(conn, insurer, std::iter::once(row.employer_id))?
        .remove(&row.employer_id)
        .ok_or(diesel::result::Error::NotFound)?;
    let member: MemberView = members::table
        .filter(members::insurer_id.eq(insurer.0))
        .filter(members::id.eq(row.member_id))
        .select((
            members::symbol,
            members::number,
            members::dependent_seq,
            members::name,
            members::name_kana,
        ))
        .first(conn)?;
    let registrations: Vec<RegistrationView> = registration_results::table
        .filter(registration_results::insurer_id.eq(insurer.0))
        .filter(registration_results::notice_id.eq(&row.notice_id))
        .order((
            registration_results::created_at.asc(),
            registration_results::id.asc(),
        ))
        .select((
            registration_results::result,
            registration_results::registered_at,
            registration_results::error_code,
            registration_results::error_message,
            registration_results::batch_id,
            registration_results::line,
            registration_results::created_at,
        ))
        .load(conn)?;
    Ok(Some(NoticeDetail {
        row,
        employer,
        member,
        registrations,
    }))
}
