//! The loop itself, side by side with tokio's `current_thread` runtime (+ `LocalSet`) and
//! smol's `LocalExecutor` (+ `async-io`), in one run.
//!
//! - `spawn_200k`: spawn 200,000 tasks, then await them in order.
//! - `yield_pingpong`: two tasks take turns through `yield_now`, 100,000 turns each.
//! - `timers_100k`: 100,000 tasks each sleep a spread of 0-10 ms; the ideal is 10 ms.

use std::future::Future;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const TASKS: u64 = 200_000;
const TURNS: u32 = 100_000;
const TIMERS: u64 = 100_000;

/// A deterministic spread of delays over 0..10 ms.
fn delay(i: u64) -> Duration {
    Duration::from_micros((i * 7919) % 10_000)
}

struct Peers {
    bucle: bucle::Runtime,
    tokio: tokio::runtime::Runtime,
    smol: smol::LocalExecutor<'static>,
}

impl Peers {
    fn new() -> Peers {
        Peers {
            bucle: bucle::Runtime::new().unwrap(),
            tokio: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            smol: smol::LocalExecutor::new(),
        }
    }

    fn tokio_local<F: Future>(&self, f: F) -> F::Output {
        tokio::task::LocalSet::new().block_on(&self.tokio, f)
    }

    fn smol_local<F: Future>(&self, f: F) -> F::Output {
        async_io::block_on(self.smol.run(f))
    }
}

fn spawn_200k(c: &mut Criterion) {
    let peers = Peers::new();
    let mut group = c.benchmark_group("spawn_200k");
    group.sample_size(10);
    group.bench_function(BenchmarkId::from_parameter("bucle"), |b| {
        b.iter(|| {
            peers.bucle.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|i| bucle::spawn(async move { i })).collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
        b.iter(|| {
            peers.tokio_local(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| tokio::task::spawn_local(async move { i }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("smol"), |b| {
        b.iter(|| {
            peers.smol_local(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| peers.smol.spawn(async move { i }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await;
                }
                sum
            })
        })
    });
    group.finish();
}

fn yield_pingpong(c: &mut Criterion) {
    let peers = Peers::new();
    let mut group = c.benchmark_group("yield_pingpong");
    group.sample_size(10);
    group.bench_function(BenchmarkId::from_parameter("bucle"), |b| {
        b.iter(|| {
            peers.bucle.block_on(async {
                let a = bucle::spawn(async {
                    for _ in 0..TURNS {
                        bucle::yield_now().await;
                    }
                });
                let b = bucle::spawn(async {
                    for _ in 0..TURNS {
                        bucle::yield_now().await;
                    }
                });
                a.await.unwrap();
                b.await.unwrap();
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
        b.iter(|| {
            peers.tokio_local(async {
                let a = tokio::task::spawn_local(async {
                    for _ in 0..TURNS {
                        tokio::task::yield_now().await;
                    }
                });
                let b = tokio::task::spawn_local(async {
                    for _ in 0..TURNS {
                        tokio::task::yield_now().await;
                    }
                });
                a.await.unwrap();
                b.await.unwrap();
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("smol"), |b| {
        b.iter(|| {
            peers.smol_local(async {
                let a = peers.smol.spawn(async {
                    for _ in 0..TURNS {
                        smol::future::yield_now().await;
                    }
                });
                let b = peers.smol.spawn(async {
                    for _ in 0..TURNS {
                        smol::future::yield_now().await;
                    }
                });
                a.await;
                b.await;
            })
        })
    });
    group.finish();
}

fn timers_100k(c: &mut Criterion) {
    let peers = Peers::new();
    let mut group = c.benchmark_group("timers_100k");
    group.sample_size(10);
    group.bench_function(BenchmarkId::from_parameter("bucle"), |b| {
        b.iter(|| {
            peers.bucle.block_on(async {
                let handles: Vec<_> = (0..TIMERS)
                    .map(|i| bucle::spawn(bucle::sleep(delay(i))))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
        b.iter(|| {
            peers.tokio_local(async {
                let handles: Vec<_> = (0..TIMERS)
                    .map(|i| tokio::task::spawn_local(tokio::time::sleep(delay(i))))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.bench_function(BenchmarkId::from_parameter("smol"), |b| {
        b.iter(|| {
            peers.smol_local(async {
                let handles: Vec<_> = (0..TIMERS)
                    .map(|i| {
                        peers.smol.spawn(async move {
                            async_io::Timer::after(delay(i)).await;
                        })
                    })
                    .collect();
                for h in handles {
                    h.await;
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_200k, yield_pingpong, timers_100k);
criterion_main!(benches);
