//! Tasks: spawning, names, handles, cancellation and cooperative yielding.
//!
//! A task is a future the loop owns and polls whenever it is woken. Tasks run concurrently on
//! the loop's one thread: while one waits (for a timer, a socket, a queue), the others run.
//! Spawned futures need not be `Send`.
//!
//! ```
//! # bucle::run(async {
//! let worker = bucle::task::Builder::new()
//!     .name("worker")
//!     .spawn(async { "done" });
//! assert_eq!(worker.name(), Some("worker"));
//! assert_eq!(worker.await.unwrap(), "done");
//! # });
//! ```

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

mod combinators;
pub(crate) mod dump;
mod group;
mod join;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod stats;

pub use combinators::{
    as_completed, gather, join_all, select, shield, wait, AsCompleted, Done, Either, Gather,
    JoinAll, ReturnWhen, Select, Wait,
};
pub use dump::Dump;
pub use group::{Failure, SpawnError, TaskGroup, TaskGroupError};
pub use join::{JoinError, JoinHandle, Panic};
pub use stats::TaskState;

use crate::detector::TaskBlocking;
use crate::runtime::context;
use crate::runtime::core::{schedule, Core, Shared};
use raw::{Meta, TaskFuture};

/// A task's id: unique among all tasks of the process, never reused.
///
/// ```
/// # bucle::run(async {
/// let handle = bucle::spawn(async { bucle::task::current().id() });
/// let id = handle.id();
/// assert_eq!(handle.await.unwrap(), id);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(NonZeroU64);

/// The next block of ids to hand out; each thread takes [`ID_BLOCK`] at a time.
static NEXT_TASK_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

/// Ids a thread takes from [`NEXT_TASK_ID_BLOCK`] at once, so that a spawn makes no atomic
/// read-modify-write (a shared counter would cost one per task).
const ID_BLOCK: u64 = 1024;

