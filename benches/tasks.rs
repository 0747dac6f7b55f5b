//! Task hot paths, bucle beside tokio and smol: spawning and joining many small tasks, and
//! one task polled many times (what per-poll bookkeeping costs).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

const TASKS: usize = 1_000;
const YIELDS: usize = 10_000;

fn bucle_rt() -> bucle::Runtime {
    bucle::Runtime::new().unwrap()
}

fn tokio_rt() -> (tokio::runtime::Runtime, tokio::task::LocalSet) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    (rt, tokio::task::LocalSet::new())
}

fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_join_1000");
    let rt = bucle_rt();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|i| bucle::spawn(async move { i })).collect();
                for h in handles {
                    black_box(h.await.unwrap());
                }
            })
        })
    });
    let (trt, local) = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            local.block_on(&trt, async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| tokio::task::spawn_local(async move { i }))
                    .collect();
                for h in handles {
                    black_box(h.await.unwrap());
                }
            })
        })
    });
    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                let handles: Vec<_> = (0..TASKS).map(|i| ex.spawn(async move { i })).collect();
                for h in handles {
                    black_box(h.await);
                }
            }))
        })
    });
    group.finish();
}

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_10000");
    let rt = bucle_rt();
    group.bench_function("bucle", |b| {
        b.iter(|| {
            rt.block_on(async {
                bucle::spawn(async {
                    for _ in 0..YIELDS {
                        bucle::yield_now().await;
                    }
                })
                .await
                .unwrap()
            })
        })
    });
    let (trt, local) = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            local.block_on(&trt, async {
                tokio::task::spawn_local(async {
                    for _ in 0..YIELDS {
                        tokio::task::yield_now().await;
                    }
                })
                .await
                .unwrap()
            })
        })
    });
    let ex = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                ex.spawn(async {
                    for _ in 0..YIELDS {
                        smol::future::yield_now().await;
                    }
                })
                .await
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_join, yield_many);
criterion_main!(benches);
