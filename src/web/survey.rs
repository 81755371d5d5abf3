//! 改善計画 checklist, 要因分析 and the MHLW follow-up survey (seed 002 別添1–3): pages, the JSON
//! API and the xlsx/CSV exports, all over the same views.
use super::auth::{Csrf, CurrentUser};
use super::error::WebError;
use super::pages::{base_context, db, html, redirect, PageError, PageForm, PageUser};
use super::AppState;
use crate::domain::InsurerKind;
use crate::reports::analysis::{self, Analysis, Cause};
use crate::reports::checklist::{self, ChecklistAnswer};
use crate::reports::survey::{self as followup, SurveyFacts};
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::insurers::Insurer;
use crate::store::survey::{self as store, NewAction, PlanActionRow, PlanReviewRow};
use crate::store::users::Role;
use crate::store::DbConn;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

// ---------------------------------------------------------------------------------------------
// Period

/// The period the survey and the analysis look at (dates of receipt / of letters).
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct PeriodQuery {
    /// First day (default: 12 months before `to`).
    pub from: Option<String>,
    /// Last day (default: `as_of`).
    pub to: Option<String>,
    /// Evaluate statuses as of this date (default: today in Japan).
    pub as_of: Option<String>,
}

#[derive(Clone, Copy, Debug)]
struct Period {
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_date(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
        WebError::BadRequest(format!(
            "{field} は YYYY-MM-DD 形式の日付で指定してください（指定: {}）",
            v.trim()
        ))
    })
}

fn opt_date(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
    blank(v).map(|s| parse_date(field, s)).transpose()
}

fn period(q: &PeriodQuery) -> Result<Period, WebError> {
    let as_of = opt_date("as_of", &q.as_of)?.unwrap_or_else(crate::time::today_jst);
    let to = opt_date("to", &q.to)?.unwrap_or(as_of);
    let from = match opt_date("from", &q.from)? {
        Some(d) => d,
        None => (to - Months::new(12)).succ_opt().unwrap_or(to),
    };
    if from > to {
        return Err(WebError::BadRequest(format!(
            "期間の開始日（{from}）が終了日（{to}）より後になっています"
        )));
    }
    Ok(Period { from, to, as_of })
}

// ---------------------------------------------------------------------------------------------
// Views

/// One question of the follow-up survey with its pre-fill and the staff's answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub section: String,
    pub subsection: String,
    /// The MHLW wording, word for word (〇日 included).
    pub text: String,
    pub details: Vec<String>,
    pub choices: Vec<String>,
    pub prefill_choice: Option<String>,
    pub prefill_days: Option<u32>,
    /// Why the pre-fill says what it says.
    pub reason: String,
    /// The answer that counts: the staff's when saved, else the pre-fill.
    pub answer: Option<String>,
    /// The 〇日 of 2-(3) (other questions: none).
    pub days: Option<i64>,
    pub note: String,
    /// staff | prefill | none
    pub source: String,
    pub updated_by: Option<String>,
}

/// One checklist item with its answer and the evidence the data gives.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChecklistItemView {
    pub id: String,
    /// The circled number as printed (`①`).
    pub mark: String,
    pub section: String,
    /// The MHLW wording, word for word.
    pub text: String,
    /// done | not_done | partly
    pub answer: Option<String>,
    /// 実施済 | 未実施 | 一部
    pub answer_label: Option<String>,
    pub note: String,
    pub evidence: Option<String>,
    pub updated_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub checklist_item: Option<String>,
    pub owner: String,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
    pub reviews: Vec<ReviewView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub reviewed_on: NaiveDate,
    pub progress: Option<i32>,
    pub note: String,
    pub by: String,
}

/// Everything the pages and exports show, for one insurer and period.
struct Bundle {
    insurer: Insurer,
    period: Period,
    analysis: Analysis,
    /// What the survey's pre-fills were computed from.
    facts: SurveyFacts,
    questions: Vec<QuestionView>,
    checklist: Vec<ChecklistItemView>,
    plan: Vec<ActionView>,
}

fn plan_views(
    actions: Vec<PlanActionRow>,
    reviews: Vec<PlanReviewRow>,
    today: NaiveDate,
) -> Vec<ActionView> {
    actions
        .into_iter()
        .map(|a| ActionView {
            overdue: a.overdue(today),
            status_label: store::plan_status_label(&a.status).to_string(),
            reviews: reviews
                .iter()
                .filter(|r| r.action_id == a.id)
                .map(|r| ReviewView {
                    reviewed_on: r.reviewed_on,
                    progress: r.progress,
                    note: r.note.clone(),
                    by: r.created_by_label.clone(),
                })
                .collect(),
            id: a.id,
            title: a.title,
            checklist_item: a.checklist_item,
            owner: a.owner,
            start_on: a.start_on,
            due_on: a.due_on,
            status: a.status,
        })
        .collect()
}

fn questions_view(
    c: &mut DbConn,
    insurer: &Insurer,
    p: Period,
) -> Result<(Vec<QuestionView>, SurveyFacts), WebError> {
    let facts = SurveyFacts {
        ex_officio_days: insurer.rules.ex_officio_days,
        scheduled_actions: store::scheduled_actions(c, insurer.id)?,
        letters: crate::store::letters::counts(c, insurer.id, p.from, p.to)?,
    };
    let saved = store::survey_answers(c, insurer.id)?;
    let questions = followup::QUESTIONS
        .iter()
        .zip(followup::prefill(&facts))
        .map(|(q, pre)| {
            let s = saved.iter().find(|a| a.question_id == q.id);
            let (answer, days, note, source, by) = match s {
                Some(a) => (
                    Some(a.choice.clone()),
                    a.days.map(i64::from).or(pre.days.map(i64::from)),
                    a.note.clone(),
                    "staff",
                    Some(a.updated_by_label.clone()),
                ),
                None => (
                    pre.choice.map(str::to_string),
                    pre.days.map(i64::from),
                    String::new(),
                    if pre.choice.is_some() {
                        "prefill"
                    } else {
                        "none"
                    },
                    None,
                ),
            };
            QuestionView {
                id: q.id.into(),
                section: q.section.into(),
                subsection: q.subsection.into(),
                text: q.text.into(),
                details: q.details.iter().map(|d| d.to_string()).collect(),
                choices: q.choices.iter().map(|d| d.to_string()).collect(),
                prefill_choice: pre.choice.map(str::to_string),
                prefill_days: pre.days,
                reason: pre.reason,
                answer,
                days,
                note,
                source: source.into(),
                updated_by: by,
            }
        })
        .collect();
    Ok((questions, facts))
}