thread_local! {
    /// The ids left in this thread's block: the next one, and the end of the block.
    static TASK_IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl Id {
    /// A new id: unique in the process, and increasing among the ids made on one thread.
    #[inline]
    pub(crate) fn next() -> Id {
        let id = TASK_IDS
            .try_with(|ids| {
                let (mut next, mut end) = ids.get();
                if next == end {
                    next = NEXT_TASK_ID_BLOCK.fetch_add(ID_BLOCK, Ordering::Relaxed);
                    end = next + ID_BLOCK;
                }
                ids.set((next + 1, end));
                next
            })
            // A thread being torn down takes a block of one.
            .unwrap_or_else(|_| NEXT_TASK_ID_BLOCK.fetch_add(1, Ordering::Relaxed));
        // Starts at 1; wrapping around would take centuries of spawning.
        Id::from_u64(id).expect("task ids never wrap")
    }

    /// The id numbered `id`; `None` for 0, which no task has (so `Option<Id>` is one word).
    pub(crate) fn from_u64(id: u64) -> Option<Id> {
        NonZeroU64::new(id).map(Id)
    }

    /// The id as a number.
    ///
    /// ```
    /// # bucle::run(async {
    /// assert!(bucle::spawn(async {}).id().as_u64() > 0);
    /// # });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Spawns a task on the current loop and returns its [`JoinHandle`].
///
/// The future starts running at the loop's next turn, not inside `spawn`. It need not be
/// `Send`: it never leaves the loop thread. The call site is recorded and shows up in panic
/// reports and task listings.
///
/// # Panics
///
/// If no bucle loop is running on this thread. From other threads, use
/// [`Handle::spawn`](crate::Handle::spawn).
///
/// ```
/// use std::rc::Rc;
///
/// # bucle::run(async {
/// let shared = Rc::new(5); // not Send, and that is fine
/// let handle = bucle::spawn({
///     let shared = shared.clone();
///     async move { *shared * 2 }
/// });
/// assert_eq!(handle.await.unwrap(), 10);
/// # });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}

/// Configures a task before spawning it: for now, its name.
///
/// ```
/// # bucle::run(async {
/// let handle = bucle::task::Builder::new()
///     .name("fetch")
///     .spawn(async { bucle::task::current().name().map(String::from) });
/// assert_eq!(handle.await.unwrap().as_deref(), Some("fetch"));
/// # });
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a task Builder does nothing until `spawn` is called"]
pub struct Builder {
    name: Option<Arc<str>>,
    blocking: TaskBlocking,
}

impl Builder {
    /// A builder with default settings.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new().spawn(async { 1 });
    /// assert_eq!(handle.await.unwrap(), 1);
    /// # });
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task. The name shows in [`JoinHandle::name`], [`current`], panic reports and
    /// task listings.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new().name("db").spawn(async {});
    /// assert_eq!(handle.name(), Some("db"));
    /// # });
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Lets this task block the loop: the blocking detector never reports its polls (and the
    /// loop never counts them towards `long_tick`). For a task that is *meant* to hold the
    /// thread, such as a startup step; prefer `bucle::run_in_executor` for blocking calls.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = bucle::Runtime::builder()
    ///     .blocking(bucle::detector::Level::Deny)
    ///     .blocking_threshold(Duration::from_millis(10))
    ///     .build()?;
    /// let done = rt.run_checked(async {
    ///     bucle::task::Builder::new()
    ///         .allow_blocking()
    ///         .spawn(async { std::thread::sleep(Duration::from_millis(30)) })
    ///         .await
    ///         .unwrap();
    /// });
    /// assert!(done.is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn allow_blocking(mut self) -> Builder {
        self.blocking = TaskBlocking::Allow;
        self
    }

    /// Gives this task its own blocking threshold instead of the runtime's.
    ///
    /// # Panics
    ///
    /// If `threshold` is zero: every poll would be reported. Use
    /// [`allow_blocking`](Self::allow_blocking) to never report the task.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new()
    ///     .blocking_threshold(Duration::from_millis(500))
    ///     .spawn(async { 1 });
    /// assert_eq!(handle.await.unwrap(), 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn blocking_threshold(mut self, threshold: std::time::Duration) -> Builder {
        assert!(
            !threshold.is_zero(),
            "task::Builder::blocking_threshold(0) would report every poll; use              `allow_blocking()` to never report this task"
        );
        self.blocking = TaskBlocking::Threshold(threshold);
        self
    }

    /// Spawns the task on the current loop; see [`spawn`].
    ///
    /// # Panics
    ///
    /// If no bucle loop is running on this thread.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new().name("answer").spawn(async { 42 });
    /// assert_eq!(handle.await.unwrap(), 42);
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let spawned_at = Location::caller();
        context::expect_current("`bucle::spawn`", |core| {
            spawn_local_with(core, self.name, self.blocking, spawned_at, move |_| future)
        })
    }

    /// Spawns the task on the loop behind `handle`, from any thread; see
    /// [`Handle::spawn`](crate::Handle::spawn).
    ///
    /// # Errors
    ///
    /// [`LoopClosed`](crate::runtime::LoopClosed) if that loop has shut down; the future is
    /// dropped.
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let task = std::thread::spawn(move || {
    ///     bucle::task::Builder::new().name("remote").spawn_on(async { 1 }, &handle).unwrap()
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(
        self,
        future: F,
        handle: &crate::Handle,
    ) -> Result<JoinHandle<F::Output>, crate::runtime::LoopClosed>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_send_with(
            handle.shared(),
            self.name,
            self.blocking,
            Location::caller(),
            future,
        )
    }
}

/// Creates a task on `core` from its own thread and queues it to run.
pub(crate) fn spawn_local_on<F>(
    core: &Core,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_with(core, name, TaskBlocking::Default, spawned_at, move |_| {
        future
    })
}

/// Like [`spawn_local_on`], with the task's own detector setting, for a future that may
/// need its own task's metadata (a task group child cancels itself through it).
pub(crate) fn spawn_local_with<'a, F, Make>(
    core: &Core,
    name: Option<Arc<str>>,
    blocking: TaskBlocking,
    spawned_at: &'static Location<'static>,
    make: Make,
) -> JoinHandle<F::Output>
where
    Make: FnOnce(&'a Meta) -> F + 'a,
    F: Future + 'a,
    F::Output: 'static,
{
    let parent = core.running_task_id();
    let meta = Meta::new(name, blocking, spawned_at, core.shared.clone(), parent);
    // SAFETY: `spawn_unchecked` asks that a future which is not `Send` be polled and dropped
    // only on its own thread. The runnable is only ever run by `core`'s loop, on this thread
    // (the loop is pinned here: `Runtime` is `!Send`); wakes from other threads move it
    // through the remote queue, which only the loop drains, and shutdown runs every queued
    // runnable on the loop thread so that futures are dropped there. The schedule function
    // is a plain `fn`, so it is `Send + Sync + 'static`. The future (and whatever `make`
    // builds) borrows nothing but the task's own metadata, which `async-task` keeps alive
    // for longer than the future; `F::Output` is `'static`, so the output outlives nothing.
    let (runnable, task) = unsafe {
        async_task::Builder::new()
            .metadata(meta)
            .spawn_unchecked(move |meta| TaskFuture::new(make(meta)), schedule)
    };
    core.ready.borrow_mut().push_back(runnable);
    JoinHandle::new(task)
}

/// Creates a `Send` task for the loop behind `shared`, from any thread.
pub(crate) fn spawn_send_on<F>(
    shared: &Arc<Shared>,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    future: F,
) -> Result<JoinHandle<F::Output>, crate::runtime::LoopClosed>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_send_with(shared, name, TaskBlocking::Default, spawned_at, future)
}

