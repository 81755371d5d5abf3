//! Dashboard and cases (案件一覧・案件詳細): the pages and the JSON API over the same functions.
use super::auth::CurrentUser;
use super::error::WebError;
use super::pages::{acting, base_context, db, html, PageError, PageUser};
use super::AppState;
use crate::app::cases as app;
use crate::domain::{MyNumberStatus, NoticeKind, Status};
use crate::reports::cases::{self, ExportFormat, NoticeDetailBody, NoticeItem};
use crate::reports::dashboard::{self, Dashboard};
use crate::store::insurers::Insurer;
use crate::store::notices::{self, NoticeDbId, NoticeFilter, RuleSel, Sort};
use crate::store::users::UserId;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 500;

fn parse_date(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
        WebError::BadRequest(format!(
            "{field} は YYYY-MM-DD 形式の日付で指定してください（指定: {}）",
            v.trim()
        ))
    })
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Dashboard

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First day of receipt (default: 12 months before `to`).
    #[param(value_type = Option<chrono::NaiveDate>)]
    from: Option<String>,
    /// Last day of receipt (default: today in Japan).
    #[param(value_type = Option<chrono::NaiveDate>)]
    to: Option<String>,
    /// Evaluate statuses as of this date (default: today in Japan).
    #[param(value_type = Option<chrono::NaiveDate>)]
    as_of: Option<String>,
}

struct Period {
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
}

fn period(q: &DashboardQuery) -> Result<Period, WebError> {
    let today = crate::time::today_jst();
    let as_of = blank(&q.as_of)
        .map(|v| parse_date("as_of", v))
        .transpose()?
        .unwrap_or(today);
    let to = blank(&q.to)
        .map(|v| parse_date("to", v))
        .transpose()?
        .unwrap_or(as_of);
    let from = match blank(&q.from) {
        Some(v) => parse_date("from", v)?,
        None => (to - Months::new(12)).succ_opt().unwrap_or(to),
    };
    if from > to {
        return Err(WebError::BadRequest(format!(
            "期間の開始日（{from}）が終了日（{to}）より後になっています"
        )));
    }
    Ok(Period { from, to, as_of })
}

/// The dashboard of the caller's insurer, from the cache when its data has not changed.
async fn dashboard_for(
    state: &AppState,
    user: &CurrentUser,
    p: Period,
) -> Result<(Insurer, Arc<Dashboard>), WebError> {
    let cache = state.dashboards.clone();
    let iid = user.insurer_id;
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let key = (iid.0, p.from, p.to, p.as_of, insurer.data_version);
        if let Some(hit) = cache.get(&key) {
            return Ok((insurer, hit));
        }
        let d = Arc::new(dashboard::compute(c, &insurer, p.from, p.to, p.as_of)?);
        // Cache under the version the figures were computed from (an import may have landed
        // between reading the insurer and computing).
        cache.put((iid.0, p.from, p.to, p.as_of, d.data_version), d.clone());
        Ok((insurer, d))
    })
    .await
}

/// Dashboard figures for a period of receipt.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Figures", body = crate::reports::dashboard::Dashboard),
        (status = 400, description = "Bad date", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_dashboard(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    let p = period(&q)?;
    let (_, d) = dashboard_for(&state, &user, p).await?;
    Ok(HttpResponse::Ok().json(&*d))
}

pub async fn dashboard_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let p = period(&q)?;
    let (from, to) = (p.from, p.to);
    let (insurer, d) = dashboard_for(&state, &user, p).await?;
    let mut ctx = base_context(&user, &insurer, "dashboard");
    ctx.insert("d", &*d);
    ctx.insert("from", &from.to_string());
    ctx.insert("to", &to.to_string());
    ctx.insert("charts", &crate::reports::charts::dashboard_charts(&d));
    Ok(html(&state, "pages/dashboard.html", &ctx)?)
}

// ---------------------------------------------------------------------------------------------
// Case list

