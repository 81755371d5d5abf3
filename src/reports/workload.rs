//! The April peak against staffing (checklist 2-②): notices received, notices per staff member,
//! days to registration (median, 90th percentile) and registration breaches, by ISO week for
//! March–May of the peak year and by month for the whole period.
use super::stats::{merge_map, DayHistogram};
use crate::domain::staffing::{self, StaffingPeriod};
use crate::domain::Status;
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The latest year whose March–May overlaps [from, to]: the spring the peak view shows.
pub fn peak_year(from: NaiveDate, to: NaiveDate) -> Option<i32> {
    (from.year()..=to.year()).rev().find(|&y| {
        let (s, e) = spring(y);
        s <= to && e >= from
    })
}

fn spring(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 3, 1).expect("1 March"),
        NaiveDate::from_ymd_opt(year, 5, 31).expect("31 May"),
    )
}

/// The Mondays of the weeks that touch March–May of `year`.
pub fn spring_weeks(year: i32) -> Vec<NaiveDate> {
    let (s, e) = spring(year);
    let mut w = staffing::week_start(s);
    let mut out = Vec::new();
    while w <= e {
        out.push(w);
        w = w + Days::new(7);
    }
    out
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Bucket {
    notices: u64,
    days: DayHistogram,
    breached: u64,
}

impl Bucket {
    fn merge(&mut self, o: &Bucket) {
        self.notices += o.notices;
        self.days.merge(&o.days);
        self.breached += o.breached;
    }
}

/// What the view adds up, whatever the period: every week and month a notice was received in
/// (the period picks the spring weeks when it finishes), so the states of days can be merged
/// (the rollups, `reports::rollups`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkloadState {
    weeks: BTreeMap<NaiveDate, Bucket>,
    months: BTreeMap<NaiveDate, Bucket>,
}

impl WorkloadState {
    /// One notice: when it was received, the days to its registration when it was registered by
    /// the as-of date, and the status of its registration rule then.
    pub fn add(&mut self, received_on: NaiveDate, days: Option<i64>, registration: Status) {
        let month = NaiveDate::from_ymd_opt(received_on.year(), received_on.month(), 1)
            .expect("first of month");
        for b in [
            self.weeks
                .entry(staffing::week_start(received_on))
                .or_default(),
            self.months.entry(month).or_default(),
        ] {
            b.notices += 1;
            if let Some(d) = days {
                b.days.add(d);
            }
            if registration == Status::Breached {
                b.breached += 1;
            }
        }
    }

    pub fn merge(&mut self, o: &WorkloadState) {
        merge_map(&mut self.weeks, &o.weeks, Bucket::merge);
        merge_map(&mut self.months, &o.months, Bucket::merge);
    }
}

/// One week or month of the view.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LoadRow {
    /// `2026-W14` or `2026-04`.
    pub period: String,
    /// 「2026-03-30 の週」 or 「2026年4月」.
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Notices received in the period.
    pub notices: u64,
    /// Staff (full-time equivalents) for the period, when entered.
    pub staff: Option<f64>,
    /// `week` (a week override), `month` (the month's figure) or none.
    pub staff_source: Option<&'static str>,
    /// notices / staff, when staff is entered.
    pub per_staff: Option<f64>,
    /// Days from receipt to registration of the notices registered by the as-of date.
    pub registered: u64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// Notices whose registration rule is breached as of the as-of date.
    pub breached: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Workload {
    /// The spring shown by week (None when the period has no March–May).
    pub peak_year: Option<i32>,
    pub weeks: Vec<LoadRow>,
    pub months: Vec<LoadRow>,
    /// Whether any staffing figure is entered at all (without, the page says so and shows the
    /// peak without the ratio).
    pub has_staffing: bool,
    /// The week with the most notices (ties: the earliest).
    pub busiest_week: Option<LoadRow>,
}

/// Folds notices one at a time, like the other accumulators.
pub struct WorkloadAcc {
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    year: Option<i32>,
    state: WorkloadState,
}

impl WorkloadAcc {
    pub fn new(from: NaiveDate, to: NaiveDate, as_of: NaiveDate) -> WorkloadAcc {
        WorkloadAcc::with_state(from, to, as_of, WorkloadState::default())
    }

    /// The view of [from, to] as of `as_of` over what `state` added up (notices received in the
    /// period only).
    pub fn with_state(
        from: NaiveDate,
        to: NaiveDate,
        as_of: NaiveDate,
        state: WorkloadState,
    ) -> WorkloadAcc {
        WorkloadAcc {
            from,
            to,
            as_of,
            year: peak_year(from, to),
            state,
        }
    }

