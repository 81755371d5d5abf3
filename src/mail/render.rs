//! The e-mail templates (tera triplets under templates/mail/<kind>/), embedded in the binary.
use super::MailError;
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
}

/// What every template gets; kind-specific figures go in `extra`.
#[derive(Clone, Debug, Serialize)]
pub struct MailContext {
    pub insurer_name: String,
    pub insurer_contact: Option<String>,
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
            insurer_contact: Some("03-0000-0000".into()),
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
        }
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
