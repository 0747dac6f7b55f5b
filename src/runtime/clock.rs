//! The loop's clock: the real monotonic clock, or a paused one for tests.
//!
//! A paused clock stands still until the loop has nothing to do but wait for a timer; then it
//! jumps straight to that timer's deadline. It never jumps while I/O events are pending or
//! offloaded calls are in flight, so a test sees the same order of events as a real run.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    /// `Some(now)` while paused: the instant the loop believes it is.
    paused_at: Cell<Option<Instant>>,
    /// When paused, how far the clock has been moved by hand or by jumps. Kept so that
    /// `resume` continues from the virtual time rather than snapping back.
    offset: Cell<Duration>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        Clock {
            paused_at: Cell::new(start_paused.then(Instant::now)),
            offset: Cell::new(Duration::ZERO),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        match self.paused_at.get() {
            Some(now) => now,
            None => Instant::now() + self.offset.get(),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused_at.get().is_some()
    }

    pub(crate) fn pause(&self) {
        if !self.is_paused() {
            self.paused_at.set(Some(self.now()));
        }
    }

    pub(crate) fn resume(&self) {
        if let Some(virtual_now) = self.paused_at.take() {
            self.offset
                .set(virtual_now.saturating_duration_since(Instant::now()));
        }
    }

    /// Moves a paused clock forward to `deadline` (never backwards).
    pub(crate) fn advance_to(&self, deadline: Instant) {
        if let Some(now) = self.paused_at.get() {
            if deadline > now {
                self.paused_at.set(Some(deadline));
            }
        }
    }
}
