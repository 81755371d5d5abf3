//! 要因分析 (SPEC §7): the page (late cases by cause, employer and month, the April peak against
//! staffing, the error causes entered), its JSON and the 繁忙期と体制 CSV.
use super::auth::CurrentUser;
use super::error::WebError;
use super::pages::{base_context, db, html, PageError, PageUser};
use super::survey::{bundle, export, page_export, period, period_ctx, PeriodQuery};
use super::AppState;
use crate::reports::analysis::{self, Cause};
use crate::reports::charts;
use crate::reports::survey_export::Export;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

pub async fn analysis_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let b = bundle(&state, &user, period(&q)?).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert(
        "cause_labels",
        &Cause::ALL.iter().map(|c| c.label_ja()).collect::<Vec<_>>(),
    );
    ctx.insert("max_cause", &charts::cause_scale(&b.analysis));
    ctx.insert("month_bars", &charts::month_bars(&b.analysis));
    ctx.insert(
        "workload_charts",
        &charts::workload_charts(&b.analysis.workload),
    );
    let iid = user.insurer_id;
    let staffing = db(&state, move |c| super::staffing::views(c, iid)).await?;
    ctx.insert("staffing", &staffing);
    let causes_user = user.clone();
    let error_causes = db(&state, move |c| {
        super::error_causes::entries(c, &causes_user)
    })
    .await?;
    ctx.insert("error_causes", &error_causes);
    ctx.insert("cause_options", &super::error_causes::cause_options());
    ctx.insert("a", &b.analysis);
    Ok(html(&state, "pages/analysis.html", &ctx)?)
}

/// 要因分析: late cases of each rule by cause, by employer and by month, and monthly statistics.
#[utoipa::path(
    get,
    path = "/api/v1/analysis",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Late cases by cause, employer and month; monthly statistics; `workload`: the April peak against staffing by ISO week (March–May) and by month", content_type = "application/json"),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_analysis(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let p = period(&q)?;
    let iid = user.insurer_id;
    let a = db(&state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        Ok(analysis::compute(c, &insurer, p.from, p.to, p.as_of)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// The April peak against staffing (checklist 2-②) as CSV (UTF-8 with BOM): each week of March–May
/// of the latest spring in the period, then each month; the same rows as the 繁忙期と体制 sheet.
#[utoipa::path(
    get,
    path = "/api/v1/analysis/workload.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_workload_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::WorkloadCsv).await
}

page_export!(workload_csv_page, Export::WorkloadCsv);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/analysis", web::get().to(analysis_page))
        .route("/analysis/workload.csv", web::get().to(workload_csv_page))
        .route("/api/v1/analysis", web::get().to(api_analysis))
        .route(
            "/api/v1/analysis/workload.csv",
            web::get().to(api_workload_csv),
        );
}

#[derive(OpenApi)]
#[openapi(paths(api_analysis, api_workload_csv))]
struct AnalysisApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    AnalysisApi::openapi()
}
