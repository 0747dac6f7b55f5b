//! The detector reports each way a task can block the loop: a sleep, a CPU spin, a blocking
//! pipe read, a `std::sync::Mutex` held by another thread, and a hang that never ends by
//! itself. Durations are asserted as lower bounds only.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bucle::detector::{BlockingReport, Level, Lint};
use bucle::Runtime;

const THRESHOLD: Duration = Duration::from_millis(20);
const BLOCK: Duration = Duration::from_millis(200);

fn runtime() -> Runtime {
    Runtime::builder()
        .blocking(Level::Warn)
        .blocking_threshold(THRESHOLD)
        .blocking_print(false)
        .build()
        .unwrap()
}

/// The one report of `lint`, checked for the fields every report carries.
fn only(reports: &[BlockingReport], lint: Lint) -> &BlockingReport {
    let found: Vec<_> = reports.iter().filter(|r| r.lint() == lint).collect();
    assert_eq!(found.len(), 1, "one {lint} report expected in {reports:#?}");
    let report = found[0];
    assert_eq!(report.threshold(), THRESHOLD);
    assert!(report.completed());
    report
}

#[inline(never)]
fn sleep_in_user_code(duration: Duration) {
    std::thread::sleep(duration);
}

#[inline(never)]
fn spin_in_user_code(duration: Duration) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < duration {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    x
}

#[inline(never)]
fn read_in_user_code(stream: &mut UnixStream) -> Vec<u8> {
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).unwrap();
    buf.to_vec()
}

#[inline(never)]
fn lock_in_user_code(mutex: &Mutex<u32>) -> u32 {
    *mutex.lock().unwrap()
}

fn user_frame(report: &BlockingReport, function: &str) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let frame = report
        .stack()
        .iter()
        .find(|f| f.is_user())
        .unwrap_or_else(|| panic!("a user frame in {report}"));
    let all_user: Vec<_> = report.stack().iter().filter(|f| f.is_user()).collect();
    assert!(
        all_user.iter().any(|f| f.function().contains(function)),
        "{function} among the user frames (first: {frame}) in\n{report}"
    );
}

#[test]
fn a_thread_sleep_is_reported_with_task_site_stack_and_hint() {
    let rt = runtime();
    let line = line!() + 4;
    rt.block_on(async {
        bucle::task::Builder::new()
            .name("fetch")
            .spawn(async { sleep_in_user_code(BLOCK) })
            .await
            .unwrap();
    });
    let reports = rt.blocking_reports();
    let report = only(&reports, Lint::Stall);
    assert_eq!(report.task_name(), Some("fetch"));
    assert!(report.task_id().is_some());
    assert_eq!(report.spawned_at().file(), file!());
    assert_eq!(report.spawned_at().line(), line);
    assert!(
        report.duration() >= BLOCK - Duration::from_millis(5),
        "{report}"
    );
    assert!(report.hint().contains("bucle::sleep"), "{report}");
    if cfg!(target_os = "linux") {
        let thread = report.thread().expect("thread state on Linux");
        assert_eq!(thread.syscall(), Some("clock_nanosleep"), "{report}");
        user_frame(report, "sleep_in_user_code");
    }
    let text = report.to_string();
    assert!(
        text.starts_with("warning[blocking::stall]: task \"fetch\" (#"),
        "{text}"
    );
    assert!(text.contains(&format!("--> {}:{line}:", file!())), "{text}");
    assert!(text.contains("(threshold 20 ms)"), "{text}");
    assert!(text.contains("help: "), "{text}");
    if cfg!(target_os = "linux") {
        assert!(text.contains("<- first frame in your code"), "{text}");
    }
}

#[test]
fn a_cpu_spin_is_reported_as_running_on_a_cpu() {
    let rt = runtime();
    rt.block_on(async {
        bucle::task::Builder::new()
            .name("crunch")
            .spawn(async { spin_in_user_code(BLOCK) })
            .await
            .unwrap();
    });
    let reports = rt.blocking_reports();
    let report = only(&reports, Lint::Stall);
    assert_eq!(report.task_name(), Some("crunch"));
    assert!(report.duration() >= BLOCK - Duration::from_millis(5));
    assert!(report.hint().contains("yield_now"), "{report}");
    if cfg!(target_os = "linux") {
        let thread = report.thread().expect("thread state on Linux");
        assert_ne!(
            thread.kind(),
            bucle::detector::StallKind::Syscall,
            "{report}"
        );
        user_frame(report, "spin_in_user_code");
    }
}

#[test]
fn a_blocking_pipe_read_completes_with_its_data_and_is_reported() {
    let rt = runtime();
    let (mut reader, mut writer) = UnixStream::pair().unwrap();
    let (reading_tx, reading_rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        reading_rx.recv().unwrap();
        std::thread::sleep(BLOCK);
        writer.write_all(b"hello").unwrap();
    });
    // The loop thread is sampled (signalled) while it sits in `read`: with SA_RESTART the
    // read must go on and return the data, not fail with EINTR.
    let data = rt.block_on(async move {
        bucle::task::Builder::new()
            .name("reader")
            .spawn(async move {
                reading_tx.send(()).unwrap();
                read_in_user_code(&mut reader)
            })
            .await
            .unwrap()
    });
    writer.join().unwrap();
    assert_eq!(data, b"hello");
    let reports = rt.blocking_reports();
    let report = only(&reports, Lint::Stall);
    assert_eq!(report.task_name(), Some("reader"));
    assert!(report.duration() >= BLOCK - Duration::from_millis(5));
    if cfg!(target_os = "linux") {
        assert!(report.samples() >= 1);
        let syscall = report.thread().and_then(|t| t.syscall()).unwrap_or("");
        assert!(matches!(syscall, "read" | "recvfrom"), "{report}");
        assert!(report.hint().contains("run_in_executor"), "{report}");
        user_frame(report, "read_in_user_code");
    }
}

