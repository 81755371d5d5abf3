//! Deadlines and statuses of the submission and registration rules (SPEC §2.1–§2.4).
//!
//! Everything here is a pure function of the notice's dates, the insurer's settings and the calendar,
//! so a deadline computed today and one recomputed from the stored row always agree.
use super::calendar::Calendar;
use super::my_number::MyNumberStatus;
use super::settings::{Policy, RuleSettings};
use super::types::NoticeKind;
use chrono::{Days, NaiveDate};
use serde::Serialize;

/// Status of one rule on one notice as of a date (SPEC §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    Breached,
    AtRisk,
    Open,
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Met,
        Status::Breached,
        Status::AtRisk,
        Status::Open,
        Status::NotApplicable,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Breached => "breached",
            Status::AtRisk => "at_risk",
            Status::Open => "open",
            Status::NotApplicable => "not_applicable",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.code() == s.trim())
    }
}

impl RegistrationRule {
    pub fn code(self) -> &'static str {
        match self {
            RegistrationRule::FiveDay => "five_day",
            RegistrationRule::Standard => "standard",
            RegistrationRule::Loss => "loss",
        }
    }
    pub fn parse(s: &str) -> Option<RegistrationRule> {
        match s.trim() {
            "five_day" => Some(RegistrationRule::FiveDay),
            "standard" => Some(RegistrationRule::Standard),
            "loss" => Some(RegistrationRule::Loss),
            _ => None,
        }
    }
}

/// Which registration rule applies (SPEC §2, §2.3): five_day (資格取得届・被扶養者届 with a valid My
/// Number), standard (theirs without one), loss (every 資格喪失届). The three are separate
/// populations: the 5-day rate never mixes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationRule {
    FiveDay,
    Standard,
    Loss,
}

/// The facts of a notice that the rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoticeFacts {
    pub kind: NoticeKind,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    pub my_number: MyNumberStatus,
    /// JST date of the earliest successful registration, if any.
    pub registered_on: Option<NaiveDate>,
}

/// The deadlines of a notice: depend only on dates and settings, so they can be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    pub submission: NaiveDate,
    pub registration: NaiveDate,
    pub registration_rule: RegistrationRule,
}

/// One rule evaluated as of a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleEval {
    pub status: Status,
    pub deadline: Option<NaiveDate>,
    pub days_over: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub submission: RuleEval,
    pub registration: RuleEval,
    pub registration_rule: RegistrationRule,
    pub ex_officio_required: bool,
    pub e2e_days: Option<i64>,
}

/// Human-readable explanation of each deadline, e.g.
/// 「起算日 2024-04-28 + 5日 = 2024-05-03（憲法記念日）→ 休日のため 2024-05-07」.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub submission: String,
    pub registration: String,
}

/// 資格確認書 are issued ex officio only for notices received from the day the My Number card became
/// the health insurance card (seed 002, 2-(3)).
pub const EX_OFFICIO_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2024, 12, 2) {
    Some(d) => d,
    None => panic!("invalid constant date"),
};

/// Start labels used by [`explain`]: the submission rule counts from the event date, the
/// registration rule from the received date.
pub const SUBMISSION_START_LABEL: &str = "起算日（事実発生日）";
pub const REGISTRATION_START_LABEL: &str = "起算日（受付日）";

fn add_days(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MAX)
}

/// The last permitted day of a period of `days` days from `start` (初日不算入, SPEC §2.1).
///
/// With `business` and 0 days the deadline is the first business day on or after `start`, not `start`
/// itself: a deadline under `extend` or `business` always falls on a day the office is open, which
/// also keeps strict ≤ extend ≤ business for every N.
pub fn deadline(policy: Policy, start: NaiveDate, days: u32, cal: &Calendar) -> NaiveDate {
    match policy {
        Policy::Strict => add_days(start, days),
        Policy::Extend => cal.next_business_day_on_or_after(add_days(start, days)),
        Policy::Business if days == 0 => cal.next_business_day_on_or_after(start),
        Policy::Business => cal.add_business_days(start, days),
    }
}

