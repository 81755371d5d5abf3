//! The letter workflow (SPEC §4, §2.4): preparing letters for one notice or for a case-list
//! filter, recording what was produced with its audit entry, 資格確認書 records (one, or in bulk
//! before a run of certificate letters), previews, downloading a letter again, marking it 発送済,
//! and the sender fields the letters print.
//!
//! A run is prepared ([`prepare_letter`], [`prepare_bulk_run`]), printed ([`print`]: Chromium, so
//! without a database connection) and then recorded ([`record`]): a letter is recorded only once
//! it has really been produced. Roles are checked by the caller; every query is scoped to the
//! acting insurer.
use super::Acting;
use crate::letters::pdf::PdfError;
use crate::letters::views::{
    BulkPageView, CertificateBody, LetterOption, LetterPageView, LetterRecordBody,
    NoticeLettersBody,
};
use crate::letters::workflow::{self, Format, PrintError, Printed};
use crate::letters::{
    self, cert_mark, check_issue, latest_valid_until, CertMark, Letter, LetterKind, Mode, Refusal,
    Sender,
};
use crate::store::audit::AuditAction;
use crate::store::insurers::{self, Insurer, InsurerError};
use crate::store::letters::{
    self as store, By, CertificateId, CertificateRow, LetterCounts, LetterRecord, NewLetter, Run,
    RunSummary, SenderFields,
};
use crate::store::notices::{self, NoticeDbId, NoticeFilter};
use crate::store::{write_tx, DbConn};
use crate::time::jst_minute as jst;
use chrono::NaiveDate;

/// Letters in one bulk run: a 500-letter PDF takes Chromium well under a minute; more than this
/// is better split by month or employer.
pub const MAX_BULK: i64 = 2_000;
/// Letters shown in the preview of a bulk run.
pub const BULK_PREVIEW: usize = 3;
/// Rows read per query while selecting a bulk run.
const SELECT_CHUNK: i64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Errors

/// An error of the letter workflow. A letter that must not be produced has its own code (the
/// API answers 409), a PDF that cannot be printed too (503).
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("見つかりません")]
    NotFound,
    /// Input the rules refuse (dates, too many notices, sender fields); the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    NoLetters(String),
    #[error("{0}")]
    Pdf(PdfError),
    /// The letter was produced before for this notice: the API needs `again=1`, the page asks.
    #[error("{title}はこの届書（受付番号 {notice}）について{at}に作成済みです（作成者 {by}、発行日 {date}）。もう一度作成する場合は again=1 を指定してください")]
    AlreadyProduced {
        title: &'static str,
        notice: String,
        at: String,
        by: String,
        date: NaiveDate,
        /// The database id of that letter (to download it again)
        letter: i64,
    },
    /// A letter recorded before its HTML was kept.
    #[error("この文書（作成 {0}）は文面の保存を始める前に作成されたため、もう一度ダウンロードできません")]
    NotKept(String),
    #[error("この文書は{on}に発送済として記録されています（{by}）")]
    AlreadySent { on: NaiveDate, by: String },
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] InsurerError),
    #[error("文書を作成できません: {0}")]
    Render(#[from] tera::Error),
}

