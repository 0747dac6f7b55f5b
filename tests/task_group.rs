//! TaskGroup: the first failure cancels the siblings at once, every failure is collected,
//! cancelled children are awaited, groups nest, panics are failures, dropping cancels.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use bucle::task::{self, Failure, TaskGroup};
use bucle::time::Instant;

/// Sets its flag when dropped: proves a child's future was dropped (its destructors ran).
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[bucle::test(start_paused = true)]
async fn the_first_failure_cancels_the_siblings_at_once() {
    let start = Instant::now();
    let mut group = TaskGroup::new();
    let dropped = Rc::new(Cell::new(false));
    let sibling = group
        .spawn({
            let flag = DropFlag(dropped.clone());
            async move {
                let _flag = flag;
                bucle::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
        })
        .unwrap();
    group
        .spawn(async {
            bucle::sleep(Duration::from_secs(1)).await;
            Err::<(), _>("broken pipe")
        })
        .unwrap();

    let err = group.join().await.unwrap_err();
    // Cancelled when the failure happened, not after the hour.
    assert_eq!(Instant::now() - start, Duration::from_secs(1));
    assert!(matches!(err.failures(), [Failure::Error("broken pipe")]));
    // The cancelled sibling was awaited: its future is gone by the time join returns.
    assert!(dropped.get());
    assert!(sibling.await.unwrap_err().is_cancelled());
}

#[bucle::test]
async fn siblings_are_cancelled_before_join_is_reached() {
    let group = TaskGroup::new();
    let sibling = group
        .spawn(std::future::pending::<Result<(), ()>>())
        .unwrap();
    group.spawn(async { Err::<(), ()>(()) }).unwrap();
    // Nobody joins; the failure alone must cancel the sibling.
    for _ in 0..3 {
        bucle::yield_now().await;
    }
    assert!(group.is_cancelling());
    assert!(sibling.is_finished());
    assert!(sibling.await.unwrap_err().is_cancelled());
    drop(group); // reports the unread failure on stderr
}

/// Panics when dropped: a child whose cleanup fails while it is being cancelled.
struct FailingCleanup;

impl Drop for FailingCleanup {
    fn drop(&mut self) {
        panic!("cleanup failed");
    }
}

#[bucle::test]
async fn every_failure_is_collected_in_order_including_failed_cleanups() {
    let mut group = TaskGroup::new();
    group
        .spawn(async {
            let _cleanup = FailingCleanup;
            std::future::pending::<Result<(), &str>>().await
        })
        .unwrap();
    group
        .spawn(async {
            bucle::yield_now().await;
            Err::<(), _>("first")
        })
        .unwrap();
    let err = group.join().await.unwrap_err();
    println!("{err}");
    let failures = err.failures();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].error(), Some(&"first"));
    let Failure::Panic(cleanup) = &failures[1] else {
        panic!("expected the cleanup panic second, got {failures:?}");
    };
    assert_eq!(cleanup.message(), "cleanup failed");
}

#[bucle::test]
async fn cancellations_are_not_failures() {
    let mut group = TaskGroup::<()>::new();
    let children: Vec<_> = (0..5)
        .map(|_| {
            group
                .spawn(std::future::pending::<Result<(), ()>>())
                .unwrap()
        })
        .collect();
    bucle::yield_now().await;
    children[2].cancel(); // cancelled from outside: not a failure, the others run on
    bucle::yield_now().await;
    bucle::yield_now().await;
    assert!(!group.is_cancelling());
    assert_eq!(group.len(), 4);
    group.cancel();
    assert!(group.join().await.is_ok());
}

#[bucle::test]
async fn join_waits_for_successful_children_and_results_come_through_handles() {
    let mut group = TaskGroup::<()>::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let handles: Vec<_> = [3u64, 1, 2]
        .into_iter()
        .map(|ms| {
            let log = log.clone();
            group
                .spawn(async move {
                    bucle::sleep(Duration::from_millis(ms)).await;
                    log.borrow_mut().push(ms);
                    Ok(ms * 10)
                })
                .unwrap()
        })
        .collect();
    group.join().await.unwrap();
    assert_eq!(*log.borrow(), [1, 2, 3]);
    let mut results = Vec::new();
    for h in handles {
        assert!(h.is_finished());
        results.push(h.await.unwrap());
    }
    assert_eq!(results, [30, 10, 20]);
}

#[bucle::test]
async fn a_panic_in_a_child_is_a_failure_and_cancels_the_others() {
    let mut group = TaskGroup::<String>::new();
    let sibling = group
        .spawn(std::future::pending::<Result<(), String>>())
        .unwrap();
    let line = line!() + 1;
    let child = task::Builder::new().name("buggy").spawn_in(&group, async {
        bucle::yield_now().await;
        panic!("index out of bounds");
        #[allow(unreachable_code)]
        Ok(())
    });
    let child = child.unwrap();
    let child_id = child.id();
    let err = group.join().await.unwrap_err();
    let [Failure::Panic(panic)] = err.failures() else {
        panic!("expected one panic, got {err:?}");
    };
    assert_eq!(panic.message(), "index out of bounds");
    assert_eq!(panic.task_name(), Some("buggy"));
    assert_eq!(panic.task_id(), child_id);
    assert_eq!(panic.spawned_at().line(), line);
    assert!(err.to_string().contains("index out of bounds"));
    // The failure went to the group; the handles report cancellation.
    assert!(child.await.unwrap_err().is_cancelled());
    assert!(sibling.await.unwrap_err().is_cancelled());
}

