//! The MHLW follow-up survey (seed 002 別添3): its page, answers, submissions, printable document,
//! exports and JSON API; and what the checklist, 改善計画 and 要因分析 pages share with it (the
//! period, the bundle they all show, the acting user, the export response).
use super::auth::{Csrf, CurrentUser};
use super::error::WebError;
use super::pages::{base_context, db, html, redirect, PageError, PageForm, PageUser};
use super::AppState;
use crate::app::survey::{self as app, SetSurveyAnswer};
use crate::reports::bundle::{self, Bundle, Period};
use crate::reports::survey::{self as followup, QuestionView, Submission};
use crate::reports::survey_export::Export;
use crate::store::survey as store;
use crate::store::users::Role;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

// ---------------------------------------------------------------------------------------------
// Shared by the checklist, plan, analysis and survey pages

/// The period the survey and the analysis look at (dates of receipt / of letters).
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (default: 12 months before `to`).
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub from: Option<String>,
    /// Last day (default: `as_of`).
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub to: Option<String>,
    /// Evaluate statuses as of this date (default: today in Japan).
    #[param(value_type = Option<chrono::NaiveDate>)]
    pub as_of: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An optional date in a query or form field (`YYYY-MM-DD`); `None` when blank.
pub(super) fn opt_date(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
    blank(v)
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                WebError::BadRequest(format!(
                    "{field} は YYYY-MM-DD 形式の日付で指定してください（指定: {s}）"
                ))
            })
        })
        .transpose()
}

/// An optional whole number in a form field; `None` when blank.
pub(super) fn form_int(v: &Option<String>, msg: &str) -> Result<Option<i64>, WebError> {
    blank(v)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| WebError::BadRequest(msg.into()))
        })
        .transpose()
}

pub(super) fn period(q: &PeriodQuery) -> Result<Period, WebError> {
    let as_of = opt_date("as_of", &q.as_of)?;
    let to = opt_date("to", &q.to)?;
    let from = opt_date("from", &q.from)?;
    Period::resolve(from, to, as_of).map_err(WebError::BadRequest)
}

pub(super) async fn bundle(
    state: &AppState,
    user: &CurrentUser,
    p: Period,
) -> Result<Bundle, WebError> {
    let iid = user.insurer_id;
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        Ok(bundle::load(c, insurer, p)?)
    })
    .await
}

pub(super) use super::pages::acting;

pub(super) fn period_ctx(ctx: &mut tera::Context, p: Period) {
    ctx.insert("from", &p.from.to_string());
    ctx.insert("to", &p.to.to_string());
    ctx.insert("as_of", &p.as_of.to_string());
    ctx.insert(
        "qs",
        &format!("from={}&to={}&as_of={}", p.from, p.to, p.as_of),
    );
}

/// A download: the file of the period, audited by the app layer.
pub(super) async fn export(
    state: &AppState,
    user: &CurrentUser,
    q: PeriodQuery,
    what: Export,
) -> Result<HttpResponse, WebError> {
    let p = period(&q)?;
    let acting = acting(user);
    let bytes = db(state, move |c| Ok(app::export(c, &acting, p, what)?)).await?;
    Ok(HttpResponse::Ok()
        .content_type(what.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", what.file_name()),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// The page route of an export (errors as pages).
macro_rules! page_export {
    ($name:ident, $what:expr) => {
        pub async fn $name(
            state: actix_web::web::Data<$crate::web::AppState>,
            user: $crate::web::pages::PageUser,
            q: actix_web::web::Query<$crate::web::survey::PeriodQuery>,
        ) -> Result<actix_web::HttpResponse, $crate::web::pages::PageError> {
            Ok($crate::web::survey::export(&state, &user.0, q.into_inner(), $what).await?)
        }
    };
}
pub(super) use page_export;

/// The context of a printable A4 document (no navigation; the MHLW wording word for word).
pub(super) fn print_context(b: &Bundle) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("insurer_number", b.insurer.number.as_str());
    ctx.insert("insurer_name", &b.insurer.name);
    ctx.insert("from", &b.period.from.to_string());
    ctx.insert("to", &b.period.to.to_string());
    ctx.insert("as_of", &b.period.as_of.to_string());
    ctx.insert("printed_on", &crate::time::today_jst().to_string());
    ctx
}

// ---------------------------------------------------------------------------------------------
// Exports and the printable survey

/// The follow-up survey (別添3) with answers, monthly statistics and the factor analysis, as xlsx.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.xlsx",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = []))
)]
pub async fn api_survey_xlsx(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::SurveyXlsx).await
}

