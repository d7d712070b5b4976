//! [`Metric`]: the statistic an optimization maximizes, and how to read it from [`Stats`].

use serde::{Deserialize, Serialize};

use super::results::Stats;

/// The statistic an optimization maximizes. Serialized in snake_case (`"sharpe"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Return [%].
    ReturnPct,
    /// Equity Final [$].
    EquityFinal,
    /// Sharpe ratio.
    #[default]
    Sharpe,
    /// Sortino ratio.
    Sortino,
    /// Calmar ratio.
    Calmar,
    /// CAGR [%].
    CagrPct,
    /// Win rate [%].
    WinRatePct,
    /// Profit factor.
    ProfitFactor,
    /// Expectancy [%].
    ExpectancyPct,
    /// System Quality Number (backtesting.py's default objective).
    Sqn,
    /// Max. drawdown [%] (negative; maximizing it prefers the shallowest drawdown).
    MaxDrawdownPct,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 11] = [
        Metric::ReturnPct,
        Metric::EquityFinal,
        Metric::Sharpe,
        Metric::Sortino,
        Metric::Calmar,
        Metric::CagrPct,
        Metric::WinRatePct,
        Metric::ProfitFactor,
        Metric::ExpectancyPct,
        Metric::Sqn,
        Metric::MaxDrawdownPct,
    ];

    /// Human label (backtesting.py's stat name).
    pub fn label(self) -> &'static str {
        match self {
            Metric::ReturnPct => "Return [%]",
            Metric::EquityFinal => "Equity Final [$]",
            Metric::Sharpe => "Sharpe Ratio",
            Metric::Sortino => "Sortino Ratio",
            Metric::Calmar => "Calmar Ratio",
            Metric::CagrPct => "CAGR [%]",
            Metric::WinRatePct => "Win Rate [%]",
            Metric::ProfitFactor => "Profit Factor",
            Metric::ExpectancyPct => "Expectancy [%]",
            Metric::Sqn => "SQN",
            Metric::MaxDrawdownPct => "Max. Drawdown [%]",
        }
    }

    /// Reads this metric from full stats.
    pub fn of(self, s: &Stats) -> Option<f64> {
        match self {
            Metric::ReturnPct => s.return_pct,
            Metric::EquityFinal => s.equity_final,
            Metric::Sharpe => s.sharpe,
            Metric::Sortino => s.sortino,
            Metric::Calmar => s.calmar,
            Metric::CagrPct => s.cagr_pct,
            Metric::WinRatePct => s.win_rate_pct,
            Metric::ProfitFactor => s.profit_factor,
            Metric::ExpectancyPct => s.expectancy_pct,
            Metric::Sqn => s.sqn,
            Metric::MaxDrawdownPct => s.max_drawdown_pct,
        }
    }
}
