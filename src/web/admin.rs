//! Administration: 設定 (the rule settings, with a preview of how many stored deadlines change),
//! 利用者 (users and roles) and 監査ログ (the audit log). Pages and API.
use super::auth::{Csrf, CurrentUser};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser};
use super::params::{json_config, page_args, page_count};
use super::AppState;
use crate::domain::settings::{Policy, RuleConfig, SettingsError};
use crate::domain::RuleSettings;
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::import::{preview_deadline_changes, recompute_deadlines};
use crate::store::insurers;
use crate::store::users::{self, Email, Role, UserError, UserId, UserSummary};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

fn with_status(mut res: HttpResponse, status: StatusCode) -> HttpResponse {
    *res.status_mut() = status;
    res
}

// ---------------------------------------------------------------------------------------------
// 設定

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

/// Japanese name of a settings key, for error messages and the change log.
fn key_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "warn_days" => "期限間近とする日数",
        "standard_days" => "標準処理日数",
        "ex_officio_days" => "資格確認書の職権交付を検討する日数",
        "policy" => "期限の数え方（両方）",
        "submission.policy" => "提出期限の数え方",
        "submission.days.acquisition" => "提出期限・資格取得届の日数",
        "submission.days.dependent" => "提出期限・被扶養者届の日数",
        "submission.days.loss" => "提出期限・資格喪失届の日数",
        "registration.policy" => "登録期限の数え方",
        "registration.days.acquisition" => "登録期限・資格取得届の日数",
        "registration.days.dependent" => "登録期限・被扶養者届の日数",
        "registration.days.loss" => "登録期限・資格喪失届の日数",
        _ => return None,
    })
}

/// A settings error with the key as the API names it (`submission.days.loss`, not the TOML path
/// `rules.submission.days.loss`), plus its Japanese name.
fn settings_error(e: SettingsError) -> WebError {
    let strip = |k: String| {
        let k = k.strip_prefix("rules.").unwrap_or(&k).to_string();
        match key_label(&k) {
            Some(l) => format!("{k}（{l}）"),
            None => k,
        }
    };
    let e = match e {
        SettingsError::UnknownKey { key } => SettingsError::UnknownKey { key: strip(key) },
        SettingsError::InvalidDays { key, value } => SettingsError::InvalidDays {
            key: strip(key),
            value,
        },
        SettingsError::InvalidPolicy { key, value } => SettingsError::InvalidPolicy {
            key: strip(key),
            value,
        },
        SettingsError::NotATable { key, value } => SettingsError::NotATable {
            key: strip(key),
            value,
        },
        other => other,
    };
    WebError::BadRequest(format!("設定を保存できません。{e}"))
}

fn to_toml(path: &str, v: &serde_json::Value) -> Result<toml::Value, WebError> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => {
            return Err(WebError::BadRequest(format!(
                "設定を保存できません。{path}: 値を指定してください"
            )))
        }
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(a) => toml::Value::Array(
            a.iter()
                .map(|x| to_toml(path, x))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => {
            let mut t = toml::Table::new();
            for (k, x) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                t.insert(k.clone(), to_toml(&p, x)?);
            }
            toml::Value::Table(t)
        }
    })
}

/// Reads settings in the API's JSON shape through the same parser as the settings file, so the
/// same keys, ranges and messages apply everywhere.
pub fn settings_from_json(v: &serde_json::Value) -> Result<RuleSettings, WebError> {
    if !v.is_object() {
        return Err(WebError::BadRequest(
            "設定は JSON のオブジェクトで指定してください".into(),
        ));
    }
    let mut doc = toml::Table::new();
    doc.insert("rules".into(), to_toml("", v)?);
    let text = toml::to_string(&doc).map_err(|e| {
        WebError::BadRequest(format!(
            "設定を保存できません。設定の形式が正しくありません（{e}）"
        ))
    })?;
    RuleSettings::from_toml_str(&text).map_err(settings_error)
}

