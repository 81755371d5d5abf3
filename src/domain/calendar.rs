//! Japanese administrative-holiday calendar (行政機関の休日), computed from the 祝日法 and tabled for 1989–2099.
//!
//! The holidays are derived from the rules of the law as in force in each year (not typed in), so the
//! calendar does not run out next year. Every day of 1989–2099 is classified once into a byte table
//! plus a business-day index, because deadlines are computed for millions of notices; outside that
//! range the same rules are evaluated on demand.
use chrono::{Datelike, NaiveDate, Weekday};
use std::fmt;
use std::sync::OnceLock;

/// First and last year held in the precomputed table.
pub const TABLE_FIRST_YEAR: i32 = 1989;
pub const TABLE_LAST_YEAR: i32 = 2099;

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

/// 国民の祝日に関する法律 (昭和23年法律第178号) came into force on 1948-07-20; no day before is a holiday.
const LAW_IN_FORCE: NaiveDate = ymd(1948, 7, 20);
/// 振替休日 created by the 1973 amendment (昭和48年法律第10号), in force 1973-04-12.
const SUBSTITUTE_FROM: NaiveDate = ymd(1973, 4, 12);
/// 国民の休日 created by the 1985 amendment (昭和60年法律第103号), in force 1985-12-27.
const CITIZENS_HOLIDAY_FROM: NaiveDate = ymd(1985, 12, 27);
/// The 2005 amendment (平成17年法律第43号) took effect 2007-01-01: 振替休日 moves to the next non-祝日,
/// 国民の休日 no longer excludes Sundays, 4/29 becomes 昭和の日 and みどりの日 moves to 5/4.
const REFORM_2007: NaiveDate = ymd(2007, 1, 1);

/// A national holiday. The discriminant is the code stored in the table (0 is a working day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Holiday {
    NewYear = 1,
    ComingOfAge,
    NationalFoundation,
    EmperorsBirthday,
    VernalEquinox,
    Showa,
    Constitution,
    Greenery,
    Children,
    Marine,
    Mountain,
    RespectForAged,
    AutumnalEquinox,
    HealthSports,
    Sports,
    Culture,
    LaborThanksgiving,
    Substitute,
    Citizens,
    CrownPrinceWedding1959,
    ShowaFuneral,
    EnthronementCeremony,
    CrownPrinceWedding1993,
    Accession,
}

impl Holiday {
    /// In code order, so that `ALL[code - 1]` decodes a table byte.
    const ALL: [Holiday; 24] = [
        Holiday::NewYear,
        Holiday::ComingOfAge,
        Holiday::NationalFoundation,
        Holiday::EmperorsBirthday,
        Holiday::VernalEquinox,
        Holiday::Showa,
        Holiday::Constitution,
        Holiday::Greenery,
        Holiday::Children,
        Holiday::Marine,
        Holiday::Mountain,
        Holiday::RespectForAged,
        Holiday::AutumnalEquinox,
        Holiday::HealthSports,
        Holiday::Sports,
        Holiday::Culture,
        Holiday::LaborThanksgiving,
        Holiday::Substitute,
        Holiday::Citizens,
        Holiday::CrownPrinceWedding1959,
        Holiday::ShowaFuneral,
        Holiday::EnthronementCeremony,
        Holiday::CrownPrinceWedding1993,
        Holiday::Accession,
    ];

    /// The name used by 内閣府「国民の祝日」について and the special laws.
    fn name(self) -> &'static str {
        match self {
            Holiday::NewYear => "元日",
            Holiday::ComingOfAge => "成人の日",
            Holiday::NationalFoundation => "建国記念の日",
            Holiday::EmperorsBirthday => "天皇誕生日",
            Holiday::VernalEquinox => "春分の日",
            Holiday::Showa => "昭和の日",
            Holiday::Constitution => "憲法記念日",
            Holiday::Greenery => "みどりの日",
            Holiday::Children => "こどもの日",
            Holiday::Marine => "海の日",
            Holiday::Mountain => "山の日",
            Holiday::RespectForAged => "敬老の日",
            Holiday::AutumnalEquinox => "秋分の日",
            Holiday::HealthSports => "体育の日",
            Holiday::Sports => "スポーツの日",
            Holiday::Culture => "文化の日",
            Holiday::LaborThanksgiving => "勤労感謝の日",
            Holiday::Substitute => "振替休日",
            Holiday::Citizens => "国民の休日",
            Holiday::CrownPrinceWedding1959 => "皇太子明仁親王の結婚の儀",
            Holiday::ShowaFuneral => "昭和天皇の大喪の礼",
            Holiday::EnthronementCeremony => "即位礼正殿の儀",
            Holiday::CrownPrinceWedding1993 => "皇太子徳仁親王の結婚の儀",
            Holiday::Accession => "天皇の即位の日",
        }
    }
}

/// Table codes above the national holidays: why a non-holiday day is still closed.
const WORKING_DAY: u8 = 0;
const YEAR_END: u8 = 100;
const SATURDAY: u8 = 101;
const SUNDAY: u8 = 102;

fn national_name(code: u8) -> Option<&'static str> {
    let i = usize::from(code).checked_sub(1)?;
    Holiday::ALL.get(i).map(|h| h.name())
}

fn reason_name(code: u8) -> Option<&'static str> {
    match code {
        WORKING_DAY => None,
        YEAR_END => Some("年末年始"),
        SATURDAY => Some("土曜日"),
        SUNDAY => Some("日曜日"),
        _ => national_name(code),
    }
}

