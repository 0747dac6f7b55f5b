//! The event loop: [`Runtime`], its [`Builder`], the thread-safe [`Handle`], and [`run`].
//!
//! One runtime is one loop on one thread. [`Runtime::block_on`] drives a future and every task
//! spawned on the loop until that future completes; dropping the runtime cancels the tasks
//! that are left and drops their futures, each exactly once.
//!
//! # Scheduling
//!
//! Tasks woken on the loop thread go on a local FIFO queue (no atomics, no locks); tasks woken
//! on other threads go through a lock-free remote queue and wake the loop with one
//! `Poller::notify` when it is parked. Each tick runs at most
//! [`Builder::event_interval`] tasks (128 by default) before it polls I/O, fires timers and
//! takes remote work, so tasks that keep waking themselves cannot starve I/O or timers.

use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod reactor;
pub(crate) mod timers;

use self::core::{Config, Core, Remote, Shared, DEFAULT_EVENT_INTERVAL};

/// How long dropping a runtime waits for offloaded calls by default.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
use crate::task::JoinHandle;

/// Runs `future` to completion on a new loop, like Python's `asyncio.run`.
///
/// Builds a [`Runtime`] with default settings, drives `future` on it, then shuts the loop
/// down: tasks still running are cancelled and their futures dropped. A panic inside
/// `future` propagates to the caller (after the shutdown).
///
/// # Panics
///
/// If this thread is already running a bucle loop (use `.await` or [`spawn`](crate::spawn)
/// instead), or if the operating system refuses to create the poller.
///
/// ```
/// let answer = bucle::run(async {
///     let task = bucle::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => panic!("bucle::run could not create the event loop: {err}"),
    };
    runtime.enter_block_on(future, "bucle::run")
}

/// An event loop.
///
/// `Runtime` is not `Send`: its loop and its tasks belong to the thread that built it. Use
/// [`Runtime::handle`] to reach it from other threads.
///
/// ```
/// let rt = bucle::Runtime::new().unwrap();
/// let task = rt.spawn(async { 1 });
/// assert_eq!(rt.block_on(task).unwrap(), 1);
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

