//! 監査ログ: the insurer's audit log, page and API. Admin only.
use crate::store::audit::{self, AuditAction};
use crate::store::users::Role;
use crate::web::auth::CurrentUser;
use crate::web::error::{ErrorBody, WebError};
use crate::web::pages::{base_context, db, html, insurer_of, PageError, PageUser};
use crate::web::params::{page_args, page_count};
use crate::web::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (e.g. login, import, settings_changed)
    #[param(schema_with = crate::web::openapi::audit_action)]
    pub action: Option<String>,
    /// 1-based page (default 1)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
    /// Rows per page (default 100, at most 500)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub per_page: Option<String>,
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
        Ok(audit::page(c, iid, action.as_deref(), page, per_page)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|r| AuditItem {
            id: r.id,
            at: r.at.and_utc(),
            at_jst: crate::time::jst_second(r.at),
            actor: r.actor,
            action_label: AuditAction::label_of(&r.action).to_string(),
            action: r.action,
            target: r.target,
            detail: r.detail,
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
    cfg.route("/audit", web::get().to(audit_page_view))
        .route("/api/v1/audit", web::get().to(api_audit));
}
