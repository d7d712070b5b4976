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
    // Bar i's window x[i-n..i] is the window up to and including bar i - 1.
    let mut out = vec![f64::NAN; x.len()];
    if let Some(last) = x.len().checked_sub(1) {
        rolling_extreme(&x[..last], n, &mut out[1..], keeps);
    }
    out
}

/// Calls `f(segment, out_segment)` for every maximal run of non-NaN values of `x`; the rest of
/// the output stays NaN. Rolling indicators built on it see only finite input and restart their
/// warm-up after a NaN (which data never has: only a derived series such as `0 / 0` can).
fn by_segments(x: &[f64], mut f: impl FnMut(&[f64], &mut [f64])) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut i = 0;
    while i < x.len() {
        if x[i].is_nan() {
            i += 1;
            continue;
        }
        let j = x[i..]
            .iter()
            .position(|v| v.is_nan())
            .map_or(x.len(), |p| i + p);
        f(&x[i..j], &mut out[i..j]);
        i = j;
    }
    out
}

/// Exponential moving average with `α = 2 / (n + 1)`, seeded with the plain mean of the first
/// `n` values: `ema[f+n-1] = mean(x[f..f+n])` where `f` is the first non-NaN bar, then
/// `ema[i] = (1 - α)·ema[i-1] + α·x[i]`. NaN before the seed; a NaN later in the input makes the
/// rest NaN (recursive smoothing cannot forget it).
pub fn ema(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let f = warmup_or_len(x);
    if n == 0 || x.len() < f + n {
        return out;
    }
    let seed = f + n - 1;
    let mut e = x[f..=seed].iter().sum::<f64>() / n as f64;
    out[seed] = e;
    let alpha = 2.0 / (n as f64 + 1.0);
    for i in seed + 1..x.len() {
        e = (1.0 - alpha) * e + alpha * x[i];
        out[i] = e;
    }
    out
}

/// Linearly weighted moving average: weights `1, 2, …, n` from the oldest to the newest of the
/// last `n` values, divided by `n(n+1)/2`; NaN for the first `n - 1` bars (of each NaN-free run).
/// Running sums, O(n).
pub fn wma(x: &[f64], n: usize) -> Vec<f64> {
    by_segments(x, |x, out| {
        if n == 0 || x.len() < n {
            return;
        }
        let denom = (n * (n + 1)) as f64 / 2.0;
        let (mut sum, mut weighted) = (0.0, 0.0);
        for (k, v) in x[..n].iter().enumerate() {
            sum += v;
            weighted += (k + 1) as f64 * v;
        }
        out[n - 1] = weighted / denom;
        for i in n..x.len() {
            // Every weight drops by one (−sum of the old window), the new value enters with n.
            weighted += n as f64 * x[i] - sum;
            sum += x[i] - x[i - n];
            out[i] = weighted / denom;
        }
    })
}

/// Wilder's RSI of any series (see [`rsi`]), starting at its first non-NaN bar.
pub fn rsi_of(x: &[f64], n: usize) -> Vec<f64> {
    let f = warmup_or_len(x);
    if f == 0 {
        return rsi(x, n);
    }
    let mut out = vec![f64::NAN; x.len()];
    if f < x.len() {
        let tail = rsi(&x[f..], n);
        out[f..].copy_from_slice(&tail);
    }
    out
}

/// Population standard deviation (divisor `n`) of the last `n` values, as Bollinger bands use
/// it; NaN for the first `n - 1` bars. Rolling Welford updates, O(n); tiny negative variances
/// from rounding are clamped to 0.
pub fn stdev(x: &[f64], n: usize) -> Vec<f64> {
    by_segments(x, |x, out| {
        if n == 0 || x.len() < n {
            return;
        }
        let (mut mean, mut m2) = (0.0_f64, 0.0_f64);
        for (k, &v) in x[..n].iter().enumerate() {
            let d = v - mean;
            mean += d / (k + 1) as f64;
            m2 += d * (v - mean);
        }
        out[n - 1] = (m2.max(0.0) / n as f64).sqrt();
        for i in n..x.len() {
            // Replace x[i-n] by x[i]: mean moves by (new - old)/n, M2 by the matching cross term.
            let (old, new) = (x[i - n], x[i]);
            let new_mean = mean + (new - old) / n as f64;
            m2 += (new - old) * (new - new_mean + old - mean);
            mean = new_mean;
            out[i] = (m2.max(0.0) / n as f64).sqrt();
        }
    })
}