/// [`spawn_send_on`] with the task's own detector setting.
pub(crate) fn spawn_send_with<F>(
    shared: &Arc<Shared>,
    name: Option<Arc<str>>,
    blocking: TaskBlocking,
    spawned_at: &'static Location<'static>,
    future: F,
) -> Result<JoinHandle<F::Output>, crate::runtime::LoopClosed>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if shared.is_closed() {
        return Err(crate::runtime::LoopClosed(()));
    }
    let parent = context::with_current(|core| match core {
        Some(core) if Arc::ptr_eq(&core.shared, shared) => core.running_task_id(),
        _ => None,
    });
    let meta = Meta::new(name, blocking, spawned_at, shared.clone(), parent);
    // SAFETY: the future is `Send + 'static`, so it may be polled and dropped on any thread;
    // it borrows only the task's metadata, which `async-task` keeps alive for longer than
    // the future. The schedule function is a plain `fn`.
    let (runnable, task) = unsafe {
        async_task::Builder::new()
            .metadata(meta)
            .spawn_unchecked(move |_| TaskFuture::new(future), schedule)
    };
    let runnable = context::with_current(|core| match core {
        Some(core) if Arc::ptr_eq(&core.shared, shared) => {
            core.ready.borrow_mut().push_back(runnable);
            None
        }
        _ => Some(runnable),
    });
    let pushed = match runnable {
        None => true,
        Some(runnable) => shared
            .push_remote(crate::runtime::core::Remote::Task(runnable))
            .is_ok(),
    };
    if !pushed {
        // The loop closed between the check and the push. The future is `Send`, so
        // dropping it here, off the loop thread, is fine.
        return Err(crate::runtime::LoopClosed(()));
    }
    Ok(JoinHandle::new(task))
}

/// What is known about a task: id, name, spawn site, and what it was doing when this was
/// taken (state, polls, busy time, longest poll, the task it awaits). A snapshot: it does
/// not change afterwards.
///
/// ```
/// # bucle::run(async {
/// let info = bucle::task::Builder::new()
///     .name("probe")
///     .spawn(async { bucle::task::current() })
///     .await
///     .unwrap();
/// assert_eq!(info.name(), Some("probe"));
/// assert_eq!(info.spawned_at().file(), file!());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: Id,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
    parent: Option<Id>,
    state: TaskState,
    polls: u64,
    busy: Option<Duration>,
    longest_poll: Option<Duration>,
    running_for: Option<Duration>,
    awaiting: Option<Id>,
}

impl TaskInfo {
    /// A registered task (see `registry.rs`), whose parent and wait the registry keeps.
    pub(crate) fn from_meta(
        meta: &raw::Meta,
        parent: Option<Id>,
        awaiting: Option<Id>,
    ) -> TaskInfo {
        TaskInfo::new(meta, parent, meta.stats.polls(), awaiting)
    }

