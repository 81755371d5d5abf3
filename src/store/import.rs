//! Loading notices and registration results: one file = one batch = one transaction.
//!
//! Rows are read as a stream and written in chunks inside a single write transaction, so a batch
//! becomes visible all at once or not at all (a killed process leaves nothing behind, and running
//! the command again completes it). Notices are typed on reader threads, staged in a temporary
//! table and merged set-based (see `stage`); repeats of a 受付番号 within the file are found in
//! the stage too, so the process holds a few blocks of the file and one chunk of rows whatever the
//! file's size.
use super::insurers::Insurer;
use super::schema::{import_batches, import_rejects, notices, registration_results};
use super::users::UserId;
use super::{now_utc, write_tx, DbConn};
use crate::domain::rules::{self, NoticeFacts};
use crate::domain::{Calendar, MyNumberStatus, NoticeKind};
use crate::ingest::{
    self, FileError, NoticeReadOptions, NoticeReader, NoticeRef, RegResult, RegistrationReader,
    RegistrationRow, RowError,
};
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::rc::Rc;

/// Multi-row INSERT on the concrete backend: diesel's MultiConnection has no batch insert, and
/// one statement per chunk is what makes loading fast.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

mod stage;

/// Rows written per statement group. Large enough to amortise round trips, small enough to keep
/// memory flat and stay under SQLite's bind-parameter limit (19 columns × 1000 < 32766).
pub const CHUNK: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Notices,
    Registrations,
}

impl FileKind {
    pub fn code(self) -> &'static str {
        match self {
            FileKind::Notices => "notices",
            FileKind::Registrations => "registrations",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            FileKind::Notices => "届書",
            FileKind::Registrations => "登録結果",
        }
    }
}

/// Who loads the file: a signed-in user, or the CLI.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: Option<UserId>,
    pub label: String,
}

/// What a batch did, for the terminal, the web page and the API.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub batch_id: i64,
    pub file_name: String,
    pub sha256: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Registrations whose notice is not loaded yet (kept; linked when the notice arrives).
    pub without_notice: u64,
    /// The first rejected rows (all of them are stored with the batch).
    pub rejects: Vec<Reject>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
}

impl ImportSummary {
    /// 「0 件新規、0 件変更、N 件変更なし」: what the user reads after every import.
    pub fn line_ja(&self) -> String {
        format!(
            "{} 件新規、{} 件変更、{} 件変更なし、{} 行却下（{} 行読込）",
            self.new, self.changed, self.unchanged, self.rejected, self.rows_read
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("このファイルは保険者番号 {found} のものです（取込先は {expected}、line {line}）。取込を中止しました")]
    WrongInsurer {
        expected: String,
        found: String,
        line: u64,
    },
    #[error("ファイルの最終行（line {line}）が途中で切れています。ファイルが最後まで転送されたか確認してください。取込を中止しました")]
    Truncated { line: u64 },
    #[error("データベースエラーのため取込を中止しました: {0}")]
    Db(#[from] diesel::result::Error),
    /// Internal: a preview's batch, carried out of its transaction to roll it back.
    #[error("取込の確認（変更内容の表示）のみ")]
    Preview(Box<ImportSummary>),
}

/// Whether a batch is kept or only shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Commit,
    /// Everything an import does, in its transaction, then rolled back: the summary tells what
    /// the file would change (new / changed / unchanged / rejected) before anyone commits it.
    Preview,
}

/// Ends a batch's transaction: a preview hands its summary out as an error, so that
/// `write_tx` rolls everything back.
fn end_batch(summary: ImportSummary, mode: Mode) -> Result<ImportSummary, ImportError> {
    match mode {
        Mode::Commit => Ok(summary),
        Mode::Preview => Err(ImportError::Preview(Box::new(summary))),
    }
}

/// The summary of a preview, out of the error that rolled it back.
fn preview_result(r: Result<ImportSummary, ImportError>) -> Result<ImportSummary, ImportError> {
    match r {
        Err(ImportError::Preview(s)) => Ok(*s),
        other => other,
    }
}

/// Feeds everything read through SHA-256 and remembers how the file ends, while the CSV reader
/// streams it: one pass over the bytes.
struct Tee<R> {
    inner: R,
    state: Rc<RefCell<TeeState>>,
}

#[derive(Default)]
struct TeeState {
    hasher: Sha256,
    newlines: u64,
    last_byte: Option<u8>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let mut s = self.state.borrow_mut();
            s.hasher.update(&buf[..n]);
            s.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            s.last_byte = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// Progress callback: rows read so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

const MAX_REJECTS_IN_SUMMARY: usize = 50;

/// Common batch bookkeeping for both file kinds.
struct Batch {
    id: i64,
    summary: ImportSummary,
    pending_rejects: Vec<Reject>,
    insurer_id: i64,
}

impl Batch {
    fn start(
        conn: &mut DbConn,
        insurer: &Insurer,
        kind: FileKind,
        file_name: &str,
        actor: &Actor,
    ) -> Result<Batch, diesel::result::Error> {
        let id: i64 = diesel::insert_into(import_batches::table)
            .values((
                import_batches::insurer_id.eq(insurer.id.0),
                import_batches::file_kind.eq(kind.code()),
                import_batches::file_name.eq(file_name),
                import_batches::sha256.eq(""),
                import_batches::status.eq("running"),
                import_batches::created_by.eq(actor.user.map(|u| u.0)),
                import_batches::created_by_label.eq(&actor.label),
                import_batches::created_at.eq(now_utc()),
            ))
            .returning(import_batches::id)
            .get_result(conn)?;
        Ok(Batch {
            id,
            summary: ImportSummary {
                batch_id: id,
                file_name: file_name.to_string(),
                ..ImportSummary::default()
            },
            pending_rejects: Vec::new(),
            insurer_id: insurer.id.0,
        })
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.summary.rejected += 1;
        let r = Reject { line, reason };
        if self.summary.rejects.len() < MAX_REJECTS_IN_SUMMARY {
            self.summary.rejects.push(r.clone());
        }
        self.pending_rejects.push(r);
    }

