//! The registrations file (登録結果): one row per attempt to register a notice's member.
use std::io::Read;

use crate::domain::types::NoticeId;

use super::dates::{parse_timestamp, RegisteredAt};
use super::error::{FileError, RowError};
use super::headers::{RegistrationCol, REGISTRATION_COLUMNS};
use super::record::{ReadStats, Records};
use super::text::{free_text as text, halfwidth};

/// 処理結果.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegResult {
    Ok,
    Error,
}

impl RegResult {
    /// 正常 / エラー and the English words exports use; blank means success (SPEC §3).
    pub fn parse(s: &str) -> Option<RegResult> {
        let t = halfwidth(s);
        let t = t.trim();
        match t {
            "" | "正常" | "正常終了" | "成功" | "完了" | "登録完了" => {
                return Some(RegResult::Ok)
            }
            "エラー" | "異常" | "異常終了" | "失敗" => return Some(RegResult::Error),
            _ => {}
        }
        match t.to_ascii_lowercase().as_str() {
            "ok" | "success" | "succeeded" | "normal" => Some(RegResult::Ok),
            "error" | "err" | "ng" | "failed" | "failure" => Some(RegResult::Error),
            _ => None,
        }
    }
}

/// One registration attempt. Several rows for one notice are normal (an error, then a retry
/// that succeeds); deciding which counts is the caller's job (SPEC §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRow {
    pub line: u64,
    pub notice_id: NoticeId,
    pub result: RegResult,
    /// Always present on an `Ok` row.
    pub registered_at: Option<RegisteredAt>,
    pub error_code: Option<String>,
    /// Digit runs that could be a My Number are masked: server messages sometimes quote it.
    pub error_message: Option<String>,
}

/// Streams a registrations file; memory stays flat in the file's size.
pub struct RegistrationReader<R> {
    records: Records<R>,
    stats: ReadStats,
}

