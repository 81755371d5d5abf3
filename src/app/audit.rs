//! 監査ログ export: the filtered log of the acting insurer as CSV; the export itself is audited.
use super::Acting;
use crate::reports::audit::{self as view, AuditQuery};
use crate::store::audit::AuditAction;
use crate::store::DbConn;
use chrono::NaiveDate;

/// The most entries one export holds; a larger log is exported by periods.
pub const EXPORT_LIMIT: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("出力できるのは{EXPORT_LIMIT}件までです（該当 {0} 件以上）。期間を絞ってください")]
    TooMany(usize),
    #[error("CSV を作成できません: {0}")]
    Csv(#[from] csv::Error),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A CSV file of the log and the period it covers (for its name).
pub struct AuditExport {
    pub bytes: Vec<u8>,
    pub rows: usize,
    /// The `from` asked for, else the day of the oldest entry exported (else `to`).
    pub from: NaiveDate,
    /// The `to` asked for, else today (Japan).
    pub to: NaiveDate,
}

/// The acting insurer's entries that match `q`, newest first, as CSV. Audited.
pub fn export_csv(
    conn: &mut DbConn,
    acting: &Acting,
    q: &AuditQuery,
) -> Result<AuditExport, AuditError> {
    let lines = view::matching(conn, acting.insurer, q, EXPORT_LIMIT as i64 + 1)?;
    if lines.len() > EXPORT_LIMIT {
        return Err(AuditError::TooMany(lines.len()));
    }
    let bytes = view::csv(&lines)?;
    let to = q.to.unwrap_or_else(crate::time::today_jst);
    let from = q
        .from
        .or_else(|| lines.last().map(|l| crate::time::jst_date(l.at)))
        .unwrap_or(to);
    let mut detail = format!("{} 件（{from}〜{to}", lines.len());
    if let Some(a) = q.action {
        detail.push_str(&format!("、操作: {}", a.label_ja()));
    }
    if let Some(u) = q.user {
        detail.push_str(&format!("、利用者ID: {}", u.0));
    }
    detail.push('）');
    acting.audit(conn, AuditAction::ExportAudit, None, Some(&detail))?;
    Ok(AuditExport {
        rows: lines.len(),
        bytes,
        from,
        to,
    })
}
