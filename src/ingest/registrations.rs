//! The registrations file (登録結果): one row per attempt to register a notice's member.
use std::borrow::Cow;
use std::io::Read;

use chrono::NaiveDate;

use crate::domain::types::NoticeId;

use super::dates::{parse_timestamp, RegisteredAt};
use super::error::{FileError, RowError};
use super::headers::{RegistrationCol, REGISTRATION_COLUMNS};
use super::notices::is_plain_id;
use super::parallel::{self, Block, CHUNK_BYTES};
use super::record::{parse_chunk, ChunkParse, ReadStats, RecordBuf, Records, Row};
use super::text::{free_text as text, halfwidth};
use crate::domain::limits;

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

/// The member a result row names instead of a 受付番号 (the intermediate server's own files):
/// 記号, 番号 and 枝番 (blank when none), half-width.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberKey {
    pub symbol: String,
    pub number: String,
    pub seq: String,
}

impl MemberKey {
    /// How a rejection names the member: `記号 S 番号 N 枝番 E`.
    pub fn label(&self) -> String {
        member_label(&self.symbol, &self.number, &self.seq)
    }
}

/// The notice a member-keyed result belongs to (SPEC §3.1), among the member's notices as
/// (received on, key): the one received most recently on or before `on` (without a date, the
/// latest). The error completes a sentence that starts with the member's label.
pub fn pick_notice<K: Clone>(
    candidates: &[(NaiveDate, K)],
    on: Option<NaiveDate>,
) -> Result<K, String> {
    let eligible = candidates
        .iter()
        .filter(|(received, _)| on.is_none_or(|d| *received <= d));
    let Some(latest) = eligible.clone().map(|(r, _)| *r).max() else {
        return Err(match on {
            Some(d) if !candidates.is_empty() => {
                format!("の届書で {d} までに受け付けたものがありません")
            }
            _ => "の届書がありません".to_string(),
        });
    };
    let mut at_latest = eligible.filter(|(r, _)| *r == latest);
    let first = at_latest.next().map(|(_, k)| k.clone());
    if at_latest.next().is_some() {
        return Err(format!(
            "の届書が {latest} に複数受け付けられており、どれの登録結果か決められません（受付番号を付けてください）"
        ));
    }
    first.ok_or_else(|| "の届書がありません".to_string())
}

/// The key of a member: 記号, 番号 and 枝番 joined with a unit separator.
pub fn member_key(symbol: &str, number: &str, seq: &str) -> String {
    format!("{symbol}\u{1f}{number}\u{1f}{seq}")
}

/// `記号 S 番号 N 枝番 E` (枝番 left out when blank).
pub fn member_label(symbol: &str, number: &str, seq: &str) -> String {
    if seq.is_empty() {
        format!("記号 {symbol} 番号 {number}")
    } else {
        format!("記号 {symbol} 番号 {number} 枝番 {seq}")
    }
}

/// One registration attempt. Several rows for one notice are normal (an error, then a retry
/// that succeeds); deciding which counts is the caller's job (SPEC §3).
///
/// A row names its notice by 受付番号 or, when it has none, by its member (SPEC §3.1): the
/// caller matches it to that member's notice received most recently on or before the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRow {
    pub line: u64,
    /// `None`: the row names `member` instead.
    pub notice_id: Option<NoticeId>,
    pub member: Option<MemberKey>,
    pub result: RegResult,
    /// Always present on an `Ok` row.
    pub registered_at: Option<RegisteredAt>,
    pub error_code: Option<String>,
    /// Digit runs that could be a My Number are masked: server messages sometimes quote it.
    pub error_message: Option<String>,
}

