//! Waiting for several things at once, with asyncio's names and Rust's types: [`gather`],
//! [`join_all`], [`wait`] with [`ReturnWhen`], [`as_completed`], [`select`], and [`shield`].
//!
//! | asyncio | bucle | runs the futures as |
//! |---|---|---|
//! | `await asyncio.gather(*coros)` | `gather(futures).await` | tasks (cancelled if the gather is dropped) |
//! | (none; `gather` on coroutines) | `join_all(futures).await` | part of the caller's task |
//! | `asyncio.wait(tasks, return_when=..)` | `wait(handles, ReturnWhen::..).await` | tasks you spawned |
//! | `asyncio.as_completed(tasks)` | `as_completed(handles)` (a `Stream`) | tasks you spawned |
//! | `asyncio.wait(.., FIRST_COMPLETED)` on two | `select(a, b).await` | part of the caller's task |
//! | `asyncio.shield(aw)` | `shield(future)` or any `JoinHandle` | a task |

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

pub use futures::future::Either;

use super::{Builder, Id, JoinError, JoinHandle};

/// Runs every future as its own task and waits for them all; the results come back in the
/// order the futures were given, each `Ok(output)` or the task's [`JoinError`] (asyncio's
/// `gather(..., return_exceptions=True)`).
///
/// The tasks start at once and run even while the `Gather` is not polled. Dropping the
/// `Gather` before it completes cancels the tasks that have not finished, as cancelling
/// asyncio's `gather` cancels its children.
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// # Cancel safety
///
/// Not cancel safe: dropping it cancels the unfinished tasks and loses the finished ones'
/// outputs. Spawn the tasks yourself and [`wait`] on their handles to keep them.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let results = bucle::task::gather([30, 10, 20].map(|ms| async move {
///     bucle::sleep(Duration::from_millis(ms)).await;
///     ms
/// }))
/// .await;
/// let outputs: Vec<u64> = results.into_iter().map(Result::unwrap).collect();
/// assert_eq!(outputs, [30, 10, 20]); // input order, not completion order
/// # });
/// ```
#[track_caller]
pub fn gather<I>(futures: I) -> Gather<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + 'static,
    <I::Item as Future>::Output: 'static,
{
    let at = Location::caller();
    let core = crate::runtime::context::expect_current_rc("`bucle::task::gather`");
    let handles: Vec<_> = futures
        .into_iter()
        .map(|future| super::spawn_local_on(&core, None, at, future))
        .collect();
    Gather {
        results: handles.iter().map(|_| None).collect(),
        handles: handles.into_iter().map(Some).collect(),
    }
}

/// The future returned by [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<T> {
    handles: Vec<Option<JoinHandle<T>>>,
    results: Vec<Option<Result<T, JoinError>>>,
}

impl<T> Unpin for Gather<T> {}

impl<T> Future for Gather<T> {
    type Output = Vec<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut pending = false;
        for (slot, result) in this.handles.iter_mut().zip(&mut this.results) {
            if let Some(handle) = slot {
                match Pin::new(handle).poll(cx) {
                    Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(
            this.results
                .iter_mut()
                .map(|r| r.take().expect("every task has finished"))
                .collect(),
        )
    }
}

impl<T> Drop for Gather<T> {
    fn drop(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.cancel();
        }
    }
}

impl<T> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = self.handles.iter().flatten().count();
        f.debug_struct("Gather")
            .field("tasks", &self.handles.len())
            .field("unfinished", &left)
            .finish()
    }
}

/// Polls every future inside the calling task, concurrently, and returns their outputs in
/// the order given. Nothing is spawned: the futures need not be `'static`, and a panic in
/// one propagates to the caller.
///
/// # Cancel safety
///
/// Dropping it drops every future that has not finished.
///
/// ```
/// # bucle::run(async {
/// let name = String::from("borrowed");
/// let outputs = bucle::task::join_all((1..=3).map(|n| {
///     let name = &name; // borrows are fine: nothing is spawned
///     async move { format!("{name}-{n}") }
/// }))
/// .await;
/// assert_eq!(outputs, ["borrowed-1", "borrowed-2", "borrowed-3"]);
/// # });
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    JoinAll {
        inner: futures::future::join_all(futures),
    }
}

/// The future returned by [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    inner: futures::future::JoinAll<F>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll").finish_non_exhaustive()
    }
}