fn causes_text(counts: impl Iterator<Item = (&'static str, u64)>) -> String {
    let parts: Vec<String> = counts
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| format!("{l} {n} 件"))
        .collect();
    if parts.is_empty() {
        "なし".into()
    } else {
        parts.join("、")
    }
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// What the data shows for the items it can speak to (issue 8: 1-①–④, 2-②, 3-⑤).
fn evidence(kind: InsurerKind, id: &str, a: &Analysis, plan: &[ActionView]) -> Option<String> {
    let early_item = match kind {
        InsurerKind::Kenpo => "3-⑤",
        InsurerKind::Kyosai => "3-④",
    };
    match id {
        // 1-① and 1-② are about 資格取得届 (and 被扶養者届): 資格喪失届 are left out.
        "1-①" => Some(format!(
            "要因分析: 資格取得届・被扶養者届の提出期限超過 {} 件（{}）",
            a.new_member_submission_late,
            causes_text(a.new_member_causes.iter().map(|c| (c.label, c.submission)))
        )),
        "1-②" => Some(format!(
            "要因分析: 資格取得届・被扶養者届の登録期限超過 {} 件（{}）",
            a.new_member_registration_late,
            causes_text(
                a.new_member_causes
                    .iter()
                    .map(|c| (c.label, c.registration))
            )
        )),
        "1-③" => {
            let n = plan
                .iter()
                .filter(|x| x.start_on.is_some() && x.due_on.is_some())
                .count();
            Some(format!(
                "改善計画: 取組 {} 件のうち開始日・期限のあるもの {n} 件",
                plan.len()
            ))
        }
        "1-④" => {
            let reviews: Vec<&ReviewView> = plan.iter().flat_map(|x| x.reviews.iter()).collect();
            let last = reviews.iter().map(|r| r.reviewed_on).max();
            let overdue = plan.iter().filter(|x| x.overdue).count();
            Some(format!(
                "進捗確認 {} 回{}、期限超過の取組 {overdue} 件",
                reviews.len(),
                last.map(|d| format!("（最終 {d}）")).unwrap_or_default()
            ))
        }
        "2-②" => Some(peak_evidence(a)),
        x if x == early_item => Some(format!(
            "事実発生日より前に受け付けた届書（内定者）{} 件／{} 件（{}）",
            a.received_before_event,
            a.notices,
            pct((a.notices > 0).then(|| a.received_before_event as f64 / a.notices as f64))
        )),
        _ => None,
    }
}

/// 2-② (繁忙期の体制): the busiest week of the spring with the staff entered for it, from the
/// 要因分析 page's figures.
fn peak_evidence(a: &Analysis) -> String {
    let w = &a.workload;
    let Some(year) = w.peak_year else {
        return "期間に3〜5月が含まれないため、繁忙期の件数は示せません".into();
    };
    let days = |d: Option<i64>| d.map(|d| format!("{d}日")).unwrap_or_else(|| "—".into());
    let staffing = if w.has_staffing {
        ""
    } else {
        "。職員数が未入力のため1人当たり件数は示せません（要因分析で入力）"
    };
    match &w.busiest_week {
        None => format!("{year}年3〜5月の届書はありません{staffing}"),
        Some(b) => {
            let ratio = match (b.staff, b.per_staff) {
                (Some(s), Some(p)) => format!("、職員 {s} 人で1人当たり {p:.1} 件"),
                _ if w.has_staffing => "、この週の職員数は未入力".into(),
                _ => String::new(),
            };
            format!(
                "{year}年3〜5月で最多の週は {}：届書 {} 件{ratio}、登録日数 中央値 {}・90%点 {}、登録期限超過 {} 件{staffing}",
                b.label,
                b.notices,
                days(b.median_days),
                days(b.p90_days),
                b.breached
            )
        }
    }
}

fn load(c: &mut DbConn, insurer: Insurer, p: Period) -> Result<Bundle, WebError> {
    let analysis = analysis::compute(c, &insurer, p.from, p.to, p.as_of)?;
    let plan = plan_views(
        store::plan_actions(c, insurer.id)?,
        store::plan_reviews(c, insurer.id)?,
        p.as_of,
    );
    let answers = store::checklist_answers(c, insurer.id)?;
    let checklist = checklist::items_for(insurer.kind)
        .iter()
        .map(|i| {
            let a = answers.iter().find(|a| a.item_id == i.id);
            let code = a.and_then(|a| ChecklistAnswer::parse(&a.answer));
            ChecklistItemView {
                id: i.id.into(),
                mark: i.mark.into(),
                section: i.section.into(),
                text: i.text.into(),
                answer: code.map(|c| c.code().to_string()),
                answer_label: code.map(|c| c.label_ja().to_string()),
                note: a.map(|a| a.note.clone()).unwrap_or_default(),
                evidence: evidence(insurer.kind, i.id, &analysis, &plan),
                updated_by: a.map(|a| a.updated_by_label.clone()),
            }
        })
        .collect();
    let (questions, facts) = questions_view(c, &insurer, p)?;
    Ok(Bundle {
        insurer,
        period: p,
        analysis,
        facts,
        questions,
        checklist,
        plan,
    })
}

async fn bundle(state: &AppState, user: &CurrentUser, p: Period) -> Result<Bundle, WebError> {
    let iid = user.insurer_id;
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        load(c, insurer, p)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Exports

const CHECKLIST_HEADERS: [&str; 6] = [
    "番号",
    "区分",
    "チェック項目（厚生労働省の記載）",
    "回答",
    "備考",
    "データによる根拠",
];
const SURVEY_HEADERS: [&str; 9] = [
    "番号",
    "区分",
    "設問（厚生労働省の記載）",
    "補足",
    "回答の選択肢",
    "回答",
    "〇日（日数）",
    "備考",
    "自動回答の根拠",
];
const STATS_HEADERS: [&str; 7] = [
    "月",
    "届書件数",
    "提出期限内の割合",
    "5日以内登録の割合",
    "標準処理期間の対象件数",
    "資格喪失届の件数",
    "資格確認書の交付件数",
];
const PLAN_HEADERS: [&str; 9] = [
    "番号",
    "取組",
    "チェック項目",
    "担当",
    "開始日",
    "期限",
    "状況",
    "期限超過",
    "進捗確認",
];
const CAUSE_HEADERS: [&str; 3] = ["要因", "提出期限超過", "登録期限超過"];

fn checklist_rows(b: &Bundle) -> Vec<[String; 6]> {
    b.checklist
        .iter()
        .map(|i| {
            [
                i.id.clone(),
                i.section.clone(),
                i.text.clone(),
                i.answer_label.clone().unwrap_or_default(),
                i.note.clone(),
                i.evidence.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

fn survey_rows(b: &Bundle) -> Vec<[String; 9]> {
    b.questions
        .iter()
        .map(|q| {
            let section = if q.subsection.is_empty() {
                q.section.clone()
            } else {
                format!("{} {}", q.section, q.subsection)
            };
            [
                q.id.clone(),
                section,
                q.text.clone(),
                q.details.join("\n"),
                // As printed in the seed: the choices on one line, separated by a space.
                q.choices.join(" "),
                q.answer.clone().unwrap_or_default(),
                q.days.map(|d| d.to_string()).unwrap_or_default(),
                q.note.clone(),
                q.reason.clone(),
            ]
        })
        .collect()
}

/// The statistics sheet's rows as text: rates as percentages with one decimal, as the sheet's
/// `0.0%` format shows them; empty when no notice of the month was decided yet.
fn stats_rows(b: &Bundle) -> Vec<[String; 7]> {
    let rate = |r: Option<f64>| r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_default();
    b.analysis
        .months
        .iter()
        .map(|m| {
            [
                m.month.clone(),
                m.notices.to_string(),
                rate(m.submission_met_rate),
                rate(m.five_day_met_rate),
                m.standard_notices.to_string(),
                m.loss_notices.to_string(),
                m.certificates_issued.to_string(),
            ]
        })
        .collect()
}

fn plan_rows(b: &Bundle) -> Vec<[String; 9]> {
    b.plan
        .iter()
        .map(|a| {
            [
                a.id.to_string(),
                a.title.clone(),
                a.checklist_item.clone().unwrap_or_default(),
                a.owner.clone(),
                a.start_on.map(|d| d.to_string()).unwrap_or_default(),
                a.due_on.map(|d| d.to_string()).unwrap_or_default(),
                a.status_label.clone(),
                if a.overdue {
                    "期限超過".into()
                } else {
                    String::new()
                },
                a.reviews
                    .iter()
                    .map(|r| {
                        let p = r.progress.map(|p| format!(" {p}%")).unwrap_or_default();
                        format!("{}{p} {}", r.reviewed_on, r.note)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect()
}

fn csv_bytes<const N: usize>(
    insurer: &Insurer,
    headers: &[&str; N],
    rows: &[[String; N]],
) -> Result<Vec<u8>, WebError> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let err = |e: csv::Error| WebError::Internal(e.into());
        let mut h = vec!["保険者番号", "保険者名"];
        h.extend_from_slice(headers);
        w.write_record(&h).map_err(err)?;
        for r in rows {
            let mut rec = vec![insurer.number.as_str().to_string(), insurer.name.clone()];
            rec.extend(r.iter().cloned());
            w.write_record(&rec).map_err(err)?;
        }
        w.flush().map_err(|e| WebError::Internal(e.into()))?;
    }
    Ok(out)
}

type Xerr = rust_xlsxwriter::XlsxError;

fn xerr(e: Xerr) -> WebError {
    WebError::Internal(e.into())
}

/// A sheet with the insurer in A1, a title in A2, headers in row 4 and the rows below.
fn text_sheet<const N: usize>(
    wb: &mut rust_xlsxwriter::Workbook,
    name: &str,
    insurer: &Insurer,
    title: &str,
    headers: &[&str; N],
    rows: &[[String; N]],
    widths: &[f64],
) -> Result<(), Xerr> {
    use rust_xlsxwriter::Format;
    let bold = Format::new().set_bold();
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", insurer.number.as_str(), insurer.name),
        &bold,
    )?;
    ws.write_string(1, 0, title)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string_with_format(r as u32 + 4, c as u16, v, &wrap)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(4, 0)?;
    Ok(())
}

fn stats_sheet(wb: &mut rust_xlsxwriter::Workbook, b: &Bundle) -> Result<(), Xerr> {
    use rust_xlsxwriter::Format;
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let ws = wb.add_worksheet();
    ws.set_name("月別統計")?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", b.insurer.number.as_str(), b.insurer.name),
        &bold,
    )?;
    ws.write_string(
        1,
        0,
        format!(
            "受付日 {} ～ {}（{} 時点）",
            b.period.from, b.period.to, b.period.as_of
        ),
    )?;
    for (c, h) in STATS_HEADERS.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, m) in b.analysis.months.iter().enumerate() {
        let r = i as u32 + 4;
        ws.write_string(r, 0, &m.month)?;
        ws.write_number(r, 1, m.notices as f64)?;
        if let Some(x) = m.submission_met_rate {
            ws.write_number_with_format(r, 2, x, &pct)?;
        }
        if let Some(x) = m.five_day_met_rate {
            ws.write_number_with_format(r, 3, x, &pct)?;
        }
        ws.write_number(r, 4, m.standard_notices as f64)?;
        ws.write_number(r, 5, m.loss_notices as f64)?;
        ws.write_number(r, 6, m.certificates_issued as f64)?;
    }
    ws.set_column_width(0, 10)?;
    for c in 1..7 {
        ws.set_column_width(c, 18)?;
    }
    Ok(())
}

const WORKLOAD_HEADERS: [&str; 10] = [
    "区分",
    "期間",
    "開始日",
    "終了日",
    "届書件数",
    "職員数",
    "職員1人当たり件数",
    "登録日数（中央値）",
    "登録日数（90%点）",
    "登録期限超過",
];

/// 繁忙期と体制 as text rows (the CSV): the spring by week, then every month of the period.
fn workload_rows(b: &Bundle) -> Vec<[String; 10]> {
    let w = &b.analysis.workload;
    let one = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let int = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    w.weeks
        .iter()
        .map(|r| ("週", r))
        .chain(w.months.iter().map(|r| ("月", r)))
        .map(|(kind, r)| {
            [
                kind.to_string(),
                r.period.clone(),
                r.starts_on.to_string(),
                r.ends_on.to_string(),
                r.notices.to_string(),
                one(r.staff),
                one(r.per_staff),
                int(r.median_days),
                int(r.p90_days),
                r.breached.to_string(),
            ]
        })
        .collect()
}

/// 繁忙期と体制 (checklist 2-②): the spring by week, then every month of the period.
fn workload_sheet(wb: &mut rust_xlsxwriter::Workbook, b: &Bundle) -> Result<(), Xerr> {
    use rust_xlsxwriter::Format;
    let bold = Format::new().set_bold();
    let one = Format::new().set_num_format("0.0");
    let w = &b.analysis.workload;
    let ws = wb.add_worksheet();
    ws.set_name("繁忙期と体制")?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", b.insurer.number.as_str(), b.insurer.name),
        &bold,
    )?;
    let note = if w.has_staffing {
        ""
    } else {
        "。職員数が未入力のため1人当たり件数は空欄です"
    };
    ws.write_string(
        1,
        0,
        format!(
            "受付日 {} ～ {}（{} 時点）。週は3〜5月（{}）{note}",
            b.period.from,
            b.period.to,
            b.period.as_of,
            w.peak_year
                .map(|y| format!("{y}年"))
                .unwrap_or_else(|| "期間外".into())
        ),
    )?;
    for (c, h) in WORKLOAD_HEADERS.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    let rows = w
        .weeks
        .iter()
        .map(|r| ("週", r))
        .chain(w.months.iter().map(|r| ("月", r)));
    for (i, (kind, r)) in rows.enumerate() {
        let row = i as u32 + 4;
        ws.write_string(row, 0, kind)?;
        ws.write_string(row, 1, &r.period)?;
        ws.write_string(row, 2, r.starts_on.to_string())?;
        ws.write_string(row, 3, r.ends_on.to_string())?;
        ws.write_number(row, 4, r.notices as f64)?;
        if let Some(s) = r.staff {
            ws.write_number_with_format(row, 5, s, &one)?;
        }
        if let Some(p) = r.per_staff {
            ws.write_number_with_format(row, 6, p, &one)?;
        }
        if let Some(d) = r.median_days {
            ws.write_number(row, 7, d as f64)?;
        }
        if let Some(d) = r.p90_days {
            ws.write_number(row, 8, d as f64)?;
        }
        ws.write_number(row, 9, r.breached as f64)?;
    }
    ws.set_column_width(1, 12)?;
    ws.set_column_width(2, 12)?;
    ws.set_column_width(3, 12)?;
    for c in 4..10 {
        ws.set_column_width(c, 16)?;
    }
    ws.set_freeze_panes(4, 0)?;
    Ok(())
}

fn causes_sheet(wb: &mut rust_xlsxwriter::Workbook, b: &Bundle) -> Result<(), Xerr> {
    use rust_xlsxwriter::Format;
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("要因分析")?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", b.insurer.number.as_str(), b.insurer.name),
        &bold,
    )?;
    ws.write_string(
        1,
        0,
        format!(
            "受付日 {} ～ {}（{} 時点）",
            b.period.from, b.period.to, b.period.as_of
        ),
    )?;
    for (c, h) in CAUSE_HEADERS.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, c) in b.analysis.causes.iter().enumerate() {
        let r = i as u32 + 4;
        ws.write_string(r, 0, c.label)?;
        ws.write_number(r, 1, c.submission as f64)?;
        ws.write_number(r, 2, c.registration as f64)?;
    }
    ws.set_column_width(0, 28)?;
    Ok(())
}

fn survey_xlsx(b: &Bundle) -> Result<Vec<u8>, WebError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    text_sheet(
        &mut wb,
        "フォローアップ調査",
        &b.insurer,
        followup::TITLE,
        &SURVEY_HEADERS,
        &survey_rows(b),
        &[8.0, 30.0, 60.0, 40.0, 24.0, 16.0, 10.0, 30.0, 50.0],
    )
    .map_err(xerr)?;
    stats_sheet(&mut wb, b).map_err(xerr)?;
    causes_sheet(&mut wb, b).map_err(xerr)?;
    workload_sheet(&mut wb, b).map_err(xerr)?;
    wb.save_to_buffer().map_err(xerr)
}

fn checklist_xlsx(b: &Bundle) -> Result<Vec<u8>, WebError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let title = format!(
        "{}（{}）",
        checklist::title_for(b.insurer.kind),
        checklist::annex_for(b.insurer.kind)
    );
    text_sheet(
        &mut wb,
        "チェックリスト",
        &b.insurer,
        &title,
        &CHECKLIST_HEADERS,
        &checklist_rows(b),
        &[8.0, 22.0, 70.0, 10.0, 30.0, 50.0],
    )
    .map_err(xerr)?;
    text_sheet(
        &mut wb,
        "改善計画",
        &b.insurer,
        "改善計画（取組とスケジュール）",
        &PLAN_HEADERS,
        &plan_rows(b),
        &[6.0, 40.0, 10.0, 14.0, 12.0, 12.0, 10.0, 10.0, 50.0],
    )
    .map_err(xerr)?;
    stats_sheet(&mut wb, b).map_err(xerr)?;
    causes_sheet(&mut wb, b).map_err(xerr)?;
    workload_sheet(&mut wb, b).map_err(xerr)?;
    wb.save_to_buffer().map_err(xerr)
}

/// Every export: each document in the formats it has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Export {
    SurveyXlsx,
    SurveyCsv,
    ChecklistXlsx,
    ChecklistCsv,
    /// The 月別統計 sheet on its own (in xlsx it is a sheet of the two workbooks).
    StatisticsCsv,
    /// The 繁忙期と体制 sheet on its own.
    WorkloadCsv,
}

