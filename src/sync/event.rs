//! `Event`: asyncio's `Event`, a flag that tasks wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::lock_state;
use super::waiters::{wake_all, WaiterList};

struct State {
    set: bool,
    /// Tasks waiting for the flag. Queued only while it is clear; `set` notifies them all.
    waiters: WaiterList<()>,
}

/// A flag that tasks can wait for (asyncio's `Event`).
///
/// [`set`](Event::set) raises the flag and wakes every waiter; the flag stays up, so later
/// [`wait`](Event::wait)s return at once, until [`clear`](Event::clear) lowers it. A waiter
/// woken by `set` returns even if the flag was cleared again before it ran.
///
/// `Event` is `Send + Sync`; share it with `Rc` or `Arc`.
///
/// ```
/// use std::rc::Rc;
/// use bucle::sync::Event;
///
/// # bucle::run(async {
/// let ready = Rc::new(Event::new());
/// let waiter = bucle::spawn({
///     let ready = ready.clone();
///     async move {
///         ready.wait().await;
///         "started"
///     }
/// });
/// ready.set();
/// assert_eq!(waiter.await.unwrap(), "started");
/// # });
/// ```
pub struct Event {
    state: Mutex<State>,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!bucle::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Sets the flag and wakes every task waiting for it. Harmless if it is set already.
    ///
    /// ```
    /// let event = bucle::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut state = lock_state(&self.state);
        if state.set {
            return;
        }
        state.set = true;
        let mut wakers = Vec::new();
        state.waiters.notify_all((), &mut wakers);
        drop(state);
        wake_all(wakers);
    }

    /// Clears the flag: later `wait`s wait for the next [`set`](Event::set). Tasks already
    /// woken by a `set` still return.
    ///
    /// ```
    /// let event = bucle::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        lock_state(&self.state).set = false;
    }

    /// True while the flag is set.
    ///
    /// ```
    /// let event = bucle::sync::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        lock_state(&self.state).set
    }

    /// Waits until the flag is set; returns at once if it is.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future removes it from the waiters and affects no other
    /// waiter (a `set` wakes them all).
    ///
    /// ```
    /// # bucle::run(async {
    /// let event = bucle::sync::Event::new();
    /// event.set();
    /// event.wait().await; // already set: returns at once
    /// # });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }

    /// How many futures are registered with the event: waiting, or woken and not yet run.
    /// For tests and diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Event::new().registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        lock_state(&self.state).waiters.registered()
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.queued())
            .finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock_state(&this.event.state);
        match this.key {
            None if state.set => Poll::Ready(()),
            None => {
                this.key = Some(state.waiters.push(cx.waker()));
                Poll::Pending
            }
            Some(key) => match state.waiters.poll(key, cx.waker()) {
                None => Poll::Pending,
                Some(()) => {
                    state.waiters.remove(key);
                    this.key = None;
                    Poll::Ready(())
                }
            },
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock_state(&self.event.state).waiters.remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
