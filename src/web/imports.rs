//! 取込: uploading notices and registration results (page and API), the batch history and each
//! batch's rejected rows.
//!
//! An upload is received by `upload` (streamed to a temporary file) and then loaded by the app
//! layer on the thread pool: at once (API), or kept and previewed for the staff member's decision
//! (the import page).
use super::auth::CurrentUser;
use super::error::{ErrorBody, WebError};
use super::pages::{acting, base_context, db, html, insurer_of, redirect, PageError, PageUser};
use super::pages::{CsrfOnly, PageForm};
use super::params::{page_args, page_count};
use super::upload::{receive, upload_config, UploadError, UploadFields, MAX_UPLOAD_MB};
use super::AppState;
use crate::app::imports::{
    self as app, kind_of, BatchDetail, BatchList, ImportResult, UploadRequest,
};
use crate::store::batches::BatchId;
use crate::store::import::{self, FileKind, ImportSummary, Mode};
use crate::store::users::Role;
use crate::time::today_jst;
use actix_web::http::{header, StatusCode};
use actix_web::{guard, web, HttpRequest, HttpResponse, ResponseError};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

const DEFAULT_PER_PAGE: i64 = 50;
const MAX_PER_PAGE: i64 = 500;

fn parse_id(s: &str) -> Result<BatchId, WebError> {
    s.parse::<i64>()
        .map(BatchId)
        .map_err(|_| WebError::NotFound)
}

/// The upload's fields as the app layer takes them: the date parsed (default today in Japan).
fn request(kind: FileKind, fields: &UploadFields) -> Result<UploadRequest, WebError> {
    let received_on: NaiveDate = match fields.received_on.as_deref().map(str::trim) {
        None | Some("") => today_jst(),
        Some(s) => crate::ingest::parse_date(s).map_err(|e| {
            WebError::BadRequest(format!("受付日（received_on）が日付として読めません: {e}"))
        })?,
    };
    Ok(UploadRequest {
        kind,
        profile: fields.profile.clone(),
        received_on,
    })
}

/// Loads (or previews) a received file for the caller's insurer (audited by the app layer).
async fn load(
    state: &AppState,
    user: &CurrentUser,
    req: UploadRequest,
    got: super::upload::Received,
    mode: Mode,
) -> Result<ImportSummary, UploadError> {
    let acting = acting(user);
    let (size, kind) = (got.size, req.kind);
    let r = db(state, move |c| {
        let file = std::fs::File::open(got.path()).map_err(|e| WebError::Internal(e.into()))?;
        Ok(app::upload(
            c,
            &acting,
            &req,
            &got.file_name,
            got.size,
            file,
            mode,
        ))
    })
    .await?;
    let summary = r?;
    if mode == Mode::Commit {
        tracing::info!(
            batch = summary.batch_id,
            kind = kind.code(),
            bytes = size,
            rows = summary.rows_read,
            "file imported"
        );
    }
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Pages

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page (default 1)
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Rows per page (default 50, at most 500)
    #[param(value_type = Option<i64>, minimum = 1)]
    per_page: Option<String>,
}

