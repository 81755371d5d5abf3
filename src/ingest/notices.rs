//! The notices file (届書): each row typed and checked against SPEC §2.5, repeats found by hash.
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use chrono::{Datelike, NaiveDate, TimeDelta};
use xxhash_rust::xxh3::xxh3_64;

use crate::domain::my_number::MyNumberStatus;
use crate::domain::types::{InsurerNumber, NoticeId, NoticeKind};

use super::dates::parse_date;
use super::error::{FileError, RowError};
use super::headers::{NoticeCol, NOTICE_COLUMNS};
use super::parallel::{self, Block, CHUNK_BYTES};
use super::record::{parse_chunk, ChunkParse, ReadStats, RecordBuf, Records, Row};
use super::table::{IdTable, BATCH};
use super::text::{free_text as text, halfwidth, mask_digits};
use crate::domain::limits;

/// SPEC §2.5: a 内定者 notice arrives weeks before the event, not half a year.
const MAX_DAYS_EVENT_AFTER_RECEIPT: i64 = 180;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoticeReadOptions {
    /// The evaluation date: a notice received after it is an error.
    pub as_of: NaiveDate,
}

/// One accepted notice. Holds the My Number's status only, never the number (SPEC §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeRow {
    pub line: u64,
    pub notice_id: NoticeId,
    pub kind: NoticeKind,
    pub employer_code: String,
    pub employer_name: Option<String>,
    pub member_symbol: String,
    pub member_number: String,
    pub dependent_seq: Option<String>,
    pub name: Option<String>,
    pub name_kana: Option<String>,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    pub my_number: MyNumberStatus,
    pub delay_cause: Option<String>,
    pub insurer_number: Option<InsurerNumber>,
    /// 生年月日 when the file has it (printed on 資格情報のお知らせ only when known).
    pub birth_date: Option<NaiveDate>,
    /// 郵便番号 (123-4567) and 住所 when the file has them: the letters' address block.
    pub postal_code: Option<String>,
    pub address: Option<String>,
    /// xxh3-64 of the normalised content (not the line), so a re-load can tell "same notice,
    /// same content" from "same notice, changed". Its layout is versioned and kept stable.
    pub content_hash: u64,
}

/// One accepted notice as [`NoticeReader::par_for_each`] shows it: the same values as
/// [`NoticeRow`], borrowed from the record where normalising changed nothing.
#[derive(Clone, Copy, Debug)]
pub struct NoticeRef<'a> {
    pub line: u64,
    pub notice_id: &'a str,
    pub kind: NoticeKind,
    pub employer_code: &'a str,
    pub employer_name: Option<&'a str>,
    pub member_symbol: &'a str,
    pub member_number: &'a str,
    pub dependent_seq: Option<&'a str>,
    pub name: Option<&'a str>,
    pub name_kana: Option<&'a str>,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    pub my_number: MyNumberStatus,
    pub delay_cause: Option<&'a str>,
    pub insurer_number: Option<&'a InsurerNumber>,
    pub birth_date: Option<NaiveDate>,
    pub postal_code: Option<&'a str>,
    pub address: Option<&'a str>,
    pub content_hash: u64,
}

/// Streams a notices file. Memory stays flat in the file's size except for the duplicate index
/// (20 bytes per slot, at least 5 slots per 4 distinct 受付番号), which a caller that finds
/// repeats itself turns off ([`NoticeReader::without_duplicate_check`]).
///
/// A 受付番号 already accepted earlier in the file is skipped when the row's content is the
/// same (counted in [`ReadStats::duplicates`]) and rejected when it differs; the first row
/// stands. Rows are independent otherwise: a rejected row does not block a later one.
pub struct NoticeReader<R> {
    records: Records<R>,
    opts: NoticeReadOptions,
    seen: Seen,
    /// False when the caller finds repeated 受付番号 itself ([`NoticeReader::without_duplicate_check`]).
    check_duplicates: bool,
    scratch: Vec<u8>,
    stats: ReadStats,
}

impl<R: Read> NoticeReader<R> {
    /// Detects the encoding and maps the header; file-level problems surface here.
    pub fn new(reader: R, opts: NoticeReadOptions) -> Result<Self, FileError> {
        Ok(NoticeReader {
            records: Records::open(reader, &NOTICE_COLUMNS)?,
            opts,
            seen: Seen::default(),
            check_duplicates: true,
            scratch: Vec::with_capacity(256),
            stats: ReadStats::default(),
        })
    }

    /// Like [`NoticeReader::new`] for a source of `bytes` bytes, which is only used to size the
    /// duplicate index once (from the rows in the first block) instead of growing it.
    pub fn with_size_hint(
        reader: R,
        opts: NoticeReadOptions,
        bytes: u64,
    ) -> Result<Self, FileError> {
        let mut reader = Self::new(reader, opts)?;
        if let Some(rows) = reader.records.rows_estimate(bytes) {
            reader.seen.reserve(rows);
        }
        Ok(reader)
    }

    /// Leaves repeated 受付番号 to the caller: every row that passes the row rules is returned,
    /// and no index of the 受付番号 seen is kept, so memory stays flat whatever the file's size.
    /// For a caller that finds repeats itself (the import does so in its staging table, in the
    /// database); [`duplicate_message`] words the rejection of a differing repeat.
    pub fn without_duplicate_check(mut self) -> Self {
        self.check_duplicates = false;
        self.seen = Seen::default();
        self
    }

