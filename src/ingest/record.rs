//! The record loop both readers share: decoding, header mapping, line numbers, field access.
//!
//! Records are split by `csv_core` (the csv crate's own state machine, default dialect) in two
//! ways that give the same records and line numbers:
//! - [`Records`] streams the file through a 64 KiB buffer, one record at a time;
//! - [`ChunkSource`] cuts the rest of the file into blocks of whole records that
//!   [`parse_chunk`] splits independently, so that blocks can be typed on several threads
//!   (see `parallel.rs`). A block boundary is only a guess (a line end after an even number of
//!   `"`); [`parse_chunk`] proves it, and a wrong guess is re-read serially.
use std::io::{self, Read};
use std::ops::Range;

use chrono::NaiveDate;
use csv::ByteRecord;

use super::dates::{parse_date, DateError};
use super::encoding::{Decoded, SourceEncoding};
use super::error::{FileError, RowError};
use super::headers::{map_header, ColumnMap, ColumnSpec};
use super::text::mask_digits;

/// Counts of one read, for the import summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Data records read, blank lines not counted.
    pub rows: u64,
    /// Rows returned as `Ok`.
    pub accepted: u64,
    /// Rows returned as `Err`.
    pub rejected: u64,
    /// Exact repeats of an accepted row, skipped (notices only).
    pub duplicates: u64,
    /// Lines with no value in any column, skipped (spreadsheets leave `,,,,` lines behind).
    pub blank_lines: u64,
    pub encoding: SourceEncoding,
}

/// What the header row says about every data row.
pub(crate) struct Layout {
    /// Number of fields in the header.
    width: usize,
    /// Up to the last named header field: spreadsheets export `a,b,c,,,` headers.
    named_width: usize,
    pub cols: ColumnMap,
    specs: &'static [ColumnSpec],
}

/// One record's field bytes (quotes resolved) and field ends, like `csv::ByteRecord`.
pub(crate) struct RecordBuf {
    data: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
}

impl Default for RecordBuf {
    fn default() -> Self {
        RecordBuf {
            data: vec![0; 1024],
            ends: vec![0; 32],
            fields: 0,
        }
    }
}

impl RecordBuf {
    pub fn len(&self) -> usize {
        self.fields
    }

    fn range(&self, i: usize) -> Option<Range<usize>> {
        if i >= self.fields {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(start..self.ends[i])
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.range(i).map(|r| &self.data[r])
    }

    /// All field bytes, back to back.
    pub fn as_slice(&self) -> &[u8] {
        match self.fields {
            0 => &[],
            n => &self.data[..self.ends[n - 1]],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.fields).filter_map(|i| self.get(i))
    }
}

enum Step {
    /// A whole record is in the buffer.
    Record,
    /// All input consumed, no record finished yet.
    NeedInput,
    /// No more records.
    End,
}

/// `csv_core` with the `csv::ReaderBuilder::new()` dialect, filling a [`RecordBuf`].
struct Parser {
    core: csv_core::Reader,
    /// Output and ends used so far by the record being read.
    out: usize,
    nend: usize,
    /// Started at a record boundary in the middle of the data: csv_core must not take a
    /// UTF-8 BOM there for the start of a file (it only looks at its very first input).
    mid_stream: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Parser {
    fn new(line: u64, mid_stream: bool) -> Self {
        let mut core = csv_core::Reader::new();
        core.set_line(line);
        Parser {
            core,
            out: 0,
            nend: 0,
            mid_stream,
        }
    }

    fn line(&self) -> u64 {
        self.core.line()
    }

    /// Feeds `input`; an empty `input` with `eof` ends the data. Returns what happened and how
    /// many bytes were consumed.
    fn feed(&mut self, input: &[u8], eof: bool, rec: &mut RecordBuf) -> (Step, usize) {
        use csv_core::ReadRecordResult as R;
        let mut used = 0;
        loop {
            let mut rest = &input[used..];
            if rest.is_empty() && !eof {
                return (Step::NeedInput, used);
            }
            if std::mem::take(&mut self.mid_stream) && rest.starts_with(BOM) {
                rest = &rest[..1];
            }
            let (res, nin, nout, nend) = self.core.read_record(
                rest,
                &mut rec.data[self.out..],
                &mut rec.ends[self.nend..],
            );
            used += nin;
            self.out += nout;
            self.nend += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    let n = rec.data.len();
                    rec.data.resize(n * 2, 0);
                }
                R::OutputEndsFull => {
                    let n = rec.ends.len();
                    rec.ends.resize(n * 2, 0);
                }
                R::Record => {
                    rec.fields = std::mem::take(&mut self.nend);
                    self.out = 0;
                    return (Step::Record, used);
                }
                R::End => return (Step::End, used),
            }
        }
    }
}