async fn batch_list(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<BatchList, WebError> {
    let (page, per_page) = page_args(&q.page, &q.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let iid = user.insurer_id;
    db(state, move |c| Ok(app::batch_list(c, iid, page, per_page)?)).await
}

async fn render_imports(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, WebError> {
    let insurer = insurer_of(state, user).await?;
    let list = batch_list(state, user, q).await?;
    let mut ctx = base_context(user, &insurer, "imports");
    ctx.insert("pages", &page_count(list.total, list.per_page));
    ctx.insert("list", &list);
    ctx.insert("max_upload_mb", &MAX_UPLOAD_MB);
    ctx.insert(
        "profiles",
        &super::profiles::list_for_page(state, user).await?,
    );
    ctx.insert("today", &today_jst().to_string());
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    ctx.insert("error", &error.map(|e| e.1));
    let mut res = html(state, "pages/imports.html", &ctx)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn imports_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(render_imports(&state, &user.0, &q, None).await?)
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// The upload form's target: the file is kept and previewed (what it would change), and the
/// staff member then commits or discards it. The page's script posts it with `X-CSRF-Token` and
/// `Accept: application/json` and gets the preview as JSON; a plain form post (no script) gets
/// the preview page, or the list page again with the error.
pub async fn upload_page(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let json = wants_json(&req);
    let user = match super::auth::upload_user(&req).await {
        Ok(u) => u,
        Err(e) if json => return Ok(e.error_response()),
        Err(e) => return Err(e.into()),
    };
    let result = async {
        user.require(Role::Staff)?;
        let (got, fields) = receive(&req, payload, &user, None).await?;
        let kind = fields.kind.as_deref().and_then(kind_of).ok_or_else(|| {
            WebError::BadRequest("取込の種類（届書 / 登録結果）を選んでください".into())
        })?;
        let upload = request(kind, &fields)?;
        let acting = acting(&user);
        let preview = db(&state, move |c| {
            let content = got.read().map_err(|e| WebError::Internal(e.into()))?;
            Ok(app::keep_and_preview(
                c,
                &acting,
                &upload,
                &got.file_name,
                content,
            ))
        })
        .await??;
        Ok::<_, UploadError>(preview)
    }
    .await;
    match (result, json) {
        (Ok(p), true) => Ok(HttpResponse::Ok().json(p)),
        (Ok(p), false) => {
            let insurer = insurer_of(&state, &user).await?;
            let mut ctx = base_context(&user, &insurer, "imports");
            ctx.insert("p", &p);
            Ok(html(&state, "pages/import_preview.html", &ctx)?)
        }
        (Err(e), true) => Ok(e.error_response()),
        (Err(UploadError::Web(e)), false) => Err(e.into()),
        (Err(e), false) => Ok(render_imports(
            &state,
            &user,
            &ListQuery::default(),
            Some((e.status_code(), e.to_string())),
        )
        .await?),
    }
}

/// Commits a previewed upload (page: redirect to the batch; script: the result as JSON).
pub async fn commit_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    post: PageForm<CsrfOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let json = wants_json(&req);
    let acting = acting(&user);
    let id = path.into_inner();
    let r = db(&state, move |c| Ok(app::commit_upload(c, &acting, id))).await;
    let r = r
        .map_err(UploadError::from)
        .and_then(|r| r.map_err(UploadError::from));
    match (r, json) {
        (Ok(r), true) => Ok(HttpResponse::Ok().json(r)),
        (Ok(r), false) => Ok(redirect(&format!("/imports/{}", r.batch_id))),
        (Err(e), true) => Ok(e.error_response()),
        (Err(UploadError::Web(e)), false) => Err(e.into()),
        (Err(e), false) => Ok(render_imports(
            &state,
            &user,
            &ListQuery::default(),
            Some((e.status_code(), e.to_string())),
        )
        .await?),
    }
}

/// Discards a previewed upload.
pub async fn discard_page(
    state: web::Data<AppState>,
    post: PageForm<CsrfOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let acting = acting(&user);
    let id = path.into_inner();
    db(&state, move |c| Ok(app::discard_upload(c, &acting, id)?)).await?;
    Ok(redirect("/imports"))
}

async fn detail_for(
    state: &AppState,
    user: &CurrentUser,
    id: BatchId,
) -> Result<BatchDetail, WebError> {
    let iid = user.insurer_id;
    db(state, move |c| Ok(app::batch_detail(c, iid, id)?)).await
}

pub async fn import_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = parse_id(&path)?;
    let d = detail_for(&state, &user, id).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "imports");
    ctx.insert("rejects_shown", &app::REJECTS_SHOWN);
    ctx.insert("d", &d);
    Ok(html(&state, "pages/import.html", &ctx)?)
}

async fn rejects_download(
    state: &AppState,
    user: &CurrentUser,
    id: BatchId,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let bytes = db(state, move |c| {
        crate::store::batches::get(c, iid, id)?.ok_or(WebError::NotFound)?;
        let rows = import::rejects(c, iid, id.0)?;
        crate::reports::export::rejects_csv(&rows).map_err(|e| WebError::Internal(e.into()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"rejects-{}.csv\"", id.0),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

pub async fn rejects_csv_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    Ok(rejects_download(&state, &user.0, id).await?)
}

// ---------------------------------------------------------------------------------------------
// API

/// The insurer's import batches, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "imports",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of batches and the total", body = BatchList),
        (status = 400, description = "Bad paging", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_list(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(batch_list(&state, &user, &q).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// File name to record for a raw CSV body (a multipart upload carries its own)
    file_name: Option<String>,
    /// An import profile of the insurer, by name, for a file in its own layout (SPEC §3.1)
    profile: Option<String>,
    /// e-Gov files: the day the file was received (YYYY-MM-DD; default today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    received_on: Option<String>,
    /// `1`: only tell what the file would change (new / changed / unchanged / rejected); nothing is stored
    #[param(value_type = Option<String>, pattern = "^[01]$")]
    dry_run: Option<String>,
}

async fn api_upload(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    user: CurrentUser,
    kind: FileKind,
    q: UploadQuery,
) -> Result<HttpResponse, UploadError> {
    user.require(Role::Staff)?;
    let (got, form) = receive(&req, payload, &user, q.file_name.as_deref()).await?;
    let fields = UploadFields {
        kind: None,
        profile: q.profile.or(form.profile),
        received_on: q.received_on.or(form.received_on),
    };
    let mode = match q.dry_run.as_deref() {
        None | Some("") | Some("0") => Mode::Commit,
        Some("1") => Mode::Preview,
        Some(_) => {
            return Err(WebError::BadRequest("dry_run は 1 か 0 です".into()).into());
        }
    };
    let upload = request(kind, &fields)?;
    let summary = load(&state, &user, upload, got, mode).await?;
    let mut body = ImportResult::new(kind, summary);
    if mode == Mode::Preview {
        body.batch_id = 0;
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Loads a notices file (届書). Send the file either as `multipart/form-data` with the field `file`
/// or as the raw request body (`Content-Type: text/csv`, name it with `?file_name=`). At most
/// 200 MB. CSV (UTF-8 / Shift_JIS, comma or tab), Excel (.xlsx, .xls) or an employer's e-Gov file
/// (SHFD0006.CSV / KPFD0006.CSV, with `received_on`); a file in the insurer's own layout with
/// `profile=NAME`; `dry_run=1` tells what it would change without storing anything (batch_id 0). Rows with errors are rejected and listed; the rest is loaded (one batch, all or
/// nothing). A cookie session must send `X-CSRF-Token` (or, in a form, a `csrf` field before the
/// file). Needs the staff role.
#[utoipa::path(
    post,
    path = "/api/v1/imports/notices",
    tag = "imports",
    params(UploadQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file (or multipart/form-data with the field `file`)"),
    responses(
        (status = 200, description = "Loaded", body = ImportResult),
        (status = 400, description = "No file in the request", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 413, description = "Larger than 200 MB (payload_too_large)", body = ErrorBody),
        (status = 422, description = "The file cannot be loaded: encoding, missing column, another insurer's file, cut off (import_failed)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_upload_notices(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    super::auth::UploadUser(user): super::auth::UploadUser,
    q: web::Query<UploadQuery>,
) -> Result<HttpResponse, UploadError> {
    api_upload(req, payload, state, user, FileKind::Notices, q.into_inner()).await
}

/// Loads a registration-results file (中間サーバー登録結果). Same transport and rules as
/// `/api/v1/imports/notices`.
#[utoipa::path(
    post,
    path = "/api/v1/imports/registrations",
    tag = "imports",
    params(UploadQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file (or multipart/form-data with the field `file`)"),
    responses(
        (status = 200, description = "Loaded", body = ImportResult),
        (status = 400, description = "No file in the request", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 413, description = "Larger than 200 MB (payload_too_large)", body = ErrorBody),
        (status = 422, description = "The file cannot be loaded (import_failed)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_upload_registrations(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    super::auth::UploadUser(user): super::auth::UploadUser,
    q: web::Query<UploadQuery>,
) -> Result<HttpResponse, UploadError> {
    api_upload(
        req,
        payload,
        state,
        user,
        FileKind::Registrations,
        q.into_inner(),
    )
    .await
}

/// One batch with its first 1000 rejected rows. 404 for a batch of another insurer.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch", body = BatchDetail),
        (status = 404, description = "No such batch for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_detail(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    Ok(HttpResponse::Ok().json(detail_for(&state, &user, id).await?))
}

/// Every rejected row of a batch as CSV (UTF-8 with BOM; columns 行, 理由).
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}/rejects.csv",
    tag = "imports",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv"),
        (status = 404, description = "No such batch for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_rejects_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    rejects_download(&state, &user, id).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/imports")
            .app_data(upload_config())
            .route(web::get().to(imports_page))
            .route(web::post().to(upload_page)),
    )
    .route("/imports/uploads/{id}/commit", web::post().to(commit_page))
    .route(
        "/imports/uploads/{id}/discard",
        web::post().to(discard_page),
    )
    .route("/imports/{id}", web::get().to(import_page))
    .route("/imports/{id}/rejects.csv", web::get().to(rejects_csv_page))
    .route("/api/v1/imports", web::get().to(api_list))
    .service(
        web::resource("/api/v1/imports/notices")
            .guard(guard::Post())
            .app_data(upload_config())
            .route(web::post().to(api_upload_notices)),
    )
    .service(
        web::resource("/api/v1/imports/registrations")
            .guard(guard::Post())
            .app_data(upload_config())
            .route(web::post().to(api_upload_registrations)),
    )
    .route("/api/v1/imports/{id}", web::get().to(api_detail))
    .route(
        "/api/v1/imports/{id}/rejects.csv",
        web::get().to(api_rejects_csv),
    );
}

#[derive(OpenApi)]
#[openapi(paths(
    api_list,
    api_upload_notices,
    api_upload_registrations,
    api_detail,
    api_rejects_csv
))]
struct ImportsApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ImportsApi::openapi()
}
