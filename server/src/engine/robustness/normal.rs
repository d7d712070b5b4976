//! The standard normal distribution: the density φ, the CDF Φ (Marsaglia's series and
//! Laplace's continued fraction) and the quantile Φ⁻¹ (Acklam's start and one Halley step).

/// 1/√(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Below this `z` the upper tail Q(z) comes from the power series, above from the continued
/// fraction (both then agree with a 50-digit reference to about 2e-15 relative).
const SERIES_LIMIT: f64 = 1.5;

/// φ(x) = e^(−x²/2) / √(2π), the standard normal density.
///
/// `x²` is split as `xh² + (x − xh)(x + xh)` with `xh` a multiple of 1/16 (W. J. Cody's device),
/// so the exponent carries no rounding error that `exp` would magnify in the far tails.
pub fn norm_pdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let xh = (x * 16.0).trunc() / 16.0;
    let low = (x - xh) * (x + xh);
    FRAC_1_SQRT_2PI * (-0.5 * xh * xh).exp() * (-0.5 * low).exp()
}

/// `S(z) = Σₙ z^(2n+1) / (1·3·5···(2n+1))`, so that Φ(z) = ½ + φ(z)·S(z) (Marsaglia, 2004,
/// "Evaluating the Normal Distribution", J. Stat. Software 11(4)). Every term is positive: no
/// cancellation. Used for |z| < [`SERIES_LIMIT`] (at most about 60 terms).
fn normal_series(z: f64) -> f64 {
    let z2 = z * z;
    let mut term = z;
    let mut sum = z;
    let mut n = 0.0;
    while term.abs() > sum.abs() * 1e-17 && n < 200.0 {
        term *= z2 / (2.0 * n + 3.0);
        sum += term;
        n += 1.0;
    }
    sum
}

/// The upper tail Q(z) = 1 − Φ(z) for z ≥ 0, to about 2e-15 relative accuracy down to the
/// smallest representable tail (z ≈ 38.5, beyond which it underflows to 0).
///
/// - z < 1.5: `½ − φ(z)·S(z)` with the series above (Q ≥ 0.067, so at most ~3 bits cancel);
/// - z ≥ 1.5: Laplace's continued fraction for the Mills ratio,
///   `Q(z) = φ(z) / (z + 1/(z + 2/(z + 3/(z + …))))`, evaluated by the modified Lentz method
///   (at most ~190 steps at z = 1.5, ~60 at z = 3).
fn upper_tail(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z < SERIES_LIMIT {
        return 0.5 - norm_pdf(z) * normal_series(z);
    }
    if z.is_infinite() {
        return 0.0;
    }
    const TINY: f64 = 1e-300;
    let mut f = z;
    let mut c = z;
    let mut d = 0.0;
    let mut k = 1.0;
    while k < 5_000.0 {
        d = z + k * d;
        if d == 0.0 {
            d = TINY;
        }
        d = 1.0 / d;
        c = z + k / c;
        if c == 0.0 {
            c = TINY;
        }
        let delta = c * d;
        f *= delta;
        k += 1.0;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    norm_pdf(z) / f
}

/// Φ(x), the standard normal cumulative distribution function, accurate to about 2e-15 relative
/// in the lower tail and 1e-16 absolute everywhere (checked against a 50-digit reference in the
/// tests). NaN gives NaN, −∞ gives 0 and +∞ gives 1.
///
/// Computed as Φ(x) = Q(−x) for x < 0 and 1 − Q(x) (or ½ + φ(x)S(x) near 0) for x ≥ 0, with the
/// upper tail Q from Marsaglia's series (z < 1.5) or Laplace's continued fraction for the Mills
/// ratio (z ≥ 1.5). No polynomial approximation (Abramowitz–Stegun 7.1.26 is only good to 1.5e-7).
pub fn norm_cdf(x: f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else if x < 0.0 {
        upper_tail(-x)
    } else if x < SERIES_LIMIT {
        0.5 + norm_pdf(x) * normal_series(x)
    } else {
        1.0 - upper_tail(x)
    }
}

/// Acklam's rational approximation of Φ⁻¹(p) for 0 < p ≤ ½ (relative error below 1.15e-9).
/// Peter J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
/// function" (2003).
fn acklam_lower(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Φ⁻¹(p) for 0 < p ≤ ½ (so the result is ≤ 0): Acklam's approximation refined by one Halley
/// step `x ← x − u / (1 + x·u/2)`, `u = (Φ(x) − p) / φ(x)`, which takes the 1e-9 start to full
/// double precision (about 2e-15 relative; the error Φ(x) − p is formed as
/// `(Φ(x) − ½) − (p − ½)` near the centre so that small quantiles stay accurate).
fn lower_quantile(p: f64) -> f64 {
    let x = acklam_lower(p);
    if x == 0.0 {
        return x;
    }
    let density = norm_pdf(x);
    if !density.is_normal() {
        // p is subnormal: no refinement possible, the start is as good as it gets.
        return x;
    }
    let err = if p >= 0.25 {
        // x ∈ [−0.675, 0): Φ(x) − ½ = −φ(x)·S(−x) exactly as the series gives it.
        -(density * normal_series(-x)) - (p - 0.5)
    } else {
        upper_tail(-x) - p
    };
    let u = err / density;
    x - u / (1.0 + 0.5 * x * u)
}

/// Φ⁻¹(p), the standard normal quantile function, to about 2e-15 relative accuracy
/// (Acklam's algorithm with one Halley refinement step). `p = 0` gives −∞, `p = 1` gives +∞,
/// NaN or p outside [0, 1] gives NaN.
pub fn norm_ppf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        f64::NAN
    } else if p == 0.0 {
        f64::NEG_INFINITY
    } else if p == 1.0 {
        f64::INFINITY
    } else if p <= 0.5 {
        lower_quantile(p)
    } else {
        // 1 − p is exact for p ∈ [½, 1] (Sterbenz).
        -lower_quantile(1.0 - p)
    }
}

