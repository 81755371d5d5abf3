//! 資格確認書 records (recorded by staff from the case page or the API), and what a case shows about
//! its letters: its 資格確認書, the letters produced for it and which letters it can get; the
//! case list's 資格確認書 marks. The workflow is in [`crate::app::letters`].
use super::auth::{Csrf, CurrentUser};
use super::cases::NoticeQuery;
use super::error::{ErrorBody, WebError};
use super::letters::{acting, filter_fields, page_error, parse_day, parse_notice, run, Failure};
use super::pages::{redirect, PageError, PageForm};
use super::AppState;
use crate::app::letters::{self as app, Issue};
use crate::letters::latest_valid_until;
use crate::letters::views::{CertificateBody, NoticeLettersBody};
use crate::reports::cases::NoticeItem;
use crate::store::letters::CertificateRow;
use crate::store::notices::NoticeDbId;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct IssueRequest {
    /// Issue date (default: today in Japan); not before the notice's receipt, not after today
    pub issued_on: Option<NaiveDate>,
    /// Last day of validity (default and maximum: one month after the issue date)
    pub valid_until: Option<NaiveDate>,
}

async fn issue(
    state: &AppState,
    user: &CurrentUser,
    input: Issue,
) -> Result<CertificateRow, Failure> {
    user.require(Role::Staff)?;
    let a = acting(user);
    run(state, move |c| app::issue_certificate(c, &a, input)).await
}

/// Records a 資格確認書 issued ex officio for a notice (staff). Its validity may not exceed one
/// month from the issue date (SPEC §2.4).
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/certificates",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the notice")),
    request_body = IssueRequest,
    responses(
        (status = 201, description = "Recorded", body = CertificateBody),
        (status = 400, description = "Validity over one month, dates out of order, a loss notice, or already registered", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such notice for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_issue(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, Failure> {
    let b = body.into_inner();
    let input = Issue {
        notice: parse_notice(&path)?,
        issued_on: b.issued_on,
        valid_until: b.valid_until,
    };
    let row = issue(&state, &user, input).await?;
    Ok(HttpResponse::Created().json(CertificateBody::from(row)))
}

#[derive(Deserialize)]
pub struct IssueForm {
    issued_on: Option<String>,
    valid_until: Option<String>,
}

pub async fn issue_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<IssueForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_notice(&path)?;
    let result = async {
        let input = Issue {
            notice: id,
            issued_on: parse_day("交付日", &form.issued_on)?,
            valid_until: parse_day("有効期限", &form.valid_until)?,
        };
        issue(&state, &user, input).await
    }
    .await;
    match result {
        Ok(_) => Ok(redirect(&format!("/notices/{}?issued=1#letters", id.0))),
        // A refusal is shown on the form itself, with the dates as typed.
        Err(Failure::Web(WebError::BadRequest(message))) => Ok(super::cases::render_notice(
            &state,
            &user,
            id.0,
            None,
            Some(super::cases::CertificateFormError {
                message,
                issued_on: form.issued_on.clone().unwrap_or_default(),
                valid_until: form.valid_until.clone().unwrap_or_default(),
            }),
        )
        .await?),
        Err(e) => page_error(&state, &user, e),
    }
}

/// A read that has no outcome of its own besides not found (the case page and list need a
/// [`WebError`]).
fn read_error(e: Failure) -> WebError {
    match e {
        Failure::Web(w) => w,
        Failure::Letter(other) => WebError::Internal(other.into()),
    }
}

/// The 資格確認書 and letters of a notice, and which letters can be produced today.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}/letters",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the notice")),
    responses(
        (status = 200, description = "Certificates, letters and options", body = NoticeLettersBody),
        (status = 404, description = "No such notice for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_notice_letters(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let (id, a) = (parse_notice(&path)?, acting(&user));
    let body = run(&state, move |c| app::notice_letters(c, &a, id)).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Adds the letters section of the case page to its context (called by the case page).
pub async fn case_context(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let a = acting(user);
    let body = run(state, move |c| app::notice_letters(c, &a, NoticeDbId(id)))
        .await
        .map_err(read_error)?;
    let today = crate::time::today_jst();
    ctx.insert("letters", &body);
    ctx.insert("cert_today", &today.to_string());
    ctx.insert("sent_today", &today.to_string());
    ctx.insert("cert_latest", &latest_valid_until(today).to_string());
    Ok(())
}

/// Adds the 資格確認書 marks of a page of the case list (aligned with `items`) and the fields of
/// the bulk-letters form (the current filter) to the case list's context.
pub async fn list_context(
    state: &AppState,
    user: &CurrentUser,
    q: &NoticeQuery,
    items: &[NoticeItem],
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let a = acting(user);
    let items: Vec<_> = items
        .iter()
        .map(|i| (i.id, i.ex_officio_card.required, i.as_of))
        .collect();
    let marks = run(state, move |c| app::cert_marks(c, &a, &items))
        .await
        .map_err(read_error)?;
    ctx.insert("cert_marks", &marks);
    ctx.insert("bulk_fields", &filter_fields(q));
    Ok(())
}
