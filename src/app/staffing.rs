//! Staffing for 資格届 (checklist 2-②): one period's figure, or the whole set; audited in the same
//! transaction.
use super::Acting;
use crate::domain::staffing::StaffingPeriod;
use crate::store::audit::AuditAction;
use crate::store::staffing as store;
use crate::store::{write_tx, DbConn};

#[derive(Debug, thiserror::Error)]
pub enum StaffingSaveError {
    /// A note too long, a period listed twice; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

const NOTE_MAX: usize = 200;

/// A note: trimmed, at most [`NOTE_MAX`] characters.
pub fn note(s: &str) -> Result<String, StaffingSaveError> {
    let n = s.trim();
    if n.chars().count() > NOTE_MAX {
        return Err(StaffingSaveError::Invalid(format!(
            "備考は {NOTE_MAX} 文字以内で入力してください"
        )));
    }
    Ok(n.to_string())
}

/// One figure as sent (period and head count already parsed).
pub struct Figure {
    pub period: StaffingPeriod,
    pub staff: f64,
    pub note: String,
}

/// Sets one period's figure, or removes it with `staff: None`; audited when anything changed.
pub fn set(
    conn: &mut DbConn,
    acting: &Acting,
    period: StaffingPeriod,
    staff: Option<f64>,
    note_text: &str,
) -> Result<(), StaffingSaveError> {
    let note = note(note_text)?;
    write_tx(conn, |c| {
        if store::set_in_tx(c, acting.insurer, period, staff, &note, &acting.label)? {
            let detail = staff
                .map(|s| format!("{s} 人"))
                .unwrap_or_else(|| "削除".into());
            record(c, acting, AuditAction::StaffingSet, &period.code(), &detail)?;
        }
        Ok(())
    })
}

/// Replaces the insurer's whole set of figures (a period listed twice is refused); audited.
pub fn replace_all(
    conn: &mut DbConn,
    acting: &Acting,
    figures: Vec<Figure>,
) -> Result<Vec<store::StaffingEntry>, StaffingSaveError> {
    let mut entries: Vec<(StaffingPeriod, f64, String)> = Vec::with_capacity(figures.len());
    for f in figures {
        if entries.iter().any(|(p, _, _)| *p == f.period) {
            return Err(StaffingSaveError::Invalid(format!(
                "期間 {} が重複しています",
                f.period.code()
            )));
        }
        entries.push((f.period, f.staff, note(&f.note)?));
    }
    write_tx(conn, |c| {
        store::replace_all_in_tx(c, acting.insurer, &entries, &acting.label)?;
        let detail = entries
            .iter()
            .map(|(p, s, _)| format!("{} {s} 人", p.code()))
            .collect::<Vec<_>>()
            .join("、");
        record(c, acting, AuditAction::StaffingReplace, "staffing", &detail)?;
        Ok(store::entries(c, acting.insurer)?)
    })
}

fn record(
    c: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> Result<(), diesel::result::Error> {
    acting.audit(c, action, Some(target), Some(detail))
}
