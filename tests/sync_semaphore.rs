//! Semaphore behaviour, ported from `SemaphoreTests` in CPython's
//! `Lib/test/test_asyncio/test_locks.py`: FIFO order, permits handed over on release, and
//! cancellations that neither lose nor duplicate a permit.

use std::cell::RefCell;
use std::rc::Rc;

use bucle::sync::{BoundedSemaphore, Permit, Semaphore};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn semaphores_and_permits_are_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Semaphore>();
    is::<BoundedSemaphore>();
    is::<Permit<'static>>();
    is::<bucle::sync::futures::Acquire<'static>>();
}

#[test]
fn acquire_takes_permits_until_none_is_left() {
    // test_acquire
    let sem = Semaphore::new(3);
    let permits: Vec<_> = (0..3)
        .map(|_| assert_ready!(spawn(sem.acquire()).poll()))
        .collect();
    assert!(sem.is_locked());
    let mut fourth = spawn(sem.acquire());
    assert_pending!(fourth.poll());
    drop(permits);
    assert!(fourth.is_woken());
    let _p = assert_ready!(fourth.poll());
    assert_eq!(sem.available(), 2);
}

#[test]
fn acquire_cancel_loses_no_permit() {
    // test_acquire_cancel
    let sem = Semaphore::new(0);
    let mut w = spawn(sem.acquire());
    assert_pending!(w.poll());
    drop(w);
    assert_eq!(sem.registered_waiters(), 0);
    sem.release();
    assert_eq!(sem.available(), 1);
}

#[test]
fn acquire_cancel_before_awoken() {
    // test_acquire_cancel_before_awoken / test_acquire_hang: the permit released to the
    // first waiter, cancelled before it ran, goes to the second.
    let sem = Semaphore::new(0);
    let mut t1 = spawn(sem.acquire());
    let mut t2 = spawn(sem.acquire());
    let mut t3 = spawn(sem.acquire());
    assert_pending!(t1.poll());
    assert_pending!(t2.poll());
    assert_pending!(t3.poll());
    sem.release();
    assert!(t1.is_woken());
    drop(t1);
    assert!(t2.is_woken() && !t3.is_woken());
    let _p = assert_ready!(t2.poll());
    assert_pending!(t3.poll());
    assert_eq!(sem.available(), 0);
}

#[test]
fn acquire_fifo_order() {
    // test_acquire_fifo_order: one permit, waiters served in arrival order.
    let sem = Semaphore::new(1);
    let first = sem.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..5).map(|_| spawn(sem.acquire())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    let mut held = Some(first);
    for i in 0..5 {
        drop(held.take());
        for (j, w) in waiters.iter_mut().enumerate().skip(i) {
            assert_eq!(w.is_woken(), j == i, "only waiter {i} is woken");
        }
        held = Some(assert_ready!(waiters[i].poll()));
    }
}

#[test]
fn acquire_fifo_order_2() {
    // test_acquire_fifo_order_2: a newcomer cannot take the permit from a woken waiter.
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut c2 = spawn(sem.acquire());
    let mut c3 = spawn(sem.acquire());
    assert_pending!(c2.poll());
    assert_pending!(c3.poll());
    drop(held);
    assert!(sem.try_acquire().is_err(), "promised to c2");
    let mut c4 = spawn(sem.acquire());
    assert_pending!(c4.poll());
    let order = RefCell::new(Vec::new());
    drop({
        let p = assert_ready!(c2.poll());
        order.borrow_mut().push(2);
        p
    });
    drop({
        let p = assert_ready!(c3.poll());
        order.borrow_mut().push(3);
        p
    });
    let _p = assert_ready!(c4.poll());
    order.borrow_mut().push(4);
    assert_eq!(*order.borrow(), [2, 3, 4]);
}

#[test]
fn acquire_fifo_order_3() {
    // test_acquire_fifo_order_3: a cancelled waiter is skipped, nobody else is.
    let sem = Semaphore::new(0);
    let mut t1 = spawn(sem.acquire());
    let mut t2 = spawn(sem.acquire());
    let mut t3 = spawn(sem.acquire());
    assert_pending!(t1.poll());
    assert_pending!(t2.poll());
    assert_pending!(t3.poll());
    drop(t1);
    sem.release();
    sem.release();
    assert!(t2.is_woken() && t3.is_woken());
    let _a = assert_ready!(t2.poll());
    let _b = assert_ready!(t3.poll());
}

#[test]
fn acquire_fifo_order_4() {
    // test_acquire_fifo_order_4: several releases wake several waiters.
    let sem = Semaphore::new(0);
    let mut t1 = spawn(sem.acquire());
    let mut t2 = spawn(sem.acquire());
    assert_pending!(t1.poll());
    assert_pending!(t2.poll());
    sem.release();
    sem.release();
    let _a = assert_ready!(t2.poll());
    let _b = assert_ready!(t1.poll());
    assert_eq!(sem.available(), 0);
}

#[test]
fn release_without_waiters_adds_a_permit() {
    // test_release_no_waiters
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(sem.available(), 2, "a plain semaphore may grow");
}

#[test]
fn bounded_semaphore_refuses_an_extra_release() {
    // test_release_not_acquired
    let sem = BoundedSemaphore::new(2);
    assert!(sem.release().is_err());
    sem.try_acquire().unwrap().forget();
    assert!(sem.release().is_ok());
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), 2);
}

#[test]
fn bounded_semaphore_counts_a_permit_promised_to_a_waiter() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    let mut w = spawn(sem.acquire());
    assert_pending!(w.poll());
    assert!(sem.release().is_ok()); // handed to the waiter
    assert!(
        sem.release().is_err(),
        "the only permit is promised to the waiter"
    );
    drop(assert_ready!(w.poll()));
    assert_eq!(sem.available(), 1);
}

#[test]
fn dropping_a_permit_never_exceeds_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    sem.release().unwrap(); // released by hand while the permit lives
    drop(permit);
    assert_eq!(sem.available(), 1);
}

#[bucle::test]
async fn limits_concurrency_across_tasks() {
    let sem = Rc::new(Semaphore::new(3));
    let inside = Rc::new(RefCell::new((0, 0)));
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (sem, inside) = (sem.clone(), inside.clone());
            bucle::spawn(async move {
                let _permit = sem.acquire().await;
                {
                    let mut s = inside.borrow_mut();
                    s.0 += 1;
                    s.1 = s.1.max(s.0);
                }
                bucle::yield_now().await;
                inside.borrow_mut().0 -= 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(inside.borrow().1, 3);
    assert_eq!(sem.available(), 3);
}

#[test]
fn display_messages() {
    let sem = BoundedSemaphore::new(0);
    assert_eq!(
        sem.release().unwrap_err().to_string(),
        "bounded semaphore released too many times"
    );
    assert_eq!(
        sem.try_acquire().unwrap_err().to_string(),
        "no permit is available"
    );
}
