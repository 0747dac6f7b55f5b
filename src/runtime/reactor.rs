//! The reactor: I/O readiness through `polling::Poller`.
//!
//! Each registered file descriptor is a [`Source`] with one waker slot per direction.
//!
//! Where the poller supports it (epoll, kqueue), descriptors are registered once, for both
//! directions, in edge-triggered mode: an event wakes the waiters of its directions, and
//! waiting costs no system call at all. An edge is never missed: each source counts the
//! events of each direction (its *tick*), and an operation reads the tick before it tries
//! its system call; after `WouldBlock` it waits only if no event has come since that read.
//! An event that arrived before the operation began (the one that woke the task, say) is
//! already accounted for by the operation's own attempt, so it costs no second, failing
//! system call.
//!
//! Elsewhere the poller works in oneshot mode: an event disarms the descriptor, and interest
//! is re-armed only while some task waits on it, so an idle connection costs no wakeups.
//!
//! A poll that finds its direction already armed for the same task skips the `epoll_ctl`
//! call, so split halves and spurious wakes cost no syscall. Since the poller is
//! level-triggered underneath the oneshot, re-arming a descriptor that is still readable
//! reports it again at once, so no readiness is lost between a failed `read` and the next
//! poll.
//!
//! The source table lives behind a mutex because I/O objects are `Send`: one may be dropped,
//! and so deregistered, on any thread. The loop takes that lock once per batch of events.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use polling::{Event, Events, PollMode, Poller};
use slab::Slab;

pub(crate) const READ: usize = 0;
pub(crate) const WRITE: usize = 1;

pub(crate) struct Reactor {
    poller: Poller,
    /// Key (the poller's event key) -> source. Holding this lock does not imply anything
    /// about a source's own state; that has its own lock.
    sources: Mutex<Slab<Arc<Source>>>,
    /// Number of registered sources, read without the lock to skip a syscall when the loop
    /// is busy and nothing can be ready.
    registered: AtomicUsize,
    /// Edge-triggered registration (no re-arming) instead of oneshot.
    edge: bool,
}

/// One registered file descriptor.
pub(crate) struct Source {
    raw: RawFd,
    key: usize,
    /// Readiness events seen so far, per direction: written under `state`'s lock, read
    /// without it before an operation ([`Source::tick`]).
    ticks: [AtomicUsize; 2],
    state: Mutex<[Direction; 2]>,
}

#[derive(Default)]
struct Direction {
    /// The task waiting for this direction, if any.
    waker: Option<Waker>,
    /// The poller holds interest in this direction (oneshot: until the next event).
    armed: bool,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        // `BUCLE_REACTOR_ONESHOT` forces the portable mode, to compare the two.
        Reactor::with_mode(std::env::var_os("BUCLE_REACTOR_ONESHOT").is_none())
    }

    fn with_mode(prefer_edge: bool) -> io::Result<Reactor> {
        let poller = Poller::new()?;
        let edge = prefer_edge && poller.supports_edge();
        Ok(Reactor {
            poller,
            sources: Mutex::new(Slab::new()),
            registered: AtomicUsize::new(0),
            edge,
        })
    }

    /// Wakes a loop parked in [`Reactor::wait`] from any thread.
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }

    pub(crate) fn has_sources(&self) -> bool {
        self.registered.load(Ordering::Relaxed) > 0
    }

    /// Registers `raw` with no interest yet.
    ///
    /// The caller must call [`Reactor::deregister`] before `raw` is closed.
    pub(crate) fn register(&self, raw: RawFd) -> io::Result<Arc<Source>> {
        let mut sources = self.sources.lock().unwrap();
        let entry = sources.vacant_entry();
        let source = Arc::new(Source {
            raw,
            key: entry.key(),
            ticks: Default::default(),
            state: Mutex::new(Default::default()),
        });
        // SAFETY: `raw` is open now (the caller owns it), and the caller's contract is to
        // deregister it before closing it, which is what `polling` requires.
        unsafe {
            if self.edge {
                self.poller
                    .add_with_mode(raw, Event::all(source.key), PollMode::Edge)?;
            } else {
                self.poller.add(raw, Event::none(source.key))?;
            }
        }
        entry.insert(source.clone());
        self.registered.fetch_add(1, Ordering::Relaxed);
        Ok(source)
    }

    /// Removes `source` from the poller; its wakers are dropped.
    pub(crate) fn deregister(&self, source: &Source) -> io::Result<()> {
        let removed = {
            let mut sources = self.sources.lock().unwrap();
            sources.try_remove(source.key)
        };
        if removed.is_some() {
            self.registered.fetch_sub(1, Ordering::Relaxed);
        }
        self.poller.delete(source.fd())
    }

    /// Waits for I/O events (or a notification) up to `timeout` and wakes the tasks waiting
    /// on them. Returns the number of events.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        events.clear();
        match self.poller.wait(events, timeout) {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(err) => return Err(err),
        }
        if events.is_empty() {
            return Ok(0);
        }
        let mut wakers = Vec::new();
        {
            let sources = self.sources.lock().unwrap();
            for event in events.iter() {
                if let Some(source) = sources.get(event.key) {
                    source.dispatch(self, event, &mut wakers);
                }
            }
        }
        let n = events.len();
        for waker in wakers {
            waker.wake();
        }
        Ok(n)
    }
}

