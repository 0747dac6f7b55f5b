use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::raw::Meta;
use super::{describe, Id};

/// An owned permission to await a spawned task's output, or to cancel it.
///
/// Awaiting a `JoinHandle` gives `Ok(output)` when the task finished, or a [`JoinError`] when
/// it was cancelled or panicked. Dropping the handle *detaches* the task: it keeps running on
/// the loop, which owns it. If a detached task panics, the loop reports the panic on stderr
/// with the task's name, id and spawn site, since nobody else ever will.
///
/// ```
/// # bucle::run(async {
/// let handle = bucle::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
///
/// # Cancel safety
///
/// Dropping a pending `.await` on a handle does not cancel the task; the handle can be
/// awaited again. To stop the task, call [`JoinHandle::cancel`].
pub struct JoinHandle<T> {
    /// `None` once the output has been read.
    task: Option<async_task::Task<Result<T, JoinError>, Meta>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Result<T, JoinError>, Meta>) -> Self {
        JoinHandle { task: Some(task) }
    }

    #[track_caller]
    fn meta(&self) -> &Meta {
        match &self.task {
            Some(task) => task.metadata(),
            None => panic!("this JoinHandle's output was already taken by awaiting it"),
        }
    }

    /// Requests cancellation. The task's future is dropped on the loop at its next turn,
    /// without being polled again, and awaiting the handle then gives
    /// [`JoinError::Cancelled`]. If the task had already finished, its output is kept and
    /// awaiting gives it. Callable from any thread; calling it twice is harmless.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(bucle::sleep(std::time::Duration::from_secs(3600)));
    /// handle.cancel();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel(&self) {
        self.meta().cancel();
    }

    /// Returns true once the task has finished: completed, panicked or been cancelled.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(async {});
    /// assert!(!handle.is_finished());
    /// bucle::yield_now().await;
    /// assert!(handle.is_finished());
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }

    /// The task's id, unique in this process.
    ///
    /// ```
    /// # bucle::run(async {
    /// let a = bucle::spawn(async {});
    /// let b = bucle::spawn(async {});
    /// assert_ne!(a.id(), b.id());
    /// # });
    /// ```
    #[track_caller]
    pub fn id(&self) -> Id {
        self.meta().id
    }

    /// The task's name, if it was given one with [`task::Builder::name`](super::Builder::name).
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new().name("fetch").spawn(async {});
    /// assert_eq!(handle.name(), Some("fetch"));
    /// # });
    /// ```
    #[track_caller]
    pub fn name(&self) -> Option<&str> {
        self.meta().name().map(|name| &**name)
    }

    /// Where the task was spawned.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(async {});
    /// assert_eq!(handle.spawned_at().line(), line!() - 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.meta().spawned_at()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            panic!("JoinHandle polled after it returned its output");
        };
        let target = task.metadata().id;
        let output = match Pin::new(task).poll(cx) {
            Poll::Pending => {
                super::dump::note_awaiting(target);
                return Poll::Pending;
            }
            Poll::Ready(output) => output,
        };
        self.task = None;
        Poll::Ready(output)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let Some(mut task) = self.task.take() else {
            return;
        };
        if task.metadata().handle_dropped() {
            // The task finished with a panic that nobody read: take it and say so.
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(Err(JoinError::Panicked(panic))) = Pin::new(&mut task).poll(&mut cx)
            {
                panic.report_unretrieved();
                return;
            }
        }
        task.detach();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("JoinHandle");
        if let Some(task) = &self.task {
            let meta = task.metadata();
            d.field("id", &meta.id).field("name", &meta.name());
        }
        d.field("finished", &self.is_finished()).finish()
    }
}

/// Why a task did not produce its output.
///
/// ```
/// # bucle::run(async {
/// let handle = bucle::spawn(async { panic!("boom") });
/// let err = handle.await.unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("boom"));
/// # });
/// ```
#[derive(Debug)]
pub enum JoinError {
    /// The task was cancelled (by [`JoinHandle::cancel`], or because its loop shut down)
    /// before it finished.
    Cancelled,
    /// The task panicked; the loop kept running.
    Panicked(Panic),
}

