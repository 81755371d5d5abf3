//! 利用者: the users page (add a user, change a role) and API. Admin only.
use super::{acting, with_status};
use crate::app::users as app;
use crate::store::users::{self, DisplayName, Email, Role, UserId, UserSummary};
use crate::web::auth::{Csrf, CurrentUser};
use crate::web::error::{ErrorBody, WebError};
use crate::web::pages::{
    base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser,
};
use crate::web::params::json_config;
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub email: String,
    /// 表示名 (empty when none)
    pub display_name: String,
    /// What pages call the user: the 表示名, else the e-mail
    pub name: String,
    /// admin | staff | viewer
    pub role: String,
    pub role_label: String,
    /// false: deactivated (cannot sign in)
    pub active: bool,
    pub deactivated_at: Option<DateTime<Utc>>,
    /// An admin reset the password and the user has not changed it yet
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

impl From<UserSummary> for UserBody {
    fn from(u: UserSummary) -> Self {
        UserBody {
            id: u.id.0,
            name: users::shown_name(&u.display_name, &u.email).to_string(),
            email: u.email,
            display_name: u.display_name,
            role: u.role.code().into(),
            role_label: u.role.label_ja().into(),
            active: u.deactivated_at.is_none(),
            deactivated_at: u.deactivated_at.map(|t| t.and_utc()),
            must_change_password: u.must_change_password,
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

async fn user_list(state: &AppState, user: &CurrentUser) -> Result<Vec<UserBody>, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    let rows = db(state, move |c| Ok(users::list(c, iid)?)).await?;
    Ok(rows.into_iter().map(UserBody::from).collect())
}

fn parse_display_name(s: Option<&str>) -> Result<DisplayName, WebError> {
    DisplayName::parse(s.unwrap_or("")).map_err(WebError::BadRequest)
}

/// Adds a user to the caller's insurer (the page and the API); audited.
async fn add_user(
    state: &AppState,
    user: &CurrentUser,
    email: &str,
    display_name: Option<&str>,
    role: &str,
    password: SecretString,
) -> Result<UserBody, WebError> {
    user.require(Role::Admin)?;
    let new = app::NewUser {
        email: Email::parse(email).map_err(WebError::BadRequest)?,
        display_name: parse_display_name(display_name)?,
        role: Role::parse(role).map_err(WebError::BadRequest)?,
        password,
    };
    let acting = acting(user);
    let added = db(state, move |c| Ok(app::add(c, &acting, new)?)).await?;
    Ok(UserBody::from(added))
}

/// Changes a user's 表示名, role or state (the page's forms and `PATCH`); audited. A role change
/// or a deactivation ends that user's sessions; the insurer keeps an active admin.
async fn change_user(
    state: &AppState,
    user: &CurrentUser,
    target: UserId,
    change: app::UserChange,
) -> Result<UserBody, WebError> {
    user.require(Role::Admin)?;
    let acting = acting(user);
    let after = db(state, move |c| Ok(app::update(c, &acting, target, change)?)).await?;
    Ok(UserBody::from(after))
}

/// Sets a temporary password (generated when `password` is empty); the user must change it at the
/// next sign-in. Returns the user and the password, to show once.
async fn reset_password(
    state: &AppState,
    user: &CurrentUser,
    target: UserId,
    password: Option<SecretString>,
) -> Result<(UserBody, SecretString), WebError> {
    user.require(Role::Admin)?;
    let acting = acting(user);
    let reset = db(state, move |c| {
        Ok(app::reset_password(c, &acting, target, password)?)
    })
    .await?;
    Ok((UserBody::from(reset.user), reset.temporary_password))
}

fn parse_user_id(s: &str) -> Result<UserId, WebError> {
    s.parse::<i64>().map(UserId).map_err(|_| WebError::NotFound)
}

#[derive(Deserialize, Default)]
pub struct UsersPageQuery {
    done: Option<String>,
}

/// The message after a change, by the `done` the redirect carries.
fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "added" => "利用者を追加しました。",
        "role" => "役割を変更しました。変更された利用者は、次回のログインから新しい役割になります。",
        "name" => "表示名を変更しました。",
        "deactivated" => "利用者を無効にしました。この利用者はログインできず、使用中のセッションはすべて終了しました。",
        "reactivated" => "利用者を有効にしました。",
        _ => return None,
    })
}

