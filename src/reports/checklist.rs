//! The checklists of seed 002 (別添1 for 健保組合, 別添2 for 共済組合等), word for word, and the
//! answers an insurer gives to them, with the evidence the data gives for the items it can speak
//! to.
use super::analysis::Analysis;
use super::plan::{ActionView, ReviewView};
use crate::domain::InsurerKind;
use crate::store::survey::ChecklistAnswerRow;
use serde::Serialize;
use utoipa::ToSchema;

/// One checklist item: its id (`1-①`), the section heading and the MHLW wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub id: &'static str,
    /// The circled number as printed (`①`).
    pub mark: &'static str,
    pub section: &'static str,
    pub text: &'static str,
}

const fn item(
    id: &'static str,
    mark: &'static str,
    section: &'static str,
    text: &'static str,
) -> ChecklistItem {
    ChecklistItem {
        id,
        mark,
        section,
        text,
    }
}

pub const KENPO_TITLE: &str = "【健保組合向け】 データ登録の迅速化に向けた保険者のチェックリスト";
pub const KYOSAI_TITLE: &str =
    "【共済組合等向け】 データ登録の迅速化に向けた保険者のチェックリスト";

const S1: &str = "1 対応の全体像";
const S2: &str = "2 保険者内における取組";
const S3_KENPO: &str = "3 事業主に対する取組";
const S3_KYOSAI: &str = "3 職場に対する取組";
const S4: &str = "4 加入者に対する取組";

const COMMON_1: [ChecklistItem; 4] = [
    item("1-①", "①", S1, "資格取得の事実発生から5日以内に保険者に資格取得届が提出されていないケースについて、資格取得届の提出に時間を要している要因分析を行っている。"),
    item("1-②", "②", S1, "資格取得届の提出を受けてから5日以内に加入者情報を中間サーバーに登録していないケースについて、登録に時間を要している要因分析を行っている。"),
    item("1-③", "③", S1, "上記の要因に応じた対策と縮小に向けた対応スケジュールを策定している。"),
    item("1-④", "④", S1, "スケジュールに基づいた進捗について定期的に確認している。"),
];

/// 別添1（健保組合）.
pub const KENPO: [ChecklistItem; 16] = [
    COMMON_1[0],
    COMMON_1[1],
    COMMON_1[2],
    COMMON_1[3],
    item("2-①", "①", S2, "被扶養者の認定が迅速に行われるよう、必要書類の周知を事業主・加入者に対して行っている。"),
    item("2-②", "②", S2, "4月等の業務繁忙期において、柔軟な人員配置を行う等の体制整備を行っている。"),
    item("2-③", "③", S2, "J-LIS照会の結果、不一致が生じた場合の対応フローが明確に策定されている。"),
    item("2-④", "④", S2, "5情報によるJ-LIS照会・個人番号取得ではなく、届出による個人番号取得ができるよう、事業主等への働きかけを行っている。"),
    item("2-⑤", "⑤", S2, "タイムリーに中間サーバーへの情報登録が行われるよう、基幹システムから統合専用端末への情報連携を定期的に行うために効率的な事務運用（例:USBを使った情報連携のサーバー間連携へのシステム移行等）を行っている。"),
    item("3-①", "①", S3_KENPO, "個人番号の管理を外注している場合でも、保険者に対して個人番号が迅速に提出されるよう、事業主等への働きかけを行っている。"),
    item("3-②", "②", S3_KENPO, "必要書類が迅速に提出されるよう、事業主等への働きかけを行っている。"),
    item("3-③", "③", S3_KENPO, "事前確認を行っている場合には、届書の記載不備が生じないように、事業主に対して事前確認に必要なチェックリストの提供や注意喚起を行っている。"),
    item("3-④", "④", S3_KENPO, "オンライン申請が可能な環境を整備するとともに、その利用を働きかけている。"),
    item("3-⑤", "⑤", S3_KENPO, "新規採用・転職等による資格異動の際、内定者については入社日前に資格取得届等の作成を行うよう、事業主に対して働きかけている。"),
    item("4-①", "①", S4, "加入者に対して、届書に添付する必要書類をわかりやすく説明するとともに、早期の書類提出を呼びかけている。"),
    item("4-②", "②", S4, "一定期間、届出書や必要書類の提出がない場合に督促を行うよう、事業主への働きかけを行っている。"),
];

