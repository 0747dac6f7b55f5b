//! What the blocking detector costs a busy loop: the ping-pong and spawn workloads with the
//! detector at `warn` (every poll timed and published to the watchdog) and at `allow` (off),
//! side by side in the same run. Goal: `warn` at most 3% slower than `allow`.
//!
//! Both levels run in a process that already has a second thread. glibc's allocator takes a
//! locked path in every process with more than one thread, and the watchdog is the second
//! thread of an otherwise single-threaded program: measured without the extra thread, the
//! first `allow` runtime would be timed with the unlocked allocator and every later one with
//! the locked, and the difference would be glibc's, not the detector's. Chapter 5 gives both
//! figures.
//!
//! `cargo bench --bench detector`

use std::sync::Once;
use std::time::Duration;

use bucle::detector::Level;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const ROUND_TRIPS: usize = 1_000;
const TASKS: usize = 1_000;

fn runtime(level: Level) -> bucle::Runtime {
    static SECOND_THREAD: Once = Once::new();
    SECOND_THREAD.call_once(|| {
        std::thread::spawn(|| loop {
            std::thread::park();
        });
    });
    bucle::Runtime::builder()
        .blocking(level)
        .blocking_print(false)
        .build()
        .unwrap()
}

/// Two tasks pass a token back and forth through two channels.
async fn ping_pong() {
    let (to_pong, from_ping) = async_channel::bounded::<u32>(1);
    let (to_ping, from_pong) = async_channel::bounded::<u32>(1);
    let pong = bucle::spawn(async move {
        while let Ok(n) = from_ping.recv().await {
            if to_ping.send(n + 1).await.is_err() {
                break;
            }
        }
    });
    let mut n = 0;
    for _ in 0..ROUND_TRIPS {
        to_pong.send(n).await.unwrap();
        n = from_pong.recv().await.unwrap();
    }
    drop(to_pong);
    pong.await.unwrap();
    assert_eq!(n as usize, ROUND_TRIPS);
}

/// Spawns many small tasks and awaits them all.
async fn spawn_many() {
    let tasks: Vec<_> = (0..TASKS).map(|i| bucle::spawn(async move { i })).collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    assert_eq!(sum, TASKS * (TASKS - 1) / 2);
}

fn bench_ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("detector/ping_pong");
    for level in [Level::Allow, Level::Warn] {
        let rt = runtime(level);
        group.bench_with_input(BenchmarkId::new("bucle", level), &level, |b, _| {
            b.iter(|| rt.block_on(ping_pong()))
        });
    }
    group.finish();
}

fn bench_spawn(c: &mut Criterion) {
    let mut group = c.benchmark_group("detector/spawn");
    for level in [Level::Allow, Level::Warn] {
        let rt = runtime(level);
        group.bench_with_input(BenchmarkId::new("bucle", level), &level, |b, _| {
            b.iter(|| rt.block_on(spawn_many()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_ping_pong, bench_spawn
}
criterion_main!(benches);
