//! 資格確認書 records (recorded by staff from the case page or the API), what a case shows about
//! its letters (its 資格確認書, the letters produced for it, which letters it can get), the case
//! list's 資格確認書 marks, and a letter produced before: download it again as it was, mark it
//! 発送済. The workflow is in [`crate::app::letters`].
use super::auth::{Csrf, CurrentUser};
use super::cases::NoticeQuery;
use super::error::{ErrorBody, WebError};
use super::letters::{acting, filter_fields, page_answer, parse_day, parse_format, parse_id};
use super::letters::{respond, run, Failure};
use super::pages::{db, redirect, PageError, PageForm, PageUser};
use super::AppState;
use crate::app::letters::{self as app, IssueRequest, SentRequest};
use crate::letters::latest_valid_until;
use crate::letters::views::{CertificateBody, LetterRecordBody, NoticeLettersBody};
use crate::letters::workflow::Format;
use crate::reports::cases::NoticeItem;
use crate::store::letters::{CertificateRow, LetterRecord};
use crate::store::notices::NoticeDbId;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

async fn issue(
    state: &AppState,
    user: &CurrentUser,
    notice: NoticeDbId,
    input: IssueRequest,
) -> Result<CertificateRow, Failure> {
    user.require(Role::Staff)?;
    run(state, user, move |c, a| {
        app::issue_certificate(c, a, notice, input)
    })
    .await
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
    let id = NoticeDbId(parse_id(&path)?);
    let row = issue(&state, &user, id, body.into_inner()).await?;
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
    let id = NoticeDbId(parse_id(&path)?);
    let result = async {
        let input = IssueRequest {
            issued_on: parse_day("交付日", &form.issued_on)?,
            valid_until: parse_day("有効期限", &form.valid_until)?,
        };
        issue(&state, &user, id, input).await
    }
    .await;
    let r = match result {
        Ok(_) => Ok(redirect(&format!("/notices/{}?issued=1#letters", id.0))),
        // A refusal is shown on the form itself, with the dates as typed.
        Err(Failure::Web(WebError::BadRequest(message))) => {
            let typed = super::cases::CertificateFormError {
                message,
                issued_on: form.issued_on.clone().unwrap_or_default(),
                valid_until: form.valid_until.clone().unwrap_or_default(),
            };
            let r = super::cases::render_notice(&state, &user, id.0, None, Some(typed));
            Ok(r.await?)
        }
        Err(e) => Err(e),
    };
    page_answer(&state, &user, r)
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
    let id = NoticeDbId(parse_id(&path)?);
    let body = run(&state, &user, move |c, a| app::notice_letters(c, a, id)).await?;
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
    let body = db(state, move |c| {
        Ok(app::notice_letters(c, &a, NoticeDbId(id))?)
    })
    .await?;
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
    let items: Vec<_> = items
        .iter()
        .map(|i| (i.id, i.ex_officio_card.required, i.as_of))
        .collect();
    let a = acting(user);
    let marks = db(state, move |c| Ok(app::cert_marks(c, &a, &items)?)).await?;
    ctx.insert("cert_marks", &marks);
    ctx.insert("bulk_fields", &filter_fields(q));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A letter produced before: download it again as it was, mark it 発送済

/// The kept document of a letter of this insurer, printed again for PDF (staff; audited).
async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    format: Format,
) -> Result<HttpResponse, Failure> {
    user.require(Role::Staff)?;
    let kept = run(state, user, move |c, a| app::download(c, a, id, format)).await?;
    let p = web::block(move || app::reprint(kept, format))
        .await
        .map_err(WebError::from)??;
    Ok(respond(p))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// pdf (default) | html
    #[param(schema_with = crate::web::openapi::letter_format)]
    pub format: Option<String>,
}

/// A letter produced before, exactly as it was (staff): the kept HTML document, or a PDF printed
/// from it. 409 `not_kept` for letters produced before their wording was kept.
#[utoipa::path(
    get,
    path = "/api/v1/letters/{id}",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the letter (`letters[].id` of /api/v1/notices/{id}/letters)"), DownloadQuery),
    responses(
        (status = 200, description = "The letter as it was produced", content(("application/pdf"), ("text/html"))),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such letter for this insurer", body = ErrorBody),
        (status = 409, description = "The letter's wording was not kept (produced before it was)", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_download(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, Failure> {
    let id = parse_id(&path)?;
    download(&state, &user, id, parse_format(&q.format)?).await
}

/// The download links of the case page.
pub async fn download_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = parse_id(&path)?;
    let format = parse_format(&q.format)?;
    page_answer(&state, &user, download(&state, &user, id, format).await)
}

/// Records a letter as 発送済 (staff), audited; 409 when it already is.
async fn mark_sent(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    input: SentRequest,
) -> Result<(LetterRecord, bool), Failure> {
    user.require(Role::Staff)?;
    run(state, user, move |c, a| app::mark_sent(c, a, id, input)).await
}

/// Records that a letter was mailed (発送済: the day and who), audited. Needs the staff role.
#[utoipa::path(
    post,
    path = "/api/v1/letters/{id}/sent",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the letter")),
    request_body = SentRequest,
    responses(
        (status = 200, description = "Recorded; the letter", body = LetterRecordBody),
        (status = 400, description = "The day is in the future or before the letter was produced", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such letter for this insurer", body = ErrorBody),
        (status = 409, description = "Already recorded as sent (already_sent)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_sent(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<SentRequest>,
) -> Result<HttpResponse, Failure> {
    let id = parse_id(&path)?;
    let r = mark_sent(&state, &user, id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(LetterRecordBody::from(r)))
}

#[derive(Deserialize)]
pub struct SentForm {
    sent_on: Option<String>,
}

/// The 発送済 button of the case page.
pub async fn sent_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<SentForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_id(&path)?;
    let sent_on = parse_day("発送日", &form.sent_on)?;
    let r = mark_sent(&state, &user, id, SentRequest { sent_on }).await;
    let r = r.map(|(rec, _)| redirect(&format!("/notices/{}?sent=1#letters", rec.notice_id)));
    page_answer(&state, &user, r)
}
