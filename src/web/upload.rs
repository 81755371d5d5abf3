//! Receiving an uploaded file (取込 and the profile editor's sample): a multipart form or a raw
//! body, streamed to a temporary file so memory stays flat for any size. The size is capped; a
//! bigger file is refused while it arrives, before it fills the disk.
use super::auth::{CurrentUser, Via, CSRF_HEADER};
use super::error::WebError;
use crate::app::imports::ImportsError;
use crate::store::import::ImportError;
use actix_multipart::form::{Limits, MultipartCollect, MultipartForm, MultipartFormConfig, State};
use actix_multipart::{Field, MultipartError};
use actix_web::body::{BodyStream, MessageBody};
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use rand::RngCore;
use serde::Deserialize;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use utoipa::IntoParams;

/// Largest accepted upload. A year of notices of a large society is well under this.
pub const MAX_UPLOAD_MB: u64 = 200;
const MAX_UPLOAD_BYTES: u64 = MAX_UPLOAD_MB * 1024 * 1024;
/// Upload bytes gathered in memory before each write to the temporary file.
const SPOOL_BUFFER: usize = 1 << 20;

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
pub struct TempUpload(PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %self.0.display(), "temporary upload not removed");
            }
        }
    }
}

pub struct Received {
    file: TempUpload,
    pub file_name: String,
    pub size: u64,
}

impl Received {
    /// Where the spooled file is (until `self` is dropped).
    pub fn path(&self) -> &Path {
        &self.file.0
    }

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

pub fn upload_config() -> MultipartFormConfig {
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
pub async fn receive(
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

impl From<ImportsError> for UploadError {
    fn from(e: ImportsError) -> Self {
        match e {
            ImportsError::Import(e) => e.into(),
            ImportsError::Profile(m) => UploadError::Rejected(m),
            ImportsError::NotFound => UploadError::Web(WebError::NotFound),
            ImportsError::Db(e) => UploadError::Web(WebError::Internal(e.into())),
            ImportsError::Insurer(e) => UploadError::Web(WebError::Internal(e.into())),
            ImportsError::Rejected(m) => UploadError::Rejected(m),
            ImportsError::Invalid(m) => UploadError::Web(WebError::BadRequest(m)),
        }
    }
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
