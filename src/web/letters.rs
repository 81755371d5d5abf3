//! お知らせ (letters to members): preview in the browser, generation as PDF or printable HTML (one
//! letter from a case page, or in bulk from a case-list filter), and the letters page with the
//! sender fields the letters print. 資格確認書, the case page's letters section and the letters
//! produced before (download again, 発送済) are in [`super::certificates`]; the workflow itself in
//! [`crate::app::letters`].
//!
//! Viewers may preview; generating letters needs the staff role, changing the sender fields the
//! admin role. Every query is scoped to the caller's insurer.
use super::auth::{Csrf, CurrentUser};
use super::cases::{filter_of, NoticeQuery};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, redirect, PageError, PageForm, PageUser};
use super::params::json_config;
use super::AppState;
use crate::app::letters::{self as app, BulkRun, LetterError, LetterRequest, Produced, Selection};
use crate::app::Acting;
use crate::letters::views::IndexView;
use crate::letters::workflow::Format;
use crate::letters::{latest_valid_until, LetterKind};
use crate::store::insurers::{self, Insurer};
use crate::store::letters::SenderFields;
use crate::store::notices::NoticeDbId;
use crate::store::users::Role;
use crate::store::DbConn;
use crate::time::today_jst;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub use super::certificates::{case_context, list_context};

// ---------------------------------------------------------------------------------------------
// Errors, the edge of the app layer

/// A letters handler's error: the usual web error, or a letter that must not be produced (409
/// with its own code) or cannot be printed (503).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Web(#[from] WebError),
    #[error(transparent)]
    Letter(LetterError),
}

impl From<LetterError> for Failure {
    fn from(e: LetterError) -> Self {
        use LetterError as E;
        match e {
            E::NotFound | E::Invalid(_) | E::Db(_) | E::Insurer(_) | E::Render(_) => {
                Failure::Web(e.into())
            }
            other => Failure::Letter(other),
        }
    }
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        match self {
            Failure::Web(e) => e.status_code(),
            Failure::Letter(LetterError::Pdf(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Letter(_) => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Failure::Web(e) => e.error_response(),
            Failure::Letter(e) => HttpResponse::build(self.status_code())
                .json(serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}})),
        }
    }
}

/// A page's answer: a letter error is the HTML error page with its status (409 for a refused
/// letter, 503 when Chromium is missing), any other error the usual error page.
pub(super) fn page_answer(
    state: &AppState,
    user: &CurrentUser,
    r: Result<HttpResponse, Failure>,
) -> Result<HttpResponse, PageError> {
    let e = match r {
        Ok(res) => return Ok(res),
        Err(Failure::Web(w)) => return Err(PageError(w)),
        Err(Failure::Letter(e)) => e,
    };
    let view = serde_json::json!({"message": e.to_string(), "csrf": user.csrf});
    let status = Failure::Letter(e).status_code();
    let mut ctx = tera::Context::from_serialize(view)?;
    ctx.insert("status", &status.as_u16());
    Ok(with_status(html(state, "pages/error.html", &ctx)?, status))
}

fn with_status(mut res: HttpResponse, status: StatusCode) -> HttpResponse {
    *res.status_mut() = status;
    res
}

/// The pages of this area: (the tab of the page, the template).
const LETTER_PAGE: (&str, &str) = ("notices", "letters/page_letter.html");
const CONFIRM_PAGE: (&str, &str) = ("notices", "letters/page_confirm.html");
const BULK_PAGE: (&str, &str) = ("notices", "letters/page_bulk.html");
const INDEX_PAGE: (&str, &str) = ("letters", "letters/page_index.html");

/// A page of this area: the shared context and the view, answered with `status`.
fn page(
    state: &AppState,
    user: &CurrentUser,
    ins: &Insurer,
    (nav, template): (&str, &str),
    view: impl Serialize,
    status: StatusCode,
) -> Result<HttpResponse, Failure> {
    let mut ctx = base_context(user, ins, nav);
    ctx.extend(tera::Context::from_serialize(view).map_err(WebError::from)?);
    Ok(with_status(html(state, template, &ctx)?, status))
}

pub(super) use super::pages::acting;

