//! 案件の対応 (the case page's workflow panel and its API): assigning a 担当者, setting the 次回対応日,
//! adding メモ. Reading is open to every role (the case page and `GET /api/v1/notices/{id}` show
//! it); changing needs the staff role. Both ways in call the same `app::workflow` functions.
use super::auth::{Csrf, CurrentUser};
use super::error::WebError;
use super::pages::{acting, db, redirect, PageError, PageForm};
use super::AppState;
use crate::app::workflow::{self as app, SetWorkflow};
use crate::reports::cases::{AssigneeItem, NoteBody};
use crate::store::users::{Role, UserId};
use crate::store::workflow::Workflow;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

fn notice_id(path: &str) -> Result<i64, WebError> {
    path.parse::<i64>().map_err(|_| WebError::NotFound)
}

async fn set(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    input: SetWorkflow,
) -> Result<Workflow, WebError> {
    user.require(Role::Staff)?;
    let id = notice_id(id)?;
    let acting = acting(user);
    db(state, move |c| {
        Ok(app::set_workflow(c, &acting, id, input)?)
    })
    .await
}

async fn add_note(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    text: String,
) -> Result<NoteBody, WebError> {
    user.require(Role::Staff)?;
    let id = notice_id(id)?;
    let acting = acting(user);
    db(state, move |c| {
        Ok(app::add_note(c, &acting, id, &text)?.into())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The case page's forms (post, then redirect back to the case page with a message)

#[derive(Deserialize)]
pub struct WorkflowForm {
    /// A user id; empty for none.
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    follow_up_on: Option<String>,
}

impl WorkflowForm {
    fn typed(&self) -> Result<SetWorkflow, WebError> {
        let assignee = match self
            .assignee
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => Some(UserId(s.parse::<i64>().map_err(|_| {
                WebError::BadRequest(format!("担当者の指定が正しくありません（指定: {s}）"))
            })?)),
        };
        Ok(SetWorkflow {
            assignee,
            follow_up_on: super::survey::opt_date("次回対応日", &self.follow_up_on)?,
        })
    }
}

pub async fn workflow_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<WorkflowForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    set(&state, &user, &path, form.typed()?).await?;
    Ok(redirect(&format!(
        "/notices/{}?saved=workflow#workflow",
        path.as_str()
    )))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    text: String,
}

pub async fn note_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<NoteForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    add_note(&state, &user, &path, form.text).await?;
    Ok(redirect(&format!(
        "/notices/{}?saved=note#workflow",
        path.as_str()
    )))
}

// ---------------------------------------------------------------------------------------------
// API (JSON)

/// The 担当者 and 次回対応日 of a case, set together (an absent or null field clears it).
#[derive(Deserialize, ToSchema)]
pub struct WorkflowInput {
    /// User id of an active user of the caller's insurer; null for none.
    #[serde(default)]
    pub assignee_user_id: Option<i64>,
    /// 次回対応日 (2000-01-01 to 2099-12-31); null for none.
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
}

/// A case's workflow as saved.
#[derive(Serialize, ToSchema)]
pub struct WorkflowBody {
    pub assignee: Option<AssigneeItem>,
    pub follow_up_on: Option<NaiveDate>,
}

impl From<Workflow> for WorkflowBody {
    fn from(w: Workflow) -> Self {
        WorkflowBody {
            assignee: w.assignee.map(|a| AssigneeItem {
                id: a.id.0,
                name: a.name,
                active: a.active,
            }),
            follow_up_on: w.follow_up_on,
        }
    }
}

/// Sets the 担当者 and the 次回対応日 of a case (both at once). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/notices/{id}/workflow",
    tag = "notices",
    params(("id" = i64, Path, description = "Database id of the notice")),
    request_body = WorkflowInput,
    responses(
        (status = 200, description = "Saved", body = WorkflowBody),
        (status = 400, description = "Not a user of this insurer, a deactivated user, or a date out of range", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such notice for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_set_workflow(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<WorkflowInput>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let input = SetWorkflow {
        assignee: b.assignee_user_id.map(UserId),
        follow_up_on: b.follow_up_on,
    };
    let saved = set(&state, &user, &path, input).await?;
    Ok(HttpResponse::Ok().json(WorkflowBody::from(saved)))
}

#[derive(Deserialize, ToSchema)]
pub struct NoteInput {
    /// The メモ (at most 2000 characters; digits that could be a My Number are masked).
    pub text: String,
}

/// Adds a メモ to a case (append-only). Needs the staff role; audited.
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/notes",
    tag = "notices",
    params(("id" = i64, Path, description = "Database id of the notice")),
    request_body = NoteInput,
    responses(
        (status = 201, description = "Added", body = NoteBody),
        (status = 400, description = "Empty, too long, or control characters", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
        (status = 404, description = "No such notice for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_add_note(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<NoteInput>,
) -> Result<HttpResponse, WebError> {
    let note = add_note(&state, &user, &path, body.into_inner().text).await?;
    Ok(HttpResponse::Created().json(note))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices/{id}/workflow", web::post().to(workflow_submit))
        .route("/notices/{id}/notes", web::post().to(note_submit))
        .service(
            web::resource("/api/v1/notices/{id}/workflow")
                .app_data(super::params::json_config())
                .route(web::put().to(api_set_workflow)),
        )
        .service(
            web::resource("/api/v1/notices/{id}/notes")
                .app_data(super::params::json_config())
                .route(web::post().to(api_add_note)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(api_set_workflow, api_add_note),
    components(schemas(WorkflowInput, WorkflowBody, NoteInput, NoteBody, AssigneeItem))
)]
struct WorkflowApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    WorkflowApi::openapi()
}
