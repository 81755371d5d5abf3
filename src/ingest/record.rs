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

/// Room for the record being read: what `csv_core` makes of it (field bytes with quotes
/// resolved, and field ends), and the span of each field in whichever bytes hold the record.
pub(crate) struct RecordBuf {
    data: Vec<u8>,
    ends: Vec<usize>,
    spans: Vec<(usize, usize)>,
    /// The record was ended by the end of the file inside a quoted field (see [`Record`]).
    open_quote: bool,
}

impl Default for RecordBuf {
    fn default() -> Self {
        RecordBuf {
            data: vec![0; 1024],
            ends: vec![0; 32],
            spans: Vec::with_capacity(32),
            open_quote: false,
        }
    }
}

impl RecordBuf {
    /// After `csv_core` returned a record of `fields` fields.
    fn parsed(&mut self, fields: usize) {
        self.spans.clear();
        let mut start = 0;
        for &end in &self.ends[..fields] {
            self.spans.push((start, end));
            start = end;
        }
    }

    /// The record `csv_core` made.
    fn view(&self) -> Record<'_> {
        let end = self.spans.last().map_or(0, |s| s.1);
        Record {
            bytes: &self.data[..end],
            spans: &self.spans,
            open_quote: self.open_quote,
        }
    }

    /// A line without `"` taken as it is: its fields are what lies between the commas.
    fn split_plain<'a>(&'a mut self, line: &'a [u8]) -> Record<'a> {
        self.split_spans(line);
        Record {
            bytes: line,
            spans: &self.spans,
            open_quote: false,
        }
    }

    fn split_spans(&mut self, line: &[u8]) {
        self.spans.clear();
        let mut start = 0;
        for comma in memchr::memchr_iter(b',', line) {
            self.spans.push((start, comma));
            start = comma + 1;
        }
        self.spans.push((start, line.len()));
    }
}

/// One record: its fields are `bytes[span]` for each span.
#[derive(Clone, Copy)]
pub(crate) struct Record<'a> {
    bytes: &'a [u8],
    spans: &'a [(usize, usize)],
    /// A `"` opened a field that no `"` closed: the end of the file ended the record, and the
    /// last field holds everything from the quote on, the file's final line break included
    /// (every record ends with one, see `Decoded`).
    open_quote: bool,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    fn range(&self, i: usize) -> Option<Range<usize>> {
        self.spans.get(i).map(|&(a, b)| a..b)
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.range(i).map(|r| &self.bytes[r])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        self.spans.iter().map(move |&(a, b)| &bytes[a..b])
    }

    /// Line breaks inside the record's fields (quoted ones), the file's final line break
    /// swallowed by an open quote not counted.
    fn inner_line_breaks(&self) -> u64 {
        count(self.bytes, b'\n') - u64::from(self.open_quote)
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
            let (res, nin, nout, nend) =
                self.core
                    .read_record(rest, &mut rec.data[self.out..], &mut rec.ends[self.nend..]);
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
                    // Only a quoted field still open makes the end of the data end a record:
                    // any other record ends at its line break.
                    rec.open_quote =
                        rest.is_empty() && eof && rec.data[..self.out].ends_with(b"\n");
                    rec.parsed(std::mem::take(&mut self.nend));
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
    /// A record ended by an open quote consumed no line break of its own: the file's last one is
    /// inside its last field, and not counted as inner.
    fn record_line(&mut self, parser_line: u64, rec: Record<'_>) -> u64 {
        let moved = parser_line - std::mem::replace(&mut self.next_line, parser_line);
        let inner = if moved > 1 {
            rec.inner_line_breaks()
        } else {
            0
        };
        parser_line.saturating_sub(1 + inner)
    }
}

/// Reads records one at a time, and can hand the rest of the file over to be read in blocks.
pub(crate) struct Records<R> {
    pub layout: Layout,
    input: Input<R>,
    pub blank_lines: u64,
    fatal: Option<FileError>,
}

enum Input<R> {
    Stream(Box<Stream<R>>),
    Chunks(Box<ChunkSource<R>>),
    /// Only while moving from one to the other.
    Moving,
}

