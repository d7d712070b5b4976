//! The inner loop of CSCV: the depth-first enumeration of the splits in mirror pairs, the
//! Sharpe rank keys, each split's outcome, and the block sums the accumulator stores.

use super::{Result, RobustnessError, PROGRESS_BATCH, ZERO_VARIANCE_RELATIVE};

/// A key that orders trials by Sharpe ratio within one half of a split, where every trial has
/// the same number `n` of returns: `Σx·|Σx| / (n·Σx² − (Σx)²)` = `SR·|SR|·n/(n − 1)`, one
/// division instead of a Sharpe ratio's three and a square root. Zero variance follows
/// [`sharpe_from_sums`] (the same test, `n·Σ(x − x̄)² ≤ tol·n·Σx²`): ±∞ by the sign of the mean,
/// 0 for a zero mean.
#[inline]
fn sharpe_rank_key(sum: f64, sum_sq: f64, n: f64) -> f64 {
    let n_sq = n * sum_sq;
    let den = n_sq - sum * sum;
    if den > ZERO_VARIANCE_RELATIVE * n_sq {
        sum * sum.abs() / den
    } else if sum > 0.0 {
        f64::INFINITY
    } else if sum < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// State of one CSCV run: the depth-first enumeration of the splits.
///
/// Splits come in mirror pairs — IS and OOS swapped — that share the same two sets of sums, so
/// only the splits with block 0 in sample are enumerated (C(S−1, S/2−1) leaves) and each leaf
/// evaluates a split and its mirror from the same 2N rank keys.
pub(super) struct CscvRun<'a, F> {
    pub(super) stats: &'a [Vec<f64>],
    pub(super) sizes: &'a [usize],
    pub(super) trials: usize,
    pub(super) half: usize,
    pub(super) stride: usize,
    /// Level `i` holds the `[Σx, Σx²]` pairs of the first `i` blocks of side A (the side with
    /// block 0); level 0 is zeros.
    pub(super) a_levels: Vec<f64>,
    /// The same for side B, the other S/2 blocks.
    pub(super) b_levels: Vec<f64>,
    /// Rank keys of the trials on side A and side B at the current leaf.
    pub(super) keys_a: Vec<f64>,
    pub(super) keys_b: Vec<f64>,
    pub(super) logits: Vec<f64>,
    pub(super) at_or_below_median: u64,
    pub(super) oos_losses: u64,
    pub(super) total: u64,
    pub(super) progress: F,
}

/// What one split contributes: its logit, whether λ ≤ 0, and whether the IS best lost money OOS.
struct SplitOutcome {
    logit: f64,
    at_or_below_median: bool,
    oos_loss: bool,
}

impl<F: FnMut(u64, u64) -> bool> CscvRun<'_, F> {
    /// Assigns block `block` to side A (first) or B, given `n_a` / `n_b` blocks already assigned
    /// holding `rows_a` / `rows_b` returns.
    pub(super) fn descend(
        &mut self,
        block: usize,
        n_a: usize,
        n_b: usize,
        rows_a: usize,
        rows_b: usize,
    ) -> Result<()> {
        if block == self.stats.len() {
            return self.leaf(rows_a, rows_b);
        }
        let rows = self.sizes[block];
        if n_a < self.half {
            add_level(&mut self.a_levels, self.stride, n_a, &self.stats[block]);
            self.descend(block + 1, n_a + 1, n_b, rows_a + rows, rows_b)?;
        }
        if n_b < self.half {
            add_level(&mut self.b_levels, self.stride, n_b, &self.stats[block]);
            self.descend(block + 1, n_a, n_b + 1, rows_a, rows_b + rows)?;
        }
        Ok(())
    }

    /// A leaf: the split with side A in sample, then its mirror with side B in sample.
    fn leaf(&mut self, rows_a: usize, rows_b: usize) -> Result<()> {
        let top = self.half * self.stride..(self.half + 1) * self.stride;
        let (na, nb) = (rows_a as f64, rows_b as f64);
        for (k, p) in self
            .keys_a
            .iter_mut()
            .zip(self.a_levels[top.clone()].chunks_exact(2))
        {
            *k = sharpe_rank_key(p[0], p[1], na);
        }
        for (k, p) in self
            .keys_b
            .iter_mut()
            .zip(self.b_levels[top.clone()].chunks_exact(2))
        {
            *k = sharpe_rank_key(p[0], p[1], nb);
        }
        let a_sums = &self.a_levels[top.clone()];
        let b_sums = &self.b_levels[top];
        let a_in_sample = split_outcome(&self.keys_a, &self.keys_b, b_sums, self.trials);
        let b_in_sample = split_outcome(&self.keys_b, &self.keys_a, a_sums, self.trials);
        for outcome in [a_in_sample, b_in_sample] {
            self.logits.push(outcome.logit);
            self.at_or_below_median += u64::from(outcome.at_or_below_median);
            self.oos_losses += u64::from(outcome.oos_loss);
        }
        let done = self.logits.len() as u64;
        if (done.is_multiple_of(PROGRESS_BATCH) || done == self.total)
            && !(self.progress)(done, self.total)
        {
            return Err(RobustnessError::Stopped);
        }
        Ok(())
    }
}

