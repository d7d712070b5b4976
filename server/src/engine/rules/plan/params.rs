//! Evaluation by parameter values alone: a cached node's key, scalars, the interval a node can
//! take over the grid's bounds, and each rule's lookback (how many bars it needs first).

use super::eval::{arith, compare, nan_max, nan_min};
use super::*;

impl Plan {
    /// Number of cached columns the program reaches (distinct node shapes, before keys).
    #[cfg(test)]
    pub fn cached_nodes(&self) -> usize {
        self.cached.len()
    }

    /// Key of cached node `id` for a run: the values of the parameters it depends on.
    pub(super) fn key(&self, id: NodeId, values: &[f64], key: &mut Vec<u64>) {
        key.clear();
        let mut m = self.nodes[id as usize].params;
        while m != 0 {
            let p = m.trailing_zeros() as usize;
            key.push(values.get(p).copied().unwrap_or(f64::NAN).to_bits());
            m &= m - 1;
        }
    }

    pub(super) fn values_from_key(&self, id: NodeId, key: &[u64]) -> Vec<f64> {
        let mut values = vec![f64::NAN; self.n_params];
        let mut m = self.nodes[id as usize].params;
        for &k in key {
            let p = m.trailing_zeros() as usize;
            values[p] = f64::from_bits(k);
            m &= m - 1;
        }
        values
    }

    /// Value of scalar node `id` (conditions as 1 / 0).
    pub fn scalar(&self, id: NodeId, values: &[f64]) -> f64 {
        let op = self.nodes[id as usize].op;
        Self::scalar_op(op, values, |c| self.scalar(c, values))
    }

    /// Value of scalar operation `op` of a run with parameter `values`, its operands' values
    /// read through `s`.
    #[inline]
    pub(super) fn scalar_op(op: Op, values: &[f64], s: impl Fn(NodeId) -> f64) -> f64 {
        match op {
            Op::Const(b) => f64::from_bits(b),
            Op::Param(p) => values.get(p as usize).copied().unwrap_or(f64::NAN),
            Op::Neg(a) => -s(a),
            Op::Abs(a) => s(a).abs(),
            Op::Not(a) => f64::from(s(a) == 0.0),
            Op::Min(a, b) => nan_min(s(a), s(b)),
            Op::Max(a, b) => nan_max(s(a), s(b)),
            Op::Bin(op, a, b) => Self::scalar_bin(op, s(a), s(b)),
            _ => f64::NAN,
        }
    }

    pub(super) fn scalar_bin(op: BinOp, x: f64, y: f64) -> f64 {
        match op {
            BinOp::And => f64::from(x != 0.0 && y != 0.0),
            BinOp::Or => f64::from(x != 0.0 || y != 0.0),
            op if op.is_comparison() => f64::from(compare(op, x, y)),
            op => arith(op, x, y),
        }
    }

    /// Range `[lo, hi]` a scalar node can take when each parameter `p` ranges over
    /// `bounds[p]` (interval arithmetic; conditions give `[0, 1]`).
    pub fn interval(&self, id: NodeId, bounds: &[(f64, f64)]) -> (f64, f64) {
        let n = self.nodes[id as usize];
        let iv = |c: NodeId| self.interval(c, bounds);
        let hull = |v: [f64; 4]| {
            if v.iter().any(|x| x.is_nan()) {
                (f64::NEG_INFINITY, f64::INFINITY)
            } else {
                (
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            }
        };
        match n.op {
            Op::Const(b) => (f64::from_bits(b), f64::from_bits(b)),
            Op::Param(p) => bounds[p as usize],
            Op::Neg(a) => {
                let (l, h) = iv(a);
                (-h, -l)
            }
            Op::Abs(a) => {
                let (l, h) = iv(a);
                if l >= 0.0 {
                    (l, h)
                } else if h <= 0.0 {
                    (-h, -l)
                } else {
                    (0.0, h.max(-l))
                }
            }
            Op::Min(a, b) => {
                let ((al, ah), (bl, bh)) = (iv(a), iv(b));
                (al.min(bl), ah.min(bh))
            }
            Op::Max(a, b) => {
                let ((al, ah), (bl, bh)) = (iv(a), iv(b));
                (al.max(bl), ah.max(bh))
            }
            Op::Bin(op, a, b) => {
                let ((al, ah), (bl, bh)) = (iv(a), iv(b));
                match op {
                    BinOp::Add => (al + bl, ah + bh),
                    BinOp::Sub => (al - bh, ah - bl),
                    BinOp::Mul => hull([al * bl, al * bh, ah * bl, ah * bh]),
                    BinOp::Div => {
                        if bl <= 0.0 && bh >= 0.0 {
                            (f64::NEG_INFINITY, f64::INFINITY)
                        } else {
                            hull([al / bl, al / bh, ah / bl, ah / bh])
                        }
                    }
                    _ => (0.0, 1.0),
                }
            }
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    /// Bars before every column of the rules is defined, for parameter values `values`: the
    /// engine's warm-up (the strategy first acts on bar `lookback + 1`).
    pub fn lookback(&self, values: &[f64], lb: &mut Vec<usize>) -> usize {
        lb.clear();
        lb.resize(self.nodes.len(), 0);
        for &id in &self.reach {
            let n = self.nodes[id as usize];
            let kid = |c: Option<NodeId>| c.map_or(0, |c| lb[c as usize]);
            let [a, b] = n.op.children();
            let v = match n.op {
                Op::Const(_) | Op::Param(_) | Op::Data(_) => 0,
                Op::Ind(f, x, w) => lb[x as usize].saturating_add(f.lookback(w.get(values))),
                Op::Atr(w) => w.get(values),
                Op::Shift(x, w) => lb[x as usize].saturating_add(w.get(values)),
                _ => kid(a).max(kid(b)),
            };
            lb[id as usize] = v;
        }
        self.roots
            .rules()
            .map(|r| lb[r as usize])
            .max()
            .unwrap_or(0)
    }
}
