//! 要因分析 (SPEC §7): late cases of each rule by cause, by employer and by month, plus the monthly
//! statistics the survey export carries. The cause comes from the file's 遅延理由 when given
//! (free Japanese text, matched by keywords) and from the data otherwise.
use super::stats::merge_map;
use super::stats::StatusCounts;
use super::workload::{Workload, WorkloadAcc, WorkloadState};
use crate::domain::staffing::StaffingPeriod;
use crate::domain::{Evaluation, MyNumberStatus, RegistrationRule, Status};
use crate::store::insurers::Insurer;
use crate::store::notices::{self as notice_store, NoticeRow};
use crate::store::DbConn;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Why a case was late.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    EmployerLate,
    MyNumber,
    JLisMismatch,
    DependentPending,
    DocumentDeficiency,
    InsurerBacklog,
    Unknown,
}

pub const CAUSES: usize = 7;

impl Cause {
    pub const ALL: [Cause; CAUSES] = [
        Cause::EmployerLate,
        Cause::MyNumber,
        Cause::JLisMismatch,
        Cause::DependentPending,
        Cause::DocumentDeficiency,
        Cause::InsurerBacklog,
        Cause::Unknown,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Cause::EmployerLate => "employer_late",
            Cause::MyNumber => "my_number",
            Cause::JLisMismatch => "jlis_mismatch",
            Cause::DependentPending => "dependent_pending",
            Cause::DocumentDeficiency => "document_deficiency",
            Cause::InsurerBacklog => "insurer_backlog",
            Cause::Unknown => "unknown",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Cause::EmployerLate => "事業主の提出遅延",
            Cause::MyNumber => "マイナンバー未記載・誤り",
            Cause::JLisMismatch => "J-LIS照会の不一致",
            Cause::DependentPending => "被扶養者認定待ち",
            Cause::DocumentDeficiency => "書類不備",
            Cause::InsurerBacklog => "保険者の処理滞留",
            Cause::Unknown => "不明",
        }
    }
    pub fn parse(code: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.code() == code.trim())
    }
    fn index(self) -> usize {
        Cause::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(CAUSES - 1)
    }
}

/// Full-width ASCII to half-width and upper case, so 「Ｊ－ＬＩＳ」 and 「j-lis」 match 「J-LIS」.
/// Dashes become `-`, the long-vowel mark 「ー」 too (「JーLIS」 is a common typo): keywords are
/// normalised the same way before they are looked for, so 「マイナンバー」 still matches itself.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            'ー' | '‐' | '−' | '—' => '-',
            c => c,
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// The cause named by a 遅延理由 text, or None when no keyword matches. The more specific causes
/// are tried first: 「被扶養者の書類不備」 is a dependent certification case.
pub fn cause_from_text(text: &str) -> Option<Cause> {
    let t = normalise(text);
    let has = |words: &[&str]| words.iter().any(|w| t.contains(&normalise(w)));
    if t.trim().is_empty() {
        None
    } else if has(&[
        "J-LIS",
        "JLIS",
        "住基",
        "不一致",
        "地方公共団体情報システム",
    ]) {
        Some(Cause::JLisMismatch)
    } else if has(&["被扶養者", "扶養認定", "認定待", "認定中"]) {
        Some(Cause::DependentPending)
    } else if has(&[
        "個人番号",
        "マイナンバー",
        "番号未記載",
        "番号誤",
        "番号なし",
    ]) {
        Some(Cause::MyNumber)
    } else if has(&["書類", "不備", "添付", "記載誤", "記入漏", "返戻"]) {
        Some(Cause::DocumentDeficiency)
    } else if has(&["保険者", "滞留", "繁忙", "人員", "処理遅", "システム"]) {
        Some(Cause::InsurerBacklog)
    } else if has(&[
        "事業主",
        "事業所",
        "所属所",
        "職場",
        "提出遅",
        "提出漏",
        "遅延",
        "遅れ",
    ]) {
        Some(Cause::EmployerLate)
    } else {
        None
    }
}

