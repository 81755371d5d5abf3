//! The import profile editor (SPEC §3.1): what the page shows for a profile part and a sample
//! file — the sample as it is, its headers, a column for each field (with suggestions from the
//! header text), the code values seen, and the first rows as the import will read them.
use crate::ingest::convert::{self, Preview, Sample};
use crate::ingest::profile::suggest_field;
use crate::ingest::{FileProfile, Part};
use crate::store::profiles::Upload;
use crate::time::today_jst;
use serde::Serialize;
use std::collections::BTreeSet;

/// Rows of the sample shown as they are, and rows previewed as the import reads them.
const SAMPLE_ROWS: usize = 30;
const PREVIEW_ROWS: usize = 20;

/// One field row of the editor.
#[derive(Serialize)]
pub struct FieldView {
    key: &'static str,
    label: &'static str,
    required: bool,
    /// The header chosen (mapped), if any.
    chosen: Option<String>,
    /// The header regwatch would take without a mapping (its own names), if any.
    automatic: Option<String>,
}

/// A field whose values can be mapped, with its current map and the values seen in the sample.
#[derive(Serialize)]
pub struct ValueView {
    key: &'static str,
    allowed: &'static [&'static str],
    text: String,
    seen: Vec<String>,
}

#[derive(Serialize)]
pub struct SampleView {
    format: &'static str,
    sheets: Vec<String>,
    sheet: Option<String>,
    rows: Vec<(u32, Vec<String>)>,
    headers: Vec<String>,
}

/// Everything the editor shows besides the page frame.
pub struct EditorView {
    /// The profile part as edited (with suggestions filled in when asked).
    pub fp: FileProfile,
    pub fields: Vec<FieldView>,
    pub values: Vec<ValueView>,
    pub upload_name: Option<String>,
    pub sample: Option<SampleView>,
    pub sample_error: Option<String>,
    pub preview: Option<Preview>,
    pub preview_error: Option<String>,
    /// The part as a whole profile in TOML (what 「TOML で書き出す」 gives).
    pub toml: String,
}

/// The editor for `fp` (part `part`) over the sample upload `content`, if any. With `suggest`,
/// fields the profile does not map yet get a column from the header text.
pub fn editor(
    content: Option<&Upload>,
    part: Part,
    mut fp: FileProfile,
    suggest: bool,
) -> EditorView {
    // The file's bytes, shared (not copied) by the sample and the preview readers.
    let bytes: Option<std::sync::Arc<[u8]>> =
        content.as_ref().map(|up| up.content.as_slice().into());
    let mut sample_error = None;
    let mut sample: Option<Sample> = None;
    if let Some(b) = &bytes {
        match convert::sample(std::io::Cursor::new(b.clone()), &fp, SAMPLE_ROWS) {
            Ok(s) => sample = Some(s),
            Err(e) => sample_error = Some(e.to_string()),
        }
    }
    let headers: Vec<String> = sample
        .as_ref()
        .and_then(|s| s.rows.iter().find(|(n, _)| *n == fp.header_row))
        .map(|(_, cells)| {
            cells
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default();
    // Suggestions from the header text, for fields the profile does not map yet and regwatch
    // would not find by its own names.
    if suggest {
        for h in &headers {
            if let Some(field) = suggest_field(part, h) {
                let own = part
                    .specs_names(field)
                    .iter()
                    .any(|n| crate::ingest::profile::same_header(n, h));
                let taken = fp.columns.values().any(|v| v == h);
                if !own && !taken && !fp.columns.contains_key(field) {
                    fp.columns.insert(field.to_string(), h.clone());
                }
            }
        }
    }
    let fields: Vec<FieldView> = part
        .fields()
        .map(|f| FieldView {
            key: f.key,
            label: f.label_ja,
            required: f.required,
            chosen: fp.columns.get(f.key).cloned(),
            automatic: headers
                .iter()
                .find(|h| {
                    part.specs_names(f.key)
                        .iter()
                        .any(|n| crate::ingest::profile::same_header(n, h))
                })
                .cloned(),
        })
        .collect();
    let column_of = |key: &str| -> Option<usize> {
        let header = fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.chosen.clone().or_else(|| f.automatic.clone()))?;
        sample
            .as_ref()?
            .rows
            .iter()
            .find(|(n, _)| *n == fp.header_row)?
            .1
            .iter()
            .position(|c| c.trim() == header)
    };
    let values: Vec<ValueView> = part
        .value_fields()
        .iter()
        .map(|(key, allowed)| {
            let seen: BTreeSet<String> = match (column_of(key), &sample) {
                (Some(col), Some(s)) => s
                    .rows
                    .iter()
                    .filter(|(n, _)| *n > fp.header_row)
                    .filter_map(|(_, cells)| cells.get(col))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect(),
                _ => BTreeSet::new(),
            };
            ValueView {
                key,
                allowed,
                text: fp
                    .values
                    .get(*key)
                    .map(|m| {
                        m.iter()
                            .map(|(a, b)| format!("{a}={b}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                seen: seen.into_iter().take(20).collect(),
            }
        })
        .collect();
    let preview: Option<Result<Preview, String>> = content.as_ref().zip(bytes).map(|(up, b)| {
        convert::preview(
            std::io::Cursor::new(b),
            part,
            &fp,
            today_jst(),
            up.received_on.unwrap_or_else(today_jst),
            PREVIEW_ROWS,
        )
        .map_err(|e| e.to_string())
    });
    let (preview, preview_error) = match preview {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let toml = {
        let mut whole = crate::ingest::Profile::default();
        match part {
            Part::Notices => whole.notices = Some(fp.clone()),
            Part::Registrations => whole.registrations = Some(fp.clone()),
        }
        whole.to_toml()
    };
    EditorView {
        upload_name: content.map(|u| u.file_name.clone()),
        sample: sample.map(|s| SampleView {
            format: s.format.label(),
            sheets: s.sheets,
            sheet: s.sheet,
            rows: s.rows,
            headers: headers.clone(),
        }),
        sample_error,
        fp,
        fields,
        values,
        preview,
        preview_error,
        toml,
    }
}