/// Line bookkeeping shared by both ways of reading.
struct Lines {
    /// The parser's line after the previous record.
    next_line: u64,
}

impl Lines {
    /// Every record ends with exactly one `\n` (see `Decoded`), which the parser has consumed:
    /// its line is one past the record's last line. Count back over line breaks inside quoted
    /// fields to the first. A record that moved the parser by one line (nearly all) has none.
    fn record_line(&mut self, parser_line: u64, rec: &RecordBuf) -> u64 {
        let moved = parser_line - std::mem::replace(&mut self.next_line, parser_line);
        let inner = if moved > 1 {
            rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64
        } else {
            0
        };
        parser_line.saturating_sub(1 + inner)
    }
}

/// The streaming reader: one record at a time.
pub(crate) struct Records<R> {
    src: Decoded<R>,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    parser: Parser,
    rec: RecordBuf,
    pub layout: Layout,
    fatal: Option<FileError>,
    pub blank_lines: u64,
    lines: Lines,
}

const STREAM_BUF: usize = 64 * 1024;

impl<R: Read> Records<R> {
    pub fn open(src: R, specs: &'static [ColumnSpec]) -> Result<Self, FileError> {
        let src = Decoded::new(src)?;
        let mut records = Records {
            src,
            buf: vec![0; STREAM_BUF],
            pos: 0,
            filled: 0,
            eof: false,
            parser: Parser::new(1, false),
            rec: RecordBuf::default(),
            layout: Layout {
                width: 0,
                named_width: 0,
                cols: ColumnMap::empty(specs.len()),
                specs,
            },
            fatal: None,
            blank_lines: 0,
            lines: Lines { next_line: 1 },
        };
        if !records.read_record().map_err(FileError::Io)? {
            return Err(FileError::Empty);
        }
        let header = &records.rec;
        if header.len() <= 1 && header.iter().all(is_blank) {
            return Err(FileError::Empty);
        }
        let fields: Vec<&[u8]> = header.iter().collect();
        records.layout = Layout {
            width: header.len(),
            named_width: header
                .iter()
                .rposition(|f| !is_blank(f))
                .map_or(0, |i| i + 1),
            cols: map_header(&ByteRecord::from(fields), specs)?,
            specs,
        };
        records.lines.next_line = records.parser.line();
        Ok(records)
    }

    /// One record into `self.rec`; `false` at the end of the data.
    fn read_record(&mut self) -> io::Result<bool> {
        loop {
            if self.pos == self.filled && !self.eof {
                self.pos = 0;
                self.filled = loop {
                    match self.src.read(&mut self.buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => break r?,
                    }
                };
                self.eof = self.filled == 0;
            }
            let (step, used) =
                self.parser
                    .feed(&self.buf[self.pos..self.filled], self.eof, &mut self.rec);
            self.pos += used;
            match step {
                Step::Record => return Ok(true),
                Step::End => return Ok(false),
                Step::NeedInput => {}
            }
        }
    }

    /// Moves to the next record that has any value and returns its first physical line. `None`
    /// at the end, and also after a read error, which `finish` then reports.
    pub fn next_record(&mut self) -> Option<u64> {
        if self.fatal.is_some() {
            return None;
        }
        loop {
            match self.read_record() {
                Ok(true) if self.rec.iter().all(is_blank) => {
                    self.lines.next_line = self.parser.line();
                    self.blank_lines += 1;
                }
                Ok(true) => return Some(self.lines.record_line(self.parser.line(), &self.rec)),
                Ok(false) => return None,
                Err(e) => {
                    self.fatal = Some(FileError::Io(e));
                    return None;
                }
            }
        }
    }

    pub fn encoding(&self) -> SourceEncoding {
        self.src.encoding()
    }

    /// Ends the read: the first read error if there was one.
    pub fn finish(self) -> Result<(), FileError> {
        self.fatal.map_or(Ok(()), Err)
    }

