//! The record loop both readers share: decoding, header mapping, line numbers, field access.
use std::io::Read;

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

pub(crate) struct Records<R> {
    csv: csv::Reader<Decoded<R>>,
    rec: ByteRecord,
    /// Number of fields in the header.
    width: usize,
    /// Up to the last named header field: spreadsheets export `a,b,c,,,` headers.
    named_width: usize,
    pub cols: ColumnMap,
    specs: &'static [ColumnSpec],
    fatal: Option<FileError>,
    pub blank_lines: u64,
    /// The reader's line after the previous record.
    next_line: u64,
}

impl<R: Read> Records<R> {
    pub fn open(src: R, specs: &'static [ColumnSpec]) -> Result<Self, FileError> {
        let decoded = Decoded::new(src)?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            // Short and long lines become row errors instead of stopping the whole file.
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(decoded);
        let mut header = ByteRecord::new();
        if !csv.read_byte_record(&mut header).map_err(csv_error)? {
            return Err(FileError::Empty);
        }
        if header.len() <= 1 && header.iter().all(is_blank) {
            return Err(FileError::Empty);
        }
        let cols = map_header(&header, specs)?;
        let next_line = csv.position().line();
        Ok(Records {
            csv,
            rec: ByteRecord::new(),
            width: header.len(),
            named_width: header
                .iter()
                .rposition(|f| !is_blank(f))
                .map_or(0, |i| i + 1),
            cols,
            specs,
            fatal: None,
            blank_lines: 0,
            next_line,
        })
    }

    /// Moves to the next record that has any value and returns its first physical line. `None`
    /// at the end, and also after a read error, which `finish` then reports.
    pub fn next_record(&mut self) -> Option<u64> {
        if self.fatal.is_some() {
            return None;
        }
        loop {
            match self.csv.read_byte_record(&mut self.rec) {
                Ok(true) if self.rec.iter().all(is_blank) => {
                    self.next_line = self.csv.position().line();
                    self.blank_lines += 1;
                }
                Ok(true) => {
                    // Decoded ends every record with exactly one `\n`, which csv has consumed:
                    // the reader's line is one past the record's last line. Count back over
                    // line breaks inside quoted fields to the first. A record that moved the
                    // reader by one line (nearly all) has none to count.
                    let next_line = self.csv.position().line();
                    let moved = next_line - std::mem::replace(&mut self.next_line, next_line);
                    let inner = if moved > 1 {
                        self.rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64
                    } else {
                        0
                    };
                    return Some(next_line.saturating_sub(1 + inner));
                }
                Ok(false) => return None,
                Err(e) => {
                    self.fatal = Some(csv_error(e));
                    return None;
                }
            }
        }
    }

    pub fn encoding(&self) -> SourceEncoding {
        self.csv.get_ref().encoding()
    }

    /// Ends the read: the first read error if there was one.
    pub fn finish(self) -> Result<(), FileError> {
        self.fatal.map_or(Ok(()), Err)
    }

    /// The current record, for typed access to its fields.
    pub fn row(&self, line: u64) -> Row<'_, R> {
        let bytes = self.rec.as_slice();
        Row {
            records: self,
            line,
            // One validation of the whole record instead of one per field; a field is then
            // valid exactly when its ends are char boundaries (checked by `str::get`).
            text: std::str::from_utf8(bytes).ok(),
            shift_jis: !bytes.is_ascii() && self.encoding() == SourceEncoding::ShiftJis,
        }
    }
}

/// A view of the current record with its line number; every error it makes names its column.
pub(crate) struct Row<'a, R> {
    records: &'a Records<R>,
    pub line: u64,
    text: Option<&'a str>,
    shift_jis: bool,
}

impl<'a, R: Read> Row<'a, R> {
    /// Too few fields (a truncated line) or extra non-empty ones (an unquoted comma) would put
    /// values in the wrong columns. Trailing empty fields are harmless spreadsheet residue.
    pub fn check_width(&self) -> Result<(), RowError> {
        let rec = &self.records.rec;
        let width = self.records.width;
        let n = rec.len();
        if n < self.records.named_width || (n > width && !rec.iter().skip(width).all(is_blank)) {
            return Err(self.error(format!(
                "列の数が見出しと合いません（見出し {width} 列、この行 {n} 列）"
            )));
        }
        Ok(())
    }

    /// The trimmed value of logical column `column`, `""` when the file has no such column.
    /// Never echoes the value: it may be the My Number.
    pub fn field(&self, column: usize) -> Result<&'a str, RowError> {
        match *self.records.cols.positions(column) {
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
        let what = if column_holds_time(self.records.specs[column].en) {
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
        self.records.specs[column].label()
    }

    fn decode(&self, pos: usize, column: usize) -> Result<&'a str, RowError> {
        let rec = &self.records.rec;
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

fn csv_error(e: csv::Error) -> FileError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => FileError::Io(io),
        // With byte records in flexible mode only I/O can fail. Not formatted from the csv
        // error, which could quote a value.
        _ => FileError::Io(std::io::Error::other("CSVの読み取りに失敗しました")),
    }
}
