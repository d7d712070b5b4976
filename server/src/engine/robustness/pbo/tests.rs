//! Tests of `pbo.rs`.

use super::*;
use crate::engine::robustness::test_util::{close, never_stop, uniform};

#[test]
fn cscv_validates_its_inputs() {
    for s in [0, 1, 3, 15, 22] {
        assert!(CscvAccumulator::new(100, s).is_err(), "S = {s}");
    }
    assert!(CscvAccumulator::new(7, 8).is_err());
    let mut acc = CscvAccumulator::new(8, 4).unwrap();
    assert_eq!(acc.combinations(), 6);
    assert!(matches!(
        acc.add_trial(&[1.0; 7]),
        Err(RobustnessError::LengthMismatch { got: 7, .. })
    ));
    assert!(matches!(
        acc.add_trial_iter([1.0; 9]),
        Err(RobustnessError::LengthMismatch { got: 9, .. })
    ));
    let mut bad = [1.0; 8];
    bad[5] = f64::NAN;
    assert!(matches!(
        acc.add_trial(&bad),
        Err(RobustnessError::NonFinite { index: 5, .. })
    ));
    assert!(matches!(
        acc.add_trial(&[1e200; 8]),
        Err(RobustnessError::NonFinite { index: 0, .. })
    ));
    assert!(matches!(
        acc.add_trial_iter(std::iter::repeat(0.5)),
        Err(RobustnessError::LengthMismatch { got: 9, .. })
    ));
    assert_eq!(acc.trials(), 0, "failed trials are not added");
    acc.add_trial(&[1.0; 8]).unwrap();
    assert!(matches!(
        acc.pbo(never_stop),
        Err(RobustnessError::TooFew {
            needed: 2,
            got: 1,
            ..
        })
    ));
    assert_eq!(
        CscvAccumulator::new(100, 16).unwrap().combinations(),
        12_870
    );
    assert_eq!(binomial(20, 10), 184_756);
}

/// Tie rule: N identical trials tie for the IS best (the first is taken) and tie OOS, so the
/// selected one ranks in the middle: r = 0 + (N + 1)/2, ω̄ = ½, λ = 0 ≤ 0 in every split.
/// PBO = 1: picking the IS best was no better than the OOS median.
#[test]
fn identical_trials_have_pbo_one() {
    let r = uniform(1, 64);
    let trials: Vec<&[f64]> = vec![&r; 5];
    let res = pbo_of_trials(&trials, 8, never_stop).unwrap();
    assert_eq!(res.combinations, 70);
    assert_eq!(res.pbo, 1.0);
    assert!(res.logits.iter().all(|&l| l == 0.0));
    // λ = 0 lands in the bin [0, 0.5): index 12 of 24.
    assert_eq!(res.histogram.counts.len(), 24);
    assert_eq!(res.histogram.counts[12], 70);
}

/// A dominant trial: d = 1 + 0.01·u has a Sharpe ratio ≥ 0.99/0.01·(…) ≈ 100+ on any set of
/// rows, while the others (u ∈ [−1, 1)) are far below; so it is the IS best of every split
/// and the OOS best too: r = N, ω̄ = N/(N+1), λ = ln N > 0. PBO = 0.
#[test]
fn a_dominant_trial_has_pbo_zero() {
    let n = 6;
    let mut trials: Vec<Vec<f64>> = (0..n).map(|i| uniform(10 + i as u64, 96)).collect();
    trials[3] = uniform(99, 96).iter().map(|u| 1.0 + 0.01 * u).collect();
    let refs: Vec<&[f64]> = trials.iter().map(|t| t.as_slice()).collect();
    let res = pbo_of_trials(&refs, 16, never_stop).unwrap();
    assert_eq!(res.combinations, 12_870);
    assert_eq!(res.pbo, 0.0);
    assert_eq!(res.oos_loss_probability, 0.0);
    assert!(res.logits.iter().all(|&l| close(l, (n as f64).ln(), 1e-15)));
    // ln 6 = 1.79 → bin [1.5, 2.0): index (1.79 + 6)/0.5 = 15.
    assert_eq!(res.histogram.counts[15], 12_870);
}

/// Worked by hand: S = 4 blocks of one return each (T = 4), N = 3 trials:
///
/// ```text
///            block 0  1   2   3
///   A (early)      1  3  −1  −2     good first, bad later
///   B (late)      −1  0   3   4     bad first, good later
///   C (steady)     4  3   1   2
/// ```
///
/// A pair {a, b} has mean (a+b)/2 and sd |a−b|/√2, so its Sharpe ratio is
/// (a+b)/(√2·|a−b|), ranked as k = (a+b)/|a−b|. The C(4,2) = 6 splits (IS, OOS = rest):
///
/// ```text
///  IS     k_A   k_B   k_C   best  | OOS    k_A   k_B   k_C   rank r  ω̄=r/4  λ
///  {0,1}   2    −1     7    C     | {2,3}  −3     7     3    2       1/2    0
///  {0,2}   0    1/2   5/3   C     | {1,3}  1/5    1     5    3       3/4    ln 3
///  {0,3}  −1/3  3/5    3    C     | {1,2}  1/2    1     2    3       3/4    ln 3
///  {1,2}  1/2    1     2    C     | {0,3} −1/3   3/5    3    3       3/4    ln 3
///  {1,3}  1/5    1     5    C     | {0,2}   0    1/2   5/3   3       3/4    ln 3
///  {2,3}  −3     7     3    B     | {0,1}   2    −1     7    1       1/4   −ln 3
/// ```
///
/// λ ≤ 0 in 2 of 6 splits ({0,1}: exactly the median; {2,3}: the worst), so PBO = 1/3. The IS
/// best loses money OOS only in {2,3} (B's {0,1} mean is −½): probability of loss 1/6.
#[test]
fn hand_worked_small_case() {
    let a = [1.0, 3.0, -1.0, -2.0];
    let b = [-1.0, 0.0, 3.0, 4.0];
    let c = [4.0, 3.0, 1.0, 2.0];
    let res = pbo_of_trials(&[&a, &b, &c], 4, never_stop).unwrap();
    assert_eq!(res.combinations, 6);
    assert_eq!((res.blocks, res.trials, res.n_obs), (4, 3, 4));
    assert!(close(res.pbo, 1.0 / 3.0, 1e-15));
    assert!(close(res.oos_loss_probability, 1.0 / 6.0, 1e-15));
    // In mirror-pair order: {0,1}, {2,3}, {0,2}, {1,3}, {0,3}, {1,2}.
    let ln3 = 3f64.ln();
    let want = [0.0, -ln3, ln3, ln3, ln3, ln3];
    assert_eq!(res.logits.len(), 6);
    for (got, want) in res.logits.iter().zip(want) {
        assert!(close(*got, want, 1e-15), "{:?}", res.logits);
    }
}
