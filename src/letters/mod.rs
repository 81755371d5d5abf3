//! Letters to members (SPEC §4, seed 002 2-(1)–(3)): which letter and which variant a notice gets,
//! when a letter must be refused, the 資格確認書 validity rule, and the tera rendering of one A4 page
//! per letter. The PDF is printed from that HTML by [`pdf`].
pub mod pdf;
pub mod views;
pub mod workflow;

use crate::domain::{InsurerKind, MyNumberStatus, NoticeKind};
use crate::store::letters::{CertificateRow, LetterFacts, LetterSubject, SenderFields};
use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

/// The three letters of SPEC §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    /// データ登録完了までの期間のお知らせ (2-(1) ①–④, 2-(2)-②)
    RegistrationPeriod,
    /// 資格情報のお知らせ (2-(2)-①): only after registration
    QualificationInfo,
    /// 資格確認書（職権交付）のご案内 (2-(3))
    Certificate,
}

/// Bumped by hand when a letter's wording changes in substance; the template hash in
/// [`LetterKind::template_version`] changes by itself with any edit.
const TEMPLATE_MAJOR: u32 = 1;

const LAYOUT_SRC: &str = include_str!("../../templates/letters/document.html");
const MACROS_SRC: &str = include_str!("../../templates/letters/macros.html");

impl LetterKind {
    pub const ALL: [LetterKind; 3] = [
        LetterKind::RegistrationPeriod,
        LetterKind::QualificationInfo,
        LetterKind::Certificate,
    ];

    /// The URL form: `registration-period`, `qualification-info`, `certificate`.
    pub fn slug(self) -> &'static str {
        match self {
            LetterKind::RegistrationPeriod => "registration-period",
            LetterKind::QualificationInfo => "qualification-info",
            LetterKind::Certificate => "certificate",
        }
    }

    /// The stored form.
    pub fn code(self) -> &'static str {
        match self {
            LetterKind::RegistrationPeriod => "registration_period",
            LetterKind::QualificationInfo => "qualification_info",
            LetterKind::Certificate => "certificate",
        }
    }

    /// Accepts the slug or the stored code.
    pub fn parse(s: &str) -> Option<LetterKind> {
        let s = s.trim();
        LetterKind::ALL
            .into_iter()
            .find(|k| k.slug() == s || k.code() == s)
    }

    pub fn title_ja(self) -> &'static str {
        match self {
            LetterKind::RegistrationPeriod => "データ登録完了までの期間のお知らせ",
            LetterKind::QualificationInfo => "資格情報のお知らせ",
            LetterKind::Certificate => "資格確認書（職権交付）のご案内",
        }
    }

    pub fn template(self) -> &'static str {
        match self {
            LetterKind::RegistrationPeriod => "letters/registration_period.html",
            LetterKind::QualificationInfo => "letters/qualification_info.html",
            LetterKind::Certificate => "letters/certificate.html",
        }
    }

    fn source(self) -> &'static str {
        match self {
            LetterKind::RegistrationPeriod => {
                include_str!("../../templates/letters/registration_period.html")
            }
            LetterKind::QualificationInfo => {
                include_str!("../../templates/letters/qualification_info.html")
            }
            LetterKind::Certificate => include_str!("../../templates/letters/certificate.html"),
        }
    }

    /// `1-3fa2c1d0`: the hand-kept major version and a hash of the template sources the letter is
    /// printed from, so a record says exactly which wording a member received.
    pub fn template_version(self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for s in [LAYOUT_SRC, MACROS_SRC, self.source()] {
            h.update(s.as_bytes());
            h.update(&[0]);
        }
        format!("{TEMPLATE_MAJOR}-{:08x}", h.digest() as u32)
    }
}