/// Status of one rule given its deadline and completion date (SPEC §2.2). `completed` must already be
/// restricted to completions on or before `as_of`.
pub fn rule_status(
    deadline: NaiveDate,
    completed: Option<NaiveDate>,
    as_of: NaiveDate,
    warn_days: u32,
) -> RuleEval {
    let (status, days_over) = match completed {
        Some(done) if done <= deadline => (Status::Met, None),
        Some(done) => (Status::Breached, Some((done - deadline).num_days())),
        None if as_of > deadline => (Status::Breached, Some((as_of - deadline).num_days())),
        None if (deadline - as_of).num_days() <= i64::from(warn_days) => (Status::AtRisk, None),
        None => (Status::Open, None),
    };
    RuleEval {
        status,
        deadline: Some(deadline),
        days_over,
    }
}

/// The registration as known on `as_of`: a registration dated later has not happened yet then.
fn registered_as_of(facts: &NoticeFacts, as_of: NaiveDate) -> Option<NaiveDate> {
    facts.registered_on.filter(|r| *r <= as_of)
}

/// Both deadlines and the registration rule of a notice: what the database stores per notice.
pub fn deadlines(facts: &NoticeFacts, settings: &RuleSettings, cal: &Calendar) -> Deadlines {
    let submission = deadline(
        settings.submission.policy,
        facts.event_date,
        settings.submission_days(facts.kind),
        cal,
    );
    let (days, registration_rule) = settings.registration_days(facts.kind, facts.my_number);
    let registration = deadline(settings.registration.policy, facts.received_on, days, cal);
    Deadlines {
        submission,
        registration,
        registration_rule,
    }
}

/// SPEC §2.4: whether a 資格確認書 must be issued ex officio as of `as_of`. A notice not yet received on
/// `as_of` never needs one (the insurer cannot know of it), even with a missing My Number.
pub fn ex_officio_required(facts: &NoticeFacts, settings: &RuleSettings, as_of: NaiveDate) -> bool {
    let kind_applies = matches!(facts.kind, NoticeKind::Acquisition | NoticeKind::Dependent);
    let received = facts.received_on >= EX_OFFICIO_FROM && facts.received_on <= as_of;
    let waited_long = (as_of - facts.received_on).num_days() >= i64::from(settings.ex_officio_days);
    let number_unusable = matches!(
        facts.my_number,
        MyNumberStatus::Missing | MyNumberStatus::Invalid
    );
    kind_applies
        && received
        && registered_as_of(facts, as_of).is_none()
        && (waited_long || number_unusable)
}

/// Days from the event to the registration, as the member lives them; 0 when the registration came
/// before the event (a 内定者 registered early).
pub fn e2e_days(facts: &NoticeFacts, as_of: NaiveDate) -> Option<i64> {
    registered_as_of(facts, as_of).map(|r| (r - facts.event_date).num_days().max(0))
}

/// Both rules and the derived measures of one notice as of `as_of` (SPEC §2.2–§2.4).
pub fn evaluate(
    facts: &NoticeFacts,
    settings: &RuleSettings,
    as_of: NaiveDate,
    cal: &Calendar,
) -> Evaluation {
    evaluate_with(facts, &deadlines(facts, settings, cal), settings, as_of)
}

/// `evaluate` with deadlines already known (the stored ones), so a page and a database filter on
/// the same stored deadlines never disagree.
pub fn evaluate_with(
    facts: &NoticeFacts,
    dl: &Deadlines,
    settings: &RuleSettings,
    as_of: NaiveDate,
) -> Evaluation {
    // The submission is complete the day the notice arrives, whatever the as-of date.
    let submission = rule_status(
        dl.submission,
        Some(facts.received_on),
        as_of,
        settings.warn_days,
    );
    let registration = if facts.received_on > as_of {
        RuleEval {
            status: Status::NotApplicable,
            deadline: Some(dl.registration),
            days_over: None,
        }
    } else {
        rule_status(
            dl.registration,
            registered_as_of(facts, as_of),
            as_of,
            settings.warn_days,
        )
    };
    Evaluation {
        submission,
        registration,
        registration_rule: dl.registration_rule,
        ex_officio_required: ex_officio_required(facts, settings, as_of),
        e2e_days: e2e_days(facts, as_of),
    }
}

/// How a deadline was counted, with the plain label 「起算日」, e.g.
/// `起算日 2024-04-28 + 5日 = 2024-05-03（憲法記念日）→ 休日のため 2024-05-07`.
pub fn explain_deadline(policy: Policy, start: NaiveDate, days: u32, cal: &Calendar) -> String {
    describe("起算日", policy, start, days, cal)
}

