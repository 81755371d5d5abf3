//! Cases (案件): opening one notice and exporting the case list. Both show members' personal data,
//! so both are audited (SPEC: who saw or took out what).
use super::Acting;
use crate::reports::cases::{self, ExportFormat, NoticeDetailBody};
use crate::store::audit::AuditAction;
use crate::store::insurers::{self, Insurer};
use crate::store::notices::{self, NoticeDbId, NoticeFilter};
use crate::store::DbConn;
use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    #[error("見つかりません")]
    NotFound,
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] insurers::InsurerError),
    /// The export could not be written.
    #[error("書き出しに失敗しました: {0}")]
    Export(#[source] anyhow::Error),
}

/// One notice of the acting insurer with its member and registration results, evaluated as of a
/// date. The view is audited (the case page shows a member's name).
pub fn view_notice(
    conn: &mut DbConn,
    acting: &Acting,
    id: NoticeDbId,
    as_of: NaiveDate,
) -> Result<(Insurer, NoticeDetailBody), CasesError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    let d = notices::get(conn, acting.insurer, id)?.ok_or(CasesError::NotFound)?;
    acting.audit(conn, AuditAction::ViewNotice, Some(&d.row.notice_id), None)?;
    let workflow = crate::store::workflow::get(conn, acting.insurer, id.0)?;
    let notes = crate::store::workflow::notes(conn, acting.insurer, id.0)?;
    let body = NoticeDetailBody::new(d, &workflow, notes, &insurer.rules, as_of);
    Ok((insurer, body))
}

/// A written export of the case list.
pub struct Export {
    pub bytes: Vec<u8>,
    pub rows: usize,
    /// `案件一覧_{保険者番号}_{as-of}.xlsx` and its ASCII stand-in.
    pub file_name: String,
    pub ascii_file_name: String,
}

/// Every notice the filter selects, written as CSV or xlsx. Audited with the row count, the
/// format and the filter as given (`query`, the list's query string).
pub fn export_notices(
    conn: &mut DbConn,
    acting: &Acting,
    insurer: &Insurer,
    filter: &NoticeFilter,
    format: ExportFormat,
    query: &str,
) -> Result<Export, CasesError> {
    let cells = cases::export_rows(conn, insurer, filter)?;
    let rows = cells.len();
    let bytes = match format {
        ExportFormat::Csv => cases::export_csv(&cells).map_err(|e| CasesError::Export(e.into()))?,
        ExportFormat::Xlsx => {
            let cover = cases::describe(conn, insurer, filter)?;
            cases::export_xlsx(insurer, filter.as_of, &cover, &cells)
                .map_err(|e| CasesError::Export(e.into()))?
        }
    };
    let detail = format!("{} 件（{}）{}", rows, format.label(), query);
    acting.audit(conn, AuditAction::ExportNotices, None, Some(&detail))?;
    let (file_name, ascii_file_name) = cases::export_file_names(insurer, filter.as_of, format);
    Ok(Export {
        bytes,
        rows,
        file_name,
        ascii_file_name,
    })
}