    /// The current record, for typed access to its fields.
    pub fn row(&self, line: u64) -> Row<'_> {
        Row::new(&self.layout, &self.rec, line, self.encoding())
    }

    /// Hands the rest of the file over to be read in blocks. Must be called between records.
    pub fn into_chunks(self, target: usize) -> (ChunkSource<R>, Layout, u64) {
        let mut carry = Vec::with_capacity(target.max(self.filled - self.pos));
        carry.extend_from_slice(&self.buf[self.pos..self.filled]);
        let source = ChunkSource {
            src: self.src,
            carry,
            line: self.parser.line(),
            eof: self.eof,
            fatal: self.fatal,
            target,
            pool: Vec::new(),
        };
        (source, self.layout, self.blank_lines)
    }
}

/// How a block of records ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkEnd {
    /// At a guessed record boundary, with more data after it.
    Guess,
    /// At the end of the file: an open quoted field is closed by it.
    Eof,
    /// Where a read failed: an unfinished last record is dropped.
    Broken,
}

/// A block of whole records (if the boundary guess was right) with the line of its first byte.
pub(crate) struct Chunk {
    pub data: Vec<u8>,
    pub first_line: u64,
    pub end: ChunkEnd,
    /// The file was known to be Shift_JIS when the block was read (see [`Row::new`]).
    pub encoding: SourceEncoding,
}

/// Cuts the decoded file into [`Chunk`]s of about `target` bytes.
pub(crate) struct ChunkSource<R> {
    src: Decoded<R>,
    /// Read but not handed out; starts at a record boundary (a guessed one, see `parse_chunk`).
    carry: Vec<u8>,
    /// Line of `carry[0]`.
    line: u64,
    eof: bool,
    fatal: Option<FileError>,
    target: usize,
    /// Buffers of consumed chunks, reused to spare page faults.
    pool: Vec<Vec<u8>>,
}

impl<R: Read> ChunkSource<R> {
    pub fn encoding(&self) -> SourceEncoding {
        self.src.encoding()
    }

    pub fn finish(self) -> Result<(), FileError> {
        self.fatal.map_or(Ok(()), Err)
    }

    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < 8 && buf.capacity() >= self.target {
            buf.clear();
            self.pool.push(buf);
        }
    }

    fn buffer(&mut self) -> Vec<u8> {
        self.pool
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.target))
    }

    /// The next block, `None` at the end of the file or after a read error.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        let mut want = self.target;
        loop {
            while !self.eof && self.fatal.is_none() && self.carry.len() < want {
                if self.carry.capacity() < want {
                    self.carry.reserve(want - self.carry.len());
                }
                let len = self.carry.len();
                let cap = self.carry.capacity();
                self.carry.resize(cap, 0);
                match self.src.read(&mut self.carry[len..]) {
                    Ok(0) => {
                        self.carry.truncate(len);
                        self.eof = true;
                    }
                    Ok(n) => self.carry.truncate(len + n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => self.carry.truncate(len),
                    Err(e) => {
                        self.carry.truncate(len);
                        self.fatal = Some(FileError::Io(e));
                    }
                }
            }
            let end = if self.fatal.is_some() {
                Some((self.carry.len(), ChunkEnd::Broken))
            } else if self.eof {
                Some((self.carry.len(), ChunkEnd::Eof))
            } else {
                split_point(&self.carry).map(|at| (at, ChunkEnd::Guess))
            };
            let Some((at, end)) = end else {
                // One record longer than the block: read on.
                want = self.carry.len() * 2;
                continue;
            };
            if at == 0 {
                return None;
            }
            let mut rest = self.buffer();
            rest.extend_from_slice(&self.carry[at..]);
            let mut data = std::mem::replace(&mut self.carry, rest);
            data.truncate(at);
            let first_line = self.line;
            self.line += count(&data, b'\n');
            return Some(Chunk {
                data,
                first_line,
                end,
                encoding: self.src.encoding(),
            });
        }
    }
}

