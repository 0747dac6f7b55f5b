//! Chapter 7: structured concurrency, combinators, the paused clock and task dumps.

use std::time::Duration;

use bucle::task::{Failure, ReturnWhen, TaskGroup};
use futures::StreamExt;

pub fn run() {
    // A paused clock: the hour-long sleeps below cost no real time.
    let rt = bucle::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let start = bucle::time::Instant::now();

        // A group: the first failure cancels the siblings at once.
        let mut group = TaskGroup::new();
        let slow = bucle::task::Builder::new()
            .name("slow-download")
            .spawn_in(&group, async {
                bucle::sleep(Duration::from_secs(3600)).await;
                Ok("done")
            })
            .unwrap();
        bucle::task::Builder::new()
            .name("flaky-download")
            .spawn_in(&group, async {
                bucle::sleep(Duration::from_secs(3)).await;
                Err::<&str, _>("connection reset")
            })
            .unwrap();
        bucle::yield_now().await;
        println!(
            "while the group runs, every task and what it does:\n{}",
            handle.dump()
        );

        let err = group.join().await.unwrap_err();
        println!(
            "group failed after {:?} of virtual time: {err}",
            bucle::time::Instant::now() - start
        );
        for failure in err.failures() {
            if let Failure::Error(e) = failure {
                println!("  failure: {e}");
            }
        }
        println!("the hour-long sibling: {}", slow.await.unwrap_err());

        // Results in completion order.
        let handles = [30, 10, 20].map(|ms| {
            bucle::spawn(async move {
                bucle::sleep(Duration::from_millis(ms)).await;
                ms
            })
        });
        let order: Vec<u64> = bucle::task::as_completed(handles)
            .map(|done| done.into_result().unwrap())
            .collect()
            .await;
        println!("as_completed order: {order:?}");

        // The first of several, and the rest still running.
        let handles: Vec<_> = [5, 1, 9]
            .map(|s| bucle::spawn(bucle::sleep(Duration::from_secs(s))))
            .into();
        let (done, pending) = bucle::task::wait(handles, ReturnWhen::FirstCompleted).await;
        println!(
            "wait(FirstCompleted): {} done (input #{}), {} pending",
            done.len(),
            done[0].index(),
            pending.len()
        );
        for task in pending {
            task.cancel();
        }
    });
}
