//! Timers: ordering, sleep, timeout, intervals, call_later, the paused clock.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bucle::time::{self, Instant, MissedTickBehavior};

fn paused() -> bucle::Runtime {
    bucle::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn sleep_waits_at_least_its_duration() {
    bucle::run(async {
        let start = std::time::Instant::now();
        bucle::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn timers_fire_in_deadline_order_then_registration_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    paused().block_on({
        let log = log.clone();
        async move {
            let delays = [30, 10, 20, 10, 0, 30];
            let tasks: Vec<_> = delays
                .iter()
                .enumerate()
                .map(|(i, &ms)| {
                    let log = log.clone();
                    bucle::spawn(async move {
                        bucle::sleep(Duration::from_millis(ms)).await;
                        log.borrow_mut().push(i);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), vec![4, 1, 3, 2, 0, 5]);
}

#[test]
fn a_hundred_thousand_timers_fire_in_order() {
    let last = Rc::new(RefCell::new((Instant::now(), 0usize)));
    paused().block_on({
        let last = last.clone();
        async move {
            let tasks: Vec<_> = (0..100_000u64)
                .map(|i| {
                    let last = last.clone();
                    // A scrambled but deterministic spread over 0..10 ms.
                    let ms = (i * 7919) % 10_000;
                    bucle::spawn(async move {
                        bucle::sleep(Duration::from_micros(ms)).await;
                        let now = Instant::now();
                        let mut l = last.borrow_mut();
                        assert!(now >= l.0, "timers fired out of order");
                        *l = (now, l.1 + 1);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    assert_eq!(last.borrow().1, 100_000);
}

#[test]
fn an_hour_of_timers_on_a_paused_clock_takes_no_real_hour() {
    let rt = paused();
    let real = std::time::Instant::now();
    let ticks = rt.block_on(async {
        let mut interval = time::interval(Duration::from_secs(1));
        let start = Instant::now();
        let mut n = 0;
        while Instant::now() - start < Duration::from_secs(3600) {
            interval.tick().await;
            n += 1;
        }
        n
    });
    assert_eq!(ticks, 3601);
    assert!(real.elapsed() < Duration::from_secs(3600));
}

#[test]
fn timeout_polls_the_future_before_checking_the_deadline() {
    paused().block_on(async {
        assert_eq!(bucle::timeout(Duration::ZERO, async { 1 }).await, Ok(1));
        let yielded = bucle::timeout(Duration::ZERO, bucle::yield_now()).await;
        assert!(
            yielded.is_err(),
            "a body that has to wait misses a zero deadline"
        );
        let slow = bucle::timeout(
            Duration::from_secs(5),
            bucle::sleep(Duration::from_secs(10)),
        );
        let start = Instant::now();
        assert!(slow.await.is_err());
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
    });
}

#[test]
fn timeout_drops_the_inner_future_on_expiry() {
    struct Flag(Rc<RefCell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let d = dropped.clone();
    paused().block_on(async move {
        let flag = Flag(d);
        let r = bucle::timeout(Duration::from_millis(1), async move {
            let _f = flag;
            std::future::pending::<()>().await
        })
        .await;
        assert!(r.is_err());
    });
    assert!(*dropped.borrow());
}

/// Runs an interval with `behavior`, stalling the clock by 35 ms after the first tick, and
/// returns the tick times in ms from the start.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<u128> {
    paused().block_on(async move {
        let start = Instant::now();
        let mut interval = time::interval(Duration::from_millis(10));
        interval.set_missed_tick_behavior(behavior);
        let mut seen = Vec::new();
        interval.tick().await;
        seen.push(0);
        bucle::sleep(Duration::from_millis(35)).await;
        for _ in 0..4 {
            let scheduled = interval.tick().await;
            seen.push((scheduled - start).as_millis());
            let _ = Instant::now();
        }
        // Also record when the last tick actually happened.
        seen.push((Instant::now() - start).as_millis());
        seen
    })
}

#[test]
fn interval_burst_fires_missed_ticks_back_to_back() {
    // Scheduled 10, 20, 30 are missed: they fire at 35; then 40 on time.
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Burst),
        [0, 10, 20, 30, 40, 40]
    );
}

#[test]
fn interval_delay_restarts_the_schedule_from_now() {
    // One late tick (scheduled 10, fired at 35), then 45, 55, 65.
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Delay),
        [0, 10, 45, 55, 65, 65]
    );
}

#[test]
fn interval_skip_keeps_the_phase() {
    // One late tick (scheduled 10, fired at 35), then 40, 50, 60.
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Skip),
        [0, 10, 40, 50, 60, 60]
    );
}

#[test]
fn interval_with_a_zero_period_is_rejected() {
    let result = std::panic::catch_unwind(|| time::interval(Duration::ZERO));
    let message = result.unwrap_err().downcast::<&str>().unwrap();
    assert!(message.contains("period greater than zero"));
}

#[test]
fn call_later_runs_in_deadline_order_and_can_be_cancelled() {
    let log = Rc::new(RefCell::new(Vec::new()));
    paused().block_on({
        let log = log.clone();
        async move {
            let l = log.clone();
            time::call_later(Duration::from_millis(20), move || l.borrow_mut().push("b"));
            let l = log.clone();
            time::call_later(Duration::from_millis(10), move || l.borrow_mut().push("a"));
            let l = log.clone();
            let cancelled =
                time::call_later(Duration::from_millis(15), move || l.borrow_mut().push("x"));
            assert!(cancelled.is_pending());
            assert!(cancelled.cancel());
            assert!(!cancelled.is_pending());
            bucle::sleep(Duration::from_millis(30)).await;
        }
    });
    assert_eq!(*log.borrow(), ["a", "b"]);
}

#[test]
fn sleep_outside_a_loop_panics_with_guidance() {
    let result = std::panic::catch_unwind(|| {
        futures::executor::block_on(bucle::sleep(Duration::from_millis(1)))
    });
    let payload = result.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(
        message.contains("polled outside a bucle event loop"),
        "{message}"
    );
}

#[test]
fn the_paused_clock_does_not_jump_while_an_other_thread_holds_work() {
    // A wake from another thread arrives before a long timer: the clock must not skip
    // past it just because the loop looked idle.
    let rt = paused();
    let handle = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    rt.block_on(async move {
        let start = Instant::now();
        let task = handle
            .spawn(async move {
                bucle::sleep(Duration::from_secs(60)).await;
            })
            .unwrap();
        std::thread::spawn(move || {
            let _ = rx.recv();
        });
        drop(tx);
        task.await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
    });
}

#[test]
fn pause_and_resume_never_move_time_backwards() {
    bucle::run(async {
        let a = Instant::now();
        time::pause();
        bucle::sleep(Duration::from_secs(100)).await;
        let b = Instant::now();
        assert!(b - a >= Duration::from_secs(100));
        time::resume();
        let c = Instant::now();
        assert!(c >= b);
    });
}
