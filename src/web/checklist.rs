//! 改善計画 checklist (seed 002 別添1 for 健保組合, 別添2 for 共済組合等): the page with answers and
//! evidence, the answers, the printable document, the exports and the JSON API.
use super::auth::{Csrf, CurrentUser};
use super::error::WebError;
use super::pages::{base_context, html, redirect, PageError, PageForm, PageUser};
use super::survey::{acting, bundle, export, page_export, period, period_ctx, PeriodQuery};
use super::AppState;
use crate::app::survey::{self as app, SetChecklistAnswer};
use crate::reports::checklist::{self, ChecklistAnswer, ChecklistItemView};
use crate::reports::plan::{ActionView, ReviewView};
use crate::reports::survey_export::Export;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// The answers a checklist item can have, as (code, label) for the templates.
fn answer_choices() -> Vec<(&'static str, &'static str)> {
    ChecklistAnswer::ALL
        .iter()
        .map(|a| (a.code(), a.label_ja()))
        .collect()
}

/// `saved=N` after the page's form was saved: how many answers changed.
#[derive(Deserialize)]
pub struct SavedFlag {
    saved: Option<usize>,
}

pub async fn checklist_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
    flag: web::Query<SavedFlag>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let b = bundle(&state, &user, period(&q)?).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert("saved", &flag.saved);
    ctx.insert("title", checklist::title_for(b.insurer.kind));
    ctx.insert("annex", checklist::annex_for(b.insurer.kind));
    ctx.insert("items", &b.checklist);
    ctx.insert("answers", &answer_choices());
    Ok(html(&state, "pages/checklist.html", &ctx)?)
}

#[derive(Serialize, ToSchema)]
pub struct ChecklistBody {
    pub insurer_number: String,
    pub insurer_name: String,
    /// 別添1 (健保組合) or 別添2 (共済組合等)
    pub annex: String,
    pub title: String,
    pub items: Vec<ChecklistItemView>,
    pub plan: Vec<ActionView>,
}

/// The checklist of the insurer's kind with answers and evidence, and the 改善計画.
#[utoipa::path(
    get,
    path = "/api/v1/checklist",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Items, answers, evidence and the plan", body = ChecklistBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_checklist(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let b = bundle(&state, &user, period(&q)?).await?;
    Ok(HttpResponse::Ok().json(ChecklistBody {
        insurer_number: b.insurer.number.as_str().to_string(),
        annex: checklist::annex_for(b.insurer.kind).into(),
        title: checklist::title_for(b.insurer.kind).into(),
        insurer_name: b.insurer.name,
        items: b.checklist,
        plan: b.plan,
    }))
}

// ---------------------------------------------------------------------------------------------
// Answers (staff): the page's form and the API call the same app function.

async fn save_answer(
    state: &AppState,
    user: &CurrentUser,
    item_id: String,
    answer: &str,
    note: String,
) -> Result<ChecklistAnswerBody, WebError> {
    user.require(Role::Staff)?;
    let input = SetChecklistAnswer {
        item_id,
        answer: app::checklist_answer(answer)?,
        note,
    };
    let acting = acting(user);
    let saved = super::pages::db(state, move |c| {
        Ok(app::save_checklist_answer(c, &acting, input)?)
    })
    .await?;
    Ok(ChecklistAnswerBody {
        item_id: saved.item_id.into(),
        answer: saved.answer.code().into(),
        answer_label: saved.answer.label_ja().into(),
        note: saved.note,
        updated_by: saved.updated_by,
    })
}

/// The checklist page's one form: `answer:{item}` and `note:{item}` for every item, and the
/// period shown (`from`, `to`), so the page comes back as it was.
pub async fn checklist_submit(
    state: web::Data<AppState>,
    post: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: fields } = post.0;
    user.require(Role::Staff)?;
    let value = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut inputs = Vec::new();
    for (key, answer) in &fields {
        let Some(item_id) = key.strip_prefix("answer:") else {
            continue;
        };
        inputs.push(SetChecklistAnswer {
            item_id: item_id.to_string(),
            answer: app::checklist_answer(answer).map_err(WebError::from)?,
            note: value(&format!("note:{item_id}"))
                .unwrap_or_default()
                .to_string(),
        });
    }
    // A note typed for an item without an answer would be lost: say so instead.
    for (key, note) in &fields {
        if let Some(item_id) = key.strip_prefix("note:") {
            if !note.trim().is_empty() && value(&format!("answer:{item_id}")).is_none() {
                return Err(WebError::BadRequest(format!(
                    "{item_id} の備考を保存するには回答を選んでください"
                ))
                .into());
            }
        }
    }
    let acting = acting(&user);
    let changed = super::pages::db(&state, move |c| {
        Ok(app::save_checklist_answers(c, &acting, inputs)?)
    })
    .await?;
    let mut back = vec![("saved", changed.to_string())];
    for key in ["from", "to"] {
        if let Some(v) = value(key).filter(|v| !v.is_empty()) {
            back.push((key, v.to_string()));
        }
    }
    let query = serde_urlencoded::to_string(&back).unwrap_or_default();
    Ok(redirect(&format!("/checklist?{query}")))
}