/// `(x - sma(x, n)) / stdev(x, n)`: how many standard deviations `x` is from its mean. ±∞ or
/// NaN where the window is constant (standard deviation 0).
pub fn zscore(x: &[f64], n: usize) -> Vec<f64> {
    let m = sma(x, n);
    let s = stdev(x, n);
    x.iter()
        .zip(m.iter().zip(&s))
        .map(|(v, (m, s))| (v - m) / s)
        .collect()
}

/// Highest of the last `n` values *including* the current bar (`max(x[i-n+1..=i])`); NaN for
/// the first `n - 1` bars. Monotonic deque, O(n).
pub fn highest(x: &[f64], n: usize) -> Vec<f64> {
    by_segments(x, |x, out| rolling_extreme(x, n, out, |a, b| a >= b))
}

/// Lowest of the last `n` values including the current bar; NaN for the first `n - 1` bars.
pub fn lowest(x: &[f64], n: usize) -> Vec<f64> {
    by_segments(x, |x, out| rolling_extreme(x, n, out, |a, b| a <= b))
}

fn rolling_extreme(x: &[f64], n: usize, out: &mut [f64], keeps: impl Fn(f64, f64) -> bool) {
    if n == 0 {
        return;
    }
    let mut dq: VecDeque<usize> = VecDeque::new();
    for i in 0..x.len() {
        while let Some(&b) = dq.back() {
            if keeps(x[i], x[b]) {
                dq.pop_back();
            } else {
                break;
            }
        }
        dq.push_back(i);
        while let Some(&f) = dq.front() {
            if f + n <= i {
                dq.pop_front();
            } else {
                break;
            }
        }
        if i + 1 >= n {
            out[i] = x[dq[0]];
        }
    }
}

/// Rate of change in percent: `100·(x[i] / x[i-n] - 1)`; NaN for the first `n` bars.
pub fn roc(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    for i in n..x.len() {
        out[i] = 100.0 * (x[i] / x[i - n] - 1.0);
    }
    out
}

/// Average true range, Wilder's smoothing (as TA-Lib's `ATR`): true range
/// `tr[i] = max(high[i] - low[i], |high[i] - close[i-1]|, |low[i] - close[i-1]|)` for `i ≥ 1`;
/// `atr[n] = mean(tr[1..=n])`, then `atr[i] = (atr[i-1]·(n-1) + tr[i]) / n`. NaN for the first
/// `n` bars.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let len = high.len().min(low.len()).min(close.len());
    let mut out = vec![f64::NAN; len];
    if n == 0 || len <= n {
        return out;
    }
    let tr = |i: usize| {
        let pc = close[i - 1];
        (high[i] - low[i])
            .max((high[i] - pc).abs())
            .max((low[i] - pc).abs())
    };
    let mut a = (1..=n).map(tr).sum::<f64>() / n as f64;
    out[n] = a;
    let k = n as f64;
    for (i, o) in out.iter_mut().enumerate().skip(n + 1) {
        a = (a * (k - 1.0) + tr(i)) / k;
        *o = a;
    }
    out
}

/// `x` delayed by `k` bars: `out[i] = x[i - k]`, NaN for `i < k`.
pub fn shift(x: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if k < x.len() {
        out[k..].copy_from_slice(&x[..x.len() - k]);
    }
    out
}

/// Index of the first non-NaN value, `x.len()` when there is none.
fn warmup_or_len(x: &[f64]) -> usize {
    x.iter().position(|v| !v.is_nan()).unwrap_or(x.len())
}

/// Index of the first non-NaN value (0 when all are NaN), as backtesting.py's
/// `_indicator_warmup_nbars` (`np.isnan(x).argmin()`) measures an indicator's warm-up.
pub fn warmup(x: &[f64]) -> usize {
    x.iter().position(|v| !v.is_nan()).unwrap_or(0)
}

#[cfg(test)]
mod tests;
