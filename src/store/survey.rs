//! The insurer's answers to the checklist and the follow-up survey, its 改善計画 (actions and dated
//! reviews) and the history of submitted surveys. Every function takes the insurer.
use super::insurers::InsurerId;
use super::schema::{
    certificates, checklist_answers, plan_actions, plan_reviews, survey_answers, survey_submissions,
};
use super::{now_utc, update_or_insert, DbConn};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// 資格確認書 issued per month (`YYYY-MM` of the issue date) in [from, to].
pub fn certificates_by_month(
    conn: &mut DbConn,
    insurer: InsurerId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, u64>, diesel::result::Error> {
    let days: Vec<NaiveDate> = certificates::table
        .filter(certificates::insurer_id.eq(insurer.0))
        .filter(certificates::issued_on.between(from, to))
        .select(certificates::issued_on)
        .load(conn)?;
    let mut out = BTreeMap::new();
    for d in days {
        *out.entry(format!("{:04}-{:02}", d.year(), d.month()))
            .or_insert(0) += 1;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Checklist answers

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = checklist_answers)]
pub struct ChecklistAnswerRow {
    pub item_id: String,
    /// done | not_done | partly
    pub answer: String,
    pub note: String,
    pub updated_by_label: String,
    pub updated_at: NaiveDateTime,
}

pub fn checklist_answers(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<ChecklistAnswerRow>, diesel::result::Error> {
    checklist_answers::table
        .filter(checklist_answers::insurer_id.eq(insurer.0))
        .order(checklist_answers::item_id.asc())
        .select(ChecklistAnswerRow::as_select())
        .load(conn)
}

/// Sets the answer of one item (the caller has checked the item id and the answer code). Run it
/// inside a write transaction (`app::survey` opens it, with the audit entry).
pub fn set_checklist_answer(
    c: &mut DbConn,
    insurer: InsurerId,
    item_id: &str,
    answer: &str,
    note: &str,
    by: &str,
) -> Result<(), diesel::result::Error> {
    let now = now_utc();
    update_or_insert(
        c,
        |c| {
            diesel::update(
                checklist_answers::table
                    .filter(checklist_answers::insurer_id.eq(insurer.0))
                    .filter(checklist_answers::item_id.eq(item_id)),
            )
            .set((
                checklist_answers::answer.eq(answer),
                checklist_answers::note.eq(note),
                checklist_answers::updated_by_label.eq(by),
                checklist_answers::updated_at.eq(now),
            ))
            .execute(c)
        },
        |c| {
            diesel::insert_into(checklist_answers::table)
                .values((
                    checklist_answers::insurer_id.eq(insurer.0),
                    checklist_answers::item_id.eq(item_id),
                    checklist_answers::answer.eq(answer),
                    checklist_answers::note.eq(note),
                    checklist_answers::updated_by_label.eq(by),
                    checklist_answers::updated_at.eq(now),
                ))
                .execute(c)
        },
    )
}

// ---------------------------------------------------------------------------------------------
// 改善計画

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = plan_actions)]
pub struct PlanActionRow {
    pub id: i64,
    pub title: String,
    pub checklist_item: Option<String>,
    pub owner: String,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    /// planned | in_progress | done
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PlanActionRow {
    /// The stored status code as a `PlanStatus` (None for a code this version does not know).
    pub fn plan_status(&self) -> Option<PlanStatus> {
        PlanStatus::parse(&self.status)
    }

    /// Not done and past its due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.plan_status() != Some(PlanStatus::Done) && self.due_on.is_some_and(|d| d < today)
    }
}

/// Where a 改善計画 action stands; stored as its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanStatus {
    Planned,
    InProgress,
    Done,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 3] = [
        PlanStatus::Planned,
        PlanStatus::InProgress,
        PlanStatus::Done,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PlanStatus::Planned => "planned",
            PlanStatus::InProgress => "in_progress",
            PlanStatus::Done => "done",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            PlanStatus::Planned => "未着手",
            PlanStatus::InProgress => "実施中",
            PlanStatus::Done => "完了",
        }
    }

    /// The status of a stored code.
    pub fn parse(code: &str) -> Option<PlanStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The label of a stored status code (empty for an unknown code).
pub fn plan_status_label(code: &str) -> &'static str {
    PlanStatus::parse(code)
        .map(PlanStatus::label_ja)
        .unwrap_or("")
}

#[derive(Clone, Debug)]
pub struct NewAction<'a> {
    pub title: &'a str,
    pub checklist_item: Option<&'a str>,
    pub owner: &'a str,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    /// A `PlanStatus` code.
    pub status: &'a str,
}

