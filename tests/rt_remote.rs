//! Work from other threads: `Handle::spawn`, `Handle::call_soon`, cross-thread wakes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use bucle::{Handle, Runtime};

#[test]
fn eight_threads_spawning_ten_thousand_tasks_each_lose_none() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 10_000;
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let handle = handle.clone();
            let ran = ran.clone();
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| {
                        let ran = ran.clone();
                        handle
                            .spawn(async move {
                                ran.fetch_add(1, Ordering::Relaxed);
                                i
                            })
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let total = rt.block_on(async move {
        let mut total = 0;
        for thread in threads {
            // Joining a thread blocks, so do it off the loop.
            let handles = bucle::task::yield_now();
            handles.await;
            let tasks = loop {
                if thread.is_finished() {
                    break thread.join().unwrap();
                }
                bucle::sleep(Duration::from_millis(1)).await;
            };
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), i);
                total += 1;
            }
        }
        total
    });
    assert_eq!(total, THREADS * PER_THREAD);
    assert_eq!(ran.load(Ordering::SeqCst), THREADS * PER_THREAD);
}

/// A future that parks until another thread wakes it, `rounds` times.
struct Ping {
    state: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl std::future::Future for Ping {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state.0) {
            std::task::Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            std::task::Poll::Pending
        }
    }
}

#[test]
fn wakes_from_eight_threads_reach_a_parked_loop_with_none_lost() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 10_000;
    let rt = Runtime::new().unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..THREADS)
        .map(|_| {
            let state = Arc::new(Mutex::new((false, None::<Waker>)));
            let waker_thread = {
                let state = state.clone();
                std::thread::spawn(move || {
                    let mut sent = 0;
                    while sent < ROUNDS {
                        let mut s = state.lock().unwrap();
                        // Wake only when the task is parked and the last wake was consumed.
                        if !s.0 {
                            if let Some(waker) = s.1.take() {
                                s.0 = true;
                                drop(s);
                                waker.wake();
                                sent += 1;
                                continue;
                            }
                        }
                        drop(s);
                        std::thread::yield_now();
                    }
                })
            };
            let woken = woken.clone();
            let task = rt.spawn(async move {
                for _ in 0..ROUNDS {
                    Ping {
                        state: state.clone(),
                    }
                    .await;
                    woken.fetch_add(1, Ordering::Relaxed);
                }
            });
            (task, waker_thread)
        })
        .collect();
    rt.block_on(async {
        for (task, _) in &mut tasks.iter() {
            let _ = task;
        }
    });
    for (task, thread) in tasks {
        rt.block_on(task).unwrap();
        thread.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), THREADS * ROUNDS);
}

#[test]
fn call_soon_from_other_threads_runs_every_closure_on_the_loop_thread() {
    let rt = Runtime::new().unwrap();
    let loop_thread = std::thread::current().id();
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let handle = rt.handle();
            let count = count.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    let count = count.clone();
                    handle
                        .call_soon(move || {
                            assert_eq!(std::thread::current().id(), loop_thread);
                            count.fetch_add(1, Ordering::SeqCst);
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    rt.block_on(async {
        while count.load(Ordering::SeqCst) < 4000 {
            bucle::sleep(Duration::from_millis(1)).await;
        }
    });
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_handle_whose_loop_has_ended_returns_errors() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    assert!(handle.is_closed());
    let err = handle.spawn(async {}).unwrap_err();
    assert_eq!(err.to_string(), "the bucle event loop has shut down");
    assert!(handle.call_soon(|| {}).is_err());
}

#[test]
fn handle_current_outside_a_loop_panics_with_guidance() {
    assert!(Handle::try_current().is_err());
    let payload = std::panic::catch_unwind(Handle::current).unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("bucle::run"), "{message}");
}

#[test]
fn cancel_from_another_thread_during_the_first_poll_is_not_lost() {
    // The task is entered in the loop's registry only when its first poll returns
    // `Pending`; a cancel that lands during that poll finds no entry to wake, so the
    // registration must see it.
    let rt = Runtime::builder()
        .blocking(bucle::detector::Level::Allow)
        .build()
        .unwrap();
    let (in_poll_tx, in_poll_rx) = std::sync::mpsc::channel::<()>();
    let (cancelled_tx, cancelled_rx) = std::sync::mpsc::channel::<()>();
    let task = Arc::new(rt.spawn(async move {
        in_poll_tx.send(()).unwrap();
        cancelled_rx.recv().unwrap(); // holds the first poll until the cancel is in
        std::future::pending::<()>().await;
    }));
    let canceller = {
        let task = task.clone();
        std::thread::spawn(move || {
            in_poll_rx.recv().unwrap();
            task.cancel();
            cancelled_tx.send(()).unwrap();
        })
    };
    let finished = rt.block_on(async {
        bucle::yield_now().await; // the task's first poll runs in this tick
        for _ in 0..3 {
            bucle::yield_now().await;
        }
        task.is_finished()
    });
    canceller.join().unwrap();
    assert!(finished, "the cancelled task ran again and ended");
    let task = Arc::try_unwrap(task).unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn cancel_from_another_thread_reaches_a_parked_task() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(std::future::pending::<()>());
    let result = rt.block_on(async move {
        bucle::yield_now().await; // let the task park
        let task = Arc::new(task);
        let t = task.clone();
        std::thread::spawn(move || t.cancel()).join().unwrap();
        let task = Arc::try_unwrap(task).unwrap();
        task.await
    });
    assert!(result.unwrap_err().is_cancelled());
}
