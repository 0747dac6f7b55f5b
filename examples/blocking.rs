//! A loop with three tasks that block it in three ways, and the detector's reports.
//!
//! Run it with `cargo run --example blocking`; add `BUCLE_BLOCKING_FORMAT=json` for JSON
//! lines, `BUCLE_BLOCKING=deny` to make it fail.

use std::io::Read;
use std::time::{Duration, Instant};

/// Reads a config file the blocking way.
// bucle-lint: allow(blocking_call) reads a pipe on the loop on purpose, for the detector to report
fn load_config(pipe: &mut std::os::unix::net::UnixStream) -> String {
    let mut text = String::new();
    pipe.read_to_string(&mut text).unwrap();
    text
}

/// Computes for a while without yielding.
fn checksum(rounds: u64) -> u64 {
    let start = Instant::now();
    let mut sum = 0u64;
    while start.elapsed() < Duration::from_millis(rounds) {
        sum = std::hint::black_box(sum.wrapping_mul(31).wrapping_add(7));
    }
    sum
}

fn main() {
    let rt = bucle::Runtime::builder()
        .blocking_threshold(Duration::from_millis(20))
        .build()
        .expect("an event loop");
    rt.block_on(async {
        // The detector loads debug info in the background when the loop starts (about a
        // second for a debug build); give it that, so that even the first report comes while
        // its stall still goes on.
        bucle::sleep(Duration::from_millis(1500)).await;
        let ticker = bucle::spawn(async {
            for _ in 0..5 {
                bucle::sleep(Duration::from_millis(10)).await;
            }
        });

        let fetch = bucle::task::Builder::new().name("fetch").spawn(async {
            // Wrong: blocks the loop. Right: `bucle::sleep(..).await`.
            // bucle-lint: allow(blocking_call) blocks on purpose, for the detector to report
            std::thread::sleep(Duration::from_millis(120));
        });

        let crunch = bucle::task::Builder::new()
            .name("crunch")
            .spawn(async { checksum(80) });

        let (mut reader, mut writer) = std::os::unix::net::UnixStream::pair().unwrap();
        let feeder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            std::io::Write::write_all(&mut writer, b"threads = 4\n").unwrap();
        });
        let config = bucle::task::Builder::new()
            .name("config")
            .spawn(async move { load_config(&mut reader) });

        fetch.await.unwrap();
        crunch.await.unwrap();
        println!("config: {}", config.await.unwrap().trim());
        // bucle-lint: allow(blocking_call) the feeder has written its line and is ending
        feeder.join().unwrap();
        ticker.await.unwrap();
    });
    let reports = rt.blocking_reports();
    println!("\n{} findings:", reports.len());
    for report in &reports {
        println!(
            "- {} {:?}: {:?}",
            report.lint(),
            report.task_name(),
            report.duration()
        );
    }
}
