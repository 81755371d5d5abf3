//! The notices file (届書): each row typed and checked against SPEC §2.5, repeats found by hash.
use std::collections::hash_map::{Entry, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

use chrono::{Datelike, NaiveDate, TimeDelta};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use crate::domain::my_number::MyNumberStatus;
use crate::domain::types::{InsurerNumber, NoticeId, NoticeKind};

use super::error::{FileError, RowError};
use super::headers::{NoticeCol, NOTICE_COLUMNS};
use super::record::{ReadStats, Records};
use super::text::{free_text as text, halfwidth, mask_digits};

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
    /// xxh3-64 of the normalised content (not the line), so a re-load can tell "same notice,
    /// same content" from "same notice, changed". Its layout is versioned and kept stable.
    pub content_hash: u64,
}

/// Streams a notices file. Memory stays flat in the file's size except for the duplicate index
/// (32 bytes per distinct 受付番号).
///
/// A 受付番号 already accepted earlier in the file is skipped when the row's content is the
/// same (counted in [`ReadStats::duplicates`]) and rejected when it differs; the first row
/// stands. Rows are independent otherwise: a rejected row does not block a later one.
pub struct NoticeReader<R> {
    records: Records<R>,
    opts: NoticeReadOptions,
    seen: HashMap<u128, Seen, BuildHasherDefault<Prehashed>>,
    scratch: Vec<u8>,
    stats: ReadStats,
}

struct Seen {
    content_hash: u64,
    line: u64,
}

impl<R: Read> NoticeReader<R> {
    /// Detects the encoding and maps the header; file-level problems surface here.
    pub fn new(reader: R, opts: NoticeReadOptions) -> Result<Self, FileError> {
        Ok(NoticeReader {
            records: Records::open(reader, &NOTICE_COLUMNS)?,
            opts,
            seen: HashMap::default(),
            scratch: Vec::with_capacity(256),
            stats: ReadStats::default(),
        })
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
        use NoticeCol as C;
        let r = self.records.row(line);
        r.check_width()?;

        let id_raw = r.required(C::NoticeId as usize)?;
        let notice_id = NoticeId::parse(id_raw)
            .map_err(|e| r.error(format!("{}: {e}", r.label(C::NoticeId as usize))))?;
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
        let code_of = |c: NoticeCol| -> Result<Option<String>, RowError> {
            let v = r.field(c as usize)?;
            if v.is_empty() {
                return Ok(None);
            }
            // 記号・番号 are at most 8 characters; a 12-digit number with a valid check digit
            // here is a My Number in the wrong column, which must not be stored (SPEC §6).
            if v.len() >= 12 && MyNumberStatus::classify(v) == MyNumberStatus::Valid {
                return Err(r.error(format!(
                    "{} に個人番号と思われる値があります",
                    r.label(c as usize)
                )));
            }
            Ok(Some(code(v)))
        };
        let required_code = |c: NoticeCol| -> Result<String, RowError> {
            code_of(c)?.ok_or_else(|| r.error(format!("{} が空です", r.label(c as usize))))
        };
        let employer_code = required_code(C::EmployerCode)?;
        let member_symbol = required_code(C::MemberSymbol)?;
        let member_number = required_code(C::MemberNumber)?;
        let dependent_seq = code_of(C::DependentSeq)?;
        let event_date = r.date(C::EventDate as usize)?;
        let received_on = r.date(C::ReceivedOn as usize)?;
        // The number is classified where it lies in the record buffer and goes no further.
        let my_number = MyNumberStatus::classify(r.field(C::MyNumber as usize)?);
        let insurer_raw = r.field(C::InsurerNumber as usize)?;
        let insurer_number = if insurer_raw.is_empty() {
            None
        } else {
            Some(InsurerNumber::parse(insurer_raw).map_err(|_| {
                r.invalid(C::InsurerNumber as usize, "は8桁の数字です", insurer_raw)
            })?)
        };

        if received_on > self.opts.as_of {
            return Err(r.error(format!(
                "{} {received_on} が基準日 {} より後です",
                r.label(C::ReceivedOn as usize),
                self.opts.as_of
            )));
        }
        if event_date - received_on > TimeDelta::days(MAX_DAYS_EVENT_AFTER_RECEIPT) {
            return Err(r.error(format!(
                "{} {event_date} が{} {received_on} より{MAX_DAYS_EVENT_AFTER_RECEIPT}日を超えて後です",
                r.label(C::EventDate as usize),
                r.label(C::ReceivedOn as usize),
            )));
        }

        let mut row = NoticeRow {
            line,
            notice_id,
            kind,
            employer_code,
            employer_name: text(r.field(C::EmployerName as usize)?),
            member_symbol,
            member_number,
            dependent_seq,
            name: text(r.field(C::Name as usize)?),
            name_kana: text(r.field(C::NameKana as usize)?),
            event_date,
            received_on,
            my_number,
            delay_cause: text(r.field(C::DelayCause as usize)?),
            insurer_number,
            content_hash: 0,
        };
        row.content_hash = row.compute_hash(&mut self.scratch);

        match self.seen.entry(xxh3_128(row.notice_id.as_str().as_bytes())) {
            Entry::Occupied(first) if first.get().content_hash == row.content_hash => Ok(None),
            Entry::Occupied(first) => Err(r.error(format!(
                "受付番号 {} が line {} と異なる内容で重複しています",
                mask_digits(row.notice_id.as_str()),
                first.get().line
            ))),
            Entry::Vacant(slot) => {
                slot.insert(Seen {
                    content_hash: row.content_hash,
                    line,
                });
                Ok(Some(row))
            }
        }
    }
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

impl NoticeRow {
    /// Layout version 1: a version byte, then each field in declaration order (line and hash
    /// excluded), strings followed by 0x1F, absent options as 0x1E, dates as days from CE.
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
        s(buf, self.notice_id.as_str());
        s(buf, self.kind.code());
        s(buf, &self.employer_code);
        o(buf, self.employer_name.as_deref());
        s(buf, &self.member_symbol);
        s(buf, &self.member_number);
        o(buf, self.dependent_seq.as_deref());
        o(buf, self.name.as_deref());
        o(buf, self.name_kana.as_deref());
        d(buf, self.event_date);
        d(buf, self.received_on);
        s(buf, self.my_number.code());
        o(buf, self.delay_cause.as_deref());
        o(buf, self.insurer_number.as_ref().map(InsurerNumber::as_str));
        xxh3_64(buf)
    }
}

/// Codes and numbers: full-width typed by hand must equal the half-width a system exports.
/// `s` is already trimmed, and narrowing cannot add spaces at its ends.
fn code(s: &str) -> String {
    halfwidth(s).into_owned()
}

/// The map keys are already xxh3-128 digests; hashing them again would only cost time.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(b)).rotate_left(29);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64 ^ (n >> 64) as u64;
    }
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
        assert_eq!(rows[0].as_ref().unwrap().line, 2);
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
        assert_eq!(rows.iter().filter(|r| r.is_err()).count(), 6);
        for r in &rows {
            // A row whose 受付番号 is a 12-digit number keeps it: that is its identifier.
            if r.as_ref().is_ok_and(|row| row.notice_id.as_str() == mn) {
                continue;
            }
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
