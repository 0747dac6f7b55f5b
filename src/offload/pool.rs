//! [`ThreadPool`]: a sized, named pool of threads with a FIFO job queue.
//!
//! Threads start lazily, one per job that finds no idle thread, up to the limit; a thread
//! idle for `keep_alive` exits. Jobs never panic (the call layer catches panics), so a
//! thread never dies with a job and the queue's lock is never held while a job runs.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::panic::Location;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::{CancelToken, Executor, Job, Offload};

/// Default time an idle pool thread waits for work before it exits.
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A pool of threads for blocking work, with a bound on how many run at once.
///
/// Cloning gives another handle to the same pool. When the last handle is dropped, the
/// threads finish the queued jobs and exit.
///
/// Size it for the resource behind it: a pool of 8 in front of a database that accepts 8
/// connections, one per core for CPU work. The queue is unbounded: calls beyond the
/// limit wait their turn in FIFO order.
///
/// ```
/// # bucle::run(async {
/// let db = bucle::ThreadPool::builder().threads(4).name("db").build();
/// let row = db.run(|| "SELECT 1 -> 1").await;
/// assert_eq!(row, "SELECT 1 -> 1");
/// assert!(db.threads() <= 4);
/// # });
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    handle: Arc<PoolHandle>,
}

/// Closes the pool when the last [`ThreadPool`] goes.
struct PoolHandle {
    pool: Arc<Pool>,
}

struct Pool {
    name: Arc<str>,
    max_threads: usize,
    keep_alive: Duration,
    stack_size: Option<usize>,
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool closes.
    work: Condvar,
}

struct State {
    queue: VecDeque<Job>,
    /// Live threads.
    threads: usize,
    /// Threads waiting for work (a notified thread counts until it takes the lock).
    idle: usize,
    /// Threads running a job.
    busy: usize,
    /// No handle is left: threads exit once the queue is empty.
    closed: bool,
    /// For thread names.
    spawned: usize,
}

impl ThreadPool {
    /// A [`ThreadPoolBuilder`].
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().threads(2).build();
    /// assert_eq!(pool.max_threads(), 2);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::default()
    }

    /// A pool with one thread per core and the name `bucle-pool`.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::new();
    /// assert!(pool.max_threads() >= 1);
    /// ```
    pub fn new() -> ThreadPool {
        ThreadPool::builder().build()
    }

    /// Runs `f` on this pool and returns a future of its value. Unlike
    /// [`run_in_executor`](crate::run_in_executor), this can be awaited anywhere: on a bucle
    /// loop (where the call counts as in flight for the paused clock and shutdown), or under
    /// any other executor.
    ///
    /// The call is submitted at once; a panic in `f` resumes in the awaiting task as an
    /// [`OffloadPanic`](super::OffloadPanic) and leaves the pool usable.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call: a queued call never starts.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().threads(1).build();
    /// // No loop needed:
    /// assert_eq!(futures::executor::block_on(pool.run(|| 6 * 7)), 42);
    /// ```
    #[track_caller]
    pub fn run<F, T>(&self, f: F) -> Offload<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        super::submit_to(self, move |_: &CancelToken| f(), Location::caller())
    }

    /// Like [`ThreadPool::run`], and the closure gets a [`CancelToken`] that turns cancelled
    /// when the caller gives up.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the call and its token.
    ///
    /// ```
    /// # bucle::run(async {
    /// let pool = bucle::ThreadPool::builder().threads(1).build();
    /// let sum = pool.run_with(|token| (0..10u32).take_while(|_| !token.is_cancelled()).sum::<u32>());
    /// assert_eq!(sum.await, 45);
    /// # });
    /// ```
    #[track_caller]
    pub fn run_with<F, T>(&self, f: F) -> Offload<T>
    where
        F: FnOnce(&CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        super::submit_to(self, f, Location::caller())
    }

    /// The most threads this pool runs at once.
    ///
    /// ```
    /// assert_eq!(bucle::ThreadPool::builder().threads(3).build().max_threads(), 3);
    /// ```
    pub fn max_threads(&self) -> usize {
        self.handle.pool.max_threads
    }

    /// The pool's name; its threads are named `<name>-1`, `<name>-2`, ...
    ///
    /// ```
    /// assert_eq!(bucle::ThreadPool::builder().name("db").build().name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        &self.handle.pool.name
    }

    /// Threads alive now (started lazily, so 0 before the first call).
    ///
    /// ```
    /// assert_eq!(bucle::ThreadPool::new().threads(), 0);
    /// ```
    pub fn threads(&self) -> usize {
        self.handle.pool.lock().threads
    }

    /// Threads running a job now.
    ///
    /// ```
    /// assert_eq!(bucle::ThreadPool::new().busy(), 0);
    /// ```
    pub fn busy(&self) -> usize {
        self.handle.pool.lock().busy
    }

    /// Jobs waiting for a thread.
    ///
    /// ```
    /// assert_eq!(bucle::ThreadPool::new().queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.handle.pool.lock().queue.len()
    }

    /// Threads, busy threads and queued jobs, read together.
    ///
    /// ```
    /// let stats = bucle::ThreadPool::new().stats();
    /// assert_eq!((stats.threads, stats.busy, stats.queued), (0, 0, 0));
    /// ```
    pub fn stats(&self) -> PoolStats {
        let state = self.handle.pool.lock();
        PoolStats {
            threads: state.threads,
            busy: state.busy,
            queued: state.queue.len(),
        }
    }
}

impl Default for ThreadPool {
    fn default() -> Self {
        ThreadPool::new()
    }
}