/// The administrative-holiday calendar. Obtain the shared instance with [`Calendar::get`].
pub struct Calendar {
    /// `num_days_from_ce` of 1989-01-01, the table's day 0.
    first_ce: i32,
    /// One code per day: 0 working day, 1..=24 a national holiday, or YEAR_END / SATURDAY / SUNDAY.
    reasons: Box<[u8]>,
    /// `rank[i]` = number of business days among table days `0..i`; one entry longer than `reasons`.
    /// The span (about 40 500 days) fits in u16, which halves the cache footprint.
    rank: Box<[u16]>,
    /// Table day numbers of the business days, ascending: the k-th business day is `business[k]`.
    business: Box<[u16]>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("table_years", &(TABLE_FIRST_YEAR..=TABLE_LAST_YEAR))
            .field("business_days", &self.business.len())
            .finish()
    }
}

impl Calendar {
    /// The process-wide calendar; the table is built on first use (a few milliseconds).
    pub fn get() -> &'static Calendar {
        static CALENDAR: OnceLock<Calendar> = OnceLock::new();
        CALENDAR.get_or_init(Calendar::build)
    }

    fn build() -> Calendar {
        let first = ymd(TABLE_FIRST_YEAR, 1, 1);
        let last = ymd(TABLE_LAST_YEAR, 12, 31);
        let len = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
        debug_assert!(len <= usize::from(u16::MAX));
        let mut reasons = Vec::with_capacity(len);
        let mut rank = Vec::with_capacity(len + 1);
        let mut business = Vec::with_capacity(len * 5 / 7);
        for (i, d) in first.iter_days().take(len).enumerate() {
            rank.push(business.len() as u16);
            let code = compute_reason(d);
            if code == WORKING_DAY {
                business.push(i as u16);
            }
            reasons.push(code);
        }
        rank.push(business.len() as u16);
        Calendar {
            first_ce: first.num_days_from_ce(),
            reasons: reasons.into_boxed_slice(),
            rank: rank.into_boxed_slice(),
            business: business.into_boxed_slice(),
        }
    }

    fn index(&self, d: NaiveDate) -> Option<usize> {
        let off = usize::try_from(d.num_days_from_ce().checked_sub(self.first_ce)?).ok()?;
        (off < self.reasons.len()).then_some(off)
    }

    fn day_at(&self, index: u16) -> NaiveDate {
        let ce = self.first_ce + i32::from(index);
        NaiveDate::from_num_days_from_ce_opt(ce).unwrap_or(NaiveDate::MAX)
    }

    fn reason_code(&self, d: NaiveDate) -> u8 {
        match self.index(d) {
            Some(i) => self.reasons[i],
            None => compute_reason(d),
        }
    }

    /// The national holiday (祝日, 振替休日, 国民の休日 or a day made a holiday by a special law) on `d`.
    pub fn holiday_name(&self, d: NaiveDate) -> Option<&'static str> {
        national_name(self.reason_code(d))
    }

    pub fn is_national_holiday(&self, d: NaiveDate) -> bool {
        self.holiday_name(d).is_some()
    }

    /// 行政機関の休日: Saturday, Sunday, national holiday, or 29 December – 3 January.
    pub fn is_admin_holiday(&self, d: NaiveDate) -> bool {
        self.reason_code(d) != WORKING_DAY
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !self.is_admin_holiday(d)
    }

    /// Why `d` is an administrative holiday; the national holiday's name wins over 年末年始, which
    /// wins over the weekday, so 1/1 reads 「元日」 and a Saturday 12/30 reads 「年末年始」.
    pub fn admin_holiday_reason(&self, d: NaiveDate) -> Option<&'static str> {
        reason_name(self.reason_code(d))
    }

    /// `d` itself when it is a business day, else the first business day after it.
    pub fn next_business_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        if let Some(i) = self.index(d) {
            if let Some(&b) = self.business.get(usize::from(self.rank[i])) {
                return self.day_at(b);
            }
        }
        self.scan_to_business_day(d)
    }

    /// The n-th business day after `start` (start itself is not counted, 初日不算入); `start` when n = 0.
    pub fn add_business_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return start;
        }
        if let Some(i) = self.index(start) {
            // rank[i + 1] counts business days up to and including start, i.e. the position of the
            // first business day after it.
            let k = usize::from(self.rank[i + 1]) + (n as usize - 1);
            if let Some(&b) = self.business.get(k) {
                return self.day_at(b);
            }
        }
        let mut d = start;
        for _ in 0..n {
            match d.succ_opt() {
                Some(next) => d = self.scan_to_business_day(next),
                None => return NaiveDate::MAX,
            }
        }
        d
    }

    /// Slow path outside the table. Runs of holidays are short (at most about ten days), and the
    /// loop ends at the last representable date, so it always terminates.
    fn scan_to_business_day(&self, mut d: NaiveDate) -> NaiveDate {
        while self.is_admin_holiday(d) {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
        }
        d
    }

    /// The national holidays of `year` in date order (no weekends, no 年末年始).
    pub fn holidays_in_year(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter_map(|d| self.holiday_name(d).map(|name| (d, name)))
            .collect()
    }
}

fn is_year_end(d: NaiveDate) -> bool {
    matches!((d.month(), d.day()), (12, 29..=31) | (1, 1..=3))
}

