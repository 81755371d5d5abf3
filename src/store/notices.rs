//! Reading notices for the case list, the case page and the dashboard counts. Every function takes
//! the insurer: a notice of another insurer is simply not found.
//!
//! Statuses are not stored (they depend on the as-of date): the filters below turn SPEC §2.2 into
//! date comparisons on the stored deadlines, and `evaluate` applies the domain rules to the same
//! stored deadlines, so a filtered list and the statuses it shows always agree.
use super::insurers::InsurerId;
use super::schema::{employers, members, notices, registration_results};
use super::users::UserId;
use super::{DbConn, Dialect, MultiBackend};
use crate::domain::results::{order, FilePlace};
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
    /// Days past the registration deadline as of the date (done late: days it was late), most first.
    RegistrationDaysOver,
    /// Days the notice reached the insurer after its submission deadline, most first.
    SubmissionDaysOver,
    NoticeId,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 9] = [
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
        (
            Sort::RegistrationDaysOver,
            "-registration_days_over",
            "登録の超過日数（多い順）",
        ),
        (
            Sort::SubmissionDaysOver,
            "-submission_days_over",
            "提出の超過日数（多い順）",
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
    /// Registration deadline on or after / on or before (the dashboard's 「今週が期限」).
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    /// Only the 登録エラー worklist: not registered, and the latest result is an error.
    pub reg_error: bool,
    /// Only the notices a search found (氏名 / カナ / 記号番号 / 受付番号).
    pub search: Option<Search>,
    /// Only the cases assigned to this user (`mine=1`: the caller).
    pub assignee: Option<UserId>,
    /// Only the open cases whose 次回対応日 has come: set on or before the as-of date, the notice
    /// received and not registered by then (the same "open" as `pending`).
    pub follow_up_due: bool,
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
            due_from: None,
            due_to: None,
            reg_error: false,
            search: None,
            assignee: None,
            follow_up_due: false,
            sort: Sort::ReceivedDesc,
        }
    }
}

/// Members one search finds at most. A name of one or two letters matches thousands; the list
/// then holds the notices of the first ones in name order and says so (`Search::truncated`).
pub const SEARCH_MEMBERS_MAX: usize = 1_000;

/// What a search text found, resolved once per request through the member indexes: the members
/// whose folded 氏名 or カナ starts with it (`domain::search`), or whose 記号・番号 (・枝番) it is
/// (`1010 123`, `1010-123-01`, or the 番号 alone), and the notice whose 受付番号 it is. The list
/// then filters on those ids, so a search never reads the insurer's whole table.
#[derive(Clone)]
pub struct Search {
    /// The text as typed, trimmed.
    pub text: String,
    member_ids: Vec<i64>,
    /// The row of the notice whose 受付番号 the text is.
    notice_row: Option<i64>,
    /// More than [`SEARCH_MEMBERS_MAX`] members matched.
    pub truncated: bool,
}

/// The case-list count cache keys on the filter's `Debug`: the text (with the data version it
/// is cached under) identifies the search, the ids need not be spelled out.
impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("text", &self.text)
            .field("members", &self.member_ids.len())
            .finish()
    }
}