/// Every setting as (key, value) in a fixed order, to log what changed.
fn flat(s: &RuleSettings) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("warn_days", s.warn_days.to_string()),
        ("standard_days", s.standard_days.to_string()),
        ("ex_officio_days", s.ex_officio_days.to_string()),
    ];
    for (name, c) in [
        ("submission", &s.submission),
        ("registration", &s.registration),
    ] {
        let k = |rest: &str| -> &'static str {
            match (name, rest) {
                ("submission", "policy") => "submission.policy",
                ("submission", "acquisition") => "submission.days.acquisition",
                ("submission", "dependent") => "submission.days.dependent",
                ("submission", "loss") => "submission.days.loss",
                ("registration", "policy") => "registration.policy",
                ("registration", "acquisition") => "registration.days.acquisition",
                ("registration", "dependent") => "registration.days.dependent",
                _ => "registration.days.loss",
            }
        };
        out.push((k("policy"), c.policy.code().to_string()));
        out.push((k("acquisition"), c.days.acquisition.to_string()));
        out.push((k("dependent"), c.days.dependent.to_string()));
        out.push((k("loss"), c.days.loss.to_string()));
    }
    out
}

fn describe_change(old: &RuleSettings, new: &RuleSettings) -> String {
    flat(old)
        .into_iter()
        .zip(flat(new))
        .filter(|(a, b)| a.1 != b.1)
        .map(|((k, a), (_, b))| format!("{k}: {a} → {b}"))
        .collect::<Vec<_>>()
        .join("、")
}

/// How many stored deadlines `new` would change.
async fn preview(state: &AppState, user: &CurrentUser, new: RuleSettings) -> Result<u64, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    db(state, move |c| {
        let insurer = insurers::get(c, iid)?;
        Ok(preview_deadline_changes(c, &insurer, &new)?)
    })
    .await
}

/// Saves the settings and recomputes every stored deadline in one transaction; audited.
/// Returns how many notices got a different deadline.
async fn save(state: &AppState, user: &CurrentUser, new: RuleSettings) -> Result<u64, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    let uid = user.user_id;
    let actor = user.email.clone();
    db(state, move |c| {
        let insurer = insurers::get(c, iid)?;
        if insurer.rules == new {
            return Ok(0);
        }
        let changed = recompute_deadlines(c, &insurer, &new)?;
        let detail = format!(
            "{}（期限が変わった届書 {changed} 件）",
            describe_change(&insurer.rules, &new)
        );
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(iid),
                user: Some(uid),
                actor: &actor,
                action: AuditAction::SettingsChanged,
                target: None,
                detail: Some(&detail),
            },
        )?;
        tracing::info!(insurer = iid.0, changed, "settings changed");
        Ok(changed)
    })
    .await
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

    fn settings(&self) -> Result<RuleSettings, WebError> {
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
        settings_from_json(&json)
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
    ctx.insert("saved", &view.saved);
    ctx.insert("preview", &view.preview);
    ctx.insert("error", &view.error);
    html(state, "pages/settings.html", &ctx)
}

#[derive(Deserialize)]
pub struct SettingsPageQuery {
    saved: Option<String>,
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
        preview: None,
        error: None,
    };
    Ok(render_settings(&state, &user, view).await?)
}