impl Export {
    fn audit_action(self) -> AuditAction {
        match self {
            Export::SurveyXlsx | Export::SurveyCsv => AuditAction::ExportSurvey,
            Export::ChecklistXlsx | Export::ChecklistCsv => AuditAction::ExportChecklist,
            Export::StatisticsCsv => AuditAction::ExportStatistics,
            Export::WorkloadCsv => AuditAction::ExportWorkload,
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Export::SurveyXlsx => "followup.xlsx",
            Export::SurveyCsv => "followup.csv",
            Export::ChecklistXlsx => "checklist.xlsx",
            Export::ChecklistCsv => "checklist.csv",
            Export::StatisticsCsv => "statistics.csv",
            Export::WorkloadCsv => "workload.csv",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Export::SurveyXlsx | Export::ChecklistXlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            Export::SurveyCsv
            | Export::ChecklistCsv
            | Export::StatisticsCsv
            | Export::WorkloadCsv => "text/csv; charset=utf-8",
        }
    }

    fn bytes(self, b: &Bundle) -> Result<Vec<u8>, WebError> {
        match self {
            Export::SurveyXlsx => survey_xlsx(b),
            Export::ChecklistXlsx => checklist_xlsx(b),
            Export::SurveyCsv => csv_bytes(&b.insurer, &SURVEY_HEADERS, &survey_rows(b)),
            Export::ChecklistCsv => csv_bytes(&b.insurer, &CHECKLIST_HEADERS, &checklist_rows(b)),
            Export::StatisticsCsv => csv_bytes(&b.insurer, &STATS_HEADERS, &stats_rows(b)),
            Export::WorkloadCsv => csv_bytes(&b.insurer, &WORKLOAD_HEADERS, &workload_rows(b)),
        }
    }
}