/// Looks `text` up among this insurer's members and 受付番号 (see [`Search`]).
pub fn search(
    conn: &mut DbConn,
    insurer: InsurerId,
    text: &str,
) -> Result<Search, diesel::result::Error> {
    use crate::domain::search::{fold, upper_bound};
    let text = text.trim().to_string();
    let limit = SEARCH_MEMBERS_MAX as i64 + 1;
    let mut ids: Vec<i64> = Vec::new();
    let mut truncated = false;
    if let Some(low) = fold(&text) {
        if let Some(high) = upper_bound(&low) {
            // The members whose folded column starts with the text, in its order (index range).
            macro_rules! starting_with {
                ($column:expr) => {
                    members::table
                        .filter(members::insurer_id.eq(insurer.0))
                        .filter($column.ge(&low))
                        .filter($column.lt(&high))
                        .order(($column.asc(), members::id.asc()))
                        .select(members::id)
                        .limit(limit)
                        .load::<i64>(conn)?
                };
            }
            let by_name = starting_with!(members::search_name);
            let by_kana = starting_with!(members::search_kana);
            truncated |= by_name.len() > SEARCH_MEMBERS_MAX || by_kana.len() > SEARCH_MEMBERS_MAX;
            ids.extend(by_name);
            ids.extend(by_kana);
        }
    }
    let half: String = text
        .chars()
        .map(crate::domain::types::halfwidth_ascii)
        .collect();
    let parts: Vec<&str> = half
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '‐' | '−' | '・'))
        .filter(|p| !p.is_empty())
        .collect();
    let mut by_code = members::table
        .filter(members::insurer_id.eq(insurer.0))
        .select(members::id)
        .order(members::id.asc())
        .limit(limit)
        .into_boxed::<MultiBackend>();
    by_code = match parts.as_slice() {
        [number] => by_code.filter(members::number.eq(number.to_string())),
        [symbol, number] => by_code
            .filter(members::number.eq(number.to_string()))
            .filter(members::symbol.eq(symbol.to_string())),
        [symbol, number, seq] => by_code
            .filter(members::number.eq(number.to_string()))
            .filter(members::symbol.eq(symbol.to_string()))
            .filter(members::dependent_seq.eq(seq.to_string())),
        _ => by_code.filter(diesel::dsl::sql::<Bool>("1 = 0")),
    };
    if (1..=3).contains(&parts.len()) {
        let found: Vec<i64> = by_code.load(conn)?;
        truncated |= found.len() > SEARCH_MEMBERS_MAX;
        ids.extend(found);
    }
    // The first of each member, in the order found (names, kana, then codes, each in order).
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    if ids.len() > SEARCH_MEMBERS_MAX {
        truncated = true;
        ids.truncate(SEARCH_MEMBERS_MAX);
    }
    let notice_row = match crate::domain::NoticeId::parse(&text) {
        Ok(id) => notices::table
            .filter(notices::insurer_id.eq(insurer.0))
            .filter(notices::notice_id.eq(id.as_str()))
            .select(notices::id)
            .first(conn)
            .optional()?,
        Err(_) => None,
    };
    Ok(Search {
        text,
        member_ids: ids,
        notice_row,
        truncated,
    })
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

