//! Dates and timestamps as insurers write them: ISO, slashes, compact, Japanese era (SPEC §3).
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use super::text::halfwidth;

/// Why a date or timestamp was refused. Never carries the input: callers echo it masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not one of the accepted forms.
    Format,
    /// A form we read, but no such day (2023-02-29, month 13).
    Impossible,
    /// A Japanese era date outside that era (平成32年, 令和1年4月1日).
    OutOfEra(&'static str),
    /// 明治・大正: no notice of a living member starts there.
    UnsupportedEra,
    /// Outside 1900..=2099: a typo, and beyond the holiday calendar.
    OutOfRange,
    /// The time part of a timestamp.
    Time,
    /// The UTC offset of a timestamp.
    Offset,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Format => f.write_str("日付の形式が不正です"),
            DateError::Impossible => f.write_str("存在しない日付です"),
            DateError::OutOfEra(name) => {
                let era = ERAS.iter().find(|e| e.name == *name).unwrap_or(&ERAS[0]);
                match era.last {
                    Some(last) => write!(
                        f,
                        "{}は{}から{}までです",
                        era.name,
                        ymd_ja(era.first),
                        ymd_ja(last)
                    ),
                    None => write!(f, "{}は{}からです", era.name, ymd_ja(era.first)),
                }
            }
            DateError::UnsupportedEra => f.write_str("明治・大正の和暦には対応していません"),
            DateError::OutOfRange => f.write_str("1900年から2099年までの日付ではありません"),
            DateError::Time => f.write_str("時刻の形式が不正です"),
            DateError::Offset => f.write_str("時差（+09:00 など）の形式が不正です"),
        }
    }
}

impl std::error::Error for DateError {}

fn ymd_ja((y, m, d): (i32, u32, u32)) -> String {
    format!("{y}年{m}月{d}日")
}

/// 登録完了日時, kept both as the instant and as the Japan date the rules count with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegisteredAt {
    /// The instant, in UTC.
    pub utc: NaiveDateTime,
    /// The date in Asia/Tokyo (SPEC §2.1).
    pub jst_date: NaiveDate,
}

struct Era {
    name: &'static str,
    letter: u8,
    first: (i32, u32, u32),
    last: Option<(i32, u32, u32)>,
}

const ERAS: [Era; 3] = [
    Era {
        name: "令和",
        letter: b'R',
        first: (2019, 5, 1),
        last: None,
    },
    Era {
        name: "平成",
        letter: b'H',
        first: (1989, 1, 8),
        last: Some((2019, 4, 30)),
    },
    Era {
        name: "昭和",
        letter: b'S',
        first: (1926, 12, 25),
        last: Some((1989, 1, 7)),
    },
];

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2099;

/// Japan has kept UTC+9 without daylight saving since 1951, so Asia/Tokyo is this fixed offset
/// for every timestamp a registration file can hold; a fixed offset keeps the hot path free of
/// time-zone table look-ups (the test `fixed_offset_agrees_with_asia_tokyo` pins this).
const JST: TimeDelta = TimeDelta::hours(9);

/// Parses a calendar date in any form of SPEC §3 (full-width characters and surrounding
/// whitespace allowed).
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    if let Some(r) = fast_ymd(s.as_bytes()) {
        return r;
    }
    let t = s.trim();
    let norm = halfwidth(t);
    let mut p = Cursor::new(&norm);
    let d = p.date()?;
    p.skip_spaces();
    if p.at_end() {
        Ok(d)
    } else {
        Err(DateError::Format)
    }
}

/// Parses 登録完了日時: a date in any accepted form, optionally followed by a time
/// (`10:00`, `10:00:00.123`, `10時00分`) and an offset (`Z`, `+09:00`, `+0900`, `JST`).
/// Without an offset the time is JST; a date alone is 00:00 JST.
pub fn parse_timestamp(s: &str) -> Result<RegisteredAt, DateError> {
    if let Some(at) = fast_timestamp(s.as_bytes()) {
        return Ok(at);
    }
    parse_timestamp_in_full(s)
}

