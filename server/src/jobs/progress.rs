//! Progress reporting for handlers: throttled writes, ETA, checkpoints, heartbeats, cancel.
//!
//! The handler (a synchronous compute loop on a blocking thread) holds a [`Reporter`]. Each
//! `report(done, total, message)` is cheap: it decides whether this is a milestone worth writing
//! (the seed's ~1 % for optimize, ~2 % for walk-forward; the final 100 % always), updates the
//! rate estimate, and publishes the latest snapshot on a watch channel. It never waits for the
//! database. A writer task ([`run_writer`]) drains that channel: at most one write per
//! `min_interval` (coalescing milestones in between, so the latest is always what lands), and a
//! heartbeat when nothing changed for `heartbeat_interval`. The store's answer tells it whether
//! a cancel was requested or the lease was lost; the next `report` then returns
//! [`Flow::Stop`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use super::joblog::JobLog;
use super::store::{JobStore, ProgressUpdate, StoreError};

/// Never write progress more often than this (a few times per second).
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_millis(250);
/// Write at least this often while running, even without progress: that write is the heartbeat.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// The seed's cap for optimize-style jobs (~1 % steps).
pub const DEFAULT_MAX_UPDATES: u64 = 100;

pub use crate::engine::Flow;
use crate::engine::ProgressSink;

/// Why a run was asked to stop; set by the writer task and the worker, read by the reporter.
#[derive(Debug, Default)]
pub struct RunFlags {
    pub cancel_requested: AtomicBool,
    pub shutdown: AtomicBool,
    pub lease_lost: AtomicBool,
}

impl RunFlags {
    pub fn should_stop(&self) -> bool {
        self.cancel_requested.load(Ordering::Relaxed)
            || self.shutdown.load(Ordering::Relaxed)
            || self.lease_lost.load(Ordering::Relaxed)
    }
}

/// Reporter tuning.
#[derive(Clone, Copy, Debug)]
pub struct ReporterConfig {
    /// At most this many progress milestones per run (plus the final one).
    pub max_updates: u64,
    pub min_interval: Duration,
    pub heartbeat_interval: Duration,
}

impl Default for ReporterConfig {
    fn default() -> Self {
        ReporterConfig {
            max_updates: DEFAULT_MAX_UPDATES,
            min_interval: DEFAULT_MIN_INTERVAL,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
        }
    }
}

/// Picks the reports worth writing: one per `1/max_updates` of the total, and the last.
#[derive(Clone, Debug)]
pub struct Throttle {
    max_updates: u64,
    last_bucket: Option<u64>,
}

impl Throttle {
    pub fn new(max_updates: u64) -> Throttle {
        Throttle {
            max_updates: max_updates.max(1),
            last_bucket: None,
        }
    }

    /// True when `done/total` has entered a new bucket, or the work is complete.
    pub fn is_milestone(&mut self, done: u64, total: u64) -> bool {
        if total == 0 {
            return false;
        }
        let done = done.min(total);
        let bucket = ((done as u128 * self.max_updates as u128) / total as u128) as u64;
        if done == total || self.last_bucket != Some(bucket) {
            let fresh = self.last_bucket != Some(bucket);
            self.last_bucket = Some(bucket);
            return fresh || done == total;
        }
        false
    }
}

/// An exponentially weighted rate of progress (as tqdm and indicatif smooth theirs), and the
/// ETA it implies. `None` until there is enough signal: two samples at least
/// `MIN_SPAN_SECS` apart.
#[derive(Clone, Debug)]
pub struct RateEstimator {
    /// Weight of the newest interval's rate.
    alpha: f64,
    first: Option<(f64, u64)>,
    last: Option<(f64, u64)>,
    ewma: Option<f64>,
}

impl RateEstimator {
    pub const DEFAULT_ALPHA: f64 = 0.3;
    pub const MIN_SPAN_SECS: f64 = 0.5;

    pub fn new(alpha: f64) -> RateEstimator {
        RateEstimator {
            alpha: alpha.clamp(0.01, 1.0),
            first: None,
            last: None,
            ewma: None,
        }
    }

