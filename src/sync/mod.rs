//! Synchronization for tasks: queues, locks, events, conditions, semaphores and barriers,
//! with the semantics of Python's `asyncio` (its `queues.py` and `locks.py` are the
//! behavioural reference) in Rust's shapes.
//!
//! ```
//! use bucle::sync::Queue;
//!
//! # bucle::run(async {
//! let queue = Queue::bounded(8);
//! let worker = bucle::spawn({
//!     let queue = queue.clone();
//!     async move {
//!         let mut sum = 0;
//!         while let Ok(n) = queue.get().await {
//!             sum += n;
//!             queue.task_done().unwrap();
//!         }
//!         sum
//!     }
//! });
//! for n in 1..=10 {
//!     queue.put(n).await.unwrap();
//! }
//! queue.join().await; // every item was processed
//! queue.shutdown(false); // the worker's next `get` fails and it returns
//! assert_eq!(worker.await.unwrap(), 55);
//! # });
//! ```
//!
//! # Which primitive?
//!
//! - To hand work from producers to consumers, use a [`Queue`] ([`LifoQueue`] for newest
//!   first, [`PriorityQueue`] for smallest first). `task_done`/`join` tell the producer when
//!   the work is finished, `shutdown` tells consumers that no more will come. Threads take
//!   part with [`Queue::put_blocking`] and [`Queue::get_blocking`].
//! - To guard data that tasks update across an `.await`, use a [`Lock`]. If no `.await`
//!   happens while the data is borrowed, a `std::sync::Mutex` or a `RefCell` is simpler and
//!   faster: the loop runs one task at a time.
//! - To say "this happened" to any number of tasks, use an [`Event`]: a flag that stays set.
//! - To wait until data guarded by a lock reaches some state, use a [`Condition`].
//! - To let at most `n` tasks in at once (connections, requests per host), use a
//!   [`Semaphore`]; a [`BoundedSemaphore`] also catches releases that were never acquired.
//! - To have `n` tasks meet before any goes on, use a [`Barrier`].
//!
//! # Fairness and cancellation
//!
//! Every primitive serves its waiters first in, first out. A waiter that is woken owns what it
//! was woken for (an item, a slot, the lock, a permit) until it runs: a task arriving
//! meanwhile cannot take it ("no barging"). Dropping a pending future, for example when its
//! task is cancelled or a [`timeout`](crate::timeout) fires, loses nothing: an item, permit,
//! lock or notification granted to it passes to the next waiter. Each async method states
//! its cancel safety in a `# Cancel safety` section.
//!
//! # Threads and other executors
//!
//! Every type here is `Send + Sync` (for `Send` data) and works with any waker, so it can be
//! shared with threads and used under other executors too. The waiter lists are plain
//! indices in a slab behind a `std::sync::Mutex` that is never held across user code or a
//! wake; this module contains no `unsafe` code (`#![forbid(unsafe_code)]`).

#![forbid(unsafe_code)]

mod barrier;
mod condition;
mod event;
mod lock;
mod queue;
mod semaphore;
mod waiters;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrier};
pub use condition::Condition;
pub use event::Event;
pub use lock::{Lock, LockGuard, TryLockError};
pub use queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError, TryGetError, TryPutError,
};
pub use semaphore::{BoundedSemaphore, Permit, ReleaseError, Semaphore, TryAcquireError};

/// The futures returned by the async methods of this module's types.
pub mod futures {
    pub use super::barrier::BarrierWait;
    pub use super::condition::{Wait, WaitFor};
    pub use super::event::EventWait;
    pub use super::lock::Acquire as LockFuture;
    pub use super::queue::{Get, Join, Put};
    pub use super::semaphore::Acquire;
}

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a primitive's state. Nothing user-supplied runs under these locks, so a poisoned
/// one still holds consistent state.
fn lock_state<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Panics if the caller is on a bucle loop thread, where parking would freeze every task.
#[track_caller]
fn assert_not_on_loop(what: &str, instead: &str) {
    if crate::Handle::try_current().is_ok() {
        panic!(
            "`{what}` was called on a bucle event loop thread, where blocking would freeze every \
             task of the loop; use `{instead}` in async code, and keep `{what}` for other \
             threads (a `std::thread` or a closure given to the executor)"
        );
    }
}
