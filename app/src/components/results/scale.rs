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
mod tests {
    use super::*;

    fn approx(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn linear_scale_maps_and_inverts_for_y() {
        let x = Linear::new((0.0, 100.0), (50.0, 250.0));
        assert_eq!(x.map(25.0), 100.0); // 50 + 0.25 * 200
        let y = Linear::new((0.0, 10.0), (200.0, 0.0));
        assert_eq!(y.map(2.5), 150.0); // 200 - 0.25 * 200
        assert_eq!(Linear::new((3.0, 3.0), (0.0, 10.0)).map(3.0), 5.0);
    }

    #[test]
    fn nice_ticks_pick_1_2_5_steps_and_cover_the_data() {
        // range 97 / 5 = 19.4 → next nice step is 20; 0..97 widens to 0..100.
        let t = nice_ticks(0.0, 97.0, 5);
        assert_eq!(t.step, 20.0);
        assert_eq!(t.domain, (0.0, 100.0));
        approx(&t.values, &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        // 2,800 / 5 = 560 → 1,000; 9,500..12,300 widens to 9,000..13,000.
        let t = nice_ticks(9_500.0, 12_300.0, 5);
        assert_eq!(t.step, 1000.0);
        approx(&t.values, &[9000.0, 10_000.0, 11_000.0, 12_000.0, 13_000.0]);
        // 0.09 / 4 = 0.0225 → 0.05; 0.62..0.71 widens to 0.60..0.75.
        let t = nice_ticks(0.62, 0.71, 4);
        assert!((t.step - 0.05).abs() < 1e-12);
        approx(&t.values, &[0.60, 0.65, 0.70, 0.75]);
        let labels: Vec<String> = t.labels().map(|(_, l)| l).collect();
        assert_eq!(labels, ["0.60", "0.65", "0.70", "0.75"]);
        // Negative drawdowns: -23.4..0 / 4 = 5.85 → 10.
        let t = nice_ticks(-23.4, 0.0, 4);
        approx(&t.values, &[-30.0, -20.0, -10.0, 0.0]);
    }

    #[test]
    fn nice_ticks_widen_a_flat_series() {
        let t = nice_ticks(10_000.0, 10_000.0, 4);
        assert!(t.domain.0 < 10_000.0 && t.domain.1 > 10_000.0, "{t:?}");
        let t = nice_ticks(0.0, 0.0, 4);
        assert!(t.domain.0 <= -1.0 && t.domain.1 >= 1.0, "{t:?}");
    }

    #[test]
    fn integer_ticks_never_step_below_one() {
        let t = integer_ticks(1.0, 3.0, 8);
        assert_eq!(t.step, 1.0);
        approx(&t.values, &[1.0, 2.0, 3.0]);
        let t = integer_ticks(1.0, 200.0, 5);
        assert_eq!(t.step, 50.0);
    }

    #[test]
    fn time_ticks_fall_on_quarter_starts_for_a_year() {
        // 2020-01-01 .. 2020-12-31: 365 days / 5 = 73 days → 3 months (≈ 91 days).
        let t0 = days_from_civil(2020, 1, 1) * DAY;
        let t1 = days_from_civil(2020, 12, 31) * DAY;
        let labels: Vec<String> = time_ticks(t0, t1, 5).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            labels,
            ["2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01"]
        );
    }

    #[test]
    fn time_ticks_use_days_across_a_leap_day() {
        // 2024-02-27 (day 19,780) .. 2024-03-05: 7 days / 5 = 1.4 days → 2-day steps on even
        // day numbers: 19,780 (02-27), 19,782 (02-29), 19,784 (03-02), 19,786 (03-04).
        let t0 = days_from_civil(2024, 2, 27) * DAY;
        assert_eq!(t0 / DAY, 19_780);
        let t1 = days_from_civil(2024, 3, 5) * DAY;
        let labels: Vec<String> = time_ticks(t0, t1, 5).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            labels,
            ["2024-02-27", "2024-02-29", "2024-03-02", "2024-03-04"]
        );
    }

