//! Staffing for 資格届 (checklist 2-②): how many staff handle notices in a month, or in one ISO week
//! when the insurer overrides the month (e.g. extra staff in the first weeks of April).
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Serialize;

/// The period a staffing figure covers: a calendar month (`2026-04`) or an ISO week (`2026-W14`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaffingPeriod {
    /// The first day of the month.
    Month(NaiveDate),
    /// The Monday of the ISO week.
    Week(NaiveDate),
}

/// Why a period or a head count was refused (the message is shown to staff as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffingError {
    #[error("期間は 2026-04（月）または 2026-W14（ISO週）の形式で指定してください（指定: {0}）")]
    Period(String),
    #[error(
        "職員数は 0 より大きく 1000 未満の数（小数は第1位まで）で入力してください（指定: {0}）"
    )]
    Staff(String),
}

/// What was typed, shortened for an error message: at most 10 characters, so a 12-digit number
/// typed into the wrong field (a My Number) is never echoed back whole (SPEC §6).
fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(10).collect();
    if s.chars().count() > 10 {
        out.push('…');
    }
    out
}

impl StaffingPeriod {
    /// `YYYY-MM` or `YYYY-Www` (ISO 8601 week; full-width digits are not accepted here: the
    /// pages send what `<input type="month|week">` gives).
    pub fn parse(s: &str) -> Result<StaffingPeriod, StaffingError> {
        let t = s.trim();
        let bad = || StaffingError::Period(echo(t));
        let (y, rest) = t.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().ok().filter(|_| y.len() == 4).ok_or_else(bad)?;
        if let Some(w) = rest.strip_prefix('W').or_else(|| rest.strip_prefix('w')) {
            let week: u32 = w.parse().ok().filter(|_| w.len() == 2).ok_or_else(bad)?;
            NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
                .map(StaffingPeriod::Week)
                .ok_or_else(bad)
        } else {
            let month: u32 = rest
                .parse()
                .ok()
                .filter(|_| rest.len() == 2)
                .ok_or_else(bad)?;
            NaiveDate::from_ymd_opt(year, month, 1)
                .map(StaffingPeriod::Month)
                .ok_or_else(bad)
        }
    }

    /// From the stored (kind, first day) pair; None when the row does not describe a period.
    pub fn from_parts(kind: &str, starts_on: NaiveDate) -> Option<StaffingPeriod> {
        match kind {
            "month" if starts_on.day() == 1 => Some(StaffingPeriod::Month(starts_on)),
            "week" if starts_on.weekday() == Weekday::Mon => Some(StaffingPeriod::Week(starts_on)),
            _ => None,
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            StaffingPeriod::Month(_) => "month",
            StaffingPeriod::Week(_) => "week",
        }
    }

    pub fn starts_on(self) -> NaiveDate {
        match self {
            StaffingPeriod::Month(d) | StaffingPeriod::Week(d) => d,
        }
    }

    /// `2026-04` or `2026-W14`, the form [`StaffingPeriod::parse`] reads.
    pub fn code(self) -> String {
        match self {
            StaffingPeriod::Month(d) => format!("{:04}-{:02}", d.year(), d.month()),
            StaffingPeriod::Week(d) => {
                let w = d.iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
        }
    }

    /// 「2026年4月」 or 「2026-03-30 の週」.
    pub fn label_ja(self) -> String {
        match self {
            StaffingPeriod::Month(d) => format!("{}年{}月", d.year(), d.month()),
            StaffingPeriod::Week(d) => format!("{d} の週"),
        }
    }
}

/// A head count in full-time equivalents: more than 0, less than 1000, at most one decimal.
pub fn parse_staff(s: &str) -> Result<f64, StaffingError> {
    let t = s.trim();
    let bad = || StaffingError::Staff(echo(t));
    let decimals = t.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
    let v: f64 = t.parse().map_err(|_| bad())?;
    check_staff(v).filter(|_| decimals <= 1).ok_or_else(bad)
}

/// The same bounds for a number that arrived as JSON; the error for one out of them.
pub fn staff_from_json(v: f64) -> Result<f64, StaffingError> {
    check_staff(v).ok_or_else(|| StaffingError::Staff(echo(&v.to_string())))
}

/// The bounds of a head count (more than 0, less than 1000, one decimal at most).
pub fn check_staff(v: f64) -> Option<f64> {
    let tenths = (v * 10.0).round();
    (v.is_finite() && v > 0.0 && v < 1000.0 && (v * 10.0 - tenths).abs() < 1e-6)
        .then_some(tenths / 10.0)
}

/// The Monday of the week of `d`.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The month an ISO week belongs to: that of its Thursday (ISO 8601 assigns weeks the same way
/// to years), so a week that straddles two months takes the month's staffing where most of its
/// working days fall.
pub fn month_of_week(monday: NaiveDate) -> NaiveDate {
    let thursday = monday + Days::new(3);
    NaiveDate::from_ymd_opt(thursday.year(), thursday.month(), 1).unwrap_or(monday)
}

/// A staffing figure as entered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaffLevel {
    pub staff: f64,
    /// `week` when a week override applies, `month` when the month's figure does.
    pub source: &'static str,
}

