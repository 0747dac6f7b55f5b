//! [`TaskGroup`]: structured concurrency with asyncio's `TaskGroup` semantics.
//!
//! Each child runs as its own task wrapped in a `Child` future that knows its group. A
//! child that fails (returns `Err` or panics) hands its failure to the group, which at once
//! marks itself cancelling and wakes every sibling; each sibling, at its next poll, drops its
//! future and ends as cancelled. The group counts live children (a child leaves the count
//! when its future is dropped, whatever the reason), and `join` waits for the count to reach
//! zero, so when `join` returns every child's future has been dropped.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::raw::Meta;
use super::{panic_message, Builder, JoinHandle, Panic};
use crate::runtime::context;

/// A set of tasks that succeed or fail together, like Python's `asyncio.TaskGroup`.
///
/// - Children are spawned into the group with [`TaskGroup::spawn`]; each returns
///   `Result<T, E>`, and its [`JoinHandle`] gives the `T`.
/// - The first child failure (an `Err`, or a panic) cancels all the other children at
///   once, not when [`join`](TaskGroup::join) is reached. Spawning into a failing group is
///   refused.
/// - [`join`](TaskGroup::join) waits for every child, the cancelled ones included (their
///   futures have been dropped when it returns), and returns every failure in a
///   [`TaskGroupError`], the analogue of asyncio's `ExceptionGroup`. Cancellations are not
///   failures.
/// - Dropping the group cancels the children that are still running.
///
/// A failed child's failure belongs to the group: its own `JoinHandle` reports
/// [`JoinError::Cancelled`](super::JoinError::Cancelled), and the error or panic is in the
/// list `join` returns.
///
/// # How this differs from tokio's `JoinSet`
///
/// | | `TaskGroup` | tokio `JoinSet` |
/// |---|---|---|
/// | a child fails | siblings are cancelled at once | nothing happens until you look |
/// | waiting | `join` waits for all, returns every failure | `join_next` one by one, you decide |
/// | results | through each child's `JoinHandle` | through `join_next` |
/// | dropped | children cancelled | children aborted |
/// | a panic | collected as [`Failure::Panic`] | a `JoinError` from `join_next` |
///
/// A `JoinSet` is a collection; a `TaskGroup` is a scope with a policy: no child outlives
/// the group's failure, and no failure goes unreported.
///
/// ```
/// use std::time::Duration;
/// use bucle::task::{Failure, TaskGroup};
///
/// # bucle::run(async {
/// let mut group = TaskGroup::new();
/// let fast = group.spawn(async { Ok::<_, String>(1) }).unwrap();
/// let slow = group
///     .spawn(async {
///         bucle::sleep(Duration::from_secs(3600)).await;
///         Ok(2)
///     })
///     .unwrap();
/// group.spawn(async {
///     bucle::sleep(Duration::from_millis(1)).await;
///     Err::<(), _>("disk full".to_string())
/// }).unwrap();
///
/// let err = group.join().await.unwrap_err();
/// assert!(matches!(err.failures(), [Failure::Error(e)] if e == "disk full"));
/// assert_eq!(fast.await.unwrap(), 1);
/// assert!(slow.await.unwrap_err().is_cancelled()); // cancelled by the failure, not an hour later
/// # });
/// ```
pub struct TaskGroup<E> {
    state: Rc<State<E>>,
}

struct State<E> {
    /// The live children's wakers (`None` until a child's first poll). A child leaves when
    /// its future is dropped.
    children: RefCell<Slab<Option<Waker>>>,
    failures: RefCell<Vec<Failure<E>>>,
    /// Set by the first failure, `cancel`, or dropping the group: children stop at their
    /// next poll, and spawning is refused.
    cancelling: Cell<bool>,
    /// Set when `join` has returned: spawning is refused.
    joined: Cell<bool>,
    /// The task waiting in `join`.
    joiner: RefCell<Option<Waker>>,
}

impl<E> State<E> {
    fn cancel_all(&self) {
        if self.cancelling.replace(true) {
            return;
        }
        let wakers: Vec<Waker> = self
            .children
            .borrow()
            .iter()
            .flat_map(|(_, w)| w.clone())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }

    fn fail(&self, failure: Failure<E>) {
        self.failures.borrow_mut().push(failure);
        self.cancel_all();
    }

