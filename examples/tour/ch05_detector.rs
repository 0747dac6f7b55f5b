//! Chapter 5: the blocking detector names the task that held the loop, and where.

use std::time::Duration;

pub fn run() {
    let rt = bucle::Runtime::builder()
        .blocking_threshold(Duration::from_millis(20))
        .blocking_print(false)
        .build()
        .expect("an event loop");
    rt.block_on(async {
        let good = bucle::task::Builder::new().name("good").spawn(async {
            bucle::sleep(Duration::from_millis(60)).await;
        });
        let bad = bucle::task::Builder::new().name("bad").spawn(async {
            // bucle-lint: allow(blocking_call) blocks on purpose, for the detector to report
            std::thread::sleep(Duration::from_millis(60));
        });
        good.await.unwrap();
        bad.await.unwrap();
    });
    for report in rt.blocking_reports() {
        println!(
            "{}: {} held the loop for {} ms, spawned at {}",
            report.lint(),
            report.task_name().unwrap_or("?"),
            report.duration().as_millis(),
            report.spawned_at()
        );
        println!("  help: {}", report.hint());
    }
    println!("the task that awaited `bucle::sleep` was never reported");
}
