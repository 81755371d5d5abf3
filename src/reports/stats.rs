//! Counting helpers for reports: status tallies and day histograms with exact percentiles.
use crate::domain::Status;
use serde::Serialize;

/// Days are bucketed exactly up to this many; longer delays share the last bucket.
const MAX_DAYS: usize = 4000;

/// Exact distribution of whole days in O(MAX_DAYS) memory, whatever the number of notices.
#[derive(Clone, Debug)]
pub struct DayHistogram {
    buckets: Vec<u64>,
    total: u64,
}

impl Default for DayHistogram {
    fn default() -> Self {
        DayHistogram {
            buckets: vec![0; MAX_DAYS + 1],
            total: 0,
        }
    }
}

impl DayHistogram {
    /// Negative spans (a notice received before its event date) count as 0 days.
    pub fn add(&mut self, days: i64) {
        let i = days.clamp(0, MAX_DAYS as i64) as usize;
        self.buckets[i] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// Nearest-rank percentile (p in 0..=100); None when empty.
    pub fn percentile(&self, p: f64) -> Option<i64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (d, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(d as i64);
            }
        }
        Some(MAX_DAYS as i64)
    }
}

/// Counts per status of one rule.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StatusCounts {
    pub met: u64,
    pub breached: u64,
    pub at_risk: u64,
    pub open: u64,
    pub not_applicable: u64,
}

impl StatusCounts {
    pub fn add(&mut self, s: Status) {
        match s {
            Status::Met => self.met += 1,
            Status::Breached => self.breached += 1,
            Status::AtRisk => self.at_risk += 1,
            Status::Open => self.open += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.met + self.breached + self.at_risk + self.open + self.not_applicable
    }

    /// Share of decided notices that met the rule: met / (met + breached). Open and at-risk
    /// notices are not decided yet, so they are left out rather than counted either way.
    pub fn met_rate(&self) -> Option<f64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| self.met as f64 / decided as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut h = DayHistogram::default();
        for d in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] {
            h.add(d);
        }
        assert_eq!(h.percentile(50.0), Some(5));
        assert_eq!(h.percentile(90.0), Some(9));
        assert_eq!(h.percentile(100.0), Some(10));
        assert_eq!(DayHistogram::default().percentile(50.0), None);
    }

    #[test]
    fn negative_days_count_as_zero() {
        let mut h = DayHistogram::default();
        h.add(-3);
        assert_eq!(h.percentile(50.0), Some(0));
    }

    #[test]
    fn met_rate_leaves_out_undecided() {
        let mut c = StatusCounts::default();
        c.add(Status::Met);
        c.add(Status::Met);
        c.add(Status::Met);
        c.add(Status::Breached);
        c.add(Status::Open);
        c.add(Status::AtRisk);
        assert_eq!(c.met_rate(), Some(0.75));
        assert_eq!(c.total(), 6);
    }
}
