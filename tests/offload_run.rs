//! `run_in_executor`: results come back, many calls overlap, the loop keeps running, panics
//! become task errors, and misuse is explained.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bucle::offload::{Job, OffloadPanic};

#[test]
fn delivers_the_closure_value() {
    let out = bucle::run(async {
        let v: Vec<i32> = (1..=3).collect(); // owned data moves to the pool thread
        bucle::run_in_executor(move || v.iter().sum::<i32>()).await
    });
    assert_eq!(out, 6);
}

#[test]
fn runs_on_another_thread() {
    let loop_thread = std::thread::current().id();
    let pool_thread =
        bucle::run(async { bucle::run_in_executor(|| std::thread::current().id()).await });
    assert_ne!(pool_thread, loop_thread);
}

#[test]
fn a_thousand_concurrent_calls_all_deliver() {
    let total = bucle::run(async {
        let calls: Vec<_> = (0..1000u64)
            .map(|i| bucle::run_in_executor(move || i * 2))
            .collect();
        let mut total = 0;
        for call in calls {
            total += call.await;
        }
        total
    });
    assert_eq!(total, 999 * 1000);
}

#[test]
fn a_thousand_calls_from_a_thousand_tasks() {
    let total = bucle::run(async {
        let tasks: Vec<_> = (0..1000u64)
            .map(|i| bucle::spawn(async move { bucle::run_in_executor(move || i).await }))
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    assert_eq!(total, 999 * 1000 / 2);
}

#[test]
fn the_loop_keeps_running_while_a_call_blocks() {
    // The call blocks until the loop has done ten rounds of timers and sends a message; if
    // the call held the loop, the message would never come and the call would report it.
    let got_message = bucle::run(async {
        let (tx, rx) = mpsc::channel::<()>();
        let call = bucle::run_in_executor(move || rx.recv_timeout(Duration::from_secs(30)).is_ok());
        let ticker = bucle::spawn(async move {
            for _ in 0..10 {
                bucle::sleep(Duration::from_millis(1)).await;
            }
            tx.send(()).unwrap();
        });
        let got = call.await;
        ticker.await.unwrap();
        got
    });
    assert!(got_message);
}

#[test]
fn calls_are_submitted_before_they_are_awaited() {
    // Two calls that each wait for the other can only finish if both run at once.
    bucle::run(async {
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let (b1, b2) = (barrier.clone(), barrier);
        let first = bucle::run_in_executor(move || b1.wait());
        let second = bucle::run_in_executor(move || b2.wait());
        first.await;
        second.await;
    });
}

#[test]
fn a_panic_becomes_the_tasks_error_naming_task_and_call_site() {
    bucle::run(async {
        let task = bucle::task::Builder::new()
            .name("loader")
            .spawn(async { bucle::run_in_executor(|| -> u32 { panic!("bad row 7") }).await });
        let call_line = line!() - 1;
        let err = task.await.unwrap_err();
        assert!(err.is_panic());
        let text = err.to_string();
        assert!(text.contains("task \"loader\""), "{text}");
        assert!(text.contains("bad row 7"), "{text}");
        assert!(
            text.contains(&format!("{}:{call_line}:", file!())),
            "{text}"
        );
        let payload = err.into_panic().downcast::<OffloadPanic>().unwrap();
        assert_eq!(payload.called_at().line(), call_line);
        assert_eq!(
            payload.into_payload().downcast_ref::<&str>(),
            Some(&"bad row 7")
        );
    });
}

#[test]
fn after_a_panic_the_default_pool_still_works() {
    bucle::run(async {
        for round in 0..20 {
            let failed = bucle::spawn(bucle::run_in_executor(move || {
                if round % 2 == 0 {
                    panic!("round {round}");
                }
                round
            }))
            .await;
            assert_eq!(failed.is_err(), round % 2 == 0);
        }
        assert_eq!(bucle::run_in_executor(|| 5).await, 5);
    });
}

#[test]
fn a_panic_in_the_main_future_propagates_out_of_run() {
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        bucle::run(async { bucle::run_in_executor(|| panic!("from the pool")).await })
    }));
    let payload = result.unwrap_err();
    let offload = payload.downcast::<OffloadPanic>().unwrap();
    assert!(offload.message().ends_with("panicked: from the pool"));
}

#[test]
#[should_panic(expected = "must be called from inside a bucle event loop")]
fn run_in_executor_outside_a_loop_panics_with_advice() {
    drop(bucle::run_in_executor(|| 1));
}

#[test]
fn outside_a_loop_the_panic_points_at_the_call_site() {
    // The hook records only panics of this thread: other tests panic in parallel.
    let me = std::thread::current().id();
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s = seen.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == me {
            *s.lock().unwrap() = info.location().map(|l| (l.file().to_owned(), l.line()));
        }
    }));
    let line = line!() + 1;
    let result = panic::catch_unwind(|| drop(bucle::run_in_executor(|| 1)));
    panic::set_hook(previous);
    assert!(result.is_err());
    assert_eq!(
        seen.lock().unwrap().clone(),
        Some((file!().to_owned(), line))
    );
}

#[test]
fn a_custom_default_executor_receives_every_job() {
    let jobs = Arc::new(AtomicUsize::new(0));
    let counter = jobs.clone();
    let rt = bucle::Runtime::builder()
        .default_executor(move |job: Job| {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || job.run());
        })
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        let a = bucle::run_in_executor(|| 1);
        let b = bucle::run_in_executor(|| 2);
        a.await + b.await
    });
    assert_eq!(sum, 3);
    assert_eq!(jobs.load(Ordering::SeqCst), 2);
}

#[test]
fn an_executor_that_drops_the_job_fails_the_caller_instead_of_hanging_it() {
    let rt = bucle::Runtime::builder()
        .default_executor(|job: Job| drop(job))
        .build()
        .unwrap();
    let err = rt
        .block_on(async { bucle::spawn(bucle::run_in_executor(|| 1)).await })
        .unwrap_err();
    assert!(
        err.to_string().contains("dropped the offloaded call"),
        "{err}"
    );
}

#[test]
fn in_flight_counts_calls_until_they_finish() {
    bucle::run(async {
        let (tx, rx) = mpsc::channel::<()>();
        let call = bucle::run_in_executor(move || rx.recv().unwrap());
        assert_eq!(bucle::offload::in_flight(), 1);
        tx.send(()).unwrap();
        call.await;
        // The count drops just after the wake, on the pool thread.
        while bucle::offload::in_flight() != 0 {
            bucle::sleep(Duration::from_millis(1)).await;
        }
    });
}