    fn leave(&self, key: usize) {
        let mut children = self.children.borrow_mut();
        children.remove(key);
        let empty = children.is_empty();
        drop(children);
        if empty {
            if let Some(joiner) = self.joiner.borrow_mut().take() {
                joiner.wake();
            }
        }
    }
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E: 'static> TaskGroup<E> {
    /// An empty group.
    ///
    /// ```
    /// let group = bucle::task::TaskGroup::<std::io::Error>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            state: Rc::new(State {
                children: RefCell::new(Slab::new()),
                failures: RefCell::new(Vec::new()),
                cancelling: Cell::new(false),
                joined: Cell::new(false),
                joiner: RefCell::new(None),
            }),
        }
    }

    /// Spawns `future` as a child of the group on the current loop.
    ///
    /// # Errors
    ///
    /// [`SpawnError`], with the future, if the group is cancelling (a child failed, or
    /// [`cancel`](TaskGroup::cancel) was called) or has been joined.
    ///
    /// # Panics
    ///
    /// If no bucle loop is running on this thread.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::<()>::new();
    /// let child = group.spawn(async { Ok(5) }).unwrap();
    /// group.join().await.unwrap();
    /// assert_eq!(child.await.unwrap(), 5);
    /// assert!(group.spawn(async { Ok(6) }).is_err()); // joined: closed
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        self.spawn_inner(None, Location::caller(), future)
    }

    fn spawn_inner<F, T>(
        &self,
        name: Option<std::sync::Arc<str>>,
        spawned_at: &'static Location<'static>,
        future: F,
    ) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let reason = if self.state.joined.get() {
            Some(Refused::Joined)
        } else if self.state.cancelling.get() {
            Some(Refused::Cancelling)
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(SpawnError { reason, future });
        }
        let core = match context::current() {
            Some(core) => core,
            None => panic!(
                "`TaskGroup::spawn` must be called from inside a bucle event loop (at \
                 {spawned_at}); start one with `bucle::run(async {{ .. }})`"
            ),
        };
        let key = self.state.children.borrow_mut().insert(None);
        let group = self.state.clone();
        Ok(super::spawn_local_with(
            &core,
            name,
            crate::detector::TaskBlocking::Default,
            spawned_at,
            move |meta| Child {
                future: Some(future),
                meta,
                group,
                key,
            },
        ))
    }

    /// Waits for every child to finish, then returns `Ok(())` if none failed, or every
    /// failure, in the order they happened. After `join` returns, the group is closed:
    /// spawning into it is refused, and joining again returns `Ok(())` at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the `join` future leaves the group and its children as they
    /// are; call `join` again to keep waiting. (Dropping the group itself cancels them.)
    ///
    /// ```
    /// use bucle::task::{Failure, TaskGroup};
    ///
    /// # bucle::run(async {
    /// let mut group = TaskGroup::new();
    /// group.spawn(async { Err::<(), _>("a") }).unwrap();
    /// // Cancelled by the first failure before it ever runs: not a failure of its own.
    /// group.spawn(async { Err::<(), _>("b") }).unwrap();
    /// let failures = group.join().await.unwrap_err().into_failures();
    /// assert_eq!(failures.len(), 1);
    /// assert!(matches!(failures[0], Failure::Error("a")));
    /// # });
    /// ```
    pub async fn join(&mut self) -> Result<(), TaskGroupError<E>> {
        std::future::poll_fn(|cx| {
            if self.state.children.borrow().is_empty() {
                return Poll::Ready(());
            }
            let mut joiner = self.state.joiner.borrow_mut();
            match &mut *joiner {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await;
        self.state.joined.set(true);
        let failures = std::mem::take(&mut *self.state.failures.borrow_mut());
        if failures.is_empty() {
            Ok(())
        } else {
            Err(TaskGroupError { failures })
        }
    }

    /// Cancels every child still running, without counting it as a failure; `join` then
    /// returns the failures that happened before. Spawning is refused afterwards.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::<()>::new();
    /// let child = group.spawn(std::future::pending::<Result<(), ()>>()).unwrap();
    /// group.cancel();
    /// assert!(group.join().await.is_ok());
    /// assert!(child.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.state.cancel_all();
    }

    /// True once the group is cancelling: a child failed, or [`cancel`](TaskGroup::cancel)
    /// was called.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::new();
    /// group.spawn(async { Err::<(), _>(1) }).unwrap();
    /// bucle::yield_now().await;
    /// assert!(group.is_cancelling());
    /// # let _ = group.join().await;
    /// # });
    /// ```
    pub fn is_cancelling(&self) -> bool {
        self.state.cancelling.get()
    }

    /// How many children are still running (cancelled ones count until their future has
    /// been dropped).
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::<()>::new();
    /// group.spawn(async { Ok(()) }).unwrap();
    /// assert_eq!(group.len(), 1);
    /// group.join().await.unwrap();
    /// assert_eq!(group.len(), 0);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.state.children.borrow().len()
    }

    /// True if no child is running.
    ///
    /// ```
    /// assert!(bucle::task::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Builder {
    /// Spawns `future` as a named child of `group`; see [`TaskGroup::spawn`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`], with the future, if the group is cancelling or has been joined.
    ///
    /// # Panics
    ///
    /// If no bucle loop is running on this thread.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::<()>::new();
    /// let child = bucle::task::Builder::new()
    ///     .name("fetch")
    ///     .spawn_in(&group, async { Ok(1) })
    ///     .unwrap();
    /// assert_eq!(child.name(), Some("fetch"));
    /// group.join().await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_in<F, T, E>(
        self,
        group: &TaskGroup<E>,
        future: F,
    ) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: 'static,
    {
        group.spawn_inner(self.name, Location::caller(), future)
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        self.state.cancel_all();
        let unread = self.state.failures.borrow().len();
        if unread > 0 && !std::thread::panicking() {
            eprintln!(
                "bucle: a TaskGroup was dropped with {unread} failure(s) nobody read\n  = help: \
                 await `group.join()` to receive them"
            );
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("children", &self.state.children.borrow().len())
            .field("failures", &self.state.failures.borrow().len())
            .field("cancelling", &self.state.cancelling.get())
            .field("joined", &self.state.joined.get())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// A child's future inside its task: the user's future, watched for failure and for the
    /// group's cancellation.
    struct Child<'a, F, E> {
        #[pin]
        future: Option<F>,
        meta: &'a Meta,
        group: Rc<State<E>>,
        key: usize,
    }

    impl<F, E> PinnedDrop for Child<'_, F, E> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // The user's future goes first: when the group sees the child leave, its
            // destructors have run.
            drop_into(this.future.as_mut(), this.meta, this.group);
            this.group.leave(*this.key);
        }
    }
}

