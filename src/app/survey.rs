//! The checklist (別添1/2), the 改善計画 and the follow-up survey (別添3): answers, actions, status
//! changes, progress reviews, submissions and the exports of them. The answers and the plan are
//! what the insurer reports to the ministry, so every change (and every download) is audited in
//! the same write transaction.
use super::Acting;
use crate::reports::bundle::{self, Period};
use crate::reports::checklist::{self, ChecklistAnswer};
use crate::reports::survey as followup;
use crate::reports::survey_export::{Export, ExportError};
use crate::store::audit::AuditAction;
use crate::store::survey::{self as store, PlanStatus};
use crate::store::{insurers, write_tx, DbConn};
use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// No such action or submission for the acting insurer.
    #[error("見つかりません")]
    NotFound,
    /// The input cannot be saved; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] insurers::InsurerError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("JSON を書けません: {0}")]
    Json(#[from] serde_json::Error),
}

fn invalid(msg: impl Into<String>) -> SurveyError {
    SurveyError::Invalid(msg.into())
}

fn record(
    c: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    target: Option<&str>,
    detail: &str,
) -> Result<(), diesel::result::Error> {
    acting.audit(c, action, target, Some(detail))
}

// ---------------------------------------------------------------------------------------------
// Checklist

/// A checklist answer as given: `done`, `not_done`, `partly` or the Japanese label.
pub fn checklist_answer(s: &str) -> Result<ChecklistAnswer, SurveyError> {
    ChecklistAnswer::parse(s.trim())
        .ok_or_else(|| invalid("回答は 実施済 / 未実施 / 一部 のいずれかです"))
}

/// The answer to one checklist item.
pub struct SetChecklistAnswer {
    /// As in the checklist, e.g. `2-③` (checked against the insurer's kind).
    pub item_id: String,
    pub answer: ChecklistAnswer,
    pub note: String,
}

/// An answer as saved.
pub struct SavedChecklistAnswer {
    pub item_id: &'static str,
    pub answer: ChecklistAnswer,
    pub note: String,
    pub updated_by: String,
}

/// Answers one item of the insurer's checklist (replacing an earlier answer). Audited.
pub fn save_checklist_answer(
    c: &mut DbConn,
    acting: &Acting,
    input: SetChecklistAnswer,
) -> Result<SavedChecklistAnswer, SurveyError> {
    let insurer = insurers::get(c, acting.insurer)?;
    let item_id = input.item_id.trim();
    let item = checklist::find(insurer.kind, item_id)
        .ok_or_else(|| invalid(format!("チェック項目 {item_id} はありません")))?;
    let (answer, note) = (input.answer, input.note.trim());
    write_tx(c, |c| write_answer(c, acting, item.id, answer, note))?;
    Ok(SavedChecklistAnswer {
        item_id: item.id,
        answer,
        note: note.into(),
        updated_by: acting.label.clone(),
    })
}

/// Answers several items at once (the checklist page's one form): every item is checked first;
/// then only the items whose answer or note changed are written, each with its audit entry, in
/// one transaction. Returns how many changed.
pub fn save_checklist_answers(
    c: &mut DbConn,
    acting: &Acting,
    inputs: Vec<SetChecklistAnswer>,
) -> Result<usize, SurveyError> {
    let insurer = insurers::get(c, acting.insurer)?;
    let mut items = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let id = input.item_id.trim();
        let item = checklist::find(insurer.kind, id)
            .ok_or_else(|| invalid(format!("チェック項目 {id} はありません")))?;
        items.push((item.id, input.answer, input.note.trim()));
    }
    write_tx(c, |c| {
        let current = store::checklist_answers(c, acting.insurer)?;
        let mut changed = 0;
        for (id, answer, note) in items {
            let same = current
                .iter()
                .any(|r| r.item_id == id && r.answer == answer.code() && r.note == note);
            if !same {
                write_answer(c, acting, id, answer, note)?;
                changed += 1;
            }
        }
        Ok(changed)
    })
}