    /// Counts so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            blank_lines: self.records.blank_lines,
            encoding: self.records.encoding(),
            ..self.stats
        }
    }

    /// Call once the iterator is exhausted (rows not yet read are not counted). Fails on a read
    /// error part-way, and on a file with a header but no data rows.
    pub fn finish(self) -> Result<ReadStats, FileError> {
        let stats = self.stats();
        self.records.finish()?;
        if stats.rows == 0 {
            return Err(FileError::NoDataRows);
        }
        Ok(stats)
    }

    /// `Ok(None)`: an exact repeat of an accepted row.
    fn read_row(&mut self, line: u64) -> Result<Option<NoticeRow>, RowError> {
        let r = self.records.row(line);
        let fields = Fields::parse(&r, &self.opts, true)?;
        let content_hash = fields.content_hash(&mut self.scratch);
        if !self.check_duplicates {
            return Ok(Some(fields.into_row(line, content_hash)));
        }
        match self
            .seen
            .check(fields.notice_id.as_str(), content_hash, line)
        {
            Check::New => Ok(Some(fields.into_row(line, content_hash))),
            Check::Same => Ok(None),
            Check::Differs(first) => {
                Err(r.error(duplicate_message(fields.notice_id.as_str(), first)))
            }
        }
    }

    /// Reads the rest of the file with `threads` worker threads ([`default_threads`] is every
    /// core; 0 reads on the calling thread), for callers that need far more speed than the
    /// iterator gives. Row for row the outcome is the iterator's, in file order. The file is
    /// cut into blocks of rows, each with a `state` of the caller's (a text buffer, say):
    ///
    /// - `map` runs on a worker for every notice of a block that passes the row rules, before
    ///   the duplicate check (a repeat's result is dropped), then `done` once for the block;
    /// - `consume` runs on the calling thread for each block, in file order, with what `map`
    ///   made of each accepted row, or the row's error. Rows it leaves are still counted.
    ///
    /// Stops at the first error `consume` returns. Call [`NoticeReader::finish`] afterwards,
    /// as after iterating; the iterator returns nothing more.
    ///
    /// [`default_threads`]: super::default_threads
    pub fn par_for_each<S, T, E>(
        &mut self,
        threads: usize,
        map: impl Fn(&mut S, &NoticeRef<'_>) -> T + Sync,
        done: impl Fn(&mut S) + Sync,
        consume: impl FnMut(&mut S, &mut dyn Iterator<Item = Result<T, RowError>>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        S: Default + Send,
        T: Send,
    {
        self.par_for_each_in(threads, CHUNK_BYTES, map, done, consume)
    }

    pub(crate) fn par_for_each_in<S, T, E>(
        &mut self,
        threads: usize,
        chunk_bytes: usize,
        map: impl Fn(&mut S, &NoticeRef<'_>) -> T + Sync,
        done: impl Fn(&mut S) + Sync,
        mut consume: impl FnMut(&mut S, &mut dyn Iterator<Item = Result<T, RowError>>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        S: Default + Send,
        T: Send,
    {
        let opts = self.opts;
        let work = |block: &Block<'_>| -> (NoticeBlock<S, T>, ChunkParse) {
            let mut out = NoticeBlock {
                state: S::default(),
                // A notice line is rarely under 64 bytes.
                rows: Vec::with_capacity(block.data.len() / 64 + 1),
                ids: String::with_capacity(block.data.len() / 8),
                records: 0,
            };
            let mut scratch = Vec::with_capacity(256);
            let mut rec = RecordBuf::default();
            let parse = parse_chunk(
                block.layout,
                block.data,
                block.first_line,
                block.end,
                block.encoding,
                &mut rec,
                |r: Row<'_>| {
                    out.records += 1;
                    let item = match Fields::parse(&r, &opts, false) {
                        Ok(fields) => {
                            let hash = fields.content_hash(&mut scratch);
                            let id = fields.notice_id.as_str();
                            let at = out.ids.len();
                            out.ids.push_str(id);
                            Item::Row {
                                key: xxh3_64(id.as_bytes()),
                                hash,
                                line: r.line,
                                id: (at, out.ids.len()),
                                value: map(&mut out.state, &fields.view(r.line, hash)),
                            }
                        }
                        Err(e) => Item::Err(e),
                    };
                    out.rows.push(item);
                },
            );
            done(&mut out.state);
            (out, parse)
        };
        let stats = &mut self.stats;
        let seen = &mut self.seen;
        let check = self.check_duplicates;
        let mut take = |block: NoticeBlock<S, T>| -> Result<(), E> {
            let NoticeBlock {
                mut state,
                rows,
                ids,
                records,
            } = block;
            stats.rows += records;
            let mut rows = Accepted {
                items: rows.into_iter(),
                untouched: 0,
                check,
                seen: &mut *seen,
                stats: &mut *stats,
                ids: &ids,
            };
            let result = consume(&mut state, &mut rows);
            rows.for_each(drop);
            result
        };
        let (layout, source, blank_lines) = self.records.chunks(chunk_bytes);
        let mut take = |out, parse: ChunkParse| {
            *blank_lines += parse.blank_lines;
            take(out)
        };
        parallel::run(layout, source, threads, &work, &mut take)
    }
}

/// A block's rows after the duplicate check, in file order.
struct Accepted<'a, T> {
    items: std::vec::IntoIter<Item<T>>,
    /// Items left whose index slots were touched.
    untouched: usize,
    /// False: every row is new ([`NoticeReader::without_duplicate_check`]).
    check: bool,
    seen: &'a mut Seen,
    stats: &'a mut ReadStats,
    ids: &'a str,
}

impl<T> Iterator for Accepted<'_, T> {
    type Item = Result<T, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.check && self.untouched == 0 {
                let next = &self.items.as_slice()[..self.items.len().min(BATCH)];
                self.seen
                    .table
                    .touch(next.iter().filter_map(|item| match item {
                        Item::Row { key, .. } => Some(*key),
                        Item::Err(_) => None,
                    }));
                self.untouched = next.len();
            }
            self.untouched = self.untouched.saturating_sub(1);
            match self.items.next()? {
                Item::Row {
                    key,
                    hash,
                    line,
                    id,
                    value,
                } => match if self.check {
                    self.seen.check_key(key, hash, line)
                } else {
                    Check::New
                } {
                    Check::New => {
                        self.stats.accepted += 1;
                        return Some(Ok(value));
                    }
                    Check::Same => self.stats.duplicates += 1,
                    Check::Differs(first) => {
                        self.stats.rejected += 1;
                        let reason = duplicate_message(&self.ids[id.0..id.1], first);
                        return Some(Err(RowError { line, reason }));
                    }
                },
                Item::Err(e) => {
                    self.stats.rejected += 1;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// What the workers made of one block of notices.
struct NoticeBlock<S, T> {
    state: S,
    rows: Vec<Item<T>>,
    /// The 受付番号 of the rows, back to back, for a duplicate's message.
    ids: String,
    /// Records with a value.
    records: u64,
}

enum Item<T> {
    Row {
        key: u64,
        hash: u64,
        line: u64,
        id: (usize, usize),
        value: T,
    },
    Err(RowError),
}

impl<R: Read> Iterator for NoticeReader<R> {
    type Item = Result<NoticeRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.records.next_record()?;
            self.stats.rows += 1;
            match self.read_row(line) {
                Ok(Some(row)) => {
                    self.stats.accepted += 1;
                    return Some(Ok(row));
                }
                Ok(None) => self.stats.duplicates += 1,
                Err(e) => {
                    self.stats.rejected += 1;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The 受付番号 of a row: borrowed from the record when it is plain ASCII (nearly always).
enum Id<'a> {
    Plain(&'a str),
    Parsed(NoticeId),
}

impl Id<'_> {
    fn as_str(&self) -> &str {
        match self {
            Id::Plain(s) => s,
            Id::Parsed(id) => id.as_str(),
        }
    }
}

/// A row typed and checked, its text borrowed from the record where nothing changed.
struct Fields<'a> {
    notice_id: Id<'a>,
    kind: NoticeKind,
    employer_code: Cow<'a, str>,
    employer_name: Option<Cow<'a, str>>,
    member_symbol: Cow<'a, str>,
    member_number: Cow<'a, str>,
    dependent_seq: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    name_kana: Option<Cow<'a, str>>,
    event_date: NaiveDate,
    received_on: NaiveDate,
    my_number: MyNumberStatus,
    delay_cause: Option<Cow<'a, str>>,
    insurer_number: Option<InsurerNumber>,
    birth_date: Option<NaiveDate>,
    postal_code: Option<String>,
    address: Option<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    /// The row rules of SPEC §2.5, in a fixed order: the first failing one is reported.
    /// `owned`: the 受付番号 is needed as a [`NoticeId`] (a plain one is otherwise borrowed).
    fn parse(r: &Row<'a>, opts: &NoticeReadOptions, owned: bool) -> Result<Self, RowError> {
        use NoticeCol as C;
        r.check_width()?;
        let reject = r.field(C::Reject as usize)?;
        if !reject.is_empty() {
            return Err(r.error(reject.to_string()));
        }

        let id_raw = r.required(C::NoticeId as usize)?;
        let notice_id = if !owned && is_plain_id(id_raw) {
            Id::Plain(id_raw)
        } else {
            Id::Parsed(
                NoticeId::parse(id_raw)
                    .map_err(|e| r.error(format!("{}: {e}", r.label(C::NoticeId as usize))))?,
            )
        };
        let kind_raw = r.required(C::Kind as usize)?;
        let kind = NoticeKind::parse(kind_raw)
            .or_else(|| NoticeKind::parse(&halfwidth(kind_raw)))
            .ok_or_else(|| {
                r.invalid(
                    C::Kind as usize,
                    "が不明です（資格取得 / 被扶養者 / 資格喪失、または acquisition / dependent / loss）",
                    kind_raw,
                )
            })?;
        let code_of = |c: NoticeCol| -> Result<Option<Cow<'a, str>>, RowError> {
            let v = r.field(c as usize)?;
            if v.is_empty() {
                return Ok(None);
            }
            // 記号・番号 are at most 8 characters; a 12-digit number with a valid check digit
            // here is a My Number in the wrong column, which must not be stored (SPEC §6).
            if crate::domain::my_number::contains_valid(v) {
                return Err(r.error(format!(
                    "{} に個人番号と思われる値があります",
                    r.label(c as usize)
                )));
            }
            r.within(c as usize, v, limits::CODE)?;
            // Codes and numbers: full-width typed by hand must equal the half-width a system
            // exports. `v` is already trimmed, and narrowing cannot add spaces at its ends.
            Ok(Some(halfwidth(v)))
        };
        let required_code = |c: NoticeCol| -> Result<Cow<'a, str>, RowError> {
            code_of(c)?.ok_or_else(|| r.error(format!("{} が空です", r.label(c as usize))))
        };
        let employer_code = required_code(C::EmployerCode)?;
        let member_symbol = required_code(C::MemberSymbol)?;
        let member_number = required_code(C::MemberNumber)?;
        let dependent_seq = code_of(C::DependentSeq)?;
        let event_date = r.date(C::EventDate as usize)?;
        let received_on = r.date(C::ReceivedOn as usize)?;
        let my_number = my_number_status(r)?;
        let insurer_raw = r.field(C::InsurerNumber as usize)?;
        let insurer_number = if insurer_raw.is_empty() {
            None
        } else {
            Some(InsurerNumber::parse(insurer_raw).map_err(|_| {
                r.invalid(C::InsurerNumber as usize, "は8桁の数字です", insurer_raw)
            })?)
        };

        if received_on > opts.as_of {
            return Err(r.error(format!(
                "{} {received_on} が基準日 {} より後です",
                r.label(C::ReceivedOn as usize),
                opts.as_of
            )));
        }
        if event_date - received_on > TimeDelta::days(MAX_DAYS_EVENT_AFTER_RECEIPT) {
            return Err(r.error(format!(
                "{} {event_date} が{} {received_on} より{MAX_DAYS_EVENT_AFTER_RECEIPT}日を超えて後です",
                r.label(C::EventDate as usize),
                r.label(C::ReceivedOn as usize),
            )));
        }

        let limited = |c: NoticeCol, max: usize| -> Result<Option<Cow<'a, str>>, RowError> {
            let v = r.field(c as usize)?;
            r.within(c as usize, v, max)?;
            Ok(text(v))
        };
        let employer_name = limited(C::EmployerName, limits::EMPLOYER_NAME)?;
        let name = limited(C::Name, limits::NAME)?;
        let name_kana = limited(C::NameKana, limits::NAME)?;
        let delay_cause = limited(C::DelayCause, limits::DELAY_CAUSE)?;
        let birth_raw = r.field(C::BirthDate as usize)?;
        let birth_date = if birth_raw.is_empty() {
            None
        } else {
            let d = parse_date(birth_raw)
                .map_err(|e| r.unreadable_date(C::BirthDate as usize, birth_raw, e))?;
            if d > received_on {
                return Err(r.error(format!(
                    "{} {d} が{} {received_on} より後です",
                    r.label(C::BirthDate as usize),
                    r.label(C::ReceivedOn as usize),
                )));
            }
            Some(d)
        };
        let postal_raw = r.field(C::PostalCode as usize)?;
        let postal_code = if postal_raw.is_empty() {
            None
        } else {
            Some(postal_code(postal_raw).ok_or_else(|| {
                r.invalid(
                    C::PostalCode as usize,
                    "は7桁の数字です（123-4567）",
                    postal_raw,
                )
            })?)
        };
        let address = limited(C::Address, limits::ADDRESS)?;
        Ok(Fields {
            notice_id,
            kind,
            employer_code,
            employer_name,
            member_symbol,
            member_number,
            dependent_seq,
            name,
            name_kana,
            event_date,
            received_on,
            my_number,
            delay_cause,
            insurer_number,
            birth_date,
            postal_code,
            address,
        })
    }

    fn view(&self, line: u64, content_hash: u64) -> NoticeRef<'_> {
        NoticeRef {
            line,
            notice_id: self.notice_id.as_str(),
            kind: self.kind,
            employer_code: &self.employer_code,
            employer_name: self.employer_name.as_deref(),
            member_symbol: &self.member_symbol,
            member_number: &self.member_number,
            dependent_seq: self.dependent_seq.as_deref(),
            name: self.name.as_deref(),
            name_kana: self.name_kana.as_deref(),
            event_date: self.event_date,
            received_on: self.received_on,
            my_number: self.my_number,
            delay_cause: self.delay_cause.as_deref(),
            insurer_number: self.insurer_number.as_ref(),
            birth_date: self.birth_date,
            postal_code: self.postal_code.as_deref(),
            address: self.address.as_deref(),
            content_hash,
        }
    }

    fn content_hash(&self, buf: &mut Vec<u8>) -> u64 {
        self.view(0, 0).compute_hash(buf)
    }

    fn into_row(self, line: u64, content_hash: u64) -> NoticeRow {
        let own = |s: Option<Cow<'_, str>>| s.map(Cow::into_owned);
        NoticeRow {
            line,
            notice_id: match self.notice_id {
                Id::Parsed(id) => id,
                Id::Plain(_) => unreachable!("parsed with owned = true"),
            },
            kind: self.kind,
            employer_code: self.employer_code.into_owned(),
            employer_name: own(self.employer_name),
            member_symbol: self.member_symbol.into_owned(),
            member_number: self.member_number.into_owned(),
            dependent_seq: own(self.dependent_seq),
            name: own(self.name),
            name_kana: own(self.name_kana),
            event_date: self.event_date,
            received_on: self.received_on,
            my_number: self.my_number,
            delay_cause: own(self.delay_cause),
            insurer_number: self.insurer_number,
            birth_date: self.birth_date,
            postal_code: self.postal_code,
            address: own(self.address),
            content_hash,
        }
    }
}

/// A 郵便番号 as 123-4567 from 7 digits (full-width or half-width, with or without 〒 and a
/// hyphen); None when it is not one.
pub fn postal_code(raw: &str) -> Option<String> {
    let t = halfwidth(raw.trim());
    let digits: String = t
        .trim_start_matches('〒')
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | 'ー' | '−' | '‐'))
        .collect();
    (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}", &digits[..3], &digits[3..]))
}