    fn flush_rejects(&mut self, conn: &mut DbConn) -> Result<(), diesel::result::Error> {
        for chunk in self.pending_rejects.chunks(CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        import_rejects::insurer_id.eq(self.insurer_id),
                        import_rejects::batch_id.eq(self.id),
                        import_rejects::line.eq(r.line as i64),
                        import_rejects::reason.eq(r.reason.as_str()),
                    )
                })
                .collect();
            batch_insert!(conn, import_rejects::table, &rows)?;
        }
        self.pending_rejects.clear();
        Ok(())
    }

    fn finish(
        mut self,
        conn: &mut DbConn,
        sha256: String,
        rows_read: u64,
    ) -> Result<ImportSummary, diesel::result::Error> {
        self.flush_rejects(conn)?;
        self.summary.rejects.sort_by_key(|r| r.line);
        self.summary.sha256 = sha256;
        self.summary.rows_read = rows_read;
        let s = &self.summary;
        diesel::update(import_batches::table.find(self.id))
            .set((
                import_batches::sha256.eq(&s.sha256),
                import_batches::status.eq("completed"),
                import_batches::rows_read.eq(s.rows_read as i64),
                import_batches::rows_accepted.eq(s.accepted as i64),
                import_batches::rows_rejected.eq(s.rejected as i64),
                import_batches::rows_new.eq(s.new as i64),
                import_batches::rows_changed.eq(s.changed as i64),
                import_batches::rows_unchanged.eq(s.unchanged as i64),
                import_batches::finished_at.eq(Some(now_utc())),
            ))
            .execute(conn)?;
        Ok(self.summary)
    }
}

/// Serialises writers of one insurer (the row lock on PostgreSQL; SQLite's `BEGIN IMMEDIATE` write
/// lock is already held) and bumps the insurer's data version, which keys cached figures: the bump
/// commits or rolls back with the batch.
fn lock_insurer(conn: &mut DbConn, insurer_id: i64) -> Result<(), diesel::result::Error> {
    super::insurers::bump_data_version(conn, super::insurers::InsurerId(insurer_id))
}

/// For transactions that look rows up by key, chunk after chunk, while they write (registrations,
/// settings recompute): inside one long transaction the planner's statistics still describe the
/// tables as they were before it, so lookups by key turn into sequential scans that grow with every
/// chunk, and prepared statements would keep a generic plan that leaves the key list out of the
/// index condition. Every lookup there is by an indexed key: tell the planner so.
fn plan_key_lookups(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SET LOCAL enable_seqscan = off").execute(pg)?;
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(pg)?;
    }
    Ok(())
}

fn sha_hex(state: &Rc<RefCell<TeeState>>) -> String {
    let s = std::mem::take(&mut state.borrow_mut().hasher);
    hex::encode(s.finalize())
}

