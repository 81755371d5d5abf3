//! The e-mail outbox pages: 送信予定 (queued, with a preview as the employer will see it),
//! 送信履歴 (sent), 失敗 (retrying and dead, with the last error). Staff may retry, hold, release
//! or cancel a message; every action is audited. Scoped to the caller's insurer.
mod settings;

use super::auth::{Csrf, CurrentUser};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser};
use super::params::json_config;
use super::AppState;
use crate::app::mail as app;
use crate::mail::transport::MailSettings;
use crate::store::outbox::{self, Action, MailKind, OutboxId, OutboxRow, OutboxStatus};
use crate::store::users::Role;
use crate::time::jst_minute;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// Rows shown per tab.
const LIST_LIMIT: i64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Tab {
    Queued,
    Sent,
    Failed,
}

impl Tab {
    fn parse(s: Option<&str>) -> Tab {
        match s {
            Some("sent") => Tab::Sent,
            Some("failed") => Tab::Failed,
            _ => Tab::Queued,
        }
    }
    fn statuses(self) -> &'static [OutboxStatus] {
        match self {
            Tab::Queued => &[
                OutboxStatus::Pending,
                OutboxStatus::Sending,
                OutboxStatus::Held,
            ],
            Tab::Sent => &[OutboxStatus::Sent, OutboxStatus::Cancelled],
            Tab::Failed => &[OutboxStatus::Failed, OutboxStatus::Dead],
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MailQuery {
    tab: Option<String>,
    done: Option<String>,
}

#[derive(Serialize)]
struct Item {
    id: i64,
    kind_ja: &'static str,
    status: String,
    status_ja: &'static str,
    employer_code: String,
    employer_name: Option<String>,
    recipients: String,
    subject: String,
    attempts: i32,
    next_attempt_at: String,
    last_error: Option<String>,
    as_of: String,
    created_at: String,
    sent_at: Option<String>,
}

fn label(kind: &str) -> &'static str {
    MailKind::parse(kind).map(MailKind::label_ja).unwrap_or("—")
}

fn status_label(s: &str) -> &'static str {
    OutboxStatus::parse(s)
        .map(OutboxStatus::label_ja)
        .unwrap_or("—")
}

pub async fn mail_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<MailQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let tab = Tab::parse(q.tab.as_deref());
    let insurer = insurer_of(&state, &user).await?;
    let id = insurer.id;
    let (rows, counts) = db(&state, move |c| {
        Ok((
            outbox::list(c, id, tab.statuses(), LIST_LIMIT)?,
            outbox::counts(c, id)?,
        ))
    })
    .await?;
    let items: Vec<Item> = rows
        .into_iter()
        .map(|m| Item {
            id: m.row.id,
            kind_ja: label(&m.row.kind),
            status_ja: status_label(&m.row.status),
            status: m.row.status,
            employer_code: m.employer_code,
            employer_name: m.employer_name,
            recipients: m.row.recipients.replace(',', ", "),
            subject: m.row.subject,
            attempts: m.row.attempts,
            next_attempt_at: jst_minute(m.row.next_attempt_at),
            last_error: m.row.last_error,
            as_of: m.row.as_of.to_string(),
            created_at: jst_minute(m.row.created_at),
            sent_at: m.row.sent_at.map(jst_minute),
        })
        .collect();
    let n = |s: &[OutboxStatus]| -> i64 {
        s.iter()
            .map(|s| counts.get(s.code()).copied().unwrap_or(0))
            .sum()
    };
    let mut ctx = base_context(&user, &insurer, "mail");
    ctx.insert("tab", &tab);
    ctx.insert("items", &items);
    ctx.insert("n_queued", &n(Tab::Queued.statuses()));
    ctx.insert("n_sent", &n(Tab::Sent.statuses()));
    ctx.insert("n_failed", &n(Tab::Failed.statuses()));
    ctx.insert("done", &q.done.is_some());
    Ok(html(&state, "pages/mail.html", &ctx)?)
}

