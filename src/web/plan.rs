//! 改善計画 (checklist 1-③/1-④): the page with the schedule, and adding actions, setting their
//! status and recording progress reviews from the page's forms and from the JSON API.
use super::auth::{Csrf, CurrentUser};
use super::error::WebError;
use super::pages::{base_context, db, html, redirect, PageError, PageForm, PageUser};
use super::survey::{acting, form_int, opt_date, period, period_ctx, PeriodQuery};
use super::AppState;
use crate::app::survey::{self as app, NewPlanAction, NewReview};
use crate::reports::{charts, checklist, plan};
use crate::store::survey::PlanStatus;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

pub async fn plan_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let p = period(&q)?;
    let iid = user.insurer_id;
    let (insurer, plan) = db(&state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        Ok((insurer, plan::load(c, iid, p.as_of)?))
    })
    .await?;
    let mut ctx = base_context(&user, &insurer, "survey");
    period_ctx(&mut ctx, p);
    ctx.insert("schedule", &charts::schedule(&plan, p.as_of));
    ctx.insert("plan", &plan);
    ctx.insert("items", checklist::items_for(insurer.kind));
    let statuses: Vec<_> = PlanStatus::ALL.map(|s| (s.code(), s.label_ja())).into();
    ctx.insert("statuses", &statuses);
    Ok(html(&state, "pages/plan.html", &ctx)?)
}

// The edits below come from the page (forms) and from the API (JSON); both parse their input
// into the same typed input and call the same app function, so the two ways in cannot drift.

fn action_id(path: &str) -> Result<i64, WebError> {
    path.parse::<i64>().map_err(|_| WebError::NotFound)
}

async fn add_action(
    state: &AppState,
    user: &CurrentUser,
    input: NewPlanAction,
) -> Result<i64, WebError> {
    let acting = acting(user);
    db(state, move |c| Ok(app::add_action(c, &acting, input)?)).await
}

async fn set_status(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: &str,
) -> Result<(), WebError> {
    user.require(Role::Staff)?;
    let (id, status) = (action_id(id)?, app::plan_status(status)?);
    let acting = acting(user);
    db(state, move |c| {
        Ok(app::set_action_status(c, &acting, id, status)?)
    })
    .await
}

async fn add_review(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    input: NewReview,
) -> Result<(), WebError> {
    let acting = acting(user);
    db(state, move |c| Ok(app::add_review(c, &acting, id, input)?)).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    checklist_item: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    start_on: Option<String>,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    status: String,
}

impl ActionForm {
    fn typed(self) -> Result<NewPlanAction, WebError> {
        Ok(NewPlanAction {
            start_on: opt_date("開始日", &self.start_on)?,
            due_on: opt_date("期限", &self.due_on)?,
            status: app::plan_status(&self.status)?,
            title: self.title,
            checklist_item: self.checklist_item,
            owner: self.owner,
        })
    }
}

pub async fn action_submit(
    state: web::Data<AppState>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    user.require(Role::Staff)?;
    add_action(&state, &user, f.typed()?).await?;
    Ok(redirect("/plan"))
}

/// The edit form of an action on the plan page.
pub async fn action_edit_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    update_action(&state, &user, &path, f.typed()?).await?;
    Ok(redirect("/plan"))
}

#[derive(Deserialize)]
pub struct NoFields {}

pub async fn action_delete_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, .. } = post.0;
    delete_action(&state, &user, &path).await?;
    Ok(redirect("/plan"))
}

async fn update_action(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    input: NewPlanAction,
) -> Result<(), WebError> {
    user.require(Role::Staff)?;
    let id = action_id(id)?;
    let acting = acting(user);
    db(state, move |c| {
        Ok(app::update_action(c, &acting, id, input)?)
    })
    .await
}

async fn delete_action(state: &AppState, user: &CurrentUser, id: &str) -> Result<(), WebError> {
    user.require(Role::Staff)?;
    let id = action_id(id)?;
    let acting = acting(user);
    db(state, move |c| Ok(app::delete_action(c, &acting, id)?)).await
}

