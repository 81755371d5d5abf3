//! メール設定 (admin): the insurer's sender and reminder settings, page and API, and the preview
//! of what the daily evaluation would queue before reminders are switched on (SPEC §5).
use super::app;
use crate::app::mail::MailPreviewBody;
use crate::mail::prefs::{self, PrefsInput, WEEKDAYS_JA};
use crate::mail::transport::MailSettings;
use crate::store::mail_settings::{self, MailPrefs};
use crate::store::outbox::MailKind;
use crate::store::users::Role;
use crate::web::auth::{Csrf, CurrentUser};
use crate::web::error::{ErrorBody, WebError};
use crate::web::pages::{
    base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser,
};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The insurer's e-mail settings. Empty / null fields use the server's configuration.
#[derive(Serialize, Deserialize, ToSchema, Default)]
pub struct MailSettingsBody {
    /// Display name of the From header (null: the configured mail_from's name)
    pub sender_name: Option<String>,
    /// From address (null: REGWATCH_MAIL_FROM)
    pub from_address: Option<String>,
    /// Reply-To, also the contact named in the e-mails when the insurer has no contact text
    pub reply_to: Option<String>,
    /// Envelope sender that receives bounces (null: mail_bounce, else the From address)
    pub bounce_address: Option<String>,
    /// Automatic reminders on or off (missing: off, the default of a new insurer)
    #[serde(default)]
    pub reminders_enabled: bool,
    /// ISO weekday of the weekly digest, 1 = Monday … 7 = Sunday
    #[serde(default = "monday")]
    pub digest_weekday: u32,
    /// Japan hour (0–23) of the daily evaluation (null: mail_schedule_hour)
    pub schedule_hour: Option<u32>,
}

fn monday() -> u32 {
    1
}

impl From<&MailPrefs> for MailSettingsBody {
    fn from(p: &MailPrefs) -> Self {
        MailSettingsBody {
            sender_name: p.sender_name.clone(),
            from_address: p.from_address.clone(),
            reply_to: p.reply_to.clone(),
            bounce_address: p.bounce_address.clone(),
            reminders_enabled: p.reminders_enabled,
            digest_weekday: p.digest_weekday,
            schedule_hour: p.schedule_hour,
        }
    }
}

impl MailSettingsBody {
    fn prefs(&self) -> Result<MailPrefs, WebError> {
        let weekday = self.digest_weekday.to_string();
        let hour = self
            .schedule_hour
            .map(|h| h.to_string())
            .unwrap_or_default();
        prefs::parse(&PrefsInput {
            sender_name: self.sender_name.as_deref().unwrap_or(""),
            from_address: self.from_address.as_deref().unwrap_or(""),
            reply_to: self.reply_to.as_deref().unwrap_or(""),
            bounce_address: self.bounce_address.as_deref().unwrap_or(""),
            reminders_enabled: self.reminders_enabled,
            digest_weekday: &weekday,
            schedule_hour: &hour,
        })
        .map_err(WebError::BadRequest)
    }
}

/// Saves the settings under the insurer's evaluation lock, audited with what changed.
async fn save_prefs(state: &AppState, user: &CurrentUser, new: MailPrefs) -> Result<(), WebError> {
    user.require(Role::Admin)?;
    let acting = crate::web::admin::acting(user);
    db(state, move |c| Ok(app::save_settings(c, &acting, &new)?)).await
}

async fn load_prefs(
    state: &AppState,
    user: &CurrentUser,
) -> Result<mail_settings::StoredPrefs, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    db(state, move |c| Ok(mail_settings::get(c, iid)?)).await
}

/// The settings form: every field a string, so what was typed comes back with the error.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct MailSettingsForm {
    #[serde(default)]
    sender_name: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    bounce_address: String,
    #[serde(default)]
    reminders_enabled: Option<String>,
    #[serde(default)]
    digest_weekday: String,
    #[serde(default)]
    schedule_hour: String,
}

impl MailSettingsForm {
    fn of(p: &MailPrefs) -> Self {
        MailSettingsForm {
            sender_name: p.sender_name.clone().unwrap_or_default(),
            from_address: p.from_address.clone().unwrap_or_default(),
            reply_to: p.reply_to.clone().unwrap_or_default(),
            bounce_address: p.bounce_address.clone().unwrap_or_default(),
            reminders_enabled: p.reminders_enabled.then(|| "on".into()),
            digest_weekday: p.digest_weekday.to_string(),
            schedule_hour: p.schedule_hour.map(|h| h.to_string()).unwrap_or_default(),
        }
    }
    fn prefs(&self) -> Result<MailPrefs, String> {
        prefs::parse(&PrefsInput {
            sender_name: &self.sender_name,
            from_address: &self.from_address,
            reply_to: &self.reply_to,
            bounce_address: &self.bounce_address,
            reminders_enabled: self.reminders_enabled.is_some(),
            digest_weekday: &self.digest_weekday,
            schedule_hour: &self.schedule_hour,
        })
    }
}