/// Shows how many stored deadlines the submitted values would change, with a button to save them.
pub async fn settings_preview_submit(
    state: web::Data<AppState>,
    post: PageForm<SettingsForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let (preview, error) = match form.settings() {
        Ok(s) => (Some(preview(&state, &user, s).await?), None),
        Err(WebError::BadRequest(m)) => (None, Some(m)),
        Err(e) => return Err(e.into()),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = SettingsView {
        form,
        saved: None,
        preview,
        error,
    };
    Ok(with_status(
        render_settings(&state, &user, view).await?,
        status,
    ))
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
        Err(WebError::BadRequest(m)) => {
            let view = SettingsView {
                form,
                saved: None,
                preview: None,
                error: Some(m),
            };
            Ok(with_status(
                render_settings(&state, &user, view).await?,
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(e) => Err(e.into()),
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
    let new = settings_from_json(&body)?;
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
    let new = settings_from_json(&body)?;
    let changed = preview(&state, &user, new).await?;
    Ok(HttpResponse::Ok().json(PreviewBody { changed }))
}

// ---------------------------------------------------------------------------------------------
// 利用者

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub email: String,
    /// admin | staff | viewer
    pub role: String,
    pub role_label: String,
    /// Set while the account is locked after failed sign-ins
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<UserSummary> for UserBody {
    fn from(u: UserSummary) -> Self {
        let now = crate::store::now_utc();
        UserBody {
            id: u.id.0,
            email: u.email,
            role: u.role.code().into(),
            role_label: u.role.label_ja().into(),
            locked_until: u.locked_until.filter(|t| *t > now).map(|t| t.and_utc()),
            created_at: u.created_at.and_utc(),
        }
    }
}

/// For templates: the API body plus the display fields.
#[derive(Serialize)]
struct UserRowView {
    #[serde(flatten)]
    body: UserBody,
    created_at_jst: String,
    locked_until_jst: Option<String>,
}

#[derive(Serialize)]
struct RoleOption {
    code: &'static str,
    label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    [Role::Viewer, Role::Staff, Role::Admin]
        .into_iter()
        .map(|r| RoleOption {
            code: r.code(),
            label: r.label_ja(),
        })
        .collect()
}

fn user_error(e: UserError) -> WebError {
    match e {
        UserError::NotFound => WebError::NotFound,
        UserError::Db(e) => e.into(),
        UserError::Hash => WebError::Internal(anyhow::anyhow!("password hashing failed")),
        other => WebError::BadRequest(other.to_string()),
    }
}

async fn user_list(state: &AppState, user: &CurrentUser) -> Result<Vec<UserBody>, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    let rows = db(state, move |c| Ok(users::list(c, iid)?)).await?;
    Ok(rows.into_iter().map(UserBody::from).collect())
}

/// Adds a user to the caller's insurer; audited.
async fn add_user(
    state: &AppState,
    user: &CurrentUser,
    email: &str,
    role: &str,
    password: SecretString,
) -> Result<UserBody, WebError> {
    user.require(Role::Admin)?;
    let email = Email::parse(email).map_err(WebError::BadRequest)?;
    let role = Role::parse(role).map_err(WebError::BadRequest)?;
    let iid = user.insurer_id;
    let uid = user.user_id;
    let actor = user.email.clone();
    db(state, move |c| {
        let id = users::create(c, iid, &email, role, &password).map_err(user_error)?;
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(iid),
                user: Some(uid),
                actor: &actor,
                action: AuditAction::UserAdded,
                target: Some(email.as_str()),
                detail: Some(role.label_ja()),
            },
        )?;
        users::get(c, iid, id)?
            .map(UserBody::from)
            .ok_or(WebError::NotFound)
    })
    .await
}

/// Changes a user's role (revoking that user's sessions); refuses to demote the last admin.
async fn change_role(
    state: &AppState,
    user: &CurrentUser,
    target: UserId,
    role: &str,
) -> Result<UserBody, WebError> {
    user.require(Role::Admin)?;
    let role = Role::parse(role).map_err(WebError::BadRequest)?;
    let iid = user.insurer_id;
    let uid = user.user_id;
    let actor = user.email.clone();
    db(state, move |c| {
        let before = users::set_role(c, iid, target, role).map_err(user_error)?;
        let after = users::get(c, iid, target)?.ok_or(WebError::NotFound)?;
        if before != role {
            let detail = format!("{} → {}", before.label_ja(), role.label_ja());
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: Some(uid),
                    actor: &actor,
                    action: AuditAction::RoleChanged,
                    target: Some(&after.email),
                    detail: Some(&detail),
                },
            )?;
        }
        Ok(UserBody::from(after))
    })
    .await
}

fn parse_user_id(s: &str) -> Result<UserId, WebError> {
    s.parse::<i64>().map(UserId).map_err(|_| WebError::NotFound)
}

#[derive(Deserialize, Default)]
pub struct UsersPageQuery {
    added: Option<String>,
    changed: Option<String>,
}

async fn render_users(
    state: &AppState,
    user: &CurrentUser,
    info: Option<&str>,
    error: Option<String>,
    email: &str,
) -> Result<HttpResponse, WebError> {
    let list = user_list(state, user).await?;
    let insurer = insurer_of(state, user).await?;
    let mut ctx = base_context(user, &insurer, "users");
    let rows: Vec<UserRowView> = list
        .into_iter()
        .map(|b| UserRowView {
            created_at_jst: crate::time::jst_minute(b.created_at.naive_utc()),
            locked_until_jst: b
                .locked_until
                .map(|t| crate::time::jst_minute(t.naive_utc())),
            body: b,
        })
        .collect();
    ctx.insert("users", &rows);
    ctx.insert("roles", &role_options());
    ctx.insert("info", &info);
    ctx.insert("error", &error);
    ctx.insert("email", email);
    ctx.insert("min_password", &users::MIN_PASSWORD_LEN);
    ctx.insert("my_id", &user.user_id.0);
    html(state, "pages/users.html", &ctx)
}

