//! Everything the checklist, 改善計画, 要因分析 and survey pages and exports show for one insurer
//! and period, computed once: the analysis, the survey with its pre-fills, the checklist with its
//! evidence and the plan.
use super::analysis::{self, Analysis};
use super::checklist::{self, ChecklistItemView};
use super::plan::{self, ActionView};
use super::survey::{self as followup, QuestionView, SurveyFacts};
use crate::store::insurers::Insurer;
use crate::store::survey as store;
use crate::store::DbConn;
use chrono::{Months, NaiveDate};
use serde::Serialize;

/// The period the survey and the analysis look at (dates of receipt / of letters), and the day
/// statuses are evaluated on.
#[derive(Clone, Copy, Debug)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
}

impl Period {
    /// The period from what was given: `as_of` defaults to today in Japan, `to` to `as_of`, `from`
    /// to 12 months before `to`. The error is the message for the user.
    pub fn resolve(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        as_of: Option<NaiveDate>,
    ) -> Result<Period, String> {
        let as_of = as_of.unwrap_or_else(crate::time::today_jst);
        let to = to.unwrap_or(as_of);
        let from = match from {
            Some(d) => d,
            None => (to - Months::new(12)).succ_opt().unwrap_or(to),
        };
        if from > to {
            return Err(format!(
                "期間の開始日（{from}）が終了日（{to}）より後になっています"
            ));
        }
        Ok(Period { from, to, as_of })
    }
}

/// Everything the pages and exports show, for one insurer and period.
pub struct Bundle {
    pub insurer: Insurer,
    pub period: Period,
    pub analysis: Analysis,
    /// What the survey's pre-fills were computed from.
    pub facts: SurveyFacts,
    pub questions: Vec<QuestionView>,
    pub checklist: Vec<ChecklistItemView>,
    pub plan: Vec<ActionView>,
}

/// Computes the bundle of `insurer` for `p`.
pub fn load(c: &mut DbConn, insurer: Insurer, p: Period) -> Result<Bundle, diesel::result::Error> {
    let analysis = analysis::compute(c, &insurer, p.from, p.to, p.as_of)?;
    let plan = plan::load(c, insurer.id, p.as_of)?;
    let answers = store::checklist_answers(c, insurer.id)?;
    let checklist = checklist::item_views(insurer.kind, &answers, &analysis, &plan);
    let facts = SurveyFacts {
        ex_officio_days: insurer.rules.ex_officio_days,
        scheduled_actions: store::scheduled_actions(c, insurer.id)?,
        letters: crate::store::letters::counts(c, insurer.id, p.from, p.to)?,
    };
    let questions = followup::question_views(&facts, &store::survey_answers(c, insurer.id)?);
    Ok(Bundle {
        insurer,
        period: p,
        analysis,
        facts,
        questions,
        checklist,
        plan,
    })
}

/// What a submission's answers were based on, kept with it (issue 8: a past submission is shown
/// exactly as it was, whatever the data or settings are today).
#[derive(Serialize)]
struct SubmissionEvidence<'a> {
    as_of: NaiveDate,
    /// The settings and counts the pre-fills were computed from (their reasons are with the
    /// answers).
    facts: &'a SurveyFacts,
    /// The 月別統計 of the period.
    months: &'a [analysis::MonthStats],
    peak_year: Option<i32>,
    busiest_week: Option<&'a super::workload::LoadRow>,
    has_staffing: bool,
}

impl Bundle {
    /// A submission of the survey as stored: the answers (pre-fills included) and the evidence,
    /// both as JSON.
    pub fn submission_json(&self) -> serde_json::Result<(String, String)> {
        let answers = serde_json::to_string(&self.questions)?;
        let evidence = serde_json::to_string(&SubmissionEvidence {
            as_of: self.period.as_of,
            facts: &self.facts,
            months: &self.analysis.months,
            peak_year: self.analysis.workload.peak_year,
            busiest_week: self.analysis.workload.busiest_week.as_ref(),
            has_staffing: self.analysis.workload.has_staffing,
        })?;
        Ok((answers, evidence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_defaults_to_the_twelve_months_up_to_to() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let p = Period::resolve(None, Some(d("2026-03-31")), Some(d("2026-04-15"))).unwrap();
        assert_eq!(
            (p.from, p.to, p.as_of),
            (d("2025-04-01"), d("2026-03-31"), d("2026-04-15"))
        );
        let p = Period::resolve(None, None, Some(d("2026-04-15"))).unwrap();
        assert_eq!((p.from, p.to), (d("2025-04-16"), d("2026-04-15")));
        let e = Period::resolve(Some(d("2026-05-01")), Some(d("2026-04-30")), None).unwrap_err();
        assert!(e.contains("より後"), "{e}");
    }
}
