//! The staging table of a notices import and the set-based merge out of it.
//!
//! Every accepted row goes, with its deadlines already computed, into a temporary table that only
//! this transaction sees (`COPY FROM STDIN` on PostgreSQL, a prepared single-row INSERT on SQLite).
//! Once the file is read, six statements turn the stage into employers, members and notices; the
//! stage lives in the database, so the process's memory does not grow with the file.
//!
//! What the merge keeps from the row-by-row rules it replaces:
//! - a row whose 受付番号 is stored with the same content hash is `unchanged` and touches nothing;
//! - a row whose stored registration result is earlier than its 受付日 is rejected with its line;
//! - an employer's or member's name is the last non-empty one the file carries (a later notice may
//!   correct it), otherwise the stored one; a new member belongs to the employer of its first row;
//! - a changed notice is updated in place (same row id), a new one inserted; both carry the earliest
//!   successful registration already stored for their 受付番号.
use super::{member_key, rule_code, Batch, StartState};
use crate::domain::rules::{self, NoticeFacts};
use crate::domain::{search, Calendar, RuleSettings};
use crate::ingest::{duplicate_message, mask_digits, NoticeRef};
use crate::store::{now_utc, DbConn, Dialect};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::{BigInt, Timestamp};
use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;

/// Rows staged per statement (PostgreSQL: per COPY; about 1.5 MB of text).
pub const CHUNK: usize = 10_000;

diesel::table! {
    import_stage (line) {
        line -> BigInt,
        notice_id -> Text,
        kind -> Text,
        employer_code -> Text,
        employer_name -> Nullable<Text>,
        member_key -> Text,
        symbol -> Text,
        number -> Text,
        dependent_seq -> Text,
        name -> Nullable<Text>,
        name_kana -> Nullable<Text>,
        event_date -> Date,
        received_on -> Date,
        my_number_status -> Text,
        delay_cause -> Nullable<Text>,
        content_hash -> BigInt,
        submission_deadline -> Date,
        registration_deadline -> Date,
        registration_rule -> Text,
        birth_date -> Nullable<Date>,
        postal_code -> Nullable<Text>,
        address -> Nullable<Text>,
        search_name -> Nullable<Text>,
        search_kana -> Nullable<Text>,
    }
}

const STAGE_COLUMNS: &str = "notice_id TEXT NOT NULL, kind TEXT NOT NULL, \
    employer_code TEXT NOT NULL, employer_name TEXT, member_key TEXT NOT NULL, \
    symbol TEXT NOT NULL, number TEXT NOT NULL, dependent_seq TEXT NOT NULL, name TEXT, \
    name_kana TEXT, event_date DATE NOT NULL, received_on DATE NOT NULL, \
    my_number_status TEXT NOT NULL, delay_cause TEXT, content_hash BIGINT NOT NULL, \
    submission_deadline DATE NOT NULL, registration_deadline DATE NOT NULL, \
    registration_rule TEXT NOT NULL, birth_date DATE, postal_code TEXT, address TEXT, \
    search_name TEXT, search_kana TEXT";

/// One accepted row as the stage holds it: the reader's values plus what the merge needs computed
/// in Rust (member key, deadlines). Borrowed from the reader's record on the reader thread; owned
/// ([`StageRow::into_owned`]) when it has to wait for the next write (SQLite).
pub struct StageRow<'a> {
    line: i64,
    notice_id: Cow<'a, str>,
    kind: &'static str,
    employer_code: Cow<'a, str>,
    employer_name: Option<Cow<'a, str>>,
    member_key: String,
    symbol: Cow<'a, str>,
    number: Cow<'a, str>,
    dependent_seq: Cow<'a, str>,
    name: Option<Cow<'a, str>>,
    name_kana: Option<Cow<'a, str>>,
    event_date: NaiveDate,
    received_on: NaiveDate,
    my_number_status: &'static str,
    delay_cause: Option<Cow<'a, str>>,
    content_hash: i64,
    submission_deadline: NaiveDate,
    registration_deadline: NaiveDate,
    registration_rule: &'static str,
    birth_date: Option<NaiveDate>,
    postal_code: Option<Cow<'a, str>>,
    address: Option<Cow<'a, str>>,
    /// The name and kana as the case list's search compares them (`domain::search::fold`).
    search_name: Option<String>,
    search_kana: Option<String>,
}

