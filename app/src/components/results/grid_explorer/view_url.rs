//! The explorer's view in the URL: the query keys, the view asked for ([`ViewRequest`], read
//! from the query) and the view shown ([`Choice`], written back as the URL of each option).

use std::collections::BTreeMap;

use leptos_router::params::ParamsMap;

use crate::api::{ApiError, GridView};
use crate::model::research::grid_fold::{Fold, ViewRequest, NO_Y};
use crate::url::encode;

/// Query key of the x parameter.
pub const X_KEY: &str = "x";
/// Query key of the y parameter (`none` for a line).
pub const Y_KEY: &str = "y";
/// Query key of the fold (`max`, `mean`, `median`, `slice`).
pub const FOLD_KEY: &str = "fold";
/// Prefix of the query keys that fix a parameter for a slice: `at_<name>=<value>`.
pub const AT_PREFIX: &str = "at_";

/// Whether a query key belongs to the explorer (the others are kept as they are).
pub fn is_view_key(key: &str) -> bool {
    key == X_KEY || key == Y_KEY || key == FOLD_KEY || key.starts_with(AT_PREFIX)
}

/// The explorer's part of the URL query: the view asked for (checked by the server).
impl ViewRequest {
    /// Reads the explorer's keys from query pairs (empty values count as absent); an `at_`
    /// value that is not a number is refused naming `at.<name>`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ViewRequest, ApiError> {
        let mut q = ViewRequest::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                X_KEY => q.x = Some(value.to_string()),
                Y_KEY => q.y = Some(value.to_string()),
                FOLD_KEY => q.fold = Some(value.to_string()),
                _ => {
                    let Some(name) = key.strip_prefix(AT_PREFIX) else {
                        continue;
                    };
                    let v: f64 = value
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| {
                            let shown: String = value.chars().take(40).collect();
                            let name: String = name.chars().take(40).collect();
                            ApiError::invalid(
                                format!("at.{name}"),
                                format!("not a number: {shown:?}"),
                            )
                        })?;
                    q.at.insert(name.to_string(), v);
                }
            }
        }
        Ok(q)
    }

    pub(super) fn from_map(map: &ParamsMap) -> Result<ViewRequest, ApiError> {
        ViewRequest::from_pairs(map.into_iter().map(|(k, v)| (k.as_ref(), v)))
    }
}

/// What the controls show and change: a view's parameters, as in the URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub x: String,
    pub y: Option<String>,
    pub fold: Fold,
    pub at: BTreeMap<String, f64>,
}

impl Choice {
    pub fn of(view: &GridView) -> Choice {
        Choice {
            x: view.x.clone(),
            y: view.y.clone(),
            fold: view.fold,
            at: view.at.clone(),
        }
    }

    /// With `x` along x; if it was on y, the old x goes to y (the axes swap).
    pub fn with_x(mut self, x: String) -> Choice {
        if self.y.as_deref() == Some(x.as_str()) {
            self.y = Some(std::mem::replace(&mut self.x, x));
        } else {
            self.x = x;
        }
        self
    }

    /// With `y` along y (`None`: a line); if it was on x, the axes swap, or (from a line) x
    /// becomes the first other of `params`.
    pub fn with_y(mut self, y: Option<String>, params: &[String]) -> Choice {
        if let Some(new_y) = &y {
            if *new_y == self.x {
                match self.y.take() {
                    Some(old_y) => self.x = old_y,
                    None => match params.iter().find(|p| *p != new_y) {
                        Some(other) => self.x = other.clone(),
                        None => return self,
                    },
                }
            }
        }
        self.y = y;
        self
    }

    pub fn with_fold(mut self, fold: Fold) -> Choice {
        self.fold = fold;
        self
    }

    pub fn with_at(mut self, name: String, value: f64) -> Choice {
        self.at.insert(name, value);
        self
    }

    /// The page's URL for this view: `path`, the `keep` pairs (the query's other keys), then
    /// `x`, `y`, `fold` and, for a slice, `at_<name>` of the parameters off the axes.
    pub fn href(&self, path: &str, keep: &[(String, String)]) -> String {
        let mut parts: Vec<String> = keep
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        parts.push(format!("{X_KEY}={}", encode(&self.x)));
        parts.push(format!(
            "{Y_KEY}={}",
            encode(self.y.as_deref().unwrap_or(NO_Y))
        ));
        parts.push(format!("{FOLD_KEY}={}", self.fold.as_str()));
        if self.fold == Fold::Slice {
            for (name, v) in &self.at {
                if *name != self.x && self.y.as_deref() != Some(name.as_str()) {
                    parts.push(format!("{AT_PREFIX}{}={v}", encode(name)));
                }
            }
        }
        format!("{path}?{}", parts.join("&"))
    }
}