async fn export(
    state: &AppState,
    user: &CurrentUser,
    q: PeriodQuery,
    what: Export,
) -> Result<HttpResponse, WebError> {
    let p = period(&q)?;
    let iid = user.insurer_id;
    let uid = user.user_id;
    let email = user.email.clone();
    let bytes = db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let b = load(c, insurer, p)?;
        let bytes = what.bytes(&b)?;
        let detail = format!("{} ～ {}（{} 時点）", p.from, p.to, p.as_of);
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(iid),
                user: Some(uid),
                actor: &email,
                action: what.audit_action(),
                target: None,
                detail: Some(&detail),
            },
        )?;
        Ok(bytes)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(what.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", what.file_name()),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// The follow-up survey (別添3) with answers, monthly statistics and the factor analysis, as xlsx.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.xlsx",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = []))
)]
pub async fn api_survey_xlsx(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::SurveyXlsx).await
}

/// The follow-up survey (別添3) with answers as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_survey_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::SurveyCsv).await
}

/// The checklist (別添1 or 別添2) with answers, evidence and the 改善計画, as xlsx.
#[utoipa::path(
    get,
    path = "/api/v1/checklist.xlsx",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = []))
)]
pub async fn api_checklist_xlsx(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::ChecklistXlsx).await
}

/// The checklist (別添1 or 別添2) with answers as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/checklist.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_checklist_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::ChecklistCsv).await
}

/// Monthly statistics as CSV (UTF-8 with BOM): the same rows as the 月別統計 sheet of the xlsx
/// exports (month, notices, submission met rate, 5-day registration met rate, notices under the
/// standard days, 資格確認書 issued), after the insurer's number and name.
#[utoipa::path(
    get,
    path = "/api/v1/statistics.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_statistics_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::StatisticsCsv).await
}

/// The April peak against staffing (checklist 2-②) as CSV (UTF-8 with BOM): each week of March–May
/// of the latest spring in the period, then each month; the same rows as the 繁忙期と体制 sheet.
#[utoipa::path(
    get,
    path = "/api/v1/analysis/workload.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_workload_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::WorkloadCsv).await
}

macro_rules! page_export {
    ($name:ident, $what:expr) => {
        pub async fn $name(
            state: web::Data<AppState>,
            user: PageUser,
            q: web::Query<PeriodQuery>,
        ) -> Result<HttpResponse, PageError> {
            Ok(export(&state, &user.0, q.into_inner(), $what).await?)
        }
    };
}
page_export!(survey_xlsx_page, Export::SurveyXlsx);
page_export!(survey_csv_page, Export::SurveyCsv);
page_export!(checklist_xlsx_page, Export::ChecklistXlsx);
page_export!(checklist_csv_page, Export::ChecklistCsv);
page_export!(statistics_csv_page, Export::StatisticsCsv);
page_export!(workload_csv_page, Export::WorkloadCsv);

// ---------------------------------------------------------------------------------------------
// Printable HTML: standalone A4 documents (no navigation), the MHLW wording word for word.

#[derive(Clone, Copy)]
enum Printable {
    Checklist,
    Survey,
}

async fn print(
    state: &AppState,
    user: &CurrentUser,
    q: PeriodQuery,
    doc: Printable,
) -> Result<HttpResponse, WebError> {
    let b = bundle(state, user, period(&q)?).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("insurer_number", b.insurer.number.as_str());
    ctx.insert("insurer_name", &b.insurer.name);
    ctx.insert("from", &b.period.from.to_string());
    ctx.insert("to", &b.period.to.to_string());
    ctx.insert("as_of", &b.period.as_of.to_string());
    ctx.insert("printed_on", &crate::time::today_jst().to_string());
    let template = match doc {
        Printable::Checklist => {
            ctx.insert("title", checklist::title_for(b.insurer.kind));
            ctx.insert("annex", checklist::annex_for(b.insurer.kind));
            ctx.insert("items", &b.checklist);
            ctx.insert(
                "answers",
                &ChecklistAnswer::ALL
                    .iter()
                    .map(|a| (a.code(), a.label_ja()))
                    .collect::<Vec<_>>(),
            );
            ctx.insert("plan", &b.plan);
            "pages/checklist_print.html"
        }
        Printable::Survey => {
            ctx.insert("title", followup::TITLE);
            ctx.insert("questions", &b.questions);
            "pages/survey_print.html"
        }
    };
    html(state, template, &ctx)
}

