//! お知らせ (letters to members) and 資格確認書: preview in the browser, generation as PDF or
//! printable HTML (one letter from a case page, or in bulk from a case-list filter), the record of
//! every letter produced, the 資格確認書 records, and the sender fields the letters print.
//!
//! Viewers may preview; generating letters and recording 資格確認書 needs the staff role, changing
//! the sender fields the admin role. Every query is scoped to the caller's insurer.
use super::auth::{Csrf, CurrentUser};
use super::cases::{filter_of, NoticeQuery};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, redirect, PageError, PageForm, PageUser};
use super::params::json_config;
use super::AppState;
use crate::letters::pdf::{PdfError, Printer};
use crate::letters::{
    self, cert_mark, check_issue, latest_valid_until, CertMark, Letter, LetterKind, Mode, Refusal,
    Sender, Variant,
};
use crate::reports::cases::NoticeItem;
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::insurers::{self, Insurer};
use crate::store::letters::{
    self as store, By, CertificateId, CertificateRow, LetterRecord, NewLetter, Run, SenderFields,
};
use crate::store::notices::{self, NoticeDbId};
use crate::store::users::Role;
use crate::store::DbConn;
use crate::time::jst_minute as jst;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Letters in one bulk run: a 500-letter PDF takes Chromium well under a minute; more than this
/// is better split by month or employer.
pub const MAX_BULK: i64 = 2_000;
/// Letters shown in the preview of a bulk run.
const BULK_PREVIEW: usize = 3;
/// Rows read per query while selecting a bulk run.
const SELECT_CHUNK: i64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Errors

/// An error of this area: a letter that must not be produced is a 409 with its own code, a PDF
/// that cannot be printed a 503; everything else is the usual web error.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error(transparent)]
    Web(#[from] WebError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    NoLetters(String),
    #[error("{0}")]
    Pdf(#[from] PdfError),
    /// The letter was produced before for this notice: the API needs `again=1`, the page asks.
    #[error("{title}はこの届書（受付番号 {notice}）について{at}に作成済みです（作成者 {by}、発行日 {date}）。もう一度作成する場合は again=1 を指定してください")]
    AlreadyProduced {
        title: &'static str,
        notice: String,
        at: String,
        by: String,
        date: NaiveDate,
        /// The database id of that letter (to download it again)
        letter: i64,
    },
    /// A letter recorded before its HTML was kept.
    #[error("この文書（作成 {0}）は文面の保存を始める前に作成されたため、もう一度ダウンロードできません")]
    NotKept(String),
    #[error("この文書は{on}に発送済として記録されています（{by}）")]
    AlreadySent { on: NaiveDate, by: String },
}

impl From<diesel::result::Error> for LetterError {
    fn from(e: diesel::result::Error) -> Self {
        LetterError::Web(e.into())
    }
}

impl LetterError {
    fn code(&self) -> &'static str {
        match self {
            LetterError::Web(e) => e.code(),
            LetterError::Refused(r) => r.code(),
            LetterError::NoLetters(_) => "no_letters",
            LetterError::Pdf(_) => "pdf_unavailable",
            LetterError::AlreadyProduced { .. } => "already_produced",
            LetterError::NotKept(_) => "not_kept",
            LetterError::AlreadySent { .. } => "already_sent",
        }
    }
}

