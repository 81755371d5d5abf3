//! The exports of the checklist, the follow-up survey, the monthly statistics and the April peak:
//! xlsx workbooks (through `xlsx`) and CSV files (through `export`, the one CSV writer), all built
//! from the same `Bundle` the pages show.
use super::bundle::Bundle;
use super::checklist;
use super::export::csv_bytes;
use super::survey as followup;
use super::xlsx::{self, XlsxError, HEADER_ROW};
use crate::store::audit::AuditAction;
use crate::store::insurers::Insurer;
use rust_xlsxwriter::{Format, Workbook};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("CSV を書けません: {0}")]
    Csv(#[from] csv::Error),
    #[error("xlsx を書けません: {0}")]
    Xlsx(#[from] XlsxError),
}

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

/// A CSV export: the insurer's number and name first on every row, then the document's columns.
fn csv<const N: usize>(
    insurer: &Insurer,
    headers: &[&str; N],
    rows: Vec<[String; N]>,
) -> csv::Result<Vec<u8>> {
    let lead = [insurer.number.as_str().to_string(), insurer.name.clone()];
    csv_bytes(
        ["保険者番号", "保険者名"]
            .iter()
            .chain(headers)
            .map(|h| h.to_string()),
        rows.into_iter().map(|r| lead.iter().cloned().chain(r)),
    )
}

fn period_title(b: &Bundle) -> String {
    format!(
        "受付日 {} ～ {}（{} 時点）",
        b.period.from, b.period.to, b.period.as_of
    )
}

fn stats_sheet(wb: &mut Workbook, b: &Bundle) -> Result<(), XlsxError> {
    let pct = Format::new().set_num_format("0.0%");
    let ws = xlsx::sheet(wb, "月別統計", &b.insurer, &period_title(b), &STATS_HEADERS)?;
    for (i, m) in b.analysis.months.iter().enumerate() {
        let r = i as u32 + HEADER_ROW + 1;
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

/// 繁忙期と体制 (checklist 2-②): the spring by week, then every month of the period.
fn workload_sheet(wb: &mut Workbook, b: &Bundle) -> Result<(), XlsxError> {
    let one = Format::new().set_num_format("0.0");
    let w = &b.analysis.workload;
    let note = if w.has_staffing {
        ""
    } else {
        "。職員数が未入力のため1人当たり件数は空欄です"
    };
    let title = format!(
        "{}。週は3〜5月（{}）{note}",
        period_title(b),
        w.peak_year
            .map(|y| format!("{y}年"))
            .unwrap_or_else(|| "期間外".into())
    );
    let ws = xlsx::sheet(wb, "繁忙期と体制", &b.insurer, &title, &WORKLOAD_HEADERS)?;
    let rows = w
        .weeks
        .iter()
        .map(|r| ("週", r))
        .chain(w.months.iter().map(|r| ("月", r)));
    for (i, (kind, r)) in rows.enumerate() {
        let row = i as u32 + HEADER_ROW + 1;
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
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    Ok(())
}

fn causes_sheet(wb: &mut Workbook, b: &Bundle) -> Result<(), XlsxError> {
    let ws = xlsx::sheet(wb, "要因分析", &b.insurer, &period_title(b), &CAUSE_HEADERS)?;
    for (i, c) in b.analysis.causes.iter().enumerate() {
        let r = i as u32 + HEADER_ROW + 1;
        ws.write_string(r, 0, c.label)?;
        ws.write_number(r, 1, c.submission as f64)?;
        ws.write_number(r, 2, c.registration as f64)?;
    }
    ws.set_column_width(0, 28)?;
    Ok(())
}

fn survey_xlsx(b: &Bundle) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    xlsx::text_sheet(
        &mut wb,
        "フォローアップ調査",
        &b.insurer,
        followup::TITLE,
        &SURVEY_HEADERS,
        &survey_rows(b),
        &[8.0, 30.0, 60.0, 40.0, 24.0, 16.0, 10.0, 30.0, 50.0],
    )?;
    stats_sheet(&mut wb, b)?;
    causes_sheet(&mut wb, b)?;
    workload_sheet(&mut wb, b)?;
    wb.save_to_buffer()
}

fn checklist_xlsx(b: &Bundle) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let title = format!(
        "{}（{}）",
        checklist::title_for(b.insurer.kind),
        checklist::annex_for(b.insurer.kind)
    );
    xlsx::text_sheet(
        &mut wb,
        "チェックリスト",
        &b.insurer,
        &title,
        &CHECKLIST_HEADERS,
        &checklist_rows(b),
        &[8.0, 22.0, 70.0, 10.0, 30.0, 50.0],
    )?;
    xlsx::text_sheet(
        &mut wb,
        "改善計画",
        &b.insurer,
        "改善計画（取組とスケジュール）",
        &PLAN_HEADERS,
        &plan_rows(b),
        &[6.0, 40.0, 10.0, 14.0, 12.0, 12.0, 10.0, 10.0, 50.0],
    )?;
    stats_sheet(&mut wb, b)?;
    causes_sheet(&mut wb, b)?;
    workload_sheet(&mut wb, b)?;
    wb.save_to_buffer()
}

/// Every export: each document in the formats it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
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
    /// How the audit log records the download.
    pub fn audit_action(self) -> AuditAction {
        match self {
            Export::SurveyXlsx | Export::SurveyCsv => AuditAction::ExportSurvey,
            Export::ChecklistXlsx | Export::ChecklistCsv => AuditAction::ExportChecklist,
            Export::StatisticsCsv => AuditAction::ExportStatistics,
            Export::WorkloadCsv => AuditAction::ExportWorkload,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Export::SurveyXlsx => "followup.xlsx",
            Export::SurveyCsv => "followup.csv",
            Export::ChecklistXlsx => "checklist.xlsx",
            Export::ChecklistCsv => "checklist.csv",
            Export::StatisticsCsv => "statistics.csv",
            Export::WorkloadCsv => "workload.csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Export::SurveyXlsx | Export::ChecklistXlsx => xlsx::CONTENT_TYPE,
            Export::SurveyCsv
            | Export::ChecklistCsv
            | Export::StatisticsCsv
            | Export::WorkloadCsv => "text/csv; charset=utf-8",
        }
    }

    /// The file of this export for `b`.
    pub fn bytes(self, b: &Bundle) -> Result<Vec<u8>, ExportError> {
        Ok(match self {
            Export::SurveyXlsx => survey_xlsx(b)?,
            Export::ChecklistXlsx => checklist_xlsx(b)?,
            Export::SurveyCsv => csv(&b.insurer, &SURVEY_HEADERS, survey_rows(b))?,
            Export::ChecklistCsv => csv(&b.insurer, &CHECKLIST_HEADERS, checklist_rows(b))?,
            Export::StatisticsCsv => csv(&b.insurer, &STATS_HEADERS, stats_rows(b))?,
            Export::WorkloadCsv => csv(&b.insurer, &WORKLOAD_HEADERS, workload_rows(b))?,
        })
    }
}
