//! One notice as the case list, the API and the exports show it: the fields of
//! `check --format jsonl` plus the database id, the employer, the member, the dates and the
//! 登録エラー that keeps it on the worklist; the case list's CSV and xlsx; the case page.
use super::xlsx::{self, XlsxError};
use crate::domain::rules::{self, Explanation};
use crate::domain::{Calendar, InsurerKind, RegistrationRule, RuleSettings, Status};
use crate::reports::check::{rule_label, status_label};
use crate::store::insurers::Insurer;
use crate::store::notices::{
    self, EmployerRef, MemberRef, NoticeDetail, NoticeFilter, NoticeRow, RegistrationView, RuleSel,
    Sort,
};
use crate::store::workflow::{self, Note, Workflow};
use crate::store::DbConn;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleItem {
    /// met | breached | at_risk | open | not_applicable
    #[schema(value_type = String, example = "breached")]
    pub status: Status,
    pub deadline: Option<NaiveDate>,
    pub days_over: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegistrationItem {
    /// five_day (valid My Number) | standard
    #[schema(value_type = String, example = "five_day")]
    pub rule: RegistrationRule,
    #[schema(value_type = String, example = "met")]
    pub status: Status,
    pub deadline: Option<NaiveDate>,
    pub days_over: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExOfficioItem {
    pub required: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExplanationItem {
    pub submission: String,
    pub registration: String,
}

impl ExplanationItem {
    /// No explanation (an export has no column for it).
    fn none() -> ExplanationItem {
        ExplanationItem {
            submission: String::new(),
            registration: String::new(),
        }
    }
}

impl From<Explanation> for ExplanationItem {
    fn from(e: Explanation) -> Self {
        ExplanationItem {
            submission: e.submission,
            registration: e.registration,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EmployerItem {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
}

/// The member of a notice (被保険者記号・番号・枝番, 氏名).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct MemberItem {
    /// 被保険者記号
    pub symbol: String,
    /// 被保険者番号
    pub number: String,
    /// 枝番 (empty for the insured person)
    pub dependent_seq: String,
    /// 氏名
    pub name: Option<String>,
    /// 氏名カナ
    pub name_kana: Option<String>,
}

impl From<&MemberRef> for MemberItem {
    fn from(m: &MemberRef) -> Self {
        MemberItem {
            symbol: m.symbol.clone(),
            number: m.number.clone(),
            dependent_seq: m.dependent_seq.clone(),
            name: m.name.clone(),
            name_kana: m.name_kana.clone(),
        }
    }
}

/// The intermediate server's error that keeps a notice on the 登録エラー worklist: its latest
/// result, the notice not registered.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegistrationErrorItem {
    /// エラーコード
    pub code: Option<String>,
    /// エラー内容
    pub message: Option<String>,
    /// When the server reported it, UTC (often not given).
    #[serde(serialize_with = "crate::time::utc_opt")]
    pub at: Option<NaiveDateTime>,
    /// The import batch and line it came from.
    pub batch_id: Option<i64>,
    pub line: Option<i64>,
}

impl From<&RegistrationView> for RegistrationErrorItem {
    fn from(r: &RegistrationView) -> Self {
        RegistrationErrorItem {
            code: r.error_code.clone(),
            message: r.error_message.clone(),
            at: r.registered_at,
            batch_id: r.batch_id,
            line: r.line,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeItem {
    /// Database id (use it in `/api/v1/notices/{id}`).
    pub id: i64,
    /// 受付番号
    pub notice_id: String,
    /// acquisition | dependent | loss
    pub kind: String,
    /// valid | invalid | missing (the number itself is never stored)
    pub my_number_status: String,
    pub employer: EmployerItem,
    pub member: MemberItem,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    /// Earliest successful registration, UTC.
    #[serde(serialize_with = "crate::time::utc_opt")]
    pub registered_at: Option<NaiveDateTime>,
    /// Its Japan date.
    pub registered_on: Option<NaiveDate>,
    pub delay_cause: Option<String>,
    pub submission: RuleItem,
    pub registration: RegistrationItem,
    /// Set when the notice is on the 登録エラー worklist as of `as_of`: not registered, and its
    /// latest registration result is this error.
    pub registration_error: Option<RegistrationErrorItem>,
    pub ex_officio_card: ExOfficioItem,
    pub e2e_days: Option<i64>,
    pub explanation: ExplanationItem,
    /// 担当者: the user following the case (none when unassigned).
    pub assignee: Option<AssigneeItem>,
    /// 次回対応日 (none when not set).
    pub follow_up_on: Option<NaiveDate>,
    /// The 次回対応日 has come as of `as_of` and the case is still open (received, not
    /// registered): what `follow_up_due=1` lists.
    pub follow_up_due: bool,
    /// The date the statuses are evaluated as of.
    pub as_of: NaiveDate,
}

/// The 担当者 of a case.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AssigneeItem {
    /// User id (`assignee_user_id` of `PUT /api/v1/notices/{id}/workflow`).
    pub id: i64,
    /// The 表示名, or the e-mail when the user has none.
    pub name: String,
    /// False when the user was deactivated after being assigned (the case needs a new 担当者).
    pub active: bool,
}

/// What a notice is shown with besides its own row.
#[derive(Clone, Copy, Default)]
pub struct Related<'a> {
    pub employer: Option<&'a EmployerRef>,
    pub member: Option<&'a MemberRef>,
    pub error: Option<&'a RegistrationView>,
    pub workflow: Option<&'a Workflow>,
}

impl NoticeItem {
    pub fn new(
        row: &NoticeRow,
        related: Related<'_>,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> NoticeItem {
        let explanation = rules::explain(&row.facts(), settings, Calendar::get());
        NoticeItem::with_explanation(row, related, settings, as_of, explanation.into())
    }

    fn with_explanation(
        row: &NoticeRow,
        related: Related<'_>,
        settings: &RuleSettings,
        as_of: NaiveDate,
        explanation: ExplanationItem,
    ) -> NoticeItem {
        let ev = row.evaluate(settings, as_of);
        let employer = related.employer;
        let workflow = related.workflow.cloned().unwrap_or_default();
        let open = row.received_on <= as_of && row.registered_on.is_none_or(|d| d > as_of);
        NoticeItem {
            id: row.id,
            notice_id: row.notice_id.clone(),
            kind: row.kind.clone(),
            my_number_status: row.my_number_status.clone(),
            employer: EmployerItem {
                id: row.employer_id,
                code: employer.map(|e| e.code.clone()).unwrap_or_default(),
                name: employer.and_then(|e| e.name.clone()),
            },
            member: related.member.map(MemberItem::from).unwrap_or_default(),
            event_date: row.event_date,
            received_on: row.received_on,
            registered_at: row.registered_at,
            registered_on: row.registered_on,
            delay_cause: row.delay_cause.clone(),
            submission: RuleItem {
                status: ev.submission.status,
                deadline: ev.submission.deadline,
                days_over: ev.submission.days_over,
            },
            registration: RegistrationItem {
                rule: ev.registration_rule,
                status: ev.registration.status,
                deadline: ev.registration.deadline,
                days_over: ev.registration.days_over,
            },
            registration_error: related.error.map(RegistrationErrorItem::from),
            ex_officio_card: ExOfficioItem {
                required: ev.ex_officio_required,
            },
            e2e_days: ev.e2e_days,
            explanation,
            follow_up_due: open && workflow.follow_up_on.is_some_and(|d| d <= as_of),
            follow_up_on: workflow.follow_up_on,
            assignee: workflow.assignee.map(|a| AssigneeItem {
                id: a.id.0,
                name: a.name,
                active: a.active,
            }),
            as_of,
        }
    }
}

/// The list items of `rows` (a page of the case list, or a chunk of an export), with their
/// employers, members and worklist errors read in one query each.
pub fn items(
    c: &mut DbConn,
    insurer: &Insurer,
    rows: &[NoticeRow],
    as_of: NaiveDate,
) -> Result<Vec<NoticeItem>, diesel::result::Error> {
    items_with(c, insurer, rows, as_of, true)
}

/// [`items`], with the explanation in words only when `explain` (an export has no column for it).
fn items_with(
    c: &mut DbConn,
    insurer: &Insurer,
    rows: &[NoticeRow],
    as_of: NaiveDate,
    explain: bool,
) -> Result<Vec<NoticeItem>, diesel::result::Error> {
    let related = RelatedRows::read(c, insurer, rows, as_of)?;
    Ok(rows
        .iter()
        .map(|r| {
            if explain {
                NoticeItem::new(r, related.of(r), &insurer.rules, as_of)
            } else {
                NoticeItem::with_explanation(
                    r,
                    related.of(r),
                    &insurer.rules,
                    as_of,
                    ExplanationItem::none(),
                )
            }
        })
        .collect())
}

/// The employers, members, worklist errors and workflow of some rows, read in one query each.
struct RelatedRows {
    employers: HashMap<i64, EmployerRef>,
    members: HashMap<i64, MemberRef>,
    errors: HashMap<String, RegistrationView>,
    workflows: HashMap<i64, Workflow>,
}

impl RelatedRows {
    fn read(
        c: &mut DbConn,
        insurer: &Insurer,
        rows: &[NoticeRow],
        as_of: NaiveDate,
    ) -> Result<RelatedRows, diesel::result::Error> {
        Ok(RelatedRows {
            employers: notices::employer_refs(c, insurer.id, rows.iter().map(|r| r.employer_id))?,
            members: notices::member_refs(c, insurer.id, rows.iter().map(|r| r.member_id))?,
            errors: notices::latest_errors(c, insurer.id, rows, as_of)?,
            workflows: workflow::of_notices(c, insurer.id, rows.iter().map(|r| r.id))?,
        })
    }

    fn of(&self, r: &NoticeRow) -> Related<'_> {
        Related {
            employer: self.employers.get(&r.employer_id),
            member: self.members.get(&r.member_id),
            error: self.errors.get(&r.notice_id),
            workflow: self.workflows.get(&r.id),
        }
    }
}

/// One page of the filtered case list (`page` from 1).
pub fn page(
    c: &mut DbConn,
    insurer: &Insurer,
    f: &NoticeFilter,
    page: i64,
    per_page: i64,
) -> Result<Vec<NoticeItem>, diesel::result::Error> {
    let rows = notices::rows(
        c,
        insurer.id,
        &insurer.rules,
        f,
        (page - 1).saturating_mul(per_page),
        per_page,
    )?;
    items(c, insurer, &rows, f.as_of)
}

// ---------------------------------------------------------------------------------------------
// Exports of the case list

/// One cell of an export: text, or a date / day count that the xlsx keeps typed (so Excel sorts,
/// filters and sums it) and the CSV writes as ISO text / a number. The text is borrowed from the
/// row where it can be.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Date(Option<NaiveDate>),
    Days(Option<i64>),
}

impl Cell<'_> {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.to_string(),
            Cell::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
            Cell::Days(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// [`Cell::text`] written into `buf` (cleared first) instead of a new string.
    fn write_text<'b>(&'b self, buf: &'b mut String) -> &'b str {
        use std::fmt::Write;
        buf.clear();
        match self {
            Cell::Text(s) => return s,
            Cell::Date(Some(d)) => iso_date(buf, *d),
            Cell::Days(Some(n)) => {
                let _ = write!(buf, "{n}");
            }
            Cell::Date(None) | Cell::Days(None) => {}
        }
        buf
    }
}

/// `d` as `NaiveDate`'s `Display` writes it (`2026-04-01`), without its format machinery for
/// the years of four digits.
fn iso_date(buf: &mut String, d: NaiveDate) {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let digits = [
            y / 1000,
            y / 100 % 10,
            y / 10 % 10,
            y % 10,
            -1,
            (m / 10) as i32,
            (m % 10) as i32,
            -1,
            (day / 10) as i32,
            (day % 10) as i32,
        ];
        buf.extend(digits.iter().map(|&n| match n {
            -1 => '-',
            n => char::from(b'0' + n as u8),
        }));
    } else {
        use std::fmt::Write;
        let _ = write!(buf, "{d}");
    }
}

/// Column headers of the CSV and xlsx exports of the case list (Japanese: for insurer staff),
/// with the xlsx column widths.
pub const EXPORT_COLUMNS: [(&str, f64); 27] = [
    ("受付番号", 14.0),
    ("届書", 11.0),
    ("事業所記号", 10.0),
    ("事業所名称", 20.0),
    ("被保険者記号", 8.0),
    ("被保険者番号", 10.0),
    ("枝番", 5.0),
    ("氏名", 14.0),
    ("氏名カナ", 16.0),
    ("事実発生日", 11.0),
    ("受付日", 11.0),
    ("個人番号の記載", 9.0),
    ("提出期限", 11.0),
    ("提出", 8.0),
    ("提出超過日数", 7.0),
    ("登録ルール", 6.0),
    ("登録期限", 11.0),
    ("登録完了日", 11.0),
    ("登録", 8.0),
    ("登録超過日数", 7.0),
    ("資格確認書", 6.0),
    ("遅延理由", 20.0),
    ("登録エラーコード", 9.0),
    ("登録エラー内容", 24.0),
    ("登録エラー日時", 16.0),
    ("担当者", 12.0),
    ("次回対応日", 11.0),
];

/// One export row, in the order of `EXPORT_COLUMNS`.
pub fn export_cells(item: &NoticeItem) -> [Cell<'_>; 27] {
    ExportRow::from(item).cells()
}

/// What an export row shows, borrowed: from a list item ([`export_cells`]), or in an export
/// straight from the notice and its related rows, without building (and copying into) the item.
struct ExportRow<'a> {
    notice_id: &'a str,
    kind: &'a str,
    employer_code: &'a str,
    employer_name: Option<&'a str>,
    symbol: &'a str,
    number: &'a str,
    dependent_seq: &'a str,
    name: Option<&'a str>,
    name_kana: Option<&'a str>,
    event_date: NaiveDate,
    received_on: NaiveDate,
    my_number_status: &'a str,
    submission: rules::RuleEval,
    rule: RegistrationRule,
    registration: rules::RuleEval,
    registered_on: Option<NaiveDate>,
    ex_officio_required: bool,
    delay_cause: Option<&'a str>,
    /// The worklist error: code, message, when.
    error: Option<(Option<&'a str>, Option<&'a str>, Option<NaiveDateTime>)>,
    assignee: Option<&'a str>,
    follow_up_on: Option<NaiveDate>,
}

impl<'a> From<&'a NoticeItem> for ExportRow<'a> {
    fn from(item: &'a NoticeItem) -> Self {
        ExportRow {
            notice_id: &item.notice_id,
            kind: &item.kind,
            employer_code: &item.employer.code,
            employer_name: item.employer.name.as_deref(),
            symbol: &item.member.symbol,
            number: &item.member.number,
            dependent_seq: &item.member.dependent_seq,
            name: item.member.name.as_deref(),
            name_kana: item.member.name_kana.as_deref(),
            event_date: item.event_date,
            received_on: item.received_on,
            my_number_status: &item.my_number_status,
            submission: rules::RuleEval {
                status: item.submission.status,
                deadline: item.submission.deadline,
                days_over: item.submission.days_over,
            },
            rule: item.registration.rule,
            registration: rules::RuleEval {
                status: item.registration.status,
                deadline: item.registration.deadline,
                days_over: item.registration.days_over,
            },
            registered_on: item.registered_on,
            ex_officio_required: item.ex_officio_card.required,
            delay_cause: item.delay_cause.as_deref(),
            error: item
                .registration_error
                .as_ref()
                .map(|e| (e.code.as_deref(), e.message.as_deref(), e.at)),
            assignee: item.assignee.as_ref().map(|a| a.name.as_str()),
            follow_up_on: item.follow_up_on,
        }
    }
}

