//! Strategies: turn a [`StrategyKind`] and its parameter values into per-bar order actions.
//!
//! A strategy looks at indicators up to and including bar `i` (on its close) and may emit an
//! [`Action`]; the backtester fills it at bar `i + 1`'s open. This mirrors backtesting.py's
//! `Strategy.next()` calling `position.close()` then `buy()` / `sell()`.
//!
//! Indicators are computed once per (indicator, window) in an [`IndicatorCache`] and shared by
//! every run of a sweep.

use std::collections::HashMap;

use app::model::research::StrategyKind;

use super::data::Series;
use super::indicators;

/// What a strategy asks for on a bar's close; filled at the next bar's open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Action {
    /// Do nothing.
    #[default]
    Hold,
    /// Close any open trade, then buy with all available equity.
    Long,
    /// Close any open trade, then sell short with all available equity.
    Short,
    /// Close any open trade and stay flat.
    Flat,
}

/// One indicator series a strategy needs, keyed by kind and window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKey {
    /// `sma(close, n)`.
    Sma(usize),
    /// `rsi(close, n)`.
    Rsi(usize),
    /// Highest high of the previous `n` bars.
    MaxHigh(usize),
    /// Lowest low of the previous `n` bars.
    MinLow(usize),
}

impl IndicatorKey {
    fn compute(self, s: &Series) -> Vec<f64> {
        match self {
            IndicatorKey::Sma(n) => indicators::sma(&s.close, n),
            IndicatorKey::Rsi(n) => indicators::rsi(&s.close, n),
            IndicatorKey::MaxHigh(n) => indicators::rolling_max_prev(&s.high, n),
            IndicatorKey::MinLow(n) => indicators::rolling_min_prev(&s.low, n),
        }
    }
}

/// The indicators a parameter set needs (values in declaration order).
pub fn indicator_keys(kind: StrategyKind, values: &[f64]) -> Vec<IndicatorKey> {
    let w = |k: usize| values.get(k).map(|v| *v as usize).unwrap_or(0);
    match kind {
        StrategyKind::SmaCross => vec![IndicatorKey::Sma(w(0)), IndicatorKey::Sma(w(1))],
        StrategyKind::RsiReversion => vec![IndicatorKey::Rsi(w(0))],
        StrategyKind::DonchianBreakout => {
            vec![IndicatorKey::MaxHigh(w(0)), IndicatorKey::MinLow(w(1))]
        }
    }
}

/// Indicator series computed once and shared read-only by all runs.
#[derive(Debug, Default)]
pub struct IndicatorCache {
    map: HashMap<IndicatorKey, (Vec<f64>, usize)>,
}

impl IndicatorCache {
    /// Computes every key not yet cached.
    pub fn fill(&mut self, s: &Series, keys: impl IntoIterator<Item = IndicatorKey>) {
        for k in keys {
            self.map.entry(k).or_insert_with(|| {
                let v = k.compute(s);
                let w = indicators::warmup(&v);
                (v, w)
            });
        }
    }

    /// Moves every series of `other` into this cache.
    pub fn merge(&mut self, other: IndicatorCache) {
        self.map.extend(other.map);
    }

    /// A cache holding what `kind` with `values` needs.
    pub fn for_params(s: &Series, kind: StrategyKind, values: &[f64]) -> Self {
        let mut c = Self::default();
        c.fill(s, indicator_keys(kind, values));
        c
    }

    fn get(&self, k: IndicatorKey) -> (&[f64], usize) {
        match self.map.get(&k) {
            Some((v, w)) => (v.as_slice(), *w),
            None => (&[], 0),
        }
    }

    /// Binds the parameter set to its cached indicators.
    pub fn prepare<'a>(
        &'a self,
        s: &'a Series,
        kind: StrategyKind,
        values: &[f64],
    ) -> Prepared<'a> {
        let keys = indicator_keys(kind, values);
        let warm = keys.iter().map(|k| self.get(*k).1).max().unwrap_or(0);
        let v = |k: usize| values.get(k).copied().unwrap_or(f64::NAN);
        let logic = match kind {
            StrategyKind::SmaCross => Logic::SmaCross {
                fast: self.get(keys[0]).0,
                slow: self.get(keys[1]).0,
            },
            StrategyKind::RsiReversion => Logic::Rsi {
                rsi: self.get(keys[0]).0,
                lower: v(1),
                upper: v(2),
            },
            StrategyKind::DonchianBreakout => Logic::Donchian {
                close: &s.close,
                upper: self.get(keys[0]).0,
                lower: self.get(keys[1]).0,
            },
        };
        Prepared {
            logic,
            warmup: warm,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Logic<'a> {
    SmaCross {
        fast: &'a [f64],
        slow: &'a [f64],
    },
    Rsi {
        rsi: &'a [f64],
        lower: f64,
        upper: f64,
    },
    Donchian {
        close: &'a [f64],
        upper: &'a [f64],
        lower: &'a [f64],
    },
}

/// A parameter set bound to its indicators, ready to emit actions.
#[derive(Clone, Copy, Debug)]
pub struct Prepared<'a> {
    logic: Logic<'a>,
    /// Bars before every indicator is defined (backtesting.py's `_indicator_warmup_nbars`).
    pub warmup: usize,
}

/// backtesting.py's `crossover(a, b)` on bar `i`: `a[i-1] < b[i-1] and a[i] > b[i]` (NaN → false).
#[inline(always)]
fn crossover(a: &[f64], b: &[f64], i: usize) -> bool {
    a[i - 1] < b[i - 1] && a[i] > b[i]
}