    /// A task in its first poll, not registered yet: the metadata still holds the parent,
    /// and the poll under way is its only one.
    pub(crate) fn in_first_poll(meta: &raw::Meta) -> TaskInfo {
        TaskInfo::new(meta, meta.stats.parent_before_registration(), 1, None)
    }

    fn new(meta: &raw::Meta, parent: Option<Id>, polls: u64, awaiting: Option<Id>) -> TaskInfo {
        let stats = &meta.stats;
        let timing = meta.timing();
        TaskInfo {
            id: meta.id,
            name: meta.name().cloned(),
            spawned_at: meta.spawned_at(),
            parent,
            state: stats.state(),
            polls,
            busy: stats.busy(timing),
            longest_poll: stats.longest_poll(timing),
            running_for: stats.running_for(timing),
            awaiting,
        }
    }

    /// The task that spawned this one, if it was spawned from inside a task.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (outer, inner) = bucle::spawn(async {
    ///     let me = bucle::task::current().id();
    ///     let inner = bucle::spawn(async { bucle::task::current().parent() });
    ///     (me, inner.await.unwrap())
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(inner, Some(outer));
    /// # });
    /// ```
    pub fn parent(&self) -> Option<Id> {
        self.parent
    }

    /// What the task was doing.
    ///
    /// ```
    /// use bucle::task::TaskState;
    /// # bucle::run(async {
    /// let idle = bucle::spawn(std::future::pending::<()>());
    /// bucle::yield_now().await;
    /// let info = bucle::task::all().into_iter().find(|t| t.id() == idle.id()).unwrap();
    /// assert_eq!(info.state(), TaskState::Idle);
    /// # idle.cancel();
    /// # });
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task has been polled, the current poll included.
    ///
    /// ```
    /// # bucle::run(async {
    /// let polls = bucle::spawn(async {
    ///     bucle::yield_now().await;
    ///     bucle::task::current().polls()
    /// });
    /// assert_eq!(polls.await.unwrap(), 2);
    /// # });
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Total time spent in the task's polls, finished ones only; `None` when poll timing is
    /// off ([`Builder::task_timing`](crate::runtime::Builder::task_timing)).
    ///
    /// ```
    /// # bucle::Runtime::builder().task_timing(true).build().unwrap().block_on(async {
    /// let busy = bucle::spawn(async {
    ///     std::thread::sleep(std::time::Duration::from_millis(2)); // blocks: for the example
    ///     bucle::yield_now().await;
    ///     bucle::task::current().busy()
    /// });
    /// assert!(busy.await.unwrap().unwrap() >= std::time::Duration::from_millis(2));
    /// # });
    /// ```
    pub fn busy(&self) -> Option<Duration> {
        self.busy
    }

    /// The longest finished poll of the task; `None` when poll timing is off.
    ///
    /// ```
    /// # bucle::Runtime::builder().task_timing(true).build().unwrap().block_on(async {
    /// let longest = bucle::spawn(async {
    ///     bucle::yield_now().await;
    ///     bucle::task::current().longest_poll()
    /// });
    /// assert!(longest.await.unwrap().is_some());
    /// # });
    /// ```
    pub fn longest_poll(&self) -> Option<Duration> {
        self.longest_poll
    }

    /// How long the poll in progress has run, if the task was running (and poll timing is
    /// on). In a dump taken from another thread during a stall, this is how long the task has
    /// held the loop.
    ///
    /// ```
    /// # bucle::Runtime::builder().task_timing(true).build().unwrap().block_on(async {
    /// let running = bucle::spawn(async { bucle::task::current().running_for() });
    /// assert!(running.await.unwrap().is_some());
    /// # });
    /// ```
    pub fn running_for(&self) -> Option<Duration> {
        self.running_for
    }

