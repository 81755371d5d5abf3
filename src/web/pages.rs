//! Server-rendered pages (Japanese): the shared page context, page errors, sign-in and sign-out.
use super::auth::{self, Csrf, CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use super::error::WebError;
use super::AppState;
use crate::app::account::{self, AccountError};
use crate::app::Acting;
use crate::store::insurers::{self, Insurer};
use crate::store::users::Role;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use rand::RngCore;
use secrecy::SecretString;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

/// An error on a page: sign-in needed → redirect to the sign-in page; anything else → an HTML
/// error page with the same safe message the API would give.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<WebError> for PageError {
    fn from(e: WebError) -> Self {
        PageError(e)
    }
}

impl From<tera::Error> for PageError {
    fn from(e: tera::Error) -> Self {
        PageError(e.into())
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        PageError(e.into())
    }
}

fn error_tera() -> &'static tera::Tera {
    static T: OnceLock<tera::Tera> = OnceLock::new();
    T.get_or_init(|| super::templates::load().expect("embedded templates parse"))
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            WebError::Unauthorized | WebError::PasswordChangeRequired => StatusCode::SEE_OTHER,
            ref e => e.status_code(),
        }
    }
    fn error_response(&self) -> HttpResponse {
        if let WebError::Unauthorized = self.0 {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        if let WebError::PasswordChangeRequired = self.0 {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/account"))
                .finish();
        }
        self.0.log("page");
        let mut ctx = tera::Context::new();
        ctx.insert("message", &self.0.public_message());
        ctx.insert("status", &self.0.status_code().as_u16());
        let body = error_tera()
            .render("pages/error.html", &ctx)
            .unwrap_or_else(|_| "エラーが発生しました".into());
        HttpResponse::build(self.0.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// The signed-in user of a page request (a missing or revoked session redirects to sign-in).
pub struct PageUser(pub CurrentUser);

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = CurrentUser::from_request(req, payload);
        Box::pin(async move { fut.await.map(PageUser).map_err(PageError) })
    }
}

/// A form post from a page; errors render as pages.
pub struct PageForm<T>(pub Csrf<T>);

impl<T> FromRequest for PageForm<T>
where
    T: serde::de::DeserializeOwned + 'static,
{
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Csrf::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(PageForm).map_err(PageError) })
    }
}

/// Runs blocking database work on the thread pool with a pooled connection.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, WebError>
where
    F: FnOnce(&mut crate::store::DbConn) -> Result<T, WebError> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Who acts, for the app layer: the signed-in user of the request and their insurer.
pub fn acting(user: &CurrentUser) -> Acting {
    Acting {
        insurer: user.insurer_id,
        user: Some(user.user_id),
        label: user.email.clone(),
    }
}

/// The caller's insurer (settings included).
pub async fn insurer_of(state: &AppState, user: &CurrentUser) -> Result<Insurer, WebError> {
    let id = user.insurer_id;
    db(state, move |c| Ok(insurers::get(c, id)?)).await
}

/// The context every page template gets: who is signed in, their insurer, the CSRF token, which
/// menu item is active.
pub fn base_context(user: &CurrentUser, insurer: &Insurer, nav: &str) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "me",
        &serde_json::json!({
            "email": user.email,
            // The 表示名, else the e-mail: what the header calls the user.
            "name": user.shown_name(),
            "display_name": user.display_name,
            "must_change_password": user.must_change_password,
            "role": user.role.code(),
            "role_label": user.role.label_ja(),
            "is_admin": user.role >= Role::Admin,
            "is_staff": user.role >= Role::Staff,
        }),
    );
    ctx.insert(
        "insurer",
        &serde_json::json!({
            "number": insurer.number.as_str(),
            "name": insurer.name,
            "kind": insurer.kind.code(),
            "kind_label": insurer.kind.label_ja(),
            // 共済組合等 call the employer 所属所 (SPEC glossary).
            "employer_word": if insurer.kind.code() == "kyosai" { "所属所" } else { "事業所" },
        }),
    );
    ctx.insert("csrf", &user.csrf);
    ctx.insert("nav", nav);
    // The insurer's date style for the `day` and `jst` filters (`| day(style=date_style)`).
    ctx.insert("date_style", insurer.date_style.code());
    ctx
}

