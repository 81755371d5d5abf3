//! One notice as the case list, the API and the exports show it: the fields of
//! `check --format jsonl` plus the database id, the employer and the dates.
use crate::domain::rules::{self, Explanation};
use crate::domain::{Calendar, RegistrationRule, RuleSettings, Status};
use crate::reports::check::{rule_label, status_label};
use crate::store::notices::{EmployerRef, NoticeRow};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleItem {
    /// met | breached | at_risk | open | not_applicable
    #[schema(value_type = String, example = "breached")]
    pub status: Status,
    pub deadline: Option<NaiveDate>,
    pub days_over: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegistrationItem {
    /// five_day (valid My Number) | standard
    #[schema(value_type = String, example = "five_day")]
    pub rule: RegistrationRule,
    #[schema(value_type = String, example = "met")]
    pub status: Status,
    pub deadline: Option<NaiveDate>,
    pub days_over: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExOfficioItem {
    pub required: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExplanationItem {
    pub submission: String,
    pub registration: String,
}

impl From<Explanation> for ExplanationItem {
    fn from(e: Explanation) -> Self {
        ExplanationItem {
            submission: e.submission,
            registration: e.registration,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EmployerItem {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeItem {
    /// Database id (use it in `/api/v1/notices/{id}`).
    pub id: i64,
    /// 受付番号
    pub notice_id: String,
    /// acquisition | dependent | loss
    pub kind: String,
    /// valid | invalid | missing (the number itself is never stored)
    pub my_number_status: String,
    pub employer: EmployerItem,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    /// Earliest successful registration, UTC.
    pub registered_at: Option<NaiveDateTime>,
    /// Its Japan date.
    pub registered_on: Option<NaiveDate>,
    pub delay_cause: Option<String>,
    pub submission: RuleItem,
    pub registration: RegistrationItem,
    pub ex_officio_card: ExOfficioItem,
    pub e2e_days: Option<i64>,
    pub explanation: ExplanationItem,
    /// The date the statuses are evaluated as of.
    pub as_of: NaiveDate,
}

impl NoticeItem {
    pub fn new(
        row: &NoticeRow,
        employer: Option<&EmployerRef>,
        settings: &RuleSettings,
        as_of: NaiveDate,
    ) -> NoticeItem {
        let ev = row.evaluate(settings, as_of);
        let explanation = rules::explain(&row.facts(), settings, Calendar::get());
        NoticeItem {
            id: row.id,
            notice_id: row.notice_id.clone(),
            kind: row.kind.clone(),
            my_number_status: row.my_number_status.clone(),
            employer: EmployerItem {
                id: row.employer_id,
                code: employer.map(|e| e.code.clone()).unwrap_or_default(),
                name: employer.and_then(|e| e.name.clone()),
            },
            event_date: row.event_date,
            received_on: row.received_on,
            registered_at: row.registered_at,
            registered_on: row.registered_on,
            delay_cause: row.delay_cause.clone(),
            submission: RuleItem {
                status: ev.submission.status,
                deadline: ev.submission.deadline,
                days_over: ev.submission.days_over,
            },
            registration: RegistrationItem {
                rule: ev.registration_rule,
                status: ev.registration.status,
                deadline: ev.registration.deadline,
                days_over: ev.registration.days_over,
            },
            ex_officio_card: ExOfficioItem {
                required: ev.ex_officio_required,
            },
            e2e_days: ev.e2e_days,
            explanation: explanation.into(),
            as_of,
        }
    }
}

/// Column headers of the CSV and xlsx exports of the case list (Japanese: for insurer staff).
pub const EXPORT_HEADERS: [&str; 17] = [
    "受付番号",
    "届書",
    "事業所記号",
    "事業所名称",
    "事実発生日",
    "受付日",
    "個人番号の記載",
    "提出期限",
    "提出",
    "提出超過日数",
    "登録ルール",
    "登録期限",
    "登録完了日",
    "登録",
    "登録超過日数",
    "資格確認書",
    "遅延理由",
];

/// One export row, in the order of `EXPORT_HEADERS`.
pub fn export_cells(item: &NoticeItem) -> [String; 17] {
    let opt = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    let date = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    let kind = crate::domain::NoticeKind::parse(&item.kind)
        .map(|k| k.label_ja())
        .unwrap_or("");
    let mn = crate::domain::MyNumberStatus::parse_code(&item.my_number_status)
        .map(|m| m.label_ja())
        .unwrap_or("");
    [
        item.notice_id.clone(),
        kind.to_string(),
        item.employer.code.clone(),
        item.employer.name.clone().unwrap_or_default(),
        item.event_date.to_string(),
        item.received_on.to_string(),
        mn.to_string(),
        date(item.submission.deadline),
        status_label(item.submission.status).to_string(),
        opt(item.submission.days_over),
        rule_label(item.registration.rule).to_string(),
        date(item.registration.deadline),
        date(item.registered_on),
        status_label(item.registration.status).to_string(),
        opt(item.registration.days_over),
        if item.ex_officio_card.required {
            "要"
        } else {
            ""
        }
        .to_string(),
        item.delay_cause.clone().unwrap_or_default(),
    ]
}
