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

/// Tera filter `jst`: a UTC timestamp (`2026-10-21T00:30:00Z` as [`utc`] writes it, or
/// `2026-10-21T00:30:00` / `2026-10-21 00:30:00`) → `2026-10-21 09:30`; anything else passes
/// through unchanged.
pub fn tera_jst(
    v: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let parsed = v.as_str().and_then(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.naive_utc())
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
            .ok()
    });
    Ok(match parsed {
        Some(t) => tera::Value::String(jst_minute(t)),
        None => v.clone(),
    })
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
