//! The FIFO of waiting futures that every primitive in [`crate::sync`] is built on.
//!
//! A waiter is a slot in a slab, linked into a doubly linked list by index. Waiting adds a
//! slot at the tail; notifying takes the head out of the list, stores *why* it was woken in
//! its slot and hands back its waker. The slot itself stays until the future that owns it
//! removes it, on completion or on drop, so the future always learns whether it was
//! notified, and a future dropped after its notification can pass the grant on (asyncio's
//! `_wake_up_next`, "Ensure the lock invariant").
//!
//! Slots are reused, so a steady state of waits allocates nothing; wakers are cloned only
//! when a waiter registers or its task changes, and they are handed back to the caller to
//! be woken after the primitive's mutex is released: a waker may run arbitrary code.
//!
//! The list never touches user data and holds no `unsafe`: indices instead of pointers.

use std::task::Waker;

use slab::Slab;

/// "No neighbour" in the links.
const NIL: usize = usize::MAX;

/// The waiters of one primitive, oldest first. `N` says why a waiter was notified (a grant,
/// a shutdown, a broken barrier...).
#[derive(Debug)]
pub(crate) struct WaiterList<N = ()> {
    /// Every registered waiter: the queued ones and the notified ones whose future has not
    /// looked yet. A key belongs to the future that registered it until that future removes it.
    nodes: Slab<Node<N>>,
    /// Oldest queued waiter, or `NIL`.
    head: usize,
    /// Newest queued waiter, or `NIL`.
    tail: usize,
    /// How many waiters are linked (not yet notified).
    queued: usize,
}

#[derive(Debug)]
struct Node<N> {
    prev: usize,
    next: usize,
    /// Set while queued; taken when notified.
    waker: Option<Waker>,
    /// `Some` once notified: the node is then out of the list.
    notified: Option<N>,
}

impl<N: Copy> Default for WaiterList<N> {
    fn default() -> Self {
        WaiterList::new()
    }
}

impl<N: Copy> WaiterList<N> {
    pub(crate) fn new() -> Self {
        WaiterList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// Queues a new waiter at the tail and returns its key.
    pub(crate) fn push(&mut self, waker: &Waker) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            waker: Some(waker.clone()),
            notified: None,
        });
        if self.tail == NIL {
            self.head = key;
        } else {
            self.nodes[self.tail].next = key;
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// Why the waiter `key` was notified, or `None` while it still waits. If it still waits,
    /// its waker is replaced by `waker` (the future may have moved to another task).
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> Option<N> {
        let node = &mut self.nodes[key];
        if node.notified.is_some() {
            return node.notified;
        }
        match &node.waker {
            Some(old) if old.will_wake(waker) => {}
            _ => node.waker = Some(waker.clone()),
        }
        None
    }

    /// Why the waiter `key` was notified, without touching its waker.
    #[cfg(test)]
    pub(crate) fn state(&self, key: usize) -> Option<N> {
        self.nodes[key].notified
    }

    /// Removes the waiter `key`, queued or notified, and frees its slot. Returns why it was
    /// notified, if it was: a future dropped after a grant must pass the grant on.
    pub(crate) fn remove(&mut self, key: usize) -> Option<N> {
        if self.nodes[key].notified.is_none() {
            self.unlink(key);
        }
        self.nodes.remove(key).notified
    }

    /// Notifies the oldest queued waiter with `why` and returns its waker, to be woken once
    /// the primitive's lock is released. `None` if no waiter is queued.
    pub(crate) fn notify_one(&mut self, why: N) -> Option<Waker> {
        let key = self.head;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.notified = Some(why);
        node.waker.take()
    }

    /// Notifies every queued waiter with `why`, oldest first, pushing their wakers on `wakers`.
    pub(crate) fn notify_all(&mut self, why: N, wakers: &mut Vec<Waker>) {
        wakers.reserve(self.queued);
        while let Some(waker) = self.notify_one(why) {
            wakers.push(waker);
        }
    }

    /// How many waiters are queued.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// How many waiters are registered: queued, or notified and not yet removed.
    pub(crate) fn registered(&self) -> usize {
        self.nodes.len()
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let node = &self.nodes[key];
            (node.prev, node.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next].prev = prev;
        }
        let node = &mut self.nodes[key];
        node.prev = NIL;
        node.next = NIL;
        self.queued -= 1;
    }
}

/// Wakes every waker of `wakers`. Call it after the primitive's lock is released.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::counting_waker as waker;
    use std::sync::atomic::Ordering;

    #[test]
    fn notifies_in_fifo_order() {
        let (_, w) = waker();
        let mut list = WaiterList::<u8>::new();
        let a = list.push(&w);
        let b = list.push(&w);
        let c = list.push(&w);
        assert!(list.notify_one(1).is_some());
        assert_eq!(list.state(a), Some(1));
        assert_eq!(list.state(b), None);
        assert_eq!(list.remove(b), None);
        assert!(list.notify_one(2).is_some());
        assert_eq!(list.state(c), Some(2));
        assert!(list.notify_one(3).is_none());
        assert_eq!(list.remove(a), Some(1));
        assert_eq!(list.remove(c), Some(2));
        assert_eq!(list.registered(), 0);
        assert_eq!(list.queued(), 0);
    }

    #[test]
    fn removing_from_the_middle_keeps_the_order() {
        let (_, w) = waker();
        let mut list = WaiterList::<()>::new();
        let keys: Vec<usize> = (0..5).map(|_| list.push(&w)).collect();
        list.remove(keys[2]);
        list.remove(keys[0]);
        list.remove(keys[4]);
        let d = list.push(&w);
        let mut order = Vec::new();
        while list.notify_one(()).is_some() {
            order.push(
                [keys[1], keys[3], d]
                    .into_iter()
                    .find(|k| list.state(*k).is_some() && !order.contains(k))
                    .unwrap(),
            );
        }
        assert_eq!(order, [keys[1], keys[3], d]);
    }

    #[test]
    fn notify_all_hands_back_every_waker_once() {
        let (counter, w) = waker();
        let mut list = WaiterList::<()>::new();
        for _ in 0..10 {
            list.push(&w);
        }
        let mut wakers = Vec::new();
        list.notify_all((), &mut wakers);
        assert_eq!(wakers.len(), 10);
        wake_all(wakers);
        assert_eq!(counter.0.load(Ordering::SeqCst), 10);
        assert_eq!(list.queued(), 0);
        assert_eq!(list.registered(), 10);
    }
}
