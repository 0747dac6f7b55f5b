//! Per-task statistics for listings and dumps: state, polls, busy time, longest poll, what
//! the task awaits.
//!
//! Each task's `TaskStats` lives in its metadata, written only by its loop thread and read by
//! anyone through the loop's registry: `task::all()`, and `Handle::dump()` from other threads
//! while the loop is blocked. Every field is an atomic written with plain relaxed stores (one writer,
//! so no read-modify-write), which costs about what a plain store costs on the poll path.
//! The one compare-and-swap per poll settles the race between "the poll ended" and "another
//! thread woke the task meanwhile".
//!
//! Reading the clock twice per poll (for busy time, the longest poll, and how long the
//! running poll has been going) is switched by
//! [`Builder::task_timing`](crate::runtime::Builder::task_timing): on in debug builds, off in
//! release builds, where it would about double the loop's cost of an empty poll.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::Id;

const SCHEDULED: u8 = 0;
const RUNNING: u8 = 1;
const IDLE: u8 = 2;
const FINISHED: u8 = 3;

/// What a task is doing at the moment it was looked at.
///
/// ```
/// # bucle::run(async {
/// let me = bucle::spawn(async { bucle::task::current().state() }).await.unwrap();
/// assert_eq!(me, bucle::task::TaskState::Running);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Woken (or just spawned) and waiting in the ready queue for its turn.
    Scheduled,
    /// Being polled right now: in a dump taken during a stall, the task holding the loop.
    Running,
    /// Waiting for a wake: a timer, I/O, a queue, another task.
    Idle,
    /// Finished (completed, cancelled or panicked); seen only in a snapshot taken as it ended.
    Finished,
}

impl TaskState {
    fn from_u8(state: u8) -> TaskState {
        match state {
            SCHEDULED => TaskState::Scheduled,
            RUNNING => TaskState::Running,
            IDLE => TaskState::Idle,
            _ => TaskState::Finished,
        }
    }

    /// The state's name in listings: `scheduled`, `running`, `idle` or `finished`.
    ///
    /// ```
    /// assert_eq!(bucle::task::TaskState::Idle.as_str(), "idle");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Idle => "idle",
            TaskState::Finished => "finished",
        }
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task's record, kept in its metadata: written by its loop thread, read by anyone
/// through the loop's registry. Kept small: every task carries one.
pub(crate) struct TaskStats {
    state: AtomicU8,
    /// Kept here for the task's metadata (`raw::Meta`), beside `state` so that the three
    /// share one word: cancel and panic flags.
    pub(super) flags: AtomicU8,
    /// The task's registry slot, written once, when its first poll returns `Pending`;
    /// [`NO_SLOT`] before (and for good if the first poll finished the task). A cancel from
    /// another thread reads it to find the task's waker.
    pub(super) slot: AtomicU32,
    /// Two uses in one word, one after the other. Until the task is registered: the id of
    /// the task that spawned this one (0 for none), which registration moves into the
    /// task's registry entry ([`TaskStats::registered`]), where listings read it. From then
    /// on: how many polls have begun.
    polls: AtomicU64,
}

/// No registry slot: the task has not yet returned `Pending`.
pub(super) const NO_SLOT: u32 = u32::MAX;

/// Poll timing of one task, kept out of line (in the task's extras) and only where the loop
/// times polls (`Builder::task_timing`), so untimed tasks do not carry it.
#[derive(Default)]
pub(crate) struct PollTiming {
    busy_ns: AtomicU64,
    longest_ns: AtomicU64,
    /// Nanoseconds after the loop's epoch at which the running poll began; meaningful
    /// while the task is running.
    poll_started_ns: AtomicU64,
}

/// A task's timing record and the loop's time origin, when polls are timed.
pub(crate) type Timing<'a> = Option<(&'a PollTiming, Instant)>;

