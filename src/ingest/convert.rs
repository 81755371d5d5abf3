//! The insurer's files as they are (SPEC §3.1) → the regwatch-format CSV the readers take.
//!
//! Excel workbooks, tab-separated text, files read through an import profile and employers'
//! e-Gov files are converted on a thread of their own into UTF-8 CSV with regwatch's headers,
//! streamed through a small channel into the same readers as a regwatch file, so that one set
//! of row rules, line numbers and error messages serves every input. A converted row keeps its
//! sheet row (or physical line) as its line number: rows above the header and blank rows come
//! out as empty lines, which the readers count but skip. A problem only the conversion can see
//! (a value the profile does not map) goes into the internal `regwatch_reject` column, and the
//! reader rejects that row with it.
//!
//! A regwatch-format CSV without a profile is not converted: it goes to the readers as it is.
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use calamine::{DataType, Reader};
use chrono::NaiveDate;

use super::egov;
use super::encoding::Decoded;
use super::error::FileError;
use super::headers::{canonical, ColumnSpec, REJECT_COLUMN};
use super::profile::{understood, FileProfile, Part, ValueMap};
use super::text::mask_digits;

/// How a file is converted.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceOptions<'a> {
    /// The profile's part for this file, if any.
    pub profile: Option<&'a FileProfile>,
    /// e-Gov files: the day the insurer received the file.
    pub received_on: Option<NaiveDate>,
}

/// What a file turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Xlsx,
    /// .xls, .xlsb, .ods: read whole (calamine streams only .xlsx).
    Workbook,
    Egov,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Tsv => "タブ区切りテキスト",
            Format::Xlsx => "Excel (.xlsx)",
            Format::Workbook => "Excel (.xls)",
            Format::Egov => "e-Gov 電子申請ファイル",
        }
    }
}

/// A source the converter can rewind (it looks at the start of the file first).
pub trait Source: Read + Seek + Send + 'static {}
impl<T: Read + Seek + Send + 'static> Source for T {}

/// A readable regwatch-format stream, and what the file was.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub format: Format,
}

const SNIFF: usize = 64 * 1024;

/// Opens the file at `path` as a regwatch-format stream (see the module comment).
pub fn open_path(path: &Path, part: Part, opts: SourceOptions<'_>) -> Result<Opened, FileError> {
    let file = std::fs::File::open(path).map_err(|source| FileError::Open {
        path: path.display().to_string(),
        source,
    })?;
    open(file, part, opts)
}

/// Opens `src` as a regwatch-format stream (see the module comment). A source that cannot seek
/// (a pipe) is read on from the bytes already looked at; a workbook from a pipe is read whole.
pub fn open(
    mut src: impl Source,
    part: Part,
    opts: SourceOptions<'_>,
) -> Result<Opened, FileError> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut src).take(SNIFF as u64).read_to_end(&mut head)?;
    let format = sniff(&head, opts.profile)?;
    let src = match src.seek(SeekFrom::Start(0)) {
        Ok(_) => Rewound::Seeked(src),
        Err(_) => Rewound::Chained(Cursor::new(head).chain(src)),
    };
    let reader: Box<dyn Read + Send> = match format {
        Format::Csv if opts.profile.is_none() => Box::new(src),
        Format::Csv | Format::Tsv => {
            let profile = opts.profile.cloned().unwrap_or_default();
            let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
            spawn(move |out| convert_text(src, delimiter, part, &profile, out))?
        }
        Format::Xlsx | Format::Workbook => {
            let profile = opts.profile.cloned().unwrap_or_default();
            let src = src.seekable()?;
            spawn(move |out| convert_workbook(src, format, part, &profile, out))?
        }
        Format::Egov => {
            if part != Part::Notices {
                return Err(FileError::Egov(
                    "e-Gov の届書ファイルは届書として取り込んでください".into(),
                ));
            }
            let mut bytes = Vec::new();
            let mut src = src;
            src.read_to_end(&mut bytes)?;
            Box::new(Cursor::new(egov::convert(&bytes, opts.received_on)?))
        }
    };
    Ok(Opened { reader, format })
}

/// A source back at its start: rewound, or (a pipe) the bytes looked at chained to the rest.
enum Rewound<S> {
    Seeked(S),
    Chained(io::Chain<Cursor<Vec<u8>>, S>),
}

impl<S: Read> Read for Rewound<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Rewound::Seeked(s) => s.read(buf),
            Rewound::Chained(c) => c.read(buf),
        }
    }
}