/// The checklist (別添1 or 別添2) as a printable A4 HTML document with the answers and notes.
#[utoipa::path(
    get,
    path = "/api/v1/checklist.html",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "Printable HTML (A4)", content_type = "text/html")),
    security(("bearer" = []))
)]
pub async fn api_checklist_html(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    print(&state, &user, q.into_inner(), Printable::Checklist).await
}

/// The follow-up survey (別添3) as a printable A4 HTML document with the answers and notes.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.html",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "Printable HTML (A4)", content_type = "text/html")),
    security(("bearer" = []))
)]
pub async fn api_survey_html(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    print(&state, &user, q.into_inner(), Printable::Survey).await
}

pub async fn checklist_print_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(print(&state, &user.0, q.into_inner(), Printable::Checklist).await?)
}

pub async fn survey_print_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(print(&state, &user.0, q.into_inner(), Printable::Survey).await?)
}

// ---------------------------------------------------------------------------------------------
// JSON

#[derive(Serialize, ToSchema)]
pub struct SurveyBody {
    pub insurer_number: String,
    pub insurer_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub questions: Vec<QuestionView>,
}

/// The follow-up survey with pre-fills (and why) and the staff's answers.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Questions, pre-fills and answers", body = SurveyBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_survey(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let b = bundle(&state, &user, period(&q)?).await?;
    Ok(HttpResponse::Ok().json(SurveyBody {
        insurer_number: b.insurer.number.as_str().to_string(),
        insurer_name: b.insurer.name,
        from: b.period.from,
        to: b.period.to,
        questions: b.questions,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ChecklistBody {
    pub insurer_number: String,
    pub insurer_name: String,
    /// 別添1 (健保組合) or 別添2 (共済組合等)
    pub annex: String,
    pub title: String,
    pub items: Vec<ChecklistItemView>,
    pub plan: Vec<ActionView>,
}

/// The checklist of the insurer's kind with answers and evidence, and the 改善計画.
#[utoipa::path(
    get,
    path = "/api/v1/checklist",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Items, answers, evidence and the plan", body = ChecklistBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_checklist(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let b = bundle(&state, &user, period(&q)?).await?;
    Ok(HttpResponse::Ok().json(ChecklistBody {
        insurer_number: b.insurer.number.as_str().to_string(),
        annex: checklist::annex_for(b.insurer.kind).into(),
        title: checklist::title_for(b.insurer.kind).into(),
        insurer_name: b.insurer.name,
        items: b.checklist,
        plan: b.plan,
    }))
}

/// 要因分析: late cases of each rule by cause, by employer and by month, and monthly statistics.
#[utoipa::path(
    get,
    path = "/api/v1/analysis",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Late cases by cause, employer and month; monthly statistics; `workload`: the April peak against staffing by ISO week (March–May) and by month", content_type = "application/json"),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_analysis(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let p = period(&q)?;
    let iid = user.insurer_id;
    let a = db(&state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        Ok(analysis::compute(c, &insurer, p.from, p.to, p.as_of)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(a))
}

// ---------------------------------------------------------------------------------------------
// Pages

fn period_ctx(ctx: &mut tera::Context, p: Period) {
    ctx.insert("from", &p.from.to_string());
    ctx.insert("to", &p.to.to_string());
    ctx.insert("as_of", &p.as_of.to_string());
    ctx.insert(
        "qs",
        &format!("from={}&to={}&as_of={}", p.from, p.to, p.as_of),
    );
}

pub async fn checklist_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let b = bundle(&state, &user, period(&q)?).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert("title", checklist::title_for(b.insurer.kind));
    ctx.insert("annex", checklist::annex_for(b.insurer.kind));
    ctx.insert("items", &b.checklist);
    ctx.insert(
        "answers",
        &ChecklistAnswer::ALL
            .iter()
            .map(|a| (a.code(), a.label_ja()))
            .collect::<Vec<_>>(),
    );
    Ok(html(&state, "pages/checklist.html", &ctx)?)
}

pub async fn plan_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let p = period(&q)?;
    let iid = user.insurer_id;
    let (insurer, plan) = db(&state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let plan = plan_views(
            store::plan_actions(c, iid)?,
            store::plan_reviews(c, iid)?,
            p.as_of,
        );
        Ok((insurer, plan))
    })
    .await?;
    let mut ctx = base_context(&user, &insurer, "survey");
    period_ctx(&mut ctx, p);
    ctx.insert("schedule", &schedule(&plan, p.as_of));
    ctx.insert("plan", &plan);
    ctx.insert("items", checklist::items_for(insurer.kind));
    ctx.insert("statuses", &store::PLAN_STATUSES);
    Ok(html(&state, "pages/plan.html", &ctx)?)
}

/// A bar per scheduled action on a common time axis (percentages of the width), for the
/// schedule view, with today's position.
#[derive(Serialize)]
struct Schedule {
    start: String,
    end: String,
    today_pct: f64,
    bars: Vec<ScheduleBar>,
}

#[derive(Serialize)]
struct ScheduleBar {
    title: String,
    left: f64,
    width: f64,
    overdue: bool,
    done: bool,
}

fn schedule(plan: &[ActionView], today: NaiveDate) -> Option<Schedule> {
    let dated: Vec<&ActionView> = plan
        .iter()
        .filter(|a| a.start_on.is_some() && a.due_on.is_some())
        .collect();
    let start = dated.iter().filter_map(|a| a.start_on).min()?;
    let end = dated.iter().filter_map(|a| a.due_on).max()?.max(start);
    let span = ((end - start).num_days() + 1) as f64;
    let at = |d: NaiveDate| ((d - start).num_days() as f64 / span * 100.0).clamp(0.0, 100.0);
    Some(Schedule {
        start: start.to_string(),
        end: end.to_string(),
        today_pct: at(today),
        bars: dated
            .iter()
            .map(|a| {
                let s = a.start_on.unwrap_or(start);
                let e = a.due_on.unwrap_or(end).max(s);
                ScheduleBar {
                    title: a.title.clone(),
                    left: at(s),
                    width: (((e - s).num_days() + 1) as f64 / span * 100.0).max(1.0),
                    overdue: a.overdue,
                    done: a.status == "done",
                }
            })
            .collect(),
    })
}

pub async fn survey_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let p = period(&q)?;
    let b = bundle(&state, &user, p).await?;
    let iid = user.insurer_id;
    let history = db(&state, move |c| Ok(store::submissions(c, iid)?)).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert("title", followup::TITLE);
    ctx.insert("questions", &b.questions);
    ctx.insert("months", &b.analysis.months);
    ctx.insert("history", &history);
    Ok(html(&state, "pages/survey.html", &ctx)?)
}

/// One bar pair of the monthly chart, in the SVG's units (700 × 220, baseline at 180).
#[derive(Serialize)]
struct MonthBar {
    label: String,
    x: f64,
    width: f64,
    notices: u64,
    late: u64,
    height: f64,
    late_height: f64,
    april: bool,
}

