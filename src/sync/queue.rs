//! `Queue`, `LifoQueue` and `PriorityQueue`: one core, three orders.
//!
//! The core follows asyncio's `queues.py` with one change that makes it fair: a woken
//! getter owns an item (`claimed`) and a woken putter owns a slot (`reserved`) until it
//! runs, so `try_get`/`try_put` from other tasks cannot take them, and a woken future that is
//! dropped passes its claim to the next waiter.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::waiters::{wake_all, WaiterList};
use super::{assert_not_on_loop, lock_state};

/// Why a queued getter or putter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    /// An item (for a getter) or a slot (for a putter) is reserved for it.
    Grant,
    /// The queue was shut down.
    ShutDown,
}

/// The items, in the order of the queue's kind.
enum Items<T> {
    Fifo(VecDeque<T>),
    Lifo(Vec<T>),
    /// Smallest first. The heap's operations need `T: Ord`, which only the constructor of a
    /// `PriorityQueue` knows, so it leaves them here as plain functions.
    Heap(BinaryHeap<Reverse<T>>, HeapOps<T>),
}

struct HeapOps<T> {
    push: fn(&mut BinaryHeap<Reverse<T>>, T),
    pop: fn(&mut BinaryHeap<Reverse<T>>) -> Option<T>,
}

fn heap_push<T: Ord>(heap: &mut BinaryHeap<Reverse<T>>, item: T) {
    heap.push(Reverse(item));
}

fn heap_pop<T: Ord>(heap: &mut BinaryHeap<Reverse<T>>) -> Option<T> {
    heap.pop().map(|Reverse(item)| item)
}

impl<T> Items<T> {
    fn push(&mut self, item: T) {
        match self {
            Items::Fifo(items) => items.push_back(item),
            Items::Lifo(items) => items.push(item),
            Items::Heap(items, ops) => (ops.push)(items, item),
        }
    }

    fn pop(&mut self) -> Option<T> {
        match self {
            Items::Fifo(items) => items.pop_front(),
            Items::Lifo(items) => items.pop(),
            Items::Heap(items, ops) => (ops.pop)(items),
        }
    }

    fn len(&self) -> usize {
        match self {
            Items::Fifo(items) => items.len(),
            Items::Lifo(items) => items.len(),
            Items::Heap(items, _) => items.len(),
        }
    }

    /// Takes every item out, to be dropped after the queue's lock is released.
    fn take_all(&mut self) -> Vec<T> {
        match self {
            Items::Fifo(items) => items.drain(..).collect(),
            Items::Lifo(items) => std::mem::take(items),
            Items::Heap(items, _) => items.drain().map(|Reverse(item)| item).collect(),
        }
    }
}

struct State<T> {
    items: Items<T>,
    /// Items promised to getters that were woken and have not run yet. Never more than
    /// `items.len()`, except after `shutdown(true)` emptied the queue under them.
    claimed: usize,
    /// Slots promised to putters that were woken and have not run yet.
    reserved: usize,
    /// Getters waiting for an item. One is queued only while no unclaimed item exists.
    getters: WaiterList<Wake>,
    /// Putters waiting for a slot. One is queued only while the queue has no free slot.
    putters: WaiterList<Wake>,
    /// Tasks in `join`, woken when `unfinished` drops to zero.
    joiners: WaiterList<()>,
    /// Items put and not yet marked done by `task_done`.
    unfinished: usize,
    shut_down: bool,
}

/// What every queue kind shares. `Arc`ed by the public handles.
struct Core<T> {
    state: Mutex<State<T>>,
    capacity: Option<usize>,
}

impl<T> State<T> {
    fn has_free_slot(&self, capacity: Option<usize>) -> bool {
        match capacity {
            None => true,
            Some(capacity) => self.items.len() + self.reserved < capacity,
        }
    }

    fn has_unclaimed_item(&self) -> bool {
        self.items.len() > self.claimed
    }

    /// Adds an admitted item and promises it to the oldest getter, if any waits.
    fn push_item(&mut self, item: T) -> Option<Waker> {
        self.items.push(item);
        self.unfinished += 1;
        let waker = self.getters.notify_one(Wake::Grant);
        if waker.is_some() {
            self.claimed += 1;
        }
        waker
    }