impl<S: Read + Seek> Rewound<S> {
    /// What a workbook reader needs: the file itself, or a pipe's bytes in memory.
    fn seekable(self) -> io::Result<Seekable<S>> {
        match self {
            Rewound::Seeked(s) => Ok(Seekable::File(s)),
            Rewound::Chained(mut c) => {
                let mut bytes = Vec::new();
                c.read_to_end(&mut bytes)?;
                Ok(Seekable::Memory(Cursor::new(bytes)))
            }
        }
    }
}

enum Seekable<S> {
    File(S),
    Memory(Cursor<Vec<u8>>),
}

impl<S: Read> Read for Seekable<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Seekable::File(s) => s.read(buf),
            Seekable::Memory(m) => m.read(buf),
        }
    }
}

impl<S: Seek> Seek for Seekable<S> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Seekable::File(s) => s.seek(pos),
            Seekable::Memory(m) => m.seek(pos),
        }
    }
}

/// Tells the kind of file from its first bytes; refuses encodings that are not read.
fn sniff(head: &[u8], profile: Option<&FileProfile>) -> Result<Format, FileError> {
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Ok(Format::Workbook);
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") || looks_like_utf16(head) {
        return Err(FileError::UnsupportedEncoding("UTF-16"));
    }
    if head.contains(&0) {
        return Err(FileError::Binary);
    }
    if looks_like_euc_jp(head) {
        return Err(FileError::UnsupportedEncoding("EUC-JP"));
    }
    if egov::looks_like_egov(head) {
        return Ok(Format::Egov);
    }
    // The header line decides the delimiter: the profile's header row, else the first line
    // with anything on it.
    let skip = profile.map_or(0, |p| p.header_row.saturating_sub(1) as usize);
    let header = head
        .split(|&b| b == b'\n')
        .skip(skip)
        .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or(&[]);
    if header.contains(&b'\t') && !header.contains(&b',') {
        return Ok(Format::Tsv);
    }
    Ok(Format::Csv)
}

/// UTF-16 without a byte-order mark: NUL bytes, nearly all on one side of the 2-byte units
/// (the high byte of the commas, digits and line ends every CSV has), where a binary has them
/// anywhere. Nearly: a character U+xx00 has its NUL on the other side, and Japanese text has
/// them (U+3000 全角スペース, U+4E00 一).
fn looks_like_utf16(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096) & !1];
    let nul_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let nul_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    let units = sample.len() / 2;
    let (many, few) = (nul_even.max(nul_odd), nul_even.min(nul_odd));
    many > 0 && many * 10 >= units && few * 4 <= many
}

/// EUC-JP: not UTF-8, every non-ASCII byte in EUC pairs, and bytes that Shift_JIS text with
/// kanji always has (lead bytes 0x81–0x9F) absent. Half-width katakana only Shift_JIS text
/// (A1–DF single bytes) is told apart by the EUC kanji/kana lead bytes it never has at the
/// start of a pair (A1–A5, E0–FE).
fn looks_like_euc_jp(head: &[u8]) -> bool {
    if head.is_ascii() {
        return false;
    }
    let valid_utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sample.
        Err(e) => e.error_len().is_none(),
    };
    if valid_utf8 {
        return false;
    }
    let mut i = 0;
    let mut euc_lead = false;
    while i < head.len() {
        let b = head[i];
        match b {
            0x00..=0x7F => i += 1,
            0x8E => {
                // SS2: half-width katakana.
                match head.get(i + 1) {
                    Some(0xA1..=0xDF) => i += 2,
                    None => break,
                    _ => return false,
                }
            }
            0x8F => match (head.get(i + 1), head.get(i + 2)) {
                (Some(0xA1..=0xFE), Some(0xA1..=0xFE)) => i += 3,
                (_, None) => break,
                _ => return false,
            },
            0xA1..=0xFE => match head.get(i + 1) {
                Some(0xA1..=0xFE) => {
                    euc_lead |= matches!(b, 0xA1..=0xA5 | 0xE0..=0xFE) || b >= 0xB0;
                    i += 2;
                }
                None => break,
                _ => return false,
            },
            _ => return false,
        }
    }
    euc_lead
}

/// Messages from the conversion thread: the first says whether the header could be used.
enum Msg {
    Header(Result<(), FileError>),
    Data(Vec<u8>),
    Failed(String),
}

