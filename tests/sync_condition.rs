//! Condition behaviour, ported from `ConditionTests` in CPython's
//! `Lib/test/test_asyncio/test_locks.py`: FIFO notification, `notify(n)`, `notify_all`,
//! `wait_for`, and no lost wakeup when a notified waiter is cancelled.

use std::cell::RefCell;
use std::rc::Rc;

use bucle::sync::Condition;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn condition_is_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Condition<Vec<u8>>>();
    is::<bucle::sync::futures::Wait<'static, Vec<u8>>>();
}

#[test]
fn wait_releases_the_lock_and_takes_it_back() {
    // test_wait
    let cond = Condition::new(0);
    let guard = cond.try_lock().unwrap();
    let mut wait = spawn(cond.wait(guard));
    assert_pending!(wait.poll());
    assert!(!cond.is_locked(), "the lock is free while waiting");
    let mut other = cond.try_lock().unwrap();
    *other = 1;
    cond.notify(1);
    assert!(wait.is_woken());
    assert_pending!(wait.poll()); // notified, but the lock is still held
    drop(other);
    let guard = assert_ready!(wait.poll());
    assert_eq!(*guard, 1);
    assert!(cond.is_locked());
}

#[bucle::test]
async fn notify_wakes_n_waiters_in_fifo_order() {
    // test_notify
    let cond = Rc::new(Condition::new(()));
    let woken = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (1..=3)
        .map(|i| {
            let (cond, woken) = (cond.clone(), woken.clone());
            bucle::spawn(async move {
                let guard = cond.lock().await;
                let _guard = cond.wait(guard).await;
                woken.borrow_mut().push(i);
            })
        })
        .collect();
    for _ in 0..3 {
        bucle::yield_now().await;
    }
    {
        let _guard = cond.lock().await;
        cond.notify(1);
    }
    bucle::yield_now().await;
    bucle::yield_now().await;
    assert_eq!(*woken.borrow(), [1]);
    {
        let _guard = cond.lock().await;
        cond.notify(2048);
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*woken.borrow(), [1, 2, 3]);
}

#[test]
fn notify_all_wakes_everyone() {
    // test_notify_all
    let cond = Condition::new(());
    let mut waits: Vec<_> = Vec::new();
    for _ in 0..3 {
        let mut w = spawn(cond.wait(cond.try_lock().unwrap()));
        assert_pending!(w.poll());
        waits.push(w);
    }
    cond.notify_all();
    for w in &mut waits {
        assert!(w.is_woken());
        drop(assert_ready!(w.poll()));
    }
    assert_eq!(cond.registered_waiters(), 0);
}

#[bucle::test]
async fn wait_for_checks_the_predicate_with_the_lock_held() {
    // test_wait_for
    let cond = Rc::new(Condition::new(0));
    let checks = Rc::new(RefCell::new(0));
    let waiter = bucle::spawn({
        let (cond, checks) = (cond.clone(), checks.clone());
        async move {
            let guard = cond.lock().await;
            let guard = cond
                .wait_for(guard, |n| {
                    *checks.borrow_mut() += 1;
                    *n == 3
                })
                .await;
            *guard
        }
    });
    for _ in 0..3 {
        bucle::yield_now().await;
        *cond.lock().await += 1;
        cond.notify(1);
    }
    assert_eq!(waiter.await.unwrap(), 3);
    assert_eq!(
        *checks.borrow(),
        4,
        "once at the start, once per notification"
    );
}

#[test]
fn wait_for_a_true_predicate_returns_at_once() {
    let cond = Condition::new(5);
    let mut w = spawn(cond.wait_for(cond.try_lock().unwrap(), |n| *n == 5));
    drop(assert_ready!(w.poll()));
}

#[test]
fn a_cancelled_notified_waiter_passes_the_wakeup_on() {
    // test_cancelled_wakeup: the waiter is notified and cancelled "at the same time"; the
    // notification must reach another waiter instead of being lost.
    let cond = Condition::new(());
    let mut a = spawn(cond.wait(cond.try_lock().unwrap()));
    assert_pending!(a.poll());
    let mut b = spawn(cond.wait(cond.try_lock().unwrap()));
    assert_pending!(b.poll());
    cond.notify(1);
    assert!(a.is_woken() && !b.is_woken());
    drop(a);
    assert!(b.is_woken());
    drop(assert_ready!(b.poll()));
    assert_eq!(cond.registered_waiters(), 0);
}

#[test]
fn a_waiter_cancelled_while_relocking_passes_the_lock_on() {
    // test_cancelled_wakeup_relock / test_wait_cancel_after_notify
    let cond = Condition::new(());
    let mut a = spawn(cond.wait(cond.try_lock().unwrap()));
    assert_pending!(a.poll());
    let held = cond.try_lock().unwrap();
    let mut b = spawn(cond.lock());
    assert_pending!(b.poll());
    cond.notify(1);
    assert_pending!(a.poll()); // now queued for the lock, behind b
    drop(held);
    assert!(b.is_woken());
    drop(b); // granted and cancelled: the lock goes to `a`
    assert!(a.is_woken());
    drop(assert_ready!(a.poll()));
}

#[test]
fn a_cancelled_waiter_that_was_not_notified_changes_nothing() {
    // test_wait_cancel
    let cond = Condition::new(());
    let mut a = spawn(cond.wait(cond.try_lock().unwrap()));
    assert_pending!(a.poll());
    drop(a);
    assert!(!cond.is_locked());
    assert_eq!(cond.registered_waiters(), 0);
}

#[test]
#[should_panic(expected = "was given the guard of another lock")]
fn a_guard_of_another_lock_is_refused() {
    let cond = Condition::new(());
    let other = bucle::sync::Lock::new(());
    drop(cond.wait(other.try_lock().unwrap()));
}

#[test]
fn notify_with_nobody_waiting_is_not_remembered() {
    let cond = Condition::new(());
    cond.notify_all();
    let mut w = spawn(cond.wait(cond.try_lock().unwrap()));
    assert_pending!(w.poll());
}
