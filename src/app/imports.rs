//! Loading the insurer's files (SPEC §3, §3.1) and keeping its import profiles.
//!
//! A file goes through the converter (Excel, a profile, tab-separated text, e-Gov) into the
//! importer: committed as one batch, or previewed (everything done, then rolled back) so that
//! the staff member sees what it would change before committing it.
use super::Acting;
use crate::ingest::{self, convert, FileProfile, Part, Profile};
use crate::store::audit::AuditAction;
use crate::store::batches::{self, BatchId, BatchRow};
use crate::store::import::{self, Actor, FileKind, ImportError, ImportSummary, Mode};
use crate::store::insurers::InsurerId;
use crate::store::profiles::{self, StoredProfile};
use crate::store::{insurers, write_tx, DbConn};
use crate::time::{jst_minute, today_jst};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Rejected rows shown on a batch page and in the API (all of them are in the CSV).
pub const REJECTS_SHOWN: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ImportsError {
    /// The file (or the profile against it) cannot be used; the message is for the user.
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Profile(String),
    #[error("見つかりません")]
    NotFound,
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] insurers::InsurerError),
    /// The upload cannot be loaded (no such profile, an empty file); the message is for the user.
    #[error("{0}")]
    Rejected(String),
    /// The request cannot be carried out as asked; the message is for the user.
    #[error("{0}")]
    Invalid(String),
}

impl From<ingest::FileError> for ImportsError {
    fn from(e: ingest::FileError) -> Self {
        ImportsError::Import(ImportError::File(e))
    }
}

/// The part of the two file kinds.
pub fn part_of(kind: FileKind) -> Part {
    match kind {
        FileKind::Notices => Part::Notices,
        FileKind::Registrations => Part::Registrations,
    }
}

/// One file to load.
pub struct FileInput<'a, S> {
    pub kind: FileKind,
    pub file_name: &'a str,
    pub source: S,
    /// The profile, if the file needs one; its part for `kind` must exist.
    pub profile: Option<&'a StoredProfile>,
    /// e-Gov files: the day the file was received.
    pub received_on: NaiveDate,
    /// Received dates after this are errors (SPEC §2.5).
    pub as_of: NaiveDate,
}

/// The profile part for a file kind, or an error naming what is missing.
pub fn profile_part(p: &StoredProfile, kind: FileKind) -> Result<&FileProfile, ImportsError> {
    p.profile.part(part_of(kind)).ok_or_else(|| {
        ImportsError::Profile(format!(
            "取込プロファイル「{}」には{}の設定がありません",
            p.name,
            kind.label_ja()
        ))
    })
}

/// Loads (or previews) a file for the acting insurer. A committed load, and a failed one, is
/// audited: who tried what.
pub fn load_file<S: convert::Source>(
    conn: &mut DbConn,
    acting: &Acting,
    input: FileInput<'_, S>,
    mode: Mode,
) -> Result<ImportSummary, ImportsError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    let profile = input
        .profile
        .map(|p| profile_part(p, input.kind))
        .transpose()?;
    let actor = Actor {
        user: acting.user,
        label: acting.label.clone(),
    };
    let opened = convert::open(
        input.source,
        part_of(input.kind),
        ingest::SourceOptions {
            profile,
            received_on: Some(input.received_on),
        },
    );
    let r = opened.map_err(ImportError::from).and_then(|opened| {
        let reader = std::io::BufReader::with_capacity(1 << 20, opened.reader);
        match input.kind {
            FileKind::Notices => import::notices_batch(
                conn,
                &insurer,
                reader,
                input.file_name,
                &actor,
                input.as_of,
                &mut |_| {},
                mode,
            ),
            FileKind::Registrations => import::registrations_batch(
                conn,
                &insurer,
                reader,
                input.file_name,
                &actor,
                &mut |_| {},
                mode,
            ),
        }
    });
    if mode == Mode::Commit {
        if r.is_ok() {
            crate::reports::rollups::refresh_after_change(conn, insurer.id);
        }
        let with_profile = input
            .profile
            .map(|p| format!("（取込プロファイル「{}」）", p.name))
            .unwrap_or_default();
        let (action, detail) = match &r {
            Ok(s) => (
                AuditAction::Import,
                format!(
                    "{} batch {}: {}{with_profile}",
                    input.kind.label_ja(),
                    s.batch_id,
                    s.line_ja()
                ),
            ),
            Err(ImportError::Db(_)) => return Ok(r?),
            Err(e) => (
                AuditAction::ImportFailed,
                format!("{}: {e}{with_profile}", input.kind.label_ja()),
            ),
        };
        record(conn, acting, action, input.file_name, &detail)?;
    }
    Ok(r?)
}

