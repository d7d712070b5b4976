//! The column cache: every cached node's columns, one per distinct values of the parameters it
//! depends on, computed once before a sweep ([`ColumnCache::fill`], [`ColumnCache::fill_grid`])
//! and shared read-only by all its runs.

use std::collections::HashMap;

use rayon::prelude::*;

use super::*;

/// Columns computed once and shared by every run (see the module docs).
#[derive(Debug, Default)]
pub struct ColumnCache {
    /// Per cached node (by its ordinal): key (parameter values it depends on) → column.
    pub(super) maps: Vec<HashMap<Box<[u64]>, u32>>,
    pub(super) cols: Vec<Vec<f64>>,
}

impl ColumnCache {
    /// Number of distinct columns held.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// Whether no column is held.
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    pub(super) fn get(&self, ord: u32, key: &[u64]) -> &[f64] {
        let k = self.maps[ord as usize]
            .get(key)
            .expect("the column cache is filled for every run before it runs");
        &self.cols[*k as usize]
    }

    pub(super) fn has(&self, ord: u32, key: &[u64]) -> bool {
        self.maps
            .get(ord as usize)
            .is_some_and(|m| m.contains_key(key))
    }

    /// Computes every column that the runs with parameter values `runs` need and the cache
    /// does not hold yet: each distinct (node, key) once, in parallel, nested ones first.
    pub(crate) fn fill<'v>(
        &mut self,
        plan: &Plan,
        series: &Series,
        runs: impl IntoIterator<Item = &'v [f64]>,
    ) {
        let mut pending = Pending::new(plan);
        for values in runs {
            pending.add(plan, self, values);
        }
        self.compute(plan, series, pending);
    }

    /// [`ColumnCache::fill`] for the runs of a grid: `runs` are combination numbers of `axes`.
    pub(crate) fn fill_grid(
        &mut self,
        plan: &Plan,
        series: &Series,
        axes: &[Vec<f64>],
        runs: &[u64],
    ) {
        let mut pending = Pending::new(plan);
        let mut values = Vec::new();
        for &raw in runs {
            crate::engine::optimize::decode(axes, raw, &mut values);
            pending.add(plan, self, &values);
        }
        self.compute(plan, series, pending);
    }

    fn compute(&mut self, plan: &Plan, series: &Series, pending: Pending) {
        if self.maps.len() < plan.cached.len() {
            self.maps.resize_with(plan.cached.len(), HashMap::new);
        }
        let max_level = plan
            .cached
            .iter()
            .map(|&id| plan.nodes[id as usize].level)
            .max()
            .unwrap_or(0);
        for level in 1..=max_level {
            let todo: Vec<(u32, &Box<[u64]>)> = pending
                .keys
                .iter()
                .enumerate()
                .filter(|(ord, _)| plan.nodes[plan.cached[*ord] as usize].level == level)
                .flat_map(|(ord, keys)| keys.iter().map(move |k| (ord as u32, k)))
                .collect();
            let this: &ColumnCache = self;
            let done: Vec<Vec<f64>> = todo
                .par_iter()
                .map(|(ord, key)| {
                    let id = plan.cached[*ord as usize];
                    let values = plan.values_from_key(id, key);
                    match plan.eval_full(id, id, &values, this, series) {
                        Val::Col(c) => c.into_owned(),
                        Val::S(v) => vec![v; series.len()],
                    }
                })
                .collect();
            for ((ord, key), col) in todo.into_iter().zip(done) {
                let k = self.cols.len() as u32;
                self.cols.push(col);
                self.maps[ord as usize].insert(key.clone(), k);
            }
        }
    }
}

/// Keys still to compute, per cached node.
struct Pending {
    keys: Vec<HashSet<Box<[u64]>>>,
    key: Vec<u64>,
}

impl Pending {
    fn new(plan: &Plan) -> Self {
        Pending {
            keys: vec![HashSet::new(); plan.cached.len()],
            key: Vec::new(),
        }
    }

    fn add(&mut self, plan: &Plan, cache: &ColumnCache, values: &[f64]) {
        for (ord, &id) in plan.cached.iter().enumerate() {
            plan.key(id, values, &mut self.key);
            if !self.keys[ord].contains(&self.key[..]) && !cache.has(ord as u32, &self.key) {
                self.keys[ord].insert(self.key.as_slice().into());
            }
        }
    }
}
