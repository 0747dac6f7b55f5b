//! What the loop keeps for each task: its metadata (in the `async-task` header, readable from
//! the `JoinHandle` on any thread), the wrapper future that contains panics and carries out
//! cancellation, and its entry in the loop's registry.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::stats::{PollTiming, TaskStats, Timing, NO_SLOT};
use super::{panic_message, Id, JoinError, Panic};
use crate::detector::TaskBlocking;
use crate::runtime::context;
use crate::runtime::core::{Core, Remote, Shared};

/// Cancellation has been requested.
const CANCEL: u8 = 1;
/// The task panicked and its output has not been read.
const PANICKED: u8 = 2;
/// The `JoinHandle` was dropped without reading the output.
const HANDLE_DROPPED: u8 = 4;

/// Kept in every task's allocation, so kept small (40 bytes on 64-bit targets): what only
/// some tasks have (a name, their own detector setting, poll timing) lives out of line in
/// [`Extras`], allocated only for those tasks.
pub(crate) struct Meta {
    pub(crate) id: Id,
    pub(crate) shared: Arc<Shared>,
    /// The spawn site, or the extras (which then hold it).
    origin: Origin,
    /// State and poll statistics, readable from any thread (`Handle::dump`), and the
    /// task's cancel flags and registry slot, which share the statistics' last word.
    pub(crate) stats: TaskStats,
}

/// What only some tasks carry.
struct Extras {
    spawned_at: &'static Location<'static>,
    name: Option<Arc<str>>,
    /// The task's own blocking-detector setting (`task::Builder::allow_blocking`...).
    blocking: TaskBlocking,
    /// Poll timing, kept up to date where the loop times polls.
    timing: PollTiming,
}

impl Meta {
    #[inline]
    pub(crate) fn new(
        name: Option<Arc<str>>,
        blocking: TaskBlocking,
        spawned_at: &'static Location<'static>,
        shared: Arc<Shared>,
        parent: Option<Id>,
    ) -> Meta {
        let origin = if name.is_some() || blocking != TaskBlocking::Default || shared.task_timing {
            Origin::with_extras(Box::new(Extras {
                spawned_at,
                name,
                blocking,
                timing: PollTiming::default(),
            }))
        } else {
            Origin::site(spawned_at)
        };
        Meta {
            id: Id::next(),
            shared,
            origin,
            stats: TaskStats::new(parent),
        }
    }

    /// Where the task was spawned.
    pub(crate) fn spawned_at(&self) -> &'static Location<'static> {
        self.origin.spawned_at()
    }