/// One split from the trials' IS and OOS rank keys (and OOS `[Σx, Σx²]` pairs, for the sign
/// of the selected trial's OOS mean): the IS best (first of equals), its OOS rank with ties in
/// the middle, and the logit.
fn split_outcome(
    is_keys: &[f64],
    oos_keys: &[f64],
    oos_sums: &[f64],
    trials: usize,
) -> SplitOutcome {
    let mut best = 0;
    for (t, &k) in is_keys.iter().enumerate().skip(1) {
        if k > is_keys[best] {
            best = t;
        }
    }
    let target = oos_keys[best];
    let (mut worse, mut equal) = (0usize, 0usize);
    for &k in oos_keys {
        worse += usize::from(k < target);
        equal += usize::from(k == target);
    }
    // 2·r with r = worse + (equal + 1)/2 ∈ [1, N]; ω̄ = r/(N + 1), so
    // λ = ln(ω̄/(1 − ω̄)) = ln(2r / (2(N + 1) − 2r)), and λ ≤ 0 ⇔ 2r ≤ N + 1.
    let twice_rank = 2 * worse + equal + 1;
    let twice_n1 = 2 * (trials + 1);
    SplitOutcome {
        logit: (twice_rank as f64 / (twice_n1 - twice_rank) as f64).ln(),
        at_or_below_median: twice_rank <= trials + 1,
        oos_loss: oos_sums[2 * best] < 0.0,
    }
}

/// `levels[from + 1] = levels[from] + add`, element-wise, each level `stride` long.
pub(super) fn add_level(levels: &mut [f64], stride: usize, from: usize, add: &[f64]) {
    let (low, high) = levels.split_at_mut((from + 1) * stride);
    let parent = &low[from * stride..];
    for ((c, p), a) in high[..stride].iter_mut().zip(parent).zip(add) {
        *c = p + a;
    }
}

/// `(Σx, Σx²)` of a block, in four interleaved lanes (independent add chains) combined as
/// `(l0 + l1) + (l2 + l3)`, then the remainder in order. NaN or infinity in, non-finite out.
pub(super) fn block_sums(x: &[f64]) -> (f64, f64) {
    let (mut s, mut q) = ([0.0f64; 4], [0.0f64; 4]);
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        s[0] += c[0];
        s[1] += c[1];
        s[2] += c[2];
        s[3] += c[3];
        q[0] += c[0] * c[0];
        q[1] += c[1] * c[1];
        q[2] += c[2] * c[2];
        q[3] += c[3] * c[3];
    }
    let mut sum = (s[0] + s[1]) + (s[2] + s[3]);
    let mut sq = (q[0] + q[1]) + (q[2] + q[3]);
    for &v in rest {
        sum += v;
        sq += v * v;
    }
    (sum, sq)
}

/// C(n, k), exact for the sizes used here (n ≤ 64).
pub(super) fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k);
    (0..k).fold(1u64, |acc, i| acc * (n - i) / (i + 1))
}

#[cfg(test)]
mod tests {
    use crate::engine::robustness::pbo::{pbo_of_trials, CscvAccumulator};
    use crate::engine::robustness::test_util::{close, never_stop, uniform};
    use crate::engine::robustness::{sharpe_from_sums, RobustnessError};

    /// The straightforward CSCV, recomputing every Sharpe ratio from the raw returns with the
    /// same block cut, tie rules and zero-variance rule: the reference for the fast one.
    fn brute_force_pbo(trials: &[Vec<f64>], blocks: usize) -> (f64, Vec<f64>) {
        let t = trials[0].len();
        let n = trials.len();
        let bounds: Vec<usize> = (0..=blocks).map(|b| b * t / blocks).collect();
        let sharpe_of = |x: &[f64]| {
            let s: f64 = x.iter().sum();
            let q: f64 = x.iter().map(|v| v * v).sum();
            sharpe_from_sums(s, q, x.len())
        };
        let (mut below, mut logits) = (0, Vec::new());
        // IS sets with block 0 in lexicographic order, each followed by its mirror, as the DFS
        // visits them.
        let mut with_zero: Vec<Vec<usize>> = (0u32..1 << blocks)
            .filter(|m| m.count_ones() as usize == blocks / 2 && m & 1 == 1)
            .map(|m| (0..blocks).filter(|b| m >> b & 1 == 1).collect())
            .collect();
        with_zero.sort();
        let order = with_zero.into_iter().flat_map(|set| {
            let mirror: Vec<usize> = (0..blocks).filter(|b| !set.contains(b)).collect();
            [set, mirror]
        });
        for is_blocks in order {
            let pick = |tr: &Vec<f64>, inside: bool| -> Vec<f64> {
                (0..blocks)
                    .filter(|b| is_blocks.contains(b) == inside)
                    .flat_map(|b| tr[bounds[b]..bounds[b + 1]].iter().copied())
                    .collect()
            };
            let is: Vec<f64> = trials.iter().map(|tr| sharpe_of(&pick(tr, true))).collect();
            let oos: Vec<f64> = trials
                .iter()
                .map(|tr| sharpe_of(&pick(tr, false)))
                .collect();
            let mut best = 0;
            for i in 1..n {
                if is[i] > is[best] {
                    best = i;
                }
            }
            let worse = oos.iter().filter(|&&o| o < oos[best]).count();
            let equal = oos.iter().filter(|&&o| o == oos[best]).count();
            let w = (worse as f64 + (equal as f64 + 1.0) / 2.0) / (n as f64 + 1.0);
            if w <= 0.5 {
                below += 1;
            }
            logits.push((w / (1.0 - w)).ln());
        }
        (below as f64 / logits.len() as f64, logits)
    }