impl Runtime {
    /// A runtime with default settings.
    ///
    /// # Errors
    ///
    /// The operating system's error if the poller (epoll, kqueue...) cannot be created, for
    /// example when the process is out of file descriptors.
    ///
    /// ```
    /// let rt = bucle::Runtime::new()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().event_interval(64).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs the loop until `future` completes and returns its output.
    ///
    /// Tasks spawned on the loop run while `future` is pending. Tasks still running when it
    /// completes stay on the loop: the next `block_on` continues them, and dropping the
    /// runtime cancels them.
    ///
    /// # Panics
    ///
    /// If this thread is already running a bucle loop: a loop cannot block inside itself.
    /// Panics inside `future` propagate.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.enter_block_on(future, "Runtime::block_on")
    }

    #[track_caller]
    fn enter_block_on<F: Future>(&self, future: F, what: &str) -> F::Output {
        let output = self.enter_block_on_unchecked(future, what);
        if let Some(report) = self.core.detector.take_denied() {
            panic!(
                "{what} ran code that blocked the event loop, and the detector is at `deny`:\n\n\
                 {report}\nuse `Runtime::run_checked` to get the report as a value, or \
                 BUCLE_BLOCKING=warn to only warn"
            );
        }
        output
    }

    /// `block_on` without the `deny` check: the detector's findings stay in the runtime.
    #[track_caller]
    fn enter_block_on_unchecked<F: Future>(&self, future: F, what: &str) -> F::Output {
        let _guard = context::enter(self.core.clone(), what);
        let detector = &self.core.detector;
        detector.enter_block_on(std::panic::Location::caller());
        struct Exit<'a>(&'a crate::detector::Detector);
        impl Drop for Exit<'_> {
            fn drop(&mut self) {
                self.0.exit_block_on();
            }
        }
        let _exit = Exit(detector);
        self.core.block_on(future)
    }

    /// Like [`block_on`](Self::block_on), but a finding of the blocking detector at
    /// [`Level::Deny`](crate::detector::Level::Deny) comes back as `Err` (the first one) once
    /// `future` has completed, instead of a panic: for custom test harnesses and tools.
    ///
    /// # Errors
    ///
    /// The first [`BlockingReport`](crate::detector::BlockingReport) at `deny` made while
    /// `future` ran. The output of `future` is lost in that case.
    ///
    /// # Panics
    ///
    /// As [`block_on`](Self::block_on), except for the detector.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .blocking(bucle::detector::Level::Deny)
    ///     .blocking_threshold(Duration::from_millis(10))
    ///     .blocking_print(false)
    ///     .build()?;
    /// let err = rt
    ///     .run_checked(async { std::thread::sleep(Duration::from_millis(50)) })
    ///     .unwrap_err();
    /// assert!(err.duration() >= Duration::from_millis(10));
    /// assert!(rt.run_checked(async { 1 }).is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    // The report is large, but it is the rare, cold outcome; boxing it would only make
    // callers unbox it.
    #[allow(clippy::result_large_err)]
    pub fn run_checked<F: Future>(
        &self,
        future: F,
    ) -> Result<F::Output, crate::detector::BlockingReport> {
        let output = self.enter_block_on_unchecked(future, "Runtime::run_checked");
        match self.core.detector.take_denied() {
            Some(report) => Err(report),
            None => Ok(output),
        }
    }

    /// Every finding of the blocking detector on this runtime so far, deduplicated by lint
    /// and site ([`count`](crate::detector::BlockingReport::count) says how many times each
    /// fired). Empty when the detector is off.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// rt.block_on(async { bucle::yield_now().await });
    /// assert!(rt.blocking_reports().is_empty());
    /// ```
    pub fn blocking_reports(&self) -> Vec<crate::detector::BlockingReport> {
        self.core.detector.reports()
    }

    /// Runs a `#[bucle::test]` body: the body's own panic first, then the detector's
    /// findings at `deny`.
    #[doc(hidden)]
    #[track_caller]
    pub fn __run_test<F: Future>(&self, future: F) -> F::Output {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.enter_block_on_unchecked(future, "#[bucle::test]")
        }));
        let denied = self.core.detector.take_denied();
        match (result, denied) {
            (Ok(output), None) => output,
            (Ok(_), Some(report)) => panic!(
                "the test blocked the event loop (the detector is at `deny` in                  #[bucle::test]):\n\n{report}\nmove the blocking call off the loop, wrap                  it in `bucle::detector::allow(..)`, or set `#[bucle::test(blocking =                  bucle::detector::Level::Warn)]`"
            ),
            (Err(payload), None) => std::panic::resume_unwind(payload),
            (Err(payload), Some(report)) => panic!(
                "{}\n\nthe test also blocked the event loop:\n\n{report}",
                crate::task::panic_message(&*payload)
            ),
        }
    }

    /// Spawns a task on this runtime's loop. It runs during the next `block_on`.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "hi" });
    /// assert_eq!(rt.block_on(task).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::task::spawn_local_on(&self.core, None, std::panic::Location::caller(), future)
    }

    /// Every started task of this loop with what it is doing; see [`Handle::dump`].
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// rt.block_on(bucle::yield_now());
    /// assert_eq!(rt.dump().tasks().len(), 1);
    /// # task.cancel();
    /// ```
    pub fn dump(&self) -> crate::task::Dump {
        crate::task::Dump::take(&self.core.shared)
    }

    /// A [`Handle`] to this loop, usable from any thread.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// std::thread::spawn(move || handle.call_soon(|| println!("on the loop")).unwrap())
    ///     .join()
    ///     .unwrap();
    /// rt.block_on(bucle::yield_now());
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.core.shared.clone(),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _guard = context::enter_for_shutdown(self.core.clone());
        self.core.shutdown();
        // Tasks are gone, so every cancel token has fired; give calls still running on the
        // executor a bounded time to finish, so that their effects (a file written, a row
        // committed) are complete when `run` returns, yet a stuck call cannot hang the exit.
        let left = self.core.wait_in_flight(self.core.config.shutdown_timeout);
        if left > 0 {
            eprintln!(
                "bucle: the loop shut down with {left} offloaded call(s) still running after \
                 the shutdown timeout ({:?}); they keep running on their pool threads\n  = \
                 help: let long closures stop early with `run_in_executor_with` and \
                 `CancelToken::is_cancelled`, or raise `Builder::shutdown_timeout`",
                self.core.config.shutdown_timeout
            );
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.core.shared.id)
            .field("tasks", &self.core.shared.registry.len())
            .field("timers", &self.core.timers.borrow().len())
            .finish()
    }
}