impl<'a> StageRow<'a> {
    pub fn new(r: &NoticeRef<'a>, settings: &RuleSettings, cal: &Calendar) -> StageRow<'a> {
        let facts = NoticeFacts {
            kind: r.kind,
            event_date: r.event_date,
            received_on: r.received_on,
            my_number: r.my_number,
            registered_on: None,
        };
        let dl = rules::deadlines(&facts, settings, cal);
        let seq = r.dependent_seq.unwrap_or("");
        StageRow {
            line: r.line as i64,
            notice_id: Cow::Borrowed(r.notice_id),
            kind: r.kind.code(),
            employer_code: Cow::Borrowed(r.employer_code),
            employer_name: r.employer_name.map(Cow::Borrowed),
            member_key: member_key(r.member_symbol, r.member_number, seq),
            symbol: Cow::Borrowed(r.member_symbol),
            number: Cow::Borrowed(r.member_number),
            dependent_seq: Cow::Borrowed(seq),
            name: r.name.map(Cow::Borrowed),
            name_kana: r.name_kana.map(Cow::Borrowed),
            event_date: r.event_date,
            received_on: r.received_on,
            my_number_status: r.my_number.code(),
            delay_cause: r.delay_cause.map(Cow::Borrowed),
            content_hash: r.content_hash as i64,
            submission_deadline: dl.submission,
            registration_deadline: dl.registration,
            registration_rule: rule_code(dl.registration_rule),
            birth_date: r.birth_date,
            postal_code: r.postal_code.map(Cow::Borrowed),
            address: r.address.map(Cow::Borrowed),
            search_name: r.name.and_then(search::fold),
            search_kana: r.name_kana.and_then(search::fold),
        }
    }

    pub fn into_owned(self) -> StageRow<'static> {
        fn own(v: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(v.into_owned())
        }
        StageRow {
            notice_id: own(self.notice_id),
            employer_code: own(self.employer_code),
            employer_name: self.employer_name.map(own),
            symbol: own(self.symbol),
            number: own(self.number),
            dependent_seq: own(self.dependent_seq),
            name: self.name.map(own),
            name_kana: self.name_kana.map(own),
            delay_cause: self.delay_cause.map(own),
            line: self.line,
            kind: self.kind,
            member_key: self.member_key,
            event_date: self.event_date,
            received_on: self.received_on,
            my_number_status: self.my_number_status,
            content_hash: self.content_hash,
            submission_deadline: self.submission_deadline,
            registration_deadline: self.registration_deadline,
            registration_rule: self.registration_rule,
            birth_date: self.birth_date,
            postal_code: self.postal_code.map(own),
            address: self.address.map(own),
            search_name: self.search_name,
            search_kana: self.search_kana,
        }
    }
}

/// A row made ready for the stage on a reader thread.
pub enum Prepared {
    /// PostgreSQL: the row's line of COPY text, as a byte range of its block's buffer.
    Copy(Range<usize>),
    /// SQLite: the row, to be bound to the stage's INSERT.
    Row(Box<StageRow<'static>>),
}

impl Prepared {
    /// Runs on a reader thread for every row that passes the row rules. `block` is the buffer of
    /// the row's block of the file.
    pub fn new(
        block: &mut Vec<u8>,
        r: &NoticeRef<'_>,
        settings: &RuleSettings,
        cal: &Calendar,
        pg: bool,
    ) -> Prepared {
        let row = StageRow::new(r, settings, cal);
        if pg {
            let start = block.len();
            copy_row(block, &row);
            Prepared::Copy(start..block.len())
        } else {
            Prepared::Row(Box::new(row.into_owned()))
        }
    }
}

/// The rows waiting for the next write to the stage, at most [`CHUNK`].
#[derive(Default)]
pub struct Sink {
    copy: Vec<u8>,
    rows: Vec<StageRow<'static>>,
    count: usize,
}

impl Sink {
    pub fn push(&mut self, block: &[u8], row: Prepared) {
        match row {
            Prepared::Copy(range) => self.copy.extend_from_slice(&block[range]),
            Prepared::Row(row) => self.rows.push(*row),
        }
        self.count += 1;
    }

    pub fn is_full(&self) -> bool {
        self.count >= CHUNK
    }

    /// Writes the waiting rows to the stage (`COPY FROM STDIN` on PostgreSQL; a prepared INSERT
    /// per row on SQLite).
    pub fn write(&mut self, conn: &mut DbConn) -> Result<(), Error> {
        if self.count == 0 {
            return Ok(());
        }
        match conn {
            DbConn::Pg(c) => {
                let buf = &self.copy;
                diesel::copy_from(import_stage::table)
                    .from_raw_data(import_stage::table, |w: &mut dyn Write| {
                        w.write_all(buf)
                            .map_err(|e| Error::SerializationError(Box::new(e)))
                    })
                    .execute(c)?;
            }
            DbConn::Sqlite(c) => insert_rows(c, &self.rows)?,
        }
        self.copy.clear();
        self.rows.clear();
        self.count = 0;
        Ok(())
    }
}

/// Creates the (empty) stage for this transaction.
pub fn create(conn: &mut DbConn) -> Result<(), Error> {
    temp_table(
        conn,
        "import_stage",
        &format!("line BIGINT NOT NULL, {STAGE_COLUMNS}"),
        &format!("line INTEGER PRIMARY KEY, {STAGE_COLUMNS}"),
    )?;
    if let DbConn::Pg(c) = conn {
        // The merge groups and joins the whole stage at once: let it hash in memory.
        diesel::sql_query("SET LOCAL work_mem = '256MB'").execute(c)?;
    }
    Ok(())
}

/// A temporary table for the current transaction. PostgreSQL drops it at commit or rollback;
/// SQLite's temporary tables belong to the connection, so an earlier one is dropped first and
/// [`drop_temp_table`] drops it at the end.
fn temp_table(
    conn: &mut DbConn,
    name: &str,
    pg_columns: &str,
    sqlite_columns: &str,
) -> Result<(), Error> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!(
                "CREATE TEMP TABLE {name} ({pg_columns}) ON COMMIT DROP"
            ))
            .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::sql_query(format!("DROP TABLE IF EXISTS temp.{name}")).execute(c)?;
            diesel::sql_query(format!("CREATE TEMP TABLE {name} ({sqlite_columns})")).execute(c)?;
        }
    }
    Ok(())
}