impl LetterError {
    /// The stable code of a letter-specific error (the JSON error body's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            LetterError::NotFound => "not_found",
            LetterError::Invalid(_) => "bad_request",
            LetterError::Refused(r) => r.code(),
            LetterError::NoLetters(_) => "no_letters",
            LetterError::Pdf(_) => "pdf_unavailable",
            LetterError::AlreadyProduced { .. } => "already_produced",
            LetterError::NotKept(_) => "not_kept",
            LetterError::AlreadySent { .. } => "already_sent",
            LetterError::Db(_) | LetterError::Insurer(_) | LetterError::Render(_) => "internal",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared steps

fn by(acting: &Acting) -> By {
    By {
        user: acting.user,
        label: acting.label.clone(),
    }
}

fn audit(
    conn: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), diesel::result::Error> {
    acting.audit(conn, action, target, detail)
}

/// The acting insurer and the sender its letters print.
fn insurer_and_sender(
    conn: &mut DbConn,
    acting: &Acting,
) -> Result<(Insurer, Sender), LetterError> {
    let ins = insurers::get(conn, acting.insurer)?;
    let f = store::sender_fields(conn, ins.id)?;
    let sender = Sender::new(&ins.name, ins.number.as_str(), ins.kind, &f);
    Ok((ins, sender))
}

/// The letters of `kind` for the given notices on `date`, the refusals (in the same order), and
/// how many of the notices were found.
fn prepare_many(
    conn: &mut DbConn,
    ins: &Insurer,
    ids: &[i64],
    kind: LetterKind,
    date: NaiveDate,
) -> Result<(Vec<Letter>, Vec<Refusal>, usize), LetterError> {
    let subjects = store::letter_subjects(conn, ins.id, ids)?;
    let certs = store::certificates_for(conn, ins.id, ids)?;
    let (letters, refused) = workflow::prepare_all(kind, &subjects, &certs, &ins.rules, date);
    Ok((letters, refused, subjects.len()))
}

/// One letter for one notice, or not found / the refusal.
fn prepare_one(
    conn: &mut DbConn,
    ins: &Insurer,
    id: NoticeDbId,
    kind: LetterKind,
    date: NaiveDate,
) -> Result<Letter, LetterError> {
    let (mut letters, mut refused, found) = prepare_many(conn, ins, &[id.0], kind, date)?;
    if found == 0 {
        return Err(LetterError::NotFound);
    }
    match (letters.pop(), refused.pop()) {
        (Some(l), _) => Ok(l),
        (None, Some(r)) => Err(LetterError::Refused(r)),
        (None, None) => Err(LetterError::NotFound),
    }
}

/// Previews are not recorded as letters, but who looked at whose letter is audited.
fn audit_preview(
    conn: &mut DbConn,
    acting: &Acting,
    target: Option<&str>,
    detail: &str,
) -> Result<(), LetterError> {
    audit(
        conn,
        acting,
        AuditAction::LetterPreviewed,
        target,
        Some(detail),
    )?;
    Ok(())
}

fn preview_title(kind: LetterKind) -> String {
    format!("{}（見本）", kind.title_ja())
}

// ---------------------------------------------------------------------------------------------
// Producing a run: prepare, print, record

/// Letters prepared for one run: print them with [`print`], then [`record`] them.
pub struct Job {
    pub sender: Sender,
    pub letters: Vec<Letter>,
    /// Notices selected that get no letter (counted in the response and the audit entry).
    pub skipped: usize,
    pub format: Format,
    pub date: NaiveDate,
    /// The 受付番号 of a single letter (the audit entry's target).
    audit_target: Option<String>,
    /// Appended to the audit detail (the filter of a bulk run).
    audit_note: String,
    pub file_stem: String,
}

/// What was produced, ready to send.
pub struct Produced {
    pub body: Vec<u8>,
    pub format: Format,
    pub letters: usize,
    pub skipped: usize,
    pub file_stem: String,
}

/// One letter from a case page.
#[derive(Clone, Copy, Debug)]
pub struct LetterRequest {
    pub notice: NoticeDbId,
    pub kind: LetterKind,
    pub format: Format,
    /// The date printed on the letter.
    pub date: NaiveDate,
    /// Produce it although this letter was already produced for the notice.
    pub again: bool,
}

/// The letter of one notice, ready to print; [`LetterError::AlreadyProduced`] when it was
/// produced before and `again` is not set.
pub fn prepare_letter(
    conn: &mut DbConn,
    acting: &Acting,
    req: LetterRequest,
) -> Result<Job, LetterError> {
    let (ins, sender) = insurer_and_sender(conn, acting)?;
    let l = prepare_one(conn, &ins, req.notice, req.kind, req.date)?;
    if !req.again {
        if let Some((r, _)) = store::last_letter(conn, ins.id, req.notice, req.kind.code())? {
            return Err(LetterError::AlreadyProduced {
                title: req.kind.title_ja(),
                notice: l.view.notice_id.clone(),
                at: jst(r.created_at),
                by: r.created_by_label.clone(),
                date: r.letter_date,
                letter: r.id,
            });
        }
    }
    Ok(Job {
        sender,
        audit_target: Some(l.view.notice_id.clone()),
        letters: vec![l],
        skipped: 0,
        format: req.format,
        date: req.date,
        audit_note: String::new(),
        file_stem: format!("letter-{}-{}", req.notice.0, req.kind.slug()),
    })
}

/// Prints a run (blocks for PDF: call it off the async runtime, holding no connection).
pub fn print(tera: &tera::Tera, job: &Job) -> Result<Printed, LetterError> {
    workflow::print(tera, &job.sender, &job.letters, job.format).map_err(|e| match e {
        PrintError::Render(e) => LetterError::Render(e),
        PrintError::Pdf(e) => logged(e),
    })
}

/// A PDF that cannot be printed is the operator's to fix: the cause goes to the log, the user
/// gets the message.
fn logged(e: PdfError) -> LetterError {
    match &e {
        PdfError::Failed { status, stderr } => {
            tracing::error!(%status, stderr = %stderr, "chromium failed to print letters")
        }
        other => tracing::error!(error = %other, "letters could not be printed"),
    }
    LetterError::Pdf(e)
}

fn run_id() -> String {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

/// Records the letters of a printed run with its audit entry, in one transaction.
pub fn record(
    conn: &mut DbConn,
    acting: &Acting,
    job: Job,
    printed: Printed,
) -> Result<Produced, LetterError> {
    let Job {
        letters,
        skipped,
        format,
        date,
        audit_target,
        audit_note,
        file_stem,
        ..
    } = job;
    let Some(kind) = letters.first().map(|l| l.kind) else {
        return Err(LetterError::NoLetters(format!(
            "作成できるお知らせがありません（対象外 {skipped} 件）"
        )));
    };
    let n = letters.len();
    let who = by(acting);
    let run = run_id();
    write_tx(conn, |c| {
        let items: Vec<NewLetter> = letters
            .iter()
            .zip(printed.kept)
            .map(|(l, html)| NewLetter {
                notice: NoticeDbId(l.notice),
                kind: l.kind.code(),
                variant: l.variant.code(),
                template_version: l.kind.template_version(),
                certificate: l.certificate.map(CertificateId),
                html: Some(html),
            })
            .collect();
        store::record_letters(
            c,
            acting.insurer,
            &Run {
                id: &run,
                format: format.code(),
                letter_date: date,
                by: &who,
            },
            &items,
        )?;
        let detail = format!(
            "{} {}通（{}）発行日 {} 版 {} 作成番号 {}{}",
            kind.title_ja(),
            n,
            format.label(),
            date,
            kind.template_version(),
            run,
            audit_note
        );
        audit(
            c,
            acting,
            AuditAction::LettersGenerated,
            audit_target.as_deref(),
            Some(&detail),
        )?;
        Ok::<_, LetterError>(())
    })?;
    tracing::info!(letters = n, kind = kind.code(), "letters generated");
    Ok(Produced {
        body: printed.body,
        format,
        letters: n,
        skipped,
        file_stem,
    })
}

// ---------------------------------------------------------------------------------------------
// One letter: the preview page and the letter marked 「見本」

/// The preview page of one letter: the letter the notice would get on `date`, or why not (then
/// `refusal` is set), and the last one produced. Other errors (not found) are errors.
pub fn letter_page(
    conn: &mut DbConn,
    acting: &Acting,
    notice: NoticeDbId,
    kind: LetterKind,
    date: NaiveDate,
) -> Result<(Insurer, LetterPageView), LetterError> {
    let (insurer, sender) = insurer_and_sender(conn, acting)?;
    let n = notices::get(conn, insurer.id, notice)?.ok_or(LetterError::NotFound)?;
    let (refusal, variant_label) = match prepare_one(conn, &insurer, notice, kind, date) {
        Ok(l) => (None, l.variant.label_ja()),
        Err(LetterError::Refused(r)) => (Some(r.to_string()), ""),
        Err(e) => return Err(e),
    };
    let last = store::last_letter(conn, insurer.id, notice, kind.code())?;
    let view = LetterPageView {
        id: notice.0,
        notice_id: n.row.notice_id,
        kind: kind.slug(),
        title: kind.title_ja(),
        date: date.to_string(),
        missing: sender.missing(),
        produced: last.map(LetterRecordBody::from),
        refusal,
        variant_label,
    };
    Ok((insurer, view))
}

/// The letter of one notice marked 「見本」 (not recorded; the preview is audited).
pub fn preview_letter(
    conn: &mut DbConn,
    acting: &Acting,
    tera: &tera::Tera,
    notice: NoticeDbId,
    kind: LetterKind,
    date: NaiveDate,
) -> Result<String, LetterError> {
    let (ins, sender) = insurer_and_sender(conn, acting)?;
    let l = prepare_one(conn, &ins, notice, kind, date)?;
    audit_preview(conn, acting, Some(&l.view.notice_id), kind.title_ja())?;
    Ok(letters::render(
        tera,
        &sender,
        &[l],
        Mode::Preview,
        &preview_title(kind),
    )?)
}

// ---------------------------------------------------------------------------------------------
// 資格確認書

// A 資格確認書 to record: the API's request body, which the page's form converts to (like
// Lemmy's api_common forms). No doc comment: it would become the schema's description.
#[derive(Clone, Copy, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct IssueRequest {
    /// Issue date (default: today in Japan); not before the notice's receipt, not after today
    pub issued_on: Option<NaiveDate>,
    /// Last day of validity (default and maximum: one month after the issue date)
    pub valid_until: Option<NaiveDate>,
}

/// Checks and records a 資格確認書 with its audit entry, in one transaction (SPEC §2.4).
pub fn issue_certificate(
    conn: &mut DbConn,
    acting: &Acting,
    notice: NoticeDbId,
    input: IssueRequest,
) -> Result<CertificateRow, LetterError> {
    let today = crate::time::today_jst();
    let issued_on = input.issued_on.unwrap_or(today);
    let valid_until = input
        .valid_until
        .unwrap_or_else(|| latest_valid_until(issued_on));
    let who = by(acting);
    write_tx(conn, |c| {
        let s = store::letter_subjects(c, acting.insurer, &[notice.0])?
            .pop()
            .ok_or(LetterError::NotFound)?;
        check_issue(&s.facts, issued_on, valid_until, today)
            .map_err(|e| LetterError::Invalid(e.to_string()))?;
        let row =
            store::insert_certificate(c, acting.insurer, notice, issued_on, valid_until, &who)?;
        let detail = format!("交付日 {issued_on} 有効期限 {valid_until}");
        audit(
            c,
            acting,
            AuditAction::CertificateIssued,
            Some(&s.facts.notice_id),
            Some(&detail),
        )?;
        Ok(row)
    })
}

/// The 資格確認書 and letters of a notice, and which letters it can get today.
pub fn notice_letters(
    conn: &mut DbConn,
    acting: &Acting,
    notice: NoticeDbId,
) -> Result<NoticeLettersBody, LetterError> {
    let ins = insurers::get(conn, acting.insurer)?;
    let today = crate::time::today_jst();
    let n = notices::get(conn, ins.id, notice)?.ok_or(LetterError::NotFound)?;
    let required = n.row.evaluate(&ins.rules, today).ex_officio_required;
    let certs = store::certificates_of(conn, ins.id, notice)?;
    let letters_done = store::letters_of(conn, ins.id, notice)?;
    let mut options = Vec::new();
    for kind in LetterKind::ALL {
        let (l, r, _) = prepare_many(conn, &ins, &[notice.0], kind, today)?;
        options.push(LetterOption::of(kind, &l, &r));
    }
    Ok(NoticeLettersBody {
        certificate_state: cert_mark(&certs, required, today).into(),
        certificates: certs.into_iter().map(CertificateBody::from).collect(),
        letters: letters_done
            .into_iter()
            .map(LetterRecordBody::from)
            .collect(),
        options,
    })
}

/// The 資格確認書 marks of a page of the case list: for each (notice, 資格確認書 required, day).
pub fn cert_marks(
    conn: &mut DbConn,
    acting: &Acting,
    items: &[(i64, bool, NaiveDate)],
) -> Result<Vec<CertMark>, LetterError> {
    let ids: Vec<i64> = items.iter().map(|i| i.0).collect();
    let certs = store::certificates_for(conn, acting.insurer, &ids)?;
    Ok(items
        .iter()
        .map(|(id, required, day)| {
            let cs = certs.get(id).map(Vec::as_slice).unwrap_or(&[]);
            cert_mark(cs, *required, *day)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Bulk runs from a case-list filter

/// The notices of a case-list filter and the letter they get.
#[derive(Clone, Debug)]
pub struct Selection {
    pub filter: NoticeFilter,
    pub kind: LetterKind,
    /// The date printed on the letters.
    pub date: NaiveDate,
    /// Include the notices that already have this letter.
    pub again: bool,
}

/// A bulk run, prepared.
struct Bulk {
    pub insurer: Insurer,
    pub sender: Sender,
    pub letters: Vec<Letter>,
    pub refused: Vec<Refusal>,
    /// Notices the filter selects.
    pub matched: usize,
    /// 資格確認書 recorded for the run.
    pub issued: usize,
}

/// The notices of a filter, in the list's order; refused above [`MAX_BULK`].
fn select_ids(conn: &mut DbConn, ins: &Insurer, f: &NoticeFilter) -> Result<Vec<i64>, LetterError> {
    let total = notices::count(conn, ins.id, &ins.rules, f)?;
    if total > MAX_BULK {
        return Err(LetterError::Invalid(format!(
            "一度に作成できるのは {MAX_BULK} 通までです（該当 {total} 件）。受付月や事業所で絞り込んでください"
        )));
    }
    let mut ids = Vec::with_capacity(total as usize);
    loop {
        let rows = notices::rows(conn, ins.id, &ins.rules, f, ids.len() as i64, SELECT_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        ids.extend(rows.iter().map(|r| r.id));
        if ids.len() as i64 >= total {
            break;
        }
    }
    Ok(ids)
}

/// Selects the notices and prepares their letters. With `issue_until`, a 資格確認書 is first
/// recorded (issued on the letters' date) for each notice that has none in force on that day and
/// may get one; those are recorded in one transaction, with one audit entry.
fn prepare_bulk(
    conn: &mut DbConn,
    acting: &Acting,
    sel: &Selection,
    issue_until: Option<NaiveDate>,
) -> Result<Bulk, LetterError> {
    let (ins, sender) = insurer_and_sender(conn, acting)?;
    let ids = select_ids(conn, &ins, &sel.filter)?;
    let (kind, date) = (sel.kind, sel.date);
    let mut issued = 0;
    if let (LetterKind::Certificate, Some(until)) = (kind, issue_until) {
        letters::check_validity(date, until).map_err(|e| LetterError::Invalid(e.to_string()))?;
        let today = crate::time::today_jst();
        let who = by(acting);
        issued = write_tx(conn, |c| {
            let subjects = store::letter_subjects(c, ins.id, &ids)?;
            let certs = store::certificates_for(c, ins.id, &ids)?;
            let mut n = 0usize;
            for s in &subjects {
                if !workflow::needs_certificate(s, &certs, date, until, today) {
                    continue;
                }
                store::insert_certificate(c, ins.id, NoticeDbId(s.facts.id), date, until, &who)?;
                n += 1;
            }
            if n > 0 {
                let detail = format!("一括 {n} 件 交付日 {date} 有効期限 {until}");
                audit(
                    c,
                    acting,
                    AuditAction::CertificateIssued,
                    None,
                    Some(&detail),
                )?;
            }
            Ok::<_, LetterError>(n)
        })?;
    }
    let (mut letters, mut refused, matched) = prepare_many(conn, &ins, &ids, kind, date)?;
    if !sel.again {
        let done = store::notices_with_letter(conn, ins.id, &ids, kind.code())?;
        workflow::skip_produced(kind, &mut letters, &mut refused, &done);
    }
    Ok(Bulk {
        insurer: ins,
        sender,
        letters,
        refused,
        matched,
        issued,
    })
}

/// The bulk page: what a run would produce (nothing is written). `fields` are the filter as
/// (name, value) pairs, for the page's links and hidden fields.
pub fn bulk_page(
    conn: &mut DbConn,
    acting: &Acting,
    sel: &Selection,
    fields: Vec<(String, String)>,
) -> Result<(Insurer, BulkPageView), LetterError> {
    let b = prepare_bulk(conn, acting, sel, None)?;
    let (kind, date) = (sel.kind, sel.date);
    let mut preview_q = fields.clone();
    preview_q.push(("kind".into(), kind.slug().into()));
    preview_q.push(("date".into(), date.to_string()));
    if sel.again {
        preview_q.push(("again".into(), "1".into()));
    }
    let qs = |pairs: &Vec<(String, String)>| serde_urlencoded::to_string(pairs).unwrap_or_default();
    let view = BulkPageView {
        again: sel.again,
        list_qs: qs(&fields),
        preview_qs: qs(&preview_q),
        fields,
        kind: kind.slug(),
        title: kind.title_ja(),
        kinds: LetterKind::ALL.map(|k| (k.slug(), k.title_ja())).into(),
        date: date.to_string(),
        matched: b.matched,
        count: b.letters.len(),
        skipped: workflow::tally(&b.refused),
        missing: b.sender.missing(),
        max_bulk: MAX_BULK,
        latest: latest_valid_until(date).to_string(),
        variants: workflow::variant_counts(&b.letters),
    };
    Ok((b.insurer, view))
}

/// The first letters of a bulk run marked 「見本」 (not recorded; the preview is audited), or a
/// page that says there is none.
pub fn preview_bulk(
    conn: &mut DbConn,
    acting: &Acting,
    tera: &tera::Tera,
    sel: &Selection,
) -> Result<String, LetterError> {
    let mut b = prepare_bulk(conn, acting, sel, None)?;
    if b.letters.is_empty() {
        return Ok("<!DOCTYPE html><html lang=\"ja\"><meta charset=\"utf-8\"><body><p>作成できるお知らせがありません。</p></body></html>".into());
    }
    b.letters.truncate(BULK_PREVIEW);
    let kind = sel.kind;
    audit_preview(
        conn,
        acting,
        None,
        &format!("{}（一括の見本 {}通）", kind.title_ja(), b.letters.len()),
    )?;
    Ok(letters::render(
        tera,
        &b.sender,
        &b.letters,
        Mode::Preview,
        &preview_title(kind),
    )?)
}

/// A bulk run to produce.
#[derive(Clone, Debug)]
pub struct BulkRun {
    pub selection: Selection,
    pub format: Format,
    /// Certificate letters: first record 資格確認書 valid until this day.
    pub issue_until: Option<NaiveDate>,
    /// The filter as a query string (empty: none), for the audit entry.
    pub filter_query: String,
}

/// Records the 資格確認書 the run asks for and prepares its letters, ready to print;
/// [`LetterError::NoLetters`] when no notice gets one.
pub fn prepare_bulk_run(
    conn: &mut DbConn,
    acting: &Acting,
    run: BulkRun,
) -> Result<Job, LetterError> {
    let sel = &run.selection;
    let b = prepare_bulk(conn, acting, sel, run.issue_until)?;
    let skipped = b.refused.len();
    if b.letters.is_empty() {
        return Err(LetterError::NoLetters(format!(
            "作成できるお知らせがありません（対象外 {skipped} 件）"
        )));
    }
    let filter = if run.filter_query.is_empty() {
        " 条件なし".to_string()
    } else {
        format!(" 条件 {}", run.filter_query)
    };
    let issued = if b.issued > 0 {
        format!(" 資格確認書 {} 件を記録", b.issued)
    } else {
        String::new()
    };
    Ok(Job {
        sender: b.sender,
        letters: b.letters,
        skipped,
        format: run.format,
        date: sel.date,
        audit_target: None,
        audit_note: format!("{filter} 対象外 {skipped} 件{issued}"),
        file_stem: format!("letters-{}-{}", sel.kind.slug(), sel.date),
    })
}

// ---------------------------------------------------------------------------------------------
// The letters page: recent runs and the sender fields

/// What the letters page shows.
pub struct LettersIndex {
    pub insurer: Insurer,
    pub sender: SenderFields,
    /// The latest 50 runs.
    pub runs: Vec<RunSummary>,
    /// Over the last 12 months.
    pub counts: LetterCounts,
}

pub fn index(conn: &mut DbConn, acting: &Acting) -> Result<LettersIndex, LetterError> {
    let insurer = insurers::get(conn, acting.insurer)?;
    let sender = store::sender_fields(conn, insurer.id)?;
    let runs = store::recent_runs(conn, insurer.id, 50)?;
    let today = crate::time::today_jst();
    let from = today
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(today);
    let counts = store::counts(conn, insurer.id, from, today)?;
    Ok(LettersIndex {
        insurer,
        sender,
        runs,
        counts,
    })
}

/// The sender fields as typed (the form's fields).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SenderInput {
    pub address: String,
    pub contact: String,
    pub seal_text: String,
    pub issuer_word: String,
    pub representative: String,
}

impl SenderInput {
    /// The fields as typed (to show them again with an error).
    pub fn raw(self) -> SenderFields {
        SenderFields {
            address: Some(self.address),
            contact: Some(self.contact),
            seal_text: Some(self.seal_text),
            issuer_word: Some(self.issuer_word),
            representative: Some(self.representative),
        }
    }

    fn parse(&self) -> Result<SenderFields, String> {
        Ok(SenderFields {
            address: opt_text(&self.address, 200, "所在地")?,
            contact: opt_text(&self.contact, 200, "お問い合わせ先")?,
            seal_text: opt_text(&self.seal_text, 40, "公印欄の文言")?,
            issuer_word: opt_text(&self.issuer_word, 20, "自称")?,
            representative: opt_text(&self.representative, 60, "代表者の役職・氏名")?,
        })
    }
}

fn opt_text(s: &str, max: usize, field: &str) -> Result<Option<String>, String> {
    let t = s.trim().replace("\r\n", "\n");
    if t.chars().count() > max {
        return Err(format!("{field}は{max}文字以内で入力してください"));
    }
    Ok(Some(t).filter(|t| !t.is_empty()))
}

/// Saves the sender fields, audited.
pub fn save_sender(
    conn: &mut DbConn,
    acting: &Acting,
    input: &SenderInput,
) -> Result<(), LetterError> {
    let f = input.parse().map_err(LetterError::Invalid)?;
    write_tx(conn, |c| {
        store::update_sender_fields(c, acting.insurer, &f)?;
        audit(c, acting, AuditAction::LetterSenderChanged, None, None)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// A letter produced before: download it again as it was, mark it 発送済

/// The kept document of a letter.
pub struct Kept {
    pub html: String,
    pub file_stem: String,
}

/// The kept document of a letter of this insurer (audited); [`LetterError::NotKept`] for a letter
/// recorded before its HTML was kept.
pub fn download(
    conn: &mut DbConn,
    acting: &Acting,
    id: i64,
    format: Format,
) -> Result<Kept, LetterError> {
    let (rec, html) =
        store::letter_with_html(conn, acting.insurer, id)?.ok_or(LetterError::NotFound)?;
    let Some(html) = html else {
        return Err(LetterError::NotKept(jst(rec.created_at)));
    };
    let notice = notices::get(conn, acting.insurer, NoticeDbId(rec.notice_id))?
        .map(|n| n.row.notice_id)
        .unwrap_or_default();
    let detail = format!(
        "作成番号 {} の文書（文書番号 {}、{}）を再ダウンロード",
        rec.run_id,
        rec.id,
        format.label()
    );
    audit(
        conn,
        acting,
        AuditAction::LetterDownloaded,
        Some(&notice),
        Some(&detail),
    )?;
    Ok(Kept {
        html,
        file_stem: format!("letter-{}-{}-{}", rec.notice_id, rec.kind, rec.id),
    })
}

/// The kept document in `format` (blocks for PDF: call it off the async runtime).
pub fn reprint(kept: Kept, format: Format) -> Result<Produced, LetterError> {
    Ok(Produced {
        body: workflow::print_document(kept.html, 1, format).map_err(logged)?,
        format,
        letters: 1,
        skipped: 0,
        file_stem: kept.file_stem,
    })
}

// The API's request body of 発送済 (the page's form converts to it).
#[derive(Clone, Copy, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct SentRequest {
    /// The day the letter was mailed (default: today in Japan); not in the future, not before the
    /// letter was produced
    pub sent_on: Option<NaiveDate>,
}

/// Records a letter as 発送済 (by default today), audited; the letter as it is now and whether it
/// is kept. [`LetterError::AlreadySent`] when it already is.
pub fn mark_sent(
    conn: &mut DbConn,
    acting: &Acting,
    id: i64,
    input: SentRequest,
) -> Result<(LetterRecord, bool), LetterError> {
    let today = crate::time::today_jst();
    let sent_on = input.sent_on.unwrap_or(today);
    let who = by(acting);
    let iid = acting.insurer;
    write_tx(conn, |c| {
        let (mut rec, kept) = store::letter_with_html(c, iid, id)?
            .map(|(r, h)| (r, h.is_some()))
            .ok_or(LetterError::NotFound)?;
        if let Some(on) = rec.sent_on {
            return Err(LetterError::AlreadySent {
                on,
                by: rec.sent_by_label.clone().unwrap_or_default(),
            });
        }
        let produced_on = crate::time::jst_date(rec.created_at);
        if sent_on > today {
            return Err(LetterError::Invalid(format!(
                "発送日（{sent_on}）が今日より後です"
            )));
        }
        if sent_on < produced_on {
            return Err(LetterError::Invalid(format!(
                "発送日（{sent_on}）が文書の作成日（{produced_on}）より前です"
            )));
        }
        if !store::mark_sent(c, iid, id, sent_on, &who)? {
            return Err(LetterError::NotFound);
        }
        let notice = notices::get(c, iid, NoticeDbId(rec.notice_id))?
            .map(|n| n.row.notice_id)
            .unwrap_or_default();
        let detail = format!(
            "{}（文書番号 {}、発行日 {}）を {sent_on} に発送済",
            crate::letters::views::title_of(&rec.kind),
            rec.id,
            rec.letter_date
        );
        audit(
            c,
            acting,
            AuditAction::LetterSent,
            Some(&notice),
            Some(&detail),
        )?;
        rec.sent_on = Some(sent_on);
        rec.sent_by_label = Some(who.label.clone());
        Ok((rec, kept))
    })
}