#[test]
fn a_std_mutex_held_by_another_thread_is_reported_as_a_lock_wait() {
    let rt = runtime();
    let mutex = Arc::new(Mutex::new(7));
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn({
        let mutex = mutex.clone();
        move || {
            let guard = mutex.lock().unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(BLOCK);
            drop(guard);
        }
    });
    locked_rx.recv().unwrap();
    let value = rt.block_on(async move {
        bucle::task::Builder::new()
            .name("locker")
            .spawn(async move { lock_in_user_code(&mutex) })
            .await
            .unwrap()
    });
    holder.join().unwrap();
    assert_eq!(value, 7);
    let reports = rt.blocking_reports();
    let report = only(&reports, Lint::Stall);
    assert!(report.duration() >= BLOCK / 2);
    if cfg!(target_os = "linux") {
        assert_eq!(
            report.thread().and_then(|t| t.syscall()),
            Some("futex"),
            "{report}"
        );
        assert!(report.hint().contains("bucle::sync"), "{report}");
        user_frame(report, "lock_in_user_code");
    }
}

#[test]
fn a_hang_is_reported_while_it_still_runs() {
    // The task blocks until the hang report arrives: only a report made mid-stall, from the
    // watchdog, can ever release it.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<BlockingReport>();
    let release_tx = Mutex::new(release_tx);
    let rt = Runtime::builder()
        .blocking(Level::Warn)
        .blocking_threshold(THRESHOLD)
        .blocking_hang(Duration::from_millis(300))
        .blocking_print(false)
        .on_blocking(move |report| {
            if report.lint() == Lint::Hang {
                let _ = release_tx.lock().unwrap().send(report.clone());
            }
        })
        .build()
        .unwrap();
    let hang = rt.block_on(async move {
        bucle::task::Builder::new()
            .name("stuck")
            .spawn(async move { release_rx.recv().unwrap() })
            .await
            .unwrap()
    });
    assert_eq!(hang.lint(), Lint::Hang);
    assert!(!hang.completed());
    assert_eq!(hang.task_name(), Some("stuck"));
    assert!(hang.duration() >= Duration::from_millis(300));
    assert_eq!(hang.threshold(), Duration::from_millis(300));
    assert!(
        hang.to_string()
            .contains("is still running (hang limit 300 ms)"),
        "{hang}"
    );
    let reports = rt.blocking_reports();
    assert!(reports.iter().any(|r| r.lint() == Lint::Hang));
    let stall = only(&reports, Lint::Stall);
    assert!(stall.duration() >= Duration::from_millis(300));
}

#[test]
fn the_block_on_future_is_watched_too() {
    let rt = runtime();
    let line = line!() + 1;
    rt.block_on(async { sleep_in_user_code(BLOCK) });
    let reports = rt.blocking_reports();
    let report = only(&reports, Lint::Stall);
    assert_eq!(report.task_id(), None);
    assert_eq!(report.spawned_at().line(), line);
    assert!(report.to_string().contains("the `block_on` future"));
}

#[test]
fn a_poll_that_ends_before_the_watchdog_looks_is_a_slow_poll() {
    // A huge threshold for the watchdog's own pace, but a task threshold it cannot miss: the
    // poll's end reports it whatever the watchdog saw.
    let rt = Runtime::builder()
        .blocking(Level::Warn)
        .blocking_lint(Lint::Stall, Level::Allow)
        .blocking_threshold(Duration::from_secs(60))
        .blocking_print(false)
        .build()
        .unwrap();
    rt.block_on(async {
        bucle::task::Builder::new()
            .blocking_threshold(THRESHOLD)
            .spawn(async { sleep_in_user_code(Duration::from_millis(60)) })
            .await
            .unwrap();
    });
    let reports = rt.blocking_reports();
    let report = &reports[0];
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(report.lint(), Lint::SlowPoll);
    assert_eq!(report.threshold(), THRESHOLD);
    assert!(report.duration() >= Duration::from_millis(50));
    assert!(report.stack().is_empty());
}

#[test]
fn time_between_polls_is_not_charged_to_the_next_poll() {
    // Back-to-back polls share a clock reading (one poll's end is the next one's start);
    // anything else that runs on the loop thread in between must break that chain.
    let rt = runtime();
    let quick = || async { bucle::spawn(async { 1 }).await.unwrap() };
    // The caller's own code between two `block_on` calls.
    rt.block_on(quick());
    std::thread::sleep(BLOCK);
    rt.block_on(quick());
    // A blocking callback between two ticks.
    rt.block_on(async {
        bucle::call_soon(|| std::thread::sleep(BLOCK));
        quick().await
    });
    // A timer callback, while the loop has work and does not wait.
    rt.block_on(async {
        let fired = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = fired.clone();
        let _timer = bucle::time::call_later(Duration::from_millis(1), move || {
            std::thread::sleep(BLOCK);
            flag.set(true);
        });
        while !fired.get() {
            bucle::yield_now().await;
        }
        quick().await
    });
    // A callback sent from another thread, run while the loop has work.
    rt.block_on(async {
        let handle = bucle::Handle::current();
        std::thread::spawn(move || handle.call_soon(|| std::thread::sleep(BLOCK)).unwrap())
            .join()
            .unwrap();
        bucle::yield_now().await;
        quick().await
    });
    // A wait for a timer.
    rt.block_on(async {
        bucle::sleep(BLOCK).await;
        quick().await
    });
    let reports = rt.blocking_reports();
    assert!(reports.is_empty(), "no poll blocked: {reports:#?}");
}