/// Filters of the case list (all optional).
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// Search: 氏名 or 氏名カナ by prefix (spaces, width, hiragana/katakana ignored), 記号・番号
    /// (`1010 123`, `1010-123-01` or the 番号 alone) or the exact 受付番号. Never a My Number.
    pub q: Option<String>,
    /// 1 / true: only the 登録エラー worklist — not registered, and the latest registration result
    /// is an error
    #[param(value_type = Option<bool>)]
    pub reg_error: Option<String>,
    /// met | breached | at_risk | open | not_applicable (of `rule`, or of either rule when `rule` is empty)
    #[param(schema_with = crate::web::openapi::status)]
    pub status: Option<String>,
    /// submission | registration | five_day | standard | loss
    #[param(schema_with = crate::web::openapi::rule)]
    pub rule: Option<String>,
    /// acquisition | dependent | loss
    #[param(schema_with = crate::web::openapi::kind)]
    pub kind: Option<String>,
    /// 事業所記号
    pub employer: Option<String>,
    /// Month of receipt, YYYY-MM
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
    /// Received on or after (YYYY-MM-DD)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub received_from: Option<String>,
    /// Received on or before (YYYY-MM-DD)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub received_to: Option<String>,
    /// valid | invalid | missing
    #[param(schema_with = crate::web::openapi::my_number)]
    pub my_number: Option<String>,
    /// 1 / true: only notices not yet registered
    #[param(value_type = Option<bool>)]
    pub pending: Option<String>,
    /// 1 / true: only notices that need a 資格確認書
    #[param(value_type = Option<bool>)]
    pub ex_officio: Option<String>,
    /// Registration deadline on or after (YYYY-MM-DD); with `pending=1` and `due_to`, the
    /// dashboard's 「今週が期限」
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub due_from: Option<String>,
    /// Registration deadline on or before (YYYY-MM-DD)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub due_to: Option<String>,
    /// 1 / true: only the cases whose 担当者 is the caller
    #[param(value_type = Option<bool>)]
    pub mine: Option<String>,
    /// 1 / true: only open cases (received, not registered as of `as_of`) whose 次回対応日 is on
    /// or before `as_of` (default: today in Japan)
    #[param(value_type = Option<bool>)]
    pub follow_up_due: Option<String>,
    /// -received_on (default) | received_on | -event_date | event_date | registration_deadline | -registration_deadline | -registration_days_over | -submission_days_over | notice_id
    #[param(schema_with = crate::web::openapi::sort)]
    pub sort: Option<String>,
    /// 1-based page (default 1)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub page: Option<String>,
    /// Rows per page (default 50, at most 500)
    #[param(value_type = Option<i64>, minimum = 1)]
    pub per_page: Option<String>,
    /// Evaluate as of this date (default: today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub as_of: Option<String>,
}

fn flag(v: &Option<String>) -> bool {
    matches!(blank(v), Some("1" | "true" | "on" | "yes"))
}

fn parse_int(field: &str, v: &Option<String>, default: i64) -> Result<i64, WebError> {
    match blank(v) {
        None => Ok(default),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest(format!(
                "{field} は 1 以上の整数で指定してください（指定: {s}）"
            ))
        }),
    }
}

/// Turns the query into a typed filter; an unknown employer code gives an empty list, not an
/// error, so a filter link never breaks.
pub(crate) fn filter_of(
    c: &mut crate::store::DbConn,
    insurer: &Insurer,
    me: UserId,
    q: &NoticeQuery,
) -> Result<(NoticeFilter, i64, i64), WebError> {
    let as_of = blank(&q.as_of)
        .map(|v| parse_date("as_of", v))
        .transpose()?
        .unwrap_or_else(crate::time::today_jst);
    let mut f = NoticeFilter::new(as_of);
    if let Some(s) = blank(&q.status) {
        f.status = Some(Status::parse(s).ok_or_else(|| {
            WebError::BadRequest(format!(
                "status は met / breached / at_risk / open / not_applicable のいずれかです（指定: {s}）"
            ))
        })?);
    }
    if let Some(s) = blank(&q.rule) {
        f.rule = Some(RuleSel::parse(s).ok_or_else(|| {
            WebError::BadRequest(format!(
                "rule は submission / registration / five_day / standard / loss のいずれかです（指定: {s}）"
            ))
        })?);
    }
    if let Some(s) = blank(&q.kind) {
        f.kind = Some(NoticeKind::parse(s).ok_or_else(|| {
            WebError::BadRequest(format!(
                "kind は acquisition / dependent / loss のいずれかです（指定: {s}）"
            ))
        })?);
    }
    if let Some(s) = blank(&q.my_number) {
        f.my_number = Some(MyNumberStatus::parse_code(s).ok_or_else(|| {
            WebError::BadRequest(format!(
                "my_number は valid / invalid / missing のいずれかです（指定: {s}）"
            ))
        })?);
    }
    if let Some(s) = blank(&q.month) {
        let first = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "month は YYYY-MM 形式で指定してください（指定: {s}）"
            ))
        })?;
        let last = (first + Months::new(1)).pred_opt().unwrap_or(first);
        f.month = Some((first, last));
    }
    f.received_from = blank(&q.received_from)
        .map(|v| parse_date("received_from", v))
        .transpose()?;
    f.received_to = blank(&q.received_to)
        .map(|v| parse_date("received_to", v))
        .transpose()?;
    f.due_from = blank(&q.due_from)
        .map(|v| parse_date("due_from", v))
        .transpose()?;
    f.due_to = blank(&q.due_to)
        .map(|v| parse_date("due_to", v))
        .transpose()?;
    if let Some(s) = blank(&q.employer) {
        // -1 matches nothing: an employer of another insurer or a typo shows an empty list.
        f.employer = Some(notices::employer_id_by_code(c, insurer.id, s)?.unwrap_or(-1));
    }
    if let Some(s) = blank(&q.sort) {
        f.sort = Sort::parse(s).ok_or_else(|| {
            WebError::BadRequest(format!("sort の指定が正しくありません（指定: {s}）"))
        })?;
    }
    f.pending = flag(&q.pending);
    f.ex_officio = flag(&q.ex_officio);
    f.reg_error = flag(&q.reg_error);
    f.assignee = flag(&q.mine).then_some(me);
    f.follow_up_due = flag(&q.follow_up_due);
    if let Some(text) = blank(&q.q) {
        // The request guard refuses such a URL already; a search is never run on one either.
        if crate::domain::my_number::contains_valid(text) {
            return Err(WebError::BadRequest(super::guard::MY_NUMBER_IN_URL.into()));
        }
        f.search = Some(notices::search(c, insurer.id, text)?);
    }
    let page = parse_int("page", &q.page, 1)?;
    let per_page = parse_int("per_page", &q.per_page, DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE);
    Ok((f, page, per_page))
}

