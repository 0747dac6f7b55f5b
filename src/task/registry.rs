//! The loop's registry of live tasks: one entry per task from the end of its first poll, if
//! that poll did not finish it, until its future is dropped.
//!
//! An entry holds a waker of the task, so shutdown and cross-thread cancellation can reach a
//! task that waits on something that never comes, and a pointer to the task's metadata, so
//! listings and dumps can read its name, spawn site and statistics. The registry sits behind
//! a mutex that only task registration and finish take on the loop thread (no lock per
//! poll), so `Handle::dump` can read it from another thread even while the loop is stuck.
//!
//! Most short tasks finish in their first poll, so a task is entered only when that poll
//! returns `Pending`: a task that runs to completion at once costs no lock and no entry.
//! Until then the task in its first poll is published in [`Registry::first_poll`], with two
//! plain stores and no lock, so listings still show a task stuck in its first poll.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use slab::Slab;

use super::raw::Meta;
use super::{Id, TaskInfo};

#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<Slab<Entry>>,
    /// The task in its first poll, not yet entered (null between polls). Written by the
    /// loop thread only.
    first_poll: AtomicPtr<Meta>,
    /// Threads reading the task behind `first_poll`. The loop waits for them to leave
    /// before the run that polls the task ends, since the task's memory may go after it.
    first_poll_readers: AtomicUsize,
}

struct Entry {
    /// Holds a reference to the task, which keeps its allocation (and so `meta`) alive.
    waker: Waker,
    meta: NonNull<Meta>,
    /// The task that spawned this one, moved here from the metadata by the first poll.
    parent: Option<Id>,
    /// What the task's poll ended waiting on, if it was a `JoinHandle`. Kept here rather
    /// than in every task's metadata: only started tasks can wait, and it is written under
    /// the lock anyway.
    awaiting: Option<Awaiting>,
}

/// The task `target`, awaited through its `JoinHandle` by the poll numbered `poll`.
#[derive(Clone, Copy)]
struct Awaiting {
    target: Id,
    poll: u64,
}

// SAFETY: `meta` points into the task's allocation, which the entry's own `waker` keeps
// alive, and `Meta` is `Sync` (its mutable parts are atomics), so the entry may be moved to
// and read from any thread.
unsafe impl Send for Entry {}

impl Entry {
    fn meta(&self) -> &Meta {
        // SAFETY: see `impl Send for Entry`: the task's allocation outlives the entry, and
        // the reference cannot outlive the borrow of the entry, which the registry's lock
        // protects from removal.
        unsafe { self.meta.as_ref() }
    }