    /// One notice: when it was received, when it was registered (if it was), and the status of
    /// its registration rule as of the accumulator's date.
    pub fn add(
        &mut self,
        received_on: NaiveDate,
        registered_on: Option<NaiveDate>,
        registration: Status,
    ) {
        if received_on < self.from || received_on > self.to {
            return;
        }
        let days = registered_on
            .filter(|r| *r <= self.as_of)
            .map(|r| (r - received_on).num_days());
        self.state.add(received_on, days, registration);
    }

    /// The rows, joined with the staffing entered for each period.
    pub fn finish(self, entries: &[(StaffingPeriod, f64)]) -> Workload {
        let row = |period: StaffingPeriod, ends_on: NaiveDate, b: &Bucket| {
            let level = match period {
                StaffingPeriod::Week(w) => staffing::staff_for_week(entries, w),
                StaffingPeriod::Month(_) => {
                    entries
                        .iter()
                        .find(|(p, _)| *p == period)
                        .map(|(_, s)| staffing::StaffLevel {
                            staff: *s,
                            source: "month",
                        })
                }
            };
            LoadRow {
                period: period.code(),
                label: period.label_ja(),
                starts_on: period.starts_on(),
                ends_on,
                notices: b.notices,
                staff: level.as_ref().map(|l| l.staff),
                staff_source: level.as_ref().map(|l| l.source),
                per_staff: level.as_ref().map(|l| b.notices as f64 / l.staff),
                registered: b.days.count(),
                median_days: b.days.percentile(50.0),
                p90_days: b.days.percentile(90.0),
                breached: b.breached,
            }
        };
        let none = Bucket::default();
        let weeks: Vec<LoadRow> = self
            .year
            .map(spring_weeks)
            .unwrap_or_default()
            .into_iter()
            .map(|w| {
                let b = self.state.weeks.get(&w).unwrap_or(&none);
                row(StaffingPeriod::Week(w), w + Days::new(6), b)
            })
            .collect();
        let months = self
            .state
            .months
            .iter()
            .map(|(m, b)| {
                let end = m
                    .checked_add_months(chrono::Months::new(1))
                    .and_then(|n| n.pred_opt())
                    .unwrap_or(*m);
                row(StaffingPeriod::Month(*m), end, b)
            })
            .collect();
        let busiest_week = weeks
            .iter()
            .filter(|w| w.notices > 0)
            .fold(None::<&LoadRow>, |best, w| match best {
                Some(b) if b.notices >= w.notices => Some(b),
                _ => Some(w),
            })
            .cloned();
        Workload {
            peak_year: self.year,
            weeks,
            months,
            has_staffing: !entries.is_empty(),
            busiest_week,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_peak_is_the_latest_spring_in_the_period() {
        assert_eq!(peak_year(d("2025-07-01"), d("2026-06-30")), Some(2026));
        assert_eq!(peak_year(d("2025-06-01"), d("2026-02-28")), None);
        assert_eq!(peak_year(d("2025-05-31"), d("2026-02-28")), Some(2025));
        let w = spring_weeks(2026);
        assert_eq!(w.first(), Some(&d("2026-02-23")));
        assert_eq!(w.last(), Some(&d("2026-05-25")));
    }

    #[test]
    fn weeks_join_their_staffing_and_divide() {
        let mut acc = WorkloadAcc::new(d("2026-03-01"), d("2026-06-30"), d("2026-06-30"));
        acc.add(d("2026-04-06"), Some(d("2026-04-08")), Status::Met);
        acc.add(d("2026-04-07"), Some(d("2026-04-20")), Status::Breached);
        acc.add(d("2026-04-08"), None, Status::Breached);
        let entries = [(StaffingPeriod::Month(d("2026-04-01")), 2.0)];
        let w = acc.finish(&entries);
        let week = w.weeks.iter().find(|r| r.period == "2026-W15").unwrap();
        assert_eq!(week.notices, 3);
        assert_eq!(week.per_staff, Some(1.5));
        assert_eq!(week.staff_source, Some("month"));
        assert_eq!(week.median_days, Some(2));
        assert_eq!(week.p90_days, Some(13));
        assert_eq!(week.breached, 2);
        assert_eq!(w.months.len(), 1);
        assert_eq!(w.months[0].ends_on, d("2026-04-30"));
        assert_eq!(w.busiest_week.unwrap().period, "2026-W15");
        let march = w.weeks.iter().find(|r| r.period == "2026-W10").unwrap();
        assert_eq!(
            (march.notices, march.staff, march.per_staff),
            (0, None, None)
        );
    }
}
