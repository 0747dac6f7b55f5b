//! Levels and configuration: deny fails a test, allow stays silent, per-task and per-scope
//! settings, JSON lines, deduplication, and a busy well-behaved program with no reports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bucle::detector::{Level, Lint};
use bucle::Runtime;

const THRESHOLD: Duration = Duration::from_millis(20);
const BLOCK: Duration = Duration::from_millis(200);

fn builder(level: Level) -> bucle::runtime::Builder {
    Runtime::builder()
        .blocking(level)
        .blocking_threshold(THRESHOLD)
        .blocking_print(false)
}

#[bucle::test(blocking_threshold = THRESHOLD, blocking_print = false)]
#[should_panic(expected = "the test blocked the event loop")]
async fn deny_fails_a_test_that_blocks() {
    bucle::task::Builder::new()
        .name("offender")
        .spawn(async { std::thread::sleep(BLOCK) })
        .await
        .unwrap();
}

#[test]
fn the_failure_message_carries_the_report_after_the_tests_own_panic() {
    let rt = Runtime::builder()
        .blocking(Level::Deny)
        .blocking_threshold(THRESHOLD)
        .blocking_print(false)
        .build()
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.__run_test(async {
            std::thread::sleep(BLOCK);
            panic!("the assertion of the test itself");
        })
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    let own = message
        .find("the assertion of the test itself")
        .expect("own panic");
    let report = message.find("error[blocking::").expect("the report");
    assert!(own < report, "{message}");
    assert!(
        message.contains("the test also blocked the event loop"),
        "{message}"
    );
}

#[test]
fn run_checked_returns_the_report_at_deny() {
    let rt = builder(Level::Deny).build().unwrap();
    let err = rt
        .run_checked(async {
            bucle::task::Builder::new()
                .name("io")
                .spawn(async { std::thread::sleep(BLOCK) })
                .await
                .unwrap()
        })
        .unwrap_err();
    assert_eq!(err.level(), Level::Deny);
    assert_eq!(err.task_name(), Some("io"));
    assert!(err.to_string().starts_with("error[blocking::"), "{err}");
    // The finding is consumed: the next run is clean.
    assert_eq!(rt.run_checked(async { 5 }).unwrap(), 5);
}

#[test]
#[should_panic(expected = "blocked the event loop, and the detector is at `deny`")]
fn block_on_panics_after_its_future_at_deny() {
    let rt = builder(Level::Deny).build().unwrap();
    rt.block_on(async { std::thread::sleep(BLOCK) });
}

#[test]
fn allow_stays_silent() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let rt = builder(Level::Allow)
        .on_blocking(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    rt.block_on(async {
        bucle::spawn(async { std::thread::sleep(BLOCK) })
            .await
            .unwrap();
    });
    assert!(rt.blocking_reports().is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn allow_blocking_tasks_and_allow_scopes_are_not_reported() {
    let rt = builder(Level::Deny).build().unwrap();
    let result = rt.run_checked(async {
        bucle::task::Builder::new()
            .allow_blocking()
            .spawn(async { std::thread::sleep(BLOCK) })
            .await
            .unwrap();
        bucle::spawn(async {
            bucle::detector::allow("a bounded startup step", || std::thread::sleep(BLOCK));
        })
        .await
        .unwrap();
        bucle::detector::allow("in the main future too", || std::thread::sleep(BLOCK));
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
    assert!(rt.blocking_reports().is_empty());
}

#[test]
fn a_task_threshold_overrides_the_runtimes() {
    let rt = builder(Level::Warn).build().unwrap();
    rt.block_on(async {
        bucle::task::Builder::new()
            .blocking_threshold(Duration::from_secs(5))
            .spawn(async { std::thread::sleep(Duration::from_millis(100)) })
            .await
            .unwrap();
    });
    assert!(rt.blocking_reports().is_empty());
}

#[test]
fn offloaded_blocking_is_never_reported() {
    let rt = builder(Level::Deny).build().unwrap();
    let result = rt.run_checked(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(BLOCK);
            tx.send(7).unwrap();
        });
        rx.await.unwrap()
    });
    assert_eq!(result.unwrap(), 7);
}

#[test]
fn reports_are_deduplicated_by_site_with_a_count() {
    let rt = builder(Level::Warn)
        .blocking_lint(Lint::LongTick, Level::Allow)
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            bucle::spawn(async { std::thread::sleep(Duration::from_millis(60)) })
                .await
                .unwrap();
        }
    });
    let reports = rt.blocking_reports();
    let total: u64 = reports.iter().map(|r| r.count()).sum();
    assert_eq!(total, 3, "{reports:#?}");
    assert!(
        reports.len() <= 2,
        "one entry per lint and site: {reports:#?}"
    );
}