#[derive(Deserialize, ToSchema)]
pub struct ChecklistAnswerInput {
    /// The item id as in the checklist, e.g. `2-③`
    pub item_id: String,
    /// done | not_done | partly
    pub answer: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChecklistAnswerBody {
    pub item_id: String,
    pub answer: String,
    pub answer_label: String,
    pub note: String,
    pub updated_by: String,
}

/// Answers one checklist item (replaces an earlier answer). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/checklist/answers",
    tag = "survey",
    request_body = ChecklistAnswerInput,
    responses(
        (status = 200, description = "Saved", body = ChecklistAnswerBody),
        (status = 400, description = "Unknown item or answer (named in the message)", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_checklist_answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ChecklistAnswerInput>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let saved = save_answer(&state, &user, b.item_id, &b.answer, b.note).await?;
    Ok(HttpResponse::Ok().json(saved))
}

// ---------------------------------------------------------------------------------------------
// Exports and the printable checklist

/// The checklist (別添1 or 別添2) with answers, evidence and the 改善計画, as xlsx.
#[utoipa::path(
    get,
    path = "/api/v1/checklist.xlsx",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = []))
)]
pub async fn api_checklist_xlsx(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::ChecklistXlsx).await
}

/// The checklist (別添1 or 別添2) with answers as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/checklist.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_checklist_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::ChecklistCsv).await
}

page_export!(checklist_xlsx_page, Export::ChecklistXlsx);
page_export!(checklist_csv_page, Export::ChecklistCsv);

async fn print(
    state: &AppState,
    user: &CurrentUser,
    q: PeriodQuery,
) -> Result<HttpResponse, WebError> {
    let b = bundle(state, user, period(&q)?).await?;
    let mut ctx = super::survey::print_context(&b);
    ctx.insert("title", checklist::title_for(b.insurer.kind));
    ctx.insert("annex", checklist::annex_for(b.insurer.kind));
    ctx.insert("items", &b.checklist);
    ctx.insert("answers", &answer_choices());
    ctx.insert("plan", &b.plan);
    html(state, "pages/checklist_print.html", &ctx)
}

/// The checklist (別添1 or 別添2) as a printable A4 HTML document with the answers and notes.
#[utoipa::path(
    get,
    path = "/api/v1/checklist.html",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "Printable HTML (A4)", content_type = "text/html")),
    security(("bearer" = []))
)]
pub async fn api_checklist_html(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    print(&state, &user, q.into_inner()).await
}

pub async fn checklist_print_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(print(&state, &user.0, q.into_inner()).await?)
}

// ---------------------------------------------------------------------------------------------
// Routes

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/checklist", web::get().to(checklist_page))
        .route("/checklist", web::post().to(checklist_submit))
        .route("/checklist.xlsx", web::get().to(checklist_xlsx_page))
        .route("/checklist.csv", web::get().to(checklist_csv_page))
        .route("/checklist/print", web::get().to(checklist_print_page))
        .route("/api/v1/checklist", web::get().to(api_checklist))
        .route("/api/v1/checklist.html", web::get().to(api_checklist_html))
        .route("/api/v1/checklist.xlsx", web::get().to(api_checklist_xlsx))
        .route("/api/v1/checklist.csv", web::get().to(api_checklist_csv))
        .service(
            web::resource("/api/v1/checklist/answers")
                .app_data(super::params::json_config())
                .route(web::put().to(api_checklist_answer)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_checklist,
        api_checklist_xlsx,
        api_checklist_csv,
        api_checklist_html,
        api_checklist_answer
    ),
    components(schemas(
        ChecklistAnswerInput,
        ChecklistAnswerBody,
        ChecklistBody,
        ChecklistItemView,
        ActionView,
        ReviewView
    ))
)]
struct ChecklistApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ChecklistApi::openapi()
}
