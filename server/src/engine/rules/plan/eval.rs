//! Evaluation over bars: full-series columns (for the cache), and the per-run columns and
//! crossings that become the engine's actions. What depends on parameter values alone
//! (scalars, intervals, lookbacks, cache keys) is in `params`.

use super::*;

/// A value during full-series evaluation.
pub(super) enum Val<'a> {
    S(f64),
    Col(std::borrow::Cow<'a, [f64]>),
}

/// An operand of a per-run numeric operation.
#[derive(Clone, Copy)]
enum Arg<'a> {
    S(f64),
    C(&'a [f64]),
}

#[inline(always)]
pub(super) fn arith(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        _ => f64::NAN,
    }
}

#[inline(always)]
pub(super) fn compare(op: BinOp, a: f64, b: f64) -> bool {
    match op {
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        _ => false,
    }
}

/// `min`/`max` that keep NaN (undefined in, undefined out).
#[inline(always)]
pub(super) fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

#[inline(always)]
pub(super) fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Applies a binary function over `range` (at least one operand is a column).
#[inline(always)]
fn zip_num<T: Copy>(
    out: &mut [T],
    r: std::ops::Range<usize>,
    a: Arg,
    b: Arg,
    f: impl Fn(f64, f64) -> T,
) {
    let o = &mut out[r.clone()];
    match (a, b) {
        (Arg::C(x), Arg::C(y)) => {
            for ((o, &x), &y) in o.iter_mut().zip(&x[r.clone()]).zip(&y[r]) {
                *o = f(x, y);
            }
        }
        (Arg::C(x), Arg::S(y)) => {
            for (o, &x) in o.iter_mut().zip(&x[r]) {
                *o = f(x, y);
            }
        }
        (Arg::S(x), Arg::C(y)) => {
            for (o, &y) in o.iter_mut().zip(&y[r]) {
                *o = f(x, y);
            }
        }
        (Arg::S(x), Arg::S(y)) => {
            let v = f(x, y);
            for o in o.iter_mut() {
                *o = v;
            }
        }
    }
}

/// `a` crossing `b` on bar `i`, as backtesting.py's `crossover`: `a[i-1] < b[i-1] and
/// a[i] > b[i]` for `above` (NaN compares false). Written over shifted slices with a
/// non-short-circuit `&` so the loops vectorize.
fn crossing(out: &mut [u8], r: std::ops::Range<usize>, a: Arg, b: Arg, above: bool) {
    let (p, c) = (r.start - 1..r.end - 1, r.clone());
    let o = &mut out[r];
    // `above`: prev a < prev b and a > b; below: the same with a and b swapped.
    let (a, b) = if above { (a, b) } else { (b, a) };
    match (a, b) {
        (Arg::C(x), Arg::C(y)) => {
            let it = x[p.clone()]
                .iter()
                .zip(&y[p])
                .zip(x[c.clone()].iter().zip(&y[c]));
            for (o, ((x0, y0), (x1, y1))) in o.iter_mut().zip(it) {
                *o = ((x0 < y0) & (x1 > y1)) as u8;
            }
        }
        (Arg::C(x), Arg::S(y)) => {
            for (o, (x0, x1)) in o.iter_mut().zip(x[p].iter().zip(&x[c])) {
                *o = ((*x0 < y) & (*x1 > y)) as u8;
            }
        }
        (Arg::S(x), Arg::C(y)) => {
            for (o, (y0, y1)) in o.iter_mut().zip(y[p].iter().zip(&y[c])) {
                *o = ((x < *y0) & (x > *y1)) as u8;
            }
        }
        (Arg::S(_), Arg::S(_)) => o.fill(0),
    }
}

/// Eight bytes of a condition column from bar `i` as one word (nonzero when any is set).
#[inline(always)]
fn word(c: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&c[i..i + 8]);
    u64::from_ne_bytes(w)
}

