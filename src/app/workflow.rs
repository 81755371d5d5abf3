//! Following a case (案件の対応): assigning a 担当者, setting the 次回対応日 and writing メモ. Every
//! change is one transaction with its audit entry; the page, the API and the CLI come through here.
use super::Acting;
use crate::domain::limits;
use crate::store::audit::AuditAction;
use crate::store::users::UserId;
use crate::store::{workflow as store, write_tx, DbConn};
use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// No such notice for the acting insurer.
    #[error("見つかりません")]
    NotFound,
    /// The input cannot be saved; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// The longest メモ, in characters.
pub const NOTE_MAX: usize = limits::LONG_TEXT;

/// The range a 次回対応日 may take: a follow-up is a working day of the scheme, not a typo's
/// year 20261.
pub const FOLLOW_UP_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!(),
};
pub const FOLLOW_UP_UNTIL: NaiveDate = match NaiveDate::from_ymd_opt(2099, 12, 31) {
    Some(d) => d,
    None => panic!(),
};

/// What a case's workflow is set to: both fields at once (`None` clears).
#[derive(Clone, Debug, Default)]
pub struct SetWorkflow {
    pub assignee: Option<UserId>,
    pub follow_up_on: Option<NaiveDate>,
}

/// Sets the 担当者 and the 次回対応日 of one of the acting insurer's notices. The 担当者 must be
/// an active user of the same insurer: an id of another insurer's user is refused exactly like an
/// id that does not exist. Audited with the old and new values. Returns the workflow as saved.
pub fn set_workflow(
    c: &mut DbConn,
    acting: &Acting,
    notice: i64,
    input: SetWorkflow,
) -> Result<store::Workflow, WorkflowError> {
    if let Some(d) = input.follow_up_on {
        if !(FOLLOW_UP_FROM..=FOLLOW_UP_UNTIL).contains(&d) {
            return Err(WorkflowError::Invalid(format!(
                "次回対応日は {FOLLOW_UP_FROM} から {FOLLOW_UP_UNTIL} までの日付で指定してください（指定: {d}）"
            )));
        }
    }
    write_tx(c, |c| {
        if !store::lock_notice(c, acting.insurer, notice)? {
            return Err(WorkflowError::NotFound);
        }
        if let Some(u) = input.assignee {
            match store::assignable(c, acting.insurer, u)? {
                None => {
                    return Err(WorkflowError::Invalid(format!(
                        "担当者に指定した利用者（ID {}）が見つかりません。この保険者の利用者から選んでください",
                        u.0
                    )))
                }
                Some(false) => {
                    return Err(WorkflowError::Invalid(
                        "無効化された利用者は担当者にできません".into(),
                    ))
                }
                Some(true) => {}
            }
        }
        let before = store::get(c, acting.insurer, notice)?;
        store::set(
            c,
            acting.insurer,
            notice,
            input.assignee,
            input.follow_up_on,
            &acting.label,
        )?;
        let after = store::get(c, acting.insurer, notice)?;
        let detail = format!(
            "担当者: {} → {}、次回対応日: {} → {}",
            shown(&before),
            shown(&after),
            date(before.follow_up_on),
            date(after.follow_up_on)
        );
        let target = notice_id(c, acting, notice)?;
        acting.audit(
            c,
            AuditAction::CaseWorkflowSet,
            Some(&target),
            Some(&detail),
        )?;
        Ok(after)
    })
}

fn shown(w: &store::Workflow) -> String {
    w.assignee
        .as_ref()
        .map(|a| format!("{}（ID {}）", a.name, a.id.0))
        .unwrap_or_else(|| "なし".into())
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "なし".into())
}

/// The 受付番号 of a notice, which the audit log names it by (like viewing it).
fn notice_id(c: &mut DbConn, acting: &Acting, notice: i64) -> Result<String, WorkflowError> {
    use crate::store::schema::notices;
    use diesel::prelude::*;
    Ok(notices::table
        .filter(notices::insurer_id.eq(acting.insurer.0))
        .filter(notices::id.eq(notice))
        .select(notices::notice_id)
        .first(c)?)
}

/// The text of a メモ as kept: trimmed, not empty, at most [`NOTE_MAX`] characters, and any run
/// of digits that could be a My Number masked (`ingest::mask_digits`) — the request guard masks
/// valid My Numbers in bodies already, this covers every other way in (the CLI, a number with a
/// wrong check digit typed into the note).
pub fn checked_note(text: &str) -> Result<String, WorkflowError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(WorkflowError::Invalid("メモを入力してください".into()));
    }
    limits::check("メモ", t, NOTE_MAX).map_err(WorkflowError::Invalid)?;
    // A NUL cannot be stored in a PostgreSQL text; other control characters are never typed.
    if t.chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        return Err(WorkflowError::Invalid("メモに制御文字は使えません".into()));
    }
    Ok(crate::ingest::mask_digits(t).into_owned())
}

/// Appends a メモ to one of the acting insurer's notices, written by the acting user. Notes are
/// never changed or deleted. Audited (the entry names the note, not its text). Returns it as
/// stored.
pub fn add_note(
    c: &mut DbConn,
    acting: &Acting,
    notice: i64,
    text: &str,
) -> Result<store::Note, WorkflowError> {
    let body = checked_note(text)?;
    write_tx(c, |c| {
        if !store::lock_notice(c, acting.insurer, notice)? {
            return Err(WorkflowError::NotFound);
        }
        let note = store::add_note(c, acting.insurer, notice, acting.user, &acting.label, &body)?;
        let detail = format!("メモ #{}（{}文字）", note.id, body.chars().count());
        let target = notice_id(c, acting, notice)?;
        acting.audit(c, AuditAction::CaseNoteAdded, Some(&target), Some(&detail))?;
        Ok(note)
    })
}
