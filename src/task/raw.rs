//! What the loop keeps for each task: its metadata (in the `async-task` header, readable from
//! the `JoinHandle` on any thread), the wrapper future that contains panics and carries out
//! cancellation, and its entry in the loop's registry.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::stats::{PollTiming, TaskStats, Timing, NO_SLOT};
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

/// Kept in every task's allocation, so kept small (64 bytes on 64-bit targets): what only
/// some tasks have (a name, their own detector setting, poll timing) lives out of line in
/// [`Extras`], allocated only for those tasks.
pub(crate) struct Meta {
    pub(crate) id: Id,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) shared: Arc<Shared>,
    extras: Option<Box<Extras>>,
    /// State and poll statistics, readable from any thread (`Handle::dump`), and the
    /// task's cancel flags and registry slot, which share the statistics' last word.
    pub(crate) stats: TaskStats,
}

/// What only some tasks carry.
struct Extras {
    name: Option<Arc<str>>,
    /// The task's own blocking-detector setting (`task::Builder::allow_blocking`...).
    blocking: TaskBlocking,
    /// Poll timing, kept up to date where the loop times polls.
    timing: PollTiming,
}

impl Meta {
    pub(crate) fn new(
        name: Option<Arc<str>>,
        blocking: TaskBlocking,
        spawned_at: &'static Location<'static>,
        shared: Arc<Shared>,
        parent: Option<Id>,
    ) -> Meta {
        let extras = (name.is_some() || blocking != TaskBlocking::Default || shared.task_timing)
            .then(|| {
                Box::new(Extras {
                    name,
                    blocking,
                    timing: PollTiming::default(),
                })
            });
        Meta {
            id: Id::next(),
            spawned_at,
            shared,
            extras,
            stats: TaskStats::new(parent),
        }
    }

    /// The task's name, if it was given one.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.extras.as_ref()?.name.as_ref()
    }

    /// The task's own blocking-detector setting.
    pub(crate) fn blocking(&self) -> TaskBlocking {
        self.extras
            .as_ref()
            .map_or(TaskBlocking::Default, |extras| extras.blocking)
    }

    /// The task's timing record and the loop's time origin, if task polls are timed
    /// (`Builder::task_timing`).
    pub(crate) fn timing(&self) -> Timing<'_> {
        let extras = self.extras.as_deref()?;
        self.shared
            .task_timing
            .then_some((&extras.timing, self.shared.epoch))
    }

    /// Marks the task cancelled; its next poll drops the future instead of polling it.
    pub(crate) fn request_cancel(&self) -> bool {
        self.stats.flags.fetch_or(CANCEL, Ordering::SeqCst) & CANCEL == 0
    }

    /// The registry slot, or `None` before the first poll.
    pub(crate) fn slot(&self) -> Option<usize> {
        match self.stats.slot.load(Ordering::Relaxed) {
            NO_SLOT => None,
            slot => Some(slot as usize),
        }
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.stats.flags.load(Ordering::SeqCst) & CANCEL != 0
    }

    /// Requests cancellation and makes sure the task runs to see it, from any thread.
    pub(crate) fn cancel(&self) {
        if !self.request_cancel() {
            return;
        }
        // Ordered after the flag: either the first poll sees the flag, or we see its slot.
        let slot = match self.stats.slot.load(Ordering::SeqCst) {
            NO_SLOT => return,
            slot => slot as usize,
        };
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
        let previous = self.stats.flags.fetch_or(HANDLE_DROPPED, Ordering::SeqCst);
        previous & PANICKED != 0
    }

    /// Records that the task panicked. Returns true if its handle is already gone: the
    /// caller then reports the panic.
    fn panicked(&self) -> bool {
        let previous = self.stats.flags.fetch_or(PANICKED, Ordering::SeqCst);
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
        if meta.slot().is_none() {
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
        let timing = meta.timing();
        let started = meta.stats.poll_begins(timing);
        let result = panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
        meta.stats
            .poll_ends(timing, started, !matches!(result, Ok(Poll::Pending)));
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
                    meta.name().cloned(),
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
    // More than four billion tasks alive at once would exhaust memory long before this.
    let slot = u32::try_from(slot).expect("fewer than 2^32 live tasks");
    meta.stats.slot.store(slot, Ordering::SeqCst);
    let slot = slot as usize;
    context::with_current(|core| {
        let core = core.expect("bucle tasks are only polled by their own loop");
        core.current.set(Some((meta.id, slot)));
        core.detector.task_started(meta.id, meta.name());
    });
}

/// Removes a task from its loop's registry when its future goes.
fn unregister(meta: &Meta) {
    let Some(slot) = meta.slot() else {
        return;
    };
    meta.shared.registry.remove(slot, meta.id);
    if meta.name().is_some() {
        context::with_current(|core| {
            if let Some(core) = core {
                core.detector.task_finished(meta.id, true);
            }
        });
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    /// Every task carries its metadata: growing it grows every task (see chapter 9).
    #[test]
    fn task_metadata_stays_at_64_bytes() {
        assert_eq!(std::mem::size_of::<super::Meta>(), 64);
    }
}