fn record(
    conn: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> Result<(), diesel::result::Error> {
    acting.audit(conn, action, Some(target), Some(detail))
}

/// A profile name: 1–100 characters, no control characters, trimmed.
pub fn profile_name(raw: &str) -> Result<String, ImportsError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ImportsError::Profile(
            "取込プロファイルの名前を入力してください".into(),
        ));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ImportsError::Profile(
            "取込プロファイルの名前は改行などを含まない100文字以内にしてください".into(),
        ));
    }
    Ok(name.to_string())
}

/// Saves one part of the profile `name` (the other part, if stored, is kept). Audited.
pub fn save_part(
    conn: &mut DbConn,
    acting: &Acting,
    name: &str,
    part: Part,
    file: FileProfile,
) -> Result<i64, ImportsError> {
    let name = profile_name(name)?;
    file.validate(part)
        .map_err(|e| ImportsError::Profile(e.to_string()))?;
    write_tx(conn, |c| {
        let mut profile = profiles::by_name(c, acting.insurer, &name)?
            .map(|p| p.profile)
            .unwrap_or_default();
        match part {
            Part::Notices => profile.notices = Some(file),
            Part::Registrations => profile.registrations = Some(file),
        }
        let id = profiles::save(c, acting.insurer, &name, &profile, &acting.label)?;
        record(
            c,
            acting,
            AuditAction::ImportProfileSave,
            &name,
            &format!("{} の設定を保存", part_label(part)),
        )?;
        Ok(id)
    })
}

/// Replaces the profile `name` with a whole profile given as TOML (import, API). Audited.
pub fn save_toml(
    conn: &mut DbConn,
    acting: &Acting,
    name: &str,
    toml: &str,
) -> Result<i64, ImportsError> {
    let name = profile_name(name)?;
    let profile = Profile::from_toml_str(toml).map_err(|e| ImportsError::Profile(e.to_string()))?;
    write_tx(conn, |c| {
        let id = profiles::save(c, acting.insurer, &name, &profile, &acting.label)?;
        record(
            c,
            acting,
            AuditAction::ImportProfileSave,
            &name,
            "TOML から保存",
        )?;
        Ok(id)
    })
}

/// Deletes a profile of the acting insurer. Audited.
pub fn delete(conn: &mut DbConn, acting: &Acting, id: i64) -> Result<(), ImportsError> {
    write_tx(conn, |c| {
        let p = profiles::get(c, acting.insurer, id)?.ok_or(ImportsError::NotFound)?;
        profiles::delete(c, acting.insurer, id)?;
        record(c, acting, AuditAction::ImportProfileDelete, &p.name, "削除")?;
        Ok(())
    })
}

pub fn part_label(part: Part) -> &'static str {
    match part {
        Part::Notices => "届書",
        Part::Registrations => "登録結果",
    }
}