/// Runs `work` on a thread and waits for its verdict on the header, so that file-level errors
/// (a missing sheet, a profile header the file lacks) surface at open like a CSV's.
fn spawn(
    work: impl FnOnce(&mut Out) -> Result<(), FileError> + Send + 'static,
) -> Result<Box<dyn Read + Send>, FileError> {
    let (tx, rx) = sync_channel::<Msg>(4);
    std::thread::Builder::new()
        .name("regwatch-convert".into())
        .spawn(move || {
            let mut out = Out::new(tx);
            let result = work(&mut out);
            match result {
                Ok(()) => {
                    out.flush();
                    out.header_done(Ok(()));
                }
                // The reader is gone: nobody to tell.
                Err(_) if out.gone => {}
                Err(e) => {
                    if out.header_sent {
                        out.send(Msg::Failed(e.to_string()));
                    } else {
                        out.header_done(Err(e));
                    }
                }
            }
        })?;
    match rx.recv() {
        Ok(Msg::Header(Ok(()))) => Ok(Box::new(ChannelReader {
            rx,
            buf: Cursor::new(Vec::new()),
        })),
        Ok(Msg::Header(Err(e))) => Err(e),
        _ => Err(FileError::Io(io::Error::other(
            "変換処理が途中で止まりました",
        ))),
    }
}

/// The consumer's end of the conversion.
struct ChannelReader {
    rx: Receiver<Msg>,
    buf: Cursor<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.buf.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(Msg::Data(d)) => self.buf = Cursor::new(d),
                Ok(Msg::Failed(e)) => return Err(io::Error::other(e)),
                Ok(Msg::Header(_)) | Err(_) => return Ok(0),
            }
        }
    }
}

/// The producer's end: regwatch-format CSV text, one output line per input line or row.
pub(crate) struct Out {
    tx: SyncSender<Msg>,
    buf: Vec<u8>,
    /// The line the next output line will be.
    line: u64,
    header_sent: bool,
    /// The reader has dropped its end.
    gone: bool,
}

const OUT_BLOCK: usize = 256 * 1024;

impl Out {
    fn new(tx: SyncSender<Msg>) -> Self {
        Out {
            tx,
            buf: Vec::with_capacity(OUT_BLOCK),
            line: 1,
            header_sent: false,
            gone: false,
        }
    }

    fn send(&mut self, msg: Msg) -> bool {
        let sent = self.tx.send(msg).is_ok();
        self.gone |= !sent;
        sent
    }

    fn header_done(&mut self, r: Result<(), FileError>) {
        if !std::mem::replace(&mut self.header_sent, true) {
            self.send(Msg::Header(r));
        }
    }

    /// Empty lines up to `line`, so that the next record is that line.
    fn skip_to(&mut self, line: u64) {
        while self.line < line {
            self.buf.push(b'\n');
            self.line += 1;
        }
    }

    /// Writes one record on one line. Fails when the reader has gone (nothing more is wanted).
    fn record<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), FileError> {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            push_field(&mut self.buf, f.as_ref());
        }
        self.buf.push(b'\n');
        self.line += 1;
        if self.buf.len() >= OUT_BLOCK && !self.flush() {
            // The reader stopped (a preview's first rows, or an error): convert no further.
            return Err(FileError::Io(io::Error::other("読み取りが中断されました")));
        }
        Ok(())
    }

    /// Sends what is buffered; false when the reader has gone.
    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(OUT_BLOCK));
        if !self.header_sent {
            self.header_done(Ok(()));
        }
        self.send(Msg::Data(block))
    }
}

/// A CSV field on one line: line breaks inside a cell become spaces (so that every record is
/// one line and line numbers stay those of the file), quoted when needed.
fn push_field(buf: &mut Vec<u8>, v: &str) {
    let needs_quotes = v.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        buf.extend_from_slice(v.as_bytes());
        return;
    }
    buf.push(b'"');
    for c in v.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\"\""),
            '\n' | '\r' => buf.push(b' '),
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