/// A file whose last line lacks its newline and has too few fields was cut off in transfer:
/// loading the rest would silently lose that row, so the whole file is refused.
fn truncated_last_line(
    state: &Rc<RefCell<TeeState>>,
    last_reject: Option<&RowError>,
) -> Option<u64> {
    let s = state.borrow();
    let last_line = s.newlines + 1;
    match (s.last_byte, last_reject) {
        (Some(b), Some(r)) if b != b'\n' && r.line == last_line && r.reason.contains("列の数") => {
            Some(last_line)
        }
        _ => None,
    }
}

pub use crate::ingest::member_key;

/// Loads a notices file for `insurer`. See the module comment for the guarantees.
///
/// The rows are parsed, checked and given their deadlines in Rust, then staged in a temporary
/// table (PostgreSQL: `COPY FROM STDIN`; SQLite: one prepared INSERT per row) and merged into
/// employers, members and notices by a handful of set-based statements: the database does the
/// joins and index work in bulk instead of a round trip per chunk.
pub fn import_notices(
    conn: &mut DbConn,
    insurer: &Insurer,
    source: impl Read,
    file_name: &str,
    actor: &Actor,
    as_of: NaiveDate,
    progress: Progress<'_>,
) -> Result<ImportSummary, ImportError> {
    notices_batch(
        conn,
        insurer,
        source,
        file_name,
        actor,
        as_of,
        progress,
        Mode::Commit,
    )
}

/// [`import_notices`] in either [`Mode`].
#[allow(clippy::too_many_arguments)]
pub fn notices_batch(
    conn: &mut DbConn,
    insurer: &Insurer,
    source: impl Read,
    file_name: &str,
    actor: &Actor,
    as_of: NaiveDate,
    progress: Progress<'_>,
    mode: Mode,
) -> Result<ImportSummary, ImportError> {
    let state = Rc::new(RefCell::new(TeeState::default()));
    let tee = Tee {
        inner: source,
        state: state.clone(),
    };
    // Repeats of a 受付番号 within the file are found in the stage, not in memory.
    let mut reader = NoticeReader::new(tee, NoticeReadOptions { as_of })?.without_duplicate_check();
    let cal = Calendar::get();
    let pg = matches!(conn, DbConn::Pg(_));
    let settings = insurer.rules;
    let expected = &insurer.number;
    let summary = with_bulk_cache(conn, |conn| {
        write_tx(conn, |conn| {
            lock_insurer(conn, insurer.id.0)?;
            let start = StartState::read(conn, insurer.id.0)?;
            let mut batch = Batch::start(conn, insurer, FileKind::Notices, file_name, actor)?;
            stage::create(conn)?;
            let mut sink = stage::Sink::default();
            let started = std::time::Instant::now();
            let mut last_reject: Option<RowError> = None;
            let mut read = 0u64;
            // Reader threads type the rows, compute their deadlines and (PostgreSQL) write
            // their COPY text; this thread writes them to the stage, in file order.
            reader.par_for_each(
                ingest::default_threads(),
                |block: &mut Vec<u8>, r: &NoticeRef<'_>| match r.insurer_number {
                    Some(found) if found != expected => Err(ImportError::WrongInsurer {
                        expected: expected.to_string(),
                        found: found.to_string(),
                        line: r.line,
                    }),
                    _ => Ok(stage::Prepared::new(block, r, &settings, cal, pg)),
                },
                |_| {},
                |block, rows| {
                    for row in rows {
                        read += 1;
                        match row {
                            Ok(prepared) => sink.push(block, prepared?),
                            Err(e) => {
                                batch.reject(e.line, e.reason.clone());
                                last_reject = Some(e);
                            }
                        }
                        // A file of mostly bad rows fills the rejects instead of the sink.
                        if sink.is_full() || batch.pending_rejects.len() >= stage::CHUNK {
                            sink.write(conn)?;
                            batch.flush_rejects(conn)?;
                            progress(read);
                        }
                    }
                    Ok::<(), ImportError>(())
                },
            )?;
            sink.write(conn)?;
            tracing::debug!(
                rows = read,
                ms = started.elapsed().as_millis() as u64,
                "import file read and staged"
            );
            let stats = reader.finish()?;
            if let Some(line) = truncated_last_line(&state, last_reject.as_ref()) {
                return Err(ImportError::Truncated { line });
            }
            stage::drop_repeats(conn, &mut batch)?;
            stage::merge(conn, start, insurer.id.0, &mut batch)?;
            progress(stats.rows.max(read));
            end_batch(batch.finish(conn, sha_hex(&state), stats.rows)?, mode)
        })
    });
    if mode == Mode::Preview {
        return preview_result(summary);
    }
    let summary = summary?;
    analyze_after(conn, &summary, &["notices", "members", "employers"]);
    Ok(summary)
}