fn compute_reason(d: NaiveDate) -> u8 {
    if let Some(h) = national_holiday(d) {
        return h as u8;
    }
    if is_year_end(d) {
        return YEAR_END;
    }
    match d.weekday() {
        Weekday::Sat => SATURDAY,
        Weekday::Sun => SUNDAY,
        _ => WORKING_DAY,
    }
}

/// 祝日法 art. 3: a 国民の祝日 itself, else 振替休日 (para. 2), else 国民の休日 (para. 3).
fn national_holiday(d: NaiveDate) -> Option<Holiday> {
    if let Some(h) = statutory_holiday(d) {
        Some(h)
    } else if is_substitute_holiday(d) {
        Some(Holiday::Substitute)
    } else if is_citizens_holiday(d) {
        Some(Holiday::Citizens)
    } else {
        None
    }
}

/// Art. 3 para. 2. Until 2006 only the day right after a Sunday 祝日 was a 振替休日 (so a Sunday 祝日
/// followed by another 祝日 gave none); from 2007 it is the first day after it that is not a 祝日.
fn is_substitute_holiday(d: NaiveDate) -> bool {
    if d < SUBSTITUTE_FROM {
        return false;
    }
    if d < REFORM_2007 {
        return d
            .pred_opt()
            .is_some_and(|p| p.weekday() == Weekday::Sun && statutory_holiday(p).is_some());
    }
    let mut cursor = d.pred_opt();
    while let Some(p) = cursor {
        if statutory_holiday(p).is_none() {
            return false;
        }
        if p.weekday() == Weekday::Sun {
            return true;
        }
        cursor = p.pred_opt();
    }
    false
}

/// Art. 3 para. 3: a day between two 祝日 that is not itself one. Until 2006 the law excluded Sundays
/// (and 振替休日, already handled by the caller's order). This is what makes 2019-04-30, 2019-05-02,
/// 2009-09-22 and 2026-09-22 holidays, and 5/4 before 2007.
fn is_citizens_holiday(d: NaiveDate) -> bool {
    if d < CITIZENS_HOLIDAY_FROM || (d < REFORM_2007 && d.weekday() == Weekday::Sun) {
        return false;
    }
    match (d.pred_opt(), d.succ_opt()) {
        (Some(p), Some(n)) => statutory_holiday(p).is_some() && statutory_holiday(n).is_some(),
        _ => false,
    }
}

/// Days made holidays by special laws. Each of those laws deems the day a 国民の祝日 for art. 3
/// paras. 2 and 3, which is why 2019-04-30 and 2019-05-02 became 国民の休日.
fn one_off_holiday(d: NaiveDate) -> Option<Holiday> {
    match (d.year(), d.month(), d.day()) {
        (1959, 4, 10) => Some(Holiday::CrownPrinceWedding1959),
        (1989, 2, 24) => Some(Holiday::ShowaFuneral),
        (1990, 11, 12) => Some(Holiday::EnthronementCeremony),
        (1993, 6, 9) => Some(Holiday::CrownPrinceWedding1993),
        (2019, 5, 1) => Some(Holiday::Accession),
        (2019, 10, 22) => Some(Holiday::EnthronementCeremony),
        _ => None,
    }
}

fn is_nth_monday(d: NaiveDate, n: u32) -> bool {
    d.weekday() == Weekday::Mon && d.day().div_ceil(7) == n
}

/// The 国民の祝日 of art. 2 (with the amendments in force on `d`) and the special-law days.
fn statutory_holiday(d: NaiveDate) -> Option<Holiday> {
    use Holiday::*;
    if d < LAW_IN_FORCE {
        return None;
    }
    if let Some(h) = one_off_holiday(d) {
        return Some(h);
    }
    let y = d.year();
    let day = d.day();
    match d.month() {
        1 if day == 1 => Some(NewYear),
        // ハッピーマンデー (平成10年法律第141号) from 2000.
        1 if (y < 2000 && day == 15) || (y >= 2000 && is_nth_monday(d, 2)) => Some(ComingOfAge),
        2 if day == 11 && y >= 1967 => Some(NationalFoundation),
        // The birthday of the reigning emperor; 2019 had none (12/23 ended with the abdication on
        // 4/30, 2/23 began in 2020).
        2 if day == 23 && y >= 2020 => Some(EmperorsBirthday),
        3 if Some(day) == vernal_equinox_day(y) => Some(VernalEquinox),
        4 if day == 29 => Some(match y {
            ..=1988 => EmperorsBirthday,
            1989..=2006 => Greenery,
            _ => Showa,
        }),
        5 if day == 3 => Some(Constitution),
        5 if day == 4 && y >= 2007 => Some(Greenery),
        5 if day == 5 => Some(Children),
        7 if Some(day) == marine_day(d) => Some(Marine),
        // 東京オリンピック特措法 moved スポーツの日 into July in 2020 and 2021.
        7 if (y, day) == (2020, 24) || (y, day) == (2021, 23) => Some(Sports),
        8 if Some(day) == mountain_day(y) => Some(Mountain),
        9 if respect_for_aged_day(d) => Some(RespectForAged),
        9 if Some(day) == autumnal_equinox_day(y) => Some(AutumnalEquinox),
        10 if sports_day(d) => Some(if y >= 2020 { Sports } else { HealthSports }),
        11 if day == 3 => Some(Culture),
        11 if day == 23 => Some(LaborThanksgiving),
        12 if day == 23 && (1989..=2018).contains(&y) => Some(EmperorsBirthday),
        _ => None,
    }
}