impl<'a> ExportRow<'a> {
    /// The row as [`NoticeItem::with_explanation`] would show it (same evaluation, same defaults
    /// for a missing employer or member).
    fn of(
        row: &'a NoticeRow,
        related: Related<'a>,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> Self {
        let ev = row.evaluate(settings, as_of);
        let (employer, member) = (related.employer, related.member);
        let workflow = related.workflow;
        ExportRow {
            notice_id: &row.notice_id,
            kind: &row.kind,
            employer_code: employer.map_or("", |e| e.code.as_str()),
            employer_name: employer.and_then(|e| e.name.as_deref()),
            symbol: member.map_or("", |m| m.symbol.as_str()),
            number: member.map_or("", |m| m.number.as_str()),
            dependent_seq: member.map_or("", |m| m.dependent_seq.as_str()),
            name: member.and_then(|m| m.name.as_deref()),
            name_kana: member.and_then(|m| m.name_kana.as_deref()),
            event_date: row.event_date,
            received_on: row.received_on,
            my_number_status: &row.my_number_status,
            submission: ev.submission,
            rule: ev.registration_rule,
            registration: ev.registration,
            registered_on: row.registered_on,
            ex_officio_required: ev.ex_officio_required,
            delay_cause: row.delay_cause.as_deref(),
            error: related.error.map(|e| {
                (
                    e.error_code.as_deref(),
                    e.error_message.as_deref(),
                    e.registered_at,
                )
            }),
            assignee: workflow
                .and_then(|w| w.assignee.as_ref())
                .map(|a| a.name.as_str()),
            follow_up_on: workflow.and_then(|w| w.follow_up_on),
        }
    }

