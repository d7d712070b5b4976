//! One run's bookkeeping in the pulse: what of its reporter's news is still to write, when its
//! next write or heartbeat is due, and what the store's answer means for it (a cancel request,
//! a lost lease), logged in the run's log.

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use uuid::Uuid;

use super::Run;
use crate::jobs::joblog::JobLog;
use crate::jobs::progress::{RunFlags, Snapshot};
use crate::jobs::store::{ProgressUpdate, PulseWrite, StoreError};

impl Run {
    /// Moves the reporter's latest snapshot to `pending` if it is new. (Read through the
    /// borrow: `has_changed` on the receiver fails once the reporter is dropped, and the last
    /// snapshot of a finished handler must not be missed.)
    pub(super) fn take_new(&mut self, rx: &mut watch::Receiver<Snapshot>) {
        let latest = rx.borrow_and_update();
        if latest.has_changed() {
            self.pending = Some(latest.clone());
        }
    }

    /// This run's share of the next pulse, if it has progress or a heartbeat due.
    pub(super) fn due(
        &mut self,
        id: Uuid,
        now: Instant,
        min_interval: Duration,
    ) -> Option<PulseWrite> {
        if self.stale {
            return None;
        }
        if let Some(mut rx) = self.rx.take() {
            self.take_new(&mut rx);
            self.rx = Some(rx);
        }
        let progress_due = match self.last_progress {
            Some(t) => now.duration_since(t) >= min_interval,
            None => true,
        };
        let progress = self
            .pending
            .as_ref()
            .filter(|_| progress_due)
            .map(|s| update_of(s, self.saved_checkpoint));
        // Progress outside 0..=1 would fail the whole statement: dropped, with a warning.
        let progress = progress.filter(|p| {
            let valid = (0.0..=1.0).contains(&p.progress);
            if !valid {
                tracing::warn!(job = %id, progress = p.progress, "progress out of range dropped");
                self.pending = None;
            }
            valid
        });
        let heartbeat_due = now.duration_since(self.last_write) >= self.heartbeat_every;
        (progress.is_some() || heartbeat_due).then_some(PulseWrite {
            id,
            lease: self.lease,
            progress,
        })
    }

    /// When this run next needs a write: its pending progress once its interval has passed, or
    /// its heartbeat.
    pub(super) fn next_due(&self, min_interval: Duration) -> Option<Instant> {
        if self.stale {
            return None;
        }
        let heartbeat = self.last_write + self.heartbeat_every;
        let progress = self.pending.as_ref().map(|_| match self.last_progress {
            Some(t) => t + min_interval,
            None => Instant::now(),
        });
        Some(progress.map_or(heartbeat, |p| p.min(heartbeat)))
    }

    /// Records the store's answer to this run's share: `Some(cancel_requested)`, or `None`
    /// when the run is no longer ours.
    ///
    /// Once the handler has returned (its channel taken by [`Pulse::finish`]), a tick that was
    /// already in flight logs nothing: `finish` has logged the last line, and the outcome write
    /// says how the run ended.
    pub(super) fn written(&mut self, write: &PulseWrite, answer: Option<bool>, now: Instant) {
        let finished = self.rx.is_none();
        let Some(cancel_requested) = answer else {
            self.stale = true;
            if finished {
                self.flags.lease_lost.store(true, Ordering::Relaxed);
                return;
            }
            note_error(
                &self.flags,
                &self.log,
                StoreError::Stale {
                    id: write.id,
                    lease: write.lease,
                },
            );
            return;
        };
        self.last_write = now;
        if let Some(update) = &write.progress {
            self.last_progress = Some(now);
            if let Some(snapshot) = self.pending.take() {
                if update.checkpoint.is_some() {
                    self.saved_checkpoint = snapshot.checkpoint_seq;
                }
            }
            if !finished {
                log_progress(&self.log, update);
            }
        }
        if !finished {
            note_ack(&self.flags, &self.log, cancel_requested);
        }
    }
}

/// The write for `snapshot`: its progress, and its checkpoint unless already saved.
pub(super) fn update_of(snapshot: &Snapshot, saved_checkpoint: u64) -> ProgressUpdate {
    let mut update = snapshot.update.clone();
    if snapshot.checkpoint_seq > saved_checkpoint {
        update.checkpoint = snapshot.checkpoint.as_deref().cloned();
    }
    update
}

pub(super) fn log_progress(log: &Mutex<JobLog>, update: &ProgressUpdate) {
    if let Ok(mut log) = log.lock() {
        let pct = (update.progress * 100.0).floor();
        let msg = update.message.as_deref().unwrap_or("");
        let cp = if update.checkpoint.is_some() {
            " (checkpoint saved)"
        } else {
            ""
        };
        log.line(&format!("progress {pct:.0}% {msg}{cp}"));
    }
}

pub(super) fn note_ack(flags: &RunFlags, log: &Mutex<JobLog>, cancel_requested: bool) {
    if cancel_requested && !flags.cancel_requested.swap(true, Ordering::Relaxed) {
        if let Ok(mut log) = log.lock() {
            log.line("cancel requested; stopping at the next progress report");
        }
    }
}

/// Records a failed write; returns true when the run is over for this worker (lease lost).
pub(super) fn note_error(flags: &RunFlags, log: &Mutex<JobLog>, err: StoreError) -> bool {
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
