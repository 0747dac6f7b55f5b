//! Cancel tokens: a caller that gives up (drops the future, is cancelled, times out, or
//! its loop shuts down) is seen by the closure; a call that has not started never runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// A closure that spins until its token is cancelled, then reports on `done`.
fn spin_until_cancelled(
    started: mpsc::Sender<()>,
    done: mpsc::Sender<bool>,
) -> impl FnOnce(&bucle::offload::CancelToken) + Send + 'static {
    move |token| {
        started.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !token.is_cancelled() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        done.send(token.is_cancelled()).unwrap();
    }
}

/// Waits on a std channel without blocking the loop.
async fn recv<T: Send + 'static>(rx: mpsc::Receiver<T>) -> T {
    bucle::run_in_executor(move || rx.recv_timeout(Duration::from_secs(30)).unwrap()).await
}

#[test]
fn dropping_the_future_cancels_the_token() {
    bucle::run(async {
        let (started_tx, started) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let call = bucle::run_in_executor_with(spin_until_cancelled(started_tx, done_tx));
        let started = recv(started).await;
        let () = started;
        drop(call);
        assert!(recv(done).await, "the closure saw the cancellation");
    });
}

#[test]
fn cancelling_the_task_cancels_the_token() {
    bucle::run(async {
        let (started_tx, started) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let task = bucle::spawn(bucle::run_in_executor_with(spin_until_cancelled(
            started_tx, done_tx,
        )));
        recv(started).await;
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(recv(done).await);
    });
}

#[test]
fn a_timeout_cancels_the_token() {
    bucle::run(async {
        let (started_tx, _started) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let call = bucle::run_in_executor_with(spin_until_cancelled(started_tx, done_tx));
        assert!(bucle::timeout(Duration::from_millis(5), call)
            .await
            .is_err());
        assert!(recv(done).await);
    });
}

#[test]
fn loop_shutdown_cancels_the_token() {
    let (started_tx, started) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    bucle::run(async {
        bucle::spawn(bucle::run_in_executor_with(spin_until_cancelled(
            started_tx, done_tx,
        )));
        recv(started).await;
        // Returning leaves the task behind: the shutdown cancels it.
    });
    assert!(done.recv_timeout(Duration::from_secs(30)).unwrap());
}

#[test]
fn a_finished_call_is_not_cancelled() {
    let seen =
        bucle::run(async { bucle::run_in_executor_with(|token| token.is_cancelled()).await });
    assert!(!seen);
}

#[test]
fn a_call_dropped_before_it_starts_never_runs() {
    let pool = bucle::ThreadPool::builder().threads(1).build();
    let ran = Arc::new(AtomicBool::new(false));
    bucle::run(async {
        let (release, gate) = mpsc::channel::<()>();
        let blocker = pool.run(move || gate.recv().unwrap());
        let r = ran.clone();
        let queued = pool.run(move || r.store(true, Ordering::SeqCst));
        while pool.busy() != 1 {
            bucle::sleep(Duration::from_millis(1)).await;
        }
        drop(queued);
        release.send(()).unwrap();
        blocker.await;
        // FIFO: once this one has run, the dropped one had its turn and was skipped.
        pool.run(|| ()).await;
    });
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn check_turns_cancellation_into_an_error() {
    let token = bucle::offload::CancelToken::new();
    assert!(token.check().is_ok());
    token.cancel();
    assert_eq!(
        token.check().unwrap_err().to_string(),
        "the offloaded call was cancelled"
    );
}