/// Runs an app function for the user on the thread pool, with a pooled connection.
pub(super) async fn run<T, F>(state: &AppState, user: &CurrentUser, f: F) -> Result<T, Failure>
where
    F: FnOnce(&mut DbConn, &Acting) -> Result<T, LetterError> + Send + 'static,
    T: Send + 'static,
{
    let a = acting(user);
    Ok(db(state, move |c| Ok(f(c, &a))).await??)
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A database id in a path; anything else is a page that does not exist.
pub(super) fn parse_id(s: &str) -> Result<i64, WebError> {
    s.trim().parse::<i64>().map_err(|_| WebError::NotFound)
}

/// An unknown kind in a path is a page that does not exist.
fn parse_kind_path(s: &str) -> Result<LetterKind, WebError> {
    LetterKind::parse(s).ok_or(WebError::NotFound)
}

fn parse_kind_field(s: &Option<String>) -> Result<LetterKind, WebError> {
    let v = blank(s).unwrap_or("");
    LetterKind::parse(v).ok_or_else(|| {
        WebError::BadRequest(format!(
            "kind は registration-period / qualification-info / certificate のいずれかです（指定: {v}）"
        ))
    })
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn parse_day(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
    blank(v)
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                WebError::BadRequest(format!(
                    "{field} は YYYY-MM-DD 形式の日付で指定してください（指定: {s}）"
                ))
            })
        })
        .transpose()
}

pub(super) fn parse_format(v: &Option<String>) -> Result<Format, WebError> {
    match blank(v) {
        None => Ok(Format::Pdf),
        Some(s) => Format::parse(s).ok_or_else(|| {
            WebError::BadRequest(format!("format は pdf または html です（指定: {s}）"))
        }),
    }
}

fn flag(v: &Option<String>) -> bool {
    matches!(blank(v), Some("1" | "true" | "on" | "yes"))
}

/// The filter of a case-list query as (name, value) pairs for hidden form fields (no paging).
pub(super) fn filter_fields(q: &NoticeQuery) -> Vec<(String, String)> {
    let mut q = q.clone();
    q.page = None;
    q.per_page = None;
    let s = serde_urlencoded::to_string(&q).unwrap_or_default();
    serde_urlencoded::from_str::<Vec<(String, String)>>(&s).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Producing: print off the runtime, then record

pub(super) fn respond(p: Produced) -> HttpResponse {
    let (ct, ext) = match p.format {
        Format::Pdf => ("application/pdf", "pdf"),
        Format::Html => ("text/html; charset=utf-8", "html"),
    };
    let mut res = HttpResponse::Ok();
    res.content_type(ct)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Letters-Count", p.letters.to_string()))
        .insert_header(("X-Letters-Skipped", p.skipped.to_string()));
    if p.format == Format::Pdf {
        res.insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}.{ext}\"", p.file_stem),
        ));
    }
    res.body(p.body)
}

fn preview_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Prints a prepared run (no database connection held meanwhile) and records it.
async fn produce(state: &AppState, user: &CurrentUser, job: app::Job) -> Result<Produced, Failure> {
    let tera = state.tera.clone();
    let (job, printed) = web::block(move || app::print(&tera, &job).map(|p| (job, p)))
        .await
        .map_err(WebError::from)??;
    run(state, user, move |c, a| app::record(c, a, job, printed)).await
}

// ---------------------------------------------------------------------------------------------
// One letter from a case page

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LetterQuery {
    /// pdf (default) | html
    #[param(schema_with = crate::web::openapi::letter_format)]
    pub format: Option<String>,
    /// Date printed on the letter, YYYY-MM-DD (default: today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub date: Option<String>,
    /// 1: produce the letter although one of this kind was already produced for the notice
    /// (without it that is a 409 `already_produced`)
    #[param(value_type = Option<bool>)]
    pub again: Option<String>,
}

fn letter_request(
    (id, kind): (String, String),
    q: &LetterQuery,
) -> Result<LetterRequest, WebError> {
    Ok(LetterRequest {
        notice: NoticeDbId(parse_id(&id)?),
        kind: parse_kind_path(&kind)?,
        format: parse_format(&q.format)?,
        date: parse_day("date", &q.date)?.unwrap_or_else(today_jst),
        again: flag(&q.again),
    })
}

async fn one_letter(
    state: &AppState,
    user: &CurrentUser,
    req: LetterRequest,
) -> Result<HttpResponse, Failure> {
    user.require(Role::Staff)?;
    let job = run(state, user, move |c, a| app::prepare_letter(c, a, req)).await?;
    Ok(respond(produce(state, user, job).await?))
}