    fn cells(&self) -> [Cell<'a>; 27] {
        fn t(s: &str) -> Cell<'_> {
            Cell::Text(Cow::Borrowed(s))
        }
        let kind = crate::domain::NoticeKind::parse(self.kind)
            .map(|k| k.label_ja())
            .unwrap_or("");
        let mn = crate::domain::MyNumberStatus::parse_code(self.my_number_status)
            .map(|m| m.label_ja())
            .unwrap_or("");
        let (error_code, error_message, error_at) = self.error.unwrap_or_default();
        [
            t(self.notice_id),
            t(kind),
            t(self.employer_code),
            t(self.employer_name.unwrap_or_default()),
            t(self.symbol),
            t(self.number),
            t(self.dependent_seq),
            t(self.name.unwrap_or_default()),
            t(self.name_kana.unwrap_or_default()),
            Cell::Date(Some(self.event_date)),
            Cell::Date(Some(self.received_on)),
            t(mn),
            Cell::Date(self.submission.deadline),
            t(status_label(self.submission.status)),
            Cell::Days(self.submission.days_over),
            t(rule_label(self.rule)),
            Cell::Date(self.registration.deadline),
            Cell::Date(self.registered_on),
            t(status_label(self.registration.status)),
            Cell::Days(self.registration.days_over),
            t(if self.ex_officio_required { "要" } else { "" }),
            t(self.delay_cause.unwrap_or_default()),
            t(error_code.unwrap_or_default()),
            t(error_message.unwrap_or_default()),
            Cell::Text(
                error_at
                    .map(|at| Cow::Owned(crate::time::jst_minute(at)))
                    .unwrap_or_default(),
            ),
            t(self.assignee.unwrap_or_default()),
            Cell::Date(self.follow_up_on),
        ]
    }
}