fn parse_timestamp_in_full(s: &str) -> Result<RegisteredAt, DateError> {
    let t = s.trim();
    let norm = halfwidth(t);
    let mut p = Cursor::new(&norm);
    let date = p.date()?;
    let date_ended_in_kanji = p.rest_before().ends_with('日');
    let sep = p.eat('T') || p.eat('t');
    let spaces = p.skip_spaces();
    if p.at_end() {
        if sep {
            return Err(DateError::Time);
        }
        return Ok(from_jst(date.and_time(NaiveTime::MIN)));
    }
    if !sep && spaces == 0 && !date_ended_in_kanji {
        return Err(DateError::Format);
    }
    let time = p.time()?;
    p.skip_spaces();
    let offset = p.offset()?;
    p.skip_spaces();
    if !p.at_end() {
        return Err(DateError::Format);
    }
    let local = date.and_time(time);
    Ok(match offset {
        None => from_jst(local),
        Some(off) => {
            let utc = local - off;
            RegisteredAt {
                utc,
                jst_date: (utc + JST).date(),
            }
        }
    })
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`, or slashes), alone, with `Z` or with `±HH:MM`: what
/// machine exports write, read without allocation. Anything else, including every input the
/// full parser would refuse, is left to it (`None`), so the two always agree.
#[inline]
fn fast_timestamp(b: &[u8]) -> Option<RegisteredAt> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = fast_ymd(&b[..10])?.ok()?;
    let time = NaiveTime::from_hms_opt(num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?)?;
    let local = date.and_time(time);
    let offset = match b[19..] {
        [] => return Some(from_jst(local)),
        [b'Z'] => TimeDelta::zero(),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (num(&[h1, h2])?, num(&[m1, m2])?);
            if h > 14 || m > 59 {
                return None;
            }
            let minutes = i64::from(h * 60 + m);
            TimeDelta::minutes(if sign == b'-' { -minutes } else { minutes })
        }
        _ => return None,
    };
    let utc = local - offset;
    Some(RegisteredAt {
        utc,
        jst_date: (utc + JST).date(),
    })
}

fn from_jst(local: NaiveDateTime) -> RegisteredAt {
    RegisteredAt {
        utc: local - JST,
        jst_date: local.date(),
    }
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` and `YYYYMMDD` without any allocation or char decoding: machine
/// exports use these, a million times per file. `None` sends anything else to the full parser.
#[inline]
fn fast_ymd(b: &[u8]) -> Option<Result<NaiveDate, DateError>> {
    let (y, m, d) = match b.len() {
        10 if (b[4] == b'-' && b[7] == b'-') || (b[4] == b'/' && b[7] == b'/') => {
            (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?)
        }
        8 => (num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?),
        _ => return None,
    };
    Some(gregorian(y as i32, m, d))
}

#[inline]
fn num(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

fn gregorian(y: i32, m: u32, d: u32) -> Result<NaiveDate, DateError> {
    let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::Impossible)?;
    if (MIN_YEAR..=MAX_YEAR).contains(&y) {
        Ok(date)
    } else {
        Err(DateError::OutOfRange)
    }
}

fn era_date(era: &Era, year: u32, m: u32, d: u32) -> Result<NaiveDate, DateError> {
    if year == 0 {
        return Err(DateError::OutOfEra(era.name));
    }
    let y = era.first.0 + year as i32 - 1;
    let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::Impossible)?;
    let first = NaiveDate::from_ymd_opt(era.first.0, era.first.1, era.first.2);
    let last = era
        .last
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
    if first.is_some_and(|f| date < f) || last.is_some_and(|l| date > l) {
        return Err(DateError::OutOfEra(era.name));
    }
    if y > MAX_YEAR {
        return Err(DateError::OutOfRange);
    }
    Ok(date)
}