    /// Takes an item the caller is entitled to and promises the freed slot to the oldest
    /// putter, if any waits.
    fn pop_item(&mut self) -> (T, Option<Waker>) {
        let item = self.items.pop().expect("an unclaimed item was counted");
        let waker = self.putters.notify_one(Wake::Grant);
        if waker.is_some() {
            self.reserved += 1;
        }
        (item, waker)
    }

    /// A getter that was granted an item gives its claim up: the next getter gets it.
    fn release_claim(&mut self) -> Option<Waker> {
        self.claimed -= 1;
        if self.has_unclaimed_item() {
            let waker = self.getters.notify_one(Wake::Grant);
            if waker.is_some() {
                self.claimed += 1;
            }
            return waker;
        }
        None
    }

    /// A putter that was granted a slot gives it up: the next putter gets it.
    fn release_reservation(&mut self) -> Option<Waker> {
        self.reserved -= 1;
        if self.shut_down {
            return None;
        }
        let waker = self.putters.notify_one(Wake::Grant);
        if waker.is_some() {
            self.reserved += 1;
        }
        waker
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T> Core<T> {
    fn new(items: Items<T>, capacity: Option<usize>) -> Arc<Core<T>> {
        Arc::new(Core {
            state: Mutex::new(State {
                items,
                claimed: 0,
                reserved: 0,
                getters: WaiterList::new(),
                putters: WaiterList::new(),
                joiners: WaiterList::new(),
                unfinished: 0,
                shut_down: false,
            }),
            capacity,
        })
    }

    fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut state = lock_state(&self.state);
        if state.shut_down {
            return Err(TryPutError::ShutDown(item));
        }
        if !state.has_free_slot(self.capacity) {
            return Err(TryPutError::Full(item));
        }
        let waker = state.push_item(item);
        drop(state);
        wake(waker);
        Ok(())
    }

    fn try_get(&self) -> Result<T, TryGetError> {
        let mut state = lock_state(&self.state);
        if state.has_unclaimed_item() {
            let (item, waker) = state.pop_item();
            drop(state);
            wake(waker);
            Ok(item)
        } else if state.shut_down {
            Err(TryGetError::ShutDown)
        } else {
            Err(TryGetError::Empty)
        }
    }

    fn poll_put(
        &self,
        key: &mut Option<usize>,
        item: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PutError<T>>> {
        let mut state = lock_state(&self.state);
        let waker = match *key {
            None => {
                if state.shut_down {
                    return Poll::Ready(Err(PutError(take(item))));
                }
                if !state.has_free_slot(self.capacity) {
                    *key = Some(state.putters.push(cx.waker()));
                    return Poll::Pending;
                }
                state.push_item(take(item))
            }
            Some(k) => match state.putters.poll(k, cx.waker()) {
                None => return Poll::Pending,
                Some(why) => {
                    state.putters.remove(k);
                    *key = None;
                    if why == Wake::Grant {
                        state.reserved -= 1;
                    }
                    if state.shut_down {
                        return Poll::Ready(Err(PutError(take(item))));
                    }
                    state.push_item(take(item))
                }
            },
        };
        drop(state);
        wake(waker);
        Poll::Ready(Ok(()))
    }

    fn drop_put(&self, key: usize) {
        let mut state = lock_state(&self.state);
        let waker = match state.putters.remove(key) {
            Some(Wake::Grant) => state.release_reservation(),
            _ => None,
        };
        drop(state);
        wake(waker);
    }

    fn poll_get(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<Result<T, GetError>> {
        let mut state = lock_state(&self.state);
        match *key {
            None => {
                if !state.has_unclaimed_item() {
                    if state.shut_down {
                        return Poll::Ready(Err(GetError(())));
                    }
                    *key = Some(state.getters.push(cx.waker()));
                    return Poll::Pending;
                }
            }
            Some(k) => match state.getters.poll(k, cx.waker()) {
                None => return Poll::Pending,
                Some(why) => {
                    state.getters.remove(k);
                    *key = None;
                    if why == Wake::Grant {
                        state.claimed -= 1;
                    }
                    if !state.has_unclaimed_item() {
                        // Shut down, and (if immediately) emptied under the claim.
                        return Poll::Ready(Err(GetError(())));
                    }
                }
            },
        }
        let (item, waker) = state.pop_item();
        drop(state);
        wake(waker);
        Poll::Ready(Ok(item))
    }

    fn drop_get(&self, key: usize) {
        let mut state = lock_state(&self.state);
        let waker = match state.getters.remove(key) {
            Some(Wake::Grant) => state.release_claim(),
            _ => None,
        };
        drop(state);
        wake(waker);
    }

    fn poll_join(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock_state(&self.state);
        match *key {
            None if state.unfinished == 0 => Poll::Ready(()),
            None => {
                *key = Some(state.joiners.push(cx.waker()));
                Poll::Pending
            }
            Some(k) => match state.joiners.poll(k, cx.waker()) {
                None => Poll::Pending,
                Some(()) => {
                    state.joiners.remove(k);
                    *key = None;
                    Poll::Ready(())
                }
            },
        }
    }

    fn drop_join(&self, key: usize) {
        lock_state(&self.state).joiners.remove(key);
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = lock_state(&self.state);
        if state.unfinished == 0 {
            return Err(TaskDoneError(()));
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            let mut wakers = Vec::new();
            state.joiners.notify_all((), &mut wakers);
            drop(state);
            wake_all(wakers);
        }
        Ok(())
    }

    fn shutdown(&self, immediate: bool) {
        let mut state = lock_state(&self.state);
        state.shut_down = true;
        let mut wakers = Vec::new();
        let mut dropped = Vec::new();
        if immediate {
            dropped = state.items.take_all();
            state.unfinished = state.unfinished.saturating_sub(dropped.len());
            if state.unfinished == 0 {
                state.joiners.notify_all((), &mut wakers);
            }
            // Woken getters find the queue empty and fail when they run.
        }
        state.getters.notify_all(Wake::ShutDown, &mut wakers);
        state.putters.notify_all(Wake::ShutDown, &mut wakers);
        drop(state);
        wake_all(wakers);
        drop(dropped);
    }

    fn len(&self) -> usize {
        lock_state(&self.state).items.len()
    }

    fn is_full(&self) -> bool {
        match self.capacity {
            None => false,
            Some(capacity) => lock_state(&self.state).items.len() >= capacity,
        }
    }

    fn is_shut_down(&self) -> bool {
        lock_state(&self.state).shut_down
    }

    fn unfinished(&self) -> usize {
        lock_state(&self.state).unfinished
    }

    fn registered_waiters(&self) -> usize {
        let state = lock_state(&self.state);
        state.getters.registered() + state.putters.registered() + state.joiners.registered()
    }
}

fn take<T>(item: &mut Option<T>) -> T {
    item.take()
        .expect("a `put` future was polled after it completed")
}

#[track_caller]
fn checked_capacity(capacity: usize, name: &str) -> usize {
    assert!(
        capacity > 0,
        "`{name}::bounded(0)` would make a queue that can never hold an item; use \
         `{name}::new()` for an unbounded queue, or a capacity of at least 1 (asyncio's \
         `maxsize=0` means unbounded, which is `{name}::new()` here)"
    );
    capacity
}

macro_rules! queue_methods {
    ($name:ident, $article:literal) => {
        impl<T> $name<T> {
            #[doc = concat!("Adds `item` to the queue, waiting while ", $article, " bounded queue is full.")]
            ///
            /// Putters are served in the order they started waiting. A putter woken because a
            /// slot freed up owns that slot until it runs.
            ///
            /// # Errors
            ///
            /// [`PutError`] with the item if the queue is shut down, before or while waiting.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe in asyncio's sense: if the future is dropped before it completes,
            /// the item was not added (it is dropped with the future), and a slot granted to
            /// it passes to the next waiting putter.
            ///
            /// ```
            /// # bucle::run(async {
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::bounded(1);")]
            /// queue.put(1).await.unwrap();
            /// assert!(queue.is_full());
            /// # });
            /// ```
            pub fn put(&self, item: T) -> Put<'_, T> {
                Put {
                    core: &self.core,
                    item: Some(item),
                    key: None,
                }
            }

            /// Removes and returns the next item, waiting while the queue is empty.
            ///
            /// Getters are served in the order they started waiting. A getter woken by a
            /// `put` owns an item until it runs.
            ///
            /// # Errors
            ///
            /// [`GetError`] once the queue is shut down and has no item left for this
            /// getter; after [`shutdown(true)`](Self::shutdown), at once.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: an item is removed only when the future completes. If the future
            /// is dropped after a `put` woke it, the item stays in the queue and the next
            /// waiting getter is woken for it.
            ///
            /// ```
            /// # bucle::run(async {
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.put(7).await.unwrap();
            /// assert_eq!(queue.get().await, Ok(7));
            /// # });
            /// ```
            pub fn get(&self) -> Get<'_, T> {
                Get {
                    core: &self.core,
                    key: None,
                }
            }

            /// Adds `item` without waiting.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] if no slot is free (slots promised to woken putters are
            /// not free), [`TryPutError::ShutDown`] if the queue is shut down. Both hand the
            /// item back.
            ///
            /// ```
            /// use bucle::sync::TryPutError;
            ///
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::bounded(1);")]
            /// assert_eq!(queue.try_put(1), Ok(()));
            /// assert_eq!(queue.try_put(2), Err(TryPutError::Full(2)));
            /// ```
            pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.try_put(item)
            }

            /// Removes the next item without waiting.
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] if no item is available (items promised to woken
            /// getters are not), [`TryGetError::ShutDown`] if, in addition, the queue is shut
            /// down.
            ///
            /// ```
            /// use bucle::sync::TryGetError;
            ///
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// assert_eq!(queue.try_get(), Err(TryGetError::Empty));
            /// queue.try_put(1).unwrap();
            /// assert_eq!(queue.try_get(), Ok(1));
            /// ```
            pub fn try_get(&self) -> Result<T, TryGetError> {
                self.core.try_get()
            }

            /// Adds `item` from a thread that is not running a bucle loop, parking the thread
            /// while the queue is full: the way threads (for example closures offloaded to the
            /// executor) feed tasks. Fair with async putters: it waits in the same line.
            ///
            /// # Errors
            ///
            /// [`PutError`] with the item if the queue is shut down.
            ///
            /// # Panics
            ///
            /// On a bucle loop thread, where parking would freeze every task; use
            /// [`put`](Self::put) there.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::bounded(1);")]
            /// let producer = std::thread::spawn({
            ///     let queue = queue.clone();
            ///     move || {
            ///         for n in 0..3 {
            ///             queue.put_blocking(n).unwrap();
            ///         }
            ///     }
            /// });
            /// let mut sum = 0;
            /// bucle::run(async {
            ///     for _ in 0..3 {
            ///         sum += queue.get().await.unwrap();
            ///     }
            /// });
            /// producer.join().unwrap();
            /// assert_eq!(sum, 3);
            /// ```
            #[track_caller]
            pub fn put_blocking(&self, item: T) -> Result<(), PutError<T>> {
                assert_not_on_loop(
                    concat!(stringify!($name), "::put_blocking"),
                    "queue.put(item).await",
                );
                futures::executor::block_on(self.put(item))
            }

            /// Removes the next item from a thread that is not running a bucle loop, parking
            /// the thread while the queue is empty: the way threads drain work that tasks
            /// produce. Fair with async getters: it waits in the same line.
            ///
            /// # Errors
            ///
            /// [`GetError`] once the queue is shut down and has no item left for it.
            ///
            /// # Panics
            ///
            /// On a bucle loop thread, where parking would freeze every task; use
            /// [`get`](Self::get) there.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// let consumer = std::thread::spawn({
            ///     let queue = queue.clone();
            ///     move || {
            ///         let mut got = 0;
            ///         while let Ok(n) = queue.get_blocking() {
            ///             got += n;
            ///         }
            ///         got
            ///     }
            /// });
            /// bucle::run(async {
            ///     for n in 1..=4 {
            ///         queue.put(n).await.unwrap();
            ///     }
            ///     queue.shutdown(false);
            /// });
            /// assert_eq!(consumer.join().unwrap(), 10);
            /// ```
            #[track_caller]
            pub fn get_blocking(&self) -> Result<T, GetError> {
                assert_not_on_loop(
                    concat!(stringify!($name), "::get_blocking"),
                    "queue.get().await",
                );
                futures::executor::block_on(self.get())
            }

            /// How many items are in the queue, including items promised to woken getters
            /// that have not run yet.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.try_put(1).unwrap();
            /// queue.try_put(2).unwrap();
            /// assert_eq!(queue.len(), 2);
            /// ```
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// True if the queue holds no item.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::<u8>::new();")]
            /// assert!(queue.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// True if the queue is bounded and holds `capacity` items. Never true for an
            /// unbounded queue.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::bounded(2);")]
            /// queue.try_put(1).unwrap();
            /// assert!(!queue.is_full());
            /// queue.try_put(2).unwrap();
            /// assert!(queue.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// The most items the queue holds, or `None` if it is unbounded.
            ///
            /// ```
            #[doc = concat!("assert_eq!(bucle::sync::", stringify!($name), "::<u8>::bounded(3).capacity(), Some(3));")]
            #[doc = concat!("assert_eq!(bucle::sync::", stringify!($name), "::<u8>::new().capacity(), None);")]
            /// ```
            pub fn capacity(&self) -> Option<usize> {
                self.core.capacity
            }

            /// Marks one item taken from the queue as processed, for [`join`](Self::join).
            ///
            /// Every `put` adds one unfinished item; every `task_done` marks one finished.
            /// When none is left unfinished, `join` returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put (asyncio raises
            /// `ValueError`). The count is left at zero.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.try_put("job").unwrap();
            /// let _job = queue.try_get().unwrap();
            /// assert!(queue.task_done().is_ok());
            /// assert!(queue.task_done().is_err()); // one item, one task_done
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done). Returns at once if none is unfinished.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping it affects nothing else.
            ///
            /// ```
            /// # bucle::run(async {
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.put(1).await.unwrap();
            /// let worker = bucle::spawn({
            ///     let queue = queue.clone();
            ///     async move {
            ///         queue.get().await.unwrap();
            ///         queue.task_done().unwrap();
            ///     }
            /// });
            /// queue.join().await;
            /// assert!(queue.is_empty());
            /// # worker.await.unwrap();
            /// # });
            /// ```
            pub fn join(&self) -> Join<'_, T> {
                Join {
                    core: &self.core,
                    key: None,
                }
            }