/// Rows an export reads per chunk (`for_each_row`).
pub const EXPORT_CHUNK: usize = 2_000;

/// The two formats of the case list export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// The name the audit log gives the format.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Csv => "CSV",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => super::xlsx::CONTENT_TYPE,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// The export's file name, `案件一覧_{保険者番号}_{as-of}.xlsx`, and an ASCII stand-in for
/// clients that cannot read an encoded one (`cases_{保険者番号}_{as-of}.xlsx`).
pub fn export_file_names(
    insurer: &Insurer,
    as_of: NaiveDate,
    format: ExportFormat,
) -> (String, String) {
    let stem = format!(
        "{}_{}.{}",
        insurer.number.as_str(),
        as_of,
        format.extension()
    );
    (format!("案件一覧_{stem}"), format!("cases_{stem}"))
}

/// What an export holds, in words for its cover line: the filter, the as-of date, the order.
pub fn describe(
    c: &mut DbConn,
    insurer: &Insurer,
    f: &NoticeFilter,
) -> Result<String, diesel::result::Error> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = &f.search {
        parts.push(format!("検索「{}」", s.text));
    }
    if f.reg_error {
        parts.push("登録エラー（未登録）".into());
    }
    if let Some(s) = f.status {
        let rule = match f.rule {
            None => "提出・登録のいずれか",
            Some(RuleSel::Submission) => "提出",
            Some(RuleSel::Registration) => "登録",
            Some(RuleSel::FiveDay) => "登録（5日ルール）",
            Some(RuleSel::Standard) => "登録（標準処理日数）",
            Some(RuleSel::Loss) => "登録（資格喪失届）",
        };
        parts.push(format!("{rule}が{}", status_label(s)));
    } else if let Some(r) = f.rule {
        parts.push(format!("ルール {}", r.code()));
    }
    if let Some(k) = f.kind {
        parts.push(k.label_ja().to_string());
    }
    if let Some(e) = f.employer {
        let code = notices::employer_refs(c, insurer.id, std::iter::once(e))?
            .remove(&e)
            .map(|e| e.code)
            .unwrap_or_else(|| "（該当なし）".into());
        let word = match insurer.kind {
            InsurerKind::Kenpo => "事業所",
            InsurerKind::Kyosai => "所属所",
        };
        parts.push(format!("{word} {code}"));
    }
    if let Some((first, _)) = f.month {
        parts.push(format!("受付月 {}", first.format("%Y-%m")));
    }
    if f.received_from.is_some() || f.received_to.is_some() {
        let d = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        parts.push(format!(
            "受付日 {}〜{}",
            d(f.received_from),
            d(f.received_to)
        ));
    }
    if let Some(m) = f.my_number {
        parts.push(format!("個人番号 {}", m.label_ja()));
    }
    if f.pending {
        parts.push("未登録のみ".into());
    }
    if f.ex_officio {
        parts.push("資格確認書が必要".into());
    }
    if f.assignee.is_some() {
        parts.push("自分の担当".into());
    }
    if f.follow_up_due {
        parts.push("次回対応日が到来（未登録）".into());
    }
    let filter = if parts.is_empty() {
        "すべての届書".to_string()
    } else {
        parts.join("・")
    };
    let order = Sort::ALL
        .iter()
        .find(|t| t.0 == f.sort)
        .map(|t| t.2)
        .unwrap_or("");
    Ok(format!(
        "条件: {filter}　基準日: {}　並び順: {order}",
        f.as_of
    ))
}