/// Runs `f` with a larger SQLite page cache: with the default 2 MB every index insert of a large
/// batch re-reads pages from the OS and spills dirty ones to the WAL mid-batch. Bounded, so memory
/// stays flat whatever the file size, and set back afterwards so the pooled connection does not
/// keep it.
fn with_bulk_cache<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    const KIB: i64 = 64 * 1024;
    if !matches!(conn, DbConn::Sqlite(_)) {
        return f(conn);
    }
    conn.batch_execute(&format!(
        "PRAGMA main.cache_size = -{KIB}; PRAGMA temp.cache_size = -{KIB};"
    ))?;
    let out = f(conn);
    if let Err(e) =
        conn.batch_execute("PRAGMA main.cache_size = -2000; PRAGMA temp.cache_size = -2000;")
    {
        tracing::warn!(error = %e, "could not reset the SQLite page cache after an import");
    }
    out
}

/// After a large batch on PostgreSQL the planner's statistics still describe the tables as they
/// were, which turns later lookups into sequential scans until autovacuum gets round to them.
/// Outside the batch's transaction, so a failure here costs nothing but a warning.
fn analyze_after(conn: &mut DbConn, summary: &ImportSummary, tables: &[&str]) {
    const LARGE: u64 = 10_000;
    if let DbConn::Pg(pg) = conn {
        if summary.new + summary.changed >= LARGE {
            for t in tables {
                if let Err(e) = diesel::sql_query(format!("ANALYZE {t}")).execute(pg) {
                    tracing::warn!(table = t, error = %e, "ANALYZE after import failed");
                }
            }
        }
    }
}

/// What the insurer's tables held when the batch started (inside its transaction).
#[derive(Clone, Copy)]
struct StartState {
    had_notices: bool,
    had_registrations: bool,
}

impl StartState {
    fn read(conn: &mut DbConn, insurer_id: i64) -> Result<StartState, diesel::result::Error> {
        use diesel::dsl::exists;
        Ok(StartState {
            had_notices: diesel::select(exists(
                notices::table.filter(notices::insurer_id.eq(insurer_id)),
            ))
            .get_result(conn)?,
            had_registrations: diesel::select(exists(
                registration_results::table.filter(registration_results::insurer_id.eq(insurer_id)),
            ))
            .get_result(conn)?,
        })
    }
}

pub fn rule_code(r: rules::RegistrationRule) -> &'static str {
    match r {
        rules::RegistrationRule::FiveDay => "five_day",
        rules::RegistrationRule::Standard => "standard",
        rules::RegistrationRule::Loss => "loss",
    }
}

/// Loads a registration-results file for `insurer` (SPEC §3: a success after an error replaces
/// it; a second success keeps the earliest completion; re-loading adds nothing).
pub fn import_registrations(
    conn: &mut DbConn,
    insurer: &Insurer,
    source: impl Read,
    file_name: &str,
    actor: &Actor,
    progress: Progress<'_>,
) -> Result<ImportSummary, ImportError> {
    registrations_batch(
        conn,
        insurer,
        source,
        file_name,
        actor,
        progress,
        Mode::Commit,
    )
}

/// [`import_registrations`] in either [`Mode`].
pub fn registrations_batch(
    conn: &mut DbConn,
    insurer: &Insurer,
    source: impl Read,
    file_name: &str,
    actor: &Actor,
    progress: Progress<'_>,
    mode: Mode,
) -> Result<ImportSummary, ImportError> {
    let state = Rc::new(RefCell::new(TeeState::default()));
    let tee = Tee {
        inner: source,
        state: state.clone(),
    };
    let mut reader = RegistrationReader::new(tee)?;
    let summary = with_bulk_cache(conn, |conn| {
        write_tx(conn, |conn| {
            lock_insurer(conn, insurer.id.0)?;
            let had_registrations = StartState::read(conn, insurer.id.0)?.had_registrations;
            let mut batch = Batch::start(conn, insurer, FileKind::Registrations, file_name, actor)?;
            stage::create_registration_stage(conn)?;
            let mut chunk: Vec<RegistrationRow> = Vec::with_capacity(stage::CHUNK);
            let mut last_reject: Option<RowError> = None;
            loop {
                let done = match reader.next() {
                    Some(Ok(row)) => {
                        chunk.push(row);
                        false
                    }
                    Some(Err(e)) => {
                        batch.reject(e.line, e.reason.clone());
                        last_reject = Some(e);
                        false
                    }
                    None => true,
                };
                if chunk.len() >= stage::CHUNK
                    || batch.pending_rejects.len() >= CHUNK
                    || (done && !chunk.is_empty())
                {
                    stage_registrations(conn, insurer.id.0, &mut batch, &mut chunk)?;
                    batch.flush_rejects(conn)?;
                    progress(reader.stats().rows);
                }
                if done {
                    break;
                }
            }
            let stats = reader.finish()?;
            if let Some(line) = truncated_last_line(&state, last_reject.as_ref()) {
                return Err(ImportError::Truncated { line });
            }
            stage::merge_registrations(conn, insurer.id.0, had_registrations, &mut batch)?;
            progress(stats.rows);
            end_batch(batch.finish(conn, sha_hex(&state), stats.rows)?, mode)
        })
    });
    if mode == Mode::Preview {
        return preview_result(summary);
    }
    let summary = summary?;
    analyze_after(conn, &summary, &["registration_results", "notices"]);
    Ok(summary)
}