/// The streaming state: a 64 KiB buffer and the record being read.
struct Stream<R> {
    src: Decoded<R>,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    parser: Parser,
    rec: RecordBuf,
    /// The current record is this plain line of `buf` (see `parse_chunk`), not in `rec`.
    plain: Option<(usize, usize)>,
    /// The header has been read (it always goes through the parser, for its BOM handling).
    started: bool,
    /// A read error met by `top_up`, for the next read to return.
    pending: Option<io::Error>,
    lines: Lines,
}

const STREAM_BUF: usize = 64 * 1024;

impl<R: Read> Stream<R> {
    /// Fills the rest of the buffer (between records only), so that the first block of data
    /// is whole for `Records::rows_estimate` even when the first read was short (the decoder
    /// returns an ASCII prefix on its own).
    fn top_up(&mut self) {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        while !self.eof && self.pending.is_none() && self.filled < self.buf.len() {
            match self.src.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.pending = Some(e),
            }
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        self.pos = 0;
        self.filled = loop {
            match self.src.read(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        self.eof = self.filled == 0;
        Ok(())
    }

    /// The current record.
    fn view(&self) -> Record<'_> {
        match self.plain {
            Some((a, b)) => Record {
                bytes: &self.buf[a..b],
                spans: &self.rec.spans,
                open_quote: false,
            },
            None => self.rec.view(),
        }
    }

    /// One record into `self.rec` (or `self.plain`); `false` at the end of the data.
    fn read_record(&mut self) -> io::Result<bool> {
        self.plain = None;
        if std::mem::replace(&mut self.started, true) {
            // Between records: skip empty lines as the parser would, then take a plain line
            // that is whole in the buffer as it is (as `parse_chunk` does).
            loop {
                while self.buf[self.pos..self.filled].first() == Some(&b'\n') {
                    self.pos += 1;
                    self.parser.core.set_line(self.parser.line() + 1);
                }
                if self.pos < self.filled || self.eof {
                    break;
                }
                self.refill()?;
            }
            let rest = &self.buf[self.pos..self.filled];
            if let Some(n) = memchr::memchr2(b'\n', b'"', rest).filter(|&n| rest[n] == b'\n') {
                self.rec.split_spans(&rest[..n]);
                self.plain = Some((self.pos, self.pos + n));
                self.pos += n + 1;
                self.parser.core.set_line(self.parser.line() + 1);
                return Ok(true);
            }
        }
        loop {
            if self.pos == self.filled && !self.eof {
                self.refill()?;
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
}

impl<R: Read> Records<R> {
    pub fn open(src: R, specs: &'static [ColumnSpec]) -> Result<Self, FileError> {
        let mut stream = Box::new(Stream {
            src: Decoded::new(src)?,
            buf: vec![0; STREAM_BUF],
            pos: 0,
            filled: 0,
            eof: false,
            parser: Parser::new(1, false),
            rec: RecordBuf::default(),
            plain: None,
            started: false,
            pending: None,
            lines: Lines { next_line: 1 },
        });
        if !stream.read_record().map_err(FileError::Io)? {
            return Err(FileError::Empty);
        }
        let header = stream.rec.view();
        if header.len() <= 1 && header.iter().all(is_blank) {
            return Err(FileError::Empty);
        }
        let fields: Vec<&[u8]> = header.iter().collect();
        let layout = Layout {
            width: header.len(),
            named_width: fields
                .iter()
                .rposition(|f| !is_blank(f))
                .map_or(0, |i| i + 1),
            cols: map_header(&ByteRecord::from(fields), specs)?,
            specs,
        };
        stream.lines.next_line = stream.parser.line();
        stream.top_up();
        Ok(Records {
            layout,
            input: Input::Stream(stream),
            blank_lines: 0,
            fatal: None,
        })
    }

    /// Moves to the next record that has any value and returns its first physical line. `None`
    /// at the end, and also after a read error, which `finish` then reports.
    pub fn next_record(&mut self) -> Option<u64> {
        let Input::Stream(s) = &mut self.input else {
            return None;
        };
        if self.fatal.is_some() {
            return None;
        }
        loop {
            match s.read_record() {
                Ok(true) if s.view().iter().all(is_blank) => {
                    s.lines.next_line = s.parser.line();
                    self.blank_lines += 1;
                }
                Ok(true) => {
                    let line = s.parser.line();
                    let Stream {
                        lines,
                        rec,
                        buf,
                        plain,
                        ..
                    } = &mut **s;
                    let view = match *plain {
                        Some((a, b)) => Record {
                            bytes: &buf[a..b],
                            spans: &rec.spans,
                            open_quote: false,
                        },
                        None => rec.view(),
                    };
                    return Some(lines.record_line(line, view));
                }
                Ok(false) => return None,
                Err(e) => {
                    self.fatal = Some(FileError::Io(e));
                    return None;
                }
            }
        }
    }

    pub fn encoding(&self) -> SourceEncoding {
        match &self.input {
            Input::Stream(s) => s.src.encoding(),
            Input::Chunks(c) => c.src.encoding(),
            Input::Moving => SourceEncoding::Utf8,
        }
    }

    /// Ends the read: the first read error if there was one.
    pub fn finish(self) -> Result<(), FileError> {
        if let Some(e) = self.fatal {
            return Err(e);
        }
        match self.input {
            Input::Chunks(c) => c.fatal.map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }

    /// About how many records a file of `bytes` bytes has, from the line ends in the first
    /// block read; `None` when that block is too small to tell.
    pub fn rows_estimate(&self, bytes: u64) -> Option<usize> {
        let Input::Stream(s) = &self.input else {
            return None;
        };
        let seen = &s.buf[s.pos..s.filled];
        if seen.len() < 4096 {
            return None;
        }
        let per_byte = count(seen, b'\n') as f64 / seen.len() as f64;
        Some((bytes as f64 * per_byte * 1.05) as usize + 64)
    }

    /// The current record, for typed access to its fields. Only after [`Records::next_record`]
    /// returned `Some`.
    pub fn row(&self, line: u64) -> Row<'_> {
        match &self.input {
            Input::Stream(s) => Row::new(&self.layout, s.view(), line, s.src.encoding()),
            _ => unreachable!("row() is only called for a record next_record() returned"),
        }
    }

    /// The rest of the file in blocks of about `target` bytes; records read since are not
    /// returned by [`Records::next_record`]. Call between records.
    /// Also returns the blank-line count, for the caller to add the blocks' blank lines to.
    pub fn chunks(&mut self, target: usize) -> (&Layout, &mut ChunkSource<R>, &mut u64) {
        if let Input::Stream(_) = self.input {
            let Input::Stream(s) = std::mem::replace(&mut self.input, Input::Moving) else {
                unreachable!()
            };
            let mut carry = Bytes::with_capacity(target.max(s.filled - s.pos));
            // A read error already seen ends the file where it happened; one met ahead of
            // the records (by `top_up`) ends it after the bytes read before it.
            let stopped = self.fatal.is_some();
            let pending = s.pending.map(FileError::Io);
            if !stopped {
                carry.extend_from_slice(&s.buf[s.pos..s.filled]);
            }
            self.input = Input::Chunks(Box::new(ChunkSource {
                src: s.src,
                carry,
                line: s.parser.line(),
                eof: s.eof || stopped,
                fatal: pending,
                target,
                pool: Vec::new(),
                last_end: None,
            }));
        }
        match &mut self.input {
            Input::Chunks(c) => (&self.layout, c, &mut self.blank_lines),
            _ => unreachable!("just converted"),
        }
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

/// Bytes in a buffer kept initialised to its full size, so that reusing it needs no zeroing.
pub(crate) struct Bytes {
    buf: Vec<u8>,
    len: usize,
}

impl Bytes {
    fn with_capacity(n: usize) -> Self {
        Bytes {
            buf: vec![0; n],
            len: 0,
        }
    }

    pub fn from_vec(buf: Vec<u8>) -> Self {
        Bytes {
            len: buf.len(),
            buf,
        }
    }

    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            self.buf.resize(end.max(self.buf.len() * 2), 0);
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Room after the bytes, at least up to `size` bytes in all.
    fn spare(&mut self, size: usize) -> &mut [u8] {
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        &mut self.buf[self.len..]
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A block of whole records (if the boundary guess was right) with the line of its first byte.
pub(crate) struct Chunk {
    pub data: Bytes,
    pub first_line: u64,
    pub end: ChunkEnd,
    /// The file was known to be Shift_JIS when the block was read (see [`Row::new`]).
    pub encoding: SourceEncoding,
}

/// Cuts the decoded file into [`Chunk`]s of about `target` bytes.
pub(crate) struct ChunkSource<R> {
    src: Decoded<R>,
    /// Read but not handed out; starts at a record boundary (a guessed one, see `parse_chunk`).
    carry: Bytes,
    /// Line of `carry[0]`.
    line: u64,
    eof: bool,
    fatal: Option<FileError>,
    target: usize,
    /// Buffers of consumed chunks, reused to spare page faults and zeroing.
    pool: Vec<Bytes>,
    last_end: Option<ChunkEnd>,
}

impl<R: Read> ChunkSource<R> {
    pub fn recycle(&mut self, mut buf: Bytes) {
        if self.pool.len() < 8 && buf.buf.len() >= self.target {
            buf.len = 0;
            self.pool.push(buf);
        }
    }

    fn buffer(&mut self) -> Bytes {
        self.pool
            .pop()
            .unwrap_or_else(|| Bytes::with_capacity(self.target))
    }

    /// The next block, `None` at the end of the file or after a read error.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        let mut want = self.target;
        loop {
            while !self.eof && self.fatal.is_none() && self.carry.len() < want {
                match self.src.read(self.carry.spare(want)) {
                    Ok(0) => self.eof = true,
                    Ok(n) => self.carry.len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => self.fatal = Some(FileError::Io(e)),
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
                // After a guessed boundary, one empty block says how the file ended, for an
                // unfinished record the guess left (an unclosed quote runs to the end).
                if self.last_end != Some(ChunkEnd::Guess) {
                    return None;
                }
            }
            self.last_end = Some(end);
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

/// The number of `byte`s in `buf`, in a form the compiler vectorises (a byte counter per
/// 128-byte block cannot overflow).
fn count(buf: &[u8], byte: u8) -> u64 {
    let mut blocks = buf.chunks_exact(128);
    let mut total = 0u64;
    for block in &mut blocks {
        let mut n = 0u8;
        for &b in block {
            n += u8::from(b == byte);
        }
        total += u64::from(n);
    }
    total
        + blocks
            .remainder()
            .iter()
            .map(|&b| u64::from(b == byte))
            .sum::<u64>()
}

/// What [`parse_chunk`] found besides the records.
pub(crate) struct ChunkParse {
    pub blank_lines: u64,
    /// The block did not end at a record boundary: the byte offset and line where the unfinished
    /// record starts. Its records from there on must be read again with the next block.
    pub tail: Option<(usize, u64)>,
}

/// Splits a block into records and calls `each` with every record that has a value.
///
/// A line without `"` (nearly all) is split at its commas where it lies, which is what
/// `csv_core` would make of it; any other record goes through `csv_core`, which starts each
/// record in the same state (between records) either way.
pub(crate) fn parse_chunk(
    layout: &Layout,
    data: &[u8],
    first_line: u64,
    end: ChunkEnd,
    encoding: SourceEncoding,
    rec: &mut RecordBuf,
    mut each: impl FnMut(Row<'_>),
) -> ChunkParse {
    // Made at the first record that needs it (building its tables costs more than a line).
    let mut parser: Option<Parser> = None;
    let mut lines = Lines {
        next_line: first_line,
    };
    // The line of data[pos].
    let mut line = first_line;
    let mut blank_lines = 0;
    let mut pos = 0;
    loop {
        // Empty lines between records are skipped (as the parser does).
        while data.get(pos) == Some(&b'\n') {
            pos += 1;
            line += 1;
        }
        if pos == data.len() {
            return ChunkParse {
                blank_lines,
                tail: None,
            };
        }
        let record_start = pos;
        // The line ends before any `"`: a plain record.
        let plain = match memchr::memchr2(b'\n', b'"', &data[pos..]) {
            Some(n) if data[pos + n] == b'\n' => Some(&data[pos..pos + n]),
            _ => None,
        };
        let record = if let Some(l) = plain {
            pos += l.len() + 1;
            line += 1;
            rec.split_plain(l)
        } else {
            let parser = parser.get_or_insert_with(|| Parser::new(line, true));
            parser.core.set_line(line);
            let (mut step, used) = parser.feed(&data[pos..], false, rec);
            pos += used;
            if let Step::NeedInput = step {
                match end {
                    ChunkEnd::Guess => {
                        return ChunkParse {
                            blank_lines,
                            tail: Some((record_start, line)),
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
            line = parser.line();
            match step {
                Step::Record => rec.view(),
                Step::NeedInput | Step::End => {
                    return ChunkParse {
                        blank_lines,
                        tail: None,
                    }
                }
            }
        };
        if record.iter().all(is_blank) {
            lines.next_line = line;
            blank_lines += 1;
        } else {
            let record_line = lines.record_line(line, record);
            each(Row::new(layout, record, record_line, encoding));
        }
    }
}

/// A view of one record with its line number; every error it makes names its column.
pub(crate) struct Row<'a> {
    layout: &'a Layout,
    rec: Record<'a>,
    pub line: u64,
    text: Option<&'a str>,
    shift_jis: bool,
}

impl<'a> Row<'a> {
    /// `encoding` as known when the record was read: the decoder decides at the first
    /// non-ASCII byte, so it is final for every record that is not pure ASCII.
    fn new(layout: &'a Layout, rec: Record<'a>, line: u64, encoding: SourceEncoding) -> Self {
        let bytes = rec.bytes;
        let ascii = bytes.is_ascii();
        Row {
            layout,
            rec,
            line,
            // One validation of the whole record instead of one per field; a field is then
            // valid exactly when its ends are char boundaries (checked by `str::get`).
            text: std::str::from_utf8(bytes).ok(),
            shift_jis: !ascii && encoding == SourceEncoding::ShiftJis,
        }
    }

    /// Too few fields (a truncated line) or extra non-empty ones (an unquoted comma) would put
    /// values in the wrong columns. Trailing empty fields are harmless spreadsheet residue.
    /// A record over several lines is a quoted line break: only free-text columns may hold
    /// one; anywhere else it is a `"` left open until a later one (named with the lines).
    pub fn check_width(&self) -> Result<(), RowError> {
        let rec = &self.rec;
        if rec.open_quote {
            return Err(self.open_quote());
        }
        let width = self.layout.width;
        let n = rec.len();
        let several_lines = memchr::memchr(b'\n', rec.bytes).is_some();
        if n < self.layout.named_width || (n > width && !rec.iter().skip(width).all(is_blank)) {
            let mut reason =
                format!("列の数が見出しと合いません（見出し {width} 列、この行 {n} 列）");
            if several_lines {
                reason.push_str(&self.quote_hint());
            }
            return Err(self.error(reason));
        }
        if several_lines {
            for (column, spec) in self.layout.specs.iter().enumerate() {
                if MULTI_LINE_COLUMNS.contains(&spec.en) {
                    continue;
                }
                let broken = self.layout.cols.positions(column).iter().any(|&pos| {
                    rec.get(pos)
                        .is_some_and(|f| memchr::memchr(b'\n', f).is_some())
                });
                if broken {
                    return Err(self.error(format!(
                        "{} に改行があります{}",
                        self.label(column),
                        self.quote_hint()
                    )));
                }
            }
        }
        Ok(())
    }

    /// For a record read over several lines: which lines became one.
    fn quote_hint(&self) -> String {
        format!(
            "。{}〜{}行目が「\"」で囲まれた1つの行として読まれています: 引用符の閉じ忘れがないか確認してください",
            self.line,
            self.line + self.rec.inner_line_breaks()
        )
    }

    /// The end of the file came inside a quoted field: name the line of the quote, and the
    /// lines it swallowed (they are not read as rows).
    fn open_quote(&self) -> RowError {
        let rec = &self.rec;
        let last_start = rec.spans.last().map_or(0, |s| s.0);
        let quote_line = self.line + count(&rec.bytes[..last_start], b'\n');
        let end = self.line + rec.inner_line_breaks();
        let rest = if end > quote_line {
            format!(
                "ファイルの終わり（{end}行目）までが1つの値として読まれ、{}〜{end}行目は取り込まれていません",
                quote_line + 1
            )
        } else {
            "ファイルの終わりまでに閉じる「\"」がありません".to_string()
        };
        self.error(format!(
            "{quote_line}行目で開いた引用符「\"」が閉じられていません: {rest}。引用符を閉じるか取り除いてから取り込み直してください"
        ))
    }

    /// The trimmed value of logical column `column`, `""` when the file has no such column.
    /// Never echoes the value: it may be the My Number.
    #[inline]
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

    /// `value` of `column` is at most `max` characters (`domain::limits`).
    pub fn within(&self, column: usize, value: &str, max: usize) -> Result<(), RowError> {
        crate::domain::limits::check(&self.label(column), value, max).map_err(|m| self.error(m))
    }

    pub fn error(&self, reason: String) -> RowError {
        RowError {
            line: self.line,
            reason,
        }
    }

    /// The file has this column.
    pub fn has(&self, column: usize) -> bool {
        self.layout.cols.has(column)
    }

    pub fn label(&self, column: usize) -> String {
        self.layout.specs[column].label()
    }

    #[inline]
    fn decode(&self, pos: usize, column: usize) -> Result<&'a str, RowError> {
        let rec = &self.rec;
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

/// Free-text columns, where a quoted value may hold a line break (a cell with several lines).
const MULTI_LINE_COLUMNS: [&str; 3] = ["delay_cause", "error_message", "address"];

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
#[inline]
fn trim(s: &str) -> &str {
    if starts_solid(s.as_bytes()) && ends_solid(s.as_bytes()) {
        s
    } else {
        s.trim()
    }
}

/// The first character is surely not white space (a conservative test: `false` only means
/// "ask `str::trim`"). Unicode white space beyond ASCII is U+0085, U+00A0 (C2 xx), U+1680
/// (E1 xx), U+2000..U+205F (E2 xx) and U+3000 (E3 80 80): any other lead byte is safe, and so
/// is E3 followed by anything but 80 (kana and CJK punctuation from U+3040 on).
#[inline]
fn starts_solid(b: &[u8]) -> bool {
    match b {
        [a, ..] if (0x21..0x7F).contains(a) => true,
        [0xC3..=0xDF | 0xE4..=0xEF | 0xF0..=0xF4, ..] => true,
        [0xE3, x, ..] => *x != 0x80,
        _ => false,
    }
}

/// The last character is surely not white space (conservative, like [`starts_solid`]); `b` is
/// valid UTF-8, so a continuation byte at the end belongs to a 2- to 4-byte character.
#[inline]
fn ends_solid(b: &[u8]) -> bool {
    match b {
        [.., z] if (0x21..0x7F).contains(z) => true,
        [.., 0xC3..=0xDF, 0x80..=0xBF] => true,
        [.., 0xE4..=0xEF, 0x80..=0xBF, 0x80..=0xBF] => true,
        [.., 0xE3, x, y @ 0x80..=0xBF] => *x != 0x80 || *y != 0x80,
        [.., 0xF0..=0xF4, _, _, _] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trim_shortcut_agrees_with_str_trim() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "山田",
            "　山田",
            "山田　",
            "山田\u{3000}",
            "、山田。",
            "\u{00A0}x",
            "x\u{00A0}",
            "\u{0085}x",
            "\u{2003}x",
            "x\u{2003}",
            "\u{1680}x",
            "x\u{205F}",
            "é",
            "x\u{feff}",
            "\u{feff}x",
            "😀",
            " 😀 ",
            "\tx",
            "x\r",
            "ｱ",
            "ｱ ",
            "「x」",
            "x\u{3001}",
            "\u{3000}",
        ];
        for s in cases {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
        for c in (0..0x11000u32).filter_map(char::from_u32) {
            for s in [format!("{c}x"), format!("x{c}"), c.to_string()] {
                assert_eq!(trim(&s), s.trim(), "{s:?}");
            }
        }
    }

    #[test]
    fn counting_bytes() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { b'a' })
            .collect();
        for end in [0, 1, 127, 128, 129, 1000] {
            let expected = data[..end].iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count(&data[..end], b'\n'), expected);
        }
    }
}