/// A strategy with a position state, starting flat: on each bar of `bars` where
/// `signal(i)` = (go long, go down) asks for a position other than the one held, writes that
/// action (`Action::Long`, or `down`: short, or flat when long-only) into `out[i - a]`.
#[inline(always)]
fn on_change(
    out: &mut [Action],
    a: usize,
    bars: std::ops::Range<usize>,
    signal: impl Fn(usize) -> (bool, bool),
    down: Action,
) {
    let mut state = Action::Flat;
    for i in bars {
        let want = match signal(i) {
            (true, _) => Action::Long,
            (false, true) => down,
            (false, false) => continue,
        };
        if want != state {
            out[i - a] = want;
            state = want;
        }
    }
}

impl Prepared<'_> {
    /// Fills `out` with the actions for bars `[a, b)` (`out[k]` is bar `a + k`) and returns the
    /// first bar, relative to `a`, on which the strategy runs.
    ///
    /// As in backtesting.py, the strategy first runs on bar `warmup + 1` ("at least two entries
    /// available"); inside a later window it runs from the window's first bar, looking back at
    /// indicator values before the window (indicators are causal, so nothing leaks from the
    /// future). Strategies with state (RSI, Donchian) start flat at the window's first bar.
    pub fn actions(&self, long_only: bool, a: usize, b: usize, out: &mut Vec<Action>) -> usize {
        out.clear();
        out.resize(b.saturating_sub(a), Action::Hold);
        let start = (self.warmup + 1).max(a);
        let down = if long_only {
            Action::Flat
        } else {
            Action::Short
        };
        let end = b.min(self.len());
        match self.logic {
            Logic::SmaCross { fast, slow } => {
                // Classic SmaCross: fast crosses above slow → close, buy; below → close, sell.
                for i in start..end {
                    if crossover(fast, slow, i) {
                        out[i - a] = Action::Long;
                    } else if crossover(slow, fast, i) {
                        out[i - a] = down;
                    }
                }
            }
            Logic::Rsi { rsi, lower, upper } => {
                // Oversold (RSI < lower) → long; overbought (RSI > upper) → short / flat.
                on_change(
                    out,
                    a,
                    start..end,
                    |i| (rsi[i] < lower, rsi[i] > upper),
                    down,
                );
            }
            Logic::Donchian {
                close,
                upper,
                lower,
            } => {
                // Close above the previous upper_n bars' high → long; below the previous
                // lower_n bars' low → short / flat.
                on_change(
                    out,
                    a,
                    start..end,
                    |i| (close[i] > upper[i], close[i] < lower[i]),
                    down,
                );
            }
        }
        start - a
    }

    fn len(&self) -> usize {
        match self.logic {
            Logic::SmaCross { fast, slow } => fast.len().min(slow.len()),
            Logic::Rsi { rsi, .. } => rsi.len(),
            Logic::Donchian {
                close,
                upper,
                lower,
            } => close.len().min(upper.len()).min(lower.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(close: &[f64]) -> Series {
        Series {
            ts: (0..close.len() as i64).map(|i| i * 86_400).collect(),
            open: close.to_vec(),
            high: close.to_vec(),
            low: close.to_vec(),
            close: close.to_vec(),
            volume: vec![0.0; close.len()],
        }
    }

    #[test]
    fn sma_cross_signals_on_strict_crossovers_only() {
        // SMA1 = close, SMA2 of 2 bars. close: 5 4 3 4 5 5 4
        // sma2:            NaN 4.5 3.5 3.5 4.5 5 4.5
        // bar 3: 3<3.5 and 4>3.5 → up-cross; bar 6: 5 vs 5 was not > so no cross at 6? prev
        // (bar 5) close 5 == sma2 5, so crossover(sma2, close) needs 5 < 5: false.
        let s = series(&[5.0, 4.0, 3.0, 4.0, 5.0, 5.0, 4.0]);
        let mut c = IndicatorCache::default();
        c.fill(&s, [IndicatorKey::Sma(1), IndicatorKey::Sma(2)]);
        let p = c.prepare(&s, StrategyKind::SmaCross, &[1.0, 2.0]);
        assert_eq!(p.warmup, 1);
        let mut out = Vec::new();
        let start = p.actions(false, 0, s.len(), &mut out);
        assert_eq!(start, 2);
        assert_eq!(
            out,
            vec![
                Action::Hold,
                Action::Hold,
                Action::Hold,
                Action::Long,
                Action::Hold,
                Action::Hold,
                Action::Hold
            ]
        );
        // 5 4 3 4 3: bar 4 crosses down → short, or flat when long-only.
        let s = series(&[5.0, 4.0, 3.0, 4.0, 3.0]);
        let c = IndicatorCache::for_params(&s, StrategyKind::SmaCross, &[1.0, 2.0]);
        let p = c.prepare(&s, StrategyKind::SmaCross, &[1.0, 2.0]);
        p.actions(false, 0, s.len(), &mut out);
        assert_eq!(out[4], Action::Short);
        p.actions(true, 0, s.len(), &mut out);
        assert_eq!(out[4], Action::Flat);
    }

    #[test]
    fn donchian_emits_on_state_changes() {
        let s = series(&[10.0, 11.0, 12.0, 13.0, 12.0, 8.0, 7.0, 9.0]);
        let c = IndicatorCache::for_params(&s, StrategyKind::DonchianBreakout, &[2.0, 2.0]);
        let p = c.prepare(&s, StrategyKind::DonchianBreakout, &[2.0, 2.0]);
        let mut out = Vec::new();
        p.actions(false, 0, s.len(), &mut out);
        // Bar 3: 13 > max(11,12) → long. Bar 5: 8 < min(13,12) → short. Bar 6: 7 < 8 again,
        // already short → hold.
        assert_eq!(out[3], Action::Long);
        assert_eq!(out[5], Action::Short);
        assert_eq!(out[6], Action::Hold);
    }
}