    /// The task whose [`JoinHandle`] this task was waiting on when its last poll ended, if
    /// that is what it waits for. Other waits (timers, I/O, queues) show as
    /// [`TaskState::Idle`] with no target.
    ///
    /// ```
    /// # bucle::run(async {
    /// let child = bucle::spawn(std::future::pending::<()>());
    /// let child_id = child.id();
    /// let parent = bucle::spawn(async move { child.await.ok(); });
    /// bucle::yield_now().await;
    /// let info = bucle::task::all().into_iter().find(|t| t.id() == parent.id()).unwrap();
    /// assert_eq!(info.awaiting(), Some(child_id));
    /// # parent.cancel();
    /// # });
    /// ```
    pub fn awaiting(&self) -> Option<Id> {
        self.awaiting
    }

    /// The task's id.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(async { bucle::task::current().id() });
    /// assert_eq!(handle.id(), handle.await.unwrap());
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it has one.
    ///
    /// ```
    /// # bucle::run(async {
    /// let name = bucle::spawn(async { bucle::task::current().name().map(String::from) });
    /// assert_eq!(name.await.unwrap(), None);
    /// # });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// ```
    /// # bucle::run(async {
    /// let site = bucle::spawn(async { bucle::task::current().spawned_at() });
    /// assert_eq!(site.await.unwrap().file(), file!());
    /// # });
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spawned at {}",
            describe(self.id, self.name.as_deref()),
            self.spawned_at
        )
    }
}

/// The task being polled right now.
///
/// # Panics
///
/// Outside a task: on a thread with no loop, or in the future given to `block_on` (which is
/// not a task). Use [`try_current`] to check.
///
/// ```
/// # bucle::run(async {
/// let id = bucle::spawn(async { bucle::task::current().id() }).await.unwrap();
/// # let _ = id;
/// # });
/// ```
#[track_caller]
pub fn current() -> TaskInfo {
    try_current().unwrap_or_else(|| {
        panic!(
            "`bucle::task::current()` was called outside a bucle task; the future passed to \
             `block_on`/`run` is not a task. Use `bucle::task::try_current()` to check"
        )
    })
}

/// The task being polled right now, or `None` outside a task.
///
/// ```
/// # bucle::run(async {
/// assert!(bucle::task::try_current().is_none()); // the main future is not a task
/// assert!(bucle::spawn(async { bucle::task::try_current() }).await.unwrap().is_some());
/// # });
/// ```
pub fn try_current() -> Option<TaskInfo> {
    context::with_current(|core| {
        let core = core?;
        core.with_running_task(|meta| {
            let meta = meta?;
            match meta.slot() {
                Some(slot) => core.shared.registry.info(slot),
                None => Some(TaskInfo::in_first_poll(meta)),
            }
        })
    })
}

/// Every live task of the current loop that has started running, by id (oldest first),
/// with what each is doing. From another thread, or to print them, use
/// [`Handle::dump`](crate::Handle::dump).
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// # bucle::run(async {
/// let sleeper = bucle::task::Builder::new()
///     .name("sleeper")
///     .spawn(bucle::sleep(std::time::Duration::from_secs(60)));
/// bucle::yield_now().await;
/// assert!(bucle::task::all().iter().any(|t| t.name() == Some("sleeper")));
/// sleeper.cancel();
/// # });
/// ```
#[track_caller]
pub fn all() -> Vec<TaskInfo> {
    context::expect_current("`bucle::task::all`", |core| core.shared.registry.snapshot())
}

/// Yields to the loop once: other ready tasks, I/O and timers get their turn, then the
/// calling task continues.
///
/// # Cancel safety
///
/// Cancel safe: dropping it loses nothing.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// # bucle::run(async {
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let other = bucle::spawn({
///     let log = log.clone();
///     async move { log.borrow_mut().push("other") }
/// });
/// log.borrow_mut().push("main");
/// bucle::yield_now().await;
/// log.borrow_mut().push("main again");
/// other.await.unwrap();
/// assert_eq!(*log.borrow(), ["main", "other", "main again"]);
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else if let Some(p) = payload.downcast_ref::<crate::offload::OffloadPanic>() {
        p.message()
    } else {
        "<non-string panic payload>"
    }
}

/// `task "name" (#7)` or `task #7`.
pub(crate) fn describe(id: Id, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("task {name:?} ({id})"),
        None => format!("task {id}"),
    }
}
