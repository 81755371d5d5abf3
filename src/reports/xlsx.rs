//! The xlsx writer's shared pieces: every sheet of an export names the insurer in A1, says what it
//! is in A2 and has its bold headers in row 4, the rows below.
use crate::store::insurers::Insurer;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

pub use rust_xlsxwriter::XlsxError;

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Row of the headers (0-based); the data starts on the next row.
pub const HEADER_ROW: u32 = 3;

/// A new sheet named `name` with the insurer in A1, `title` in A2 and the headers in row 4.
pub fn sheet<'a>(
    wb: &'a mut Workbook,
    name: &str,
    insurer: &Insurer,
    title: &str,
    headers: &[&str],
) -> Result<&'a mut Worksheet, XlsxError> {
    let ws = wb.add_worksheet();
    fill_sheet(ws, name, insurer, title, headers)?;
    Ok(ws)
}

/// Names `ws` and writes the insurer in A1, `title` in A2 and the headers in row 4 (the first rows,
/// so a sheet in constant memory can take its data rows after them).
pub fn fill_sheet(
    ws: &mut Worksheet,
    name: &str,
    insurer: &Insurer,
    title: &str,
    headers: &[&str],
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    ws.set_name(name)?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} {}", insurer.number.as_str(), insurer.name),
        &bold,
    )?;
    ws.write_string(1, 0, title)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, c as u16, *h, &bold)?;
    }
    Ok(())
}

/// A sheet of text cells (wrapped, top-aligned) under the headers, with column widths and the
/// header rows frozen.
pub fn text_sheet<const N: usize>(
    wb: &mut Workbook,
    name: &str,
    insurer: &Insurer,
    title: &str,
    headers: &[&str; N],
    rows: &[[String; N]],
    widths: &[f64],
) -> Result<(), XlsxError> {
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let ws = sheet(wb, name, insurer, title, headers)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string_with_format(r as u32 + HEADER_ROW + 1, c as u16, v, &wrap)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    Ok(())
}