impl<R: Read> RegistrationReader<R> {
    /// Detects the encoding and maps the header; file-level problems surface here.
    pub fn new(reader: R) -> Result<Self, FileError> {
        let records = Records::open(reader, &REGISTRATION_COLUMNS)?;
        // Without a result column every row is a success, and a success needs its timestamp.
        let at = RegistrationCol::RegisteredAt as usize;
        if !records.cols.has(at) && !records.cols.has(RegistrationCol::Result as usize) {
            return Err(FileError::MissingColumns(vec![
                REGISTRATION_COLUMNS[at].label()
            ]));
        }
        Ok(RegistrationReader {
            records,
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

    /// Call once the iterator is exhausted. Fails on a read error part-way, and on a file with a
    /// header but no data rows.
    pub fn finish(self) -> Result<ReadStats, FileError> {
        let stats = self.stats();
        self.records.finish()?;
        if stats.rows == 0 {
            return Err(FileError::NoDataRows);
        }
        Ok(stats)
    }

    fn read_row(&self, line: u64) -> Result<RegistrationRow, RowError> {
        use RegistrationCol as C;
        let r = self.records.row(line);
        r.check_width()?;
        let id_raw = r.required(C::NoticeId as usize)?;
        let notice_id = NoticeId::parse(id_raw)
            .map_err(|e| r.error(format!("{}: {e}", r.label(C::NoticeId as usize))))?;
        let result_raw = r.field(C::Result as usize)?;
        let result = RegResult::parse(result_raw).ok_or_else(|| {
            r.invalid(
                C::Result as usize,
                "が不明です（正常 / エラー、または ok / error）",
                result_raw,
            )
        })?;
        let at_raw = r.field(C::RegisteredAt as usize)?;
        let registered_at = if at_raw.is_empty() {
            if result == RegResult::Ok {
                return Err(r.error(format!(
                    "{} が空です（処理結果が正常の行には必要です）",
                    r.label(C::RegisteredAt as usize)
                )));
            }
            None
        } else {
            let at = parse_timestamp(at_raw)
                .map_err(|e| r.unreadable_date(C::RegisteredAt as usize, at_raw, e))?;
            Some(at)
        };
        Ok(RegistrationRow {
            line,
            notice_id,
            result,
            registered_at,
            error_code: text(r.field(C::ErrorCode as usize)?),
            error_message: text(r.field(C::ErrorMessage as usize)?),
        })
    }
}

impl<R: Read> Iterator for RegistrationReader<R> {
    type Item = Result<RegistrationRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.records.next_record()?;
        self.stats.rows += 1;
        let row = self.read_row(line);
        match row {
            Ok(_) => self.stats.accepted += 1,
            Err(_) => self.stats.rejected += 1,
        }
        Some(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn read(
        text: &str,
    ) -> (
        Vec<Result<RegistrationRow, RowError>>,
        Result<ReadStats, FileError>,
    ) {
        let mut reader = RegistrationReader::new(text.as_bytes()).unwrap();
        let rows: Vec<_> = reader.by_ref().collect();
        (rows, reader.finish())
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn results_and_timestamps_are_typed() {
        let (rows, stats) = read(concat!(
            "受付番号,処理結果,登録完了日時,エラーコード,エラー内容\n",
            "A1,エラー,,E001,個人番号不一致\n",
            "A1,正常,2024-04-30T16:00:00Z,,\n",
            "A2,,令和6年5月1日 10:00,,\n",
            "A3,OK,2024/5/2,,\n",
        ));
        let rows: Vec<RegistrationRow> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(rows[0].result, RegResult::Error);
        assert_eq!(rows[0].registered_at, None);
        assert_eq!(rows[0].error_code.as_deref(), Some("E001"));
        assert_eq!(rows[1].result, RegResult::Ok);
        assert_eq!(rows[1].registered_at.unwrap().jst_date, day(2024, 5, 1));
        assert_eq!(rows[2].result, RegResult::Ok);
        assert_eq!(rows[2].registered_at.unwrap().jst_date, day(2024, 5, 1));
        assert_eq!(rows[3].line, 5);
        assert_eq!(stats.unwrap().accepted, 4);
    }

    #[test]
    fn success_without_registered_at_is_rejected() {
        let (rows, _) = read("notice_id,result,registered_at\nA1,ok,\n");
        assert_eq!(
            rows[0].as_ref().unwrap_err().to_string(),
            "line 2: 登録完了日時 (registered_at) が空です（処理結果が正常の行には必要です）"
        );
    }

    #[test]
    fn unknown_result_is_rejected() {
        let (rows, _) = read("notice_id,result,registered_at\nA1,保留,2024-05-01\n");
        assert_eq!(
            rows[0].as_ref().unwrap_err().to_string(),
            "line 2: 処理結果 (result) が不明です（正常 / エラー、または ok / error）: \"保留\""
        );
    }

    #[test]
    fn unreadable_timestamp_is_rejected() {
        let (rows, _) = read("notice_id,registered_at\nA1,2024-05-01 25:00\n");
        assert_eq!(
            rows[0].as_ref().unwrap_err().to_string(),
            "line 2: 登録完了日時 (registered_at) が日時として読めません: \"2024-05-01 25:00\"（時刻の形式が不正です）"
        );
    }

    #[test]
    fn registered_at_column_is_required_without_a_result_column() {
        let err = RegistrationReader::new(&b"notice_id,error_code\nA1,\n"[..])
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "必須の列がありません: 登録完了日時 (registered_at)"
        );
        let err = RegistrationReader::new(&b"registered_at\n2024-05-01\n"[..])
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "必須の列がありません: 受付番号 (notice_id)"
        );
    }

    #[test]
    fn repeated_rows_for_one_notice_are_all_returned() {
        let (rows, stats) =
            read("notice_id,result,registered_at\nA1,ok,2024-05-01\nA1,ok,2024-05-01\n");
        assert!(rows.iter().all(Result::is_ok));
        assert_eq!(stats.unwrap().duplicates, 0);
    }

    #[test]
    fn my_number_in_an_error_message_is_masked() {
        let (rows, _) =
            read("notice_id,result,error_message\nA1,error,番号 123456789018 が不一致\n");
        let row = rows[0].as_ref().unwrap();
        assert_eq!(
            row.error_message.as_deref(),
            Some("番号 ************ が不一致")
        );
        let (rows, _) = read("notice_id,result,registered_at\nA1,123456789018,123456789018\n");
        let e = rows[0].as_ref().unwrap_err().to_string();
        assert!(!e.contains("123456789018"), "{e}");
    }

    #[test]
    fn result_words() {
        for ok in ["", "正常", "ok", "OK", "success", "ＯＫ"] {
            assert_eq!(RegResult::parse(ok), Some(RegResult::Ok), "{ok}");
        }
        for err in ["エラー", "error", "ERROR", "NG"] {
            assert_eq!(RegResult::parse(err), Some(RegResult::Error), "{err}");
        }
        assert_eq!(RegResult::parse("保留"), None);
    }
}
