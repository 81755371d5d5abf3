//! `regwatch check`: read a notices file (and registrations), evaluate every notice, print.
//! Stateless: no database. Streams the notices file; only the registrations are held, by hash.
use super::stats::{DayHistogram, StatusCounts};
use crate::domain::rules::{self, Explanation};
use crate::domain::{
    Calendar, Evaluation, MyNumberStatus, NoticeFacts, RegistrationRule, RuleSettings, Status,
};
use crate::ingest::{self, FileError, NoticeReadOptions, NoticeRow, RegResult};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use unicode_width::UnicodeWidthStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// A readable Japanese table for a terminal.
    Table,
    /// One JSON object per accepted notice, in input order.
    Jsonl,
    /// The table's columns as CSV (UTF-8 with BOM, for Excel).
    Csv,
    /// Counts per rule and status, the 5-day rates, median and p90 days.
    Summary,
}

pub struct CheckOptions {
    pub notices: PathBuf,
    pub registrations: Option<PathBuf>,
    pub as_of: NaiveDate,
    pub rules: RuleSettings,
    pub format: CheckFormat,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckOutcome {
    pub accepted: u64,
    pub rejected: u64,
    pub registrations_rejected: u64,
}

impl CheckOutcome {
    /// 0: every row accepted; 3: some rows rejected (the rest was still printed).
    pub fn exit_code(&self) -> u8 {
        if self.rejected + self.registrations_rejected > 0 {
            3
        } else {
            0
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("届書ファイル {path}: {source}")]
    Notices { path: String, source: FileError },
    #[error("登録結果ファイル {path}: {source}")]
    Registrations { path: String, source: FileError },
    #[error("出力できません: {0}")]
    Output(#[from] std::io::Error),
}

/// Keys are already xxh3-128 hashes of the notice id: hash them again would be wasted work.
#[derive(Default)]
struct PreHashed(u64);
impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}
type IdMap<V> = HashMap<u128, V, BuildHasherDefault<PreHashed>>;

fn id_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// What we keep of a notice's registration rows: the earliest success (SPEC §3).
#[derive(Clone, Copy)]
struct RegInfo {
    earliest_ok: Option<NaiveDate>,
    line: u64,
}

fn load_registrations(
    path: &Path,
    err: &mut dyn Write,
    outcome: &mut CheckOutcome,
) -> Result<IdMap<RegInfo>, CheckError> {
    let wrap = |source| CheckError::Registrations {
        path: path.display().to_string(),
        source,
    };
    let mut reader = ingest::open_registrations(path).map_err(wrap)?;
    let mut map: IdMap<RegInfo> = IdMap::default();
    for row in reader.by_ref() {
        match row {
            Ok(r) => {
                let e = map.entry(id_key(r.notice_id.as_str())).or_insert(RegInfo {
                    earliest_ok: None,
                    line: r.line,
                });
                if let (RegResult::Ok, Some(at)) = (r.result, r.registered_at) {
                    if e.earliest_ok.is_none_or(|d| at.jst_date < d) {
                        e.earliest_ok = Some(at.jst_date);
                        e.line = r.line;
                    }
                }
            }
            Err(e) => {
                outcome.registrations_rejected += 1;
                writeln!(err, "registrations {e}")?;
            }
        }
    }
    reader.finish().map_err(wrap)?;
    Ok(map)
}

/// Runs the check and writes the result to `out`, rejected rows to `err`.
pub fn run(
    opts: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<CheckOutcome, CheckError> {
    let cal = Calendar::get();
    let mut outcome = CheckOutcome::default();
    let regs = match &opts.registrations {
        Some(p) => Some(load_registrations(p, err, &mut outcome)?),
        None => None,
    };
    let wrap = |source| CheckError::Notices {
        path: opts.notices.display().to_string(),
        source,
    };
    let mut reader = ingest::open_notices(&opts.notices, NoticeReadOptions { as_of: opts.as_of })
        .map_err(wrap)?;
    let mut sink = Sink::new(opts.format, opts.as_of, out)?;
    for row in reader.by_ref() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                outcome.rejected += 1;
                writeln!(err, "{e}")?;
                continue;
            }
        };
        let registered_on = match regs
            .as_ref()
            .and_then(|m| m.get(&id_key(row.notice_id.as_str())))
        {
            Some(RegInfo {
                earliest_ok: Some(d),
                line,
            }) if *d < row.received_on => {
                outcome.rejected += 1;
                writeln!(
                    err,
                    "line {}: 登録完了日 {} (registrations line {}) が受付日 {} より前です",
                    row.line, d, line, row.received_on
                )?;
                continue;
            }
            Some(info) => info.earliest_ok,
            None => None,
        };
        let facts = NoticeFacts {
            kind: row.kind,
            event_date: row.event_date,
            received_on: row.received_on,
            my_number: row.my_number,
            registered_on,
        };
        let ev = rules::evaluate(&facts, &opts.rules, opts.as_of, cal);
        outcome.accepted += 1;
        sink.push(&row, &facts, &ev, &opts.rules, cal)?;
    }
    reader.finish().map_err(wrap)?;
    sink.finish()?;
    Ok(outcome)
}

