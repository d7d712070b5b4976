//! What a sweep's metrics show beyond the ranking: the heatmap over the first two varying
//! parameters, the full grid of every combination, and a chunk's share of both for the live
//! view of a fanned-out optimization.

use std::collections::BTreeMap;

use app::model::research::{FullGrid, Heatmap};

use super::{rank, ChunkSummary, ChunkTop, Sweep};

impl Sweep<'_> {
    /// Metric over the first two varying parameters (best over any others); see [`Heatmap`].
    pub fn heatmap(&self, metrics: &[f64]) -> Heatmap {
        heatmap_of(self.axes, &self.names, &self.runs, metrics)
    }

    /// What runs `start..start + metrics.len()` (with these metrics) add to the heatmap and to
    /// the `top_n` best, for a page to show while an optimization's other chunks still run.
    pub fn chunk_summary(&self, start: usize, metrics: &[f64], top_n: usize) -> ChunkSummary {
        let (x, y) = heatmap_axes(self.axes);
        let runs = &self.runs[start..start + metrics.len()];
        let mut cells: BTreeMap<(u32, u32), f64> = BTreeMap::new();
        // Only finite metrics: the summary travels as JSON, which has no NaN or infinity.
        for_each_cell(self.axes, runs, metrics, |xi, yi, m| {
            if !m.is_finite() {
                return;
            }
            let c = cells.entry((xi as u32, yi as u32)).or_insert(m);
            if m > *c {
                *c = m;
            }
        });
        let top = rank(metrics)
            .into_iter()
            .take(top_n.max(1))
            .filter(|&i| metrics[i].is_finite())
            .map(|i| ChunkTop {
                run: (start + i) as u64,
                metric: metrics[i],
                params: self.params(start + i),
            })
            .collect();
        ChunkSummary {
            x_param: self.names[x].clone(),
            x_values: self.axes[x].clone(),
            y_param: y.map(|d| self.names[d].clone()),
            y_values: y.map(|d| self.axes[d].clone()).unwrap_or_else(|| vec![0.0]),
            cells: cells.into_iter().map(|((x, y), m)| (x, y, m)).collect(),
            top,
        }
    }

    /// The metric of every grid combination (NaN where not admissible): see [`FullGrid`].
    pub fn full_grid(&self, metrics: &[f64]) -> FullGrid {
        let mut values = vec![f64::NAN; self.product as usize];
        for (k, &m) in metrics.iter().enumerate() {
            values[self.runs[k] as usize] = m;
        }
        FullGrid {
            params: self.names.clone(),
            axes: self.axes.to_vec(),
            values,
        }
    }
}

fn heatmap_of(axes: &[Vec<f64>], names: &[String], runs: &[u64], metrics: &[f64]) -> Heatmap {
    let (x, y) = heatmap_axes(axes);
    let x_values = axes[x].clone();
    let y_values = y.map(|d| axes[d].clone()).unwrap_or_else(|| vec![0.0]);
    let mut cells = vec![vec![f64::NAN; x_values.len()]; y_values.len()];
    for_each_cell(axes, runs, metrics, |xi, yi, m| {
        let c = &mut cells[yi][xi];
        if c.is_nan() || m > *c {
            *c = m;
        }
    });
    Heatmap {
        x_param: names[x].clone(),
        x_values,
        y_param: y.map(|d| names[d].clone()),
        y_values,
        cells: cells
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| v.is_finite().then_some(v))
                    .collect()
            })
            .collect(),
    }
}

/// The heatmap's axes: the first two parameters with more than one value (x, and y if any).
fn heatmap_axes(axes: &[Vec<f64>]) -> (usize, Option<usize>) {
    let mut varying = (0..axes.len()).filter(|&d| axes[d].len() > 1);
    (varying.next().unwrap_or(0), varying.next())
}

/// Calls `cell(xi, yi, metric)` for each run `k` with a defined metric: the heatmap cell of
/// combination `runs[k]` (`yi` is 0 when only one parameter varies).
fn for_each_cell(
    axes: &[Vec<f64>],
    runs: &[u64],
    metrics: &[f64],
    mut cell: impl FnMut(usize, usize, f64),
) {
    let (x, y) = heatmap_axes(axes);
    // Mixed-radix digits of a combination number, last parameter fastest.
    let digit = |raw: u64, d: usize| -> usize {
        let below: u64 = axes[d + 1..].iter().map(|a| a.len() as u64).product();
        ((raw / below) % axes[d].len() as u64) as usize
    };
    for (&raw, &m) in runs.iter().zip(metrics) {
        if !m.is_nan() {
            cell(digit(raw, x), y.map(|d| digit(raw, d)).unwrap_or(0), m);
        }
    }
}
