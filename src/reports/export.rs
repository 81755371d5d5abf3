//! The one CSV writer of every export (case list, checklist, survey, statistics, rejects, `check`):
//! UTF-8 with a BOM so Excel opens it as such, and every cell neutralised against formula
//! injection the way OWASP recommends — a cell that a spreadsheet would read as a formula
//! (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`, unless it is a plain
//! number such as `-3`.
use std::borrow::Cow;
use std::io::Write;

const BOM: &[u8] = "\u{feff}".as_bytes();

/// A CSV export being written.
pub struct CsvExport<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvExport<W> {
    /// Starts the file (the BOM) on `out`.
    pub fn new(mut out: W) -> std::io::Result<CsvExport<W>> {
        out.write_all(BOM)?;
        Ok(CsvExport {
            w: csv::Writer::from_writer(out),
        })
    }

    /// One row (the header row too), each cell neutralised.
    pub fn row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for c in cells {
            self.field(c.as_ref())?;
        }
        self.end_row()
    }

    /// One cell of a row written a cell at a time (neutralised); `end_row` ends the row.
    pub fn field(&mut self, cell: &str) -> csv::Result<()> {
        self.w.write_field(neutralise(cell).as_bytes())
    }

    /// Ends the row of the cells written by `field`.
    pub fn end_row(&mut self) -> csv::Result<()> {
        // An empty record ends the row of the fields written above.
        self.w.write_record(None::<&[u8]>)
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> std::io::Result<W> {
        self.w
            .into_inner()
            .map_err(|e| std::io::Error::other(e.error().to_string()))
    }
}

/// A whole export in memory: the header row, then the rows.
pub fn csv_bytes<H, R, S>(headers: H, rows: impl IntoIterator<Item = R>) -> csv::Result<Vec<u8>>
where
    H: IntoIterator<Item = S>,
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = CsvExport::new(Vec::new())?;
    out.row(headers)?;
    for r in rows {
        out.row(r)?;
    }
    Ok(out.finish()?)
}

/// The rejected rows of an import (columns 行, 理由), as `store::import::rejects` gives them.
pub fn rejects_csv(rows: &[(i64, String)]) -> csv::Result<Vec<u8>> {
    csv_bytes(
        ["行".to_string(), "理由".to_string()],
        rows.iter()
            .map(|(line, reason)| [line.to_string(), reason.clone()]),
    )
}

/// The cell as a spreadsheet will not evaluate it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && cell.trim().parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+cmd|'/c calc'!A1"), "'+cmd|'/c calc'!A1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("-3"), "-3");
        assert_eq!(neutralise("+12.5"), "+12.5");
        assert_eq!(neutralise("山田 太郎"), "山田 太郎");
        assert_eq!(neutralise("2026-04-01"), "2026-04-01");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn the_file_starts_with_a_bom_and_quotes_as_csv_does() {
        let bytes = csv_bytes(["行", "理由"], [["1", "=1+1, \"x\""]]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "\u{feff}行,理由\n1,\"'=1+1, \"\"x\"\"\"\n");
    }
}