fn month_bars(a: &Analysis) -> Vec<MonthBar> {
    let n = a.by_month.len().max(1) as f64;
    let max = a
        .by_month
        .iter()
        .map(|m| m.notices)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = 680.0 / n;
    a.by_month
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let late = m.submission_late + m.registration_late;
            MonthBar {
                label: m.key.get(2..).unwrap_or(&m.key).to_string(),
                x: 10.0 + i as f64 * step,
                width: step * 0.7,
                notices: m.notices,
                late,
                height: m.notices as f64 * 170.0 / max,
                late_height: (late as f64 * 170.0 / max).min(170.0),
                april: m.key.ends_with("-04"),
            }
        })
        .collect()
}

pub async fn analysis_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let p = period(&q)?;
    let b = bundle(&state, &user, p).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert(
        "cause_labels",
        &Cause::ALL.iter().map(|c| c.label_ja()).collect::<Vec<_>>(),
    );
    let max = b
        .analysis
        .causes
        .iter()
        .map(|c| c.submission.max(c.registration))
        .max()
        .unwrap_or(0)
        .max(1);
    ctx.insert("max_cause", &max);
    ctx.insert("month_bars", &month_bars(&b.analysis));
    ctx.insert(
        "workload_charts",
        &super::charts::workload_charts(&b.analysis.workload),
    );
    let iid = user.insurer_id;
    let staffing = db(&state, move |c| super::staffing::views(c, iid)).await?;
    ctx.insert("staffing", &staffing);
    let causes_user = user.clone();
    let error_causes = db(&state, move |c| {
        super::error_causes::entries(c, &causes_user)
    })
    .await?;
    ctx.insert("error_causes", &error_causes);
    ctx.insert("cause_options", &super::error_causes::cause_options());
    ctx.insert("a", &b.analysis);
    Ok(html(&state, "pages/analysis.html", &ctx)?)
}

// ---------------------------------------------------------------------------------------------
// Forms (staff)

/// Who changed something: the answers and the plan are what the insurer reports to the ministry,
/// so every change is audited.
struct Who {
    insurer: crate::store::insurers::InsurerId,
    user: crate::store::users::UserId,
    email: String,
}

impl Who {
    fn of(u: &CurrentUser) -> Who {
        Who {
            insurer: u.insurer_id,
            user: u.user_id,
            email: u.email.clone(),
        }
    }

    fn audit(
        &self,
        c: &mut DbConn,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<(), WebError> {
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(self.insurer),
                user: Some(self.user),
                actor: &self.email,
                action,
                target: Some(target),
                detail: Some(detail),
            },
        )?;
        Ok(())
    }
}

// The edits below are made from the pages (forms) and from the API (JSON): each has one function
// that validates, saves and audits, and the two thin handlers around it only read their input and
// shape their answer, so the two ways in cannot drift apart.

fn bad(msg: impl Into<String>) -> WebError {
    WebError::BadRequest(msg.into())
}

/// An optional whole number in a form field; `None` when blank.
fn form_int(v: &Option<String>, msg: &str) -> Result<Option<i64>, WebError> {
    blank(v)
        .map(|s| s.parse::<i64>().map_err(|_| bad(msg)))
        .transpose()
}

async fn save_checklist_answer(
    state: &AppState,
    user: &CurrentUser,
    item_id: String,
    answer: &str,
    note: String,
) -> Result<ChecklistAnswerBody, WebError> {
    user.require(Role::Staff)?;
    let answer = ChecklistAnswer::parse(answer.trim())
        .ok_or_else(|| bad("回答は 実施済 / 未実施 / 一部 のいずれかです"))?;
    let iid = user.insurer_id;
    let by = user.email.clone();
    let who = Who::of(user);
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let item = checklist::find(insurer.kind, item_id.trim())
            .ok_or_else(|| bad(format!("チェック項目 {} はありません", item_id.trim())))?;
        store::set_checklist_answer(c, iid, item.id, answer.code(), note.trim(), &by)?;
        who.audit(c, AuditAction::ChecklistAnswer, item.id, answer.label_ja())?;
        Ok(ChecklistAnswerBody {
            item_id: item.id.into(),
            answer: answer.code().into(),
            answer_label: answer.label_ja().into(),
            note: note.trim().into(),
            updated_by: by,
        })
    })
    .await
}

/// The fields of a new 改善計画 action, as given (dates still text for the form's sake).
struct ActionInput {
    title: String,
    checklist_item: String,
    owner: String,
    start_on: Option<String>,
    due_on: Option<String>,
    status: String,
}

async fn save_action(
    state: &AppState,
    user: &CurrentUser,
    f: ActionInput,
) -> Result<i64, WebError> {
    user.require(Role::Staff)?;
    let iid = user.insurer_id;
    let title = f.title.trim().to_string();
    if title.is_empty() {
        return Err(bad("取組の内容を入力してください"));
    }
    let start_on = opt_date("開始日", &f.start_on)?;
    let due_on = opt_date("期限", &f.due_on)?;
    if let (Some(s), Some(d)) = (start_on, due_on) {
        if d < s {
            return Err(bad("期限が開始日より前になっています"));
        }
    }
    let status = plan_status(&f.status)?;
    let who = Who::of(user);
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let item = Some(f.checklist_item.trim()).filter(|s| !s.is_empty());
        if let Some(i) = item {
            checklist::find(insurer.kind, i)
                .ok_or_else(|| bad(format!("チェック項目 {i} はありません")))?;
        }
        let id = store::add_action(
            c,
            iid,
            &NewAction {
                title: &title,
                checklist_item: item,
                owner: f.owner.trim(),
                start_on,
                due_on,
                status,
            },
        )?;
        who.audit(c, AuditAction::PlanActionAdd, item.unwrap_or(""), &title)?;
        Ok(id)
    })
    .await
}

fn plan_status(s: &str) -> Result<&'static str, WebError> {
    let s = if s.trim().is_empty() {
        "planned"
    } else {
        s.trim()
    };
    store::PLAN_STATUSES
        .iter()
        .find(|(c, _)| *c == s)
        .map(|(c, _)| *c)
        .ok_or_else(|| bad("状況は 未着手 / 実施中 / 完了 のいずれかです"))
}

fn action_id(path: &str) -> Result<i64, WebError> {
    path.parse::<i64>().map_err(|_| WebError::NotFound)
}

async fn save_action_status(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: &str,
) -> Result<(), WebError> {
    user.require(Role::Staff)?;
    let id = action_id(id)?;
    let status = plan_status(status)?;
    let iid = user.insurer_id;
    let who = Who::of(user);
    let found = db(state, move |c| {
        let found = store::set_action_status(c, iid, id, status)?;
        if found {
            who.audit(c, AuditAction::PlanActionStatus, &id.to_string(), status)?;
        }
        Ok(found)
    })
    .await?;
    found.then_some(()).ok_or(WebError::NotFound)
}

async fn save_review(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    reviewed_on: Option<String>,
    progress: Option<i64>,
    note: String,
) -> Result<(), WebError> {
    user.require(Role::Staff)?;
    let id = action_id(id)?;
    let on = opt_date("確認日", &reviewed_on)?.unwrap_or_else(crate::time::today_jst);
    let progress = progress
        .map(|p| {
            i32::try_from(p)
                .ok()
                .filter(|p| (0..=100).contains(p))
                .ok_or_else(|| bad("進捗は 0〜100 の整数で入力してください"))
        })
        .transpose()?;
    let iid = user.insurer_id;
    let by = user.email.clone();
    let who = Who::of(user);
    let found = db(state, move |c| {
        let found = store::add_review(c, iid, id, on, progress, note.trim(), &by)?;
        if found {
            who.audit(c, AuditAction::PlanReview, &id.to_string(), &on.to_string())?;
        }
        Ok(found)
    })
    .await?;
    found.then_some(()).ok_or(WebError::NotFound)
}