/// The jsonl record of SPEC/issue: field names are a contract for outside scripts.
#[derive(Serialize)]
struct JsonRecord<'a> {
    notice_id: &'a str,
    kind: &'static str,
    my_number_status: &'static str,
    submission: JsonRule,
    registration: JsonRegistration,
    ex_officio_card: JsonExOfficio,
    e2e_days: Option<i64>,
    explanation: Explanation,
}

#[derive(Serialize)]
struct JsonRule {
    status: Status,
    deadline: Option<NaiveDate>,
    days_over: Option<i64>,
}

#[derive(Serialize)]
struct JsonRegistration {
    rule: RegistrationRule,
    status: Status,
    deadline: Option<NaiveDate>,
    days_over: Option<i64>,
}

#[derive(Serialize)]
struct JsonExOfficio {
    required: bool,
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Met => "期限内",
        Status::Breached => "期限超過",
        Status::AtRisk => "期限間近",
        Status::Open => "処理中",
        Status::NotApplicable => "対象外",
    }
}

pub fn rule_label(r: RegistrationRule) -> &'static str {
    match r {
        RegistrationRule::FiveDay => "5日",
        RegistrationRule::Standard => "標準",
    }
}

const COLUMNS: [&str; 12] = [
    "受付番号",
    "届書",
    "個人番号",
    "提出期限",
    "提出",
    "提出超過日数",
    "登録ルール",
    "登録期限",
    "登録",
    "登録超過日数",
    "資格確認書",
    "登録まで日数",
];

fn table_cells(row: &NoticeRow, ev: &Evaluation) -> [String; 12] {
    let opt = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    let date = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    [
        row.notice_id.as_str().to_string(),
        row.kind.label_ja().to_string(),
        row.my_number.label_ja().to_string(),
        date(ev.submission.deadline),
        status_label(ev.submission.status).to_string(),
        opt(ev.submission.days_over),
        rule_label(ev.registration_rule).to_string(),
        date(ev.registration.deadline),
        status_label(ev.registration.status).to_string(),
        opt(ev.registration.days_over),
        if ev.ex_officio_required {
            "要交付"
        } else {
            ""
        }
        .to_string(),
        opt(ev.e2e_days),
    ]
}

struct Summary {
    as_of: NaiveDate,
    submission: StatusCounts,
    five_day: StatusCounts,
    standard: StatusCounts,
    submission_days: DayHistogram,
    five_day_days: DayHistogram,
    standard_days: DayHistogram,
    e2e_days: DayHistogram,
    ex_officio: u64,
    by_status: [u64; 3],
}