pub fn plan_actions(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<PlanActionRow>, diesel::result::Error> {
    plan_actions::table
        .filter(plan_actions::insurer_id.eq(insurer.0))
        .order((plan_actions::due_on.asc(), plan_actions::id.asc()))
        .select(PlanActionRow::as_select())
        .load(conn)
}

/// Adds an action and returns its id. Run it inside a write transaction: the id is read back as
/// the insurer's largest.
pub fn add_action(
    c: &mut DbConn,
    insurer: InsurerId,
    a: &NewAction,
) -> Result<i64, diesel::result::Error> {
    let now = now_utc();
    diesel::insert_into(plan_actions::table)
        .values((
            plan_actions::insurer_id.eq(insurer.0),
            plan_actions::title.eq(a.title),
            plan_actions::checklist_item.eq(a.checklist_item),
            plan_actions::owner.eq(a.owner),
            plan_actions::start_on.eq(a.start_on),
            plan_actions::due_on.eq(a.due_on),
            plan_actions::status.eq(a.status),
            plan_actions::created_at.eq(now),
            plan_actions::updated_at.eq(now),
        ))
        .execute(c)?;
    plan_actions::table
        .filter(plan_actions::insurer_id.eq(insurer.0))
        .select(diesel::dsl::max(plan_actions::id))
        .first::<Option<i64>>(c)
        .map(|id| id.unwrap_or(0))
}

/// Replaces an action's fields; false when the action is not the insurer's. Its reviews stay.
pub fn update_action(
    c: &mut DbConn,
    insurer: InsurerId,
    action: i64,
    a: &NewAction,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        plan_actions::table
            .filter(plan_actions::insurer_id.eq(insurer.0))
            .filter(plan_actions::id.eq(action)),
    )
    .set((
        plan_actions::title.eq(a.title),
        plan_actions::checklist_item.eq(a.checklist_item),
        plan_actions::owner.eq(a.owner),
        plan_actions::start_on.eq(a.start_on),
        plan_actions::due_on.eq(a.due_on),
        plan_actions::status.eq(a.status),
        plan_actions::updated_at.eq(now_utc()),
    ))
    .execute(c)?;
    Ok(n > 0)
}

/// Deletes an action and its reviews; the title when it was the insurer's (None otherwise).
/// Run it inside a write transaction.
pub fn delete_action(
    c: &mut DbConn,
    insurer: InsurerId,
    action: i64,
) -> Result<Option<String>, diesel::result::Error> {
    let title: Option<String> = plan_actions::table
        .filter(plan_actions::insurer_id.eq(insurer.0))
        .filter(plan_actions::id.eq(action))
        .select(plan_actions::title)
        .first(c)
        .optional()?;
    if title.is_some() {
        diesel::delete(
            plan_reviews::table
                .filter(plan_reviews::insurer_id.eq(insurer.0))
                .filter(plan_reviews::action_id.eq(action)),
        )
        .execute(c)?;
        diesel::delete(
            plan_actions::table
                .filter(plan_actions::insurer_id.eq(insurer.0))
                .filter(plan_actions::id.eq(action)),
        )
        .execute(c)?;
    }
    Ok(title)
}

