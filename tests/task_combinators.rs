//! gather / join_all order, wait's three modes, as_completed's completion order, select,
//! and shield (a spawned task survives its awaiter being dropped).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;

use bucle::task::{self, Either, ReturnWhen};
use bucle::time::Instant;

async fn sleeper(ms: u64) -> u64 {
    bucle::sleep(Duration::from_millis(ms)).await;
    ms
}

#[bucle::test(start_paused = true)]
async fn gather_returns_results_in_input_order_and_runs_concurrently() {
    let start = Instant::now();
    let results = task::gather([30, 10, 20].map(sleeper)).await;
    let outputs: Vec<u64> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs, [30, 10, 20]);
    assert_eq!(Instant::now() - start, Duration::from_millis(30));
}

#[bucle::test]
async fn gather_reports_each_failure_in_its_place() {
    let results = task::gather([
        Box::pin(async { 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
        Box::pin(async { panic!("second failed") }),
        Box::pin(async { 3 }),
    ])
    .await;
    assert_eq!(*results[0].as_ref().unwrap(), 1);
    assert!(results[1].as_ref().unwrap_err().is_panic());
    assert_eq!(*results[2].as_ref().unwrap(), 3);
}

#[bucle::test(start_paused = true)]
async fn dropping_a_gather_cancels_its_tasks() {
    let finished = Rc::new(Cell::new(0));
    let futures = (0..3).map(|_| {
        let finished = finished.clone();
        async move {
            bucle::sleep(Duration::from_secs(10)).await;
            finished.set(finished.get() + 1);
        }
    });
    let result = bucle::timeout(Duration::from_secs(1), task::gather(futures)).await;
    assert!(result.is_err());
    bucle::sleep(Duration::from_secs(20)).await;
    assert_eq!(finished.get(), 0);
    assert!(task::all().is_empty());
}

#[bucle::test(start_paused = true)]
async fn join_all_polls_in_place_and_keeps_order() {
    let before = task::all().len();
    let outputs = task::join_all([20, 5, 10].map(sleeper)).await;
    assert_eq!(outputs, [20, 5, 10]);
    assert_eq!(task::all().len(), before, "join_all spawns nothing");
}

#[bucle::test(start_paused = true)]
async fn wait_first_completed_returns_the_first_and_the_rest() {
    let handles: Vec<_> = [30, 10, 20].map(|ms| bucle::spawn(sleeper(ms))).into();
    let (done, pending) = task::wait(handles, ReturnWhen::FirstCompleted).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].index(), 1);
    assert_eq!(*done[0].result().as_ref().unwrap(), 10);
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|h| !h.is_finished()));
}

#[bucle::test(start_paused = true)]
async fn wait_first_exception_returns_at_the_first_panic() {
    let start = Instant::now();
    let handles = vec![
        bucle::spawn(sleeper(100)),
        bucle::spawn(async {
            bucle::sleep(Duration::from_millis(10)).await;
            panic!("boom")
        }),
        bucle::spawn(sleeper(5)),
    ];
    let (done, pending) = task::wait(handles, ReturnWhen::FirstException).await;
    assert_eq!(Instant::now() - start, Duration::from_millis(10));
    let indexes: Vec<_> = done.iter().map(|d| d.index()).collect();
    assert_eq!(indexes, [2, 1]);
    assert!(done[1].result().as_ref().unwrap_err().is_panic());
    assert_eq!(pending.len(), 1);
}

#[bucle::test(start_paused = true)]
async fn wait_first_exception_ignores_cancellations_and_falls_back_to_all() {
    let handles = vec![
        bucle::spawn(sleeper(20)),
        bucle::spawn(std::future::pending::<u64>()),
    ];
    handles[1].cancel();
    let (done, pending) = task::wait(handles, ReturnWhen::FirstException).await;
    assert_eq!(
        done.len(),
        2,
        "a cancellation is not an exception: it waited for all"
    );
    assert!(pending.is_empty());
}

#[bucle::test(start_paused = true)]
async fn wait_all_completed_waits_for_every_task() {
    let start = Instant::now();
    let handles: Vec<_> = [3, 1, 2].map(|ms| bucle::spawn(sleeper(ms))).into();
    let (done, pending) = task::wait(handles, ReturnWhen::AllCompleted).await;
    assert_eq!(Instant::now() - start, Duration::from_millis(3));
    assert!(pending.is_empty());
    let order: Vec<_> = done.iter().map(|d| d.index()).collect();
    assert_eq!(order, [1, 2, 0], "done lists tasks as they finished");
}

#[bucle::test]
async fn wait_on_nothing_returns_at_once() {
    let (done, pending) = task::wait(
        Vec::<bucle::JoinHandle<()>>::new(),
        ReturnWhen::FirstCompleted,
    )
    .await;
    assert!(done.is_empty() && pending.is_empty());
}

#[bucle::test(start_paused = true)]
async fn as_completed_yields_in_completion_order() {
    let handles = [40, 10, 30, 20].map(|ms| bucle::spawn(sleeper(ms)));
    let ids: Vec<_> = handles.iter().map(|h| h.id()).collect();
    let mut stream = task::as_completed(handles);
    assert_eq!(stream.remaining(), 4);
    let mut seen = Vec::new();
    while let Some(done) = stream.next().await {
        assert_eq!(done.id(), ids[done.index()]);
        seen.push(done.into_result().unwrap());
    }
    assert_eq!(seen, [10, 20, 30, 40]);
}

#[bucle::test(start_paused = true)]
async fn select_returns_the_first_and_drops_the_other() {
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let loser = {
        let flag = Flag(dropped.clone());
        async move {
            let _flag = flag;
            bucle::sleep(Duration::from_secs(5)).await;
        }
    };
    match task::select(sleeper(1), loser).await {
        Either::Left(ms) => assert_eq!(ms, 1),
        Either::Right(()) => panic!("the longer sleep won"),
    }
    assert!(dropped.get());
    // Both ready: the first argument wins.
    assert!(matches!(
        task::select(async { 1 }, async { 2 }).await,
        Either::Left(1)
    ));
}

#[bucle::test(start_paused = true)]
async fn a_task_survives_its_awaiter_being_dropped() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let shielded = task::shield({
        let log = log.clone();
        async move {
            bucle::sleep(Duration::from_secs(2)).await;
            log.borrow_mut().push("saved");
        }
    });
    let id = shielded.id();
    // The awaiter gives up after 1 s; the task goes on.
    assert!(bucle::timeout(Duration::from_secs(1), shielded)
        .await
        .is_err());
    assert!(task::all().iter().any(|t| t.id() == id));
    bucle::sleep(Duration::from_secs(2)).await;
    assert_eq!(*log.borrow(), ["saved"]);
}
