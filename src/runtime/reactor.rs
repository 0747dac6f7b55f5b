//! The reactor: I/O readiness through `polling::Poller`.
//!
//! Each registered file descriptor is a [`Source`] with one waker slot per direction. The
//! poller works in oneshot mode: an event disarms the descriptor, and interest is re-armed
//! only while some task waits on it, so an idle connection costs no wakeups.
//!
//! The source table lives behind a mutex because I/O objects are `Send`: one may be dropped,
//! and so deregistered, on any thread. The loop takes that lock once per batch of events.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use polling::{Event, Events, Poller};
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
}

/// One registered file descriptor.
pub(crate) struct Source {
    raw: RawFd,
    key: usize,
    state: Mutex<[Direction; 2]>,
}

#[derive(Default)]
struct Direction {
    /// The task waiting for this direction, if any.
    waker: Option<Waker>,
    /// An event arrived that no poll has consumed yet.
    ready: bool,
}

// Sources are the base of `bucle::net` and `bucle::io`; until those exist only tests use them.
#[allow(dead_code)]
impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            sources: Mutex::new(Slab::new()),
            registered: AtomicUsize::new(0),
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
            state: Mutex::new(Default::default()),
        });
        // SAFETY: `raw` is open now (the caller owns it), and the caller's contract is to
        // deregister it before closing it, which is what `polling` requires.
        unsafe { self.poller.add(raw, Event::none(source.key))? };
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

#[allow(dead_code)]
impl Source {
    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the owner of the descriptor deregisters this source before closing it, so
        // the descriptor is open for as long as the source is registered and used.
        unsafe { BorrowedFd::borrow_raw(self.raw) }
    }

    /// Polls readiness in `dir` (`READ` or `WRITE`). `Ready` consumes the readiness: the
    /// caller then tries its operation, and on `WouldBlock` polls again.
    pub(crate) fn poll_ready(
        &self,
        reactor: &Reactor,
        dir: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state[dir].ready) {
            return Poll::Ready(Ok(()));
        }
        match &mut state[dir].waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        let interest = self.interest(&state);
        drop(state);
        match reactor.poller.modify(self.fd(), interest) {
            Ok(()) => Poll::Pending,
            Err(err) => Poll::Ready(Err(err)),
        }
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
                state[dir].ready = true;
                wakers.extend(state[dir].waker.take());
            }
        }
        // Oneshot mode disarmed the descriptor: re-arm whatever is still being waited on.
        if state.iter().any(|d| d.waker.is_some()) {
            let _ = reactor.poller.modify(self.fd(), self.interest(&state));
        }
    }
}
