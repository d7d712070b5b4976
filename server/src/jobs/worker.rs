//! Workers: claim jobs, run their handlers off the async runtime, and record how they ended.
//!
//! A pool of `size` worker tasks per process, woken by LISTEN/NOTIFY when a job is queued and
//! polling as a fallback. Several processes (on several machines) can share one Postgres: the
//! claim's `FOR NO KEY UPDATE SKIP LOCKED` gives each job to exactly one of them. On shutdown the
//! workers stop claiming, tell running handlers to stop at their next report, and put those
//! jobs back in the queue with their checkpoints. How each run's end is written down (guarded,
//! retried through outages) is in `outcome`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::handlers::{HandlerDeps, Registry};
use super::progress::{Reporter, ReporterConfig, RunFlags, DEFAULT_MIN_INTERVAL};
use super::pulse::{Pulse, PulseTasks};
use super::store::{ClaimedJob, JobStore, QUEUE_CHANNEL};

mod outcome;

pub(crate) use outcome::keep_alive;

/// How long the pool waits for more workers to become idle before claiming for fewer than
/// half of them.
const CLAIM_LINGER: Duration = Duration::from_millis(2);
/// Fallback poll when no notification arrives.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// First retry back-off; doubles per attempt.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(2);
/// Longest retry back-off.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(300);
/// First wait before retrying a final write (complete, fail, cancel, release) that hit a
/// database error; doubles up to [`MAX_FINAL_WRITE_BACKOFF`].
pub const DEFAULT_FINAL_WRITE_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between final-write retries.
pub const MAX_FINAL_WRITE_BACKOFF: Duration = Duration::from_secs(5);
/// How long a worker keeps retrying a final write before leaving the job to the rescuer.
pub const DEFAULT_FINAL_WRITE_PATIENCE: Duration = Duration::from_secs(600);

/// Worker pool settings.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub size: usize,
    /// The configured node name, stored on each claimed job for start-up recovery.
    pub node_id: String,
    /// This process's unique name (`<node>-<random>`); worker ids are `<instance>:<n>`.
    pub instance_id: String,
    pub poll_interval: Duration,
    pub retry_base: Duration,
    /// Overrides the reporter's heartbeat interval (e.g. a fraction of the lease timeout).
    pub heartbeat_interval: Option<Duration>,
    /// Overrides the pulse's minimum interval between progress writes (tests set 0 to count
    /// milestones).
    pub min_write_interval: Option<Duration>,
    /// How long a final write is retried through database errors (heartbeating meanwhile).
    pub final_write_patience: Duration,
}

impl WorkerConfig {
    pub fn new(size: usize, node_id: impl Into<String>) -> WorkerConfig {
        let node_id = node_id.into();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        WorkerConfig {
            size,
            instance_id: format!("{node_id}-{}", &suffix[..8]),
            node_id,
            poll_interval: DEFAULT_POLL_INTERVAL,
            retry_base: DEFAULT_RETRY_BASE,
            heartbeat_interval: None,
            min_write_interval: None,
            final_write_patience: DEFAULT_FINAL_WRITE_PATIENCE,
        }
    }
}

/// How one claimed job ended for this worker.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    Succeeded,
    Retrying,
    Failed(String),
    Cancelled,
    /// Put back in the queue on shutdown.
    Released,
    /// The job was rescued or ended elsewhere; this run's writes were refused.
    LeaseLost,
}

/// A background task (worker or rescuer) panicked: logged when it happened, reported again at
/// shutdown so the process exits non-zero instead of hiding it.
#[derive(Debug, thiserror::Error)]
#[error("{count} {task} task(s) panicked; see the error log")]
pub struct TaskPanicked {
    pub task: &'static str,
    pub count: usize,
}

/// The exponential back-off before retry number `attempt` (1-based attempt that failed).
pub fn retry_backoff(base: Duration, attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 20) as u32 - 1;
    base.saturating_mul(1u32 << exp.min(16))
        .min(MAX_RETRY_BACKOFF)
}

/// The pool's worker slots: which are free, which job task holds each busy one.
struct Slots {
    free: Vec<usize>,
    busy: std::collections::HashMap<Id, usize>,
    panicked: usize,
}

