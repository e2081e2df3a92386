//! Token buckets for rate limits: `calls` per `per_secs`, with up to `burst` at once.

use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSpec {
    pub calls: u32,
    pub per_secs: f64,
    pub burst: u32,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    spec: RateSpec,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A bucket starts full: `burst` calls may go at once.
    pub fn new(spec: RateSpec, now: Instant) -> Bucket {
        Bucket {
            spec,
            tokens: f64::from(spec.burst),
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        let rate = f64::from(self.spec.calls) / self.spec.per_secs;
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(self.spec.burst));
        self.last = now;
    }

    /// Whether one call may go now (without taking it).
    pub fn ready(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    pub fn take(&mut self) {
        self.tokens -= 1.0;
    }

    pub fn spec(&self) -> RateSpec {
        self.spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            RateSpec {
                calls: 2,
                per_secs: 1.0,
                burst: 3,
            },
            t0,
        );
        for _ in 0..3 {
            assert!(b.ready(t0));
            b.take();
        }
        assert!(!b.ready(t0));
        assert!(b.ready(t0 + Duration::from_millis(500)));
        b.take();
        assert!(!b.ready(t0 + Duration::from_millis(500)));
        // Never more than the burst, however long it waited.
        let later = t0 + Duration::from_secs(100);
        let mut n = 0;
        while b.ready(later) {
            b.take();
            n += 1;
        }
        assert_eq!(n, 3);
    }
}