/// When [`wait`] returns.
///
/// ```
/// use bucle::task::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes, however it finished.
    FirstCompleted,
    /// As soon as any task panics, or when all have finished. Cancelled tasks do not count
    /// as failures (asyncio's rule); a task that returns `Err` has completed normally: its
    /// error is a value. Use a [`TaskGroup`](super::TaskGroup) to act on returned errors.
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// One finished task, from [`wait`] or [`as_completed`]: its position in the input, its
/// id, and its result.
#[derive(Debug)]
pub struct Done<T> {
    index: usize,
    id: Id,
    result: Result<T, JoinError>,
}

impl<T> Done<T> {
    /// The task's position in the handles given to [`wait`] or [`as_completed`].
    ///
    /// ```
    /// # bucle::run(async {
    /// use futures::StreamExt;
    /// let mut done = bucle::task::as_completed(vec![bucle::spawn(async { 1 })]);
    /// assert_eq!(done.next().await.unwrap().index(), 0);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The task's id.
    ///
    /// ```
    /// # bucle::run(async {
    /// use futures::StreamExt;
    /// let task = bucle::spawn(async { 1 });
    /// let id = task.id();
    /// let mut done = bucle::task::as_completed(vec![task]);
    /// assert_eq!(done.next().await.unwrap().id(), id);
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's result.
    ///
    /// ```
    /// # bucle::run(async {
    /// use futures::StreamExt;
    /// let mut done = bucle::task::as_completed(vec![bucle::spawn(async { 1 })]);
    /// assert_eq!(*done.next().await.unwrap().result().as_ref().unwrap(), 1);
    /// # });
    /// ```
    pub fn result(&self) -> &Result<T, JoinError> {
        &self.result
    }

    /// The task's result, owned.
    ///
    /// ```
    /// # bucle::run(async {
    /// use futures::StreamExt;
    /// let mut done = bucle::task::as_completed(vec![bucle::spawn(async { 1 })]);
    /// assert_eq!(done.next().await.unwrap().into_result().unwrap(), 1);
    /// # });
    /// ```
    pub fn into_result(self) -> Result<T, JoinError> {
        self.result
    }
}

/// A handle still running, with its position and id remembered.
struct Waiting<T> {
    index: usize,
    id: Id,
    handle: JoinHandle<T>,
}

fn waiting<T>(handles: impl IntoIterator<Item = JoinHandle<T>>) -> Vec<Waiting<T>> {
    handles
        .into_iter()
        .enumerate()
        .map(|(index, handle)| Waiting {
            index,
            id: handle.id(),
            handle,
        })
        .collect()
}

/// Polls the waiting handles once; moves the finished ones to `done`, in the order they are
/// found.
fn poll_waiting<T>(waiting: &mut Vec<Waiting<T>>, done: &mut Vec<Done<T>>, cx: &mut Context<'_>) {
    let mut i = 0;
    while i < waiting.len() {
        match Pin::new(&mut waiting[i].handle).poll(cx) {
            Poll::Ready(result) => {
                let w = waiting.remove(i);
                done.push(Done {
                    index: w.index,
                    id: w.id,
                    result,
                });
            }
            Poll::Pending => i += 1,
        }
    }
}

/// Waits on spawned tasks until `when` says to return, then gives back the finished ones
/// (with their results) and the handles still running, like `asyncio.wait`.
///
/// The tasks are not cancelled: the pending handles are yours to await, [`wait`] on
/// again, cancel or drop (which detaches them).
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future drops the handles (detaching the tasks, which keep
/// running) and the results already collected.
///
/// ```
/// use std::time::Duration;
/// use bucle::task::ReturnWhen;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// let handles: Vec<_> = [20, 1, 50]
///     .map(|ms| bucle::spawn(async move {
///         bucle::sleep(Duration::from_millis(ms)).await;
///         ms
///     }))
///     .into();
/// let (done, pending) = bucle::task::wait(handles, ReturnWhen::FirstCompleted).await;
/// assert_eq!(done.len(), 1);
/// assert_eq!(*done[0].result().as_ref().unwrap(), 1);
/// assert_eq!(pending.len(), 2);
/// let (done, pending) = bucle::task::wait(pending, ReturnWhen::AllCompleted).await;
/// assert_eq!(done.len(), 2);
/// assert!(pending.is_empty());
/// # });
/// ```
pub fn wait<T, I>(handles: I, when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    Wait {
        waiting: waiting(handles),
        done: Vec::new(),
        when,
    }
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    waiting: Vec<Waiting<T>>,
    done: Vec<Done<T>>,
    when: ReturnWhen,
}

impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = (Vec<Done<T>>, Vec<JoinHandle<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        poll_waiting(&mut this.waiting, &mut this.done, cx);
        let ready = this.waiting.is_empty()
            || match this.when {
                ReturnWhen::FirstCompleted => !this.done.is_empty(),
                ReturnWhen::FirstException => this
                    .done
                    .iter()
                    .any(|d| matches!(d.result, Err(JoinError::Panicked(_)))),
                ReturnWhen::AllCompleted => false,
            };
        if !ready {
            return Poll::Pending;
        }
        let done = std::mem::take(&mut this.done);
        let pending = std::mem::take(&mut this.waiting)
            .into_iter()
            .map(|w| w.handle)
            .collect();
        Poll::Ready((done, pending))
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("when", &self.when)
            .field("done", &self.done.len())
            .field("pending", &self.waiting.len())
            .finish()
    }
}

