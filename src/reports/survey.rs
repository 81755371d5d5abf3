//! フォローアップ調査 (seed 002 別添3): every question and answer choice word for word, and the
//! pre-fill rules that answer them from the insurer's settings and data, each with its reason.
use crate::store::letters::LetterCounts;
use crate::store::survey::{SubmissionRow, SurveyAnswerRow};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

pub const TITLE: &str = "フォローアップ調査のイメージ";

/// One question of the survey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Stable id: `1`, `2-(1)-a`, …
    pub id: &'static str,
    /// `1. 保険者におけるデータ登録の迅速化` or `2. …`.
    pub section: &'static str,
    /// `(1) データ登録完了に要する期間の明示`, empty for section 1.
    pub subsection: &'static str,
    pub text: &'static str,
    /// The lines printed under the question (・ and ※), as in the seed.
    pub details: &'static [&'static str],
    pub choices: &'static [&'static str],
}

pub const SECTION_1: &str = "1. 保険者におけるデータ登録の迅速化";
pub const SECTION_2: &str = "2. マイナ保険証により受診した際の資格確認の円滑化";
pub const SUB_2_1: &str = "(1) データ登録完了に要する期間の明示";
pub const SUB_2_2: &str = "(2) データ登録完了の確実なお知らせ";
pub const SUB_2_3: &str = "(3) データ未登録における資格確認書の職権交付";

pub const PLANNED: &str = "計画策定済";
pub const DONE: &str = "対応済";
pub const READY: &str = "準備完了・対応中";
pub const SCHEDULED: &str = "対応予定";
pub const OTHER: &str = "その他";

const PLAN_CHOICES: &[&str] = &[PLANNED, OTHER];
const DONE_CHOICES: &[&str] = &[DONE, OTHER];
const READY_CHOICES: &[&str] = &[READY, SCHEDULED, OTHER];

/// The placeholder of 2-(3) that the insurer's `ex_officio_days` fills in.
pub const DAYS_PLACEHOLDER: &str = "〇日";

pub const QUESTIONS: [Question; 7] = [
    Question {
        id: "1",
        section: SECTION_1,
        subsection: "",
        text: "データ登録の迅速化のためのチェックリスト等を参考に事務フローの点検を行い、改善計画を立てて取り組んでいるか。",
        details: &[],
        choices: PLAN_CHOICES,
    },
    Question {
        id: "2-(1)-a",
        section: SECTION_2,
        subsection: SUB_2_1,
        text: "データ登録が完了しないとマイナ保険証は利用できないことを周知しているか",
        details: &[],
        choices: DONE_CHOICES,
    },
    Question {
        id: "2-(1)-b",
        section: SECTION_2,
        subsection: SUB_2_1,
        text: "データ登録完了までの期間について、以下の場合分けをしたうえで示しているか",
        details: &[
            "・ 正しいマイナンバー等が記載された届書",
            "・ マイナンバー未記載の届書（マイナンバー提出が遅延している事業主が存在する場合）",
            "※ 上記以外のマイナンバー未記載の届書については、「相当の期間」と明示",
        ],
        choices: DONE_CHOICES,
    },
    Question {
        id: "2-(2)-a",
        section: SECTION_2,
        subsection: SUB_2_2,
        text: "保険証の発行終了（12月2日）以降、「資格情報のお知らせ」は、データ登録が完了した段階で送付することとしているか。",
        details: &[],
        choices: READY_CHOICES,
    },
    Question {
        id: "2-(2)-b",
        section: SECTION_2,
        subsection: SUB_2_2,
        text: "資格取得に係る加入者からの届書の提出時に、加入者に以下を周知しているか",
        details: &[
            "・ 「資格情報のお知らせ」が届いて以降でないとマイナ保険証は利用できないこと",
            "・ 届書へのマイナンバーの記載がないと、マイナ保険証が使えるようになるまでの期間が長くなること 等",
        ],
        choices: READY_CHOICES,
    },
    Question {
        id: "2-(3)-a",
        section: SECTION_2,
        subsection: SUB_2_3,
        text: "保険証の発行終了（12月2日）以降、保険者への届書提出から〇日以上経過してもデータ登録が完了できないと見込まれる、又は完了できなかった場合には、資格確認書（原則として有効期間1か月以下・A4紙）を職権により交付することとしているか。",
        details: &[],
        choices: READY_CHOICES,
    },
    Question {
        id: "2-(3)-b",
        section: SECTION_2,
        subsection: SUB_2_3,
        text: "上記により職権で交付した資格確認書の有効期限到来時まで、加入者に対してマイナンバーの提出を促すこととしているか。",
        details: &[],
        choices: READY_CHOICES,
    },
];