/// The follow-up survey (別添3) with answers as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_survey_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::SurveyCsv).await
}

/// Monthly statistics as CSV (UTF-8 with BOM): the same rows as the 月別統計 sheet of the xlsx
/// exports (month, notices, submission met rate, 5-day registration met rate, notices under the
/// standard days, 資格確認書 issued), after the insurer's number and name.
#[utoipa::path(
    get,
    path = "/api/v1/statistics.csv",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv")),
    security(("bearer" = []))
)]
pub async fn api_statistics_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    export(&state, &user, q.into_inner(), Export::StatisticsCsv).await
}

page_export!(survey_xlsx_page, Export::SurveyXlsx);
page_export!(survey_csv_page, Export::SurveyCsv);
page_export!(statistics_csv_page, Export::StatisticsCsv);

async fn print(
    state: &AppState,
    user: &CurrentUser,
    q: PeriodQuery,
) -> Result<HttpResponse, WebError> {
    let b = bundle(state, user, period(&q)?).await?;
    let mut ctx = print_context(&b);
    ctx.insert("title", followup::TITLE);
    ctx.insert("questions", &b.questions);
    html(state, "pages/survey_print.html", &ctx)
}

/// The follow-up survey (別添3) as a printable A4 HTML document with the answers and notes.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup.html",
    tag = "survey",
    params(PeriodQuery),
    responses((status = 200, description = "Printable HTML (A4)", content_type = "text/html")),
    security(("bearer" = []))
)]
pub async fn api_survey_html(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    print(&state, &user, q.into_inner()).await
}

pub async fn survey_print_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(print(&state, &user.0, q.into_inner()).await?)
}

// ---------------------------------------------------------------------------------------------
// The survey

#[derive(Serialize, ToSchema)]
pub struct SurveyBody {
    pub insurer_number: String,
    pub insurer_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub questions: Vec<QuestionView>,
}

/// The follow-up survey with pre-fills (and why) and the staff's answers.
#[utoipa::path(
    get,
    path = "/api/v1/survey/followup",
    tag = "survey",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Questions, pre-fills and answers", body = SurveyBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_survey(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let b = bundle(&state, &user, period(&q)?).await?;
    Ok(HttpResponse::Ok().json(SurveyBody {
        insurer_number: b.insurer.number.as_str().to_string(),
        insurer_name: b.insurer.name,
        from: b.period.from,
        to: b.period.to,
        questions: b.questions,
    }))
}

pub async fn survey_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let b = bundle(&state, &user, period(&q)?).await?;
    let iid = user.insurer_id;
    let history = db(&state, move |c| Ok(store::submissions(c, iid)?)).await?;
    let mut ctx = base_context(&user, &b.insurer, "survey");
    period_ctx(&mut ctx, b.period);
    ctx.insert("title", followup::TITLE);
    ctx.insert("questions", &b.questions);
    ctx.insert("months", &b.analysis.months);
    ctx.insert("history", &history);
    Ok(html(&state, "pages/survey.html", &ctx)?)
}

// ---------------------------------------------------------------------------------------------
// Answers (staff): the page's form and the API call the same app function.

async fn save_answer(
    state: &AppState,
    user: &CurrentUser,
    input: SetSurveyAnswer,
) -> Result<SurveyAnswerBody, WebError> {
    let acting = acting(user);
    let saved = db(state, move |c| {
        Ok(app::save_survey_answer(c, &acting, input)?)
    })
    .await?;
    Ok(SurveyAnswerBody {
        question_id: saved.question_id.into(),
        choice: saved.choice,
        days: saved.days,
        note: saved.note,
        updated_by: saved.updated_by,
    })
}

#[derive(Deserialize)]
pub struct SurveyAnswerForm {
    #[serde(default)]
    question_id: String,
    choice: String,
    #[serde(default)]
    days: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn survey_answer_submit(
    state: web::Data<AppState>,
    post: PageForm<SurveyAnswerForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form: f } = post.0;
    user.require(Role::Staff)?;
    let days = if f.question_id.trim() == followup::DAYS_QUESTION {
        form_int(&f.days, "日数は 1〜365 の整数で入力してください")?
    } else {
        None
    };
    let input = SetSurveyAnswer {
        question_id: f.question_id,
        choice: f.choice,
        days,
        note: f.note,
    };
    save_answer(&state, &user, input).await?;
    Ok(redirect("/survey"))
}

