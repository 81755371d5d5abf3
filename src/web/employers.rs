//! 事業所 (所属所 for 共済): each employer's record on the rules, worst first, and its contacts for
//! the reminder e-mails (page and API).
use super::auth::{Csrf, CurrentUser};
use super::error::{ErrorBody, WebError};
use super::pages::{
    acting, base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser,
};
use super::params::{json_config, page_args, page_count};
use super::AppState;
use crate::app::employers::{self as app, EmployerChanges, LateChange};
use crate::store::employers::{self, EmployerId, EmployerSummary, Figures};
use crate::store::insurers;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Employers' figures computed by this instance (shared by its workers), keyed by (insurer, data version, as-of date, warn
/// days): an import or a settings change bumps the version, so an entry is never stale. Counting
/// the submissions of a large insurer reads every notice; this keeps that to once per change.
pub type FiguresCache = super::cache::BoundedCache<FiguresKey, Arc<Figures>>;

type FiguresKey = (i64, i64, NaiveDate, u32);

/// Entries kept before the cache is emptied (one per insurer and day in practice).
const FIGURES_CACHE_MAX: usize = 256;

pub fn new_figures_cache() -> FiguresCache {
    FiguresCache::new(FIGURES_CACHE_MAX)
}

const DEFAULT_PER_PAGE: i64 = 50;
const MAX_PER_PAGE: i64 = 500;

/// An employer with its figures.
#[derive(Serialize, ToSchema)]
pub struct EmployerBody {
    pub id: i64,
    /// 事業所記号
    pub code: String,
    pub name: Option<String>,
    /// Notices loaded for this employer
    pub notices: i64,
    /// Notices submitted within the submission rule
    pub submission_met: i64,
    /// submission_met / notices (null without notices)
    pub submission_rate: Option<f64>,
    /// Notices not registered as of the date whose registration deadline has passed
    pub open_breached: i64,
    /// Notices not registered as of the date whose deadline is within the warning days
    pub open_at_risk: i64,
    pub contact_emails: Vec<String>,
    /// true: no reminder e-mails to this employer
    pub opt_out: bool,
    /// 「マイナンバー提出遅延」: the insurer has marked this employer as late with My Numbers (and
    /// asked it for them). Only then does a letter about a missing or wrong My Number name the
    /// employer and give the standard days (SPEC §4.1)
    pub my_number_late: bool,
    /// The date the mark applies from (null when not marked)
    pub my_number_late_since: Option<NaiveDate>,
    /// Who set the mark (an e-mail; null when not marked)
    pub my_number_late_by: Option<String>,
    /// 郵便番号 (123-4567) of the employer's postal address (null: not set)
    pub postal_code: Option<String>,
    /// The employer's postal address: letters to a member whose own address is not known go
    /// 気付 the employer there (null: not set)
    pub address: Option<String>,
}

impl From<EmployerSummary> for EmployerBody {
    fn from(e: EmployerSummary) -> Self {
        EmployerBody {
            submission_rate: e.submission_rate(),
            id: e.id.0,
            code: e.code,
            name: e.name,
            notices: e.notices,
            submission_met: e.submission_met,
            open_breached: e.open_breached,
            open_at_risk: e.open_at_risk,
            contact_emails: e.contact_emails,
            opt_out: e.opt_out,
            my_number_late: e.my_number_late_since.is_some(),
            my_number_late_since: e.my_number_late_since,
            my_number_late_by: e
                .my_number_late_by
                .filter(|_| e.my_number_late_since.is_some()),
            postal_code: e.postal_code,
            address: e.address,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EmployerList {
    pub items: Vec<EmployerBody>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The date the open counts are evaluated on
    pub as_of: NaiveDate,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmployerQuery {
    /// Part of the 事業所記号 or name
    pub q: Option<String>,
    /// 1-based page (default 1)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
    /// Rows per page (default 50, at most 500)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub per_page: Option<String>,
    /// Evaluate the open counts as of this date (default: today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub as_of: Option<String>,
}

fn as_of(v: &Option<String>) -> Result<NaiveDate, WebError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(crate::time::today_jst()),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "as_of は YYYY-MM-DD 形式の日付で指定してください（指定: {s}）"
            ))
        }),
    }
}

fn parse_id(s: &str) -> Result<EmployerId, WebError> {
    s.parse::<i64>()
        .map(EmployerId)
        .map_err(|_| WebError::NotFound)
}

