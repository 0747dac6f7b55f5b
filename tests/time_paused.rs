//! The paused clock: timers in order, `advance`, auto-advance on and off, intervals, and the
//! test macro's `start_paused`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bucle::time::{self, Instant, MissedTickBehavior};

fn paused(auto_advance: bool) -> bucle::Runtime {
    bucle::Runtime::builder()
        .start_paused(true)
        .auto_advance(auto_advance)
        .build()
        .unwrap()
}

/// Spawns one sleeper per delay; each logs its index and the virtual time it woke at.
fn sleepers(
    log: &Rc<RefCell<Vec<(usize, Duration)>>>,
    delays: &[u64],
) -> Vec<bucle::JoinHandle<()>> {
    let start = Instant::now();
    delays
        .iter()
        .enumerate()
        .map(|(i, &secs)| {
            let log = log.clone();
            bucle::spawn(async move {
                bucle::sleep(Duration::from_secs(secs)).await;
                log.borrow_mut().push((i, Instant::now() - start));
            })
        })
        .collect()
}

#[bucle::test(start_paused = true)]
async fn timers_fire_in_deadline_order_at_their_own_virtual_time() {
    let log = Rc::new(RefCell::new(Vec::new()));
    for task in sleepers(&log, &[50, 10, 30, 10, 20]) {
        task.await.unwrap();
    }
    let secs = |s| Duration::from_secs(s);
    assert_eq!(
        *log.borrow(),
        [
            (1, secs(10)),
            (3, secs(10)),
            (4, secs(20)),
            (2, secs(30)),
            (0, secs(50))
        ]
    );
}

#[bucle::test(start_paused = true)]
async fn an_hour_of_timers_passes_in_virtual_time() {
    let start = Instant::now();
    let real = std::time::Instant::now();
    let mut ticks = time::interval(Duration::from_secs(1));
    for _ in 0..=3600 {
        ticks.tick().await;
    }
    assert_eq!(Instant::now() - start, Duration::from_secs(3600));
    // No upper bound on wall time is asserted; the point is that it is not an hour.
    println!(
        "3600 one-second ticks took {:?} of real time",
        real.elapsed()
    );
}

#[test]
fn advance_fires_passed_timers_in_order_and_stops_at_the_target() {
    paused(false).block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks = sleepers(&log, &[3, 1, 7]);
        bucle::yield_now().await;
        let start = Instant::now();

        time::advance(Duration::from_secs(2)).await;
        assert_eq!(*log.borrow(), [(1, Duration::from_secs(1))]);
        assert_eq!(Instant::now() - start, Duration::from_secs(2));

        time::advance(Duration::from_secs(2)).await;
        assert_eq!(log.borrow().len(), 2);
        assert_eq!(log.borrow()[1], (0, Duration::from_secs(3)));
        assert!(!tasks[2].is_finished());

        time::advance(Duration::from_secs(3)).await;
        assert_eq!(log.borrow()[2], (2, Duration::from_secs(7)));
        assert_eq!(Instant::now() - start, Duration::from_secs(7));
    });
}

#[test]
fn advance_lets_woken_tasks_run_before_time_moves_on() {
    // A task woken at 1 s that sleeps again for 1 s must see its second timer fire at 2 s
    // within the same `advance`, not be skipped past.
    paused(false).block_on(async {
        let start = Instant::now();
        let chain = bucle::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..3 {
                bucle::sleep(Duration::from_secs(1)).await;
                seen.push(Instant::now() - start);
            }
            seen
        });
        time::advance(Duration::from_secs(10)).await;
        assert!(chain.is_finished());
        assert_eq!(
            chain.await.unwrap(),
            [1, 2, 3].map(Duration::from_secs).to_vec()
        );
    });
}

#[test]
fn without_auto_advance_the_clock_moves_only_by_hand() {
    paused(false).block_on(async {
        let start = Instant::now();
        let sleeper = bucle::spawn(bucle::sleep(Duration::from_secs(1)));
        for _ in 0..10 {
            bucle::yield_now().await;
        }
        // Let the loop go fully idle for real time: with only a timer pending it parks,
        // and the clock must not move until a wake from another thread arrives.
        let (tx, rx) = futures::channel::oneshot::channel();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(()).unwrap();
        });
        rx.await.unwrap();
        thread.join().unwrap();
        assert!(!sleeper.is_finished());
        assert_eq!(Instant::now(), start);
        time::advance(Duration::from_secs(1)).await;
        assert!(sleeper.is_finished());
    });
}

#[bucle::test(start_paused = true)]
async fn auto_advance_can_be_switched_at_run_time() {
    time::set_auto_advance(false);
    let sleeper = bucle::spawn(bucle::sleep(Duration::from_secs(30)));
    for _ in 0..5 {
        bucle::yield_now().await;
    }
    assert!(!sleeper.is_finished());
    time::set_auto_advance(true);
    sleeper.await.unwrap(); // the idle loop jumps to it
}

#[bucle::test(start_paused = true)]
async fn intervals_tick_on_schedule_and_burst_after_a_stall() {
    let start = Instant::now();
    let mut ticks = time::interval(Duration::from_secs(10));
    let mut at = Vec::new();
    for _ in 0..3 {
        at.push(ticks.tick().await - start);
    }
    assert_eq!(at, [0, 10, 20].map(Duration::from_secs));

    // Miss three ticks by sleeping through them; Burst fires them back to back.
    bucle::sleep(Duration::from_secs(35)).await;
    let mut late = Vec::new();
    for _ in 0..4 {
        late.push(ticks.tick().await - start);
    }
    assert_eq!(late, [30, 40, 50, 60].map(Duration::from_secs));
    assert_eq!(Instant::now() - start, Duration::from_secs(60));
}

#[bucle::test(start_paused = true)]
async fn a_delayed_interval_shifts_its_schedule() {
    let start = Instant::now();
    let mut ticks = time::interval(Duration::from_secs(10));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await;
    bucle::sleep(Duration::from_secs(25)).await;
    assert_eq!(ticks.tick().await - start, Duration::from_secs(10));
    assert_eq!(ticks.tick().await - start, Duration::from_secs(35));
}

#[test]
#[should_panic(expected = "needs a paused clock")]
fn advance_on_a_running_clock_says_how_to_pause_it() {
    bucle::run(async {
        time::advance(Duration::from_secs(1)).await;
    });
}

#[bucle::test(start_paused = true)]
async fn timeouts_elapse_in_virtual_time() {
    let start = Instant::now();
    let result = bucle::timeout(Duration::from_secs(90), std::future::pending::<()>()).await;
    assert!(result.is_err());
    assert_eq!(Instant::now() - start, Duration::from_secs(90));
}