/// Which rule a late case broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LateRule {
    Submission,
    Registration,
}

/// The cause of one late case: the text when it names one; for a late registration, then the
/// intermediate server's error result (`registration_error`: a J-LIS 照会 mismatch is the J-LIS
/// cause even when no text says so); otherwise the data — a late submission is the employer's by
/// definition, a late registration of a notice without a usable My Number is the number's,
/// anything else is unknown.
pub fn cause_of(
    delay_cause: Option<&str>,
    rule: LateRule,
    my_number: MyNumberStatus,
    registration_error: Option<Cause>,
) -> Cause {
    if let Some(c) = delay_cause.and_then(cause_from_text) {
        return c;
    }
    match rule {
        LateRule::Submission => Cause::EmployerLate,
        LateRule::Registration => match registration_error {
            Some(c) => c,
            None if my_number != MyNumberStatus::Valid => Cause::MyNumber,
            None => Cause::Unknown,
        },
    }
}

/// The cause an error result stands for: the insurer's table for its code, else the words of its
/// message (「J-LIS照会結果不一致」).
pub fn error_cause(
    table: &HashMap<String, Cause>,
    code: Option<&str>,
    message: Option<&str>,
) -> Option<Cause> {
    code.and_then(|c| {
        table
            .get(&crate::store::error_causes::normal_code(c))
            .copied()
    })
    .or_else(|| message.and_then(cause_from_text))
}

/// Late cases by cause, one count per rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseCounts {
    pub submission: [u64; CAUSES],
    pub registration: [u64; CAUSES],
}