/// One message as the employer will see it (subject, recipients, text and HTML bodies).
pub async fn message_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<MailQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = OutboxId(path.parse::<i64>().map_err(|_| WebError::NotFound)?);
    let insurer = insurer_of(&state, &user).await?;
    let ins = insurer.id;
    let row = db(&state, move |c| {
        outbox::get(c, ins, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    let mut ctx = base_context(&user, &insurer, "mail");
    ctx.insert("kind_ja", label(&row.kind));
    ctx.insert("status_ja", status_label(&row.status));
    ctx.insert("created", &jst_minute(row.created_at));
    ctx.insert("next_attempt", &jst_minute(row.next_attempt_at));
    ctx.insert("sent", &row.sent_at.map(jst_minute));
    // The From line as it will be sent (the sender frozen into the message, then the defaults).
    let from = MailSettings::from_config(&state.config)
        .ok()
        .and_then(|s| s.sender_of(&row).ok())
        .map(|s| s.from.to_string());
    ctx.insert("from", &from);
    ctx.insert("m", &row);
    ctx.insert("done", &q.done.is_some());
    Ok(html(&state, "pages/mail_message.html", &ctx)?)
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
}

fn parse_action(a: &str) -> Result<Action, WebError> {
    match a.trim() {
        "retry" => Ok(Action::Retry),
        "hold" => Ok(Action::Hold),
        "release" => Ok(Action::Release),
        "cancel" => Ok(Action::Cancel),
        _ => Err(WebError::BadRequest(
            "不明な操作です（retry・hold・release・cancel のいずれか）".into(),
        )),
    }
}

fn parse_id(s: &str) -> Result<OutboxId, WebError> {
    s.parse::<i64>()
        .map(OutboxId)
        .map_err(|_| WebError::NotFound)
}

/// Applies a staff action to one message of the caller's insurer, audited (`app::mail::act`).
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: OutboxId,
    action_code: &str,
) -> Result<OutboxRow, WebError> {
    user.require(Role::Staff)?;
    let action = parse_action(action_code)?;
    let acting = super::admin::acting(user);
    db(state, move |c| Ok(app::act(c, &acting, id, action)?)).await
}

/// retry / hold / release / cancel (staff).
pub async fn message_action(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_id(&path)?;
    act(&state, &user, id, &form.action).await?;
    Ok(redirect(&format!("/mail/{}?done=1", id.0)))
}

// ---------------------------------------------------------------------------------------------
// API: one message, and the staff actions

/// One queued, sent or failed e-mail as the employer will see it.
#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    pub id: i64,
    /// late_submission | my_number | certificate_expiry | weekly_digest
    pub kind: String,
    /// pending | sending | sent | failed | dead | held | cancelled
    pub status: String,
    pub status_label: String,
    pub employer_id: i64,
    pub recipients: Vec<String>,
    /// The From header it is (or was) sent with
    pub from: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn message_body(state: &AppState, row: OutboxRow) -> MessageBody {
    let from = MailSettings::from_config(&state.config)
        .ok()
        .and_then(|s| s.sender_of(&row).ok())
        .map(|s| s.from.to_string());
    MessageBody {
        id: row.id,
        kind: row.kind.clone(),
        status_label: status_label(&row.status).to_string(),
        status: row.status.clone(),
        employer_id: row.employer_id,
        recipients: row.recipient_list(),
        from,
        subject: row.subject,
        body_text: row.body_text,
        body_html: row.body_html,
        attempts: row.attempts,
        last_error: row.last_error,
        as_of: row.as_of,
        created_at: row.created_at.and_utc(),
        next_attempt_at: row.next_attempt_at.and_utc(),
        sent_at: row.sent_at.map(|t| t.and_utc()),
    }
}

/// One e-mail of the caller's insurer (another insurer's id is a 404).
#[utoipa::path(
    get,
    path = "/api/v1/mail/{id}",
    tag = "mail",
    params(("id" = i64, Path, description = "Outbox id")),
    responses(
        (status = 200, description = "The message", body = MessageBody),
        (status = 404, description = "No such message of this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    let ins = user.insurer_id;
    let row = db(&state, move |c| {
        outbox::get(c, ins, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(message_body(&state, row)))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// retry (failed/dead → pending) | hold (pending/failed → held) | release (held → pending) |
    /// cancel (pending/failed/held/dead → cancelled)
    pub action: String,
}

/// A staff action on one e-mail, audited. 400 when the message is not in a state the action
/// applies to (or is being sent right now).
#[utoipa::path(
    post,
    path = "/api/v1/mail/{id}/actions",
    tag = "mail",
    params(("id" = i64, Path, description = "Outbox id")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The message after the action", body = MessageBody),
        (status = 400, description = "Unknown action, or not applicable now", body = ErrorBody),
        (status = 403, description = "Viewer, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such message of this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_message_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ActionBody>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    let row = act(&state, &user, id, &body.action).await?;
    Ok(HttpResponse::Ok().json(message_body(&state, row)))
}

// ---------------------------------------------------------------------------------------------
// RFC 8058 one-click unsubscribe: no sign-in, no CSRF token — the signed token is the authority,
// and it can only set the opt-out of the one employer it names.

fn unsubscribe_page(
    state: &AppState,
    status: StatusCode,
    ctx: &tera::Context,
) -> Result<HttpResponse, WebError> {
    let mut res = html(state, "pages/unsubscribe.html", ctx)?;
    *res.status_mut() = status;
    Ok(res)
}

/// The employer a token names, or `None` for a token that is not genuine (or names no employer).
async fn unsubscribe_target(
    state: &AppState,
    token: &str,
) -> Result<Option<app::UnsubscribeTarget>, WebError> {
    let key = state.jwt_key.expose_secret().as_bytes().to_vec();
    let token = token.to_string();
    db(state, move |c| {
        Ok(app::unsubscribe_target(c, &key, &token)?)
    })
    .await
}

fn bad_token(state: &AppState) -> Result<HttpResponse, WebError> {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "error",
        "このリンクは無効です。メールに記載されたリンクをそのままお使いいただくか、保険者までお問い合わせください。",
    );
    unsubscribe_page(state, StatusCode::NOT_FOUND, &ctx)
}

pub async fn unsubscribe_get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some(t) = unsubscribe_target(&state, &path).await? else {
        return Ok(bad_token(&state)?);
    };
    let mut ctx = tera::Context::new();
    ctx.insert("token", path.as_str());
    ctx.insert("employer_code", &t.employer_code);
    ctx.insert("insurer_name", &t.insurer_name);
    ctx.insert("done", &false);
    Ok(unsubscribe_page(&state, StatusCode::OK, &ctx)?)
}

/// Sets the opt-out (idempotent) and audits it. Mail clients post `List-Unsubscribe=One-Click`;
/// the confirmation page's button posts the same.
pub async fn unsubscribe_post(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some(t) = unsubscribe_target(&state, &path).await? else {
        return Ok(bad_token(&state)?);
    };
    let mut ctx = tera::Context::new();
    ctx.insert("employer_code", &t.employer_code);
    ctx.insert("insurer_name", &t.insurer_name);
    db(&state, move |c| Ok(app::unsubscribe(c, &t)?)).await?;
    ctx.insert("done", &true);
    Ok(unsubscribe_page(&state, StatusCode::OK, &ctx)?)
}

/// `mail::configure(cfg)` beside the other areas in `web::routes`. `/mail/settings` and
/// `/mail/preview` come before `/mail/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mail", web::get().to(mail_page))
        .route("/mail/settings", web::get().to(settings::settings_page))
        .route("/mail/settings", web::post().to(settings::settings_submit))
        .route("/mail/preview", web::get().to(settings::preview_page))
        .route("/mail/{id}", web::get().to(message_page))
        .route("/mail/{id}", web::post().to(message_action))
        .route("/unsubscribe/{token}", web::get().to(unsubscribe_get))
        .route("/unsubscribe/{token}", web::post().to(unsubscribe_post))
        .service(
            web::resource("/api/v1/mail/settings")
                .app_data(json_config())
                .route(web::get().to(settings::api_settings))
                .route(web::put().to(settings::api_settings_put)),
        )
        .route("/api/v1/mail/preview", web::get().to(settings::api_preview))
        .route("/api/v1/mail/{id}", web::get().to(api_message))
        .service(
            web::resource("/api/v1/mail/{id}/actions")
                .app_data(json_config())
                .route(web::post().to(api_message_action)),
        );
}

#[derive(OpenApi)]
#[openapi(paths(
    settings::api_settings,
    settings::api_settings_put,
    settings::api_preview,
    api_message,
    api_message_action
))]
struct MailApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    MailApi::openapi()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_pages_and_mail_templates_parse() {
        let t = super::super::templates::load().unwrap();
        let names: Vec<&str> = t.get_template_names().collect();
        for n in [
            "pages/mail.html",
            "pages/mail_settings.html",
            "pages/mail_preview.html",
            "mail/_footer.txt",
            "pages/unsubscribe.html",
            "pages/mail_message.html",
            "mail/late_submission/body.html",
        ] {
            assert!(names.contains(&n), "{n}");
        }
    }
}
