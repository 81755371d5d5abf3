//! Sign-in: JWTs whose id (jti) is a stored session, read from the `regwatch_session` cookie (pages)
//! or `Authorization: Bearer` (API); CSRF tokens bound to the session; role checks.
use super::error::WebError;
use super::AppState;
use crate::store::sessions::{self, SessionUser};
use crate::store::users::Role;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use hmac::{Hmac, Mac};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "regwatch_session";
/// Double-submit cookie for the sign-in form (there is no session yet to bind a token to).
pub const LOGIN_CSRF_COOKIE: &str = "regwatch_login_csrf";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// user id
    sub: String,
    /// insurer id
    ins: i64,
    /// session id: the stored row that sign-out revokes
    jti: String,
    iat: i64,
    exp: i64,
}

/// The client's address, the "source" of sign-in throttling: the TCP peer, or behind a reverse
/// proxy (`behind_proxy = true`) the last `X-Forwarded-For` entry, the one the proxy itself
/// appended (entries before it come from the client and prove nothing).
pub fn client_address(req: &HttpRequest, config: &crate::config::Config) -> String {
    let forwarded = config
        .behind_proxy
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match forwarded {
        Some(ip) => ip.to_string(),
        None => req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    }
}

/// Signs a token for a new session.
pub fn issue_token(state: &AppState, user: &SessionUser) -> Result<String, WebError> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user.user_id.0.to_string(),
        ins: user.insurer_id.0,
        jti: user.session_id.clone(),
        iat: now,
        exp: now + i64::from(state.config.session_hours.max(1)) * 3600,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.jwt_key.expose_secret().as_bytes()),
    )
    .map_err(|e| WebError::Internal(e.into()))
}

fn decode_token(state: &AppState, token: &str) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(state.jwt_key.expose_secret().as_bytes()),
        &v,
    )
    .ok()
    .map(|d| d.claims)
}

/// The session cookie: `HttpOnly; Secure; SameSite=Strict`. Browsers accept `Secure` cookies from
/// http://localhost and 127.0.0.1, so this also works for the local demo.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::hours(i64::from(
            state.config.session_hours.max(1),
        )))
        .finish()
}

pub fn expired_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "")
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .finish();
    c.make_removal();
    c
}

/// The CSRF token of a session: an HMAC of its id, so it needs no storage and dies with the session.
pub fn csrf_token(state: &AppState, session_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.jwt_key.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"csrf\x1f");
    mac.update(session_id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..20])
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How the request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// The signed-in user of a request. Extracting it is the authentication: any handler that takes
/// one is closed to anonymous callers, and every query it makes is scoped to `insurer_id`.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: SessionUser,
    pub via: Via,
    pub csrf: String,
}

impl Deref for CurrentUser {
    type Target = SessionUser;
    fn deref(&self) -> &SessionUser {
        &self.user
    }
}

impl CurrentUser {
    /// At least `role` (admin > staff > viewer).
    pub fn require(&self, role: Role) -> Result<(), WebError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// A form's CSRF field. Requests authenticated by a bearer token carry no ambient credential,
    /// so they need none.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        if self.via == Via::Bearer || constant_time_eq(token, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let s = h.to_str().ok()?;
    let (scheme, token) = s.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The signed-in user of an upload: a multipart form from a page may carry its CSRF token as its
/// `csrf` part instead of the header, and the caller must check that part before it keeps any of
/// the file (`web::imports::receive` does).
pub async fn upload_user(req: &HttpRequest) -> Result<CurrentUser, WebError> {
    authenticate(req.clone(), TokenIn::Upload).await
}

/// [`upload_user`] as an extractor (the upload API).
pub struct UploadUser(pub CurrentUser);

impl FromRequest for UploadUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { upload_user(&req).await.map(UploadUser) })
    }
}

/// The paths a user whose password an admin reset may use before changing it.
const OPEN_UNTIL_PASSWORD_CHANGED: [&str; 4] =
    ["/account", "/account/password", "/logout", "/api/v1/logout"];

/// Where a state-changing request's CSRF token is checked when it rides on the session cookie.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenIn {
    /// The `X-CSRF-Token` header, checked here: every request taken by [`CurrentUser`].
    Header,
    /// The url-encoded body's `csrf` field, checked by [`Csrf`].
    Form,
    /// The `csrf` part of a multipart upload, checked by the upload reader before any byte of the
    /// file is kept ([`upload_user`]).
    Upload,
}