/// Which wording a letter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// 2-(1)-②: My Number written correctly → registered within 5 days of submission.
    FiveDay,
    /// 2-(1)-③ (second part): My Number missing or wrong and the employer is marked late with My
    /// Numbers (the insurer asked it for them) → names the employer, the insurer's standard days.
    StandardDays,
    /// 2-(1)-③ (first part): My Number missing or wrong, the employer not marked → 「相当の期間」,
    /// naming nobody.
    Considerable,
    /// The letter is dated after the registration deadline and the notice is not registered: says
    /// registration is delayed and what the member can do (資格確認書), promises no date.
    Overdue,
    /// 資格情報のお知らせ after registration.
    Registered,
    /// 資格確認書 while the My Number is missing or wrong: asks for it before the validity ends.
    CertificateNumberRequest,
    /// 資格確認書 while a correct My Number waits for registration.
    CertificatePending,
}

impl Variant {
    pub fn code(self) -> &'static str {
        match self {
            Variant::FiveDay => "five_day",
            Variant::StandardDays => "standard_days",
            Variant::Considerable => "considerable",
            Variant::Overdue => "overdue",
            Variant::Registered => "registered",
            Variant::CertificateNumberRequest => "number_request",
            Variant::CertificatePending => "pending",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Variant::FiveDay => "個人番号あり（5日以内に登録）",
            Variant::StandardDays => "事業主の個人番号提出遅延（標準処理日数）",
            Variant::Considerable => "個人番号の未記載・誤り（相当の期間）",
            Variant::Overdue => "登録の遅れ（期限経過後・資格確認書のご案内）",
            Variant::Registered => "登録完了",
            Variant::CertificateNumberRequest => "個人番号の提出依頼あり",
            Variant::CertificatePending => "登録待ち（個人番号は記載済み）",
        }
    }

    pub fn label_of(code: &str) -> &'static str {
        [
            Variant::FiveDay,
            Variant::StandardDays,
            Variant::Considerable,
            Variant::Overdue,
            Variant::Registered,
            Variant::CertificateNumberRequest,
            Variant::CertificatePending,
        ]
        .into_iter()
        .find(|v| v.code() == code)
        .map(|v| v.label_ja())
        .unwrap_or("")
    }

    /// SPEC §4.1: the データ登録完了までの期間のお知らせ variant (before the deadline) for a My
    /// Number status. A correct number: 5 days. A missing or wrong one: the standard days naming
    /// the employer only when the insurer has marked that employer as late with My Numbers
    /// (`employer_late`, seed 002 2-(1)-③ second part); otherwise 「相当の期間」, which names
    /// nobody — a letter never states something about an employer that the data does not show.
    pub fn registration_period(status: MyNumberStatus, employer_late: bool) -> Variant {
        match status {
            MyNumberStatus::Valid => Variant::FiveDay,
            MyNumberStatus::Missing | MyNumberStatus::Invalid if employer_late => {
                Variant::StandardDays
            }
            MyNumberStatus::Missing | MyNumberStatus::Invalid => Variant::Considerable,
        }
    }

    pub fn certificate(status: MyNumberStatus) -> Variant {
        match status {
            MyNumberStatus::Valid => Variant::CertificatePending,
            MyNumberStatus::Missing | MyNumberStatus::Invalid => Variant::CertificateNumberRequest,
        }
    }
}

/// Why a letter cannot be produced for a notice (a 409 on the API).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("データ登録が完了していないため、資格情報のお知らせは作成できません。資格情報のお知らせはデータ登録の完了後に送付するものです（受付番号 {0}）")]
    NotRegistered(String),
    #[error("データ登録は{registered_on}に完了しています。{title}は登録完了前の方に送るものです（受付番号 {notice}）")]
    AlreadyRegistered {
        title: &'static str,
        notice: String,
        registered_on: String,
    },
    #[error("資格喪失届は新たに加入する方の届書ではないため、{title}は作成しません（受付番号 {notice}）")]
    LossNotice { title: &'static str, notice: String },
    #[error("資格確認書の交付が記録されていません。先に資格確認書の交付を記録してください（受付番号 {0}）")]
    NoCertificate(String),
    /// Already produced for this notice (a bulk run skips it unless asked to produce it again).
    #[error("{title}はこの届書について作成済みです（受付番号 {notice}）")]
    AlreadyProduced { title: &'static str, notice: String },
}

impl Refusal {
    /// A stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotRegistered(_) => "not_registered",
            Refusal::AlreadyRegistered { .. } => "already_registered",
            Refusal::LossNotice { .. } => "loss_notice",
            Refusal::NoCertificate(_) => "no_certificate",
            Refusal::AlreadyProduced { .. } => "already_produced",
        }
    }
}

