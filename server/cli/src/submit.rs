//! Building a job request from `runboard submit` flags (or a JSON file): the same request
//! objects the browser sends to `/api/submit_job`. The server validates them; this only shapes
//! them, with errors that name the flag.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};

/// The job kinds `submit` knows, as typed on the command line and as sent.
pub fn kind_name(kind: &str) -> Result<&'static str> {
    Ok(match kind {
        "backtest" => "backtest",
        "optimize" => "optimize",
        "walk-forward" | "walk_forward" => "walk_forward",
        "train" => "train",
        other => {
            bail!("unknown job kind {other:?}: expected backtest, optimize, walk-forward or train")
        }
    })
}

/// `name=value` → (name, value).
fn split_pair<'a>(flag: &str, raw: &'a str) -> Result<(&'a str, &'a str)> {
    raw.split_once('=')
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| anyhow!("{flag} {raw:?}: expected NAME=VALUE"))
}

fn number(flag: &str, raw: &str) -> Result<f64> {
    let v: f64 = raw
        .parse()
        .with_context(|| format!("{flag}: {raw:?} is not a number"))?;
    if !v.is_finite() {
        bail!("{flag}: {raw:?} is not a finite number");
    }
    Ok(v)
}

/// `n1=2:200:1` → `{"range": {"start": 2, "stop": 200, "step": 1}}`.
pub fn range(raw: &str) -> Result<(String, Value)> {
    let (name, spec) = split_pair("--range", raw)?;
    let parts: Vec<&str> = spec.split(':').collect();
    let [start, stop, step] = parts.as_slice() else {
        bail!("--range {raw:?}: expected NAME=START:STOP:STEP, e.g. n1=2:200:1");
    };
    Ok((
        name.to_string(),
        json!({"range": {
            "start": number("--range", start)?,
            "stop": number("--range", stop)?,
            "step": number("--range", step)?,
        }}),
    ))
}

/// `n2=30,50,80` → `{"list": [30, 50, 80]}`.
pub fn list(raw: &str) -> Result<(String, Value)> {
    let (name, spec) = split_pair("--list", raw)?;
    let values = spec
        .split(',')
        .map(|v| number("--list", v.trim()))
        .collect::<Result<Vec<f64>>>()?;
    Ok((name.to_string(), json!({ "list": values })))
}

/// `--set key=JSON` (a bare word is taken as a string): any other request field.
pub fn set(raw: &str) -> Result<(String, Value)> {
    let (key, value) = split_pair("--set", raw)?;
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
    Ok((key.to_string(), value))
}

/// The request flags of `submit`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct RequestFlags {
    /// Read the whole request from this JSON file (other flags then add or override fields).
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// Dataset id (see the web page's dataset list or /api/list_datasets).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Strategy: sma_cross, rsi_reversion or donchian_breakout.
    #[arg(long)]
    pub strategy: Option<String>,
    /// A backtest parameter, NAME=VALUE (repeatable).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// A grid range, NAME=START:STOP:STEP (repeatable).
    #[arg(long = "range")]
    pub ranges: Vec<String>,
    /// A grid list, NAME=V1,V2,… (repeatable).
    #[arg(long = "list")]
    pub lists: Vec<String>,
    /// Metric to maximize (sharpe, return_pct, sqn, …).
    #[arg(long)]
    pub metric: Option<String>,
    /// Walk-forward folds.
    #[arg(long)]
    pub folds: Option<u64>,
    /// Walk-forward mode: rolling or anchored.
    #[arg(long)]
    pub mode: Option<String>,
    /// Starting cash.
    #[arg(long)]
    pub cash: Option<f64>,
    /// Commission rate (0.002 = 0.2 %).
    #[arg(long)]
    pub commission: Option<f64>,
    /// Never go short.
    #[arg(long)]
    pub long_only: bool,
    /// Training: lagged returns used as features.
    #[arg(long)]
    pub lags: Option<u64>,
    /// Training: epochs.
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Any other request field, KEY=JSON (repeatable), e.g. --set 'robustness={"draws":2000}'.
    #[arg(long = "set")]
    pub sets: Vec<String>,
}

