//! A fixed-size log-linear latency histogram: constant memory whatever the number of calls,
//! about 1.6% relative precision, exact count, sum and maximum.

use std::time::Duration;

/// Sub-buckets per power of two (the precision: 1/64).
const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS;
/// Values below `SUB` are exact; each power of two from `2^SUB_BITS` up to `2^63` has `SUB`
/// sub-buckets.
const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

/// Latencies in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

fn index_of(value: u64) -> usize {
    if value < SUB as u64 {
        return value as usize;
    }
    let msb = 63 - value.leading_zeros();
    let shift = msb - SUB_BITS;
    // The top SUB_BITS + 1 bits of the value; the leading one is implied by the bucket.
    let sub = ((value >> shift) as usize) & (SUB - 1);
    SUB + (shift as usize) * SUB + sub
}

/// The range `[low, high]` of values that land in bucket `index`.
fn range_of(index: usize) -> (u64, u64) {
    if index < SUB {
        return (index as u64, index as u64);
    }
    let shift = ((index - SUB) / SUB) as u32;
    let sub = ((index - SUB) % SUB) as u64;
    let low = (SUB as u64 + sub) << shift;
    let width = 1u64 << shift;
    (low, low.saturating_add(width - 1))
}

impl Histogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        if let Some(slot) = self.counts.get_mut(index_of(ns)) {
            *slot += 1;
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds another histogram's values.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Values recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value, exact.
    #[must_use]
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The mean, exact.
    #[must_use]
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let mean = self.sum_ns / u128::from(self.count);
        Duration::from_nanos(u64::try_from(mean).unwrap_or(u64::MAX))
    }

    /// The value at quantile `q` (0..=1): the midpoint of the bucket holding the
    /// `ceil(q × count)`-th smallest value, never above the maximum. Zero when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let q = q.clamp(0.0, 1.0);
        // The rank is at most `count`, which fits in f64's exact integer range for any run.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0u64;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = range_of(index);
                let mid = low + (high - low) / 2;
                return Duration::from_nanos(mid.min(self.max_ns));
            }
        }
        self.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut previous = 0;
        for value in (0..10_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let index = index_of(value);
            assert!(index < BUCKETS, "{value}");
            assert!(index >= previous || value > 10_000, "{value}");
            previous = index;
            let (low, high) = range_of(index);
            assert!(
                low <= value && value <= high,
                "{value} not in [{low}, {high}]"
            );
            // Relative width at most 1/64.
            assert!((high - low) <= low / 64 + 1, "{value}: [{low}, {high}]");
        }
    }

    #[test]
    fn quantiles_are_within_precision() {
        let mut hist = Histogram::new();
        for us in 1..=1000u64 {
            hist.record(Duration::from_micros(us));
        }
        assert_eq!(hist.count(), 1000);
        let p50 = hist.quantile(0.5).as_nanos() as f64;
        let p99 = hist.quantile(0.99).as_nanos() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.02, "{p50}");
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.02, "{p99}");
        assert_eq!(hist.max(), Duration::from_micros(1000));
        assert_eq!(hist.mean(), Duration::from_nanos(500_500));

        let mut other = Histogram::new();
        other.record(Duration::from_secs(1));
        hist.merge(&other);
        assert_eq!(hist.count(), 1001);
        assert_eq!(hist.max(), Duration::from_secs(1));
        assert!(hist.quantile(1.0) <= Duration::from_secs(1));
        assert!(hist.quantile(1.0) > Duration::from_millis(980));
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let hist = Histogram::new();
        assert_eq!(hist.quantile(0.99), Duration::ZERO);
        assert_eq!(hist.mean(), Duration::ZERO);
    }
}