/// Why a 資格確認書 cannot be recorded as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("資格確認書の有効期限は交付日から1か月以内です（交付日 {issued_on} の場合は {latest} まで。指定: {valid_until}）")]
    TooLong {
        issued_on: NaiveDate,
        valid_until: NaiveDate,
        latest: NaiveDate,
    },
    #[error("有効期限（{valid_until}）が交付日（{issued_on}）より前です")]
    EndsBeforeIssue {
        issued_on: NaiveDate,
        valid_until: NaiveDate,
    },
    #[error("交付日（{issued_on}）が届書の受付日（{received_on}）より前です")]
    BeforeReceipt {
        issued_on: NaiveDate,
        received_on: NaiveDate,
    },
    #[error("交付日（{0}）が今日より後です")]
    InFuture(NaiveDate),
    #[error("資格確認書の職権交付は資格取得届・被扶養者届のものです（この届書は資格喪失届です）")]
    LossNotice,
    #[error("データ登録が{0}に完了しているため、資格確認書を職権交付する必要はありません")]
    Registered(NaiveDate),
}

/// The last day a 資格確認書 issued on `issued_on` may be valid: one month, counted as the Civil
/// Code counts months (art. 143) with the issue day itself counted (the card works that day): the
/// period ends the day before the same day of the next month (6/30 → 7/29), or on the last day of
/// the next month when it has no such day (1/31, 1/30, 1/29 in a common year → 2/28) (SPEC §2.4).
pub fn latest_valid_until(issued_on: NaiveDate) -> NaiveDate {
    let Some(next) = issued_on.checked_add_months(Months::new(1)) else {
        return NaiveDate::MAX;
    };
    if next.day() != issued_on.day() {
        // chrono clamped to the month's end: there is no corresponding day.
        return next;
    }
    next.pred_opt().unwrap_or(next)
}

/// SPEC §2.4: validity at most one month (原則1か月以下), never before the issue date.
pub fn check_validity(
    issued_on: NaiveDate,
    valid_until: NaiveDate,
) -> Result<(), CertificateError> {
    if valid_until < issued_on {
        return Err(CertificateError::EndsBeforeIssue {
            issued_on,
            valid_until,
        });
    }
    let latest = latest_valid_until(issued_on);
    if valid_until > latest {
        return Err(CertificateError::TooLong {
            issued_on,
            valid_until,
            latest,
        });
    }
    Ok(())
}

/// Every check before recording a 資格確認書 for a notice on `today`.
pub fn check_issue(
    facts: &LetterFacts,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Result<(), CertificateError> {
    if NoticeKind::parse(&facts.kind) == Some(NoticeKind::Loss) {
        return Err(CertificateError::LossNotice);
    }
    if let Some(r) = facts.registered_on.filter(|r| *r <= issued_on) {
        return Err(CertificateError::Registered(r));
    }
    if issued_on < facts.received_on {
        return Err(CertificateError::BeforeReceipt {
            issued_on,
            received_on: facts.received_on,
        });
    }
    if issued_on > today {
        return Err(CertificateError::InFuture(issued_on));
    }
    check_validity(issued_on, valid_until)
}

/// The state of a notice's 資格確認書 on a day, as the case list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertState {
    /// Nothing to show.
    None,
    /// Required (SPEC §2.4) and none in force.
    Required,
    /// Required again: the last one has expired.
    Expired,
    /// In force.
    Issued,
    /// In force and ends within [`EXPIRING_DAYS`].
    Expiring,
    /// Issued once, no longer needed (registered since, or ended).
    Ended,
}

/// "Expiring" means the validity ends within this many days.
pub const EXPIRING_DAYS: i64 = 7;

