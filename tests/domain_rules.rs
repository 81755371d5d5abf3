//! The SPEC §2 rules through the public domain API: settings text in, statuses and explanations out.
mod common;

use common::date as d;
use regwatch::domain::rules::{deadlines, explain};
use regwatch::domain::settings::SettingsError;
use regwatch::domain::{
    evaluate, Calendar, MyNumberStatus, NoticeFacts, NoticeKind, Policy, RegistrationRule,
    RuleSettings, Status,
};

fn facts(kind: NoticeKind, event: &str, received: &str, my_number: MyNumberStatus) -> NoticeFacts {
    NoticeFacts {
        kind,
        event_date: d(event),
        received_on: d(received),
        my_number,
        registered_on: None,
    }
}

#[test]
fn stored_settings_text_drives_the_deadlines() {
    let text = "[rules]\nstandard_days = 20\n[rules.registration]\npolicy = \"business\"\n";
    let settings = RuleSettings::from_toml_str(text).unwrap();
    assert_eq!(settings.registration.policy, Policy::Business);
    assert_eq!(settings.submission.policy, Policy::Extend);
    // What the database keeps reads back to the same settings.
    let stored = settings.to_toml_string();
    assert_eq!(RuleSettings::from_toml_str(&stored).unwrap(), settings);

    let cal = Calendar::get();
    let f = facts(
        NoticeKind::Acquisition,
        "2024-04-22",
        "2024-04-26",
        MyNumberStatus::Valid,
    );
    let dl = deadlines(&f, &settings, cal);
    assert_eq!(dl.submission, d("2024-04-30")); // 4/27 Saturday → 4/30 (4/29 昭和の日)
    assert_eq!(dl.registration, d("2024-05-08")); // 5th business day after 4/26
    assert_eq!(dl.registration_rule, RegistrationRule::FiveDay);
    let x = explain(&f, &settings, cal);
    assert_eq!(
        x.submission,
        "起算日（事実発生日） 2024-04-22 + 5日 = 2024-04-27（土曜日）→ 休日のため 2024-04-30"
    );
    assert_eq!(
        x.registration,
        "起算日（受付日） 2024-04-26 の翌日から5営業日目 = 2024-05-08"
    );
}

#[test]
fn a_notice_through_golden_week_2024() {
    let cal = Calendar::get();
    let settings = RuleSettings::default();
    let mut f = facts(
        NoticeKind::Dependent,
        "2024-04-20",
        "2024-04-28",
        MyNumberStatus::Valid,
    );
    // Received 8 days after the event; the submission deadline was Thursday 4/25.
    let e = evaluate(&f, &settings, d("2024-05-02"), cal);
    assert_eq!(e.submission.status, Status::Breached);
    assert_eq!(e.submission.days_over, Some(3));
    assert_eq!(e.registration.deadline, Some(d("2024-05-07")));
    assert_eq!(e.registration.status, Status::Open);
    assert_eq!(
        evaluate(&f, &settings, d("2024-05-07"), cal)
            .registration
            .status,
        Status::AtRisk
    );
    f.registered_on = Some(d("2024-05-07"));
    let e = evaluate(&f, &settings, d("2024-05-31"), cal);
    assert_eq!(e.registration.status, Status::Met);
    assert_eq!(e.e2e_days, Some(17));
    assert!(!e.ex_officio_required);
}

#[test]
fn missing_my_number_uses_the_standard_days_and_needs_a_certificate() {
    let cal = Calendar::get();
    let settings = RuleSettings::default();
    let f = facts(
        NoticeKind::Acquisition,
        "2025-04-01",
        "2025-04-01",
        MyNumberStatus::Missing,
    );
    let e = evaluate(&f, &settings, d("2025-04-02"), cal);
    assert_eq!(e.registration_rule, RegistrationRule::Standard);
    assert_eq!(e.registration.deadline, Some(d("2025-04-15")));
    assert!(e.ex_officio_required);
    assert_eq!(
        explain(&f, &settings, cal).registration,
        "標準処理期間（個人番号 未記載）: 起算日（受付日） 2025-04-01 + 14日 = 2025-04-15"
    );
}

#[test]
fn a_mistyped_setting_is_refused_with_its_key() {
    let e =
        RuleSettings::from_toml_str("[rules.registration]\ndays = { loss = -1 }\n").unwrap_err();
    assert!(matches!(e, SettingsError::InvalidDays { .. }));
    assert_eq!(e.key(), Some("rules.registration.days.loss"));
    assert_eq!(
        e.to_string(),
        "rules.registration.days.loss: 日数は0〜365の整数で指定してください (-1)"
    );
}
