//! Dashboard figures (SPEC §7): rates of `met` per rule, day percentiles, trends by month, a
//! histogram of days, the worst employers and the April peak by week.
//!
//! `Figures::add` folds one notice at a time, so the figures of a million notices need memory for
//! the buckets only; the open counts (which look at all time, not the period) come from the store.
use super::stats::{merge_map, DayHistogram, StatusCounts};
use crate::domain::{Evaluation, NoticeFacts, NoticeKind, RegistrationRule, RuleSettings, Status};
use crate::store::insurers::Insurer;
use crate::store::notices::{self as notice_store, NoticeFilter, NoticeRow};
use crate::store::DbConn;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Days shown individually in the histograms; longer spans share the last bar ("15日以上").
pub const HISTOGRAM_DAYS: usize = 15;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RuleFigures {
    pub counts: StatusCounts,
    /// met / (met + breached); null when nothing is decided yet.
    pub met_rate: Option<f64>,
    /// Notices in the population.
    pub notices: u64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RuleAcc {
    counts: StatusCounts,
    days: DayHistogram,
}

impl RuleAcc {
    fn merge(&mut self, o: &RuleAcc) {
        self.counts.merge(&o.counts);
        self.days.merge(&o.days);
    }

    fn finish(&self) -> RuleFigures {
        RuleFigures {
            counts: self.counts,
            met_rate: self.counts.met_rate(),
            notices: self.counts.total(),
            median_days: self.days.percentile(50.0),
            p90_days: self.days.percentile(90.0),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `YYYY-MM`, by date of receipt.
    pub month: String,
    pub notices: u64,
    pub submission_met_rate: Option<f64>,
    pub registration_five_day_met_rate: Option<f64>,
    pub registration_standard_met_rate: Option<f64>,
    pub standard_notices: u64,
    /// 資格喪失届 (their own rule, `loss`).
    pub registration_loss_met_rate: Option<f64>,
    pub loss_notices: u64,
    pub ex_officio_required: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct MonthAcc {
    notices: u64,
    submission: StatusCounts,
    five_day: StatusCounts,
    standard: StatusCounts,
    loss: StatusCounts,
    ex_officio: u64,
}

impl MonthAcc {
    fn merge(&mut self, o: &MonthAcc) {
        self.notices += o.notices;
        self.submission.merge(&o.submission);
        self.five_day.merge(&o.five_day);
        self.standard.merge(&o.standard);
        self.loss.merge(&o.loss);
        self.ex_officio += o.ex_officio;
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EmployerFigures {
    pub employer_id: i64,
    pub code: String,
    pub name: Option<String>,
    pub notices: u64,
    pub submission_breached: u64,
    pub submission_met_rate: Option<f64>,
    /// Notices of this employer with a missing or invalid My Number.
    pub my_number_unusable: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct EmployerAcc {
    notices: u64,
    submission: StatusCounts,
    unusable: u64,
}

impl EmployerAcc {
    fn merge(&mut self, o: &EmployerAcc) {
        self.notices += o.notices;
        self.submission.merge(&o.submission);
        self.unusable += o.unusable;
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WeekFigures {
    /// Monday of the week.
    pub week_start: NaiveDate,
    pub notices: u64,
    pub registration_five_day_met_rate: Option<f64>,
    /// Registration breaches of the 5-day population.
    pub registration_breached: u64,
    /// Notices of the week whose registration (any rule: 5-day, standard or loss) is breached:
    /// the red part of the April chart's bars.
    pub registration_breached_any: u64,
}

/// Counts of one rule over a population, with its rate.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RuleCounts {
    pub counts: StatusCounts,
    /// met / (met + breached); null when nothing is decided yet.
    pub met_rate: Option<f64>,
    pub notices: u64,
}

impl RuleCounts {
    fn of(counts: StatusCounts) -> RuleCounts {
        RuleCounts {
            counts,
            met_rate: counts.met_rate(),
            notices: counts.total(),
        }
    }
}

/// The notices of one kind (資格取得届 / 被扶養者届 / 資格喪失届) received in the period.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct KindFigures {
    /// acquisition | dependent | loss (the case list's `kind=`).
    pub kind: String,
    pub label: String,
    pub notices: u64,
    pub submission: RuleCounts,
    /// Registration, whatever the rule (the case list's `rule=registration`).
    pub registration: RuleCounts,
    pub registration_five_day: RuleCounts,
    pub registration_standard: RuleCounts,
    pub registration_loss: RuleCounts,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct KindAcc {
    notices: u64,
    submission: StatusCounts,
    registration: StatusCounts,
    five_day: StatusCounts,
    standard: StatusCounts,
    loss: StatusCounts,
}

impl KindAcc {
    fn merge(&mut self, o: &KindAcc) {
        self.notices += o.notices;
        self.submission.merge(&o.submission);
        self.registration.merge(&o.registration);
        self.five_day.merge(&o.five_day);
        self.standard.merge(&o.standard);
        self.loss.merge(&o.loss);
    }
}

/// One week: notices, the 5-day population's registration statuses, breaches of any rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct WeekAcc(u64, StatusCounts, u64);

impl WeekAcc {
    fn merge(&mut self, o: &WeekAcc) {
        self.0 += o.0;
        self.1.merge(&o.1);
        self.2 += o.2;
    }
}

/// One bar of a histogram: `days` (the last bar is "`days` or more") and how many notices.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Bar {
    pub days: usize,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    pub notices: u64,
    pub submission: RuleFigures,
    /// 5-day registration rule: valid-number notices only (SPEC §2.3).
    pub registration_five_day: RuleFigures,
    /// The insurer's standard days: missing/invalid numbers, reported beside, never mixed in.
    pub registration_standard: RuleFigures,
    /// 資格喪失届: their own rule (2 days by default), a population of its own.
    pub registration_loss: RuleFigures,
    /// Days from event to registration, as the member lives them.
    pub end_to_end: RuleFigures,
    pub ex_officio_required_in_period: u64,
    pub months: Vec<MonthFigures>,
    pub submission_days: Vec<Bar>,
    pub registration_days: Vec<Bar>,
    pub worst_employers: Vec<EmployerFigures>,
    /// 資格取得届, 被扶養者届, 資格喪失届 in this order; their counts add up to the period's.
    pub by_kind: Vec<KindFigures>,
    /// The weeks around the latest April in the period (the spring hiring peak).
    pub april_weeks: Vec<WeekFigures>,
    pub april_year: Option<i32>,
}

/// What the dashboard adds up over some notices, whatever the period: every week is kept (the
/// period picks the April view when it finishes), so the states of two sets of notices merge into
/// the state of both (the rollups of days, `reports::rollups`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    notices: u64,
    submission: RuleAcc,
    five_day: RuleAcc,
    standard: RuleAcc,
    loss: RuleAcc,
    e2e: RuleAcc,
    ex_officio: u64,
    #[serde(with = "super::stats::pairs")]
    months: BTreeMap<(i32, u32), MonthAcc>,
    sub_days: [u64; HISTOGRAM_DAYS + 1],
    reg_days: [u64; HISTOGRAM_DAYS + 1],
    #[serde(with = "super::stats::pairs")]
    employers: BTreeMap<i64, EmployerAcc>,
    kinds: [KindAcc; 3],
    #[serde(with = "super::stats::pairs")]
    weeks: BTreeMap<NaiveDate, WeekAcc>,
}

/// Folds notices received in [from, to] into the figures.
pub struct Accumulator {
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    state: State,
    april_year: Option<i32>,
}

const KINDS: [NoticeKind; 3] = [
    NoticeKind::Acquisition,
    NoticeKind::Dependent,
    NoticeKind::Loss,
];

fn kind_index(k: NoticeKind) -> usize {
    match k {
        NoticeKind::Acquisition => 0,
        NoticeKind::Dependent => 1,
        NoticeKind::Loss => 2,
    }
}

fn week_start(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The latest April that lies (at least partly) in [from, to].
fn latest_april(from: NaiveDate, to: NaiveDate) -> Option<i32> {
    (from.year()..=to.year()).rev().find(|&y| {
        let first = NaiveDate::from_ymd_opt(y, 4, 1).expect("April 1st exists");
        let last = NaiveDate::from_ymd_opt(y, 4, 30).expect("April 30th exists");
        first <= to && last >= from
    })
}

/// Whether a week (by its Monday) belongs to the April view: the weeks that touch April, plus one
/// on each side so the rise and the fall show.
fn in_april_view(week: NaiveDate, year: i32) -> bool {
    let first = week_start(NaiveDate::from_ymd_opt(year, 4, 1).expect("date")) - Days::new(7);
    let last = week_start(NaiveDate::from_ymd_opt(year, 4, 30).expect("date")) + Days::new(7);
    week >= first && week <= last
}

impl State {
    /// One notice, evaluated as of `as_of` (`ev`).
    fn add(&mut self, as_of: NaiveDate, facts: &NoticeFacts, ev: &Evaluation, employer_id: i64) {
        self.notices += 1;
        let sub_days = (facts.received_on - facts.event_date).num_days().max(0);
        self.submission.counts.add(ev.submission.status);
        self.submission.days.add(sub_days);
        self.sub_days[(sub_days as usize).min(HISTOGRAM_DAYS)] += 1;

        let reg = match ev.registration_rule {
            RegistrationRule::FiveDay => &mut self.five_day,
            RegistrationRule::Standard => &mut self.standard,
            RegistrationRule::Loss => &mut self.loss,
        };
        reg.counts.add(ev.registration.status);
        let registered = facts.registered_on.filter(|r| *r <= as_of);
        if let Some(r) = registered {
            let d = (r - facts.received_on).num_days().max(0);
            reg.days.add(d);
            if ev.registration_rule == RegistrationRule::FiveDay {
                self.reg_days[(d as usize).min(HISTOGRAM_DAYS)] += 1;
            }
        }
        if let Some(d) = ev.e2e_days {
            self.e2e.days.add(d);
            self.e2e.counts.add(Status::Met);
        } else {
            self.e2e.counts.add(Status::Open);
        }
        if ev.ex_officio_required {
            self.ex_officio += 1;
        }

        let m = self
            .months
            .entry((facts.received_on.year(), facts.received_on.month()))
            .or_default();
        m.notices += 1;
        m.submission.add(ev.submission.status);
        match ev.registration_rule {
            RegistrationRule::FiveDay => m.five_day.add(ev.registration.status),
            RegistrationRule::Standard => m.standard.add(ev.registration.status),
            RegistrationRule::Loss => m.loss.add(ev.registration.status),
        }
        if ev.ex_officio_required {
            m.ex_officio += 1;
        }

        let k = &mut self.kinds[kind_index(facts.kind)];
        k.notices += 1;
        k.submission.add(ev.submission.status);
        k.registration.add(ev.registration.status);
        match ev.registration_rule {
            RegistrationRule::FiveDay => k.five_day.add(ev.registration.status),
            RegistrationRule::Standard => k.standard.add(ev.registration.status),
            RegistrationRule::Loss => k.loss.add(ev.registration.status),
        }

        let e = self.employers.entry(employer_id).or_default();
        e.notices += 1;
        e.submission.add(ev.submission.status);
        if ev.registration_rule == RegistrationRule::Standard {
            e.unusable += 1;
        }

        let week = self.weeks.entry(week_start(facts.received_on)).or_default();
        week.0 += 1;
        if ev.registration_rule == RegistrationRule::FiveDay {
            week.1.add(ev.registration.status);
        }
        if ev.registration.status == Status::Breached {
            week.2 += 1;
        }
    }

    /// Rows read from the store, evaluated as of `as_of`.
    pub fn add_rows(&mut self, settings: &RuleSettings, rows: &[NoticeRow], as_of: NaiveDate) {
        for r in rows {
            let ev = r.evaluate(settings, as_of);
            self.add(as_of, &r.facts(), &ev, r.employer_id);
        }
    }

    /// Each employer's notices and submissions met: (employer id, notices, met).
    pub fn employer_totals(&self) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        self.employers
            .iter()
            .map(|(&id, e)| (id, e.notices as i64, e.submission.met as i64))
    }

    pub fn merge(&mut self, o: &State) {
        self.notices += o.notices;
        self.submission.merge(&o.submission);
        self.five_day.merge(&o.five_day);
        self.standard.merge(&o.standard);
        self.loss.merge(&o.loss);
        self.e2e.merge(&o.e2e);
        self.ex_officio += o.ex_officio;
        merge_map(&mut self.months, &o.months, MonthAcc::merge);
        for (a, b) in self.sub_days.iter_mut().zip(&o.sub_days) {
            *a += b;
        }
        for (a, b) in self.reg_days.iter_mut().zip(&o.reg_days) {
            *a += b;
        }
        merge_map(&mut self.employers, &o.employers, EmployerAcc::merge);
        for (a, b) in self.kinds.iter_mut().zip(&o.kinds) {
            a.merge(b);
        }
        merge_map(&mut self.weeks, &o.weeks, WeekAcc::merge);
    }
}

impl Accumulator {
    pub fn new(from: NaiveDate, to: NaiveDate, as_of: NaiveDate) -> Accumulator {
        Accumulator::with_state(from, to, as_of, State::default())
    }

    /// The figures of [from, to] as of `as_of` over what `state` added up (the notices received
    /// in the period, evaluated as of that date).
    pub fn with_state(from: NaiveDate, to: NaiveDate, as_of: NaiveDate, state: State) -> Self {
        Accumulator {
            from,
            to,
            as_of,
            state,
            april_year: latest_april(from, to),
        }
    }

    pub fn add(&mut self, facts: &NoticeFacts, ev: &Evaluation, employer_id: i64) {
        if facts.received_on < self.from || facts.received_on > self.to {
            return;
        }
        self.state.add(self.as_of, facts, ev, employer_id);
    }

    /// The figures; `employer_names` maps employer ids to (code, name) for the worst-employer table.
    pub fn finish(
        self,
        employer_names: &HashMap<i64, (String, Option<String>)>,
        worst: usize,
    ) -> Figures {
        let st = &self.state;
        let months = st
            .months
            .iter()
            .map(|(&(y, m), a)| MonthFigures {
                month: format!("{y:04}-{m:02}"),
                notices: a.notices,
                submission_met_rate: a.submission.met_rate(),
                registration_five_day_met_rate: a.five_day.met_rate(),
                registration_standard_met_rate: a.standard.met_rate(),
                standard_notices: a.standard.total(),
                registration_loss_met_rate: a.loss.met_rate(),
                loss_notices: a.loss.total(),
                ex_officio_required: a.ex_officio,
            })
            .collect();
        let mut employers: Vec<EmployerFigures> = st
            .employers
            .iter()
            .filter(|(_, a)| a.submission.breached > 0)
            .map(|(&id, a)| {
                let (code, name) = employer_names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| (format!("#{id}"), None));
                EmployerFigures {
                    employer_id: id,
                    code,
                    name,
                    notices: a.notices,
                    submission_breached: a.submission.breached,
                    submission_met_rate: a.submission.met_rate(),
                    my_number_unusable: a.unusable,
                }
            })
            .collect();
        employers.sort_by(|a, b| {
            b.submission_breached
                .cmp(&a.submission_breached)
                .then_with(|| a.code.cmp(&b.code))
        });
        employers.truncate(worst);
        let bars = |a: &[u64; HISTOGRAM_DAYS + 1]| {
            a.iter()
                .enumerate()
                .map(|(days, &count)| Bar { days, count })
                .collect()
        };
        Figures {
            from: self.from,
            to: self.to,
            as_of: self.as_of,
            notices: st.notices,
            submission: st.submission.finish(),
            registration_five_day: st.five_day.finish(),
            registration_standard: st.standard.finish(),
            registration_loss: st.loss.finish(),
            end_to_end: st.e2e.finish(),
            ex_officio_required_in_period: st.ex_officio,
            months,
            submission_days: bars(&st.sub_days),
            registration_days: bars(&st.reg_days),
            worst_employers: employers,
            by_kind: KINDS
                .iter()
                .zip(&st.kinds)
                .map(|(kind, a)| KindFigures {
                    kind: kind.code().to_string(),
                    label: kind.label_ja().to_string(),
                    notices: a.notices,
                    submission: RuleCounts::of(a.submission),
                    registration: RuleCounts::of(a.registration),
                    registration_five_day: RuleCounts::of(a.five_day),
                    registration_standard: RuleCounts::of(a.standard),
                    registration_loss: RuleCounts::of(a.loss),
                })
                .collect(),
            april_weeks: st
                .weeks
                .iter()
                .filter(|(&w, _)| self.april_year.is_some_and(|y| in_april_view(w, y)))
                .map(|(&w, WeekAcc(n, c, any))| WeekFigures {
                    week_start: w,
                    notices: *n,
                    registration_five_day_met_rate: c.met_rate(),
                    registration_breached: c.breached,
                    registration_breached_any: *any,
                })
                .collect(),
            april_year: self.april_year,
        }
    }

    /// Employer ids seen, for looking up their names.
    pub fn employer_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.state.employers.keys().copied()
    }
}

/// A met rate of the period beside the same period one year earlier.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Compared {
    /// Last year's figures of the rule.
    #[serde(flatten)]
    pub last_year: RuleCounts,
    /// This year's met rate minus last year's, in percentage points; null when either is null.
    pub delta_pt: Option<f64>,
}

fn compared(now: &RuleFigures, last: &RuleFigures) -> Compared {
    Compared {
        last_year: RuleCounts::of(last.counts),
        delta_pt: now
            .met_rate
            .zip(last.met_rate)
            .map(|(a, b)| ((a - b) * 1000.0).round() / 10.0),
    }
}

/// The same period one year earlier, evaluated as of one year earlier: like with like, the last
/// days of both periods are equally young.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LastYear {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    /// Notices received then; 0 means no data for last year (the rates are then null, not 0%).
    pub notices: u64,
    pub submission: Compared,
    pub registration_five_day: Compared,
    pub registration_standard: Compared,
    pub registration_loss: Compared,
}

/// Open cases whose registration deadline falls in this week (the as-of date to the Sunday of
/// its Monday–Sunday week). The submission deadline needs no such list: a notice in the data has
/// been received, so its submission is complete.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DueThisWeek {
    /// The as-of date (`due_from` of the list).
    pub from: NaiveDate,
    /// The Sunday of the as-of date's week (`due_to` of the list).
    pub to: NaiveDate,
    /// `/notices?pending=1&due_from=…&due_to=…&as_of=…`
    pub count: i64,
}

/// The open case received first (not registered as of the date).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OldestOpen {
    /// Database id: `/notices/{id}`.
    pub id: i64,
    pub notice_id: String,
    /// acquisition | dependent | loss
    pub kind: String,
    pub received_on: NaiveDate,
    /// as_of − received_on.
    pub days_open: i64,
    pub registration_deadline: NaiveDate,
    /// breached | at_risk | open (as of the date).
    pub registration_status: String,
}