impl CauseCounts {
    fn add(&mut self, rule: LateRule, cause: Cause) {
        match rule {
            LateRule::Submission => self.submission[cause.index()] += 1,
            LateRule::Registration => self.registration[cause.index()] += 1,
        }
    }
    fn merge(&mut self, o: &CauseCounts) {
        for i in 0..CAUSES {
            self.submission[i] += o.submission[i];
            self.registration[i] += o.registration[i];
        }
    }
    pub fn submission_late(&self) -> u64 {
        self.submission.iter().sum()
    }
    pub fn registration_late(&self) -> u64 {
        self.registration.iter().sum()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CauseRow {
    pub cause: &'static str,
    pub label: &'static str,
    pub submission: u64,
    pub registration: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupRow {
    /// `YYYY-MM` for a month, the 事業所記号 for an employer.
    pub key: String,
    pub name: Option<String>,
    pub notices: u64,
    pub submission_late: u64,
    pub registration_late: u64,
    /// Late cases of both rules by cause, in `Cause::ALL` order.
    pub by_cause: [u64; CAUSES],
}

/// One month of the statistics sheet.
#[derive(Clone, Debug, Serialize)]
pub struct MonthStats {
    pub month: String,
    pub notices: u64,
    pub submission_met_rate: Option<f64>,
    pub five_day_met_rate: Option<f64>,
    /// Notices under the insurer's standard days (missing/invalid My Number).
    pub standard_notices: u64,
    /// 資格喪失届 (their own rule, outside the 5-day rate).
    pub loss_notices: u64,
    /// 資格確認書 issued in the month (by issue date).
    pub certificates_issued: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    pub notices: u64,
    pub submission_late: u64,
    pub registration_late: u64,
    /// Of the late cases, how many had a 遅延理由 that named the cause.
    pub from_text: u64,
    /// Notices received before their event date (内定者: checklist 3-⑤ / 別添2 3-④).
    pub received_before_event: u64,
    pub causes: Vec<CauseRow>,
    /// The same over 資格取得届・被扶養者届 only (the evidence of checklist 1-① and 1-②).
    pub new_member_causes: Vec<CauseRow>,
    pub new_member_submission_late: u64,
    pub new_member_registration_late: u64,
    pub by_employer: Vec<GroupRow>,
    pub by_month: Vec<GroupRow>,
    pub months: Vec<MonthStats>,
    /// The April peak against staffing (checklist 2-②).
    pub workload: Workload,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct GroupAcc {
    notices: u64,
    causes: CauseCounts,
}

impl GroupAcc {
    fn merge(&mut self, o: &GroupAcc) {
        self.notices += o.notices;
        self.causes.merge(&o.causes);
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct MonthAcc {
    group: GroupAcc,
    submission: StatusCounts,
    five_day: StatusCounts,
    standard: u64,
    loss: u64,
}

impl MonthAcc {
    fn merge(&mut self, o: &MonthAcc) {
        self.group.merge(&o.group);
        self.submission.merge(&o.submission);
        self.five_day.merge(&o.five_day);
        self.standard += o.standard;
        self.loss += o.loss;
    }
}

/// What the analysis adds up over some notices, whatever the period: the states of two sets of
/// notices merge into the state of both (the rollups of days, `reports::rollups`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    notices: u64,
    from_text: u64,
    early: u64,
    total: CauseCounts,
    /// The late cases of 資格取得届・被扶養者届 only (checklist 1-① and 1-② are about them).
    new_members: CauseCounts,
    #[serde(with = "super::stats::pairs")]
    employers: BTreeMap<i64, GroupAcc>,
    #[serde(with = "super::stats::pairs")]
    months: BTreeMap<(i32, u32), MonthAcc>,
    workload: WorkloadState,
}

impl State {
    /// One notice, evaluated as of `as_of` (`ev`).
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        as_of: NaiveDate,
        event_date: NaiveDate,
        received_on: NaiveDate,
        registered_on: Option<NaiveDate>,
        my_number: MyNumberStatus,
        delay_cause: Option<&str>,
        registration_error: Option<Cause>,
        ev: &Evaluation,
        employer_id: i64,
    ) {
        self.notices += 1;
        let days = registered_on
            .filter(|r| *r <= as_of)
            .map(|r| (r - received_on).num_days());
        self.workload.add(received_on, days, ev.registration.status);
        if received_on < event_date {
            self.early += 1;
        }
        let m = self
            .months
            .entry((received_on.year(), received_on.month()))
            .or_default();
        let e = self.employers.entry(employer_id).or_default();
        m.group.notices += 1;
        e.notices += 1;
        m.submission.add(ev.submission.status);
        match ev.registration_rule {
            RegistrationRule::FiveDay => m.five_day.add(ev.registration.status),
            RegistrationRule::Standard => m.standard += 1,
            RegistrationRule::Loss => m.loss += 1,
        }
        let named = delay_cause.and_then(cause_from_text).is_some();
        for (rule, status) in [
            (LateRule::Submission, ev.submission.status),
            (LateRule::Registration, ev.registration.status),
        ] {
            if status != Status::Breached {
                continue;
            }
            let cause = cause_of(delay_cause, rule, my_number, registration_error);
            if named {
                self.from_text += 1;
            }
            self.total.add(rule, cause);
            if ev.registration_rule != RegistrationRule::Loss {
                self.new_members.add(rule, cause);
            }
            m.group.causes.add(rule, cause);
            e.causes.add(rule, cause);
        }
    }

    /// Rows read from the store, evaluated as of `as_of`, with the error results of their late
    /// registrations (`table`: the insurer's error codes and their causes).
    pub fn add_rows(
        &mut self,
        conn: &mut DbConn,
        insurer: &Insurer,
        table: &HashMap<String, Cause>,
        rows: &[NoticeRow],
        as_of: NaiveDate,
    ) -> Result<(), diesel::result::Error> {
        let evaluated: Vec<Evaluation> = rows
            .iter()
            .map(|r| r.evaluate(&insurer.rules, as_of))
            .collect();
        // The error results of the late registrations only.
        let late: Vec<&str> = rows
            .iter()
            .zip(&evaluated)
            .filter(|(_, ev)| ev.registration.status == Status::Breached)
            .map(|(r, _)| r.notice_id.as_str())
            .collect();
        let errors = if late.is_empty() {
            HashMap::new()
        } else {
            crate::store::error_causes::latest_errors(conn, insurer.id, &late)?
        };
        for (r, ev) in rows.iter().zip(&evaluated) {
            let registration_error = errors
                .get(r.notice_id.as_str())
                .and_then(|(c, m)| error_cause(table, c.as_deref(), m.as_deref()));
            self.add(
                as_of,
                r.event_date,
                r.received_on,
                r.registered_on,
                r.my_number(),
                r.delay_cause.as_deref(),
                registration_error,
                ev,
                r.employer_id,
            );
        }
        Ok(())
    }

    pub fn merge(&mut self, o: &State) {
        self.notices += o.notices;
        self.from_text += o.from_text;
        self.early += o.early;
        self.total.merge(&o.total);
        self.new_members.merge(&o.new_members);
        merge_map(&mut self.employers, &o.employers, GroupAcc::merge);
        merge_map(&mut self.months, &o.months, MonthAcc::merge);
        self.workload.merge(&o.workload);
    }
}

/// The analysis of a period over a [`State`] of the notices received in it.
pub struct Accumulator {
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    state: State,
}

impl Accumulator {
    /// The analysis of [from, to] as of `as_of` over what `state` added up (the notices received
    /// in the period, evaluated as of that date).
    pub fn with_state(from: NaiveDate, to: NaiveDate, as_of: NaiveDate, state: State) -> Self {
        Accumulator {
            from,
            to,
            as_of,
            state,
        }
    }

    pub fn employer_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.state.employers.keys().copied()
    }

    /// The figures; `names` maps employer ids to (code, name), `certificates` months to counts,
    /// `staffing` periods to the staff entered for them.
    pub fn finish(
        self,
        names: &HashMap<i64, (String, Option<String>)>,
        certificates: &BTreeMap<String, u64>,
        staffing: &[(StaffingPeriod, f64)],
    ) -> Analysis {
        let st = &self.state;
        let group = |key: String, name: Option<String>, g: &GroupAcc| {
            let mut by_cause = [0u64; CAUSES];
            for (i, n) in by_cause.iter_mut().enumerate() {
                *n = g.causes.submission[i] + g.causes.registration[i];
            }
            GroupRow {
                key,
                name,
                notices: g.notices,
                submission_late: g.causes.submission_late(),
                registration_late: g.causes.registration_late(),
                by_cause,
            }
        };
        let mut by_employer: Vec<GroupRow> = st
            .employers
            .iter()
            .filter(|(_, g)| g.causes.submission_late() + g.causes.registration_late() > 0)
            .map(|(id, g)| {
                let (code, name) = names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| (format!("#{id}"), None));
                group(code, name, g)
            })
            .collect();
        by_employer.sort_by(|a, b| {
            (b.submission_late + b.registration_late)
                .cmp(&(a.submission_late + a.registration_late))
                .then_with(|| a.key.cmp(&b.key))
        });
        let by_month = st
            .months
            .iter()
            .map(|(&(y, m), a)| group(format!("{y:04}-{m:02}"), None, &a.group))
            .collect();
        let mut months: BTreeMap<String, MonthStats> = st
            .months
            .iter()
            .map(|(&(y, m), a)| {
                let month = format!("{y:04}-{m:02}");
                let stats = MonthStats {
                    month: month.clone(),
                    notices: a.group.notices,
                    submission_met_rate: a.submission.met_rate(),
                    five_day_met_rate: a.five_day.met_rate(),
                    standard_notices: a.standard,
                    loss_notices: a.loss,
                    certificates_issued: certificates.get(&month).copied().unwrap_or(0),
                };
                (month, stats)
            })
            .collect();
        for (month, n) in certificates {
            months.entry(month.clone()).or_insert_with(|| MonthStats {
                month: month.clone(),
                notices: 0,
                submission_met_rate: None,
                five_day_met_rate: None,
                standard_notices: 0,
                loss_notices: 0,
                certificates_issued: *n,
            });
        }
        Analysis {
            from: self.from,
            to: self.to,
            as_of: self.as_of,
            notices: st.notices,
            submission_late: st.total.submission_late(),
            registration_late: st.total.registration_late(),
            from_text: st.from_text,
            received_before_event: st.early,
            causes: cause_rows(&st.total),
            new_member_causes: cause_rows(&st.new_members),
            new_member_submission_late: st.new_members.submission_late(),
            new_member_registration_late: st.new_members.registration_late(),
            by_employer,
            by_month,
            months: months.into_values().collect(),
            workload: WorkloadAcc::with_state(self.from, self.to, self.as_of, st.workload.clone())
                .finish(staffing),
        }
    }
}

fn cause_rows(counts: &CauseCounts) -> Vec<CauseRow> {
    Cause::ALL
        .iter()
        .map(|c| CauseRow {
            cause: c.code(),
            label: c.label_ja(),
            submission: counts.submission[c.index()],
            registration: counts.registration[c.index()],
        })
        .collect()
}

/// The analysis of `insurer`'s notices received in [from, to], evaluated as of `as_of`: the
/// rollups of the days whose notices are complete, the rest evaluated live (`reports::rollups`).
pub fn compute(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Result<Analysis, diesel::result::Error> {
    let state: State = super::rollups::fold(conn, insurer, from, to, as_of)?;
    let acc = Accumulator::with_state(from, to, as_of, state);
    let ids: Vec<i64> = acc.employer_ids().collect();
    let names = notice_store::employer_refs(conn, insurer.id, ids.into_iter())?
        .into_iter()
        .map(|(id, e)| (id, (e.code, e.name)))
        .collect();
    let certificates = crate::store::survey::certificates_by_month(conn, insurer.id, from, to)?;
    let staffing: Vec<(StaffingPeriod, f64)> = crate::store::staffing::entries(conn, insurer.id)?
        .into_iter()
        .map(|e| (e.period, e.staff))
        .collect();
    Ok(acc.finish(&names, &certificates, &staffing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_cause_text_is_mapped_by_keywords() {
        assert_eq!(
            cause_from_text("事業主の提出遅延"),
            Some(Cause::EmployerLate)
        );
        assert_eq!(cause_from_text("個人番号未記載"), Some(Cause::MyNumber));
        assert_eq!(
            cause_from_text("Ｊ－ＬＩＳ照会不一致"),
            Some(Cause::JLisMismatch)
        );
        assert_eq!(
            cause_from_text("J-LIS照会不一致"),
            Some(Cause::JLisMismatch)
        );
        assert_eq!(
            cause_from_text("被扶養者認定待ち"),
            Some(Cause::DependentPending)
        );
        assert_eq!(cause_from_text("書類不備"), Some(Cause::DocumentDeficiency));
        assert_eq!(
            cause_from_text("保険者処理滞留"),
            Some(Cause::InsurerBacklog)
        );
        assert_eq!(cause_from_text("その他"), None);
        assert_eq!(cause_from_text("  "), None);
    }

    #[test]
    fn without_text_the_data_decides() {
        use MyNumberStatus::*;
        assert_eq!(
            cause_of(None, LateRule::Submission, Valid, None),
            Cause::EmployerLate
        );
        assert_eq!(
            cause_of(None, LateRule::Registration, Missing, None),
            Cause::MyNumber
        );
        assert_eq!(
            cause_of(None, LateRule::Registration, Invalid, None),
            Cause::MyNumber
        );
        assert_eq!(
            cause_of(None, LateRule::Registration, Valid, None),
            Cause::Unknown
        );
        assert_eq!(
            cause_of(Some("不明な理由"), LateRule::Registration, Valid, None),
            Cause::Unknown
        );
        assert_eq!(
            cause_of(Some("書類不備"), LateRule::Submission, Valid, None),
            Cause::DocumentDeficiency
        );
    }
}
