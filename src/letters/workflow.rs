//! A run of letters without the database: which notices get a letter and which are skipped (and
//! why, in the words the bulk page shows), whether a notice needs a 資格確認書 before a bulk run,
//! and producing the document of a run (HTML, printed to PDF) with a kept copy of each letter.
use super::pdf::{PdfError, Printer};
use super::{check_issue, document, prepare, render_pages, single_title, Letter, LetterKind};
use super::{Mode, Refusal, Sender};
use crate::domain::RuleSettings;
use crate::store::letters::{CertificateRow, LetterSubject};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// What a run produces: a PDF, or the printable HTML document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Html,
}

impl Format {
    /// `pdf` or `html` (None for anything else).
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "pdf" => Some(Format::Pdf),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Html => "印刷用HTML",
        }
    }
}

/// The letters of `kind` for `subjects` on `date`, and the refusals (each in the subjects' order).
/// `certs` are the 資格確認書 of each notice, newest first.
pub fn prepare_all(
    kind: LetterKind,
    subjects: &[LetterSubject],
    certs: &HashMap<i64, Vec<CertificateRow>>,
    rules: &RuleSettings,
    date: NaiveDate,
) -> (Vec<Letter>, Vec<Refusal>) {
    let mut out = Vec::with_capacity(subjects.len());
    let mut refused = Vec::new();
    for s in subjects {
        let cs = certs.get(&s.facts.id).map(Vec::as_slice).unwrap_or(&[]);
        match prepare(kind, s, cs, rules, date) {
            Ok(l) => out.push(l),
            Err(r) => refused.push(r),
        }
    }
    (out, refused)
}

/// Moves the letters of notices that already have this letter (`done`) to the refusals: a bulk
/// run skips them unless asked to produce them again.
pub fn skip_produced(
    kind: LetterKind,
    letters: &mut Vec<Letter>,
    refused: &mut Vec<Refusal>,
    done: &HashSet<i64>,
) {
    letters.retain(|l| {
        let keep = !done.contains(&l.notice);
        if !keep {
            refused.push(Refusal::AlreadyProduced {
                title: kind.title_ja(),
                notice: l.view.notice_id.clone(),
            });
        }
        keep
    });
}

/// A bulk run of certificate letters records a 資格確認書 (issued on `date`, valid until `until`)
/// for a notice that has none in force that day and may get one.
pub fn needs_certificate(
    subject: &LetterSubject,
    certs: &HashMap<i64, Vec<CertificateRow>>,
    date: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
) -> bool {
    let has_current = certs
        .get(&subject.facts.id)
        .is_some_and(|cs| cs.iter().any(|c| c.valid_on(date)));
    !has_current && check_issue(&subject.facts, date, until, today).is_ok()
}

/// Refusal reasons with their counts, most frequent first (the bulk page's 「対象外」).
pub fn tally(refused: &[Refusal]) -> Vec<(String, usize)> {
    let mut by: Vec<(&'static str, String, usize)> = Vec::new();
    for r in refused {
        let label = match r {
            Refusal::AlreadyProduced { .. } => {
                "作成済み（もう一度作成する場合は「作成済みの届書にも作成する」）"
            }
            Refusal::NotRegistered(_) => "データ登録が未完了（資格情報のお知らせは登録完了後）",
            Refusal::AlreadyRegistered { .. } => "データ登録が完了済み",
            Refusal::LossNotice { .. } => "資格喪失届",
            Refusal::NoCertificate(_) => "資格確認書の交付記録なし",
        };
        match by.iter_mut().find(|(c, _, _)| *c == r.code()) {
            Some(e) => e.2 += 1,
            None => by.push((r.code(), label.to_string(), 1)),
        }
    }
    by.sort_by_key(|e| std::cmp::Reverse(e.2));
    by.into_iter().map(|(_, l, n)| (l, n)).collect()
}

/// The wordings of a run with how many letters use each, in order of first use.
pub fn variant_counts(letters: &[Letter]) -> Vec<(&'static str, usize)> {
    let mut variants: Vec<(&'static str, usize)> = Vec::new();
    for l in letters {
        match variants
            .iter_mut()
            .find(|(v, _)| *v == l.variant.label_ja())
        {
            Some(e) => e.1 += 1,
            None => variants.push((l.variant.label_ja(), 1)),
        }
    }
    variants
}

/// Why a run could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(transparent)]
    Render(#[from] tera::Error),
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// A run produced: the document to hand out, and the document of each letter to keep.
pub struct Printed {
    pub body: Vec<u8>,
    /// One whole HTML document per letter (in the letters' order), to download it again as it was.
    pub kept: Vec<String>,
}

/// Renders the letters (final, not 「見本」) into one document and prints it in `format`. Blocks
/// (Chromium) for PDF: run it off the async runtime and without holding a database connection.
pub fn print(
    tera: &tera::Tera,
    sender: &Sender,
    letters: &[Letter],
    format: Format,
) -> Result<Printed, PrintError> {
    let title = match letters {
        [one] => single_title(one.kind, &one.view.notice_id),
        _ => format!(
            "{}（{}通）",
            letters.first().map(|l| l.kind.title_ja()).unwrap_or(""),
            letters.len()
        ),
    };
    let pages = render_pages(tera, sender, letters, Mode::Final)?;
    let html = document(tera, &pages, Mode::Final, &title)?;
    // Each letter is kept as the document of that one letter, to download it again as it was.
    let kept: Vec<String> = if letters.len() == 1 {
        vec![html.clone()]
    } else {
        pages
            .iter()
            .zip(letters)
            .map(|(p, l)| {
                document(
                    tera,
                    std::slice::from_ref(p),
                    Mode::Final,
                    &single_title(l.kind, &l.view.notice_id),
                )
            })
            .collect::<Result<_, _>>()?
    };
    let body = print_document(html, letters.len(), format)?;
    Ok(Printed { body, kept })
}

/// A whole HTML document of `pages` pages in `format` (blocks for PDF).
pub fn print_document(html: String, pages: usize, format: Format) -> Result<Vec<u8>, PdfError> {
    match format {
        Format::Html => Ok(html.into_bytes()),
        Format::Pdf => Printer::from_env().print(&html, pages),
    }
}
