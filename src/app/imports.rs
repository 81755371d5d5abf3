//! Loading the insurer's files (SPEC §3, §3.1) and keeping its import profiles.
//!
//! A file goes through the converter (Excel, a profile, tab-separated text, e-Gov) into the
//! importer: committed as one batch, or previewed (everything done, then rolled back) so that
//! the staff member sees what it would change before committing it.
use super::Acting;
use crate::ingest::{self, convert, FileProfile, Part, Profile};
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::import::{self, Actor, FileKind, ImportError, ImportSummary, Mode};
use crate::store::profiles::{self, StoredProfile};
use crate::store::{insurers, write_tx, DbConn};
use chrono::NaiveDate;

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
    audit::record(
        conn,
        &AuditEntry {
            insurer: Some(acting.insurer),
            user: acting.user,
            actor: &acting.label,
            action,
            target: Some(target),
            detail: Some(detail),
        },
    )
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
