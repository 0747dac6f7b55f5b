//! `ThreadPool`: the size limit holds, threads are named, introspection adds up, panics
//! leave it usable, and it can be awaited without a loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Duration;

use bucle::ThreadPool;

/// Polls `cond` from the loop until it holds.
async fn eventually(mut cond: impl FnMut() -> bool) {
    while !cond() {
        bucle::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn never_runs_more_calls_than_its_threads() {
    let pool = ThreadPool::builder().threads(3).name("limited").build();
    let running = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    // The first three calls meet at a barrier: proof that three run at once.
    let barrier = Arc::new(Barrier::new(3));
    bucle::run(async {
        let calls: Vec<_> = (0..30)
            .map(|i| {
                let (running, max_seen, barrier) =
                    (running.clone(), max_seen.clone(), barrier.clone());
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max_seen.fetch_max(now, Ordering::SeqCst);
                    if i < 3 {
                        barrier.wait();
                    } else {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for call in calls {
            call.await;
        }
    });
    assert_eq!(max_seen.load(Ordering::SeqCst), 3);
    assert!(pool.threads() <= 3);
}

#[test]
fn introspection_reports_threads_busy_and_queued() {
    let pool = ThreadPool::builder().threads(2).build();
    let gate = Arc::new(Mutex::new(()));
    let closed = gate.lock().unwrap();
    bucle::run(async {
        let calls: Vec<_> = (0..10)
            .map(|_| {
                let gate = gate.clone();
                pool.run(move || drop(gate.lock().unwrap()))
            })
            .collect();
        eventually(|| pool.busy() == 2).await;
        let stats = pool.stats();
        assert_eq!((stats.threads, stats.busy, stats.queued), (2, 2, 8));
        drop(closed);
        for call in calls {
            call.await;
        }
        eventually(|| pool.busy() == 0).await;
        assert_eq!(pool.queued(), 0);
        assert_eq!(pool.threads(), 2);
    });
}

#[test]
fn threads_carry_the_pool_name() {
    let pool = ThreadPool::builder().threads(1).name("db").build();
    let name = bucle::run(async {
        pool.run(|| std::thread::current().name().map(String::from))
            .await
    });
    assert_eq!(name.as_deref(), Some("db-1"));
}

#[test]
fn a_panic_does_not_kill_the_thread_or_poison_the_pool() {
    let pool = ThreadPool::builder().threads(1).name("solo").build();
    bucle::run(async {
        let first = pool.run(|| std::thread::current().id()).await;
        let err = bucle::spawn(pool.run(|| panic!("inside the pool")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("inside the pool"));
        let after = pool.run(|| std::thread::current().id()).await;
        assert_eq!(first, after, "the same thread keeps serving");
        assert_eq!(pool.threads(), 1);
    });
}

#[test]
fn run_works_without_a_loop() {
    let pool = ThreadPool::builder().threads(2).build();
    let a = pool.run(|| 20);
    let b = pool.run(|| 22);
    assert_eq!(futures::executor::block_on(async { a.await + b.await }), 42);
}

#[test]
fn run_works_under_another_runtime() {
    let pool = ThreadPool::builder().threads(1).build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(pool.run(|| "tokio")), "tokio");
}

#[test]
fn calls_wait_in_fifo_order() {
    let pool = ThreadPool::builder().threads(1).build();
    let order = Arc::new(Mutex::new(Vec::new()));
    bucle::run(async {
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let order = order.clone();
                pool.run(move || order.lock().unwrap().push(i))
            })
            .collect();
        for call in calls {
            call.await;
        }
    });
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

#[test]
fn idle_threads_exit_after_keep_alive() {
    let pool = ThreadPool::builder()
        .threads(2)
        .keep_alive(Duration::from_millis(20))
        .build();
    bucle::run(async {
        let (a, b) = (pool.run(|| ()), pool.run(|| ()));
        a.await;
        b.await;
        eventually(|| pool.threads() == 0).await;
    });
}

#[test]
fn dropping_the_pool_lets_queued_calls_finish() {
    let pool = ThreadPool::builder().threads(1).build();
    let (tx, rx) = mpsc::channel();
    let calls: Vec<_> = (0..5)
        .map(|i| {
            let tx = tx.clone();
            pool.run(move || tx.send(i).unwrap())
        })
        .collect();
    drop(pool);
    for call in calls {
        futures::executor::block_on(call);
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
}

#[test]
fn a_pool_can_be_the_default_executor() {
    let pool = ThreadPool::builder().threads(2).name("main-pool").build();
    let rt = bucle::Runtime::builder()
        .default_executor(pool.clone())
        .build()
        .unwrap();
    let name = rt.block_on(async {
        bucle::run_in_executor(|| std::thread::current().name().map(String::from)).await
    });
    assert!(name.unwrap().starts_with("main-pool-"));
    use bucle::offload::Executor;
    assert_eq!(Executor::stats(&pool).unwrap().threads, pool.threads());
}

#[test]
#[should_panic(expected = "threads(0) would never run a job")]
fn zero_threads_is_refused() {
    let _ = ThreadPool::builder().threads(0);
}