/// Drops a table made by [`temp_table`] once the merge is done (PostgreSQL drops it at commit).
fn drop_temp_table(conn: &mut DbConn, name: &str) -> Result<(), Error> {
    if let DbConn::Sqlite(c) = conn {
        diesel::sql_query(format!("DROP TABLE temp.{name}")).execute(c)?;
    }
    Ok(())
}

/// One prepared single-row INSERT per row: diesel caches the statement, and measured against
/// multi-row INSERTs of 500 rows it is as fast (about 10 µs a row either way at 1,000,000 rows, most
/// of it the temporary table's B-tree).
fn insert_rows(c: &mut SqliteConnection, rows: &[StageRow<'static>]) -> Result<(), Error> {
    use import_stage::dsl as s;
    for r in rows {
        diesel::insert_into(import_stage::table)
            .values((
                (
                    s::line.eq(r.line),
                    s::notice_id.eq(r.notice_id.as_ref()),
                    s::kind.eq(r.kind),
                    s::employer_code.eq(r.employer_code.as_ref()),
                    s::employer_name.eq(r.employer_name.as_deref()),
                    s::member_key.eq(r.member_key.as_str()),
                    s::symbol.eq(r.symbol.as_ref()),
                    s::number.eq(r.number.as_ref()),
                    s::dependent_seq.eq(r.dependent_seq.as_ref()),
                    s::name.eq(r.name.as_deref()),
                ),
                (
                    s::name_kana.eq(r.name_kana.as_deref()),
                    s::event_date.eq(r.event_date),
                    s::received_on.eq(r.received_on),
                    s::my_number_status.eq(r.my_number_status),
                    s::delay_cause.eq(r.delay_cause.as_deref()),
                    s::content_hash.eq(r.content_hash),
                    s::submission_deadline.eq(r.submission_deadline),
                    s::registration_deadline.eq(r.registration_deadline),
                    s::registration_rule.eq(r.registration_rule),
                    s::birth_date.eq(r.birth_date),
                    s::postal_code.eq(r.postal_code.as_deref()),
                    s::address.eq(r.address.as_deref()),
                    s::search_name.eq(r.search_name.as_deref()),
                    s::search_kana.eq(r.search_kana.as_deref()),
                ),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// One row in COPY's text format, in the column order of `import_stage`.
fn copy_row(buf: &mut Vec<u8>, r: &StageRow<'_>) {
    let _ = write!(buf, "{}\t", r.line);
    for v in [
        Some(r.notice_id.as_ref()),
        Some(r.kind),
        Some(r.employer_code.as_ref()),
        r.employer_name.as_deref(),
        Some(r.member_key.as_str()),
        Some(r.symbol.as_ref()),
        Some(r.number.as_ref()),
        Some(r.dependent_seq.as_ref()),
        r.name.as_deref(),
        r.name_kana.as_deref(),
    ] {
        copy_text(buf, v);
        buf.push(b'\t');
    }
    let _ = write!(buf, "{}\t{}\t", r.event_date, r.received_on);
    copy_text(buf, Some(r.my_number_status));
    buf.push(b'\t');
    copy_text(buf, r.delay_cause.as_deref());
    let _ = writeln!(
        buf,
        "\t{}\t{}\t{}\t{}\t{}",
        r.content_hash,
        r.submission_deadline,
        r.registration_deadline,
        r.registration_rule,
        r.birth_date
            .map_or_else(|| "\\N".to_string(), |d| d.to_string())
    );
    // The appended columns: the line ends after the date above, so reopen it.
    buf.pop();
    for v in [
        r.postal_code.as_deref(),
        r.address.as_deref(),
        r.search_name.as_deref(),
        r.search_kana.as_deref(),
    ] {
        buf.push(b'\t');
        copy_text(buf, v);
    }
    buf.push(b'\n');
}

/// A text value escaped for COPY's text format (`\N` is NULL).
fn copy_text(buf: &mut Vec<u8>, v: Option<&str>) {
    let Some(v) = v else {
        buf.extend_from_slice(b"\\N");
        return;
    };
    for &b in v.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

diesel::table! {
    import_repeats (line) {
        line -> BigInt,
        notice_id -> Text,
        first_line -> BigInt,
        same -> Integer,
    }
}

/// Rows that repeat a 受付番号 of an earlier row of the file (the reader leaves them to the
/// stage, so that no index of the file's 受付番号 grows in memory): the first row stands, a repeat
/// with the same content is dropped, one with different content is rejected with its line.
pub fn drop_repeats(conn: &mut DbConn, batch: &mut Batch) -> Result<(), Error> {
    const COLUMNS: &str =
        "notice_id TEXT NOT NULL, first_line BIGINT NOT NULL, same INTEGER NOT NULL";
    temp_table(
        conn,
        "import_repeats",
        &format!("line BIGINT PRIMARY KEY, {COLUMNS}"),
        &format!("line INTEGER PRIMARY KEY, {COLUMNS}"),
    )?;
    let found = exec(
        conn,
        "INSERT INTO import_repeats (line, notice_id, first_line, same) \
         SELECT s.line, s.notice_id, d.first_line, \
                CASE WHEN s.content_hash = f.content_hash THEN 1 ELSE 0 END \
         FROM (SELECT notice_id, MIN(line) AS first_line FROM import_stage \
               GROUP BY notice_id HAVING COUNT(*) > 1) d \
         JOIN import_stage s ON s.notice_id = d.notice_id AND s.line > d.first_line \
         JOIN import_stage f ON f.line = d.first_line",
        None,
    )?;
    if found > 0 {
        use import_repeats::dsl as r;
        let mut after = 0i64;
        loop {
            let page: Vec<(i64, String, i64)> = import_repeats::table
                .filter(r::same.eq(0))
                .filter(r::line.gt(after))
                .order(r::line.asc())
                .limit(super::CHUNK as i64 * 10)
                .select((r::line, r::notice_id, r::first_line))
                .load(conn)?;
            let Some(last) = page.last() else { break };
            after = last.0;
            for (line, id, first) in &page {
                batch.reject(*line as u64, duplicate_message(id, *first as u64));
            }
            batch.flush_rejects(conn)?;
        }
        exec(
            conn,
            "DELETE FROM import_stage WHERE line IN (SELECT line FROM import_repeats)",
            None,
        )?;
    }
    drop_temp_table(conn, "import_repeats")
}

/// Runs one statement; `$1`, where used, is the batch's timestamp. Each statement's time is
/// logged at debug level (`REGWATCH_LOG=regwatch::store=debug`): where an import spends its time.
fn exec(conn: &mut DbConn, sql: &str, now: Option<NaiveDateTime>) -> Result<u64, Error> {
    let started = std::time::Instant::now();
    let n = match conn {
        DbConn::Pg(c) => match now {
            Some(t) => diesel::sql_query(sql).bind::<Timestamp, _>(t).execute(c)?,
            None => diesel::sql_query(sql).execute(c)?,
        },
        DbConn::Sqlite(c) => {
            let sql = sql.replace("$1", "?1");
            match now {
                Some(t) => diesel::sql_query(sql).bind::<Timestamp, _>(t).execute(c)?,
                None => diesel::sql_query(sql).execute(c)?,
            }
        }
    };
    tracing::debug!(
        rows = n,
        ms = started.elapsed().as_millis() as u64,
        statement = sql.get(..60).unwrap_or(sql),
        "import merge step"
    );
    Ok(n as u64)
}

/// Merges the stage into the insurer's employers, members and notices and counts the outcome.
pub fn merge(
    conn: &mut DbConn,
    start: StartState,
    insurer_id: i64,
    batch: &mut Batch,
) -> Result<(), Error> {
    let sql = Dialect {
        pg: matches!(conn, DbConn::Pg(_)),
    };
    let ins = insurer_id;
    let batch_id = batch.id;
    let now = now_utc();
    if sql.pg {
        // The member and name look-ups below join the stage to itself by line.
        exec(conn, "CREATE INDEX ON import_stage (line)", None)?;
        exec(conn, "ANALYZE import_stage", None)?;
    }
    let earliest = format!(
        "(SELECT MIN(r.registered_at) FROM registration_results r WHERE r.insurer_id = {ins} \
         AND r.notice_id = s.notice_id AND r.result = 'ok' AND {} >= s.received_on)",
        sql.jst_date("r.registered_at")
    );

    // 1. Same 受付番号, same content: nothing to do.
    if start.had_notices {
        let n = exec(
            conn,
            &format!(
                "DELETE FROM import_stage WHERE EXISTS (SELECT 1 FROM notices n \
                 WHERE n.insurer_id = {ins} AND n.notice_id = import_stage.notice_id \
                 AND n.content_hash = import_stage.content_hash)"
            ),
            None,
        )?;
        batch.summary.accepted += n;
        batch.summary.unchanged += n;
    }

    // 1b. A 受付番号 already stored for another member: never a silent overwrite (the number
    // was reused, or the row is wrong); the row is refused naming the stored notice's line.
    if start.had_notices {
        reject_rekeyed(conn, ins, batch)?;
    }

    // 2. A registration result loaded earlier that predates the notice's receipt does not count
    // (`earliest` leaves it out): the notice is loaded, never refused for a bad result (SPEC §2.5).

    // 3. Employers: new codes created, names updated to the file's last non-empty one.
    exec(
        conn,
        &format!(
            "INSERT INTO employers (insurer_id, code, name, contact_emails, opt_out, created_at, updated_at) \
             SELECT {ins}, g.employer_code, n.employer_name, '', false, $1, $1 \
             FROM (SELECT employer_code, MAX(CASE WHEN employer_name IS NOT NULL THEN line END) AS name_line \
                   FROM import_stage GROUP BY employer_code) g \
             LEFT JOIN import_stage n ON n.line = g.name_line \
             WHERE true \
             ON CONFLICT (insurer_id, code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at \
             WHERE excluded.name IS NOT NULL AND employers.name IS DISTINCT FROM excluded.name"
        ),
        Some(now),
    )?;

    // 4. Members: created with the employer of their first row; names as for employers. A member
    // with one row in the file (nearly all of them) takes that row as it is, found in one pass (a
    // window count: `IN (… HAVING COUNT(*) = 1)` gets an estimate of a few rows on PostgreSQL and a
    // million index look-ups); the join that finds each value's last row is only paid for members
    // with several rows. New members are inserted in the order of their first row, so that the
    // members of a month's notices lie together in the table (a case-list export reads them by id,
    // and scattered they cost a page each).
    let columns = "INSERT INTO members (insurer_id, employer_id, symbol, number, dependent_seq, member_key, \
         name, name_kana, birth_date, postal_code, address, search_name, search_kana, created_at, updated_at)";
    let upsert = "ON CONFLICT (insurer_id, member_key) DO UPDATE \
             SET name = COALESCE(excluded.name, members.name), \
                 name_kana = COALESCE(excluded.name_kana, members.name_kana), \
                 search_name = CASE WHEN excluded.name IS NOT NULL THEN excluded.search_name ELSE members.search_name END, \
                 search_kana = CASE WHEN excluded.name_kana IS NOT NULL THEN excluded.search_kana ELSE members.search_kana END, \
                 birth_date = COALESCE(excluded.birth_date, members.birth_date), \
                 postal_code = CASE WHEN excluded.address IS NOT NULL THEN excluded.postal_code ELSE members.postal_code END, \
                 address = COALESCE(excluded.address, members.address), \
                 updated_at = excluded.updated_at \
             WHERE (excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM members.name) \
                OR (excluded.name_kana IS NOT NULL AND excluded.name_kana IS DISTINCT FROM members.name_kana) \
                OR (excluded.birth_date IS NOT NULL AND excluded.birth_date IS DISTINCT FROM members.birth_date) \
                OR (excluded.address IS NOT NULL AND (excluded.address IS DISTINCT FROM members.address \
                    OR excluded.postal_code IS DISTINCT FROM members.postal_code))";
    // SQLite reads the stage in line order (its rowid) against the set of single lines, with no
    // sort; a window would sort the whole stage twice (peak RSS over 300 MB at 1,000,000 rows).
    let (singles, single) = if sql.pg {
        (
            "(SELECT import_stage.*, COUNT(*) OVER (PARTITION BY member_key) AS rows_of_member \
             FROM import_stage) s",
            "s.rows_of_member = 1",
        )
    } else {
        (
            "import_stage s",
            "s.line IN (SELECT MIN(line) FROM import_stage GROUP BY member_key HAVING COUNT(*) = 1)",
        )
    };
    exec(
        conn,
        &format!(
            "{columns} \
             SELECT {ins}, e.id, s.symbol, s.number, s.dependent_seq, s.member_key, s.name, s.name_kana, \
                    s.birth_date, s.postal_code, s.address, s.search_name, s.search_kana, $1, $1 \
             FROM {singles} \
             JOIN employers e ON e.insurer_id = {ins} AND e.code = s.employer_code \
             WHERE {single} \
             ORDER BY s.line \
             {upsert}"
        ),
        Some(now),
    )?;
    exec(
        conn,
        &format!(
            "{columns} \
             SELECT {ins}, e.id, f.symbol, f.number, f.dependent_seq, g.member_key, n.name, k.name_kana, b.birth_date, \
                    a.postal_code, a.address, n.search_name, k.search_kana, $1, $1 \
             FROM (SELECT member_key, MIN(line) AS first_line, \
                          MAX(CASE WHEN name IS NOT NULL THEN line END) AS name_line, \
                          MAX(CASE WHEN name_kana IS NOT NULL THEN line END) AS kana_line, \
                          MAX(CASE WHEN birth_date IS NOT NULL THEN line END) AS birth_line, \
                          MAX(CASE WHEN address IS NOT NULL THEN line END) AS address_line \
                   FROM import_stage GROUP BY member_key HAVING COUNT(*) > 1) g \
             JOIN import_stage f ON f.line = g.first_line \
             JOIN employers e ON e.insurer_id = {ins} AND e.code = f.employer_code \
             LEFT JOIN import_stage n ON n.line = g.name_line \
             LEFT JOIN import_stage k ON k.line = g.kana_line \
             LEFT JOIN import_stage b ON b.line = g.birth_line \
             LEFT JOIN import_stage a ON a.line = g.address_line \
             WHERE true \
             ORDER BY g.first_line \
             {upsert}"
        ),
        Some(now),
    )?;

    // The stage with its employer and member ids (and the earliest stored registration).
    let registered = if start.had_registrations {
        earliest.as_str()
    } else {
        "CAST(NULL AS TIMESTAMP)"
    };
    let resolved = format!(
        "SELECT s.line, s.notice_id, s.kind, e.id AS employer_id, m.id AS member_id, s.event_date, \
                s.received_on, s.my_number_status, s.delay_cause, s.content_hash, \
                s.submission_deadline, s.registration_deadline, s.registration_rule, {registered} AS at \
         FROM import_stage s \
         JOIN employers e ON e.insurer_id = {ins} AND e.code = s.employer_code \
         JOIN members m ON m.insurer_id = {ins} AND m.member_key = s.member_key"
    );
    let registered_on = if start.had_registrations {
        sql.jst_date("y.at")
    } else {
        "CAST(NULL AS DATE)".to_string()
    };

    // The report rollups of the days these rows are received on, and of the days the notices
    // they change were received on until now, are rebuilt (`store::rollups`).
    let old_days = if start.had_notices {
        format!(
            " UNION SELECT n.received_on AS day FROM notices n JOIN import_stage s \
             ON n.insurer_id = {ins} AND n.notice_id = s.notice_id"
        )
    } else {
        String::new()
    };
    crate::store::rollups::mark_select(
        conn,
        ins,
        &format!("SELECT received_on AS day FROM import_stage{old_days}"),
    )?;

    // The members of a large stage were mostly inserted by this transaction, after the planner's
    // last look at the table: PostgreSQL then resolves each staged row's member by an index look-up
    // (a nested loop of a million probes, 30–60 s at 1,000,000 rows) instead of hashing the
    // insurer's members once. Steps 5 and 6 are joins of the whole stage: let them hash.
    let large = match conn {
        DbConn::Pg(c) => {
            diesel::sql_query("SELECT COUNT(*) AS n FROM import_stage")
                .get_result::<StageCount>(c)?
                .n
                >= LARGE_STAGE
        }
        DbConn::Sqlite(_) => false,
    };
    if large {
        exec(conn, "SET LOCAL enable_nestloop = off", None)?;
    }

    // 5. Changed notices, updated in place.
    if start.had_notices {
        let n = exec(
            conn,
            &format!(
                "UPDATE notices SET kind = y.kind, employer_id = y.employer_id, member_id = y.member_id, \
                     event_date = y.event_date, received_on = y.received_on, \
                     my_number_status = y.my_number_status, delay_cause = y.delay_cause, \
                     content_hash = y.content_hash, registered_at = y.at, registered_on = {registered_on}, \
                     submission_deadline = y.submission_deadline, \
                     registration_deadline = y.registration_deadline, \
                     registration_rule = y.registration_rule, batch_id = {batch_id}, line = y.line, \
                     updated_at = $1 \
                 FROM ({resolved}) y \
                 WHERE notices.insurer_id = {ins} AND notices.notice_id = y.notice_id"
            ),
            Some(now),
        )?;
        batch.summary.accepted += n;
        batch.summary.changed += n;
    }

    // 6. New notices.
    let only_new = if start.had_notices {
        format!(
            "WHERE NOT EXISTS (SELECT 1 FROM notices n WHERE n.insurer_id = {ins} \
             AND n.notice_id = y.notice_id)"
        )
    } else {
        String::new()
    };
    let n = exec(
        conn,
        &format!(
            "INSERT INTO notices (insurer_id, notice_id, kind, employer_id, member_id, event_date, \
                 received_on, my_number_status, delay_cause, content_hash, registered_at, registered_on, \
                 submission_deadline, registration_deadline, registration_rule, batch_id, created_at, \
                 updated_at, line) \
             SELECT {ins}, y.notice_id, y.kind, y.employer_id, y.member_id, y.event_date, y.received_on, \
                 y.my_number_status, y.delay_cause, y.content_hash, y.at, {registered_on}, \
                 y.submission_deadline, y.registration_deadline, y.registration_rule, {batch_id}, $1, $1, \
                 y.line \
             FROM ({resolved}) y {only_new}"
        ),
        Some(now),
    )?;
    batch.summary.accepted += n;
    batch.summary.new += n;
    if large {
        exec(conn, "SET LOCAL enable_nestloop = on", None)?;
    }

    drop_temp_table(conn, "import_stage")
}

/// Staged rows from which the notice merge joins by hashing only (see `merge`).
const LARGE_STAGE: i64 = 50_000;

#[derive(QueryableByName)]
struct StageCount {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Rekeyed {
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    notice_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    symbol: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    number: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    dependent_seq: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    batch_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    stored_line: Option<i64>,
}

/// Stage rows whose 受付番号 is stored for a different member (記号・番号・枝番): rejected with
/// both lines and taken out of the stage.
fn reject_rekeyed(conn: &mut DbConn, ins: i64, batch: &mut Batch) -> Result<(), Error> {
    let q = format!(
        "SELECT s.line, s.notice_id, m.symbol, m.number, m.dependent_seq, n.batch_id, \
                n.line AS stored_line \
         FROM import_stage s \
         JOIN notices n ON n.insurer_id = {ins} AND n.notice_id = s.notice_id \
         JOIN members m ON m.id = n.member_id \
         WHERE m.member_key <> s.member_key ORDER BY s.line"
    );
    let found: Vec<Rekeyed> = match conn {
        DbConn::Pg(c) => diesel::sql_query(q).load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(q).load(c)?,
    };
    for r in &found {
        let stored = match (r.batch_id, r.stored_line) {
            (Some(b), Some(l)) => format!("取込 #{b} の line {l}"),
            (Some(b), None) => format!("取込 #{b}"),
            _ => "取込済み".to_string(),
        };
        batch.reject(
            r.line as u64,
            format!(
                "受付番号 {} は{}で別の加入者（{}）の届書として登録されています。受付番号の重複か加入者の誤りを確認してください",
                mask_digits(&r.notice_id),
                stored,
                crate::ingest::member_label(&r.symbol, &r.number, &r.dependent_seq)
            ),
        );
    }
    let lines: Vec<i64> = found.iter().map(|r| r.line).collect();
    delete_lines(conn, "import_stage", &lines)
}

/// Takes these lines out of a stage (the rows a merge step rejected).
fn delete_lines(conn: &mut DbConn, stage: &str, lines: &[i64]) -> Result<(), Error> {
    for chunk in lines.chunks(500) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        exec(
            conn,
            &format!("DELETE FROM {stage} WHERE line IN ({})", list.join(",")),
            None,
        )?;
    }
    Ok(())
}

diesel::table! {
    registration_stage (line) {
        line -> BigInt,
        notice_id -> Text,
        result -> Text,
        registered_at -> Nullable<Timestamp>,
        registered_on -> Nullable<Date>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
    }
}

const REGISTRATION_STAGE_COLUMNS: &str = "notice_id TEXT NOT NULL, result TEXT NOT NULL, \
    registered_at TIMESTAMP, registered_on DATE, error_code TEXT, error_message TEXT";

/// Creates the (empty) stage of a registrations file for this transaction.
pub fn create_registration_stage(conn: &mut DbConn) -> Result<(), Error> {
    temp_table(
        conn,
        "registration_stage",
        &format!("line BIGINT NOT NULL, {REGISTRATION_STAGE_COLUMNS}"),
        &format!("line INTEGER PRIMARY KEY, {REGISTRATION_STAGE_COLUMNS}"),
    )?;
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SET LOCAL work_mem = '256MB'").execute(c)?;
    }
    Ok(())
}

/// One result row, its 受付番号 known (given, or found from the member named).
pub struct RegistrationStageRow {
    pub line: i64,
    pub notice_id: String,
    pub result: &'static str,
    pub registered_at: Option<NaiveDateTime>,
    pub registered_on: Option<NaiveDate>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Writes rows to the registration stage: `COPY FROM STDIN` on PostgreSQL, multi-row INSERTs on
/// SQLite.
pub fn write_registration_stage(
    conn: &mut DbConn,
    rows: &[RegistrationStageRow],
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Pg(c) => {
            let mut buf = Vec::with_capacity(rows.len() * 64);
            for r in rows {
                let _ = write!(buf, "{}\t", r.line);
                copy_text(&mut buf, Some(&r.notice_id));
                buf.push(b'\t');
                copy_text(&mut buf, Some(r.result));
                match r.registered_at {
                    Some(at) => {
                        let _ = write!(buf, "\t{}", at.format("%Y-%m-%d %H:%M:%S%.f"));
                    }
                    None => buf.extend_from_slice(b"\t\\N"),
                }
                match r.registered_on {
                    Some(d) => {
                        let _ = write!(buf, "\t{d}");
                    }
                    None => buf.extend_from_slice(b"\t\\N"),
                }
                buf.push(b'\t');
                copy_text(&mut buf, r.error_code.as_deref());
                buf.push(b'\t');
                copy_text(&mut buf, r.error_message.as_deref());
                buf.push(b'\n');
            }
            diesel::copy_from(registration_stage::table)
                .from_raw_data(registration_stage::table, |w: &mut dyn Write| {
                    w.write_all(&buf)
                        .map_err(|e| Error::SerializationError(Box::new(e)))
                })
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            use registration_stage::dsl as s;
            // 7 columns × 1,000 rows stays under SQLite's bind-parameter limit.
            for chunk in rows.chunks(super::CHUNK) {
                let values: Vec<_> = chunk
                    .iter()
                    .map(|r| {
                        (
                            s::line.eq(r.line),
                            s::notice_id.eq(r.notice_id.as_str()),
                            s::result.eq(r.result),
                            s::registered_at.eq(r.registered_at),
                            s::registered_on.eq(r.registered_on),
                            s::error_code.eq(r.error_code.as_deref()),
                            s::error_message.eq(r.error_message.as_deref()),
                        )
                    })
                    .collect();
                diesel::insert_into(registration_stage::table)
                    .values(&values)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Early {
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = diesel::sql_types::Date)]
    registered_on: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Date)]
    received_on: NaiveDate,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    with_notice: i64,
}

/// Merges a staged registrations file into registration_results and the notices' registrations
/// (SPEC §3), set-based:
/// - a result dated before its notice's 受付日 is rejected with its line;
/// - a result already stored (same 受付番号, result, time, code and message), or repeated earlier
///   in the file, is `unchanged` and adds nothing;
/// - the others are stored in file order (`new`; `without_notice` when the notice is not loaded
///   yet: linked when it arrives), and each notice takes the earliest success where it is earlier
///   than the stored one (`changed` counts those notices);
/// - the report rollups of the notices' days of receipt are marked for rebuilding.
pub fn merge_registrations(
    conn: &mut DbConn,
    insurer_id: i64,
    had_registrations: bool,
    batch: &mut Batch,
) -> Result<(), Error> {
    let sql = Dialect {
        pg: matches!(conn, DbConn::Pg(_)),
    };
    let ins = insurer_id;
    let now = now_utc();
    if sql.pg {
        exec(conn, "ANALYZE registration_stage", None)?;
    }
    let notice = format!("notices n ON n.insurer_id = {ins} AND n.notice_id = s.notice_id");

    // 1. Registered before the notice was received (SPEC §2.5): rejected.
    let q = format!(
        "SELECT s.line, s.registered_on, n.received_on FROM registration_stage s JOIN {notice} \
         WHERE s.registered_on < n.received_on ORDER BY s.line"
    );
    let early: Vec<Early> = match conn {
        DbConn::Pg(c) => diesel::sql_query(q).load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(q).load(c)?,
    };
    for e in &early {
        batch.reject(
            e.line as u64,
            format!(
                "登録完了日 {} が受付日 {} より前です",
                e.registered_on, e.received_on
            ),
        );
    }
    let lines: Vec<i64> = early.iter().map(|e| e.line).collect();
    delete_lines(conn, "registration_stage", &lines)?;
    batch.flush_rejects(conn)?;

    // 2. Already stored: unchanged.
    let same = |a: &str, b: &str| {
        format!(
            "{a}.result = {b}.result AND {a}.registered_at IS NOT DISTINCT FROM {b}.registered_at \
             AND {a}.error_code IS NOT DISTINCT FROM {b}.error_code \
             AND {a}.error_message IS NOT DISTINCT FROM {b}.error_message"
        )
    };
    let mut unchanged = 0;
    if had_registrations {
        unchanged += exec(
            conn,
            &format!(
                "DELETE FROM registration_stage WHERE EXISTS (SELECT 1 FROM registration_results r \
                 WHERE r.insurer_id = {ins} AND r.notice_id = registration_stage.notice_id AND {})",
                same("r", "registration_stage")
            ),
            None,
        )?;
    }
    // 3. Repeated in the file: the first row stands.
    unchanged += exec(
        conn,
        "DELETE FROM registration_stage WHERE line NOT IN (SELECT MIN(line) FROM registration_stage \
         GROUP BY notice_id, result, registered_at, error_code, error_message)",
        None,
    )?;
    batch.summary.accepted += unchanged;
    batch.summary.unchanged += unchanged;

    // 4. What is left is new.
    let q = format!(
        "SELECT COUNT(*) AS rows, COUNT(n.id) AS with_notice FROM registration_stage s LEFT JOIN {notice}"
    );
    let counted: Counted = match conn {
        DbConn::Pg(c) => diesel::sql_query(q).get_result(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(q).get_result(c)?,
    };
    let new = counted.rows as u64;
    batch.summary.accepted += new;
    batch.summary.new += new;
    batch.summary.without_notice += new - counted.with_notice as u64;
    if new == 0 {
        return drop_temp_table(conn, "registration_stage");
    }
    crate::store::rollups::mark_select(
        conn,
        ins,
        &format!("SELECT n.received_on AS day FROM registration_stage s JOIN {notice}"),
    )?;
    exec(
        conn,
        &format!(
            "INSERT INTO registration_results (insurer_id, notice_id, result, registered_at, error_code, \
                 error_message, batch_id, line, created_at) \
             SELECT {ins}, notice_id, result, registered_at, error_code, error_message, {}, line, $1 \
             FROM registration_stage ORDER BY line",
            batch.id
        ),
        Some(now),
    )?;
    // 5. Each notice's earliest success, where earlier than what is stored. Only a success completes
    // a registration: an error's time is when it failed.
    batch.summary.changed += exec(
        conn,
        &format!(
            "UPDATE notices SET registered_at = x.at, registered_on = {}, updated_at = $1 \
             FROM (SELECT notice_id, MIN(registered_at) AS at FROM registration_stage \
                   WHERE result = 'ok' GROUP BY notice_id) x \
             WHERE notices.insurer_id = {ins} AND notices.notice_id = x.notice_id \
             AND (notices.registered_at IS NULL OR x.at < notices.registered_at)",
            sql.jst_date("x.at")
        ),
        Some(now),
    )?;
    drop_temp_table(conn, "registration_stage")
}

diesel::table! {
    deadline_updates (notice_row_id) {
        notice_row_id -> BigInt,
        submission_deadline -> Date,
        registration_deadline -> Date,
        registration_rule -> Text,
    }
}

/// Recomputing deadlines after a settings change collects the changed ones here, page by page,
/// and applies them with one UPDATE ([`apply_deadline_updates`]).
pub fn create_deadline_updates(conn: &mut DbConn) -> Result<(), Error> {
    const COLUMNS: &str = "notice_row_id BIGINT NOT NULL, submission_deadline DATE NOT NULL, \
        registration_deadline DATE NOT NULL, registration_rule TEXT NOT NULL";
    temp_table(conn, "deadline_updates", COLUMNS, COLUMNS)
}

/// (notice row id, submission deadline, registration deadline, registration rule).
pub type DeadlineUpdate = (i64, NaiveDate, NaiveDate, &'static str);

pub fn write_deadline_updates(conn: &mut DbConn, updates: &[DeadlineUpdate]) -> Result<(), Error> {
    use deadline_updates::dsl as u;
    for chunk in updates.chunks(super::CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(id, sub, reg, rule)| {
                (
                    u::notice_row_id.eq(*id),
                    u::submission_deadline.eq(*sub),
                    u::registration_deadline.eq(*reg),
                    u::registration_rule.eq(*rule),
                )
            })
            .collect();
        batch_insert!(conn, deadline_updates::table, &rows)?;
    }
    Ok(())
}

/// Writes the collected deadlines into the insurer's notices. Returns how many rows it updated.
pub fn apply_deadline_updates(conn: &mut DbConn, insurer_id: i64) -> Result<u64, Error> {
    crate::store::rollups::mark_select(
        conn,
        insurer_id,
        "SELECT n.received_on AS day FROM notices n JOIN deadline_updates x ON n.id = x.notice_row_id",
    )?;
    let n = exec(
        conn,
        &format!(
            "UPDATE notices SET submission_deadline = x.submission_deadline, \
                 registration_deadline = x.registration_deadline, \
                 registration_rule = x.registration_rule \
             FROM deadline_updates x \
             WHERE notices.id = x.notice_row_id AND notices.insurer_id = {insurer_id}"
        ),
        None,
    )?;
    drop_temp_table(conn, "deadline_updates")?;
    Ok(n)
}
