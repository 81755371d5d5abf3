//! 改善計画 as the pages, the API and the exports show it: each action with its status, whether it
//! is overdue, and its dated progress reviews.
use crate::store::survey::{self as store, PlanActionRow, PlanReviewRow};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub checklist_item: Option<String>,
    pub owner: String,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
    pub reviews: Vec<ReviewView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub reviewed_on: NaiveDate,
    pub progress: Option<i32>,
    pub note: String,
    pub by: String,
}

/// The actions with their reviews, overdue as of `today`.
pub fn views(
    actions: Vec<PlanActionRow>,
    reviews: Vec<PlanReviewRow>,
    today: NaiveDate,
) -> Vec<ActionView> {
    actions
        .into_iter()
        .map(|a| ActionView {
            overdue: a.overdue(today),
            status_label: store::plan_status_label(&a.status).to_string(),
            reviews: reviews
                .iter()
                .filter(|r| r.action_id == a.id)
                .map(|r| ReviewView {
                    reviewed_on: r.reviewed_on,
                    progress: r.progress,
                    note: r.note.clone(),
                    by: r.created_by_label.clone(),
                })
                .collect(),
            id: a.id,
            title: a.title,
            checklist_item: a.checklist_item,
            owner: a.owner,
            start_on: a.start_on,
            due_on: a.due_on,
            status: a.status,
        })
        .collect()
}

/// The insurer's 改善計画 as of `today`.
pub fn load(
    c: &mut crate::store::DbConn,
    insurer: crate::store::insurers::InsurerId,
    today: NaiveDate,
) -> Result<Vec<ActionView>, diesel::result::Error> {
    Ok(views(
        store::plan_actions(c, insurer)?,
        store::plan_reviews(c, insurer)?,
        today,
    ))
}
