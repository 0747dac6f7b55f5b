//! Offload round trips: 20 000 calls of `x + 1` sent to a pool, 64 in flight at a time, on
//! bucle (`run_in_executor`, default `blocking` pool), tokio (`spawn_blocking` from a
//! `current_thread` runtime) and smol (`blocking::unblock` from a `LocalExecutor`).

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

const CALLS: u64 = 20_000;
const IN_FLIGHT: u64 = 64;
const PER_WORKER: u64 = CALLS / IN_FLIGHT;

fn offload(c: &mut Criterion) {
    let mut group = c.benchmark_group("offload_20k_x64");
    // One iteration per sample, many samples: a single iteration's time swings by 2x with
    // how the pool's threads happen to be scheduled on a busy machine, so the median needs
    // many of them, and linear sampling would make 60 samples cost 1,830 iterations.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(60);
    group.measurement_time(std::time::Duration::from_secs(5));

    group.bench_function("bucle", |b| {
        let rt = bucle::Runtime::new().unwrap();
        b.iter(|| {
            rt.block_on(async {
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|w| {
                        bucle::spawn(async move {
                            let mut x = w;
                            for _ in 0..PER_WORKER {
                                x = bucle::run_in_executor(move || x + 1).await;
                            }
                            x
                        })
                    })
                    .collect();
                let mut sum = 0;
                for worker in workers {
                    sum += worker.await.unwrap();
                }
                assert_eq!(sum, (0..IN_FLIGHT).sum::<u64>() + PER_WORKER * IN_FLIGHT);
            })
        });
    });

    group.bench_function("bucle_threadpool", |b| {
        let pool = bucle::ThreadPool::builder().threads(64).build();
        let rt = bucle::Runtime::builder()
            .default_executor(pool)
            .build()
            .unwrap();
        b.iter(|| {
            rt.block_on(async {
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|w| {
                        bucle::spawn(async move {
                            let mut x = w;
                            for _ in 0..PER_WORKER {
                                x = bucle::run_in_executor(move || x + 1).await;
                            }
                            x
                        })
                    })
                    .collect();
                for worker in workers {
                    worker.await.unwrap();
                }
            })
        });
    });

    group.bench_function("tokio", |b| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|w| {
                        tokio::task::spawn_local(async move {
                            let mut x = w;
                            for _ in 0..PER_WORKER {
                                x = tokio::task::spawn_blocking(move || x + 1).await.unwrap();
                            }
                            x
                        })
                    })
                    .collect();
                let mut sum = 0;
                for worker in workers {
                    sum += worker.await.unwrap();
                }
                assert_eq!(sum, (0..IN_FLIGHT).sum::<u64>() + PER_WORKER * IN_FLIGHT);
            })
        });
    });

    group.bench_function("smol", |b| {
        b.iter(|| {
            let ex = smol::LocalExecutor::new();
            async_io::block_on(ex.run(async {
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|w| {
                        ex.spawn(async move {
                            let mut x = w;
                            for _ in 0..PER_WORKER {
                                x = blocking::unblock(move || x + 1).await;
                            }
                            x
                        })
                    })
                    .collect();
                let mut sum = 0;
                for worker in workers {
                    sum += worker.await;
                }
                assert_eq!(sum, (0..IN_FLIGHT).sum::<u64>() + PER_WORKER * IN_FLIGHT);
            }))
        });
    });

    group.finish();
}

criterion_group!(benches, offload);
criterion_main!(benches);