/// The My Number's status (SPEC §3): from the number, classified where it lies in the record
/// buffer and going no further (SPEC §6), or from the 個人番号記載 column for insurers who keep
/// the numbers in their own system. With both, a given number wins and a status that says
/// otherwise rejects the row; a blank number then leaves the status column to tell.
fn my_number_status(r: &Row<'_>) -> Result<MyNumberStatus, RowError> {
    use NoticeCol as C;
    let number = r.field(C::MyNumber as usize)?;
    let stated_raw = r.field(C::MyNumberStatus as usize)?;
    let stated = if stated_raw.is_empty() {
        None
    } else {
        Some(parse_status(stated_raw).ok_or_else(|| {
            r.invalid(
                C::MyNumberStatus as usize,
                "が不明です（有・正 / 無・未記載 / 誤り・不備、または valid / missing / invalid）",
                stated_raw,
            )
        })?)
    };
    match (number.is_empty(), stated) {
        (true, Some(s)) => Ok(s),
        (_, None) => Ok(MyNumberStatus::classify(number)),
        (false, Some(s)) => {
            let found = MyNumberStatus::classify(number);
            if found == s {
                Ok(found)
            } else {
                Err(r.error(format!(
                    "{} は「{}」ですが、{} の値は「{}」です",
                    r.label(C::MyNumberStatus as usize),
                    s.label_ja(),
                    r.label(C::MyNumber as usize),
                    found.label_ja()
                )))
            }
        }
    }
}

