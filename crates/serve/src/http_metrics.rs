//! Counters of the server's HTTP traffic, kept lock-free for every
//! request; read out by `/metrics` (`metrics.rs`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the request-duration histogram, in seconds.
pub(crate) const BOUNDS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
];

/// What the server has answered since it started.
pub(crate) struct HttpMetrics {
    pub(crate) started: Instant,
    /// Responses by status class, 1xx to 5xx.
    pub(crate) by_class: [AtomicU64; 5],
    pub(crate) in_flight: AtomicI64,
    /// Responses no slower than each of [`BOUNDS`] (cumulative, as
    /// Prometheus wants them).
    pub(crate) buckets: [AtomicU64; BOUNDS.len()],
    pub(crate) sum_micros: AtomicU64,
    pub(crate) count: AtomicU64,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            started: Instant::now(),
            by_class: Default::default(),
            in_flight: AtomicI64::new(0),
            buckets: Default::default(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

impl HttpMetrics {
    /// Counts one response.
    pub(crate) fn observe(&self, status: u16, secs: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            if secs <= bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_fall_in_their_class_and_buckets() {
        let m = HttpMetrics::default();
        m.observe(200, 0.002);
        m.observe(404, 0.3);
        m.observe(503, 40.0);
        let class: Vec<u64> = m
            .by_class
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        assert_eq!(class, [0, 1, 0, 1, 1]);
        let b: Vec<u64> = m
            .buckets
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        // 0.002 s is under every bound from 2.5 ms; 0.3 s from 1 s; 40 s under none.
        assert_eq!(b, [0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        assert_eq!(m.count.load(Ordering::Relaxed), 3);
    }
}
