//! `regwatch check`: read a notices file (and registrations), evaluate every notice, print.
//! Stateless: no database. Streams the notices file; only the registrations are held, by hash
//! (20 bytes a slot), besides the reader's duplicate index (20 bytes a slot).
use super::stats::{DayHistogram, StatusCounts};
use crate::domain::rules::{self, Explanation};
use crate::domain::types::NoticeKind;
use crate::domain::{
    Calendar, Evaluation, MyNumberStatus, NoticeFacts, RegistrationRule, RuleSettings, Status,
};
use crate::ingest::table::{IdTable, Key96, BATCH};
use crate::ingest::{
    self, member_label, FileError, NoticeReadOptions, NoticeRef, Part, Profile, RegResult,
    SourceOptions,
};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
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
    /// How the insurer's own files are read (SPEC §3.1); `None`: regwatch's format.
    pub profile: Option<Profile>,
    /// e-Gov files: the day the file was received.
    pub received_on: Option<NaiveDate>,
}

impl CheckOptions {
    fn source(&self, part: Part) -> SourceOptions<'_> {
        SourceOptions {
            profile: self.profile.as_ref().and_then(|p| p.part(part)),
            received_on: self.received_on,
        }
    }
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

/// What we keep of a notice's registration rows: the earliest success (SPEC §3), and the line
/// of that row (or of the first row when none succeeded). Keyed by 96 bits of the xxh3-128 of the 受付番号, 20 bytes a slot. A hash
/// collision here would silently join a registration to the wrong notice, so the key is far
/// longer than the duplicate index's 64 bits: for a million notices and a million registered
/// 受付番号 the chance of any false match is about 10⁻¹⁷ (it takes ~10¹⁴ distinct 受付番号 to
/// make it likely).
#[derive(Clone, Copy, Default)]
#[repr(C, packed(4))]
struct RegSlot {
    earliest_ok: Option<NaiveDate>,
    /// The latest success: what counts when the earliest turns out to predate the notice's
    /// receipt (a bad row is rejected, the notice stays: SPEC §2.5).
    latest_ok: Option<NaiveDate>,
    /// `u32::MAX`: see `Registrations::long_lines`.
    line: u32,
}

struct Registrations {
    table: IdTable<Key96, RegSlot>,
    /// Lines past `u32::MAX - 1`, which a slot cannot hold.
    long_lines: HashMap<u128, u64>,
}

/// One accepted registration row, as the workers hand it over.
struct RegRow {
    key: u128,
    ok_on: Option<NaiveDate>,
    line: u64,
    /// A row naming its member instead of a 受付番号: `key` is then the member's hash, and
    /// `on` the result's date (SPEC §3.1), until the notice is found.
    member: Option<MemberRow>,
}

/// What a member-keyed result row needs to find its notice.
struct MemberRow {
    /// The result's Japan date; `None` for an error row without a timestamp.
    on: Option<NaiveDate>,
    label: String,
}

fn member_hash(symbol: &str, number: &str, seq: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(ingest::member_key(symbol, number, seq).as_bytes())
}

impl Registrations {
    fn new(rows: usize) -> Self {
        Registrations {
            table: IdTable::with_capacity(rows),
            long_lines: HashMap::new(),
        }
    }

    /// The first row makes the entry; an earlier success replaces a later one, and on the same
    /// day the first in the file stays (SPEC §3).
    fn add(&mut self, r: &RegRow) {
        let short = u32::try_from(r.line).unwrap_or(u32::MAX);
        let first = RegSlot {
            earliest_ok: r.ok_on,
            latest_ok: r.ok_on,
            line: short,
        };
        let replaced = self
            .table
            .upsert(Key96::new(r.key), first, |e| {
                if let Some(d) = r.ok_on {
                    if e.latest_ok.is_none_or(|l| d > l) {
                        e.latest_ok = Some(d);
                    }
                }
                match r.ok_on {
                    Some(d) if e.earliest_ok.is_none_or(|e| d < e) => {
                        e.earliest_ok = Some(d);
                        e.line = short;
                        true
                    }
                    _ => false,
                }
            })
            .unwrap_or(true);
        if replaced && short == u32::MAX {
            self.long_lines.insert(r.key, r.line);
        }
    }