async fn authenticate(req: HttpRequest, token_in: TokenIn) -> Result<CurrentUser, WebError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("AppState missing")))?
        .clone();
    let (token, via) = match bearer(&req) {
        Some(t) => (t, Via::Bearer),
        None => match req.cookie(SESSION_COOKIE) {
            Some(c) => (c.value().to_string(), Via::Cookie),
            None => return Err(WebError::Unauthorized),
        },
    };
    let claims = decode_token(&state, &token).ok_or(WebError::Unauthorized)?;
    let pool = state.pool.clone();
    let jti = claims.jti.clone();
    let user = web::block(move || -> Result<_, WebError> {
        let mut conn = pool.get()?;
        Ok(sessions::active(&mut conn, &jti)?)
    })
    .await??
    .ok_or(WebError::Unauthorized)?;
    if user.user_id.0.to_string() != claims.sub || user.insurer_id.0 != claims.ins {
        return Err(WebError::Unauthorized);
    }
    // After an admin's password reset, only changing the password and signing out are open.
    if user.must_change_password && !OPEN_UNTIL_PASSWORD_CHANGED.contains(&req.path()) {
        return Err(WebError::PasswordChangeRequired);
    }
    let csrf = csrf_token(&state, &user.session_id);
    let current = CurrentUser { user, via, csrf };
    // A state-changing request that rides on the cookie must prove it came from our own pages,
    // whatever its content type: JSON calls and bodiless posts by the X-CSRF-Token header; HTML
    // forms by their `csrf` field, which `Csrf` checks; uploads by their `csrf` part, which the
    // upload reader checks (a header, when sent, is checked here).
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let body_checks = match token_in {
        TokenIn::Header => false,
        TokenIn::Form => true,
        TokenIn::Upload => is_multipart(&req) && req.headers().get(CSRF_HEADER).is_none(),
    };
    if unsafe_method && via == Via::Cookie && !body_checks {
        let header = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        current.check_csrf(header)?;
    }
    Ok(current)
}

/// Who is signed in, only to show the navigation (an error page): nothing changes, so no CSRF
/// token is asked for; `None` without a valid session.
pub async fn viewer(req: &HttpRequest) -> Option<CurrentUser> {
    authenticate(req.clone(), TokenIn::Form).await.ok()
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone(), TokenIn::Header))
    }
}

/// A url-encoded form post by a signed-in user whose `csrf` field matches the session's token.
/// The token is read from the body beside the form, so form types carry only their own fields.
pub struct Csrf<T> {
    pub user: CurrentUser,
    pub form: T,
}

/// Largest url-encoded form body (the longest forms are the checklist and the profile editor).
const FORM_LIMIT: usize = 256 * 1024;

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T> FromRequest for Csrf<T>
where
    T: serde::de::DeserializeOwned + 'static,
{
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let url_encoded = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let user = authenticate(req, TokenIn::Form).await?;
            if !url_encoded {
                return Err(WebError::BadRequest(
                    "フォームは application/x-www-form-urlencoded で送ってください".into(),
                ));
            }
            let body = body.await.map_err(|e| {
                WebError::BadRequest(format!("フォームの内容を読み取れません: {e}"))
            })?;
            if body.len() > FORM_LIMIT {
                return Err(WebError::BadRequest(format!(
                    "フォームが大きすぎます（{} KB まで）",
                    FORM_LIMIT / 1024
                )));
            }
            let token: CsrfField = serde_urlencoded::from_bytes(&body).map_err(|e| {
                WebError::BadRequest(format!("フォームの内容を読み取れません: {e}"))
            })?;
            user.check_csrf(&token.csrf)?;
            let form = serde_urlencoded::from_bytes::<T>(&body).map_err(|e| {
                WebError::BadRequest(format!("フォームの内容を読み取れません: {e}"))
            })?;
            Ok(Csrf { user, form })
        })
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::client_address;
    use crate::config::Config;
    use actix_web::test::TestRequest;

    #[test]
    fn the_peer_unless_behind_a_proxy_then_the_entry_the_proxy_appended() {
        let peer = "192.0.2.7:51000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "203.0.113.9, 198.51.100.4"))
            .to_http_request();
        let direct = Config::default();
        assert_eq!(client_address(&req, &direct), "192.0.2.7");
        let proxied = Config {
            behind_proxy: true,
            ..Config::default()
        };
        // The client wrote 203.0.113.9 itself; the proxy appended 198.51.100.4.
        assert_eq!(client_address(&req, &proxied), "198.51.100.4");
        let bare = TestRequest::default().peer_addr(peer).to_http_request();
        assert_eq!(client_address(&bare, &proxied), "192.0.2.7");
    }
}