impl Plan {
    /// Evaluates node `id` over the whole series (fill time): cached nodes other than `root`
    /// come from `cache`.
    pub(super) fn eval_full<'a>(
        &self,
        id: NodeId,
        root: NodeId,
        values: &[f64],
        cache: &'a ColumnCache,
        s: &'a Series,
    ) -> Val<'a> {
        use std::borrow::Cow;
        let n = self.nodes[id as usize];
        if n.scalar {
            return Val::S(self.scalar(id, values));
        }
        if n.cached && id != root {
            let mut key = Vec::new();
            self.key(id, values, &mut key);
            return Val::Col(Cow::Borrowed(cache.get(self.cache_ord[id as usize], &key)));
        }
        let col = |c: NodeId| match self.eval_full(c, root, values, cache, s) {
            Val::Col(c) => c,
            Val::S(v) => Cow::Owned(vec![v; s.len()]),
        };
        let map2 = |a: NodeId, b: NodeId, f: &dyn Fn(f64, f64) -> f64| {
            let (x, y) = (col(a), col(b));
            Val::Col(Cow::Owned(
                x.iter().zip(y.iter()).map(|(x, y)| f(*x, *y)).collect(),
            ))
        };
        match n.op {
            Op::Data(f) => Val::Col(Cow::Borrowed(f.of(s))),
            Op::Neg(a) => Val::Col(Cow::Owned(col(a).iter().map(|v| -v).collect())),
            Op::Abs(a) => Val::Col(Cow::Owned(col(a).iter().map(|v| v.abs()).collect())),
            Op::Bin(op, a, b) => map2(a, b, &|x, y| arith(op, x, y)),
            Op::Min(a, b) => map2(a, b, &nan_min),
            Op::Max(a, b) => map2(a, b, &nan_max),
            Op::Ind(f, x, w) => Val::Col(Cow::Owned(f.compute(&col(x), w.get(values)))),
            Op::Atr(w) => Val::Col(Cow::Owned(indicators::atr(
                &s.high,
                &s.low,
                &s.close,
                w.get(values),
            ))),
            Op::Shift(x, w) => Val::Col(Cow::Owned(indicators::shift(&col(x), w.get(values)))),
            // Conditions never feed a number column (the checker refuses it).
            _ => Val::Col(Cow::Owned(vec![f64::NAN; s.len()])),
        }
    }

    /// The per-bar actions of one run over bars `[a, b)` into `out` (`out[k]` is bar `a + k`),
    /// exactly as [`Prepared::actions`](super::super::strategy::Prepared::actions) does for
    /// the built-ins: returns the first bar the strategy acts on (relative to `a`) and the
    /// run's stops. See the module docs of `rules` for the semantics.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn actions(
        &self,
        series: &Series,
        cache: &ColumnCache,
        values: &[f64],
        long_only: bool,
        reenter: bool,
        (a, b): (usize, usize),
        buf: &mut RunBuffers,
        out: &mut Vec<Action>,
    ) -> (usize, StopRule) {
        out.clear();
        out.resize(b.saturating_sub(a), Action::Hold);
        let warmup = self.lookback(values, &mut buf.lb);
        let start = (warmup.saturating_add(1)).max(a);
        let end = b.min(series.len());

        buf.scal.resize(self.nodes.len(), 0.0);
        buf.src.resize(self.nodes.len(), Src::None);
        buf.nums.resize_with(self.n_num, Vec::new);
        buf.bools.resize_with(self.n_bool, Vec::new);
        for (v, c) in buf.consts.iter_mut().enumerate() {
            if c.len() < end {
                c.clear();
                c.resize(end, v as u8);
            }
        }
        let stops = {
            for &id in &self.run_nodes {
                let n = self.nodes[id as usize];
                if n.scalar {
                    buf.scal[id as usize] = self.scalar_in_order(n.op, &buf.scal, values);
                }
            }
            let pct = |r: Option<NodeId>| r.map(|id| buf.scal[id as usize] / 100.0);
            StopRule {
                stop_loss: pct(self.roots.stops[0]),
                take_profit: pct(self.roots.stops[1]),
                trailing: pct(self.roots.stops[2]),
            }
        };
        if start >= end {
            return (start - a, stops);
        }
        let r0 = start - 1;
        for &id in &self.run_nodes {
            let n = self.nodes[id as usize];
            if n.scalar {
                continue;
            }
            let src = if let Op::Data(f) = n.op {
                Src::Data(f)
            } else if n.cached {
                self.key(id, values, &mut buf.key);
                let ord = self.cache_ord[id as usize];
                let k = cache.maps[ord as usize]
                    .get(&buf.key[..])
                    .expect("the column cache is filled for every run before it runs");
                Src::Cache(*k)
            } else if n.boolean {
                let slot = self.slot[id as usize];
                let mut o = std::mem::take(&mut buf.bools[slot as usize]);
                if o.len() < end {
                    o.resize(end, 0);
                }
                let arg = |c: NodeId| self.arg(c, buf, series, cache);
                self.eval_bool(n.op, &mut o, start..end, buf, arg);
                buf.bools[slot as usize] = o;
                Src::Bool(slot)
            } else {
                let slot = self.slot[id as usize];
                let mut o = std::mem::take(&mut buf.nums[slot as usize]);
                if o.len() < end {
                    o.resize(end, f64::NAN);
                }
                let arg = |c: NodeId| self.arg(c, buf, series, cache);
                self.eval_num(n.op, &mut o, r0..end, arg);
                buf.nums[slot as usize] = o;
                Src::Num(slot)
            };
            buf.src[id as usize] = src;
        }

        let col = |r: Option<NodeId>| r.map_or(&buf.consts[0][..], |id| self.bool_col(id, buf));
        let (le, lx) = (col(self.roots.long_entry), col(self.roots.long_exit));
        let (se, sx) = (col(self.roots.short_entry), col(self.roots.short_exit));
        let down = if long_only {
            Action::Flat
        } else {
            Action::Short
        };
        // The position the rules have asked for (a stop in the simulator does not change it).
        let mut state = Action::Flat;
        let mut bar = |i: usize, state: &mut Action| {
            let (want, entry) = if le[i] != 0 {
                (Action::Long, true)
            } else if se[i] != 0 {
                (down, true)
            } else if (*state == Action::Long && lx[i] != 0)
                || (*state == Action::Short && sx[i] != 0)
            {
                (Action::Flat, false)
            } else {
                return;
            };
            if want != *state || (reenter && entry) {
                out[i - a] = want;
                *state = want;
            }
        };
        // Most bars have no signal at all: skip them eight at a time.
        let mut i = start;
        while i + 8 <= end {
            if word(le, i) | word(se, i) | word(lx, i) | word(sx, i) != 0 {
                for j in i..i + 8 {
                    bar(j, &mut state);
                }
            }
            i += 8;
        }
        for j in i..end {
            bar(j, &mut state);
        }
        (start - a, stops)
    }

    #[inline]
    fn scalar_in_order(&self, op: Op, scal: &[f64], values: &[f64]) -> f64 {
        Self::scalar_op(op, values, |c| scal[c as usize])
    }

    fn arg<'x>(
        &self,
        id: NodeId,
        buf: &'x RunBuffers,
        s: &'x Series,
        cache: &'x ColumnCache,
    ) -> Arg<'x> {
        if self.nodes[id as usize].scalar {
            return Arg::S(buf.scal[id as usize]);
        }
        Arg::C(match buf.src[id as usize] {
            Src::Data(f) => f.of(s),
            Src::Cache(k) => &cache.cols[k as usize],
            Src::Num(k) => &buf.nums[k as usize],
            Src::Bool(_) | Src::None => &[],
        })
    }

    /// A condition column (constants as the all-false / all-true column).
    fn bool_col<'x>(&self, id: NodeId, buf: &'x RunBuffers) -> &'x [u8] {
        if self.nodes[id as usize].scalar {
            return &buf.consts[usize::from(buf.scal[id as usize] != 0.0)];
        }
        match buf.src[id as usize] {
            Src::Bool(k) => &buf.bools[k as usize],
            _ => &buf.consts[0],
        }
    }

    /// Number column operation `op` over bars `r` into `out`, its operands read through `arg`.
    fn eval_num<'x>(
        &self,
        op: Op,
        out: &mut [f64],
        r: std::ops::Range<usize>,
        arg: impl Fn(NodeId) -> Arg<'x>,
    ) {
        match op {
            Op::Neg(x) => zip_num(out, r, arg(x), Arg::S(0.0), |x, _| -x),
            Op::Abs(x) => zip_num(out, r, arg(x), Arg::S(0.0), |x, _| x.abs()),
            Op::Bin(BinOp::Add, a, b) => zip_num(out, r, arg(a), arg(b), |x, y| x + y),
            Op::Bin(BinOp::Sub, a, b) => zip_num(out, r, arg(a), arg(b), |x, y| x - y),
            Op::Bin(BinOp::Mul, a, b) => zip_num(out, r, arg(a), arg(b), |x, y| x * y),
            Op::Bin(BinOp::Div, a, b) => zip_num(out, r, arg(a), arg(b), |x, y| x / y),
            Op::Min(a, b) => zip_num(out, r, arg(a), arg(b), nan_min),
            Op::Max(a, b) => zip_num(out, r, arg(a), arg(b), nan_max),
            _ => out[r].fill(f64::NAN),
        }
    }

    /// Condition column operation `op` over bars `r` into `out`: comparisons read their
    /// operands through `arg`, `and`/`or` their condition columns in `buf`.
    fn eval_bool<'x>(
        &self,
        op: Op,
        out: &mut [u8],
        r: std::ops::Range<usize>,
        buf: &RunBuffers,
        arg: impl Fn(NodeId) -> Arg<'x>,
    ) {
        match op {
            Op::CrossAbove(a, b) => crossing(out, r, arg(a), arg(b), true),
            Op::CrossBelow(a, b) => crossing(out, r, arg(a), arg(b), false),
            Op::Bin(cmp, a, b) if cmp.is_comparison() => {
                let (a, b) = (arg(a), arg(b));
                match cmp {
                    BinOp::Lt => zip_num(out, r, a, b, |x, y| (x < y) as u8),
                    BinOp::Le => zip_num(out, r, a, b, |x, y| (x <= y) as u8),
                    BinOp::Gt => zip_num(out, r, a, b, |x, y| (x > y) as u8),
                    BinOp::Ge => zip_num(out, r, a, b, |x, y| (x >= y) as u8),
                    BinOp::Eq => zip_num(out, r, a, b, |x, y| (x == y) as u8),
                    _ => zip_num(out, r, a, b, |x, y| (x != y) as u8),
                }
            }
            Op::Bin(BinOp::And, a, b) | Op::Bin(BinOp::Or, a, b) => {
                let (x, y) = (self.bool_col(a, buf), self.bool_col(b, buf));
                let it = out[r.clone()]
                    .iter_mut()
                    .zip(x[r.clone()].iter().zip(&y[r]));
                if matches!(op, Op::Bin(BinOp::And, ..)) {
                    for (o, (x, y)) in it {
                        *o = x & y;
                    }
                } else {
                    for (o, (x, y)) in it {
                        *o = x | y;
                    }
                }
            }
            Op::Not(a) => {
                let x = self.bool_col(a, buf);
                for (o, x) in out[r.clone()].iter_mut().zip(&x[r]) {
                    *o = x ^ 1;
                }
            }
            _ => out[r].fill(0),
        }
    }
}
