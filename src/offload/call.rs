//! One offloaded call: the [`Job`] an executor runs, the [`Offload`] future that awaits its
//! result, and the slot between them.
//!
//! The slot is a mutex around the outcome and the awaiting task's waker, plus the cancel flag
//! the closure can read. The job owns a `Call` whose destructor delivers the outcome, so
//! whatever happens to the job (it runs, its closure panics, the executor drops it unrun),
//! the awaiting future is woken exactly once and never hangs.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::runtime::core::Shared;

/// Lets a closure given to [`run_in_executor_with`](crate::run_in_executor_with) see that
/// its caller gave up: the awaiting future was dropped, or its task was cancelled, or its
/// loop shut down.
///
/// Check it in long loops and stop early; the value returned after cancellation is dropped.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let scan = bucle::spawn(bucle::run_in_executor_with(|token| {
///     let mut rounds = 0u64;
///     while !token.is_cancelled() {
///         std::thread::sleep(Duration::from_millis(1));
///         rounds += 1;
///     }
///     rounds
/// }));
/// bucle::sleep(Duration::from_millis(10)).await;
/// scan.cancel(); // the closure sees it and returns
/// assert!(scan.await.unwrap_err().is_cancelled());
/// # });
/// ```
#[derive(Default)]
pub struct CancelToken {
    cancelled: AtomicBool,
}

impl CancelToken {
    /// A token that is not cancelled, for calling a `|token: &CancelToken|` function
    /// directly, in tests or outside the executor.
    ///
    /// ```
    /// let token = bucle::offload::CancelToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// True once the caller is gone: nobody will read the closure's result.
    ///
    /// ```
    /// let token = bucle::offload::CancelToken::new();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once the caller is gone, for `?` in blocking code.
    ///
    /// ```
    /// use bucle::offload::{CancelToken, Cancelled};
    ///
    /// fn work(token: &CancelToken) -> Result<u32, Cancelled> {
    ///     let mut sum = 0;
    ///     for chunk in 0..100 {
    ///         token.check()?;
    ///         sum += chunk;
    ///     }
    ///     Ok(sum)
    /// }
    /// # bucle::run(async {
    /// assert_eq!(bucle::run_in_executor_with(work).await, Ok(4950));
    /// # });
    /// ```
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled(()))
        } else {
            Ok(())
        }
    }

    /// Marks the token cancelled. The loop does this when the awaiting future is dropped;
    /// calling it by hand is for tests of blocking functions.
    ///
    /// ```
    /// let token = bucle::offload::CancelToken::new();
    /// token.cancel();
    /// assert!(token.check().is_err());
    /// ```
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The caller of an offloaded closure is gone; returned by [`CancelToken::check`].
///
/// ```
/// let token = bucle::offload::CancelToken::new();
/// token.cancel();
/// assert_eq!(token.check().unwrap_err().to_string(), "the offloaded call was cancelled");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled(());

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the offloaded call was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// The payload of a panic in an offloaded closure, as it resumes in the awaiting task.
///
/// Its message names the call site of `run_in_executor` (or `ThreadPool::run`) and the
/// closure's own message, so a task's [`JoinError`](crate::task::JoinError) says both which
/// task failed and which offloaded call failed in it. The closure's original payload is kept:
/// [`OffloadPanic::into_payload`] gives it back.
///
/// ```
/// use bucle::offload::OffloadPanic;
///
/// # bucle::run(async {
/// let err = bucle::spawn(bucle::run_in_executor(|| panic!("disk on fire")))
///     .await
///     .unwrap_err();
/// assert!(err.to_string().contains("disk on fire"));
/// assert!(err.to_string().contains(file!())); // the run_in_executor call site
/// let panic = err.into_panic().downcast::<OffloadPanic>().unwrap();
/// assert_eq!(panic.into_payload().downcast_ref::<&str>(), Some(&"disk on fire"));
/// # });
/// ```
pub struct OffloadPanic {
    message: String,
    called_at: &'static Location<'static>,
    payload: Box<dyn Any + Send + 'static>,
}

impl OffloadPanic {
    /// `offloaded call at <file:line:col> panicked: <message>`.
    ///
    /// ```
    /// # use bucle::offload::OffloadPanic;
    /// # bucle::run(async {
    /// let err = bucle::spawn(bucle::run_in_executor(|| panic!("boom"))).await.unwrap_err();
    /// let panic = err.into_panic().downcast::<OffloadPanic>().unwrap();
    /// assert!(panic.message().ends_with("panicked: boom"));
    /// # });
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the offloaded call was made.
    ///
    /// ```
    /// # use bucle::offload::OffloadPanic;
    /// # bucle::run(async {
    /// let call = bucle::run_in_executor(|| panic!("boom"));
    /// let line = line!() - 1;
    /// let err = bucle::spawn(call).await.unwrap_err();
    /// let panic = err.into_panic().downcast::<OffloadPanic>().unwrap();
    /// assert_eq!(panic.called_at().line(), line);
    /// # });
    /// ```
    pub fn called_at(&self) -> &'static Location<'static> {
        self.called_at
    }

