//! The e-mail templates (tera triplets under templates/mail/<kind>/), embedded in the binary.
use super::MailError;
use crate::domain::settings::KindDays;
use crate::domain::{InsurerKind, NoticeKind};
use crate::store::outbox::MailKind;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::sync::OnceLock;
use tera::Tera;

macro_rules! triplet {
    ($kind:literal) => {
        [
            (
                concat!("mail/", $kind, "/subject.txt"),
                include_str!(concat!("../../templates/mail/", $kind, "/subject.txt")),
            ),
            (
                concat!("mail/", $kind, "/body.txt"),
                include_str!(concat!("../../templates/mail/", $kind, "/body.txt")),
            ),
            (
                concat!("mail/", $kind, "/body.html"),
                include_str!(concat!("../../templates/mail/", $kind, "/body.html")),
            ),
        ]
    };
}

fn tera() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = Tera::default();
        // Only the HTML body is escaped; subject and text body are plain text.
        t.autoescape_on(vec![".html"]);
        // Shared parts (included by the bodies): the checklist requests and the contact footer.
        t.add_raw_templates([
            (
                "mail/_requests.txt",
                include_str!("../../templates/mail/_requests.txt"),
            ),
            (
                "mail/_requests.html",
                include_str!("../../templates/mail/_requests.html"),
            ),
            (
                "mail/_footer.txt",
                include_str!("../../templates/mail/_footer.txt"),
            ),
            (
                "mail/_footer.html",
                include_str!("../../templates/mail/_footer.html"),
            ),
        ])
        .expect("embedded mail partials parse");
        for group in [
            triplet!("late_submission"),
            triplet!("my_number"),
            triplet!("certificate_expiry"),
            triplet!("weekly_digest"),
        ] {
            t.add_raw_templates(group)
                .expect("embedded mail templates parse");
        }
        t
    })
}

/// One notice line of an e-mail: 受付番号, kind and dates only (no member name, no My Number).
#[derive(Clone, Debug, Serialize)]
pub struct MailRow {
    pub notice_id: String,
    pub kind_ja: String,
    pub event_date: String,
    pub received_on: String,
    pub submission_deadline: String,
    pub days_late: i64,
    pub my_number_ja: String,
    pub cert_valid_until: Option<String>,
    /// The notice's kind, for the day counts the wording quotes (not shown as such).
    #[serde(skip)]
    pub kind: Option<NoticeKind>,
}

/// What every template gets; kind-specific figures go in `extra`.
#[derive(Clone, Debug, Serialize)]
pub struct MailContext {
    pub insurer_name: String,
    /// A 共済組合等: the employer is a 所属所, online submission is not called e-Gov.
    pub kyosai: bool,
    /// 事業所 (健保組合) or 所属所 (共済組合等).
    pub employer_word: String,
    /// The salutation line under the employer's name.
    pub addressee: String,
    /// Lines of the footer's お問い合わせ先 (empty: none is known, and the footer says so
    /// without pointing to one).
    pub contact_lines: Vec<String>,
    /// Replies reach a person (the Reply-To of the mail settings).
    pub reply_to: Option<String>,
    /// 「5日以内」 or, when the kinds listed differ, 「資格取得届は5日以内、被扶養者届は7日以内」:
    /// the insurer's submission days (SPEC §2), never a fixed 5.
    pub submission_days_ja: String,
    /// The submission days of 資格取得届・被扶養者届, for the checklist requests (whatever kinds the
    /// e-mail lists).
    pub requests_days_ja: String,
    /// The same for the registration days of a notice with a valid My Number.
    pub registration_days_ja: String,
    /// The window of 「直近N日間に提出期限を過ぎて受け付けたもの」.
    pub late_window_days: u64,
    pub employer_label: String,
    pub as_of_ja: String,
    pub rows: Vec<MailRow>,
    pub total: usize,
    pub shown: usize,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

pub struct Rendered {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

pub fn render(kind: MailKind, ctx: &MailContext) -> Result<Rendered, MailError> {
    let c = tera::Context::from_serialize(ctx).map_err(|e| MailError::Render(e.to_string()))?;
    let one = |part: &str| {
        tera()
            .render(&format!("mail/{}/{part}", kind.code()), &c)
            .map_err(|e| MailError::Render(describe(&e)))
    };
    let subject = one("subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Rendered {
        subject,
        body_text: one("body.txt")?,
        body_html: one("body.html")?,
    })
}

fn describe(e: &tera::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// 事業所 or 所属所 (SPEC glossary: a 共済組合等's employer is a 所属所).
pub fn employer_word(kind: InsurerKind) -> &'static str {
    match kind {
        InsurerKind::Kenpo => "事業所",
        InsurerKind::Kyosai => "所属所",
    }
}

/// The salutation: a 所属所 has 共済事務ご担当者.
pub fn addressee(kind: InsurerKind) -> &'static str {
    match kind {
        InsurerKind::Kenpo => "ご担当者様",
        InsurerKind::Kyosai => "共済事務ご担当者様",
    }
}