/// The file kind of its code (`notices` | `registrations`).
pub fn kind_of(code: &str) -> Option<FileKind> {
    match code.trim() {
        "notices" => Some(FileKind::Notices),
        "registrations" => Some(FileKind::Registrations),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads from the web: loaded at once (API), or kept and previewed for the staff member's
// decision (the import page), then committed or discarded.

/// What to do with an uploaded file: its kind, the profile by name (of the acting insurer only),
/// the day an e-Gov file was received.
#[derive(Clone, Debug)]
pub struct UploadRequest {
    pub kind: FileKind,
    pub profile: Option<String>,
    pub received_on: NaiveDate,
}

const EMPTY_FILE: &str = "ファイルが空です。取り込むファイルを選んでください";

fn resolve_profile(
    conn: &mut DbConn,
    acting: &Acting,
    name: Option<&str>,
) -> Result<Option<StoredProfile>, ImportsError> {
    let Some(key) = name else {
        return Ok(None);
    };
    match profiles::by_name(conn, acting.insurer, key.trim())? {
        Some(p) => Ok(Some(p)),
        None => Err(ImportsError::Rejected(format!(
            "取込プロファイル「{key}」はありません"
        ))),
    }
}

/// Loads (or, with `Mode::Preview`, previews) an uploaded file of `size` bytes read from `source`.
pub fn upload<S: convert::Source>(
    conn: &mut DbConn,
    acting: &Acting,
    req: &UploadRequest,
    file_name: &str,
    size: u64,
    source: S,
    mode: Mode,
) -> Result<ImportSummary, ImportsError> {
    let profile = resolve_profile(conn, acting, req.profile.as_deref())?;
    if size == 0 {
        return Err(ImportsError::Rejected(EMPTY_FILE.into()));
    }
    load_file(
        conn,
        acting,
        FileInput {
            kind: req.kind,
            file_name,
            source,
            profile: profile.as_ref(),
            received_on: req.received_on,
            as_of: today_jst(),
        },
        mode,
    )
}

/// Keeps an uploaded file for the staff member's decision and previews what it would change.
pub fn keep_and_preview(
    conn: &mut DbConn,
    acting: &Acting,
    req: &UploadRequest,
    file_name: &str,
    content: Vec<u8>,
) -> Result<UploadPreview, ImportsError> {
    let profile = resolve_profile(conn, acting, req.profile.as_deref())?;
    if content.is_empty() {
        return Err(ImportsError::Rejected(EMPTY_FILE.into()));
    }
    let id = profiles::keep_upload(
        conn,
        acting.insurer,
        &profiles::NewUpload {
            user: acting.user.map(|u| u.0),
            file_kind: req.kind.code(),
            file_name,
            profile_id: profile.as_ref().map(|p| p.id),
            received_on: Some(req.received_on),
            content: &content,
        },
    )?;
    let summary = load_file(
        conn,
        acting,
        FileInput {
            kind: req.kind,
            file_name,
            source: std::io::Cursor::new(content),
            profile: profile.as_ref(),
            received_on: req.received_on,
            as_of: today_jst(),
        },
        Mode::Preview,
    )?;
    Ok(UploadPreview::new(
        id,
        req.kind,
        profile.map(|p| p.name),
        summary,
    ))
}

/// Commits a kept upload: the real import (audited), then the upload is removed.
pub fn commit_upload(
    conn: &mut DbConn,
    acting: &Acting,
    id: i64,
) -> Result<ImportResult, ImportsError> {
    let up = profiles::upload(conn, acting.insurer, id)?.ok_or(ImportsError::NotFound)?;
    let kind = kind_of(&up.file_kind).ok_or(ImportsError::NotFound)?;
    let profile = match up.profile_id {
        Some(pid) => Some(profiles::get(conn, acting.insurer, pid)?.ok_or_else(|| {
            ImportsError::Invalid(
                "この取込に使う取込プロファイルが削除されました。もう一度アップロードしてください"
                    .into(),
            )
        })?),
        None => None,
    };
    let summary = load_file(
        conn,
        acting,
        FileInput {
            kind,
            file_name: &up.file_name,
            source: std::io::Cursor::new(up.content),
            profile: profile.as_ref(),
            received_on: up.received_on.unwrap_or_else(today_jst),
            as_of: today_jst(),
        },
        Mode::Commit,
    )?;
    profiles::drop_upload(conn, acting.insurer, id)?;
    Ok(ImportResult::new(kind, summary))
}

/// Discards a kept upload of the acting insurer.
pub fn discard_upload(conn: &mut DbConn, acting: &Acting, id: i64) -> Result<(), ImportsError> {
    if !profiles::drop_upload(conn, acting.insurer, id)? {
        return Err(ImportsError::NotFound);
    }
    Ok(())
}

/// Keeps a sample file for the profile editor; returns the upload's id.
pub fn keep_sample(
    conn: &mut DbConn,
    acting: &Acting,
    part: Part,
    file_name: &str,
    content: &[u8],
) -> Result<i64, ImportsError> {
    if content.is_empty() {
        return Err(ImportsError::Invalid("ファイルが空です".into()));
    }
    Ok(profiles::keep_upload(
        conn,
        acting.insurer,
        &profiles::NewUpload {
            user: acting.user.map(|u| u.0),
            file_kind: part.code(),
            file_name,
            profile_id: None,
            received_on: Some(today_jst()),
            content,
        },
    )?)
}

/// One page of the insurer's import batches, newest first.
pub fn batch_list(
    conn: &mut DbConn,
    insurer: InsurerId,
    page: i64,
    per_page: i64,
) -> Result<BatchList, ImportsError> {
    let (rows, total) = batches::list(conn, insurer, page, per_page)?;
    Ok(BatchList {
        items: rows.into_iter().map(BatchBody::from).collect(),
        total,
        page,
        per_page,
    })
}

/// One batch of the insurer with its first rejected rows.
pub fn batch_detail(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: BatchId,
) -> Result<BatchDetail, ImportsError> {
    let batch = batches::get(conn, insurer, id)?.ok_or(ImportsError::NotFound)?;
    let rejects = batches::rejects(conn, insurer, id, REJECTS_SHOWN)?
        .into_iter()
        .map(|(line, reason)| RejectBody { line, reason })
        .collect();
    Ok(BatchDetail {
        batch: batch.into(),
        rejects,
    })
}

// ---------------------------------------------------------------------------------------------
// What the pages and the API show of imports

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
    pub fn new(kind: FileKind, s: ImportSummary) -> ImportResult {
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
            created_at_jst: jst_minute(b.created_at),
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
    pub fn new(id: i64, kind: FileKind, profile: Option<String>, s: ImportSummary) -> Self {
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