    /// The closure's own panic payload, for [`std::panic::resume_unwind`] or `downcast`.
    ///
    /// ```
    /// # use bucle::offload::OffloadPanic;
    /// # bucle::run(async {
    /// let err = bucle::spawn(bucle::run_in_executor(|| std::panic::panic_any(7_u8)))
    ///     .await
    ///     .unwrap_err();
    /// let panic = err.into_panic().downcast::<OffloadPanic>().unwrap();
    /// assert_eq!(panic.into_payload().downcast_ref::<u8>(), Some(&7));
    /// # });
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }
}

impl fmt::Debug for OffloadPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffloadPanic")
            .field("message", &self.message)
            .field("called_at", &self.called_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for OffloadPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A closure sent to an [`Executor`](super::Executor): run it on some thread, once.
///
/// [`Job::run`] never panics (a panic in the closure is caught and delivered to the awaiting
/// task), so a pool needs no panic handling of its own. Dropping a job without running it is
/// allowed (a pool that is shutting down): the awaiting task then panics with a message
/// that says so, instead of waiting forever.
///
/// ```
/// use bucle::offload::Job;
///
/// // An executor that starts one thread per job.
/// let rt = bucle::Runtime::builder()
///     .default_executor(|job: Job| {
///         std::thread::spawn(move || job.run());
///     })
///     .build()?;
/// assert_eq!(rt.block_on(async { bucle::run_in_executor(|| 2 + 2).await }), 4);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Job {
    run: Box<dyn FnOnce() + Send + 'static>,
    called_at: &'static Location<'static>,
}

impl Job {
    /// Runs the closure on this thread and delivers its result (or panic) to the awaiting
    /// task. Never panics.
    ///
    /// ```
    /// # use bucle::offload::Job;
    /// let rt = bucle::Runtime::builder()
    ///     .default_executor(|job: Job| job.run()) // inline: only for tests
    ///     .build()?;
    /// assert_eq!(rt.block_on(async { bucle::run_in_executor(|| 1).await }), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run(self) {
        (self.run)()
    }

    /// Where the offloaded call was made, for an executor's own logging.
    ///
    /// ```
    /// # use bucle::offload::Job;
    /// let rt = bucle::Runtime::builder()
    ///     .default_executor(|job: Job| {
    ///         assert!(job.called_at().file().ends_with(".rs"));
    ///         std::thread::spawn(move || job.run());
    ///     })
    ///     .build()?;
    /// rt.block_on(async { bucle::run_in_executor(|| ()).await });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn called_at(&self) -> &'static Location<'static> {
        self.called_at
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("called_at", &self.called_at)
            .finish_non_exhaustive()
    }
}

/// What a call produced.
enum Outcome<T> {
    Value(T),
    Panicked(Box<dyn Any + Send + 'static>),
    /// The executor dropped the job without running it.
    NotRun,
}

struct State<T> {
    outcome: Option<Outcome<T>>,
    waker: Option<Waker>,
}

/// Shared by the job and the awaiting future.
struct Slot<T> {
    state: Mutex<State<T>>,
    token: CancelToken,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while the lock is held, but a poisoned slot is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The job's side of a call. Its destructor delivers the outcome, so a job dropped unrun
/// still wakes its caller.
struct Call<F, T> {
    f: Option<F>,
    slot: Arc<Slot<T>>,
    outcome: Option<Outcome<T>>,
    /// The loop that counts this call as in flight, if it was made on a loop.
    counted_on: Option<Arc<Shared>>,
}

impl<F: FnOnce(&CancelToken) -> T, T> Call<F, T> {
    fn run(mut self) {
        if let Some(f) = self.f.take() {
            // A call whose caller is already gone is skipped, like a cancelled
            // `concurrent.futures.Future` that never started.
            if !self.slot.token.is_cancelled() {
                let token = &self.slot.token;
                self.outcome = Some(match panic::catch_unwind(AssertUnwindSafe(|| f(token))) {
                    Ok(value) => Outcome::Value(value),
                    Err(payload) => Outcome::Panicked(payload),
                });
            }
        }
        // `drop(self)` delivers.
    }
}

impl<F, T> Drop for Call<F, T> {
    fn drop(&mut self) {
        // The closure is dropped here, on the executor's thread, before the caller is woken.
        drop(self.f.take());
        let outcome = self.outcome.take().unwrap_or(Outcome::NotRun);
        let waker = {
            let mut state = self.slot.lock();
            state.outcome = Some(outcome);
            state.waker.take()
        };
        // Wake first, then stop counting: a paused clock that reads the count as zero will
        // then find the wake in the loop's remote queue.
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(shared) = self.counted_on.take() {
            shared.offload_finished();
        }
    }
}

/// Wraps `f` into a [`Job`] and the [`Offload`] future that awaits it.
pub(crate) fn prepare<F, T>(
    f: F,
    called_at: &'static Location<'static>,
    counted_on: Option<Arc<Shared>>,
) -> (Job, Offload<T>)
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let (call, offload) = prepare_call(f, called_at, counted_on);
    let job = Job {
        run: Box::new(call),
        called_at,
    };
    (job, offload)
}

/// Sends `f` to the `blocking` crate's pool directly: no [`Job`] box, and the pool's task
/// handle rides in the [`Offload`], so that its memory is usually freed on the loop thread
/// that allocated it rather than on a pool thread (a free across threads costs the
/// allocator a lock).
pub(crate) fn submit_to_blocking_pool<F, T>(
    f: F,
    called_at: &'static Location<'static>,
    counted_on: Option<Arc<Shared>>,
) -> Offload<T>
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let (call, mut offload) = prepare_call(f, called_at, counted_on);
    offload.runner = Some(blocking::unblock(call));
    offload
}