/// Writes a chunk of read rows to the registration stage, after giving the rows that name a member
/// the 受付番号 of that member's notice.
fn stage_registrations(
    conn: &mut DbConn,
    insurer_id: i64,
    batch: &mut Batch,
    chunk: &mut Vec<RegistrationRow>,
) -> Result<(), diesel::result::Error> {
    resolve_members(conn, insurer_id, batch, chunk)?;
    let rows: Vec<stage::RegistrationStageRow> = chunk
        .drain(..)
        .filter_map(|row| {
            let notice_id = row.notice_id?;
            Some(stage::RegistrationStageRow {
                line: row.line as i64,
                notice_id: notice_id.as_str().to_string(),
                result: match row.result {
                    RegResult::Ok => "ok",
                    RegResult::Error => "error",
                },
                registered_at: row.registered_at.map(|r| r.utc),
                registered_on: row.registered_at.map(|r| r.jst_date),
                error_code: row.error_code,
                error_message: row.error_message,
            })
        })
        .collect();
    stage::write_registration_stage(conn, &rows)
}

/// Gives each row of the chunk that names a member instead of a 受付番号 the 受付番号 of that
/// member's notice (SPEC §3.1: received most recently on or before the result's date); a row
/// with no such notice, or with two received that day, is rejected with its line and why.
fn resolve_members(
    conn: &mut DbConn,
    insurer_id: i64,
    batch: &mut Batch,
    chunk: &mut Vec<RegistrationRow>,
) -> Result<(), diesel::result::Error> {
    use super::schema::members;
    let keys: HashSet<String> = chunk
        .iter()
        .filter_map(|r| r.member.as_ref())
        .map(|m| member_key(&m.symbol, &m.number, &m.seq))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = keys.into_iter().collect();
    let mut by_member: HashMap<String, Vec<(NaiveDate, String)>> = HashMap::new();
    for part in keys.chunks(CHUNK) {
        let found: Vec<(String, String, NaiveDate)> = notices::table
            .inner_join(members::table)
            .filter(notices::insurer_id.eq(insurer_id))
            .filter(members::insurer_id.eq(insurer_id))
            .filter(members::member_key.eq_any(part))
            .select((
                members::member_key,
                notices::notice_id,
                notices::received_on,
            ))
            .load(conn)?;
        for (key, id, received) in found {
            by_member.entry(key).or_default().push((received, id));
        }
    }
    let mut rejected = Vec::new();
    for (i, row) in chunk.iter_mut().enumerate() {
        let Some(m) = &row.member else { continue };
        let key = member_key(&m.symbol, &m.number, &m.seq);
        let candidates = by_member.get(&key).map_or(&[][..], Vec::as_slice);
        let on = row.registered_at.map(|at| at.jst_date);
        match crate::ingest::pick_notice(candidates, on) {
            Ok(id) => {
                row.notice_id = Some(
                    crate::domain::types::NoticeId::parse(&id)
                        .unwrap_or_else(|_| unreachable!("a stored 受付番号 parses")),
                )
            }
            Err(why) => {
                batch.reject(row.line, format!("{} {why}", m.label()));
                rejected.push(i);
            }
        }
    }
    for i in rejected.into_iter().rev() {
        chunk.remove(i);
    }
    Ok(())
}