/// The header row read through the profile: what each column of the file becomes.
pub(crate) struct HeaderPlan {
    /// The output header: regwatch names for mapped columns, the file's own text otherwise,
    /// empty for columns a mapping replaces; then the reject column.
    pub out_header: Vec<String>,
    /// For columns whose values the profile maps: the field, the file's header text and the map.
    value_fields: Vec<Option<(&'static str, String, ValueMap)>>,
    /// The columns of date fields (see [`HeaderPlan::serial_dates`]).
    date_cols: Vec<usize>,
    /// Columns in the header (up to the last named one).
    pub width: usize,
}

impl HeaderPlan {
    /// Reads `cells` (the header row at `row`) through `profile`. A mapped header that the row
    /// lacks is an error naming it and the headers found.
    pub fn new(
        part: Part,
        profile: &FileProfile,
        cells: &[String],
        row: u32,
    ) -> Result<HeaderPlan, FileError> {
        let specs = part.specs();
        let spec_of = |name: &str| -> Option<&'static ColumnSpec> {
            let c = canonical(name);
            specs.iter().find(|s| {
                std::iter::once(s.ja)
                    .chain(std::iter::once(s.en))
                    .chain(s.aliases.iter().copied())
                    .any(|n| canonical(n) == c)
            })
        };
        let width = cells
            .iter()
            .rposition(|c| !c.trim().is_empty())
            .map_or(0, |i| i + 1);
        if width == 0 {
            return Err(FileError::Profile(format!(
                "見出し行（{row}行目）が空です。取込プロファイルの見出し行を確認してください"
            )));
        }
        let cells = &cells[..width];
        let mut out: Vec<String> = cells.to_vec();
        let mut mapped = vec![false; width];
        for (field, header) in &profile.columns {
            let want = canonical(header);
            let found: Vec<usize> = (0..width)
                .filter(|&i| canonical(&cells[i]) == want)
                .collect();
            if found.is_empty() {
                let shown: Vec<&str> = cells
                    .iter()
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty())
                    .collect();
                return Err(FileError::Profile(format!(
                    "取込プロファイルで {field} に指定した列「{header}」が見出し行（{row}行目）にありません（見出し: {}）",
                    shown.join(", ")
                )));
            }
            for i in found {
                out[i] = field.clone();
                mapped[i] = true;
            }
        }
        // A column the file names like a field the profile maps elsewhere would compete with
        // the mapped one; the internal column cannot come from a file.
        for i in 0..width {
            if mapped[i] {
                continue;
            }
            let competing = spec_of(&cells[i])
                .is_some_and(|s| s.en == REJECT_COLUMN || profile.columns.contains_key(s.en));
            if competing {
                out[i] = String::new();
            }
        }
        let value_fields = out
            .iter()
            .zip(cells)
            .map(|(name, original)| {
                let spec = spec_of(name)?;
                let map = profile.value_map(spec.en)?;
                Some((spec.en, original.trim().to_string(), map))
            })
            .collect();
        let date_cols = out
            .iter()
            .enumerate()
            .filter(|(_, name)| {
                spec_of(name)
                    .is_some_and(|s| matches!(s.en, "event_date" | "received_on" | "registered_at"))
            })
            .map(|(i, _)| i)
            .collect();
        out.push(REJECT_COLUMN.to_string());
        Ok(HeaderPlan {
            out_header: out,
            value_fields,
            date_cols,
            width,
        })
    }

    /// Workbooks: a number in a date column is an Excel date serial. calamine 0.31 reads a date
    /// cell as a plain number when its number format has quoted text (`yyyy"年"m"月"d"日"`, the
    /// 和暦 `ggge"年"m"月"d"日"`: it does not unescape the `&quot;` of styles.xml, whose `;` then
    /// ends the format), and some systems write dates as serials without a date format. Only
    /// serials of 1900–2100 are taken, so that a compact date typed as a number (`20240426`)
    /// stays what it is.
    fn serial_dates(&self, cells: &mut [String]) {
        for &i in &self.date_cols {
            let Some(v) = cells.get_mut(i) else { continue };
            let t = v.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                continue;
            }
            let Ok(serial) = t.parse::<f64>() else {
                continue;
            };
            if !(1.0..73_416.0).contains(&serial) {
                continue;
            }
            let dt =
                calamine::ExcelDateTime::new(serial, calamine::ExcelDateTimeType::DateTime, false);
            if let Some(at) = dt.as_datetime() {
                *v = if at.time() == chrono::NaiveTime::MIN {
                    at.date().format("%Y-%m-%d").to_string()
                } else {
                    at.format("%Y-%m-%dT%H:%M:%S").to_string()
                };
            }
        }
    }

    /// One data row: values mapped, the reject column filled when a value is not mapped.
    /// `strict_width`: a text file's row with values beyond the header is a broken line.
    pub fn row(&self, cells: &mut Vec<String>, strict_width: bool) -> Vec<String> {
        let mut reject = String::new();
        if strict_width
            && cells.len() > self.width
            && cells[self.width..].iter().any(|c| !c.trim().is_empty())
        {
            reject = format!(
                "列の数が見出しと合いません（見出し {} 列、この行 {} 列）",
                self.width,
                cells.len()
            );
        }
        cells.resize(self.width, String::new());
        for (i, vf) in self.value_fields.iter().enumerate() {
            let Some((field, header, map)) = vf else {
                continue;
            };
            let v = cells[i].trim();
            if v.is_empty() {
                continue;
            }
            if let Some(to) = map.get(v) {
                cells[i] = to.to_string();
            } else if !understood(field, v) && reject.is_empty() {
                reject = format!(
                    "{header} の値「{}」は取込プロファイルの値の対応（{field}）にありません",
                    mask_digits(v)
                );
            }
        }
        let mut row = std::mem::take(cells);
        row.push(reject);
        row
    }
}

