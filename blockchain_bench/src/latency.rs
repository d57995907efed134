//! Percentiles of measured latencies.

use std::time::Duration;

/// The latency at quantile `q` (0.5 for the median, 1.0 for the maximum) of `sorted`
/// latencies: the nearest rank, rounded; `None` when there are none.
#[must_use]
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    let last = sorted.len().checked_sub(1)?;
    let index = (last as f64 * q).round() as usize;
    sorted.get(index.min(last)).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;
    use std::time::Duration;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=5).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.5), Some(Duration::from_millis(3)));
        assert_eq!(percentile(&sorted, 0.99), Some(Duration::from_millis(5)));
        assert_eq!(percentile(&sorted, 1.0), Some(Duration::from_millis(5)));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