/// Changes a 改善計画 action (every field; its reviews stay). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/plan/actions/{id}",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    request_body = ActionInputBody,
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "Missing title, due date before the start, unknown item or status", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_update_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ActionInputBody>,
) -> Result<HttpResponse, WebError> {
    update_action(&state, &user, &path, body.into_inner().typed()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a 改善計画 action with its reviews. Needs the staff role; audited.
#[utoipa::path(
    delete,
    path = "/api/v1/plan/actions/{id}",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_delete_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    delete_action(&state, &user, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn action_status_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<StatusForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    set_status(&state, &user, &path, &form.status).await?;
    Ok(redirect("/plan"))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    reviewed_on: Option<String>,
    #[serde(default)]
    progress: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn review_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    user.require(Role::Staff)?;
    let progress = form_int(&f.progress, "進捗は 0〜100 の整数で入力してください")?;
    let id = action_id(&path)?;
    let input = NewReview {
        reviewed_on: opt_date("確認日", &f.reviewed_on)?,
        progress,
        note: f.note,
    };
    add_review(&state, &user, id, input).await?;
    Ok(redirect("/plan"))
}

// API (JSON)

#[derive(Deserialize, ToSchema)]
pub struct ActionInputBody {
    pub title: String,
    /// The checklist item it answers, e.g. `3-②`
    #[serde(default)]
    pub checklist_item: Option<String>,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub start_on: Option<NaiveDate>,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// planned (default) | in_progress | done
    #[serde(default)]
    pub status: Option<String>,
}

impl ActionInputBody {
    fn typed(self) -> Result<NewPlanAction, WebError> {
        Ok(NewPlanAction {
            status: app::plan_status(self.status.as_deref().unwrap_or_default())?,
            title: self.title,
            checklist_item: self.checklist_item.unwrap_or_default(),
            owner: self.owner,
            start_on: self.start_on,
            due_on: self.due_on,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBody {
    pub id: i64,
}

/// Adds a 改善計画 action. Needs the staff role; audited.
#[utoipa::path(
    post,
    path = "/api/v1/plan/actions",
    tag = "survey",
    request_body = ActionInputBody,
    responses(
        (status = 201, description = "Added", body = CreatedBody),
        (status = 400, description = "Missing title, due date before the start, unknown item or status", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_add_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ActionInputBody>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let id = add_action(&state, &user, body.into_inner().typed()?).await?;
    Ok(HttpResponse::Created().json(CreatedBody { id }))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusInput {
    /// planned | in_progress | done
    pub status: String,
}

/// Sets a 改善計画 action's status. Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/plan/actions/{id}/status",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    request_body = StatusInput,
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "Unknown status", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_action_status(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<StatusInput>,
) -> Result<HttpResponse, WebError> {
    set_status(&state, &user, &path, &body.status).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewInput {
    /// Default: today (Japan)
    #[serde(default)]
    pub reviewed_on: Option<NaiveDate>,
    /// 0–100
    #[serde(default)]
    pub progress: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Records a dated progress review of a 改善計画 action (1-④). Needs the staff role; audited.
#[utoipa::path(
    post,
    path = "/api/v1/plan/actions/{id}/reviews",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the action")),
    request_body = ReviewInput,
    responses(
        (status = 201, description = "Recorded"),
        (status = 400, description = "Progress out of range", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such action for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_add_review(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ReviewInput>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let b = body.into_inner();
    let input = NewReview {
        reviewed_on: b.reviewed_on,
        progress: b.progress,
        note: b.note,
    };
    add_review(&state, &user, action_id(&path)?, input).await?;
    Ok(HttpResponse::Created().finish())
}

// ---------------------------------------------------------------------------------------------
// Routes

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/plan", web::get().to(plan_page))
        .route("/plan/actions", web::post().to(action_submit))
        .route("/plan/actions/{id}", web::post().to(action_edit_submit))
        .route(
            "/plan/actions/{id}/delete",
            web::post().to(action_delete_submit),
        )
        .route(
            "/plan/actions/{id}/status",
            web::post().to(action_status_submit),
        )
        .route("/plan/actions/{id}/reviews", web::post().to(review_submit))
        .service(
            web::resource("/api/v1/plan/actions")
                .app_data(super::params::json_config())
                .route(web::post().to(api_add_action)),
        )
        .service(
            web::resource("/api/v1/plan/actions/{id}")
                .app_data(super::params::json_config())
                .route(web::put().to(api_update_action))
                .route(web::delete().to(api_delete_action)),
        )
        .service(
            web::resource("/api/v1/plan/actions/{id}/status")
                .app_data(super::params::json_config())
                .route(web::put().to(api_action_status)),
        )
        .service(
            web::resource("/api/v1/plan/actions/{id}/reviews")
                .app_data(super::params::json_config())
                .route(web::post().to(api_add_review)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_add_action,
        api_update_action,
        api_delete_action,
        api_action_status,
        api_add_review
    ),
    components(schemas(ActionInputBody, CreatedBody, StatusInput, ReviewInput))
)]
struct PlanApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    PlanApi::openapi()
}
