//! The compiled plan: a typed DAG of column operations, the shared column cache, and the
//! per-run evaluation that turns entry/exit columns into the engine's [`Action`]s.
//!
//! Nodes are hash-consed, so `sma(close, n1)` written four times is one node. Each node is
//! either a *scalar* (depends on parameters and numbers only: evaluated once per run) or a
//! *column* (one value per bar). Column nodes are of three sorts:
//!
//! * **data**: `open`, `high`, `low`, `close`, `volume`, read from the series;
//! * **cached**: every windowed function (`sma`, `rsi`, `x[k]`, …) and every number column
//!   that depends on no parameter. They are computed once per distinct parameter values they
//!   depend on (the key: the node and the values of the parameters below it) by
//!   [`ColumnCache::fill`] before a sweep, and shared read-only by all its runs;
//! * **per-run**: elementwise arithmetic, comparisons, `and`/`or`/`not` and the crossings
//!   that depend on parameters, evaluated for each run over the bars it acts on
//!   (`[start - 1, end)`), into reusable per-thread buffers.

use std::collections::{HashMap, HashSet};

use super::super::backtest::StopRule;
use super::super::data::Series;
use super::super::indicators;
use super::super::strategy::Action;
use super::syntax::BinOp;

mod cache;
mod eval;
mod params;

pub use cache::ColumnCache;

use eval::Val;

pub(crate) type NodeId = u32;

/// A bar field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Field {
    pub const ALL: [(&'static str, Field); 5] = [
        ("open", Field::Open),
        ("high", Field::High),
        ("low", Field::Low),
        ("close", Field::Close),
        ("volume", Field::Volume),
    ];

    fn of(self, s: &Series) -> &[f64] {
        match self {
            Field::Open => &s.open,
            Field::High => &s.high,
            Field::Low => &s.low,
            Field::Close => &s.close,
            Field::Volume => &s.volume,
        }
    }
}

/// A window (or shift) argument: a whole-number constant or an int parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Win {
    Const(u32),
    Param(u16),
}

impl Win {
    #[inline]
    fn get(self, values: &[f64]) -> usize {
        match self {
            Win::Const(n) => n as usize,
            Win::Param(p) => values[p as usize] as usize,
        }
    }
}

/// A windowed indicator over one input series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ind {
    Sma,
    Ema,
    Wma,
    Rsi,
    Stdev,
    Zscore,
    Highest,
    Lowest,
    Roc,
}

impl Ind {
    /// Leading bars the indicator adds to its input's warm-up for window `n`.
    fn lookback(self, n: usize) -> usize {
        match self {
            Ind::Rsi | Ind::Roc => n,
            _ => n.saturating_sub(1),
        }
    }

    fn compute(self, x: &[f64], n: usize) -> Vec<f64> {
        match self {
            Ind::Sma => indicators::sma(x, n),
            Ind::Ema => indicators::ema(x, n),
            Ind::Wma => indicators::wma(x, n),
            Ind::Rsi => indicators::rsi_of(x, n),
            Ind::Stdev => indicators::stdev(x, n),
            Ind::Zscore => indicators::zscore(x, n),
            Ind::Highest => indicators::highest(x, n),
            Ind::Lowest => indicators::lowest(x, n),
            Ind::Roc => indicators::roc(x, n),
        }
    }
}

/// One operation of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    /// A number (its bits).
    Const(u64),
    Param(u16),
    Data(Field),
    Neg(NodeId),
    Abs(NodeId),
    Not(NodeId),
    Bin(BinOp, NodeId, NodeId),
    Min(NodeId, NodeId),
    Max(NodeId, NodeId),
    CrossAbove(NodeId, NodeId),
    CrossBelow(NodeId, NodeId),
    Ind(Ind, NodeId, Win),
    Atr(Win),
    Shift(NodeId, Win),
}

impl Op {
    fn children(self) -> [Option<NodeId>; 2] {
        match self {
            Op::Const(_) | Op::Param(_) | Op::Data(_) | Op::Atr(_) => [None, None],
            Op::Neg(a) | Op::Abs(a) | Op::Not(a) | Op::Ind(_, a, _) | Op::Shift(a, _) => {
                [Some(a), None]
            }
            Op::Bin(_, a, b)
            | Op::Min(a, b)
            | Op::Max(a, b)
            | Op::CrossAbove(a, b)
            | Op::CrossBelow(a, b) => [Some(a), Some(b)],
        }
    }

    fn window(self) -> Option<Win> {
        match self {
            Op::Ind(_, _, w) | Op::Atr(w) | Op::Shift(_, w) => Some(w),
            _ => None,
        }
    }
}

/// A node and what is known of it statically.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub op: Op,
    /// A condition (true/false) rather than a number.
    pub boolean: bool,
    /// Depends on parameters and numbers only (one value per run, not per bar).
    pub scalar: bool,
    /// Parameters it depends on (bit `p` for parameter `p`).
    pub params: u64,
    /// Computed once per key into the [`ColumnCache`].
    pub cached: bool,
    /// For cached nodes, 1 + the deepest cached node below (fill order); 0 otherwise.
    pub level: u16,
}

/// The roots of a program: its rules and stops.
#[derive(Clone, Debug, Default)]
pub(crate) struct Roots {
    pub long_entry: Option<NodeId>,
    pub long_exit: Option<NodeId>,
    pub short_entry: Option<NodeId>,
    pub short_exit: Option<NodeId>,
    /// stop_loss_pct, take_profit_pct, trailing_stop_pct.
    pub stops: [Option<NodeId>; 3],
}

