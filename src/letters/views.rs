//! What the API answers and the pages show about letters: a notice's 資格確認書, the letters
//! produced for it and which letters it can get, and the runs on the letters page.
use super::{CertMark, Letter, LetterKind, Refusal, Sender, Variant};
use crate::store::insurers::Insurer;
use crate::store::letters::{CertificateRow, LetterCounts, LetterRecord, RunSummary, SenderFields};
use crate::time::jst_minute as jst;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CertificateBody {
    pub id: i64,
    /// Database id of the notice
    pub notice: i64,
    pub issued_on: NaiveDate,
    /// Last day of validity (at most one month after `issued_on`)
    pub valid_until: NaiveDate,
    /// Who recorded it (an e-mail)
    pub issued_by: String,
    /// UTC
    #[serde(serialize_with = "crate::time::utc")]
    pub created_at: NaiveDateTime,
}

impl From<CertificateRow> for CertificateBody {
    fn from(c: CertificateRow) -> Self {
        CertificateBody {
            id: c.id,
            notice: c.notice_id,
            issued_on: c.issued_on,
            valid_until: c.valid_until,
            issued_by: c.issued_by_label,
            created_at: c.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LetterRecordBody {
    pub id: i64,
    /// registration_period | qualification_info | certificate
    pub kind: String,
    pub title: String,
    pub variant: String,
    pub variant_label: String,
    pub template_version: String,
    /// pdf | html
    pub format: String,
    pub letter_date: NaiveDate,
    pub certificate: Option<i64>,
    /// Letters produced together share it
    pub run_id: String,
    pub created_by: String,
    /// UTC
    #[serde(serialize_with = "crate::time::utc")]
    pub created_at: NaiveDateTime,
    /// `created_at` in Japan time
    pub created_at_jst: String,
    /// The letter as it was printed is kept: `GET /api/v1/letters/{id}` downloads it again
    pub kept: bool,
    /// 発送済: the day it was mailed (null: not recorded)
    pub sent_on: Option<NaiveDate>,
    /// Who recorded it as sent
    pub sent_by: Option<String>,
}

/// The title of a stored letter kind ("" for an unknown one).
pub fn title_of(kind: &str) -> &'static str {
    LetterKind::parse(kind).map(|k| k.title_ja()).unwrap_or("")
}

impl From<(LetterRecord, bool)> for LetterRecordBody {
    fn from((r, kept): (LetterRecord, bool)) -> Self {
        LetterRecordBody {
            kept,
            sent_on: r.sent_on,
            sent_by: r.sent_by_label.clone(),
            id: r.id,
            title: title_of(&r.kind).to_string(),
            variant_label: Variant::label_of(&r.variant).to_string(),
            kind: r.kind,
            variant: r.variant,
            template_version: r.template_version,
            format: r.format,
            letter_date: r.letter_date,
            certificate: r.certificate_id,
            run_id: r.run_id,
            created_by: r.created_by_label,
            created_at_jst: jst(r.created_at),
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CertStateBody {
    /// none | required | expired | issued | expiring | ended
    pub state: String,
    pub label: String,
    pub valid_until: Option<NaiveDate>,
}

impl From<CertMark> for CertStateBody {
    fn from(m: CertMark) -> Self {
        CertStateBody {
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: m.label.to_string(),
            valid_until: m.valid_until,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LetterOption {
    /// registration-period | qualification-info | certificate
    pub kind: String,
    pub title: String,
    pub available: bool,
    /// Why not, when not available
    pub reason: Option<String>,
    pub variant: Option<String>,
    pub variant_label: Option<String>,
}

impl LetterOption {
    /// The option of `kind` for one notice, from what preparing it gave.
    pub fn of(kind: LetterKind, letters: &[Letter], refused: &[Refusal]) -> LetterOption {
        LetterOption {
            kind: kind.slug().into(),
            title: kind.title_ja().into(),
            available: !letters.is_empty(),
            reason: refused.first().map(|r| r.to_string()),
            variant: letters.first().map(|l| l.variant.code().to_string()),
            variant_label: letters.first().map(|l| l.variant.label_ja().to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NoticeLettersBody {
    /// The 資格確認書 state as of today
    pub certificate_state: CertStateBody,
    /// Newest first
    pub certificates: Vec<CertificateBody>,
    /// Letters produced for this notice, newest first
    pub letters: Vec<LetterRecordBody>,
    /// The three letters and whether each can be produced today
    pub options: Vec<LetterOption>,
}

/// One run on the letters page.
#[derive(Serialize)]
pub struct RunView {
    title: &'static str,
    format: String,
    letters: i64,
    letter_date: NaiveDate,
    created_by: String,
    created_at_jst: String,
}

impl From<RunSummary> for RunView {
    fn from(r: RunSummary) -> Self {
        RunView {
            title: title_of(&r.kind),
            format: r.format,
            letters: r.letters,
            letter_date: r.letter_date,
            created_by: r.created_by_label,
            created_at_jst: jst(r.created_at),
        }
    }
}

/// The preview page of one letter (`letters/page_letter.html`).
#[derive(Serialize)]
pub struct LetterPageView {
    pub id: i64,
    pub notice_id: String,
    pub kind: &'static str,
    pub title: &'static str,
    pub date: String,
    /// Sender fields a letter that can be mailed still lacks.
    pub missing: Vec<&'static str>,
    /// The latest letter of this kind produced for the notice.
    pub produced: Option<LetterRecordBody>,
    /// Why the letter cannot be produced (the page answers 409).
    pub refusal: Option<String>,
    pub variant_label: &'static str,
}

/// The bulk page (`letters/page_bulk.html`): what a filter selects and what a run would produce.
#[derive(Serialize)]
pub struct BulkPageView {
    pub again: bool,
    /// The case-list filter as hidden form fields.
    pub fields: Vec<(String, String)>,
    pub list_qs: String,
    pub preview_qs: String,
    pub kind: &'static str,
    pub title: &'static str,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub date: String,
    pub matched: usize,
    pub count: usize,
    /// Why the other notices get no letter, with counts.
    pub skipped: Vec<(String, usize)>,
    pub missing: Vec<&'static str>,
    pub max_bulk: i64,
    /// The longest validity of a 資格確認書 issued on the letters' date.
    pub latest: String,
    pub variants: Vec<(&'static str, usize)>,
}

/// The letters page (`letters/page_index.html`): recent runs, counts and the sender fields.
#[derive(Serialize)]
pub struct IndexView {
    pub sender: SenderFields,
    /// The sender fields were just saved.
    pub saved: bool,
    /// Why the sender fields as typed were not saved.
    pub error: Option<String>,
    pub counts: LetterCounts,
    pub runs: Vec<RunView>,
    pub missing: Vec<&'static str>,
    pub default_issuer_word: &'static str,
}

impl IndexView {
    /// `sender`: the stored fields, or the fields as typed when they are shown again.
    pub fn new(
        ins: &Insurer,
        sender: SenderFields,
        runs: Vec<RunSummary>,
        counts: LetterCounts,
    ) -> IndexView {
        let sample = Sender::new(&ins.name, ins.number.as_str(), ins.kind, &sender);
        IndexView {
            missing: sample.missing(),
            default_issuer_word: super::default_issuer_word(ins.kind),
            sender,
            saved: false,
            error: None,
            counts,
            runs: runs.into_iter().map(RunView::from).collect(),
        }
    }
}