/// What the users page shows besides the list.
#[derive(Default)]
struct UsersPageState<'a> {
    info: Option<&'a str>,
    error: Option<String>,
    email: &'a str,
    /// A password just reset: (the user's name, the temporary password), shown this once.
    reset: Option<(String, SecretString)>,
}

async fn render_users(
    state: &AppState,
    user: &CurrentUser,
    page: UsersPageState<'_>,
) -> Result<HttpResponse, WebError> {
    let list = user_list(state, user).await?;
    let insurer = insurer_of(state, user).await?;
    let mut ctx = base_context(user, &insurer, "users");
    let rows: Vec<UserRowView> = list
        .into_iter()
        .map(|b| UserRowView {
            created_at_jst: crate::time::jst_minute(b.created_at.naive_utc()),
            body: b,
        })
        .collect();
    ctx.insert("users", &rows);
    ctx.insert("roles", &role_options());
    ctx.insert("info", &page.info);
    ctx.insert("error", &page.error);
    ctx.insert("email", page.email);
    ctx.insert("min_password", &users::MIN_PASSWORD_LEN);
    ctx.insert("max_display_name", &DisplayName::MAX_CHARS);
    ctx.insert("my_id", &user.user_id.0);
    if let Some((name, password)) = &page.reset {
        ctx.insert(
            "reset",
            &serde_json::json!({"name": name, "password": password.expose_secret()}),
        );
    }
    html(state, "pages/users.html", &ctx)
}

pub async fn users_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<UsersPageQuery>,
) -> Result<HttpResponse, PageError> {
    let page = UsersPageState {
        info: q.done.as_deref().and_then(done_message),
        ..UsersPageState::default()
    };
    Ok(render_users(&state, &user.0, page).await?)
}

/// A form's outcome: on success the redirect, a user error re-renders the page with it (400).
async fn form_outcome<T>(
    state: &AppState,
    user: &CurrentUser,
    r: Result<T, WebError>,
    ok: &str,
    email: &str,
) -> Result<HttpResponse, PageError> {
    match r {
        Ok(_) => Ok(redirect(ok)),
        Err(WebError::BadRequest(m)) => {
            let page = UsersPageState {
                error: Some(m),
                email,
                ..UsersPageState::default()
            };
            Ok(with_status(
                render_users(state, user, page).await?,
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
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
    let r = add_user(
        &state,
        &user,
        &form.email,
        Some(&form.display_name),
        &form.role,
        form.password,
    )
    .await;
    form_outcome(&state, &user, r, "/users?done=added", &form.email).await
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
    let role = Role::parse(&form.role).map_err(WebError::BadRequest);
    let r = match role {
        Ok(role) => {
            let change = app::UserChange {
                role: Some(role),
                ..app::UserChange::default()
            };
            change_user(&state, &user, target, change).await
        }
        Err(e) => Err(e),
    };
    // Demoting oneself ends one's own session: the next page is the sign-in page.
    let ok = if target == user.user_id {
        "/login"
    } else {
        "/users?done=role"
    };
    form_outcome(&state, &user, r, ok, "").await
}

#[derive(Deserialize)]
pub struct DisplayNameForm {
    #[serde(default)]
    display_name: String,
}

pub async fn user_display_name_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<DisplayNameForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let target = parse_user_id(&path)?;
    let r = match parse_display_name(Some(&form.display_name)) {
        Ok(name) => {
            let change = app::UserChange {
                display_name: Some(name),
                ..app::UserChange::default()
            };
            change_user(&state, &user, target, change).await
        }
        Err(e) => Err(e),
    };
    form_outcome(&state, &user, r, "/users?done=name", "").await
}

#[derive(Deserialize)]
pub struct ActiveForm {
    /// "false" deactivates, "true" reactivates.
    #[serde(default)]
    active: String,
}

pub async fn user_active_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ActiveForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let target = parse_user_id(&path)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(WebError::BadRequest("active は true / false です".into()).into()),
    };
    let change = app::UserChange {
        active: Some(active),
        ..app::UserChange::default()
    };
    let r = change_user(&state, &user, target, change).await;
    let ok = if active {
        "/users?done=reactivated"
    } else {
        "/users?done=deactivated"
    };
    form_outcome(&state, &user, r, ok, "").await
}

#[derive(Deserialize)]
pub struct ResetForm {
    /// Empty: a generated password.
    #[serde(default)]
    password: Option<SecretString>,
}

/// Resets a password and shows the temporary password on this answer only (never in a URL).
pub async fn user_reset_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let target = parse_user_id(&path)?;
    match reset_password(&state, &user, target, form.password).await {
        Ok((body, password)) => {
            let page = UsersPageState {
                reset: Some((body.name, password)),
                ..UsersPageState::default()
            };
            Ok(render_users(&state, &user, page).await?)
        }
        r @ Err(_) => form_outcome(&state, &user, r, "", "").await,
    }
}