/// Each record of delimited text with the line it starts on, until `each` returns false.
fn text_rows(
    src: impl Read,
    delimiter: u8,
    mut each: impl FnMut(u64, &mut Vec<String>) -> Result<bool, FileError>,
) -> Result<(), FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Decoded::new(src)?);
    let mut rec = csv::ByteRecord::new();
    let mut cells: Vec<String> = Vec::new();
    while reader
        .read_byte_record(&mut rec)
        .map_err(|e| FileError::Io(io::Error::other(e.to_string())))?
    {
        // The reader's line is one past the record's last line (the decoder ends every record
        // with one `\n`); count back over line breaks inside quoted fields to its first.
        let inner: u64 = rec
            .iter()
            .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum();
        let line = reader.position().line().saturating_sub(1 + inner);
        cells.clear();
        cells.extend(rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()));
        if !each(line, &mut cells)? {
            break;
        }
    }
    Ok(())
}

/// CSV or tab-separated text through a profile.
fn convert_text(
    src: impl Read,
    delimiter: u8,
    part: Part,
    profile: &FileProfile,
    out: &mut Out,
) -> Result<(), FileError> {
    let mut rows = Rows {
        part,
        profile,
        plan: None,
        workbook: false,
    };
    text_rows(src, delimiter, |line, cells| {
        rows.row(line, cells, out)?;
        Ok(true)
    })?;
    rows.finish()
}

/// The text of a cell as regwatch reads it: date cells as ISO dates (or date-times), numbers
/// without a trailing `.0`, text as it is (和暦 and full-width digits are the readers' job).
pub(crate) fn cell_text<T: DataType>(v: &T) -> String {
    if v.is_empty() {
        return String::new();
    }
    if let Some(s) = v.get_string() {
        return s.to_string();
    }
    if let Some(dt) = v.get_datetime() {
        if dt.is_datetime() {
            if let Some(t) = dt.as_datetime() {
                return if t.time() == chrono::NaiveTime::MIN {
                    t.date().format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%dT%H:%M:%S").to_string()
                };
            }
        }
        return dt.as_f64().to_string();
    }
    if let Some(s) = v.get_datetime_iso() {
        return s.to_string();
    }
    if let Some(i) = v.get_int() {
        return i.to_string();
    }
    if let Some(f) = v.get_float() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            return format!("{}", f as i64);
        }
        return f.to_string();
    }
    if let Some(b) = v.get_bool() {
        return if b { "TRUE" } else { "FALSE" }.to_string();
    }
    if let Some(e) = v.get_error() {
        return format!("#{e:?}");
    }
    v.as_string().unwrap_or_default()
}

fn excel_error(e: impl std::fmt::Display) -> FileError {
    FileError::Excel(format!("Excel ファイルを読み込めません: {e}"))
}

/// A workbook of any format calamine reads, from memory (it needs a source it can clone).
fn whole_workbook(mut src: impl Read) -> Result<calamine::Sheets<Cursor<Vec<u8>>>, FileError> {
    let mut bytes = Vec::new();
    src.read_to_end(&mut bytes)?;
    calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(excel_error)
}

/// The sheet the profile names, else the first; a missing one is named with those there are.
fn pick_sheet(names: &[String], profile: &FileProfile) -> Result<String, FileError> {
    match &profile.sheet {
        Some(want) => names
            .iter()
            .find(|n| n.trim() == want.trim())
            .cloned()
            .ok_or_else(|| {
                FileError::Profile(format!(
                    "シート「{want}」がありません（シート: {}）",
                    names.join(", ")
                ))
            }),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| FileError::Excel("シートがありません".into())),
    }
}

/// Feeds one row at a time (its 1-based sheet row or line) to the header plan and out.
struct Rows<'a> {
    part: Part,
    profile: &'a FileProfile,
    plan: Option<HeaderPlan>,
    /// Rows of a workbook: cells beyond the header are stray notes, date columns may hold
    /// serial numbers; a text line with values beyond the header is broken.
    workbook: bool,
}

impl Rows<'_> {
    fn row(&mut self, line: u64, cells: &mut Vec<String>, out: &mut Out) -> Result<(), FileError> {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        let header_row = u64::from(self.profile.header_row);
        match &self.plan {
            None if line < header_row => Ok(()),
            None => {
                if line != header_row {
                    return Err(FileError::Profile(format!(
                        "見出し行（{header_row}行目）が空です。取込プロファイルの見出し行を確認してください"
                    )));
                }
                let p = HeaderPlan::new(self.part, self.profile, cells, self.profile.header_row)?;
                out.skip_to(line);
                out.record(&p.out_header)?;
                self.plan = Some(p);
                Ok(())
            }
            Some(p) => {
                out.skip_to(line);
                if self.workbook {
                    p.serial_dates(cells);
                }
                let r = p.row(cells, !self.workbook);
                out.record(&r)
            }
        }
    }

    fn finish(self) -> Result<(), FileError> {
        if self.plan.is_some() {
            return Ok(());
        }
        Err(if self.profile.header_row > 1 || self.workbook {
            FileError::Profile(format!(
                "見出し行（{}行目）がありません。取込プロファイルの見出し行{}を確認してください",
                self.profile.header_row,
                if self.workbook { "とシート" } else { "" }
            ))
        } else {
            FileError::Empty
        })
    }
}