/// Recomputes every stored deadline of an insurer after its rule settings change, in one
/// transaction with the settings themselves. Returns how many notices got a different deadline.
pub fn recompute_deadlines(
    conn: &mut DbConn,
    insurer: &Insurer,
    new_rules: &crate::domain::RuleSettings,
) -> Result<u64, diesel::result::Error> {
    use super::schema::insurers;
    write_tx(conn, |conn| {
        lock_insurer(conn, insurer.id.0)?;
        plan_key_lookups(conn)?;
        diesel::update(insurers::table.find(insurer.id.0))
            .set((
                insurers::rules_toml.eq(new_rules.to_toml_string()),
                insurers::updated_at.eq(now_utc()),
            ))
            .execute(conn)?;
        walk_deadlines(conn, insurer, new_rules, true)
    })
}

/// How many stored deadlines `new_rules` would change, without changing anything (the settings
/// page's preview).
pub fn preview_deadline_changes(
    conn: &mut DbConn,
    insurer: &Insurer,
    new_rules: &crate::domain::RuleSettings,
) -> Result<u64, diesel::result::Error> {
    walk_deadlines(conn, insurer, new_rules, false)
}

fn walk_deadlines(
    conn: &mut DbConn,
    insurer: &Insurer,
    new_rules: &crate::domain::RuleSettings,
    apply: bool,
) -> Result<u64, diesel::result::Error> {
    let cal = Calendar::get();
    {
        let mut changed = 0u64;
        let mut after = 0i64;
        // Changed deadlines go to a temporary table page by page and into notices with one
        // UPDATE at the end (not one UPDATE per notice).
        let mut updates = Vec::new();
        if apply {
            stage::create_deadline_updates(conn)?;
        }
        // Each page should be a range of the primary key from where the last one ended. SQLite
        // would rather use an index on insurer_id and sort all of the insurer's notices for every
        // page (37 s for a preview at 1,000,000 notices, 1.9 s without): `+` keeps its indexes out.
        // PostgreSQL's statistics get this right, and `+` would hide the column from them.
        let same_insurer = match conn {
            DbConn::Pg(_) => "notices.insurer_id = ",
            DbConn::Sqlite(_) => "+notices.insurer_id = ",
        };
        loop {
            type Row = (
                i64,
                String,
                NaiveDate,
                NaiveDate,
                String,
                NaiveDate,
                NaiveDate,
                String,
            );
            let rows: Vec<Row> = notices::table
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(same_insurer)
                        .bind::<diesel::sql_types::BigInt, _>(insurer.id.0),
                )
                .filter(notices::id.gt(after))
                .order(notices::id.asc())
                .limit(CHUNK as i64 * 5)
                .select((
                    notices::id,
                    notices::kind,
                    notices::event_date,
                    notices::received_on,
                    notices::my_number_status,
                    notices::submission_deadline,
                    notices::registration_deadline,
                    notices::registration_rule,
                ))
                .load(conn)?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (id, kind, event, received, status, sub, reg, rule) in rows {
                let facts = NoticeFacts {
                    kind: NoticeKind::parse(&kind).unwrap_or(NoticeKind::Acquisition),
                    event_date: event,
                    received_on: received,
                    my_number: MyNumberStatus::parse_code(&status)
                        .unwrap_or(MyNumberStatus::Missing),
                    registered_on: None,
                };
                let dl = rules::deadlines(&facts, new_rules, cal);
                if dl.submission != sub
                    || dl.registration != reg
                    || rule_code(dl.registration_rule) != rule
                {
                    changed += 1;
                    if apply {
                        updates.push((
                            id,
                            dl.submission,
                            dl.registration,
                            rule_code(dl.registration_rule),
                        ));
                    }
                }
            }
            if !updates.is_empty() {
                stage::write_deadline_updates(conn, &updates)?;
                updates.clear();
            }
        }
        if apply {
            stage::apply_deadline_updates(conn, insurer.id.0)?;
        }
        Ok(changed)
    }
}

/// The rejected rows of a batch, by line: (line, reason). Reasons never quote row content, so no
/// My Number can be in them (`reports::export::rejects_csv` writes them for Excel).
pub fn rejects(
    conn: &mut DbConn,
    insurer_id: super::insurers::InsurerId,
    batch_id: i64,
) -> Result<Vec<(i64, String)>, diesel::result::Error> {
    import_rejects::table
        .filter(import_rejects::insurer_id.eq(insurer_id.0))
        .filter(import_rejects::batch_id.eq(batch_id))
        .order(import_rejects::line.asc())
        .select((import_rejects::line, import_rejects::reason))
        .load(conn)
}
