//! bucle ("loop" in Spanish) is a single-threaded async runtime with Python asyncio's model:
//! one event loop per thread runs many tasks concurrently, queues connect them, and blocking
//! work goes to a thread pool so the loop stays responsive.
//!
//! ```
//! use std::time::Duration;
//!
//! let total = bucle::run(async {
//!     let tasks: Vec<_> = (1..=3)
//!         .map(|n| bucle::spawn(async move {
//!             bucle::sleep(Duration::from_millis(n)).await;
//!             n
//!         }))
//!         .collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 6);
//! ```
//!
//! # Implementation
//!
//! The loop runs on the thread that calls [`run`] or [`Runtime::block_on`]; tasks never move
//! to another thread, so they need not be `Send`. I/O readiness comes from the `polling` crate
//! (epoll, kqueue, ...); tasks live in `async-task` allocations; wakes from other threads reach
//! the loop through a lock-free queue and one `Poller::notify`. See the [`guide`] for the
//! tutorials and the architecture notes.
//!
//! # Modules
//!
//! - [`runtime`]: [`Runtime`], [`Builder`](runtime::Builder), [`Handle`], [`run`].
//! - [`sync`]: [`Queue`](sync::Queue) and its LIFO and priority kinds, [`Lock`](sync::Lock),
//!   [`Event`](sync::Event), [`Condition`](sync::Condition), semaphores, [`Barrier`](sync::Barrier).
//! - [`task`]: [`spawn`], [`JoinHandle`](task::JoinHandle), names, cancellation, [`yield_now`].
//!   Structured concurrency ([`TaskGroup`](task::TaskGroup)), combinators
//!   ([`gather`](task::gather), [`wait`](task::wait), [`as_completed`](task::as_completed),
//!   [`select`](task::select)), introspection ([`task::all`], [`Handle::dump`]).
//! - [`time`]: [`sleep`], [`timeout`], intervals, `call_later`, the paused clock for tests
//!   ([`time::advance`]).
//! - [`sync`]: queues, locks, events, conditions, semaphores, barriers with asyncio's semantics.
//! - [`offload`]: [`run_in_executor`], [`ThreadPool`], the [`Executor`](offload::Executor)
//!   trait, cancel tokens, async stdin/stdout.
//! - [`fs`]: files and directories on the executor.
//! - [`detector`]: the blocking detector: which task blocked the loop, where, and what to do.
//! - [`net`]: TCP, UDP and Unix sockets, [`lookup_host`](net::lookup_host).
//! - [`io`]: [`Async`](io::Async), readiness for any file descriptor.
//! - [`process`]: [`Command`](process::Command), subprocesses with async pipes.
//! - `hyper` (feature `hyper`): adapters that run hyper 1.x on bucle.
//! - [`signal`]: [`ctrl_c`](signal::ctrl_c) and Unix signals as streams.
//! - [`guide`]: the tutorials, each one tested.

#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod detector;
pub mod fs;
pub mod guide;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
pub mod offload;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

#[cfg(test)]
mod test_util;

pub use offload::{run_in_executor, run_in_executor_with, ThreadPool};
pub use runtime::{call_soon, run, Handle, Runtime};
pub use task::{spawn, yield_now, JoinHandle};
pub use time::{sleep, timeout};

/// Runs an `async fn main` on a bucle loop.
///
/// ```
/// #[bucle::main]
/// async fn main() {
///     bucle::sleep(std::time::Duration::from_millis(1)).await;
/// }
/// ```
pub use bucle_macros::main;

/// Runs an `async fn` test on a fresh bucle loop.
///
/// Arguments are builder settings: `#[bucle::test(start_paused = true)]` calls
/// [`Builder::start_paused(true)`](runtime::Builder::start_paused).
///
/// ```
/// #[bucle::test]
/// async fn adds() {
///     assert_eq!(bucle::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
/// # fn main() {}
/// ```
pub use bucle_macros::test;
