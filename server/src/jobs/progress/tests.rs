//! Tests of `progress.rs`.

use super::*;

#[test]
fn throttle_writes_about_one_percent_steps_and_always_the_last() {
    let t = Throttle::new(100);
    let total = 19_701;
    let writes: Vec<u64> = (1..=total).filter(|&d| t.is_milestone(d, total)).collect();
    // Buckets 0..=100 are each entered once: 101 writes at most, including the final.
    assert!(writes.len() <= 101, "{}", writes.len());
    assert!(writes.len() >= 100, "{}", writes.len());
    assert_eq!(writes[0], 1, "the first report");
    assert_eq!(*writes.last().unwrap(), total, "the last report");
    // Each milestone is the first unit of its bucket.
    for &d in &writes[1..] {
        assert_ne!(d * 100 / total, (d - 1) * 100 / total, "{d}");
    }
    assert!(!t.is_milestone(total, total), "the final 100 % once");
    let t = Throttle::new(100);
    let writes: Vec<u64> = (1..=7).filter(|&d| t.is_milestone(d, 7)).collect();
    // Fewer units than buckets: every unit is a milestone.
    assert_eq!(writes, vec![1, 2, 3, 4, 5, 6, 7]);
    // Starting from 0 (a backtest's "Bar 0/N"), and nothing for an empty job.
    let t = Throttle::new(20);
    assert!(t.is_milestone(0, 400));
    assert!(!t.is_milestone(1, 400));
    assert!(!Throttle::new(20).is_milestone(0, 0));
}

#[test]
fn walk_forward_cap_of_fifty_is_respected() {
    let t = Throttle::new(max_updates(JobKind::WalkForward));
    let total = 40 * 8;
    let writes = (1..=total).filter(|&d| t.is_milestone(d, total)).count();
    assert!(writes <= 51, "{writes}");
}

#[test]
fn reports_from_many_threads_take_each_milestone_once() {
    let t = Throttle::new(100);
    let total = 100_000u64;
    let next = AtomicU64::new(0);
    let taken: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let d = next.fetch_add(1, Ordering::Relaxed) + 1;
                        if d > total {
                            return mine;
                        }
                        if t.is_milestone(d, total) {
                            mine.push(d);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!((100..=101).contains(&taken.len()), "{}", taken.len());
    assert!(taken.contains(&total));
}

#[test]
fn a_reporter_publishes_milestones_only_and_formats_nothing_else() {
    struct Counting<'a>(&'a std::cell::Cell<u32>);
    impl fmt::Display for Counting<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str("x")
        }
    }
    let (reporter, rx) = Reporter::new(
        ReporterConfig::for_kind(JobKind::Optimize),
        Arc::new(RunFlags::default()),
    );
    let formatted = std::cell::Cell::new(0);
    let total = 19_701;
    for d in 1..=total {
        let c = Counting(&formatted);
        assert_eq!(
            reporter.report(d, total, format_args!("Run {d}/{total} {c}")),
            Flow::Continue
        );
    }
    assert!(
        (100..=101).contains(&formatted.get()),
        "{}",
        formatted.get()
    );
    let last = rx.borrow().update.clone();
    assert_eq!(last.progress, 1.0);
    assert_eq!(last.message.as_deref(), Some("Run 19701/19701 x"));
    // A milestone overtaken by a later one is not published after it.
    reporter.publish_progress(5, total, format_args!("late"));
    assert_eq!(
        rx.borrow().update.message.as_deref(),
        Some("Run 19701/19701 x")
    );
}

#[test]
fn a_stop_request_reaches_the_next_report() {
    let flags = Arc::new(RunFlags::default());
    let (reporter, _rx) = Reporter::new(ReporterConfig::default(), flags.clone());
    assert_eq!(reporter.report(1, 10, format_args!("a")), Flow::Continue);
    flags.cancel_requested.store(true, Ordering::Relaxed);
    assert_eq!(reporter.report(2, 10, format_args!("b")), Flow::Stop);
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