impl Slots {
    fn new(size: usize) -> Slots {
        Slots {
            free: (0..size.max(1)).collect(),
            busy: std::collections::HashMap::new(),
            panicked: 0,
        }
    }

    /// A job task ended: its slot is free again; a panic is logged and counted.
    fn ended(&mut self, joined: Result<(Id, ()), JoinError>) {
        let id = match joined {
            Ok((id, ())) => id,
            Err(e) => {
                if e.is_panic() {
                    self.panicked += 1;
                    tracing::error!(error = %e, "a worker task panicked");
                }
                e.id()
            }
        };
        if let Some(slot) = self.busy.remove(&id) {
            self.free.push(slot);
        }
    }
}

/// A pool of workers sharing one store and handler registry.
#[derive(Clone)]
pub struct Worker {
    store: JobStore,
    registry: Registry,
    deps: HandlerDeps,
    config: WorkerConfig,
    /// Final writes retried after a database error, since start (tests and logs read it).
    final_write_retries: Arc<AtomicU64>,
}

impl Worker {
    pub fn new(
        store: JobStore,
        registry: Registry,
        deps: HandlerDeps,
        config: WorkerConfig,
    ) -> Self {
        // Handlers that claim on this worker's behalf (a fanned-out parent) use its identity.
        let mut deps = deps;
        deps.node_id = config.node_id.clone();
        deps.instance_id = config.instance_id.clone();
        Worker {
            store,
            registry,
            deps,
            config,
            final_write_retries: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many final writes had to be retried after a database error.
    pub fn final_write_retries(&self) -> u64 {
        self.final_write_retries.load(Ordering::Relaxed)
    }

    /// Runs the pool until `shutdown` fires and every running job has stopped.
    ///
    /// One loop claims for all idle workers at once ([`JobStore::claim_batch`]) and starts a
    /// task per claimed job; the process's [`Pulse`] writes every run's progress and heartbeat
    /// in one statement per tick and batches the completions.
    ///
    /// A job task that panics is logged at error level when it happens (the other workers go
    /// on, and its worker slot is free again), and the pool then ends with [`TaskPanicked`], so
    /// the process can exit non-zero.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), TaskPanicked> {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(self.store.clone(), wake.clone(), shutdown.clone()));
        let (pulse, pulse_tasks) = self.start_pulse(&shutdown);
        let mut slots = Slots::new(self.config.size);
        let mut tasks: JoinSet<()> = JoinSet::new();
        while !shutdown.is_cancelled() {
            while let Some(joined) = tasks.try_join_next_with_id() {
                slots.ended(joined);
            }
            if slots.free.is_empty() {
                tokio::select! {
                    Some(joined) = tasks.join_next_with_id() => slots.ended(joined),
                    _ = shutdown.cancelled() => {}
                }
                continue;
            }
            // Fewer than half the workers idle: give the others a moment to finish, so one
            // claim serves several (short jobs end together; a long job waits 2 ms at most).
            if slots.free.len() * 2 < self.config.size && !tasks.is_empty() {
                let linger = tokio::time::sleep(CLAIM_LINGER);
                tokio::pin!(linger);
                while slots.free.len() * 2 < self.config.size {
                    tokio::select! {
                        Some(joined) = tasks.join_next_with_id() => slots.ended(joined),
                        _ = &mut linger => break,
                    }
                }
            }
            // Register for a wake-up before looking, so a NOTIFY between the two is not lost.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let ids: Vec<String> = slots
                .free
                .iter()
                .map(|n| format!("{}:{n}", self.config.instance_id))
                .collect();
            match self.store.claim_batch(&ids, &self.config.node_id).await {
                Ok(jobs) if !jobs.is_empty() => {
                    for (worker_id, job) in jobs {
                        let Some(slot) = ids.iter().position(|w| *w == worker_id) else {
                            continue;
                        };
                        let slot = slots.free[slot];
                        let (worker, pulse, shutdown) =
                            (self.clone(), pulse.clone(), shutdown.clone());
                        let task = tasks.spawn(async move {
                            worker.run_claimed(job, &shutdown, &pulse).await;
                        });
                        slots.busy.insert(task.id(), slot);
                    }
                    slots.free.retain(|n| !slots.busy.values().any(|b| b == n));
                }
                Ok(_) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        Some(joined) = tasks.join_next_with_id() => slots.ended(joined),
                        _ = shutdown.cancelled() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claim failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
        }
        while let Some(joined) = tasks.join_next_with_id().await {
            slots.ended(joined);
        }
        pulse_tasks.stop().await;
        listener.abort();
        match slots.panicked {
            0 => Ok(()),
            n => Err(TaskPanicked {
                task: "worker",
                count: n,
            }),
        }
    }

    fn start_pulse(&self, shutdown: &CancellationToken) -> (Pulse, PulseTasks) {
        let min_interval = self
            .config
            .min_write_interval
            .unwrap_or(DEFAULT_MIN_INTERVAL);
        Pulse::start(self.store.clone(), min_interval, shutdown.clone())
    }

    /// Runs one job claimed outside the pool to its end, with a pulse of its own, and records
    /// the outcome (guarded by its lease).
    pub async fn run_job(&self, job: ClaimedJob, shutdown: &CancellationToken) -> RunOutcome {
        let (pulse, tasks) = self.start_pulse(shutdown);
        let outcome = self.run_claimed(job, shutdown, &pulse).await;
        tasks.stop().await;
        outcome
    }

    /// Runs one claimed job to its end and records the outcome (guarded by its lease).
    async fn run_claimed(
        &self,
        job: ClaimedJob,
        shutdown: &CancellationToken,
        pulse: &Pulse,
    ) -> RunOutcome {
        let log = Arc::new(Mutex::new(self.store.log(job.id)));
        let say = |msg: &str| {
            if let Ok(mut l) = log.lock() {
                l.line(msg);
            }
        };
        say(&format!(
            "attempt {}/{} started: {} job{}",
            job.attempt,
            job.max_attempts,
            job.kind,
            if job.checkpoint.is_some() {
                ", resuming from its checkpoint"
            } else {
                ""
            }
        ));
        let Some(handler) = self.registry.get(job.kind) else {
            let msg = format!("no handler for job kind {}", job.kind);
            say(&msg);
            return self.finish_failed(&job, &msg, None, &log).await;
        };

        let flags = Arc::new(RunFlags::default());
        let mut rconfig = ReporterConfig::for_kind(job.kind);
        if let Some(h) = self.config.heartbeat_interval {
            rconfig.heartbeat_interval = h;
        }
        let (reporter, rx) = Reporter::new(rconfig, flags.clone());
        let reporter = reporter.waking(pulse.wake());
        pulse.enter(
            job.id,
            job.lease,
            flags.clone(),
            log.clone(),
            rx,
            rconfig.heartbeat_interval,
        );
        if shutdown.is_cancelled() {
            flags.shutdown.store(true, Ordering::Relaxed);
        }

        let result = handler.run(&job, &self.deps, reporter).await;
        // The last progress not yet written: a success's completion carries its message; any
        // other end writes it now, with its checkpoint, before the outcome.
        let last = pulse.finish(job.id, result.is_err()).await;

        if flags.lease_lost.load(Ordering::Relaxed) {
            pulse.leave(job.id);
            say("run abandoned: the job is no longer ours");
            return RunOutcome::LeaseLost;
        }
        // The outcome is written while the pulse keeps the lease alive, and retried through
        // database errors: a computed result is never thrown away for a blip.
        let message = last.and_then(|u| u.message);
        let outcome = self
            .record_outcome(&job, result, message, &flags, &log, pulse)
            .await;
        pulse.leave(job.id);
        outcome
    }
}

/// Forwards NOTIFYs on the queue channel to idle workers; reconnects on error.
async fn listen(store: JobStore, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let mut listener = match PgListener::connect_with(store.pool()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; polling only");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(QUEUE_CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; polling only");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        loop {
            tokio::select! {
                n = listener.recv() => match n {
                    Ok(_) => wake.notify_waiters(),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        break;
                    }
                },
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_and_is_capped() {
        let base = Duration::from_secs(2);
        assert_eq!(retry_backoff(base, 1), Duration::from_secs(2));
        assert_eq!(retry_backoff(base, 2), Duration::from_secs(4));
        assert_eq!(retry_backoff(base, 3), Duration::from_secs(8));
        assert_eq!(retry_backoff(base, 30), MAX_RETRY_BACKOFF);
    }
}
