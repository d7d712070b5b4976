//! Small SVG helpers for the result charts: linear scales, "nice" value ticks, calendar-aware
//! time ticks, path strings, axis binning for big heatmaps and a colour ramp.
//!
//! # Why not a plotting crate
//! The issue asks for a plotting crate where one fits. `plotters` 0.3.7 was evaluated with
//! `default-features = false, features = ["svg_backend", "line_series", "area_series"]`,
//! rendering to an SVG string. It compiles for the host and for `wasm32-unknown-unknown`, but:
//! - **Text layout differs by target and touches the DOM in the browser.** The font backend is
//!   chosen by `cfg(target_arch = "wasm32")`, not by a feature: on the server it is a naive
//!   `0.7 em × chars` estimate, in the browser (`style/font/web.rs`) it appends a `<span>` to
//!   `document.body` and reads `offsetWidth` (with `unwrap()`s) for every caption, legend,
//!   multi-line text and right-hand axis label. So the SVG a job's results render in the browser
//!   (they appear there without a reload) is not the SVG the server renders, and rendering forces
//!   synchronous layouts. It can be avoided only by never using those features.
//! - **No hooks for the design system or accessibility.** Colours are baked in as hex (no CSS
//!   classes or variables), there is no `<title>` per element (the heatmap needs a tooltip per
//!   cell, so it would be hand-written anyway), coordinates are rounded to integer pixels, and
//!   the root `<svg>` has a fixed `width`/`height` that would have to be cut off for a
//!   responsive `viewBox`.
//! - **Size.** A release `wasm32` build (opt-level "z", LTO, after `wasm-bindgen`) of one
//!   line + area chart with a mesh grew from 50,100 to 187,465 bytes (20,047 → 65,112 gzipped):
//!   about +137 KB raw / +45 KB gzipped for two line charts.
//!
//! What the charts need is a few hundred lines: this module (tested below) plus string builders
//! in `charts.rs`. The output is a deterministic function of the data, so the server and the
//! browser produce byte-identical markup.
//!
//! # Bounded whatever the data
//! Results are data, and data can be absurd (times at `i64::MAX`, values of 1e308, NaN). No
//! loop here is driven by a numeric range without a cap: an axis has at most [`MAX_TICKS`]
//! ticks, a path at most [`MAX_PATH_POINTS`] points (more are thinned keeping each bucket's
//! lowest and highest point, so spikes survive), pixel coordinates are clamped to
//! ±[`MAX_COORD`], and calendar arithmetic is checked, so a chart's size and the work to build
//! it have a fixed ceiling.

use std::fmt::Write;

use super::format::{civil_from_days, days_from_civil, fmt_date, fmt_short_date_time, fmt_tick};

/// Most ticks any axis function returns, whatever `target` or the data.
pub const MAX_TICKS: usize = 50;
/// Most points a path gets from [`line_path`] or [`area_path`].
pub const MAX_PATH_POINTS: usize = 4000;
/// Pixel coordinates are clamped to `±MAX_COORD` (the charts are ~720 units wide), so a point
/// far off the chart costs a few characters, not hundreds.
pub const MAX_COORD: f64 = 100_000.0;
/// Largest `target` honoured by the tick functions.
const MAX_TARGET: usize = 20;
/// Value axes span at most `±MAX_ABS`; beyond it `hi - lo` could overflow to infinity.
const MAX_ABS: f64 = 1e300;

/// Maps a domain interval linearly onto a range interval (pixels). A degenerate domain maps
/// everything to the middle of the range; results are clamped to `±`[`MAX_COORD`], and a value
/// that maps to no finite position (NaN, ±∞) gives NaN, which the paths skip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Linear {
    /// A scale from `domain` onto `range`; for a y axis pass the range bottom-first.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        Self {
            d0: domain.0,
            d1: domain.1,
            r0: range.0,
            r1: range.1,
        }
    }

    /// The pixel position of `v`.
    pub fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        let px = if span == 0.0 || !span.is_finite() {
            (self.r0 + self.r1) / 2.0
        } else {
            self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
        };
        if px.is_finite() {
            px.clamp(-MAX_COORD, MAX_COORD)
        } else {
            f64::NAN
        }
    }
}