fn describe(label: &str, policy: Policy, start: NaiveDate, days: u32, cal: &Calendar) -> String {
    let end = deadline(policy, start, days, cal);
    match policy {
        Policy::Strict => format!("{label} {start} + {days}日 = {end}（厳格: 休日でも延長しない）"),
        Policy::Extend => {
            let raw = add_days(start, days);
            match cal.admin_holiday_reason(raw) {
                Some(reason) if end != raw => {
                    format!("{label} {start} + {days}日 = {raw}（{reason}）→ 休日のため {end}")
                }
                _ => format!("{label} {start} + {days}日 = {raw}"),
            }
        }
        Policy::Business if days == 0 => match cal.admin_holiday_reason(start) {
            Some(reason) if end != start => {
                format!("{label} {start}（{reason}）+ 0営業日 → 休日のため {end}")
            }
            _ => format!("{label} {start} + 0営業日 = {end}"),
        },
        Policy::Business => format!("{label} {start} の翌日から{days}営業日目 = {end}"),
    }
}

/// Japanese explanation of both deadlines, for the notice detail page and letters.
///
/// Style: the submission line starts with 「起算日（事実発生日）」 and the registration line with
/// 「起算日（受付日）」, followed by the counting as in [`explain_deadline`]; when the registration
/// rule is `standard` the line is prefixed with 「標準処理期間（個人番号 未記載）: 」 (or 誤り), and a
/// `five_day` line has no prefix. Each line shows the deadline returned by [`deadlines`].
pub fn explain(facts: &NoticeFacts, settings: &RuleSettings, cal: &Calendar) -> Explanation {
    let submission = describe(
        SUBMISSION_START_LABEL,
        settings.submission.policy,
        facts.event_date,
        settings.submission_days(facts.kind),
        cal,
    );
    let (days, rule) = settings.registration_days(facts.kind, facts.my_number);
    let counting = describe(
        REGISTRATION_START_LABEL,
        settings.registration.policy,
        facts.received_on,
        days,
        cal,
    );
    let registration = match rule {
        RegistrationRule::FiveDay => counting,
        RegistrationRule::Loss => format!("資格喪失届: {counting}"),
        RegistrationRule::Standard => {
            format!(
                "標準処理期間（個人番号 {}）: {counting}",
                facts.my_number.label_ja()
            )
        }
    };
    Explanation {
        submission,
        registration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::{KindDays, RuleConfig};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cal() -> &'static Calendar {
        Calendar::get()
    }

    fn notice(
        kind: NoticeKind,
        event: &str,
        received: &str,
        my_number: MyNumberStatus,
    ) -> NoticeFacts {
        NoticeFacts {
            kind,
            event_date: d(event),
            received_on: d(received),
            my_number,
            registered_on: None,
        }
    }

    fn acquisition(received: &str) -> NoticeFacts {
        notice(
            NoticeKind::Acquisition,
            received,
            received,
            MyNumberStatus::Valid,
        )
    }

    fn registered(mut f: NoticeFacts, on: &str) -> NoticeFacts {
        f.registered_on = Some(d(on));
        f
    }

    fn settings(policy: Policy) -> RuleSettings {
        let mut s = RuleSettings::default();
        s.submission.policy = policy;
        s.registration.policy = policy;
        s
    }

    fn extend(start: &str, n: u32) -> NaiveDate {
        deadline(Policy::Extend, d(start), n, cal())
    }

    #[test]
    fn extend_golden_week_2024() {
        assert_eq!(extend("2024-04-28", 5), d("2024-05-07"));
        let f = acquisition("2024-04-28");
        assert_eq!(
            deadlines(&f, &RuleSettings::default(), cal()).registration,
            d("2024-05-07")
        );
        assert_eq!(
            explain_deadline(Policy::Extend, d("2024-04-28"), 5, cal()),
            "起算日 2024-04-28 + 5日 = 2024-05-03（憲法記念日）→ 休日のため 2024-05-07"
        );
    }

    #[test]
    fn extend_moves_a_saturday_to_monday() {
        assert_eq!(
            explain_deadline(Policy::Extend, d("2024-04-01"), 5, cal()),
            "起算日 2024-04-01 + 5日 = 2024-04-06（土曜日）→ 休日のため 2024-04-08"
        );
    }

    #[test]
    fn extend_keeps_a_working_day() {
        assert_eq!(extend("2024-04-03", 5), d("2024-04-08"));
        assert_eq!(
            explain_deadline(Policy::Extend, d("2024-04-03"), 5, cal()),
            "起算日 2024-04-03 + 5日 = 2024-04-08"
        );
    }

    #[test]
    fn extend_over_the_year_end() {
        // 12/30 is 年末年始, 1/1–1/3 too, 1/4–1/5 a weekend.
        assert_eq!(extend("2024-12-25", 5), d("2025-01-06"));
        assert_eq!(
            explain_deadline(Policy::Extend, d("2024-12-25"), 5, cal()),
            "起算日 2024-12-25 + 5日 = 2024-12-30（年末年始）→ 休日のため 2025-01-06"
        );
    }

    #[test]
    fn extend_over_a_substitute_holiday() {
        // 2024-02-11 (Sunday) 建国記念の日 → 2/12 振替休日.
        assert_eq!(
            explain_deadline(Policy::Extend, d("2024-02-07"), 5, cal()),
            "起算日 2024-02-07 + 5日 = 2024-02-12（振替休日）→ 休日のため 2024-02-13"
        );
    }

    #[test]
    fn extend_over_the_2019_accession_holidays() {
        assert_eq!(
            explain_deadline(Policy::Extend, d("2019-04-25"), 5, cal()),
            "起算日 2019-04-25 + 5日 = 2019-04-30（国民の休日）→ 休日のため 2019-05-07"
        );
        // A registration deadline across 即位礼正殿の儀 (2019-10-22, a Tuesday).
        let f = acquisition("2019-10-17");
        let s = RuleSettings::default();
        assert_eq!(deadlines(&f, &s, cal()).registration, d("2019-10-23"));
        assert_eq!(
            explain(&f, &s, cal()).registration,
            "起算日（受付日） 2019-10-17 + 5日 = 2019-10-22（即位礼正殿の儀）→ 休日のため 2019-10-23"
        );
        // Business days skip it: 10/21, 10/23, 10/24, 10/25, 10/28.
        assert_eq!(
            deadline(Policy::Business, d("2019-10-18"), 5, cal()),
            d("2019-10-28")
        );
    }

    #[test]
    fn extend_over_the_2021_olympic_holidays() {
        // 7/22 海の日, 7/23 スポーツの日, then a weekend.
        assert_eq!(extend("2021-07-17", 5), d("2021-07-26"));
        assert_eq!(extend("2021-07-19", 4), d("2021-07-26"));
        // 8/8 山の日 on a Sunday, 8/9 振替休日.
        assert_eq!(extend("2021-08-03", 5), d("2021-08-10"));
        assert_eq!(extend("2021-08-04", 5), d("2021-08-10"));
        // Under the usual rules 7/19 would have been 海の日; in 2021 it was a working day.
        assert_eq!(extend("2021-07-14", 5), d("2021-07-19"));
    }

    #[test]
    fn leap_day_is_an_ordinary_deadline() {
        for policy in [Policy::Extend, Policy::Strict] {
            assert_eq!(deadline(policy, d("2024-02-24"), 5, cal()), d("2024-02-29"));
        }
        assert_eq!(extend("2023-02-24", 5), d("2023-03-01"));
    }

    #[test]
    fn strict_extend_and_business_on_the_same_start() {
        let start = d("2024-04-28");
        assert_eq!(deadline(Policy::Strict, start, 5, cal()), d("2024-05-03"));
        assert_eq!(deadline(Policy::Extend, start, 5, cal()), d("2024-05-07"));
        // 4/29 昭和の日; 4/30, 5/1, 5/2, 5/7, 5/8.
        assert_eq!(deadline(Policy::Business, start, 5, cal()), d("2024-05-08"));
        assert_eq!(
            explain_deadline(Policy::Strict, start, 5, cal()),
            "起算日 2024-04-28 + 5日 = 2024-05-03（厳格: 休日でも延長しない）"
        );
        assert_eq!(
            explain_deadline(Policy::Business, d("2024-04-26"), 5, cal()),
            "起算日 2024-04-26 の翌日から5営業日目 = 2024-05-08"
        );
    }

    #[test]
    fn zero_days_is_the_start_or_the_next_open_day() {
        assert_eq!(
            deadline(Policy::Strict, d("2024-04-27"), 0, cal()),
            d("2024-04-27")
        );
        assert_eq!(
            deadline(Policy::Extend, d("2024-04-27"), 0, cal()),
            d("2024-04-30")
        );
        assert_eq!(
            deadline(Policy::Business, d("2024-04-27"), 0, cal()),
            d("2024-04-30")
        );
        assert_eq!(
            deadline(Policy::Business, d("2024-04-26"), 0, cal()),
            d("2024-04-26")
        );
        assert_eq!(
            explain_deadline(Policy::Business, d("2024-04-27"), 0, cal()),
            "起算日 2024-04-27（土曜日）+ 0営業日 → 休日のため 2024-04-30"
        );
        assert_eq!(
            explain_deadline(Policy::Business, d("2024-04-26"), 0, cal()),
            "起算日 2024-04-26 + 0営業日 = 2024-04-26"
        );
    }

    #[test]
    fn registration_on_the_deadline_is_met_one_day_later_breached() {
        let s = RuleSettings::default();
        let as_of = d("2024-06-30");
        let on_time = registered(acquisition("2024-04-28"), "2024-05-07");
        let r = evaluate(&on_time, &s, as_of, cal()).registration;
        assert_eq!(
            r,
            RuleEval {
                status: Status::Met,
                deadline: Some(d("2024-05-07")),
                days_over: None
            }
        );
        let late = registered(acquisition("2024-04-28"), "2024-05-08");
        let r = evaluate(&late, &s, as_of, cal()).registration;
        assert_eq!(
            r,
            RuleEval {
                status: Status::Breached,
                deadline: Some(d("2024-05-07")),
                days_over: Some(1)
            }
        );
    }

    #[test]
    fn registration_not_completed_at_risk_open_breached() {
        let s = RuleSettings::default(); // warn_days = 1
        let f = acquisition("2024-04-28"); // deadline 2024-05-07
        let status = |as_of: &str| evaluate(&f, &s, d(as_of), cal()).registration;
        assert_eq!(status("2024-05-02").status, Status::Open);
        assert_eq!(status("2024-05-05").status, Status::Open);
        assert_eq!(status("2024-05-06").status, Status::AtRisk);
        assert_eq!(status("2024-05-07").status, Status::AtRisk);
        assert_eq!(status("2024-05-07").days_over, None);
        assert_eq!(status("2024-05-08").status, Status::Breached);
        assert_eq!(status("2024-05-08").days_over, Some(1));
        assert_eq!(status("2024-05-20").days_over, Some(13));
        // warn_days is a setting.
        let wide = RuleSettings { warn_days: 3, ..s };
        assert_eq!(
            evaluate(&f, &wide, d("2024-05-04"), cal())
                .registration
                .status,
            Status::AtRisk
        );
        assert_eq!(
            evaluate(&f, &wide, d("2024-05-03"), cal())
                .registration
                .status,
            Status::Open
        );
    }

    #[test]
    fn registration_not_applicable_before_receipt() {
        let f = acquisition("2024-05-10");
        let r = evaluate(&f, &RuleSettings::default(), d("2024-05-01"), cal()).registration;
        assert_eq!(
            r,
            RuleEval {
                status: Status::NotApplicable,
                deadline: Some(d("2024-05-15")),
                days_over: None
            }
        );
    }

    #[test]
    fn registration_after_as_of_is_not_yet_completed() {
        let f = registered(acquisition("2024-04-28"), "2024-05-09");
        let e = evaluate(&f, &RuleSettings::default(), d("2024-05-06"), cal());
        assert_eq!(e.registration.status, Status::AtRisk);
        assert_eq!(e.e2e_days, None);
        let e = evaluate(&f, &RuleSettings::default(), d("2024-05-09"), cal());
        assert_eq!(
            (e.registration.status, e.registration.days_over),
            (Status::Breached, Some(2))
        );
        assert_eq!(e.e2e_days, Some(11));
    }

    #[test]
    fn submission_rule_counts_from_the_event_and_ignores_as_of() {
        let s = RuleSettings::default();
        // Event 2024-04-01 + 5 = 04-06 (Saturday) → 04-08.
        let on_time = notice(
            NoticeKind::Acquisition,
            "2024-04-01",
            "2024-04-08",
            MyNumberStatus::Valid,
        );
        let late = notice(
            NoticeKind::Acquisition,
            "2024-04-01",
            "2024-04-10",
            MyNumberStatus::Valid,
        );
        let early = notice(
            NoticeKind::Acquisition,
            "2024-04-01",
            "2024-03-15",
            MyNumberStatus::Valid,
        );
        for as_of in ["2024-03-20", "2024-04-08", "2025-01-01"] {
            let sub = |f: &NoticeFacts| evaluate(f, &s, d(as_of), cal()).submission;
            assert_eq!(
                sub(&on_time),
                RuleEval {
                    status: Status::Met,
                    deadline: Some(d("2024-04-08")),
                    days_over: None
                }
            );
            assert_eq!(sub(&late).status, Status::Breached);
            assert_eq!(sub(&late).days_over, Some(2));
            // A 内定者 notice received before the event date is met.
            assert_eq!(sub(&early).status, Status::Met);
        }
        assert_eq!(
            explain(&late, &s, cal()).submission,
            "起算日（事実発生日） 2024-04-01 + 5日 = 2024-04-06（土曜日）→ 休日のため 2024-04-08"
        );
    }

    #[test]
    fn submission_days_and_policy_are_per_insurer() {
        let s = RuleSettings {
            submission: RuleConfig {
                policy: Policy::Strict,
                days: KindDays {
                    acquisition: 3,
                    dependent: 5,
                    loss: 10,
                },
            },
            ..RuleSettings::default()
        };
        let f = notice(
            NoticeKind::Loss,
            "2024-04-25",
            "2024-05-02",
            MyNumberStatus::Valid,
        );
        assert_eq!(deadlines(&f, &s, cal()).submission, d("2024-05-05"));
        let f = notice(
            NoticeKind::Acquisition,
            "2024-04-25",
            "2024-05-02",
            MyNumberStatus::Valid,
        );
        assert_eq!(deadlines(&f, &s, cal()).submission, d("2024-04-28"));
    }

    #[test]
    fn a_blank_number_loss_notice_received_2025_03_03_is_due_2025_03_05() {
        let f = notice(
            NoticeKind::Loss,
            "2025-03-01",
            "2025-03-03",
            MyNumberStatus::Missing,
        );
        let dl = deadlines(&f, &RuleSettings::default(), cal());
        assert_eq!(
            (dl.registration_rule, dl.registration),
            (RegistrationRule::Loss, d("2025-03-05"))
        );
        assert_eq!(
            explain(&f, &RuleSettings::default(), cal()).registration,
            "資格喪失届: 起算日（受付日） 2025-03-03 + 2日 = 2025-03-05"
        );
    }

    #[test]
    fn five_day_rule_only_with_a_valid_my_number() {
        let s = RuleSettings::default();
        let received = "2024-06-03"; // Monday
        let with = |kind, mn| deadlines(&notice(kind, received, received, mn), &s, cal());
        let valid = with(NoticeKind::Acquisition, MyNumberStatus::Valid);
        assert_eq!(
            (valid.registration_rule, valid.registration),
            (RegistrationRule::FiveDay, d("2024-06-10"))
        );
        // A 資格喪失届 has its own rule, 2 days, whatever the My Number (SPEC §2, §2.3).
        for mn in [
            MyNumberStatus::Valid,
            MyNumberStatus::Missing,
            MyNumberStatus::Invalid,
        ] {
            let loss = with(NoticeKind::Loss, mn);
            assert_eq!(
                (loss.registration_rule, loss.registration),
                (RegistrationRule::Loss, d("2024-06-05")),
                "{mn:?}"
            );
        }
        // +14 = 06-17 (Monday) for the other kinds without a valid number (SPEC §2.3).
        for kind in [NoticeKind::Acquisition, NoticeKind::Dependent] {
            for mn in [MyNumberStatus::Missing, MyNumberStatus::Invalid] {
                let dl = with(kind, mn);
                assert_eq!(
                    (dl.registration_rule, dl.registration),
                    (RegistrationRule::Standard, d("2024-06-17"))
                );
            }
        }
        let f = notice(
            NoticeKind::Dependent,
            received,
            received,
            MyNumberStatus::Missing,
        );
        assert_eq!(
            explain(&f, &s, cal()).registration,
            "標準処理期間（個人番号 未記載）: 起算日（受付日） 2024-06-03 + 14日 = 2024-06-17"
        );
        let f = notice(
            NoticeKind::Dependent,
            received,
            received,
            MyNumberStatus::Invalid,
        );
        assert!(explain(&f, &s, cal())
            .registration
            .starts_with("標準処理期間（個人番号 誤り）: 起算日（受付日）"));
        let f = notice(
            NoticeKind::Dependent,
            received,
            received,
            MyNumberStatus::Valid,
        );
        assert_eq!(
            explain(&f, &s, cal()).registration,
            "起算日（受付日） 2024-06-03 + 5日 = 2024-06-08（土曜日）→ 休日のため 2024-06-10"
        );
        assert_eq!(
            evaluate(&f, &s, d(received), cal()).registration_rule,
            RegistrationRule::FiveDay
        );
    }

    #[test]
    fn ex_officio_only_from_2024_12_02() {
        let s = RuleSettings::default(); // ex_officio_days = 10
        let before = notice(
            NoticeKind::Acquisition,
            "2024-12-01",
            "2024-12-01",
            MyNumberStatus::Missing,
        );
        for as_of in ["2024-12-01", "2024-12-20", "2025-06-01"] {
            assert!(
                !evaluate(&before, &s, d(as_of), cal()).ex_officio_required,
                "{as_of}"
            );
        }
        let valid = notice(
            NoticeKind::Acquisition,
            "2024-12-02",
            "2024-12-02",
            MyNumberStatus::Valid,
        );
        assert!(!evaluate(&valid, &s, d("2024-12-11"), cal()).ex_officio_required); // 9 days
        assert!(evaluate(&valid, &s, d("2024-12-12"), cal()).ex_officio_required); // 10 days
        let done = registered(valid, "2024-12-05");
        assert!(!evaluate(&done, &s, d("2024-12-12"), cal()).ex_officio_required);
        // A registration after the as-of date has not happened yet.
        let later = registered(valid, "2024-12-20");
        assert!(evaluate(&later, &s, d("2024-12-12"), cal()).ex_officio_required);
    }

    #[test]
    fn ex_officio_with_unusable_my_number_regardless_of_days() {
        let s = RuleSettings::default();
        for mn in [MyNumberStatus::Missing, MyNumberStatus::Invalid] {
            let f = notice(NoticeKind::Dependent, "2025-04-01", "2025-04-01", mn);
            assert!(evaluate(&f, &s, d("2025-04-01"), cal()).ex_officio_required);
            // Not yet received as of the evaluation date: nothing to issue.
            assert!(!evaluate(&f, &s, d("2025-03-31"), cal()).ex_officio_required);
        }
    }

    #[test]
    fn ex_officio_never_for_a_loss() {
        let s = RuleSettings::default();
        let f = notice(
            NoticeKind::Loss,
            "2025-04-01",
            "2025-04-01",
            MyNumberStatus::Missing,
        );
        assert!(!evaluate(&f, &s, d("2025-06-01"), cal()).ex_officio_required);
    }

    #[test]
    fn e2e_days_from_event_to_registration() {
        let s = RuleSettings::default();
        let f = notice(
            NoticeKind::Acquisition,
            "2024-04-01",
            "2024-04-05",
            MyNumberStatus::Valid,
        );
        assert_eq!(evaluate(&f, &s, d("2024-05-01"), cal()).e2e_days, None);
        let f = registered(f, "2024-04-10");
        assert_eq!(evaluate(&f, &s, d("2024-05-01"), cal()).e2e_days, Some(9));
        // A 内定者 registered before the first day waits 0 days.
        let early = registered(
            notice(
                NoticeKind::Acquisition,
                "2024-04-01",
                "2024-03-10",
                MyNumberStatus::Valid,
            ),
            "2024-03-12",
        );
        assert_eq!(
            evaluate(&early, &s, d("2024-05-01"), cal()).e2e_days,
            Some(0)
        );
    }

    #[test]
    fn deadlines_match_evaluate_and_explain() {
        for policy in Policy::ALL {
            let s = settings(policy);
            let f = notice(
                NoticeKind::Dependent,
                "2024-04-22",
                "2024-04-26",
                MyNumberStatus::Missing,
            );
            let dl = deadlines(&f, &s, cal());
            let e = evaluate(&f, &s, d("2024-04-26"), cal());
            assert_eq!(e.submission.deadline, Some(dl.submission));
            assert_eq!(e.registration.deadline, Some(dl.registration));
            let x = explain(&f, &s, cal());
            assert!(
                x.submission.ends_with(&dl.submission.to_string()) || policy == Policy::Strict,
                "{x:?}"
            );
            assert!(
                x.registration.contains(&dl.registration.to_string()),
                "{x:?}"
            );
        }
    }

    fn arb_date() -> impl Strategy<Value = NaiveDate> {
        let first = d("1990-01-01");
        let span = (d("2098-12-31") - first).num_days() as u64;
        (0..=span).prop_map(move |k| first + Days::new(k))
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        prop_oneof![
            Just(Policy::Extend),
            Just(Policy::Strict),
            Just(Policy::Business)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn extend_deadline_is_never_an_admin_holiday(start in arb_date(), n in 0u32..=30) {
            let dl = deadline(Policy::Extend, start, n, cal());
            prop_assert!(!cal().is_admin_holiday(dl), "{} + {} → {}", start, n, dl);
            prop_assert!(dl >= start + Days::new(u64::from(n)));
        }

        #[test]
        fn strict_le_extend_le_business(start in arb_date(), n in 0u32..=30) {
            let strict = deadline(Policy::Strict, start, n, cal());
            let extend = deadline(Policy::Extend, start, n, cal());
            let business = deadline(Policy::Business, start, n, cal());
            prop_assert!(strict <= extend && extend <= business, "{start} + {n}: {strict} {extend} {business}");
        }

        #[test]
        fn deadlines_do_not_decrease_with_more_days(start in arb_date(), n in 0u32..30, policy in arb_policy()) {
            prop_assert!(deadline(policy, start, n, cal()) <= deadline(policy, start, n + 1, cal()));
        }

        #[test]
        fn completion_on_the_deadline_is_met_one_day_later_breached(
            received in arb_date(), n in 0u32..=30, policy in arb_policy(), valid in any::<bool>(),
        ) {
            let mut s = settings(policy);
            s.registration.days = KindDays { acquisition: n, dependent: n, loss: n };
            s.standard_days = n;
            let mn = if valid { MyNumberStatus::Valid } else { MyNumberStatus::Missing };
            let f = notice(NoticeKind::Acquisition, "1990-01-01", &received.to_string(), mn);
            let dl = deadlines(&f, &s, cal()).registration;
            let as_of = dl + Days::new(40);
            let on = NoticeFacts { registered_on: Some(dl), ..f };
            let r = evaluate(&on, &s, as_of, cal()).registration;
            prop_assert_eq!((r.status, r.days_over), (Status::Met, None));
            let late = NoticeFacts { registered_on: dl.succ_opt(), ..f };
            let r = evaluate(&late, &s, as_of, cal()).registration;
            prop_assert_eq!((r.status, r.days_over), (Status::Breached, Some(1)));
            // The submission rule, completed by receipt, obeys the same law.
            let sub_dl = deadlines(&f, &s, cal()).submission;
            let sub = |received: NaiveDate| {
                evaluate(&NoticeFacts { received_on: received, ..f }, &s, as_of, cal()).submission
            };
            prop_assert_eq!((sub(sub_dl).status, sub(sub_dl).days_over), (Status::Met, None));
            let next = sub_dl.succ_opt().unwrap();
            prop_assert_eq!((sub(next).status, sub(next).days_over), (Status::Breached, Some(1)));
        }

        #[test]
        fn explanation_ends_with_the_deadline(start in arb_date(), n in 0u32..=30, policy in arb_policy()) {
            let text = explain_deadline(policy, start, n, cal());
            let dl = deadline(policy, start, n, cal()).to_string();
            if policy == Policy::Strict {
                prop_assert!(text.contains(&format!("= {dl}（厳格")), "{}", text);
            } else {
                prop_assert!(text.ends_with(&dl), "{}", text);
            }
        }
    }
}