/// Where to end a block: just after the last `\n` preceded by an even number of `"` (outside
/// quotes if the block starts at a record boundary and quotes are only used RFC 4180 style),
/// else after the last `\n` at all. Either is checked by [`parse_chunk`].
fn split_point(buf: &[u8]) -> Option<usize> {
    let last = buf.iter().rposition(|&b| b == b'\n')?;
    let mut quotes = count(&buf[..last], b'"');
    let mut at = last;
    loop {
        if quotes % 2 == 0 {
            return Some(at + 1);
        }
        match buf[..at].iter().rposition(|&b| b == b'\n') {
            Some(prev) => {
                quotes -= count(&buf[prev..at], b'"');
                at = prev;
            }
            None => return Some(last + 1),
        }
    }
}

fn count(buf: &[u8], byte: u8) -> u64 {
    buf.iter().filter(|&&b| b == byte).count() as u64
}

/// What [`parse_chunk`] found besides the records.
pub(crate) struct ChunkParse {
    pub blank_lines: u64,
    /// The block did not end at a record boundary: the byte offset and line where the unfinished
    /// record starts. Its records from there on must be read again with the next block.
    pub tail: Option<(usize, u64)>,
}

/// Splits a block into records and calls `each` with every record that has a value.
pub(crate) fn parse_chunk(
    layout: &Layout,
    data: &[u8],
    first_line: u64,
    end: ChunkEnd,
    encoding: SourceEncoding,
    rec: &mut RecordBuf,
    mut each: impl FnMut(Row<'_>),
) -> ChunkParse {
    let mut parser = Parser::new(first_line, true);
    let mut lines = Lines {
        next_line: first_line,
    };
    let mut blank_lines = 0;
    let mut pos = 0;
    let mut record_start = 0;
    loop {
        // Only empty lines left (the parser skips them between records): a clean end.
        if data[pos..].iter().all(|&b| b == b'\n') {
            return ChunkParse {
                blank_lines,
                tail: None,
            };
        }
        let (mut step, used) = parser.feed(&data[pos..], false, rec);
        pos += used;
        if let Step::NeedInput = step {
            match end {
                ChunkEnd::Guess => {
                    return ChunkParse {
                        blank_lines,
                        tail: Some((record_start, lines.next_line)),
                    }
                }
                ChunkEnd::Broken => {
                    return ChunkParse {
                        blank_lines,
                        tail: None,
                    }
                }
                ChunkEnd::Eof => step = parser.feed(&[], true, rec).0,
            }
        }
        match step {
            Step::Record if rec.iter().all(is_blank) => {
                lines.next_line = parser.line();
                blank_lines += 1;
            }
            Step::Record => {
                let line = lines.record_line(parser.line(), rec);
                each(Row::new(layout, rec, line, encoding));
            }
            Step::NeedInput | Step::End => {
                return ChunkParse {
                    blank_lines,
                    tail: None,
                }
            }
        }
        record_start = pos;
    }
}

/// A view of one record with its line number; every error it makes names its column.
pub(crate) struct Row<'a> {
    layout: &'a Layout,
    rec: &'a RecordBuf,
    pub line: u64,
    text: Option<&'a str>,
    shift_jis: bool,
}

impl<'a> Row<'a> {
    /// `encoding` as known when the record was read: the decoder decides at the first
    /// non-ASCII byte, so it is final for every record that is not pure ASCII.
    fn new(layout: &'a Layout, rec: &'a RecordBuf, line: u64, encoding: SourceEncoding) -> Self {
        let bytes = rec.as_slice();
        let ascii = bytes.is_ascii();
        Row {
            layout,
            rec,
            line,
            // One validation of the whole record instead of one per field; a field is then
            // valid exactly when its ends are char boundaries (checked by `str::get`).
            text: if ascii {
                // SAFETY-free shortcut: ASCII is UTF-8.
                std::str::from_utf8(bytes).ok()
            } else {
                std::str::from_utf8(bytes).ok()
            },
            shift_jis: !ascii && encoding == SourceEncoding::ShiftJis,
        }
    }

    /// Too few fields (a truncated line) or extra non-empty ones (an unquoted comma) would put
    /// values in the wrong columns. Trailing empty fields are harmless spreadsheet residue.
    pub fn check_width(&self) -> Result<(), RowError> {
        let rec = self.rec;
        let width = self.layout.width;
        let n = rec.len();
        if n < self.layout.named_width || (n > width && !rec.iter().skip(width).all(is_blank)) {
            return Err(self.error(format!(
                "列の数が見出しと合いません（見出し {width} 列、この行 {n} 列）"
            )));
        }
        Ok(())
    }

