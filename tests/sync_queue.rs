//! Queue behaviour, ported from CPython's `Lib/test/test_asyncio/test_queues.py`, plus the
//! fairness, shutdown and thread rules of `bucle::sync::Queue`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bucle::sync::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError, TryGetError, TryPutError,
};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq};

fn is_send_sync<T: Send + Sync>() {}

#[test]
fn queues_and_their_futures_are_send_and_sync() {
    is_send_sync::<Queue<String>>();
    is_send_sync::<LifoQueue<String>>();
    is_send_sync::<PriorityQueue<String>>();
    is_send_sync::<bucle::sync::futures::Put<'static, String>>();
    is_send_sync::<bucle::sync::futures::Get<'static, String>>();
    is_send_sync::<bucle::sync::futures::Join<'static, String>>();
}

#[test]
fn fifo_queue_returns_items_in_put_order() {
    let q = Queue::new();
    for n in [3, 1, 2] {
        q.try_put(n).unwrap();
    }
    let out: Vec<i32> = std::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(out, [3, 1, 2]);
}

#[test]
fn lifo_queue_returns_newest_first() {
    let q = LifoQueue::new();
    for n in [3, 1, 2] {
        q.try_put(n).unwrap();
    }
    let out: Vec<i32> = std::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(out, [2, 1, 3]);
}

#[test]
fn priority_queue_returns_smallest_first() {
    let q = PriorityQueue::new();
    for n in [3, 1, 2] {
        q.try_put(n).unwrap();
    }
    q.try_put(0).unwrap();
    let out: Vec<i32> = std::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(out, [0, 1, 2, 3]);
}

#[test]
fn bounded_put_waits_for_a_free_slot() {
    // test_maxsize
    let q = Queue::bounded(2);
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    assert!(q.is_full());
    let mut put = spawn(q.put(3));
    assert_pending!(put.poll());
    assert_eq!(q.try_get(), Ok(1));
    assert!(put.is_woken());
    assert_ready_eq!(put.poll(), Ok(()));
    assert_eq!(q.len(), 2);
}

#[test]
fn getters_are_served_in_fifo_order() {
    let q = Queue::new();
    let mut a = spawn(q.get());
    let mut b = spawn(q.get());
    let mut c = spawn(q.get());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    q.try_put('x').unwrap();
    q.try_put('y').unwrap();
    // The later getters run first, but each item went to the oldest getters.
    assert!(!c.is_woken());
    assert_pending!(c.poll());
    assert_ready_eq!(b.poll(), Ok('x'));
    assert_ready_eq!(a.poll(), Ok('y'));
    q.try_put('z').unwrap();
    assert_ready_eq!(c.poll(), Ok('z'));
}

#[test]
fn a_woken_getter_cannot_be_robbed_by_try_get() {
    let q = Queue::new();
    let mut getter = spawn(q.get());
    assert_pending!(getter.poll());
    q.try_put(1).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q.try_get(), Err(TryGetError::Empty)); // promised to the getter
    assert_ready_eq!(getter.poll(), Ok(1));
}