/// The employer a page's path names: its 事業所記号 (`/employers/1010`, what staff know), or — in
/// links made before — its row id, which the page answers with a redirect to the code's address.
struct PageEmployer {
    id: EmployerId,
    code: String,
    by_code: bool,
}

impl PageEmployer {
    /// `/employers/{code}` (the code percent-encoded as one path segment).
    fn url(&self) -> String {
        format!(
            "/employers/{}",
            percent_encoding::utf8_percent_encode(&self.code, percent_encoding::NON_ALPHANUMERIC)
        )
    }
}

async fn page_employer(
    state: &AppState,
    user: &CurrentUser,
    segment: String,
) -> Result<PageEmployer, WebError> {
    use crate::store::notices::{employer_id_by_code, employer_refs};
    let iid = user.insurer_id;
    db(state, move |c| {
        if let Some(id) = employer_id_by_code(c, iid, &segment)? {
            return Ok(PageEmployer {
                id: EmployerId(id),
                code: segment.trim().to_string(),
                by_code: true,
            });
        }
        let id = parse_id(&segment)?;
        let e = employer_refs(c, iid, std::iter::once(id.0))?
            .remove(&id.0)
            .ok_or(WebError::NotFound)?;
        Ok(PageEmployer {
            id,
            code: e.code,
            by_code: false,
        })
    })
    .await
}

async fn list_for(
    state: &AppState,
    cache: &web::Data<FiguresCache>,
    user: &CurrentUser,
    q: &EmployerQuery,
) -> Result<EmployerList, WebError> {
    let (page, per_page) = page_args(&q.page, &q.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let as_of = as_of(&q.as_of)?;
    let needle =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
    let iid = user.insurer_id;
    let cache = cache.clone();
    db(state, move |c| {
        let figures = all_figures(c, &cache, iid, as_of)?;
        let mut all = employers::summaries(c, iid, &figures)?;
        if let Some(n) = &needle {
            all.retain(|e| {
                e.code.to_lowercase().contains(n)
                    || e.name
                        .as_deref()
                        .is_some_and(|m| m.to_lowercase().contains(n))
            });
        }
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip((page - 1).saturating_mul(per_page) as usize)
            .take(per_page as usize)
            .map(EmployerBody::from)
            .collect();
        Ok(EmployerList {
            items,
            total,
            page,
            per_page,
            as_of,
        })
    })
    .await
}

/// The figures of every employer of the insurer, from the cache when its data has not changed.
/// The insurer (and so its data version) is read first: figures computed after a concurrent
/// import are then filed under the older version, which no later request asks for.
fn all_figures(
    c: &mut crate::store::DbConn,
    cache: &FiguresCache,
    iid: crate::store::insurers::InsurerId,
    as_of: NaiveDate,
) -> Result<Arc<Figures>, WebError> {
    let insurer = insurers::get(c, iid)?;
    let key = (iid.0, insurer.data_version, as_of, insurer.rules.warn_days);
    if let Some(hit) = cache.get(&key) {
        return Ok(hit);
    }
    let totals = crate::reports::rollups::employer_totals(c, &insurer, as_of)?;
    let f = Arc::new(employers::figures_with_totals(
        c,
        iid,
        totals,
        as_of,
        insurer.rules.warn_days,
    )?);
    cache.put(key, f.clone());
    Ok(f)
}

async fn one(
    state: &AppState,
    cache: &web::Data<FiguresCache>,
    user: &CurrentUser,
    id: EmployerId,
    as_of: NaiveDate,
) -> Result<EmployerBody, WebError> {
    let iid = user.insurer_id;
    let cache = cache.clone();
    db(state, move |c| {
        let insurer = insurers::get(c, iid)?;
        let key = (iid.0, insurer.data_version, as_of, insurer.rules.warn_days);
        // One employer alone is cheap (its own index range); only the full list is cached.
        let figures = match cache.get(&key) {
            Some(f) => f,
            None => Arc::new(employers::figures(
                c,
                iid,
                Some(id),
                as_of,
                insurer.rules.warn_days,
            )?),
        };
        let e = employers::get(c, iid, id, &figures)?.ok_or(WebError::NotFound)?;
        Ok(e.into())
    })
    .await
}

/// Applies an employer's changes through the app layer (one transaction, audited).
async fn update(
    state: &AppState,
    user: &CurrentUser,
    id: EmployerId,
    changes: EmployerChanges,
) -> Result<(), WebError> {
    let acting = acting(user);
    db(state, move |c| Ok(app::update(c, &acting, id, changes)?)).await
}

// ---------------------------------------------------------------------------------------------
// Pages

pub async fn employers_page(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    user: PageUser,
    q: web::Query<EmployerQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let list = list_for(&state, &cache, &user, &q).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "employers");
    ctx.insert("pages", &page_count(list.total, list.per_page));
    ctx.insert("list", &list);
    ctx.insert("q", &q.q.clone().unwrap_or_default());
    Ok(html(&state, "pages/employers.html", &ctx)?)
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    as_of: Option<String>,
    saved: Option<String>,
}

