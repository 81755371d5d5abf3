//! What every request passes first (outside the request logger): a URL that holds a My Number is
//! refused before it can be logged, echoed or used (SPEC §6), and every response carries the
//! security headers — a Content-Security-Policy that allows only our own scripts, no framing, no
//! MIME sniffing, no referrer to other sites, and `no-store`, because nearly every response
//! carries personal data (a response that sets its own `Cache-Control` keeps it).
use super::error::WebError;
use super::pages::PageError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::ResponseError;

/// The policy of every page: scripts and styles from this origin only (inline `style` attributes
/// are allowed; inline scripts are not), images from here or `data:`, forms post here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Why a request is refused (the number is not repeated).
pub const MY_NUMBER_IN_URL: &str =
    "URL に個人番号（マイナンバー）と思われる12桁の番号が含まれています。\
個人番号は検索条件にも使えません。受付番号・被保険者記号番号・氏名で検索してください";

/// Whether the URL's path or query (percent-decoded, `+` as space) holds a valid My Number.
pub fn url_holds_my_number(path: &str, query: &str) -> bool {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let holds = |s: &str| crate::domain::my_number::contains_valid(s);
    holds(&decode(path)) || query.split('&').any(|pair| holds(&decode(pair)))
}

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if url_holds_my_number(req.path(), req.query_string()) {
        let shown = crate::ingest::mask_digits(req.path()).into_owned();
        tracing::warn!(
            method = %req.method(),
            path = %shown,
            "refused: the URL holds a possible My Number"
        );
        let error = WebError::BadRequest(MY_NUMBER_IN_URL.into());
        let mut response = if req.path().starts_with("/api/") {
            error.error_response()
        } else {
            PageError(error).error_response()
        };
        secure(response.headers_mut());
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    secure(res.headers_mut());
    Ok(res.map_into_left_body())
}

fn secure(h: &mut header::HeaderMap) {
    let set = |h: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_number_in_any_encoding_of_the_url() {
        assert!(url_holds_my_number(
            "/api/v1/notices",
            "my_number=123456789018"
        ));
        assert!(url_holds_my_number("/api/v1/notices", "q=1234+5678+9018"));
        assert!(url_holds_my_number("/api/v1/notices", "q=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97%EF%BC%98%EF%BC%99%EF%BC%90%EF%BC%91%EF%BC%98"));
        assert!(url_holds_my_number("/notices/123456789018", ""));
        assert!(!url_holds_my_number(
            "/api/v1/notices",
            "q=123456789010&page=2"
        ));
        assert!(!url_holds_my_number(
            "/notices",
            "from=2026-04-01&to=2026-09-30"
        ));
    }
}
