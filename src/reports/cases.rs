//! One notice as the case list, the API and the exports show it: the fields of
//! `check --format jsonl` plus the database id, the employer and the dates.
use crate::domain::rules::{self, Explanation};
use crate::domain::{Calendar, RegistrationRule, RuleSettings, Status};
use crate::reports::check::{rule_label, status_label};
use crate::store::notices::{EmployerRef, NoticeRow};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
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
    pub ex_officio_card: ExOfficioItem,
    pub e2e_days: Option<i64>,
    pub explanation: ExplanationItem,
    /// The date the statuses are evaluated as of.
    pub as_of: NaiveDate,
}

impl NoticeItem {
    pub fn new(
        row: &NoticeRow,
        employer: Option<&EmployerRef>,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> NoticeItem {
        let ev = row.evaluate(settings, as_of);
        let explanation = rules::explain(&row.facts(), settings, Calendar::get());
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
            ex_officio_card: ExOfficioItem {
                required: ev.ex_officio_required,
            },
            e2e_days: ev.e2e_days,
            explanation: explanation.into(),
            as_of,
        }
    }
}

/// Column headers of the CSV and xlsx exports of the case list (Japanese: for insurer staff).
pub const EXPORT_HEADERS: [&str; 17] = [
    "受付番号",
    "届書",
    "事業所記号",
    "事業所名称",
    "事実発生日",
    "受付日",
    "個人番号の記載",
    "提出期限",
    "提出",
    "提出超過日数",
    "登録ルール",
    "登録期限",
    "登録完了日",
    "登録",
    "登録超過日数",
    "資格確認書",
    "遅延理由",
];

