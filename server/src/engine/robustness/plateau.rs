//! Parameter plateau: each grid cell's metric averaged over its ±1 neighbourhood, one cell's
//! score by direct enumeration, and the "robust best" cell.

use super::{invalid, Result, RobustnessError, MAX_PLATEAU_DIMS};

/// Checks a grid's shape: `dims` non-empty (at most [`MAX_PLATEAU_DIMS`]), every size ≥ 1, and
/// their product equal to `len`.
fn check_grid(len: usize, dims: &[usize]) -> Result<()> {
    if dims.is_empty() || dims.len() > MAX_PLATEAU_DIMS {
        return Err(invalid(
            "dims",
            format!(
                "1..={MAX_PLATEAU_DIMS} dimensions are supported, got {}",
                dims.len()
            ),
        ));
    }
    let mut cells: usize = 1;
    for &d in dims {
        if d == 0 {
            return Err(invalid("dims", "every dimension needs at least 1 value"));
        }
        cells = cells
            .checked_mul(d)
            .ok_or_else(|| invalid("dims", "the grid is too large"))?;
    }
    if cells != len {
        return Err(RobustnessError::LengthMismatch {
            what: "grid values",
            expected: cells,
            got: len,
        });
    }
    Ok(())
}

/// The plateau score of every cell of a grid: the mean of the finite metric values in the cell's
/// neighbourhood — the cell and every cell within ±1 step in each dimension (up to 3^d cells),
/// clipped at the grid's edges. NaN and infinite values (invalid or failed runs) are left out;
/// a cell whose neighbourhood holds none scores `None`.
///
/// `values` is the grid flattened in row-major order (the last dimension varies fastest) and
/// `dims` its sizes. The neighbourhood sums are separable (one 3-cell pass per dimension), so the
/// whole grid costs O(cells × d).
///
/// Errors: `dims` empty or longer than [`MAX_PLATEAU_DIMS`], a zero size, or a product of sizes
/// other than `values.len()`.
pub fn plateau_scores(values: &[f64], dims: &[usize]) -> Result<Vec<Option<f64>>> {
    check_grid(values.len(), dims)?;
    let mut sums: Vec<f64> = values
        .iter()
        .map(|&v| if v.is_finite() { v } else { 0.0 })
        .collect();
    let mut counts: Vec<f64> = values
        .iter()
        .map(|v| if v.is_finite() { 1.0 } else { 0.0 })
        .collect();
    let mut stride = values.len();
    let mut next_sums = vec![0.0; values.len()];
    let mut next_counts = vec![0.0; values.len()];
    for &d in dims {
        stride /= d;
        for i in 0..values.len() {
            let c = (i / stride) % d;
            let mut s = sums[i];
            let mut n = counts[i];
            if c > 0 {
                s += sums[i - stride];
                n += counts[i - stride];
            }
            if c + 1 < d {
                s += sums[i + stride];
                n += counts[i + stride];
            }
            next_sums[i] = s;
            next_counts[i] = n;
        }
        std::mem::swap(&mut sums, &mut next_sums);
        std::mem::swap(&mut counts, &mut next_counts);
    }
    Ok(sums
        .iter()
        .zip(&counts)
        .map(|(&s, &n)| (n > 0.0).then(|| s / n))
        .collect())
}

/// The plateau score of one cell, at grid coordinates `coords` (see [`plateau_scores`]), by
/// direct enumeration of its neighbourhood: for scoring a few top runs without the whole grid.
///
/// Errors: a bad shape, or `coords` of the wrong length or outside the grid.
pub fn plateau_score_at(values: &[f64], dims: &[usize], coords: &[usize]) -> Result<Option<f64>> {
    check_grid(values.len(), dims)?;
    if coords.len() != dims.len() {
        return Err(RobustnessError::LengthMismatch {
            what: "coordinates",
            expected: dims.len(),
            got: coords.len(),
        });
    }
    if let Some((i, (&c, &d))) = coords
        .iter()
        .zip(dims)
        .enumerate()
        .find(|(_, (&c, &d))| c >= d)
    {
        return Err(invalid(
            "coordinates",
            format!("coordinate {i} is {c}, outside 0..{d}"),
        ));
    }
    // Per dimension the neighbour range lo..=hi; an odometer walks their product.
    let lo: Vec<usize> = coords.iter().map(|&c| c.saturating_sub(1)).collect();
    let hi: Vec<usize> = coords
        .iter()
        .zip(dims)
        .map(|(&c, &d)| (c + 1).min(d - 1))
        .collect();
    let mut at = lo.clone();
    let (mut sum, mut count) = (0.0, 0usize);
    loop {
        let index = at.iter().zip(dims).fold(0, |acc, (&a, &d)| acc * d + a);
        let v = values[index];
        if v.is_finite() {
            sum += v;
            count += 1;
        }
        let mut k = dims.len();
        loop {
            if k == 0 {
                return Ok((count > 0).then(|| sum / count as f64));
            }
            k -= 1;
            if at[k] < hi[k] {
                at[k] += 1;
                break;
            }
            at[k] = lo[k];
        }
    }
}