#[bucle::test]
async fn a_panic_payload_can_be_resumed() {
    let mut group = TaskGroup::<()>::new();
    group
        .spawn(async {
            std::panic::panic_any(42_u32);
            #[allow(unreachable_code)]
            Ok(())
        })
        .unwrap();
    let failure = group.join().await.unwrap_err().into_failures().remove(0);
    let Failure::Panic(panic) = failure else {
        unreachable!()
    };
    assert_eq!(panic.into_payload().downcast_ref::<u32>(), Some(&42));
}

#[bucle::test(start_paused = true)]
async fn nested_groups_propagate_failures_outward_and_cancellation_inward() {
    let inner_dropped = Rc::new(Cell::new(false));
    let mut outer = TaskGroup::<String>::new();

    // A child running its own group, whose children sleep for an hour.
    let nested = outer
        .spawn({
            let flag = DropFlag(inner_dropped.clone());
            async move {
                let mut inner = TaskGroup::<String>::new();
                inner
                    .spawn(async move {
                        let _flag = flag;
                        bucle::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    })
                    .unwrap();
                inner.join().await.map_err(|e| e.to_string())
            }
        })
        .unwrap();
    // A second nested group that fails: its error reaches the outer group.
    outer
        .spawn(async {
            let mut inner = TaskGroup::new();
            inner
                .spawn(async {
                    bucle::sleep(Duration::from_secs(2)).await;
                    Err::<(), _>("inner failure")
                })
                .unwrap();
            inner.join().await.map_err(|e| e.to_string())
        })
        .unwrap();

    let start = Instant::now();
    let err = outer.join().await.unwrap_err();
    assert_eq!(Instant::now() - start, Duration::from_secs(2));
    assert_eq!(err.len(), 1);
    assert_eq!(
        err.failures()[0].error().unwrap(),
        "1 task in the group failed: inner failure"
    );
    assert!(nested.await.unwrap_err().is_cancelled());
    // The first nested group was dropped with its child: the grandchild is cancelled at
    // the loop's next turn.
    bucle::yield_now().await;
    assert!(inner_dropped.get());
}

#[bucle::test]
async fn dropping_the_group_cancels_its_children() {
    let dropped = Rc::new(Cell::new(false));
    let group = TaskGroup::<()>::new();
    let child = group
        .spawn({
            let flag = DropFlag(dropped.clone());
            async move {
                let _flag = flag;
                std::future::pending::<Result<(), ()>>().await
            }
        })
        .unwrap();
    bucle::yield_now().await;
    drop(group);
    assert!(child.await.unwrap_err().is_cancelled());
    assert!(dropped.get());
}

#[bucle::test]
async fn dropping_a_pending_join_keeps_the_children_and_joining_again_works() {
    let mut group = TaskGroup::<()>::new();
    let child = group
        .spawn(async {
            bucle::sleep(Duration::from_millis(5)).await;
            Ok(1)
        })
        .unwrap();
    let early = bucle::timeout(Duration::ZERO, group.join()).await;
    assert!(early.is_err());
    assert!(!child.is_finished());
    group.join().await.unwrap();
    assert_eq!(child.await.unwrap(), 1);
}

#[bucle::test]
async fn a_failing_or_joined_group_refuses_new_children_and_gives_them_back() {
    let mut group = TaskGroup::new();
    group.spawn(async { Err::<(), _>("x") }).unwrap();
    bucle::yield_now().await;
    let refused = group.spawn(async { Ok(7) }).unwrap_err();
    assert!(!refused.is_joined());
    assert_eq!(refused.into_inner().await, Ok(7));
    let _ = group.join().await;

    let mut group = TaskGroup::<()>::new();
    group.join().await.unwrap();
    let refused = group.spawn(async { Ok(()) }).unwrap_err();
    assert!(refused.is_joined());
    assert_eq!(
        refused.to_string(),
        "the task group has been joined and takes no new tasks"
    );
}

#[bucle::test]
async fn children_that_never_ran_are_cancelled_without_being_polled() {
    let polled = Rc::new(Cell::new(false));
    let mut group = TaskGroup::new();
    group.spawn(async { Err::<(), _>(()) }).unwrap();
    // Queued behind the failing child: by its first poll the group is cancelling.
    let late = group
        .spawn({
            let polled = polled.clone();
            async move {
                polled.set(true);
                Ok(())
            }
        })
        .unwrap();
    let _ = group.join().await;
    assert!(!polled.get());
    assert!(late.await.unwrap_err().is_cancelled());
}
