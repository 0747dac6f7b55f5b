//! The loop's registry of started tasks: one entry per task from its first poll until its
//! future is dropped.
//!
//! An entry holds a waker of the task, so shutdown and cross-thread cancellation can reach a
//! task that waits on something that never comes, and a pointer to the task's metadata, so
//! listings and dumps can read its name, spawn site and statistics. The registry sits behind
//! a mutex that only task start and finish take on the loop thread (no lock per poll), so
//! `Handle::dump` can read it from another thread even while the loop is stuck.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use slab::Slab;

use super::raw::Meta;
use super::{Id, TaskInfo};

#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<Slab<Entry>>,
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

    /// Enters a task at its first poll; returns its slot.
    pub(crate) fn insert(&self, meta: &Meta, waker: &Waker) -> usize {
        let parent = meta.stats.take_parent();
        self.lock().insert(Entry {
            waker: waker.clone(),
            meta: NonNull::from(meta),
            parent,
            awaiting: None,
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

    /// A listing of every registered task, by id.
    pub(crate) fn snapshot(&self) -> Vec<TaskInfo> {
        let mut tasks: Vec<TaskInfo> = self.lock().iter().map(|(_, entry)| entry.info()).collect();
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
    /// Every started task has an entry (see chapter 9).
    #[test]
    fn a_registry_entry_stays_at_48_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry>(), 48);
    }
}