/// What the dashboard shows: the period's figures and the open work as of the date (all time).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    #[serde(flatten)]
    pub figures: Figures,
    /// Not registered and past the registration deadline (any period).
    pub open_breached: i64,
    /// Not registered, deadline within warn_days.
    pub at_risk: i64,
    /// 資格確認書 to issue ex officio (SPEC §2.4).
    pub ex_officio_required: i64,
    /// The 登録エラー worklist: not registered, the latest registration result an error (any
    /// period; the count of `/notices?reg_error=1&as_of=…`).
    pub registration_errors: i64,
    /// Received and not registered as of the date (any period; `/notices?pending=1&as_of=…`).
    pub pending: i64,
    /// 「今週が期限」.
    pub due_this_week: DueThisWeek,
    /// 「最も古い未完了の案件」; null when nothing is open.
    pub oldest_open: Option<OldestOpen>,
    /// 「前年同期」.
    pub last_year: LastYear,
    /// The insurer's data version the figures were computed from.
    pub data_version: i64,
}

/// The figures of the notices received in [from, to] as of `as_of`: the rollups of the days
/// whose notices are complete, the rest evaluated live (`reports::rollups`).
fn fold(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Result<Accumulator, diesel::result::Error> {
    let state: State = super::rollups::fold(conn, insurer, from, to, as_of)?;
    Ok(Accumulator::with_state(from, to, as_of, state))
}

/// The open work as of a date, all periods: what the dashboard's worklist links open.
#[derive(Default)]
struct OpenCounts {
    /// `pending=1`: received and not registered as of the date.
    pending: i64,
    /// … with the registration rule breached (`rule=registration&status=breached&pending=1`).
    breached: i64,
    /// … at risk (`status=at_risk`).
    at_risk: i64,
    /// `ex_officio=1` (SPEC §2.4).
    ex_officio: i64,
    /// `reg_error=1`: with an error result that counts on the date.
    errors: i64,
    /// `due_from`/`due_to`: the registration deadline from the date to that week's Sunday.
    due_this_week: i64,
}

/// Counts the open notices in one pass over them (read through the index of unregistered
/// notices), with the statuses the list's filters give (`rules::evaluate_with` on the stored
/// deadlines, as the filters compare them): the cost follows the open work, not the history.
/// `tests/dashboard.rs` checks each count against the list it links to.
fn open_counts(
    conn: &mut DbConn,
    insurer: &Insurer,
    as_of: NaiveDate,
) -> Result<OpenCounts, diesel::result::Error> {
    let mut n = OpenCounts::default();
    let week_end = end_of_week(as_of);
    for later in [false, true] {
        let mut after = None;
        loop {
            let rows = crate::store::rollups::open_after(
                conn,
                insurer.id.0,
                as_of,
                later,
                after,
                READ_CHUNK,
            )?;
            let Some(last) = rows.last() else { break };
            after = Some((last.registration_deadline, last.id));
            for r in &rows {
                let ev = r.evaluate(&insurer.rules, as_of);
                n.pending += 1;
                match ev.registration.status {
                    Status::Breached => n.breached += 1,
                    Status::AtRisk => n.at_risk += 1,
                    _ => {}
                }
                n.ex_officio += i64::from(ev.ex_officio_required);
                n.due_this_week += i64::from(
                    r.registration_deadline >= as_of && r.registration_deadline <= week_end,
                );
            }
            // The 登録エラー worklist's own test: an error result that counts as of the date.
            n.errors += notice_store::latest_errors(conn, insurer.id, &rows, as_of)?.len() as i64;
        }
    }
    Ok(n)
}

/// Rows read per chunk of the open work.
const READ_CHUNK: i64 = 50_000;

/// The Sunday of the Monday–Sunday week of `d`.
pub fn end_of_week(d: NaiveDate) -> NaiveDate {
    let left = 6 - u64::from(d.weekday().num_days_from_monday());
    d.checked_add_days(Days::new(left)).unwrap_or(d)
}

/// One year earlier (29 February becomes 28 February).
fn year_before(d: NaiveDate) -> NaiveDate {
    d.checked_sub_months(Months::new(12)).unwrap_or(d)
}

/// The last day of a period one year earlier: a month's last day stays its month's last day, so a
/// period ending on 28 February 2025 is compared with one ending on 29 February 2024.
fn year_before_end(d: NaiveDate) -> NaiveDate {
    match d.succ_opt() {
        Some(next) if next.day() == 1 => year_before(next).pred_opt().unwrap_or(d),
        _ => year_before(d),
    }
}

/// Computes the dashboard of `insurer` for notices received in [from, to], as of `as_of`.
pub fn compute(
    conn: &mut DbConn,
    insurer: &Insurer,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Result<Dashboard, diesel::result::Error> {
    let started = std::time::Instant::now();
    let data_version = crate::store::insurers::data_version(conn, insurer.id)?;
    let acc = fold(conn, insurer, from, to, as_of)?;
    let ids: Vec<i64> = acc.employer_ids().collect();
    let names = notice_store::employer_refs(conn, insurer.id, ids.into_iter())?
        .into_iter()
        .map(|(id, e)| (id, (e.code, e.name)))
        .collect();
    let figures = acc.finish(&names, 10);

    let (ly_from, ly_to, ly_as_of) = (year_before(from), year_before_end(to), year_before(as_of));
    let ly = fold(conn, insurer, ly_from, ly_to, ly_as_of)?.finish(&HashMap::new(), 0);
    let last_year = LastYear {
        from: ly_from,
        to: ly_to,
        as_of: ly_as_of,
        notices: ly.notices,
        submission: compared(&figures.submission, &ly.submission),
        registration_five_day: compared(&figures.registration_five_day, &ly.registration_five_day),
        registration_standard: compared(&figures.registration_standard, &ly.registration_standard),
        registration_loss: compared(&figures.registration_loss, &ly.registration_loss),
    };

    let folded = started.elapsed().as_millis() as u64;
    let open = open_counts(conn, insurer, as_of)?;
    let mut pending_filter = NoticeFilter::new(as_of);
    pending_filter.pending = true;
    pending_filter.sort = notice_store::Sort::ReceivedAsc;
    let oldest_open = notice_store::rows(conn, insurer.id, &insurer.rules, &pending_filter, 0, 1)?
        .into_iter()
        .next()
        .map(|r| {
            let ev = r.evaluate(&insurer.rules, as_of);
            OldestOpen {
                id: r.id,
                notice_id: r.notice_id.clone(),
                kind: r.kind.clone(),
                received_on: r.received_on,
                days_open: (as_of - r.received_on).num_days(),
                registration_deadline: r.registration_deadline,
                registration_status: ev.registration.status.code().to_string(),
            }
        });
    tracing::debug!(
        folded_ms = folded,
        ms = started.elapsed().as_millis() as u64,
        "dashboard computed"
    );
    Ok(Dashboard {
        figures,
        open_breached: open.breached,
        at_risk: open.at_risk,
        ex_officio_required: open.ex_officio,
        registration_errors: open.errors,
        pending: open.pending,
        due_this_week: DueThisWeek {
            from: as_of,
            to: end_of_week(as_of),
            count: open.due_this_week,
        },
        oldest_open,
        last_year,
        data_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{rules, Calendar, MyNumberStatus, NoticeKind, RuleSettings};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn add(
        acc: &mut Accumulator,
        event: &str,
        received: &str,
        reg: Option<&str>,
        mn: MyNumberStatus,
    ) {
        let facts = NoticeFacts {
            kind: NoticeKind::Acquisition,
            event_date: d(event),
            received_on: d(received),
            my_number: mn,
            registered_on: reg.map(d),
        };
        let ev = rules::evaluate(&facts, &RuleSettings::default(), acc.as_of, Calendar::get());
        acc.add(&facts, &ev, 1);
    }

    #[test]
    fn five_day_rate_never_mixes_the_standard_population() {
        let mut acc = Accumulator::new(d("2026-04-01"), d("2026-04-30"), d("2026-06-01"));
        // valid number, registered in 2 days: met
        add(
            &mut acc,
            "2026-04-01",
            "2026-04-02",
            Some("2026-04-04"),
            MyNumberStatus::Valid,
        );
        // valid number, registered after 20 days: breached
        add(
            &mut acc,
            "2026-04-01",
            "2026-04-02",
            Some("2026-04-22"),
            MyNumberStatus::Valid,
        );
        // missing number, registered after 10 days: standard rule (14 days), met
        add(
            &mut acc,
            "2026-04-01",
            "2026-04-02",
            Some("2026-04-12"),
            MyNumberStatus::Missing,
        );
        // outside the period: ignored
        add(
            &mut acc,
            "2026-03-01",
            "2026-03-02",
            None,
            MyNumberStatus::Valid,
        );
        let f = acc.finish(&HashMap::new(), 10);
        assert_eq!(f.notices, 3);
        assert_eq!(f.registration_five_day.met_rate, Some(0.5));
        assert_eq!(f.registration_standard.met_rate, Some(1.0));
        assert_eq!(f.registration_standard.notices, 1);
        assert_eq!(f.registration_five_day.median_days, Some(2));
        assert_eq!(f.registration_five_day.p90_days, Some(20));
        assert_eq!(f.april_year, Some(2026));
        assert_eq!(f.months.len(), 1);
        assert_eq!(f.months[0].month, "2026-04");
    }

    #[test]
    fn the_week_ends_on_sunday_and_last_year_keeps_the_day() {
        assert_eq!(end_of_week(d("2025-06-09")), d("2025-06-15"));
        assert_eq!(end_of_week(d("2025-06-11")), d("2025-06-15"));
        assert_eq!(end_of_week(d("2025-06-15")), d("2025-06-15"));
        assert_eq!(year_before(d("2025-06-11")), d("2024-06-11"));
        assert_eq!(year_before(d("2028-02-29")), d("2027-02-28"));
        // A period's last day: the end of a month stays the end of that month.
        assert_eq!(year_before_end(d("2025-02-28")), d("2024-02-29"));
        assert_eq!(year_before_end(d("2028-02-29")), d("2027-02-28"));
        assert_eq!(year_before_end(d("2026-03-31")), d("2025-03-31"));
        assert_eq!(year_before_end(d("2026-06-15")), d("2025-06-15"));
    }

    #[test]
    fn kinds_add_up_to_the_period() {
        let mut acc = Accumulator::new(d("2026-04-01"), d("2026-04-30"), d("2026-06-01"));
        add(
            &mut acc,
            "2026-04-01",
            "2026-04-02",
            None,
            MyNumberStatus::Valid,
        );
        add(
            &mut acc,
            "2026-03-01",
            "2026-04-03",
            None,
            MyNumberStatus::Missing,
        );
        let f = acc.finish(&HashMap::new(), 10);
        let sum: u64 = f.by_kind.iter().map(|k| k.notices).sum();
        assert_eq!(sum, f.notices);
        assert_eq!(f.by_kind[0].submission.counts.breached, 1);
        assert_eq!(f.by_kind[0].registration.counts.breached, 2);
        assert_eq!(f.by_kind[0].registration_standard.notices, 1);
    }

    #[test]
    fn april_view_covers_the_weeks_around_april() {
        let y = 2026;
        assert!(in_april_view(week_start(d("2026-04-15")), y));
        assert!(in_april_view(week_start(d("2026-03-25")), y));
        assert!(!in_april_view(week_start(d("2026-03-01")), y));
        assert!(!in_april_view(week_start(d("2026-06-01")), y));
        assert_eq!(latest_april(d("2025-12-01"), d("2026-11-30")), Some(2026));
        assert_eq!(latest_april(d("2026-05-01"), d("2026-11-30")), None);
    }
}