    /// Records that `done` units were complete `t` seconds after start.
    pub fn observe(&mut self, t: f64, done: u64) {
        if let Some((t0, d0)) = self.last {
            let dt = t - t0;
            if dt <= 0.0 || done < d0 {
                return;
            }
            let rate = (done - d0) as f64 / dt;
            self.ewma = Some(match self.ewma {
                None => rate,
                Some(prev) => self.alpha * rate + (1.0 - self.alpha) * prev,
            });
        } else {
            self.first = Some((t, done));
        }
        self.last = Some((t, done));
    }

    /// Units per second, once there is enough signal.
    pub fn rate(&self) -> Option<f64> {
        let (t0, _) = self.first?;
        let (t1, _) = self.last?;
        if t1 - t0 < Self::MIN_SPAN_SECS {
            return None;
        }
        self.ewma.filter(|r| r.is_finite() && *r > 0.0)
    }

    /// Seconds left for `total - done` units at the current rate.
    pub fn eta(&self, done: u64, total: u64) -> Option<f64> {
        let rate = self.rate()?;
        Some(total.saturating_sub(done) as f64 / rate)
    }
}

/// What the reporter publishes: the latest progress, and the latest checkpoint with a sequence
/// number so the writer saves each checkpoint once even when updates are coalesced.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub update: ProgressUpdate,
    pub checkpoint: Option<Arc<Value>>,
    pub checkpoint_seq: u64,
}

/// The handler's progress handle (sync; lives on the compute thread).
pub struct Reporter {
    tx: watch::Sender<Snapshot>,
    throttle: Throttle,
    rate: RateEstimator,
    started: Instant,
    flags: Arc<RunFlags>,
    last: Snapshot,
}

impl Reporter {
    /// A reporter and the receiving end for [`run_writer`].
    pub fn new(
        config: ReporterConfig,
        flags: Arc<RunFlags>,
    ) -> (Reporter, watch::Receiver<Snapshot>) {
        let (tx, rx) = watch::channel(Snapshot::default());
        (
            Reporter {
                tx,
                throttle: Throttle::new(config.max_updates),
                rate: RateEstimator::new(RateEstimator::DEFAULT_ALPHA),
                started: Instant::now(),
                flags,
                last: Snapshot::default(),
            },
            rx,
        )
    }

    /// Reports `done` of `total` units with a message such as "Run 45/100". Cheap; call it as
    /// often as convenient. Returns [`Flow::Stop`] when the run should end.
    pub fn report(&mut self, done: u64, total: u64, message: &str) -> Flow {
        if self.throttle.is_milestone(done, total) {
            let done = done.min(total);
            self.rate
                .observe(self.started.elapsed().as_secs_f64(), done);
            self.last.update = ProgressUpdate {
                progress: done as f64 / total as f64,
                message: Some(message.to_string()),
                eta_seconds: self.rate.eta(done, total),
                rate_per_second: self.rate.rate(),
                checkpoint: None,
            };
            self.publish();
        }
        self.flow()
    }

    /// Offers a checkpoint: saved with the next progress write, so a rescued job resumes here.
    pub fn checkpoint(&mut self, checkpoint: Value) {
        self.last.checkpoint = Some(Arc::new(checkpoint));
        self.last.checkpoint_seq += 1;
        self.publish();
    }

    /// Whether to go on, without reporting.
    pub fn flow(&self) -> Flow {
        if self.flags.should_stop() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    fn publish(&self) {
        // The receiver only goes away once the run is over; nothing to do then.
        let _ = self.tx.send(self.last.clone());
    }
}

/// The engine reports straight into the job system through this.
impl ProgressSink for Reporter {
    fn report(&mut self, done: u64, total: u64, message: &str) -> Flow {
        Reporter::report(self, done, total, message)
    }

