//! Tests of `scale.rs`.

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
