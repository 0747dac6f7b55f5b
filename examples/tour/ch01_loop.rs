//! Chapter 1: one thread, many tasks.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub fn run() {
    bucle::run(async {
        // Three tasks that each wait 100 ms finish together in about 100 ms: while one
        // waits, the loop runs the others. Concurrency, on one thread.
        let start = Instant::now();
        let sleepers: Vec<_> = (1..=3)
            .map(|n| {
                bucle::task::Builder::new()
                    .name(format!("sleeper-{n}"))
                    .spawn(async move {
                        bucle::sleep(Duration::from_millis(100)).await;
                        n
                    })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
        println!(
            "three 100 ms sleeps, run concurrently, took {} ms",
            start.elapsed().as_millis()
        );

        // Tasks take turns at each `.await`; they share plain Rc<RefCell<..>> data.
        let log = Rc::new(RefCell::new(Vec::new()));
        let turns: Vec<_> = ["ping", "pong"]
            .into_iter()
            .map(|word| {
                let log = log.clone();
                bucle::spawn(async move {
                    for _ in 0..3 {
                        log.borrow_mut().push(word);
                        bucle::yield_now().await;
                    }
                })
            })
            .collect();
        for t in turns {
            t.await.unwrap();
        }
        println!("turn taking: {}", log.borrow().join(" "));

        // CPU work does not overlap: concurrency is not parallelism.
        let start = Instant::now();
        let spinners: Vec<_> = (0..2)
            .map(|_| bucle::spawn(async { (0..20_000_000u64).fold(0u64, |a, b| a ^ b) }))
            .collect();
        for s in spinners {
            s.await.unwrap();
        }
        println!(
            "two CPU-bound tasks ran one after the other: {} ms (this is what offloading is for)",
            start.elapsed().as_millis()
        );

        // Cancellation, timeouts and contained panics.
        let forever = bucle::spawn(std::future::pending::<()>());
        forever.cancel();
        println!("cancelled task: {}", forever.await.unwrap_err());
        let late = bucle::timeout(
            Duration::from_millis(20),
            bucle::sleep(Duration::from_secs(5)),
        );
        println!("timeout: {}", late.await.unwrap_err());
        let broken = bucle::task::Builder::new()
            .name("broken")
            .spawn(async { panic!("a bug in one task") });
        println!(
            "a panicking task becomes an error: {}",
            broken.await.unwrap_err()
        );
        println!("and the loop keeps running.");
    });
}
