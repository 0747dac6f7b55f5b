//! The loop's timers: a binary heap of deadlines over a slab of entries.
//!
//! Insert and fire are O(log n); cancelling is O(1) (the slab entry goes, its heap entry is
//! skipped when it surfaces). Timers with equal deadlines fire in the order they were
//! registered. Stale heap entries are compacted away once they outnumber live ones, so a
//! program that keeps arming and dropping long timeouts does not grow the heap without bound.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// What a timer does when its deadline passes.
pub(crate) enum Action {
    /// Wake a `Sleep` (or anything else that waits for the deadline).
    Wake(Waker),
    /// Run a `call_later` callback on the loop.
    Call(Box<dyn FnOnce()>),
}

/// Names one registered timer; stays valid until the timer fires or is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: usize,
    seq: u64,
}

struct Entry {
    seq: u64,
    action: Action,
}

#[derive(Default)]
pub(crate) struct Timers {
    /// Min-heap by (deadline, registration order). May hold entries whose slab slot was
    /// removed or reused: `seq` tells the live one apart.
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    entries: Slab<Entry>,
    next_seq: u64,
}

impl Timers {
    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.entries.insert(Entry { seq, action });
        self.heap.push(Reverse((deadline, seq, slot)));
        self.compact_if_stale();
        TimerKey { slot, seq }
    }

    /// Replaces the waker of a live `Wake` timer; returns false if the timer is gone.
    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(key.slot) {
            Some(entry) if entry.seq == key.seq => {
                if let Action::Wake(current) = &mut entry.action {
                    if !current.will_wake(waker) {
                        current.clone_from(waker);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// Removes a timer that has not fired; returns its action if it was still pending.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Action> {
        match self.entries.get(key.slot) {
            Some(entry) if entry.seq == key.seq => Some(self.entries.remove(key.slot).action),
            _ => None,
        }
    }

    pub(crate) fn contains(&self, key: TimerKey) -> bool {
        matches!(self.entries.get(key.slot), Some(entry) if entry.seq == key.seq)
    }

    /// The earliest live deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, seq, slot))) = self.heap.peek().copied() {
            if self.is_live(seq, slot) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes the next timer whose deadline is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Action> {
        while let Some(Reverse((deadline, seq, slot))) = self.heap.peek().copied() {
            if !self.is_live(seq, slot) {
                self.heap.pop();
                continue;
            }
            if deadline > now {
                return None;
            }
            self.heap.pop();
            return Some(self.entries.remove(slot).action);
        }
        None
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every timer (their wakers and callbacks) at shutdown.
    pub(crate) fn clear(&mut self) -> Vec<Action> {
        self.heap.clear();
        self.entries.drain().map(|entry| entry.action).collect()
    }

    fn is_live(&self, seq: u64, slot: usize) -> bool {
        matches!(self.entries.get(slot), Some(entry) if entry.seq == seq)
    }

    fn compact_if_stale(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.entries.len() {
            let entries = &self.entries;
            self.heap.retain(
                |Reverse((_, seq, slot))| matches!(entries.get(*slot), Some(e) if e.seq == *seq),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(log: &std::rc::Rc<std::cell::RefCell<Vec<u32>>>, n: u32) -> Action {
        let log = log.clone();
        Action::Call(Box::new(move || log.borrow_mut().push(n)))
    }

    fn fire_all(timers: &mut Timers, now: Instant) {
        while let Some(action) = timers.pop_due(now) {
            match action {
                Action::Call(f) => f(),
                Action::Wake(w) => w.wake(),
            }
        }
    }

    #[test]
    fn equal_deadlines_fire_in_registration_order() {
        let log = Default::default();
        let mut timers = Timers::default();
        let t = Instant::now();
        for n in 0..5 {
            timers.insert(t, call(&log, n));
        }
        timers.insert(t - Duration::from_millis(1), call(&log, 99));
        fire_all(&mut timers, t);
        assert_eq!(*log.borrow(), vec![99, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn removed_timers_do_not_fire_and_slots_are_not_confused() {
        let log = Default::default();
        let mut timers = Timers::default();
        let t = Instant::now();
        let a = timers.insert(t, call(&log, 1));
        assert!(timers.remove(a).is_some());
        assert!(timers.remove(a).is_none(), "a second remove finds nothing");
        // The slab slot is reused; the stale heap entry must not fire the new timer early.
        let b = timers.insert(t + Duration::from_secs(1), call(&log, 2));
        assert_eq!(a.slot, b.slot);
        fire_all(&mut timers, t);
        assert!(log.borrow().is_empty());
        assert_eq!(timers.next_deadline(), Some(t + Duration::from_secs(1)));
    }

    #[test]
    fn stale_entries_are_compacted() {
        let mut timers = Timers::default();
        let t = Instant::now();
        for _ in 0..10_000 {
            let key = timers.insert(t, Action::Call(Box::new(|| {})));
            timers.remove(key);
        }
        assert!(timers.heap.len() <= 2048, "heap kept {}", timers.heap.len());
        assert!(timers.is_empty());
    }
}