#[test]
fn a_woken_putter_cannot_be_robbed_by_try_put() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut putter = spawn(q.put(2));
    assert_pending!(putter.poll());
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_put(3), Err(TryPutError::Full(3))); // the slot is the putter's
    assert_ready_eq!(putter.poll(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
}

#[test]
fn get_cancel_drop_one_pending_reader() {
    // test_get_cancel_drop_one_pending_reader: the item woke the reader, which is then
    // cancelled; the item must stay in the queue.
    let q = Queue::new();
    let mut reader = spawn(q.get());
    assert_pending!(reader.poll());
    q.try_put(1).unwrap();
    assert!(reader.is_woken());
    drop(reader);
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn get_cancel_drop_many_pending_readers() {
    // test_get_cancel_drop_many_pending_readers: three readers, two items, the first reader
    // cancelled after being woken: the other two get the items, none is lost.
    let q = Queue::new();
    let mut r1 = spawn(q.get());
    let mut r2 = spawn(q.get());
    let mut r3 = spawn(q.get());
    assert_pending!(r1.poll());
    assert_pending!(r2.poll());
    assert_pending!(r3.poll());
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    assert!(r1.is_woken() && r2.is_woken() && !r3.is_woken());
    drop(r1);
    assert!(
        r3.is_woken(),
        "the cancelled reader's item passes to the next reader"
    );
    let mut got = vec![assert_ready!(r2.poll()).unwrap()];
    got.push(assert_ready!(r3.poll()).unwrap());
    got.sort();
    assert_eq!(got, [1, 2]);
    assert!(q.is_empty());
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn put_cancel_drop() {
    // test_put_cancel_drop: a cancelled put does not add its item.
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut writer = spawn(q.put(2));
    assert_pending!(writer.poll());
    assert_eq!(q.try_get(), Ok(1));
    drop(writer);
    assert_eq!(q.len(), 0);
    assert_eq!(
        q.try_put(3),
        Ok(()),
        "the cancelled writer's slot is free again"
    );
}

#[test]
fn a_cancelled_woken_putter_passes_its_slot_on() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p1 = spawn(q.put(1));
    let mut p2 = spawn(q.put(2));
    assert_pending!(p1.poll());
    assert_pending!(p2.poll());
    assert_eq!(q.try_get(), Ok(0));
    assert!(p1.is_woken() && !p2.is_woken());
    drop(p1);
    assert!(p2.is_woken());
    assert_ready_eq!(p2.poll(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn cancelled_getters_are_not_held_in_the_waiter_list() {
    // test_cancelled_getters_not_being_held_in_self_getters
    let q = Queue::<u8>::new();
    for _ in 0..3 {
        let mut getter = spawn(q.get());
        assert_pending!(getter.poll());
    }
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn cancelled_puts_are_not_held_in_the_waiter_list() {
    // test_cancelled_puts_not_being_held_in_self_putters
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    for n in 1..4 {
        let mut putter = spawn(q.put(n));
        assert_pending!(putter.poll());
    }
    assert_eq!(q.registered_waiters(), 0);
    assert_eq!(q.len(), 1);
}

#[bucle::test]
async fn getters_wake_when_items_arrive() {
    // test_why_are_getters_waiting: consumers that start first all get an item.
    let q = Queue::new();
    let got = Rc::new(RefCell::new(Vec::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let (q, got) = (q.clone(), got.clone());
            bucle::spawn(async move {
                let n = q.get().await.unwrap();
                got.borrow_mut().push(n);
            })
        })
        .collect();
    bucle::yield_now().await;
    for n in 0..3 {
        q.put(n).await.unwrap();
    }
    for c in consumers {
        c.await.unwrap();
    }
    assert_eq!(*got.borrow(), [0, 1, 2]);
}

#[bucle::test]
async fn putters_wake_when_slots_free_up() {
    // test_why_are_putters_waiting: producers blocked on a full queue all finish.
    let q = Queue::bounded(1);
    let producers: Vec<_> = (0..3)
        .map(|n| {
            let q = q.clone();
            bucle::spawn(async move { q.put(n).await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(q.get().await.unwrap());
    }
    for p in producers {
        p.await.unwrap();
    }
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn task_done_called_too_often_is_an_error() {
    // test_task_done_underflow
    let q = Queue::new();
    let err: TaskDoneError = q.task_done().unwrap_err();
    assert_eq!(
        err.to_string(),
        "task_done called more times than items were put"
    );
    q.try_put(1).unwrap();
    q.try_get().unwrap();
    assert_eq!(q.task_done(), Ok(()));
    assert!(q.task_done().is_err());
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn join_on_an_empty_queue_returns_at_once() {
    // test_join_empty_queue
    let q = Queue::<u8>::new();
    let mut join = spawn(q.join());
    assert_ready!(join.poll());
}

#[bucle::test]
async fn join_waits_for_every_task_done() {
    // test_task_done: workers mark items done; join returns once all are.
    let q = Queue::new();
    let total = Rc::new(RefCell::new(0));
    for n in 1..=100 {
        q.put(n).await.unwrap();
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (q, total) = (q.clone(), total.clone());
            bucle::spawn(async move {
                while let Ok(n) = q.get().await {
                    bucle::yield_now().await;
                    *total.borrow_mut() += n;
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    q.join().await;
    assert_eq!(*total.borrow(), 5050);
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown(false);
    for w in workers {
        w.await.unwrap();
    }
}

#[test]
fn join_waits_until_the_last_task_done() {
    let q = Queue::new();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert!(!join.is_woken());
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert!(join.is_woken());
    assert_ready!(join.poll());
}

#[test]
fn shutdown_empty_queue_fails_puts_and_gets() {
    // test_shutdown_empty
    let q = Queue::new();
    let mut getter = spawn(q.get());
    assert_pending!(getter.poll());
    q.shutdown(false);
    assert!(getter.is_woken());
    let err: GetError = assert_ready!(getter.poll()).unwrap_err();
    assert_eq!(err.to_string(), "queue is shut down");
    assert_eq!(q.try_put(1), Err(TryPutError::ShutDown(1)));
    assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
    let mut put = spawn(q.put(2));
    assert_ready_eq!(put.poll(), Err(PutError(2)));
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn shutdown_keeps_serving_the_items_left() {
    // test_shutdown_nonempty
    let q = Queue::new();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    q.shutdown(false);
    assert!(q.is_shut_down());
    let mut get = spawn(q.get());
    assert_ready_eq!(get.poll(), Ok(1));
    assert_eq!(q.try_get(), Ok(2));
    let mut get = spawn(q.get());
    assert!(assert_ready!(get.poll()).is_err());
    assert_eq!(
        q.unfinished_tasks(),
        2,
        "a normal shutdown leaves task accounting alone"
    );
}

#[test]
fn shutdown_wakes_blocked_putters_and_hands_their_items_back() {
    // test_shutdown_putters_deque
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p1 = spawn(q.put(1));
    let mut p2 = spawn(q.put(2));
    assert_pending!(p1.poll());
    assert_pending!(p2.poll());
    q.shutdown(false);
    assert!(p1.is_woken() && p2.is_woken());
    assert_ready_eq!(p2.poll(), Err(PutError(2)));
    assert_ready_eq!(p1.poll(), Err(PutError(1)));
    assert_eq!(q.try_get(), Ok(0));
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn a_putter_woken_for_a_slot_still_fails_after_shutdown() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p = spawn(q.put(1));
    assert_pending!(p.poll());
    assert_eq!(q.try_get(), Ok(0));
    q.shutdown(false);
    assert_ready_eq!(p.poll(), Err(PutError(1)));
    assert!(q.is_empty());
}

#[test]
fn immediate_shutdown_drops_items_and_unblocks_join() {
    // test_shutdown_immediate
    let q = Queue::new();
    for n in 0..3 {
        q.try_put(n).unwrap();
    }
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    q.shutdown(true);
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(join.is_woken());
    assert_ready!(join.poll());
    assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
}

#[test]
fn immediate_shutdown_counts_only_dropped_items_as_done() {
    // test_shutdown_immediate_with_unfinished
    let q = Queue::new();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let _taken = q.try_get().unwrap(); // taken, not yet done
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    q.shutdown(true);
    assert_eq!(q.unfinished_tasks(), 1);
    assert_pending!(join.poll());
    q.task_done().unwrap();
    assert_ready!(join.poll());
}

#[test]
fn immediate_shutdown_fails_a_getter_that_was_promised_an_item() {
    let q = Queue::new();
    let mut getter = spawn(q.get());
    assert_pending!(getter.poll());
    q.try_put(1).unwrap(); // promised to the getter
    q.shutdown(true); // and dropped
    assert!(assert_ready!(getter.poll()).is_err());
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn shutdown_then_immediate_shutdown_drops_what_is_left() {
    let q = Queue::new();
    q.try_put(1).unwrap();
    q.shutdown(false);
    q.shutdown(true);
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
#[should_panic(expected = "`Queue::bounded(0)` would make a queue that can never hold an item")]
fn bounded_zero_is_rejected() {
    let _ = Queue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "`PriorityQueue::bounded(0)`")]
fn priority_bounded_zero_is_rejected() {
    let _ = PriorityQueue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "`Queue::put_blocking` was called on a bucle event loop thread")]
fn put_blocking_on_the_loop_thread_panics() {
    bucle::run(async {
        let q = Queue::new();
        let _ = q.put_blocking(1);
    });
}

#[test]
#[should_panic(expected = "`LifoQueue::get_blocking` was called on a bucle event loop thread")]
fn get_blocking_on_the_loop_thread_panics() {
    bucle::run(async {
        let q = LifoQueue::<u8>::new();
        let _ = q.get_blocking();
    });
}

#[test]
fn threads_feed_the_loop_and_drain_it() {
    let to_loop = Queue::bounded(4);
    let from_loop = Queue::bounded(4);
    let producer = std::thread::spawn({
        let to_loop = to_loop.clone();
        move || {
            for n in 0..100u64 {
                to_loop.put_blocking(n).unwrap();
            }
            to_loop.shutdown(false);
        }
    });
    let consumer = std::thread::spawn({
        let from_loop = from_loop.clone();
        move || {
            let mut sum = 0;
            while let Ok(n) = from_loop.get_blocking() {
                sum += n;
            }
            sum
        }
    });
    bucle::run(async {
        while let Ok(n) = to_loop.get().await {
            from_loop.put(n * 2).await.unwrap();
        }
        from_loop.shutdown(false);
    });
    producer.join().unwrap();
    assert_eq!(consumer.join().unwrap(), 2 * 4950);
}

#[test]
fn a_blocked_thread_is_woken_by_shutdown() {
    let q = Queue::<u8>::new();
    let waiter = std::thread::spawn({
        let q = q.clone();
        move || q.get_blocking()
    });
    while q.registered_waiters() == 0 {
        std::thread::yield_now();
    }
    q.shutdown(false);
    assert!(waiter.join().unwrap().is_err());
}

#[test]
fn works_under_futures_executor() {
    // The primitives need no bucle loop: any waker will do.
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let q = Queue::bounded(2);
    let lock = Rc::new(bucle::sync::Lock::new(0));
    let spawner = pool.spawner();
    for _ in 0..3 {
        let (q, lock) = (q.clone(), lock.clone());
        spawner
            .spawn_local(async move {
                while let Ok(n) = q.get().await {
                    *lock.lock().await += n;
                    q.task_done().unwrap();
                }
            })
            .unwrap();
    }
    pool.run_until({
        let q = q.clone();
        async move {
            for n in 1..=50 {
                q.put(n).await.unwrap();
            }
            q.join().await;
            q.shutdown(false);
        }
    });
    pool.run();
    assert_eq!(*Rc::try_unwrap(lock).unwrap().get_mut(), 1275);
}

#[test]
fn works_under_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let q = Queue::bounded(1);
    let event = std::sync::Arc::new(bucle::sync::Event::new());
    let sum = rt.block_on(async {
        let consumer = tokio::spawn({
            let (q, event) = (q.clone(), event.clone());
            async move {
                event.wait().await;
                let mut sum = 0;
                while let Ok(n) = q.get().await {
                    sum += n;
                }
                sum
            }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        event.set();
        for n in 1..=10 {
            q.put(n).await.unwrap();
        }
        q.shutdown(false);
        consumer.await.unwrap()
    });
    assert_eq!(sum, 55);
}

#[bucle::test]
async fn a_cancelled_task_gives_its_item_back() {
    // Through the loop: the getter task is woken by the put, then cancelled before it runs.
    let q = Queue::new();
    let getter = bucle::spawn({
        let q = q.clone();
        async move { q.get().await }
    });
    bucle::yield_now().await;
    q.put(7).await.unwrap();
    getter.cancel();
    assert!(getter.await.unwrap_err().is_cancelled());
    assert_eq!(q.try_get(), Ok(7));
    assert_eq!(q.registered_waiters(), 0);
}

#[bucle::test(start_paused = true)]
async fn a_timed_out_get_loses_nothing() {
    let q = Queue::new();
    assert!(bucle::timeout(Duration::from_secs(1), q.get())
        .await
        .is_err());
    q.put(1).await.unwrap();
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.registered_waiters(), 0);
}

#[test]
fn errors_display_in_lowercase_and_hand_items_back() {
    assert_eq!(TryPutError::Full(1).to_string(), "queue is full");
    assert_eq!(TryPutError::ShutDown(1).to_string(), "queue is shut down");
    assert_eq!(TryPutError::Full(1).into_inner(), 1);
    assert_eq!(PutError("x").into_inner(), "x");
    assert_eq!(TryGetError::Empty.to_string(), "queue is empty");
    assert_eq!(format!("{:?}", TryPutError::Full(1)), "Full(..)");
}