/// Configures a [`Runtime`].
///
/// ```
/// let rt = bucle::Runtime::builder()
///     .event_interval(256)
///     .start_paused(true)
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a runtime Builder does nothing until `build` is called"]
pub struct Builder {
    config: Config,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Default settings.
    ///
    /// ```
    /// let rt = bucle::runtime::Builder::new().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Builder {
        Builder {
            config: Config {
                event_interval: DEFAULT_EVENT_INTERVAL,
                start_paused: false,
                executor: crate::offload::ExecutorRef::default(),
                shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
                detector: crate::detector::Settings::default(),
                auto_advance: true,
                task_timing: cfg!(debug_assertions),
            },
        }
    }

    /// The settings of `#[bucle::test]`: the blocking detector at `deny` (see
    /// [`detector`](crate::detector)).
    #[doc(hidden)]
    pub fn for_test() -> Builder {
        let mut builder = Builder::new();
        builder.config.detector = crate::detector::Settings::for_test();
        builder
    }

    /// How many tasks one tick runs before it polls I/O, fires timers and takes work from
    /// other threads. Default: 128. Lower values make I/O and timers more responsive under
    /// load; higher values cost fewer syscalls per task.
    ///
    /// # Panics
    ///
    /// If `tasks` is zero: the loop would never run a task.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().event_interval(32).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn event_interval(mut self, tasks: u32) -> Builder {
        assert!(
            tasks > 0,
            "Builder::event_interval(0) would never run a task; use at least 1"
        );
        self.config.event_interval = tasks;
        self
    }

    /// Starts the loop with its clock paused, for tests: time stands still while tasks run
    /// and jumps to the next timer when the loop has nothing else to do, so an hour of
    /// timers takes milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder().start_paused(true).build()?;
    /// let real = std::time::Instant::now();
    /// rt.block_on(bucle::sleep(Duration::from_secs(3600)));
    /// assert!(real.elapsed() < Duration::from_secs(3600));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.config.start_paused = paused;
        self
    }

    /// The executor that [`run_in_executor`](crate::run_in_executor) and the one-shot
    /// [`fs`](crate::fs) functions send closures to. Default: the `blocking` crate's pool
    /// ([`BlockingPool`](crate::offload::BlockingPool)). Any [`Executor`](crate::offload::Executor)
    /// fits: a sized [`ThreadPool`](crate::offload::ThreadPool), a process-wide pool, or a
    /// closure that hands the job to rayon.
    ///
    /// ```
    /// let pool = bucle::ThreadPool::builder().threads(2).name("io").build();
    /// let rt = bucle::Runtime::builder().default_executor(pool.clone()).build()?;
    /// let name = rt.block_on(async { bucle::run_in_executor(|| {
    ///     std::thread::current().name().map(String::from)
    /// }).await });
    /// assert_eq!(name.as_deref(), Some("io-1"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn default_executor(mut self, executor: impl crate::offload::Executor) -> Builder {
        self.config.executor = crate::offload::ExecutorRef::new(executor);
        self
    }

    /// How long dropping the runtime (and the end of [`run`]) waits for offloaded calls
    /// that are still running. Default: 10 seconds. Tasks are cancelled first, so closures
    /// that check their [`CancelToken`](crate::offload::CancelToken) stop at once; a call
    /// stuck in a blocking syscall is left running on its pool thread once the timeout
    /// passes, and the shutdown returns.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .shutdown_timeout(Duration::from_millis(500))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: std::time::Duration) -> Builder {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Sets every lint of the blocking [`detector`](crate::detector) to `level`. Default:
    /// `warn` (`deny` under `#[bucle::test]`). `BUCLE_BLOCKING` overrides it.
    ///
    /// ```
    /// use bucle::detector::Level;
    ///
    /// let rt = bucle::Runtime::builder().blocking(Level::Allow).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking(mut self, level: crate::detector::Level) -> Builder {
        self.config.detector.levels = [level; 4];
        self
    }

    /// Sets the level of one lint of the blocking detector.
    ///
    /// ```
    /// use bucle::detector::{Level, Lint};
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .blocking_lint(Lint::LongTick, Level::Allow)
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_lint(
        mut self,
        lint: crate::detector::Lint,
        level: crate::detector::Level,
    ) -> Builder {
        self.config.detector.set_level(lint, level);
        self
    }

    /// How long one poll may hold the loop before it is reported. Default: 50 ms in debug
    /// builds and tests, 100 ms in release builds. `BUCLE_BLOCKING_THRESHOLD_MS` overrides it.
    ///
    /// # Panics
    ///
    /// If `threshold` is zero: every poll would be reported.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .blocking_threshold(Duration::from_millis(20))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn blocking_threshold(mut self, threshold: std::time::Duration) -> Builder {
        assert!(
            !threshold.is_zero(),
            "Builder::blocking_threshold(0) would report every poll; use at least 1 ms, or              `.blocking(Level::Allow)` to turn the detector off"
        );
        self.config.detector.threshold = threshold;
        self
    }

    /// How long one poll may run before it is reported as a `hang` (at once, while it still
    /// runs). Default: 10 s. `BUCLE_BLOCKING_HANG_MS` overrides it.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder().blocking_hang(Duration::from_secs(2)).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_hang(mut self, limit: std::time::Duration) -> Builder {
        self.config.detector.hang = limit;
        self
    }

    /// Aborts the process after printing a `hang` report (for services under a supervisor
    /// that restarts them). Default: off.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().blocking_abort_on_hang(false).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_abort_on_hang(mut self, abort: bool) -> Builder {
        self.config.detector.abort_on_hang = abort;
        self
    }

    /// How long the polls of one tick may take together before `long_tick` fires. Default:
    /// 200 ms in debug builds, 500 ms in release builds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .blocking_tick_limit(Duration::from_millis(100))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_tick_limit(mut self, limit: std::time::Duration) -> Builder {
        self.config.detector.tick_limit = limit;
        self
    }

    /// Whether stall reports carry the loop thread's stack (Linux). Default: on.
    /// `BUCLE_BLOCKING_STACK=on|off` overrides it.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().blocking_stack(false).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_stack(mut self, stack: bool) -> Builder {
        self.config.detector.stack = stack;
        self
    }

    /// How reports are printed on stderr: rustc-style text or JSON lines. Default: text.
    /// `BUCLE_BLOCKING_FORMAT=text|json` overrides it.
    ///
    /// ```
    /// use bucle::detector::Format;
    ///
    /// let rt = bucle::Runtime::builder().blocking_format(Format::Json).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_format(mut self, format: crate::detector::Format) -> Builder {
        self.config.detector.format = format;
        self
    }

    /// Whether reports are printed on stderr at all. Default: on. Reports still reach
    /// [`Runtime::blocking_reports`], the callback and `tracing`.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().blocking_print(false).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_print(mut self, print: bool) -> Builder {
        self.config.detector.print = print;
        self
    }

    /// Calls `callback` with every report: on the watchdog thread for a report made while
    /// the poll still runs ([`completed`](crate::detector::BlockingReport::completed) is
    /// false), on the loop thread for the others. A panic in it is contained.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = seen.clone();
    /// let rt = bucle::Runtime::builder()
    ///     .on_blocking(move |_report| {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.block_on(async {});
    /// assert_eq!(seen.load(Ordering::SeqCst), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_blocking<F>(mut self, callback: F) -> Builder
    where
        F: Fn(&crate::detector::BlockingReport) + Send + Sync + 'static,
    {
        self.config.detector.callback = Some(std::sync::Arc::new(callback));
        self
    }

    /// Whether a paused clock jumps to the next timer by itself when the loop is idle.
    /// Default: true. With `false`, a paused clock moves only when a task calls
    /// [`time::advance`](crate::time::advance), so a test can step time by hand and observe
    /// each state in between. A loop whose tasks all wait for timers then waits until work
    /// arrives from another thread: advance the clock from the future given to `block_on`.
    /// [`time::set_auto_advance`](crate::time::set_auto_advance) switches it at run time.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .start_paused(true)
    ///     .auto_advance(false)
    ///     .build()?;
    /// rt.block_on(async {
    ///     let sleeper = bucle::spawn(bucle::sleep(Duration::from_secs(5)));
    ///     bucle::time::advance(Duration::from_secs(4)).await;
    ///     assert!(!sleeper.is_finished());
    ///     bucle::time::advance(Duration::from_secs(1)).await;
    ///     assert!(sleeper.is_finished());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn auto_advance(mut self, on: bool) -> Builder {
        self.config.auto_advance = on;
        self
    }

    /// Whether each task poll is timed, for the busy time, longest poll and "running for"
    /// columns of [`task::all`](crate::task::all) and [`Handle::dump`]. Default: on in debug
    /// builds (tests, development), off in release builds. It costs two reads of the
    /// monotonic clock per poll, which roughly doubles the loop's own cost for a poll that
    /// does nothing (about 80 ns on a typical Linux machine); state, poll counts and awaited
    /// tasks are kept either way.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().task_timing(false).build()?;
    /// let busy = rt.block_on(async { bucle::spawn(async { bucle::task::current().busy() }).await });
    /// assert_eq!(busy.unwrap(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn task_timing(mut self, on: bool) -> Builder {
        self.config.task_timing = on;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// The operating system's error if the poller cannot be created.
    ///
    /// ```
    /// let rt = bucle::Runtime::builder().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&self) -> io::Result<Runtime> {
        let mut config = self.config.clone();
        // The environment wins over code, so CI can switch the detector without edits.
        config.detector.apply_env();
        Ok(Runtime {
            core: Rc::new(Core::new(config)?),
        })
    }
}