impl ResponseError for LetterError {
    fn status_code(&self) -> StatusCode {
        match self {
            LetterError::Web(e) => e.status_code(),
            LetterError::Refused(_)
            | LetterError::NoLetters(_)
            | LetterError::AlreadyProduced { .. }
            | LetterError::NotKept(_)
            | LetterError::AlreadySent { .. } => StatusCode::CONFLICT,
            LetterError::Pdf(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            LetterError::Web(e) => e.error_response(),
            other => {
                if let LetterError::Pdf(e) = other {
                    log_pdf_error(e);
                }
                HttpResponse::build(other.status_code()).json(
                    serde_json::json!({"error": {"code": other.code(), "message": other.to_string()}}),
                )
            }
        }
    }
}

fn log_pdf_error(e: &PdfError) {
    match e {
        PdfError::Failed { status, stderr } => {
            tracing::error!(%status, stderr = %stderr, "chromium failed to print letters")
        }
        other => tracing::error!(error = %other, "letters could not be printed"),
    }
}

/// A page answer for a letter error: the HTML error page with the right status (409 for a
/// refused letter, 503 when Chromium is missing).
fn page_error(
    state: &AppState,
    user: &CurrentUser,
    e: LetterError,
) -> Result<HttpResponse, PageError> {
    let status = e.status_code();
    match e {
        LetterError::Web(w) => Err(PageError(w)),
        other => {
            if let LetterError::Pdf(p) = &other {
                log_pdf_error(p);
            }
            let mut ctx = tera::Context::new();
            ctx.insert("message", &other.to_string());
            ctx.insert("status", &status.as_u16());
            ctx.insert("csrf", &user.csrf);
            let mut res = html(state, "pages/error.html", &ctx)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

fn parse_notice(s: &str) -> Result<NoticeDbId, WebError> {
    s.trim()
        .parse::<i64>()
        .map(NoticeDbId)
        .map_err(|_| WebError::NotFound)
}

/// An unknown kind in a path is a page that does not exist.
fn parse_kind_path(s: &str) -> Result<LetterKind, WebError> {
    LetterKind::parse(s).ok_or(WebError::NotFound)
}

fn parse_kind_field(s: &Option<String>) -> Result<LetterKind, WebError> {
    let v = blank(s).unwrap_or("");
    LetterKind::parse(v).ok_or_else(|| {
        WebError::BadRequest(format!(
            "kind は registration-period / qualification-info / certificate のいずれかです（指定: {v}）"
        ))
    })
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_day(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pdf,
    Html,
}

impl Format {
    fn parse(v: &Option<String>) -> Result<Format, WebError> {
        match blank(v) {
            None | Some("pdf") => Ok(Format::Pdf),
            Some("html") => Ok(Format::Html),
            Some(other) => Err(WebError::BadRequest(format!(
                "format は pdf または html です（指定: {other}）"
            ))),
        }
    }
    fn code(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Html => "印刷用HTML",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Preparing letters

fn insurer(c: &mut DbConn, user: &CurrentUser) -> Result<Insurer, WebError> {
    Ok(insurers::get(c, user.insurer_id)?)
}

fn sender_of(c: &mut DbConn, insurer: &Insurer) -> Result<Sender, WebError> {
    let f = store::sender_fields(c, insurer.id)?;
    Ok(Sender::new(
        &insurer.name,
        insurer.number.as_str(),
        insurer.kind,
        &f,
    ))
}

/// The letters of `kind` for the given notices on `date`, and the refusals (in the same order).
fn prepare_many(
    c: &mut DbConn,
    insurer: &Insurer,
    ids: &[i64],
    kind: LetterKind,
    date: NaiveDate,
) -> Result<(Vec<Letter>, Vec<Refusal>, usize), WebError> {
    let subjects = store::letter_subjects(c, insurer.id, ids)?;
    let certs = store::certificates_for(c, insurer.id, ids)?;
    let mut out = Vec::with_capacity(subjects.len());
    let mut refused = Vec::new();
    for s in &subjects {
        let cs = certs.get(&s.facts.id).map(Vec::as_slice).unwrap_or(&[]);
        match letters::prepare(kind, s, cs, &insurer.rules, date) {
            Ok(l) => out.push(l),
            Err(r) => refused.push(r),
        }
    }
    Ok((out, refused, subjects.len()))
}

/// One letter for one notice, or 404 / the refusal.
fn prepare_one(
    c: &mut DbConn,
    insurer: &Insurer,
    id: NoticeDbId,
    kind: LetterKind,
    date: NaiveDate,
) -> Result<Letter, LetterError> {
    let (mut letters, mut refused, found) = prepare_many(c, insurer, &[id.0], kind, date)?;
    if found == 0 {
        return Err(WebError::NotFound.into());
    }
    match (letters.pop(), refused.pop()) {
        (Some(l), _) => Ok(l),
        (None, Some(r)) => Err(LetterError::Refused(r)),
        (None, None) => Err(WebError::NotFound.into()),
    }
}

fn render(
    tera: &tera::Tera,
    sender: &Sender,
    letters: &[Letter],
    mode: Mode,
    title: &str,
) -> Result<String, WebError> {
    letters::render(tera, sender, letters, mode, title).map_err(WebError::from)
}

fn by(user: &CurrentUser) -> By {
    By {
        user: Some(user.user_id),
        label: user.email.clone(),
    }
}

fn run_id() -> String {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

/// What was produced, ready to send.
struct Produced {
    body: Vec<u8>,
    format: Format,
    letters: usize,
    skipped: usize,
    file_stem: String,
}

impl Produced {
    fn response(self) -> HttpResponse {
        let (ct, ext) = match self.format {
            Format::Pdf => ("application/pdf", "pdf"),
            Format::Html => ("text/html; charset=utf-8", "html"),
        };
        let mut res = HttpResponse::Ok();
        res.content_type(ct)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("X-Letters-Count", self.letters.to_string()))
            .insert_header(("X-Letters-Skipped", self.skipped.to_string()));
        if self.format == Format::Pdf {
            res.insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.{ext}\"", self.file_stem),
            ));
        }
        res.body(self.body)
    }
}

/// Letters to produce in one run.
struct Job {
    sender: Sender,
    letters: Vec<Letter>,
    /// Notices selected that get no letter (counted in the response and the audit entry).
    skipped: usize,
    format: Format,
    date: NaiveDate,
    /// The 受付番号 of a single letter (the audit entry's target).
    audit_target: Option<String>,
    /// Appended to the audit detail (the filter of a bulk run).
    audit_note: String,
    file_stem: String,
}

/// Prints (for PDF) and then records the letters with an audit entry, in one transaction: a letter
/// is recorded only once it has really been produced.
async fn produce(state: &AppState, user: &CurrentUser, job: Job) -> Result<Produced, LetterError> {
    let Job {
        sender,
        letters,
        skipped,
        format,
        date,
        audit_target,
        audit_note,
        file_stem,
    } = job;
    if letters.is_empty() {
        return Err(LetterError::NoLetters(format!(
            "作成できるお知らせがありません（対象外 {skipped} 件）"
        )));
    }
    let tera = state.tera.clone();
    let kind = letters[0].kind;
    let title = if letters.len() == 1 {
        letters::single_title(kind, &letters[0].view.notice_id)
    } else {
        format!("{}（{}通）", kind.title_ja(), letters.len())
    };
    let (letters, body, kept) = web::block(move || -> Result<_, LetterError> {
        let pages =
            letters::render_pages(&tera, &sender, &letters, Mode::Final).map_err(WebError::from)?;
        let html = letters::document(&tera, &pages, Mode::Final, &title).map_err(WebError::from)?;
        // Each letter is kept as the document of that one letter, to download it again as it was.
        let kept: Vec<String> = if letters.len() == 1 {
            vec![html.clone()]
        } else {
            pages
                .iter()
                .zip(&letters)
                .map(|(p, l)| {
                    letters::document(
                        &tera,
                        std::slice::from_ref(p),
                        Mode::Final,
                        &letters::single_title(l.kind, &l.view.notice_id),
                    )
                })
                .collect::<Result<_, _>>()
                .map_err(WebError::from)?
        };
        let body = match format {
            Format::Html => html.into_bytes(),
            Format::Pdf => Printer::from_env().print(&html, letters.len())?,
        };
        Ok((letters, body, kept))
    })
    .await
    .map_err(WebError::from)??;
    let n = letters.len();
    let iid = user.insurer_id;
    let who = by(user);
    let run = run_id();
    db(state, move |c| {
        crate::store::write_tx(c, |c| {
            let items: Vec<NewLetter> = letters
                .iter()
                .zip(kept)
                .map(|(l, html)| NewLetter {
                    notice: NoticeDbId(l.notice),
                    kind: l.kind.code(),
                    variant: l.variant.code(),
                    template_version: l.kind.template_version(),
                    certificate: l.certificate.map(CertificateId),
                    html: Some(html),
                })
                .collect();
            store::record_letters(
                c,
                iid,
                &Run {
                    id: &run,
                    format: format.code(),
                    letter_date: date,
                    by: &who,
                },
                &items,
            )?;
            let detail = format!(
                "{} {}通（{}）発行日 {} 版 {} 作成番号 {}{}",
                kind.title_ja(),
                n,
                format.label(),
                date,
                kind.template_version(),
                run,
                audit_note
            );
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: who.user,
                    actor: &who.label,
                    action: AuditAction::LettersGenerated,
                    target: audit_target.as_deref(),
                    detail: Some(&detail),
                },
            )?;
            Ok::<_, WebError>(())
        })
    })
    .await?;
    tracing::info!(letters = n, kind = kind.code(), "letters generated");
    Ok(Produced {
        body,
        format,
        letters: n,
        skipped,
        file_stem,
    })
}

fn audit_preview(
    c: &mut DbConn,
    user: &CurrentUser,
    target: Option<&str>,
    detail: &str,
) -> Result<(), WebError> {
    audit::record(
        c,
        &AuditEntry {
            insurer: Some(user.insurer_id),
            user: Some(user.user_id),
            actor: &user.email,
            action: AuditAction::LetterPreviewed,
            target,
            detail: Some(detail),
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One letter from a case page

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LetterQuery {
    /// pdf (default) | html
    pub format: Option<String>,
    /// Date printed on the letter, YYYY-MM-DD (default: today in Japan)
    pub date: Option<String>,
    /// 1: produce the letter although one of this kind was already produced for the notice
    /// (without it that is a 409 `already_produced`)
    pub again: Option<String>,
}

fn flag(v: &Option<String>) -> bool {
    matches!(blank(v), Some("1" | "true" | "on" | "yes"))
}

/// The 409 for a letter already produced for this notice.
fn already(kind: LetterKind, notice: &str, r: &LetterRecord) -> LetterError {
    LetterError::AlreadyProduced {
        title: kind.title_ja(),
        notice: notice.to_string(),
        at: jst(r.created_at),
        by: r.created_by_label.clone(),
        date: r.letter_date,
        letter: r.id,
    }
}

async fn one_letter(
    state: &AppState,
    user: &CurrentUser,
    id: NoticeDbId,
    kind: LetterKind,
    format: Format,
    date: NaiveDate,
    again: bool,
) -> Result<Produced, LetterError> {
    user.require(Role::Staff)?;
    let u = user.clone();
    let (sender, letter) = db(state, move |c| {
        let ins = insurer(c, &u)?;
        let sender = sender_of(c, &ins)?;
        let l = match prepare_one(c, &ins, id, kind, date) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        if !again {
            if let Some((r, _)) = store::last_letter(c, ins.id, id, kind.code())? {
                return Ok(Err(already(kind, &l.view.notice_id, &r)));
            }
        }
        Ok(Ok((sender, l)))
    })
    .await??;
    let target = letter.view.notice_id.clone();
    produce(
        state,
        user,
        Job {
            sender,
            letters: vec![letter],
            skipped: 0,
            format,
            date,
            audit_target: Some(target),
            audit_note: String::new(),
            file_stem: format!("letter-{}-{}", id.0, kind.slug()),
        },
    )
    .await
}

/// Generates one letter for a notice and records it (staff). `qualification-info` is refused with
/// 409 while the notice is not registered; `certificate` needs a recorded 資格確認書.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}/letters/{kind}",
    tag = "letters",
    params(
        ("id" = i64, Path, description = "Database id of the notice"),
        ("kind" = String, Path, description = "registration-period | qualification-info | certificate"),
        LetterQuery
    ),
    responses(
        (status = 200, description = "The letter: one A4 page (PDF with embedded Japanese font, or printable HTML)", content_type = "application/pdf"),
        (status = 400, description = "Bad format or date", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such notice for this insurer, or unknown kind", body = ErrorBody),
        (status = 409, description = "This letter cannot be produced for the notice (not_registered, already_registered, loss_notice, no_certificate), or it was produced before and `again=1` is missing (already_produced: the message says when)", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_letter(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, LetterError> {
    let (id, kind) = path.into_inner();
    let id = parse_notice(&id)?;
    let kind = parse_kind_path(&kind)?;
    let format = Format::parse(&q.format)?;
    let date = parse_day("date", &q.date)?.unwrap_or_else(crate::time::today_jst);
    Ok(
        one_letter(&state, &user, id, kind, format, date, flag(&q.again))
            .await?
            .response(),
    )
}

/// The preview page: the letter in a frame, what it says and why, and the buttons to generate it.
pub async fn letter_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let (id, kind) = path.into_inner();
    let id = parse_notice(&id)?;
    let kind = parse_kind_path(&kind)?;
    let date = parse_day("date", &q.date)?.unwrap_or_else(crate::time::today_jst);
    let u = user.clone();
    let (ins, sender, notice_id, prepared, last) = db(&state, move |c| {
        let ins = insurer(c, &u)?;
        let sender = sender_of(c, &ins)?;
        let n = notices::get(c, ins.id, id)?.ok_or(WebError::NotFound)?;
        let prepared = prepare_one(c, &ins, id, kind, date);
        let last = store::last_letter(c, ins.id, id, kind.code())?;
        Ok((ins, sender, n.row.notice_id, prepared, last))
    })
    .await?;
    let mut ctx = base_context(&user, &ins, "notices");
    ctx.insert("id", &id.0);
    ctx.insert("notice_id", &notice_id);
    ctx.insert("kind", kind.slug());
    ctx.insert("title", kind.title_ja());
    ctx.insert("date", &date.to_string());
    ctx.insert("missing", &sender.missing());
    ctx.insert("produced", &last.map(LetterRecordBody::from));
    match prepared {
        Ok(l) => {
            ctx.insert("refusal", &None::<String>);
            ctx.insert("variant_label", l.variant.label_ja());
            Ok(html(&state, "letters/page_letter.html", &ctx)?)
        }
        Err(LetterError::Refused(r)) => {
            ctx.insert("refusal", &Some(r.to_string()));
            ctx.insert("variant_label", "");
            let mut res = html(&state, "letters/page_letter.html", &ctx)?;
            *res.status_mut() = StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => page_error(&state, &user, e),
    }
}

/// The letter itself, marked 「見本」 (shown in the frame of the preview page; not recorded).
pub async fn letter_preview(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    q: web::Query<LetterQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let (id, kind) = path.into_inner();
    let id = parse_notice(&id)?;
    let kind = parse_kind_path(&kind)?;
    let date = parse_day("date", &q.date)?.unwrap_or_else(crate::time::today_jst);
    let u = user.clone();
    let tera = state.tera.clone();
    let r = db(&state, move |c| {
        let ins = insurer(c, &u)?;
        let sender = sender_of(c, &ins)?;
        let l = match prepare_one(c, &ins, id, kind, date) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        audit_preview(c, &u, Some(&l.view.notice_id), kind.title_ja())?;
        let title = format!("{}（見本）", kind.title_ja());
        Ok(Ok(render(&tera, &sender, &[l], Mode::Preview, &title)?))
    })
    .await?;
    match r {
        Ok(body) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)),
        Err(e) => page_error(&state, &user, e),
    }
}

#[derive(Deserialize)]
pub struct GenerateForm {
    format: Option<String>,
    date: Option<String>,
    /// Set by the confirmation step: produce it again.
    again: Option<String>,
}

/// The generate buttons of the preview page (staff).
pub async fn letter_submit(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    post: PageForm<GenerateForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let (id, kind) = path.into_inner();
    let id = parse_notice(&id)?;
    let kind = parse_kind_path(&kind)?;
    let format = Format::parse(&form.format)?;
    let date = parse_day("date", &form.date)?.unwrap_or_else(crate::time::today_jst);
    match one_letter(&state, &user, id, kind, format, date, flag(&form.again)).await {
        Ok(p) => Ok(p.response()),
        Err(LetterError::AlreadyProduced {
            title,
            notice,
            at,
            by,
            date: was,
            letter,
        }) => {
            // The confirmation step: say when it was produced, offer the past letter, and produce
            // it again only when asked.
            let ins = insurer_of_page(&state, &user).await?;
            let mut ctx = base_context(&user, &ins, "notices");
            ctx.insert("id", &id.0);
            ctx.insert("notice_id", &notice);
            ctx.insert("kind", kind.slug());
            ctx.insert("title", title);
            ctx.insert("at", &at);
            ctx.insert("by", &by);
            ctx.insert("was", &was.to_string());
            ctx.insert("letter", &letter);
            ctx.insert("date", &date.to_string());
            ctx.insert("format", format.code());
            let mut res = html(&state, "letters/page_confirm.html", &ctx)?;
            *res.status_mut() = StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => page_error(&state, &user, e),
    }
}

async fn insurer_of_page(state: &AppState, user: &CurrentUser) -> Result<Insurer, WebError> {
    let u = user.clone();
    db(state, move |c| insurer(c, &u)).await
}

// ---------------------------------------------------------------------------------------------
// 資格確認書

#[derive(Serialize, ToSchema)]
pub struct CertificateBody {
    pub id: i64,
    /// Database id of the notice
    pub notice: i64,
    pub issued_on: NaiveDate,
    /// Last day of validity (at most one month after `issued_on`)
    pub valid_until: NaiveDate,
    /// Who recorded it (an e-mail)
    pub issued_by: String,
    /// UTC
    pub created_at: NaiveDateTime,
}

impl From<CertificateRow> for CertificateBody {
    fn from(c: CertificateRow) -> Self {
        CertificateBody {
            id: c.id,
            notice: c.notice_id,
            issued_on: c.issued_on,
            valid_until: c.valid_until,
            issued_by: c.issued_by_label,
            created_at: c.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct IssueRequest {
    /// Issue date (default: today in Japan); not before the notice's receipt, not after today
    pub issued_on: Option<NaiveDate>,
    /// Last day of validity (default and maximum: one month after the issue date)
    pub valid_until: Option<NaiveDate>,
}

/// Checks and records a 資格確認書 with its audit entry, in one transaction.
async fn issue(
    state: &AppState,
    user: &CurrentUser,
    id: NoticeDbId,
    issued_on: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
) -> Result<CertificateRow, WebError> {
    user.require(Role::Staff)?;
    let today = crate::time::today_jst();
    let issued_on = issued_on.unwrap_or(today);
    let valid_until = valid_until.unwrap_or_else(|| latest_valid_until(issued_on));
    let iid = user.insurer_id;
    let who = by(user);
    db(state, move |c| {
        crate::store::write_tx(c, |c| {
            let s = store::letter_subjects(c, iid, &[id.0])?
                .pop()
                .ok_or(WebError::NotFound)?;
            check_issue(&s.facts, issued_on, valid_until, today)
                .map_err(|e| WebError::BadRequest(e.to_string()))?;
            let row = store::insert_certificate(c, iid, id, issued_on, valid_until, &who)?;
            let detail = format!("交付日 {issued_on} 有効期限 {valid_until}");
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: who.user,
                    actor: &who.label,
                    action: AuditAction::CertificateIssued,
                    target: Some(&s.facts.notice_id),
                    detail: Some(&detail),
                },
            )?;
            Ok(row)
        })
    })
    .await
}

/// Records a 資格確認書 issued ex officio for a notice (staff). Its validity may not exceed one
/// month from the issue date (SPEC §2.4).
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/certificates",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the notice")),
    request_body = IssueRequest,
    responses(
        (status = 201, description = "Recorded", body = CertificateBody),
        (status = 400, description = "Validity over one month, dates out of order, a loss notice, or already registered", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such notice for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_issue(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, WebError> {
    let id = parse_notice(&path)?;
    let b = body.into_inner();
    let row = issue(&state, &user, id, b.issued_on, b.valid_until).await?;
    Ok(HttpResponse::Created().json(CertificateBody::from(row)))
}

#[derive(Deserialize)]
pub struct IssueForm {
    issued_on: Option<String>,
    valid_until: Option<String>,
}

pub async fn issue_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<IssueForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_notice(&path)?;
    let result = async {
        let issued_on = parse_day("交付日", &form.issued_on)?;
        let valid_until = parse_day("有効期限", &form.valid_until)?;
        issue(&state, &user, id, issued_on, valid_until).await
    }
    .await;
    match result {
        Ok(_) => Ok(redirect(&format!("/notices/{}?issued=1#letters", id.0))),
        // A refusal is shown on the form itself, with the dates as typed.
        Err(WebError::BadRequest(message)) => Ok(super::cases::render_notice(
            &state,
            &user,
            id.0,
            None,
            Some(super::cases::CertificateFormError {
                message,
                issued_on: form.issued_on.clone().unwrap_or_default(),
                valid_until: form.valid_until.clone().unwrap_or_default(),
            }),
        )
        .await?),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// What a case shows: its 資格確認書, its letters, which letters can be produced

#[derive(Serialize, ToSchema)]
pub struct LetterRecordBody {
    pub id: i64,
    /// registration_period | qualification_info | certificate
    pub kind: String,
    pub title: String,
    pub variant: String,
    pub variant_label: String,
    pub template_version: String,
    /// pdf | html
    pub format: String,
    pub letter_date: NaiveDate,
    pub certificate: Option<i64>,
    /// Letters produced together share it
    pub run_id: String,
    pub created_by: String,
    /// UTC
    pub created_at: NaiveDateTime,
    /// `created_at` in Japan time
    pub created_at_jst: String,
    /// The letter as it was printed is kept: `GET /api/v1/letters/{id}` downloads it again
    pub kept: bool,
    /// 発送済: the day it was mailed (null: not recorded)
    pub sent_on: Option<NaiveDate>,
    /// Who recorded it as sent
    pub sent_by: Option<String>,
}

impl From<(LetterRecord, bool)> for LetterRecordBody {
    fn from((r, kept): (LetterRecord, bool)) -> Self {
        LetterRecordBody {
            kept,
            sent_on: r.sent_on,
            sent_by: r.sent_by_label.clone(),
            id: r.id,
            title: LetterKind::parse(&r.kind)
                .map(|k| k.title_ja())
                .unwrap_or("")
                .to_string(),
            variant_label: Variant::label_of(&r.variant).to_string(),
            kind: r.kind,
            variant: r.variant,
            template_version: r.template_version,
            format: r.format,
            letter_date: r.letter_date,
            certificate: r.certificate_id,
            run_id: r.run_id,
            created_by: r.created_by_label,
            created_at_jst: jst(r.created_at),
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CertStateBody {
    /// none | required | expired | issued | expiring | ended
    pub state: String,
    pub label: String,
    pub valid_until: Option<NaiveDate>,
}

impl From<CertMark> for CertStateBody {
    fn from(m: CertMark) -> Self {
        CertStateBody {
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: m.label.to_string(),
            valid_until: m.valid_until,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LetterOption {
    /// registration-period | qualification-info | certificate
    pub kind: String,
    pub title: String,
    pub available: bool,
    /// Why not, when not available
    pub reason: Option<String>,
    pub variant: Option<String>,
    pub variant_label: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NoticeLettersBody {
    /// The 資格確認書 state as of today
    pub certificate_state: CertStateBody,
    /// Newest first
    pub certificates: Vec<CertificateBody>,
    /// Letters produced for this notice, newest first
    pub letters: Vec<LetterRecordBody>,
    /// The three letters and whether each can be produced today
    pub options: Vec<LetterOption>,
}

async fn notice_letters(
    state: &AppState,
    user: &CurrentUser,
    id: NoticeDbId,
) -> Result<NoticeLettersBody, WebError> {
    let u = user.clone();
    db(state, move |c| {
        let ins = insurer(c, &u)?;
        let today = crate::time::today_jst();
        let n = notices::get(c, ins.id, id)?.ok_or(WebError::NotFound)?;
        let required = n.row.evaluate(&ins.rules, today).ex_officio_required;
        let certs = store::certificates_of(c, ins.id, id)?;
        let letters_done = store::letters_of(c, ins.id, id)?;
        let mut options = Vec::new();
        for kind in LetterKind::ALL {
            let (l, r, _) = prepare_many(c, &ins, &[id.0], kind, today)?;
            options.push(LetterOption {
                kind: kind.slug().into(),
                title: kind.title_ja().into(),
                available: !l.is_empty(),
                reason: r.first().map(|r| r.to_string()),
                variant: l.first().map(|l| l.variant.code().to_string()),
                variant_label: l.first().map(|l| l.variant.label_ja().to_string()),
            });
        }
        Ok(NoticeLettersBody {
            certificate_state: cert_mark(&certs, required, today).into(),
            certificates: certs.into_iter().map(CertificateBody::from).collect(),
            letters: letters_done
                .into_iter()
                .map(LetterRecordBody::from)
                .collect(),
            options,
        })
    })
    .await
}

/// The 資格確認書 and letters of a notice, and which letters can be produced today.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}/letters",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the notice")),
    responses(
        (status = 200, description = "Certificates, letters and options", body = NoticeLettersBody),
        (status = 404, description = "No such notice for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_notice_letters(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_notice(&path)?;
    Ok(HttpResponse::Ok().json(notice_letters(&state, &user, id).await?))
}

/// Adds the letters section of the case page to its context (called by the case page).
pub async fn case_context(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let body = notice_letters(state, user, NoticeDbId(id)).await?;
    let today = crate::time::today_jst();
    ctx.insert("letters", &body);
    ctx.insert("cert_today", &today.to_string());
    ctx.insert("sent_today", &today.to_string());
    ctx.insert("cert_latest", &latest_valid_until(today).to_string());
    Ok(())
}

/// Adds the 資格確認書 marks of a page of the case list (aligned with `items`) and the fields of
/// the bulk-letters form (the current filter) to the case list's context.
pub async fn list_context(
    state: &AppState,
    user: &CurrentUser,
    q: &NoticeQuery,
    items: &[NoticeItem],
    ctx: &mut tera::Context,
) -> Result<(), WebError> {
    let iid = user.insurer_id;
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let certs = db(state, move |c| Ok(store::certificates_for(c, iid, &ids)?)).await?;
    let marks: Vec<CertMark> = items
        .iter()
        .map(|i| {
            let cs = certs.get(&i.id).map(Vec::as_slice).unwrap_or(&[]);
            cert_mark(cs, i.ex_officio_card.required, i.as_of)
        })
        .collect();
    ctx.insert("cert_marks", &marks);
    ctx.insert("bulk_fields", &filter_fields(q));
    Ok(())
}

/// The filter of a case-list query as (name, value) pairs for hidden form fields (no paging).
fn filter_fields(q: &NoticeQuery) -> Vec<(String, String)> {
    let mut q = q.clone();
    q.page = None;
    q.per_page = None;
    let s = serde_urlencoded::to_string(&q).unwrap_or_default();
    serde_urlencoded::from_str::<Vec<(String, String)>>(&s).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Bulk runs from a case-list filter

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct BulkQuery {
    #[serde(flatten)]
    pub filter: NoticeQuery,
    /// registration-period | qualification-info | certificate
    pub kind: Option<String>,
    /// Date printed on the letters (default: today in Japan)
    pub date: Option<String>,
    /// 1: include the notices that already have this letter
    pub again: Option<String>,
}

/// The notices of a filter, in the list's order; refused above [`MAX_BULK`].
fn select_ids(c: &mut DbConn, ins: &Insurer, q: &NoticeQuery) -> Result<Vec<i64>, WebError> {
    let (f, _, _) = filter_of(c, ins, q)?;
    let total = notices::count(c, ins.id, &ins.rules, &f)?;
    if total > MAX_BULK {
        return Err(WebError::BadRequest(format!(
            "一度に作成できるのは {MAX_BULK} 通までです（該当 {total} 件）。受付月や事業所で絞り込んでください"
        )));
    }
    let mut ids = Vec::with_capacity(total as usize);
    loop {
        let rows = notices::rows(c, ins.id, &ins.rules, &f, ids.len() as i64, SELECT_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        ids.extend(rows.iter().map(|r| r.id));
        if ids.len() as i64 >= total {
            break;
        }
    }
    Ok(ids)
}

/// Refusal reasons with their counts, most frequent first.
fn tally(refused: &[Refusal]) -> Vec<(String, usize)> {
    let mut by: Vec<(&'static str, String, usize)> = Vec::new();
    for r in refused {
        let label = match r {
            Refusal::AlreadyProduced { .. } => {
                "作成済み（もう一度作成する場合は「作成済みの届書にも作成する」）"
            }
            Refusal::NotRegistered(_) => "データ登録が未完了（資格情報のお知らせは登録完了後）",
            Refusal::AlreadyRegistered { .. } => "データ登録が完了済み",
            Refusal::LossNotice { .. } => "資格喪失届",
            Refusal::NoCertificate(_) => "資格確認書の交付記録なし",
        };
        match by.iter_mut().find(|(c, _, _)| *c == r.code()) {
            Some(e) => e.2 += 1,
            None => by.push((r.code(), label.to_string(), 1)),
        }
    }
    by.sort_by_key(|e| std::cmp::Reverse(e.2));
    by.into_iter().map(|(_, l, n)| (l, n)).collect()
}

/// A bulk run ready to produce.
struct Bulk {
    insurer: Insurer,
    sender: Sender,
    letters: Vec<Letter>,
    refused: Vec<Refusal>,
    matched: usize,
    issued: usize,
}

/// Selects the notices of the filter and prepares their letters. With `issue_until`, a
/// 資格確認書 is first recorded (issued on `date`) for each notice that has none in force on that
/// day and may get one; those are recorded in the same transaction, with one audit entry.
fn prepare_bulk(
    c: &mut DbConn,
    user: &CurrentUser,
    q: &NoticeQuery,
    kind: LetterKind,
    date: NaiveDate,
    issue_until: Option<NaiveDate>,
    again: bool,
) -> Result<Bulk, WebError> {
    let ins = insurer(c, user)?;
    let sender = sender_of(c, &ins)?;
    let ids = select_ids(c, &ins, q)?;
    let mut issued = 0;
    if let (LetterKind::Certificate, Some(until)) = (kind, issue_until) {
        letters::check_validity(date, until).map_err(|e| WebError::BadRequest(e.to_string()))?;
        let today = crate::time::today_jst();
        let who = by(user);
        issued = crate::store::write_tx(c, |c| {
            let subjects = store::letter_subjects(c, ins.id, &ids)?;
            let certs = store::certificates_for(c, ins.id, &ids)?;
            let mut n = 0usize;
            for s in &subjects {
                let has_current = certs
                    .get(&s.facts.id)
                    .is_some_and(|cs| cs.iter().any(|c| c.valid_on(date)));
                if has_current || check_issue(&s.facts, date, until, today).is_err() {
                    continue;
                }
                store::insert_certificate(c, ins.id, NoticeDbId(s.facts.id), date, until, &who)?;
                n += 1;
            }
            if n > 0 {
                let detail = format!("一括 {n} 件 交付日 {date} 有効期限 {until}");
                audit::record(
                    c,
                    &AuditEntry {
                        insurer: Some(ins.id),
                        user: who.user,
                        actor: &who.label,
                        action: AuditAction::CertificateIssued,
                        target: None,
                        detail: Some(&detail),
                    },
                )?;
            }
            Ok::<_, WebError>(n)
        })?;
    }
    let (mut letters, mut refused, matched) = prepare_many(c, &ins, &ids, kind, date)?;
    if !again {
        // A notice that already has this letter is skipped unless asked for again.
        let done = store::notices_with_letter(c, ins.id, &ids, kind.code())?;
        letters.retain(|l| {
            let keep = !done.contains(&l.notice);
            if !keep {
                refused.push(Refusal::AlreadyProduced {
                    title: kind.title_ja(),
                    notice: l.view.notice_id.clone(),
                });
            }
            keep
        });
    }
    Ok(Bulk {
        insurer: ins,
        sender,
        letters,
        refused,
        matched,
        issued,
    })
}

fn filter_note(q: &NoticeQuery) -> String {
    let s = serde_urlencoded::to_string(filter_fields(q)).unwrap_or_default();
    if s.is_empty() {
        " 条件なし".into()
    } else {
        format!(" 条件 {s}")
    }
}

/// What a bulk run does besides printing.
#[derive(Clone, Copy, Debug)]
struct BulkOptions {
    /// Record 資格確認書 valid until this day first (certificate letters).
    issue_until: Option<NaiveDate>,
    /// Include the notices that already have this letter.
    again: bool,
}

async fn bulk_generate(
    state: &AppState,
    user: &CurrentUser,
    q: NoticeQuery,
    kind: LetterKind,
    format: Format,
    date: NaiveDate,
    opts: BulkOptions,
) -> Result<Produced, LetterError> {
    user.require(Role::Staff)?;
    let u = user.clone();
    let q2 = q.clone();
    let b = db(state, move |c| {
        prepare_bulk(c, &u, &q2, kind, date, opts.issue_until, opts.again)
    })
    .await?;
    let skipped = b.refused.len();
    let note = format!(
        "{} 対象外 {skipped} 件{}",
        filter_note(&q),
        if b.issued > 0 {
            format!(" 資格確認書 {} 件を記録", b.issued)
        } else {
            String::new()
        }
    );
    produce(
        state,
        user,
        Job {
            sender: b.sender,
            letters: b.letters,
            skipped,
            format,
            date,
            audit_target: None,
            audit_note: note,
            file_stem: format!("letters-{}-{date}", kind.slug()),
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct BulkRequest {
    /// registration-period | qualification-info | certificate
    pub kind: String,
    /// pdf (default) | html
    pub format: Option<String>,
    /// Date printed on the letters (default: today in Japan)
    pub date: Option<NaiveDate>,
    /// For `certificate`: first record a 資格確認書 (issued on `date`, valid until this day, at most
    /// one month) for every selected notice that has none in force and may get one
    pub issue_valid_until: Option<NaiveDate>,
    /// true: also produce the letter for notices that already have one of this kind (by default
    /// they are skipped and counted in `X-Letters-Skipped`)
    #[serde(default)]
    pub again: bool,
    /// The case-list filter (the query parameters of `/api/v1/notices`, as strings)
    #[schema(value_type = Object)]
    #[serde(default)]
    pub filter: NoticeQuery,
}

/// Generates the letters of `kind` for every notice of a case-list filter (at most 2,000): one
/// PDF (one letter per page) or one printable HTML document. Notices the letter does not apply to
/// are skipped (counted in `X-Letters-Skipped`); each letter produced is recorded.
#[utoipa::path(
    post,
    path = "/api/v1/letters/bulk",
    tag = "letters",
    request_body = BulkRequest,
    responses(
        (status = 200, description = "The letters; X-Letters-Count and X-Letters-Skipped give the counts", content_type = "application/pdf"),
        (status = 400, description = "Bad filter, kind, format, date, or more than 2,000 notices", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 409, description = "No letter can be produced for the selected notices", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_bulk(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<BulkRequest>,
) -> Result<HttpResponse, LetterError> {
    let b = body.into_inner();
    let kind = parse_kind_field(&Some(b.kind))?;
    let format = Format::parse(&b.format)?;
    let date = b.date.unwrap_or_else(crate::time::today_jst);
    Ok(bulk_generate(
        &state,
        &user,
        b.filter,
        kind,
        format,
        date,
        BulkOptions {
            issue_until: b.issue_valid_until,
            again: b.again,
        },
    )
    .await?
    .response())
}

/// The bulk preview page: what the filter selects, how many letters that makes and why the others
/// are skipped, the first letters in a frame, and the generate form.
pub async fn bulk_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<BulkQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let kind = match blank(&q.kind) {
        None => LetterKind::RegistrationPeriod,
        Some(_) => parse_kind_field(&q.kind)?,
    };
    let date = parse_day("date", &q.date)?.unwrap_or_else(crate::time::today_jst);
    let u = user.clone();
    let filter = q.filter.clone();
    let again = flag(&q.again);
    let b = db(&state, move |c| {
        prepare_bulk(c, &u, &filter, kind, date, None, again)
    })
    .await?;
    let mut ctx = base_context(&user, &b.insurer, "notices");
    let fields = filter_fields(&q.filter);
    let mut preview_q = fields.clone();
    preview_q.push(("kind".into(), kind.slug().into()));
    preview_q.push(("date".into(), date.to_string()));
    if again {
        preview_q.push(("again".into(), "1".into()));
    }
    ctx.insert("again", &again);
    ctx.insert("fields", &fields);
    ctx.insert(
        "list_qs",
        &serde_urlencoded::to_string(&fields).unwrap_or_default(),
    );
    ctx.insert(
        "preview_qs",
        &serde_urlencoded::to_string(&preview_q).unwrap_or_default(),
    );
    ctx.insert("kind", kind.slug());
    ctx.insert("title", kind.title_ja());
    ctx.insert(
        "kinds",
        &LetterKind::ALL
            .iter()
            .map(|k| (k.slug(), k.title_ja()))
            .collect::<Vec<_>>(),
    );
    ctx.insert("date", &date.to_string());
    ctx.insert("matched", &b.matched);
    ctx.insert("count", &b.letters.len());
    ctx.insert("skipped", &tally(&b.refused));
    ctx.insert("missing", &b.sender.missing());
    ctx.insert("max_bulk", &MAX_BULK);
    ctx.insert("latest", &latest_valid_until(date).to_string());
    let mut variants: Vec<(&'static str, usize)> = Vec::new();
    for l in &b.letters {
        match variants
            .iter_mut()
            .find(|(v, _)| *v == l.variant.label_ja())
        {
            Some(e) => e.1 += 1,
            None => variants.push((l.variant.label_ja(), 1)),
        }
    }
    ctx.insert("variants", &variants);
    Ok(html(&state, "letters/page_bulk.html", &ctx)?)
}

/// The first letters of a bulk run, marked 「見本」 (not recorded).
pub async fn bulk_preview(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<BulkQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let q = q.into_inner();
    let kind = parse_kind_field(&q.kind)?;
    let date = parse_day("date", &q.date)?.unwrap_or_else(crate::time::today_jst);
    let u = user.clone();
    let tera = state.tera.clone();
    let body = db(&state, move |c| {
        let again = flag(&q.again);
        let mut b = prepare_bulk(c, &u, &q.filter, kind, date, None, again)?;
        if b.letters.is_empty() {
            return Ok(None);
        }
        b.letters.truncate(BULK_PREVIEW);
        audit_preview(
            c,
            &u,
            None,
            &format!("{}（一括の見本 {}通）", kind.title_ja(), b.letters.len()),
        )?;
        let title = format!("{}（見本）", kind.title_ja());
        Ok(Some(render(
            &tera,
            &b.sender,
            &b.letters,
            Mode::Preview,
            &title,
        )?))
    })
    .await?;
    let body = body.unwrap_or_else(|| {
        "<!DOCTYPE html><html lang=\"ja\"><meta charset=\"utf-8\"><body><p>作成できるお知らせがありません。</p></body></html>".into()
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(flatten)]
    filter: NoticeQuery,
    kind: Option<String>,
    format: Option<String>,
    date: Option<String>,
    /// Ticked: record a 資格確認書 for notices without one in force (certificate letters only).
    issue: Option<String>,
    issue_valid_until: Option<String>,
    /// Ticked: include the notices that already have this letter.
    again: Option<String>,
}

pub async fn bulk_submit(
    state: web::Data<AppState>,
    post: PageForm<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let kind = parse_kind_field(&form.kind)?;
    let format = Format::parse(&form.format)?;
    let date = parse_day("date", &form.date)?.unwrap_or_else(crate::time::today_jst);
    let issue_until = if form.issue.is_some() {
        Some(
            parse_day("有効期限", &form.issue_valid_until)?
                .unwrap_or_else(|| latest_valid_until(date)),
        )
    } else {
        None
    };
    let again = flag(&form.again);
    match bulk_generate(
        &state,
        &user,
        form.filter,
        kind,
        format,
        date,
        BulkOptions { issue_until, again },
    )
    .await
    {
        Ok(p) => Ok(p.response()),
        Err(e) => page_error(&state, &user, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The letters page: recent runs and the sender fields

#[derive(Serialize)]
struct RunView {
    title: &'static str,
    format: String,
    letters: i64,
    letter_date: NaiveDate,
    created_by: String,
    created_at_jst: String,
}

async fn render_index(
    state: &AppState,
    user: &CurrentUser,
    fields: Option<SenderFields>,
    saved: bool,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let u = user.clone();
    let (ins, stored, runs, counts) = db(state, move |c| {
        let ins = insurer(c, &u)?;
        let stored = store::sender_fields(c, ins.id)?;
        let runs = store::recent_runs(c, ins.id, 50)?;
        let today = crate::time::today_jst();
        let from = today
            .checked_sub_months(chrono::Months::new(12))
            .unwrap_or(today);
        let counts = store::counts(c, ins.id, from, today)?;
        Ok((ins, stored, runs, counts))
    })
    .await?;
    let mut ctx = base_context(user, &ins, "letters");
    let f = fields.unwrap_or(stored);
    ctx.insert("sender", &f);
    ctx.insert("saved", &saved);
    ctx.insert("error", &error);
    ctx.insert("counts", &counts);
    ctx.insert(
        "runs",
        &runs
            .into_iter()
            .map(|r| RunView {
                title: LetterKind::parse(&r.kind)
                    .map(|k| k.title_ja())
                    .unwrap_or(""),
                format: r.format,
                letters: r.letters,
                letter_date: r.letter_date,
                created_by: r.created_by_label,
                created_at_jst: jst(r.created_at),
            })
            .collect::<Vec<_>>(),
    );
    let sample = Sender::new(&ins.name, ins.number.as_str(), ins.kind, &f);
    ctx.insert("missing", &sample.missing());
    ctx.insert(
        "default_issuer_word",
        crate::letters::default_issuer_word(ins.kind),
    );
    html(state, "letters/page_index.html", &ctx)
}

#[derive(Deserialize)]
pub struct IndexQuery {
    saved: Option<String>,
}

pub async fn index_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(render_index(&state, &user.0, None, q.saved.is_some(), None).await?)
}

#[derive(Deserialize)]
pub struct SenderForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    seal_text: String,
    #[serde(default)]
    issuer_word: String,
    #[serde(default)]
    representative: String,
}

fn opt_text(s: &str, max: usize, field: &str) -> Result<Option<String>, String> {
    let t = s.trim().replace("\r\n", "\n");
    if t.chars().count() > max {
        return Err(format!("{field}は{max}文字以内で入力してください"));
    }
    Ok(Some(t).filter(|t| !t.is_empty()))
}

/// Saves the sender fields (admin), audited.
pub async fn sender_submit(
    state: web::Data<AppState>,
    post: PageForm<SenderForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    let parsed = (|| -> Result<SenderFields, String> {
        Ok(SenderFields {
            address: opt_text(&form.address, 200, "所在地")?,
            contact: opt_text(&form.contact, 200, "お問い合わせ先")?,
            seal_text: opt_text(&form.seal_text, 40, "公印欄の文言")?,
            issuer_word: opt_text(&form.issuer_word, 20, "自称")?,
            representative: opt_text(&form.representative, 60, "代表者の役職・氏名")?,
        })
    })();
    let f = match parsed {
        Ok(f) => f,
        Err(msg) => {
            let raw = SenderFields {
                address: Some(form.address),
                contact: Some(form.contact),
                seal_text: Some(form.seal_text),
                issuer_word: Some(form.issuer_word),
                representative: Some(form.representative),
            };
            let mut res = render_index(&state, &user, Some(raw), false, Some(msg)).await?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(res);
        }
    };
    let iid = user.insurer_id;
    let who = by(&user);
    db(&state, move |c| {
        crate::store::write_tx(c, |c| {
            store::update_sender_fields(c, iid, &f)?;
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: who.user,
                    actor: &who.label,
                    action: AuditAction::LetterSenderChanged,
                    target: None,
                    detail: None,
                },
            )?;
            Ok::<_, WebError>(())
        })
    })
    .await?;
    Ok(redirect("/letters?saved=1"))
}

// ---------------------------------------------------------------------------------------------
// A letter produced before: download it again as it was, mark it 発送済

fn parse_letter(s: &str) -> Result<i64, WebError> {
    s.trim().parse::<i64>().map_err(|_| WebError::NotFound)
}

/// The kept document of a letter of this insurer, printed again for PDF (staff; audited).
async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    format: Format,
) -> Result<Produced, LetterError> {
    user.require(Role::Staff)?;
    let u = user.clone();
    let (rec, html) = db(state, move |c| {
        let Some((rec, html)) = store::letter_with_html(c, u.insurer_id, id)? else {
            return Err(WebError::NotFound);
        };
        let notice = notices::get(c, u.insurer_id, NoticeDbId(rec.notice_id))?
            .map(|n| n.row.notice_id)
            .unwrap_or_default();
        if html.is_some() {
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(u.insurer_id),
                    user: Some(u.user_id),
                    actor: &u.email,
                    action: AuditAction::LetterDownloaded,
                    target: Some(&notice),
                    detail: Some(&format!(
                        "作成番号 {} の文書（文書番号 {}、{}）を再ダウンロード",
                        rec.run_id,
                        rec.id,
                        format.label()
                    )),
                },
            )?;
        }
        Ok((rec, html))
    })
    .await?;
    let html = html.ok_or_else(|| LetterError::NotKept(jst(rec.created_at)))?;
    let body = match format {
        Format::Html => html.into_bytes(),
        Format::Pdf => web::block(move || Printer::from_env().print(&html, 1))
            .await
            .map_err(WebError::from)??,
    };
    Ok(Produced {
        body,
        format,
        letters: 1,
        skipped: 0,
        file_stem: format!("letter-{}-{}-{}", rec.notice_id, rec.kind, rec.id),
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// pdf (default) | html
    pub format: Option<String>,
}

/// A letter produced before, exactly as it was (staff): the kept HTML document, or a PDF printed
/// from it. 409 `not_kept` for letters produced before their wording was kept.
#[utoipa::path(
    get,
    path = "/api/v1/letters/{id}",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the letter (`letters[].id` of /api/v1/notices/{id}/letters)"), DownloadQuery),
    responses(
        (status = 200, description = "The letter as it was produced", content_type = "application/pdf"),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such letter for this insurer", body = ErrorBody),
        (status = 409, description = "The letter's wording was not kept (produced before it was)", body = ErrorBody),
        (status = 503, description = "PDF printing unavailable (Chromium missing)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_download(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, LetterError> {
    let id = parse_letter(&path)?;
    let format = Format::parse(&q.format)?;
    Ok(download(&state, &user, id, format).await?.response())
}

/// The download links of the case page.
pub async fn download_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = parse_letter(&path)?;
    let format = Format::parse(&q.format)?;
    match download(&state, &user, id, format).await {
        Ok(p) => Ok(p.response()),
        Err(e) => page_error(&state, &user, e),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SentRequest {
    /// The day the letter was mailed (default: today in Japan); not in the future, not before the
    /// letter was produced
    pub sent_on: Option<NaiveDate>,
}

/// Records a letter as 発送済 (staff), audited; 409 when it already is.
async fn mark_sent(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    sent_on: Option<NaiveDate>,
) -> Result<LetterRecordBody, LetterError> {
    user.require(Role::Staff)?;
    let today = crate::time::today_jst();
    let sent_on = sent_on.unwrap_or(today);
    let who = by(user);
    let iid = user.insurer_id;
    db(state, move |c| {
        crate::store::write_tx(c, |c| {
            let Some((rec, kept)) =
                store::letter_with_html(c, iid, id)?.map(|(r, h)| (r, h.is_some()))
            else {
                return Err(WebError::NotFound);
            };
            if let Some(on) = rec.sent_on {
                return Ok(Err(LetterError::AlreadySent {
                    on,
                    by: rec.sent_by_label.clone().unwrap_or_default(),
                }));
            }
            let produced_on =
                chrono::TimeZone::from_utc_datetime(&chrono_tz::Asia::Tokyo, &rec.created_at)
                    .date_naive();
            if sent_on > today {
                return Err(WebError::BadRequest(format!(
                    "発送日（{sent_on}）が今日より後です"
                )));
            }
            if sent_on < produced_on {
                return Err(WebError::BadRequest(format!(
                    "発送日（{sent_on}）が文書の作成日（{produced_on}）より前です"
                )));
            }
            if !store::mark_sent(c, iid, id, sent_on, &who)? {
                return Err(WebError::NotFound);
            }
            let notice = notices::get(c, iid, NoticeDbId(rec.notice_id))?
                .map(|n| n.row.notice_id)
                .unwrap_or_default();
            let title = LetterKind::parse(&rec.kind)
                .map(|k| k.title_ja())
                .unwrap_or("");
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: who.user,
                    actor: &who.label,
                    action: AuditAction::LetterSent,
                    target: Some(&notice),
                    detail: Some(&format!(
                        "{title}（文書番号 {}、発行日 {}）を {sent_on} に発送済",
                        rec.id, rec.letter_date
                    )),
                },
            )?;
            let mut body = LetterRecordBody::from((rec, kept));
            body.sent_on = Some(sent_on);
            body.sent_by = Some(who.label.clone());
            Ok(Ok(body))
        })
    })
    .await?
}

/// Records that a letter was mailed (発送済: the day and who), audited. Needs the staff role.
#[utoipa::path(
    post,
    path = "/api/v1/letters/{id}/sent",
    tag = "letters",
    params(("id" = i64, Path, description = "Database id of the letter")),
    request_body = SentRequest,
    responses(
        (status = 200, description = "Recorded; the letter", body = LetterRecordBody),
        (status = 400, description = "The day is in the future or before the letter was produced", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such letter for this insurer", body = ErrorBody),
        (status = 409, description = "Already recorded as sent (already_sent)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_sent(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<SentRequest>,
) -> Result<HttpResponse, LetterError> {
    let id = parse_letter(&path)?;
    let body = mark_sent(&state, &user, id, body.into_inner().sent_on).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
pub struct SentForm {
    sent_on: Option<String>,
}

/// The 発送済 button of the case page.
pub async fn sent_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<SentForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_letter(&path)?;
    let sent_on = parse_day("発送日", &form.sent_on)?;
    match mark_sent(&state, &user, id, sent_on).await {
        Ok(b) => {
            let u = user.clone();
            let notice = db(&state, move |c| {
                Ok(store::letter_with_html(c, u.insurer_id, b.id)?.map(|(r, _)| r.notice_id))
            })
            .await?
            .ok_or(WebError::NotFound)?;
            Ok(redirect(&format!("/notices/{notice}?sent=1#letters")))
        }
        Err(e) => page_error(&state, &user, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Routes and OpenAPI

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/letters", web::get().to(index_page))
        .route("/letters/sender", web::post().to(sender_submit))
        .route("/letters/bulk", web::get().to(bulk_page))
        .route("/letters/bulk", web::post().to(bulk_submit))
        .route("/letters/bulk/preview", web::get().to(bulk_preview))
        .route("/notices/{id}/certificates", web::post().to(issue_submit))
        .route("/notices/{id}/letters/{kind}", web::get().to(letter_page))
        .route(
            "/notices/{id}/letters/{kind}",
            web::post().to(letter_submit),
        )
        .route(
            "/notices/{id}/letters/{kind}/preview",
            web::get().to(letter_preview),
        )
        .route(
            "/api/v1/notices/{id}/letters",
            web::get().to(api_notice_letters),
        )
        .route(
            "/api/v1/notices/{id}/letters/{kind}",
            web::get().to(api_letter),
        )
        .service(
            web::resource("/api/v1/notices/{id}/certificates")
                .app_data(json_config())
                .route(web::post().to(api_issue)),
        )
        .service(
            web::resource("/api/v1/letters/bulk")
                .app_data(json_config())
                .route(web::post().to(api_bulk)),
        )
        .route("/letters/{id}/download", web::get().to(download_page))
        .route("/letters/{id}/sent", web::post().to(sent_submit))
        .route("/api/v1/letters/{id}", web::get().to(api_download))
        .service(
            web::resource("/api/v1/letters/{id}/sent")
                .app_data(json_config())
                .route(web::post().to(api_sent)),
        );
}

#[derive(OpenApi)]
#[openapi(paths(
    api_letter,
    api_notice_letters,
    api_issue,
    api_bulk,
    api_download,
    api_sent
))]
struct LettersApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    LettersApi::openapi()
}