/// Each row of a workbook's sheet (the profile's, else the first) with its 1-based sheet row,
/// until `each` returns false: an .xlsx streamed cell by cell, other formats read whole. Returns
/// the workbook's sheet names and the sheet read.
fn workbook_rows<R: Read + Seek>(
    src: R,
    format: Format,
    profile: &FileProfile,
    mut each: impl FnMut(u32, &mut Vec<String>) -> Result<bool, FileError>,
) -> Result<(Vec<String>, String), FileError> {
    let mut cells: Vec<String> = Vec::new();
    if format == Format::Xlsx {
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(BufReader::new(src)).map_err(excel_error)?;
        let sheets = wb.sheet_names();
        let sheet = pick_sheet(&sheets, profile)?;
        let mut reader = wb.worksheet_cells_reader(&sheet).map_err(excel_error)?;
        let mut current: Option<u32> = None;
        while let Some(cell) = reader.next_cell().map_err(excel_error)? {
            let (r, c) = cell.get_position();
            if current != Some(r) {
                if let Some(prev) = current {
                    if !each(prev + 1, &mut cells)? {
                        return Ok((sheets, sheet));
                    }
                }
                cells.clear();
                current = Some(r);
            }
            let c = c as usize;
            if cells.len() <= c {
                cells.resize(c + 1, String::new());
            }
            cells[c] = cell_text(cell.get_value());
        }
        if let Some(prev) = current {
            each(prev + 1, &mut cells)?;
        }
        Ok((sheets, sheet))
    } else {
        let mut wb = whole_workbook(src)?;
        let sheets = wb.sheet_names();
        let sheet = pick_sheet(&sheets, profile)?;
        let range = wb.worksheet_range(&sheet).map_err(excel_error)?;
        let (top, left) = range.start().unwrap_or((0, 0));
        for (i, r) in range.rows().enumerate() {
            cells.clear();
            cells.resize(left as usize, String::new());
            cells.extend(r.iter().map(cell_text));
            if !each(top + i as u32 + 1, &mut cells)? {
                break;
            }
        }
        Ok((sheets, sheet))
    }
}

/// A workbook through a profile (or its own regwatch headers).
fn convert_workbook<R: Read + Seek>(
    src: R,
    format: Format,
    part: Part,
    profile: &FileProfile,
    out: &mut Out,
) -> Result<(), FileError> {
    let mut rows = Rows {
        part,
        profile,
        plan: None,
        workbook: true,
    };
    workbook_rows(src, format, profile, |row, cells| {
        rows.row(u64::from(row), cells, out)?;
        Ok(true)
    })?;
    rows.finish()
}

/// The first rows of a file as the profile editor shows them: the sheet names (workbooks),
/// and up to `limit` rows of cells from the top, whatever the header row.
pub struct Sample {
    pub format: Format,
    pub sheets: Vec<String>,
    pub sheet: Option<String>,
    /// (row or line number, cells).
    pub rows: Vec<(u32, Vec<String>)>,
}

/// Reads the top of a file for the profile editor.
pub fn sample(
    mut src: impl Source,
    profile: &FileProfile,
    limit: usize,
) -> Result<Sample, FileError> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut src).take(SNIFF as u64).read_to_end(&mut head)?;
    src.seek(SeekFrom::Start(0))?;
    let format = sniff(&head, Some(profile))?;
    let mut rows: Vec<(u32, Vec<String>)> = Vec::new();
    let mut take = |line: u32, cells: &mut Vec<String>| {
        rows.push((line, std::mem::take(cells)));
        Ok(rows.len() < limit)
    };
    let (sheets, sheet) = match format {
        Format::Xlsx | Format::Workbook => {
            let (sheets, sheet) = workbook_rows(src, format, profile, &mut take)?;
            (sheets, Some(sheet))
        }
        Format::Egov => {
            return Err(FileError::Egov(
                "e-Gov ファイルは取込プロファイルなしで取り込めます".into(),
            ))
        }
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
            text_rows(src, delimiter, |line, cells| take(line as u32, cells))?;
            (Vec::new(), None)
        }
    };
    Ok(Sample {
        format,
        sheets,
        sheet,
        rows,
    })
}

