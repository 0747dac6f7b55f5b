//! Blocking work belongs in the executor: [`run_in_executor`] runs a closure on a thread
//! pool and gives its result back to the awaiting task, while the loop keeps running the
//! others (asyncio's `loop.run_in_executor(None, f)`).
//!
//! ```
//! use std::time::Duration;
//!
//! # bucle::run(async {
//! // A blocking call (a synchronous database driver, a CPU-heavy parse...) would stall every
//! // task on the loop; offloaded, it only makes its own task wait.
//! let answer = bucle::run_in_executor(|| {
//!     std::thread::sleep(Duration::from_millis(20));
//!     42
//! })
//! .await;
//! assert_eq!(answer, 42);
//! # });
//! ```
//!
//! - [`run_in_executor`] / [`run_in_executor_with`]: on the loop's default executor, the
//!   `blocking` crate's pool unless [`Builder::default_executor`](crate::runtime::Builder::default_executor)
//!   set another. `_with` hands the closure a [`CancelToken`] that turns true when the caller
//!   gives up.
//! - [`ThreadPool`]: a sized, named pool of your own; [`ThreadPool::run`] can be awaited
//!   anywhere, even outside a loop. Introspection: threads, busy, queued.
//! - [`Executor`]: plug any pool in (rayon, a process-wide pool) with one method.
//! - [`stdin`] / [`stdout`]: the process's standard streams as `futures-io` types.
//!
//! # Panics in offloaded closures
//!
//! A panic in the closure is caught on the pool thread (the pool is never poisoned, its
//! thread lives on) and resumed in the awaiting task as an [`OffloadPanic`], whose message
//! names the call site of the offloaded call and the closure's message. A task that awaited
//! the call then ends with [`JoinError::Panicked`](crate::task::JoinError::Panicked), which
//! also names the task: both the task and the call are in the report.
//!
//! # Shutdown
//!
//! Dropping the runtime (and the end of [`run`](crate::run)) cancels the tasks, which
//! cancels their tokens, then waits for calls still running, up to
//! [`Builder::shutdown_timeout`](crate::runtime::Builder::shutdown_timeout) (10 s by
//! default). A call stuck in a blocking syscall never hangs the shutdown: after the timeout
//! it is left to finish on its pool thread.
//!
//! # The paused clock
//!
//! While a call made on a loop is in flight, that loop's paused clock does not jump ahead
//! (see [`Builder::start_paused`](crate::runtime::Builder::start_paused)): a test that
//! offloads a 50 ms call and sleeps 10 s on the loop sees the call finish first, as in a
//! real run.

use std::any::TypeId;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

mod call;
mod pool;
mod stdio;
pub(crate) mod track;

pub use call::{CancelToken, Cancelled, Job, Offload, OffloadPanic};
pub use pool::{PoolStats, ThreadPool, ThreadPoolBuilder};
pub use stdio::{stdin, stdout, Stdin, Stdout};

use crate::runtime::context;

/// A place to run [`Job`]s: a thread pool.
///
/// Implement it to plug your own pool in with
/// [`Builder::default_executor`](crate::runtime::Builder::default_executor). Closures
/// `Fn(Job)` are executors too, which is all rayon needs:
/// `.default_executor(|job: Job| rayon::spawn(move || job.run()))`.
///
/// An executor must run every job exactly once, on a thread that is not the loop's, and must
/// not run it inside `execute` (the loop is calling). A job never panics.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use bucle::offload::{Executor, Job};
///
/// /// Counts jobs, then hands them to the `blocking` crate's pool.
/// struct Counting(AtomicUsize);
///
/// impl Executor for Counting {
///     fn execute(&self, job: Job) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///         bucle::offload::BlockingPool.execute(job);
///     }
/// }
///
/// let rt = bucle::Runtime::builder()
///     .default_executor(Counting(AtomicUsize::new(0)))
///     .build()?;
/// assert_eq!(rt.block_on(async { bucle::run_in_executor(|| 5).await }), 5);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Executor: Send + Sync + 'static {
    /// Runs `job` soon, on another thread.
    fn execute(&self, job: Job);

    /// Threads, busy threads and queued jobs, if the pool keeps count. Default: `None`.
    ///
    /// ```
    /// use bucle::offload::Executor;
    /// assert!(bucle::offload::BlockingPool.stats().is_none());
    /// ```
    fn stats(&self) -> Option<PoolStats> {
        None
    }
}

impl<F: Fn(Job) + Send + Sync + 'static> Executor for F {
    fn execute(&self, job: Job) {
        self(job)
    }
}

/// The default executor: the `blocking` crate's process-wide pool (the one smol uses), which
/// grows to 500 threads under load (`BLOCKING_MAX_THREADS` changes that) and lets idle
/// threads go after a second.
///
/// ```
/// use bucle::offload::BlockingPool;
///
/// let rt = bucle::Runtime::builder().default_executor(BlockingPool).build()?;
/// assert_eq!(rt.block_on(async { bucle::run_in_executor(|| "pooled").await }), "pooled");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockingPool;