    fn info(&self) -> TaskInfo {
        let meta = self.meta();
        // A wait noted by an earlier poll is over: the task has been polled since.
        let awaiting = self
            .awaiting
            .filter(|awaiting| awaiting.poll == meta.stats.polls())
            .map(|awaiting| awaiting.target);
        TaskInfo::from_meta(meta, self.parent, awaiting)
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Slab<Entry>> {
        // Nothing panics while holding the lock; recover anyway rather than lose tasks.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes the task whose first poll begins (loop thread), until
    /// [`Registry::first_poll_ends`]. Returns what was published before, for that call.
    #[inline]
    pub(crate) fn first_poll_begins(&self, meta: &Meta) -> *mut Meta {
        let previous = self.first_poll.load(Ordering::Relaxed);
        // Release: a reader that loads the pointer sees the metadata it points to.
        self.first_poll
            .store(NonNull::from(meta).as_ptr(), Ordering::Release);
        previous
    }

    /// Withdraws the task whose first poll ended, and waits for any thread still reading
    /// it, so that its memory may go once the run ends.
    #[inline]
    pub(crate) fn first_poll_ends(&self, previous: *mut Meta) {
        // SeqCst, with the readers' SeqCst count and load: a reader either counted itself
        // before this store (and is waited for below) or loads the new value.
        self.first_poll.store(previous, Ordering::SeqCst);
        let mut spins = 0u32;
        while self.first_poll_readers.load(Ordering::SeqCst) != 0 {
            // A reader only copies a few fields; yield if it was descheduled meanwhile.
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// What is known of the task in its first poll, if any. Any thread.
    fn first_poll_info(&self) -> Option<TaskInfo> {
        self.first_poll_readers.fetch_add(1, Ordering::SeqCst);
        let meta = self.first_poll.load(Ordering::SeqCst);
        // SAFETY: a non-null pointer was stored by `first_poll_begins` from a live task's
        // metadata, and `first_poll_ends` withdraws it and then waits until no reader is
        // counted before that task's run (which keeps its allocation alive) can end. This
        // reader counted itself before loading, so the metadata lives until it uncounts
        // itself below. `Meta` is `Sync`.
        let info = unsafe { meta.as_ref() }.map(TaskInfo::in_first_poll);
        self.first_poll_readers.fetch_sub(1, Ordering::SeqCst);
        info
    }

    /// Enters a task whose first poll returned `Pending`, with what that poll ended
    /// waiting on; returns its slot.
    pub(crate) fn insert(&self, meta: &Meta, waker: &Waker, awaiting: Option<Id>) -> usize {
        let waker = waker.clone();
        let mut entries = self.lock();
        // Under the lock: a listing that holds it sees the parent's id either still in the
        // metadata (and the task through `first_poll`) or in this entry.
        let parent = meta.stats.registered();
        entries.insert(Entry {
            waker,
            meta: NonNull::from(meta),
            parent,
            awaiting: awaiting.map(|target| Awaiting { target, poll: 1 }),
        })
    }

    /// Removes the task `id` from `slot`. Its waker is dropped after the lock is released.
    pub(crate) fn remove(&self, slot: usize, id: Id) {
        let removed = {
            let mut entries = self.lock();
            match entries.get(slot) {
                Some(entry) if entry.meta().id == id => Some(entries.remove(slot)),
                _ => None,
            }
        };
        drop(removed);
    }

    /// The waker of the task `id` at `slot`, if it is still registered.
    pub(crate) fn waker(&self, slot: usize, id: Id) -> Option<Waker> {
        match self.lock().get(slot) {
            Some(entry) if entry.meta().id == id => Some(entry.waker.clone()),
            _ => None,
        }
    }

    /// The wakers of every registered task.
    pub(crate) fn wakers(&self) -> Vec<Waker> {
        self.lock().iter().map(|(_, e)| e.waker.clone()).collect()
    }

    /// Records that the running poll of the task at `slot` ends waiting on task `target`.
    pub(crate) fn note_awaiting(&self, slot: usize, target: Id) {
        if let Some(entry) = self.lock().get_mut(slot) {
            let poll = entry.meta().stats.polls();
            entry.awaiting = Some(Awaiting { target, poll });
        }
    }

    /// What is known of the task at `slot`.
    pub(crate) fn info(&self, slot: usize) -> Option<TaskInfo> {
        self.lock().get(slot).map(Entry::info)
    }

    /// A listing of every started task (registered, or in its first poll), by id.
    pub(crate) fn snapshot(&self) -> Vec<TaskInfo> {
        let entries = self.lock();
        let mut tasks: Vec<TaskInfo> = entries.iter().map(|(_, entry)| entry.info()).collect();
        // Read under the lock, so a task being entered right now is listed once, not twice
        // and not with its parent's id read as a poll count.
        if let Some(first) = self.first_poll_info() {
            if tasks.iter().all(|task| task.id() != first.id()) {
                tasks.push(first);
            }
        }
        drop(entries);
        tasks.sort_by_key(TaskInfo::id);
        tasks
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    /// Every task that outlives its first poll has an entry (see chapter 9).
    #[test]
    fn a_registry_entry_stays_at_48_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry>(), 48);
    }
}
