//! Cancellation and panics: what a JoinHandle reports and what the loop survives.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn cancel_drops_the_future_once_and_reports_cancelled() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(drops.clone());
    bucle::run(async move {
        let task = bucle::spawn(async move {
            let _g = guard;
            bucle::sleep(Duration::from_secs(3600)).await;
        });
        bucle::yield_now().await;
        task.cancel();
        task.cancel(); // twice is harmless
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.to_string(), "task was cancelled");
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_before_the_first_poll_never_runs_the_body() {
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    bucle::run(async move {
        let task = bucle::spawn(async move { r.set(true) });
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert!(!ran.get());
}

#[test]
fn cancel_after_completion_keeps_the_output() {
    bucle::run(async {
        let task = bucle::spawn(async { 7 });
        bucle::yield_now().await;
        assert!(task.is_finished());
        task.cancel();
        assert_eq!(task.await.unwrap(), 7);
    });
}

#[test]
fn a_task_can_cancel_itself_through_its_handle() {
    bucle::run(async {
        let slot: Rc<Cell<Option<bucle::JoinHandle<()>>>> = Rc::new(Cell::new(None));
        let s = slot.clone();
        let task = bucle::spawn(async move {
            bucle::yield_now().await;
            let me = s.take().unwrap();
            me.cancel();
            s.set(Some(me));
            bucle::yield_now().await;
            unreachable!("the task was cancelled at its next turn");
        });
        slot.set(Some(task));
        for _ in 0..5 {
            bucle::yield_now().await;
        }
        let task = slot.take().unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_cancelled_timeout_sleep_leaves_no_timer_behind() {
    bucle::run(async {
        for _ in 0..1000 {
            let task = bucle::spawn(bucle::sleep(Duration::from_secs(3600)));
            bucle::yield_now().await;
            task.cancel();
            let _ = task.await;
        }
        let rt_debug = format!("{:?}", bucle::task::all());
        assert_eq!(rt_debug, "[]");
    });
}

#[test]
fn a_panicking_task_never_takes_the_loop_down() {
    bucle::run(async {
        let bad = bucle::task::Builder::new()
            .name("bad")
            .spawn(async { panic!("task failed: {}", 42) });
        let good = bucle::spawn(async {
            bucle::yield_now().await;
            "still running"
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        let text = err.to_string();
        assert!(text.contains("task \"bad\""), "{text}");
        assert!(text.contains("task failed: 42"), "{text}");
        assert!(text.contains(file!()), "{text}");
        assert_eq!(good.await.unwrap(), "still running");
    });
}

#[test]
fn the_panic_payload_can_be_resumed() {
    let result = std::panic::catch_unwind(|| {
        bucle::run(async {
            let err = bucle::spawn(async { std::panic::panic_any(17_u8) })
                .await
                .unwrap_err();
            std::panic::resume_unwind(err.into_panic());
        })
    });
    assert_eq!(result.unwrap_err().downcast_ref::<u8>(), Some(&17));
}

#[test]
fn a_panicking_destructor_of_a_cancelled_task_is_contained() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }
    bucle::run(async {
        let task = bucle::spawn(async {
            let _p = PanicOnDrop;
            std::future::pending::<()>().await
        });
        bucle::yield_now().await;
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(bucle::spawn(async { 1 }).await.unwrap(), 1);
    });
}

/// Runs this test binary again with `name` and `BUCLE_CHILD` set, returning its stderr.
fn child_stderr(name: &str) -> String {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("BUCLE_CHILD", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "child failed: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_detached_task_that_panics_is_reported_with_name_id_and_site() {
    if std::env::var_os("BUCLE_CHILD").is_some() {
        bucle::run(async {
            drop(
                bucle::task::Builder::new()
                    .name("orphan")
                    .spawn(async { panic!("nobody listens") }),
            );
            bucle::yield_now().await;
            bucle::yield_now().await;
        });
        return;
    }
    let stderr = child_stderr("a_detached_task_that_panics_is_reported_with_name_id_and_site");
    assert!(stderr.contains("bucle: task \"orphan\" (#"), "{stderr}");
    assert!(
        stderr.contains("panicked and nobody awaited its JoinHandle"),
        "{stderr}"
    );
    assert!(stderr.contains("= panic: nobody listens"), "{stderr}");
    assert!(stderr.contains(&format!("--> {}", file!())), "{stderr}");
}

#[test]
fn a_handle_dropped_after_the_panic_is_reported_too() {
    if std::env::var_os("BUCLE_CHILD").is_some() {
        bucle::run(async {
            let task = bucle::spawn(async { panic!("late drop") });
            bucle::yield_now().await;
            assert!(task.is_finished());
            drop(task);
        });
        return;
    }
    let stderr = child_stderr("a_handle_dropped_after_the_panic_is_reported_too");
    assert!(stderr.contains("= panic: late drop"), "{stderr}");
}

#[test]
fn an_awaited_panic_is_not_reported_twice() {
    if std::env::var_os("BUCLE_CHILD").is_some() {
        bucle::run(async {
            let _ = bucle::spawn(async { panic!("seen") }).await;
        });
        return;
    }
    let stderr = child_stderr("an_awaited_panic_is_not_reported_twice");
    assert!(!stderr.contains("nobody awaited"), "{stderr}");
}
