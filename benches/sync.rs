//! `bucle::sync` side by side with tokio (`current_thread` runtime + `LocalSet`) and smol
//! (`LocalExecutor` + `async_io::block_on`), one criterion group per workload:
//!
//! - `ping_pong`: 10 000 round trips through two capacity-1 queues.
//! - `mpmc`: 4 producers and 4 consumers through one bounded(1024) queue, 100 000 items
//!   (scaled down from one million to keep a run short; the per-item cost is what counts).
//!   tokio has no MPMC channel: its consumers share the `mpsc` receiver behind a
//!   `tokio::sync::Mutex`, the usual workaround.
//! - `lock`: 1000 tasks, each 100 times lock / yield / unlock.
//! - `event_fanout`: 10 000 tasks wait for one event, which is then set once.
//!
//! Run with `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};

const ROUND_TRIPS: u64 = 10_000;
const MPMC_ITEMS: u64 = 100_000;
const MPMC_SIDES: u64 = 4;
const LOCK_TASKS: usize = 1000;
const LOCK_ROUNDS: usize = 100;
const FANOUT: usize = 10_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    group.sample_size(10);

    let rt = bucle::Runtime::new().unwrap();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let ping = bucle::sync::Queue::bounded(1);
                let pong = bucle::sync::Queue::bounded(1);
                let echo = bucle::spawn({
                    let (ping, pong) = (ping.clone(), pong.clone());
                    async move {
                        while let Ok(n) = ping.get().await {
                            pong.put(n).await.unwrap();
                        }
                    }
                });
                for n in 0..ROUND_TRIPS {
                    ping.put(n).await.unwrap();
                    assert_eq!(pong.get().await.unwrap(), n);
                }
                ping.shutdown(false);
                echo.await.unwrap();
            })
        })
    });

    let trt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            trt.block_on(local.run_until(async {
                let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel(1);
                let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel(1);
                let echo = tokio::task::spawn_local(async move {
                    while let Some(n) = ping_rx.recv().await {
                        pong_tx.send(n).await.unwrap();
                    }
                });
                for n in 0..ROUND_TRIPS {
                    ping_tx.send(n).await.unwrap();
                    assert_eq!(pong_rx.recv().await.unwrap(), n);
                }
                drop(ping_tx);
                echo.await.unwrap();
            }))
        })
    });

    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                let (ping_tx, ping_rx) = async_channel::bounded(1);
                let (pong_tx, pong_rx) = async_channel::bounded(1);
                let echo = ex.spawn(async move {
                    while let Ok(n) = ping_rx.recv().await {
                        pong_tx.send(n).await.unwrap();
                    }
                });
                for n in 0..ROUND_TRIPS {
                    ping_tx.send(n).await.unwrap();
                    assert_eq!(pong_rx.recv().await.unwrap(), n);
                }
                drop(ping_tx);
                echo.await;
            }))
        })
    });
    group.finish();
}

fn mpmc(c: &mut Criterion) {
    let mut group = c.benchmark_group("mpmc");
    group.sample_size(10);
    let per_producer = MPMC_ITEMS / MPMC_SIDES;

    let rt = bucle::Runtime::new().unwrap();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let queue = bucle::sync::Queue::bounded(1024);
                let producers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let queue = queue.clone();
                        bucle::spawn(async move {
                            for n in 0..per_producer {
                                queue.put(n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                let consumers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let queue = queue.clone();
                        bucle::spawn(async move {
                            let mut count = 0u64;
                            while queue.get().await.is_ok() {
                                count += 1;
                            }
                            count
                        })
                    })
                    .collect();
                for p in producers {
                    p.await.unwrap();
                }
                queue.shutdown(false);
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, MPMC_ITEMS);
            })
        })
    });

    let trt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            trt.block_on(local.run_until(async {
                let (tx, rx) = tokio::sync::mpsc::channel(1024);
                let rx = Rc::new(tokio::sync::Mutex::new(rx));
                let producers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let tx = tx.clone();
                        tokio::task::spawn_local(async move {
                            for n in 0..per_producer {
                                tx.send(n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let consumers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let rx = rx.clone();
                        tokio::task::spawn_local(async move {
                            let mut count = 0u64;
                            while rx.lock().await.recv().await.is_some() {
                                count += 1;
                            }
                            count
                        })
                    })
                    .collect();
                for p in producers {
                    p.await.unwrap();
                }
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, MPMC_ITEMS);
            }))
        })
    });

    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                let (tx, rx) = async_channel::bounded(1024);
                let producers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let tx = tx.clone();
                        ex.spawn(async move {
                            for n in 0..per_producer {
                                tx.send(n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let consumers: Vec<_> = (0..MPMC_SIDES)
                    .map(|_| {
                        let rx = rx.clone();
                        ex.spawn(async move {
                            let mut count = 0u64;
                            while rx.recv().await.is_ok() {
                                count += 1;
                            }
                            count
                        })
                    })
                    .collect();
                for p in producers {
                    p.await;
                }
                let mut total = 0;
                for c in consumers {
                    total += c.await;
                }
                assert_eq!(total, MPMC_ITEMS);
            }))
        })
    });
    group.finish();
}

