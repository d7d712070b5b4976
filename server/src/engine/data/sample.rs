//! The deterministic synthetic sample dataset ([`sample_series`]) and its seeded generator
//! ([`SplitMix64`]).

use super::time::days_from_civil;
use super::Series;

/// splitmix64: a tiny, high-quality 64-bit generator; deterministic for a given seed.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A **synthetic** daily dataset: a geometric random walk (drift 0.03%/day, volatility 1.5%/day)
/// starting at 100 on Friday 2015-01-02, weekdays only, prices rounded to cents. Same `seed`, same
/// bars, on every machine. It is for demos and benchmarks, not market data.
pub fn sample_series(n_bars: usize, seed: u64) -> Series {
    let mut rng = SplitMix64::new(seed);
    let mut s = Series::default();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut day = days_from_civil(2015, 1, 2);
    let mut prev_close = 100.0_f64;
    for _ in 0..n_bars {
        let open = round(prev_close * (0.002 * rng.next_normal()).exp()).max(0.01);
        let close = round(open * (0.0003 + 0.015 * rng.next_normal()).exp()).max(0.01);
        let high = round(open.max(close) * (1.0 + 0.006 * rng.next_normal().abs()));
        let low = round(open.min(close) * (1.0 - 0.006 * rng.next_normal().abs())).max(0.01);
        s.ts.push(day * 86_400);
        s.open.push(open);
        s.high.push(high.max(open).max(close));
        s.low.push(low.min(open).min(close));
        s.close.push(close);
        s.volume
            .push((1_000_000.0 * (0.5 + rng.next_f64())).round());
        prev_close = close;
        // Next weekday: 1970-01-01 was a Thursday, so (day + 3) mod 7 is 0 on Mondays.
        day += match (day + 3).rem_euclid(7) {
            4 => 3, // Friday → Monday
            5 => 2,
            _ => 1,
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_series_is_deterministic_and_valid() {
        let a = sample_series(500, 7);
        assert_eq!(a, sample_series(500, 7));
        assert_ne!(a.close, sample_series(500, 8).close);
        assert!(a.check().is_ok());
        for i in 0..a.len() {
            assert!(a.low[i] <= a.open[i].min(a.close[i]));
            assert!(a.high[i] >= a.open[i].max(a.close[i]));
            let dow = (a.ts[i] / 86_400 + 3).rem_euclid(7);
            assert!(dow < 5, "weekend bar at {i}");
        }
    }
}
