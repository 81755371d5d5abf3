//! The rule settings (SPEC §2): how many stored deadlines new settings would change, and saving
//! them with every stored deadline recomputed; audited.
use super::Acting;
use crate::domain::settings::describe_change;
use crate::domain::RuleSettings;
use crate::store::audit::AuditAction;
use crate::store::import::{preview_deadline_changes, recompute_deadlines};
use crate::store::{insurers, DbConn};

/// Settings arrive parsed ([`RuleSettings::from_json`], `from_toml_str`): what can fail here is the
/// database.
#[derive(Debug, thiserror::Error)]
pub enum SettingsSaveError {
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] insurers::InsurerError),
}

/// How many stored deadlines `new` would change; nothing is written.
pub fn preview(
    conn: &mut DbConn,
    acting: &Acting,
    new: &RuleSettings,
) -> Result<u64, SettingsSaveError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    Ok(preview_deadline_changes(conn, &insurer, new)?)
}

/// Saves the settings and recomputes every stored deadline in one transaction, then audits what
/// changed. Returns how many notices got a different deadline (0, and no audit entry, when the
/// settings are the ones stored).
pub fn save(
    conn: &mut DbConn,
    acting: &Acting,
    new: &RuleSettings,
) -> Result<u64, SettingsSaveError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    if insurer.rules == *new {
        return Ok(0);
    }
    // `recompute_deadlines` opens its own write transaction (SQLite cannot nest one), so the audit
    // entry follows it as it always has.
    let changed = recompute_deadlines(conn, &insurer, new)?;
    let detail = format!(
        "{}（期限が変わった届書 {changed} 件）",
        describe_change(&insurer.rules, new)
    );
    acting.audit(conn, AuditAction::SettingsChanged, None, Some(&detail))?;
    tracing::info!(insurer = acting.insurer.0, changed, "settings changed");
    Ok(changed)
}
