//! Technical indicators over price arrays, each O(n) and NaN until warm.

use std::collections::VecDeque;

/// Simple moving average over `n` values, NaN for the first `n - 1` bars.
///
/// `sma[i] = (x[i-n+1] + … + x[i]) / n`, computed as pandas' `Series.rolling(n).mean()` (the
/// `SMA` of backtesting.py's examples) computes it, so crossovers flip on the same bars: a
/// running sum where additions and removals each carry their own Kahan compensation, and a
/// window of `n` identical values returns that value exactly. O(n) whatever `n` is.
pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if n == 0 {
        return out;
    }
    let (mut sum, mut comp_add, mut comp_remove) = (0.0_f64, 0.0_f64, 0.0_f64);
    let (mut nobs, mut neg_ct) = (0usize, 0usize);
    let (mut same_run, mut prev) = (0usize, f64::NAN);
    for i in 0..x.len() {
        if i >= n {
            let v = x[i - n];
            if !v.is_nan() {
                nobs -= 1;
                let y = -v - comp_remove;
                let t = sum + y;
                comp_remove = t - sum - y;
                sum = t;
                if v.is_sign_negative() {
                    neg_ct -= 1;
                }
            }
        }
        let v = x[i];
        if !v.is_nan() {
            nobs += 1;
            let y = v - comp_add;
            let t = sum + y;
            comp_add = t - sum - y;
            sum = t;
            if v.is_sign_negative() {
                neg_ct += 1;
            }
            if v == prev {
                same_run += 1;
            } else {
                same_run = 1;
                prev = v;
            }
        }
        if nobs >= n {
            let mut r = sum / nobs as f64;
            if same_run >= nobs {
                r = prev;
            } else if (neg_ct == 0 && r < 0.0) || (neg_ct == nobs && r > 0.0) {
                r = 0.0;
            }
            out[i] = r;
        }
    }
    out
}

/// Wilder's RSI over `n` bars of close-to-close changes; NaN for the first `n` bars.
///
/// With gains `g_i = max(c_i - c_{i-1}, 0)` and losses `l_i = max(c_{i-1} - c_i, 0)`: the first
/// averages (at bar `n`) are the plain means of `g_1..g_n` and `l_1..l_n`; afterwards
/// `avg_i = (avg_{i-1}·(n-1) + g_i) / n` (Wilder smoothing). `RSI = 100 - 100 / (1 + avg_g /
/// avg_l)`, 100 when `avg_l = 0` (50 when both are 0).
pub fn rsi(close: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; close.len()];
    if n == 0 || close.len() <= n {
        return out;
    }
    let value = |g: f64, l: f64| {
        if l == 0.0 {
            if g == 0.0 {
                50.0
            } else {
                100.0
            }
        } else {
            100.0 - 100.0 / (1.0 + g / l)
        }
    };
    let (mut g, mut l) = (0.0, 0.0);
    for i in 1..=n {
        let d = close[i] - close[i - 1];
        g += d.max(0.0);
        l += (-d).max(0.0);
    }
    g /= n as f64;
    l /= n as f64;
    out[n] = value(g, l);
    let k = n as f64;
    for i in n + 1..close.len() {
        let d = close[i] - close[i - 1];
        g = (g * (k - 1.0) + d.max(0.0)) / k;
        l = (l * (k - 1.0) + (-d).max(0.0)) / k;
        out[i] = value(g, l);
    }
    out
}

/// Highest value of the `n` bars *before* bar `i` (`max(x[i-n..i])`), NaN for `i < n`: the upper
/// Donchian band a breakout is measured against. Monotonic deque, O(n).
pub fn rolling_max_prev(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme_prev(x, n, |a, b| a >= b)
}

/// Lowest value of the `n` bars before bar `i` (`min(x[i-n..i])`), NaN for `i < n`.
pub fn rolling_min_prev(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme_prev(x, n, |a, b| a <= b)
}

fn rolling_extreme_prev(x: &[f64], n: usize, keeps: impl Fn(f64, f64) -> bool) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if n == 0 {
        return out;
    }
    let mut dq: VecDeque<usize> = VecDeque::new();
    for (i, o) in out.iter_mut().enumerate() {
        // The window for bar i is [i-n, i-1]; push i-1 first.
        if i >= 1 {
            let j = i - 1;
            while let Some(&b) = dq.back() {
                if keeps(x[j], x[b]) {
                    dq.pop_back();
                } else {
                    break;
                }
            }
            dq.push_back(j);
        }
        while let Some(&f) = dq.front() {
            if f + n < i {
                dq.pop_front();
            } else {
                break;
            }
        }
        if i >= n {
            if let Some(&f) = dq.front() {
                *o = x[f];
            }
        }
    }
    out
}

/// Index of the first non-NaN value (0 when all are NaN), as backtesting.py's
/// `_indicator_warmup_nbars` (`np.isnan(x).argmin()`) measures an indicator's warm-up.
pub fn warmup(x: &[f64]) -> usize {
    x.iter().position(|v| !v.is_nan()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn sma_matches_hand_values() {
        // SMA3 of 1,2,3,4,5: NaN NaN 2 3 4.
        let s = sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3);
        assert!(s[0].is_nan() && s[1].is_nan());
        assert_eq!(&s[2..], &[2.0, 3.0, 4.0]);
        // Constant windows come back exactly.
        let s = sma(&[0.1, 0.1, 0.1, 0.7, 0.7, 0.7], 3);
        assert_eq!(s[2], 0.1);
        assert_eq!(s[5], 0.7);
    }

    #[test]
    fn sma_agrees_with_naive_mean() {
        let x: Vec<f64> = (0..500)
            .map(|i| 100.0 + ((i * 37) % 101) as f64 * 0.37)
            .collect();
        for n in [2, 7, 50] {
            let s = sma(&x, n);
            for i in n - 1..x.len() {
                let naive: f64 = x[i + 1 - n..=i].iter().sum::<f64>() / n as f64;
                assert!((s[i] - naive).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn rsi_matches_hand_values() {
        // Changes: +1, +1, -1, +2 with n = 2.
        // Bar 2: avg_g = (1+1)/2 = 1, avg_l = 0 → 100.
        // Bar 3: avg_g = (1·1 + 0)/2 = 0.5, avg_l = (0 + 1)/2 = 0.5 → 50.
        // Bar 4: avg_g = (0.5 + 2)/2 = 1.25, avg_l = 0.25 → 100 - 100/6 = 83.333…
        let r = rsi(&[10.0, 11.0, 12.0, 11.0, 13.0], 2);
        assert!(r[0].is_nan() && r[1].is_nan());
        assert!(close(r[2], 100.0));
        assert!(close(r[3], 50.0));
        assert!(close(r[4], 100.0 - 100.0 / 6.0));
    }

    #[test]
    fn donchian_bands_use_previous_bars_only() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0];
        let hi = rolling_max_prev(&x, 3);
        let lo = rolling_min_prev(&x, 3);
        assert!(hi[2].is_nan());
        // Bar 3: window [3,1,4]; bar 4: [1,4,1]; bar 5: [4,1,5]; bar 6: [1,5,9].
        assert_eq!(&hi[3..], &[4.0, 4.0, 5.0, 9.0]);
        assert_eq!(&lo[3..], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(warmup(&hi), 3);
    }
}