async fn save_survey_answer(
    state: &AppState,
    user: &CurrentUser,
    question_id: &str,
    choice: &str,
    days: Option<i64>,
    note: String,
) -> Result<SurveyAnswerBody, WebError> {
    user.require(Role::Staff)?;
    let q = followup::find(question_id.trim())
        .ok_or_else(|| bad(format!("設問 {} はありません", question_id.trim())))?;
    let choice = choice.trim().to_string();
    if !followup::valid_choice(q, &choice) {
        return Err(bad(format!(
            "回答は {} のいずれかです",
            q.choices.join(" / ")
        )));
    }
    // Only 2-(3)-a has a 〇日; a number given with another question is ignored, as the form does.
    let days = match days {
        Some(d) if q.id == followup::DAYS_QUESTION => Some(
            i32::try_from(d)
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| bad("日数は 1〜365 の整数で入力してください"))?,
        ),
        _ => None,
    };
    let iid = user.insurer_id;
    let by = user.email.clone();
    let qid = q.id;
    let who = Who::of(user);
    db(state, move |c| {
        store::set_survey_answer(c, iid, qid, &choice, days, note.trim(), &by)?;
        who.audit(c, AuditAction::SurveyAnswer, qid, &choice)?;
        Ok(SurveyAnswerBody {
            question_id: qid.into(),
            choice,
            days,
            note: note.trim().into(),
            updated_by: by,
        })
    })
    .await
}

// Forms

#[derive(Deserialize)]
pub struct ChecklistForm {
    #[serde(default)]
    item_id: String,
    answer: String,
    #[serde(default)]
    note: String,
}

pub async fn checklist_submit(
    state: web::Data<AppState>,
    post: PageForm<ChecklistForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    save_checklist_answer(&state, &user, f.item_id, &f.answer, f.note).await?;
    Ok(redirect("/checklist"))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    checklist_item: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    start_on: Option<String>,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    status: String,
}

pub async fn action_submit(
    state: web::Data<AppState>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    let input = ActionInput {
        title: f.title,
        checklist_item: f.checklist_item,
        owner: f.owner,
        start_on: f.start_on,
        due_on: f.due_on,
        status: f.status,
    };
    save_action(&state, &user, input).await?;
    Ok(redirect("/plan"))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn action_status_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<StatusForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    save_action_status(&state, &user, &path, &form.status).await?;
    Ok(redirect("/plan"))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    reviewed_on: Option<String>,
    #[serde(default)]
    progress: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn review_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    user.require(Role::Staff)?;
    let progress = form_int(&f.progress, "進捗は 0〜100 の整数で入力してください")?;
    save_review(&state, &user, &path, f.reviewed_on, progress, f.note).await?;
    Ok(redirect("/plan"))
}

