//! Counting helpers for reports: status tallies and day histograms with exact percentiles.
use crate::domain::Status;
use serde::{Deserialize, Serialize};

/// Days are bucketed exactly up to this many; longer delays share the last bucket.
const MAX_DAYS: usize = 4000;

/// Exact distribution of whole days, in memory for the longest span seen (at most MAX_DAYS + 1
/// buckets) whatever the number of notices. Serialized as its buckets, for the rollups.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DayHistogram {
    buckets: Vec<u64>,
    total: u64,
}

impl DayHistogram {
    /// Negative spans (a notice received before its event date) count as 0 days.
    pub fn add(&mut self, days: i64) {
        let i = days.clamp(0, MAX_DAYS as i64) as usize;
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
        self.total += 1;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &DayHistogram) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.total += other.total;
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
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
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

    pub fn merge(&mut self, o: &StatusCounts) {
        self.met += o.met;
        self.breached += o.breached;
        self.at_risk += o.at_risk;
        self.open += o.open;
        self.not_applicable += o.not_applicable;
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

/// Adds `other` into `into` entry by entry (the rollups' merge of keyed buckets).
pub fn merge_map<K: Ord + Clone, V: Default>(
    into: &mut std::collections::BTreeMap<K, V>,
    other: &std::collections::BTreeMap<K, V>,
    add: impl Fn(&mut V, &V),
) {
    for (k, v) in other {
        add(into.entry(k.clone()).or_default(), v);
    }
}

/// Maps as lists of pairs in the rollups' JSON (keys such as (year, month) are not strings).
pub mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<'a, M, K, V, S>(map: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(map)
    }

    pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
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
