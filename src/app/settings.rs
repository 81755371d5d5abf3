//! The rule settings (SPEC §2): how many stored deadlines new settings would change, and saving
//! them with every stored deadline recomputed; audited.
use super::Acting;
use crate::domain::settings::describe_change;
use crate::domain::RuleSettings;
use crate::store::audit::AuditAction;
use crate::store::import::{preview_deadline_changes, recompute_deadlines};
use crate::store::{insurers, DbConn};
use crate::time::DateStyle;

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
    crate::reports::rollups::refresh_after_change(conn, insurer.id);
    let detail = format!(
        "{}（期限が変わった届書 {changed} 件）",
        describe_change(&insurer.rules, new)
    );
    acting.audit(conn, AuditAction::SettingsChanged, None, Some(&detail))?;
    tracing::info!(insurer = acting.insurer.0, changed, "settings changed");
    Ok(changed)
}

/// Sets how the insurer's pages show dates (設定 → 表示), audited as a settings change. Nothing is
/// written when the style is the one stored.
pub fn set_date_style(
    conn: &mut DbConn,
    acting: &Acting,
    style: DateStyle,
) -> Result<(), SettingsSaveError> {
    crate::store::write_tx(conn, |conn| {
        let insurer = insurers::get(conn, acting.insurer)?;
        if insurer.date_style == style {
            return Ok(());
        }
        insurers::set_date_style(conn, acting.insurer, style)?;
        let detail = format!(
            "日付の表示: {} → {}",
            insurer.date_style.label_ja(),
            style.label_ja()
        );
        acting.audit(conn, AuditAction::SettingsChanged, None, Some(&detail))?;
        Ok(())
    })
}
