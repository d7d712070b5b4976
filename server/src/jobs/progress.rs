//! Progress reporting for handlers: throttled writes, ETA, checkpoints, heartbeats, cancel.
//!
//! This module alone decides how often progress reaches the database. The engine and the
//! handlers report every unit of work (each run, fold step, epoch, demo step); the
//! [`Reporter`] keeps only milestones: one per `1/max_updates` of the total (the per-kind cap,
//! [`max_updates`]: the seed's ~1 % for optimize, ~2 % for walk-forward), and the final 100 %
//! always. Telling a milestone from the rest is two atomic loads and a comparison, with no
//! lock and no allocation (the message is formatted only for a milestone), so a report costs a
//! few nanoseconds and may come from several threads at once (a parallel sweep). A milestone
//! updates the rate estimate and publishes the latest snapshot on a watch channel; it never
//! waits for the database. The process's pulse (`pulse.rs`) drains the channels of all its
//! runs: at most one statement per `DEFAULT_MIN_INTERVAL` for all of them (coalescing
//! milestones in between, so the latest is always what lands), with a heartbeat for a run that
//! has written nothing for `heartbeat_interval`. The store's answer tells it whether a cancel
//! was requested or the lease was lost; the next `report` then returns [`Flow::Stop`].

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::store::ProgressUpdate;
use app::model::JobKind;
use serde_json::Value;
use tokio::sync::{watch, Notify};

/// Never write progress more often than this (a few times per second).
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_millis(250);
/// Write at least this often while running, even without progress: that write is the heartbeat.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// The cap of a kind without a reason for another (the seed's ~1 % steps).
pub const DEFAULT_MAX_UPDATES: u64 = 100;

pub use crate::engine::Flow;
use crate::engine::ProgressSink;

/// At most this many progress milestones (plus the final 100 %) per run of `kind`: the one
/// place a kind's progress cadence is decided.
pub fn max_updates(kind: JobKind) -> u64 {
    match kind {
        // The seed: optimize ~100 updates (~1 % steps), walk-forward at most ~50.
        JobKind::Optimize => 100,
        JobKind::WalkForward => 50,
        // A backtest is over in moments: a few steps are plenty.
        JobKind::Backtest => 20,
        // A chunk's progress is read by its parent, which sums its chunks: a few steps each.
        JobKind::Chunk => 10,
        JobKind::Train | JobKind::Demo | JobKind::Import => DEFAULT_MAX_UPDATES,
    }
}

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

/// Reporter and writer tuning.
#[derive(Clone, Copy, Debug)]
pub struct ReporterConfig {
    /// At most this many progress milestones per run (plus the final one).
    pub max_updates: u64,
    pub heartbeat_interval: Duration,
}

impl ReporterConfig {
    /// The shipped settings for a run of `kind` (its [`max_updates`]).
    pub fn for_kind(kind: JobKind) -> ReporterConfig {
        ReporterConfig {
            max_updates: max_updates(kind),
            ..ReporterConfig::default()
        }
    }
}

impl Default for ReporterConfig {
    fn default() -> Self {
        ReporterConfig {
            max_updates: DEFAULT_MAX_UPDATES,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
        }
    }
}

/// Picks the reports worth writing: the first, one per `1/max_updates` of the total, and the
/// last (`done == total`, once). Thread-safe and lock-free: a report that is not a milestone
/// costs two relaxed loads and a comparison against the precomputed next milestone.
#[derive(Debug)]
pub struct Throttle {
    max_updates: u64,
    /// The total the milestones below were computed for; `u64::MAX` before the first report.
    total: AtomicU64,
    /// The smallest `done` that is the next milestone; `u64::MAX` once the last was taken,
    /// [`Throttle::STARTING`] until the first report's caller has computed it.
    next_at: AtomicU64,
}

impl Throttle {
    /// `next_at` before the first milestone is stored: no `done` reaches it.
    const STARTING: u64 = u64::MAX - 1;

    pub fn new(max_updates: u64) -> Throttle {
        Throttle {
            max_updates: max_updates.max(1),
            total: AtomicU64::new(u64::MAX),
            next_at: AtomicU64::new(Throttle::STARTING),
        }
    }

    /// True when `done/total` has entered a new bucket of `total/max_updates` units, or the
    /// work is complete; each milestone is taken by exactly one caller.
    #[inline]
    pub fn is_milestone(&self, done: u64, total: u64) -> bool {
        if done < self.next_at.load(Ordering::Relaxed)
            && total == self.total.load(Ordering::Relaxed)
        {
            return false;
        }
        self.take_milestone(done, total)
    }