            /// Shuts the queue down (Python 3.13's `Queue.shutdown`).
            ///
            /// From now on `put` and `try_put` fail and hand the item back, and waiting
            /// putters are woken with that error. Getters keep taking the items that are
            /// left; once none is left for them, `get` fails instead of waiting, and waiting
            /// getters are woken with that error.
            ///
            /// With `immediate`, the items left are dropped as well, each counted as done for
            /// [`join`](Self::join) (which returns if nothing else is unfinished), and every
            /// `get` fails at once. Calling it again is harmless; a later `shutdown(true)`
            /// still drops what is left.
            ///
            /// ```
            /// use bucle::sync::TryGetError;
            ///
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.try_put(1).unwrap();
            /// queue.shutdown(false);
            /// assert!(queue.try_put(2).is_err());
            /// assert_eq!(queue.try_get(), Ok(1)); // items left are still served
            /// assert_eq!(queue.try_get(), Err(TryGetError::ShutDown));
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }

            /// True once [`shutdown`](Self::shutdown) was called.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::<u8>::new();")]
            /// queue.shutdown(false);
            /// assert!(queue.is_shut_down());
            /// ```
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// How many items were put and not yet marked done with
            /// [`task_done`](Self::task_done).
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::new();")]
            /// queue.try_put(1).unwrap();
            /// queue.try_get().unwrap();
            /// assert_eq!(queue.unfinished_tasks(), 1);
            /// ```
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished()
            }

            /// How many futures (and blocked threads) are registered with the queue: waiting,
            /// or woken and not yet run. Zero when nothing waits; for tests and diagnostics.
            ///
            /// ```
            #[doc = concat!("let queue = bucle::sync::", stringify!($name), "::<u8>::new();")]
            /// assert_eq!(queue.registered_waiters(), 0);
            /// ```
            pub fn registered_waiters(&self) -> usize {
                self.core.registered_waiters()
            }
        }

        impl<T> Clone for $name<T> {
            /// Another handle to the same queue.
            fn clone(&self) -> Self {
                $name {
                    core: self.core.clone(),
                }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let state = lock_state(&self.core.state);
                f.debug_struct(stringify!($name))
                    .field("len", &state.items.len())
                    .field("capacity", &self.core.capacity)
                    .field("unfinished", &state.unfinished)
                    .field("getters", &state.getters.queued())
                    .field("putters", &state.putters.queued())
                    .field("shut_down", &state.shut_down)
                    .finish()
            }
        }
    };
}

