//! 要因分析: the insurer's table of intermediate-server error codes and their causes — the form
//! on the 要因分析 page and `GET`/`PUT /api/v1/analysis/error-causes`. Every change is audited
//! (`app::error_causes`).
use super::auth::CurrentUser;
use super::error::{ErrorBody, WebError};
use super::pages::{db, redirect, PageError, PageForm};
use super::AppState;
use crate::app::error_causes as app;
use crate::reports::analysis::Cause;
use crate::store::error_causes;
use crate::store::users::Role;
use crate::store::DbConn;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{OpenApi, ToSchema};

/// One row of the table as the page and the API show it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorCauseEntry {
    /// The intermediate server's error code (`E0101`)
    pub error_code: String,
    /// employer_late | my_number | jlis_mismatch | dependent_pending | document_deficiency | insurer_backlog | unknown
    pub cause: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorCauses {
    pub entries: Vec<ErrorCauseEntry>,
}

/// The cause options for the page: (code, label).
pub fn cause_options() -> Vec<(&'static str, &'static str)> {
    Cause::ALL
        .iter()
        .map(|c| (c.code(), c.label_ja()))
        .collect()
}

/// The insurer's table.
pub fn entries(c: &mut DbConn, user: &CurrentUser) -> Result<Vec<ErrorCauseEntry>, WebError> {
    Ok(error_causes::mapping(c, user.insurer_id)?
        .into_iter()
        .map(|(error_code, cause)| ErrorCauseEntry {
            error_code,
            cause: cause.code().to_string(),
        })
        .collect())
}

/// Checks the entries (a code of at most 40 characters, a known cause) and replaces the table.
fn save(c: &mut DbConn, user: &CurrentUser, entries: &[ErrorCauseEntry]) -> Result<(), WebError> {
    let rows: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.error_code.clone(), e.cause.clone()))
        .collect();
    Ok(app::replace_all(c, &super::admin::acting(user), &rows)?)
}

/// The page's form: `code_N` / `cause_N` pairs (a blank code drops the row), `csrf`.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct ErrorCauseForm(HashMap<String, String>);

pub async fn form_submit(
    state: web::Data<AppState>,
    post: PageForm<ErrorCauseForm>,
) -> Result<HttpResponse, PageError> {
    let post = post.0;
    post.user.require(Role::Staff)?;
    let map = post.form.0;
    let mut rows: Vec<(usize, ErrorCauseEntry)> = map
        .iter()
        .filter_map(|(k, code)| {
            let n: usize = k.strip_prefix("code_")?.parse().ok()?;
            Some((
                n,
                ErrorCauseEntry {
                    error_code: code.clone(),
                    cause: map.get(&format!("cause_{n}")).cloned().unwrap_or_default(),
                },
            ))
        })
        .collect();
    rows.sort_by_key(|(n, _)| *n);
    let entries: Vec<ErrorCauseEntry> = rows.into_iter().map(|(_, e)| e).collect();
    let user = post.user;
    db(&state, move |c| save(c, &user, &entries)).await?;
    Ok(redirect("/analysis#error-causes"))
}

/// The insurer's error codes and the cause each stands for in 要因分析 (codes not listed: the
/// error message's words decide, e.g. 「J-LIS照会結果不一致」).
#[utoipa::path(
    get,
    path = "/api/v1/analysis/error-causes",
    tag = "survey",
    responses(
        (status = 200, description = "The table", body = ErrorCauses),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_get(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let entries = db(&state, move |c| entries(c, &user)).await?;
    Ok(HttpResponse::Ok().json(ErrorCauses { entries }))
}

/// Replaces the table (staff). An unknown cause is refused naming it (400).
#[utoipa::path(
    put,
    path = "/api/v1/analysis/error-causes",
    tag = "survey",
    request_body = ErrorCauses,
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "An unknown cause or a bad code", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ErrorCauses>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let entries = body.into_inner().entries;
    db(&state, move |c| save(c, &user, &entries)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/analysis/error-causes", web::post().to(form_submit))
        .route("/api/v1/analysis/error-causes", web::get().to(api_get))
        .route("/api/v1/analysis/error-causes", web::put().to(api_put));
}

#[derive(OpenApi)]
#[openapi(paths(api_get, api_put))]
struct ErrorCausesApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ErrorCausesApi::openapi()
}
