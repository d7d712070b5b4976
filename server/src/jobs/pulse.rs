//! The pulse: the one writer of the rows of the jobs a process is running.
//!
//! Every run's reporter publishes on its own watch channel and wakes the pulse. One task then
//! writes, in **one statement per tick** ([`JobStore::pulse`]), the new progress (and checkpoint)
//! of every run that has some and a heartbeat for every run that has written nothing for its
//! heartbeat interval, as awa's heartbeat service does, instead of one writer per job. A run's
//! progress is written at most once per `min_interval` (its first milestone with the next
//! statement), and statements are at least `min_interval` apart: milestones in between
//! coalesce and the latest lands, runs share statements, and a job done before the next
//! statement writes no progress of its own (its completion carries the message).
//!
//! Successful completions go through a second task that writes every completion waiting at
//! that moment in one statement ([`JobStore::complete_batch`]), carrying each run's last
//! progress message. The two tasks take turns (one lock), and both lock rows in id order, so
//! a process never deadlocks with itself.
//!
//! A run stays with the pulse from its claim until its outcome is written, so it is heartbeated
//! while a final write is retried. The store's answers set the run's flags: a cancel request,
//! or a lost lease (the run is missing from the answer), which the run's next report turns into
//! [`Flow::Stop`](crate::engine::Flow).
//!
//! One run's bookkeeping (what is due, what an answer means for it) is in `run`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::joblog::JobLog;
use super::progress::{RunFlags, Snapshot};
use super::store::{JobStore, ProgressUpdate, PulseWrite};

mod run;

use run::{log_progress, note_ack, note_error, update_of};

/// The wait before retrying a pulse statement that failed.
const RETRY_AFTER: Duration = Duration::from_millis(100);
/// The most completions written in one statement.
const MAX_COMPLETIONS: usize = 256;

/// The process's pulse; cheap to clone.
#[derive(Clone)]
pub struct Pulse {
    inner: Arc<Inner>,
}

struct Inner {
    store: JobStore,
    runs: Mutex<HashMap<Uuid, Run>>,
    wake: Arc<Notify>,
    /// Held by each statement on the running rows: the tick and a completion batch take turns.
    write: tokio::sync::Mutex<()>,
    min_interval: Duration,
    completions: mpsc::UnboundedSender<Completion>,
    shutdown: CancellationToken,
}

/// One running job, as the pulse sees it.
struct Run {
    lease: Uuid,
    flags: Arc<RunFlags>,
    log: Arc<Mutex<JobLog>>,
    /// The reporter's channel, until the handler has returned.
    rx: Option<watch::Receiver<Snapshot>>,
    /// Taken from the channel, not yet written.
    pending: Option<Snapshot>,
    /// The sequence number of the last checkpoint written.
    saved_checkpoint: u64,
    heartbeat_every: Duration,
    last_write: Instant,
    /// When its progress was last written (`None`: not yet).
    last_progress: Option<Instant>,
    /// The store refused a write: the run is no longer ours; nothing more is written for it.
    stale: bool,
}

struct Completion {
    id: Uuid,
    lease: Uuid,
    result: Value,
    message: Option<String>,
    answer: oneshot::Sender<Completed>,
}

/// How a completion sent through the pulse ended.
#[derive(Debug)]
pub enum Completed {
    Landed,
    /// The run was no longer ours: nothing changed.
    Stale,
    /// The batch hit a database error: the result comes back to be retried one by one.
    Retry(Value),
    /// The completion task is gone (it panicked): the lease keeps the job for the rescuer.
    Lost,
}