pub fn html(
    state: &AppState,
    template: &str,
    ctx: &tera::Context,
) -> Result<HttpResponse, WebError> {
    let body = state.tera.render(template, ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn random_token() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn login_csrf_cookie(value: String) -> Cookie<'static> {
    Cookie::build(LOGIN_CSRF_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .finish()
}

/// Where a signed-out request for `target` (a path with its query) is sent: the sign-in page,
/// which returns to `target` afterwards.
pub fn login_location(target: &str) -> String {
    match local_target(target) {
        Some(t) if t != "/" && t != "/dashboard" => format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", t)]).unwrap_or_default()
        ),
        _ => "/login".into(),
    }
}

/// `next` when it is a path of this site (`/…`, not `//host` or `/\host`, no scheme, no control
/// characters, not the sign-in page itself): anything else could send a user elsewhere after
/// signing in (an open redirect).
pub fn local_target(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2000
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    local.then_some(next)
}

fn render_login(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    next: Option<&str>,
) -> Result<HttpResponse, WebError> {
    render_login_with(state, status, error, None, email, next)
}

fn render_login_with(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    info: Option<&str>,
    email: &str,
    next: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let token = random_token();
    let mut ctx = tera::Context::new();
    ctx.insert("error", &error);
    ctx.insert("info", &info);
    ctx.insert("email", email);
    ctx.insert("next", &next.and_then(local_target));
    ctx.insert("csrf", &token);
    let body = state.tera.render("pages/login.html", &ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(login_csrf_cookie(token))
        .body(body))
}

/// `/`: the dashboard when signed in, else the sign-in page.
pub async fn root(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if req.cookie(SESSION_COOKIE).is_some() {
        return Ok(redirect("/dashboard"));
    }
    Ok(render_login(&state, StatusCode::OK, None, "", None)?)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    changed: Option<String>,
    next: Option<String>,
}

pub async fn login_page(
    state: web::Data<AppState>,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let info = q
        .changed
        .as_ref()
        .map(|_| "パスワードを変更しました。新しいパスワードでログインしてください。");
    Ok(render_login_with(
        &state,
        StatusCode::OK,
        None,
        info,
        "",
        q.next.as_deref(),
    )?)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    #[serde(default)]
    csrf: String,
    /// The page asked for before signing in (see [`login_location`]).
    #[serde(default)]
    next: String,
}

/// Signs in with the lockout rule; a signed-in user gets the session cookie and the dashboard.
pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let cookie = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if cookie.is_empty() || cookie != form.csrf {
        return Ok(render_login(
            &state,
            StatusCode::FORBIDDEN,
            Some(&WebError::Csrf.to_string()),
            &form.email,
            Some(&form.next),
        )?);
    }
    let email = form.email.clone();
    let next = form.next.clone();
    let source = auth::client_address(&req, &state.config);
    match sign_in(&state, form.email, source, form.password).await {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                local_target(&next).unwrap_or("/dashboard"),
            ))
            .cookie(auth::session_cookie(&state, token))
            .cookie(auth::expired_cookie(LOGIN_CSRF_COOKIE))
            .finish()),
        Err(e @ (WebError::Login(_) | WebError::Throttled { .. })) => Ok(render_login(
            &state,
            e.status_code(),
            Some(&e.to_string()),
            &email,
            Some(&next),
        )?),
        Err(e) => Err(e.into()),
    }
}

/// Checks the password (with throttling per address and `source`, the client's address), opens a
/// session, audits it and returns its token.
pub async fn sign_in(
    state: &AppState,
    email: String,
    source: String,
    password: SecretString,
) -> Result<String, WebError> {
    let hours = state.config.session_hours;
    let user = db(state, move |c| {
        Ok(account::sign_in(c, &email, &source, &password, hours)?)
    })
    .await?;
    auth::issue_token(state, &user)
}

#[derive(Deserialize)]
pub struct CsrfOnly {}

/// Signs out: the session is revoked server side and the cookie cleared.
pub async fn logout(
    state: web::Data<AppState>,
    post: PageForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let id = post.0.user.session_id.clone();
    db(&state, move |c| Ok(account::sign_out(c, &id)?)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(auth::expired_cookie(SESSION_COOKIE))
        .finish())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: SecretString,
    new: SecretString,
    confirm: SecretString,
}

pub async fn account_page(
    state: web::Data<AppState>,
    user: PageUser,
) -> Result<HttpResponse, PageError> {
    let insurer = insurer_of(&state, &user.0).await?;
    let ctx = base_context(&user.0, &insurer, "account");
    Ok(html(&state, "pages/account.html", &ctx)?)
}

/// Changes the password; every session of the user (this one included) is revoked.
pub async fn password_submit(
    state: web::Data<AppState>,
    post: PageForm<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "account");
    let change = account::PasswordChange {
        current: form.current,
        new: form.new,
        confirm: form.confirm,
    };
    let acting = acting(&user);
    let r = db(&state, move |c| {
        match account::change_password(c, &acting, change) {
            Err(AccountError::Invalid(m)) => Ok(Err(m)),
            other => Ok(Ok(other?)),
        }
    })
    .await?;
    match r {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login?changed=1"))
            .cookie(auth::expired_cookie(SESSION_COOKIE))
            .finish()),
        Err(message) => {
            ctx.insert("error", &message);
            Ok(html(&state, "pages/account.html", &ctx)?)
        }
    }
}
