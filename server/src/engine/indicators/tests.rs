//! Tests of `indicators.rs`.

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

fn naive<F: Fn(&[f64]) -> f64>(x: &[f64], n: usize, f: F) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i + 1 >= n {
                f(&x[i + 1 - n..=i])
            } else {
                f64::NAN
            }
        })
        .collect()
}

fn assert_close_all(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs()),
            "bar {i}: {x} vs {y}"
        );
    }
}

fn wavy(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 100.0 + ((i * 37) % 101) as f64 * 0.37 - (i % 7) as f64)
        .collect()
}

#[test]
fn ema_is_seeded_with_the_mean_then_smoothed() {
    // n = 3, α = 0.5: seed at bar 2 = (1+2+3)/3 = 2; bar 3: 0.5·2 + 0.5·10 = 6; bar 4: 0.5·6 + 0.5·0 = 3.
    let e = ema(&[1.0, 2.0, 3.0, 10.0, 0.0], 3);
    assert!(e[0].is_nan() && e[1].is_nan());
    assert_eq!(&e[2..], &[2.0, 6.0, 3.0]);
    // Leading NaN (a nested indicator): the seed moves with it.
    let e = ema(&[f64::NAN, 1.0, 2.0, 3.0, 10.0], 3);
    assert!(e[2].is_nan());
    assert_eq!(&e[3..], &[2.0, 6.0]);
}

#[test]
fn wma_stdev_extremes_agree_with_naive_windows() {
    let x = wavy(400);
    for n in [1, 2, 5, 33] {
        let w = naive(&x, n, |s| {
            let d = (s.len() * (s.len() + 1)) as f64 / 2.0;
            s.iter()
                .enumerate()
                .map(|(k, v)| (k + 1) as f64 * v)
                .sum::<f64>()
                / d
        });
        assert_close_all(&wma(&x, n), &w, 1e-9);
        let sd = naive(&x, n, |s| {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            (s.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / s.len() as f64).sqrt()
        });
        assert_close_all(&stdev(&x, n), &sd, 1e-7);
        let hi = naive(&x, n, |s| s.iter().copied().fold(f64::MIN, f64::max));
        let lo = naive(&x, n, |s| s.iter().copied().fold(f64::MAX, f64::min));
        assert_eq!(highest(&x, n)[n - 1..], hi[n - 1..]);
        assert_eq!(lowest(&x, n)[n - 1..], lo[n - 1..]);
    }
    // WMA of 1,2,3 with n = 3: (1 + 4 + 9) / 6.
    assert_eq!(wma(&[1.0, 2.0, 3.0], 3)[2], 14.0 / 6.0);
    // Population standard deviation of 2,4,4,4,5,5,7,9 is 2.
    let s = stdev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8);
    assert!((s[7] - 2.0).abs() < 1e-12);
}

#[test]
fn highest_includes_the_current_bar_and_shift_gives_the_previous_window() {
    let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0];
    let h = highest(&x, 3);
    assert!(h[1].is_nan());
    assert_eq!(&h[2..], &[4.0, 4.0, 5.0, 9.0, 9.0]);
    // highest(x, n)[1] is the Donchian band of the previous n bars.
    let prev = shift(&highest(&x, 3), 1);
    let want = rolling_max_prev(&x, 3);
    assert_eq!(prev[3..], want[3..]);
    assert!(prev[2].is_nan() && want[2].is_nan());
}

#[test]
fn roc_atr_zscore_and_rsi_of_match_hand_values() {
    let r = roc(&[100.0, 110.0, 121.0], 1);
    assert!(r[0].is_nan());
    assert!((r[1] - 10.0).abs() < 1e-12 && (r[2] - 10.0).abs() < 1e-12);
    // TR: bar 1 = max(12-9, |12-10|, |9-10|) = 3; bar 2 = max(11-10, |11-11|, |10-11|) = 1;
    // bar 3 = max(15-12, |15-10.5|, |12-10.5|) = 4.5. ATR(2): bar 2 = 2, bar 3 = (2 + 4.5)/2.
    let a = atr(
        &[10.0, 12.0, 11.0, 15.0],
        &[9.0, 9.0, 10.0, 12.0],
        &[10.0, 11.0, 10.5, 14.0],
        2,
    );
    assert!(a[1].is_nan());
    assert_eq!(&a[2..], &[2.0, 3.25]);
    // zscore of 1,2,3 (n = 3): (3 - 2) / sqrt(2/3).
    let z = zscore(&[1.0, 2.0, 3.0], 3);
    assert!((z[2] - 1.0 / (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
    let x = wavy(100);
    assert_eq!(rsi_of(&x, 14)[14..], rsi(&x, 14)[14..]);
    let mut lead = vec![f64::NAN; 3];
    lead.extend_from_slice(&x[..97]);
    assert!(rsi_of(&lead, 14)[..17].iter().all(|v| v.is_nan()));
    assert_eq!(rsi_of(&lead, 14)[17..], rsi(&x[..97], 14)[14..]);
}