async fn render_settings(
    state: &AppState,
    user: &CurrentUser,
    form: Option<MailSettingsForm>,
    saved: bool,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let stored = load_prefs(state, user).await?;
    let insurer = insurer_of(state, user).await?;
    let defaults = MailSettings::from_config(&state.config).ok();
    let mut ctx = base_context(user, &insurer, "mail");
    ctx.insert(
        "f",
        &form.unwrap_or_else(|| MailSettingsForm::of(&stored.prefs)),
    );
    let weekdays: Vec<(String, &str)> = WEEKDAYS_JA
        .iter()
        .map(|(n, l)| (n.to_string(), *l))
        .collect();
    ctx.insert("weekdays", &weekdays);
    ctx.insert(
        "default_from",
        &defaults.as_ref().map(|d| d.from.to_string()),
    );
    ctx.insert(
        "default_bounce",
        &defaults.as_ref().map(|d| {
            d.bounce
                .clone()
                .unwrap_or_else(|| d.from.email.clone())
                .to_string()
        }),
    );
    ctx.insert("default_hour", &state.config.mail_schedule_hour);
    ctx.insert("public_url", &state.config.public_url);
    ctx.insert("updated_by", &stored.updated_by);
    ctx.insert("last_evaluated_on", &stored.last_evaluated_on);
    ctx.insert("saved", &saved);
    ctx.insert("error", &error);
    html(state, "pages/mail_settings.html", &ctx)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(render_settings(&state, &user.0, None, q.saved.is_some(), None).await?)
}

pub async fn settings_submit(
    state: web::Data<AppState>,
    post: PageForm<MailSettingsForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    match form.prefs() {
        Ok(p) => {
            save_prefs(&state, &user, p).await?;
            Ok(redirect("/mail/settings?saved=1"))
        }
        Err(msg) => {
            let mut res = render_settings(&state, &user, Some(form), false, Some(msg)).await?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}

/// The insurer's e-mail settings. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/mail/settings",
    tag = "mail",
    responses(
        (status = 200, description = "The settings", body = MailSettingsBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let stored = load_prefs(&state, &user).await?;
    Ok(HttpResponse::Ok().json(MailSettingsBody::from(&stored.prefs)))
}

/// Replaces the insurer's e-mail settings; audited. Messages queued from now on carry the new
/// sender; messages already queued keep theirs (what the preview showed). Admin only.
#[utoipa::path(
    put,
    path = "/api/v1/mail/settings",
    tag = "mail",
    request_body = MailSettingsBody,
    responses(
        (status = 200, description = "Saved", body = MailSettingsBody),
        (status = 400, description = "A bad value; the Japanese message names the field", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<MailSettingsBody>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Admin)?;
    let p = body.prefs()?;
    save_prefs(&state, &user, p.clone()).await?;
    Ok(HttpResponse::Ok().json(MailSettingsBody::from(&p)))
}

// ---------------------------------------------------------------------------------------------
// The admin's preview before switching automatic reminders on (SPEC §5): what the evaluation would
// queue now, rendered with the current settings, without queuing anything.

/// Messages shown in full on the preview page (all are counted).
const PREVIEW_SHOWN: usize = 20;

#[derive(Deserialize)]
pub struct PreviewQuery {
    as_of: Option<String>,
}

async fn load_preview(
    state: &AppState,
    user: &CurrentUser,
    as_of: chrono::NaiveDate,
) -> Result<MailPreviewBody, WebError> {
    user.require(Role::Admin)?;
    let acting = crate::web::admin::acting(user);
    let defaults = MailSettings::from_config(&state.config).ok();
    db(state, move |c| {
        Ok(app::preview(c, &acting, as_of, defaults.as_ref())?)
    })
    .await
}

fn preview_date(q: &PreviewQuery) -> Result<chrono::NaiveDate, WebError> {
    match q.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(crate::time::today_jst()),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "基準日「{s}」は YYYY-MM-DD の形式で入力してください"
            ))
        }),
    }
}

/// The preview page: counts per kind and the first messages with both bodies. Admin only.
pub async fn preview_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let as_of = preview_date(&q)?;
    let p = load_preview(&state, &user, as_of).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "mail");
    let counts: Vec<(&str, usize)> = MailKind::ALL
        .iter()
        .map(|k| (k.label_ja(), p.queued.get(k.code()).copied().unwrap_or(0)))
        .collect();
    ctx.insert("counts", &counts);
    ctx.insert("total", &p.messages.len());
    ctx.insert(
        "shown",
        &p.messages.iter().take(PREVIEW_SHOWN).collect::<Vec<_>>(),
    );
    ctx.insert("p", &p);
    ctx.insert("as_of", &as_of.to_string());
    html(&state, "pages/mail_preview.html", &ctx).map_err(Into::into)
}

/// What the daily evaluation as of `as_of` (default: today in Japan) would queue now, rendered
/// with the current settings; nothing is queued. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/mail/preview",
    tag = "mail",
    params(("as_of" = Option<chrono::NaiveDate>, Query, description = "YYYY-MM-DD (default: today, JST)")),
    responses(
        (status = 200, description = "The messages that would be queued", body = MailPreviewBody),
        (status = 400, description = "A bad date", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_preview(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, WebError> {
    let as_of = preview_date(&q)?;
    Ok(HttpResponse::Ok().json(load_preview(&state, &user, as_of).await?))
}
