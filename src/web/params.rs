//! Request parameters shared by the areas: list paging and the JSON body configuration.
use super::error::WebError;
use actix_web::web;

/// `page` and `per_page` of a list query: 1-based, `per_page` capped at `max`.
pub fn page_args(
    page: &Option<String>,
    per_page: &Option<String>,
    default: i64,
    max: i64,
) -> Result<(i64, i64), WebError> {
    let int = |field: &str, v: &Option<String>, d: i64| -> Result<i64, WebError> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(d),
            Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "{field} は 1 以上の整数で指定してください（指定: {s}）"
                ))
            }),
        }
    };
    Ok((
        int("page", page, 1)?,
        int("per_page", per_page, default)?.min(max),
    ))
}

/// Pages of a list of `total` rows.
pub fn page_count(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page.max(1)).max(1)
}

/// JSON bodies that do not parse get the usual JSON error body (actix's default is plain text); one
/// over the limit is a 413.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(|e, _| {
            use actix_web::error::JsonPayloadError as E;
            match e {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => WebError::TooLarge(format!(
                    "JSON が大きすぎます（{} KiB まで）",
                    JSON_LIMIT / 1024
                )),
                e => WebError::BadRequest(format!("JSON の内容を読み取れません（{e}）")),
            }
            .into()
        })
}

/// A request body that could not be read whole: 413 over the limit, 400 otherwise.
pub fn body_error(e: &actix_web::Error) -> WebError {
    use actix_web::error::PayloadError;
    match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => WebError::TooLarge(format!(
            "本文が大きすぎます（{} KiB まで）",
            JSON_LIMIT / 1024
        )),
        _ => WebError::BadRequest(format!("本文を読み取れません（{e}）")),
    }
}

/// The largest JSON body an API call reads.
pub const JSON_LIMIT: usize = 256 * 1024;

/// A query string or path that does not fit its handler's parameters: the usual JSON error body
/// under `/api/` (a path 404, a query 400); pages keep actix's answer.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, req| {
        if is_api(req) {
            WebError::BadRequest(format!("クエリ文字列を読み取れません（{e}）")).into()
        } else {
            e.into()
        }
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, req| {
        if is_api(req) {
            WebError::NotFound.into()
        } else {
            e.into()
        }
    })
}

fn is_api(req: &actix_web::HttpRequest) -> bool {
    req.path().starts_with("/api/")
}