/// The pulse's tasks; [`PulseTasks::stop`] ends them once no run is left.
pub struct PulseTasks {
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl PulseTasks {
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

impl Pulse {
    /// Starts the pulse of a process. When `shutdown` fires, every run is told to stop at its
    /// next report (and so is any run entered later).
    pub fn start(
        store: JobStore,
        min_interval: Duration,
        shutdown: CancellationToken,
    ) -> (Pulse, PulseTasks) {
        let (tx, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            store,
            runs: Mutex::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
            write: tokio::sync::Mutex::new(()),
            min_interval,
            completions: tx,
            shutdown,
        });
        let stop = CancellationToken::new();
        let tasks = vec![
            tokio::spawn(beat(inner.clone(), stop.clone())),
            tokio::spawn(complete(inner.clone(), rx, stop.clone())),
        ];
        (Pulse { inner }, PulseTasks { stop, tasks })
    }

    /// What a run's reporter wakes when it publishes.
    pub fn wake(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// Takes a claimed run in: its progress is written and it is heartbeated from now on.
    pub fn enter(
        &self,
        id: Uuid,
        lease: Uuid,
        flags: Arc<RunFlags>,
        log: Arc<Mutex<JobLog>>,
        rx: watch::Receiver<Snapshot>,
        heartbeat_every: Duration,
    ) {
        if self.inner.shutdown.is_cancelled() {
            flags.shutdown.store(true, Ordering::Relaxed);
        }
        let run = Run {
            lease,
            flags,
            log,
            rx: Some(rx),
            pending: None,
            saved_checkpoint: 0,
            heartbeat_every: heartbeat_every.max(Duration::from_millis(50)),
            last_write: Instant::now(),
            last_progress: None,
            stale: false,
        };
        lock(&self.inner.runs).insert(id, run);
        // Its heartbeat may be due before the tick's current sleep ends.
        self.inner.wake.notify_one();
    }

    /// The handler has returned: takes the run's last progress that is not written yet. With
    /// `write`, writes it now (with its checkpoint: a failed, cancelled or handed-back run
    /// keeps it) and answers `None`; without, answers it for the completion to carry.
    /// The run is still heartbeated until [`Pulse::leave`].
    pub async fn finish(&self, id: Uuid, write: bool) -> Option<ProgressUpdate> {
        // Only a write of its own takes a turn. Without one, a tick in flight with an older
        // snapshot still lands before the completion (the completer takes its turn after it),
        // the completion carries the newer message, and the tick does not log its older line
        // after this one (see `Run::written`).
        let _turn = if write {
            Some(self.inner.write.lock().await)
        } else {
            None
        };
        let (update, lease, flags, log) = {
            let mut runs = lock(&self.inner.runs);
            let run = runs.get_mut(&id)?;
            if let Some(mut rx) = run.rx.take() {
                run.take_new(&mut rx);
            }
            let snapshot = run.pending.take()?;
            if run.stale {
                return None;
            }
            let update = update_of(&snapshot, run.saved_checkpoint);
            (update, run.lease, run.flags.clone(), run.log.clone())
        };
        if !write {
            log_progress(&log, &update);
            return Some(update);
        }
        match self.inner.store.update_progress(id, lease, &update).await {
            Ok(ack) => {
                log_progress(&log, &update);
                note_ack(&flags, &log, ack.cancel_requested);
            }
            Err(e) => {
                if note_error(&flags, &log, e) {
                    if let Some(run) = lock(&self.inner.runs).get_mut(&id) {
                        run.stale = true;
                    }
                }
            }
        }
        None
    }

    /// The run's outcome is written: it is no longer heartbeated.
    pub fn leave(&self, id: Uuid) {
        lock(&self.inner.runs).remove(&id);
    }

    /// Completes a run in the next completion batch, with its last progress message if it has
    /// one not written.
    pub async fn complete(
        &self,
        id: Uuid,
        lease: Uuid,
        result: Value,
        message: Option<String>,
    ) -> Completed {
        let (answer, answered) = oneshot::channel();
        let completion = Completion {
            id,
            lease,
            result,
            message,
            answer,
        };
        if let Err(mpsc::error::SendError(c)) = self.inner.completions.send(completion) {
            return Completed::Retry(c.result);
        }
        // The completer answers every completion it takes; it stops only once no run is left.
        answered.await.unwrap_or(Completed::Lost)
    }
}

/// The tick task: waits for a publish, a due heartbeat or the shutdown, then writes.
async fn beat(inner: Arc<Inner>, stop: CancellationToken) {
    let mut told_shutdown = false;
    loop {
        let next = match inner.tick().await {
            Ok((next, wrote)) => {
                // Statements at least the interval apart: everything that falls due meanwhile
                // shares the next one, and short jobs rarely need one at all.
                if wrote && !inner.min_interval.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(inner.min_interval) => {}
                        _ = stop.cancelled() => return,
                    }
                }
                next
            }
            Err(()) => {
                // The write failed: the same runs are due again; not in a tight loop.
                tokio::select! {
                    _ = tokio::time::sleep(inner.min_interval.max(RETRY_AFTER)) => {}
                    _ = stop.cancelled() => return,
                }
                continue;
            }
        };
        let until = next
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(1));
        tokio::select! {
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep_until(until) => {}
            _ = inner.shutdown.cancelled(), if !told_shutdown => {
                told_shutdown = true;
                for run in lock(&inner.runs).values() {
                    run.flags.shutdown.store(true, Ordering::Relaxed);
                }
            }
            _ = stop.cancelled() => return,
        }
    }
}

impl Inner {
    /// One statement for every run with progress or a heartbeat due. Answers when the next
    /// write falls due and whether it wrote (`Err` when the statement failed).
    async fn tick(&self) -> Result<(Option<Instant>, bool), ()> {
        let _turn = self.write.lock().await;
        let now = Instant::now();
        let writes: Vec<PulseWrite> = {
            let mut runs = lock(&self.runs);
            runs.iter_mut()
                .filter_map(|(&id, run)| run.due(id, now, self.min_interval))
                .collect()
        };
        if !writes.is_empty() {
            match self.store.pulse(&writes).await {
                Ok(answers) => {
                    // Intervals count from when the write landed, not from when it was sent.
                    let now = Instant::now();
                    let mut runs = lock(&self.runs);
                    for w in &writes {
                        if let Some(run) = runs.get_mut(&w.id) {
                            run.written(w, answers.get(&w.id).copied(), now);
                        }
                    }
                }
                // Transient: the next tick writes the same (the pending progress is kept).
                Err(e) => {
                    tracing::warn!(error = %e, runs = writes.len(), "pulse write failed");
                    return Err(());
                }
            }
        }
        let next = lock(&self.runs)
            .values()
            .filter_map(|r| r.next_due(self.min_interval))
            .min();
        Ok((next, !writes.is_empty()))
    }
}

/// The completion task: writes every completion waiting in one statement, and answers each.
async fn complete(
    inner: Arc<Inner>,
    mut rx: mpsc::UnboundedReceiver<Completion>,
    stop: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            c = rx.recv() => match c {
                Some(c) => c,
                None => return,
            },
            _ = stop.cancelled() => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_COMPLETIONS {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let runs: Vec<(Uuid, Uuid, Value, Option<String>)> = batch
            .iter_mut()
            .map(|c| (c.id, c.lease, c.result.take(), c.message.take()))
            .collect();
        let landed = {
            let _turn = inner.write.lock().await;
            inner.store.complete_batch(&runs).await
        };
        match landed {
            Ok(landed) => {
                for (c, ok) in batch.into_iter().zip(landed) {
                    let _ = c.answer.send(if ok {
                        Completed::Landed
                    } else {
                        Completed::Stale
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, runs = runs.len(), "completion batch failed");
                for (c, run) in batch.into_iter().zip(runs) {
                    let _ = c.answer.send(Completed::Retry(run.2));
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