    fn checkpoint(&mut self, checkpoint: &Value) {
        Reporter::checkpoint(self, checkpoint.clone())
    }
}

/// Drains a reporter's snapshots into the store until the reporter is dropped; heartbeats in
/// between. `done` is cancelled when the handler has returned, so the final write is not held
/// back by the rate limit. Returns how many progress writes it made.
#[allow(clippy::too_many_arguments)]
pub async fn run_writer(
    store: JobStore,
    id: Uuid,
    lease: Uuid,
    mut rx: watch::Receiver<Snapshot>,
    flags: Arc<RunFlags>,
    log: Arc<Mutex<JobLog>>,
    config: ReporterConfig,
    done: tokio_util::sync::CancellationToken,
) -> u64 {
    let mut writes = 0u64;
    let mut saved_checkpoint = 0u64;
    loop {
        let changed = tokio::select! {
            changed = rx.changed() => changed.is_ok(),
            _ = tokio::time::sleep(config.heartbeat_interval) => {
                match store.heartbeat(id, lease).await {
                    Ok(ack) => note_ack(&flags, &log, ack.cancel_requested),
                    Err(e) => if note_error(&flags, &log, e) { return writes },
                }
                continue;
            }
        };
        if !changed {
            return writes;
        }
        let snapshot = rx.borrow_and_update().clone();
        let mut update = snapshot.update.clone();
        let new_checkpoint = snapshot.checkpoint_seq > saved_checkpoint;
        if new_checkpoint {
            update.checkpoint = snapshot.checkpoint.as_deref().cloned();
        }
        match store.update_progress(id, lease, &update).await {
            Ok(ack) => {
                writes += 1;
                if new_checkpoint {
                    saved_checkpoint = snapshot.checkpoint_seq;
                }
                if let Ok(mut log) = log.lock() {
                    let pct = (update.progress * 100.0).floor();
                    let msg = update.message.as_deref().unwrap_or("");
                    let cp = if new_checkpoint {
                        " (checkpoint saved)"
                    } else {
                        ""
                    };
                    log.line(&format!("progress {pct:.0}% {msg}{cp}"));
                }
                note_ack(&flags, &log, ack.cancel_requested);
            }
            Err(e) => {
                if note_error(&flags, &log, e) {
                    return writes;
                }
            }
        }
        // Rate limit, but never hold up the end of a run: once the handler has returned, the
        // last snapshot is written at once.
        tokio::select! {
            _ = tokio::time::sleep(config.min_interval) => {}
            _ = done.cancelled() => {}
        }
    }
}

fn note_ack(flags: &RunFlags, log: &Mutex<JobLog>, cancel_requested: bool) {
    if cancel_requested && !flags.cancel_requested.swap(true, Ordering::Relaxed) {
        if let Ok(mut log) = log.lock() {
            log.line("cancel requested; stopping at the next progress report");
        }
    }
}

/// Records a failed write; returns true when the run is over for this worker (lease lost).
fn note_error(flags: &RunFlags, log: &Mutex<JobLog>, err: StoreError) -> bool {
    match err {
        StoreError::Stale { .. } => {
            flags.lease_lost.store(true, Ordering::Relaxed);
            if let Ok(mut log) = log.lock() {
                log.line("this run no longer holds the job (rescued or ended elsewhere); stopping");
            }
            true
        }
        other => {
            // A transient database error: keep computing; the next write or heartbeat retries.
            tracing::warn!(error = %other, "progress write failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_writes_about_one_percent_steps_and_always_the_last() {
        let mut t = Throttle::new(100);
        let total = 19_701;
        let writes = (1..=total).filter(|&d| t.is_milestone(d, total)).count();
        // Buckets 0..=100 are each entered once: 101 writes at most, including the final.
        assert!(writes <= 101, "{writes}");
        assert!(writes >= 100, "{writes}");
        let mut t = Throttle::new(100);
        let writes: Vec<u64> = (1..=7).filter(|&d| t.is_milestone(d, 7)).collect();
        // Fewer units than buckets: every unit is a milestone.
        assert_eq!(writes, vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn walk_forward_cap_of_fifty_is_respected() {
        let mut t = Throttle::new(50);
        let total = 40 * 8;
        let writes = (1..=total).filter(|&d| t.is_milestone(d, total)).count();
        assert!(writes <= 51, "{writes}");
    }

    #[test]
    fn rate_is_none_until_enough_signal_then_smoothed() {
        let mut r = RateEstimator::new(0.5);
        assert_eq!(r.rate(), None);
        r.observe(0.0, 0);
        r.observe(0.25, 10);
        // Only 0.25 s of history: not enough.
        assert_eq!(r.rate(), None);
        r.observe(1.0, 40);
        // Rates 40/s then 40/s: EWMA 40/s. ETA for 60 more units: 1.5 s.
        assert_eq!(r.rate(), Some(40.0));
        assert_eq!(r.eta(40, 100), Some(1.5));
        r.observe(2.0, 60);
        // New interval 20/s; 0.5·20 + 0.5·40 = 30/s.
        assert_eq!(r.rate(), Some(30.0));
    }
}
