//! 設定: the rule settings page (with a preview of how many stored deadlines change) and API.
use super::{acting, with_status};
use crate::app::settings as app;
use crate::domain::settings::{Policy, RuleConfig};
use crate::domain::RuleSettings;
use crate::store::users::Role;
use crate::time::DateStyle;
use crate::web::auth::{Csrf, CurrentUser};
use crate::web::error::{ErrorBody, WebError};
use crate::web::pages::{
    base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser,
};
use crate::web::params::json_config;
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The rule settings (SPEC §2). Every key is optional in a PUT; a missing key takes its default.
#[derive(Serialize, ToSchema)]
pub struct SettingsBody {
    /// Days before a deadline that make an open notice `at_risk`
    pub warn_days: u32,
    /// Registration days for notices without a valid My Number
    pub standard_days: u32,
    /// Days after receipt that call for a 資格確認書 issued ex officio
    pub ex_officio_days: u32,
    pub submission: RuleBody,
    pub registration: RuleBody,
}

#[derive(Serialize, ToSchema)]
pub struct RuleBody {
    /// extend | strict | business
    pub policy: String,
    pub days: DaysBody,
}

#[derive(Serialize, ToSchema)]
pub struct DaysBody {
    pub acquisition: u32,
    pub dependent: u32,
    pub loss: u32,
}

impl From<&RuleSettings> for SettingsBody {
    fn from(s: &RuleSettings) -> Self {
        let rule = |c: &RuleConfig| RuleBody {
            policy: c.policy.code().into(),
            days: DaysBody {
                acquisition: c.days.acquisition,
                dependent: c.days.dependent,
                loss: c.days.loss,
            },
        };
        SettingsBody {
            warn_days: s.warn_days,
            standard_days: s.standard_days,
            ex_officio_days: s.ex_officio_days,
            submission: rule(&s.submission),
            registration: rule(&s.registration),
        }
    }
}

/// How many stored deadlines `new` would change.
async fn preview(state: &AppState, user: &CurrentUser, new: RuleSettings) -> Result<u64, WebError> {
    user.require(Role::Admin)?;
    let acting = acting(user);
    db(state, move |c| Ok(app::preview(c, &acting, &new)?)).await
}

/// Saves the settings and recomputes every stored deadline; audited. Returns how many notices got
/// a different deadline.
async fn save(state: &AppState, user: &CurrentUser, new: RuleSettings) -> Result<u64, WebError> {
    user.require(Role::Admin)?;
    let acting = acting(user);
    db(state, move |c| Ok(app::save(c, &acting, &new)?)).await
}

/// The settings form: every field a string, so a typo comes back to the form with its key named.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    warn_days: String,
    #[serde(default)]
    standard_days: String,
    #[serde(default)]
    ex_officio_days: String,
    #[serde(default)]
    submission_policy: String,
    #[serde(default)]
    submission_acquisition: String,
    #[serde(default)]
    submission_dependent: String,
    #[serde(default)]
    submission_loss: String,
    #[serde(default)]
    registration_policy: String,
    #[serde(default)]
    registration_acquisition: String,
    #[serde(default)]
    registration_dependent: String,
    #[serde(default)]
    registration_loss: String,
}

impl SettingsForm {
    fn of(s: &RuleSettings) -> SettingsForm {
        SettingsForm {
            warn_days: s.warn_days.to_string(),
            standard_days: s.standard_days.to_string(),
            ex_officio_days: s.ex_officio_days.to_string(),
            submission_policy: s.submission.policy.code().into(),
            submission_acquisition: s.submission.days.acquisition.to_string(),
            submission_dependent: s.submission.days.dependent.to_string(),
            submission_loss: s.submission.days.loss.to_string(),
            registration_policy: s.registration.policy.code().into(),
            registration_acquisition: s.registration.days.acquisition.to_string(),
            registration_dependent: s.registration.days.dependent.to_string(),
            registration_loss: s.registration.days.loss.to_string(),
        }
    }