/// 別添2（共済組合等）.
pub const KYOSAI: [ChecklistItem; 15] = [
    COMMON_1[0],
    COMMON_1[1],
    COMMON_1[2],
    COMMON_1[3],
    item("2-①", "①", S2, "被扶養者の認定が迅速に行われるよう、必要書類の周知を各職場・加入者に対して行っている。"),
    item("2-②", "②", S2, "4月等の業務繁忙期において、柔軟な人員配置を行う等の体制整備を行っている。"),
    item("2-③", "③", S2, "J-LIS照会の結果、不一致が生じた場合の対応フローが明確に策定されている。"),
    item("2-④", "④", S2, "5情報によるJ-LIS照会・個人番号取得ではなく、届出による個人番号取得ができるよう、加入者等への働きかけを行っている。"),
    item("2-⑤", "⑤", S2, "タイムリーに中間サーバーへの情報登録が行われるよう、基幹システムから統合専用端末への情報連携を定期的に行うために効率的な事務運用（例:USBを使った情報連携のサーバー間連携へのシステム移行等）を行っている。"),
    item("3-①", "①", S3_KYOSAI, "必要書類が迅速に提出されるよう、働きかけを行っている。"),
    item("3-②", "②", S3_KYOSAI, "事前確認を行っている場合には、届書の記載不備が生じないよう、各職場や支部に対して事前確認に必要なチェックリストの提供や注意喚起を行っている。"),
    item("3-③", "③", S3_KYOSAI, "オンライン申請が可能な環境を整備するとともに、その利用を働きかけている。"),
    item("3-④", "④", S3_KYOSAI, "新規採用・転職等による資格異動の際、内定者については入社日前に資格取得届等の作成を行うよう、職場に対して働きかけている。"),
    item("4-①", "①", S4, "加入者に対して、届書に添付する必要書類をわかりやすく説明するとともに、早期の書類提出を呼びかけている。"),
    item("4-②", "②", S4, "一定期間、届出書や必要書類の提出がない場合に督促を行うよう、職場・支部への働きかけを行っている。"),
];

/// The checklist of the insurer's kind (別添1 or 別添2).
pub fn items_for(kind: InsurerKind) -> &'static [ChecklistItem] {
    match kind {
        InsurerKind::Kenpo => &KENPO,
        InsurerKind::Kyosai => &KYOSAI,
    }
}

pub fn title_for(kind: InsurerKind) -> &'static str {
    match kind {
        InsurerKind::Kenpo => KENPO_TITLE,
        InsurerKind::Kyosai => KYOSAI_TITLE,
    }
}

/// 別添1 or 別添2.
pub fn annex_for(kind: InsurerKind) -> &'static str {
    match kind {
        InsurerKind::Kenpo => "別添1",
        InsurerKind::Kyosai => "別添2",
    }
}

pub fn find(kind: InsurerKind, id: &str) -> Option<&'static ChecklistItem> {
    items_for(kind).iter().find(|i| i.id == id)
}

/// The answer to one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistAnswer {
    Done,
    NotDone,
    Partly,
}

impl ChecklistAnswer {
    pub const ALL: [ChecklistAnswer; 3] = [
        ChecklistAnswer::Done,
        ChecklistAnswer::NotDone,
        ChecklistAnswer::Partly,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ChecklistAnswer::Done => "done",
            ChecklistAnswer::NotDone => "not_done",
            ChecklistAnswer::Partly => "partly",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ChecklistAnswer::Done => "実施済",
            ChecklistAnswer::NotDone => "未実施",
            ChecklistAnswer::Partly => "一部",
        }
    }
    pub fn parse(s: &str) -> Option<ChecklistAnswer> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == s.trim() || a.label_ja() == s.trim())
    }
}

/// One checklist item with its answer and the evidence the data gives.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChecklistItemView {
    pub id: String,
    /// The circled number as printed (`①`).
    pub mark: String,
    pub section: String,
    /// The MHLW wording, word for word.
    pub text: String,
    /// done | not_done | partly
    pub answer: Option<String>,
    /// 実施済 | 未実施 | 一部
    pub answer_label: Option<String>,
    pub note: String,
    pub evidence: Option<String>,
    pub updated_by: Option<String>,
}

/// The checklist of the insurer's kind with the saved answers and the evidence of the analysis
/// and the plan.
pub fn item_views(
    kind: InsurerKind,
    answers: &[ChecklistAnswerRow],
    analysis: &Analysis,
    plan: &[ActionView],
) -> Vec<ChecklistItemView> {
    items_for(kind)
        .iter()
        .map(|i| {
            let a = answers.iter().find(|a| a.item_id == i.id);
            let code = a.and_then(|a| ChecklistAnswer::parse(&a.answer));
            ChecklistItemView {
                id: i.id.into(),
                mark: i.mark.into(),
                section: i.section.into(),
                text: i.text.into(),
                answer: code.map(|c| c.code().to_string()),
                answer_label: code.map(|c| c.label_ja().to_string()),
                note: a.map(|a| a.note.clone()).unwrap_or_default(),
                evidence: evidence(kind, i.id, analysis, plan),
                updated_by: a.map(|a| a.updated_by_label.clone()),
            }
        })
        .collect()
}