/// 海の日: 7/20 from 1996, the third Monday of July from 2003 (平成13年法律第59号), moved in 2020/2021.
fn marine_day(d: NaiveDate) -> Option<u32> {
    match d.year() {
        ..=1995 => None,
        1996..=2002 => Some(20),
        2020 => Some(23),
        2021 => Some(22),
        _ => is_nth_monday(d, 3).then_some(d.day()),
    }
}

/// 山の日 (平成26年法律第43号) from 2016, moved for the Olympics in 2020 and 2021.
fn mountain_day(y: i32) -> Option<u32> {
    match y {
        ..=2015 => None,
        2020 => Some(10),
        2021 => Some(8),
        _ => Some(11),
    }
}

/// 敬老の日: 9/15 from 1966, the third Monday of September from 2003.
fn respect_for_aged_day(d: NaiveDate) -> bool {
    match d.year() {
        ..=1965 => false,
        1966..=2002 => d.day() == 15,
        _ => is_nth_monday(d, 3),
    }
}

/// 体育の日 10/10 from 1966, the second Monday of October from 2000, renamed スポーツの日 in 2020
/// (which that year and the next was in July instead).
fn sports_day(d: NaiveDate) -> bool {
    match d.year() {
        ..=1965 => false,
        1966..=1999 => d.day() == 10,
        2020 | 2021 => false,
        _ => is_nth_monday(d, 2),
    }
}

/// The usual approximation of the equinox day (as used by 国立天文台's predictions): valid 1900–2150
/// with the constants of each era. The law leaves the date to the 官報 announcement of the previous
/// February; beyond 2150 this is a best-effort extrapolation. Integer micro-days avoid floating-point
/// rounding at the floor.
fn equinox_day(y: i32, micro_days: [i64; 3]) -> Option<u32> {
    let y = i64::from(y);
    let (base, leap_anchor) = match y {
        ..=1979 => (micro_days[0], 1983),
        1980..=2099 => (micro_days[1], 1980),
        _ => (micro_days[2], 1980),
    };
    let value = base + 242_194 * (y - 1980) - 1_000_000 * (y - leap_anchor).div_euclid(4);
    u32::try_from(value.div_euclid(1_000_000))
        .ok()
        .filter(|d| (1..=31).contains(d))
}

fn vernal_equinox_day(y: i32) -> Option<u32> {
    equinox_day(y, [20_835_700, 20_843_100, 21_851_000])
}