/// A 個人番号記載 value: the SPEC's words (either half of 有・正 and the like, or the whole) and
/// the codes.
pub(crate) fn parse_status(raw: &str) -> Option<MyNumberStatus> {
    let t = halfwidth(raw);
    let t = t.trim();
    match t {
        "有・正" | "有" | "正" | "記載あり" | "有り" | "あり" => {
            Some(MyNumberStatus::Valid)
        }
        "無・未記載" | "無" | "未記載" | "記載なし" | "無し" | "なし" => {
            Some(MyNumberStatus::Missing)
        }
        "誤り・不備" | "誤り" | "不備" | "誤" => Some(MyNumberStatus::Invalid),
        _ => MyNumberStatus::parse_code(&t.to_ascii_lowercase()),
    }
}

/// The inputs [`NoticeId::parse`] returns trimmed and unchanged (its fast path), so that the
/// borrowed value is exactly what it would have returned (pinned by a test).
pub(super) fn is_plain_id(s: &str) -> bool {
    let t = s.trim();
    t.len() == s.len()
        && !t.is_empty()
        && t.len() <= 64
        && t.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !crate::domain::my_number::contains_valid(t)
}

impl NoticeRef<'_> {
    /// Layout version 1: a version byte, then each field in declaration order (line and hash
    /// excluded), strings followed by 0x1F, absent options as 0x1E, dates as days from CE;
    /// 生年月日 (0x1D then the date), 郵便番号 (0x1C 'P') and 住所 (0x1C 'A'), the last fields, only
    /// when present, so the hash of a file without them stays what it was.
    /// Only the My Number's status goes in: a hash of a 12-digit number can be reversed by
    /// trying all 10^11 numbers, so hashing the number would be storing it.
    fn compute_hash(&self, buf: &mut Vec<u8>) -> u64 {
        fn s(buf: &mut Vec<u8>, v: &str) {
            buf.extend_from_slice(v.as_bytes());
            buf.push(0x1F);
        }
        fn o(buf: &mut Vec<u8>, v: Option<&str>) {
            match v {
                Some(v) => s(buf, v),
                None => buf.push(0x1E),
            }
        }
        fn d(buf: &mut Vec<u8>, v: NaiveDate) {
            buf.extend_from_slice(&v.num_days_from_ce().to_le_bytes());
        }
        buf.clear();
        buf.push(1);
        s(buf, self.notice_id);
        s(buf, self.kind.code());
        s(buf, self.employer_code);
        o(buf, self.employer_name);
        s(buf, self.member_symbol);
        s(buf, self.member_number);
        o(buf, self.dependent_seq);
        o(buf, self.name);
        o(buf, self.name_kana);
        d(buf, self.event_date);
        d(buf, self.received_on);
        s(buf, self.my_number.code());
        o(buf, self.delay_cause);
        o(buf, self.insurer_number.map(InsurerNumber::as_str));
        // Appended, and only when present: a file without 生年月日 keeps the hashes it had.
        if let Some(b) = self.birth_date {
            buf.push(0x1D);
            d(buf, b);
        }
        if let Some(p) = self.postal_code {
            buf.extend_from_slice(&[0x1C, b'P']);
            s(buf, p);
        }
        if let Some(a) = self.address {
            buf.extend_from_slice(&[0x1C, b'A']);
            s(buf, a);
        }
        xxh3_64(buf)
    }
}