async fn render_detail(
    state: &AppState,
    cache: &web::Data<FiguresCache>,
    user: &CurrentUser,
    id: EmployerId,
    as_of: NaiveDate,
    saved: bool,
    form_error: Option<(String, String, bool)>,
) -> Result<HttpResponse, WebError> {
    let e = one(state, cache, user, id, as_of).await?;
    let insurer = insurer_of(state, user).await?;
    let mut ctx = base_context(user, &insurer, "employers");
    let (contacts, opt_out) = match &form_error {
        Some((_, text, opt_out)) => (text.clone(), *opt_out),
        None => (e.contact_emails.join("\n"), e.opt_out),
    };
    ctx.insert(
        "notices_query",
        &serde_urlencoded::to_string([("employer", &e.code)]).unwrap_or_default(),
    );
    ctx.insert("as_of", &as_of.to_string());
    ctx.insert("e", &e);
    ctx.insert("contacts_text", &contacts);
    ctx.insert("opt_out", &opt_out);
    ctx.insert("saved", &saved);
    ctx.insert("error", &form_error.map(|f| f.0));
    ctx.insert("today", &crate::time::today_jst().to_string());
    html(state, "pages/employer.html", &ctx)
}

pub async fn employer_page(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<DetailQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    let e = page_employer(&state, &user.0, path.into_inner()).await?;
    if !e.by_code {
        let query = req.query_string();
        let to = if query.is_empty() {
            e.url()
        } else {
            format!("{}?{query}", e.url())
        };
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, to))
            .finish());
    }
    let d = as_of(&q.as_of)?;
    Ok(render_detail(&state, &cache, &user.0, e.id, d, q.saved.is_some(), None).await?)
}

#[derive(Deserialize)]
pub struct EmployerForm {
    #[serde(default)]
    contact_emails: String,
    /// A checkbox: present when ticked.
    opt_out: Option<String>,
}

pub async fn employer_submit(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    path: web::Path<String>,
    post: PageForm<EmployerForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let e = page_employer(&state, &user, path.into_inner()).await?;
    let id = e.id;
    user.require(Role::Staff)?;
    let opt_out = form.opt_out.is_some();
    match employers::parse_contacts(&form.contact_emails) {
        Ok(emails) => {
            let changes = EmployerChanges {
                contact_emails: Some(emails),
                opt_out: Some(opt_out),
                ..Default::default()
            };
            update(&state, &user, id, changes).await?;
            Ok(redirect(&format!("{}?saved=1", e.url())))
        }
        Err(msg) => {
            let mut res = render_detail(
                &state,
                &cache,
                &user,
                id,
                crate::time::today_jst(),
                false,
                Some((msg, form.contact_emails, opt_out)),
            )
            .await?;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}

#[derive(Deserialize)]
pub struct LateForm {
    /// A checkbox: present when ticked.
    my_number_late: Option<String>,
    my_number_late_since: Option<String>,
}

/// The 「マイナンバー提出遅延」 form of the employer page (staff).
pub async fn late_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<LateForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let e = page_employer(&state, &user, path.into_inner()).await?;
    let id = e.id;
    let since = match form
        .my_number_late_since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "設定日は YYYY-MM-DD 形式の日付で指定してください（指定: {s}）"
            ))
        })?),
    };
    user.require(Role::Staff)?;
    let late = LateChange {
        late: form.my_number_late.is_some(),
        since,
    };
    let changes = EmployerChanges {
        my_number_late: Some(late),
        ..Default::default()
    };
    update(&state, &user, id, changes).await?;
    Ok(redirect(&format!("{}?saved=1#my-number-late", e.url())))
}

#[derive(Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    address: String,
}

/// The postal address form of the employer page (staff).
pub async fn address_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<AddressForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let e = page_employer(&state, &user, path.into_inner()).await?;
    let id = e.id;
    user.require(Role::Staff)?;
    let changes = EmployerChanges {
        postal_code: Some(form.postal_code),
        address: Some(form.address),
        ..Default::default()
    };
    update(&state, &user, id, changes).await?;
    Ok(redirect(&format!("{}?saved=1#address", e.url())))
}