    #[test]
    fn time_ticks_show_hours_within_a_day() {
        let t0 = days_from_civil(2024, 1, 2) * DAY + 9 * HOUR + 30 * MINUTE;
        let t1 = t0 + 6 * HOUR + 30 * MINUTE; // 09:30 .. 16:00, 6.5 h / 4 → 3 h steps
        let labels: Vec<String> = time_ticks(t0, t1, 4).into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, ["01-02 12:00", "01-02 15:00"]);
    }

    #[test]
    fn time_ticks_use_years_for_decades() {
        // 1990-01-01 .. 2019-12-31: 30 years / 6 = 5 years → 60-month steps from month 0.
        let t0 = days_from_civil(1990, 1, 1) * DAY;
        let t1 = days_from_civil(2019, 12, 31) * DAY;
        let labels: Vec<String> = time_ticks(t0, t1, 6).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            labels,
            [
                "1990-01-01",
                "1995-01-01",
                "2000-01-01",
                "2005-01-01",
                "2010-01-01",
                "2015-01-01"
            ]
        );
    }

    #[test]
    fn paths_skip_gaps_and_close_areas() {
        assert_eq!(
            line_path([(0.0, 1.0), (f64::NAN, 2.0), (2.0, 3.26)]),
            "M0.0,1.0L2.0,3.3"
        );
        assert_eq!(
            area_path([(0.0, 5.0), (10.0, 7.0)], 0.0),
            "M0.0,0.0L0.0,5.0L10.0,7.0L10.0,0.0Z"
        );
        assert_eq!(area_path(Vec::<(f64, f64)>::new(), 0.0), "");
    }

    #[test]
    fn bins_big_axes_into_equal_groups() {
        assert_eq!(bin_axis(3, 60), vec![0..1, 1..2, 2..3]);
        // 199 values, at most 60 bins → groups of ceil(199 / 60) = 4 → 50 bins, the last 196..199.
        let b = bin_axis(199, 60);
        assert_eq!(b.len(), 50);
        assert_eq!(b[0], 0..4);
        assert_eq!(b[49], 196..199);
        assert!(bin_axis(0, 60).is_empty());
    }

    #[test]
    fn ramp_runs_from_purple_to_yellow() {
        assert_eq!(ramp_color(0.0), "#440154");
        assert_eq!(ramp_color(0.5), "#21918c");
        assert_eq!(ramp_color(1.0), "#fde725");
        assert_eq!(ramp_color(7.0), "#fde725");
        // Halfway between stops 0 and 1: (0x44 + 0x3b) / 2 = 63.5 → 64 = 0x40, …
        assert_eq!(ramp_color(0.125), "#402a70");
    }

    /// Ranges a result can contain once data is absurd: every tick function must stay small.
    const ABSURD: [(f64, f64); 18] = [
        (0.0, 9_223_372_036_854_775_807.0),
        (1e-300, 1e300),
        (-1e308, 1e308),
        (f64::MIN, f64::MAX),
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (f64::NAN, f64::NAN),
        (f64::NEG_INFINITY, f64::INFINITY),
        (f64::INFINITY, f64::INFINITY),
        (5.0, 5.0),
        (0.0, 0.0),
        (-0.0, 0.0),
        (5e-324, 5e-324),
        (5e-324, 1e-323),
        (1e300, 1e300),
        (1e308, f64::MAX),
        (1e15, 1e15 + 1.0),
        (-1e-300, 1e-300),
    ];

    #[test]
    fn value_ticks_stay_few_and_finite_for_absurd_ranges() {
        for (a, b) in ABSURD {
            for target in [0, 1, 5, 1000, usize::MAX] {
                for t in [nice_ticks(a, b, target), integer_ticks(a, b, target)] {
                    let n = t.values.len();
                    assert!((1..=MAX_TICKS).contains(&n), "{a}..{b} ×{target}: {n}");
                    assert!(t.step.is_finite() && t.step > 0.0, "{a}..{b}: {t:?}");
                    assert!(t.domain.0.is_finite() && t.domain.1.is_finite(), "{t:?}");
                    assert!(t.domain.0 < t.domain.1, "{a}..{b} ×{target}: {t:?}");
                    assert!(t.values.iter().all(|v| v.is_finite()), "{t:?}");
                    assert!(t.labels().all(|(_, l)| l.len() < 40), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn time_ticks_stay_few_for_any_i64_range() {
        const DAY_S: i64 = 86_400;
        let cases = [
            (0, i64::MAX),
            (i64::MIN, i64::MAX),
            (i64::MIN, 0),
            (i64::MAX - 100, i64::MAX),
            (i64::MAX - 20 * DAY_S, i64::MAX),
            (i64::MAX - 400 * DAY_S, i64::MAX),
            (i64::MIN, i64::MIN + 100),
            (i64::MIN, i64::MIN + 400 * DAY_S),
            (i64::MAX, i64::MAX),
            (i64::MAX, 0),
            (0, 0),
            (-1, 1),
        ];
        for (a, b) in cases {
            for target in [0, 1, 6, 1000, usize::MAX] {
                let ticks = time_ticks(a, b, target);
                assert!(
                    ticks.len() <= MAX_TICKS,
                    "{a}..{b} ×{target}: {}",
                    ticks.len()
                );
                for (t, label) in &ticks {
                    assert!((a.min(b)..=a.max(b)).contains(t), "{a}..{b}: {t}");
                    assert!(label.len() < 40, "{label}");
                }
            }
        }
        // The reported dataset (unix times 0..4 and i64::MAX) still gets a usable axis.
        let t = time_ticks(0, i64::MAX, 6);
        assert!((2..=8).contains(&t.len()), "{t:?}");
    }

    #[test]
    fn paths_are_thinned_and_clamped_whatever_the_data() {
        // A million points with gaps and one spike: at most MAX_PATH_POINTS, spike kept.
        let pts = || {
            (0..1_000_000).map(|i| {
                let y = match i {
                    777_777 => 1e6,
                    i if i % 3 == 0 => f64::NAN,
                    i => (i % 100) as f64,
                };
                (i as f64 * 1e-3, y)
            })
        };
        let d = line_path(pts());
        assert!(d.matches('L').count() < MAX_PATH_POINTS, "{}", d.len());
        assert!(d.contains(",100000.0"), "the spike was lost");
        assert!(d.len() < 100_000, "{}", d.len());
        let a = area_path(pts(), 0.0);
        assert!(a.matches('L').count() <= MAX_PATH_POINTS + 2);
        assert!(a.len() < 100_000);
        // Far-off and infinite coordinates: clamped, or skipped.
        assert_eq!(
            line_path([(1e300, -1e300), (f64::INFINITY, 0.0)]),
            "M100000.0,-100000.0"
        );
        // Thinning keeps each run's lowest and highest point, in order.
        let p = [
            (0.0, 0.0),
            (1.0, 5.0),
            (2.0, 1.0),
            (3.0, -4.0),
            (4.0, 2.0),
            (5.0, 0.0),
        ];
        assert_eq!(
            thin_points(p, 4),
            vec![(0.0, 0.0), (1.0, 5.0), (3.0, -4.0), (4.0, 2.0)]
        );
        assert_eq!(thin_points(p, 100).len(), 6);
        // Scales never hand out non-finite or far-off pixels.
        let x = Linear::new((0.0, 1.0), (0.0, 100.0));
        assert_eq!(x.map(1e300), MAX_COORD);
        assert!(x.map(f64::INFINITY).is_nan() && x.map(f64::NAN).is_nan());
        assert!(bin_axis(usize::MAX, 60).len() <= 60);
    }
}
