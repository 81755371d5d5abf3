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

/// An export of the case list, audited and ready to be written.
pub struct Export {
    /// The rows, in the list's order, as the filter selected them when the export was audited.
    ids: Vec<i64>,
    insurer: Insurer,
    as_of: NaiveDate,
    format: ExportFormat,
    /// What the xlsx cover line says the list is.
    cover: String,
    /// `案件一覧_{保険者番号}_{as-of}.xlsx` and its ASCII stand-in.
    pub file_name: String,
    pub ascii_file_name: String,
}

impl Export {
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Writes the file to `out` as its rows are read, a chunk at a time (memory stays flat), each
    /// connection of `readers` reading every n-th chunk on its own thread. Any connections of the
    /// pool will do: the rows are fixed already.
    pub fn write<W: std::io::Write>(
        &self,
        readers: &mut [&mut DbConn],
        out: W,
    ) -> Result<W, cases::ExportError> {
        let (insurer, as_of, ids) = (&self.insurer, self.as_of, &self.ids);
        match self.format {
            ExportFormat::Csv => cases::write_csv(readers, insurer, as_of, ids, out),
            ExportFormat::Xlsx => cases::write_xlsx(readers, insurer, as_of, &self.cover, ids, out),
        }
    }
}

/// Every notice the filter selects, to be written as CSV or xlsx (`Export::write`). The rows are
/// chosen and the export audited here, before any row leaves: the entry holds the row count, the
/// format and the filter as given (`query`, the list's query string).
pub fn export_notices(
    conn: &mut DbConn,
    acting: &Acting,
    insurer: &Insurer,
    filter: &NoticeFilter,
    format: ExportFormat,
    query: &str,
) -> Result<Export, CasesError> {
    let ids = notices::ids(conn, acting.insurer, &insurer.rules, filter)?;
    let cover = match format {
        ExportFormat::Csv => String::new(),
        ExportFormat::Xlsx => cases::describe(conn, insurer, filter)?,
    };
    let detail = format!("{} 件（{}）{}", ids.len(), format.label(), query);
    acting.audit(conn, AuditAction::ExportNotices, None, Some(&detail))?;
    let (file_name, ascii_file_name) = cases::export_file_names(insurer, filter.as_of, format);
    Ok(Export {
        ids,
        insurer: insurer.clone(),
        as_of: filter.as_of,
        format,
        cover,
        file_name,
        ascii_file_name,
    })
}
