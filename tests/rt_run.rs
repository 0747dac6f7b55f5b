//! `bucle::run` and `Runtime`: asyncio.run semantics, shutdown, drop accounting, misuse.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bucle::Runtime;

/// Counts how many times it is dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn run_returns_the_output_of_the_main_future() {
    assert_eq!(bucle::run(async { 21 * 2 }), 42);
}

#[test]
fn leftover_tasks_are_cancelled_and_every_future_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    bucle::run({
        let drops = drops.clone();
        let finished = finished.clone();
        async move {
            for i in 0..1000 {
                let guard = DropCounter(drops.clone());
                let finished = finished.clone();
                // Three kinds of leftovers: never polled, parked on a timer, parked forever.
                let task = bucle::spawn(async move {
                    let _guard = guard;
                    match i % 3 {
                        0 => bucle::sleep(Duration::from_secs(3600)).await,
                        1 => std::future::pending::<()>().await,
                        _ => bucle::yield_now().await,
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                });
                drop(task); // detached
            }
            // Let every task start, then leave them running.
            bucle::yield_now().await;
        }
    });
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1000,
        "each future dropped once"
    );
    // The yield_now tasks were polled once and woke themselves; they may or may not have
    // finished before shutdown, but none of the sleeping or pending ones did.
    assert!(finished.load(Ordering::SeqCst) <= 334);
}

#[test]
fn a_join_handle_outliving_its_loop_reports_cancelled() {
    let rt = Runtime::new().unwrap();
    let handle = rt.spawn(std::future::pending::<()>());
    drop(rt);
    let err = futures::executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn futures_dropped_at_shutdown_may_wake_and_spawn_without_harm() {
    // A future whose destructor spawns a task and wakes others during shutdown.
    struct SpawnOnDrop(Arc<AtomicUsize>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let counter = DropCounter(self.0.clone());
            drop(bucle::spawn(async move {
                let _c = counter;
                std::future::pending::<()>().await
            }));
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    let guard = SpawnOnDrop(drops.clone());
    drop(rt.spawn(async move {
        let _g = guard;
        std::future::pending::<()>().await
    }));
    rt.block_on(bucle::yield_now());
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn tasks_left_by_block_on_continue_in_the_next_block_on() {
    let rt = Runtime::new().unwrap();
    let counter = Rc::new(Cell::new(0));
    let c = counter.clone();
    let task = rt.spawn(async move {
        for _ in 0..10 {
            c.set(c.get() + 1);
            bucle::yield_now().await;
        }
    });
    rt.block_on(bucle::yield_now());
    let seen = counter.get();
    assert!(seen < 10);
    rt.block_on(task).unwrap();
    assert_eq!(counter.get(), 10);
}

#[test]
#[should_panic(expected = "a loop cannot block inside itself")]
fn nested_run_panics_with_a_message_that_names_the_fix() {
    bucle::run(async {
        bucle::run(async {});
    });
}

#[test]
fn nested_block_on_panics_at_the_callers_line() {
    let rt = Runtime::new().unwrap();
    let inner = Runtime::new().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            inner.block_on(async {});
        })
    }));
    let payload = result.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("Runtime::block_on"), "{message}");
    assert!(message.contains(".await"), "{message}");
    // The loop is still usable after the misuse.
    assert_eq!(rt.block_on(async { 1 }), 1);
}

#[test]
fn a_panic_in_the_main_future_propagates_after_shutdown() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let result = std::panic::catch_unwind(move || {
        bucle::run(async move {
            let guard = DropCounter(d);
            drop(bucle::spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await
            }));
            bucle::yield_now().await;
            panic!("main failed");
        })
    });
    assert!(result.is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // The thread can run a new loop afterwards.
    assert_eq!(bucle::run(async { 5 }), 5);
}

#[test]
fn call_soon_callbacks_run_in_fifo_order_and_a_panicking_one_is_contained() {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    bucle::run({
        let log = log.clone();
        async move {
            for i in 0..5 {
                let log = log.clone();
                bucle::call_soon(move || log.borrow_mut().push(i));
            }
            bucle::call_soon(|| panic!("callback failed"));
            let l = log.clone();
            bucle::call_soon(move || l.borrow_mut().push(99));
            bucle::sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(*log.borrow(), vec![0, 1, 2, 3, 4, 99]);
}

#[test]
fn event_interval_zero_is_rejected() {
    let result = std::panic::catch_unwind(|| bucle::Runtime::builder().event_interval(0));
    let payload = result.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("event_interval(0)"), "{message}");
}

#[bucle::test]
async fn the_test_macro_runs_on_a_fresh_loop() {
    assert!(bucle::Handle::try_current().is_ok());
    assert_eq!(bucle::spawn(async { 3 }).await.unwrap(), 3);
}

#[bucle::test(start_paused = true)]
async fn the_test_macro_passes_builder_settings() {
    let start = std::time::Instant::now();
    bucle::sleep(Duration::from_secs(24 * 3600)).await;
    assert!(start.elapsed() < Duration::from_secs(24 * 3600));
}

#[bucle::test]
async fn the_test_macro_supports_result_returns() -> Result<(), std::io::Error> {
    Ok(())
}
