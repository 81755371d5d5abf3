//! 監査ログ: the insurer's audit log, page, API and CSV export, filtered by a range of Japan
//! dates, a user and an action. Admin only.
use crate::app::audit as app;
use crate::reports::audit::{self as view, AuditLine, AuditQuery};
use crate::store::audit::AuditAction;
use crate::store::users::{self, Role, UserId};
use crate::web::auth::CurrentUser;
use crate::web::error::{ErrorBody, WebError};
use crate::web::pages::{acting, base_context, db, html, insurer_of, PageError, PageUser};
use crate::web::params::{page_args, page_count};
use crate::web::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `at` in Japan time
    pub at_jst: String,
    /// The user who acted, when a signed-in user did
    pub user_id: Option<i64>,
    /// Their 表示名, else `actor`
    pub user_name: String,
    /// Who, as recorded: an e-mail, or "cli"
    pub actor: String,
    pub action: String,
    /// The action in Japanese (e.g. ログイン)
    pub action_label: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

impl From<AuditLine> for AuditItem {
    fn from(l: AuditLine) -> Self {
        AuditItem {
            id: l.id,
            at: l.at.and_utc(),
            at_jst: l.at_jst,
            user_id: l.user_id,
            user_name: l.user_name,
            actor: l.actor,
            action: l.action,
            action_label: l.action_label,
            target: l.target,
            detail: l.detail,
        }
    }
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
pub struct AuditFilterQuery {
    /// Only this action (a code such as login, import, settings_changed)
    #[param(schema_with = crate::web::openapi::audit_action)]
    pub action: Option<String>,
    /// Only this user (a user id of the caller's insurer)
    #[param(value_type = Option<i64>)]
    pub user: Option<String>,
    /// From this Japan date (YYYY-MM-DD), included
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub from: Option<String>,
    /// Up to this Japan date (YYYY-MM-DD), included
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub to: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only this action (a code such as login, import, settings_changed)
    #[param(schema_with = crate::web::openapi::audit_action)]
    pub action: Option<String>,
    /// Only this user (a user id of the caller's insurer)
    #[param(value_type = Option<i64>)]
    pub user: Option<String>,
    /// From this Japan date (YYYY-MM-DD), included
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub from: Option<String>,
    /// Up to this Japan date (YYYY-MM-DD), included
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub to: Option<String>,
    /// 1-based page (default 1)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
    /// Rows per page (default 100, at most 500)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub per_page: Option<String>,
}

impl AuditListQuery {
    fn filter(&self) -> AuditFilterQuery {
        AuditFilterQuery {
            action: self.action.clone(),
            user: self.user.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditFilterQuery {
    /// The typed query; a value that does not parse is a 400 naming it.
    fn parse(&self) -> Result<AuditQuery, WebError> {
        let date = |field: &str, v: &Option<String>| -> Result<Option<NaiveDate>, WebError> {
            given(v)
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                        WebError::BadRequest(format!(
                            "{field} は YYYY-MM-DD の日付で指定してください（指定: {s}）"
                        ))
                    })
                })
                .transpose()
        };
        let q = AuditQuery {
            action: given(&self.action)
                .map(|s| {
                    AuditAction::from_code(s)
                        .ok_or_else(|| WebError::BadRequest(format!("不明な操作です: {s}")))
                })
                .transpose()?,
            user: given(&self.user)
                .map(|s| {
                    s.parse::<i64>().map(UserId).map_err(|_| {
                        WebError::BadRequest(format!("user は利用者の ID です（指定: {s}）"))
                    })
                })
                .transpose()?,
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
        };
        if let (Some(f), Some(t)) = (q.from, q.to) {
            if f > t {
                return Err(WebError::BadRequest(
                    "期間の開始日が終了日より後になっています".into(),
                ));
            }
        }
        Ok(q)
    }

    /// The filter as a query string (the pager's and the export's links).
    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

async fn audit_list(
    state: &AppState,
    user: &CurrentUser,
    q: &AuditListQuery,
) -> Result<AuditList, WebError> {
    user.require(Role::Admin)?;
    let (page, per_page) = page_args(&q.page, &q.per_page, 100, 500)?;
    let query = q.filter().parse()?;
    let iid = user.insurer_id;
    let (lines, total) = db(state, move |c| {
        Ok(view::page(c, iid, &query, page, per_page)?)
    })
    .await?;
    Ok(AuditList {
        items: lines.into_iter().map(AuditItem::from).collect(),
        total,
        page,
        per_page,
    })
}

#[derive(Serialize)]
struct UserOption {
    id: i64,
    label: String,
}

pub async fn audit_page_view(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuditListQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let list = audit_list(&state, &user, &q).await?;
    let insurer = insurer_of(&state, &user).await?;
    let iid = user.insurer_id;
    let people = db(&state, move |c| Ok(users::list(c, iid)?)).await?;
    let mut ctx = base_context(&user, &insurer, "audit");
    ctx.insert("pages", &page_count(list.total, list.per_page));
    ctx.insert("list", &list);
    let filter = q.filter();
    ctx.insert("filter", &filter);
    ctx.insert(
        "selected_user",
        &given(&filter.user).and_then(|s| s.parse::<i64>().ok()),
    );
    ctx.insert("query", &filter.query_string());
    ctx.insert(
        "actions",
        &AuditAction::ALL
            .iter()
            .map(|a| (a.code(), a.label_ja()))
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "users",
        &people
            .into_iter()
            .map(|u| UserOption {
                id: u.id.0,
                label: if u.display_name.is_empty() {
                    u.email
                } else {
                    format!("{}（{}）", u.display_name, u.email)
                },
            })
            .collect::<Vec<_>>(),
    );
    Ok(html(&state, "pages/audit.html", &ctx)?)
}

/// The insurer's audit log that matches the filter, newest first. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditListQuery),
    responses(
        (status = 200, description = "One page of entries and the total", body = AuditList),
        (status = 400, description = "A filter value that does not parse", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_audit(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<AuditListQuery>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(audit_list(&state, &user, &q).await?))
}

/// The export of the page and the API: the filtered log as CSV, `監査ログ_{保険者番号}_{from}_{to}.csv`.
async fn audit_csv(
    state: &AppState,
    user: &CurrentUser,
    q: &AuditFilterQuery,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Admin)?;
    let query = q.parse()?;
    let insurer = insurer_of(state, user).await?;
    let acting = acting(user);
    let export = db(state, move |c| Ok(app::export_csv(c, &acting, &query)?)).await?;
    let name = view::file_name(insurer.number.as_str(), export.from, export.to);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::web::download::attachment(&name, "audit.csv"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(export.bytes))
}

pub async fn audit_csv_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuditFilterQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(audit_csv(&state, &user.0, &q).await?)
}

/// The filtered audit log as CSV (UTF-8 with BOM, Japan times, Japanese action labels); the export
/// is itself audited. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/audit.csv",
    tag = "audit",
    params(AuditFilterQuery),
    responses(
        (status = 200, description = "CSV named 監査ログ_{保険者番号}_{from}_{to}.csv", content_type = "text/csv"),
        (status = 400, description = "A filter value that does not parse, or more than 100,000 entries", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_audit_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<AuditFilterQuery>,
) -> Result<HttpResponse, WebError> {
    audit_csv(&state, &user, &q).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_page_view))
        .route("/audit.csv", web::get().to(audit_csv_page))
        .route("/api/v1/audit", web::get().to(api_audit))
        .route("/api/v1/audit.csv", web::get().to(api_audit_csv));
}