/// A first-in, first-out queue for tasks (asyncio's `Queue`), unbounded or bounded.
///
/// A `Queue` is a handle: clones share the same queue, so give each producer and consumer
/// its own clone, as asyncio passes one queue object to every worker. It is `Send + Sync`
/// when `T: Send`, and threads use it through [`put_blocking`](Queue::put_blocking) and
/// [`get_blocking`](Queue::get_blocking).
///
/// ```
/// use bucle::sync::Queue;
///
/// # bucle::run(async {
/// let queue = Queue::new();
/// queue.put("a").await.unwrap();
/// queue.put("b").await.unwrap();
/// assert_eq!(queue.get().await, Ok("a"));
/// assert_eq!(queue.get().await, Ok("b"));
/// # });
/// ```
pub struct Queue<T> {
    core: Arc<Core<T>>,
}

impl<T> Queue<T> {
    /// An unbounded queue: `put` never waits.
    ///
    /// ```
    /// let queue = bucle::sync::Queue::new();
    /// for n in 0..1000 {
    ///     queue.try_put(n).unwrap();
    /// }
    /// assert_eq!(queue.len(), 1000);
    /// ```
    pub fn new() -> Queue<T> {
        Queue {
            core: Core::new(Items::Fifo(VecDeque::new()), None),
        }
    }

