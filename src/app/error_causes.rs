//! 要因分析: the insurer's table of intermediate-server error codes and the cause each stands for;
//! replaced as a whole, audited in the same transaction.
use super::Acting;
use crate::reports::analysis::Cause;
use crate::store::audit::AuditAction;
use crate::store::error_causes;
use crate::store::{write_tx, DbConn};

#[derive(Debug, thiserror::Error)]
pub enum ErrorCausesError {
    /// A bad code or an unknown cause; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// Checks the rows as sent (code, cause code) — a blank code drops its row, a code of at most 40
/// characters without control characters, a known cause — and replaces the table. Audited when
/// anything changed.
pub fn replace_all(
    conn: &mut DbConn,
    acting: &Acting,
    rows: &[(String, String)],
) -> Result<(), ErrorCausesError> {
    let mut typed = Vec::with_capacity(rows.len());
    for (code, cause) in rows {
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if code.chars().count() > 40 || code.chars().any(char::is_control) {
            return Err(ErrorCausesError::Invalid(format!(
                "エラーコード「{}」は改行などを含まない40文字以内にしてください",
                crate::ingest::mask_digits(code)
            )));
        }
        let parsed = Cause::parse(cause).ok_or_else(|| {
            ErrorCausesError::Invalid(format!(
                "要因「{cause}」はありません（{}）",
                Cause::ALL.map(|c| c.code()).join(" / ")
            ))
        })?;
        typed.push((code.to_string(), parsed));
    }
    write_tx(conn, |c| {
        if error_causes::replace_all_in_tx(c, acting.insurer, &typed, &acting.label)? {
            let detail = typed
                .iter()
                .map(|(code, cause)| {
                    format!("{}={}", error_causes::normal_code(code), cause.label_ja())
                })
                .collect::<Vec<_>>()
                .join("、");
            acting.audit(
                c,
                AuditAction::ErrorCausesSet,
                Some("要因分析のエラーコード"),
                Some(&detail),
            )?;
        }
        Ok::<(), diesel::result::Error>(())
    })?;
    crate::reports::rollups::refresh_after_change(conn, acting.insurer);
    Ok(())
}