#[derive(Clone, Debug, Serialize)]
pub struct CertMark {
    pub state: CertState,
    pub label: &'static str,
    /// The validity end of the certificate in force (or of the last one).
    pub valid_until: Option<NaiveDate>,
}

/// `certs` newest first; `required` from the rules (SPEC §2.4) on `day`.
pub fn cert_mark(certs: &[CertificateRow], required: bool, day: NaiveDate) -> CertMark {
    let current = certs.iter().find(|c| c.valid_on(day));
    let (state, until) = match (current, certs.first()) {
        (Some(c), _) if (c.valid_until - day).num_days() <= EXPIRING_DAYS => {
            (CertState::Expiring, Some(c.valid_until))
        }
        (Some(c), _) => (CertState::Issued, Some(c.valid_until)),
        (None, Some(last)) if required => (CertState::Expired, Some(last.valid_until)),
        (None, None) if required => (CertState::Required, None),
        (None, Some(last)) => (CertState::Ended, Some(last.valid_until)),
        (None, None) => (CertState::None, None),
    };
    let label = match state {
        CertState::None => "",
        CertState::Required => "要交付",
        CertState::Expired => "期限切れ・要再交付",
        CertState::Issued => "交付済",
        CertState::Expiring => "期限間近",
        CertState::Ended => "交付済（終了）",
    };
    CertMark {
        state,
        label,
        valid_until: until,
    }
}

/// 令和7年6月30日: letters to members always use the Japanese era.
pub use crate::time::wareki;

/// The insurer as the letters print it.
#[derive(Clone, Debug, Serialize)]
pub struct Sender {
    pub name: String,
    pub number: String,
    pub address_lines: Vec<String>,
    pub contact_lines: Vec<String>,
    pub seal_text: Option<String>,
    /// How the insurer calls the member's employer: 事業主 (健保組合) or 所属所 (共済組合等).
    pub employer_word: &'static str,
    /// How the insurer calls itself in the letters: the insurer's setting (当会 …), else by its
    /// kind (健康保険組合 当組合, 共済組合等 当共済組合).
    pub self_word: String,
    /// The representative's title and name (理事長　山田 太郎), under the insurer name.
    pub representative: Option<String>,
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// How an insurer of `kind` calls itself when it has not set its own word.
pub fn default_issuer_word(kind: InsurerKind) -> &'static str {
    match kind {
        InsurerKind::Kenpo => "当組合",
        InsurerKind::Kyosai => "当共済組合",
    }
}

fn lines(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl Sender {
    pub fn new(name: &str, number: &str, kind: InsurerKind, f: &SenderFields) -> Sender {
        Sender {
            name: name.to_string(),
            number: number.to_string(),
            address_lines: lines(&f.address),
            contact_lines: lines(&f.contact),
            seal_text: trimmed(&f.seal_text),
            employer_word: match kind {
                InsurerKind::Kenpo => "事業主",
                InsurerKind::Kyosai => "所属所",
            },
            self_word: trimmed(&f.issuer_word)
                .unwrap_or_else(|| default_issuer_word(kind).to_string()),
            representative: trimmed(&f.representative),
        }
    }

    /// What is missing for a letter that can be mailed (shown before generating).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.address_lines.is_empty() {
            out.push("所在地");
        }
        if self.contact_lines.is_empty() {
            out.push("お問い合わせ先");
        }
        out
    }
}

