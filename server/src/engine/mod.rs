//! The research engine: pure, synchronous compute over in-memory bars.
//!
//! No IO, no async, no database: data and a [`ProgressSink`] go in, a report comes out. The job
//! handlers own loading datasets, persisting progress/checkpoints and storing results.
//!
//! Conventions follow backtesting.py 0.6 so numbers compare one to one (see `backtest` and
//! `metrics`): signals on a bar's close, market orders filled at the next bar's open, all
//! available equity in whole units, commission on both fills.

pub mod backtest;
pub mod data;
pub mod downsample;
pub mod indicators;
pub mod metrics;
pub mod optimize;
pub mod progress;
pub mod robustness;
pub mod rules;
pub mod search_robustness;
pub mod strategy;
pub mod train;
pub mod walkforward;

use app::model::FieldError;

pub use backtest::run_backtest;
pub use data::{parse_csv, sample_series, Series};
pub use optimize::{run_optimize, OptimizeCheckpoint};
pub use progress::{Flow, NoProgress, ProgressSink};
pub use train::run_train;
pub use walkforward::{run_walkforward, WalkForwardCheckpoint};

/// Why an engine entry point did not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The sink asked to stop (cancellation or shutdown); nothing was produced.
    #[error("stopped before completion")]
    Stopped,
    /// A request field is invalid for this data; safe to show to the user.
    #[error("{field}: {message}")]
    InvalidInput {
        /// Dotted field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A checkpoint offered for resumption does not belong to this request.
    #[error("checkpoint does not match the job: {0}")]
    BadCheckpoint(String),
}

impl From<FieldError> for EngineError {
    fn from(e: FieldError) -> Self {
        EngineError::InvalidInput {
            field: e.field,
            message: e.message,
        }
    }
}