#[derive(Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<NoticeItem>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// `q` matched more members than a search takes (`store::notices::SEARCH_MEMBERS_MAX`): the
    /// list holds the notices of the first ones in name order; a longer text narrows it.
    pub search_truncated: bool,
}

async fn list_for(
    state: &AppState,
    user: &CurrentUser,
    q: NoticeQuery,
) -> Result<(Insurer, NoticeList), WebError> {
    let iid = user.insurer_id;
    let me = user.user_id;
    let counts = state.counts.clone();
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let (f, page, per_page) = filter_of(c, &insurer, me, &q)?;
        let key = format!("{}|{}|{:?}", iid.0, insurer.data_version, f);
        // The workflow changes without a new data version: those counts are never cached.
        let cached = f.assignee.is_none() && !f.follow_up_due;
        let total = match counts.get(&key).filter(|_| cached) {
            Some(n) => n,
            None => {
                let n = notices::count(c, iid, &insurer.rules, &f)?;
                if cached {
                    counts.put(key, n);
                }
                n
            }
        };
        let items = cases::page(c, &insurer, &f, page, per_page)?;
        Ok((
            insurer,
            NoticeList {
                items,
                total,
                page,
                per_page,
                search_truncated: f.search.as_ref().is_some_and(|s| s.truncated),
            },
        ))
    })
    .await
}

/// The case list with filters and paging.
#[utoipa::path(
    get,
    path = "/api/v1/notices",
    tag = "notices",
    params(NoticeQuery),
    responses(
        (status = 200, description = "One page of notices and the total", body = NoticeList),
        (status = 400, description = "Bad filter", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_notices(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    let (_, list) = list_for(&state, &user, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Query string of a filter without paging (for the export links and the pager).
fn query_string(q: &NoticeQuery) -> String {
    let mut q = q.clone();
    q.page = None;
    serde_urlencoded::to_string(&q).unwrap_or_default()
}

pub async fn notices_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let (insurer, list) = list_for(&state, &user, q.clone()).await?;
    let mut ctx = base_context(&user, &insurer, "notices");
    let pages = ((list.total + list.per_page - 1) / list.per_page).max(1);
    ctx.insert("list", &list);
    ctx.insert("pages", &pages);
    ctx.insert("q", &q);
    ctx.insert("qs", &query_string(&q));
    ctx.insert(
        "sorts",
        &Sort::ALL
            .iter()
            .map(|(_, code, label)| (code.to_string(), label.to_string()))
            .collect::<Vec<_>>(),
    );
    let today = crate::time::today_jst();
    let months: Vec<String> = (0..24)
        .map(|i| {
            let m = today - Months::new(i);
            format!("{:04}-{:02}", m.year(), m.month())
        })
        .collect();
    ctx.insert("months", &months);
    super::letters::list_context(&state, &user, &q, &list.items, &mut ctx).await?;
    Ok(html(&state, "pages/notices.html", &ctx)?)
}

// ---------------------------------------------------------------------------------------------
// Exports

/// The export as a download that starts at once: the rows are chosen and the export audited
/// first (a bad filter is still answered 400), then the file is written as its rows are read.
async fn export(
    state: &AppState,
    user: &CurrentUser,
    q: NoticeQuery,
    format: ExportFormat,
) -> Result<HttpResponse, WebError> {
    let acting = acting(user);
    let me = user.user_id;
    let out = db(state, move |c| {
        let insurer = crate::store::insurers::get(c, acting.insurer)?;
        let (f, _, _) = filter_of(c, &insurer, me, &q)?;
        let query = query_string(&q);
        Ok(app::export_notices(
            c, &acting, &insurer, &f, format, &query,
        )?)
    })
    .await?;
    tracing::info!(rows = out.rows(), "case list exported");
    let disposition = super::download::attachment(&out.file_name, &out.ascii_file_name);
    let pool = state.pool.clone();
    let body = super::download::stream(move |w| -> Result<(), anyhow::Error> {
        let mut conn = pool.get()?;
        // A second reader when the pool has a connection free at once (never waited for: two
        // exports each holding one and waiting for another would stall the pool).
        match pool.try_get() {
            Some(mut second) => out.write(&mut [&mut conn, &mut second], w)?,
            None => out.write(&mut [&mut conn], w)?,
        };
        Ok(())
    });
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub async fn export_csv_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(export(&state, &user.0, q.into_inner(), ExportFormat::Csv).await?)
}

pub async fn export_xlsx_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(export(&state, &user.0, q.into_inner(), ExportFormat::Xlsx).await?)
}

/// The filtered case list as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/notices.csv",
    tag = "notices",
    params(NoticeQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_export_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), ExportFormat::Csv).await
}