pub fn find(id: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.id == id)
}

/// The question that carries the 〇日.
pub const DAYS_QUESTION: &str = "2-(3)-a";

/// What the data says about the insurer, gathered by the caller for the period of the survey.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SurveyFacts {
    /// The insurer's `ex_officio_days` (RuleSettings).
    pub ex_officio_days: u32,
    /// 改善計画 actions that have both a start and a due date.
    pub scheduled_actions: i64,
    /// Letters and 資格確認書 recorded for the period.
    pub letters: LetterCounts,
}

/// A pre-filled answer: the choice (if the data shows one), the number of days for 2-(3), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Prefill {
    pub question: &'static str,
    pub choice: Option<&'static str>,
    pub days: Option<u32>,
    pub reason: String,
}

/// The pre-fill of every question, in order.
pub fn prefill(f: &SurveyFacts) -> Vec<Prefill> {
    QUESTIONS.iter().map(|q| prefill_one(q, f)).collect()
}

fn by_letters(q: &'static Question, n: i64, letter: &str, yes: &'static str) -> Prefill {
    if n > 0 {
        Prefill {
            question: q.id,
            choice: Some(yes),
            days: None,
            reason: format!("期間中に「{letter}」を {n} 件の届書について交付した記録があります"),
        }
    } else {
        Prefill {
            question: q.id,
            choice: None,
            days: None,
            reason: format!("期間中に「{letter}」を交付した記録がないため、自動では回答できません"),
        }
    }
}

fn prefill_one(q: &'static Question, f: &SurveyFacts) -> Prefill {
    const PERIOD_LETTER: &str = "データ登録完了までの期間のお知らせ";
    match q.id {
        "1" => {
            if f.scheduled_actions > 0 {
                Prefill {
                    question: q.id,
                    choice: Some(PLANNED),
                    days: None,
                    reason: format!(
                        "改善計画に開始日と期限のある取組が {} 件あります",
                        f.scheduled_actions
                    ),
                }
            } else {
                Prefill {
                    question: q.id,
                    choice: None,
                    days: None,
                    reason: "開始日と期限のある改善計画の取組がまだありません".into(),
                }
            }
        }
        "2-(1)-a" | "2-(1)-b" => by_letters(q, f.letters.registration_period, PERIOD_LETTER, DONE),
        "2-(2)-a" => by_letters(q, f.letters.qualification_info, "資格情報のお知らせ", READY),
        "2-(2)-b" => by_letters(q, f.letters.registration_period, PERIOD_LETTER, READY),
        "2-(3)-a" => {
            let days = Some(f.ex_officio_days);
            let setting = format!("〇日は設定の職権交付日数（{} 日）です", f.ex_officio_days);
            if f.letters.certificates_issued > 0 {
                Prefill {
                    question: q.id,
                    choice: Some(READY),
                    days,
                    reason: format!(
                        "{setting}。期間中に資格確認書を {} 件（{} 件の届書）職権交付した記録があります",
                        f.letters.certificates_issued, f.letters.notices_with_certificate
                    ),
                }
            } else {
                Prefill {
                    question: q.id,
                    choice: None,
                    days,
                    reason: format!("{setting}。期間中に資格確認書を交付した記録はありません"),
                }
            }
        }
        "2-(3)-b" => by_letters(
            q,
            f.letters.certificate_letters,
            "資格確認書の送付状（マイナンバー提出のお願い）",
            READY,
        ),
        _ => Prefill {
            question: q.id,
            choice: None,
            days: None,
            reason: String::new(),
        },
    }
}