    /// The task's name, if it was given one.
    #[inline]
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.origin.extras()?.name.as_ref()
    }

    /// The task's own blocking-detector setting.
    pub(crate) fn blocking(&self) -> TaskBlocking {
        self.origin
            .extras()
            .map_or(TaskBlocking::Default, |extras| extras.blocking)
    }

    /// The task's timing record and the loop's time origin, if task polls are timed
    /// (`Builder::task_timing`).
    #[inline]
    pub(crate) fn timing(&self) -> Timing<'_> {
        let extras = self.origin.extras()?;
        self.shared
            .task_timing
            .then_some((&extras.timing, self.shared.epoch))
    }

    /// Marks the task cancelled; its next poll drops the future instead of polling it.
    pub(crate) fn request_cancel(&self) -> bool {
        self.stats.flags.fetch_or(CANCEL, Ordering::SeqCst) & CANCEL == 0
    }

    /// The registry slot, or `None` until the first poll returns `Pending`.
    #[inline]
    pub(crate) fn slot(&self) -> Option<usize> {
        match self.stats.slot.load(Ordering::Relaxed) {
            NO_SLOT => None,
            slot => Some(slot as usize),
        }
    }

    #[inline]
    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.stats.flags.load(Ordering::SeqCst) & CANCEL != 0
    }

    /// Requests cancellation and makes sure the task runs to see it, from any thread.
    pub(crate) fn cancel(&self) {
        if !self.request_cancel() {
            return;
        }
        // Ordered after the flag: either the task's registration (at the end of its first
        // poll) sees the flag, or we see its slot. A task not yet polled sees the flag when
        // its first poll begins.
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

/// A task's spawn site and, for the tasks that have them, its extras, in one word: either a
/// `&'static Location` or a `Box<Extras>` that holds the location, told apart by the
/// pointer's lowest bit, which both types' alignment leaves clear.
struct Origin(NonNull<u8>);

/// Set in an [`Origin`] that points to a `Box<Extras>`.
const EXTRAS_TAG: usize = 1;

const _: () = assert!(align_of::<Location<'static>>() > EXTRAS_TAG);
const _: () = assert!(align_of::<Extras>() > EXTRAS_TAG);

// SAFETY: an `Origin` owns its `Extras` (like a `Box`) or shares a `&'static Location`;
// both `Extras` and `Location` are `Send + Sync`, and the pointer is never written after
// construction.
unsafe impl Send for Origin {}
// SAFETY: as for `Send`.
unsafe impl Sync for Origin {}

impl Origin {
    fn site(spawned_at: &'static Location<'static>) -> Origin {
        Origin(NonNull::from(spawned_at).cast())
    }

    fn with_extras(extras: Box<Extras>) -> Origin {
        let pointer = NonNull::from(Box::leak(extras)).cast::<u8>();
        Origin(pointer.map_addr(|addr| addr | EXTRAS_TAG))
    }

    /// The extras, if this origin holds them.
    #[inline]
    fn extras(&self) -> Option<&Extras> {
        self.boxed_extras()
            // SAFETY: a tagged pointer came from `Box::leak` in `Origin::with_extras` and is freed
            // only by `drop`, so it is valid for as long as `self` is borrowed.
            .map(|extras| unsafe { extras.as_ref() })
    }

    #[inline]
    fn boxed_extras(&self) -> Option<NonNull<Extras>> {
        (self.0.addr().get() & EXTRAS_TAG != 0).then(|| {
            // Clearing the tag of an aligned, non-null address leaves it non-null.
            self.0
                .map_addr(|addr| NonZeroUsize::new(addr.get() & !EXTRAS_TAG).expect("non-null"))
                .cast::<Extras>()
        })
    }

    fn spawned_at(&self) -> &'static Location<'static> {
        match self.extras() {
            Some(extras) => extras.spawned_at,
            // SAFETY: an untagged pointer is the `&'static Location` given to `Origin::site`.
            None => unsafe { self.0.cast::<Location<'static>>().as_ref() },
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        if let Some(extras) = self.boxed_extras() {
            // SAFETY: the pointer came from `Box::leak` in `Origin::with_extras` and this is the
            // only place that frees it, once.
            drop(unsafe { Box::from_raw(extras.as_ptr()) });
        }
    }
}

/// The future `async-task` runs for a task: the user's future, with panics caught and
/// cancellation applied at poll time, on the loop thread. When it is dropped (by the run
/// that completes or cancels the task) it drops the user's future, containing a panic in
/// its destructor, and removes the task's registry entry.
///
/// It is no larger than the user's future: it keeps no pointer to the task's metadata (the
/// loop marks the running task's metadata around every run, `Core::with_running_task`, and
/// this future is only polled and dropped inside a run), and no `Option` to drop the user's
/// future early, which would cost a word for most `async` blocks.
pub(crate) struct TaskFuture<F> {
    /// Pinned whenever `self` is, and dropped in place by `drop`, never moved.
    future: ManuallyDrop<F>,
}

impl<F> TaskFuture<F> {
    pub(crate) fn new(future: F) -> Self {
        TaskFuture {
            future: ManuallyDrop::new(future),
        }
    }
}

/// Runs `f` with the loop and the metadata of the task it is running: the task whose
/// future calls this.
fn with_running_meta<R>(f: impl FnOnce(&Core, &Meta) -> R) -> R {
    context::with_current(|core| {
        let core = core.expect("bucle tasks are only polled and dropped by their own loop");
        core.with_running_task(|meta| {
            let meta = meta.expect("bucle tasks are only polled and dropped inside a run");
            f(core, meta)
        })
    })
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of `self`, only
        // polled here and dropped in place by `drop`, and `TaskFuture` has no `Unpin` impl of
        // its own that could let a pinned `F` move.
        let future = unsafe { self.map_unchecked_mut(|this| &mut *this.future) };
        with_running_meta(|core, meta| {
            if meta.is_cancel_requested() {
                // The run drops this future right after, and with it the user's.
                return Poll::Ready(Err(JoinError::Cancelled));
            }
            // Not registered: this is the task's first poll (see `registry.rs`).
            let first = meta.slot().is_none();
            let published = first.then(|| {
                core.detector.task_started(meta.id, meta.name());
                meta.shared.registry.first_poll_begins(meta)
            });
            let timing = meta.timing();
            let started = meta.stats.poll_begins(timing, first);
            let result = panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
            let pending = matches!(result, Ok(Poll::Pending));
            meta.stats.poll_ends(timing, started, !pending);
            if let Some(previous) = published {
                let awaiting = core.first_poll_awaiting.take();
                if pending {
                    register(meta, cx.waker(), awaiting);
                }
                meta.shared.registry.first_poll_ends(previous);
            }
            match result {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                Err(payload) => {
                    let message = panic_message(&*payload).to_owned();
                    let panic = Panic::new(
                        payload,
                        message,
                        meta.id,
                        meta.name().cloned(),
                        meta.spawned_at(),
                    );
                    if meta.panicked() {
                        panic.report_unretrieved();
                    }
                    Poll::Ready(Err(JoinError::Panicked(panic)))
                }
            }
        })
    }
}

impl<F> Drop for TaskFuture<F> {
    fn drop(&mut self) {
        // SAFETY: the only drop of `future`, in place (which keeps the pinning promise), and
        // `self` is not used again.
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            ManuallyDrop::drop(&mut self.future)
        }));
        if dropped.is_err() {
            eprintln!(
                "bucle: a task's future panicked while being dropped; the panic was contained"
            );
        }
        // The loop drops task futures inside a run only (see `Core::run_marked`). Were one
        // dropped elsewhere, its registry entry would stay, holding a waker that keeps the
        // task's memory alive, until the loop goes: a leak, never a dangling entry.
        context::with_current(|core| {
            let Some(core) = core else { return };
            core.with_running_task(|meta| {
                debug_assert!(
                    meta.is_some(),
                    "a bucle task future was dropped outside a run"
                );
                if let Some(meta) = meta {
                    unregister(core, meta);
                }
            });
        });
    }
}

/// Enters a task in its loop's registry, when its first poll returned `Pending`.
fn register(meta: &Meta, waker: &Waker, awaiting: Option<Id>) {
    let slot = meta.shared.registry.insert(meta, waker, awaiting);
    // More than four billion tasks alive at once would exhaust memory long before this.
    let slot = u32::try_from(slot).expect("fewer than 2^32 live tasks");
    meta.stats.slot.store(slot, Ordering::SeqCst);
    // Ordered after the slot, as `Meta::cancel` orders its flag before reading the slot: a
    // cancel from another thread during the first poll found no slot, so it is seen here.
    if meta.is_cancel_requested() {
        waker.wake_by_ref();
    }
}

/// Removes a task from its loop's registry, if it was entered, when its future goes.
#[inline]
fn unregister(core: &Core, meta: &Meta) {
    if let Some(slot) = meta.slot() {
        meta.shared.registry.remove(slot, meta.id);
    }
    if meta.name().is_some() {
        core.detector.task_finished(meta.id, true);
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    /// Every task carries its metadata: growing it grows every task (see chapter 9).
    #[test]
    fn task_metadata_stays_at_40_bytes() {
        assert_eq!(std::mem::size_of::<super::Meta>(), 40);
    }
}
