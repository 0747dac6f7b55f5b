//! Shutdown waits for offloaded calls, but only up to `shutdown_timeout`; the paused clock
//! does not jump while calls are in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[test]
fn drop_waits_for_calls_that_are_still_running() {
    let finished = Arc::new(AtomicBool::new(false));
    let rt = bucle::Runtime::new().unwrap();
    let (started_tx, started) = mpsc::channel();
    let f = finished.clone();
    rt.block_on(async move {
        bucle::spawn(bucle::run_in_executor(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            f.store(true, Ordering::SeqCst);
        }));
        bucle::run_in_executor(move || started.recv().unwrap()).await;
    });
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "drop returned before the call finished"
    );
}

#[test]
fn a_blocked_call_cannot_hang_the_shutdown() {
    let (release, blocked) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let rt = bucle::Runtime::builder()
        .shutdown_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    rt.block_on(async move {
        bucle::spawn(bucle::run_in_executor(move || {
            started_tx.send(()).unwrap();
            // Ignores its token: only `release` ends it.
            let _ = blocked.recv();
            f.store(true, Ordering::SeqCst);
        }));
        bucle::run_in_executor(move || started.recv().unwrap()).await;
    });
    let start = Instant::now();
    drop(rt);
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "waited the timeout"
    );
    assert!(
        !finished.load(Ordering::SeqCst),
        "returned while the call was blocked"
    );
    release.send(()).unwrap();
}

#[test]
fn run_returns_when_the_timeout_is_zero() {
    let (release, blocked) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let rt = bucle::Runtime::builder()
        .shutdown_timeout(Duration::ZERO)
        .build()
        .unwrap();
    rt.block_on(async move {
        bucle::spawn(bucle::run_in_executor(move || {
            started_tx.send(()).unwrap();
            let _ = blocked.recv();
        }));
        bucle::run_in_executor(move || started.recv().unwrap()).await;
    });
    drop(rt);
    release.send(()).unwrap();
}

#[test]
fn the_paused_clock_waits_for_an_offloaded_call() {
    let rt = paused_runtime();
    rt.block_on(async {
        let start = bucle::time::Instant::now();
        let sleeper = bucle::spawn(async move {
            bucle::sleep(Duration::from_secs(10)).await;
            bucle::time::Instant::now() - start
        });
        let call = bucle::run_in_executor(|| std::thread::sleep(Duration::from_millis(50)));
        call.await;
        let at_result = bucle::time::Instant::now() - start;
        assert!(
            at_result < Duration::from_secs(10),
            "the clock jumped to the sleeper's deadline ({at_result:?}) while the call ran"
        );
        assert!(!sleeper.is_finished());
        // With nothing in flight, the clock jumps again.
        assert_eq!(sleeper.await.unwrap(), Duration::from_secs(10));
    });
}

#[test]
fn the_paused_clock_waits_for_many_calls_from_tasks() {
    let rt = paused_runtime();
    rt.block_on(async {
        let start = bucle::time::Instant::now();
        let deadline = bucle::spawn(bucle::sleep(Duration::from_secs(60)));
        let workers: Vec<_> = (0..8)
            .map(|i| {
                bucle::spawn(async move {
                    for _ in 0..5 {
                        bucle::run_in_executor(move || {
                            std::thread::sleep(Duration::from_millis(1 + i % 3))
                        })
                        .await;
                    }
                    bucle::time::Instant::now() - start
                })
            })
            .collect();
        for worker in workers {
            assert!(worker.await.unwrap() < Duration::from_secs(60));
        }
        deadline.await.unwrap();
    });
}

#[test]
fn the_paused_clock_moves_on_once_a_held_call_has_finished() {
    // A call counts as in flight until its closure returns, not until its caller takes the
    // result: a task may start a call, sleep, and only then await it, and the clock must
    // not wait on the result it has not asked for yet.
    let rt = paused_runtime();
    rt.block_on(async {
        let start = bucle::time::Instant::now();
        let call = bucle::run_in_executor(|| 7);
        bucle::sleep(Duration::from_secs(10)).await;
        assert_eq!(bucle::time::Instant::now() - start, Duration::from_secs(10));
        assert!(call.is_finished());
        assert_eq!(call.await, 7);
    });
}

#[test]
fn the_paused_clock_waits_for_a_call_nobody_awaits() {
    // The caller gave up once the call had started, so the call still runs: the clock stays
    // until it is done, and the loop is woken when it finishes rather than parking forever.
    let rt = paused_runtime();
    rt.block_on(async move {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let (started_tx, started) = mpsc::channel();
        let call = bucle::run_in_executor(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            d.store(true, Ordering::SeqCst);
        });
        bucle::run_in_executor(move || started.recv().unwrap()).await;
        drop(call);
        bucle::sleep(Duration::from_secs(5)).await;
        assert!(
            done.load(Ordering::SeqCst),
            "the clock jumped while the call ran"
        );
    });
}

fn paused_runtime() -> bucle::Runtime {
    bucle::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap()
}