/// One export row, in the order of `EXPORT_HEADERS`.
pub fn export_cells(item: &NoticeItem) -> [String; 17] {
    let opt = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    let date = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    let kind = crate::domain::NoticeKind::parse(&item.kind)
        .map(|k| k.label_ja())
        .unwrap_or("");
    let mn = crate::domain::MyNumberStatus::parse_code(&item.my_number_status)
        .map(|m| m.label_ja())
        .unwrap_or("");
    [
        item.notice_id.clone(),
        kind.to_string(),
        item.employer.code.clone(),
        item.employer.name.clone().unwrap_or_default(),
        item.event_date.to_string(),
        item.received_on.to_string(),
        mn.to_string(),
        date(item.submission.deadline),
        status_label(item.submission.status).to_string(),
        opt(item.submission.days_over),
        rule_label(item.registration.rule).to_string(),
        date(item.registration.deadline),
        date(item.registered_on),
        status_label(item.registration.status).to_string(),
        opt(item.registration.days_over),
        if item.ex_officio_card.required {
            "要"
        } else {
            ""
        }
        .to_string(),
        item.delay_cause.clone().unwrap_or_default(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Exports of the case list

/// Rows per query while gathering an export: memory per query stays flat for any size of list.
const EXPORT_CHUNK: i64 = 5_000;

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
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// Every notice the filter selects, as export rows (in the order of `EXPORT_HEADERS`).
pub fn export_rows(
    c: &mut crate::store::DbConn,
    insurer: &crate::store::insurers::Insurer,
    f: &crate::store::notices::NoticeFilter,
) -> Result<Vec<[String; 17]>, diesel::result::Error> {
    use crate::store::notices;
    let mut cells: Vec<[String; 17]> = Vec::new();
    let mut offset = 0;
    loop {
        let rows = notices::rows(c, insurer.id, &insurer.rules, f, offset, EXPORT_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as i64;
        let emps = notices::employer_refs(c, insurer.id, rows.iter().map(|r| r.employer_id))?;
        for r in &rows {
            let item = NoticeItem::new(r, emps.get(&r.employer_id), &insurer.rules, f.as_of);
            cells.push(export_cells(&item));
        }
    }
    Ok(cells)
}

/// The export rows as CSV (UTF-8 with BOM, through the one CSV writer).
pub fn export_csv(cells: &[[String; 17]]) -> csv::Result<Vec<u8>> {
    super::export::csv_bytes(
        EXPORT_HEADERS.iter().map(|h| h.to_string()),
        cells.iter().map(|r| r.to_vec()),
    )
}

/// The export rows as an xlsx workbook: the insurer in the first row, the headers in the third,
/// day counts as numbers (so they sum and sort in Excel), panes frozen below the headers.
pub fn export_xlsx(
    insurer: &crate::store::insurers::Insurer,
    cells: &[[String; 17]],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("案件一覧")?;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", insurer.number.as_str(), insurer.name),
        &bold,
    )?;
    for (c, h) in EXPORT_HEADERS.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    for (r, row) in cells.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let rr = r as u32 + 3;
            // Day counts as numbers so they sum and sort in Excel.
            match (c, v.parse::<f64>()) {
                (9 | 14, Ok(n)) => ws.write_number(rr, c as u16, n)?,
                _ => ws.write_string(rr, c as u16, v)?,
            };
        }
    }
    ws.set_freeze_panes(3, 1)?;
    wb.save_to_buffer()
}

// ---------------------------------------------------------------------------------------------
// The case page

#[derive(Serialize, ToSchema)]
pub struct NoticeDetailBody {
    #[serde(flatten)]
    pub item: NoticeItem,
    pub member: MemberBody,
    pub registrations: Vec<RegistrationBody>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberBody {
    pub symbol: String,
    pub number: String,
    pub dependent_seq: String,
    pub name: Option<String>,
    pub name_kana: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationBody {
    /// ok | error
    pub result: String,
    #[serde(serialize_with = "crate::time::utc_opt")]
    pub registered_at: Option<chrono::NaiveDateTime>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub batch_id: Option<i64>,
    pub line: Option<i64>,
    #[serde(serialize_with = "crate::time::utc")]
    pub loaded_at: chrono::NaiveDateTime,
}

impl NoticeDetailBody {
    /// A stored notice with its member and registration results, evaluated as of a date.
    pub fn new(
        d: crate::store::notices::NoticeDetail,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> NoticeDetailBody {
        NoticeDetailBody {
            item: NoticeItem::new(&d.row, Some(&d.employer), settings, as_of),
            member: MemberBody {
                symbol: d.member.symbol,
                number: d.member.number,
                dependent_seq: d.member.dependent_seq,
                name: d.member.name,
                name_kana: d.member.name_kana,
            },
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
        }
    }
}

#[derive(Serialize)]
pub struct TimelineEntry {
    date: String,
    label: String,
    note: String,
    tone: &'static str,
}

/// Event, receipt, deadlines and registration results in date order.
pub fn timeline(n: &NoticeDetailBody) -> Vec<TimelineEntry> {
    let mut t = vec![
        TimelineEntry {
            date: n.item.event_date.to_string(),
            label: "事実発生日".into(),
            note: String::new(),
            tone: "",
        },
        TimelineEntry {
            date: n.item.received_on.to_string(),
            label: "受付".into(),
            note: String::new(),
            tone: "",
        },
    ];
    if let Some(d) = n.item.submission.deadline {
        t.push(TimelineEntry {
            date: d.to_string(),
            label: "提出期限".into(),
            note: n.item.explanation.submission.clone(),
            tone: "deadline",
        });
    }
    if let Some(d) = n.item.registration.deadline {
        t.push(TimelineEntry {
            date: d.to_string(),
            label: "登録期限".into(),
            note: n.item.explanation.registration.clone(),
            tone: "deadline",
        });
    }
    for r in &n.registrations {
        let jst = r.registered_at.map(crate::time::jst_minute);
        if r.result == "ok" {
            t.push(TimelineEntry {
                date: jst.unwrap_or_default(),
                label: "中間サーバー登録完了".into(),
                note: String::new(),
                tone: "ok",
            });
        } else {
            t.push(TimelineEntry {
                date: jst.unwrap_or_else(|| crate::time::jst_minute(r.loaded_at)),
                label: "登録エラー".into(),
                note: format!(
                    "{} {}",
                    r.error_code.clone().unwrap_or_default(),
                    r.error_message.clone().unwrap_or_default()
                )
                .trim()
                .to_string(),
                tone: "bad",
            });
        }
    }
    t.sort_by(|a, b| a.date.cmp(&b.date));
    t
}