/// A cursor over text already narrowed to half-width, so digits and letters are ASCII.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn rest_before(&self) -> &'a str {
        &self.s[..self.pos]
    }

    fn at_end(&self) -> bool {
        self.pos == self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// Returns the number of whitespace characters skipped.
    fn skip_spaces(&mut self) -> usize {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
            n += 1;
        }
        n
    }

    /// A run of 1..=max ASCII digits: (value, count). More than `max` digits is not a match.
    fn digits(&mut self, max: usize) -> Option<(u32, usize)> {
        let b = self.rest().as_bytes();
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > max {
            return None;
        }
        let v = num(&b[..n])?;
        self.pos += n;
        Some((v, n))
    }

    fn date(&mut self) -> Result<NaiveDate, DateError> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => self.western(),
            Some(_) => self.japanese(),
            None => Err(DateError::Format),
        }
    }

    /// `2024-4-26`, `2024/4/26`, `2024.4.26`, `2024年4月26日`, `20240426`.
    fn western(&mut self) -> Result<NaiveDate, DateError> {
        let (y, n) = self.digits(8).ok_or(DateError::Format)?;
        if n == 8 {
            return gregorian((y / 10000) as i32, y / 100 % 100, y % 100);
        }
        if n != 4 {
            return Err(DateError::Format);
        }
        let (m, d) = self.month_day(false)?;
        gregorian(y as i32, m, d)
    }

    /// `令和6年4月26日`, `令和元年5月1日`, `R6.4.26`, `R06/04/26`, `r6-4-26`, `R060426`.
    fn japanese(&mut self) -> Result<NaiveDate, DateError> {
        let era = self.era()?;
        self.skip_spaces();
        let year = if self.eat('元') {
            1
        } else {
            let before = self.pos;
            let (y, n) = self.digits(6).ok_or(DateError::Format)?;
            if n == 6 && self.s[..before].is_ascii() {
                // R060426: letter era, two digits each, as some core systems print it.
                return era_date(era, y / 10000, y / 100 % 100, y % 100);
            }
            if n > 2 {
                return Err(DateError::Format);
            }
            y
        };
        let (m, d) = self.month_day(true)?;
        era_date(era, year, m, d)
    }

    fn era(&mut self) -> Result<&'static Era, DateError> {
        for era in &ERAS {
            if self.eat_str(era.name) {
                return Ok(era);
            }
        }
        if self.eat_str("大正") || self.eat_str("明治") {
            return Err(DateError::UnsupportedEra);
        }
        let c = self.peek().ok_or(DateError::Format)?;
        let upper = c.to_ascii_uppercase();
        if let Some(era) = ERAS.iter().find(|e| char::from(e.letter) == upper) {
            self.pos += 1;
            // The letter may be followed by a dot (`H.31.4.30`) in some hand-typed files.
            self.eat('.');
            return Ok(era);
        }
        if upper == 'T' || upper == 'M' {
            return Err(DateError::UnsupportedEra);
        }
        Err(DateError::Format)
    }

    /// After the year: `年M月D日` or `<sep>M<sep>D` with one separator from `-/.`.
    fn month_day(&mut self, spaced: bool) -> Result<(u32, u32), DateError> {
        let sep = self.peek().ok_or(DateError::Format)?;
        if !matches!(sep, '年' | '-' | '/' | '.') {
            return Err(DateError::Format);
        }
        self.pos += sep.len_utf8();
        let kanji = sep == '年';
        if spaced || kanji {
            self.skip_spaces();
        }
        let (m, _) = self.digits(2).ok_or(DateError::Format)?;
        if spaced || kanji {
            self.skip_spaces();
        }
        if !self.eat(if kanji { '月' } else { sep }) {
            return Err(DateError::Format);
        }
        if spaced || kanji {
            self.skip_spaces();
        }
        let (d, _) = self.digits(2).ok_or(DateError::Format)?;
        if kanji {
            self.skip_spaces();
            self.eat('日');
        }
        Ok((m, d))
    }

    /// `H:MM`, `H:MM:SS`, `H:MM:SS.fffffffff`, `H時M分`, `H時M分S秒`.
    fn time(&mut self) -> Result<NaiveTime, DateError> {
        let (h, _) = self.digits(2).ok_or(DateError::Time)?;
        let (mi, s, nano);
        if self.eat(':') {
            let (m, n) = self.digits(2).ok_or(DateError::Time)?;
            if n != 2 {
                return Err(DateError::Time);
            }
            mi = m;
            if self.eat(':') {
                let (sec, n) = self.digits(2).ok_or(DateError::Time)?;
                if n != 2 {
                    return Err(DateError::Time);
                }
                s = sec;
                nano = if self.eat('.') || self.eat(',') {
                    self.fraction()?
                } else {
                    0
                };
            } else {
                s = 0;
                nano = 0;
            }
        } else if self.eat('時') {
            mi = self.digits(2).ok_or(DateError::Time)?.0;
            if !self.eat('分') {
                return Err(DateError::Time);
            }
            s = match self.digits(2) {
                Some((sec, _)) if self.eat('秒') => sec,
                Some(_) => return Err(DateError::Time),
                None => 0,
            };
            nano = 0;
        } else {
            return Err(DateError::Time);
        }
        NaiveTime::from_hms_nano_opt(h, mi, s, nano).ok_or(DateError::Time)
    }

    /// Up to nine digits are kept; further digits (some exports print 12) are truncated.
    fn fraction(&mut self) -> Result<u32, DateError> {
        let b = self.rest().as_bytes();
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(DateError::Time);
        }
        let kept = n.min(9);
        let mut v = num(&b[..kept]).ok_or(DateError::Time)?;
        for _ in kept..9 {
            v *= 10;
        }
        self.pos += n;
        Ok(v)
    }

    fn offset(&mut self) -> Result<Option<TimeDelta>, DateError> {
        if self.eat('Z') || self.eat('z') || self.eat_str("UTC") {
            return Ok(Some(TimeDelta::zero()));
        }
        if self.eat_str("JST") {
            return Ok(Some(JST));
        }
        let sign = if self.eat('+') {
            1
        } else if self.eat('-') || self.eat('−') {
            -1
        } else {
            return Ok(None);
        };
        let (hh, n) = self.digits(4).ok_or(DateError::Offset)?;
        let (h, m) = match n {
            2 => {
                let m = if self.eat(':') {
                    match self.digits(2) {
                        Some((m, 2)) => m,
                        _ => return Err(DateError::Offset),
                    }
                } else {
                    0
                };
                (hh, m)
            }
            4 => (hh / 100, hh % 100),
            _ => return Err(DateError::Offset),
        };
        if h > 14 || m > 59 {
            return Err(DateError::Offset);
        }
        Ok(Some(TimeDelta::minutes(sign * i64::from(h * 60 + m))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timestamp_shortcut_agrees_with_the_full_parser() {
        let mut taken = 0;
        for date in [
            "2024-04-30",
            "2024/04/30",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
        ] {
            for sep in [" ", "T", "t", "  "] {
                for time in ["16:00:00", "23:59:59", "24:00:00", "09:60:00", "9:05:00"] {
                    for off in [
                        "", "Z", "+09:00", "-05:30", "+14:00", "+15:00", "+09:60", "+0900", " JST",
                    ] {
                        let s = format!("{date}{sep}{time}{off}");
                        if let Some(fast) = fast_timestamp(s.as_bytes()) {
                            taken += 1;
                            assert_eq!(Ok(fast), parse_timestamp_in_full(&s), "{s}");
                        }
                    }
                }
            }
        }
        assert!(taken > 50, "{taken}");
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ok(s: &str) -> NaiveDate {
        parse_date(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn western_forms() {
        assert_eq!(ok("2024-04-26"), d(2024, 4, 26));
        assert_eq!(ok("2024/4/26"), d(2024, 4, 26));
        assert_eq!(ok("2024/04/26"), d(2024, 4, 26));
        assert_eq!(ok("2024-4-6"), d(2024, 4, 6));
        assert_eq!(ok("2024.4.26"), d(2024, 4, 26));
        assert_eq!(ok("20240426"), d(2024, 4, 26));
        assert_eq!(ok("2024年4月26日"), d(2024, 4, 26));
        assert_eq!(ok("  2024-04-26\t"), d(2024, 4, 26));
        assert_eq!(ok("\u{3000}2024/4/26\u{3000}"), d(2024, 4, 26));
    }

    #[test]
    fn era_forms() {
        assert_eq!(ok("令和6年4月26日"), d(2024, 4, 26));
        assert_eq!(ok("令和元年5月1日"), d(2019, 5, 1));
        assert_eq!(ok("平成31年4月30日"), d(2019, 4, 30));
        assert_eq!(ok("平成元年1月8日"), d(1989, 1, 8));
        assert_eq!(ok("昭和64年1月7日"), d(1989, 1, 7));
        assert_eq!(ok("昭和元年12月25日"), d(1926, 12, 25));
        assert_eq!(ok("令和 6年 4月 26日"), d(2024, 4, 26));
        assert_eq!(ok("R6.4.26"), d(2024, 4, 26));
        assert_eq!(ok("R06.04.26"), d(2024, 4, 26));
        assert_eq!(ok("H31.4.30"), d(2019, 4, 30));
        assert_eq!(ok("S64.1.7"), d(1989, 1, 7));
        assert_eq!(ok("R6/4/26"), d(2024, 4, 26));
        assert_eq!(ok("R6-4-26"), d(2024, 4, 26));
        assert_eq!(ok("r6.4.26"), d(2024, 4, 26));
        assert_eq!(ok("h31.4.30"), d(2019, 4, 30));
        assert_eq!(ok("s64.1.7"), d(1989, 1, 7));
        assert_eq!(ok("R060426"), d(2024, 4, 26));
        assert_eq!(ok("令和6.4.26"), d(2024, 4, 26));
    }

    #[test]
    fn full_width_everywhere() {
        assert_eq!(ok("２０２４－０４－２６"), d(2024, 4, 26));
        assert_eq!(ok("２０２４／４／２６"), d(2024, 4, 26));
        assert_eq!(ok("２０２４０４２６"), d(2024, 4, 26));
        assert_eq!(ok("令和６年４月２６日"), d(2024, 4, 26));
        assert_eq!(ok("Ｒ６．４．２６"), d(2024, 4, 26));
        assert_eq!(ok("ｒ０６／０４／２６"), d(2024, 4, 26));
        assert_eq!(ok("Ｈ３１．４．３０"), d(2019, 4, 30));
    }

    #[test]
    fn dates_outside_their_era_are_errors() {
        assert_eq!(
            parse_date("平成32年1月1日"),
            Err(DateError::OutOfEra("平成"))
        );
        assert_eq!(
            parse_date("令和1年4月1日"),
            Err(DateError::OutOfEra("令和"))
        );
        assert_eq!(
            parse_date("令和元年4月30日"),
            Err(DateError::OutOfEra("令和"))
        );
        assert_eq!(
            parse_date("平成31年5月1日"),
            Err(DateError::OutOfEra("平成"))
        );
        assert_eq!(
            parse_date("昭和64年1月8日"),
            Err(DateError::OutOfEra("昭和"))
        );
        assert_eq!(
            parse_date("平成元年1月7日"),
            Err(DateError::OutOfEra("平成"))
        );
        assert_eq!(
            parse_date("昭和元年12月24日"),
            Err(DateError::OutOfEra("昭和"))
        );
        assert_eq!(parse_date("H0.1.1"), Err(DateError::OutOfEra("平成")));
        let msg = DateError::OutOfEra("平成").to_string();
        assert_eq!(msg, "平成は1989年1月8日から2019年4月30日までです");
    }

    #[test]
    fn meiji_and_taisho_error_clearly() {
        assert_eq!(
            parse_date("大正15年12月24日"),
            Err(DateError::UnsupportedEra)
        );
        assert_eq!(
            parse_date("明治45年7月29日"),
            Err(DateError::UnsupportedEra)
        );
        assert_eq!(parse_date("T15.12.24"), Err(DateError::UnsupportedEra));
        assert_eq!(parse_date("M45.7.29"), Err(DateError::UnsupportedEra));
    }

    #[test]
    fn impossible_and_malformed_dates_are_errors() {
        assert_eq!(parse_date("2023-02-29"), Err(DateError::Impossible));
        assert_eq!(parse_date("2024-13-01"), Err(DateError::Impossible));
        assert_eq!(parse_date("20230229"), Err(DateError::Impossible));
        assert_eq!(parse_date("令和5年2月29日"), Err(DateError::Impossible));
        assert_eq!(parse_date("2024-04-00"), Err(DateError::Impossible));
        assert_eq!(ok("2024-02-29"), d(2024, 2, 29));
        for bad in [
            "",
            "   ",
            "2024",
            "2024-04",
            "2024-04-26x",
            "2024/04-26",
            "24-04-26",
            "2024-004-26",
            "令和6年4月",
            "R6",
            "X6.4.26",
            "令和6年4月26日extra",
            "R123.4.5",
            "2024年4-26",
            "1234567",
            "abc",
            "2024-04-26T",
            "R6..4.26",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn years_outside_the_calendar_are_errors() {
        assert_eq!(parse_date("1899-12-31"), Err(DateError::OutOfRange));
        assert_eq!(parse_date("2100-01-01"), Err(DateError::OutOfRange));
        assert_eq!(parse_date("00240426"), Err(DateError::OutOfRange));
        assert_eq!(parse_date("令和82年1月1日"), Err(DateError::OutOfRange));
    }

    fn ts(s: &str) -> RegisteredAt {
        parse_timestamp(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, mi, s).unwrap()
    }

    #[test]
    fn timestamps_with_offset_are_converted_to_jst() {
        let a = ts("2024-05-01T10:00:00+09:00");
        assert_eq!(a.utc, utc(2024, 5, 1, 1, 0, 0));
        assert_eq!(a.jst_date, d(2024, 5, 1));
        let b = ts("2024-05-01T01:00:00Z");
        assert_eq!(b, a);
        // 15:00 UTC is already midnight of the next day in Japan.
        assert_eq!(ts("2024-04-30T15:00:00Z").jst_date, d(2024, 5, 1));
        assert_eq!(ts("2024-04-30T14:59:59.999Z").jst_date, d(2024, 4, 30));
        assert_eq!(ts("2024-05-01T10:00:00+0900"), a);
        assert_eq!(ts("2024-05-01T10:00:00+09"), a);
        assert_eq!(ts("2024-04-30T20:00:00-05:00").jst_date, d(2024, 5, 1));
        assert_eq!(ts("2024-05-01 10:00:00 JST"), a);
        assert_eq!(ts("2024-05-01 01:00:00 UTC"), a);
    }

    #[test]
    fn timestamps_without_offset_are_jst() {
        let want = RegisteredAt {
            utc: utc(2024, 5, 1, 1, 0, 0),
            jst_date: d(2024, 5, 1),
        };
        assert_eq!(ts("2024-05-01 10:00:00"), want);
        assert_eq!(ts("2024-05-01 10:00"), want);
        assert_eq!(ts("2024/5/1 10:00:00"), want);
        assert_eq!(ts("2024-05-01T10:00"), want);
        assert_eq!(ts("令和6年5月1日 10:00"), want);
        assert_eq!(ts("令和6年5月1日10時00分"), want);
        assert_eq!(ts("令和6年5月1日 10時0分0秒"), want);
        assert_eq!(ts("R6.5.1 10:00:00"), want);
        assert_eq!(ts("２０２４／５／１　１０：００"), want);
        assert_eq!(ts("20240501 10:00"), want);
        // 00:30 JST is still the previous day in UTC; the JST date is the one that counts.
        let early = ts("2024-05-01 00:30");
        assert_eq!(early.utc, utc(2024, 4, 30, 15, 30, 0));
        assert_eq!(early.jst_date, d(2024, 5, 1));
    }

    #[test]
    fn date_alone_is_midnight_jst() {
        let want = RegisteredAt {
            utc: utc(2024, 4, 30, 15, 0, 0),
            jst_date: d(2024, 5, 1),
        };
        assert_eq!(ts("2024-05-01"), want);
        assert_eq!(ts("令和6年5月1日"), want);
        assert_eq!(ts(" R6.5.1 "), want);
    }

    #[test]
    fn fractional_seconds_are_kept() {
        let a = ts("2024-05-01T10:00:00.123456+09:00");
        assert_eq!(
            a.utc,
            d(2024, 5, 1).and_hms_micro_opt(1, 0, 0, 123_456).unwrap()
        );
        let b = ts("2024-05-01 10:00:00.123456789012");
        assert_eq!(
            b.utc,
            d(2024, 5, 1)
                .and_hms_nano_opt(1, 0, 0, 123_456_789)
                .unwrap()
        );
    }

    #[test]
    fn bad_timestamps_are_errors() {
        assert_eq!(parse_timestamp("2024-05-01 25:00"), Err(DateError::Time));
        assert_eq!(parse_timestamp("2024-05-01 10:60"), Err(DateError::Time));
        assert_eq!(parse_timestamp("2024-05-01 10:00:60"), Err(DateError::Time));
        assert_eq!(parse_timestamp("2024-05-01 10"), Err(DateError::Time));
        assert_eq!(parse_timestamp("2024-05-01T"), Err(DateError::Time));
        assert_eq!(
            parse_timestamp("2024-05-01 10:00+25:00"),
            Err(DateError::Offset)
        );
        assert_eq!(
            parse_timestamp("2024-05-01 10:00 +9"),
            Err(DateError::Offset)
        );
        assert_eq!(
            parse_timestamp("2024-05-01 10:00 later"),
            Err(DateError::Format)
        );
        assert_eq!(
            parse_timestamp("2023-02-29 10:00"),
            Err(DateError::Impossible)
        );
        assert_eq!(parse_timestamp(""), Err(DateError::Format));
    }

    #[test]
    fn fixed_offset_agrees_with_asia_tokyo() {
        use chrono::TimeZone;
        for (y, m) in [(1989, 1), (2000, 7), (2019, 5), (2024, 12), (2099, 12)] {
            let local = d(y, m, 1).and_hms_opt(3, 4, 5).unwrap();
            let tokyo = chrono_tz::Asia::Tokyo
                .from_local_datetime(&local)
                .single()
                .unwrap();
            assert_eq!(tokyo.naive_utc(), local - JST);
        }
    }

    fn era_of(date: NaiveDate) -> (&'static str, char, i32) {
        let era = ERAS
            .iter()
            .find(|e| {
                let f = NaiveDate::from_ymd_opt(e.first.0, e.first.1, e.first.2).unwrap();
                date >= f
            })
            .unwrap();
        (
            era.name,
            char::from(era.letter),
            date.year() - era.first.0 + 1,
        )
    }

    use chrono::Datelike;

    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                _ => c,
            })
            .collect()
    }

    proptest! {
        /// Every written form of one day reads back as that day.
        #[test]
        fn every_form_of_a_date_reads_the_same(days in 0i64..(365 * 110)) {
            let date = d(1989, 1, 8) + TimeDelta::days(days);
            prop_assume!(date.year() <= MAX_YEAR);
            let (y, m, dd) = (date.year(), date.month(), date.day());
            let (era, letter, ey) = era_of(date);
            let era_year = if ey == 1 { "元".to_string() } else { ey.to_string() };
            let forms = [
                format!("{y:04}-{m:02}-{dd:02}"),
                format!("{y}/{m}/{dd}"),
                format!("{y:04}{m:02}{dd:02}"),
                format!("{era}{era_year}年{m}月{dd}日"),
                format!("{letter}{ey}.{m}.{dd}"),
                format!("{letter}{ey:02}.{m:02}.{dd:02}"),
                format!("{}{ey}/{m}/{dd}", letter.to_ascii_lowercase()),
                full_width(&format!("{era}{ey}年{m}月{dd}日")),
                full_width(&format!("{y}/{m}/{dd}")),
            ];
            for f in &forms {
                prop_assert_eq!(parse_date(f), Ok(date), "{}", f);
            }
            let at = parse_timestamp(&format!("{} 12:34:56", forms[3])).unwrap();
            prop_assert_eq!(at.jst_date, date);
        }
    }
}
