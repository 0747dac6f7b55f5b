//! Barrier behaviour, ported from `BarrierTests` in CPython's
//! `Lib/test/test_asyncio/test_locks.py`: cycles, indexes, abort, reset and cancellation.

use std::rc::Rc;

use bucle::sync::Barrier;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn barrier_is_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Barrier>();
    is::<bucle::sync::futures::BarrierWait<'static>>();
}

#[test]
fn the_last_party_releases_everyone() {
    // test_wait_more / test_filling_tasks_wait_for_drain
    let barrier = Barrier::new(3);
    let mut a = spawn(barrier.wait());
    let mut b = spawn(barrier.wait());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_eq!(barrier.n_waiting(), 2);
    let c = assert_ready!(spawn(barrier.wait()).poll()).unwrap();
    assert_eq!(c.index(), 2);
    assert!(c.is_leader());
    let a = assert_ready!(a.poll()).unwrap();
    let b = assert_ready!(b.poll()).unwrap();
    assert_eq!((a.index(), b.index()), (0, 1));
    assert!(!a.is_leader() && !b.is_leader());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(barrier.registered_waiters(), 0);
}

#[bucle::test]
async fn the_barrier_is_reusable_across_cycles() {
    // test_repeat
    let barrier = Rc::new(Barrier::new(4));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let barrier = barrier.clone();
            bucle::spawn(async move {
                let mut leaders = 0;
                for _ in 0..5 {
                    if barrier.wait().await.unwrap().is_leader() {
                        leaders += 1;
                    }
                }
                leaders
            })
        })
        .collect();
    let mut leaders = 0;
    for t in tasks {
        leaders += t.await.unwrap();
    }
    assert_eq!(leaders, 5, "exactly one leader per cycle");
}

#[test]
fn abort_breaks_waiters_and_later_waits() {
    // test_abort_barrier
    let barrier = Barrier::new(3);
    let mut a = spawn(barrier.wait());
    assert_pending!(a.poll());
    barrier.abort();
    assert!(barrier.is_broken());
    assert!(a.is_woken());
    assert!(assert_ready!(a.poll()).is_err());
    assert!(assert_ready!(spawn(barrier.wait()).poll()).is_err());
}

#[test]
fn reset_breaks_current_waiters_then_works_again() {
    // test_reset_barrier / test_reset_barrier_while_tasks_waiting
    let barrier = Barrier::new(2);
    let mut a = spawn(barrier.wait());
    assert_pending!(a.poll());
    barrier.reset();
    assert!(assert_ready!(a.poll()).is_err());
    assert!(!barrier.is_broken());
    let mut b = spawn(barrier.wait());
    assert_pending!(b.poll());
    assert!(assert_ready!(spawn(barrier.wait()).poll()).is_ok());
    assert!(assert_ready!(b.poll()).is_ok());
}

#[test]
fn reset_after_abort_repairs_the_barrier() {
    // test_abort_and_reset
    let barrier = Barrier::new(1);
    barrier.abort();
    barrier.reset();
    assert!(assert_ready!(spawn(barrier.wait()).poll()).is_ok());
}

#[test]
fn a_cancelled_waiter_leaves_the_cycle() {
    // test_barrier_cancel
    let barrier = Barrier::new(2);
    let mut a = spawn(barrier.wait());
    assert_pending!(a.poll());
    drop(a);
    assert_eq!(barrier.n_waiting(), 0);
    let mut b = spawn(barrier.wait());
    assert_pending!(b.poll(), "one party is not enough");
    assert!(assert_ready!(spawn(barrier.wait()).poll()).is_ok());
    assert!(assert_ready!(b.poll()).is_ok());
}

#[test]
fn dropping_a_released_waiter_does_not_disturb_the_next_cycle() {
    let barrier = Barrier::new(2);
    let mut a = spawn(barrier.wait());
    assert_pending!(a.poll());
    assert!(assert_ready!(spawn(barrier.wait()).poll()).is_ok());
    drop(a); // released, never polled again
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(barrier.registered_waiters(), 0);
}

#[test]
#[should_panic(expected = "`Barrier::new(0)` makes a barrier that no task can pass")]
fn zero_parties_are_rejected() {
    let _ = Barrier::new(0);
}