/// The day counts of `kinds` as wording: 「5日以内」 when they agree, else per kind
/// (「資格取得届は5日以内、資格喪失届は7日以内」). Without kinds: those of 資格取得届・被扶養者届.
pub fn days_ja(days: &KindDays, kinds: &[NoticeKind]) -> String {
    let mut seen: Vec<NoticeKind> = Vec::new();
    for k in kinds {
        if !seen.contains(k) {
            seen.push(*k);
        }
    }
    if seen.is_empty() {
        seen = vec![NoticeKind::Acquisition, NoticeKind::Dependent];
    }
    seen.sort_by_key(|k| match k {
        NoticeKind::Acquisition => 0,
        NoticeKind::Dependent => 1,
        NoticeKind::Loss => 2,
    });
    let first = days.get(seen[0]);
    if seen.iter().all(|k| days.get(*k) == first) {
        return format!("{first}日以内");
    }
    seen.iter()
        .map(|k| format!("{}は{}日以内", k.label_ja(), days.get(*k)))
        .collect::<Vec<_>>()
        .join("、")
}

/// 2026-11-21 → 2026年11月21日.
pub fn date_ja(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(rows: Vec<MailRow>) -> MailContext {
        let total = rows.len();
        MailContext {
            insurer_name: "テスト健保".into(),
            kyosai: false,
            employer_word: "事業所".into(),
            addressee: "ご担当者様".into(),
            contact_lines: vec!["適用課 03-0000-0000".into()],
            reply_to: None,
            submission_days_ja: "5日以内".into(),
            requests_days_ja: "5日以内".into(),
            registration_days_ja: "5日以内".into(),
            late_window_days: 30,
            employer_label: "株式会社<テスト>（事業所記号 E001）".into(),
            as_of_ja: date_ja(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()),
            shown: total,
            total,
            rows,
            extra: serde_json::Map::from_iter([
                ("pending".to_string(), 3.into()),
                ("my_number_missing".to_string(), 1.into()),
                ("late_recent".to_string(), 2.into()),
            ]),
        }
    }

    fn row() -> MailRow {
        MailRow {
            notice_id: "N-0001".into(),
            kind_ja: "資格取得届".into(),
            event_date: "2026年11月1日".into(),
            received_on: "2026年11月12日".into(),
            submission_deadline: "2026年11月6日".into(),
            days_late: 6,
            my_number_ja: "未記載".into(),
            cert_valid_until: Some("2026年12月1日".into()),
            kind: Some(NoticeKind::Acquisition),
        }
    }

    #[test]
    fn day_counts_come_from_the_settings_and_are_named_per_kind_when_they_differ() {
        let mut d = crate::domain::RuleSettings::default().submission.days;
        assert_eq!(days_ja(&d, &[]), "5日以内");
        d.dependent = 7;
        assert_eq!(days_ja(&d, &[NoticeKind::Acquisition]), "5日以内");
        assert_eq!(
            days_ja(&d, &[NoticeKind::Dependent, NoticeKind::Acquisition]),
            "資格取得届は5日以内、被扶養者届は7日以内"
        );
    }

    #[test]
    fn every_kind_renders_japanese_and_escapes_html_only() {
        for kind in MailKind::ALL {
            let r = render(kind, &ctx(vec![row()])).unwrap();
            assert!(r.subject.contains(kind.label_ja()), "{}", r.subject);
            assert!(!r.subject.contains('\n'));
            assert!(r.body_text.contains("N-0001"), "{kind:?}: {}", r.body_text);
            assert!(r.body_text.contains("株式会社<テスト>"));
            assert!(r.body_html.contains("株式会社&lt;テスト&gt;"));
        }
    }
}