/// The duplicate index: for each accepted 受付番号, the first row's content hash and line.
///
/// Keyed by the 64-bit xxh3 of the 受付番号, not the 受付番号 itself (20 bytes a slot instead of
/// a string). Two different 受付番号 with the same 64-bit hash (about 3 × 10⁻⁸ for a file of a
/// million notices) would make the second one's row a visible false rejection ("重複しています",
/// naming the first one's line; their contents differ since the 受付番号 is part of the content),
/// never a silently merged or dropped row.
#[derive(Default)]
struct Seen {
    table: IdTable<u64, SeenSlot>,
    /// Lines past `u32::MAX - 1`, which the slot cannot hold.
    long_lines: HashMap<u64, u64>,
}

#[derive(Clone, Copy, Default)]
#[repr(C, packed(4))]
struct SeenSlot {
    content_hash: u64,
    line: u32,
}

enum Check {
    New,
    Same,
    /// A different row with this 受付番号 was accepted at this line.
    Differs(u64),
}

impl Seen {
    fn reserve(&mut self, rows: usize) {
        self.table.reserve_total(rows);
    }

    fn check(&mut self, id: &str, content_hash: u64, line: u64) -> Check {
        self.check_key(xxh3_64(id.as_bytes()), content_hash, line)
    }

    fn check_key(&mut self, key: u64, content_hash: u64, line: u64) -> Check {
        let slot = SeenSlot {
            content_hash,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        let found = self.table.upsert(key, slot, |first| *first);
        match found {
            None => {
                if line >= u64::from(u32::MAX) {
                    self.long_lines.insert(key, line);
                }
                Check::New
            }
            Some(first) if first.content_hash == content_hash => Check::Same,
            Some(first) => Check::Differs(if first.line == u32::MAX {
                self.long_lines
                    .get(&key)
                    .copied()
                    .unwrap_or(u64::from(u32::MAX))
            } else {
                u64::from(first.line)
            }),
        }
    }
}

/// Why a row repeating an earlier row's 受付番号 with different content is rejected (the first
/// row stands). Digits of the 受付番号 are masked where they could be a My Number.
pub fn duplicate_message(id: &str, first_line: u64) -> String {
    format!(
        "受付番号 {} が line {} と異なる内容で重複しています",
        mask_digits(id),
        first_line
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::SourceEncoding;

    const AS_OF: (i32, u32, u32) = (2024, 6, 30);
    const HEADER: &str =
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,氏名";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn read(
        body: &str,
    ) -> (
        Vec<Result<NoticeRow, RowError>>,
        Result<ReadStats, FileError>,
    ) {
        let text = format!("{HEADER}\n{body}");
        let opts = NoticeReadOptions {
            as_of: day(AS_OF.0, AS_OF.1, AS_OF.2),
        };
        let mut reader = NoticeReader::new(text.as_bytes(), opts).unwrap();
        let rows: Vec<_> = reader.by_ref().collect();
        (rows, reader.finish())
    }

    fn only_error(body: &str) -> RowError {
        let (rows, _) = read(body);
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().unwrap().unwrap_err()
    }

    #[test]
    fn a_plain_id_is_what_notice_id_parse_returns() {
        let cases = [
            "A1",
            "2025-0000001",
            " A1",
            "A1 ",
            "A 1",
            "",
            "Ａ１",
            "A\t1",
            "\u{7f}",
            "~!",
            "é",
            "\u{feff}A",
            "-",
            "0123456789012345678901234567890123456789012345678901234567890123",
            "01234567890123456789012345678901234567890123456789012345678901234",
        ];
        for s in cases {
            if is_plain_id(s) {
                assert_eq!(
                    NoticeId::parse(s).map(NoticeId::into_string),
                    Ok(s.to_owned()),
                    "{s:?}"
                );
            }
        }
        for b in 0..=0x7fu8 {
            let s = format!("A{}1", b as char);
            if is_plain_id(&s) {
                assert_eq!(
                    NoticeId::parse(&s).map(NoticeId::into_string),
                    Ok(s.clone())
                );
            }
        }
    }

    #[test]
    fn birth_date_is_optional_typed_and_hashed_only_when_present() {
        let opts = NoticeReadOptions {
            as_of: day(AS_OF.0, AS_OF.1, AS_OF.2),
        };
        let rows = |text: &str| -> Vec<Result<NoticeRow, RowError>> {
            NoticeReader::new(text.as_bytes(), opts).unwrap().collect()
        };
        let row = "A1,資格取得,E1,10,201,2024-04-01,2024/4/3,123456789018,山田　太郎";
        let without = rows(&format!("{HEADER}\n{row}\n"));
        let blank = rows(&format!("{HEADER},生年月日\n{row},\n"));
        let era = rows(&format!("{HEADER},生年月日\n{row},昭和60年4月2日\n"));
        let iso = rows(&format!("{HEADER},birth_date\n{row},1985-04-02\n"));
        let (without, blank) = (without[0].as_ref().unwrap(), blank[0].as_ref().unwrap());
        assert_eq!(without.birth_date, None);
        assert_eq!(blank.birth_date, None);
        // A file without 生年月日 (or with it blank) keeps the content hash it always had.
        assert_eq!(without.content_hash, blank.content_hash);
        let era = era[0].as_ref().unwrap();
        assert_eq!(era.birth_date, Some(day(1985, 4, 2)));
        assert_eq!(iso[0].as_ref().unwrap().birth_date, Some(day(1985, 4, 2)));
        assert_ne!(era.content_hash, without.content_hash);
        let bad = rows(&format!("{HEADER},生年月日\n{row},1985-13-40\n"));
        let e = bad[0].as_ref().unwrap_err().to_string();
        assert!(e.contains("生年月日"), "{e}");
    }

    #[test]
    fn a_good_row_is_typed() {
        let (rows, stats) =
            read("A1,資格取得,E1,10,２０１,2024-04-01,2024/4/3,123456789018,山田　太郎\n");
        let row = rows[0].as_ref().unwrap();
        assert_eq!(row.line, 2);
        assert_eq!(row.notice_id.as_str(), "A1");
        assert_eq!(row.kind, NoticeKind::Acquisition);
        assert_eq!(row.member_number, "201");
        assert_eq!(row.event_date, day(2024, 4, 1));
        assert_eq!(row.received_on, day(2024, 4, 3));
        assert_eq!(row.my_number, MyNumberStatus::Valid);
        assert_eq!(row.name.as_deref(), Some("山田 太郎"));
        assert_eq!(row.employer_name, None);
        let stats = stats.unwrap();
        assert_eq!((stats.rows, stats.accepted, stats.rejected), (1, 1, 0));
    }

    #[test]
    fn unparseable_date_is_rejected_with_its_line_and_column() {
        let e = only_error("A1,資格取得,E1,10,1,2024-04-01,2024-13-01,,\n");
        assert_eq!(
            e.to_string(),
            "line 2: 受付日 (received_on) が日付として読めません: \"2024-13-01\"（存在しない日付です）"
        );
        let e = only_error("A1,資格取得,E1,10,1,昨日,2024-04-01,,\n");
        assert_eq!(
            e.reason,
            "事実発生日 (event_date) が日付として読めません: \"昨日\""
        );
    }

    #[test]
    fn unknown_notice_kind_is_rejected() {
        let e = only_error("A1,転居届,E1,10,1,2024-04-01,2024-04-01,,\n");
        assert!(e.reason.starts_with("届書種別 (kind) が不明です"), "{e}");
        assert!(e.reason.ends_with(": \"転居届\""), "{e}");
    }

    #[test]
    fn blank_required_field_is_rejected() {
        let e = only_error("A1,資格取得,E1,　,1,2024-04-01,2024-04-01,,\n");
        assert_eq!(
            e.to_string(),
            "line 2: 被保険者記号 (member_symbol) が空です"
        );
        let e = only_error(",資格取得,E1,10,1,2024-04-01,2024-04-01,,\n");
        assert_eq!(e.reason, "受付番号 (notice_id) が空です");
    }

    #[test]
    fn received_after_the_as_of_date_is_rejected() {
        let (rows, _) = read(
            "A1,資格取得,E1,10,1,2024-06-30,2024-06-30,,\nA2,資格取得,E1,10,2,2024-07-01,2024-07-01,,\n",
        );
        assert!(rows[0].is_ok());
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: 受付日 (received_on) 2024-07-01 が基準日 2024-06-30 より後です"
        );
    }