/// The tera context of one letter: everything pre-formatted (era dates), no My Number (there is
/// none to print: only its status is stored, SPEC §6).
#[derive(Clone, Debug, Serialize)]
pub struct LetterView {
    pub kind: &'static str,
    pub title: &'static str,
    pub variant: &'static str,
    pub date: String,
    pub notice_id: String,
    pub notice_kind: &'static str,
    pub dependent: bool,
    /// 被保険者 or 被扶養者
    pub member_role: &'static str,
    /// Who the envelope is addressed to: the member, or for a dependent the insured person when known.
    pub addressee: Option<String>,
    /// The 〒 + address block: the member's address when known, else the employer's (then
    /// `via_employer`); neither: no address is printed (never invented).
    pub postal_code: Option<String>,
    pub address_lines: Vec<String>,
    /// 「（事業所名）気付」 above the name: the member's own address is not known.
    pub via_employer: bool,
    pub member_name: Option<String>,
    pub member_kana: Option<String>,
    /// 生年月日 in the Japanese era, only when known (a letter never states what the data does
    /// not show).
    pub member_birth_date: Option<String>,
    pub member_symbol: String,
    pub member_number: String,
    pub dependent_seq: String,
    pub employer_name: String,
    pub event_label: &'static str,
    pub event_date: String,
    pub received_on: String,
    pub registered_on: Option<String>,
    /// valid | missing | invalid (the status only: a My Number is never printed, SPEC §6)
    pub my_number_status: &'static str,
    /// Days of the registration rule that apply (5 by default for a correct My Number).
    pub registration_days: u32,
    /// The insurer's standard processing days (SPEC §2.3).
    pub standard_days: u32,
    /// When registration is expected: the stored registration deadline (not printed by the
    /// overdue variant: it is past).
    pub expected_by: String,
    pub certificate_issued_on: Option<String>,
    pub certificate_valid_until: Option<String>,
    /// Before 2024-12-02 the health insurance card was still issued: ④ then says 「保険証発行終了までの間も含め」.
    pub card_still_issued: bool,
}

/// One letter ready to render and record.
#[derive(Clone, Debug, Serialize)]
pub struct Letter {
    #[serde(skip)]
    pub kind: LetterKind,
    #[serde(skip)]
    pub variant: Variant,
    #[serde(skip)]
    pub notice: i64,
    #[serde(skip)]
    pub certificate: Option<i64>,
    pub view: LetterView,
}

/// The day the health insurance card stopped being issued (seed 002, 2).
const CARD_END: NaiveDate = match NaiveDate::from_ymd_opt(2024, 12, 2) {
    Some(d) => d,
    None => panic!("invalid constant date"),
};