fn causes_text(counts: impl Iterator<Item = (&'static str, u64)>) -> String {
    let parts: Vec<String> = counts
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| format!("{l} {n} 件"))
        .collect();
    if parts.is_empty() {
        "なし".into()
    } else {
        parts.join("、")
    }
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// What the data shows for the items it can speak to (issue 8: 1-①–④, 2-②, 3-⑤).
pub fn evidence(kind: InsurerKind, id: &str, a: &Analysis, plan: &[ActionView]) -> Option<String> {
    let early_item = match kind {
        InsurerKind::Kenpo => "3-⑤",
        InsurerKind::Kyosai => "3-④",
    };
    match id {
        // 1-① and 1-② are about 資格取得届 (and 被扶養者届): 資格喪失届 are left out.
        "1-①" => Some(format!(
            "要因分析: 資格取得届・被扶養者届の提出期限超過 {} 件（{}）",
            a.new_member_submission_late,
            causes_text(a.new_member_causes.iter().map(|c| (c.label, c.submission)))
        )),
        "1-②" => Some(format!(
            "要因分析: 資格取得届・被扶養者届の登録期限超過 {} 件（{}）",
            a.new_member_registration_late,
            causes_text(
                a.new_member_causes
                    .iter()
                    .map(|c| (c.label, c.registration))
            )
        )),
        "1-③" => {
            let n = plan
                .iter()
                .filter(|x| x.start_on.is_some() && x.due_on.is_some())
                .count();
            Some(format!(
                "改善計画: 取組 {} 件のうち開始日・期限のあるもの {n} 件",
                plan.len()
            ))
        }
        "1-④" => {
            let reviews: Vec<&ReviewView> = plan.iter().flat_map(|x| x.reviews.iter()).collect();
            let last = reviews.iter().map(|r| r.reviewed_on).max();
            let overdue = plan.iter().filter(|x| x.overdue).count();
            Some(format!(
                "進捗確認 {} 回{}、期限超過の取組 {overdue} 件",
                reviews.len(),
                last.map(|d| format!("（最終 {d}）")).unwrap_or_default()
            ))
        }
        "2-②" => Some(peak_evidence(a)),
        x if x == early_item => Some(format!(
            "事実発生日より前に受け付けた届書（内定者）{} 件／{} 件（{}）",
            a.received_before_event,
            a.notices,
            pct((a.notices > 0).then(|| a.received_before_event as f64 / a.notices as f64))
        )),
        _ => None,
    }
}

/// 2-② (繁忙期の体制): the busiest week of the spring with the staff entered for it, from the
/// 要因分析 page's figures.
fn peak_evidence(a: &Analysis) -> String {
    let w = &a.workload;
    let Some(year) = w.peak_year else {
        return "期間に3〜5月が含まれないため、繁忙期の件数は示せません".into();
    };
    let days = |d: Option<i64>| d.map(|d| format!("{d}日")).unwrap_or_else(|| "—".into());
    let staffing = if w.has_staffing {
        ""
    } else {
        "。職員数が未入力のため1人当たり件数は示せません（要因分析で入力）"
    };
    match &w.busiest_week {
        None => format!("{year}年3〜5月の届書はありません{staffing}"),
        Some(b) => {
            let ratio = match (b.staff, b.per_staff) {
                (Some(s), Some(p)) => format!("、職員 {s} 人で1人当たり {p:.1} 件"),
                _ if w.has_staffing => "、この週の職員数は未入力".into(),
                _ => String::new(),
            };
            format!(
                "{year}年3〜5月で最多の週は {}：届書 {} 件{ratio}、登録日数 中央値 {}・90%点 {}、登録期限超過 {} 件{staffing}",
                b.label,
                b.notices,
                days(b.median_days),
                days(b.p90_days),
                b.breached
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_per_checklist() {
        for items in [&KENPO[..], &KYOSAI[..]] {
            let mut ids: Vec<_> = items.iter().map(|i| i.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), items.len());
            for i in items {
                assert!(i.id.ends_with(i.mark), "{}", i.id);
                assert!(i.id.starts_with(&i.section[..1]), "{}", i.id);
            }
        }
    }
}