/// One row of a file as regwatch will read it, for the profile editor.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PreviewRow {
    pub line: u64,
    /// The values in the order of [`Preview::columns`]; empty for a rejected row.
    pub values: Vec<String>,
    /// Why the row would be rejected.
    pub error: Option<String>,
}

/// The first rows of a file read through a profile: what an import would take from each.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Preview {
    pub columns: Vec<&'static str>,
    pub rows: Vec<PreviewRow>,
}

/// Reads up to `limit` data rows of `src` through `profile` with the import's own readers.
pub fn preview(
    src: impl Source,
    part: Part,
    profile: &FileProfile,
    as_of: NaiveDate,
    received_on: NaiveDate,
    limit: usize,
) -> Result<Preview, FileError> {
    use super::{NoticeReadOptions, NoticeReader, RegistrationReader};
    let opened = open(
        src,
        part,
        SourceOptions {
            profile: Some(profile),
            received_on: Some(received_on),
        },
    )?;
    let rejected = |e: super::RowError| PreviewRow {
        line: e.line,
        values: Vec::new(),
        error: Some(e.reason),
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match part {
        Part::Notices => {
            let reader = NoticeReader::new(opened.reader, NoticeReadOptions { as_of })?;
            let rows = reader
                .take(limit)
                .map(|r| match r {
                    Ok(n) => PreviewRow {
                        line: n.line,
                        values: vec![
                            n.notice_id.as_str().to_string(),
                            n.kind.label_ja().to_string(),
                            n.employer_code.clone(),
                            opt(&n.employer_name),
                            super::member_label(
                                &n.member_symbol,
                                &n.member_number,
                                n.dependent_seq.as_deref().unwrap_or(""),
                            ),
                            opt(&n.name),
                            n.event_date.to_string(),
                            n.received_on.to_string(),
                            n.my_number.label_ja().to_string(),
                        ],
                        error: None,
                    },
                    Err(e) => rejected(e),
                })
                .collect();
            Ok(Preview {
                columns: vec![
                    "受付番号",
                    "届書種別",
                    "事業所記号",
                    "事業所名称",
                    "加入者",
                    "氏名",
                    "事実発生日",
                    "受付日",
                    "個人番号",
                ],
                rows,
            })
        }
        Part::Registrations => {
            let reader = RegistrationReader::new(opened.reader)?;
            let rows = reader
                .take(limit)
                .map(|r| match r {
                    Ok(g) => PreviewRow {
                        line: g.line,
                        values: vec![
                            g.notice_id
                                .as_ref()
                                .map(|id| id.as_str().to_string())
                                .unwrap_or_default(),
                            g.member.as_ref().map(|m| m.label()).unwrap_or_default(),
                            match g.result {
                                super::RegResult::Ok => "正常".to_string(),
                                super::RegResult::Error => "エラー".to_string(),
                            },
                            g.registered_at
                                .map(|at| {
                                    (at.utc + chrono::Duration::hours(9))
                                        .format("%Y-%m-%d %H:%M")
                                        .to_string()
                                })
                                .unwrap_or_default(),
                            opt(&g.error_code),
                            opt(&g.error_message),
                        ],
                        error: None,
                    },
                    Err(e) => rejected(e),
                })
                .collect();
            Ok(Preview {
                columns: vec![
                    "受付番号",
                    "加入者（受付番号のない行）",
                    "処理結果",
                    "登録完了日時（日本時間）",
                    "エラーコード",
                    "エラー内容",
                ],
                rows,
            })
        }
    }
}

/// Writes the converted regwatch-format CSV of `src` into `out` (tests and the preview).
#[cfg(test)]
pub(crate) fn convert_to_string(
    src: impl Source,
    part: Part,
    opts: SourceOptions<'_>,
) -> Result<String, FileError> {
    let mut s = String::new();
    open(src, part, opts)?.reader.read_to_string(&mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::profile::Profile;

    fn cur(s: &str) -> Cursor<Vec<u8>> {
        Cursor::new(s.as_bytes().to_vec())
    }

    #[test]
    fn a_regwatch_csv_without_profile_passes_unchanged() {
        let text = "受付番号,届書種別\nA1,資格取得\n";
        let out = convert_to_string(cur(text), Part::Notices, SourceOptions::default()).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn title_rows_headers_and_codes_through_a_profile() {
        let p = Profile::from_toml_str(
            "[notices]\nheader_row = 3\n[notices.columns]\nnotice_id = \"受付No\"\nkind = \"届出区分\"\n[notices.values.kind]\n\"01\" = \"acquisition\"\n",
        )
        .unwrap();
        let text = "資格取得届 一覧,,\n\n受付No,届出区分,受付番号\nA1,01,x\n\nA2,05,y\n";
        let out = convert_to_string(
            cur(text),
            Part::Notices,
            SourceOptions {
                profile: p.notices.as_ref(),
                received_on: None,
            },
        )
        .unwrap();
        assert_eq!(
            out,
            "\n\nnotice_id,kind,,regwatch_reject\nA1,acquisition,x,\n\nA2,05,y,届出区分 の値「05」は取込プロファイルの値の対応（kind）にありません\n"
        );
    }

    #[test]
    fn a_mapped_header_the_file_lacks_is_named() {
        let p = Profile::from_toml_str("[notices.columns]\nnotice_id = \"受付No\"\n").unwrap();
        let err = open(
            cur("受付番号,届書種別\nA1,資格取得\n"),
            Part::Notices,
            SourceOptions {
                profile: p.notices.as_ref(),
                received_on: None,
            },
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "取込プロファイルが合いません: 取込プロファイルで notice_id に指定した列「受付No」が見出し行（1行目）にありません（見出し: 受付番号, 届書種別）"
        );
    }

    #[test]
    fn tab_separated_text_is_read() {
        let out = convert_to_string(
            cur("受付番号\t届書種別\nA1\t資格取得\n"),
            Part::Notices,
            SourceOptions::default(),
        )
        .unwrap();
        assert_eq!(out, "受付番号,届書種別,regwatch_reject\nA1,資格取得,\n");
    }

    #[test]
    fn euc_jp_and_utf16_are_named() {
        let (euc, _, _) = encoding_rs::EUC_JP.encode("受付番号,届書種別\nA1,資格取得\n");
        let err = open(
            Cursor::new(euc.into_owned()),
            Part::Notices,
            SourceOptions::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("EUC-JP"), "{err}");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("受付番号,届書種別\nA1,資格取得\n");
        assert!(open(
            Cursor::new(sjis.into_owned()),
            Part::Notices,
            SourceOptions::default()
        )
        .is_ok());
        let utf16: Vec<u8> = "受付番号,届書種別\nA1,a\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let err = open(Cursor::new(utf16), Part::Notices, SourceOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("UTF-16"), "{err}");
        let ascii16: Vec<u8> = "notice_id,kind\nA1,loss\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let err = open(
            Cursor::new(ascii16),
            Part::Notices,
            SourceOptions::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("UTF-16"), "{err}");
    }

    fn workbook(rows: u32) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("届書一覧").unwrap();
        ws.write_string(0, 0, "受付一覧").unwrap();
        for (c, h) in ["受付No", "受付年月日"].iter().enumerate() {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy/mm/dd");
        for r in 0..rows {
            ws.write_string(3 + r, 0, format!("X-{r}")).unwrap();
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 4, 1).unwrap();
            ws.write_datetime_with_format(3 + r, 1, &d, &date).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn a_workbook_sample_stops_at_its_limit_with_sheet_row_numbers() {
        let p = FileProfile {
            header_row: 3,
            ..FileProfile::default()
        };
        let s = sample(Cursor::new(workbook(100)), &p, 10).unwrap();
        assert_eq!(s.format, Format::Xlsx);
        assert_eq!(s.sheets, vec!["届書一覧".to_string()]);
        assert_eq!(s.rows.len(), 10);
        assert_eq!(s.rows[0], (1, vec!["受付一覧".to_string()]));
        assert_eq!(s.rows[1].0, 3, "the blank row 2 is not there");
        assert_eq!(
            s.rows[2],
            (4, vec!["X-0".to_string(), "2025-04-01".to_string()])
        );
    }

    #[test]
    fn a_reader_dropped_after_the_first_rows_of_a_large_sheet_returns_at_once() {
        let p = FileProfile {
            header_row: 3,
            ..FileProfile::default()
        };
        let mut opened = open(
            Cursor::new(workbook(50_000)),
            Part::Notices,
            SourceOptions {
                profile: Some(&p),
                received_on: None,
            },
        )
        .unwrap();
        let mut first = [0u8; 64];
        opened.reader.read_exact(&mut first).unwrap();
        assert!(
            first.starts_with("\n\n受付No,受付年月日,regwatch_reject\nX-0,2025-04-01,".as_bytes())
        );
        drop(opened);
    }

    #[test]
    fn half_width_katakana_shift_jis_is_not_taken_for_euc() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("notice_id,name_kana\nA1,ﾔﾏﾀﾞ ﾀﾛｳ\n");
        assert!(!looks_like_euc_jp(&sjis));
    }
}
