//! Staffing for 資格届 (checklist 2-②): the form on the 要因分析 page and
//! `GET/PUT /api/v1/analysis/staffing`. Every change is audited (`app::staffing`).
use super::auth::CurrentUser;
use super::error::WebError;
use super::pages::{db, redirect, PageError, PageForm};
use super::AppState;
use crate::app::staffing::{self as app, Figure};
use crate::domain::staffing::{self as rules, StaffingPeriod};
use crate::store::staffing::{self as store, StaffingEntry};
use crate::store::users::Role;
use crate::store::DbConn;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// One staffing figure.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffingView {
    /// `2026-04` (a month) or `2026-W14` (an ISO week that overrides its month).
    pub period: String,
    /// month | week
    pub kind: String,
    /// 「2026年4月」 or 「2026-03-30 の週」
    pub label: String,
    /// Staff handling 資格届, in full-time equivalents.
    pub staff: f64,
    pub note: String,
    pub updated_by: String,
    #[serde(serialize_with = "crate::time::utc")]
    pub updated_at: NaiveDateTime,
}

impl From<StaffingEntry> for StaffingView {
    fn from(e: StaffingEntry) -> Self {
        StaffingView {
            period: e.period.code(),
            kind: e.period.kind().into(),
            label: e.period.label_ja(),
            staff: e.staff,
            note: e.note,
            updated_by: e.updated_by_label,
            updated_at: e.updated_at,
        }
    }
}

pub(super) fn views(
    c: &mut DbConn,
    insurer: crate::store::insurers::InsurerId,
) -> Result<Vec<StaffingView>, WebError> {
    Ok(store::entries(c, insurer)?
        .into_iter()
        .map(StaffingView::from)
        .collect())
}

fn bad(e: rules::StaffingError) -> WebError {
    WebError::BadRequest(e.to_string())
}

#[derive(Deserialize)]
pub struct StaffingForm {
    #[serde(default)]
    period: String,
    /// Blank removes the period's figure.
    #[serde(default)]
    staff: String,
    #[serde(default)]
    note: String,
}

/// Sets (or, with a blank head count, removes) one month's or one week's staffing.
pub async fn staffing_submit(
    state: web::Data<AppState>,
    post: PageForm<StaffingForm>,
) -> Result<HttpResponse, PageError> {
    let post = post.0;
    post.user.require(Role::Staff)?;
    let f = post.form;
    let period = StaffingPeriod::parse(&f.period).map_err(bad)?;
    let staff = match f.staff.trim() {
        "" => None,
        s => Some(rules::parse_staff(s).map_err(bad)?),
    };
    let acting = super::admin::acting(&post.user);
    db(&state, move |c| {
        Ok(app::set(c, &acting, period, staff, &f.note)?)
    })
    .await?;
    Ok(redirect("/analysis#staffing"))
}

#[derive(Serialize, ToSchema)]
pub struct StaffingBody {
    pub entries: Vec<StaffingView>,
}

/// The insurer's staffing for 資格届: per month, and per ISO week where a week overrides its month.
#[utoipa::path(
    get,
    path = "/api/v1/analysis/staffing",
    tag = "survey",
    responses(
        (status = 200, description = "Staffing figures, months then weeks", body = StaffingBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_get(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let entries = db(&state, move |c| views(c, iid)).await?;
    Ok(HttpResponse::Ok().json(StaffingBody { entries }))
}

#[derive(Deserialize, ToSchema)]
pub struct StaffingInput {
    /// `2026-04` (a month) or `2026-W14` (an ISO week)
    pub period: String,
    /// Staff handling 資格届 (full-time equivalents): more than 0, less than 1000, one decimal at most
    pub staff: f64,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
pub struct StaffingUpdate {
    /// The complete set: figures not listed are removed.
    pub entries: Vec<StaffingInput>,
}

/// Replaces the insurer's staffing with the given figures. Needs the staff role.
#[utoipa::path(
    put,
    path = "/api/v1/analysis/staffing",
    tag = "survey",
    request_body = StaffingUpdate,
    responses(
        (status = 200, description = "Saved; the figures as stored", body = StaffingBody),
        (status = 400, description = "A period or head count is not valid, or a period is listed twice (named in the message)", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<StaffingUpdate>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let figures = body
        .into_inner()
        .entries
        .into_iter()
        .map(|e| {
            Ok(Figure {
                period: StaffingPeriod::parse(&e.period).map_err(bad)?,
                staff: rules::staff_from_json(e.staff).map_err(bad)?,
                note: e.note,
            })
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let acting = super::admin::acting(&user);
    let out = db(&state, move |c| Ok(app::replace_all(c, &acting, figures)?)).await?;
    let out = out.into_iter().map(StaffingView::from).collect();
    Ok(HttpResponse::Ok().json(StaffingBody { entries: out }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/analysis/staffing", web::post().to(staffing_submit))
        .service(
            web::resource("/api/v1/analysis/staffing")
                .app_data(super::params::json_config())
                .route(web::get().to(api_get))
                .route(web::put().to(api_put)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(api_get, api_put),
    components(schemas(StaffingBody, StaffingView, StaffingUpdate, StaffingInput))
)]
struct StaffingApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    StaffingApi::openapi()
}