/// Generates one letter for a notice and records it (staff). `qualification-info` is refused with
/// 409 while the notice is not registered; `certificate` needs a recorded 資格確認書.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}/letters/{kind}",
    tag = "letters",
    params(
        ("id" = i64, Path, description = "Database id of the notice"),
        ("kind" = String, Path, pattern = "^(registration-period|qualification-info|certificate)$", description = "registration-period | qualification-info | certificate"),
        LetterQuery
    ),
    responses(
        (status = 200, description = "The letter: one A4 page (PDF with embedded Japanese font, or printable HTML)", content(("application/pdf"), ("text/html"))),
        (status = 400, description = "Bad format or date", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such notice for this insurer, or unknown kind", body = ErrorBody),
        (status = 409, description = "This letter cannot be produced for the notice (not_registered, already_registered, loss_notice, no_certificate), or it was produced before and `again=1` is missing (already_produced: the message says when)", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_letter(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, Failure> {
    let req = letter_request(path.into_inner(), &q)?;
    one_letter(&state, &user, req).await
}

/// The preview page: the letter in a frame, what it says and why, and the buttons to generate it.
pub async fn letter_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let (id, kind) = path.into_inner();
    let (id, kind) = (NoticeDbId(parse_id(&id)?), parse_kind_path(&kind)?);
    let date = parse_day("date", &q.date)?.unwrap_or_else(today_jst);
    let r = async {
        let (ins, view) = run(&state, &user, move |c, a| {
            app::letter_page(c, a, id, kind, date)
        })
        .await?;
        let status = match view.refusal {
            Some(_) => StatusCode::CONFLICT,
            None => StatusCode::OK,
        };
        page(&state, &user, &ins, LETTER_PAGE, view, status)
    };
    page_answer(&state, &user, r.await)
}

/// The letter itself, marked 「見本」 (shown in the frame of the preview page; not recorded).
pub async fn letter_preview(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let (id, kind) = path.into_inner();
    let (id, kind) = (NoticeDbId(parse_id(&id)?), parse_kind_path(&kind)?);
    let date = parse_day("date", &q.date)?.unwrap_or_else(today_jst);
    let tera = state.tera.clone();
    let r = run(&state, &user, move |c, a| {
        app::preview_letter(c, a, &tera, id, kind, date)
    });
    page_answer(&state, &user, r.await.map(preview_response))
}

/// The generate buttons of the preview page (staff).
pub async fn letter_submit(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    post: PageForm<LetterQuery>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let req = letter_request(path.into_inner(), &form)?;
    let r = match one_letter(&state, &user, req).await {
        Err(Failure::Letter(LetterError::AlreadyProduced {
            title,
            notice,
            at,
            by,
            date: was,
            letter,
        })) => {
            // The confirmation step: say when it was produced, offer the past letter, and produce
            // it again only when asked.
            let iid = user.insurer_id;
            let ins: Insurer = db(&state, move |c| Ok(insurers::get(c, iid)?)).await?;
            let view = serde_json::json!({
                "id": req.notice.0, "notice_id": notice, "kind": req.kind.slug(), "title": title,
                "at": at, "by": by, "was": was.to_string(), "letter": letter,
                "date": req.date.to_string(), "format": req.format.code(),
            });
            page(
                &state,
                &user,
                &ins,
                CONFIRM_PAGE,
                view,
                StatusCode::CONFLICT,
            )
        }
        r => r,
    };
    page_answer(&state, &user, r)
}

// ---------------------------------------------------------------------------------------------
// Bulk runs from a case-list filter

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct BulkQuery {
    #[serde(flatten)]
    pub filter: NoticeQuery,
    /// registration-period | qualification-info | certificate
    pub kind: Option<String>,
    /// Date printed on the letters (default: today in Japan)
    pub date: Option<String>,
    /// 1: include the notices that already have this letter
    pub again: Option<String>,
}

/// Reads the case-list filter and calls `f` with the selection (kind, date, again), on the
/// thread pool.
async fn with_selection<T, F>(
    state: &AppState,
    user: &CurrentUser,
    q: NoticeQuery,
    (kind, date, again): (LetterKind, NaiveDate, bool),
    f: F,
) -> Result<T, Failure>
where
    F: FnOnce(&mut DbConn, &Acting, Selection) -> Result<T, LetterError> + Send + 'static,
    T: Send + 'static,
{
    let a = acting(user);
    let me = user.user_id;
    Ok(db(state, move |c| {
        let ins = insurers::get(c, a.insurer)?;
        let (filter, _, _) = filter_of(c, &ins, me, &q)?;
        let sel = Selection {
            filter,
            kind,
            date,
            again,
        };
        Ok(f(c, &a, sel))
    })
    .await??)
}

async fn bulk_generate(
    state: &AppState,
    user: &CurrentUser,
    q: NoticeQuery,
    sel: (LetterKind, NaiveDate, bool),
    format: Format,
    issue_until: Option<NaiveDate>,
) -> Result<HttpResponse, Failure> {
    user.require(Role::Staff)?;
    let filter_query = serde_urlencoded::to_string(filter_fields(&q)).unwrap_or_default();
    let job = with_selection(state, user, q, sel, move |c, a, selection| {
        let run = BulkRun {
            selection,
            format,
            issue_until,
            filter_query,
        };
        app::prepare_bulk_run(c, a, run)
    })
    .await?;
    Ok(respond(produce(state, user, job).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct BulkRequest {
    /// registration-period | qualification-info | certificate
    pub kind: String,
    /// pdf (default) | html
    pub format: Option<String>,
    /// Date printed on the letters (default: today in Japan)
    pub date: Option<NaiveDate>,
    /// For `certificate`: first record a 資格確認書 (issued on `date`, valid until this day, at most
    /// one month) for every selected notice that has none in force and may get one
    pub issue_valid_until: Option<NaiveDate>,
    /// true: also produce the letter for notices that already have one of this kind (by default
    /// they are skipped and counted in `X-Letters-Skipped`)
    #[serde(default)]
    pub again: bool,
    /// The case-list filter (the query parameters of `/api/v1/notices`, as strings)
    #[schema(value_type = Object)]
    #[serde(default)]
    pub filter: NoticeQuery,
}

/// Generates the letters of `kind` for every notice of a case-list filter (at most 2,000): one
/// PDF (one letter per page) or one printable HTML document. Notices the letter does not apply to
/// are skipped (counted in `X-Letters-Skipped`); each letter produced is recorded.
#[utoipa::path(
    post,
    path = "/api/v1/letters/bulk",
    tag = "letters",
    request_body = BulkRequest,
    responses(
        (status = 200, description = "The letters; X-Letters-Count and X-Letters-Skipped give the counts", content(("application/pdf"), ("text/html"))),
        (status = 400, description = "Bad filter, kind, format, date, or more than 2,000 notices", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 409, description = "No letter can be produced for the selected notices", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_bulk(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<BulkRequest>,
) -> Result<HttpResponse, Failure> {
    let b = body.into_inner();
    let kind = parse_kind_field(&Some(b.kind))?;
    let format = parse_format(&b.format)?;
    let date = b.date.unwrap_or_else(today_jst);
    let sel = (kind, date, b.again);
    bulk_generate(&state, &user, b.filter, sel, format, b.issue_valid_until).await
}

/// The bulk preview page: what the filter selects, how many letters that makes and why the others
/// are skipped, the first letters in a frame, and the generate form.
pub async fn bulk_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<BulkQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let kind = match blank(&q.kind) {
        None => LetterKind::RegistrationPeriod,
        Some(_) => parse_kind_field(&q.kind)?,
    };
    let date = parse_day("date", &q.date)?.unwrap_or_else(today_jst);
    let (sel, fields) = ((kind, date, flag(&q.again)), filter_fields(&q.filter));
    let r = async {
        let (ins, view) = with_selection(&state, &user, q.filter, sel, |c, a, s| {
            app::bulk_page(c, a, &s, fields)
        })
        .await?;
        page(&state, &user, &ins, BULK_PAGE, view, StatusCode::OK)
    };
    page_answer(&state, &user, r.await)
}

/// The first letters of a bulk run, marked 「見本」 (not recorded).
pub async fn bulk_preview(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<BulkQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let kind = parse_kind_field(&q.kind)?;
    let date = parse_day("date", &q.date)?.unwrap_or_else(today_jst);
    let (sel, tera) = ((kind, date, flag(&q.again)), state.tera.clone());
    let r = with_selection(&state, &user, q.filter, sel, move |c, a, s| {
        app::preview_bulk(c, a, &tera, &s)
    });
    page_answer(&state, &user, r.await.map(preview_response))
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(flatten)]
    q: BulkQuery,
    format: Option<String>,
    /// Ticked: record a 資格確認書 for notices without one in force (certificate letters only).
    issue: Option<String>,
    issue_valid_until: Option<String>,
}

pub async fn bulk_submit(
    state: web::Data<AppState>,
    post: PageForm<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let kind = parse_kind_field(&form.q.kind)?;
    let format = parse_format(&form.format)?;
    let date = parse_day("date", &form.q.date)?.unwrap_or_else(today_jst);
    let issue_until = match form.issue {
        Some(_) => Some(
            parse_day("有効期限", &form.issue_valid_until)?
                .unwrap_or_else(|| latest_valid_until(date)),
        ),
        None => None,
    };
    let sel = (kind, date, flag(&form.q.again));
    let r = bulk_generate(&state, &user, form.q.filter, sel, format, issue_until).await;
    page_answer(&state, &user, r)
}

// ---------------------------------------------------------------------------------------------
// The letters page: recent runs and the sender fields

async fn render_index(
    state: &AppState,
    user: &CurrentUser,
    fields: Option<SenderFields>,
    saved: bool,
    error: Option<String>,
) -> Result<HttpResponse, Failure> {
    let i = run(state, user, app::index).await?;
    let f = fields.unwrap_or(i.sender);
    let mut view = IndexView::new(&i.insurer, f, i.runs, i.counts);
    (view.saved, view.error) = (saved, error);
    page(state, user, &i.insurer, INDEX_PAGE, view, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct IndexQuery {
    saved: Option<String>,
}

pub async fn index_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, PageError> {
    let r = render_index(&state, &user.0, None, q.saved.is_some(), None).await;
    page_answer(&state, &user.0, r)
}

/// Saves the sender fields (admin), audited.
pub async fn sender_submit(
    state: web::Data<AppState>,
    post: PageForm<app::SenderInput>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: input } = post.0;
    user.require(Role::Admin)?;
    let typed = input.clone();
    let r = match run(&state, &user, move |c, a| app::save_sender(c, a, &typed)).await {
        Ok(()) => Ok(redirect("/letters?saved=1")),
        Err(Failure::Web(WebError::BadRequest(msg))) => {
            let r = render_index(&state, &user, Some(input.raw()), false, Some(msg));
            r.await.map(|r| with_status(r, StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(e),
    };
    page_answer(&state, &user, r)
}

// ---------------------------------------------------------------------------------------------
// Routes and OpenAPI

pub fn configure(cfg: &mut web::ServiceConfig) {
    use super::certificates::{api_download, api_issue, api_notice_letters, api_sent};
    use super::certificates::{download_page, issue_submit, sent_submit};
    use web::{get, post};
    let json = |path| web::resource(path).app_data(json_config());
    cfg.route("/letters", get().to(index_page))
        .route("/letters/sender", post().to(sender_submit))
        .route("/letters/bulk", get().to(bulk_page))
        .route("/letters/bulk", post().to(bulk_submit))
        .route("/letters/bulk/preview", get().to(bulk_preview))
        .route("/notices/{id}/certificates", post().to(issue_submit))
        .route("/notices/{id}/letters/{kind}", get().to(letter_page))
        .route("/notices/{id}/letters/{kind}", post().to(letter_submit))
        .route(
            "/notices/{id}/letters/{kind}/preview",
            get().to(letter_preview),
        )
        .route("/api/v1/notices/{id}/letters", get().to(api_notice_letters))
        .route("/api/v1/notices/{id}/letters/{kind}", get().to(api_letter))
        .service(json("/api/v1/notices/{id}/certificates").route(post().to(api_issue)))
        .service(json("/api/v1/letters/bulk").route(post().to(api_bulk)))
        .route("/letters/{id}/download", get().to(download_page))
        .route("/letters/{id}/sent", post().to(sent_submit))
        .route("/api/v1/letters/{id}", get().to(api_download))
        .service(json("/api/v1/letters/{id}/sent").route(post().to(api_sent)));
}

#[derive(OpenApi)]
#[openapi(paths(
    api_letter,
    super::certificates::api_notice_letters,
    super::certificates::api_issue,
    api_bulk,
    super::certificates::api_download,
    super::certificates::api_sent
))]
struct LettersApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    LettersApi::openapi()
}