/// The staffing of the week starting `monday`: its override, else its month's figure.
pub fn staff_for_week(entries: &[(StaffingPeriod, f64)], monday: NaiveDate) -> Option<StaffLevel> {
    let find = |p: StaffingPeriod| entries.iter().find(|(q, _)| *q == p).map(|(_, s)| *s);
    find(StaffingPeriod::Week(monday))
        .map(|staff| StaffLevel {
            staff,
            source: "week",
        })
        .or_else(|| {
            find(StaffingPeriod::Month(month_of_week(monday))).map(|staff| StaffLevel {
                staff,
                source: "month",
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_parse_and_print_back() {
        assert_eq!(
            StaffingPeriod::parse("2026-04"),
            Ok(StaffingPeriod::Month(d("2026-04-01")))
        );
        assert_eq!(
            StaffingPeriod::parse("2026-W14"),
            Ok(StaffingPeriod::Week(d("2026-03-30")))
        );
        // ISO week 1 of 2026 starts in 2025.
        assert_eq!(
            StaffingPeriod::parse("2026-W01"),
            Ok(StaffingPeriod::Week(d("2025-12-29")))
        );
        for s in ["2026-04", "2026-W14", "2026-W01", "2020-W53"] {
            assert_eq!(StaffingPeriod::parse(s).unwrap().code(), s);
        }
        for s in [
            "2026-13", "2026-4", "2026-W54", "2025-W53", "26-04", "april", "",
        ] {
            assert!(StaffingPeriod::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn staff_counts_are_positive_with_one_decimal_at_most() {
        assert_eq!(parse_staff("3"), Ok(3.0));
        assert_eq!(parse_staff(" 2.5 "), Ok(2.5));
        for s in ["0", "-1", "2.25", "1000", "x", "", "NaN", "inf"] {
            assert!(parse_staff(s).is_err(), "{s}");
        }
        assert_eq!(staff_from_json(1.5), Ok(1.5));
    }

    #[test]
    fn a_my_number_typed_into_a_staffing_field_is_not_echoed_whole() {
        let n = "123456789018";
        for e in [
            StaffingPeriod::parse(n).unwrap_err(),
            parse_staff(n).unwrap_err(),
            staff_from_json(123456789018.0).unwrap_err(),
        ] {
            assert!(!e.to_string().contains(n), "{e}");
        }
    }

    #[test]
    fn a_week_takes_its_override_else_the_month_of_its_thursday() {
        let entries = vec![
            (StaffingPeriod::Month(d("2026-03-01")), 2.0),
            (StaffingPeriod::Month(d("2026-04-01")), 4.0),
            (StaffingPeriod::Week(d("2026-04-06")), 6.0),
        ];
        // 2026-03-30 (Mon) .. 04-05: Thursday is 04-02 → April.
        assert_eq!(
            staff_for_week(&entries, d("2026-03-30")).unwrap(),
            StaffLevel {
                staff: 4.0,
                source: "month"
            }
        );
        assert_eq!(
            staff_for_week(&entries, d("2026-04-06")).unwrap().staff,
            6.0
        );
        assert_eq!(
            staff_for_week(&entries, d("2026-03-23")).unwrap().staff,
            2.0
        );
        assert_eq!(staff_for_week(&entries, d("2026-05-04")), None);
        assert_eq!(week_start(d("2026-04-05")), d("2026-03-30"));
    }
}