/// Sets an action's status; false when the action is not the insurer's.
pub fn set_action_status(
    conn: &mut DbConn,
    insurer: InsurerId,
    action: i64,
    status: PlanStatus,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        plan_actions::table
            .filter(plan_actions::insurer_id.eq(insurer.0))
            .filter(plan_actions::id.eq(action)),
    )
    .set((
        plan_actions::status.eq(status.code()),
        plan_actions::updated_at.eq(now_utc()),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Actions with both a start and a due date: the schedule 1-③ and the survey's 計画策定済 ask for.
pub fn scheduled_actions(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<i64, diesel::result::Error> {
    plan_actions::table
        .filter(plan_actions::insurer_id.eq(insurer.0))
        .filter(plan_actions::start_on.is_not_null())
        .filter(plan_actions::due_on.is_not_null())
        .count()
        .get_result(conn)
}

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = plan_reviews)]
pub struct PlanReviewRow {
    pub id: i64,
    pub action_id: i64,
    pub reviewed_on: NaiveDate,
    pub progress: Option<i32>,
    pub note: String,
    pub created_by_label: String,
    pub created_at: NaiveDateTime,
}

/// Records a dated progress review; false when the action is not the insurer's. Run it inside a
/// write transaction.
pub fn add_review(
    c: &mut DbConn,
    insurer: InsurerId,
    action: i64,
    reviewed_on: NaiveDate,
    progress: Option<i32>,
    note: &str,
    by: &str,
) -> Result<bool, diesel::result::Error> {
    let owned: i64 = plan_actions::table
        .filter(plan_actions::insurer_id.eq(insurer.0))
        .filter(plan_actions::id.eq(action))
        .count()
        .get_result(c)?;
    if owned == 0 {
        return Ok(false);
    }
    diesel::insert_into(plan_reviews::table)
        .values((
            plan_reviews::insurer_id.eq(insurer.0),
            plan_reviews::action_id.eq(action),
            plan_reviews::reviewed_on.eq(reviewed_on),
            plan_reviews::progress.eq(progress),
            plan_reviews::note.eq(note),
            plan_reviews::created_by_label.eq(by),
            plan_reviews::created_at.eq(now_utc()),
        ))
        .execute(c)?;
    Ok(true)
}

pub fn plan_reviews(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<PlanReviewRow>, diesel::result::Error> {
    plan_reviews::table
        .filter(plan_reviews::insurer_id.eq(insurer.0))
        .order((plan_reviews::reviewed_on.asc(), plan_reviews::id.asc()))
        .select(PlanReviewRow::as_select())
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Survey answers

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = survey_answers)]
pub struct SurveyAnswerRow {
    pub question_id: String,
    pub choice: String,
    pub days: Option<i32>,
    pub note: String,
    pub updated_by_label: String,
    pub updated_at: NaiveDateTime,
}

pub fn survey_answers(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<SurveyAnswerRow>, diesel::result::Error> {
    survey_answers::table
        .filter(survey_answers::insurer_id.eq(insurer.0))
        .order(survey_answers::question_id.asc())
        .select(SurveyAnswerRow::as_select())
        .load(conn)
}

/// Sets the staff's answer to one question (the caller has checked the question and choice). Run
/// it inside a write transaction.
pub fn set_survey_answer(
    c: &mut DbConn,
    insurer: InsurerId,
    question_id: &str,
    choice: &str,
    days: Option<i32>,
    note: &str,
    by: &str,
) -> Result<(), diesel::result::Error> {
    let now = now_utc();
    update_or_insert(
        c,
        |c| {
            diesel::update(
                survey_answers::table
                    .filter(survey_answers::insurer_id.eq(insurer.0))
                    .filter(survey_answers::question_id.eq(question_id)),
            )
            .set((
                survey_answers::choice.eq(choice),
                survey_answers::days.eq(days),
                survey_answers::note.eq(note),
                survey_answers::updated_by_label.eq(by),
                survey_answers::updated_at.eq(now),
            ))
            .execute(c)
        },
        |c| {
            diesel::insert_into(survey_answers::table)
                .values((
                    survey_answers::insurer_id.eq(insurer.0),
                    survey_answers::question_id.eq(question_id),
                    survey_answers::choice.eq(choice),
                    survey_answers::days.eq(days),
                    survey_answers::note.eq(note),
                    survey_answers::updated_by_label.eq(by),
                    survey_answers::updated_at.eq(now),
                ))
                .execute(c)
        },
    )
}

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = survey_submissions)]
pub struct SubmissionRow {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub answers_json: String,
    pub submitted_by_label: String,
    pub created_at: NaiveDateTime,
    /// The pre-fill facts and figures the answers were based on (None before migration 000007).
    pub evidence_json: Option<String>,
}

/// Keeps the answers as submitted, with the evidence behind them, for the history.
pub fn record_submission(
    conn: &mut DbConn,
    insurer: InsurerId,
    period: (NaiveDate, NaiveDate),
    answers_json: &str,
    evidence_json: &str,
    by: &str,
) -> Result<(), diesel::result::Error> {
    diesel::insert_into(survey_submissions::table)
        .values((
            survey_submissions::insurer_id.eq(insurer.0),
            survey_submissions::period_from.eq(period.0),
            survey_submissions::period_to.eq(period.1),
            survey_submissions::answers_json.eq(answers_json),
            survey_submissions::evidence_json.eq(Some(evidence_json)),
            survey_submissions::submitted_by_label.eq(by),
            survey_submissions::created_at.eq(now_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn submissions(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<SubmissionRow>, diesel::result::Error> {
    survey_submissions::table
        .filter(survey_submissions::insurer_id.eq(insurer.0))
        .order(survey_submissions::id.desc())
        .select(SubmissionRow::as_select())
        .load(conn)
}

/// One submission of the insurer's; None when the id is not the insurer's.
pub fn submission(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: i64,
) -> Result<Option<SubmissionRow>, diesel::result::Error> {
    survey_submissions::table
        .filter(survey_submissions::insurer_id.eq(insurer.0))
        .filter(survey_submissions::id.eq(id))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_statuses_keep_their_stored_codes_and_labels() {
        let pairs: Vec<_> = PlanStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label_ja()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("planned", "未着手"),
                ("in_progress", "実施中"),
                ("done", "完了")
            ]
        );
        for s in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(s.code()), Some(s));
        }
        assert_eq!(PlanStatus::parse("未着手"), None);
        assert_eq!(plan_status_label("unknown"), "");
    }
}