impl<F, T, E> Future for Child<'_, F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut this = self.project();
        let meta: &Meta = this.meta;
        if this.group.cancelling.get() {
            return stop(this.future, meta, this.group, cx);
        }
        if let Some(slot) = this.group.children.borrow_mut().get_mut(*this.key) {
            match slot {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Pending; // stopped; the task is about to end as cancelled
        };
        let failure = match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(output))) => return Poll::Ready(output),
            Ok(Poll::Ready(Err(error))) => Failure::Error(error),
            Err(payload) => {
                let message = panic_message(&*payload).to_owned();
                Failure::Panic(Panic::new(
                    payload,
                    message,
                    meta.id,
                    meta.name().cloned(),
                    meta.spawned_at(),
                ))
            }
        };
        this.group.fail(failure);
        stop(this.future, meta, this.group, cx)
    }
}

/// Ends a child as cancelled: drops its future now, marks the task cancelled, and has it
/// polled once more so that the task wrapper sees the mark and finishes. A panic while
/// dropping the future (a destructor's cleanup failing) is a failure of the group, like an
/// exception raised by an asyncio task while it handles its cancellation.
fn stop<F, T, E>(
    future: Pin<&mut Option<F>>,
    meta: &Meta,
    group: &State<E>,
    cx: &mut Context<'_>,
) -> Poll<T> {
    drop_into(future, meta, group);
    meta.request_cancel();
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Drops a child's future; a panic in its destructor becomes a failure of the group.
fn drop_into<F, E>(mut future: Pin<&mut Option<F>>, meta: &Meta, group: &State<E>) {
    if future.is_none() {
        return;
    }
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| future.set(None))) {
        let message = panic_message(&*payload).to_owned();
        group.fail(Failure::Panic(Panic::new(
            payload,
            message,
            meta.id,
            meta.name().cloned(),
            meta.spawned_at(),
        )));
    }
}

