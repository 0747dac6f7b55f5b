//! What the loop keeps for each task: its metadata (in the `async-task` header, readable from
//! the `JoinHandle` on any thread), the wrapper future that contains panics and carries out
//! cancellation, and its entry in the loop's registry.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::stats::TaskStats;
use super::{panic_message, Id, JoinError, Panic};
use crate::detector::TaskBlocking;
use crate::runtime::context;
use crate::runtime::core::{Remote, Shared};

/// Cancellation has been requested.
const CANCEL: u8 = 1;
/// The task panicked and its output has not been read.
const PANICKED: u8 = 2;
/// The `JoinHandle` was dropped without reading the output.
const HANDLE_DROPPED: u8 = 4;

/// No registry slot yet: the task has not been polled.
const NO_SLOT: usize = usize::MAX;

pub(crate) struct Meta {
    pub(crate) id: Id,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) shared: Arc<Shared>,
    /// The task's own blocking-detector setting (`task::Builder::allow_blocking`...).
    pub(crate) blocking: TaskBlocking,
    flags: AtomicU8,
    /// Registry slot, written once by the first poll. A cancel from another thread reads it
    /// to find the task's waker.
    slot: AtomicUsize,
    /// State and poll statistics, readable from any thread (`Handle::dump`).
    pub(crate) stats: TaskStats,
}

impl Meta {
    pub(crate) fn new(
        name: Option<Arc<str>>,
        spawned_at: &'static Location<'static>,
        shared: Arc<Shared>,
        parent: Option<Id>,
    ) -> Meta {
        Meta {
            id: Id::next(),
            name,
            spawned_at,
            shared,
            blocking: TaskBlocking::Default,
            flags: AtomicU8::new(0),
            slot: AtomicUsize::new(NO_SLOT),
            stats: TaskStats::new(parent),
        }
    }

    /// The loop's time origin if task polls are timed (`Builder::task_timing`).
    pub(crate) fn timing(&self) -> Option<std::time::Instant> {
        self.shared.task_timing.then_some(self.shared.epoch)
    }

    /// Gives the task its own blocking-detector setting.
    pub(crate) fn with_blocking(mut self, blocking: TaskBlocking) -> Meta {
        self.blocking = blocking;
        self
    }

    /// Marks the task cancelled; its next poll drops the future instead of polling it.
    pub(crate) fn request_cancel(&self) -> bool {
        self.flags.fetch_or(CANCEL, Ordering::SeqCst) & CANCEL == 0
    }

    /// The registry slot, or `usize::MAX` before the first poll.
    pub(crate) fn slot(&self) -> usize {
        self.slot.load(Ordering::Relaxed)
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.flags.load(Ordering::SeqCst) & CANCEL != 0
    }

    /// Requests cancellation and makes sure the task runs to see it, from any thread.
    pub(crate) fn cancel(&self) {
        if !self.request_cancel() {
            return;
        }
        // Ordered after the flag: either the first poll sees the flag, or we see its slot.
        let slot = self.slot.load(Ordering::SeqCst);
        if slot == NO_SLOT {
            return;
        }
        let id = self.id;
        let on_loop = context::with_current(|core| match core {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => {
                core.wake_registered(id, slot);
                true
            }
            _ => false,
        });
        if !on_loop {
            // If the loop has shut down, the task was cancelled by the shutdown already.
            let _ = self.shared.push_remote(Remote::WakeTask(id, slot));
        }
    }

    /// The handle was dropped without reading the output. Returns true if the task had
    /// panicked: the caller then reports the panic, which nobody else will see.
    pub(crate) fn handle_dropped(&self) -> bool {
        let previous = self.flags.fetch_or(HANDLE_DROPPED, Ordering::SeqCst);
        previous & PANICKED != 0
    }

    /// Records that the task panicked. Returns true if its handle is already gone: the
    /// caller then reports the panic.
    fn panicked(&self) -> bool {
        let previous = self.flags.fetch_or(PANICKED, Ordering::SeqCst);
        previous & HANDLE_DROPPED != 0
    }
}

pin_project_lite::pin_project! {
    /// The future `async-task` runs for a task: the user's future, with panics caught and
    /// cancellation applied at poll time, on the loop thread. Its registry entry is
    /// removed when it is dropped.
    pub(crate) struct TaskFuture<'a, F> {
        #[pin]
        future: Option<F>,
        meta: &'a Meta,
    }

    impl<'a, F> PinnedDrop for TaskFuture<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            unregister(this.meta);
        }
    }
}

impl<'a, F> TaskFuture<'a, F> {
    pub(crate) fn new(meta: &'a Meta, future: F) -> Self {
        TaskFuture {
            future: Some(future),
            meta,
        }
    }
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let meta: &Meta = this.meta;
        if meta.slot() == NO_SLOT {
            register(meta, cx.waker());
        }
        if meta.is_cancel_requested() {
            drop_contained(this.future.as_mut());
            return Poll::Ready(Err(JoinError::Cancelled));
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            // async-task never polls a completed task.
            unreachable!("bucle task polled after completion");
        };
        let started = meta.stats.poll_begins(meta.timing());
        let result = panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
        meta.stats
            .poll_ends(started, !matches!(result, Ok(Poll::Pending)));
        match result {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                drop_contained(this.future.as_mut());
                Poll::Ready(Ok(output))
            }
            Err(payload) => {
                drop_contained(this.future.as_mut());
                let message = panic_message(&*payload).to_owned();
                let panic = Panic::new(
                    payload,
                    message,
                    meta.id,
                    meta.name.clone(),
                    meta.spawned_at,
                );
                if meta.panicked() {
                    panic.report_unretrieved();
                }
                Poll::Ready(Err(JoinError::Panicked(panic)))
            }
        }
    }
}

/// Drops the user's future now, on the loop thread; a panic in its destructor is contained.
fn drop_contained<F>(mut future: Pin<&mut Option<F>>) {
    if panic::catch_unwind(AssertUnwindSafe(|| future.set(None))).is_err() {
        eprintln!("bucle: a task's future panicked while being dropped; the panic was contained");
    }
}

/// Enters a task in its loop's registry, at its first poll.
fn register(meta: &Meta, waker: &Waker) {
    let slot = meta.shared.registry.insert(meta, waker);
    meta.slot.store(slot, Ordering::SeqCst);
    context::with_current(|core| {
        let core = core.expect("bucle tasks are only polled by their own loop");
        core.current.set(Some((meta.id, slot)));
        core.detector.task_started(meta.id, meta.name.as_ref());
    });
}

/// Removes a task from its loop's registry when its future goes.
fn unregister(meta: &Meta) {
    let slot = meta.slot();
    if slot == NO_SLOT {
        return;
    }
    meta.shared.registry.remove(slot, meta.id);
    if meta.name.is_some() {
        context::with_current(|core| {
            if let Some(core) = core {
                core.detector.task_finished(meta.id, true);
            }
        });
    }
}