#[test]
fn json_lines_carry_the_documented_fields() {
    let rt = builder(Level::Warn).build().unwrap();
    let line = line!() + 4;
    rt.block_on(async {
        bucle::task::Builder::new()
            .name("fetch")
            .spawn(async { std::thread::sleep(BLOCK) })
            .await
            .unwrap();
    });
    let report = rt
        .blocking_reports()
        .into_iter()
        .find(|r| r.lint() == Lint::Stall)
        .expect("a stall");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["v"], 1);
    assert_eq!(json["lint"], "stall");
    assert_eq!(json["level"], "warn");
    assert!(json["task"]["id"].as_u64().unwrap() > 0);
    assert_eq!(json["task"]["name"], "fetch");
    let spawned_at = json["task"]["spawned_at"].as_str().unwrap();
    assert!(
        spawned_at.starts_with(&format!("{}:{line}:", file!())),
        "{spawned_at}"
    );
    assert!(json["poll"]["duration_ns"].as_u64().unwrap() >= 150_000_000);
    assert_eq!(json["poll"]["threshold_ns"], 20_000_000);
    assert_eq!(json["poll"]["completed"], true);
    assert!(json["hint"].as_str().unwrap().contains("bucle::sleep"));
    assert_eq!(json["count"], 1);
    assert!(json["stack"].is_array());
    if cfg!(target_os = "linux") {
        assert_eq!(json["thread"]["state"], "S");
        assert_eq!(json["thread"]["syscall"], "clock_nanosleep");
        let frames = json["stack"].as_array().unwrap();
        assert!(frames
            .iter()
            .any(|f| f["user"] == true && f["fn"].is_string()));
    }
}

#[test]
fn a_busy_well_behaved_program_yields_no_reports() {
    // A threshold well above what preemption on a loaded machine can add to a short poll:
    // the point is that offloaded sleeps, timers and many wakes are never reported.
    let rt = builder(Level::Deny)
        .blocking_threshold(Duration::from_millis(250))
        .build()
        .unwrap();
    let result = rt.run_checked(async {
        let (tx, rx) = async_channel::bounded::<u64>(64);
        let mut tasks = Vec::new();
        for i in 0..10_000u64 {
            if i % 500 == 0 {
                // Spawning is work too: 10k spawns in one poll of a debug build can take
                // longer than the threshold.
                bucle::yield_now().await;
            }
            let tx = tx.clone();
            tasks.push(bucle::spawn(async move {
                if i % 1000 == 0 {
                    // Offloaded sleeps: blocking work on another thread.
                    let (done_tx, done_rx) = futures::channel::oneshot::channel();
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(50));
                        let _ = done_tx.send(());
                    });
                    done_rx.await.unwrap();
                }
                if i % 7 == 0 {
                    bucle::sleep(Duration::from_millis(1)).await;
                }
                tx.send(i).await.unwrap();
            }));
        }
        drop(tx);
        let consumer = bucle::spawn(async move {
            let mut sum = 0;
            while let Ok(i) = rx.recv().await {
                sum += i;
            }
            sum
        });
        for task in tasks {
            task.await.unwrap();
        }
        consumer.await.unwrap()
    });
    let sum = result.unwrap_or_else(|report| panic!("unexpected report:\n{report}"));
    assert_eq!(sum, (0..10_000u64).sum::<u64>());
    assert!(
        rt.blocking_reports().is_empty(),
        "{:#?}",
        rt.blocking_reports()
    );
}
