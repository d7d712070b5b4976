//! The grid store: the full metric grid of each optimization (`job_grids`), the only code that
//! reads or writes that table.
//!
//! An optimization's result JSON keeps a small default heatmap (the first two varying
//! parameters, best over the others). The metric of every combination ([`FullGrid`], up to
//! [`MAX_GRID_VALUES`] values) is stored here instead, packed as little-endian `f64`s in a
//! `bytea`, so other views (other axes, other folds) can be computed on the server without
//! sending the grid to the browser. The statements live in `server/queries/grids/*.sql`, one per
//! file with a header, compiled in with `include_str!` like the job store's.

use app::model::research::FullGrid;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::jobs::store::statement;

/// Most values a stored grid may hold (16 MB packed). The engine's grids are bounded well below
/// it by the grid limit; a bigger one is not stored (its job keeps only the default view).
pub const MAX_GRID_VALUES: usize = 2_000_000;

/// The store's statements, one per file in `server/queries/grids/`; see each file's header.
mod sql {
    use super::statement;

    pub const UPSERT: &str = statement(include_str!("../queries/grids/upsert.sql"));
    pub const LOAD: &str = statement(include_str!("../queries/grids/load.sql"));
}

#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// The grid is not one the store keeps (inconsistent shape, too big, non-finite axes).
    #[error("not a storable grid: {0}")]
    Invalid(String),
    /// A stored row does not decode into a consistent grid.
    #[error("the stored grid of job {job} is corrupt: {why}")]
    Corrupt { job: Uuid, why: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What `load.sql` returns.
#[derive(sqlx::FromRow)]
struct GridRow {
    params: Vec<String>,
    axes: Value,
    metric_values: Vec<u8>,
}

/// Checks that `grid` is consistent: one non-empty, finite axis per parameter, and exactly one
/// value per combination (the product of the axis lengths), at most [`MAX_GRID_VALUES`].
pub fn check(grid: &FullGrid) -> Result<(), String> {
    if grid.params.is_empty() {
        return Err("no parameters".into());
    }
    if grid.params.len() != grid.axes.len() {
        return Err(format!(
            "{} parameters but {} axes",
            grid.params.len(),
            grid.axes.len()
        ));
    }
    let mut combinations: usize = 1;
    for (name, axis) in grid.params.iter().zip(&grid.axes) {
        if axis.is_empty() {
            return Err(format!("the axis of {name:?} is empty"));
        }
        if axis.iter().any(|v| !v.is_finite()) {
            return Err(format!("the axis of {name:?} holds a non-finite value"));
        }
        combinations = combinations
            .checked_mul(axis.len())
            .filter(|&n| n <= MAX_GRID_VALUES)
            .ok_or_else(|| format!("more than {MAX_GRID_VALUES} combinations"))?;
    }
    if grid.values.len() != combinations {
        return Err(format!(
            "{} values for {combinations} combinations",
            grid.values.len()
        ));
    }
    Ok(())
}

/// The values as little-endian `f64`s, 8 bytes each (NaN kept as NaN).
pub fn pack(values: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The inverse of [`pack`]; `None` when the length is not a multiple of 8.
pub fn unpack(bytes: &[u8]) -> Option<Vec<f64>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
    )
}

#[derive(Clone, Debug)]
pub struct GridStore {
    pool: PgPool,
}

impl GridStore {
    pub fn new(pool: PgPool) -> GridStore {
        GridStore { pool }
    }

    /// Stores `grid` as job `id`'s, replacing any earlier one, if the job is still RUNNING under
    /// `lease`. `Ok(false)`: the run is stale, nothing was written.
    pub async fn upsert(&self, id: Uuid, lease: Uuid, grid: &FullGrid) -> Result<bool, GridError> {
        check(grid).map_err(GridError::Invalid)?;
        let axes =
            serde_json::to_value(&grid.axes).map_err(|e| GridError::Invalid(e.to_string()))?;
        let done = sqlx::query(sql::UPSERT)
            .bind(id)
            .bind(lease)
            .bind(&grid.params)
            .bind(axes)
            .bind(pack(&grid.values))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Job `id`'s grid, `None` when it has none (not an optimization, not finished, or run
    /// before grids were stored). A row that does not decode into a consistent grid is
    /// [`GridError::Corrupt`].
    pub async fn load(&self, id: Uuid) -> Result<Option<FullGrid>, GridError> {
        let row: Option<GridRow> = sqlx::query_as(sql::LOAD)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let corrupt = |why: String| GridError::Corrupt { job: id, why };
        let axes: Vec<Vec<f64>> =
            serde_json::from_value(row.axes).map_err(|e| corrupt(format!("axes: {e}")))?;
        let values = unpack(&row.metric_values)
            .ok_or_else(|| corrupt("the values are not a whole number of f64s".into()))?;
        let grid = FullGrid {
            params: row.params,
            axes,
            values,
        };
        check(&grid).map_err(corrupt)?;
        Ok(Some(grid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> FullGrid {
        FullGrid {
            params: vec!["a".into(), "b".into()],
            axes: vec![vec![1.0, 2.0], vec![10.0, 20.0, 30.0]],
            values: vec![0.5, f64::NAN, -1.0, 2.0, f64::INFINITY, 1e-300],
        }
    }

    #[test]
    fn values_pack_as_little_endian_f64s_and_back_bit_for_bit() {
        let g = grid();
        let bytes = pack(&g.values);
        assert_eq!(bytes.len(), 48);
        assert_eq!(&bytes[..8], &0.5f64.to_le_bytes());
        let back = unpack(&bytes).unwrap();
        assert_eq!(back.len(), 6);
        for (a, b) in back.iter().zip(&g.values) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert!(unpack(&bytes[..7]).is_none());
        assert_eq!(unpack(&[]).unwrap(), Vec::<f64>::new());
    }

    #[test]
    fn only_consistent_grids_pass_the_check() {
        assert!(check(&grid()).is_ok());
        let mut g = grid();
        g.values.pop();
        assert_eq!(check(&g).unwrap_err(), "5 values for 6 combinations");
        let mut g = grid();
        g.axes.pop();
        assert_eq!(check(&g).unwrap_err(), "2 parameters but 1 axes");
        let mut g = grid();
        g.axes[1][0] = f64::NAN;
        assert!(check(&g).unwrap_err().contains("non-finite"));
        let mut g = grid();
        g.axes[0].clear();
        assert!(check(&g).unwrap_err().contains("empty"));
        let big = FullGrid {
            params: vec!["a".into(), "b".into()],
            axes: vec![vec![0.0; 2_000], vec![0.0; 2_000]],
            values: vec![],
        };
        assert!(check(&big).unwrap_err().contains("more than 2000000"));
        assert!(check(&FullGrid::default()).is_err());
    }
}