/// One registration row as [`RegistrationReader::par_for_each`] shows it, without the error
/// code and message (which are still checked).
#[derive(Clone, Copy, Debug)]
pub struct RegistrationRef<'a> {
    pub line: u64,
    /// Empty when the row names `member` instead.
    pub notice_id: &'a str,
    /// 記号, 番号, 枝番 of a row without 受付番号.
    pub member: Option<(&'a str, &'a str, &'a str)>,
    pub result: RegResult,
    /// Always present on an `Ok` row.
    pub registered_at: Option<RegisteredAt>,
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
        // A row names its notice by 受付番号, or by the member (the intermediate server's files).
        let cols = &records.layout.cols;
        let by_member = cols.has(RegistrationCol::MemberSymbol as usize)
            && cols.has(RegistrationCol::MemberNumber as usize);
        if !cols.has(RegistrationCol::NoticeId as usize) && !by_member {
            return Err(FileError::MissingColumns(vec![format!(
                "{}（または {} と {}）",
                REGISTRATION_COLUMNS[RegistrationCol::NoticeId as usize].label(),
                REGISTRATION_COLUMNS[RegistrationCol::MemberSymbol as usize].label(),
                REGISTRATION_COLUMNS[RegistrationCol::MemberNumber as usize].label(),
            )]));
        }
        // Without a result column every row is a success, and a success needs its timestamp.
        let at = RegistrationCol::RegisteredAt as usize;
        if !records.layout.cols.has(at)
            && !records.layout.cols.has(RegistrationCol::Result as usize)
        {
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

    /// About how many rows a file of `bytes` bytes like this one has (from its first block);
    /// `None` for a small file.
    pub fn rows_estimate(&self, bytes: u64) -> Option<usize> {
        self.records.rows_estimate(bytes)
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
        let r = self.records.row(line);
        let f = RegFields::parse(&r, true)?;
        Ok(RegistrationRow {
            line,
            notice_id: f.notice_id,
            member: f.member.map(|(symbol, number, seq)| MemberKey {
                symbol: symbol.into_owned(),
                number: number.into_owned(),
                seq: seq.into_owned(),
            }),
            result: f.result,
            registered_at: f.registered_at,
            error_code: f.error_code.map(Cow::into_owned),
            error_message: f.error_message.map(Cow::into_owned),
        })
    }

    /// Reads the rest of the file with `threads` worker threads, like
    /// [`NoticeReader::par_for_each`](super::NoticeReader::par_for_each): `map` on a worker for
    /// every row of a block that passes the row rules and `done` once per block, then
    /// `consume` on the calling thread, block by block in file order, with each row's result
    /// or error. Call [`RegistrationReader::finish`] afterwards.
    pub fn par_for_each<S, T, E>(
        &mut self,
        threads: usize,
        map: impl Fn(&mut S, &RegistrationRef<'_>) -> T + Sync,
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
        map: impl Fn(&mut S, &RegistrationRef<'_>) -> T + Sync,
        done: impl Fn(&mut S) + Sync,
        mut consume: impl FnMut(&mut S, &mut dyn Iterator<Item = Result<T, RowError>>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        S: Default + Send,
        T: Send,
    {
        let work = |block: &Block<'_>| -> ((S, Vec<Result<T, RowError>>), ChunkParse) {
            let mut state = S::default();
            let mut rows = Vec::with_capacity(block.data.len() / 24 + 1);
            let mut rec = RecordBuf::default();
            let parse = parse_chunk(
                block.layout,
                block.data,
                block.first_line,
                block.end,
                block.encoding,
                &mut rec,
                |r: Row<'_>| {
                    rows.push(RegFields::parse(&r, false).map(|f| {
                        map(
                            &mut state,
                            &RegistrationRef {
                                line: r.line,
                                notice_id: f.id(),
                                member: f
                                    .member
                                    .as_ref()
                                    .map(|(a, b, c)| (a.as_ref(), b.as_ref(), c.as_ref())),
                                result: f.result,
                                registered_at: f.registered_at,
                            },
                        )
                    }))
                },
            );
            done(&mut state);
            ((state, rows), parse)
        };
        let stats = &mut self.stats;
        let mut take = |(mut state, rows): (S, Vec<Result<T, RowError>>)| -> Result<(), E> {
            let mut rows = rows.into_iter().inspect(|row| {
                stats.rows += 1;
                match row {
                    Ok(_) => stats.accepted += 1,
                    Err(_) => stats.rejected += 1,
                }
            });
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

/// A row typed and checked, its text borrowed from the record where nothing changed.
struct RegFields<'a> {
    /// Empty when the row names its member instead.
    id_raw: &'a str,
    /// `None` when `id_raw` is empty, or when not `owned` and `id_raw` is what
    /// [`NoticeId::parse`] returns for it.
    notice_id: Option<NoticeId>,
    /// 記号, 番号, 枝番 of a row without 受付番号.
    member: Option<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>)>,
    result: RegResult,
    registered_at: Option<RegisteredAt>,
    error_code: Option<Cow<'a, str>>,
    error_message: Option<Cow<'a, str>>,
}

impl<'a> RegFields<'a> {
    /// `owned`: the 受付番号 is needed as a [`NoticeId`] (a plain one is otherwise borrowed).
    fn parse(r: &Row<'a>, owned: bool) -> Result<Self, RowError> {
        use RegistrationCol as C;
        r.check_width()?;
        let reject = r.field(C::Reject as usize)?;
        if !reject.is_empty() {
            return Err(r.error(reject.to_string()));
        }
        let id_raw = r.field(C::NoticeId as usize)?;
        let member = if id_raw.is_empty() {
            Some(member_of(r)?)
        } else {
            None
        };
        let notice_id = if member.is_some() || (!owned && is_plain_id(id_raw)) {
            None
        } else {
            Some(
                NoticeId::parse(id_raw)
                    .map_err(|e| r.error(format!("{}: {e}", r.label(C::NoticeId as usize))))?,
            )
        };
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
        Ok(RegFields {
            id_raw,
            notice_id,
            member,
            result,
            registered_at,
            error_code: {
                let v = r.field(C::ErrorCode as usize)?;
                r.within(C::ErrorCode as usize, v, limits::CODE)?;
                if crate::domain::my_number::contains_valid(v) {
                    return Err(r.error(format!(
                        "{} に個人番号と思われる値があります",
                        r.label(C::ErrorCode as usize)
                    )));
                }
                text(v)
            },
            error_message: {
                let v = r.field(C::ErrorMessage as usize)?;
                r.within(C::ErrorMessage as usize, v, limits::ERROR_MESSAGE)?;
                text(v)
            },
        })
    }

    fn id(&self) -> &str {
        self.notice_id
            .as_ref()
            .map_or(self.id_raw, NoticeId::as_str)
    }
}

/// The member of a row without 受付番号: 記号 and 番号 are required then.
#[allow(clippy::type_complexity)]
fn member_of<'a>(r: &Row<'a>) -> Result<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>), RowError> {
    use RegistrationCol as C;
    let code = |c: RegistrationCol, required: bool| -> Result<Cow<'a, str>, RowError> {
        let v = r.field(c as usize)?;
        if v.is_empty() && required {
            return Err(r.error(
                if c == C::MemberSymbol && !r.has(C::MemberSymbol as usize) {
                    format!("{} が空です", r.label(C::NoticeId as usize))
                } else {
                    format!(
                        "{} と {} が空です（受付番号のない行は被保険者記号・番号で届書を探します）",
                        r.label(C::NoticeId as usize),
                        r.label(c as usize)
                    )
                },
            ));
        }
        // A 12-digit number with a valid check digit here is a My Number in the wrong column,
        // which must not be stored (SPEC §6).
        if crate::domain::my_number::contains_valid(v) {
            return Err(r.error(format!(
                "{} に個人番号と思われる値があります",
                r.label(c as usize)
            )));
        }
        r.within(c as usize, v, limits::CODE)?;
        Ok(halfwidth(v))
    };
    Ok((
        code(C::MemberSymbol, true)?,
        code(C::MemberNumber, true)?,
        code(C::DependentSeq, false)?,
    ))
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
            "必須の列がありません: 受付番号 (notice_id)（または 被保険者記号 (member_symbol) と 被保険者番号 (member_number)）"
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