    /// The earliest success with its line, and the latest success.
    fn get(&self, key: u128) -> Option<(Option<NaiveDate>, u64, Option<NaiveDate>)> {
        let slot = self.table.get(Key96::new(key))?;
        let (earliest_ok, latest_ok) = (slot.earliest_ok, slot.latest_ok);
        let line = match slot.line {
            u32::MAX => self.long_lines.get(&key).copied().unwrap_or(u64::MAX),
            l => u64::from(l),
        };
        Some((earliest_ok, line, latest_ok))
    }
}

fn id_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

fn load_registrations(
    path: &Path,
    opts: &CheckOptions,
    threads: usize,
    err: &mut dyn Write,
    outcome: &mut CheckOutcome,
) -> Result<Registrations, CheckError> {
    let wrap = |source| CheckError::Registrations {
        path: path.display().to_string(),
        source,
    };
    let mut reader =
        ingest::open_registrations(path, opts.source(Part::Registrations)).map_err(wrap)?;
    let rows = reader.rows_estimate(ingest::file_size(path)).unwrap_or(0);
    let mut regs = Registrations::new(rows);
    let mut by_member: Vec<RegRow> = Vec::new();
    reader.par_for_each(
        threads,
        |block: &mut Vec<RegRow>, r| {
            let ok_on = match (r.result, r.registered_at) {
                (RegResult::Ok, Some(at)) => Some(at.jst_date),
                _ => None,
            };
            block.push(match r.member {
                None => RegRow {
                    key: id_key(r.notice_id),
                    ok_on,
                    line: r.line,
                    member: None,
                },
                Some((symbol, number, seq)) => RegRow {
                    key: member_hash(symbol, number, seq),
                    ok_on,
                    line: r.line,
                    member: Some(MemberRow {
                        on: r.registered_at.map(|at| at.jst_date),
                        label: member_label(symbol, number, seq),
                    }),
                },
            })
        },
        |_| {},
        |block, rows| {
            // `map` saw exactly the accepted rows, in this order.
            let mut accepted = 0;
            for row in rows {
                match row {
                    Ok(()) => {
                        if accepted % BATCH == 0 {
                            let next = &block[accepted..block.len().min(accepted + BATCH)];
                            regs.table.touch(next.iter().map(|r| Key96::new(r.key)));
                        }
                        let row = &mut block[accepted];
                        if row.member.is_some() {
                            by_member.push(std::mem::replace(
                                row,
                                RegRow {
                                    key: 0,
                                    ok_on: None,
                                    line: 0,
                                    member: None,
                                },
                            ));
                        } else {
                            regs.add(row);
                        }
                        accepted += 1;
                    }
                    Err(e) => {
                        outcome.registrations_rejected += 1;
                        writeln!(err, "registrations {e}")?;
                    }
                }
            }
            Ok::<(), std::io::Error>(())
        },
    )?;
    reader.finish().map_err(wrap)?;
    if !by_member.is_empty() {
        match_members(opts, by_member, &mut regs, err, outcome)?;
    }
    Ok(regs)
}