/// The question text as printed in an answered survey: the 〇日 of 2-(3) replaced by the days.
pub fn text_with_days(q: &Question, days: Option<u32>) -> String {
    match days {
        Some(d) if q.id == DAYS_QUESTION => q.text.replace(DAYS_PLACEHOLDER, &format!("{d}日")),
        _ => q.text.to_string(),
    }
}

/// Whether `choice` is one of the question's choices.
pub fn valid_choice(q: &Question, choice: &str) -> bool {
    q.choices.contains(&choice)
}

/// One question of the follow-up survey with its pre-fill and the staff's answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub section: String,
    pub subsection: String,
    /// The MHLW wording, word for word (〇日 included).
    pub text: String,
    pub details: Vec<String>,
    pub choices: Vec<String>,
    pub prefill_choice: Option<String>,
    pub prefill_days: Option<u32>,
    /// Why the pre-fill says what it says.
    pub reason: String,
    /// The answer that counts: the staff's when saved, else the pre-fill.
    pub answer: Option<String>,
    /// The 〇日 of 2-(3) (other questions: none).
    pub days: Option<i64>,
    pub note: String,
    /// staff | prefill | none
    pub source: String,
    pub updated_by: Option<String>,
}

/// Every question with its pre-fill from `facts` and the staff's saved answer, if any.
pub fn question_views(facts: &SurveyFacts, saved: &[SurveyAnswerRow]) -> Vec<QuestionView> {
    QUESTIONS
        .iter()
        .zip(prefill(facts))
        .map(|(q, pre)| {
            let s = saved.iter().find(|a| a.question_id == q.id);
            let (answer, days, note, source, by) = match s {
                Some(a) => (
                    Some(a.choice.clone()),
                    a.days.map(i64::from).or(pre.days.map(i64::from)),
                    a.note.clone(),
                    "staff",
                    Some(a.updated_by_label.clone()),
                ),
                None => (
                    pre.choice.map(str::to_string),
                    pre.days.map(i64::from),
                    String::new(),
                    if pre.choice.is_some() {
                        "prefill"
                    } else {
                        "none"
                    },
                    None,
                ),
            };
            QuestionView {
                id: q.id.into(),
                section: q.section.into(),
                subsection: q.subsection.into(),
                text: q.text.into(),
                details: q.details.iter().map(|d| d.to_string()).collect(),
                choices: q.choices.iter().map(|d| d.to_string()).collect(),
                prefill_choice: pre.choice.map(str::to_string),
                prefill_days: pre.days,
                reason: pre.reason,
                answer,
                days,
                note,
                source: source.into(),
                updated_by: by,
            }
        })
        .collect()
}

/// A submission as stored: the answers with their pre-fill reasons, and the evidence.
#[derive(Serialize, ToSchema)]
#[schema(as = SubmissionBody)]
pub struct Submission {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub submitted_by: String,
    /// UTC
    #[serde(serialize_with = "crate::time::utc")]
    pub created_at: NaiveDateTime,
    /// The questions as they were answered (same shape as `QuestionView`).
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
    /// Settings, counts and monthly figures used; null for submissions recorded before evidence
    /// was kept.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}

impl Submission {
    /// The submission of a stored row, its answers and evidence read back from their JSON.
    pub fn of(row: SubmissionRow) -> serde_json::Result<Submission> {
        Ok(Submission {
            id: row.id,
            period_from: row.period_from,
            period_to: row.period_to,
            submitted_by: row.submitted_by_label,
            created_at: row.created_at,
            questions: serde_json::from_str(&row.answers_json)?,
            evidence: match row.evidence_json.as_deref() {
                Some(e) => serde_json::from_str(e)?,
                None => serde_json::Value::Null,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_has_other_as_its_last_choice() {
        for q in &QUESTIONS {
            assert_eq!(q.choices.last(), Some(&OTHER), "{}", q.id);
        }
        assert!(find(DAYS_QUESTION).unwrap().text.contains(DAYS_PLACEHOLDER));
    }
}
