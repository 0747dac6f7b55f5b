//! Cross-thread stress: threads using the `_blocking` methods against loop tasks, one
//! million items each way through bounded queues, none lost or duplicated.

use std::sync::Arc;

use bucle::sync::{Queue, Semaphore};

const ITEMS: u64 = 1_000_000;
const THREADS: u64 = 2;
const TASKS: u64 = 3;

/// Sum of `0..n`.
fn triangle(n: u64) -> u64 {
    n * (n - 1) / 2
}

#[test]
fn threads_feed_loop_tasks_without_losing_an_item() {
    let queue = Queue::bounded(1024);
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                for n in (t..ITEMS).step_by(THREADS as usize) {
                    queue.put_blocking(n).unwrap();
                }
            })
        })
        .collect();
    let (count, sum) = bucle::run(async {
        let consumers: Vec<_> = (0..TASKS)
            .map(|_| {
                let queue = queue.clone();
                bucle::spawn(async move {
                    let (mut count, mut sum) = (0u64, 0u64);
                    while let Ok(n) = queue.get().await {
                        count += 1;
                        sum += n;
                    }
                    (count, sum)
                })
            })
            .collect();
        let closer = std::thread::spawn({
            let queue = queue.clone();
            move || {
                for p in producers {
                    p.join().unwrap();
                }
                queue.shutdown(false);
            }
        });
        let (mut count, mut sum) = (0, 0);
        for c in consumers {
            let (n, s) = c.await.unwrap();
            count += n;
            sum += s;
        }
        closer.join().unwrap();
        (count, sum)
    });
    assert_eq!(count, ITEMS);
    assert_eq!(sum, triangle(ITEMS));
    assert_eq!(queue.registered_waiters(), 0);
}

#[test]
fn loop_tasks_feed_threads_without_losing_an_item() {
    let queue = Queue::bounded(1024);
    let consumers: Vec<_> = (0..THREADS)
        .map(|_| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                let (mut count, mut sum) = (0u64, 0u64);
                while let Ok(n) = queue.get_blocking() {
                    count += 1;
                    sum += n;
                }
                (count, sum)
            })
        })
        .collect();
    bucle::run(async {
        let producers: Vec<_> = (0..TASKS)
            .map(|t| {
                let queue = queue.clone();
                bucle::spawn(async move {
                    for n in (t..ITEMS).step_by(TASKS as usize) {
                        queue.put(n).await.unwrap();
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        queue.shutdown(false);
    });
    let (mut count, mut sum) = (0, 0);
    for c in consumers {
        let (n, s) = c.join().unwrap();
        count += n;
        sum += s;
    }
    assert_eq!(count, ITEMS);
    assert_eq!(sum, triangle(ITEMS));
    assert_eq!(queue.registered_waiters(), 0);
}

#[test]
fn a_semaphore_shared_by_threads_and_tasks_conserves_permits() {
    let sem = Arc::new(Semaphore::new(2));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let sem = sem.clone();
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    drop(futures::executor::block_on(sem.acquire()));
                }
            })
        })
        .collect();
    bucle::run(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                bucle::spawn(async move {
                    for _ in 0..20_000 {
                        let _permit = sem.acquire().await;
                        bucle::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available(), 2);
    assert_eq!(sem.registered_waiters(), 0);
}
