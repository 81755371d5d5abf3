//! 利用者: the users page (add a user, change a role) and API. Admin only.
use super::{acting, with_status};
use crate::app::users as app;
use crate::store::users::{self, Email, Role, UserId, UserSummary};
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
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub email: String,
    /// admin | staff | viewer
    pub role: String,
    pub role_label: String,
    pub created_at: DateTime<Utc>,
}

impl From<UserSummary> for UserBody {
    fn from(u: UserSummary) -> Self {
        UserBody {
            id: u.id.0,
            email: u.email,
            role: u.role.code().into(),
            role_label: u.role.label_ja().into(),
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

/// Adds a user to the caller's insurer (the page and the API); audited.
async fn add_user(
    state: &AppState,
    user: &CurrentUser,
    email: &str,
    role: &str,
    password: SecretString,
) -> Result<UserBody, WebError> {
    user.require(Role::Admin)?;
    let new = app::NewUser {
        email: Email::parse(email).map_err(WebError::BadRequest)?,
        role: Role::parse(role).map_err(WebError::BadRequest)?,
        password,
    };
    let acting = acting(user);
    let added = db(state, move |c| Ok(app::add(c, &acting, new)?)).await?;
    Ok(UserBody::from(added))
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
    let acting = acting(user);
    let after = db(state, move |c| {
        Ok(app::change_role(c, &acting, target, role)?)
    })
    .await?;
    Ok(UserBody::from(after))
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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users_page))
        .route("/users", web::post().to(user_add_submit))
        .route("/users/{id}/role", web::post().to(user_role_submit))
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
