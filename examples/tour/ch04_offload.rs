//! Chapter 4: blocking work belongs in the executor.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run() {
    bucle::run(async {
        // A ticker shows whether the loop is free: it counts 10 ms ticks while four blocking
        // 200 ms calls run on the pool.
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = bucle::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    bucle::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let start = Instant::now();
        let calls: Vec<_> = (0..4)
            .map(|n| {
                bucle::run_in_executor(move || {
                    std::thread::sleep(Duration::from_millis(200));
                    n
                })
            })
            .collect();
        for call in calls {
            call.await;
        }
        println!(
            "four blocking 200 ms calls, offloaded, took {} ms; the loop ticked {} times meanwhile",
            start.elapsed().as_millis(),
            ticks.load(Ordering::Relaxed)
        );

        // A sized pool limits concurrency: 8 calls on 2 threads run two at a time.
        let pool = bucle::ThreadPool::builder().threads(2).name("db").build();
        let start = Instant::now();
        let queries: Vec<_> = (0..8)
            .map(|_| pool.run(|| std::thread::sleep(Duration::from_millis(25))))
            .collect();
        bucle::sleep(Duration::from_millis(5)).await;
        let stats = pool.stats();
        println!(
            "pool \"db\": {} threads, {} busy, {} queued",
            stats.threads, stats.busy, stats.queued
        );
        for query in queries {
            query.await;
        }
        println!(
            "8 x 25 ms on 2 threads took {} ms (about 4 rounds)",
            start.elapsed().as_millis()
        );

        // A panic in a closure becomes the awaiting task's error, naming the call site.
        let failed = bucle::task::Builder::new()
            .name("import")
            .spawn(async { bucle::run_in_executor(|| -> u32 { panic!("bad row 7") }).await })
            .await
            .unwrap_err();
        println!("a panicking call: {failed}");

        // Cancel tokens: the closure sees that its caller gave up.
        let search = bucle::run_in_executor_with(|token| {
            let mut tried = 0u64;
            while !token.is_cancelled() {
                tried += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            tried
        });
        let gave_up = bucle::timeout(Duration::from_millis(30), search).await;
        println!(
            "timed out: {}; the closure saw it and stopped",
            gave_up.is_err()
        );

        // Files, without blocking the loop.
        let path = std::env::temp_dir().join(format!("bucle-tour-{}", std::process::id()));
        bucle::fs::write(&path, "hola desde el pool").await.unwrap();
        println!(
            "read back: {:?}",
            bucle::fs::read_to_string(&path).await.unwrap()
        );
        bucle::fs::remove_file(&path).await.unwrap();
        let missing = bucle::fs::read("/no/such/file").await.unwrap_err();
        println!("and errors are the OS's own: {missing}");

        ticker.cancel();
    });
}