/// Φ⁻¹(1 − q) for 0 < q ≤ ½, without forming 1 − q (which would lose q's low digits).
pub(super) fn upper_quantile(q: f64) -> f64 {
    -lower_quantile(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::robustness::test_util::{close, rel_close};

    #[test]
    fn norm_cdf_matches_a_50_digit_reference() {
        // Reference: mpmath 1.4.1 `ncdf` at 50 significant digits, for these exact f64 inputs.
        let cases = [
            (-37.0, 5.725_571_222_524_577e-300),
            (-30.0, 4.906_713_927_148_187e-198),
            (-20.0, 2.753_624_118_606_233_7e-89),
            (-10.0, 7.619_853_024_160_526e-24),
            (-5.0, 2.866_515_718_791_939e-7),
            (-1.0, 0.158_655_253_931_457_05),
            (0.0, 0.5),
            (0.5, 0.691_462_461_274_013_1),
            (1.28382, 0.900_397_528_011_902_6),
            (1.96, 0.975_002_104_851_779_6),
            (5.0, 0.999_999_713_348_428_1),
            (8.3, 0.999_999_999_999_999_9),
        ];
        for (x, want) in cases {
            let got = norm_cdf(x);
            // 3e-15 relative below ½; above, 1.2e-16 absolute (the spacing of doubles near 1).
            let ok = if want < 0.5 {
                rel_close(got, want, 3e-15)
            } else {
                close(got, want, 1.2e-16)
            };
            assert!(ok, "Φ({x}) = {got:e}, want {want:e}");
        }
        assert_eq!(norm_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(norm_cdf(f64::INFINITY), 1.0);
        assert!(norm_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn norm_cdf_tails_are_symmetric_and_monotone() {
        let mut last = 0.0;
        for i in -4000..=4000 {
            let x = i as f64 * 0.01;
            let c = norm_cdf(x);
            assert!(c >= last, "Φ not monotone at {x}");
            last = c;
            // Φ(x) + Φ(−x) = 1 to the precision of the larger one.
            assert!(close(c + norm_cdf(-x), 1.0, 2.3e-16), "symmetry at {x}");
        }
    }

    #[test]
    fn norm_ppf_matches_a_50_digit_reference_and_inverts_the_cdf() {
        // Reference: mpmath 1.4.1 (sqrt(2)·erfinv(2p − 1), or findroot of ncdf(x) = p in the far
        // tail) at 50 digits, for these exact f64 inputs.
        let cases = [
            (1e-300, -37.047_096_299_361_2),
            (1e-10, -6.361_340_902_404_056),
            (0.001, -3.090_232_306_167_813_5),
            (0.025, -1.959_963_984_540_054_2),
            (0.3, -0.524_400_512_708_040_8),
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_053_9),
            (0.99, 2.326_347_874_040_840_8),
            (1.0 - 1e-10, 6.361_340_889_697_422),
        ];
        for (p, want) in cases {
            let got = norm_ppf(p);
            assert!(
                rel_close(got, want, 3e-15) || close(got, want, 1e-300),
                "Φ⁻¹({p}) = {got}, want {want}"
            );
        }
        // Round trips: Φ(Φ⁻¹(p)) = p within Φ's conditioning (|x|φ(x)/Φ(x) ≈ x² in the tail).
        for i in 1..10_000 {
            let p = i as f64 / 10_000.0;
            let back = norm_cdf(norm_ppf(p));
            if p <= 0.5 {
                assert!(rel_close(back, p, 1e-14), "round trip at {p}: {back}");
            } else {
                assert!(close(back, p, 6e-16), "round trip at {p}: {back}");
            }
        }
        for e in 1..300 {
            let p = 10f64.powi(-e);
            let x = norm_ppf(p);
            assert!(rel_close(norm_cdf(x), p, 4e-15 * (1.0 + x * x)), "tail {p}");
        }
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
        assert_eq!(norm_ppf(1.0), f64::INFINITY);
        assert!(norm_ppf(-0.1).is_nan() && norm_ppf(1.5).is_nan() && norm_ppf(f64::NAN).is_nan());
    }

    #[test]
    fn acklam_start_is_within_its_published_error() {
        for i in 1..500 {
            let p = i as f64 / 1000.0;
            let exact = lower_quantile(p);
            assert!(rel_close(acklam_lower(p), exact, 1.2e-9), "p = {p}");
        }
    }

    #[test]
    fn density_constant_is_one_over_root_two_pi() {
        let want = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!(rel_close(FRAC_1_SQRT_2PI, want, 1e-16));
        assert!(rel_close(norm_pdf(1.0), want * (-0.5f64).exp(), 1e-15));
        assert_eq!(norm_pdf(f64::INFINITY), 0.0);
    }
}
