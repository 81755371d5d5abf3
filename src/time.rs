//! Japan Standard Time in one place. Timestamps are stored in UTC (naive); days, deadlines and
//! what staff read are in JST. Pages, exports, e-mails and letters format through here.
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Tokyo;

/// Today's date in Japan.
pub fn today_jst() -> NaiveDate {
    chrono::Utc::now().with_timezone(&Tokyo).date_naive()
}

/// The current instant as the naive UTC the database stores.
pub fn now_utc() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A stored UTC timestamp as Japan's wall-clock time.
pub fn to_jst(utc: NaiveDateTime) -> NaiveDateTime {
    Tokyo.from_utc_datetime(&utc).naive_local()
}

/// The JST date of a stored UTC timestamp.
pub fn jst_date(utc: NaiveDateTime) -> NaiveDate {
    to_jst(utc).date()
}

/// The UTC instant at which a Japan date begins (00:00 JST): the bound a range of JST dates
/// filters stored timestamps by.
pub fn jst_day_start_utc(d: NaiveDate) -> NaiveDateTime {
    // JST has no daylight saving: midnight always exists and is 9 hours ahead of UTC.
    d.and_hms_opt(0, 0, 0).expect("midnight exists") - chrono::Duration::hours(9)
}

/// `2026-10-21 09:30` (JST) — timestamps on pages, in exports and the audit log.
pub fn jst_minute(utc: NaiveDateTime) -> String {
    to_jst(utc).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-10-21 09:30:15` (JST) — the audit log, where the seconds order what happened.
pub fn jst_second(utc: NaiveDateTime) -> String {
    to_jst(utc).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Serde for a stored (naive UTC) timestamp in a JSON body: RFC 3339 in UTC
/// (`2026-10-21T00:30:00Z`), as a `DateTime<Utc>` is written — what the OpenAPI document's
/// `date-time` promises. `#[serde(serialize_with = "crate::time::utc")]`.
pub fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.and_utc(), s)
}

/// [`utc`] for an optional timestamp (`null` when absent).
pub fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.map(|t| t.and_utc()), s)
}

/// `2026年10月21日` — dates in e-mails and other running text.
pub fn date_ja(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// 令和7年6月30日 (元年 for an era's first year): letters to members, and pages when the insurer
/// chose [`DateStyle::Wareki`]. Dates before 大正 keep the Western year.
pub fn wareki(d: NaiveDate) -> String {
    use chrono::Datelike;
    const ERAS: [(&str, i32, u32, u32); 4] = [
        ("令和", 2019, 5, 1),
        ("平成", 1989, 1, 8),
        ("昭和", 1926, 12, 25),
        ("大正", 1912, 7, 30),
    ];
    for (name, y, m, day) in ERAS {
        let start = NaiveDate::from_ymd_opt(y, m, day).expect("era start dates are valid");
        if d >= start {
            let n = d.year() - y + 1;
            let year = if n == 1 {
                "元".to_string()
            } else {
                n.to_string()
            };
            return format!("{name}{year}年{}月{}日", d.month(), d.day());
        }
    }
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// How the pages of one insurer show dates (its 設定 → 表示). One style per place: pages use the
/// insurer's choice, letters to members always 和暦 ([`wareki`]), e-mails to employers always
/// [`date_ja`], files and the API always ISO 8601 — what other programs read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    /// 2026-10-21 (sorts and compares at a glance; the default).
    #[default]
    Iso,
    /// 令和8年10月21日, as the insurer's own forms write it.
    Wareki,
}

impl DateStyle {
    pub const ALL: [DateStyle; 2] = [DateStyle::Iso, DateStyle::Wareki];

    pub fn code(self) -> &'static str {
        match self {
            DateStyle::Iso => "iso",
            DateStyle::Wareki => "wareki",
        }
    }

    pub fn parse(code: &str) -> Option<DateStyle> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DateStyle::Iso => "西暦（2026-10-21）",
            DateStyle::Wareki => "和暦（令和8年10月21日）",
        }
    }

    /// A date as this style writes it.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            DateStyle::Iso => d.format("%Y-%m-%d").to_string(),
            DateStyle::Wareki => wareki(d),
        }
    }

    /// A stored UTC timestamp as JST wall-clock time to the minute (ISO: [`jst_minute`]).
    pub fn minute(self, utc: NaiveDateTime) -> String {
        self.time(to_jst(utc), "%H:%M")
    }

    /// A wall-clock time: the date in this style, then the time as `time_format` writes it.
    fn time(self, t: NaiveDateTime, time_format: &str) -> String {
        format!("{} {}", self.date(t.date()), t.format(time_format))
    }
}

fn style_arg(args: &std::collections::HashMap<String, tera::Value>) -> DateStyle {
    args.get("style")
        .and_then(|v| v.as_str())
        .and_then(DateStyle::parse)
        .unwrap_or_default()
}

fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