    /// The form in the API's JSON shape, read by the same parser as the API, so the same keys,
    /// ranges and messages apply.
    fn settings(&self) -> Result<RuleSettings, String> {
        // A number stays a number; anything else goes in as text and is refused with its key.
        let v = |s: &str| {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(n) => serde_json::json!(n),
                Err(_) => serde_json::json!(t),
            }
        };
        let json = serde_json::json!({
            "warn_days": v(&self.warn_days),
            "standard_days": v(&self.standard_days),
            "ex_officio_days": v(&self.ex_officio_days),
            "submission": {
                "policy": self.submission_policy.trim(),
                "days": {
                    "acquisition": v(&self.submission_acquisition),
                    "dependent": v(&self.submission_dependent),
                    "loss": v(&self.submission_loss),
                },
            },
            "registration": {
                "policy": self.registration_policy.trim(),
                "days": {
                    "acquisition": v(&self.registration_acquisition),
                    "dependent": v(&self.registration_dependent),
                    "loss": v(&self.registration_loss),
                },
            },
        });
        RuleSettings::from_json(&json).map_err(|e| e.to_string())
    }
}

#[derive(Serialize)]
struct PolicyOption {
    code: &'static str,
    label: &'static str,
}

struct SettingsView {
    form: SettingsForm,
    saved: Option<String>,
    display_saved: bool,
    preview: Option<u64>,
    error: Option<String>,
}