/// Decides the letter for a notice on `date` (its date of issue), or why there is none.
/// `certs` are the notice's 資格確認書, newest first.
pub fn prepare(
    kind: LetterKind,
    subject: &LetterSubject,
    certs: &[CertificateRow],
    settings: &crate::domain::RuleSettings,
    date: NaiveDate,
) -> Result<Letter, Refusal> {
    let f = &subject.facts;
    let notice_kind = NoticeKind::parse(&f.kind).unwrap_or(NoticeKind::Acquisition);
    let status = MyNumberStatus::parse_code(&f.my_number_status).unwrap_or(MyNumberStatus::Missing);
    if notice_kind == NoticeKind::Loss {
        return Err(Refusal::LossNotice {
            title: kind.title_ja(),
            notice: f.notice_id.clone(),
        });
    }
    let registered = f.registered_on.filter(|r| *r <= date);
    let mut certificate = None;
    let variant = match kind {
        LetterKind::RegistrationPeriod => {
            if let Some(r) = registered {
                return Err(Refusal::AlreadyRegistered {
                    title: kind.title_ja(),
                    notice: f.notice_id.clone(),
                    registered_on: wareki(r),
                });
            }
            if f.registration_deadline < date {
                // Past the deadline: promise nothing; the 資格確認書 in force (if any) is named.
                certificate = certs.iter().find(|c| c.valid_on(date));
                Variant::Overdue
            } else {
                let late = f.employer_late_since.is_some_and(|d| d <= date);
                Variant::registration_period(status, late)
            }
        }
        LetterKind::QualificationInfo => {
            if registered.is_none() {
                return Err(Refusal::NotRegistered(f.notice_id.clone()));
            }
            Variant::Registered
        }
        LetterKind::Certificate => {
            if let Some(r) = registered {
                return Err(Refusal::AlreadyRegistered {
                    title: kind.title_ja(),
                    notice: f.notice_id.clone(),
                    registered_on: wareki(r),
                });
            }
            // The one in force on the letter's date, else the latest issued by then.
            let c = certs
                .iter()
                .find(|c| c.valid_on(date))
                .or_else(|| certs.iter().find(|c| c.issued_on <= date))
                .ok_or_else(|| Refusal::NoCertificate(f.notice_id.clone()))?;
            certificate = Some(c);
            Variant::certificate(status)
        }
    };
    let (registration_days, _) = settings.registration_days(notice_kind, status);
    let dependent = notice_kind == NoticeKind::Dependent;
    let member_name = f
        .member_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let member_address = lines(&f.member_address);
    let employer_address = lines(&f.employer_address);
    let (postal_code, address_lines, via_employer) = if !member_address.is_empty() {
        (trimmed(&f.member_postal_code), member_address, false)
    } else if !employer_address.is_empty() {
        (trimmed(&f.employer_postal_code), employer_address, true)
    } else {
        (None, Vec::new(), true)
    };
    let view = LetterView {
        kind: kind.slug(),
        title: kind.title_ja(),
        variant: variant.code(),
        date: wareki(date),
        notice_id: f.notice_id.clone(),
        notice_kind: notice_kind.label_ja(),
        dependent,
        member_role: if dependent {
            "被扶養者"
        } else {
            "被保険者"
        },
        addressee: subject.insured_name.clone().or_else(|| member_name.clone()),
        postal_code,
        address_lines,
        via_employer,
        member_name,
        member_kana: f
            .member_name_kana
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        member_birth_date: f.member_birth_date.map(wareki),
        member_symbol: f.member_symbol.clone(),
        member_number: f.member_number.clone(),
        dependent_seq: f.dependent_seq.clone(),
        employer_name: f
            .employer_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| f.employer_code.clone()),
        event_label: if dependent {
            "被扶養者認定日"
        } else {
            "資格取得年月日"
        },
        event_date: wareki(f.event_date),
        received_on: wareki(f.received_on),
        registered_on: registered.map(wareki),
        my_number_status: status.code(),
        registration_days,
        standard_days: settings.standard_days,
        expected_by: wareki(f.registration_deadline),
        certificate_issued_on: certificate.map(|c| wareki(c.issued_on)),
        certificate_valid_until: certificate.map(|c| wareki(c.valid_until)),
        card_still_issued: date < CARD_END,
    };
    Ok(Letter {
        kind,
        variant,
        notice: f.id,
        // Only the cover letter is about a certificate; the overdue letter merely names it.
        certificate: certificate
            .filter(|_| kind == LetterKind::Certificate)
            .map(|c| c.id),
        view,
    })
}

/// How the letters are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The letters to print and mail.
    Final,
    /// Marked 「見本」 on screen and on paper: a preview is not recorded, so it must not be mailed.
    Preview,
}

/// One HTML document, one A4 page per letter (the PDF is printed from it).
pub fn render(
    tera: &tera::Tera,
    sender: &Sender,
    letters: &[Letter],
    mode: Mode,
    title: &str,
) -> tera::Result<String> {
    let pages = render_pages(tera, sender, letters, mode)?;
    document(tera, &pages, mode, title)
}

/// The page (one `<section>`) of each letter.
pub fn render_pages(
    tera: &tera::Tera,
    sender: &Sender,
    letters: &[Letter],
    mode: Mode,
) -> tera::Result<Vec<String>> {
    let mut pages = Vec::with_capacity(letters.len());
    for l in letters {
        let mut ctx = tera::Context::new();
        ctx.insert("l", &l.view);
        ctx.insert("s", sender);
        ctx.insert("preview", &(mode == Mode::Preview));
        pages.push(tera.render(l.kind.template(), &ctx)?);
    }
    Ok(pages)
}

/// The title of the document of one letter.
pub fn single_title(kind: LetterKind, notice_id: &str) -> String {
    format!("{}（受付番号 {notice_id}）", kind.title_ja())
}