/// Result rows that name a member instead of a 受付番号 (SPEC §3.1): each goes to that member's
/// notice received most recently on or before the result's date (without a date: the member's
/// latest notice). No such notice, or two received the same day, rejects the row. One serial
/// pass over the notices file keeps only the notices of the members named.
fn match_members(
    opts: &CheckOptions,
    rows: Vec<RegRow>,
    regs: &mut Registrations,
    err: &mut dyn Write,
    outcome: &mut CheckOutcome,
) -> Result<(), CheckError> {
    let mut notices: HashMap<u128, Vec<(NaiveDate, u128)>> =
        rows.iter().map(|r| (r.key, Vec::new())).collect();
    let wrap = |source| CheckError::Notices {
        path: opts.notices.display().to_string(),
        source,
    };
    let mut reader = ingest::open_notices(
        &opts.notices,
        NoticeReadOptions { as_of: opts.as_of },
        opts.source(Part::Notices),
    )
    .map_err(wrap)?;
    for row in reader.by_ref().flatten() {
        let key = member_hash(
            &row.member_symbol,
            &row.member_number,
            row.dependent_seq.as_deref().unwrap_or(""),
        );
        if let Some(list) = notices.get_mut(&key) {
            list.push((row.received_on, id_key(row.notice_id.as_str())));
        }
    }
    reader.finish().map_err(wrap)?;
    for row in rows {
        let Some(m) = &row.member else { continue };
        match ingest::pick_notice(&notices[&row.key], m.on) {
            Ok(key) => regs.add(&RegRow {
                key,
                ok_on: row.ok_on,
                line: row.line,
                member: None,
            }),
            Err(why) => {
                outcome.registrations_rejected += 1;
                writeln!(err, "registrations line {}: {} {why}", row.line, m.label)?;
            }
        }
    }
    Ok(())
}

/// A block of notices on its way through a worker: the accepted rows as `map` saw them, then
/// (in `done`) what became of each.
#[derive(Default)]
struct NoticeBlock {
    pending: Vec<Pending>,
    /// The 受付番号 of `pending`, back to back (for the formats that print them).
    ids: String,
    verdicts: Vec<Option<Verdict>>,
    /// For each verdict, the rejection of the registration row it could not use, if any.
    notes: Vec<Option<String>>,
    /// The jsonl lines of the block.
    text: Vec<u8>,
}

/// The facts of an accepted notice, before its registration is looked up.
struct Pending {
    key: u128,
    line: u64,
    id: (usize, usize),
    kind: NoticeKind,
    event_date: NaiveDate,
    received_on: NaiveDate,
    my_number: MyNumberStatus,
}

/// What a worker made of an accepted notice: what the sink needs, and no more.
enum Verdict {
    /// For the summary.
    Counted(Counts),
    /// A jsonl line: a range of the block's text buffer.
    Text(usize, usize),
    /// For the csv and table formats.
    Cells(Box<[String; 12]>),
}

/// One notice's share of the summary.
#[derive(Clone, Copy)]
struct Counts {
    submission: Status,
    rule: RegistrationRule,
    registration: Status,
    ex_officio: bool,
    my_number: MyNumberStatus,
    /// Received − event.
    submission_days: i64,
    /// Registered (on or before the as-of date) − received.
    registration_days: Option<i64>,
    e2e_days: Option<i64>,
}

