//! Training job: logistic regression predicting the next bar's direction from lagged returns,
//! trained by full-batch gradient descent, validated on the most recent bars, and backtested.
//!
//! Sample `i` (a bar) has features `x = (r_i, r_{i-1}, …, r_{i-L+1})`, the last `L`
//! close-to-close returns `r_i = C_i / C_{i-1} - 1` known at bar `i`'s close, and label
//! `y = 1` if `C_{i+1} > C_i`. Samples are split by time: the first part trains, the last
//! `validation_fraction` validates. Features are standardized with the training split's mean and
//! standard deviation. Model `p = σ(w·x + b)`, loss = mean binary cross-entropy
//! `-(y ln p + (1-y) ln(1-p))` (+ `l2/2·|w|²`), weights start at 0: fully deterministic.
//!
//! The validation backtest trades the model's signals with the engine's usual fills: long when
//! `p > 0.5`, short (flat if long-only) otherwise, decided on each validation bar's close.

use app::model::research::{EpochLoss, Limits, TrainRequest, TrainResult};

use super::backtest::{Sim, SimBars};
use super::data::Series;
use super::metrics::{compute_stats, TimeInfo};
use super::progress::{report, ProgressSink};
use super::strategy::Action;
use super::EngineError;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn bce(p: f64, y: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

/// Trains the model and backtests it on the validation period; see the module docs.
/// Progress "Epoch e/E, loss x.xxxx" after every epoch.
pub fn run_train(
    series: &Series,
    req: &TrainRequest,
    sink: &mut dyn ProgressSink,
) -> Result<TrainResult, EngineError> {
    series.checked()?;
    req.validate(&Limits::default())?;
    req.validate_against_bars(series.len())?;
    let c = &series.close;
    let n = c.len();
    let lags = req.lags;
    let mut r = vec![0.0; n];
    for i in 1..n {
        r[i] = c[i] / c[i - 1] - 1.0;
    }
    // Samples i = lags ..= n-2 (feature r_{i-lags+1} needs i-lags+1 ≥ 1, label needs i+1 < n).
    let first = lags;
    let samples = n - 1 - lags;
    let n_val = (samples as f64 * req.validation_fraction).round() as usize;
    let n_train = samples - n_val;
    let mut x = vec![0.0; samples * lags];
    let mut y = vec![0.0; samples];
    for s in 0..samples {
        let i = first + s;
        for j in 0..lags {
            x[s * lags + j] = r[i - j];
        }
        y[s] = if c[i + 1] > c[i] { 1.0 } else { 0.0 };
    }
    // Standardize with training statistics.
    for j in 0..lags {
        let col = (0..n_train).map(|s| x[s * lags + j]);
        let mean = col.clone().sum::<f64>() / n_train as f64;
        let var = col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n_train as f64;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for s in 0..samples {
            x[s * lags + j] = (x[s * lags + j] - mean) / sd;
        }
    }
    let predict = |w: &[f64], b: f64, s: usize| {
        let row = &x[s * lags..(s + 1) * lags];
        sigmoid(row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + b)
    };
    let loss = |w: &[f64], b: f64, range: std::ops::Range<usize>| {
        let m = range.len().max(1) as f64;
        range.map(|s| bce(predict(w, b, s), y[s])).sum::<f64>() / m
    };

    let mut w = vec![0.0; lags];
    let mut b = 0.0;
    let mut grad = vec![0.0; lags];
    let mut history = Vec::with_capacity(req.epochs);
    for epoch in 1..=req.epochs {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut gb = 0.0;
        for s in 0..n_train {
            let e = predict(&w, b, s) - y[s];
            for j in 0..lags {
                grad[j] += e * x[s * lags + j];
            }
            gb += e;
        }
        let m = n_train as f64;
        for j in 0..lags {
            w[j] -= req.learning_rate * (grad[j] / m + req.l2 * w[j]);
        }
        b -= req.learning_rate * gb / m;
        let train_loss = loss(&w, b, 0..n_train);
        let val_loss = loss(&w, b, n_train..samples);
        history.push(EpochLoss {
            epoch,
            train_loss,
            val_loss,
        });
        report(
            sink,
            epoch as u64,
            req.epochs as u64,
            format_args!("Epoch {epoch}/{}, loss {train_loss:.4}", req.epochs),
        )?;
    }

    // Validation accuracy and signals.
    let v0 = first + n_train; // first validation bar
    let mut correct = 0usize;
    let mut ups = 0usize;
    let mut actions = vec![Action::Hold; n - v0];
    let mut state = Action::Flat;
    let down = if req.account.long_only {
        Action::Flat
    } else {
        Action::Short
    };
    for s in n_train..samples {
        let p = predict(&w, b, s);
        let up = p > 0.5;
        if up == (y[s] == 1.0) {
            correct += 1;
        }
        if y[s] == 1.0 {
            ups += 1;
        }
        let want = if up { Action::Long } else { down };
        if want != state {
            actions[first + s - v0] = want;
            state = want;
        }
    }
    let (mut equity, mut trades) = (Vec::new(), Vec::new());
    let bars = SimBars {
        open: &series.open[v0..],
        close: &series.close[v0..],
        actions: &actions,
    };
    let sim = Sim::new(
        bars,
        0,
        req.account.cash,
        req.account.commission,
        &mut equity,
        &mut trades,
    );
    sim.finish();
    let ts = &series.ts[v0..];
    let stats = compute_stats(
        &equity,
        &trades,
        ts,
        &series.close[v0..],
        0,
        &TimeInfo::new(ts),
    );
    Ok(TrainResult {
        epochs: history,
        val_accuracy: correct as f64 / n_val.max(1) as f64,
        val_up_share: ups as f64 / n_val.max(1) as f64,
        weights: w,
        bias: b,
        validation_start_bar: v0,
        backtest: stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::sample_series;
    use crate::engine::progress::{NoProgress, Recorder};

    fn request(epochs: usize) -> TrainRequest {
        TrainRequest {
            lags: 3,
            epochs,
            learning_rate: 0.5,
            ..TrainRequest::new("d")
        }
    }

    #[test]
    fn learns_a_predictable_series() {
        // Alternating up/down closes: the last return's sign predicts the next move perfectly.
        let mut s = sample_series(300, 1);
        for i in 0..s.len() {
            let c = if i % 2 == 0 { 100.0 } else { 101.0 };
            s.close[i] = c;
            s.open[i] = c;
            s.high[i] = c;
            s.low[i] = c;
        }
        let res = run_train(&s, &request(300), &mut NoProgress).unwrap();
        assert_eq!(res.epochs.len(), 300);
        assert!(res.epochs[299].train_loss < res.epochs[0].train_loss);
        assert_eq!(res.val_accuracy, 1.0);
        assert!(res.backtest.trades > 0);
    }

    #[test]
    fn is_deterministic_and_reports_epochs() {
        let s = sample_series(500, 4);
        let mut rec = Recorder::default();
        let a = run_train(&s, &request(250), &mut rec).unwrap();
        let b = run_train(&s, &request(250), &mut NoProgress).unwrap();
        assert_eq!(a, b);
        let reports = rec.reports();
        assert!(reports.iter().map(|r| r.0).eq(1..=250), "every epoch");
        assert!(reports[0].2.starts_with("Epoch 1/250, loss 0."));
        assert!((0.0..=1.0).contains(&a.val_accuracy));
        // 500 bars, 3 lags: 496 samples, 149 validate; validation starts at bar 3 + 347.
        assert_eq!(a.validation_start_bar, 350);
    }

    #[test]
    fn refuses_too_little_data() {
        let s = sample_series(20, 4);
        let e = run_train(&s, &request(10), &mut NoProgress).unwrap_err();
        assert!(
            matches!(e, EngineError::InvalidInput { ref field, .. } if field == "validation_fraction")
        );
    }

    #[test]
    fn diverging_training_gives_a_result_that_reads_back_from_json() {
        // The largest learning rate and L2 penalty allowed make gradient descent blow up:
        // weights go to ±∞ and then NaN, and JSON writes those as null.
        let s = sample_series(300, 3);
        let req = TrainRequest {
            learning_rate: 10.0,
            l2: 1000.0,
            ..request(200)
        };
        let res = run_train(&s, &req, &mut NoProgress).unwrap();
        assert!(
            res.weights.iter().any(|w| !w.is_finite()),
            "{:?}",
            res.weights
        );
        let value = serde_json::to_value(&res).unwrap();
        assert!(value["weights"][0].is_null(), "{}", value["weights"]);
        let back: TrainResult = serde_json::from_value(value).unwrap();
        assert_eq!(back.epochs.len(), 200);
        assert!(back.weights.iter().all(|w| w.is_nan()));
        assert_eq!(back.backtest.trades, res.backtest.trades);
    }
}