/// The index of the best plateau score — the "robust best" — the highest if `maximize`, else the
/// lowest; `None` scores are skipped, ties go to the lowest index. `None` if no cell scores.
pub fn best_plateau_index(scores: &[Option<f64>], maximize: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in scores.iter().enumerate() {
        let Some(s) = *s else { continue };
        let better = match best {
            None => true,
            Some((_, b)) => {
                if maximize {
                    s > b
                } else {
                    s < b
                }
            }
        };
        if better {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::robustness::test_util::{close, uniform};

    /// ```text
    ///   1 2 3      corner (0,0): {1,2,4,5}        → 12/4 = 3
    ///   4 5 6      edge (0,1):   {1,2,3,4,5,6}    → 21/6 = 3.5
    ///   7 8 9      centre (1,1): all nine         → 45/9 = 5
    /// ```
    /// Symmetric: cell (2−i, 2−j) scores 10 − score(i, j).
    #[test]
    fn plateau_on_a_hand_grid() {
        let v: Vec<f64> = (1..=9).map(f64::from).collect();
        let s = plateau_scores(&v, &[3, 3]).unwrap();
        let want = [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0];
        for (got, want) in s.iter().zip(want) {
            assert_eq!(*got, Some(want));
        }
        // With the centre NaN (a failed run): centre = (45 − 5)/8 = 5, corner = (1+2+4)/3.
        let mut v2 = v.clone();
        v2[4] = f64::NAN;
        let s2 = plateau_scores(&v2, &[3, 3]).unwrap();
        assert_eq!(s2[4], Some(5.0));
        assert_eq!(s2[0], Some(7.0 / 3.0));
        assert_eq!(
            plateau_score_at(&v2, &[3, 3], &[0, 0]).unwrap(),
            Some(7.0 / 3.0)
        );
        assert_eq!(plateau_score_at(&v, &[3, 3], &[1, 2]).unwrap(), Some(5.5));
    }

    /// 1-D: a spike at 10 is the raw best, but its neighbours are 0; the plateau around 5, 6, 5
    /// is the robust best:
    ///
    /// ```text
    ///   value   0    10    0     5     6     5     0
    ///   score   5   10/3   5   11/3  16/3  11/3  5/2
    /// ```
    #[test]
    fn plateau_prefers_a_broad_optimum_to_a_spike() {
        let v = [0.0, 10.0, 0.0, 5.0, 6.0, 5.0, 0.0];
        let s = plateau_scores(&v, &[7]).unwrap();
        let want = [
            5.0,
            10.0 / 3.0,
            5.0,
            11.0 / 3.0,
            16.0 / 3.0,
            11.0 / 3.0,
            2.5,
        ];
        for (got, want) in s.iter().zip(want) {
            assert!(close(got.unwrap(), want, 1e-15));
        }
        assert_eq!(best_plateau_index(&s, true), Some(4));
        assert_eq!(best_plateau_index(&s, false), Some(6));
        // NaN and infinity are skipped; a cell with no finite neighbour scores None.
        let s = plateau_scores(
            &[1.0, f64::NAN, 3.0, f64::INFINITY, f64::NAN, f64::NAN],
            &[6],
        )
        .unwrap();
        assert_eq!(
            s,
            vec![Some(1.0), Some(2.0), Some(3.0), Some(3.0), None, None]
        );
        assert_eq!(best_plateau_index(&[None, None], true), None);
    }

    #[test]
    fn plateau_separable_pass_equals_direct_enumeration() {
        let dims = [3, 4, 5, 2];
        let mut v = uniform(31, 120);
        for i in (0..120).step_by(7) {
            v[i] = f64::NAN;
        }
        let all = plateau_scores(&v, &dims).unwrap();
        for (i, score) in all.iter().enumerate() {
            let coords = [i / 40, (i / 10) % 4, (i / 2) % 5, i % 2];
            let direct = plateau_score_at(&v, &dims, &coords).unwrap();
            match (score, direct) {
                (Some(a), Some(b)) => assert!(close(*a, b, 1e-14), "{i}"),
                (a, b) => assert_eq!(*a, b, "{i}"),
            }
        }
    }

    #[test]
    fn plateau_validates_the_grid() {
        assert!(plateau_scores(&[1.0; 6], &[]).is_err());
        assert!(plateau_scores(&[1.0; 6], &[2, 4]).is_err());
        assert!(plateau_scores(&[], &[0]).is_err());
        assert!(plateau_scores(&[1.0; 13], &[1; 13]).is_err());
        assert!(plateau_scores(&[1.0; 4], &[usize::MAX, 2]).is_err());
        assert!(plateau_score_at(&[1.0; 6], &[2, 3], &[1]).is_err());
        assert!(plateau_score_at(&[1.0; 6], &[2, 3], &[1, 3]).is_err());
        assert_eq!(plateau_scores(&[], &[0, 3]).map(|v| v.len()).ok(), None);
        assert_eq!(plateau_scores(&[2.0], &[1]).unwrap(), vec![Some(2.0)]);
    }
}