#[derive(Deserialize, ToSchema)]
pub struct SurveyAnswerInput {
    /// `1`, `2-(1)-a`, … as in the survey
    pub question_id: String,
    /// One of the question's choices, word for word (e.g. `準備完了・対応中`)
    pub choice: String,
    /// The 〇日 of `2-(3)-a` (1–365); ignored for other questions
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct SurveyAnswerBody {
    pub question_id: String,
    pub choice: String,
    pub days: Option<i32>,
    pub note: String,
    pub updated_by: String,
}

/// Answers one survey question (overrides its pre-fill). Needs the staff role; audited.
#[utoipa::path(
    put,
    path = "/api/v1/survey/answers",
    tag = "survey",
    request_body = SurveyAnswerInput,
    responses(
        (status = 200, description = "Saved", body = SurveyAnswerBody),
        (status = 400, description = "Unknown question, a choice it does not offer, or days out of range", body = super::error::ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_survey_answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<SurveyAnswerInput>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let b = body.into_inner();
    let input = SetSurveyAnswer {
        question_id: b.question_id,
        choice: b.choice,
        days: b.days,
        note: b.note,
    };
    Ok(HttpResponse::Ok().json(save_answer(&state, &user, input).await?))
}

// ---------------------------------------------------------------------------------------------
// Submissions

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// Keeps the current answers (pre-fills included) as a submission in the history.
pub async fn survey_submit(
    state: web::Data<AppState>,
    post: PageForm<SubmitForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Staff)?;
    let p = period(&PeriodQuery {
        from: form.from,
        to: form.to,
        as_of: None,
    })?;
    let acting = acting(&user);
    db(&state, move |c| Ok(app::submit_survey(c, &acting, p)?)).await?;
    Ok(redirect("/survey"))
}

async fn load_submission(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Submission, WebError> {
    let id = id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let iid = user.insurer_id;
    let row = db(state, move |c| Ok(store::submission(c, iid, id)?))
        .await?
        .ok_or(WebError::NotFound)?;
    Submission::of(row).map_err(|e| WebError::Internal(e.into()))
}

/// One past submission of the follow-up survey, exactly as it was submitted.
#[utoipa::path(
    get,
    path = "/api/v1/survey/submissions/{id}",
    tag = "survey",
    params(("id" = i64, Path, description = "Id of the submission")),
    responses(
        (status = 200, description = "The submission with its answers and evidence", body = Submission),
        (status = 404, description = "No such submission for this insurer", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_submission(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(load_submission(&state, &user, &path).await?))
}

pub async fn submission_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let s = load_submission(&state, &user, &path).await?;
    let insurer = super::pages::insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "survey");
    ctx.insert("title", followup::TITLE);
    ctx.insert("s", &s);
    Ok(html(&state, "pages/survey_submission.html", &ctx)?)
}

// ---------------------------------------------------------------------------------------------
// Routes

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/survey", web::get().to(survey_page))
        .route("/survey/answers", web::post().to(survey_answer_submit))
        .route("/survey/submissions", web::post().to(survey_submit))
        .route("/survey/submissions/{id}", web::get().to(submission_page))
        .route("/survey/print", web::get().to(survey_print_page))
        .route("/survey/followup.xlsx", web::get().to(survey_xlsx_page))
        .route("/survey/followup.csv", web::get().to(survey_csv_page))
        .route("/survey/statistics.csv", web::get().to(statistics_csv_page))
        .route("/api/v1/statistics.csv", web::get().to(api_statistics_csv))
        .route("/api/v1/survey/followup", web::get().to(api_survey))
        .route(
            "/api/v1/survey/followup.html",
            web::get().to(api_survey_html),
        )
        .route(
            "/api/v1/survey/followup.xlsx",
            web::get().to(api_survey_xlsx),
        )
        .route("/api/v1/survey/followup.csv", web::get().to(api_survey_csv))
        .route(
            "/api/v1/survey/submissions/{id}",
            web::get().to(api_submission),
        )
        .service(
            web::resource("/api/v1/survey/answers")
                .app_data(super::params::json_config())
                .route(web::put().to(api_survey_answer)),
        );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_survey,
        api_survey_xlsx,
        api_survey_csv,
        api_survey_html,
        api_statistics_csv,
        api_submission,
        api_survey_answer
    ),
    components(schemas(
        SurveyAnswerInput,
        SurveyAnswerBody,
        Submission,
        SurveyBody,
        QuestionView
    ))
)]
struct SurveyApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    SurveyApi::openapi()
}