    /// A queue of at most `capacity` items: `put` waits while it is full.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero, since no item could ever be put. Use [`Queue::new`] for an
    /// unbounded queue (asyncio's `maxsize=0`).
    ///
    /// ```
    /// let queue = bucle::sync::Queue::bounded(2);
    /// queue.try_put(1).unwrap();
    /// queue.try_put(2).unwrap();
    /// assert!(queue.try_put(3).is_err());
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> Queue<T> {
        let capacity = checked_capacity(capacity, "Queue");
        Queue {
            core: Core::new(
                Items::Fifo(VecDeque::with_capacity(capacity.min(4096))),
                Some(capacity),
            ),
        }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue::new()
    }
}

queue_methods!(Queue, "a");

/// A last-in, first-out queue (asyncio's `LifoQueue`): `get` returns the newest item.
///
/// It has [`Queue`]'s methods and semantics otherwise.
///
/// ```
/// use bucle::sync::LifoQueue;
///
/// # bucle::run(async {
/// let stack = LifoQueue::new();
/// stack.put(1).await.unwrap();
/// stack.put(2).await.unwrap();
/// assert_eq!(stack.get().await, Ok(2));
/// assert_eq!(stack.get().await, Ok(1));
/// # });
/// ```
pub struct LifoQueue<T> {
    core: Arc<Core<T>>,
}

