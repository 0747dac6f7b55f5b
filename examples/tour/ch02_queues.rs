//! Chapter 2: queues are the glue. A three-stage pipeline: a producer, a pool of workers
//! behind a bounded queue (back-pressure), and a collector; `task_done`/`join` says when
//! every job is finished, `shutdown` stops the workers.

use std::time::{Duration, Instant};

use bucle::sync::Queue;

pub fn run() {
    bucle::run(async {
        let jobs: Queue<u64> = Queue::bounded(4);
        let results: Queue<(usize, u64)> = Queue::new();
        let start = Instant::now();

        let workers: Vec<_> = (0..3)
            .map(|id| {
                let jobs = jobs.clone();
                let results = results.clone();
                bucle::task::Builder::new()
                    .name(format!("worker-{id}"))
                    .spawn(async move {
                        while let Ok(ms) = jobs.get().await {
                            bucle::sleep(Duration::from_millis(ms)).await; // the "work"
                            results.put((id, ms)).await.unwrap();
                            jobs.task_done().unwrap();
                        }
                    })
            })
            .collect();

        // The producer waits whenever four jobs are queued: back-pressure.
        for ms in [40, 10, 30, 20, 10, 50, 20, 30, 10] {
            jobs.put(ms).await.unwrap();
        }
        jobs.join().await; // every job has been taken and marked done
        jobs.shutdown(false); // no more jobs: the workers' `get` fails and they return
        for w in workers {
            w.await.unwrap();
        }

        let mut per_worker = [0u64; 3];
        while let Ok((id, ms)) = results.try_get() {
            per_worker[id] += ms;
        }
        println!(
            "220 ms of jobs on 3 workers took {} ms; work per worker (ms): {:?}",
            start.elapsed().as_millis(),
            per_worker
        );
    });
}