/// One child's failure in a [`TaskGroupError`].
///
/// ```
/// use bucle::task::{Failure, TaskGroup};
///
/// # bucle::run(async {
/// let mut group = TaskGroup::<&str>::new();
/// group.spawn(async { panic!("bug") as Result<(), _> }).unwrap();
/// let err = group.join().await.unwrap_err();
/// match &err.failures()[0] {
///     Failure::Panic(panic) => assert_eq!(panic.message(), "bug"),
///     Failure::Error(e) => unreachable!("{e}"),
/// }
/// # });
/// ```
#[derive(Debug)]
pub enum Failure<E> {
    /// The child returned `Err`.
    Error(E),
    /// The child panicked; the payload can be resumed with
    /// [`Panic::into_payload`] and [`std::panic::resume_unwind`].
    Panic(Panic),
}

impl<E> Failure<E> {
    /// The error, if the child returned one.
    ///
    /// ```
    /// let failure = bucle::task::Failure::Error(7);
    /// assert_eq!(failure.error(), Some(&7));
    /// ```
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error(error) => Some(error),
            Failure::Panic(_) => None,
        }
    }

    /// True if the child panicked.
    ///
    /// ```
    /// assert!(!bucle::task::Failure::Error(()).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Failure::Panic(_))
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(error) => fmt::Display::fmt(error, f),
            Failure::Panic(panic) => fmt::Display::fmt(panic, f),
        }
    }
}

/// Every failure of a [`TaskGroup`]'s children, in the order they happened (asyncio's
/// `ExceptionGroup`). Never empty.
///
/// ```
/// # bucle::run(async {
/// let mut group = bucle::task::TaskGroup::new();
/// group.spawn(async { Err::<(), _>("timeout") }).unwrap();
/// let err = group.join().await.unwrap_err();
/// assert_eq!(err.len(), 1);
/// assert_eq!(err.to_string(), "1 task in the group failed: timeout");
/// # });
/// ```
#[derive(Debug)]
pub struct TaskGroupError<E> {
    failures: Vec<Failure<E>>,
}

impl<E> TaskGroupError<E> {
    /// The failures, in the order they happened.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::new();
    /// group.spawn(async { Err::<(), _>(1) }).unwrap();
    /// let err = group.join().await.unwrap_err();
    /// assert_eq!(err.failures()[0].error(), Some(&1));
    /// # });
    /// ```
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, owned.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::new();
    /// group.spawn(async { Err::<(), _>(1) }).unwrap();
    /// let failures = group.join().await.unwrap_err().into_failures();
    /// assert_eq!(failures.len(), 1);
    /// # });
    /// ```
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }

    /// How many children failed (at least one).
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::new();
    /// group.spawn(async { Err::<(), _>(1) }).unwrap();
    /// assert_eq!(group.join().await.unwrap_err().len(), 1);
    /// # });
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.failures.len()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        let tasks = if n == 1 { "task" } else { "tasks" };
        write!(f, "{n} {tasks} in the group failed: ")?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

/// Why a [`TaskGroup`] refused a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    Cancelling,
    Joined,
}

/// A [`TaskGroup`] refused a new child because it is cancelling (after a failure or
/// [`TaskGroup::cancel`]) or has been joined. Gives the future back.
///
/// ```
/// # bucle::run(async {
/// let group = bucle::task::TaskGroup::<()>::new();
/// group.cancel();
/// let err = group.spawn(async { Ok(1) }).unwrap_err();
/// assert_eq!(err.to_string(), "the task group is shutting down and takes no new tasks");
/// let _future = err.into_inner();
/// # });
/// ```
pub struct SpawnError<F> {
    reason: Refused,
    future: F,
}

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    ///
    /// ```
    /// # bucle::run(async {
    /// let group = bucle::task::TaskGroup::<()>::new();
    /// group.cancel();
    /// let future = group.spawn(async { Ok(1) }).unwrap_err().into_inner();
    /// assert_eq!(future.await, Ok(1));
    /// # });
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// True if the group refused because it has already been joined (rather than because
    /// it is cancelling).
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut group = bucle::task::TaskGroup::<()>::new();
    /// group.join().await.unwrap();
    /// assert!(group.spawn(async { Ok(()) }).unwrap_err().is_joined());
    /// # });
    /// ```
    pub fn is_joined(&self) -> bool {
        self.reason == Refused::Joined
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reason {
            Refused::Cancelling => "the task group is shutting down and takes no new tasks",
            Refused::Joined => "the task group has been joined and takes no new tasks",
        })
    }
}

impl<F> std::error::Error for SpawnError<F> {}