impl Source {
    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the owner of the descriptor deregisters this source before closing it, so
        // the descriptor is open for as long as the source is registered and used.
        unsafe { BorrowedFd::borrow_raw(self.raw) }
    }

    /// The count of readiness events in `dir` so far: read it before trying an operation,
    /// and hand it to [`Source::poll_ready`] if the operation returns `WouldBlock`.
    pub(crate) fn tick(&self, dir: usize) -> usize {
        self.ticks[dir].load(Ordering::Acquire)
    }

    /// Polls for a readiness event in `dir` (`READ` or `WRITE`) newer than `since`, the
    /// [`tick`](Source::tick) read before an operation that then returned `WouldBlock`.
    /// `Ready` means an event came after the operation began: try it again.
    pub(crate) fn poll_ready(
        &self,
        reactor: &Reactor,
        dir: usize,
        since: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let state = self.state.lock().unwrap();
        // Ticks only change under the lock, so this cannot race with `dispatch`.
        if self.ticks[dir].load(Ordering::Relaxed) != since {
            return Poll::Ready(Ok(()));
        }
        self.wait(reactor, dir, state, cx)
    }

    /// Polls whether the descriptor is ready in `dir` now, whatever earlier operations saw:
    /// what a user's `readable()` means. The kernel is asked (one `poll(2)` with a zero
    /// timeout), under the source's lock so that an event cannot slip in between the check
    /// and the waker.
    pub(crate) fn poll_ready_level(
        &self,
        reactor: &Reactor,
        dir: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let state = self.state.lock().unwrap();
        if self.is_ready_now(dir)? {
            return Poll::Ready(Ok(()));
        }
        self.wait(reactor, dir, state, cx)
    }

    /// Leaves `cx`'s waker in `dir`'s slot (arming the direction in oneshot mode) and
    /// returns `Pending`, or an error if arming failed.
    fn wait(
        &self,
        reactor: &Reactor,
        dir: usize,
        mut state: MutexGuard<'_, [Direction; 2]>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        // One waker per direction. A different task taking the slot wakes the one it
        // replaces, so that task polls again instead of waiting forever.
        let replaced = match &mut state[dir].waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            slot => slot.replace(cx.waker().clone()),
        };
        let result = if state[dir].armed || reactor.edge {
            Poll::Pending
        } else {
            state[dir].armed = true;
            match reactor.poller.modify(self.fd(), self.interest(&state)) {
                Ok(()) => Poll::Pending,
                Err(err) => {
                    state[dir].armed = false;
                    state[dir].waker = None;
                    Poll::Ready(Err(err))
                }
            }
        };
        drop(state);
        if let Some(waker) = replaced {
            waker.wake();
        }
        result
    }

    /// Asks the kernel whether the descriptor is ready in `dir` (an error or hang-up counts
    /// as ready: the caller's next operation reports it).
    fn is_ready_now(&self, dir: usize) -> io::Result<bool> {
        use rustix::event::{PollFd, PollFlags, Timespec};
        let wanted = if dir == READ {
            PollFlags::IN | PollFlags::RDHUP
        } else {
            PollFlags::OUT
        };
        let fd = self.fd();
        let mut fds = [PollFd::new(&fd, wanted)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        rustix::event::poll(&mut fds, Some(&zero))?;
        let seen = fds[0].revents();
        Ok(seen.intersects(wanted | PollFlags::ERR | PollFlags::HUP))
    }

    fn interest(&self, state: &[Direction; 2]) -> Event {
        Event::new(
            self.key,
            state[READ].waker.is_some(),
            state[WRITE].waker.is_some(),
        )
    }

    fn dispatch(&self, reactor: &Reactor, event: Event, wakers: &mut Vec<Waker>) {
        let mut state = self.state.lock().unwrap();
        for (dir, fired) in [(READ, event.readable), (WRITE, event.writable)] {
            if fired {
                // Under the lock: see `poll_ready`.
                self.ticks[dir].fetch_add(1, Ordering::Release);
                wakers.extend(state[dir].waker.take());
            }
        }
        if reactor.edge {
            return;
        }
        // Oneshot mode disarmed the descriptor: re-arm whatever is still being waited on.
        let waiting = [state[READ].waker.is_some(), state[WRITE].waker.is_some()];
        state[READ].armed = waiting[READ];
        state[WRITE].armed = waiting[WRITE];
        if waiting[READ] || waiting[WRITE] {
            let _ = reactor.poller.modify(self.fd(), self.interest(&state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::counting_waker as waker;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn both_modes(test: fn(Reactor)) {
        test(Reactor::with_mode(true).unwrap());
        test(Reactor::with_mode(false).unwrap());
    }

    #[test]
    fn readable_wakes_once_and_readiness_is_consumed() {
        both_modes(readable_wakes_once);
    }

    fn readable_wakes_once(reactor: Reactor) {
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let source = reactor.register(b.as_raw_fd()).unwrap();
        let (count, w) = waker();
        let mut cx = Context::from_waker(&w);
        let before = source.tick(READ);
        assert!(source
            .poll_ready(&reactor, READ, before, &mut cx)
            .is_pending());
        // Polling again with the same waker re-arms nothing and stays pending.
        assert!(source
            .poll_ready(&reactor, READ, before, &mut cx)
            .is_pending());
        a.write_all(b"x").unwrap();
        let mut events = Events::new();
        reactor
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // An operation that began before the event tries again; one that began after it
        // waits for the next.
        assert!(source
            .poll_ready(&reactor, READ, before, &mut cx)
            .is_ready());
        let after = source.tick(READ);
        assert_ne!(after, before);
        assert!(source
            .poll_ready(&reactor, READ, after, &mut cx)
            .is_pending());
        reactor.deregister(&source).unwrap();
        assert!(!reactor.has_sources());
        drop(b);
    }

    #[test]
    fn data_that_arrived_before_arming_is_reported() {
        both_modes(early_data);
    }

    fn early_data(reactor: Reactor) {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let source = reactor.register(b.as_raw_fd()).unwrap();
        a.write_all(b"early").unwrap();
        let (count, w) = waker();
        let mut cx = Context::from_waker(&w);
        let tick = source.tick(READ);
        assert!(source
            .poll_ready(&reactor, READ, tick, &mut cx)
            .is_pending());
        let mut events = Events::new();
        reactor
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let mut buf = [0; 8];
        assert_eq!(b.read(&mut buf).unwrap(), 5);
        reactor.deregister(&source).unwrap();
    }

    #[test]
    fn a_replaced_waker_is_woken() {
        both_modes(replaced_waker);
    }

    fn replaced_waker(reactor: Reactor) {
        let (_a, b) = UnixStream::pair().unwrap();
        let source = reactor.register(b.as_raw_fd()).unwrap();
        let (first, w1) = waker();
        let (_second, w2) = waker();
        let tick = source.tick(READ);
        assert!(source
            .poll_ready(&reactor, READ, tick, &mut Context::from_waker(&w1))
            .is_pending());
        assert!(source
            .poll_ready(&reactor, READ, tick, &mut Context::from_waker(&w2))
            .is_pending());
        assert_eq!(first.0.load(Ordering::SeqCst), 1);
        reactor.deregister(&source).unwrap();
    }
}