/// Runs the check and writes the result to `out`, rejected rows to `err`.
///
/// Both files are read with [`ingest::default_threads`] worker threads: the rows are typed,
/// evaluated and (for jsonl) formatted on the workers, and this thread writes them in input
/// order, so the output is the same as a serial read.
pub fn run(
    opts: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<CheckOutcome, CheckError> {
    run_with_threads(opts, ingest::default_threads(), out, err)
}

/// [`run`] with `threads` worker threads (0: everything on this thread).
pub fn run_with_threads(
    opts: &CheckOptions,
    threads: usize,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<CheckOutcome, CheckError> {
    let cal = Calendar::get();
    let mut outcome = CheckOutcome::default();
    let regs = match &opts.registrations {
        Some(p) => Some(load_registrations(p, opts, threads, err, &mut outcome)?),
        None => None,
    };
    let wrap = |source| CheckError::Notices {
        path: opts.notices.display().to_string(),
        source,
    };
    let mut reader = ingest::open_notices(
        &opts.notices,
        NoticeReadOptions { as_of: opts.as_of },
        opts.source(Part::Notices),
    )
    .map_err(wrap)?;
    let mut sink = Sink::new(opts.format, opts.as_of, out)?;
    let format = opts.format;
    let keep_ids = format != CheckFormat::Summary;
    let map = |block: &mut NoticeBlock, row: &NoticeRef<'_>| -> usize {
        if block.pending.capacity() == 0 {
            block.pending.reserve(4096);
        }
        let start = block.ids.len();
        if keep_ids {
            block.ids.push_str(row.notice_id);
        }
        block.pending.push(Pending {
            key: id_key(row.notice_id),
            line: row.line,
            id: (start, block.ids.len()),
            kind: row.kind,
            event_date: row.event_date,
            received_on: row.received_on,
            my_number: row.my_number,
        });
        block.pending.len() - 1
    };
    let done = |block: &mut NoticeBlock| {
        let NoticeBlock {
            pending,
            ids,
            verdicts,
            notes,
            text,
        } = block;
        verdicts.reserve_exact(pending.len());
        notes.reserve_exact(pending.len());
        if format == CheckFormat::Jsonl {
            // A jsonl line is about 500 bytes.
            text.reserve(pending.len() * 512);
        }
        for batch in pending.chunks(BATCH) {
            if let Some(regs) = &regs {
                regs.table.touch(batch.iter().map(|p| Key96::new(p.key)));
            }
            for p in batch {
                let (verdict, note) =
                    evaluate(p, &ids[p.id.0..p.id.1], regs.as_ref(), opts, cal, text);
                verdicts.push(Some(verdict));
                notes.push(note);
            }
        }
    };
    reader.par_for_each(threads, map, done, |block, rows| {
        for row in rows {
            let row = row.map(|i| {
                if let Some(note) = block.notes[i].take() {
                    outcome.registrations_rejected += 1;
                    writeln!(err, "{note}")?;
                }
                Ok::<_, std::io::Error>(block.verdicts[i].take())
            });
            match row {
                Err(e) => {
                    outcome.rejected += 1;
                    writeln!(err, "{e}")?;
                }
                Ok(r) => match r? {
                    Some(verdict) => {
                        outcome.accepted += 1;
                        sink.push(verdict, &block.text)?;
                    }
                    None => unreachable!("each verdict is taken once"),
                },
            }
        }
        Ok::<(), std::io::Error>(())
    })?;
    reader.finish().map_err(wrap)?;
    sink.finish()?;
    Ok(outcome)
}

/// One accepted notice, on a worker: the registration check, the rules, and the output; and
/// the rejection of a registration row dated before the notice's receipt (SPEC §2.5: the row is
/// rejected, the notice stays and is evaluated without it).
fn evaluate(
    p: &Pending,
    notice_id: &str,
    regs: Option<&Registrations>,
    opts: &CheckOptions,
    cal: &Calendar,
    text: &mut Vec<u8>,
) -> (Verdict, Option<String>) {
    let (registered_on, note) = match regs.and_then(|m| m.get(p.key)) {
        Some((Some(d), line, latest)) if d < p.received_on => (
            latest.filter(|l| *l >= p.received_on),
            Some(format!(
                "registrations line {line}: 登録完了日 {d} が受付日 {}（届書 line {}）より前です。この登録結果は使いません",
                p.received_on, p.line
            )),
        ),
        Some((earliest_ok, _, _)) => (earliest_ok, None),
        None => (None, None),
    };
    (
        evaluate_facts(p, notice_id, registered_on, opts, cal, text),
        note,
    )
}

fn evaluate_facts(
    p: &Pending,
    notice_id: &str,
    registered_on: Option<NaiveDate>,
    opts: &CheckOptions,
    cal: &Calendar,
    text: &mut Vec<u8>,
) -> Verdict {
    let facts = NoticeFacts {
        kind: p.kind,
        event_date: p.event_date,
        received_on: p.received_on,
        my_number: p.my_number,
        registered_on,
    };
    let ev = rules::evaluate(&facts, &opts.rules, opts.as_of, cal);
    match opts.format {
        CheckFormat::Summary => Verdict::Counted(Counts {
            submission: ev.submission.status,
            rule: ev.registration_rule,
            registration: ev.registration.status,
            ex_officio: ev.ex_officio_required,
            my_number: facts.my_number,
            submission_days: (facts.received_on - facts.event_date).num_days(),
            registration_days: facts
                .registered_on
                .filter(|d| *d <= opts.as_of)
                .map(|reg| (reg - facts.received_on).num_days()),
            e2e_days: ev.e2e_days,
        }),
        CheckFormat::Jsonl => {
            let start = text.len();
            json_line(text, notice_id, &facts, &ev, &opts.rules, cal);
            Verdict::Text(start, text.len())
        }
        CheckFormat::Csv | CheckFormat::Table => {
            Verdict::Cells(Box::new(table_cells(notice_id, p.kind, p.my_number, &ev)))
        }
    }
}

fn json_line(
    buf: &mut Vec<u8>,
    notice_id: &str,
    facts: &NoticeFacts,
    ev: &Evaluation,
    settings: &RuleSettings,
    cal: &Calendar,
) {
    let rec = JsonRecord {
        notice_id,
        kind: facts.kind.code(),
        my_number_status: facts.my_number.code(),
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
    // Writing to a Vec cannot fail, and these types always serialise.
    serde_json::to_writer(&mut *buf, &rec).expect("a check record serialises");
    buf.push(b'\n');
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
        RegistrationRule::Loss => "喪失",
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

fn table_cells(
    notice_id: &str,
    kind: NoticeKind,
    my_number: MyNumberStatus,
    ev: &Evaluation,
) -> [String; 12] {
    let opt = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    let date = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    [
        notice_id.to_string(),
        kind.label_ja().to_string(),
        my_number.label_ja().to_string(),
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
    loss: StatusCounts,
    submission_days: DayHistogram,
    five_day_days: DayHistogram,
    standard_days: DayHistogram,
    loss_days: DayHistogram,
    e2e_days: DayHistogram,
    ex_officio: u64,
    by_status: [u64; 3],
}

enum Sink<'w> {
    Jsonl(&'w mut dyn Write),
    Csv(Box<super::export::CsvExport<&'w mut dyn Write>>),
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
                let mut w = super::export::CsvExport::new(out)?;
                w.row(COLUMNS)?;
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
                    loss: StatusCounts::default(),
                    submission_days: DayHistogram::default(),
                    five_day_days: DayHistogram::default(),
                    standard_days: DayHistogram::default(),
                    loss_days: DayHistogram::default(),
                    e2e_days: DayHistogram::default(),
                    ex_officio: 0,
                    by_status: [0; 3],
                }),
            ),
        })
    }

    fn push(&mut self, verdict: Verdict, text: &[u8]) -> std::io::Result<()> {
        match (self, verdict) {
            (Sink::Jsonl(out), Verdict::Text(start, end)) => out.write_all(&text[start..end]),
            (Sink::Csv(w), Verdict::Cells(cells)) => {
                w.row(cells.iter()).map_err(std::io::Error::other)
            }
            (Sink::Table(_, rows), Verdict::Cells(cells)) => {
                rows.push(*cells);
                Ok(())
            }
            (Sink::Summary(_, s), Verdict::Counted(c)) => {
                s.submission.add(c.submission);
                s.submission_days.add(c.submission_days);
                let (counts, days) = match c.rule {
                    RegistrationRule::FiveDay => (&mut s.five_day, &mut s.five_day_days),
                    RegistrationRule::Standard => (&mut s.standard, &mut s.standard_days),
                    RegistrationRule::Loss => (&mut s.loss, &mut s.loss_days),
                };
                counts.add(c.registration);
                if let Some(d) = c.registration_days {
                    days.add(d);
                }
                if let Some(d) = c.e2e_days {
                    s.e2e_days.add(d);
                }
                s.ex_officio += u64::from(c.ex_officio);
                s.by_status[match c.my_number {
                    MyNumberStatus::Valid => 0,
                    MyNumberStatus::Invalid => 1,
                    MyNumberStatus::Missing => 2,
                }] += 1;
                Ok(())
            }
            _ => unreachable!("the verdict is made for the sink's format"),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Jsonl(out) => out.flush(),
            Sink::Csv(w) => w.finish()?.flush(),
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
        ("登録 資格喪失届", &s.loss),
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
    writeln!(out, "登録までの日数（資格喪失届）: {}", days(&s.loss_days))?;
    writeln!(out, "事実発生日から登録まで:     {}", days(&s.e2e_days))?;
    writeln!(out, "資格確認書の職権交付が必要: {} 件", s.ex_officio)?;
    Ok(())
}