/// Evenly spaced round tick values and the domain they span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Distance between ticks: 1, 2 or 5 times a power of ten.
    pub step: f64,
    /// The domain widened outwards to whole steps; use it for the scale so the axis ends on ticks.
    pub domain: (f64, f64),
    /// The tick values, from `domain.0` to `domain.1` inclusive.
    pub values: Vec<f64>,
}

impl Ticks {
    /// The label of each tick, with the decimals the step needs.
    pub fn labels(&self) -> impl Iterator<Item = (f64, String)> + '_ {
        self.values.iter().map(|v| (*v, fmt_tick(*v, self.step)))
    }
}

/// The smallest of 1, 2, 5 (× a power of ten) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 + 1e-9 {
        1.0
    } else if norm <= 2.0 + 1e-9 {
        2.0
    } else if norm <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Round ticks covering `[min, max]` with at most about `target + 1` ticks (Heckbert's "nice
/// numbers", choosing the step from 1, 2, 5 × 10ⁿ). An empty or single-valued interval is widened
/// so there is always an axis to draw.
///
/// Whatever the input: `target` is capped at 20, a non-finite bound is replaced by the other
/// one (both: `0..1`), values beyond ±1e300 are clamped, and the result never has more than
/// [`MAX_TICKS`] ticks.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Ticks {
    let target = target.clamp(1, MAX_TARGET);
    let (lo, hi) = match (min.is_finite(), max.is_finite()) {
        (true, true) => (min.min(max), min.max(max)),
        (true, false) => (min, min),
        (false, true) => (max, max),
        (false, false) => (0.0, 1.0),
    };
    let (mut lo, mut hi) = (lo.clamp(-MAX_ABS, MAX_ABS), hi.clamp(-MAX_ABS, MAX_ABS));
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        // Subnormal values would give a zero pad: treat them as zero.
        let pad = if lo.abs() < 1e-290 {
            1.0
        } else {
            lo.abs() * 0.05
        };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step((hi - lo) / target as f64);
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    let count = last - first + 1.0;
    // Exact integers only (|k| < 2^53), and never more than MAX_TICKS of them.
    let usable = step.is_finite()
        && step > 0.0
        && first.abs() < 9e15
        && last.abs() < 9e15
        && (1.0..=MAX_TICKS as f64).contains(&count);
    if !usable {
        return even_ticks(lo, hi, target);
    }
    let (first, last) = (first as i64, last as i64);
    // Multiplying an integer by the step (instead of adding steps) keeps errors from piling up.
    let values: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    Ticks {
        step,
        domain: (first as f64 * step, last as f64 * step),
        values,
    }
}

/// The fallback of [`nice_ticks`]: `target + 1` evenly spaced ticks from `lo` to `hi` (finite,
/// `lo < hi`), or `lo ± 1` when the interval cannot be divided.
fn even_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let (lo, hi) = if hi - lo > 0.0 && (hi - lo).is_finite() {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let n = target.clamp(1, MAX_TICKS - 1);
    let step = (hi - lo) / n as f64;
    Ticks {
        step,
        domain: (lo, hi),
        values: (0..=n).map(|k| lo + step * k as f64).collect(),
    }
}