// ---------------------------------------------------------------------------------------------
// API

/// Employers with their figures, worst first (most open breaches, then most at risk, then the
/// lowest submission rate).
#[utoipa::path(
    get,
    path = "/api/v1/employers",
    tag = "employers",
    params(EmployerQuery),
    responses(
        (status = 200, description = "One page of employers and the total", body = EmployerList),
        (status = 400, description = "Bad paging or date", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_list(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    user: CurrentUser,
    q: web::Query<EmployerQuery>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(list_for(&state, &cache, &user, &q).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Evaluate the open counts as of this date (default: today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    as_of: Option<String>,
}

/// One employer. 404 for an employer of another insurer.
#[utoipa::path(
    get,
    path = "/api/v1/employers/{id}",
    tag = "employers",
    params(("id" = i64, Path, description = "Database id of the employer"), AsOfQuery),
    responses(
        (status = 200, description = "The employer", body = EmployerBody),
        (status = 404, description = "No such employer for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_get(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    let d = as_of(&q.as_of)?;
    Ok(HttpResponse::Ok().json(one(&state, &cache, &user, id, d).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct EmployerUpdate {
    /// Addresses for the reminder e-mails (replaces the stored list; at most 20). Absent: unchanged
    pub contact_emails: Option<Vec<String>>,
    /// true: send this employer no reminder e-mails. Absent: unchanged
    pub opt_out: Option<bool>,
    /// Sets (true) or clears (false) the 「マイナンバー提出遅延」 mark. Absent: unchanged
    pub my_number_late: Option<bool>,
    /// With `my_number_late: true`: the date the mark applies from (default: today, or the stored
    /// date when already marked; not in the future)
    pub my_number_late_since: Option<NaiveDate>,
    /// 郵便番号 of the employer's postal address (123-4567; "" clears). Absent: unchanged
    pub postal_code: Option<String>,
    /// The employer's postal address (at most 200 characters; "" clears). Absent: unchanged
    pub address: Option<String>,
}

/// Sets an employer's contact addresses, opt-out, 「マイナンバー提出遅延」 mark and postal address
/// (each field that is present; audited). Needs the staff role.
#[utoipa::path(
    put,
    path = "/api/v1/employers/{id}",
    tag = "employers",
    params(("id" = i64, Path, description = "Database id of the employer")),
    request_body = EmployerUpdate,
    responses(
        (status = 200, description = "Saved; the employer as stored", body = EmployerBody),
        (status = 400, description = "An address is not valid (named in the message), or the mark's date is in the future", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such employer for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_update(
    state: web::Data<AppState>,
    cache: web::Data<FiguresCache>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<EmployerUpdate>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    user.require(Role::Staff)?;
    let body = body.into_inner();
    if body.my_number_late.is_none() && body.my_number_late_since.is_some() {
        return Err(WebError::BadRequest(
            "my_number_late_since は my_number_late: true と一緒に指定してください".into(),
        ));
    }
    let contact_emails = body
        .contact_emails
        .map(|v| employers::parse_contacts(&v.join("\n")))
        .transpose()
        .map_err(WebError::BadRequest)?;
    let changes = EmployerChanges {
        contact_emails,
        opt_out: body.opt_out,
        my_number_late: body.my_number_late.map(|late| LateChange {
            late,
            since: body.my_number_late_since,
        }),
        postal_code: body.postal_code,
        address: body.address,
    };
    update(&state, &user, id, changes).await?;
    Ok(HttpResponse::Ok().json(one(&state, &cache, &user, id, crate::time::today_jst()).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/employers", web::get().to(employers_page))
        // {code}: the 事業所記号; a row id (older links) still works (GET redirects to the code).
        .route("/employers/{code}", web::get().to(employer_page))
        .route("/employers/{code}", web::post().to(employer_submit))
        .route(
            "/employers/{code}/my-number-late",
            web::post().to(late_submit),
        )
        .route("/employers/{code}/address", web::post().to(address_submit))
        .route("/api/v1/employers", web::get().to(api_list))
        .service(
            web::resource("/api/v1/employers/{id}")
                .app_data(json_config())
                .route(web::get().to(api_get))
                .route(web::put().to(api_update)),
        );
}

#[derive(OpenApi)]
#[openapi(paths(api_list, api_get, api_update))]
struct EmployersApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    EmployersApi::openapi()
}
