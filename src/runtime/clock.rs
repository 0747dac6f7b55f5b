//! The loop's clock: the real monotonic clock, or a paused one for tests.
//!
//! A paused clock stands still until the loop has nothing to do but wait for a timer; then it
//! jumps straight to that timer's deadline. It never jumps while I/O events are pending or
//! offloaded calls are in flight, so a test sees the same order of events as a real run.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::core::Shared;

pub(crate) struct Clock {
    /// `Some(now)` while paused: the instant the loop believes it is.
    paused_at: Cell<Option<Instant>>,
    /// When paused, how far the clock has been moved by hand or by jumps. Kept so that
    /// `resume` continues from the virtual time rather than snapping back.
    offset: Cell<Duration>,
    /// Whether a paused clock jumps to the next timer when the loop is idle. With this off,
    /// only `time::advance` moves a paused clock.
    auto_advance: Cell<bool>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool, auto_advance: bool) -> Clock {
        Clock {
            paused_at: Cell::new(start_paused.then(Instant::now)),
            offset: Cell::new(Duration::ZERO),
            auto_advance: Cell::new(auto_advance),
        }
    }

    /// True if an idle loop may move this (paused) clock to its next timer.
    pub(crate) fn auto_advances(&self) -> bool {
        self.auto_advance.get()
    }

    pub(crate) fn set_auto_advance(&self, on: bool) {
        self.auto_advance.set(on);
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

/// Counts one offloaded call in flight for as long as it lives: a paused clock does not jump
/// while any exists. Dropping it wakes the loop, so a loop that parked because of it looks
/// at its timers again. Offloaded calls hold one each.
#[allow(dead_code)] // until the offload path holds one per call
pub(crate) struct InFlight {
    shared: Arc<Shared>,
}

#[allow(dead_code)]
impl InFlight {
    pub(crate) fn new(shared: &Arc<Shared>) -> InFlight {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight {
            shared: shared.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Ordered before the unpark's fence: a loop that parks after this sees zero, and a
        // loop already parked is notified.
        self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.shared.unpark();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::InFlight;
    use crate::time::Instant;

    /// The rule the offload path relies on: while a call is in flight the paused clock
    /// stays put, even though the loop has nothing to do but wait for a timer. Without the
    /// rule the clock would jump at once and the timer would fire before the worker
    /// thread's real 30 ms have passed.
    #[test]
    fn a_paused_clock_does_not_jump_while_work_is_in_flight() {
        let rt = crate::Runtime::builder()
            .start_paused(true)
            .build()
            .unwrap();
        let shared = rt.handle().shared().clone();
        rt.block_on(async move {
            let start = Instant::now();
            let guard = InFlight::new(&shared);
            let real = std::time::Instant::now();
            let worker = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                drop(guard);
            });
            crate::sleep(Duration::from_secs(60)).await;
            assert!(
                real.elapsed() >= Duration::from_millis(30),
                "the clock jumped while work was in flight"
            );
            assert_eq!(Instant::now() - start, Duration::from_secs(60));
            worker.join().unwrap();
        });
    }
}
