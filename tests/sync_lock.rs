//! Lock behaviour, ported from `LockTests` in CPython's
//! `Lib/test/test_asyncio/test_locks.py`: FIFO hand-off, no barging, and cancellation races
//! that must never leave the lock held.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bucle::sync::{Lock, LockGuard};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

fn is_send_sync<T: Send + Sync>() {}

#[test]
fn lock_and_guard_are_send_and_sync() {
    is_send_sync::<Lock<Vec<u8>>>();
    is_send_sync::<LockGuard<'static, Vec<u8>>>();
    is_send_sync::<bucle::sync::futures::LockFuture<'static, Vec<u8>>>();
}

#[test]
fn lock_and_unlock() {
    // test_lock
    let lock = Lock::new(());
    assert!(!lock.is_locked());
    let guard = lock.try_lock().unwrap();
    assert!(lock.is_locked());
    drop(guard);
    assert!(!lock.is_locked());
}

#[test]
fn waiters_get_the_lock_in_fifo_order() {
    // test_acquire: three waiters, released one by one, in arrival order.
    let lock = Lock::new(Vec::new());
    let mut held = Some(lock.try_lock().unwrap());
    let mut a = spawn(lock.lock());
    let mut b = spawn(lock.lock());
    let mut c = spawn(lock.lock());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    drop(held.take());
    assert!(a.is_woken() && !b.is_woken() && !c.is_woken());
    // The woken waiter owns the lock: later waiters polled first still wait.
    assert_pending!(c.poll());
    assert_pending!(b.poll());
    let mut guard = assert_ready!(a.poll());
    guard.push('a');
    drop(guard);
    assert!(b.is_woken() && !c.is_woken());
    assert_ready!(b.poll()).push('b');
    assert_ready!(c.poll()).push('c');
    assert_eq!(*lock.try_lock().unwrap(), ['a', 'b', 'c']);
}

#[test]
fn no_barging_while_a_woken_waiter_is_pending() {
    let lock = Lock::new(());
    let held = lock.try_lock().unwrap();
    let mut waiter = spawn(lock.lock());
    assert_pending!(waiter.poll());
    drop(held);
    assert!(lock.is_locked(), "the lock went straight to the waiter");
    assert!(lock.try_lock().is_err());
    let mut newcomer = spawn(lock.lock());
    assert_pending!(newcomer.poll());
    drop(assert_ready!(waiter.poll()));
    drop(assert_ready!(newcomer.poll()));
}

#[test]
fn acquire_cancel_removes_the_waiter() {
    // test_acquire_cancel
    let lock = Lock::new(());
    let held = lock.try_lock().unwrap();
    let mut waiter = spawn(lock.lock());
    assert_pending!(waiter.poll());
    drop(waiter);
    assert_eq!(lock.registered_waiters(), 0);
    drop(held);
    assert!(!lock.is_locked());
}

#[test]
fn cancel_race() {
    // test_cancel_race: A holds the lock, B and C wait; B is cancelled; when A releases,
    // C gets the lock.
    let lock = Lock::new(());
    let a = lock.try_lock().unwrap();
    let mut b = spawn(lock.lock());
    let mut c = spawn(lock.lock());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    drop(b);
    drop(a);
    assert!(c.is_woken());
    drop(assert_ready!(c.poll()));
}

#[test]
fn cancel_release_race() {
    // test_cancel_release_race: the lock is released to B, and B is cancelled before it
    // runs. The lock must pass to C, not stay held by nobody ("Ensure the lock invariant").
    let lock = Lock::new(());
    let a = lock.try_lock().unwrap();
    let mut b = spawn(lock.lock());
    let mut c = spawn(lock.lock());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    drop(a);
    assert!(b.is_woken());
    drop(b);
    assert!(c.is_woken());
    let guard = assert_ready!(c.poll());
    drop(guard);
    assert!(!lock.is_locked());
    assert_eq!(lock.registered_waiters(), 0);
}

#[test]
fn finished_waiter_cancelled() {
    // test_finished_waiter_cancelled: the only waiter, woken and cancelled, leaves the lock
    // free.
    let lock = Lock::new(());
    let a = lock.try_lock().unwrap();
    let mut b = spawn(lock.lock());
    assert_pending!(b.poll());
    drop(a);
    drop(b);
    assert!(!lock.is_locked());
    assert!(lock.try_lock().is_ok());
}

#[bucle::test]
async fn lock_guards_data_across_awaits() {
    let lock = Rc::new(Lock::new(0u32));
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (lock, log) = (lock.clone(), log.clone());
            bucle::spawn(async move {
                let mut guard = lock.lock().await;
                log.borrow_mut().push(i);
                let read = *guard;
                bucle::yield_now().await;
                *guard = read + 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*lock.lock().await, 50);
    assert_eq!(
        *log.borrow(),
        (0..50).collect::<Vec<_>>(),
        "FIFO across tasks"
    );
}

#[bucle::test]
async fn a_cancelled_task_never_leaves_the_lock_held() {
    let lock = Rc::new(Lock::new(()));
    let held = lock.lock().await;
    let waiter = bucle::spawn({
        let lock = lock.clone();
        async move {
            let _guard = lock.lock().await;
            bucle::sleep(Duration::from_secs(3600)).await;
        }
    });
    bucle::yield_now().await;
    drop(held); // handed to the waiter, which has not run yet
    waiter.cancel();
    assert!(waiter.await.unwrap_err().is_cancelled());
    assert!(!lock.is_locked());
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut lock = Lock::new(String::from("a"));
    lock.get_mut().push('b');
    assert_eq!(lock.into_inner(), "ab");
}

#[test]
fn cross_thread_contention_counts_every_increment() {
    let lock = std::sync::Arc::new(Lock::new(0u64));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    *futures::executor::block_on(lock.lock()) += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*lock.try_lock().unwrap(), 4000);
}