/// The users of the caller's insurer. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses(
        (status = 200, description = "Users by e-mail", body = [UserBody]),
        (status = 403, description = "Not an admin (forbidden), or the caller must change a reset password first (password_change_required)", body = ErrorBody),
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
    /// 表示名 (optional, at most 40 characters)
    #[serde(default)]
    pub display_name: Option<String>,
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
        (status = 400, description = "Bad e-mail or 表示名, unknown role, password too short, or e-mail already registered", body = ErrorBody),
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
    let added = add_user(
        &state,
        &user,
        &b.email,
        b.display_name.as_deref(),
        &b.role,
        b.password,
    )
    .await?;
    Ok(HttpResponse::Created().json(added))
}

#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    /// New 表示名 ("" removes it)
    #[serde(default)]
    pub display_name: Option<String>,
    /// admin | staff | viewer; that user's sessions end
    #[serde(default)]
    pub role: Option<String>,
    /// false deactivates (no sign-in, every session ends), true reactivates
    #[serde(default)]
    pub active: Option<bool>,
}

/// Changes a user's 表示名, role or state; the parts left out stay as they are. The last active
/// admin can be neither demoted nor deactivated, and nobody deactivates themself. Admin only.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Changed", body = UserBody),
        (status = 400, description = "Bad 表示名, unknown role, the last active admin, or oneself", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_user_patch(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, WebError> {
    let target = parse_user_id(&path)?;
    let b = body.into_inner();
    let change = app::UserChange {
        display_name: b
            .display_name
            .as_deref()
            .map(|n| parse_display_name(Some(n)))
            .transpose()?,
        role: b
            .role
            .as_deref()
            .map(Role::parse)
            .transpose()
            .map_err(WebError::BadRequest)?,
        active: b.active,
    };
    Ok(HttpResponse::Ok().json(change_user(&state, &user, target, change).await?))
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
    let role = Role::parse(&body.role).map_err(WebError::BadRequest)?;
    let change = app::UserChange {
        role: Some(role),
        ..app::UserChange::default()
    };
    Ok(HttpResponse::Ok().json(change_user(&state, &user, target, change).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PasswordResetRequest {
    /// The temporary password (at least 10 characters); left out, one is generated
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordResetBody {
    pub user: UserBody,
    /// Shown this once: hand it to the user, who must change it at the next sign-in
    pub temporary_password: String,
}

/// Sets a temporary password for a user: every session of the user ends, and after the next
/// sign-in the user must change it (pages lead to /account, the API answers 403
/// password_change_required). Admin only; not for oneself.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password-reset",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = PasswordResetRequest,
    responses(
        (status = 200, description = "Reset; the temporary password is in the answer", body = PasswordResetBody),
        (status = 400, description = "Password too short, or oneself", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_user_password_reset(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Option<web::Json<PasswordResetRequest>>,
) -> Result<HttpResponse, WebError> {
    let target = parse_user_id(&path)?;
    let password = body.and_then(|b| b.into_inner().password);
    let (user_body, password) = reset_password(&state, &user, target, password).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PasswordResetBody {
            user: user_body,
            temporary_password: password.expose_secret().to_string(),
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users_page))
        .route("/users", web::post().to(user_add_submit))
        .route("/users/{id}/role", web::post().to(user_role_submit))
        .route(
            "/users/{id}/display-name",
            web::post().to(user_display_name_submit),
        )
        .route("/users/{id}/active", web::post().to(user_active_submit))
        .route(
            "/users/{id}/password-reset",
            web::post().to(user_reset_submit),
        )
        .service(
            web::resource("/api/v1/users")
                .app_data(json_config())
                .route(web::get().to(api_users))
                .route(web::post().to(api_user_add)),
        )
        .service(
            web::resource("/api/v1/users/{id}")
                .app_data(json_config())
                .route(web::patch().to(api_user_patch)),
        )
        .service(
            web::resource("/api/v1/users/{id}/role")
                .app_data(json_config())
                .route(web::put().to(api_user_role)),
        )
        .service(
            web::resource("/api/v1/users/{id}/password-reset")
                .app_data(json_config())
                .route(web::post().to(api_user_password_reset)),
        );
}