pub async fn users_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<UsersPageQuery>,
) -> Result<HttpResponse, PageError> {
    let info = if q.added.is_some() {
        Some("利用者を追加しました。")
    } else if q.changed.is_some() {
        Some("役割を変更しました。変更された利用者は、次回のログインから新しい役割になります。")
    } else {
        None
    };
    Ok(render_users(&state, &user.0, info, None, "").await?)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    password: SecretString,
}

pub async fn user_add_submit(
    state: web::Data<AppState>,
    post: PageForm<NewUserForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    match add_user(&state, &user, &form.email, &form.role, form.password).await {
        Ok(_) => Ok(redirect("/users?added=1")),
        Err(WebError::BadRequest(m)) => Ok(with_status(
            render_users(&state, &user, None, Some(m), &form.email).await?,
            StatusCode::BAD_REQUEST,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn user_role_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let target = parse_user_id(&path)?;
    match change_role(&state, &user, target, &form.role).await {
        // Demoting oneself ends one's own session: the next page is the sign-in page.
        Ok(_) if target == user.user_id => Ok(redirect("/login")),
        Ok(_) => Ok(redirect("/users?changed=1")),
        Err(WebError::BadRequest(m)) => Ok(with_status(
            render_users(&state, &user, None, Some(m), "").await?,
            StatusCode::BAD_REQUEST,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The users of the caller's insurer. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses(
        (status = 200, description = "Users by e-mail", body = [UserBody]),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_users(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(user_list(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    /// admin | staff | viewer
    pub role: String,
    /// The initial password, at least 10 characters
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Adds a user to the caller's insurer. Admin only.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUser,
    responses(
        (status = 201, description = "Added", body = UserBody),
        (status = 400, description = "Bad e-mail, unknown role, password too short, or e-mail already registered", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_user_add(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let added = add_user(&state, &user, &b.email, &b.role, b.password).await?;
    Ok(HttpResponse::Created().json(added))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// admin | staff | viewer
    pub role: String,
}

/// Changes a user's role; that user's sessions are revoked. The last admin cannot be demoted.
/// Admin only.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/role",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "Changed", body = UserBody),
        (status = 400, description = "Unknown role, or the last admin", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_user_role(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<RoleChange>,
) -> Result<HttpResponse, WebError> {
    let target = parse_user_id(&path)?;
    let changed = change_role(&state, &user, target, &body.role).await?;
    Ok(HttpResponse::Ok().json(changed))
}

// ---------------------------------------------------------------------------------------------
// 監査ログ

#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `at` in Japan time
    pub at_jst: String,
    /// Who: an e-mail, or "cli"
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditItem>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct AuditQuery {
    /// Only this action (e.g. login, import, settings_changed)
    pub action: Option<String>,
    /// 1-based page (default 1)
    pub page: Option<String>,
    /// Rows per page (default 100, at most 500)
    pub per_page: Option<String>,
}

type AuditRow = (
    i64,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// One page of the insurer's audit log, newest first. (A read of one table by the insurer index;
/// `store::audit` only writes.)
fn audit_page(
    c: &mut crate::store::DbConn,
    insurer: crate::store::insurers::InsurerId,
    action: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditRow>, i64), diesel::result::Error> {
    use crate::store::schema::audit_log;
    use diesel::prelude::*;
    let filtered = || {
        let q = audit_log::table
            .filter(audit_log::insurer_id.eq(insurer.0))
            .into_boxed();
        match action {
            Some(a) => q.filter(audit_log::action.eq(a.to_string())),
            None => q,
        }
    };
    let total: i64 = filtered().count().get_result(c)?;
    let rows = filtered()
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::actor,
            audit_log::action,
            audit_log::target,
            audit_log::detail,
        ))
        .load(c)?;
    Ok((rows, total))
}

async fn audit_list(
    state: &AppState,
    user: &CurrentUser,
    q: &AuditQuery,
) -> Result<AuditList, WebError> {
    user.require(Role::Admin)?;
    let (page, per_page) = page_args(&q.page, &q.per_page, 100, 500)?;
    let action = q
        .action
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let iid = user.insurer_id;
    let (rows, total) = db(state, move |c| {
        Ok(audit_page(c, iid, action.as_deref(), page, per_page)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|(id, at, actor, action, target, detail)| AuditItem {
            id,
            at: at.and_utc(),
            at_jst: (at + chrono::Duration::hours(9))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            actor,
            action_label: AuditAction::label_of(&action).to_string(),
            action,
            target,
            detail,
        })
        .collect();
    Ok(AuditList {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn audit_page_view(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let list = audit_list(&state, &user, &q).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "audit");
    ctx.insert("pages", &page_count(list.total, list.per_page));
    ctx.insert("list", &list);
    ctx.insert("action", &q.action.clone().unwrap_or_default());
    ctx.insert(
        "actions",
        &AuditAction::ALL
            .iter()
            .map(|a| (a.code(), a.label_ja()))
            .collect::<Vec<_>>(),
    );
    Ok(html(&state, "pages/audit.html", &ctx)?)
}

/// The insurer's audit log, newest first. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of entries and the total", body = AuditList),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_audit(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(audit_list(&state, &user, &q).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings_page))
        .route("/settings", web::post().to(settings_submit))
        .route("/settings/preview", web::post().to(settings_preview_submit))
        .route("/users", web::get().to(users_page))
        .route("/users", web::post().to(user_add_submit))
        .route("/users/{id}/role", web::post().to(user_role_submit))
        .route("/audit", web::get().to(audit_page_view))
        .route("/api/v1/audit", web::get().to(api_audit))
        .service(
            web::resource("/api/v1/settings")
                .app_data(json_config())
                .route(web::get().to(api_settings))
                .route(web::put().to(api_settings_put)),
        )
        .service(
            web::resource("/api/v1/settings/preview")
                .app_data(json_config())
                .route(web::post().to(api_settings_preview)),
        )
        .service(
            web::resource("/api/v1/users")
                .app_data(json_config())
                .route(web::get().to(api_users))
                .route(web::post().to(api_user_add)),
        )
        .service(
            web::resource("/api/v1/users/{id}/role")
                .app_data(json_config())
                .route(web::put().to(api_user_role)),
        );
}

#[derive(OpenApi)]
#[openapi(paths(
    api_settings,
    api_settings_put,
    api_settings_preview,
    api_users,
    api_user_add,
    api_user_role,
    api_audit
))]
struct AdminApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    AdminApi::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_settings_go_through_the_settings_parser_with_api_key_names() {
        let s = settings_from_json(&serde_json::json!({
            "warn_days": 2,
            "registration": {"policy": "business", "days": {"loss": 3}}
        }))
        .unwrap();
        assert_eq!(s.warn_days, 2);
        assert_eq!(s.registration.policy, Policy::Business);
        assert_eq!(s.registration.days.loss, 3);
        assert_eq!(
            s.registration.days.acquisition, 5,
            "missing keys take defaults"
        );

        let msg = |v: serde_json::Value| settings_from_json(&v).unwrap_err().to_string();
        let m = msg(serde_json::json!({"submission": {"days": {"loss": 400}}}));
        assert!(
            m.contains("submission.days.loss") && !m.contains("rules."),
            "{m}"
        );
        let m = msg(serde_json::json!({"registration": {"policy": "sometimes"}}));
        assert!(m.contains("registration.policy"), "{m}");
        let m = msg(serde_json::json!({"warn_dayz": 1}));
        assert!(m.contains("warn_dayz"), "{m}");
        let m = msg(serde_json::json!({"standard_days": null}));
        assert!(m.contains("standard_days"), "{m}");
        let m = msg(serde_json::json!({"warn_days": 1.5}));
        assert!(m.contains("warn_days"), "{m}");
    }

    #[test]
    fn the_change_log_names_only_what_changed() {
        let old = RuleSettings::default();
        let mut new = old;
        new.registration.days.loss = 3;
        new.submission.policy = Policy::Strict;
        assert_eq!(
            describe_change(&old, &new),
            "submission.policy: extend → strict、registration.days.loss: 2 → 3"
        );
    }
}
