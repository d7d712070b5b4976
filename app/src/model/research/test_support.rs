//! Request builders shared by the research module's unit tests.

use super::{Constraint, Metric, OptimizeRequest, ParamRange, Search, StrategyKind};

pub(super) fn sma_grid(n1: ParamRange, n2: ParamRange) -> OptimizeRequest {
    OptimizeRequest {
        dataset_id: "d".into(),
        search: Search {
            strategy: StrategyKind::SmaCross,
            rules: None,
            grid: [("n1".to_string(), n1), ("n2".to_string(), n2)]
                .into_iter()
                .collect(),
            constraint: Some(Constraint::LessThan {
                a: "n1".into(),
                b: "n2".into(),
            }),
            metric: Metric::Sharpe,
            robustness: Default::default(),
        },
        top_n: 5,
        account: Default::default(),
    }
}

pub(super) fn r(start: f64, stop: f64, step: f64) -> ParamRange {
    ParamRange::Range { start, stop, step }
}