#[derive(Deserialize)]
pub struct SurveyAnswerForm {
    #[serde(default)]
    question_id: String,
    choice: String,
    #[serde(default)]
    days: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn survey_answer_submit(
    state: web::Data<AppState>,
    post: PageForm<SurveyAnswerForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    user.require(Role::Staff)?;
    let days = if f.question_id.trim() == followup::DAYS_QUESTION {
        form_int(&f.days, "日数は 1〜365 の整数で入力してください")?
    } else {
        None
    };
    save_survey_answer(&state, &user, &f.question_id, &f.choice, days, f.note).await?;
    Ok(redirect("/survey"))
}

// API (JSON)

#[derive(Deserialize, ToSchema)]
pub struct ChecklistAnswerInput {
    /// The item id as in the checklist, e.g. `2-③`
    pub item_id: String,
    /// done | not_done | partly
    pub answer: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChecklistAnswerBody {
    pub item_id: String,
    pub answer: String,
    pub answer_label: String,
    pub note: String,
    pub updated_by: String,
}

/// Answers one checklist item (replaces an earlier answer). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/checklist/answers",
    tag = "survey",
    request_body = ChecklistAnswerInput,
    responses(
        (status = 200, description = "Saved", body = ChecklistAnswerBody),
        (status = 400, description = "Unknown item or answer (named in the message)", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_checklist_answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ChecklistAnswerInput>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let saved = save_checklist_answer(&state, &user, b.item_id, &b.answer, b.note).await?;
    Ok(HttpResponse::Ok().json(saved))
}

#[derive(Deserialize, ToSchema)]
pub struct SurveyAnswerInput {
    /// `1`, `2-(1)-a`, … as in the survey
    pub question_id: String,
    /// One of the question's choices, word for word (e.g. `準備完了・対応中`)
    pub choice: String,
    /// The 〇日 of `2-(3)-a` (1–365); ignored for other questions
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct SurveyAnswerBody {
    pub question_id: String,
    pub choice: String,
    pub days: Option<i32>,
    pub note: String,
    pub updated_by: String,
}

/// Answers one survey question (overrides its pre-fill). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/survey/answers",
    tag = "survey",
    request_body = SurveyAnswerInput,
    responses(
        (status = 200, description = "Saved", body = SurveyAnswerBody),
        (status = 400, description = "Unknown question, a choice it does not offer, or days out of range", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_survey_answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<SurveyAnswerInput>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let saved =
        save_survey_answer(&state, &user, &b.question_id, &b.choice, b.days, b.note).await?;
    Ok(HttpResponse::Ok().json(saved))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionInputBody {
    pub title: String,
    /// The checklist item it answers, e.g. `3-②`
    #[serde(default)]
    pub checklist_item: Option<String>,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub start_on: Option<NaiveDate>,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// planned (default) | in_progress | done
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBody {
    pub id: i64,
}

/// Adds a 改善計画 action. Needs the staff role; audited.
#[utoipa::path(
    post,
    path = "/api/v1/plan/actions",
    tag = "survey",
    request_body = ActionInputBody,
    responses(
        (status = 201, description = "Added", body = CreatedBody),
        (status = 400, description = "Missing title, due date before the start, unknown item or status", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_add_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ActionInputBody>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let input = ActionInput {
        title: b.title,
        checklist_item: b.checklist_item.unwrap_or_default(),
        owner: b.owner,
        start_on: b.start_on.map(|d| d.to_string()),
        due_on: b.due_on.map(|d| d.to_string()),
        status: b.status.unwrap_or_default(),
    };
    let id = save_action(&state, &user, input).await?;
    Ok(HttpResponse::Created().json(CreatedBody { id }))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusInput {
    /// planned | in_progress | done
    pub status: String,
}

/// Sets a 改善計画 action's status. Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/plan/actions/{id}/status",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    request_body = StatusInput,
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "Unknown status", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_action_status(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<StatusInput>,
) -> Result<HttpResponse, WebError> {
    save_action_status(&state, &user, &path, &body.status).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewInput {
    /// Default: today (Japan)
    #[serde(default)]
    pub reviewed_on: Option<NaiveDate>,
    /// 0–100
    #[serde(default)]
    pub progress: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Records a dated progress review of a 改善計画 action (1-④). Needs the staff role; audited.
#[utoipa::path(
    post,
    path = "/api/v1/plan/actions/{id}/reviews",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    request_body = ReviewInput,
    responses(
        (status = 201, description = "Recorded"),
        (status = 400, description = "Progress out of range", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_add_review(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ReviewInput>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    save_review(
        &state,
        &user,
        &path,
        b.reviewed_on.map(|d| d.to_string()),
        b.progress,
        b.note,
    )
    .await?;
    Ok(HttpResponse::Created().finish())
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// What a submission's answers were based on, kept with it (issue 8: a past submission is shown
/// exactly as it was, whatever the data or settings are today).
#[derive(Serialize)]
struct SubmissionEvidence<'a> {
    as_of: NaiveDate,
    /// The settings and counts the pre-fills were computed from (their reasons are with the
    /// answers).
    facts: &'a SurveyFacts,
    /// The 月別統計 of the period.
    months: &'a [crate::reports::analysis::MonthStats],
    peak_year: Option<i32>,
    busiest_week: Option<&'a crate::reports::workload::LoadRow>,
    has_staffing: bool,
}

/// A submission as stored: the answers with their pre-fill reasons, and the evidence.
#[derive(Serialize, ToSchema)]
pub struct SubmissionBody {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub submitted_by: String,
    /// UTC
    pub created_at: chrono::NaiveDateTime,
    /// The questions as they were answered (same shape as `QuestionView`).
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
    /// Settings, counts and monthly figures used; null for submissions recorded before evidence
    /// was kept.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}

async fn load_submission(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<SubmissionBody, WebError> {
    let id = id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let iid = user.insurer_id;
    let row = db(state, move |c| Ok(store::submission(c, iid, id)?))
        .await?
        .ok_or(WebError::NotFound)?;
    let parse = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).map_err(|e| WebError::Internal(e.into()))
    };
    Ok(SubmissionBody {
        id: row.id,
        period_from: row.period_from,
        period_to: row.period_to,
        submitted_by: row.submitted_by_label,
        created_at: row.created_at,
        questions: parse(&row.answers_json)?,
        evidence: match row.evidence_json.as_deref() {
            Some(e) => parse(e)?,
            None => serde_json::Value::Null,
        },
    })
}

/// One past submission of the follow-up survey, exactly as it was submitted.
#[utoipa::path(
    get,
    path = "/api/v1/survey/submissions/{id}",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the submission")),
    responses(
        (status = 200, description = "The submission with its answers and evidence", body = SubmissionBody),
        (status = 404, description = "No such submission for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_submission(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(load_submission(&state, &user, &path).await?))
}

pub async fn submission_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let s = load_submission(&state, &user, &path).await?;
    let insurer = super::pages::insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "survey");
    ctx.insert("title", followup::TITLE);
    ctx.insert("s", &s);
    Ok(html(&state, "pages/survey_submission.html", &ctx)?)
}

/// Keeps the current answers (pre-fills included) as a submission in the history.
pub async fn survey_submit(
    state: web::Data<AppState>,
    post: PageForm<SubmitForm>,
) -> Result<HttpResponse, PageError> {
    let post = post.0;
    post.user.require(Role::Staff)?;
    let p = period(&PeriodQuery {
        from: post.form.from.clone(),
        to: post.form.to.clone(),
        as_of: None,
    })?;
    let b = bundle(&state, &post.user, p).await?;
    let json = serde_json::to_string(&b.questions).map_err(|e| WebError::Internal(e.into()))?;
    let evidence = serde_json::to_string(&SubmissionEvidence {
        as_of: b.period.as_of,
        facts: &b.facts,
        months: &b.analysis.months,
        peak_year: b.analysis.workload.peak_year,
        busiest_week: b.analysis.workload.busiest_week.as_ref(),
        has_staffing: b.analysis.workload.has_staffing,
    })
    .map_err(|e| WebError::Internal(e.into()))?;
    let iid = post.user.insurer_id;
    let by = post.user.email.clone();
    let who = Who::of(&post.user);
    db(&state, move |c| {
        store::record_submission(c, iid, (p.from, p.to), &json, &evidence, &by)?;
        who.audit(
            c,
            AuditAction::SurveySubmit,
            "followup",
            &format!("{} ～ {}", p.from, p.to),
        )
    })
    .await?;
    Ok(redirect("/survey"))
}

// ---------------------------------------------------------------------------------------------
// Routes

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checklist", web::get().to(checklist_page))
        .route("/checklist", web::post().to(checklist_submit))
        .route("/checklist.xlsx", web::get().to(checklist_xlsx_page))
        .route("/checklist.csv", web::get().to(checklist_csv_page))
        .route("/checklist/print", web::get().to(checklist_print_page))
        .route("/survey/statistics.csv", web::get().to(statistics_csv_page))
        .route("/api/v1/statistics.csv", web::get().to(api_statistics_csv))
        .route("/analysis/workload.csv", web::get().to(workload_csv_page))
        .route(
            "/api/v1/analysis/workload.csv",
            web::get().to(api_workload_csv),
        )
        .route("/survey/print", web::get().to(survey_print_page))
        .route("/api/v1/checklist.html", web::get().to(api_checklist_html))
        .route(
            "/api/v1/survey/followup.html",
            web::get().to(api_survey_html),
        )
        .route("/plan", web::get().to(plan_page))
        .route("/plan/actions", web::post().to(action_submit))
        .route(
            "/plan/actions/{id}/status",
            web::post().to(action_status_submit),
        )
        .route("/plan/actions/{id}/reviews", web::post().to(review_submit))
        .route("/survey", web::get().to(survey_page))
        .route("/survey/answers", web::post().to(survey_answer_submit))
        .route("/survey/submissions", web::post().to(survey_submit))
        .route("/survey/submissions/{id}", web::get().to(submission_page))
        .route(
            "/api/v1/survey/submissions/{id}",
            web::get().to(api_submission),
        )
        .route("/survey/followup.xlsx", web::get().to(survey_xlsx_page))
        .route("/survey/followup.csv", web::get().to(survey_csv_page))
        .route("/analysis", web::get().to(analysis_page))
        .route("/api/v1/analysis", web::get().to(api_analysis))
        .route("/api/v1/checklist", web::get().to(api_checklist))
        .route("/api/v1/survey/followup", web::get().to(api_survey))
        .route(
            "/api/v1/survey/followup.xlsx",
            web::get().to(api_survey_xlsx),
        )
        .route("/api/v1/survey/followup.csv", web::get().to(api_survey_csv))
        .route("/api/v1/checklist.xlsx", web::get().to(api_checklist_xlsx))
        .route("/api/v1/checklist.csv", web::get().to(api_checklist_csv))
        .service(
            web::resource("/api/v1/checklist/answers")
                .app_data(super::params::json_config())
                .route(web::put().to(api_checklist_answer)),
        )
        .service(
            web::resource("/api/v1/survey/answers")
                .app_data(super::params::json_config())
                .route(web::put().to(api_survey_answer)),
        )
        .service(
            web::resource("/api/v1/plan/actions")
                .app_data(super::params::json_config())
                .route(web::post().to(api_add_action)),
        )
        .service(
            web::resource("/api/v1/plan/actions/{id}/status")
                .app_data(super::params::json_config())
                .route(web::put().to(api_action_status)),
        )
        .service(
            web::resource("/api/v1/plan/actions/{id}/reviews")
                .app_data(super::params::json_config())
                .route(web::post().to(api_add_review)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_analysis,
        api_checklist,
        api_survey,
        api_survey_xlsx,
        api_survey_csv,
        api_checklist_xlsx,
        api_checklist_csv,
        api_checklist_html,
        api_survey_html,
        api_statistics_csv,
        api_workload_csv,
        api_submission,
        api_checklist_answer,
        api_survey_answer,
        api_add_action,
        api_action_status,
        api_add_review
    ),
    components(schemas(
        ChecklistAnswerInput,
        ChecklistAnswerBody,
        SurveyAnswerInput,
        SurveyAnswerBody,
        ActionInputBody,
        CreatedBody,
        StatusInput,
        ReviewInput,
        SubmissionBody,
        SurveyBody,
        QuestionView,
        ChecklistBody,
        ChecklistItemView,
        ActionView,
        ReviewView
    ))
)]
struct SurveyApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    SurveyApi::openapi()
}
