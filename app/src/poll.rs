//! Client-side polling: every 2 s with gloo-timers while a job is live.
//!
//! One loop per page, so requests never overlap: it sleeps, asks, waits for the answer, and only
//! then sleeps again. It pauses while the tab is hidden, backs off after a failed request, and
//! ends when the job is terminal or the page goes away. On the server it does nothing (timers
//! need `window`).

use std::future::Future;

use leptos::prelude::*;

/// The user-specified poll interval.
pub const POLL_INTERVAL_MS: u32 = 2_000;
/// Longest wait between retries after failed requests.
pub const MAX_BACKOFF_MS: u32 = 16_000;

/// What a poller has seen, for the "reconnecting" notice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollHealth {
    /// Consecutive failed requests (0 when the last one succeeded).
    pub failures: u32,
}

/// The delay before the next request after `failures` consecutive failures.
pub fn next_delay_ms(failures: u32) -> u32 {
    if failures == 0 {
        POLL_INTERVAL_MS
    } else {
        POLL_INTERVAL_MS
            .saturating_mul(1 << failures.min(4))
            .min(MAX_BACKOFF_MS)
    }
}

/// Starts the poll loop in the browser; a no-op during SSR.
///
/// `fetch` performs one request and reports `Ok(true)` to keep polling (the job is still live),
/// `Ok(false)` to stop, or `Err(())` for a failed request (retried with back-off). The loop ends
/// when the current reactive owner is cleaned up.
#[allow(unused_variables)]
pub fn start_polling<F, Fut>(health: RwSignal<PollHealth>, fetch: F)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<bool, ()>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        let alive = Arc::new(AtomicBool::new(true));
        let flag = alive.clone();
        on_cleanup(move || flag.store(false, Ordering::Relaxed));
        let alive = move || alive.load(Ordering::Relaxed);
        leptos::task::spawn_local(async move {
            let mut failures = 0u32;
            loop {
                gloo_timers::future::TimeoutFuture::new(next_delay_ms(failures)).await;
                while page_hidden() && alive() {
                    gloo_timers::future::TimeoutFuture::new(250).await;
                }
                if !alive() {
                    return;
                }
                match fetch().await {
                    Ok(true) => failures = 0,
                    Ok(false) => {
                        health.try_set(PollHealth { failures: 0 });
                        return;
                    }
                    Err(()) => failures = failures.saturating_add(1),
                }
                if !alive() {
                    return;
                }
                if health.try_set(PollHealth { failures }).is_some() {
                    // The signal was disposed with its page.
                    return;
                }
            }
        });
    }
}

/// True while the browser tab is hidden (the Page Visibility API).
#[cfg(feature = "hydrate")]
fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_every_two_seconds_and_backs_off_to_sixteen() {
        assert_eq!(next_delay_ms(0), 2_000);
        assert_eq!(next_delay_ms(1), 4_000);
        assert_eq!(next_delay_ms(2), 8_000);
        assert_eq!(next_delay_ms(3), 16_000);
        assert_eq!(next_delay_ms(30), 16_000);
    }
}