/// A [`Stream`] of the tasks' results in the order the tasks finish, like
/// `asyncio.as_completed`. Ends when every task has been yielded.
///
/// Dropping the stream drops the handles still in it, which detaches their tasks: they keep
/// running.
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// let handles = [30, 10, 20].map(|ms| bucle::spawn(async move {
///     bucle::sleep(Duration::from_millis(ms)).await;
///     ms
/// }));
/// let order: Vec<u64> = bucle::task::as_completed(handles)
///     .map(|done| done.into_result().unwrap())
///     .collect()
///     .await;
/// assert_eq!(order, [10, 20, 30]);
/// # });
/// ```
pub fn as_completed<T, I>(handles: I) -> AsCompleted<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    AsCompleted {
        waiting: waiting(handles),
        done: std::collections::VecDeque::new(),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    waiting: Vec<Waiting<T>>,
    done: std::collections::VecDeque<Done<T>>,
}

impl<T> Unpin for AsCompleted<T> {}

impl<T> AsCompleted<T> {
    /// How many tasks have not been yielded yet.
    ///
    /// ```
    /// # bucle::run(async {
    /// let stream = bucle::task::as_completed(vec![bucle::spawn(async {})]);
    /// assert_eq!(stream.remaining(), 1);
    /// # });
    /// ```
    pub fn remaining(&self) -> usize {
        self.waiting.len() + self.done.len()
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = Done<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Done<T>>> {
        let this = &mut *self;
        if let Some(done) = this.done.pop_front() {
            return Poll::Ready(Some(done));
        }
        if this.waiting.is_empty() {
            return Poll::Ready(None);
        }
        let mut found = Vec::new();
        poll_waiting(&mut this.waiting, &mut found, cx);
        this.done.extend(found);
        match this.done.pop_front() {
            Some(done) => Poll::Ready(Some(done)),
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// Waits for whichever of two futures finishes first and drops the other. Both are polled
/// in the caller's task, `a` first, so if both are ready `a` wins.
///
/// Dropping a [`JoinHandle`] does not cancel its task (the loop owns tasks), so a task
/// that loses the race keeps running; pass `&mut handle` to keep the handle and await it
/// later. That is asyncio's `shield` for free; see [`shield`].
///
/// # Cancel safety
///
/// As cancel safe as `a` and `b`.
///
/// ```
/// use std::time::Duration;
/// use bucle::task::Either;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// let mut slow = bucle::spawn(async {
///     bucle::sleep(Duration::from_millis(20)).await;
///     "slow"
/// });
/// match bucle::task::select(&mut slow, bucle::sleep(Duration::from_millis(1))).await {
///     Either::Left(_) => unreachable!(),
///     Either::Right(()) => {} // the timer won
/// }
/// assert_eq!(slow.await.unwrap(), "slow"); // the task was not cancelled
/// # });
/// ```
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select { a, b }
}

pin_project_lite::pin_project! {
    /// The future returned by [`select`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Select<A, B> {
        #[pin]
        a: A,
        #[pin]
        b: B,
    }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.a.poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        this.b.poll(cx).map(Either::Right)
    }
}

/// Runs `future` as a task that survives whoever awaits it, like `asyncio.shield`.
///
/// In bucle this is what every spawned task already does: dropping a [`JoinHandle`], or a
/// future awaiting one (a `timeout`, a `select`, a cancelled caller), detaches the task
/// rather than cancelling it. `shield` is `spawn` under the name asyncio users look for.
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// let saved = Rc::new(Cell::new(false));
/// let write = bucle::task::shield({
///     let saved = saved.clone();
///     async move {
///         bucle::sleep(Duration::from_millis(5)).await;
///         saved.set(true);
///     }
/// });
/// // The caller gives up waiting; the write still completes.
/// assert!(bucle::timeout(Duration::from_millis(1), write).await.is_err());
/// bucle::sleep(Duration::from_millis(10)).await;
/// assert!(saved.get());
/// # });
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}