/// The HTML document of the given pages.
pub fn document(
    tera: &tera::Tera,
    pages: &[String],
    mode: Mode,
    title: &str,
) -> tera::Result<String> {
    let mut ctx = tera::Context::new();
    ctx.insert("pages", &pages);
    ctx.insert("preview", &(mode == Mode::Preview));
    ctx.insert("title", title);
    tera.render("letters/document.html", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn validity_is_at_most_one_month_counting_the_issue_day() {
        // SPEC §2.4: issued 2025-06-30 → valid through 2025-07-29 at most.
        assert_eq!(latest_valid_until(d(2025, 6, 30)), d(2025, 7, 29));
        assert!(check_validity(d(2025, 6, 30), d(2025, 7, 29)).is_ok());
        assert!(matches!(
            check_validity(d(2025, 6, 30), d(2025, 7, 30)),
            Err(CertificateError::TooLong { .. })
        ));
        assert_eq!(latest_valid_until(d(2025, 1, 28)), d(2025, 2, 27));
        assert_eq!(latest_valid_until(d(2025, 12, 15)), d(2026, 1, 14));
        // Civil Code art. 143: no 31 (or 30, 29) February, so the month ends on its last day.
        assert_eq!(latest_valid_until(d(2025, 1, 31)), d(2025, 2, 28));
        assert_eq!(latest_valid_until(d(2025, 1, 29)), d(2025, 2, 28));
        assert_eq!(latest_valid_until(d(2024, 1, 30)), d(2024, 2, 29));
        assert_eq!(latest_valid_until(d(2024, 1, 29)), d(2024, 2, 28));
        assert!(check_validity(d(2025, 1, 31), d(2025, 3, 1)).is_err());
        assert!(matches!(
            check_validity(d(2025, 6, 30), d(2025, 6, 29)),
            Err(CertificateError::EndsBeforeIssue { .. })
        ));
    }

    #[test]
    fn the_registration_period_variant_follows_the_my_number_status() {
        use MyNumberStatus::*;
        // SPEC §4.1: the employer is named (standard days) only when it is marked late.
        for (status, late, want) in [
            (Valid, false, Variant::FiveDay),
            (Valid, true, Variant::FiveDay),
            (Missing, true, Variant::StandardDays),
            (Invalid, true, Variant::StandardDays),
            (Missing, false, Variant::Considerable),
            (Invalid, false, Variant::Considerable),
        ] {
            assert_eq!(
                Variant::registration_period(status, late),
                want,
                "{status:?} {late}"
            );
        }
    }

    #[test]
    fn kinds_parse_from_slug_and_code() {
        for k in LetterKind::ALL {
            assert_eq!(LetterKind::parse(k.slug()), Some(k));
            assert_eq!(LetterKind::parse(k.code()), Some(k));
            assert!(k.template_version().starts_with("1-"));
        }
        assert_eq!(LetterKind::parse("nope"), None);
    }

    fn cert(issued: NaiveDate, until: NaiveDate) -> CertificateRow {
        CertificateRow {
            id: 1,
            notice_id: 1,
            issued_on: issued,
            valid_until: until,
            issued_by_label: "x".into(),
            created_at: issued.and_hms_opt(0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn certificate_marks_required_issued_expiring_expired() {
        let day = d(2025, 7, 1);
        assert_eq!(cert_mark(&[], true, day).state, CertState::Required);
        assert_eq!(cert_mark(&[], false, day).state, CertState::None);
        let c = cert(d(2025, 6, 20), d(2025, 7, 20));
        assert_eq!(
            cert_mark(std::slice::from_ref(&c), true, day).state,
            CertState::Issued
        );
        // Ends in exactly 7 days: expiring.
        let c7 = cert(d(2025, 6, 20), d(2025, 7, 8));
        assert_eq!(cert_mark(&[c7], true, day).state, CertState::Expiring);
        let old = cert(d(2025, 5, 1), d(2025, 5, 31));
        assert_eq!(
            cert_mark(std::slice::from_ref(&old), true, day).state,
            CertState::Expired
        );
        assert_eq!(cert_mark(&[old], false, day).state, CertState::Ended);
    }
}
