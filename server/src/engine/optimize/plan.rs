//! A search's one check. A grid search or a walk-forward, of a built-in or of a rule program,
//! is checked against the limits and its data once, by [`SearchPlan::check`], into what every
//! later step needs: the expanded grid, the folds and the windows its runs are evaluated over.
//! A handler checks once per job (a chunk, once per chunk); the sweep, the chunks and the
//! folds take the plan and check nothing again.

use app::model::research::{FoldWindows, GridSpec, Limits};

use super::super::data::Series;
use super::super::rules::{check_rule_walkforward, Program, RuleGrid};
use super::super::EngineError;
use super::{ChunkJob, Sweep};

/// A search's grid after its checks: a built-in's or a rule program's.
#[derive(Clone, Debug)]
enum PlanGrid {
    Builtin(GridSpec),
    Rules(RuleGrid),
}

/// A checked search: its expanded grid, its folds (a walk-forward's) and the windows each run
/// is evaluated over (the whole dataset, or each fold's in-sample window).
#[derive(Clone, Debug)]
pub struct SearchPlan {
    grid: PlanGrid,
    folds: Vec<FoldWindows>,
    windows: Vec<(usize, usize)>,
}

impl SearchPlan {
    /// Checks `job` (of `program` when it runs one) against `limits` and `series`: the
    /// settings, the grid (expanded once), the folds, and that the largest windows warm up
    /// within the data (a walk-forward's shortest in-sample window).
    pub fn check(
        series: &Series,
        job: ChunkJob<'_>,
        program: Option<&Program>,
        limits: &Limits,
    ) -> Result<SearchPlan, EngineError> {
        series.checked()?;
        let n = series.len();
        let (grid, folds) = match (job, program) {
            (ChunkJob::Optimize(req), None) => {
                let spec = req.grid_spec(limits)?;
                req.check_warmup(&spec, n)?;
                (PlanGrid::Builtin(spec), Vec::new())
            }
            (ChunkJob::Optimize(req), Some(program)) => {
                req.check_settings(limits)?;
                let grid =
                    program.grid(&req.search.grid, req.search.constraint.as_ref(), limits)?;
                grid.check_warmup(n, "grid", "the dataset")?;
                (PlanGrid::Rules(grid), Vec::new())
            }
            (ChunkJob::WalkForward(req), None) => {
                let spec = req.grid_spec(limits)?;
                let folds = req.fit(Some(&spec), n)?;
                (PlanGrid::Builtin(spec), folds)
            }
            (ChunkJob::WalkForward(req), Some(program)) => {
                let (grid, folds) = check_rule_walkforward(program, req, Some(n), limits)?;
                (PlanGrid::Rules(grid), folds)
            }
        };
        let windows = match job {
            ChunkJob::Optimize(_) => vec![(0, n)],
            ChunkJob::WalkForward(_) => folds.iter().map(|w| w.in_sample).collect(),
        };
        Ok(SearchPlan {
            grid,
            folds,
            windows,
        })
    }

    /// Runs per window: the grid's admissible combinations.
    pub fn runs(&self) -> u64 {
        match &self.grid {
            PlanGrid::Builtin(g) => g.runs,
            PlanGrid::Rules(g) => g.runs,
        }
    }

    /// Every unit of the search: runs × windows (what the parent splits into chunks).
    pub fn units(&self) -> u64 {
        self.runs() * self.windows.len() as u64
    }

    /// A walk-forward's folds (none for a grid search).
    pub fn folds(&self) -> &[FoldWindows] {
        &self.folds
    }

    /// The `[start, end)` bar windows each run is evaluated over, in unit order.
    pub fn windows(&self) -> &[(usize, usize)] {
        &self.windows
    }

    /// The plan's sweep over `series`: its runs and their shared indicator cache (a built-in's
    /// cache holds at most `cache_budget` bytes). `job` and `program` are those it was checked
    /// with.
    pub(crate) fn sweep<'a>(
        &'a self,
        series: &'a Series,
        job: ChunkJob<'_>,
        program: Option<&'a Program>,
        cache_budget: usize,
    ) -> Result<Sweep<'a>, EngineError> {
        let (search, account) = job.parts();
        Ok(match (&self.grid, program) {
            (PlanGrid::Builtin(spec), _) => Sweep::with_cache_budget(
                series,
                spec,
                search.constraint.as_ref(),
                account,
                cache_budget,
            ),
            (PlanGrid::Rules(grid), Some(program)) => {
                Sweep::for_rules(series, program, grid, account)
            }
            (PlanGrid::Rules(_), None) => {
                return Err(EngineError::InvalidInput {
                    field: "rules".into(),
                    message: "the search was checked for a rule program, and none was given".into(),
                })
            }
        })
    }
}