    /// The trimmed value of logical column `column`, `""` when the file has no such column.
    /// Never echoes the value: it may be the My Number.
    pub fn field(&self, column: usize) -> Result<&'a str, RowError> {
        match *self.layout.cols.positions(column) {
            [] => Ok(""),
            [pos] => Ok(trim(self.decode(pos, column)?)),
            ref several => self.first_filled(column, several),
        }
    }

    /// A column the file has more than once: the filled one, and they must agree.
    fn first_filled(&self, column: usize, positions: &[usize]) -> Result<&'a str, RowError> {
        let mut found = "";
        let mut found_at = 0;
        for &pos in positions {
            let value = trim(self.decode(pos, column)?);
            if value.is_empty() {
                continue;
            }
            if found.is_empty() {
                found = value;
                found_at = pos;
            } else if found != value {
                return Err(self.error(format!(
                    "{} にあたる列（{}列目と{}列目）に異なる値があります",
                    self.label(column),
                    found_at + 1,
                    pos + 1
                )));
            }
        }
        Ok(found)
    }

    /// Like [`Row::field`], but blank is an error.
    pub fn required(&self, column: usize) -> Result<&'a str, RowError> {
        let v = self.field(column)?;
        if v.is_empty() {
            return Err(self.error(format!("{} が空です", self.label(column))));
        }
        Ok(v)
    }

    /// A required date column.
    pub fn date(&self, column: usize) -> Result<NaiveDate, RowError> {
        let raw = self.required(column)?;
        parse_date(raw).map_err(|e| self.unreadable_date(column, raw, e))
    }

    pub fn unreadable_date(&self, column: usize, raw: &str, e: DateError) -> RowError {
        let what = if column_holds_time(self.layout.specs[column].en) {
            "日時"
        } else {
            "日付"
        };
        let mut reason = format!(
            "{} が{what}として読めません: {}",
            self.label(column),
            echo(raw)
        );
        if e != DateError::Format {
            reason.push_str(&format!("（{e}）"));
        }
        self.error(reason)
    }

    /// `{label} {what}: "{value}"`, the value masked.
    pub fn invalid(&self, column: usize, what: &str, raw: &str) -> RowError {
        self.error(format!("{} {what}: {}", self.label(column), echo(raw)))
    }

    pub fn error(&self, reason: String) -> RowError {
        RowError {
            line: self.line,
            reason,
        }
    }

    pub fn label(&self, column: usize) -> String {
        self.layout.specs[column].label()
    }

    fn decode(&self, pos: usize, column: usize) -> Result<&'a str, RowError> {
        let rec = self.rec;
        let range = rec.range(pos).unwrap_or_default();
        let s = match self.text.and_then(|t| t.get(range)) {
            Some(s) => s,
            None => std::str::from_utf8(rec.get(pos).unwrap_or_default())
                .map_err(|_| self.unreadable_text(column, "UTF-8"))?,
        };
        // U+FFFD cannot be written in CP932, so in a Shift_JIS file it marks a byte the decoder
        // could not read.
        if self.shift_jis && s.contains('\u{FFFD}') {
            return Err(self.unreadable_text(column, "Shift_JIS"));
        }
        Ok(s)
    }

    fn unreadable_text(&self, column: usize, encoding: &str) -> RowError {
        self.error(format!(
            "{} に{encoding}として読めない文字があります",
            self.label(column)
        ))
    }
}

/// A value quoted back to the user, with any My Number-like digit run masked (SPEC §6).
pub(crate) fn echo(raw: &str) -> String {
    format!("\"{}\"", mask_digits(raw))
}

fn column_holds_time(en: &str) -> bool {
    en.ends_with("_at")
}

fn is_blank(field: &[u8]) -> bool {
    for &b in field {
        match b {
            b' ' | b'\t' | b'\r' => {}
            b if b.is_ascii() => return false,
            // Rare: only a field starting with non-ASCII (a full-width space?) gets here.
            _ => return std::str::from_utf8(field).is_ok_and(|s| s.trim().is_empty()),
        }
    }
    true
}

/// `str::trim`, with a shortcut for the usual value that has nothing to trim.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if is_solid_ascii(a) && is_solid_ascii(z) => s,
        _ => s.trim(),
    }
}

/// Printable ASCII other than space: a byte no trim would remove.
fn is_solid_ascii(b: u8) -> bool {
    (0x21..0x7F).contains(&b)
}