/// The filtered case list as xlsx.
#[utoipa::path(
    get,
    path = "/api/v1/notices.xlsx",
    tag = "notices",
    params(NoticeQuery),
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = []))
)]
pub async fn api_export_xlsx(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), ExportFormat::Xlsx).await
}

// ---------------------------------------------------------------------------------------------
// Case page

/// One notice for the caller (the view is audited by the app layer).
async fn detail_for(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    as_of: Option<String>,
) -> Result<(Insurer, NoticeDetailBody), WebError> {
    let as_of = blank(&as_of)
        .map(|v| parse_date("as_of", v))
        .transpose()?
        .unwrap_or_else(crate::time::today_jst);
    let acting = acting(user);
    db(state, move |c| {
        Ok(app::view_notice(c, &acting, NoticeDbId(id), as_of)?)
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Evaluate as of this date (default: today in Japan)
    #[param(value_type = Option<chrono::NaiveDate>)]
    as_of: Option<String>,
}

/// One notice: its evaluation, member, registration results. 404 for an id of another insurer.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}",
    tag = "notices",
    params(("id" = i64, Path, description = "Database id of the notice"), AsOfQuery),
    responses(
        (status = 200, description = "The notice", body = NoticeDetailBody),
        (status = 404, description = "No such notice for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    let id = path.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let (_, body) = detail_for(&state, &user, id, q.into_inner().as_of).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The case page's query: the as-of date, and which form was just saved (post-redirect-get).
#[derive(Debug, Default, Deserialize)]
pub struct NoticePageQuery {
    as_of: Option<String>,
    saved: Option<String>,
}

pub async fn notice_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<NoticePageQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = path.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let q = q.into_inner();
    let saved = match q.saved.as_deref() {
        Some("workflow") => Some("担当者・次回対応日を保存しました。"),
        Some("note") => Some("メモを追加しました。"),
        _ => None,
    };
    Ok(render_notice_with(&state, &user, id, q.as_of, None, saved).await?)
}

/// A certificate form that could not be recorded: the message and the dates as typed.
pub struct CertificateFormError {
    pub message: String,
    pub issued_on: String,
    pub valid_until: String,
}

/// The case page; with `cert_error`, the 資格確認書 form shows why it was refused, with the dates
/// as typed (answered 400).
pub async fn render_notice(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    as_of: Option<String>,
    cert_error: Option<CertificateFormError>,
) -> Result<HttpResponse, WebError> {
    render_notice_with(state, user, id, as_of, cert_error, None).await
}

/// [`render_notice`] with the message of a workflow form just saved.
async fn render_notice_with(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    as_of: Option<String>,
    cert_error: Option<CertificateFormError>,
    saved: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let (insurer, body) = detail_for(state, user, id, as_of).await?;
    let mut ctx = base_context(user, &insurer, "notices");
    if user.role >= crate::store::users::Role::Staff {
        let iid = user.insurer_id;
        let users = db(state, move |c| {
            Ok(crate::store::workflow::assignable_users(c, iid)?)
        })
        .await?;
        ctx.insert("assignable", &users);
    }
    ctx.insert("saved", &saved);
    ctx.insert("n", &body);
    ctx.insert("timeline", &cases::timeline(&body));
    super::letters::case_context(state, user, id, &mut ctx).await?;
    let refused = cert_error.is_some();
    if let Some(e) = cert_error {
        ctx.insert("cert_error", &e.message);
        ctx.insert("cert_today", &e.issued_on);
        ctx.insert("cert_latest", &e.valid_until);
    }
    let mut res = html(state, "pages/notice.html", &ctx)?;
    if refused {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}
