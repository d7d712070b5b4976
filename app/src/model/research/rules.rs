//! [`RuleRef`]: which rule-language strategy (issue 13) a backtest or optimization runs, when it
//! runs a user's program rather than a built-in [`StrategyKind`](super::StrategyKind).
//!
//! The browser cannot check a program (the parser is server-only, to keep the WASM small), so
//! [`RuleRef::validate`] checks only the reference's shape; the server checks the program, the
//! `params`/`grid` against its declared parameters and the dataset's length before any job row
//! exists, and records the strategy's id, version, content hash and name in the job's arguments.

use serde::{Deserialize, Serialize};

use crate::model::FieldError;

/// The rule language's functions, in the order its errors list them: the indicators over one
/// series and a window (`sma(close, n)`, …), then the rest. The server's checker and the
/// editor's highlighter both read this list.
pub const RULE_FUNCTIONS: [&str; 17] = [
    "sma",
    "ema",
    "wma",
    "rsi",
    "stdev",
    "zscore",
    "highest",
    "lowest",
    "roc",
    "atr",
    "macd",
    "bollinger",
    "crosses_above",
    "crosses_below",
    "min",
    "max",
    "abs",
];

/// Largest program source, in bytes (64 KiB; the engine's limit too).
pub const MAX_RULE_SOURCE_BYTES: usize = 64 * 1024;

/// A saved strategy (`{"id": "<uuid>", "version": 2}`; without `version`, the newest) or an
/// inline program (`{"source": "strategy \"…\"\n…"}`).
///
/// `content_hash` (SHA-256 of the source, hex) and `name` are filled in by the server when it
/// accepts the job (and `version` with the newest one's), so the job's stored request says
/// exactly what ran; a request that gives `content_hash` is refused if the source differs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    /// A saved strategy's id (a UUID as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The saved strategy's version (from 1); the newest when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// An inline program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// SHA-256 of the source (64 lowercase hex digits), recorded by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The program's name, recorded by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RuleRef {
    /// A saved strategy, at `version` (`None`: the newest).
    pub fn saved(id: impl Into<String>, version: Option<u32>) -> RuleRef {
        RuleRef {
            id: Some(id.into()),
            version,
            ..RuleRef::default()
        }
    }

    /// An inline program.
    pub fn inline(source: impl Into<String>) -> RuleRef {
        RuleRef {
            source: Some(source.into()),
            ..RuleRef::default()
        }
    }

    /// Checks the reference's shape (not the program): exactly one of `id` and `source`, a
    /// UUID, a version from 1, a source of at most 64 KiB, a well-formed hash. `field` prefixes
    /// the errors (`"rules"`).
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        match (&self.id, &self.source) {
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    field,
                    "give either id (a saved strategy) or source (an inline program), not both",
                ))
            }
            (None, None) => {
                return Err(FieldError::new(
                    field,
                    "give id (a saved strategy, with an optional version) or source (an inline program)",
                ))
            }
            (Some(id), None) => {
                if uuid::Uuid::parse_str(id.trim()).is_err() {
                    return Err(FieldError::new(
                        format!("{field}.id"),
                        format!(
                            "not a valid strategy id: {:?}",
                            id.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                if self.version == Some(0) {
                    return Err(FieldError::new(
                        format!("{field}.version"),
                        "versions count from 1",
                    ));
                }
            }
            (None, Some(source)) => {
                if self.version.is_some() {
                    return Err(FieldError::new(
                        format!("{field}.version"),
                        "a version names a saved strategy: give it with id, not with source",
                    ));
                }
                if source.len() > MAX_RULE_SOURCE_BYTES {
                    return Err(FieldError::new(
                        format!("{field}.source"),
                        format!(
                            "the program has {} bytes; the limit is {MAX_RULE_SOURCE_BYTES} (64 KiB)",
                            source.len()
                        ),
                    ));
                }
            }
        }
        if let Some(hash) = &self.content_hash {
            if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(FieldError::new(
                    format!("{field}.content_hash"),
                    "must be 64 lowercase hex digits (the SHA-256 of the source)",
                ));
            }
        }
        if let Some(name) = &self.name {
            if name.chars().count() > 100 {
                return Err(FieldError::new(
                    format!("{field}.name"),
                    "must be at most 100 characters",
                ));
            }
        }
        Ok(())
    }
}

/// The built-in a request names when it runs rules and leaves `strategy` out (never run: the
/// rules are).
pub(super) fn rules_placeholder() -> super::StrategyKind {
    super::StrategyKind::SmaCross
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_a_saved_strategy_or_an_inline_program() {
        let id = "3f1c0000-0000-4000-8000-000000000001";
        assert!(RuleRef::saved(id, Some(2)).validate("rules").is_ok());
        assert!(RuleRef::saved(id, None).validate("rules").is_ok());
        assert!(RuleRef::inline("strategy \"x\"").validate("rules").is_ok());
        let both = RuleRef {
            source: Some("x".into()),
            ..RuleRef::saved(id, None)
        };
        assert_eq!(both.validate("rules").unwrap_err().field, "rules");
        assert_eq!(
            RuleRef::default().validate("rules").unwrap_err().field,
            "rules"
        );
        assert_eq!(
            RuleRef::saved("nope", None)
                .validate("rules")
                .unwrap_err()
                .field,
            "rules.id"
        );
        assert_eq!(
            RuleRef::saved(id, Some(0))
                .validate("rules")
                .unwrap_err()
                .field,
            "rules.version"
        );
        let big = RuleRef::inline("#".repeat(MAX_RULE_SOURCE_BYTES + 1));
        assert_eq!(big.validate("rules").unwrap_err().field, "rules.source");
        let bad_hash = RuleRef {
            content_hash: Some("ABC".into()),
            ..RuleRef::saved(id, None)
        };
        assert_eq!(
            bad_hash.validate("rules").unwrap_err().field,
            "rules.content_hash"
        );
    }

    #[test]
    fn unknown_fields_are_refused_and_absent_ones_not_written() {
        assert!(serde_json::from_str::<RuleRef>(r#"{"id":"x","verison":2}"#).is_err());
        let json = serde_json::to_value(RuleRef::saved("x", Some(1))).unwrap();
        assert_eq!(json, serde_json::json!({"id": "x", "version": 1}));
    }
}