/// Whole-number ticks (epochs, counts): like [`nice_ticks`] but never a step below 1; at most
/// [`MAX_TICKS`] ticks.
pub fn integer_ticks(min: f64, max: f64, target: usize) -> Ticks {
    let t = nice_ticks(min, max, target);
    if t.step >= 1.0 {
        return t;
    }
    // A step below 1 means the data spans fewer than 20 units.
    let (a, b) = if min.is_finite() && max.is_finite() {
        (min.min(max), min.max(max))
    } else {
        t.domain
    };
    let lo = a.floor();
    let hi = b.ceil().max(lo + 1.0);
    let values: Vec<f64> = (0..MAX_TICKS)
        .map(|k| lo + k as f64)
        .take_while(|v| *v <= hi)
        .collect();
    Ticks {
        step: 1.0,
        domain: (lo, values.last().copied().unwrap_or(hi)),
        values,
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Fixed-length time steps in seconds; past two weeks, steps are calendar months.
const SECOND_STEPS: [i64; 12] = [
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
];
/// Calendar steps in months.
const MONTH_STEPS: [i64; 8] = [1, 2, 3, 6, 12, 24, 60, 120];
/// Average Gregorian month in seconds, only for choosing a step.
const AVG_MONTH: f64 = 30.436_875 * DAY as f64;

/// Tick positions (unix seconds) and their labels for a time axis over `[t0, t1]`, at most about
/// `target` of them. Steps from a minute to two weeks are aligned to multiples of the step since
/// the epoch (so day ticks fall on midnight UTC); longer steps fall on the first of a month whose
/// index is a multiple of the step (quarters start in January, April, …). Labels are
/// `YYYY-MM-DD`, or `MM-DD HH:MM` for steps under a day.
///
/// Any `i64` times are safe: `target` is capped at 20, arithmetic is checked (ticks that would
/// overflow are left out), and there are never more than [`MAX_TICKS`] ticks.
pub fn time_ticks(t0: i64, t1: i64, target: usize) -> Vec<(i64, String)> {
    let target = target.clamp(1, MAX_TARGET);
    let (t0, t1) = (t0.min(t1), t0.max(t1));
    let span = t1.saturating_sub(t0).max(1);
    let raw = span as f64 / target as f64;
    if let Some(step) = SECOND_STEPS.iter().copied().find(|s| *s as f64 >= raw) {
        let first = t0.div_euclid(step) + i64::from(t0.rem_euclid(step) != 0);
        let label: fn(i64) -> String = if step < DAY {
            fmt_short_date_time
        } else {
            fmt_date
        };
        return (0..MAX_TICKS as i64)
            .map_while(|i| first.checked_add(i)?.checked_mul(step))
            .take_while(|t| *t <= t1)
            .map(|t| (t, label(t)))
            .collect();
    }
    let months = MONTH_STEPS
        .iter()
        .copied()
        .find(|m| *m as f64 * AVG_MONTH >= raw)
        .unwrap_or_else(|| {
            // Centuries of data: whole multiples of ten years.
            let years = (raw / (12.0 * AVG_MONTH) / 10.0).ceil() as i64 * 10;
            years * 12
        });
    // Month index since year 0: y * 12 + (m - 1). Years of i64 seconds are below 3·10¹¹.
    let (y, m, _) = civil_from_days(t0.div_euclid(DAY));
    let start_index = y * 12 + i64::from(m) - 1;
    let mut k = start_index.div_euclid(months) * months;
    let mut out = Vec::new();
    // The step is at least span / target, so target + 2 rounds reach t1; the cap is a backstop.
    for _ in 0..2 * MAX_TICKS {
        let (y, m) = (k.div_euclid(12), (k.rem_euclid(12) + 1) as u32);
        let days = days_from_civil(y, m, 1);
        match days.checked_mul(DAY) {
            Some(t) if t > t1 => break,
            Some(t) if t >= t0 => out.push((t, fmt_date(t))),
            // Before t0 (or below i64::MIN): keep going.
            Some(_) => {}
            None if days < 0 => {}
            // Past i64::MAX: no further tick can exist.
            None => break,
        }
        if out.len() >= MAX_TICKS {
            break;
        }
        match k.checked_add(months) {
            Some(next) => k = next,
            None => break,
        }
    }
    out
}

/// The finite points, thinned to at most `max` (≥ 2): with more, the points are cut into
/// `max / 2` runs of consecutive points and each run keeps its lowest and its highest point (by
/// `y`, in their order), so spikes and dips survive. Memory is O(`max`) whatever the input.
pub fn thin_points<I>(points: I, max: usize) -> Vec<(f64, f64)>
where
    I: IntoIterator<Item = (f64, f64)>,
    I::IntoIter: ExactSizeIterator,
{
    let points = points.into_iter();
    let max = max.max(2);
    let n = points.len();
    let finite = |(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    if n <= max {
        return points.filter(finite).collect();
    }
    let bucket = n.div_ceil(max / 2);
    let mut out = Vec::with_capacity(max);
    // (index, point) of the lowest and highest finite point of the current run.
    let mut low: Option<(usize, (f64, f64))> = None;
    let mut high: Option<(usize, (f64, f64))> = None;
    for (i, p) in points.enumerate() {
        if finite(&p) {
            if low.is_none_or(|(_, q)| p.1 < q.1) {
                low = Some((i, p));
            }
            if high.is_none_or(|(_, q)| p.1 > q.1) {
                high = Some((i, p));
            }
        }
        if (i + 1) % bucket == 0 || i + 1 == n {
            match (low.take(), high.take()) {
                (Some(a), Some(b)) if a.0 == b.0 => out.push(a.1),
                (Some(a), Some(b)) => {
                    let (first, second) = if a.0 < b.0 { (a, b) } else { (b, a) };
                    out.push(first.1);
                    out.push(second.1);
                }
                _ => {}
            }
        }
    }
    out
}

/// An SVG path `M x,y L x,y …` through the points, one decimal per coordinate; not-finite points
/// are skipped, more than [`MAX_PATH_POINTS`] are thinned ([`thin_points`]) and coordinates are
/// clamped to `±`[`MAX_COORD`].
pub fn line_path<I>(points: I) -> String
where
    I: IntoIterator<Item = (f64, f64)>,
    I::IntoIter: ExactSizeIterator,
{
    let mut d = String::new();
    for (x, y) in thin_points(points, MAX_PATH_POINTS) {
        let cmd = if d.is_empty() { 'M' } else { 'L' };
        let _ = write!(d, "{cmd}{:.1},{:.1}", coord(x), coord(y));
    }
    d
}

/// An SVG path of the area between the line through the points and the horizontal `baseline`
/// (thinned and clamped like [`line_path`]).
pub fn area_path<I>(points: I, baseline: f64) -> String
where
    I: IntoIterator<Item = (f64, f64)>,
    I::IntoIter: ExactSizeIterator,
{
    let pts = thin_points(points, MAX_PATH_POINTS);
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return String::new();
    };
    let base = coord(baseline);
    let mut d = format!("M{:.1},{base:.1}", coord(first.0));
    for (x, y) in &pts {
        let _ = write!(d, "L{:.1},{:.1}", coord(*x), coord(*y));
    }
    let _ = write!(d, "L{:.1},{base:.1}Z", coord(last.0));
    d
}

/// A coordinate clamped to `±`[`MAX_COORD`] (NaN becomes 0).
fn coord(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-MAX_COORD, MAX_COORD)
    }
}

/// Splits `n` consecutive items into at most `max` contiguous groups of equal size (the last
/// may be shorter), so a heatmap axis with hundreds of values stays drawable. At most `max`
/// groups whatever `n`.
pub fn bin_axis(n: usize, max: usize) -> Vec<std::ops::Range<usize>> {
    let size = n.div_ceil(max.max(1)).max(1);
    (0..n)
        .step_by(size)
        .map(|start| start..start.saturating_add(size).min(n))
        .collect()
}

/// Viridis (matplotlib's perceptually uniform, colour-blind-safe ramp) at five stops.
const VIRIDIS: [(u8, u8, u8); 5] = [
    (0x44, 0x01, 0x54),
    (0x3b, 0x52, 0x8b),
    (0x21, 0x91, 0x8c),
    (0x5e, 0xc9, 0x62),
    (0xfd, 0xe7, 0x25),
];

/// The ramp colour at `t` in `[0, 1]` (clamped) as `#rrggbb`, linearly interpolated.
pub fn ramp_color(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// Whether text on the ramp colour at `t` should be dark (the yellow-green end is light).
pub fn ramp_is_light(t: f64) -> bool {
    t >= 0.6
}

#[cfg(test)]
mod tests;