/// A thread-safe reference to a loop: spawn `Send` futures on it and run closures on it from
/// any thread.
///
/// ```
/// let rt = bucle::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 2 + 2 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 4);
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    ///
    /// If no bucle loop runs on this thread; [`Handle::try_current`] returns an error instead.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::Handle::current();
    /// # let _ = handle;
    /// # });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        context::expect_current("`Handle::current`", |core| Handle {
            shared: core.shared.clone(),
        })
    }

    /// The handle of the loop running on this thread, or an error if there is none.
    ///
    /// ```
    /// assert!(bucle::Handle::try_current().is_err());
    /// bucle::run(async { assert!(bucle::Handle::try_current().is_ok()) });
    /// ```
    pub fn try_current() -> Result<Handle, NoLoop> {
        context::with_current(|core| {
            core.map(|core| Handle {
                shared: core.shared.clone(),
            })
            .ok_or(NoLoop(()))
        })
    }

    /// Spawns a `Send` future on the loop, from any thread.
    ///
    /// # Errors
    ///
    /// [`LoopClosed`] if the loop has shut down; the future is dropped.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let task = handle.spawn(async { 7 }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 7);
    /// drop(rt);
    /// assert!(handle.spawn(async {}).is_err());
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, LoopClosed>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        crate::task::spawn_send_on(&self.shared, None, std::panic::Location::caller(), future)
    }

    /// Runs `callback` on the loop at its next turn, from any thread (asyncio's
    /// `call_soon_threadsafe`). A panic in the callback is reported and contained.
    ///
    /// # Errors
    ///
    /// [`LoopClosed`] if the loop has shut down; the callback is dropped without running.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let rt = bucle::Runtime::new().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = ran.clone();
    /// rt.handle().call_soon(move || flag.store(true, Ordering::SeqCst)).unwrap();
    /// rt.block_on(bucle::yield_now());
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    pub fn call_soon<F>(&self, callback: F) -> Result<(), LoopClosed>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.shared.is_closed() {
            return Err(LoopClosed(()));
        }
        self.shared
            .push_remote(Remote::Call(Box::new(callback)))
            .map_err(|_| LoopClosed(()))
    }

    /// True once the loop has shut down: nothing sent to it will run.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// assert!(!handle.is_closed());
    /// drop(rt);
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Every started task of the loop with what it is doing: id, name, spawn site, state,
    /// polls, busy time, longest poll, the task it awaits. `Display` prints it as a table,
    /// [`Dump::tree`](crate::task::Dump::tree) as a tree.
    ///
    /// Callable from any thread, and it does not need the loop's help: a dump taken while
    /// the loop thread is stuck in a blocking call shows the stuck task as `running` and
    /// for how long. It takes a lock the loop holds only when a task starts or finishes.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// rt.block_on(bucle::yield_now());
    /// let text = std::thread::spawn(move || handle.dump().to_string()).join().unwrap();
    /// assert!(text.contains("idle"));
    /// # task.cancel();
    /// ```
    pub fn dump(&self) -> crate::task::Dump {
        crate::task::Dump::take(&self.shared)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Queues `callback` to run on the current loop at its next turn (asyncio's `call_soon`).
/// Callbacks run in the order they were queued; a panic in one is reported and contained.
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// # bucle::run(async {
/// let hits = Rc::new(Cell::new(0));
/// let h = hits.clone();
/// bucle::call_soon(move || h.set(h.get() + 1));
/// assert_eq!(hits.get(), 0);
/// bucle::yield_now().await;
/// assert_eq!(hits.get(), 1);
/// # });
/// ```
#[track_caller]
pub fn call_soon<F: FnOnce() + 'static>(callback: F) {
    context::expect_current("`bucle::call_soon`", |core| {
        core.call_soon(Box::new(callback))
    });
}

/// The loop has shut down; nothing more can run on it.
///
/// ```
/// let rt = bucle::Runtime::new().unwrap();
/// let handle = rt.handle();
/// drop(rt);
/// let err = handle.call_soon(|| {}).unwrap_err();
/// assert_eq!(err.to_string(), "the bucle event loop has shut down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopClosed(pub(crate) ());

impl fmt::Display for LoopClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the bucle event loop has shut down")
    }
}

impl std::error::Error for LoopClosed {}

/// No bucle loop is running on this thread.
///
/// ```
/// let err = bucle::Handle::try_current().unwrap_err();
/// assert!(err.to_string().contains("no bucle event loop"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoLoop(pub(crate) ());

impl fmt::Display for NoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no bucle event loop is running on this thread")
    }
}

impl std::error::Error for NoLoop {}