/// The notices a search found, as row ids from a subquery that takes the insurer. It stands in
/// for the list's `insurer_id = ?`: with that term beside it SQLite (which keeps no statistics)
/// walks the insurer's whole received-date index to save a sort, instead of fetching the few
/// rows found. The ids are our own integers, written into the SQL.
fn search_cond(insurer: InsurerId, s: &Search) -> Cond {
    let join = |ids: &[i64]| {
        ids.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ins = insurer.0;
    let mut parts: Vec<String> = Vec::new();
    if !s.member_ids.is_empty() {
        parts.push(format!(
            "SELECT n.id FROM notices n WHERE n.insurer_id = {ins} AND n.member_id IN ({})",
            join(&s.member_ids)
        ));
    }
    if let Some(row) = s.notice_row {
        parts.push(format!(
            "SELECT n.id FROM notices n WHERE n.insurer_id = {ins} AND n.id = {row}"
        ));
    }
    if parts.is_empty() {
        return any_of(vec![]);
    }
    Box::new(diesel::dsl::sql::<Bool>(&format!(
        "notices.id IN ({})",
        parts.join(" UNION ALL ")
    )))
}

/// The 登録エラー worklist as of `as_of`: received, not registered, with an error result that
/// counts then — undated, or dated (in JST) from its receipt to `as_of`. A success that counts
/// would have registered the notice, so that error is necessarily its latest result.
fn reg_error_cond(sql: &Dialect, as_of: NaiveDate) -> Cond {
    let at = sql.jst_date("r.registered_at");
    let until = sql.date(as_of);
    all_of(vec![
        not_registered_by(as_of),
        Box::new(notices::received_on.le(as_of)),
        Box::new(diesel::dsl::sql::<Bool>(&format!(
            "EXISTS (SELECT 1 FROM registration_results r \
             WHERE r.insurer_id = notices.insurer_id AND r.notice_id = notices.notice_id \
             AND r.result = 'error' \
             AND (r.registered_at IS NULL OR {at} BETWEEN notices.received_on AND {until}))"
        ))),
    ])
}

/// The notices whose `case_workflow` row matches `cond` (SQL on the row `w`), as a subquery that
/// takes the insurer. Only our own integers and dates are written into the SQL.
fn workflow_cond(insurer: InsurerId, cond: &str) -> Cond {
    Box::new(diesel::dsl::sql::<Bool>(&format!(
        "notices.id IN (SELECT w.notice_id FROM case_workflow w WHERE w.insurer_id = {} AND {cond})",
        insurer.0
    )))
}

fn filter_cond(
    sql: &Dialect,
    insurer: InsurerId,
    f: &NoticeFilter,
    settings: &RuleSettings,
) -> Cond {
    let mut c: Vec<Cond> = vec![match &f.search {
        Some(s) => search_cond(insurer, s),
        None => Box::new(notices::insurer_id.eq(insurer.0)),
    }];
    if f.reg_error {
        c.push(reg_error_cond(sql, f.as_of));
    }
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
    if let Some(d) = f.due_from {
        c.push(Box::new(notices::registration_deadline.ge(d)));
    }
    if let Some(d) = f.due_to {
        c.push(Box::new(notices::registration_deadline.le(d)));
    }
    if let Some(u) = f.assignee {
        c.push(workflow_cond(
            insurer,
            &format!("w.assignee_user_id = {}", u.0),
        ));
    }
    if f.follow_up_due {
        c.push(workflow_cond(
            insurer,
            &format!("w.follow_up_on <= {}", sql.date(f.as_of)),
        ));
        c.push(not_registered_by(f.as_of));
        c.push(Box::new(notices::received_on.le(f.as_of)));
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
#[derive(Clone, Debug, Serialize, Queryable)]
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
    let sql = Dialect::of(conn);
    notices::table
        .filter(filter_cond(&sql, insurer, f, settings))
        .select(count_star())
        .first(conn)
}

/// Rows of the filtered list in its order, `limit` from `offset` (a page of the case list).
pub fn rows(
    conn: &mut DbConn,
    insurer: InsurerId,
    settings: &RuleSettings,
    f: &NoticeFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<NoticeRow>, diesel::result::Error> {
    let sql = Dialect::of(conn);
    let q = notices::table
        .filter(filter_cond(&sql, insurer, f, settings))
        .select(NoticeRow::as_select())
        .into_boxed::<MultiBackend>();
    in_list_order(q, &sql, f)
        .offset(offset.max(0))
        .limit(limit.max(0))
        .load(conn)
}

/// The ids of every row of the filtered list, in its order: what an export writes, read first so
/// that the rows can then be read by primary key a chunk at a time (`rows_by_id`) instead of
/// walking the list again from its start for every chunk (OFFSET).
pub fn ids(
    conn: &mut DbConn,
    insurer: InsurerId,
    settings: &RuleSettings,
    f: &NoticeFilter,
) -> Result<Vec<i64>, diesel::result::Error> {
    let sql = Dialect::of(conn);
    let q = notices::table
        .filter(filter_cond(&sql, insurer, f, settings))
        .select(notices::id)
        .into_boxed::<MultiBackend>();
    in_list_order(q, &sql, f).load(conn)
}

/// `q` in the order of the list's sort. Every order ends on the row id, so it is total, and each
/// has an index that yields it (migration `000021_case_list_indexes`, README "Indexes of the case
/// list") except the registration days-over, which depends on the as-of date.
fn in_list_order<'a, ST: 'a>(
    q: notices::BoxedQuery<'a, MultiBackend, ST>,
    sql: &Dialect,
    f: &NoticeFilter,
) -> notices::BoxedQuery<'a, MultiBackend, ST> {
    let days_over = |deadline: &str, done: &str| {
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&sql.days_between(deadline, done))
    };
    match f.sort {
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
        Sort::RegistrationDaysOver => {
            // Done by the date: its completion; otherwise the date itself (SPEC §2.2 days_over).
            let until = sql.date(f.as_of);
            let done = format!(
                "CASE WHEN notices.registered_on IS NOT NULL AND notices.registered_on <= {until} \
                 THEN notices.registered_on ELSE {until} END"
            );
            q.order((
                days_over("notices.registration_deadline", &done).desc(),
                notices::id.desc(),
            ))
        }
        // The expression of the index `notices_submission_days`, spelled the same.
        Sort::SubmissionDaysOver => q.order((
            days_over("notices.submission_deadline", "notices.received_on").desc(),
            notices::id.desc(),
        )),
        Sort::NoticeId => q.order(notices::notice_id.asc()),
    }
}

/// The rows of these ids (of this insurer), in the order of `ids`. Looked up by primary key alone
/// with the insurer checked on each row, as [`by_id`] does.
pub fn rows_by_id(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: &[i64],
) -> Result<Vec<NoticeRow>, diesel::result::Error> {
    let load = |sel: IdSel<'_>| {
        let q = notices::table
            .select((notices::insurer_id, NoticeRow::as_select()))
            .into_boxed::<MultiBackend>();
        match sel {
            IdSel::Range(first, last) => q.filter(notices::id.between(first, last)),
            IdSel::List(ids) => q.filter(notices::id.eq_any(ids)),
        }
        .load(conn)
    };
    let mut found = by_id(insurer, ids.iter().copied(), load, |r: &NoticeRow| r.id)?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
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
    let sql = Dialect::of(conn);
    notices::table
        .filter(filter_cond(&sql, insurer, f, settings))
        .filter(notices::id.gt(after))
        .order(notices::id.asc())
        .limit(limit)
        .select(NoticeRow::as_select())
        .load(conn)
}