/// The request object for `kind` from the flags.
pub fn build_request(kind: &str, flags: &RequestFlags) -> Result<Value> {
    let kind = kind_name(kind)?;
    let mut req: Map<String, Value> = match &flags.json {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--json {}: could not read it", path.display()))?;
            match serde_json::from_str(&text)
                .with_context(|| format!("--json {}: not valid JSON", path.display()))?
            {
                Value::Object(m) => m,
                _ => bail!("--json {}: expected a JSON object", path.display()),
            }
        }
        None => Map::new(),
    };
    if let Some(k) = req.get("kind").and_then(Value::as_str) {
        if k != kind {
            bail!("--json: the file's kind {k:?} differs from {kind:?}");
        }
    }
    req.insert("kind".into(), kind.into());
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            req.insert(k.into(), v);
        }
    };
    put("dataset_id", flags.dataset.clone().map(Value::from));
    put("strategy", flags.strategy.clone().map(Value::from));
    put("metric", flags.metric.clone().map(Value::from));
    put("folds", flags.folds.map(Value::from));
    put("mode", flags.mode.clone().map(Value::from));
    put("cash", flags.cash.map(Value::from));
    put("commission", flags.commission.map(Value::from));
    put("lags", flags.lags.map(Value::from));
    put("epochs", flags.epochs.map(Value::from));
    if flags.long_only {
        put("long_only", Some(true.into()));
    }
    if !flags.params.is_empty() {
        let mut params = Map::new();
        for raw in &flags.params {
            let (k, v) = split_pair("--param", raw)?;
            params.insert(k.into(), number("--param", v)?.into());
        }
        req.insert("params".into(), params.into());
    }
    if !flags.ranges.is_empty() || !flags.lists.is_empty() {
        let mut grid = match req.remove("grid") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for raw in &flags.ranges {
            let (k, v) = range(raw)?;
            grid.insert(k, v);
        }
        for raw in &flags.lists {
            let (k, v) = list(raw)?;
            grid.insert(k, v);
        }
        req.insert("grid".into(), grid.into());
    }
    for raw in &flags.sets {
        let (k, v) = set(raw)?;
        req.insert(k, v);
    }
    Ok(Value::Object(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_the_browser_s_request() {
        let flags = RequestFlags {
            dataset: Some("d1".into()),
            strategy: Some("sma_cross".into()),
            ranges: vec!["n1=2:50:1".into()],
            lists: vec!["n2=60,80".into()],
            metric: Some("sharpe".into()),
            commission: Some(0.002),
            sets: vec![r#"robustness={"draws":2000}"#.into(), "top_n=5".into()],
            ..RequestFlags::default()
        };
        let req = build_request("optimize", &flags).unwrap();
        assert_eq!(
            req,
            json!({"kind": "optimize", "dataset_id": "d1", "strategy": "sma_cross",
                   "metric": "sharpe", "commission": 0.002,
                   "grid": {"n1": {"range": {"start": 2.0, "stop": 50.0, "step": 1.0}},
                            "n2": {"list": [60.0, 80.0]}},
                   "robustness": {"draws": 2000}, "top_n": 5})
        );
        assert_eq!(kind_name("walk-forward").unwrap(), "walk_forward");
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let e = range("n1=2:50").unwrap_err().to_string();
        assert!(e.starts_with("--range \"n1=2:50\""), "{e}");
        let e = list("n2=1,x").unwrap_err().to_string();
        assert!(e.contains("--list") && e.contains("\"x\""), "{e}");
        let e = build_request(
            "backtest",
            &RequestFlags {
                params: vec!["n1".into()],
                ..RequestFlags::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("--param") && e.contains("NAME=VALUE"), "{e}");
        assert!(kind_name("sweep").is_err());
        assert!(number("--cash", "inf").is_err());
    }
}