    #[test]
    fn fast_cscv_equals_brute_force_on_random_trials() {
        // T = 50 does not divide by 8 or 6: blocks of 6 and 7 rows (uneven cut).
        for (blocks, n, seed) in [(8usize, 7usize, 3u64), (6, 12, 4), (2, 3, 5), (10, 4, 6)] {
            let mut trials: Vec<Vec<f64>> =
                (0..n).map(|i| uniform(seed * 100 + i as u64, 50)).collect();
            // A never-trading trial (zero sums) and a duplicate, to exercise both tie rules.
            trials[1] = vec![0.0; 50];
            trials[2] = trials[0].clone();
            let (pbo, logits) = brute_force_pbo(&trials, blocks);
            let refs: Vec<&[f64]> = trials.iter().map(|t| t.as_slice()).collect();
            let res = pbo_of_trials(&refs, blocks, never_stop).unwrap();
            assert_eq!(res.pbo, pbo, "S = {blocks}");
            assert_eq!(res.logits.len(), logits.len());
            for (a, b) in res.logits.iter().zip(&logits) {
                assert!(close(*a, *b, 1e-12), "S = {blocks}: {a} vs {b}");
            }
        }
    }

    /// Cross-check against an independent implementation: plain Python 3 (raw returns
    /// concatenated per split with `itertools.combinations`, `statistics.stdev`, ranks as exact
    /// fractions), fed the same trials (the same SplitMix64 streams; trial `i` is
    /// `0.01·u + 0.0002·i`). T = 64, N = 10, S = 8: PBO = 20/70, and the first six splits in
    /// lexicographic order (IS = {0,1,2,3}, {0,1,2,4}, …, {0,1,3,4}: every other entry of our
    /// mirror-pair order) have OOS ranks r = 5, 6, 6, 7, 10, 9 of 10, i.e. λ = ln(r/(11 − r)) =
    /// −0.182322, 0.182322, 0.182322, 0.559616, 2.302585, 1.504077.
    #[test]
    fn cscv_matches_an_independent_implementation() {
        let trials: Vec<Vec<f64>> = (0..10u64)
            .map(|i| {
                uniform(1000 + i, 64)
                    .iter()
                    .map(|u| u * 0.01 + 0.0002 * i as f64)
                    .collect()
            })
            .collect();
        let mut acc = CscvAccumulator::new(64, 8).unwrap();
        for t in &trials {
            acc.add_trial_iter(t.iter().copied()).unwrap();
        }
        let res = acc.pbo(never_stop).unwrap();
        assert_eq!(res.combinations, 70);
        assert!(close(res.pbo, 20.0 / 70.0, 1e-15), "PBO = {}", res.pbo);
        for (got, r) in res
            .logits
            .iter()
            .step_by(2)
            .zip([5.0f64, 6.0, 6.0, 7.0, 10.0, 9.0])
        {
            assert!(
                close(*got, (r / (11.0 - r)).ln(), 1e-15),
                "{:?}",
                &res.logits[..12]
            );
        }
    }

    #[test]
    fn cscv_reports_progress_and_stops() {
        let trials: Vec<Vec<f64>> = (0..4).map(|i| uniform(i, 32)).collect();
        let refs: Vec<&[f64]> = trials.iter().map(|t| t.as_slice()).collect();
        let mut seen = Vec::new();
        pbo_of_trials(&refs, 10, |d, t| {
            seen.push((d, t));
            true
        })
        .unwrap();
        // C(10, 5) = 252 splits: reports at 100, 200 and 252.
        assert_eq!(seen, vec![(100, 252), (200, 252), (252, 252)]);
        let mut calls = 0;
        let stopped = pbo_of_trials(&refs, 10, |_, _| {
            calls += 1;
            false
        });
        assert_eq!(stopped, Err(RobustnessError::Stopped));
        assert_eq!(calls, 1);
    }
}