    #[cold]
    #[inline(never)]
    fn take_milestone(&self, done: u64, total: u64) -> bool {
        if total == 0 {
            return false;
        }
        let done = done.min(total);
        let seen = self.total.load(Ordering::Acquire);
        if seen != total {
            // The first report (or the total changed): a milestone, and the buckets start
            // over. One caller wins; until it has stored the next milestone, `next_at` is
            // still `STARTING` (before the first report), so nobody else takes one meanwhile.
            if self
                .total
                .compare_exchange(seen, total, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.next_at
                    .store(self.next_after(done, total), Ordering::Release);
                return true;
            }
        }
        let mut next = self.next_at.load(Ordering::Acquire);
        loop {
            if next == Throttle::STARTING && done == total {
                // The last unit, racing the first report: never lose the final 100 %.
                std::hint::spin_loop();
                next = self.next_at.load(Ordering::Acquire);
                continue;
            }
            if done < next {
                return false;
            }
            match self.next_at.compare_exchange_weak(
                next,
                self.next_after(done, total),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => next = actual,
            }
        }
    }

    /// Starts the buckets over, as before the first report (a new phase of the job).
    pub fn reset(&self) {
        self.total.store(u64::MAX, Ordering::Release);
        self.next_at.store(Throttle::STARTING, Ordering::Release);
    }

    /// The first `done` past `done`'s bucket (`u64::MAX` after the last unit).
    fn next_after(&self, done: u64, total: u64) -> u64 {
        if done >= total {
            return u64::MAX;
        }
        // bucket(d) = ⌊d·M/T⌋; the next bucket starts at ⌈(bucket(done) + 1)·T/M⌉ ≤ T.
        let (m, t) = (self.max_updates as u128, total as u128);
        let bucket = done as u128 * m / t;
        ((bucket + 1) * t).div_ceil(m) as u64
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

/// The handler's progress handle (sync; lives on the compute thread, and may be shared with
/// the engine's worker threads).
pub struct Reporter {
    tx: watch::Sender<Snapshot>,
    throttle: Throttle,
    started: Instant,
    flags: Arc<RunFlags>,
    /// Touched only for milestones and checkpoints.
    state: Mutex<Published>,
    /// Told of every publish: the process's pulse, which writes it.
    wake: Option<Arc<Notify>>,
}

/// What the reporter has published so far.
struct Published {
    rate: RateEstimator,
    last: Snapshot,
    /// `done` of the last progress published: a milestone overtaken by a later one (reports
    /// from parallel threads) is not published after it.
    done: Option<u64>,
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
                started: Instant::now(),
                flags,
                state: Mutex::new(Published {
                    rate: RateEstimator::new(RateEstimator::DEFAULT_ALPHA),
                    last: Snapshot::default(),
                    done: None,
                }),
                wake: None,
            },
            rx,
        )
    }

    /// The same reporter, waking `wake` whenever it publishes (the pulse that writes it).
    pub fn waking(mut self, wake: Arc<Notify>) -> Reporter {
        self.wake = Some(wake);
        self
    }

    /// Reports `done` of `total` units with a message such as `format_args!("Run {i}/{n}")`,
    /// formatted only if this report is a milestone. Cheap; call it for every unit of work.
    /// Returns [`Flow::Stop`] when the run should end.
    #[inline]
    pub fn report(&self, done: u64, total: u64, message: fmt::Arguments<'_>) -> Flow {
        if self.throttle.is_milestone(done, total) {
            self.publish_progress(done.min(total), total, message);
        }
        self.flow()
    }

    #[cold]
    #[inline(never)]
    fn publish_progress(&self, done: u64, total: u64, message: fmt::Arguments<'_>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.done.is_some_and(|published| published > done) {
            return;
        }
        state.done = Some(done);
        let elapsed = self.started.elapsed().as_secs_f64();
        state.rate.observe(elapsed, done);
        state.last.update = ProgressUpdate {
            progress: done as f64 / total as f64,
            message: Some(message.to_string()),
            eta_seconds: state.rate.eta(done, total),
            rate_per_second: state.rate.rate(),
            checkpoint: None,
        };
        self.publish(&state.last);
    }

    /// Offers a checkpoint: saved with the next progress write, so a rescued job resumes here.
    pub fn checkpoint(&self, checkpoint: Value) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.last.checkpoint = Some(Arc::new(checkpoint));
        state.last.checkpoint_seq += 1;
        self.publish(&state.last);
    }

    /// A new phase of the job: progress counts from 0 again in the phase's own units, with a
    /// fresh rate and ETA (the first report of the phase is published at once).
    pub fn begin_phase(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.done = None;
        state.rate = RateEstimator::new(RateEstimator::DEFAULT_ALPHA);
        self.throttle.reset();
    }

    /// Whether to go on, without reporting.
    #[inline]
    pub fn flow(&self) -> Flow {
        if self.flags.should_stop() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    fn publish(&self, snapshot: &Snapshot) {
        // The receiver only goes away once the run is over; nothing to do then.
        let _ = self.tx.send(snapshot.clone());
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
    }
}

/// The engine reports straight into the job system through this.
impl ProgressSink for Reporter {
    #[inline]
    fn report(&self, done: u64, total: u64, message: fmt::Arguments<'_>) -> Flow {
        Reporter::report(self, done, total, message)
    }

    fn checkpoint(&self, checkpoint: Value) {
        Reporter::checkpoint(self, checkpoint)
    }

    fn begin_phase(&self) {
        Reporter::begin_phase(self)
    }
}

#[cfg(test)]
mod tests;
