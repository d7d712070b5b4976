//! What the strategy API (`/api/check_strategy`, `/api/save_strategy`, `/api/list_strategies`,
//! `/api/get_strategy`, `/api/delete_strategy`) sends back: users' rule-language strategies
//! (issue 13), stored by name with numbered versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most strategies per page of the list.
pub const MAX_STRATEGIES_PER_PAGE: u32 = 100;

/// An error in a program, at its 1-based line and column (characters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleIssue {
    pub line: usize,
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A declared parameter of a program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyParam {
    pub name: String,
    /// `"int"` or `"float"`.
    pub kind: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

/// The answer of `/api/check_strategy`: a program that checks (`ok`, its name, parameters and
/// warm-up at the defaults) or every error found (`ok: false`, `errors` sorted by position).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyCheck {
    pub ok: bool,
    /// The program's `strategy "…"` name (when it checks).
    pub name: Option<String>,
    /// Declared parameters in declaration order (empty when it does not check).
    pub params: Vec<StrategyParam>,
    /// Bars of warm-up at the parameters' defaults (when it checks).
    pub lookback: Option<usize>,
    pub errors: Vec<RuleIssue>,
}

/// One version of a saved strategy (without its source).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyInfo {
    pub id: Uuid,
    /// From 1; every changed save of the same name adds one.
    pub version: i32,
    pub name: String,
    /// SHA-256 of the source, 64 hex digits.
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
}

/// The answer of `/api/save_strategy`: the version saved, and whether it is new (`created:
/// false` when the source equals the newest version's, which is returned as is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedStrategy {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub created: bool,
}

/// One version of a saved strategy with its source (`/api/get_strategy`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategySource {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub source: String,
    /// The program's declared parameters, in declaration order.
    #[serde(default)]
    pub params: Vec<StrategyParam>,
}

/// One page of `/api/list_strategies`: the newest version of each strategy, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyList {
    pub strategies: Vec<StrategyInfo>,
    /// Strategies over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The answer of `/api/delete_strategy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletedStrategy {
    pub id: Uuid,
    /// Versions removed.
    pub versions: i64,
}