    #[test]
    fn event_more_than_180_days_after_receipt_is_rejected() {
        // 2024-01-01 + 180 days = 2024-06-29: allowed; one day more is not.
        let (rows, _) = read(
            "A1,資格取得,E1,10,1,2024-06-29,2024-01-01,,\nA2,資格取得,E1,10,2,2024-06-30,2024-01-01,,\n",
        );
        assert!(rows[0].is_ok(), "{:?}", rows[0]);
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "line 3: 事実発生日 (event_date) 2024-06-30 が受付日 (received_on) 2024-01-01 より180日を超えて後です"
        );
    }

    #[test]
    fn late_receipt_long_after_the_event_is_accepted() {
        let (rows, _) = read("A1,資格喪失,E1,10,1,2020-01-01,2024-06-01,,\n");
        assert!(rows[0].is_ok());
    }

    #[test]
    fn duplicate_notice_id_with_different_content_is_rejected() {
        let (rows, stats) = read(concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\n",
            "A2,資格取得,E1,10,2,2024-04-01,2024-04-03,,\n",
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-04,,\n",
        ));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[2].as_ref().unwrap_err().to_string(),
            "line 4: 受付番号 A1 が line 2 と異なる内容で重複しています"
        );
        assert_eq!(stats.unwrap().rejected, 1);
    }

    #[test]
    fn identical_duplicate_is_skipped_and_counted() {
        let (rows, stats) = read(concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,123456789018,山田\n",
            "Ａ１,資格取得届,Ｅ１,１０,１,R6.4.1,令和6年4月3日,1234-5678-9018, 山田 \n",
        ));
        assert_eq!(rows.len(), 1);
        let stats = stats.unwrap();
        assert_eq!((stats.rows, stats.accepted, stats.duplicates), (2, 1, 1));
    }

    #[test]
    fn without_the_duplicate_check_every_repeat_is_returned_by_both_readers() {
        let body = concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\n",
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\n",
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-04,,\n",
        );
        let text = format!("{HEADER}\n{body}");
        let opts = NoticeReadOptions {
            as_of: day(AS_OF.0, AS_OF.1, AS_OF.2),
        };
        let mut serial = NoticeReader::new(text.as_bytes(), opts)
            .unwrap()
            .without_duplicate_check();
        let lines: Vec<u64> = serial.by_ref().map(|r| r.unwrap().line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        let stats = serial.finish().unwrap();
        assert_eq!(
            (stats.accepted, stats.duplicates, stats.rejected),
            (3, 0, 0)
        );

        let mut parallel = NoticeReader::new(text.as_bytes(), opts)
            .unwrap()
            .without_duplicate_check();
        let mut lines = Vec::new();
        parallel
            .par_for_each_in(
                2,
                64,
                |_: &mut (), r| r.line,
                |_| {},
                |_, rows| {
                    lines.extend(rows.map(Result::unwrap));
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
        assert_eq!(lines, vec![2, 3, 4]);
        assert_eq!(parallel.finish().unwrap().accepted, 3);
    }

    #[test]
    fn wrong_field_count_is_a_row_error() {
        let (rows, stats) = read(concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\n",
            "A2,資格取得,E1,10,1,2024-04-01\n",
            "A3,資格取得,E1,10,3,2024-04-01,2024-04-03,,山田,余分\n",
            "A4,資格取得,E1,10,4,2024-04-01,2024-04-03,,山田,,\n",
        ));
        assert!(rows[0].is_ok());
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "line 3: 列の数が見出しと合いません（見出し 9 列、この行 6 列）"
        );
        assert_eq!(rows[2].as_ref().unwrap_err().line, 4);
        assert!(rows[3].is_ok(), "trailing empty fields are harmless");
        assert_eq!(stats.unwrap().rejected, 2);
    }

    #[test]
    fn unnamed_trailing_header_columns_may_be_left_out() {
        let text = "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,,\n\
                    A1,資格取得,E1,10,1,2024-04-01,2024-04-03\n\
                    A2,資格取得,E1,10,2,2024-04-01,2024-04-03,,\n\
                    A3,資格取得,E1,10,3,2024-04-01\n";
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let rows: Vec<_> = NoticeReader::new(text.as_bytes(), opts).unwrap().collect();
        assert!(rows[0].is_ok() && rows[1].is_ok());
        assert_eq!(
            rows[2].as_ref().unwrap_err().reason,
            "列の数が見出しと合いません（見出し 9 列、この行 6 列）"
        );
    }

    #[test]
    fn line_numbers_are_physical_lines() {
        let (rows, stats) = read(concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\"山田\n太郎\"\n",
            "\n",
            ",,,,,,,,\n",
            "A2,資格取得,E1,10,2,2024-04-01,bad,,\n",
        ));
        // A line break belongs in no 氏名: the row is refused, at its first line.
        assert_eq!(rows[0].as_ref().unwrap_err().line, 2);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 6);
        assert_eq!(stats.unwrap().blank_lines, 1);
    }

    #[test]
    fn line_numbers_survive_crlf_and_blank_lines() {
        let body = concat!(
            "A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\r\n",
            "\r\n",
            "\r\n",
            "A2,資格取得,E1,10,2,2024-04-01,bad,,\"山田\r\n太郎\"\r\n",
            "A3,資格取得,E1,10,3,2024-04-01,bad,,\r\n",
            "A4,資格取得,E1,10,4,2024-04-01,bad",
        );
        let (rows, _) = read(&body.replace("\r\n", "\n"));
        let lf: Vec<u64> = rows
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.line, |r| r.line))
            .collect();
        assert_eq!(lf, [2, 5, 7, 8]);
        let text = format!("{HEADER}\r\n{body}");
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let rows: Vec<_> = NoticeReader::new(text.as_bytes(), opts).unwrap().collect();
        let crlf: Vec<u64> = rows
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.line, |r| r.line))
            .collect();
        assert_eq!(crlf, lf);
    }

    #[test]
    fn invalid_utf8_in_a_utf8_file_is_a_row_error() {
        let mut bytes =
            format!("{HEADER}\nA1,資格取得,E1,10,1,2024-04-01,2024-04-03,,山田\n").into_bytes();
        bytes.extend_from_slice(b"A2,\xE8\xB3\x87\xFF,E1,10,2,2024-04-01,2024-04-03,,\n");
        bytes.extend_from_slice("A3,資格喪失,E1,10,3,2024-04-01,2024-04-03,,\n".as_bytes());
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let rows: Vec<_> = NoticeReader::new(&bytes[..], opts).unwrap().collect();
        assert!(rows[0].is_ok());
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "line 3: 届書種別 (kind) にUTF-8として読めない文字があります"
        );
        assert!(rows[2].is_ok());
    }

    #[test]
    fn an_undecodable_shift_jis_byte_is_a_row_error() {
        let text = format!("{HEADER}\nA1,資格取得,E1,10,1,2024-04-01,2024-04-03,,山田\n");
        let mut bytes = encoding_rs::SHIFT_JIS.encode(&text).0.into_owned();
        bytes.extend_from_slice(
            b"A2,\x8E\x91\x8A\x69\x8E\xE6\x93\xBE,E1,10,2,2024-04-01,2024-04-03,,\xFD\n",
        );
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let mut reader = NoticeReader::new(&bytes[..], opts).unwrap();
        let rows: Vec<_> = reader.by_ref().collect();
        assert_eq!(reader.stats().encoding, SourceEncoding::ShiftJis);
        assert_eq!(rows[0].as_ref().unwrap().name.as_deref(), Some("山田"));
        assert_eq!(
            rows[1].as_ref().unwrap_err().to_string(),
            "line 3: 氏名 (name) にShift_JISとして読めない文字があります"
        );
    }

    /// Fails like a network share dropping mid-file.
    struct FailsAfter<'a>(&'a [u8]);

    impl Read for FailsAfter<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("接続が切れました"));
            }
            let n = self.0.len().min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_part_way_fails_the_file() {
        // More than the encoding sniffer's first read, so the failure comes mid-iteration.
        let mut text = format!("{HEADER}\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,\n"
            ));
        }
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let mut reader = NoticeReader::new(FailsAfter(text.as_bytes()), opts).unwrap();
        let rows = reader.by_ref().filter(Result::is_ok).count();
        assert!(rows > 0);
        let err = reader.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "ファイルを読み込めません: 接続が切れました"
        );
    }

    #[test]
    fn my_number_is_never_echoed() {
        let mn = "123456789018";
        let body = [
            format!("A1,資格取得,E1,10,1,{mn},2024-04-03,{mn},\n"),
            format!("A2,{mn},E1,10,1,2024-04-01,2024-04-03,{mn},\n"),
            "A3,資格取得,E1,10,1,2024-04-01,１２３４ ５６７８ ９０１８,,\n".to_string(),
            format!("{mn},資格取得,E1,10,1,2024-04-01,2024-04-03,{mn},\n"),
            format!("{mn},資格取得,E1,10,1,2024-04-01,2024-04-04,{mn},\n"),
            format!("A4,資格取得,E1,10,1,2024-04-01,2024-04-03,{mn}\n"),
            format!("A5,資格取得,E1,10,1,2024-04-01,2024-04-03,{mn},個人番号{mn}\n"),
            format!("A6,資格取得,E1,10,{mn},2024-04-01,2024-04-03,,\n"),
        ]
        .concat();
        let (rows, _) = read(&body);
        // A 受付番号 that is a valid My Number is refused too (SPEC §6), without repeating it.
        assert_eq!(rows.iter().filter(|r| r.is_err()).count(), 7);
        assert_eq!(
            rows.iter()
                .filter(|r| r.as_ref().is_err_and(|e| e
                    .to_string()
                    .contains(crate::domain::types::NOTICE_ID_HOLDS_MY_NUMBER)))
                .count(),
            2
        );
        for r in &rows {
            let shown = format!(
                "{r:?} {}",
                r.as_ref().map_or_else(|e| e.to_string(), |_| String::new())
            );
            assert!(!shown.contains(mn), "{shown}");
            assert!(!shown.contains("１２３４"), "{shown}");
            assert!(!shown.contains("9018"), "{shown}");
        }
        let a5 = rows[rows.len() - 2].as_ref().unwrap();
        assert_eq!(a5.name.as_deref(), Some("個人番号************"));
    }

    #[test]
    fn a_my_number_in_a_code_column_is_rejected_unechoed() {
        let e = only_error("A1,資格取得,E1,10,1234 5678 9018,2024-04-01,2024-04-03,,\n");
        assert_eq!(
            e.reason,
            "被保険者番号 (member_number) に個人番号と思われる値があります"
        );
    }

    #[test]
    fn header_only_is_no_data_rows() {
        let (rows, stats) = read("");
        assert!(rows.is_empty());
        assert_eq!(stats.unwrap_err().to_string(), "データ行がありません");
        let (_, stats) = read(",,,,,,,,\n\n");
        assert!(matches!(stats, Err(FileError::NoDataRows)));
    }

    /// The hash before the readers were reworked, verbatim: stored hashes must stay valid.
    fn content_hash_v1(row: &NoticeRow) -> u64 {
        fn s(buf: &mut Vec<u8>, v: &str) {
            buf.extend_from_slice(v.as_bytes());
            buf.push(0x1F);
        }
        fn o(buf: &mut Vec<u8>, v: Option<&str>) {
            match v {
                Some(v) => s(buf, v),
                None => buf.push(0x1E),
            }
        }
        fn d(buf: &mut Vec<u8>, v: NaiveDate) {
            buf.extend_from_slice(&v.num_days_from_ce().to_le_bytes());
        }
        let buf = &mut Vec::new();
        buf.push(1);
        s(buf, row.notice_id.as_str());
        s(buf, row.kind.code());
        s(buf, &row.employer_code);
        o(buf, row.employer_name.as_deref());
        s(buf, &row.member_symbol);
        s(buf, &row.member_number);
        o(buf, row.dependent_seq.as_deref());
        o(buf, row.name.as_deref());
        o(buf, row.name_kana.as_deref());
        d(buf, row.event_date);
        d(buf, row.received_on);
        s(buf, row.my_number.code());
        o(buf, row.delay_cause.as_deref());
        o(buf, row.insurer_number.as_ref().map(InsurerNumber::as_str));
        xxh3_64(buf)
    }

    #[test]
    fn content_hash_layout_is_unchanged() {
        let text = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号,遅延理由,保険者番号\n\
                    A1,資格取得,E1,株式会社　テスト,10,1,01,山田 太郎,ヤマダ,2024-04-01,2024-04-03,123456789018,遅れ123456789018,06123456\n\
                    Ａ２,被扶養者,Ｅ１,,１０,２,,,,R6.4.1,令和6年4月3日,,,\n\
                    A3,資格喪失,E1,ＡＢＣ,10,3,,山田 花子,,2024-04-01,2024-04-03,1234,\"書類\n不備\",\n";
        let opts = NoticeReadOptions {
            as_of: day(2024, 6, 30),
        };
        let rows: Vec<NoticeRow> = NoticeReader::new(text.as_bytes(), opts)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 3);
        for row in &rows {
            assert_eq!(row.content_hash, content_hash_v1(row), "{row:?}");
        }
    }

    #[test]
    fn content_hash_ignores_the_line_and_width() {
        let (a, _) = read("A1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\n");
        let (b, _) = read("\n\nＡ１,資格取得,Ｅ１,１０,１,２０２４０４０１,R6.4.3,,\n");
        let (a, b) = (a[0].as_ref().unwrap(), b[0].as_ref().unwrap());
        assert_ne!(a.line, b.line);
        assert_eq!(a.content_hash, b.content_hash);
        let (c, _) = read("A1,資格取得,E1,10,1,2024-04-01,2024-04-03,123456789018,\n");
        assert_ne!(a.content_hash, c[0].as_ref().unwrap().content_hash);
    }
}