fn autumnal_equinox_day(y: i32) -> Option<u32> {
    equinox_day(y, [23_258_800, 23_248_800, 24_248_800])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every national holiday of 2016–2027 as published by 内閣府 「国民の祝日」について
    /// (振替休日 and 国民の休日 included; the 2019 special-law days under the names of their laws).
    const PUBLISHED: &[(&str, &str)] = &[
        // 2016
        ("2016-01-01", "元日"),
        ("2016-01-11", "成人の日"),
        ("2016-02-11", "建国記念の日"),
        ("2016-03-20", "春分の日"),
        ("2016-03-21", "振替休日"),
        ("2016-04-29", "昭和の日"),
        ("2016-05-03", "憲法記念日"),
        ("2016-05-04", "みどりの日"),
        ("2016-05-05", "こどもの日"),
        ("2016-07-18", "海の日"),
        ("2016-08-11", "山の日"),
        ("2016-09-19", "敬老の日"),
        ("2016-09-22", "秋分の日"),
        ("2016-10-10", "体育の日"),
        ("2016-11-03", "文化の日"),
        ("2016-11-23", "勤労感謝の日"),
        ("2016-12-23", "天皇誕生日"),
        // 2017
        ("2017-01-01", "元日"),
        ("2017-01-02", "振替休日"),
        ("2017-01-09", "成人の日"),
        ("2017-02-11", "建国記念の日"),
        ("2017-03-20", "春分の日"),
        ("2017-04-29", "昭和の日"),
        ("2017-05-03", "憲法記念日"),
        ("2017-05-04", "みどりの日"),
        ("2017-05-05", "こどもの日"),
        ("2017-07-17", "海の日"),
        ("2017-08-11", "山の日"),
        ("2017-09-18", "敬老の日"),
        ("2017-09-23", "秋分の日"),
        ("2017-10-09", "体育の日"),
        ("2017-11-03", "文化の日"),
        ("2017-11-23", "勤労感謝の日"),
        ("2017-12-23", "天皇誕生日"),
        // 2018
        ("2018-01-01", "元日"),
        ("2018-01-08", "成人の日"),
        ("2018-02-11", "建国記念の日"),
        ("2018-02-12", "振替休日"),
        ("2018-03-21", "春分の日"),
        ("2018-04-29", "昭和の日"),
        ("2018-04-30", "振替休日"),
        ("2018-05-03", "憲法記念日"),
        ("2018-05-04", "みどりの日"),
        ("2018-05-05", "こどもの日"),
        ("2018-07-16", "海の日"),
        ("2018-08-11", "山の日"),
        ("2018-09-17", "敬老の日"),
        ("2018-09-23", "秋分の日"),
        ("2018-09-24", "振替休日"),
        ("2018-10-08", "体育の日"),
        ("2018-11-03", "文化の日"),
        ("2018-11-23", "勤労感謝の日"),
        ("2018-12-23", "天皇誕生日"),
        ("2018-12-24", "振替休日"),
        // 2019
        ("2019-01-01", "元日"),
        ("2019-01-14", "成人の日"),
        ("2019-02-11", "建国記念の日"),
        ("2019-03-21", "春分の日"),
        ("2019-04-29", "昭和の日"),
        ("2019-04-30", "国民の休日"),
        ("2019-05-01", "天皇の即位の日"),
        ("2019-05-02", "国民の休日"),
        ("2019-05-03", "憲法記念日"),
        ("2019-05-04", "みどりの日"),
        ("2019-05-05", "こどもの日"),
        ("2019-05-06", "振替休日"),
        ("2019-07-15", "海の日"),
        ("2019-08-11", "山の日"),
        ("2019-08-12", "振替休日"),
        ("2019-09-16", "敬老の日"),
        ("2019-09-23", "秋分の日"),
        ("2019-10-14", "体育の日"),
        ("2019-10-22", "即位礼正殿の儀"),
        ("2019-11-03", "文化の日"),
        ("2019-11-04", "振替休日"),
        ("2019-11-23", "勤労感謝の日"),
        // 2020
        ("2020-01-01", "元日"),
        ("2020-01-13", "成人の日"),
        ("2020-02-11", "建国記念の日"),
        ("2020-02-23", "天皇誕生日"),
        ("2020-02-24", "振替休日"),
        ("2020-03-20", "春分の日"),
        ("2020-04-29", "昭和の日"),
        ("2020-05-03", "憲法記念日"),
        ("2020-05-04", "みどりの日"),
        ("2020-05-05", "こどもの日"),
        ("2020-05-06", "振替休日"),
        ("2020-07-23", "海の日"),
        ("2020-07-24", "スポーツの日"),
        ("2020-08-10", "山の日"),
        ("2020-09-21", "敬老の日"),
        ("2020-09-22", "秋分の日"),
        ("2020-11-03", "文化の日"),
        ("2020-11-23", "勤労感謝の日"),
        // 2021
        ("2021-01-01", "元日"),
        ("2021-01-11", "成人の日"),
        ("2021-02-11", "建国記念の日"),
        ("2021-02-23", "天皇誕生日"),
        ("2021-03-20", "春分の日"),
        ("2021-04-29", "昭和の日"),
        ("2021-05-03", "憲法記念日"),
        ("2021-05-04", "みどりの日"),
        ("2021-05-05", "こどもの日"),
        ("2021-07-22", "海の日"),
        ("2021-07-23", "スポーツの日"),
        ("2021-08-08", "山の日"),
        ("2021-08-09", "振替休日"),
        ("2021-09-20", "敬老の日"),
        ("2021-09-23", "秋分の日"),
        ("2021-11-03", "文化の日"),
        ("2021-11-23", "勤労感謝の日"),
        // 2022
        ("2022-01-01", "元日"),
        ("2022-01-10", "成人の日"),
        ("2022-02-11", "建国記念の日"),
        ("2022-02-23", "天皇誕生日"),
        ("2022-03-21", "春分の日"),
        ("2022-04-29", "昭和の日"),
        ("2022-05-03", "憲法記念日"),
        ("2022-05-04", "みどりの日"),
        ("2022-05-05", "こどもの日"),
        ("2022-07-18", "海の日"),
        ("2022-08-11", "山の日"),
        ("2022-09-19", "敬老の日"),
        ("2022-09-23", "秋分の日"),
        ("2022-10-10", "スポーツの日"),
        ("2022-11-03", "文化の日"),
        ("2022-11-23", "勤労感謝の日"),
        // 2023
        ("2023-01-01", "元日"),
        ("2023-01-02", "振替休日"),
        ("2023-01-09", "成人の日"),
        ("2023-02-11", "建国記念の日"),
        ("2023-02-23", "天皇誕生日"),
        ("2023-03-21", "春分の日"),
        ("2023-04-29", "昭和の日"),
        ("2023-05-03", "憲法記念日"),
        ("2023-05-04", "みどりの日"),
        ("2023-05-05", "こどもの日"),
        ("2023-07-17", "海の日"),
        ("2023-08-11", "山の日"),
        ("2023-09-18", "敬老の日"),
        ("2023-09-23", "秋分の日"),
        ("2023-10-09", "スポーツの日"),
        ("2023-11-03", "文化の日"),
        ("2023-11-23", "勤労感謝の日"),
        // 2024
        ("2024-01-01", "元日"),
        ("2024-01-08", "成人の日"),
        ("2024-02-11", "建国記念の日"),
        ("2024-02-12", "振替休日"),
        ("2024-02-23", "天皇誕生日"),
        ("2024-03-20", "春分の日"),
        ("2024-04-29", "昭和の日"),
        ("2024-05-03", "憲法記念日"),
        ("2024-05-04", "みどりの日"),
        ("2024-05-05", "こどもの日"),
        ("2024-05-06", "振替休日"),
        ("2024-07-15", "海の日"),
        ("2024-08-11", "山の日"),
        ("2024-08-12", "振替休日"),
        ("2024-09-16", "敬老の日"),
        ("2024-09-22", "秋分の日"),
        ("2024-09-23", "振替休日"),
        ("2024-10-14", "スポーツの日"),
        ("2024-11-03", "文化の日"),
        ("2024-11-04", "振替休日"),
        ("2024-11-23", "勤労感謝の日"),
        // 2025
        ("2025-01-01", "元日"),
        ("2025-01-13", "成人の日"),
        ("2025-02-11", "建国記念の日"),
        ("2025-02-23", "天皇誕生日"),
        ("2025-02-24", "振替休日"),
        ("2025-03-20", "春分の日"),
        ("2025-04-29", "昭和の日"),
        ("2025-05-03", "憲法記念日"),
        ("2025-05-04", "みどりの日"),
        ("2025-05-05", "こどもの日"),
        ("2025-05-06", "振替休日"),
        ("2025-07-21", "海の日"),
        ("2025-08-11", "山の日"),
        ("2025-09-15", "敬老の日"),
        ("2025-09-23", "秋分の日"),
        ("2025-10-13", "スポーツの日"),
        ("2025-11-03", "文化の日"),
        ("2025-11-23", "勤労感謝の日"),
        ("2025-11-24", "振替休日"),
        // 2026
        ("2026-01-01", "元日"),
        ("2026-01-12", "成人の日"),
        ("2026-02-11", "建国記念の日"),
        ("2026-02-23", "天皇誕生日"),
        ("2026-03-20", "春分の日"),
        ("2026-04-29", "昭和の日"),
        ("2026-05-03", "憲法記念日"),
        ("2026-05-04", "みどりの日"),
        ("2026-05-05", "こどもの日"),
        ("2026-05-06", "振替休日"),
        ("2026-07-20", "海の日"),
        ("2026-08-11", "山の日"),
        ("2026-09-21", "敬老の日"),
        ("2026-09-22", "国民の休日"),
        ("2026-09-23", "秋分の日"),
        ("2026-10-12", "スポーツの日"),
        ("2026-11-03", "文化の日"),
        ("2026-11-23", "勤労感謝の日"),
        // 2027
        ("2027-01-01", "元日"),
        ("2027-01-11", "成人の日"),
        ("2027-02-11", "建国記念の日"),
        ("2027-02-23", "天皇誕生日"),
        ("2027-03-21", "春分の日"),
        ("2027-03-22", "振替休日"),
        ("2027-04-29", "昭和の日"),
        ("2027-05-03", "憲法記念日"),
        ("2027-05-04", "みどりの日"),
        ("2027-05-05", "こどもの日"),
        ("2027-07-19", "海の日"),
        ("2027-08-11", "山の日"),
        ("2027-09-20", "敬老の日"),
        ("2027-09-23", "秋分の日"),
        ("2027-10-11", "スポーツの日"),
        ("2027-11-03", "文化の日"),
        ("2027-11-23", "勤労感謝の日"),
    ];

    #[test]
    fn national_holidays_2016_to_2027_equal_the_cabinet_office_list() {
        let cal = Calendar::get();
        for year in 2016..=2027 {
            let want: BTreeSet<(NaiveDate, &str)> = PUBLISHED
                .iter()
                .map(|&(date, name)| (d(date), name))
                .filter(|(date, _)| date.year() == year)
                .collect();
            let got: BTreeSet<(NaiveDate, &str)> = cal.holidays_in_year(year).into_iter().collect();
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{year}: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    #[test]
    fn holidays_in_year_is_sorted_and_only_national() {
        let list = Calendar::get().holidays_in_year(2024);
        assert_eq!(list.len(), 21);
        assert!(list.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(list
            .iter()
            .all(|(_, n)| !matches!(*n, "土曜日" | "日曜日" | "年末年始")));
    }

    #[test]
    fn special_law_days_of_1989_1990_1993() {
        let cal = Calendar::get();
        assert_eq!(
            cal.holiday_name(d("1989-02-24")),
            Some("昭和天皇の大喪の礼")
        );
        assert_eq!(cal.holiday_name(d("1990-11-12")), Some("即位礼正殿の儀"));
        assert_eq!(
            cal.holiday_name(d("1993-06-09")),
            Some("皇太子徳仁親王の結婚の儀")
        );
        assert_eq!(cal.holiday_name(d("1989-02-23")), None);
        assert_eq!(cal.holiday_name(d("1990-11-13")), None);
    }

    #[test]
    fn emperors_birthday_follows_the_reign() {
        let cal = Calendar::get();
        assert_eq!(cal.holiday_name(d("1989-12-23")), Some("天皇誕生日"));
        assert_eq!(cal.holiday_name(d("1989-04-29")), Some("みどりの日"));
        assert_eq!(cal.holiday_name(d("2018-12-23")), Some("天皇誕生日"));
        assert_eq!(cal.holiday_name(d("2019-12-23")), None);
        assert_eq!(cal.holiday_name(d("2019-02-23")), None);
        assert_eq!(cal.holiday_name(d("2020-02-23")), Some("天皇誕生日"));
        // Outside the table the same rules apply.
        assert_eq!(cal.holiday_name(d("1988-04-29")), Some("天皇誕生日"));
    }

    #[test]
    fn citizens_holiday_under_the_old_rule_2006() {
        let cal = Calendar::get();
        // 2006-05-04 (Thursday) lay between 憲法記念日 and こどもの日.
        assert_eq!(cal.holiday_name(d("2006-05-04")), Some("国民の休日"));
        assert_eq!(cal.holiday_name(d("2006-04-29")), Some("みどりの日"));
        // 2003-05-04 was a Sunday: the old law excluded Sundays, so it was only a Sunday.
        assert_eq!(cal.holiday_name(d("2003-05-04")), None);
        // 1998-05-03 was a Sunday: its 振替休日 was the Monday 5/4, not a 国民の休日.
        assert_eq!(cal.holiday_name(d("1998-05-04")), Some("振替休日"));
        // Old 振替休日: only the Monday; 2006-01-01 (Sunday) → 01-02.
        assert_eq!(cal.holiday_name(d("2006-01-02")), Some("振替休日"));
    }

    #[test]
    fn substitute_holiday_skips_following_holidays_from_2007() {
        let cal = Calendar::get();
        // 2008-05-04 みどりの日 fell on a Sunday; 5/5 is こどもの日, so the 振替休日 is 5/6.
        assert_eq!(cal.holiday_name(d("2008-05-06")), Some("振替休日"));
        assert_eq!(cal.holiday_name(d("2007-05-04")), Some("みどりの日"));
        assert_eq!(cal.holiday_name(d("2007-04-29")), Some("昭和の日"));
        assert_eq!(cal.holiday_name(d("2007-04-30")), Some("振替休日"));
    }

    #[test]
    fn citizens_holiday_2009_and_2015_silver_week() {
        let cal = Calendar::get();
        assert_eq!(cal.holiday_name(d("2009-09-21")), Some("敬老の日"));
        assert_eq!(cal.holiday_name(d("2009-09-22")), Some("国民の休日"));
        assert_eq!(cal.holiday_name(d("2009-09-23")), Some("秋分の日"));
        assert_eq!(cal.holiday_name(d("2015-09-22")), Some("国民の休日"));
    }

    #[test]
    fn happy_monday_switch_years() {
        let cal = Calendar::get();
        assert_eq!(cal.holiday_name(d("1999-01-15")), Some("成人の日"));
        assert_eq!(cal.holiday_name(d("2000-01-10")), Some("成人の日"));
        assert_eq!(cal.holiday_name(d("2000-01-15")), None);
        assert_eq!(cal.holiday_name(d("1999-10-10")), Some("体育の日"));
        assert_eq!(cal.holiday_name(d("2000-10-09")), Some("体育の日"));
        assert_eq!(cal.holiday_name(d("1995-07-20")), None);
        assert_eq!(cal.holiday_name(d("1996-07-20")), Some("海の日"));
        assert_eq!(cal.holiday_name(d("2002-07-20")), Some("海の日"));
        assert_eq!(cal.holiday_name(d("2003-07-21")), Some("海の日"));
        assert_eq!(cal.holiday_name(d("2002-09-15")), Some("敬老の日"));
        assert_eq!(cal.holiday_name(d("2002-09-16")), Some("振替休日"));
        assert_eq!(cal.holiday_name(d("2003-09-15")), Some("敬老の日"));
        assert_eq!(cal.holiday_name(d("2015-08-11")), None);
        assert_eq!(cal.holiday_name(d("2016-08-11")), Some("山の日"));
    }

    #[test]
    fn olympic_years_moved_holidays() {
        let cal = Calendar::get();
        assert_eq!(cal.holiday_name(d("2020-10-12")), None);
        assert_eq!(cal.holiday_name(d("2021-10-11")), None);
        assert_eq!(cal.holiday_name(d("2020-07-20")), None);
        assert_eq!(cal.holiday_name(d("2021-07-19")), None);
        assert_eq!(cal.holiday_name(d("2020-08-11")), None);
        assert_eq!(cal.holiday_name(d("2021-08-11")), None);
        // 2021-07-22..25 and 2021-08-07..09 are consecutive administrative holidays.
        for s in [
            "2021-07-22",
            "2021-07-23",
            "2021-07-24",
            "2021-07-25",
            "2021-08-07",
            "2021-08-08",
            "2021-08-09",
        ] {
            assert!(cal.is_admin_holiday(d(s)), "{s}");
        }
    }

    #[test]
    fn equinoxes_by_the_formula() {
        let cal = Calendar::get();
        // 2099: 20.8431 + 0.242194 × 119 − 29 = 20.66 → 3/20; 23.2488 + 28.82 − 29 = 23.07 → 9/23.
        assert_eq!(cal.holiday_name(d("2099-03-20")), Some("春分の日"));
        assert_eq!(cal.holiday_name(d("2099-09-23")), Some("秋分の日"));
        // Late in the century the leap-year drift brings 春分 to 3/19 (2092: 19.97, 2096: 19.94).
        assert_eq!(cal.holiday_name(d("2092-03-19")), Some("春分の日"));
        assert_eq!(cal.holiday_name(d("2096-03-19")), Some("春分の日"));
        assert_eq!(cal.holiday_name(d("2012-09-22")), Some("秋分の日"));
        assert_eq!(cal.holiday_name(d("1989-03-21")), Some("春分の日"));
        assert_eq!(cal.holiday_name(d("1989-09-23")), Some("秋分の日"));
        // Every year has exactly one of each within the usual window.
        for y in 1989..=2099 {
            let list = cal.holidays_in_year(y);
            let spring: Vec<_> = list.iter().filter(|(_, n)| *n == "春分の日").collect();
            let autumn: Vec<_> = list.iter().filter(|(_, n)| *n == "秋分の日").collect();
            assert_eq!(spring.len(), 1, "{y}");
            assert_eq!(autumn.len(), 1, "{y}");
            assert!((19..=21).contains(&spring[0].0.day()), "{y}");
            assert!((22..=23).contains(&autumn[0].0.day()), "{y}");
        }
    }

    #[test]
    fn admin_holidays_include_year_end_and_weekends() {
        let cal = Calendar::get();
        // 2024-12-27 is a Friday; 12/28–1/5 are closed (weekend, 年末年始, weekend).
        assert!(!cal.is_admin_holiday(d("2024-12-27")));
        for s in [
            "2024-12-28",
            "2024-12-29",
            "2024-12-30",
            "2024-12-31",
            "2025-01-01",
            "2025-01-02",
            "2025-01-03",
        ] {
            assert!(cal.is_admin_holiday(d(s)), "{s}");
        }
        assert!(!cal.is_admin_holiday(d("2025-01-06")));
        assert_eq!(cal.admin_holiday_reason(d("2025-01-01")), Some("元日"));
        assert_eq!(cal.admin_holiday_reason(d("2025-01-02")), Some("年末年始"));
        assert_eq!(cal.admin_holiday_reason(d("2024-12-29")), Some("年末年始")); // a Sunday
        assert_eq!(cal.admin_holiday_reason(d("2024-12-28")), Some("土曜日"));
        assert_eq!(cal.admin_holiday_reason(d("2025-01-05")), Some("日曜日"));
        assert_eq!(cal.admin_holiday_reason(d("2025-01-06")), None);
        assert_eq!(
            cal.admin_holiday_reason(d("2024-05-04")),
            Some("みどりの日")
        ); // a Saturday
        assert_eq!(cal.holiday_name(d("2024-12-30")), None);
    }

    #[test]
    fn business_day_navigation() {
        let cal = Calendar::get();
        assert_eq!(
            cal.next_business_day_on_or_after(d("2024-05-03")),
            d("2024-05-07")
        );
        assert_eq!(
            cal.next_business_day_on_or_after(d("2024-05-07")),
            d("2024-05-07")
        );
        assert_eq!(cal.add_business_days(d("2024-04-26"), 0), d("2024-04-26"));
        assert_eq!(cal.add_business_days(d("2024-04-26"), 1), d("2024-04-30"));
        assert_eq!(cal.add_business_days(d("2024-04-26"), 5), d("2024-05-08"));
        // Start on a holiday: the first business day after it is day 1.
        assert_eq!(cal.add_business_days(d("2024-05-04"), 1), d("2024-05-07"));
        assert_eq!(cal.add_business_days(d("2024-12-27"), 1), d("2025-01-06"));
        // Across the end of the table the slow path continues seamlessly.
        assert_eq!(
            cal.next_business_day_on_or_after(d("2099-12-29")),
            d("2100-01-04")
        );
        assert_eq!(cal.add_business_days(d("2099-12-28"), 2), d("2100-01-05"));
    }

    #[test]
    fn table_agrees_with_the_rules_and_with_a_plain_scan() {
        let cal = Calendar::get();
        let first = ymd(TABLE_FIRST_YEAR, 1, 1);
        let last = ymd(TABLE_LAST_YEAR, 12, 31);
        for day in first.iter_days().take_while(|x| *x <= last) {
            assert_eq!(cal.reason_code(day), compute_reason(day), "{day}");
            let mut next = day;
            while compute_reason(next) != WORKING_DAY {
                next = next.succ_opt().unwrap();
            }
            assert_eq!(cal.next_business_day_on_or_after(day), next, "{day}");
        }
        for (start, n) in [
            ("1989-01-01", 1),
            ("2019-04-25", 10),
            ("2099-12-20", 3),
            ("1995-06-30", 250),
        ] {
            let mut want = d(start);
            for _ in 0..n {
                want = cal.scan_to_business_day(want.succ_opt().unwrap());
            }
            assert_eq!(cal.add_business_days(d(start), n), want, "{start} + {n}");
        }
    }

    #[test]
    fn longest_run_of_admin_holidays_is_the_2019_golden_week() {
        // A sanity check on the rules: the longest run of administrative holidays in 1989–2099 is
        // the 2019 Golden Week (4/27–5/6, 10 days), which bounds the slow-path scan.
        let cal = Calendar::get();
        let mut longest = (0, ymd(1989, 1, 1));
        let mut run = 0;
        for day in ymd(1989, 1, 1).iter_days().take_while(|x| x.year() <= 2099) {
            if cal.is_admin_holiday(day) {
                run += 1;
                if run > longest.0 {
                    longest = (run, day);
                }
            } else {
                run = 0;
            }
        }
        assert_eq!(longest, (10, d("2019-05-06")));
    }

    #[test]
    fn outside_the_table_best_effort_never_panics() {
        let cal = Calendar::get();
        assert_eq!(cal.holiday_name(d("1964-10-10")), None); // 体育の日 began in 1966
        assert_eq!(cal.holiday_name(d("1966-10-10")), Some("体育の日"));
        assert_eq!(
            cal.holiday_name(d("1959-04-10")),
            Some("皇太子明仁親王の結婚の儀")
        );
        assert_eq!(cal.holiday_name(d("1948-01-01")), None); // before the law
        assert_eq!(cal.holiday_name(d("2150-05-03")), Some("憲法記念日"));
        assert!(cal.holidays_in_year(1900).is_empty());
        let _ = cal.holidays_in_year(262_142);
        assert_eq!(
            cal.next_business_day_on_or_after(NaiveDate::MAX),
            NaiveDate::MAX
        );
        assert_eq!(cal.add_business_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        let _ = cal.admin_holiday_reason(NaiveDate::MIN);
        let _ = cal.add_business_days(NaiveDate::MIN, 3);
    }
}
