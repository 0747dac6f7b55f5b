//! Event behaviour, ported from `EventTests` in CPython's
//! `Lib/test/test_asyncio/test_locks.py`: a real flag, every waiter woken, and waiters woken
//! by a `set` returning even if the flag is cleared before they run.

use std::rc::Rc;

use bucle::sync::Event;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn event_is_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Event>();
    is::<bucle::sync::futures::EventWait<'static>>();
}

#[test]
fn wait_returns_once_set_for_every_waiter() {
    // test_wait
    let event = Event::new();
    let mut waiters: Vec<_> = (0..3).map(|_| spawn(event.wait())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    event.set();
    for w in &mut waiters {
        assert!(w.is_woken());
        assert_ready!(w.poll());
    }
    assert_eq!(event.registered_waiters(), 0);
}

#[test]
fn wait_on_a_set_event_returns_at_once() {
    // test_wait_on_set
    let event = Event::new();
    event.set();
    assert_ready!(spawn(event.wait()).poll());
}

#[test]
fn a_cancelled_wait_is_removed() {
    // test_wait_cancel
    let event = Event::new();
    let mut w = spawn(event.wait());
    assert_pending!(w.poll());
    drop(w);
    assert_eq!(event.registered_waiters(), 0);
    event.set();
}

#[test]
fn clear_lowers_the_flag() {
    // test_clear
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
    assert_pending!(spawn(event.wait()).poll());
}

#[test]
fn waiters_woken_by_set_return_even_if_cleared_before_they_run() {
    // test_clear_with_waiters
    let event = Event::new();
    let mut w = spawn(event.wait());
    assert_pending!(w.poll());
    event.set();
    event.clear();
    assert!(!event.is_set());
    assert_ready!(w.poll());
    // A waiter that arrives after the clear waits for the next set.
    let mut late = spawn(event.wait());
    assert_pending!(late.poll());
    event.set();
    assert_ready!(late.poll());
}

#[test]
fn setting_twice_is_harmless() {
    let event = Event::new();
    event.set();
    event.set();
    assert!(event.is_set());
}

#[bucle::test]
async fn fan_out_to_many_tasks() {
    let event = Rc::new(Event::new());
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let event = event.clone();
            bucle::spawn(async move {
                event.wait().await;
                i
            })
        })
        .collect();
    // The loop runs at most 128 tasks per tick: yield until every task waits.
    while event.registered_waiters() < 1000 {
        bucle::yield_now().await;
    }
    event.set();
    let mut sum = 0;
    for t in tasks {
        sum += t.await.unwrap();
    }
    assert_eq!(sum, 999 * 1000 / 2);
    assert_eq!(event.registered_waiters(), 0);
}

#[test]
fn a_thread_can_set_the_event_for_the_loop() {
    let event = std::sync::Arc::new(Event::new());
    let setter = std::thread::spawn({
        let event = event.clone();
        move || event.set()
    });
    bucle::run(event.wait());
    setter.join().unwrap();
}