impl<T> LifoQueue<T> {
    /// An unbounded LIFO queue.
    ///
    /// ```
    /// let stack = bucle::sync::LifoQueue::<u8>::new();
    /// assert_eq!(stack.capacity(), None);
    /// ```
    pub fn new() -> LifoQueue<T> {
        LifoQueue {
            core: Core::new(Items::Lifo(Vec::new()), None),
        }
    }

    /// A LIFO queue of at most `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero; use [`LifoQueue::new`] for an unbounded queue.
    ///
    /// ```
    /// let stack = bucle::sync::LifoQueue::<u8>::bounded(4);
    /// assert_eq!(stack.capacity(), Some(4));
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> LifoQueue<T> {
        let capacity = checked_capacity(capacity, "LifoQueue");
        LifoQueue {
            core: Core::new(
                Items::Lifo(Vec::with_capacity(capacity.min(4096))),
                Some(capacity),
            ),
        }
    }
}

impl<T> Default for LifoQueue<T> {
    fn default() -> Self {
        LifoQueue::new()
    }
}

queue_methods!(LifoQueue, "a");

/// A priority queue (asyncio's `PriorityQueue`): `get` returns the smallest item.
///
/// Wrap items in [`std::cmp::Reverse`] to get the largest first, or use a `(priority, item)`
/// tuple as in asyncio. Items of equal priority come out in no particular order. It has
/// [`Queue`]'s methods and semantics otherwise.
///
/// ```
/// use bucle::sync::PriorityQueue;
///
/// # bucle::run(async {
/// let jobs = PriorityQueue::new();
/// jobs.put((2, "later")).await.unwrap();
/// jobs.put((1, "first")).await.unwrap();
/// assert_eq!(jobs.get().await, Ok((1, "first")));
/// # });
/// ```
pub struct PriorityQueue<T> {
    core: Arc<Core<T>>,
}