/// Tera filter `jst`: a UTC timestamp (`2026-10-21T00:30:00Z` as [`utc`] writes it, or
/// `2026-10-21T00:30:00` / `2026-10-21 00:30:00`) → `2026-10-21 09:30` (or, with
/// `style="wareki"`, `令和8年10月21日 09:30`); anything else passes through unchanged.
pub fn tera_jst(
    v: &tera::Value,
    args: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    Ok(match v.as_str().and_then(parse_timestamp) {
        Some(t) => tera::Value::String(style_arg(args).minute(t)),
        None => v.clone(),
    })
}

/// Tera filter `day`: a date (`2026-10-21`), or a JST time already written by [`jst_minute`] /
/// [`jst_second`] (`2026-10-21 09:30`, `2026-10-21 09:30:15`), in the page's style — `{{ d | day(style=date_style) }}`, `date_style`
/// being in every signed-in page's context. A missing value shows as 「—」; anything else passes
/// through unchanged.
pub fn tera_day(
    v: &tera::Value,
    args: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    if v.is_null() {
        return Ok(tera::Value::String("—".into()));
    }
    let style = style_arg(args);
    let text = v.as_str().and_then(|s| {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(style.date(d));
        }
        let (t, time) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .map(|t| (t, "%H:%M"))
            .or_else(|_| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|t| (t, "%H:%M:%S"))
            })
            .ok()?;
        Some(style.time(t, time))
    });
    Ok(text.map_or_else(|| v.clone(), tera::Value::String))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_is_nine_hours_ahead_across_midnight() {
        let t = NaiveDate::from_ymd_opt(2026, 3, 31)
            .unwrap()
            .and_hms_opt(15, 30, 0)
            .unwrap();
        assert_eq!(jst_minute(t), "2026-04-01 00:30");
        assert_eq!(jst_date(t), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(date_ja(jst_date(t)), "2026年4月1日");
    }

    #[test]
    fn wareki_counts_from_gannen_and_switches_on_the_first_day_of_an_era() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(wareki(d(2025, 6, 30)), "令和7年6月30日");
        assert_eq!(wareki(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(wareki(d(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(wareki(d(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(wareki(d(1989, 1, 7)), "昭和64年1月7日");
        assert_eq!(wareki(d(2026, 10, 21)), "令和8年10月21日");
    }

    #[test]
    fn the_page_filters_follow_the_insurers_date_style() {
        let args = |style: &str| {
            let mut m = std::collections::HashMap::new();
            m.insert("style".to_string(), tera::Value::String(style.into()));
            m
        };
        let day = |v: &str, style: &str| tera_day(&tera::Value::String(v.into()), &args(style));
        assert_eq!(day("2026-10-21", "iso").unwrap(), "2026-10-21");
        assert_eq!(day("2026-10-21", "wareki").unwrap(), "令和8年10月21日");
        assert_eq!(day("2026-10", "wareki").unwrap(), "2026-10", "not a date");
        assert_eq!(
            day("2026-10-21 09:30", "wareki").unwrap(),
            "令和8年10月21日 09:30"
        );
        assert_eq!(day("2026-10-21 09:30", "iso").unwrap(), "2026-10-21 09:30");
        assert_eq!(
            day("2026-10-21 09:30:15", "wareki").unwrap(),
            "令和8年10月21日 09:30:15"
        );
        assert_eq!(tera_day(&tera::Value::Null, &args("iso")).unwrap(), "—");
        // No style given (a page without an insurer): ISO.
        let none = std::collections::HashMap::new();
        assert_eq!(
            tera_day(&tera::Value::String("2026-10-21".into()), &none).unwrap(),
            "2026-10-21"
        );
        let at = tera::Value::String("2026-10-20T15:30:00Z".into());
        assert_eq!(tera_jst(&at, &args("iso")).unwrap(), "2026-10-21 00:30");
        assert_eq!(
            tera_jst(&at, &args("wareki")).unwrap(),
            "令和8年10月21日 00:30"
        );
    }

    #[test]
    fn json_timestamps_are_rfc3339_in_utc() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "utc")]
            at: NaiveDateTime,
            #[serde(serialize_with = "utc_opt")]
            none: Option<NaiveDateTime>,
        }
        let at = NaiveDate::from_ymd_opt(2026, 10, 21)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap();
        let json = serde_json::to_string(&T { at, none: None }).unwrap();
        assert_eq!(json, r#"{"at":"2026-10-21T00:30:00Z","none":null}"#);
    }

    #[test]
    fn the_filter_formats_serde_timestamps_and_leaves_other_values() {
        let args = std::collections::HashMap::new();
        let v = tera::Value::String("2026-10-21T00:30:00".into());
        assert_eq!(
            tera_jst(&v, &args).unwrap(),
            tera::Value::String("2026-10-21 09:30".into())
        );
        let z = tera::Value::String("2026-10-21T00:30:00.5Z".into());
        assert_eq!(
            tera_jst(&z, &args).unwrap(),
            tera::Value::String("2026-10-21 09:30".into())
        );
        let other = tera::Value::String("未登録".into());
        assert_eq!(tera_jst(&other, &args).unwrap(), other);
    }
}
