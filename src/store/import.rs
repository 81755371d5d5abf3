//! Loading notices and registration results: one file = one batch = one transaction.
//!
//! Rows are read as a stream and written in chunks inside a single write transaction, so a batch
//! becomes visible all at once or not at all (a killed process leaves nothing behind, and running
//! the command again completes it). Memory depends on the chunk size, not on the file.
use super::insurers::Insurer;
use super::schema::{
    employers, import_batches, import_rejects, members, notices, registration_results,
};
use super::users::UserId;
use super::{now_utc, write_tx, DbConn};
use crate::domain::rules::{self, NoticeFacts};
use crate::domain::{Calendar, MyNumberStatus, NoticeKind};
use crate::ingest::{
    FileError, NoticeReadOptions, NoticeReader, NoticeRow, RegResult, RegistrationReader,
    RegistrationRow, RowError,
};
use chrono::{NaiveDate, NaiveDateTime};
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

/// On PostgreSQL, imports (and settings changes) of one insurer take turns: two files creating
/// the same new employer at once would otherwise collide on its unique key. SQLite's
/// `BEGIN IMMEDIATE` already serialises writers.
/// Serialises writers of one insurer (the row lock on PostgreSQL; SQLite's write lock is already
/// held) and bumps the insurer's data version, which keys cached figures: the bump commits or rolls
/// back with the batch.
fn lock_insurer(conn: &mut DbConn, insurer_id: i64) -> Result<(), diesel::result::Error> {
    super::insurers::bump_data_version(conn, super::insurers::InsurerId(insurer_id))?;
    if let DbConn::Pg(pg) = conn {
        // Inside one long transaction the planner's statistics still describe the tables as they
        // were before the batch, so lookups by key turn into sequential scans that grow with every
        // chunk. Every lookup here is by an indexed key: tell the planner so for this transaction.
        // Prepared statements would also keep a generic plan that leaves the key list out of
        // the index condition; plan each lookup with its actual keys instead.
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

/// The key of a member: 記号, 番号 and 枝番 joined with a unit separator.
pub fn member_key(symbol: &str, number: &str, seq: &str) -> String {
    format!("{symbol}\u{1f}{number}\u{1f}{seq}")
}

/// Loads a notices file for `insurer`. See the module comment for the guarantees.
pub fn import_notices(
    conn: &mut DbConn,
    insurer: &Insurer,
    source: impl Read,
    file_name: &str,
    actor: &Actor,
    as_of: NaiveDate,
    progress: Progress<'_>,
) -> Result<ImportSummary, ImportError> {
    let state = Rc::new(RefCell::new(TeeState::default()));
    let tee = Tee {
        inner: source,
        state: state.clone(),
    };
    let mut reader = NoticeReader::new(tee, NoticeReadOptions { as_of })?;
    let cal = Calendar::get();
    write_tx(conn, |conn| {
        lock_insurer(conn, insurer.id.0)?;
        let start = StartState::read(conn, insurer.id.0)?;
        let mut batch = Batch::start(conn, insurer, FileKind::Notices, file_name, actor)?;
        let mut employers = EmployerCache::default();
        let mut chunk: Vec<NoticeRow> = Vec::with_capacity(CHUNK);
        let mut last_reject: Option<RowError> = None;
        let mut read = 0u64;
        loop {
            let done = match reader.next() {
                Some(Ok(row)) => {
                    if let Some(found) = &row.insurer_number {
                        if found != &insurer.number {
                            return Err(ImportError::WrongInsurer {
                                expected: insurer.number.to_string(),
                                found: found.to_string(),
                                line: row.line,
                            });
                        }
                    }
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
            if chunk.len() >= CHUNK || (done && !chunk.is_empty()) {
                write_notice_chunk(
                    conn,
                    start,
                    insurer,
                    cal,
                    &mut batch,
                    &mut employers,
                    &mut chunk,
                )?;
                batch.flush_rejects(conn)?;
                read = reader.stats().rows;
                progress(read);
            }
            if done {
                break;
            }
        }
        let stats = reader.finish()?;
        if let Some(line) = truncated_last_line(&state, last_reject.as_ref()) {
            return Err(ImportError::Truncated { line });
        }
        progress(stats.rows.max(read));
        Ok(batch.finish(conn, sha_hex(&state), stats.rows)?)
    })
}

#[derive(Default)]
struct EmployerCache {
    by_code: HashMap<String, (i64, Option<String>)>,
}

impl EmployerCache {
    /// Ids for the chunk's employer codes, creating employers seen for the first time and
    /// filling in a name that was unknown.
    fn resolve(
        &mut self,
        conn: &mut DbConn,
        insurer_id: i64,
        rows: &[NoticeRow],
    ) -> Result<(), diesel::result::Error> {
        let missing: Vec<&str> = rows
            .iter()
            .map(|r| r.employer_code.as_str())
            .filter(|c| !self.by_code.contains_key(*c))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            self.load(conn, insurer_id, &missing)?;
            let now = now_utc();
            let mut new_rows = Vec::new();
            let mut seen = HashSet::new();
            for r in rows {
                if !self.by_code.contains_key(&r.employer_code)
                    && seen.insert(r.employer_code.as_str())
                {
                    new_rows.push((
                        employers::insurer_id.eq(insurer_id),
                        employers::code.eq(r.employer_code.as_str()),
                        employers::name.eq(r.employer_name.as_deref()),
                        employers::contact_emails.eq(""),
                        employers::opt_out.eq(false),
                        employers::created_at.eq(now),
                        employers::updated_at.eq(now),
                    ));
                }
            }
            if !new_rows.is_empty() {
                batch_insert!(conn, employers::table, &new_rows)?;
                self.load(conn, insurer_id, &missing)?;
            }
        }
        for r in rows {
            if let (Some(name), Some((id, known))) =
                (&r.employer_name, self.by_code.get_mut(&r.employer_code))
            {
                if known.as_deref() != Some(name.as_str()) {
                    diesel::update(employers::table.find(*id))
                        .set((
                            employers::name.eq(name.as_str()),
                            employers::updated_at.eq(now_utc()),
                        ))
                        .execute(conn)?;
                    *known = Some(name.clone());
                }
            }
        }
        Ok(())
    }

    fn load(
        &mut self,
        conn: &mut DbConn,
        insurer_id: i64,
        codes: &[&str],
    ) -> Result<(), diesel::result::Error> {
        let found: Vec<(i64, String, Option<String>)> = employers::table
            .filter(employers::insurer_id.eq(insurer_id))
            .filter(employers::code.eq_any(codes))
            .select((employers::id, employers::code, employers::name))
            .load(conn)?;
        for (id, code, name) in found {
            self.by_code.insert(code, (id, name));
        }
        Ok(())
    }

    fn id(&self, code: &str) -> i64 {
        self.by_code[code].0
    }
}

/// member_key → (id, name, name_kana) of members already stored.
type KnownMembers = HashMap<String, (i64, Option<String>, Option<String>)>;

/// Ids of the chunk's members, creating new ones and updating changed names.
fn resolve_members(
    conn: &mut DbConn,
    insurer_id: i64,
    rows: &[NoticeRow],
    employer_ids: &[i64],
) -> Result<HashMap<String, i64>, diesel::result::Error> {
    let keys: Vec<String> = rows
        .iter()
        .map(|r| {
            member_key(
                &r.member_symbol,
                &r.member_number,
                r.dependent_seq.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let load = |conn: &mut DbConn| -> Result<KnownMembers, diesel::result::Error> {
        let found: Vec<(i64, String, Option<String>, Option<String>)> = members::table
            .filter(members::insurer_id.eq(insurer_id))
            .filter(members::member_key.eq_any(&keys))
            .select((
                members::id,
                members::member_key,
                members::name,
                members::name_kana,
            ))
            .load(conn)?;
        Ok(found
            .into_iter()
            .map(|(id, k, n, nk)| (k, (id, n, nk)))
            .collect())
    };
    let mut known = load(conn)?;
    let now = now_utc();
    let mut seen = HashSet::new();
    let mut new_rows = Vec::new();
    for ((r, k), emp) in rows.iter().zip(&keys).zip(employer_ids) {
        if !known.contains_key(k) && seen.insert(k.as_str()) {
            new_rows.push((
                members::insurer_id.eq(insurer_id),
                members::employer_id.eq(Some(*emp)),
                members::symbol.eq(r.member_symbol.as_str()),
                members::number.eq(r.member_number.as_str()),
                members::dependent_seq.eq(r.dependent_seq.as_deref().unwrap_or("")),
                members::member_key.eq(k.as_str()),
                members::name.eq(r.name.as_deref()),
                members::name_kana.eq(r.name_kana.as_deref()),
                members::created_at.eq(now),
                members::updated_at.eq(now),
            ));
        }
    }
    if !new_rows.is_empty() {
        let inserted: Vec<(i64, String)> = match conn {
            DbConn::Pg(c) => diesel::insert_into(members::table)
                .values(&new_rows)
                .returning((members::id, members::member_key))
                .get_results(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(members::table)
                .values(&new_rows)
                .returning((members::id, members::member_key))
                .get_results(c)?,
        };
        // The inserted names are what the first row of each new member carried.
        let mut first_names: HashMap<&str, (Option<String>, Option<String>)> = HashMap::new();
        for (r, k) in rows.iter().zip(&keys) {
            first_names
                .entry(k.as_str())
                .or_insert_with(|| (r.name.clone(), r.name_kana.clone()));
        }
        for (id, key) in inserted {
            let (name, kana) = first_names.get(key.as_str()).cloned().unwrap_or_default();
            known.insert(key, (id, name, kana));
        }
    }
    // A later notice may carry a corrected name; keep the newest non-empty one.
    for (r, k) in rows.iter().zip(&keys) {
        if let Some((id, name, kana)) = known.get_mut(k) {
            let name_changed = r.name.is_some() && r.name != *name;
            let kana_changed = r.name_kana.is_some() && r.name_kana != *kana;
            if name_changed || kana_changed {
                let new_name = r.name.clone().or(name.clone());
                let new_kana = r.name_kana.clone().or(kana.clone());
                diesel::update(members::table.find(*id))
                    .set((
                        members::name.eq(new_name.as_deref()),
                        members::name_kana.eq(new_kana.as_deref()),
                        members::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                *name = new_name;
                *kana = new_kana;
            }
        }
    }
    Ok(known.into_iter().map(|(k, (id, _, _))| (k, id)).collect())
}

/// Earliest successful registration already stored per notice id (results may arrive first).
fn earliest_registrations(
    conn: &mut DbConn,
    insurer_id: i64,
    ids: &[&str],
) -> Result<HashMap<String, NaiveDateTime>, diesel::result::Error> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = registration_results::table
        .filter(registration_results::insurer_id.eq(insurer_id))
        .filter(registration_results::notice_id.eq_any(ids))
        .filter(registration_results::result.eq("ok"))
        .select((
            registration_results::notice_id,
            registration_results::registered_at,
        ))
        .load(conn)?;
    let mut out: HashMap<String, NaiveDateTime> = HashMap::new();
    for (id, at) in rows {
        if let Some(at) = at {
            out.entry(id)
                .and_modify(|e| *e = (*e).min(at))
                .or_insert(at);
        }
    }
    Ok(out)
}

/// JST date of a UTC timestamp (SPEC §2.1: every rule counts Japan dates).
pub fn jst_date(utc: NaiveDateTime) -> NaiveDate {
    (utc + chrono::Duration::hours(9)).date()
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

fn write_notice_chunk(
    conn: &mut DbConn,
    start: StartState,
    insurer: &Insurer,
    cal: &Calendar,
    batch: &mut Batch,
    employer_cache: &mut EmployerCache,
    chunk: &mut Vec<NoticeRow>,
) -> Result<(), diesel::result::Error> {
    let insurer_id = insurer.id.0;
    let ids: Vec<&str> = chunk.iter().map(|r| r.notice_id.as_str()).collect();
    // When the insurer had no notices before this batch, nothing can exist yet: the reader has
    // already dropped repeated ids within the file, so the lookup would only cost time.
    let existing: HashMap<String, (i64, i64)> = if start.had_notices {
        notices::table
            .filter(notices::insurer_id.eq(insurer_id))
            .filter(notices::notice_id.eq_any(&ids))
            .select((notices::notice_id, notices::id, notices::content_hash))
            .load::<(String, i64, i64)>(conn)?
            .into_iter()
            .map(|(n, id, h)| (n, (id, h)))
            .collect()
    } else {
        HashMap::new()
    };
    let regs = if start.had_registrations {
        earliest_registrations(conn, insurer_id, &ids)?
    } else {
        HashMap::new()
    };

    // Unchanged rows need nothing else; the rest need employers and members.
    let mut work: Vec<NoticeRow> = Vec::with_capacity(chunk.len());
    for row in chunk.drain(..) {
        match existing.get(row.notice_id.as_str()) {
            Some((_, h)) if *h == row.content_hash as i64 => {
                batch.summary.accepted += 1;
                batch.summary.unchanged += 1;
            }
            _ => {
                if let Some(at) = regs.get(row.notice_id.as_str()) {
                    if jst_date(*at) < row.received_on {
                        batch.reject(
                            row.line,
                            format!(
                                "登録完了日 {} が受付日 {} より前です（先に取り込んだ登録結果と矛盾します）",
                                jst_date(*at),
                                row.received_on
                            ),
                        );
                        continue;
                    }
                }
                work.push(row);
            }
        }
    }
    if work.is_empty() {
        return Ok(());
    }
    employer_cache.resolve(conn, insurer_id, &work)?;
    let employer_ids: Vec<i64> = work
        .iter()
        .map(|r| employer_cache.id(&r.employer_code))
        .collect();
    let member_ids = resolve_members(conn, insurer_id, &work, &employer_ids)?;
    let now = now_utc();
    let mut inserts = Vec::new();
    for (row, emp) in work.iter().zip(&employer_ids) {
        let key = member_key(
            &row.member_symbol,
            &row.member_number,
            row.dependent_seq.as_deref().unwrap_or(""),
        );
        let member = member_ids[&key];
        let registered_at = regs.get(row.notice_id.as_str()).copied();
        let facts = NoticeFacts {
            kind: row.kind,
            event_date: row.event_date,
            received_on: row.received_on,
            my_number: row.my_number,
            registered_on: registered_at.map(jst_date),
        };
        let dl = rules::deadlines(&facts, &insurer.rules, cal);
        batch.summary.accepted += 1;
        // The same values serve the UPDATE of a changed notice and the INSERT of a new one.
        let values = (
            (
                notices::kind.eq(row.kind.code()),
                notices::employer_id.eq(*emp),
                notices::member_id.eq(member),
                notices::event_date.eq(row.event_date),
                notices::received_on.eq(row.received_on),
                notices::my_number_status.eq(row.my_number.code()),
                notices::delay_cause.eq(row.delay_cause.as_deref()),
                notices::content_hash.eq(row.content_hash as i64),
            ),
            (
                notices::registered_at.eq(registered_at),
                notices::registered_on.eq(registered_at.map(jst_date)),
                notices::submission_deadline.eq(dl.submission),
                notices::registration_deadline.eq(dl.registration),
                notices::registration_rule.eq(rule_code(dl.registration_rule)),
                notices::batch_id.eq(Some(batch.id)),
                notices::updated_at.eq(now),
            ),
        );
        match existing.get(row.notice_id.as_str()) {
            Some((id, _)) => {
                batch.summary.changed += 1;
                diesel::update(notices::table.find(*id))
                    .set(values)
                    .execute(conn)?;
            }
            None => {
                batch.summary.new += 1;
                inserts.push((
                    notices::insurer_id.eq(insurer_id),
                    notices::notice_id.eq(row.notice_id.as_str()),
                    notices::created_at.eq(now),
                    values,
                ));
            }
        }
    }
    if !inserts.is_empty() {
        batch_insert!(conn, notices::table, &inserts)?;
    }
    Ok(())
}

pub fn rule_code(r: rules::RegistrationRule) -> &'static str {
    match r {
        rules::RegistrationRule::FiveDay => "five_day",
        rules::RegistrationRule::Standard => "standard",
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
    let state = Rc::new(RefCell::new(TeeState::default()));
    let tee = Tee {
        inner: source,
        state: state.clone(),
    };
    let mut reader = RegistrationReader::new(tee)?;
    write_tx(conn, |conn| {
        lock_insurer(conn, insurer.id.0)?;
        let mut batch = Batch::start(conn, insurer, FileKind::Registrations, file_name, actor)?;
        let mut chunk: Vec<RegistrationRow> = Vec::with_capacity(CHUNK);
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
            if chunk.len() >= CHUNK || (done && !chunk.is_empty()) {
                write_registration_chunk(conn, insurer.id.0, &mut batch, &mut chunk)?;
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
        progress(stats.rows);
        Ok(batch.finish(conn, sha_hex(&state), stats.rows)?)
    })
}

type StoredResult = (
    String,
    String,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
);

fn write_registration_chunk(
    conn: &mut DbConn,
    insurer_id: i64,
    batch: &mut Batch,
    chunk: &mut Vec<RegistrationRow>,
) -> Result<(), diesel::result::Error> {
    let ids: Vec<&str> = chunk.iter().map(|r| r.notice_id.as_str()).collect();
    let stored: Vec<StoredResult> = registration_results::table
        .filter(registration_results::insurer_id.eq(insurer_id))
        .filter(registration_results::notice_id.eq_any(&ids))
        .select((
            registration_results::notice_id,
            registration_results::result,
            registration_results::registered_at,
            registration_results::error_code,
            registration_results::error_message,
        ))
        .load(conn)?;
    let mut known: HashSet<StoredResult> = stored.into_iter().collect();
    // (notice row id, received_on, registered_at) of the chunk's notices.
    let notice_rows: HashMap<String, (i64, NaiveDate, Option<NaiveDateTime>)> = notices::table
        .filter(notices::insurer_id.eq(insurer_id))
        .filter(notices::notice_id.eq_any(&ids))
        .select((
            notices::notice_id,
            notices::id,
            notices::received_on,
            notices::registered_at,
        ))
        .load::<(String, i64, NaiveDate, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(n, id, r, at)| (n, (id, r, at)))
        .collect();
    let mut earliest: HashMap<i64, NaiveDateTime> = HashMap::new();
    let now = now_utc();
    let mut inserts = Vec::new();
    for row in chunk.drain(..) {
        let result = match row.result {
            RegResult::Ok => "ok",
            RegResult::Error => "error",
        };
        let at = row.registered_at.map(|r| r.utc);
        let key: StoredResult = (
            row.notice_id.as_str().to_string(),
            result.to_string(),
            at,
            row.error_code.clone(),
            row.error_message.clone(),
        );
        let notice = notice_rows.get(row.notice_id.as_str());
        if let (Some((_, received_on, _)), Some(r)) = (notice, &row.registered_at) {
            if r.jst_date < *received_on {
                batch.reject(
                    row.line,
                    format!(
                        "登録完了日 {} が受付日 {} より前です",
                        r.jst_date, received_on
                    ),
                );
                continue;
            }
        }
        batch.summary.accepted += 1;
        if known.contains(&key) {
            batch.summary.unchanged += 1;
            continue;
        }
        batch.summary.new += 1;
        if notice.is_none() {
            batch.summary.without_notice += 1;
        }
        if let (Some((id, _, stored_at)), Some(at)) = (notice, at) {
            let current = earliest.get(id).copied().or(*stored_at);
            if current.is_none_or(|c| at < c) {
                earliest.insert(*id, at);
            }
        }
        inserts.push((
            registration_results::insurer_id.eq(insurer_id),
            registration_results::notice_id.eq(row.notice_id.as_str().to_string()),
            registration_results::result.eq(result),
            registration_results::registered_at.eq(at),
            registration_results::error_code.eq(row.error_code.clone()),
            registration_results::error_message.eq(row.error_message.clone()),
            registration_results::batch_id.eq(Some(batch.id)),
            registration_results::line.eq(Some(row.line as i64)),
            registration_results::created_at.eq(now),
        ));
        known.insert(key);
    }
    if !inserts.is_empty() {
        batch_insert!(conn, registration_results::table, &inserts)?;
    }
    for (id, at) in earliest {
        batch.summary.changed += 1;
        diesel::update(notices::table.find(id))
            .set((
                notices::registered_at.eq(Some(at)),
                notices::registered_on.eq(Some(jst_date(at))),
                notices::updated_at.eq(now),
            ))
            .execute(conn)?;
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
                .filter(notices::insurer_id.eq(insurer.id.0))
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
                    if !apply {
                        continue;
                    }
                    diesel::update(notices::table.find(id))
                        .set((
                            notices::submission_deadline.eq(dl.submission),
                            notices::registration_deadline.eq(dl.registration),
                            notices::registration_rule.eq(rule_code(dl.registration_rule)),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok(changed)
    }
}

/// The rejected rows of a batch as CSV (UTF-8 with BOM so Excel opens it): line and reason only,
/// never row content, so no My Number can be in it.
pub fn rejects_csv(
    conn: &mut DbConn,
    insurer_id: super::insurers::InsurerId,
    batch_id: i64,
) -> Result<Vec<u8>, diesel::result::Error> {
    let rows: Vec<(i64, String)> = import_rejects::table
        .filter(import_rejects::insurer_id.eq(insurer_id.0))
        .filter(import_rejects::batch_id.eq(batch_id))
        .order(import_rejects::line.asc())
        .select((import_rejects::line, import_rejects::reason))
        .load(conn)?;
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let io = |e: csv::Error| diesel::result::Error::SerializationError(Box::new(e));
        w.write_record(["行", "理由"]).map_err(io)?;
        for (line, reason) in rows {
            w.write_record([line.to_string(), reason]).map_err(io)?;
        }
        w.flush()
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    }
    Ok(out)
}