/// Which rows one look-up by primary key reads: the ids from the first to the last, or these ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdSel<'a> {
    Range(i64, i64),
    List(&'a [i64]),
}

/// Ids a list look-up takes at most.
const IDS_PER_LIST: usize = 500;
/// A run of ids at least this long, at most [`RUN_GAP`] apart, is read as a range.
const RUN_MIN: usize = 32;
/// The widest gap between two ids of one range: the rows between them are read for nothing, at
/// most twice as many as the rows wanted.
const RUN_GAP: i64 = 2;

/// Splits `ids` (sorted, without repeats) into the long dense runs that are read as ranges (a
/// month's notices; the members the import created in the order of their first notice) and the
/// other ids, read in lists. A range is one descent of the primary key and a walk along it; a
/// list is a descent per id.
fn dense_runs(ids: &[i64]) -> (Vec<(i64, i64)>, Vec<i64>) {
    let mut runs = Vec::new();
    let mut scattered = Vec::new();
    let mut start = 0;
    while start < ids.len() {
        let mut end = start + 1;
        while end < ids.len() && ids[end] - ids[end - 1] <= RUN_GAP {
            end += 1;
        }
        if end - start >= RUN_MIN {
            runs.push((ids[start], ids[end - 1]));
        } else {
            scattered.extend_from_slice(&ids[start..end]);
        }
        start = end;
    }
    (runs, scattered)
}

/// Rows by primary key: the dense runs of ids as ranges, the others [`IDS_PER_LIST`] a query
/// ([`dense_runs`]). `load` answers (insurer id, row) and the rows of another insurer are dropped
/// here, as are the rows a range read that were not asked for: a lookup by id alone stays a
/// primary-key lookup, whereas with `insurer_id = ?` beside it SQLite (which has no statistics)
/// walks the insurer's whole `(insurer_id, …)` index for every chunk — 12 s for a month's CSV
/// export at 1,000,000 members.
fn by_id<T>(
    insurer: InsurerId,
    ids: impl Iterator<Item = i64>,
    mut load: impl FnMut(IdSel<'_>) -> Result<Vec<(i64, T)>, diesel::result::Error>,
    id_of: impl Fn(&T) -> i64,
) -> Result<std::collections::HashMap<i64, T>, diesel::result::Error> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let (runs, scattered) = dense_runs(&ids);
    let selections = runs
        .iter()
        .map(|&(first, last)| IdSel::Range(first, last))
        .chain(scattered.chunks(IDS_PER_LIST).map(IdSel::List));
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for sel in selections {
        let range = matches!(sel, IdSel::Range(..));
        out.extend(
            load(sel)?
                .into_iter()
                .filter(|(owner, row)| {
                    *owner == insurer.0 && (!range || ids.binary_search(&id_of(row)).is_ok())
                })
                .map(|(_, row)| (id_of(&row), row)),
        );
    }
    Ok(out)
}

