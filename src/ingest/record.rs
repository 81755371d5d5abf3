//! The record loop both readers share: decoding, header mapping, line numbers, field access.
use std::io::Read;

use chrono::NaiveDate;
use csv::ByteRecord;

use super::encoding::{Decoded, SourceEncoding};
use super::dates::{parse_date, DateError};
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
    pub cols: ColumnMap,
    specs: &'static [ColumnSpec],
    fatal: Option<FileError>,
    pub blank_lines: u64,
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
        Ok(Records {
            csv,
            rec: ByteRecord::new(),
            width: header.len(),
            cols,
            specs,
            fatal: None,
            blank_lines: 0,
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
                Ok(true) if self.rec.iter().all(is_blank) => self.blank_lines += 1,
                Ok(true) => return Some(self.rec.position().map_or(0, |p| p.line())),
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
    pub fn finish(self) -> Result<SourceEncoding, FileError> {
        match self.fatal {
            Some(e) => Err(e),
            None => Ok(self.csv.get_ref().encoding()),
        }
    }

    /// Too few fields (a truncated line) or extra non-empty ones (an unquoted comma) would put
    /// values in the wrong columns. Trailing empty fields are harmless spreadsheet residue.
    pub fn check_width(&self, line: u64) -> Result<(), RowError> {
        let n = self.rec.len();
        if n < self.width || (n > self.width && !self.rec.iter().skip(self.width).all(is_blank)) {
            return Err(RowError {
                line,
                reason: format!("列の数が見出しと合いません（見出し {} 列、この行 {} 列）", self.width, n),
            });
        }
        Ok(())
    }

    /// The trimmed value of logical column `column`, `""` when the file has no such column.
    /// Never echoes the value: it may be the My Number.
    pub fn field(&self, column: usize, line: u64) -> Result<&str, RowError> {
        let mut found = "";
        let mut found_at = 0;
        for &pos in self.cols.positions(column) {
            let raw = self.rec.get(pos).unwrap_or_default();
            let value = self.decode(raw, column, line)?.trim();
            if value.is_empty() {
                continue;
            }
            if found.is_empty() {
                found = value;
                found_at = pos;
            } else if found != value {
                let spec = &self.specs[column];
                return Err(RowError {
                    line,
                    reason: format!(
                        "{} にあたる列（{}列目と{}列目）に異なる値があります",
                        spec.label(),
                        found_at + 1,
                        pos + 1
                    ),
                });
            }
        }
        Ok(found)
    }

    /// Like [`Records::field`], but blank is an error.
    pub fn required(&self, column: usize, line: u64) -> Result<&str, RowError> {
        let v = self.field(column, line)?;
        if v.is_empty() {
            return Err(RowError { line, reason: format!("{} が空です", self.label(column)) });
        }
        Ok(v)
    }

    /// A required date column.
    pub fn date(&self, column: usize, line: u64) -> Result<NaiveDate, RowError> {
        let raw = self.required(column, line)?;
        parse_date(raw).map_err(|e| self.unreadable_date(column, line, raw, e))
    }

    pub fn unreadable_date(&self, column: usize, line: u64, raw: &str, e: DateError) -> RowError {
        let what = if column_holds_time(self.specs[column].en) { "日時" } else { "日付" };
        let mut reason = format!("{} が{what}として読めません: {}", self.label(column), echo(raw));
        if e != DateError::Format {
            reason.push_str(&format!("（{e}）"));
        }
        RowError { line, reason }
    }

    /// `{label} {what}: "{value}"`, the value masked.
    pub fn invalid(&self, column: usize, line: u64, what: &str, raw: &str) -> RowError {
        RowError { line, reason: format!("{} {what}: {}", self.label(column), echo(raw)) }
    }

    pub fn label(&self, column: usize) -> String {
        self.specs[column].label()
    }

    fn decode<'a>(&self, raw: &'a [u8], column: usize, line: u64) -> Result<&'a str, RowError> {
        let bad = |what: &str| RowError {
            line,
            reason: format!("{} に{}として読めない文字があります", self.specs[column].label(), what),
        };
        let s = std::str::from_utf8(raw).map_err(|_| bad("UTF-8"))?;
        // U+FFFD cannot be written in CP932, so in a Shift_JIS file it marks a byte the decoder
        // could not read.
        if self.encoding() == SourceEncoding::ShiftJis && s.contains('\u{FFFD}') {
            return Err(bad("Shift_JIS"));
        }
        Ok(s)
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
    field.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
        || std::str::from_utf8(field).is_ok_and(|s| s.trim().is_empty())
}

fn csv_error(e: csv::Error) -> FileError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => FileError::Io(io),
        // With byte records in flexible mode only I/O can fail. Not formatted from the csv
        // error, which could quote a value.
        _ => FileError::Io(std::io::Error::other("CSVの読み取りに失敗しました")),
    }
}