/// Writes one answer and its audit entry (inside the caller's transaction).
fn write_answer(
    c: &mut DbConn,
    acting: &Acting,
    item_id: &'static str,
    answer: ChecklistAnswer,
    note: &str,
) -> Result<(), SurveyError> {
    store::set_checklist_answer(
        c,
        acting.insurer,
        item_id,
        answer.code(),
        note,
        &acting.label,
    )?;
    record(
        c,
        acting,
        AuditAction::ChecklistAnswer,
        Some(item_id),
        answer.label_ja(),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 改善計画

/// A status as given; blank is `planned`.
pub fn plan_status(s: &str) -> Result<PlanStatus, SurveyError> {
    match s.trim() {
        "" => Ok(PlanStatus::Planned),
        s => PlanStatus::parse(s)
            .ok_or_else(|| invalid("状況は 未着手 / 実施中 / 完了 のいずれかです")),
    }
}

/// A new 改善計画 action.
pub struct NewPlanAction {
    pub title: String,
    /// The checklist item it answers (blank: none).
    pub checklist_item: String,
    pub owner: String,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub status: PlanStatus,
}

/// Adds an action to the insurer's 改善計画 and returns its id. Audited.
pub fn add_action(
    c: &mut DbConn,
    acting: &Acting,
    input: NewPlanAction,
) -> Result<i64, SurveyError> {
    let title = input.title.trim();
    if title.is_empty() {
        return Err(invalid("取組の内容を入力してください"));
    }
    if let (Some(s), Some(d)) = (input.start_on, input.due_on) {
        if d < s {
            return Err(invalid("期限が開始日より前になっています"));
        }
    }
    let insurer = insurers::get(c, acting.insurer)?;
    let item = Some(input.checklist_item.trim()).filter(|s| !s.is_empty());
    if let Some(i) = item {
        checklist::find(insurer.kind, i)
            .ok_or_else(|| invalid(format!("チェック項目 {i} はありません")))?;
    }
    write_tx(c, |c| {
        let id = store::add_action(
            c,
            acting.insurer,
            &store::NewAction {
                title,
                checklist_item: item,
                owner: input.owner.trim(),
                start_on: input.start_on,
                due_on: input.due_on,
                status: input.status.code(),
            },
        )?;
        record(
            c,
            acting,
            AuditAction::PlanActionAdd,
            Some(item.unwrap_or("")),
            title,
        )?;
        Ok(id)
    })
}

/// Sets the status of one of the insurer's actions. Audited.
pub fn set_action_status(
    c: &mut DbConn,
    acting: &Acting,
    action: i64,
    status: PlanStatus,
) -> Result<(), SurveyError> {
    write_tx(c, |c| {
        if !store::set_action_status(c, acting.insurer, action, status)? {
            return Err(SurveyError::NotFound);
        }
        let target = action.to_string();
        record(
            c,
            acting,
            AuditAction::PlanActionStatus,
            Some(&target),
            status.code(),
        )?;
        Ok(())
    })
}

/// A dated progress review of an action (checklist 1-④).
pub struct NewReview {
    /// Default: today in Japan.
    pub reviewed_on: Option<NaiveDate>,
    /// 0–100.
    pub progress: Option<i64>,
    pub note: String,
}

/// Records a progress review of one of the insurer's actions. Audited.
pub fn add_review(
    c: &mut DbConn,
    acting: &Acting,
    action: i64,
    input: NewReview,
) -> Result<(), SurveyError> {
    let on = input.reviewed_on.unwrap_or_else(crate::time::today_jst);
    let progress = input
        .progress
        .map(|p| {
            i32::try_from(p)
                .ok()
                .filter(|p| (0..=100).contains(p))
                .ok_or_else(|| invalid("進捗は 0〜100 の整数で入力してください"))
        })
        .transpose()?;
    let note = input.note.trim();
    write_tx(c, |c| {
        if !store::add_review(c, acting.insurer, action, on, progress, note, &acting.label)? {
            return Err(SurveyError::NotFound);
        }
        let target = action.to_string();
        record(
            c,
            acting,
            AuditAction::PlanReview,
            Some(&target),
            &on.to_string(),
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Follow-up survey

/// The staff's answer to one survey question (overriding its pre-fill).
pub struct SetSurveyAnswer {
    /// `1`, `2-(1)-a`, … as in the survey.
    pub question_id: String,
    /// One of the question's choices, word for word.
    pub choice: String,
    /// The 〇日 of `2-(3)-a` (1–365); ignored for other questions.
    pub days: Option<i64>,
    pub note: String,
}

/// An answer as saved.
pub struct SavedSurveyAnswer {
    pub question_id: &'static str,
    pub choice: String,
    pub days: Option<i32>,
    pub note: String,
    pub updated_by: String,
}

/// Answers one survey question. Audited.
pub fn save_survey_answer(
    c: &mut DbConn,
    acting: &Acting,
    input: SetSurveyAnswer,
) -> Result<SavedSurveyAnswer, SurveyError> {
    let qid = input.question_id.trim();
    let q = followup::find(qid).ok_or_else(|| invalid(format!("設問 {qid} はありません")))?;
    let choice = input.choice.trim().to_string();
    if !followup::valid_choice(q, &choice) {
        return Err(invalid(format!(
            "回答は {} のいずれかです",
            q.choices.join(" / ")
        )));
    }
    // Only 2-(3)-a has a 〇日; a number given with another question is ignored, as the form does.
    let days = match input.days {
        Some(d) if q.id == followup::DAYS_QUESTION => Some(
            i32::try_from(d)
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| invalid("日数は 1〜365 の整数で入力してください"))?,
        ),
        _ => None,
    };
    let note = input.note.trim();
    write_tx(c, |c| {
        store::set_survey_answer(c, acting.insurer, q.id, &choice, days, note, &acting.label)?;
        record(c, acting, AuditAction::SurveyAnswer, Some(q.id), &choice)
    })?;
    Ok(SavedSurveyAnswer {
        question_id: q.id,
        choice,
        days,
        note: note.into(),
        updated_by: acting.label.clone(),
    })
}

/// Keeps the current answers (pre-fills included) of the period as a submission in the history,
/// with the evidence they were based on. Audited.
pub fn submit_survey(c: &mut DbConn, acting: &Acting, p: Period) -> Result<(), SurveyError> {
    let insurer = insurers::get(c, acting.insurer)?;
    let (answers, evidence) = bundle::load(c, insurer, p)?.submission_json()?;
    write_tx(c, |c| {
        store::record_submission(
            c,
            acting.insurer,
            (p.from, p.to),
            &answers,
            &evidence,
            &acting.label,
        )?;
        let detail = format!("{} ～ {}", p.from, p.to);
        record(
            c,
            acting,
            AuditAction::SurveySubmit,
            Some("followup"),
            &detail,
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Exports

/// The file of an export for the period; the download is audited.
pub fn export(
    c: &mut DbConn,
    acting: &Acting,
    p: Period,
    what: Export,
) -> Result<Vec<u8>, SurveyError> {
    let insurer = insurers::get(c, acting.insurer)?;
    let bytes = what.bytes(&bundle::load(c, insurer, p)?)?;
    let detail = format!("{} ～ {}（{} 時点）", p.from, p.to, p.as_of);
    write_tx(c, |c| record(c, acting, what.audit_action(), None, &detail))?;
    Ok(bytes)
}