impl JoinError {
    /// True if the task was cancelled.
    ///
    /// ```
    /// assert!(bucle::task::JoinError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// True if the task panicked.
    ///
    /// ```
    /// assert!(!bucle::task::JoinError::Cancelled.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// The panic payload, to resume it with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking; use [`JoinError::try_into_panic`]
    /// to check.
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::spawn(async { panic!("boom") }).await.unwrap_err();
    /// let payload = err.into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// # });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(_) => panic!("`JoinError::into_panic` called on a cancelled task's error"),
        }
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// ```
    /// let err = bucle::task::JoinError::Cancelled;
    /// assert!(err.try_into_panic().is_err());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self {
            JoinError::Panicked(panic) => Ok(panic.into_payload()),
            cancelled => Err(cancelled),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked(panic) => fmt::Display::fmt(panic, f),
        }
    }
}

impl std::error::Error for JoinError {}

/// A task's panic: the payload, its message, and which task it was.
pub struct Panic(Box<PanicInner>);

/// Boxed so that a task's output slot stays small while no task panics.
struct PanicInner {
    payload: Mutex<Box<dyn Any + Send + 'static>>,
    message: String,
    task: Id,
    name: Option<Arc<str>>,
    spawned_at: &'static Location<'static>,
}

impl Panic {
    pub(crate) fn new(
        payload: Box<dyn Any + Send + 'static>,
        message: String,
        task: Id,
        name: Option<Arc<str>>,
        spawned_at: &'static Location<'static>,
    ) -> Panic {
        Panic(Box::new(PanicInner {
            payload: Mutex::new(payload),
            message,
            task,
            name,
            spawned_at,
        }))
    }

    /// Reports a panic that no `JoinHandle` will ever return, on stderr.
    pub(crate) fn report_unretrieved(&self) {
        eprintln!(
            "bucle: {} panicked and nobody awaited its JoinHandle\n  --> {} (spawned here)\n  \
             = panic: {}\n  = help: await the JoinHandle to receive the panic as a \
             `JoinError`, or handle the failure inside the task",
            describe(self.0.task, self.0.name.as_deref()),
            self.0.spawned_at,
            self.0.message,
        );
    }

    /// The panic message (`"<non-string panic payload>"` if the payload was not a string).
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::spawn(async { panic!("code {}", 7) }).await.unwrap_err();
    /// let bucle::task::JoinError::Panicked(panic) = err else { unreachable!() };
    /// assert_eq!(panic.message(), "code 7");
    /// # });
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The id of the task that panicked.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(async { panic!() });
    /// let id = handle.id();
    /// let bucle::task::JoinError::Panicked(panic) = handle.await.unwrap_err() else { unreachable!() };
    /// assert_eq!(panic.task_id(), id);
    /// # });
    /// ```
    pub fn task_id(&self) -> Id {
        self.0.task
    }

    /// The name of the task that panicked, if it had one.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::task::Builder::new().name("worker").spawn(async { panic!() });
    /// let bucle::task::JoinError::Panicked(panic) = handle.await.unwrap_err() else { unreachable!() };
    /// assert_eq!(panic.task_name(), Some("worker"));
    /// # });
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// Where the task that panicked was spawned.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::spawn(async { panic!() });
    /// let bucle::task::JoinError::Panicked(panic) = handle.await.unwrap_err() else { unreachable!() };
    /// assert_eq!(panic.spawned_at().file(), file!());
    /// # });
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.0.spawned_at
    }

    /// The payload, for [`std::panic::resume_unwind`].
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::spawn(async { std::panic::panic_any(7_u32) }).await.unwrap_err();
    /// let bucle::task::JoinError::Panicked(panic) = err else { unreachable!() };
    /// assert_eq!(panic.into_payload().downcast_ref::<u32>(), Some(&7));
    /// # });
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.0
            .payload
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.0.message)
            .field("task", &self.0.task)
            .field("name", &self.0.name)
            .field("spawned_at", &self.0.spawned_at)
            .finish()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (spawned at {}) panicked: {}",
            describe(self.0.task, self.0.name.as_deref()),
            self.0.spawned_at,
            self.0.message
        )
    }
}
