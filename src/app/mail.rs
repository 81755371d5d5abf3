//! E-mail use cases: staff actions on the outbox, the insurer's e-mail settings and the preview of
//! what the evaluation would queue, and the one-click unsubscribe of an employer. Each change is
//! audited in its own transaction.
use super::Acting;
use crate::mail::prefs;
use crate::mail::transport::MailSettings;
use crate::mail::MailError;
use crate::store::audit::{self, AuditAction, AuditEntry};
use crate::store::employers::{self, EmployerId};
use crate::store::insurers::{self, InsurerId};
use crate::store::mail_settings::{self, MailPrefs};
use crate::store::outbox::{self, Action, OutboxId, OutboxRow};
use crate::store::{now_utc, write_tx, DbConn};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum MailAppError {
    /// No such message (or e-mail target) for this insurer.
    #[error("見つかりません")]
    NotFound,
    /// The message is not in a state the action applies to, or is being sent right now.
    #[error("このメールは現在の状態ではその操作ができません（送信中か、既に処理済みです）")]
    NotApplicable,
    /// Rendering the preview failed (a template, the configuration).
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] insurers::InsurerError),
}

fn audited(action: Action) -> AuditAction {
    match action {
        Action::Retry => AuditAction::MailRetry,
        Action::Hold => AuditAction::MailHold,
        Action::Release => AuditAction::MailRelease,
        Action::Cancel => AuditAction::MailCancel,
    }
}

/// Applies a staff action to one message of the acting insurer, audited in the same transaction.
/// Another insurer's id is `NotFound`; a message not in a state the action applies to (or being
/// sent right now) `NotApplicable`. Returns the message after the action.
pub fn act(
    conn: &mut DbConn,
    acting: &Acting,
    id: OutboxId,
    action: Action,
) -> Result<OutboxRow, MailAppError> {
    let ins = acting.insurer;
    write_tx(conn, |c| {
        if outbox::get(c, ins, id)?.is_none() {
            return Err(MailAppError::NotFound);
        }
        if !outbox::apply(c, ins, id, action, now_utc())? {
            return Err(MailAppError::NotApplicable);
        }
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(ins),
                user: acting.user,
                actor: &acting.label,
                action: audited(action),
                target: Some(&format!("outbox:{}", id.0)),
                detail: None,
            },
        )?;
        outbox::get(c, ins, id)?.ok_or(MailAppError::NotFound)
    })
}

/// Saves the insurer's e-mail settings (checked by `mail::prefs::parse` at the edge) under its
/// evaluation lock, audited with what changed. Messages already queued keep their sender.
pub fn save_settings(
    conn: &mut DbConn,
    acting: &Acting,
    new: &MailPrefs,
) -> Result<(), MailAppError> {
    let ins = acting.insurer;
    write_tx(conn, |c| {
        outbox::lock_insurer(c, ins)?;
        let old = mail_settings::get(c, ins)?.prefs;
        mail_settings::save(c, ins, new, &acting.label, now_utc())?;
        let detail = prefs::describe_change(&old, new);
        audit::record(
            c,
            &AuditEntry {
                insurer: Some(ins),
                user: acting.user,
                actor: &acting.label,
                action: AuditAction::MailSettingsChanged,
                target: None,
                detail: Some(&detail),
            },
        )?;
        Ok(())
    })
}

/// One message the evaluation would queue, as the employer would receive it.
#[derive(Serialize, ToSchema)]
pub struct MailPreviewMessage {
    pub kind: String,
    pub kind_label: String,
    pub employer_id: i64,
    pub recipients: Vec<String>,
    /// The From line with the current settings
    pub from: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// What the daily evaluation as of a date would queue now; nothing is written.
#[derive(Serialize, ToSchema)]
pub struct MailPreviewBody {
    pub as_of: NaiveDate,
    /// Whether automatic reminders are on (the preview is the same either way)
    pub reminders_enabled: bool,
    /// Messages per kind code
    pub queued: std::collections::BTreeMap<String, usize>,
    /// Reminders already queued earlier (not repeated)
    pub already_queued: usize,
    pub opted_out: usize,
    pub no_contact: usize,
    pub messages: Vec<MailPreviewMessage>,
}

/// The admin's preview before switching automatic reminders on (SPEC §5): what the daily
/// evaluation as of `as_of` would queue now for the acting insurer, rendered with its current
/// settings (`defaults`: the server's sender, for the From lines). Nothing is written.
pub fn preview(
    conn: &mut DbConn,
    acting: &Acting,
    as_of: NaiveDate,
    defaults: Option<&MailSettings>,
) -> Result<MailPreviewBody, MailAppError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    let enabled = mail_settings::get(conn, acting.insurer)?
        .prefs
        .reminders_enabled;
    let (counts, msgs) = crate::mail::preview_insurer(conn, &insurer, as_of, now_utc())?;
    let messages = msgs
        .into_iter()
        .map(|m| MailPreviewMessage {
            kind: m.kind.code().to_string(),
            kind_label: m.kind.label_ja().to_string(),
            employer_id: m.employer_id,
            from: defaults.and_then(|d| {
                d.sender(
                    m.sender.name.as_deref(),
                    m.sender.from_address.as_deref(),
                    m.sender.reply_to.as_deref(),
                    m.sender.bounce_address.as_deref(),
                )
                .ok()
                .map(|s| s.from.to_string())
            }),
            recipients: m.recipients,
            subject: m.subject,
            body_text: m.body_text,
            body_html: m.body_html,
        })
        .collect();
    Ok(MailPreviewBody {
        as_of,
        reminders_enabled: enabled,
        queued: counts
            .queued
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        already_queued: counts.already_queued,
        opted_out: counts.opted_out,
        no_contact: counts.no_contact,
        messages,
    })
}

/// The employer an unsubscribe token names, as the confirmation page shows it.
pub struct UnsubscribeTarget {
    pub insurer: InsurerId,
    pub employer: EmployerId,
    pub employer_code: String,
    pub insurer_name: String,
}

/// The employer of a genuine token (signed with `key`), or `None` for a token that is not genuine
/// or names no employer.
pub fn unsubscribe_target(
    conn: &mut DbConn,
    key: &[u8],
    token: &str,
) -> Result<Option<UnsubscribeTarget>, MailAppError> {
    let Some((ins, emp)) = crate::mail::unsubscribe::verify(key, token) else {
        return Ok(None);
    };
    let Some(code) = employers::code_of(conn, ins, EmployerId(emp))? else {
        return Ok(None);
    };
    let insurer = insurers::get(conn, ins)?;
    Ok(Some(UnsubscribeTarget {
        insurer: ins,
        employer: EmployerId(emp),
        employer_code: code,
        insurer_name: insurer.name,
    }))
}

/// RFC 8058 one-click unsubscribe: sets the employer's opt-out (idempotent) and audits the change.
/// No user acts: the signed token is the authority.
pub fn unsubscribe(conn: &mut DbConn, target: &UnsubscribeTarget) -> Result<(), MailAppError> {
    write_tx(conn, |c| {
        if employers::set_opt_out(c, target.insurer, target.employer)? {
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(target.insurer),
                    user: None,
                    actor: "事業所（メールの配信停止リンク）",
                    action: AuditAction::EmployerUnsubscribed,
                    target: Some(&target.employer_code),
                    detail: Some("RFC 8058 one-click"),
                },
            )?;
        }
        Ok::<_, MailAppError>(())
    })?;
    tracing::info!(
        insurer = target.insurer.0,
        employer = target.employer.0,
        "employer unsubscribed"
    );
    Ok(())
}