impl Executor for ThreadPool {
    fn execute(&self, job: Job) {
        self.handle.pool.submit(job);
    }

    fn stats(&self) -> Option<PoolStats> {
        Some(ThreadPool::stats(self))
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        f.debug_struct("ThreadPool")
            .field("name", &self.name())
            .field("max_threads", &self.max_threads())
            .field("threads", &stats.threads)
            .field("busy", &stats.busy)
            .field("queued", &stats.queued)
            .finish()
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.pool.lock().closed = true;
        self.pool.work.notify_all();
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and never panic; a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn submit(self: &Arc<Pool>, job: Job) {
        let mut state = self.lock();
        state.queue.push_back(job);
        // Enough idle threads for every queued job: wake one. Otherwise start a thread if
        // the limit allows; at the limit the job waits for the next free thread.
        if state.idle >= state.queue.len() {
            drop(state);
            self.work.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            state.spawned += 1;
            let name = format!("{}-{}", self.name, state.spawned);
            drop(state);
            let mut builder = std::thread::Builder::new().name(name);
            if let Some(size) = self.stack_size {
                builder = builder.stack_size(size);
            }
            let pool = self.clone();
            if let Err(err) = builder.spawn(move || pool.work_loop()) {
                let mut state = self.lock();
                state.threads -= 1;
                if state.threads == 0 {
                    // Nobody will ever run these: drop them so their callers are told.
                    let orphans = std::mem::take(&mut state.queue);
                    drop(state);
                    eprintln!(
                        "bucle: thread pool {:?} could not start a thread: {err}; {} queued \
                         call(s) fail",
                        self.name,
                        orphans.len()
                    );
                    drop(orphans);
                }
            }
        } else {
            drop(state);
            self.work.notify_one();
        }
    }

    fn work_loop(self: Arc<Pool>) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                state.busy += 1;
                drop(state);
                job.run();
                state = self.lock();
                state.busy -= 1;
                continue;
            }
            if state.closed {
                break;
            }
            state.idle += 1;
            let (guard, wait) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state = guard;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

/// Configures a [`ThreadPool`].
///
/// ```
/// use std::time::Duration;
///
/// let pool = bucle::ThreadPool::builder()
///     .threads(8)
///     .name("db")
///     .keep_alive(Duration::from_secs(30))
///     .build();
/// assert_eq!(pool.max_threads(), 8);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a ThreadPoolBuilder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    threads: Option<NonZeroUsize>,
    name: Arc<str>,
    keep_alive: Duration,
    stack_size: Option<usize>,
}

impl Default for ThreadPoolBuilder {
    fn default() -> Self {
        ThreadPoolBuilder {
            threads: None,
            name: Arc::from("bucle-pool"),
            keep_alive: DEFAULT_KEEP_ALIVE,
            stack_size: None,
        }
    }
}

impl ThreadPoolBuilder {
    /// The most threads that run jobs at once. Default: the number of cores
    /// (`std::thread::available_parallelism`).
    ///
    /// # Panics
    ///
    /// If `n` is zero: no job would ever run.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().threads(16).build();
    /// assert_eq!(pool.max_threads(), 16);
    /// ```
    #[track_caller]
    pub fn threads(mut self, n: usize) -> ThreadPoolBuilder {
        match NonZeroUsize::new(n) {
            Some(n) => self.threads = Some(n),
            None => {
                panic!("ThreadPool::builder().threads(0) would never run a job; use at least 1")
            }
        }
        self
    }

    /// Names the pool; threads are named `<name>-1`, `<name>-2`, ... Default: `bucle-pool`.
    ///
    /// ```
    /// # bucle::run(async {
    /// let pool = bucle::ThreadPool::builder().name("db").threads(1).build();
    /// let name = pool.run(|| std::thread::current().name().map(String::from)).await;
    /// assert_eq!(name.as_deref(), Some("db-1"));
    /// # });
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> ThreadPoolBuilder {
        self.name = name.into();
        self
    }

    /// How long an idle thread waits for work before it exits. Default: 10 seconds.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder()
    ///     .keep_alive(std::time::Duration::from_millis(100))
    ///     .build();
    /// # drop(pool);
    /// ```
    pub fn keep_alive(mut self, idle: Duration) -> ThreadPoolBuilder {
        self.keep_alive = idle;
        self
    }

    /// Stack size of the pool's threads, in bytes. Default: Rust's default (2 MiB).
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().stack_size(256 * 1024).build();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> ThreadPoolBuilder {
        self.stack_size = Some(bytes);
        self
    }

    /// Builds the pool. No thread starts until the first call.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().build();
    /// assert_eq!(pool.threads(), 0);
    /// ```
    pub fn build(&self) -> ThreadPool {
        let max_threads = self
            .threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        ThreadPool {
            handle: Arc::new(PoolHandle {
                pool: Arc::new(Pool {
                    name: self.name.clone(),
                    max_threads,
                    keep_alive: self.keep_alive,
                    stack_size: self.stack_size,
                    state: Mutex::new(State {
                        queue: VecDeque::new(),
                        threads: 0,
                        idle: 0,
                        busy: 0,
                        closed: false,
                        spawned: 0,
                    }),
                    work: Condvar::new(),
                }),
            }),
        }
    }
}

/// A snapshot of a pool's load.
///
/// ```
/// let pool = bucle::ThreadPool::new();
/// let stats = pool.stats();
/// assert_eq!(stats.busy + stats.queued, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Threads alive.
    pub threads: usize,
    /// Threads running a job.
    pub busy: usize,
    /// Jobs waiting for a thread.
    pub queued: usize,
}