impl<T: Ord> PriorityQueue<T> {
    /// An unbounded priority queue.
    ///
    /// ```
    /// let jobs = bucle::sync::PriorityQueue::<u8>::new();
    /// assert!(jobs.is_empty());
    /// ```
    pub fn new() -> PriorityQueue<T> {
        PriorityQueue {
            core: Core::new(Items::Heap(BinaryHeap::new(), heap_ops()), None),
        }
    }

    /// A priority queue of at most `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero; use [`PriorityQueue::new`] for an unbounded queue.
    ///
    /// ```
    /// let jobs = bucle::sync::PriorityQueue::<u8>::bounded(16);
    /// assert_eq!(jobs.capacity(), Some(16));
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> PriorityQueue<T> {
        let capacity = checked_capacity(capacity, "PriorityQueue");
        PriorityQueue {
            core: Core::new(
                Items::Heap(BinaryHeap::with_capacity(capacity.min(4096)), heap_ops()),
                Some(capacity),
            ),
        }
    }
}

fn heap_ops<T: Ord>() -> HeapOps<T> {
    HeapOps {
        push: heap_push::<T>,
        pop: heap_pop::<T>,
    }
}

impl<T: Ord> Default for PriorityQueue<T> {
    fn default() -> Self {
        PriorityQueue::new()
    }
}

queue_methods!(PriorityQueue, "a");

/// The future returned by `put` on a queue.
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    core: &'a Core<T>,
    /// The item, until it is added or handed back.
    item: Option<T>,
    /// Our slot in the putters' list, while registered.
    key: Option<usize>,
}

impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_put(&mut this.key, &mut this.item, cx)
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.drop_put(key);
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by `get` on a queue.
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    core: &'a Core<T>,
    key: Option<usize>,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, GetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_get(&mut this.key, cx)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.drop_get(key);
        }
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by `join` on a queue.
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T> {
    core: &'a Core<T>,
    key: Option<usize>,
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.core.poll_join(&mut this.key, cx)
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.drop_join(key);
        }
    }
}

impl<T> fmt::Debug for Join<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Why [`try_put`](Queue::try_put) failed; holds the item.
///
/// ```
/// use bucle::sync::{Queue, TryPutError};
///
/// let queue = Queue::bounded(1);
/// queue.try_put('a').unwrap();
/// let err = queue.try_put('b').unwrap_err();
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), 'b');
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue has no free slot.
    Full(T),
    /// The queue is shut down.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// let queue = bucle::sync::Queue::new();
    /// queue.shutdown(false);
    /// assert_eq!(queue.try_put(5).unwrap_err().into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// Why [`try_get`](Queue::try_get) failed.
///
/// ```
/// use bucle::sync::{Queue, TryGetError};
///
/// let queue = Queue::<u8>::new();
/// assert_eq!(queue.try_get().unwrap_err().to_string(), "queue is empty");
/// queue.shutdown(false);
/// assert_eq!(queue.try_get(), Err(TryGetError::ShutDown));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is available now.
    Empty,
    /// The queue is shut down and no item is left for this getter.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// [`put`](Queue::put) failed because the queue is shut down; holds the item.
///
/// ```
/// # bucle::run(async {
/// let queue = bucle::sync::Queue::new();
/// queue.shutdown(false);
/// let err = queue.put("late").await.unwrap_err();
/// assert_eq!(err.to_string(), "queue is shut down");
/// assert_eq!(err.into_inner(), "late");
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PutError<T>(pub T);

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// let err = bucle::sync::PutError(3);
    /// assert_eq!(err.into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> std::error::Error for PutError<T> {}

/// [`get`](Queue::get) failed because the queue is shut down and no item is left for it.
///
/// ```
/// # bucle::run(async {
/// let queue = bucle::sync::Queue::<u8>::new();
/// queue.shutdown(false);
/// assert_eq!(queue.get().await.unwrap_err().to_string(), "queue is shut down");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetError(());

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl std::error::Error for GetError {}

/// [`task_done`](Queue::task_done) was called more times than items were put.
///
/// ```
/// let queue = bucle::sync::Queue::<u8>::new();
/// let err = queue.task_done().unwrap_err();
/// assert_eq!(err.to_string(), "task_done called more times than items were put");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDoneError(());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