fn lock(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock");
    group.sample_size(10);

    let rt = bucle::Runtime::new().unwrap();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let lock = Rc::new(bucle::sync::Lock::new(0usize));
                let tasks: Vec<_> = (0..LOCK_TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        bucle::spawn(async move {
                            for _ in 0..LOCK_ROUNDS {
                                let mut guard = lock.lock().await;
                                bucle::yield_now().await;
                                *guard += 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                assert_eq!(*lock.lock().await, LOCK_TASKS * LOCK_ROUNDS);
            })
        })
    });

    let trt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            trt.block_on(local.run_until(async {
                let lock = Rc::new(tokio::sync::Mutex::new(0usize));
                let tasks: Vec<_> = (0..LOCK_TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        tokio::task::spawn_local(async move {
                            for _ in 0..LOCK_ROUNDS {
                                let mut guard = lock.lock().await;
                                tokio::task::yield_now().await;
                                *guard += 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                assert_eq!(*lock.lock().await, LOCK_TASKS * LOCK_ROUNDS);
            }))
        })
    });

    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                let lock = Rc::new(async_lock::Mutex::new(0usize));
                let tasks: Vec<_> = (0..LOCK_TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        ex.spawn(async move {
                            for _ in 0..LOCK_ROUNDS {
                                let mut guard = lock.lock().await;
                                smol::future::yield_now().await;
                                *guard += 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await;
                }
                assert_eq!(*lock.lock().await, LOCK_TASKS * LOCK_ROUNDS);
            }))
        })
    });
    group.finish();
}

fn event_fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_fanout");
    group.sample_size(10);

    let rt = bucle::Runtime::new().unwrap();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let event = Rc::new(bucle::sync::Event::new());
                let waiting = Rc::new(Cell::new(0));
                let tasks: Vec<_> = (0..FANOUT)
                    .map(|_| {
                        let (event, waiting) = (event.clone(), waiting.clone());
                        bucle::spawn(async move {
                            waiting.set(waiting.get() + 1);
                            event.wait().await;
                        })
                    })
                    .collect();
                while waiting.get() < FANOUT {
                    bucle::yield_now().await;
                }
                event.set();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });

    let trt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            trt.block_on(local.run_until(async {
                // A flag plus `Notify`: tokio's recipe for an event that stays set.
                let event = Rc::new((AtomicBool::new(false), tokio::sync::Notify::new()));
                let waiting = Rc::new(Cell::new(0));
                let tasks: Vec<_> = (0..FANOUT)
                    .map(|_| {
                        let (event, waiting) = (event.clone(), waiting.clone());
                        tokio::task::spawn_local(async move {
                            waiting.set(waiting.get() + 1);
                            let notified = event.1.notified();
                            tokio::pin!(notified);
                            notified.as_mut().enable();
                            if !event.0.load(Ordering::Acquire) {
                                notified.await;
                            }
                        })
                    })
                    .collect();
                while waiting.get() < FANOUT {
                    tokio::task::yield_now().await;
                }
                event.0.store(true, Ordering::Release);
                event.1.notify_waiters();
                for t in tasks {
                    t.await.unwrap();
                }
            }))
        })
    });

    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                // A flag plus `event_listener::Event`: smol's recipe for the same.
                let event = Rc::new((AtomicBool::new(false), event_listener::Event::new()));
                let waiting = Rc::new(Cell::new(0));
                let tasks: Vec<_> = (0..FANOUT)
                    .map(|_| {
                        let (event, waiting) = (event.clone(), waiting.clone());
                        ex.spawn(async move {
                            waiting.set(waiting.get() + 1);
                            loop {
                                if event.0.load(Ordering::Acquire) {
                                    break;
                                }
                                let listener = event.1.listen();
                                if event.0.load(Ordering::Acquire) {
                                    break;
                                }
                                listener.await;
                            }
                        })
                    })
                    .collect();
                while waiting.get() < FANOUT {
                    smol::future::yield_now().await;
                }
                event.0.store(true, Ordering::Release);
                event.1.notify(usize::MAX);
                for t in tasks {
                    t.await;
                }
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, ping_pong, mpmc, lock, event_fanout);
criterion_main!(benches);
