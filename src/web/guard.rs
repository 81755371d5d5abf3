//! What every request passes first (outside the request logger): a URL that holds a My Number is
//! refused before it can be logged, echoed or used (SPEC §6); a form or JSON body has any My
//! Number in its text values masked before a handler sees it (free text such as an address or an
//! action's title is kept, the number is not; passwords and tokens are left as sent); every
//! response carries the
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
    let mut req = req;
    if let Some(kind) = BodyKind::of(&req) {
        let body = req.extract::<actix_web::web::Bytes>().await?;
        let body = match kind.masked(&body) {
            Some(masked) => actix_web::web::Bytes::from(masked),
            None => body,
        };
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    let mut res = next.call(req).await?;
    secure(res.headers_mut());
    Ok(res.map_into_left_body())
}

/// The request bodies whose text values are masked: a form or JSON sent to change something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
}

/// Values never masked: secrets that are only hashed or compared, never shown or stored as
/// sent (a password may contain any digits).
const SECRET_FIELDS: [&str; 5] = ["password", "current", "new", "confirm", "csrf"];

impl BodyKind {
    fn of(req: &ServiceRequest) -> Option<BodyKind> {
        if req.method().is_safe() {
            return None;
        }
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)?
            .to_str()
            .ok()?
            .to_ascii_lowercase();
        if ct.starts_with("application/x-www-form-urlencoded") {
            Some(BodyKind::Form)
        } else if ct.starts_with("application/json") {
            Some(BodyKind::Json)
        } else {
            None
        }
    }

    /// The body with every text value that holds a valid My Number masked; `None` when there is
    /// none (nearly always) or the body does not parse (the handler's extractor says why).
    fn masked(self, body: &[u8]) -> Option<Vec<u8>> {
        match self {
            BodyKind::Form => {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
                let mut changed = false;
                let pairs: Vec<(String, String)> = pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let v = mask_value(&k, v, &mut changed);
                        (k, v)
                    })
                    .collect();
                changed.then(|| {
                    serde_urlencoded::to_string(pairs)
                        .ok()
                        .map(String::into_bytes)
                })?
            }
            BodyKind::Json => {
                let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
                let mut changed = false;
                mask_json(None, &mut value, &mut changed);
                changed.then(|| serde_json::to_vec(&value).ok())?
            }
        }
    }
}

fn mask_value(key: &str, value: String, changed: &mut bool) -> String {
    if SECRET_FIELDS.contains(&key) || !crate::domain::my_number::contains_valid(&value) {
        return value;
    }
    *changed = true;
    crate::ingest::mask_digits(&value).into_owned()
}

fn mask_json(key: Option<&str>, value: &mut serde_json::Value, changed: &mut bool) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let taken = std::mem::take(s);
            *s = mask_value(key.unwrap_or_default(), taken, changed);
        }
        Value::Array(items) => {
            for item in items {
                mask_json(key, item, changed);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                mask_json(Some(k), v, changed);
            }
        }
        _ => {}
    }
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
    fn text_values_of_forms_and_json_are_masked_but_not_secrets() {
        let form = BodyKind::Form
            .masked("title=%E5%AF%BE%E5%BF%9C+123456789018&password=123456789018&csrf=x".as_bytes())
            .unwrap();
        let form = String::from_utf8(form).unwrap();
        assert!(
            !form.contains("title=%E5%AF%BE%E5%BF%9C+123456789018"),
            "{form}"
        );
        assert!(
            form.contains("title=%E5%AF%BE%E5%BF%9C+************"),
            "{form}"
        );
        assert!(form.contains("password=123456789018"), "{form}");
        let json = BodyKind::Json
            .masked(br#"{"address":"1234 5678 9018","contact_emails":["a@b.jp"],"n":{"note":"No.123456789018"},"password":"123456789018"}"#)
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["address"], "************");
        assert_eq!(json["n"]["note"], "No.************");
        assert_eq!(json["password"], "123456789018");
        assert_eq!(json["contact_emails"][0], "a@b.jp");
        // Nothing to mask (an invalid check digit, or no number): the body is passed on as sent.
        assert!(BodyKind::Json.masked(br#"{"a":"123456789010"}"#).is_none());
        assert!(BodyKind::Form.masked(b"a=b").is_none());
    }

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