impl Executor for BlockingPool {
    fn execute(&self, job: Job) {
        blocking::unblock(move || job.run()).detach();
    }
}

/// The loop's default executor, as its config holds it.
#[derive(Clone)]
pub(crate) struct ExecutorRef {
    executor: Arc<dyn Executor>,
    /// The executor is [`BlockingPool`]: calls skip the `Job` and go to the pool directly.
    is_blocking_pool: bool,
}

impl ExecutorRef {
    pub(crate) fn new<E: Executor>(executor: E) -> ExecutorRef {
        ExecutorRef {
            is_blocking_pool: TypeId::of::<E>() == TypeId::of::<BlockingPool>(),
            executor: Arc::new(executor),
        }
    }
}

impl Default for ExecutorRef {
    fn default() -> Self {
        ExecutorRef::new(BlockingPool)
    }
}

impl fmt::Debug for ExecutorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Executor")
    }
}

/// Runs the blocking closure `f` on the loop's default executor and returns a future of its
/// value. The loop keeps running other tasks meanwhile.
///
/// The call is submitted at once, not when the future is first polled. A panic in `f`
/// resumes in the awaiting task as an [`OffloadPanic`] naming this call site; it never
/// hangs the caller and never poisons the pool. Use [`run_in_executor_with`] when `f` runs
/// long and should stop once its caller is gone.
///
/// # Panics
///
/// If no bucle loop runs on this thread: from a plain thread, call the blocking code
/// directly, or await a [`ThreadPool::run`] (which works anywhere).
///
/// # Cancel safety
///
/// Dropping the returned future cancels the call: it never starts if it has not yet, and
/// its result is dropped if it has.
///
/// ```
/// # bucle::run(async {
/// let text = bucle::run_in_executor(|| std::fs::read_to_string("Cargo.toml")).await;
/// assert!(text.unwrap().contains("[package]"));
/// # });
/// ```
#[track_caller]
pub fn run_in_executor<F, T>(f: F) -> Offload<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    submit_default(move |_: &CancelToken| f(), Location::caller())
}

/// Like [`run_in_executor`], and the closure gets a [`CancelToken`]: it turns cancelled
/// when the awaiting future is dropped, its task is cancelled or its loop shuts down, so
/// long blocking loops can stop early.
///
/// # Panics
///
/// If no bucle loop runs on this thread; see [`run_in_executor`].
///
/// # Cancel safety
///
/// Dropping the returned future cancels the call and its token.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// // Gives up after 20 ms; the closure notices and stops rather than running on.
/// let search = bucle::run_in_executor_with(|token| {
///     let mut tried = 0u64;
///     while !token.is_cancelled() {
///         tried += 1;
///         std::thread::sleep(Duration::from_millis(1));
///     }
///     tried
/// });
/// assert!(bucle::timeout(Duration::from_millis(20), search).await.is_err());
/// # });
/// ```
#[track_caller]
pub fn run_in_executor_with<F, T>(f: F) -> Offload<T>
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    submit_default(f, Location::caller())
}

#[track_caller]
fn submit_default<F, T>(f: F, called_at: &'static Location<'static>) -> Offload<T>
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let (shared, executor) = context::expect_current("`bucle::run_in_executor`", |core| {
        (core.shared.clone(), core.config.executor.clone())
    });
    if executor.is_blocking_pool {
        return call::submit_to_blocking_pool(f, called_at, Some(shared));
    }
    let (job, offload) = call::prepare(f, called_at, Some(shared));
    executor.executor.execute(job);
    offload
}

/// How many offloaded calls made on the current loop are still running, including calls
/// whose caller has given up but whose closure has not returned yet.
///
/// # Panics
///
/// If no bucle loop runs on this thread.
///
/// ```
/// # bucle::run(async {
/// assert_eq!(bucle::offload::in_flight(), 0);
/// let (release, gate) = std::sync::mpsc::channel::<()>();
/// let call = bucle::run_in_executor(move || gate.recv().unwrap());
/// assert_eq!(bucle::offload::in_flight(), 1);
/// release.send(()).unwrap();
/// call.await;
/// # });
/// ```
#[track_caller]
pub fn in_flight() -> usize {
    context::expect_current("`bucle::offload::in_flight`", |core| {
        core.shared
            .in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    })
}

/// Submits to `executor`, counting the call on the current loop if there is one.
pub(crate) fn submit_to<F, T>(
    executor: &dyn Executor,
    f: F,
    called_at: &'static Location<'static>,
) -> Offload<T>
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let counted_on = context::with_current(|core| core.map(|core| core.shared.clone()));
    let (job, offload) = call::prepare(f, called_at, counted_on);
    executor.execute(job);
    offload
}