async fn render_settings(
    state: &AppState,
    user: &CurrentUser,
    view: SettingsView,
) -> Result<HttpResponse, WebError> {
    let insurer = insurer_of(state, user).await?;
    let mut ctx = base_context(user, &insurer, "settings");
    ctx.insert("f", &view.form);
    ctx.insert("current", &SettingsForm::of(&insurer.rules));
    ctx.insert(
        "policies",
        &Policy::ALL
            .iter()
            .map(|p| PolicyOption {
                code: p.code(),
                label: p.label_ja(),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "date_styles",
        &DateStyle::ALL
            .iter()
            .map(|s| PolicyOption {
                code: s.code(),
                label: s.label_ja(),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("display_saved", &view.display_saved);
    ctx.insert("saved", &view.saved);
    ctx.insert("preview", &view.preview);
    ctx.insert("error", &view.error);
    html(state, "pages/settings.html", &ctx)
}

#[derive(Deserialize)]
pub struct SettingsPageQuery {
    saved: Option<String>,
    display: Option<String>,
}

pub async fn settings_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SettingsPageQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let insurer = insurer_of(&state, &user).await?;
    let view = SettingsView {
        form: SettingsForm::of(&insurer.rules),
        saved: q.saved.clone(),
        display_saved: q.display.is_some(),
        preview: None,
        error: None,
    };
    Ok(render_settings(&state, &user, view).await?)
}

/// The form again with its error (400).
async fn form_error(
    state: &AppState,
    user: &CurrentUser,
    form: SettingsForm,
    error: String,
) -> Result<HttpResponse, PageError> {
    let view = SettingsView {
        form,
        saved: None,
        display_saved: false,
        preview: None,
        error: Some(error),
    };
    let page = render_settings(state, user, view).await?;
    Ok(with_status(page, StatusCode::BAD_REQUEST))
}

/// Shows how many stored deadlines the submitted values would change, with a button to save them.
pub async fn settings_preview_submit(
    state: web::Data<AppState>,
    post: PageForm<SettingsForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let new = match form.settings() {
        Ok(s) => s,
        Err(m) => return form_error(&state, &user, form, m).await,
    };
    let view = SettingsView {
        form,
        saved: None,
        display_saved: false,
        preview: Some(preview(&state, &user, new).await?),
        error: None,
    };
    Ok(render_settings(&state, &user, view).await?)
}

pub async fn settings_submit(
    state: web::Data<AppState>,
    post: PageForm<SettingsForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    match form.settings() {
        Ok(s) => {
            let changed = save(&state, &user, s).await?;
            Ok(redirect(&format!("/settings?saved={changed}")))
        }
        Err(m) => form_error(&state, &user, form, m).await,
    }
}

/// The insurer's rule settings.
#[utoipa::path(
    get,
    path = "/api/v1/settings",
    tag = "settings",
    responses(
        (status = 200, description = "The settings", body = SettingsBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let insurer = insurer_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(SettingsBody::from(&insurer.rules)))
}

#[derive(Serialize, ToSchema)]
pub struct SettingsSaved {
    pub settings: SettingsBody,
    /// Notices whose stored deadlines changed
    pub changed: u64,
}

/// Replaces the rule settings (missing keys take their defaults) and recomputes every stored
/// deadline in the same transaction. A bad value is a 400 whose message names the key. Admin only.
#[utoipa::path(
    put,
    path = "/api/v1/settings",
    tag = "settings",
    request_body(content = SettingsBody, description = "The settings; every key optional"),
    responses(
        (status = 200, description = "Saved", body = SettingsSaved),
        (status = 400, description = "A bad value; the message names the key", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Admin)?;
    let new = RuleSettings::from_json(&body)?;
    let changed = save(&state, &user, new).await?;
    Ok(HttpResponse::Ok().json(SettingsSaved {
        settings: SettingsBody::from(&new),
        changed,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PreviewBody {
    /// Notices whose stored deadlines would change
    pub changed: u64,
}

/// How many stored deadlines the given settings would change; nothing is saved. Admin only.
#[utoipa::path(
    post,
    path = "/api/v1/settings/preview",
    tag = "settings",
    request_body(content = SettingsBody, description = "The settings to try; every key optional"),
    responses(
        (status = 200, description = "The count", body = PreviewBody),
        (status = 400, description = "A bad value; the message names the key", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings_preview(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Admin)?;
    let new = RuleSettings::from_json(&body)?;
    let changed = preview(&state, &user, new).await?;
    Ok(HttpResponse::Ok().json(PreviewBody { changed }))
}

async fn save_date_style(
    state: &AppState,
    user: &CurrentUser,
    style: DateStyle,
) -> Result<(), WebError> {
    user.require(Role::Admin)?;
    let acting = acting(user);
    db(state, move |c| Ok(app::set_date_style(c, &acting, style)?)).await
}

#[derive(Deserialize)]
pub struct DisplayForm {
    #[serde(default)]
    date_style: String,
}

/// 設定 → 表示: how this insurer's pages show dates. Admin only; audited.
pub async fn display_submit(
    state: web::Data<AppState>,
    post: PageForm<DisplayForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let style = DateStyle::parse(&form.date_style).ok_or_else(|| {
        WebError::BadRequest(format!(
            "日付の表示 {:?} は選べません（iso または wareki）",
            form.date_style
        ))
    })?;
    save_date_style(&state, &user, style).await?;
    Ok(redirect("/settings?display=1"))
}

/// How the insurer's pages show dates. Files and the API always use ISO 8601.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DisplayBody {
    #[schema(schema_with = crate::web::openapi::date_style)]
    pub date_style: DateStyle,
}

/// How the insurer's pages show dates.
#[utoipa::path(
    get,
    path = "/api/v1/settings/display",
    tag = "settings",
    responses(
        (status = 200, description = "The display settings", body = DisplayBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_display(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let insurer = insurer_of(&state, &user).await?;
    Ok(HttpResponse::Ok().json(DisplayBody {
        date_style: insurer.date_style,
    }))
}

/// Sets how the insurer's pages show dates; audited. Admin only.
#[utoipa::path(
    put,
    path = "/api/v1/settings/display",
    tag = "settings",
    request_body = DisplayBody,
    responses(
        (status = 200, description = "Saved", body = DisplayBody),
        (status = 400, description = "Not one of the styles", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_display_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<DisplayBody>,
) -> Result<HttpResponse, WebError> {
    let style = body.date_style;
    save_date_style(&state, &user, style).await?;
    Ok(HttpResponse::Ok().json(DisplayBody { date_style: style }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings_page))
        .route("/settings/display", web::post().to(display_submit))
        .route("/settings", web::post().to(settings_submit))
        .route("/settings/preview", web::post().to(settings_preview_submit))
        .service(
            web::resource("/api/v1/settings")
                .app_data(json_config())
                .route(web::get().to(api_settings))
                .route(web::put().to(api_settings_put)),
        )
        .service(
            web::resource("/api/v1/settings/display")
                .app_data(json_config())
                .route(web::get().to(api_display))
                .route(web::put().to(api_display_put)),
        )
        .service(
            web::resource("/api/v1/settings/preview")
                .app_data(json_config())
                .route(web::post().to(api_settings_preview)),
        );
}