impl TaskStats {
    pub(crate) fn new(parent: Option<Id>) -> TaskStats {
        TaskStats {
            state: AtomicU8::new(SCHEDULED),
            flags: AtomicU8::new(0),
            slot: AtomicU32::new(NO_SLOT),
            polls: AtomicU64::new(parent.map_or(0, Id::as_u64)),
        }
    }

    /// The spawning task's id, while the task is not registered (until the end of its
    /// first poll).
    pub(crate) fn parent_before_registration(&self) -> Option<Id> {
        Id::from_u64(self.polls.load(Ordering::Relaxed))
    }

    /// Takes the spawning task's id out, leaving the poll count at one: the first poll,
    /// which has just returned `Pending`. Called once, by the loop thread, as it registers
    /// the task.
    pub(crate) fn registered(&self) -> Option<Id> {
        // Single writer (the loop thread): a load and a store, no locked read-modify-write.
        let parent = self.parent_before_registration();
        self.polls.store(1, Ordering::Relaxed);
        parent
    }

    /// The task was woken: it now waits in a ready queue. Any thread.
    #[inline]
    pub(crate) fn scheduled(&self) {
        self.state.store(SCHEDULED, Ordering::Relaxed);
    }

    /// A poll begins (loop thread). Returns the start time if polls are timed. The first
    /// poll is counted by [`TaskStats::registered`], if the task lives past it: until then
    /// the count's word holds the parent's id.
    #[inline]
    pub(crate) fn poll_begins(&self, timing: Timing<'_>, first: bool) -> Option<Instant> {
        self.state.store(RUNNING, Ordering::Relaxed);
        if !first {
            // Single writer: a load and a store, no locked read-modify-write.
            let polls = self.polls.load(Ordering::Relaxed);
            self.polls.store(polls + 1, Ordering::Relaxed);
        }
        let (record, epoch) = timing?;
        let now = Instant::now();
        let since_epoch = now.saturating_duration_since(epoch).as_nanos() as u64;
        record.poll_started_ns.store(since_epoch, Ordering::Relaxed);
        Some(now)
    }

    /// The poll begun by `poll_begins` ended (loop thread).
    #[inline]
    pub(crate) fn poll_ends(&self, timing: Timing<'_>, started: Option<Instant>, finished: bool) {
        if let (Some((record, _)), Some(started)) = (timing, started) {
            let took = started.elapsed().as_nanos() as u64;
            let busy = record.busy_ns.load(Ordering::Relaxed);
            record.busy_ns.store(busy + took, Ordering::Relaxed);
            if took > record.longest_ns.load(Ordering::Relaxed) {
                record.longest_ns.store(took, Ordering::Relaxed);
            }
        }
        if finished {
            self.state.store(FINISHED, Ordering::Relaxed);
        } else {
            // A wake during the poll (from this or another thread) set SCHEDULED: keep it.
            let _ =
                self.state
                    .compare_exchange(RUNNING, IDLE, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    pub(crate) fn state(&self) -> TaskState {
        TaskState::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Polls begun so far; meaningful once the task is registered (after its first poll).
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    pub(crate) fn busy(&self, timing: Timing<'_>) -> Option<Duration> {
        timing.map(|(record, _)| Duration::from_nanos(record.busy_ns.load(Ordering::Relaxed)))
    }

    pub(crate) fn longest_poll(&self, timing: Timing<'_>) -> Option<Duration> {
        timing.map(|(record, _)| Duration::from_nanos(record.longest_ns.load(Ordering::Relaxed)))
    }

    /// How long the running poll has been going, if the task is running and polls are timed.
    pub(crate) fn running_for(&self, timing: Timing<'_>) -> Option<Duration> {
        let (record, epoch) = timing?;
        if self.state.load(Ordering::Relaxed) != RUNNING {
            return None;
        }
        let started = Duration::from_nanos(record.poll_started_ns.load(Ordering::Relaxed));
        Some(epoch.elapsed().saturating_sub(started))
    }
}
