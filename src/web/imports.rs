//! 取込: uploading notices and registration results (page and API), the batch history and each
//! batch's rejected rows.
//!
//! An upload is streamed to a temporary file (memory stays flat for any size) and then loaded by
//! the blocking importer on the thread pool. The size is capped; a bigger file is refused while it
//! arrives, before it fills the disk.
use super::auth::{CurrentUser, Via, CSRF_HEADER};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, insurer_of, redirect, PageError, PageUser};
use super::AppState;

use super::pages::{CsrfOnly, PageForm};
use super::params::{page_args, page_count};
use crate::app::imports::{self as app, ImportsError};
use crate::app::Acting;
use crate::store::batches::{self, BatchId, BatchRow};
use crate::store::import::{self, FileKind, ImportError, ImportSummary, Mode};
use crate::store::profiles::{self, StoredProfile};
use crate::store::users::Role;
use crate::time::{jst_minute as jst, today_jst};
use actix_multipart::form::{Limits, MultipartCollect, MultipartForm, MultipartFormConfig, State};
use actix_multipart::{Field, MultipartError};
use actix_web::body::{BodyStream, MessageBody};
use actix_web::http::{header, StatusCode};
use actix_web::{guard, web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Largest accepted upload. A year of notices of a large society is well under this.
pub const MAX_UPLOAD_MB: u64 = 200;
const MAX_UPLOAD_BYTES: u64 = MAX_UPLOAD_MB * 1024 * 1024;
/// Upload bytes gathered in memory before each write to the temporary file.
const SPOOL_BUFFER: usize = 1 << 20;
/// Rejected rows shown on a batch page and in the API (all of them are in the CSV).
const REJECTS_SHOWN: i64 = 1000;
const DEFAULT_PER_PAGE: i64 = 50;
const MAX_PER_PAGE: i64 = 500;

fn parse_id(s: &str) -> Result<BatchId, WebError> {
    s.parse::<i64>()
        .map(BatchId)
        .map_err(|_| WebError::NotFound)
}

fn kind_of(code: &str) -> Option<FileKind> {
    match code.trim() {
        "notices" => Some(FileKind::Notices),
        "registrations" => Some(FileKind::Registrations),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Response bodies

/// What one import did.
#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub batch_id: i64,
    /// notices | registrations
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Registration results whose notice is not loaded yet (kept and linked later).
    pub without_notice: u64,
    /// The first rejected rows; all of them: GET /api/v1/imports/{id}/rejects.csv
    pub rejects: Vec<RejectBody>,
    /// 「N 件新規、N 件変更、N 件変更なし、N 行却下（N 行読込）」
    pub message: String,
}

impl ImportResult {
    fn new(kind: FileKind, s: ImportSummary) -> ImportResult {
        ImportResult {
            message: s.line_ja(),
            batch_id: s.batch_id,
            kind: kind.code().into(),
            file_name: s.file_name,
            sha256: s.sha256,
            rows_read: s.rows_read,
            accepted: s.accepted,
            rejected: s.rejected,
            new: s.new,
            changed: s.changed,
            unchanged: s.unchanged,
            without_notice: s.without_notice,
            rejects: s
                .rejects
                .into_iter()
                .map(|r| RejectBody {
                    line: r.line as i64,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RejectBody {
    /// Line of the file (the header is line 1)
    pub line: i64,
    pub reason: String,
}

/// A stored import batch.
#[derive(Serialize, ToSchema)]
pub struct BatchBody {
    pub id: i64,
    /// notices | registrations
    pub kind: String,
    /// 届書 | 登録結果
    pub kind_label: String,
    pub file_name: String,
    pub sha256: String,
    /// running | completed
    pub status: String,
    pub status_label: String,
    pub rows_read: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub new: i64,
    pub changed: i64,
    pub unchanged: i64,
    /// Who loaded it (an e-mail, or "cli")
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// created_at in Japan time, for display
    pub created_at_jst: String,
}

impl From<BatchRow> for BatchBody {
    fn from(b: BatchRow) -> Self {
        let kind = kind_of(&b.file_kind);
        BatchBody {
            id: b.id,
            kind_label: kind.map(|k| k.label_ja()).unwrap_or("").into(),
            kind: b.file_kind,
            file_name: b.file_name,
            sha256: b.sha256,
            status_label: match b.status.as_str() {
                "completed" => "完了",
                "running" => "処理中",
                _ => "不明",
            }
            .into(),
            status: b.status,
            rows_read: b.rows_read,
            accepted: b.rows_accepted,
            rejected: b.rows_rejected,
            new: b.rows_new,
            changed: b.rows_changed,
            unchanged: b.rows_unchanged,
            created_by: b.created_by_label,
            created_at_jst: jst(b.created_at),
            created_at: b.created_at.and_utc(),
            finished_at: b.finished_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BatchList {
    pub items: Vec<BatchBody>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BatchDetail {
    pub batch: BatchBody,
    /// The first 1000 rejected rows in line order (all of them: rejects.csv)
    pub rejects: Vec<RejectBody>,
}

// ---------------------------------------------------------------------------------------------
// Upload errors

/// Why an upload failed. Import failures (the file cannot be used) are 422, an oversized file 413;
/// the JSON body has the same shape as every other API error.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Web(#[from] WebError),
    #[error(
        "ファイルが大きすぎます（上限 {MAX_UPLOAD_MB} MB）。ファイルを分けて取り込んでください"
    )]
    TooLarge,
    #[error("{0}")]
    Rejected(String),
}

impl UploadError {
    fn code(&self) -> &'static str {
        match self {
            UploadError::Web(e) => e.code(),
            UploadError::TooLarge => "payload_too_large",
            UploadError::Rejected(_) => "import_failed",
        }
    }
}

impl ResponseError for UploadError {
    fn status_code(&self) -> StatusCode {
        match self {
            UploadError::Web(e) => e.status_code(),
            UploadError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            UploadError::Web(e) => e.error_response(),
            other => HttpResponse::build(other.status_code()).json(serde_json::json!(
                {"error": {"code": other.code(), "message": other.to_string()}}
            )),
        }
    }
}

impl From<ImportError> for UploadError {
    fn from(e: ImportError) -> Self {
        match e {
            // Database text never reaches the client.
            ImportError::Db(e) => UploadError::Web(WebError::Internal(e.into())),
            other => UploadError::Rejected(other.to_string()),
        }
    }
}

/// A refusal raised while a multipart field streams in; carried through actix-multipart's error
/// as the field's source and turned back into an [`UploadError`].
#[derive(Clone, Debug, thiserror::Error)]
enum FieldRefusal {
    #[error("csrf")]
    Csrf,
    #[error("too large")]
    TooLarge,
    #[error("{0}")]
    Bad(String),
    #[error("{0}")]
    Io(String),
}

impl ResponseError for FieldRefusal {}

impl From<FieldRefusal> for UploadError {
    fn from(r: FieldRefusal) -> Self {
        match r {
            FieldRefusal::Csrf => UploadError::Web(WebError::Csrf),
            FieldRefusal::TooLarge => UploadError::TooLarge,
            FieldRefusal::Bad(m) => UploadError::Web(WebError::BadRequest(m)),
            FieldRefusal::Io(m) => UploadError::Web(WebError::Internal(anyhow::anyhow!(m))),
        }
    }
}

fn refuse(name: &str, r: FieldRefusal) -> MultipartError {
    MultipartError::Field {
        name: name.to_string(),
        source: actix_web::Error::from(r),
    }
}

fn from_multipart(e: &MultipartError) -> UploadError {
    match e {
        MultipartError::Field { source, .. } => match source.as_error::<FieldRefusal>() {
            Some(r) => r.clone().into(),
            None => WebError::BadRequest(format!(
                "アップロードされたフォームを読み取れません（{source}）"
            ))
            .into(),
        },
        MultipartError::Payload(actix_web::error::PayloadError::Overflow) => UploadError::TooLarge,
        other => WebError::BadRequest(format!(
            "アップロードされたフォームを読み取れません（{other}）"
        ))
        .into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Receiving the file

/// The uploaded file on disk; removed when dropped (after the import, or on any error).
pub(super) struct TempUpload(PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %self.0.display(), "temporary upload not removed");
            }
        }
    }
}

pub(super) struct Received {
    file: TempUpload,
    pub file_name: String,
    pub size: u64,
}

impl Received {
    /// The spooled file's bytes.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.file.0)
    }
}

fn create_temp() -> std::io::Result<(std::fs::File, TempUpload)> {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    let path = std::env::temp_dir().join(format!("regwatch-upload-{}.csv", hex::encode(b)));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Personal data: readable by the service only.
        opts.mode(0o600);
    }
    let f = opts.open(&path)?;
    Ok((f, TempUpload(path)))
}

/// Writes a body stream to a temporary file, refusing it once it passes the size cap. Writes
/// happen on the blocking pool in 1 MiB steps.
async fn spool<B>(body: B, file_name: String, max: u64) -> Result<Received, FieldRefusal>
where
    B: MessageBody,
{
    let io = |e: std::io::Error| FieldRefusal::Io(format!("一時ファイルに書き込めません: {e}"));
    let (file, temp) = web::block(create_temp)
        .await
        .map_err(|e| FieldRefusal::Io(e.to_string()))?
        .map_err(io)?;
    let mut file = Some(file);
    let mut buf: Vec<u8> = Vec::with_capacity(SPOOL_BUFFER);
    let mut size = 0u64;
    let mut body = Box::pin(body);
    loop {
        let chunk = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
        let done = match chunk {
            Some(Ok(bytes)) => {
                size += bytes.len() as u64;
                if size > max {
                    return Err(FieldRefusal::TooLarge);
                }
                buf.extend_from_slice(&bytes);
                false
            }
            Some(Err(e)) => {
                let e: Box<dyn std::error::Error> = e.into();
                return Err(FieldRefusal::Bad(format!(
                    "アップロードが途中で切れました。もう一度お試しください（{e}）"
                )));
            }
            None => true,
        };
        if buf.len() >= SPOOL_BUFFER || (done && !buf.is_empty()) {
            let mut f = file.take().expect("the file is put back after every write");
            let b = std::mem::take(&mut buf);
            let (f, mut b) = web::block(move || f.write_all(&b).map(|()| (f, b)))
                .await
                .map_err(|e| FieldRefusal::Io(e.to_string()))?
                .map_err(io)?;
            b.clear();
            buf = b;
            file = Some(f);
        }
        if done {
            break;
        }
    }
    Ok(Received {
        file: temp,
        file_name,
        size,
    })
}

/// The file name a client gave, without any directory part (old browsers send the full path).
fn clean_file_name(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or("").trim();
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if base.is_empty() {
        "upload.csv".into()
    } else {
        base
    }
}

/// What the upload handler knows before the body is read: who is uploading and whether the CSRF
/// header already proved the request came from our page.
#[derive(Clone)]
struct UploadGate {
    user: CurrentUser,
    header_ok: bool,
}

/// The fields of the upload form: `csrf`, `kind`, `profile`, `received_on` and `part` (small
/// texts), then `file`.
struct UploadParts {
    csrf: Option<String>,
    fields: UploadFields,
    file: Option<Received>,
}

/// The small fields that come with an upload (form fields, or the API's query).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct UploadFields {
    /// notices | registrations (the page's form; the API has it in the path)
    #[serde(default)]
    #[param(ignore)]
    pub kind: Option<String>,
    /// An import profile of the insurer, by name, for a file in its own layout (SPEC §3.1)
    #[serde(default)]
    pub profile: Option<String>,
    /// e-Gov files: the day the file was received (YYYY-MM-DD; default today in Japan)
    #[serde(default)]
    pub received_on: Option<String>,
}

async fn small_text(mut field: Field) -> Result<String, MultipartError> {
    let name = field.name().unwrap_or("").to_string();
    match field.bytes(1024).await {
        Ok(Ok(b)) => Ok(String::from_utf8_lossy(&b).trim().to_string()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(refuse(
            &name,
            FieldRefusal::Bad(format!("フォームの項目 {name} が長すぎます")),
        )),
    }
}

impl MultipartCollect for UploadParts {
    fn limit(_field_name: &str) -> Option<usize> {
        None
    }

    fn handle_field<'t>(
        req: &'t HttpRequest,
        mut field: Field,
        _limits: &'t mut Limits,
        state: &'t mut State,
    ) -> Pin<Box<dyn Future<Output = Result<(), MultipartError>> + 't>> {
        Box::pin(async move {
            let name = field.name().unwrap_or("").to_string();
            match name.as_str() {
                "csrf" | "kind" | "profile" | "received_on" | "part" => {
                    let v = small_text(field).await?;
                    state.insert(name, Box::new(v));
                }
                "file" => {
                    let gate = req
                        .extensions()
                        .get::<UploadGate>()
                        .cloned()
                        .ok_or_else(|| {
                            refuse(&name, FieldRefusal::Io("upload gate missing".into()))
                        })?;
                    // The token must arrive before any byte of the file is written.
                    if !gate.header_ok {
                        let token = state
                            .get("csrf")
                            .and_then(|v| v.downcast_ref::<String>())
                            .map(String::as_str)
                            .unwrap_or("");
                        if gate.user.check_csrf(token).is_err() {
                            return Err(refuse(&name, FieldRefusal::Csrf));
                        }
                    }
                    if state.contains_key("file") {
                        return Err(refuse(
                            &name,
                            FieldRefusal::Bad("ファイルは1つずつ取り込んでください".into()),
                        ));
                    }
                    let file_name = clean_file_name(
                        field.content_disposition().and_then(|cd| cd.get_filename()),
                    );
                    let got = spool(BodyStream::new(field), file_name, MAX_UPLOAD_BYTES)
                        .await
                        .map_err(|r| refuse(&name, r))?;
                    state.insert(name, Box::new(got));
                }
                _ => {
                    // Unknown fields are skipped (read and dropped, up to a small size).
                    let _ = field.bytes(64 * 1024).await;
                }
            }
            Ok(())
        })
    }

    fn from_state(mut state: State) -> Result<Self, MultipartError> {
        let mut text = |k: &str| {
            state
                .remove(k)
                .and_then(|v| v.downcast::<String>().ok())
                .map(|b| *b)
        };
        let csrf = text("csrf");
        let fields = UploadFields {
            kind: text("kind").or_else(|| text("part")),
            profile: text("profile").filter(|p| !p.is_empty()),
            received_on: text("received_on").filter(|p| !p.is_empty()),
        };
        let file = state
            .remove("file")
            .and_then(|v| v.downcast::<Received>().ok())
            .map(|b| *b);
        Ok(UploadParts { csrf, fields, file })
    }
}

pub(super) fn upload_config() -> MultipartFormConfig {
    MultipartFormConfig::default()
        .total_limit(MAX_UPLOAD_BYTES as usize + (1 << 20))
        .memory_limit(1 << 20)
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Receives the file of an upload request: a multipart form (`csrf`, `kind`, `profile`,
/// `received_on`, `file`), or a raw body (API). Returns the file and the form's fields.
pub(super) async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    user: &CurrentUser,
    file_name: Option<&str>,
) -> Result<(Received, UploadFields), UploadError> {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > MAX_UPLOAD_BYTES + (1 << 20) {
            return Err(UploadError::TooLarge);
        }
    }
    if !is_multipart(req) {
        // A raw body from a cookie session already passed the X-CSRF-Token check (auth.rs).
        let got = spool(
            BodyStream::new(payload),
            clean_file_name(file_name),
            MAX_UPLOAD_BYTES,
        )
        .await?;
        return Ok((got, UploadFields::default()));
    }
    let header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let header_ok = user.via == Via::Bearer || user.check_csrf(header).is_ok();
    req.extensions_mut().insert(UploadGate {
        user: user.clone(),
        header_ok,
    });
    let mut payload = payload.into_inner();
    let parts = MultipartForm::<UploadParts>::from_request(req, &mut payload)
        .await
        .map_err(|e| match e.as_error::<MultipartError>() {
            Some(m) => from_multipart(m),
            None => {
                WebError::BadRequest(format!("アップロードされたフォームを読み取れません（{e}）"))
                    .into()
            }
        })?
        .into_inner();
    let Some(file) = parts.file else {
        // A form without a file still has to prove where it came from.
        if !header_ok {
            user.check_csrf(parts.csrf.as_deref().unwrap_or(""))?;
        }
        return Err(WebError::BadRequest("取り込むファイルを選んでください".into()).into());
    };
    Ok((file, parts.fields))
}

/// What to do with a received file, resolved from the form or query.
pub(super) struct LoadPlan {
    pub kind: FileKind,
    pub profile: Option<StoredProfile>,
    pub received_on: NaiveDate,
}

/// Resolves the upload's fields: the profile by name (of this insurer only), the date.
pub(super) async fn plan(
    state: &AppState,
    user: &CurrentUser,
    kind: FileKind,
    fields: &UploadFields,
) -> Result<LoadPlan, UploadError> {
    let received_on = match fields.received_on.as_deref().map(str::trim) {
        None | Some("") => today_jst(),
        Some(s) => crate::ingest::parse_date(s).map_err(|e| {
            WebError::BadRequest(format!("受付日（received_on）が日付として読めません: {e}"))
        })?,
    };
    let profile = match fields.profile.clone() {
        None => None,
        Some(key) => {
            let iid = user.insurer_id;
            let found = db(state, move |c| Ok(profiles::by_name(c, iid, key.trim())?)).await?;
            Some(found.ok_or_else(|| {
                UploadError::Rejected(format!(
                    "取込プロファイル「{}」はありません",
                    fields.profile.as_deref().unwrap_or("")
                ))
            })?)
        }
    };
    Ok(LoadPlan {
        kind,
        profile,
        received_on,
    })
}

fn acting(user: &CurrentUser) -> Acting {
    Acting {
        insurer: user.insurer_id,
        user: Some(user.user_id),
        label: user.email.clone(),
    }
}

impl From<ImportsError> for UploadError {
    fn from(e: ImportsError) -> Self {
        match e {
            ImportsError::Import(e) => e.into(),
            ImportsError::Profile(m) => UploadError::Rejected(m),
            ImportsError::NotFound => UploadError::Web(WebError::NotFound),
            ImportsError::Db(e) => UploadError::Web(WebError::Internal(e.into())),
            ImportsError::Insurer(e) => UploadError::Web(WebError::Internal(e.into())),
        }
    }
}

/// Loads (or previews) a received file for the caller's insurer (audited by the app layer).
async fn load(
    state: &AppState,
    user: &CurrentUser,
    plan: LoadPlan,
    got: Received,
    mode: Mode,
) -> Result<ImportSummary, UploadError> {
    if got.size == 0 {
        return Err(UploadError::Rejected(
            "ファイルが空です。取り込むファイルを選んでください".into(),
        ));
    }
    let acting = acting(user);
    let size = got.size;
    let kind = plan.kind;
    let r = db(state, move |c| {
        let file = std::fs::File::open(&got.file.0).map_err(|e| WebError::Internal(e.into()))?;
        Ok(app::load_file(
            c,
            &acting,
            app::FileInput {
                kind: plan.kind,
                file_name: &got.file_name,
                source: file,
                profile: plan.profile.as_ref(),
                received_on: plan.received_on,
                as_of: today_jst(),
            },
            mode,
        ))
    })
    .await?;
    let summary = r?;
    if mode == Mode::Commit {
        tracing::info!(
            batch = summary.batch_id,
            kind = kind.code(),
            bytes = size,
            rows = summary.rows_read,
            "file imported"
        );
    }
    Ok(summary)
}

/// Keeps a received file for the staff member's decision and previews what it would change.
async fn keep_and_preview(
    state: &AppState,
    user: &CurrentUser,
    plan: LoadPlan,
    got: Received,
) -> Result<(i64, ImportSummary), UploadError> {
    if got.size == 0 {
        return Err(UploadError::Rejected(
            "ファイルが空です。取り込むファイルを選んでください".into(),
        ));
    }
    let acting = acting(user);
    db(state, move |c| {
        let content = std::fs::read(&got.file.0).map_err(|e| WebError::Internal(e.into()))?;
        let id = profiles::keep_upload(
            c,
            acting.insurer,
            &profiles::NewUpload {
                user: acting.user.map(|u| u.0),
                file_kind: plan.kind.code(),
                file_name: &got.file_name,
                profile_id: plan.profile.as_ref().map(|p| p.id),
                received_on: Some(plan.received_on),
                content: &content,
            },
        )?;
        let r = app::load_file(
            c,
            &acting,
            app::FileInput {
                kind: plan.kind,
                file_name: &got.file_name,
                source: std::io::Cursor::new(content),
                profile: plan.profile.as_ref(),
                received_on: plan.received_on,
                as_of: today_jst(),
            },
            Mode::Preview,
        );
        Ok(r.map(|s| (id, s)))
    })
    .await?
    .map_err(UploadError::from)
}

/// Commits a kept upload: the real import, then the upload is removed.
async fn commit_upload(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<(FileKind, ImportSummary), UploadError> {
    let acting = acting(user);
    let r = db(state, move |c| {
        let up = profiles::upload(c, acting.insurer, id)?.ok_or(WebError::NotFound)?;
        let kind = kind_of(&up.file_kind).ok_or(WebError::NotFound)?;
        let profile = match up.profile_id {
            Some(pid) => Some(profiles::get(c, acting.insurer, pid)?.ok_or_else(|| {
                WebError::BadRequest(
                    "この取込に使う取込プロファイルが削除されました。もう一度アップロードしてください"
                        .into(),
                )
            })?),
            None => None,
        };
        let r = app::load_file(
            c,
            &acting,
            app::FileInput {
                kind,
                file_name: &up.file_name,
                source: std::io::Cursor::new(up.content),
                profile: profile.as_ref(),
                received_on: up.received_on.unwrap_or_else(today_jst),
                as_of: today_jst(),
            },
            Mode::Commit,
        );
        if r.is_ok() {
            profiles::drop_upload(c, acting.insurer, id)?;
        }
        Ok(r.map(|s| (kind, s)))
    })
    .await?;
    Ok(r?)
}

// ---------------------------------------------------------------------------------------------
// Pages

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ListQuery {
    /// 1-based page (default 1)
    page: Option<String>,
    /// Rows per page (default 50, at most 500)
    per_page: Option<String>,
}

async fn batch_list(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<BatchList, WebError> {
    let (page, per_page) = page_args(&q.page, &q.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let iid = user.insurer_id;
    let (rows, total) = db(state, move |c| Ok(batches::list(c, iid, page, per_page)?)).await?;
    Ok(BatchList {
        items: rows.into_iter().map(BatchBody::from).collect(),
        total,
        page,
        per_page,
    })
}

async fn render_imports(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, WebError> {
    let insurer = insurer_of(state, user).await?;
    let list = batch_list(state, user, q).await?;
    let mut ctx = base_context(user, &insurer, "imports");
    ctx.insert("pages", &page_count(list.total, list.per_page));
    ctx.insert("list", &list);
    ctx.insert("max_upload_mb", &MAX_UPLOAD_MB);
    ctx.insert(
        "profiles",
        &super::profiles::list_for_page(state, user).await?,
    );
    ctx.insert("today", &today_jst().to_string());
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    ctx.insert("error", &error.map(|e| e.1));
    let mut res = html(state, "pages/imports.html", &ctx)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn imports_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(render_imports(&state, &user.0, &q, None).await?)
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// The upload form's target: the file is kept and previewed (what it would change), and the
/// staff member then commits or discards it. The page's script posts it with `X-CSRF-Token` and
/// `Accept: application/json` and gets the preview as JSON; a plain form post (no script) gets
/// the preview page, or the list page again with the error.
pub async fn upload_page(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let json = wants_json(&req);
    let user = match super::auth::upload_user(&req).await {
        Ok(u) => u,
        Err(e) if json => return Ok(e.error_response()),
        Err(e) => return Err(e.into()),
    };
    let result = async {
        user.require(Role::Staff)?;
        let (got, fields) = receive(&req, payload, &user, None).await?;
        let kind = fields.kind.as_deref().and_then(kind_of).ok_or_else(|| {
            WebError::BadRequest("取込の種類（届書 / 登録結果）を選んでください".into())
        })?;
        let plan = plan(&state, &user, kind, &fields).await?;
        let profile_name = plan.profile.as_ref().map(|p| p.name.clone());
        let (id, summary) = keep_and_preview(&state, &user, plan, got).await?;
        Ok::<_, UploadError>(UploadPreview::new(id, kind, profile_name, summary))
    }
    .await;
    match (result, json) {
        (Ok(p), true) => Ok(HttpResponse::Ok().json(p)),
        (Ok(p), false) => {
            let insurer = insurer_of(&state, &user).await?;
            let mut ctx = base_context(&user, &insurer, "imports");
            ctx.insert("p", &p);
            Ok(html(&state, "pages/import_preview.html", &ctx)?)
        }
        (Err(e), true) => Ok(e.error_response()),
        (Err(UploadError::Web(e)), false) => Err(e.into()),
        (Err(e), false) => Ok(render_imports(
            &state,
            &user,
            &ListQuery::default(),
            Some((e.status_code(), e.to_string())),
        )
        .await?),
    }
}

/// What an upload would change, before the staff member commits it.
#[derive(Serialize)]
pub struct UploadPreview {
    pub upload_id: i64,
    pub kind: String,
    pub kind_label: String,
    pub file_name: String,
    pub profile: Option<String>,
    pub rows_read: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub without_notice: u64,
    pub rejects: Vec<RejectBody>,
    /// 「N 件新規、N 件変更、…」
    pub message: String,
}

impl UploadPreview {
    fn new(id: i64, kind: FileKind, profile: Option<String>, s: ImportSummary) -> Self {
        let r = ImportResult::new(kind, s);
        UploadPreview {
            upload_id: id,
            kind: r.kind,
            kind_label: kind.label_ja().into(),
            file_name: r.file_name,
            profile,
            rows_read: r.rows_read,
            new: r.new,
            changed: r.changed,
            unchanged: r.unchanged,
            rejected: r.rejected,
            without_notice: r.without_notice,
            rejects: r.rejects,
            message: r.message,
        }
    }
}

/// Commits a previewed upload (page: redirect to the batch; script: the result as JSON).
pub async fn commit_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    post: PageForm<CsrfOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let json = wants_json(&req);
    match (commit_upload(&state, &user, path.into_inner()).await, json) {
        (Ok((kind, s)), true) => Ok(HttpResponse::Ok().json(ImportResult::new(kind, s))),
        (Ok((_, s)), false) => Ok(redirect(&format!("/imports/{}", s.batch_id))),
        (Err(e), true) => Ok(e.error_response()),
        (Err(UploadError::Web(e)), false) => Err(e.into()),
        (Err(e), false) => Ok(render_imports(
            &state,
            &user,
            &ListQuery::default(),
            Some((e.status_code(), e.to_string())),
        )
        .await?),
    }
}

/// Discards a previewed upload.
pub async fn discard_page(
    state: web::Data<AppState>,
    post: PageForm<CsrfOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let iid = user.insurer_id;
    let id = path.into_inner();
    let found = db(&state, move |c| Ok(profiles::drop_upload(c, iid, id)?)).await?;
    if !found {
        return Err(WebError::NotFound.into());
    }
    Ok(redirect("/imports"))
}

async fn detail_for(
    state: &AppState,
    user: &CurrentUser,
    id: BatchId,
) -> Result<BatchDetail, WebError> {
    let iid = user.insurer_id;
    db(state, move |c| {
        let batch = batches::get(c, iid, id)?.ok_or(WebError::NotFound)?;
        let rejects = batches::rejects(c, iid, id, REJECTS_SHOWN)?
            .into_iter()
            .map(|(line, reason)| RejectBody { line, reason })
            .collect();
        Ok(BatchDetail {
            batch: batch.into(),
            rejects,
        })
    })
    .await
}

pub async fn import_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = parse_id(&path)?;
    let d = detail_for(&state, &user, id).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "imports");
    ctx.insert("rejects_shown", &REJECTS_SHOWN);
    ctx.insert("d", &d);
    Ok(html(&state, "pages/import.html", &ctx)?)
}

async fn rejects_download(
    state: &AppState,
    user: &CurrentUser,
    id: BatchId,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let bytes = db(state, move |c| {
        batches::get(c, iid, id)?.ok_or(WebError::NotFound)?;
        let rows = import::rejects(c, iid, id.0)?;
        crate::reports::export::rejects_csv(&rows).map_err(|e| WebError::Internal(e.into()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"rejects-{}.csv\"", id.0),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

pub async fn rejects_csv_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    Ok(rejects_download(&state, &user.0, id).await?)
}

// ---------------------------------------------------------------------------------------------
// API

/// The insurer's import batches, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "imports",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of batches and the total", body = BatchList),
        (status = 400, description = "Bad paging", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_list(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().json(batch_list(&state, &user, &q).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// File name to record for a raw CSV body (a multipart upload carries its own)
    file_name: Option<String>,
    /// An import profile of the insurer, by name, for a file in its own layout (SPEC §3.1)
    profile: Option<String>,
    /// e-Gov files: the day the file was received (YYYY-MM-DD; default today in Japan)
    received_on: Option<String>,
    /// `1`: only tell what the file would change (new / changed / unchanged / rejected); nothing is stored
    dry_run: Option<String>,
}

async fn api_upload(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    user: CurrentUser,
    kind: FileKind,
    q: UploadQuery,
) -> Result<HttpResponse, UploadError> {
    user.require(Role::Staff)?;
    let (got, form) = receive(&req, payload, &user, q.file_name.as_deref()).await?;
    let fields = UploadFields {
        kind: None,
        profile: q.profile.or(form.profile),
        received_on: q.received_on.or(form.received_on),
    };
    let mode = match q.dry_run.as_deref() {
        None | Some("") | Some("0") => Mode::Commit,
        Some("1") => Mode::Preview,
        Some(_) => {
            return Err(WebError::BadRequest("dry_run は 1 か 0 です".into()).into());
        }
    };
    let plan = plan(&state, &user, kind, &fields).await?;
    let summary = load(&state, &user, plan, got, mode).await?;
    let mut body = ImportResult::new(kind, summary);
    if mode == Mode::Preview {
        body.batch_id = 0;
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Loads a notices file (届書). Send the file either as `multipart/form-data` with the field `file`
/// or as the raw request body (`Content-Type: text/csv`, name it with `?file_name=`). At most
/// 200 MB. CSV (UTF-8 / Shift_JIS, comma or tab), Excel (.xlsx, .xls) or an employer's e-Gov file
/// (SHFD0006.CSV / KPFD0006.CSV, with `received_on`); a file in the insurer's own layout with
/// `profile=NAME`; `dry_run=1` tells what it would change without storing anything (batch_id 0). Rows with errors are rejected and listed; the rest is loaded (one batch, all or
/// nothing). A cookie session must send `X-CSRF-Token` (or, in a form, a `csrf` field before the
/// file). Needs the staff role.
#[utoipa::path(
    post,
    path = "/api/v1/imports/notices",
    tag = "imports",
    params(UploadQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file (or multipart/form-data with the field `file`)"),
    responses(
        (status = 200, description = "Loaded", body = ImportResult),
        (status = 400, description = "No file in the request", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 413, description = "Larger than 200 MB (payload_too_large)", body = ErrorBody),
        (status = 422, description = "The file cannot be loaded: encoding, missing column, another insurer's file, cut off (import_failed)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_upload_notices(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    super::auth::UploadUser(user): super::auth::UploadUser,
    q: web::Query<UploadQuery>,
) -> Result<HttpResponse, UploadError> {
    api_upload(req, payload, state, user, FileKind::Notices, q.into_inner()).await
}

/// Loads a registration-results file (中間サーバー登録結果). Same transport and rules as
/// `/api/v1/imports/notices`.
#[utoipa::path(
    post,
    path = "/api/v1/imports/registrations",
    tag = "imports",
    params(UploadQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file (or multipart/form-data with the field `file`)"),
    responses(
        (status = 200, description = "Loaded", body = ImportResult),
        (status = 400, description = "No file in the request", body = ErrorBody),
        (status = 403, description = "Not staff, or CSRF token missing", body = ErrorBody),
        (status = 413, description = "Larger than 200 MB (payload_too_large)", body = ErrorBody),
        (status = 422, description = "The file cannot be loaded (import_failed)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_upload_registrations(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    super::auth::UploadUser(user): super::auth::UploadUser,
    q: web::Query<UploadQuery>,
) -> Result<HttpResponse, UploadError> {
    api_upload(
        req,
        payload,
        state,
        user,
        FileKind::Registrations,
        q.into_inner(),
    )
    .await
}

/// One batch with its first 1000 rejected rows. 404 for a batch of another insurer.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch", body = BatchDetail),
        (status = 404, description = "No such batch for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_detail(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    Ok(HttpResponse::Ok().json(detail_for(&state, &user, id).await?))
}

/// Every rejected row of a batch as CSV (UTF-8 with BOM; columns 行, 理由).
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}/rejects.csv",
    tag = "imports",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv"),
        (status = 404, description = "No such batch for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_rejects_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    rejects_download(&state, &user, id).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/imports")
            .app_data(upload_config())
            .route(web::get().to(imports_page))
            .route(web::post().to(upload_page)),
    )
    .route("/imports/uploads/{id}/commit", web::post().to(commit_page))
    .route(
        "/imports/uploads/{id}/discard",
        web::post().to(discard_page),
    )
    .route("/imports/{id}", web::get().to(import_page))
    .route("/imports/{id}/rejects.csv", web::get().to(rejects_csv_page))
    .route("/api/v1/imports", web::get().to(api_list))
    .service(
        web::resource("/api/v1/imports/notices")
            .guard(guard::Post())
            .app_data(upload_config())
            .route(web::post().to(api_upload_notices)),
    )
    .service(
        web::resource("/api/v1/imports/registrations")
            .guard(guard::Post())
            .app_data(upload_config())
            .route(web::post().to(api_upload_registrations)),
    )
    .route("/api/v1/imports/{id}", web::get().to(api_detail))
    .route(
        "/api/v1/imports/{id}/rejects.csv",
        web::get().to(api_rejects_csv),
    );
}

#[derive(OpenApi)]
#[openapi(paths(
    api_list,
    api_upload_notices,
    api_upload_registrations,
    api_detail,
    api_rejects_csv
))]
struct ImportsApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ImportsApi::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::web::Bytes;

    #[actix_web::test]
    async fn an_upload_is_spooled_to_a_private_file_that_is_removed_after_use() {
        let got = spool(Bytes::from_static(b"a,b\n1,2\n"), "x.csv".into(), 100)
            .await
            .unwrap();
        assert_eq!(got.size, 8);
        assert_eq!(std::fs::read(&got.file.0).unwrap(), b"a,b\n1,2\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&got.file.0).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "no access for group or others");
        }
        let path = got.file.0.clone();
        drop(got);
        assert!(!path.exists());
    }

    #[actix_web::test]
    async fn an_upload_over_the_cap_is_refused() {
        let r = spool(Bytes::from(vec![b'x'; 2_000]), "big.csv".into(), 1_000).await;
        assert!(matches!(r, Err(FieldRefusal::TooLarge)));
        assert_eq!(
            UploadError::from(FieldRefusal::TooLarge).status_code(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[test]
    fn client_file_names_lose_their_directories() {
        assert_eq!(clean_file_name(Some("C:\\Users\\a\\届書.csv")), "届書.csv");
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("  ")), "upload.csv");
        assert_eq!(clean_file_name(None), "upload.csv");
    }
}