enum Sink<'w> {
    Jsonl(&'w mut dyn Write),
    Csv(Box<csv::Writer<&'w mut dyn Write>>),
    /// The table needs column widths, so its rows are kept until the end.
    Table(&'w mut dyn Write, Vec<[String; 12]>),
    Summary(&'w mut dyn Write, Box<Summary>),
}

impl<'w> Sink<'w> {
    fn new(
        format: CheckFormat,
        as_of: NaiveDate,
        out: &'w mut dyn Write,
    ) -> std::io::Result<Sink<'w>> {
        Ok(match format {
            CheckFormat::Jsonl => Sink::Jsonl(out),
            CheckFormat::Csv => {
                out.write_all("\u{feff}".as_bytes())?;
                let mut w = csv::Writer::from_writer(out);
                w.write_record(COLUMNS)?;
                Sink::Csv(Box::new(w))
            }
            CheckFormat::Table => Sink::Table(out, Vec::new()),
            CheckFormat::Summary => Sink::Summary(
                out,
                Box::new(Summary {
                    as_of,
                    submission: StatusCounts::default(),
                    five_day: StatusCounts::default(),
                    standard: StatusCounts::default(),
                    submission_days: DayHistogram::default(),
                    five_day_days: DayHistogram::default(),
                    standard_days: DayHistogram::default(),
                    e2e_days: DayHistogram::default(),
                    ex_officio: 0,
                    by_status: [0; 3],
                }),
            ),
        })
    }

    fn push(
        &mut self,
        row: &NoticeRow,
        facts: &NoticeFacts,
        ev: &Evaluation,
        settings: &RuleSettings,
        cal: &Calendar,
    ) -> std::io::Result<()> {
        match self {
            Sink::Jsonl(out) => {
                let rec = JsonRecord {
                    notice_id: row.notice_id.as_str(),
                    kind: row.kind.code(),
                    my_number_status: row.my_number.code(),
                    submission: JsonRule {
                        status: ev.submission.status,
                        deadline: ev.submission.deadline,
                        days_over: ev.submission.days_over,
                    },
                    registration: JsonRegistration {
                        rule: ev.registration_rule,
                        status: ev.registration.status,
                        deadline: ev.registration.deadline,
                        days_over: ev.registration.days_over,
                    },
                    ex_officio_card: JsonExOfficio {
                        required: ev.ex_officio_required,
                    },
                    e2e_days: ev.e2e_days,
                    explanation: rules::explain(facts, settings, cal),
                };
                serde_json::to_writer(&mut **out, &rec)?;
                out.write_all(b"\n")
            }
            Sink::Csv(w) => w
                .write_record(table_cells(row, ev))
                .map_err(std::io::Error::other),
            Sink::Table(_, rows) => {
                rows.push(table_cells(row, ev));
                Ok(())
            }
            Sink::Summary(_, s) => {
                s.submission.add(ev.submission.status);
                s.submission_days
                    .add((facts.received_on - facts.event_date).num_days());
                let (counts, days) = match ev.registration_rule {
                    RegistrationRule::FiveDay => (&mut s.five_day, &mut s.five_day_days),
                    RegistrationRule::Standard => (&mut s.standard, &mut s.standard_days),
                };
                counts.add(ev.registration.status);
                if let Some(reg) = facts.registered_on.filter(|d| *d <= s.as_of) {
                    days.add((reg - facts.received_on).num_days());
                }
                if let Some(d) = ev.e2e_days {
                    s.e2e_days.add(d);
                }
                s.ex_officio += u64::from(ev.ex_officio_required);
                s.by_status[match row.my_number {
                    MyNumberStatus::Valid => 0,
                    MyNumberStatus::Invalid => 1,
                    MyNumberStatus::Missing => 2,
                }] += 1;
                Ok(())
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Jsonl(out) => out.flush(),
            Sink::Csv(mut w) => w.flush(),
            Sink::Table(out, rows) => write_table(out, &rows),
            Sink::Summary(out, s) => write_summary(out, &s),
        }
    }
}

fn pad(out: &mut dyn Write, cell: &str, width: usize, right: bool) -> std::io::Result<()> {
    let fill = width.saturating_sub(UnicodeWidthStr::width(cell));
    if right {
        write!(out, "{}{}", " ".repeat(fill), cell)
    } else {
        write!(out, "{}{}", cell, " ".repeat(fill))
    }
}

fn write_table(out: &mut dyn Write, rows: &[[String; 12]]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = COLUMNS.iter().map(|c| UnicodeWidthStr::width(*c)).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(UnicodeWidthStr::width(c.as_str()));
        }
    }
    let numeric = [
        false, false, false, false, false, true, false, false, false, true, false, true,
    ];
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.write_all(b"  ")?;
            }
            pad(out, c, widths[i], numeric[i])?;
        }
        out.write_all(b"\n")
    };
    line(out, &COLUMNS)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule.iter().map(String::as_str).collect::<Vec<_>>())?;
    for r in rows {
        line(out, &r.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    writeln!(out, "{} 件", rows.len())
}

fn rate(c: &StatusCounts) -> String {
    c.met_rate()
        .map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn days(h: &DayHistogram) -> String {
    match (h.percentile(50.0), h.percentile(90.0)) {
        (Some(m), Some(p)) => format!("中央値 {m}日 / 90%点 {p}日（{} 件）", h.count()),
        _ => "-".into(),
    }
}

fn write_summary(out: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    let total = s.submission.total();
    writeln!(out, "基準日: {}", s.as_of)?;
    writeln!(
        out,
        "届書: {} 件（個人番号 正しい記載 {} / 誤り {} / 未記載 {}）",
        total, s.by_status[0], s.by_status[1], s.by_status[2]
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<34}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
        "", "期限内", "期限超過", "期限間近", "処理中", "対象外", "遵守率"
    )?;
    for (label, c) in [
        ("提出（事業主→保険者）", &s.submission),
        ("登録 5日ルール（個人番号 正）", &s.five_day),
        ("登録 標準処理期間（個人番号 誤り・未記載）", &s.standard),
    ] {
        pad(out, label, 34, false)?;
        for v in [c.met, c.breached, c.at_risk, c.open, c.not_applicable] {
            write!(out, "{v:>10}")?;
        }
        writeln!(out, "{:>10}", rate(c))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "遵守率 = 期限内 ÷（期限内 + 期限超過）。処理中・期限間近は含めません。"
    )?;
    writeln!(
        out,
        "提出までの日数:            {}",
        days(&s.submission_days)
    )?;
    writeln!(
        out,
        "登録までの日数（5日ルール）: {}",
        days(&s.five_day_days)
    )?;
    writeln!(
        out,
        "登録までの日数（標準）:     {}",
        days(&s.standard_days)
    )?;
    writeln!(out, "事実発生日から登録まで:     {}", days(&s.e2e_days))?;
    writeln!(out, "資格確認書の職権交付が必要: {} 件", s.ex_officio)?;
    Ok(())
}
