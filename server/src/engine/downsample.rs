//! Curves small enough for a page at any data size: min/max bucket downsampling.
//!
//! A 1M-bar equity curve cannot travel to the browser point by point, and taking every k-th
//! point hides exactly what a reader looks for: the deepest drawdown, the spike. Here the bars
//! are cut into equal buckets and each bucket keeps the bars where each curve reaches its
//! minimum and its maximum (in time order), plus the first and the last bar: every extreme of
//! every curve survives, at most `2 · curves · buckets + 2` points.

use app::model::research::EquityPoint;

/// Largest number of points a downsampled curve has (about; see [`minmax_indices`]).
pub const MAX_POINTS: usize = 2_000;

/// The bars to keep of `n` bars so that each of `curves` keeps its minimum and maximum in every
/// one of the buckets, with at most about `max_points` bars in all: sorted, without duplicates,
/// always the first and the last. NaN values are never chosen as an extreme.
pub fn minmax_indices(n: usize, curves: &[&[f64]], max_points: usize) -> Vec<usize> {
    if n <= max_points.max(2) {
        return (0..n).collect();
    }
    let per_bucket = 2 * curves.len().max(1);
    let buckets = ((max_points.saturating_sub(2)) / per_bucket).max(1);
    let mut out = Vec::with_capacity(buckets * per_bucket + 2);
    out.push(0);
    for b in 0..buckets {
        let (lo, hi) = (b * n / buckets, (b + 1) * n / buckets);
        if lo >= hi {
            continue;
        }
        for curve in curves {
            let (mut min_i, mut max_i) = (None::<usize>, None::<usize>);
            for i in lo..hi.min(curve.len()) {
                let v = curve[i];
                if v.is_nan() {
                    continue;
                }
                if min_i.is_none_or(|m| v < curve[m]) {
                    min_i = Some(i);
                }
                if max_i.is_none_or(|m| v > curve[m]) {
                    max_i = Some(i);
                }
            }
            out.extend(min_i);
            out.extend(max_i);
        }
    }
    out.push(n - 1);
    out.sort_unstable();
    out.dedup();
    out
}

/// An equity curve for display: drawdown from the running peak of the *full* curve, then the
/// points that keep every bucket's extremes of both equity and drawdown ([`minmax_indices`]).
pub fn equity_points(ts: &[i64], equity: &[f64]) -> Vec<EquityPoint> {
    let n = equity.len().min(ts.len());
    let mut peak = f64::MIN;
    let drawdown: Vec<f64> = equity[..n]
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            if peak > 0.0 {
                (1.0 - e / peak) * 100.0
            } else {
                0.0
            }
        })
        .collect();
    minmax_indices(n, &[&equity[..n], &drawdown], MAX_POINTS)
        .into_iter()
        .map(|i| EquityPoint {
            t: ts[i],
            equity: equity[i],
            drawdown_pct: drawdown[i],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_curves_are_kept_whole() {
        assert_eq!(minmax_indices(5, &[&[1.0; 5]], 2_000), vec![0, 1, 2, 3, 4]);
        assert!(minmax_indices(0, &[], 2_000).is_empty());
    }

    #[test]
    fn every_bucket_keeps_its_extremes_in_time_order() {
        // 12 bars, 2 buckets of 6 (max_points 6 → (6 − 2) / 2 = 2 buckets for one curve).
        let v = [5.0, 1.0, 7.0, 3.0, 2.0, 4.0, 6.0, 6.5, 0.5, 9.0, 8.0, 8.5];
        // Bucket 0 (bars 0..6): min 1.0 at 1, max 7.0 at 2. Bucket 1 (6..12): min 0.5 at 8,
        // max 9.0 at 9. Plus the first (0) and last (11) bars.
        assert_eq!(minmax_indices(12, &[&v], 6), vec![0, 1, 2, 8, 9, 11]);
    }

    #[test]
    fn a_one_bar_crash_in_a_million_survives() {
        let n = 1_000_000;
        let mut equity: Vec<f64> = (0..n).map(|i| 10_000.0 + i as f64 * 0.01).collect();
        equity[777_777] = 100.0; // a 99 % drawdown for one bar
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 60).collect();
        let points = equity_points(&ts, &equity);
        assert!(points.len() <= MAX_POINTS + 2, "{}", points.len());
        let crash = points.iter().find(|p| p.t == 777_777 * 60).expect("kept");
        assert_eq!(crash.equity, 100.0);
        assert!(crash.drawdown_pct > 98.0);
        assert_eq!(points.first().unwrap().t, 0);
        assert_eq!(points.last().unwrap().t, (n as i64 - 1) * 60);
        assert!(points.windows(2).all(|w| w[0].t < w[1].t));
    }

    #[test]
    fn nan_is_never_an_extreme() {
        let v = [f64::NAN, 2.0, f64::NAN, 1.0, 3.0, f64::NAN, 0.0, 5.0];
        // Two buckets: bars 0..4 (min 1.0 at 3, max 2.0 at 1), bars 4..8 (min 0.0 at 6, max 5.0
        // at 7).
        assert_eq!(minmax_indices(8, &[&v], 6), vec![0, 1, 3, 6, 7]);
    }
}