/// The employers of these ids, of this insurer.
pub fn employer_refs(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, EmployerRef>, diesel::result::Error> {
    let load = |sel: IdSel<'_>| {
        let q = employers::table
            .select((
                employers::insurer_id,
                (employers::id, employers::code, employers::name),
            ))
            .into_boxed::<MultiBackend>();
        match sel {
            IdSel::Range(first, last) => q.filter(employers::id.between(first, last)),
            IdSel::List(ids) => q.filter(employers::id.eq_any(ids)),
        }
        .load(conn)
    };
    by_id(insurer, ids, load, |e: &EmployerRef| e.id)
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

/// The member of a notice as the case list and the case page show it.
#[derive(Clone, Debug, Serialize, Queryable)]
pub struct MemberRef {
    pub id: i64,
    pub symbol: String,
    pub number: String,
    pub dependent_seq: String,
    pub name: Option<String>,
    pub name_kana: Option<String>,
}

/// The members of these ids, of this insurer.
pub fn member_refs(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, MemberRef>, diesel::result::Error> {
    let load = |sel: IdSel<'_>| {
        let q = members::table
            .select((
                members::insurer_id,
                (
                    members::id,
                    members::symbol,
                    members::number,
                    members::dependent_seq,
                    members::name,
                    members::name_kana,
                ),
            ))
            .into_boxed::<MultiBackend>();
        match sel {
            IdSel::Range(first, last) => q.filter(members::id.between(first, last)),
            IdSel::List(ids) => q.filter(members::id.eq_any(ids)),
        }
        .load(conn)
    };
    by_id(insurer, ids, load, |m: &MemberRef| m.id)
}

/// A registration result row of a notice.
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

impl RegistrationView {
    fn place(&self) -> (Option<NaiveDateTime>, FilePlace) {
        (
            self.registered_at,
            FilePlace {
                batch: self.batch_id.unwrap_or(i64::MAX),
                line: self.line.unwrap_or(0),
            },
        )
    }

    /// Whether the result counts for a notice received on `received_on`, as of `as_of`: undated,
    /// or dated (in JST) from the receipt to that date.
    pub fn counts(&self, received_on: NaiveDate, as_of: NaiveDate) -> bool {
        self.registered_at
            .map(crate::time::jst_date)
            .is_none_or(|d| received_on <= d && d <= as_of)
    }
}

/// Results in the order they happened, oldest first (`domain::results::order`).
fn in_order(results: Vec<RegistrationView>) -> Vec<RegistrationView> {
    let places: Vec<_> = results.iter().map(RegistrationView::place).collect();
    let mut slots: Vec<Option<RegistrationView>> = results.into_iter().map(Some).collect();
    order(&places)
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect()
}

type ResultRow = (String, RegistrationView);

fn results_of(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice_ids: &[&str],
) -> Result<Vec<ResultRow>, diesel::result::Error> {
    registration_results::table
        .filter(registration_results::insurer_id.eq(insurer.0))
        .filter(registration_results::notice_id.eq_any(notice_ids))
        .order(registration_results::id.asc())
        .select((
            registration_results::notice_id,
            (
                registration_results::result,
                registration_results::registered_at,
                registration_results::error_code,
                registration_results::error_message,
                registration_results::batch_id,
                registration_results::line,
                registration_results::created_at,
            ),
        ))
        .load(conn)
}

/// For the rows on the 登録エラー worklist as of `as_of` (not registered, an error result that
/// counts), that latest error, by 受付番号. Registered rows are not looked up.
pub fn latest_errors(
    conn: &mut DbConn,
    insurer: InsurerId,
    rows: &[NoticeRow],
    as_of: NaiveDate,
) -> Result<std::collections::HashMap<String, RegistrationView>, diesel::result::Error> {
    let open: std::collections::HashMap<&str, NaiveDate> = rows
        .iter()
        .filter(|r| r.received_on <= as_of && r.registered_on.is_none_or(|d| d > as_of))
        .map(|r| (r.notice_id.as_str(), r.received_on))
        .collect();
    let mut by_notice: std::collections::HashMap<String, Vec<RegistrationView>> =
        std::collections::HashMap::new();
    let ids: Vec<&str> = open.keys().copied().collect();
    for chunk in ids.chunks(500) {
        for (id, r) in results_of(conn, insurer, chunk)? {
            if open
                .get(id.as_str())
                .is_some_and(|&rec| r.counts(rec, as_of))
            {
                by_notice.entry(id).or_default().push(r);
            }
        }
    }
    Ok(by_notice
        .into_iter()
        .filter_map(|(id, results)| {
            let last = in_order(results).pop()?;
            (last.result == "error").then_some((id, last))
        })
        .collect())
}

pub struct NoticeDetail {
    pub row: NoticeRow,
    pub employer: EmployerRef,
    pub member: MemberRef,
    /// Oldest first (`domain::results::order`).
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
    let member = member_refs(conn, insurer, std::iter::once(row.member_id))?
        .remove(&row.member_id)
        .ok_or(diesel::result::Error::NotFound)?;
    let registrations = in_order(
        results_of(conn, insurer, &[row.notice_id.as_str()])?
            .into_iter()
            .map(|(_, r)| r)
            .collect(),
    );
    Ok(Some(NoticeDetail {
        row,
        employer,
        member,
        registrations,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dense_runs_are_ranges_and_the_other_ids_lists() {
        let run: Vec<i64> = (100..100 + RUN_MIN as i64).collect();
        let gappy: Vec<i64> = (0..RUN_MIN as i64).map(|i| 1_000 + i * RUN_GAP).collect();
        let short: Vec<i64> = (5_000..5_000 + RUN_MIN as i64 - 1).collect();
        let sparse: Vec<i64> = (0..RUN_MIN as i64)
            .map(|i| 9_000 + i * (RUN_GAP + 1))
            .collect();
        let ids: Vec<i64> = [&[1, 2, 50][..], &run, &gappy, &short, &sparse, &[20_000]].concat();
        let (runs, scattered) = dense_runs(&ids);
        assert_eq!(
            runs,
            vec![
                (100, 100 + RUN_MIN as i64 - 1),
                (1_000, 1_000 + (RUN_MIN as i64 - 1) * RUN_GAP)
            ]
        );
        let expected: Vec<i64> = [&[1, 2, 50][..], &short, &sparse, &[20_000]].concat();
        assert_eq!(scattered, expected);
        assert_eq!(dense_runs(&[]), (vec![], vec![]));
    }

    #[test]
    fn a_range_reads_only_the_ids_asked_for_of_the_insurer() {
        // Rows 0..=200, of insurer 2 the multiples of 7, of insurer 1 the others; asked: the even
        // ids from 10 to 100 (a range, which also reads the odd ones) and three others.
        let rows = |sel: IdSel<'_>| -> Result<Vec<(i64, i64)>, diesel::result::Error> {
            let ids: Vec<i64> = match sel {
                IdSel::Range(first, last) => (first..=last).collect(),
                IdSel::List(ids) => ids.to_vec(),
            };
            Ok(ids
                .into_iter()
                .filter(|id| (0..=200).contains(id))
                .map(|id| (if id % 7 == 0 { 2 } else { 1 }, id))
                .collect())
        };
        let asked = (10..=100).step_by(2).chain([7, 150, 300]);
        let found = by_id(InsurerId(1), asked, rows, |id: &i64| *id).unwrap();
        let mut got: Vec<i64> = found.into_keys().collect();
        got.sort_unstable();
        let expected: Vec<i64> = (10..=100)
            .step_by(2)
            .filter(|id| id % 7 != 0)
            .chain([150])
            .collect();
        assert_eq!(got, expected);
    }
}