/// Why an export could not be written to the end.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    /// Writing to the output failed (for a download: the client went away).
    #[error("出力: {0}")]
    Io(#[from] std::io::Error),
}

/// The export rows of `ids` (rows of this insurer, in the list's order) a chunk at a time: one
/// query each for the notices, their employers, members, worklist errors and workflow per chunk,
/// so memory stays flat for any size of list. Each connection of `readers` reads every n-th chunk
/// on its own thread while `row` writes the chunks in order as they arrive. With one reader a
/// chunk's queries and the decoding of their rows are one thread's serial work; with two, one
/// reader decodes while the other's query runs (on 2 cores that pays only where the connection has
/// no TLS: README "Web benchmark").
fn for_each_row(
    readers: &mut [&mut DbConn],
    insurer: &Insurer,
    as_of: NaiveDate,
    ids: &[i64],
    mut row: impl FnMut(&[Cell<'_>]) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    type Chunk = Result<(Vec<NoticeRow>, RelatedRows), diesel::result::Error>;
    assert!(!readers.is_empty(), "an export needs a reader connection");
    let n = readers.len();
    std::thread::scope(|s| {
        let mut chunks_of = Vec::with_capacity(n);
        for (i, c) in readers.iter_mut().enumerate() {
            // One chunk read ahead per reader.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(1);
            chunks_of.push(rx);
            s.spawn(move || {
                for chunk in ids.chunks(EXPORT_CHUNK).skip(i).step_by(n) {
                    let read = notices::rows_by_id(c, insurer.id, chunk).and_then(|rows| {
                        let related = RelatedRows::read(c, insurer, &rows, as_of)?;
                        Ok((rows, related))
                    });
                    let failed = read.is_err();
                    // The writer has stopped (its output failed): so does the reader.
                    if tx.send(read).is_err() || failed {
                        break;
                    }
                }
            });
        }
        // Chunk k comes from reader k mod n; the first reader found done has sent the last one.
        for k in 0.. {
            let Some(Ok(read)) = chunks_of.get(k % n).map(|rx| rx.recv()) else {
                break;
            };
            let (rows, related) = read?;
            for r in &rows {
                row(&ExportRow::of(r, related.of(r), &insurer.rules, as_of).cells())?;
            }
        }
        Ok(())
    })
}

/// The export of `ids` as CSV (UTF-8 with BOM, through the one CSV writer) written to `out` as it
/// is read: the header row first, so that the file stays a plain table.
pub fn write_csv<W: std::io::Write>(
    readers: &mut [&mut DbConn],
    insurer: &Insurer,
    as_of: NaiveDate,
    ids: &[i64],
    out: W,
) -> Result<W, ExportError> {
    let mut csv = super::export::CsvExport::new(out)?;
    csv.row(EXPORT_COLUMNS.iter().map(|(h, _)| *h))?;
    let mut buf = String::new();
    for_each_row(readers, insurer, as_of, ids, |cells| {
        for cell in cells {
            csv.field(cell.write_text(&mut buf))?;
        }
        Ok(csv.end_row()?)
    })?;
    Ok(csv.finish()?)
}

/// The export of `ids` as an xlsx workbook written to `out`: the insurer in A1; in A2 what the
/// list is (the filter, the as-of date, the order, the count and when it was written); the
/// headers in row 4 with an autofilter and the panes frozen below them; dates as date cells and
/// day counts as numbers; printed landscape on A4, one page wide, the headers repeated on every
/// page. The sheet is kept in constant memory (its rows go to a temporary file as they are
/// written); a zip cannot be sent before it is complete, so the workbook is assembled in a second
/// temporary file and then copied to `out`.
pub fn write_xlsx<W: std::io::Write>(
    readers: &mut [&mut DbConn],
    insurer: &Insurer,
    as_of: NaiveDate,
    cover: &str,
    ids: &[i64],
    mut out: W,
) -> Result<W, ExportError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let headers: Vec<&str> = EXPORT_COLUMNS.iter().map(|(h, _)| *h).collect();
    let title = format!(
        "案件一覧　{cover}　{} 件　出力: {}（日本時間）",
        ids.len(),
        crate::time::jst_minute(crate::time::now_utc())
    );
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory();
    xlsx::fill_sheet(ws, "案件一覧", insurer, &title, &headers)?;
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let mut rr = xlsx::HEADER_ROW;
    for_each_row(readers, insurer, as_of, ids, |row| {
        rr += 1;
        for (col, v) in row.iter().enumerate() {
            let col = col as u16;
            match v {
                Cell::Text(s) => {
                    ws.write_string(rr, col, s.as_ref())?;
                }
                Cell::Date(Some(d)) => {
                    let xd = ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    ws.write_date_with_format(rr, col, &xd, &date_format)?;
                }
                Cell::Days(Some(n)) => {
                    ws.write_number(rr, col, *n as f64)?;
                }
                Cell::Date(None) | Cell::Days(None) => {}
            }
        }
        Ok(())
    })?;
    for (col, (_, width)) in EXPORT_COLUMNS.iter().enumerate() {
        ws.set_column_width(col as u16, *width)?;
    }
    let last_row = xlsx::HEADER_ROW + ids.len() as u32;
    ws.autofilter(
        xlsx::HEADER_ROW,
        0,
        last_row,
        EXPORT_COLUMNS.len() as u16 - 1,
    )?;
    ws.set_freeze_panes(xlsx::HEADER_ROW + 1, 1)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(xlsx::HEADER_ROW, xlsx::HEADER_ROW)?;
    ws.set_header(format!(
        "&L{} {}&R案件一覧（基準日 {}）",
        insurer.number.as_str(),
        insurer.name.replace('&', "&&"),
        as_of
    ));
    ws.set_footer("&C&P / &N ページ");
    let mut file = tempfile::tempfile()?;
    wb.save_to_writer(&mut file)?;
    use std::io::Seek;
    file.rewind()?;
    std::io::copy(&mut file, &mut out)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The case page

#[derive(Serialize, ToSchema)]
pub struct NoticeDetailBody {
    #[serde(flatten)]
    pub item: NoticeItem,
    /// The intermediate server's results for this notice, oldest first: a result without a
    /// timestamp is placed by its file (after the result before it), not by when it was loaded.
    pub registrations: Vec<RegistrationBody>,
    /// The case's メモ, oldest first (newest last, like the timeline).
    pub notes: Vec<NoteBody>,
}

/// One メモ of a case (append-only).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoteBody {
    pub id: i64,
    /// Who wrote it, as the audit log names them.
    pub author: String,
    /// The author's user id (none when written from the CLI).
    pub author_user_id: Option<i64>,
    /// The text; digits that could be a My Number are masked.
    pub text: String,
    /// When it was written, UTC.
    #[serde(serialize_with = "crate::time::utc")]
    pub created_at: NaiveDateTime,
}

impl From<Note> for NoteBody {
    fn from(n: Note) -> Self {
        NoteBody {
            id: n.id,
            author: n.author_label,
            author_user_id: n.author_user_id,
            text: n.body,
            created_at: n.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationBody {
    /// ok | error
    pub result: String,
    /// When the server registered it (or reported the error), UTC; often absent for errors.
    #[serde(serialize_with = "crate::time::utc_opt")]
    pub registered_at: Option<NaiveDateTime>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The import batch and its line the result came from.
    pub batch_id: Option<i64>,
    pub line: Option<i64>,
    /// When that file was loaded, UTC.
    #[serde(serialize_with = "crate::time::utc")]
    pub loaded_at: NaiveDateTime,
}

impl NoticeDetailBody {
    /// A stored notice with its member and registration results, evaluated as of a date.
    pub fn new(
        d: NoticeDetail,
        workflow: &Workflow,
        notes: Vec<Note>,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> NoticeDetailBody {
        let error = latest_error(&d, as_of);
        let related = Related {
            employer: Some(&d.employer),
            member: Some(&d.member),
            error: error.as_ref(),
            workflow: Some(workflow),
        };
        NoticeDetailBody {
            item: NoticeItem::new(&d.row, related, settings, as_of),
            registrations: d
                .registrations
                .into_iter()
                .map(|r| RegistrationBody {
                    result: r.result,
                    registered_at: r.registered_at,
                    error_code: r.error_code,
                    error_message: r.error_message,
                    batch_id: r.batch_id,
                    line: r.line,
                    loaded_at: r.created_at,
                })
                .collect(),
            notes: notes.into_iter().map(NoteBody::from).collect(),
        }
    }
}

/// The error that puts the notice on the 登録エラー worklist as of `as_of`, the same way the list
/// decides it (`store::notices::latest_errors`).
fn latest_error(d: &NoticeDetail, as_of: NaiveDate) -> Option<RegistrationView> {
    let open = d.row.received_on <= as_of && d.row.registered_on.is_none_or(|r| r > as_of);
    if !open {
        return None;
    }
    d.registrations
        .iter()
        .rev()
        .find(|r| r.counts(d.row.received_on, as_of))
        .filter(|r| r.result == "error")
        .cloned()
}

#[derive(Serialize)]
pub struct TimelineEntry {
    date: String,
    label: String,
    note: String,
    tone: &'static str,
    /// Where the entry sorts: its date, or its JST minute.
    #[serde(skip)]
    key: String,
}

impl TimelineEntry {
    fn on(date: NaiveDate, label: &str, note: String, tone: &'static str) -> TimelineEntry {
        TimelineEntry {
            date: date.to_string(),
            label: label.into(),
            note,
            tone,
            key: date.to_string(),
        }
    }
}

/// Event, receipt, deadlines and registration results in time order, in JST. The results keep
/// their order (`registrations` is oldest first): an undated one sorts with the result before it,
/// or, when none is dated, right after the receipt.
pub fn timeline(n: &NoticeDetailBody) -> Vec<TimelineEntry> {
    let mut t = vec![
        TimelineEntry::on(n.item.event_date, "事実発生日", String::new(), ""),
        TimelineEntry::on(n.item.received_on, "受付", String::new(), ""),
    ];
    if let Some(d) = n.item.submission.deadline {
        let note = n.item.explanation.submission.clone();
        t.push(TimelineEntry::on(d, "提出期限", note, "deadline"));
    }
    if let Some(d) = n.item.registration.deadline {
        let note = n.item.explanation.registration.clone();
        t.push(TimelineEntry::on(d, "登録期限", note, "deadline"));
    }
    let first_dated = n
        .registrations
        .iter()
        .find_map(|r| r.registered_at.map(crate::time::jst_minute));
    let mut carried = first_dated.unwrap_or_else(|| format!("{} ~", n.item.received_on));
    for r in &n.registrations {
        let jst = r.registered_at.map(crate::time::jst_minute);
        if let Some(at) = &jst {
            carried = at.clone();
        }
        let from_file = match (r.batch_id, r.line) {
            (Some(b), Some(l)) => format!("取込 #{b} の {l} 行目"),
            (Some(b), None) => format!("取込 #{b}"),
            _ => String::new(),
        };
        let (label, tone, mut note) = if r.result == "ok" {
            ("中間サーバー登録完了", "ok", String::new())
        } else {
            let what = format!(
                "{} {}",
                r.error_code.as_deref().unwrap_or_default(),
                r.error_message.as_deref().unwrap_or_default()
            );
            ("登録エラー", "bad", what.trim().to_string())
        };
        if jst.is_none() {
            note = format!("{note}（日時の記載なし。{from_file}の順に表示）")
                .trim_start()
                .to_string();
        }
        t.push(TimelineEntry {
            date: jst.unwrap_or_else(|| "日時なし".into()),
            label: label.into(),
            note,
            tone,
            key: carried.clone(),
        });
    }
    // Stable: entries with the same key keep the order they were added in.
    t.sort_by(|a, b| a.key.cmp(&b.key));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_written_as_its_text() {
        let mut buf = String::from("left over");
        for (y, m, d) in [
            (2026, 4, 1),
            (2025, 12, 31),
            (1, 1, 1),
            (999, 10, 9),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 3, 9),
        ] {
            let cell = Cell::Date(NaiveDate::from_ymd_opt(y, m, d));
            assert_eq!(cell.write_text(&mut buf), cell.text());
        }
        for cell in [
            Cell::Date(None),
            Cell::Days(Some(0)),
            Cell::Days(Some(-3)),
            Cell::Days(Some(12)),
            Cell::Days(None),
            Cell::Text(Cow::Borrowed("山田 太郎")),
            Cell::Text(Cow::Owned("2026-04-01 09:30".into())),
        ] {
            assert_eq!(cell.write_text(&mut buf), cell.text());
        }
    }
}