fn prepare_call<F, T>(
    f: F,
    called_at: &'static Location<'static>,
    counted_on: Option<Arc<Shared>>,
) -> (impl FnOnce() + Send + 'static, Offload<T>)
where
    F: FnOnce(&CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            outcome: None,
            waker: None,
        }),
        token: CancelToken::new(),
    });
    if let Some(shared) = &counted_on {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
    }
    let call = Call {
        f: Some(f),
        slot: slot.clone(),
        outcome: None,
        counted_on,
    };
    let offload = Offload {
        slot: Some(slot),
        runner: None,
        called_at,
    };
    (move || call.run(), offload)
}

/// The result of a call offloaded with [`run_in_executor`](crate::run_in_executor),
/// [`run_in_executor_with`](crate::run_in_executor_with) or
/// [`ThreadPool::run`](super::ThreadPool::run).
///
/// The call is already submitted when this future is created: two calls made before either
/// is awaited run in parallel. Awaiting gives the closure's value; a panic in the closure
/// resumes here as an [`OffloadPanic`].
///
/// # Cancel safety
///
/// Dropping the future cancels the call: if it has not started, it never runs; if it is
/// running, its [`CancelToken`] turns cancelled and its result is dropped when it returns.
///
/// ```
/// # bucle::run(async {
/// let a = bucle::run_in_executor(|| 1);
/// let b = bucle::run_in_executor(|| 2); // both are running now
/// assert_eq!(a.await + b.await, 3);
/// # });
/// ```
#[must_use = "dropping an Offload cancels the call"]
pub struct Offload<T> {
    /// `None` once the outcome has been taken.
    slot: Option<Arc<Slot<T>>>,
    /// The `blocking` pool's task running the call, for calls sent there directly. Dropping
    /// it before the call starts keeps the call from running (the slot's token does too);
    /// after the call has delivered, dropping it only frees it.
    runner: Option<blocking::Task<()>>,
    called_at: &'static Location<'static>,
}

impl<T> Offload<T> {
    /// True once the closure has finished (or was dropped unrun); awaiting will not wait.
    ///
    /// ```
    /// # bucle::run(async {
    /// let call = bucle::run_in_executor(|| 1);
    /// while !call.is_finished() {
    ///     bucle::sleep(std::time::Duration::from_millis(1)).await;
    /// }
    /// assert_eq!(call.await, 1);
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.slot
            .as_ref()
            .is_none_or(|slot| slot.lock().outcome.is_some())
    }

    /// Where the call was made.
    ///
    /// ```
    /// # bucle::run(async {
    /// let call = bucle::run_in_executor(|| ());
    /// assert_eq!(call.called_at().line(), line!() - 1);
    /// # call.await;
    /// # });
    /// ```
    pub fn called_at(&self) -> &'static Location<'static> {
        self.called_at
    }
}

impl<T> Future for Offload<T> {
    type Output = T;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(slot) = &self.slot else {
            panic!("an Offload future was polled after it returned its value");
        };
        let outcome = {
            let mut state = slot.lock();
            match state.outcome.take() {
                Some(outcome) => outcome,
                None => {
                    match &mut state.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => {}
                        waker => *waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        self.slot = None;
        self.runner = None;
        match outcome {
            Outcome::Value(value) => Poll::Ready(value),
            Outcome::Panicked(payload) => {
                let message = format!(
                    "offloaded call at {} panicked: {}",
                    self.called_at,
                    crate::task::panic_message(&*payload)
                );
                // `resume_unwind` skips the panic hook: the closure's panic was already
                // printed once, on its own thread.
                panic::resume_unwind(Box::new(OffloadPanic {
                    message,
                    called_at: self.called_at,
                    payload,
                }))
            }
            Outcome::NotRun => panic!(
                "the executor dropped the offloaded call made at {} without running it (was \
                 the pool shut down?); make sure a custom `Executor` runs every `Job` it is \
                 given",
                self.called_at
            ),
        }
    }
}

impl<T> Drop for Offload<T> {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.token.cancel();
        }
    }
}

impl<T> fmt::Debug for Offload<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offload")
            .field("called_at", &self.called_at)
            .field("finished", &self.is_finished())
            .finish()
    }
}