impl Roots {
    fn rules(&self) -> impl Iterator<Item = NodeId> + '_ {
        [
            self.long_entry,
            self.long_exit,
            self.short_entry,
            self.short_exit,
        ]
        .into_iter()
        .flatten()
    }

    fn all(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.rules().chain(self.stops.iter().flatten().copied())
    }
}

/// Hash-consing builder of a plan.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    nodes: Vec<Node>,
    ids: HashMap<Op, NodeId>,
}

impl Builder {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The node for `op` (shared when it already exists). `boolean` is the result type.
    pub fn add(&mut self, op: Op, boolean: bool) -> NodeId {
        if let Some(&id) = self.ids.get(&op) {
            return id;
        }
        let kids: Vec<Node> = op
            .children()
            .into_iter()
            .flatten()
            .map(|c| self.nodes[c as usize])
            .collect();
        let mut params = kids.iter().fold(0u64, |m, k| m | k.params);
        if let Some(Win::Param(p)) = op.window() {
            params |= 1 << p;
        }
        let scalar = match op {
            Op::Const(_) | Op::Param(_) => true,
            Op::Data(_) | Op::Atr(_) | Op::Ind(..) | Op::Shift(..) => false,
            Op::CrossAbove(..) | Op::CrossBelow(..) => false,
            _ => kids.iter().all(|k| k.scalar),
        };
        if let Op::Param(p) = op {
            params |= 1 << p;
        }
        let windowed = matches!(op, Op::Ind(..) | Op::Atr(_) | Op::Shift(..));
        let cached =
            !scalar && !boolean && (windowed || (params == 0 && !matches!(op, Op::Data(_))));
        let below = kids.iter().map(|k| k.level).max().unwrap_or(0);
        let level = if cached { below + 1 } else { below };
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            op,
            boolean,
            scalar,
            params,
            cached,
            level,
        });
        self.ids.insert(op, id);
        id
    }

    /// Freezes the plan for `roots` and `constraints` over `n_params` parameters.
    pub fn finish(self, roots: Roots, constraints: Vec<NodeId>, n_params: usize) -> Plan {
        let nodes = self.nodes;
        // Everything the roots reach (for the lookback and the cache).
        let mut all = vec![false; nodes.len()];
        let mut stack: Vec<NodeId> = roots.all().collect();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut all[id as usize], true) {
                continue;
            }
            stack.extend(nodes[id as usize].op.children().into_iter().flatten());
        }
        // What a run evaluates: down to cached and data columns, not below them.
        let mut run = vec![false; nodes.len()];
        let mut stack: Vec<NodeId> = roots.all().collect();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut run[id as usize], true) {
                continue;
            }
            let n = nodes[id as usize];
            if !n.cached {
                stack.extend(n.op.children().into_iter().flatten());
            }
        }
        let reach: Vec<NodeId> = (0..nodes.len() as NodeId)
            .filter(|&i| all[i as usize])
            .collect();
        let run_nodes: Vec<NodeId> = (0..nodes.len() as NodeId)
            .filter(|&i| run[i as usize])
            .collect();
        let cached: Vec<NodeId> = reach
            .iter()
            .copied()
            .filter(|&i| nodes[i as usize].cached)
            .collect();
        let mut cache_ord = vec![u32::MAX; nodes.len()];
        for (k, &id) in cached.iter().enumerate() {
            cache_ord[id as usize] = k as u32;
        }
        let (mut n_num, mut n_bool) = (0u32, 0u32);
        let mut slot = vec![u32::MAX; nodes.len()];
        for &id in &run_nodes {
            let n = nodes[id as usize];
            if n.scalar || n.cached || matches!(n.op, Op::Data(_)) {
                continue;
            }
            let c = if n.boolean { &mut n_bool } else { &mut n_num };
            slot[id as usize] = *c;
            *c += 1;
        }
        Plan {
            nodes,
            roots,
            constraints,
            n_params,
            reach,
            run_nodes,
            cached,
            cache_ord,
            slot,
            n_num: n_num as usize,
            n_bool: n_bool as usize,
        }
    }
}

/// A checked program compiled to column operations.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    nodes: Vec<Node>,
    pub roots: Roots,
    pub constraints: Vec<NodeId>,
    n_params: usize,
    /// Nodes the roots reach, in id (= dependency) order.
    reach: Vec<NodeId>,
    /// Nodes a run evaluates (not below cached columns), in dependency order.
    run_nodes: Vec<NodeId>,
    /// Cached nodes the roots reach, in dependency order; `cache_ord` maps back.
    cached: Vec<NodeId>,
    cache_ord: Vec<u32>,
    /// Buffer slot of each per-run column node.
    slot: Vec<u32>,
    n_num: usize,
    n_bool: usize,
}

/// Where a run finds a column.
#[derive(Clone, Copy, Debug, Default)]
enum Src {
    #[default]
    None,
    Data(Field),
    Cache(u32),
    Num(u32),
    Bool(u32),
}

/// Per-thread working memory of rule runs (reused from run to run).
#[derive(Debug, Default)]
pub struct RunBuffers {
    scal: Vec<f64>,
    src: Vec<Src>,
    lb: Vec<usize>,
    nums: Vec<Vec<f64>>,
    /// Condition columns, one byte (0 or 1) per bar.
    bools: Vec<Vec<u8>>,
    /// All-false / all-true columns for absent or constant rules.
    consts: [Vec<u8>; 2],
    key: Vec<u64>,
}
