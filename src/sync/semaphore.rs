//! `Semaphore` and `BoundedSemaphore`: asyncio's counting semaphores, with RAII permits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::lock_state;
use super::waiters::WaiterList;

struct State {
    /// Free permits. Waiters are queued only while this is zero.
    permits: usize,
    /// Permits handed to woken waiters that have not run yet.
    granted: usize,
    waiters: WaiterList<()>,
}

/// What both semaphores share.
struct Core {
    state: Mutex<State>,
    /// The initial value of a `BoundedSemaphore`, which releases may not exceed.
    bound: Option<usize>,
}

impl Core {
    fn new(permits: usize, bound: Option<usize>) -> Core {
        Core {
            state: Mutex::new(State {
                permits,
                granted: 0,
                waiters: WaiterList::new(),
            }),
            bound,
        }
    }

    fn try_acquire(&self) -> bool {
        let mut state = lock_state(&self.state);
        if state.permits > 0 {
            state.permits -= 1;
            true
        } else {
            false
        }
    }

    /// Adds one permit: to the oldest waiter if one waits. With `check`, refuses to go past
    /// the bound; otherwise stops at it silently.
    fn release(&self, check: bool) -> Result<(), ReleaseError> {
        let mut state = lock_state(&self.state);
        if let Some(bound) = self.bound {
            if state.permits + state.granted >= bound {
                return if check { Err(ReleaseError(())) } else { Ok(()) };
            }
        }
        let waker = Self::give(&mut state);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Gives one permit to the oldest waiter, or to the pool.
    fn give(state: &mut State) -> Option<Waker> {
        let waker = state.waiters.notify_one(());
        if waker.is_some() {
            state.granted += 1;
        } else {
            state.permits += 1;
        }
        waker
    }

    fn poll_acquire(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock_state(&self.state);
        match *key {
            None if state.permits > 0 => {
                state.permits -= 1;
                Poll::Ready(())
            }
            None => {
                *key = Some(state.waiters.push(cx.waker()));
                Poll::Pending
            }
            Some(k) => match state.waiters.poll(k, cx.waker()) {
                None => Poll::Pending,
                Some(()) => {
                    state.waiters.remove(k);
                    state.granted -= 1;
                    *key = None;
                    Poll::Ready(())
                }
            },
        }
    }

    fn drop_acquire(&self, key: usize) {
        let mut state = lock_state(&self.state);
        let waker = match state.waiters.remove(key) {
            // Granted a permit it never took: pass it on.
            Some(()) => {
                state.granted -= 1;
                Self::give(&mut state)
            }
            None => None,
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn available(&self) -> usize {
        lock_state(&self.state).permits
    }

    fn registered_waiters(&self) -> usize {
        lock_state(&self.state).waiters.registered()
    }

    fn fmt(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        let mut s = f.debug_struct(name);
        s.field("available", &state.permits)
            .field("waiters", &state.waiters.queued());
        if let Some(bound) = self.bound {
            s.field("bound", &bound);
        }
        s.finish()
    }
}

/// A counting semaphore (asyncio's `Semaphore`): at most `n` holders at a time.
///
/// [`acquire`](Semaphore::acquire) waits for a permit and returns a [`Permit`] that gives
/// it back when dropped. Waiters are served first in, first out; a released permit goes
/// straight to the oldest waiter, so new arrivals cannot jump the line.
///
/// [`release`](Semaphore::release) adds a permit without an acquire, as asyncio allows; the
/// count can grow past its initial value. Use a [`BoundedSemaphore`] to treat that as a bug.
///
/// ```
/// use std::rc::Rc;
/// use std::cell::Cell;
/// use bucle::sync::Semaphore;
///
/// # bucle::run(async {
/// let slots = Rc::new(Semaphore::new(2));
/// let inside = Rc::new(Cell::new(0));
/// let most = Rc::new(Cell::new(0));
/// let tasks: Vec<_> = (0..6)
///     .map(|_| {
///         let (slots, inside, most) = (slots.clone(), inside.clone(), most.clone());
///         bucle::spawn(async move {
///             let _permit = slots.acquire().await;
///             inside.set(inside.get() + 1);
///             most.set(most.get().max(inside.get()));
///             bucle::yield_now().await;
///             inside.set(inside.get() - 1);
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(most.get(), 2);
/// # });
/// ```
pub struct Semaphore {
    core: Core,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Semaphore::new(3).available(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: Core::new(permits, None),
        }
    }

    /// Waits for a permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair: dropping the future gives up its place in line, and a permit
    /// already handed to it passes to the next waiter (asyncio's `test_acquire_cancel` and
    /// `test_acquire_fifo_order_3`).
    ///
    /// ```
    /// # bucle::run(async {
    /// let sem = bucle::sync::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// assert_eq!(sem.available(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available(), 1);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            core: &self.core,
            key: None,
        }
    }

    /// Takes a permit if one is free.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if none is free (permits handed to woken waiters are not).
    ///
    /// ```
    /// let sem = bucle::sync::Semaphore::new(1);
    /// let _permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        if self.core.try_acquire() {
            Ok(Permit { core: &self.core })
        } else {
            Err(TryAcquireError(()))
        }
    }

    /// Adds a permit, waking the oldest waiter if one waits (asyncio's `release`). To give
    /// back a permit you hold, drop the [`Permit`] instead.
    ///
    /// ```
    /// let sem = bucle::sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn release(&self) {
        let _ = self.core.release(false);
    }

    /// How many permits are free now.
    ///
    /// ```
    /// let sem = bucle::sync::Semaphore::new(2);
    /// let _one = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn available(&self) -> usize {
        self.core.available()
    }

    /// True if `acquire` would wait (asyncio's `locked`).
    ///
    /// ```
    /// let sem = bucle::sync::Semaphore::new(1);
    /// let _permit = sem.try_acquire().unwrap();
    /// assert!(sem.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.core.available() == 0
    }

    /// How many futures are registered: waiting, or handed a permit and not yet run. For
    /// tests and diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Semaphore::new(1).registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        self.core.registered_waiters()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt("Semaphore", f)
    }
}

/// A semaphore that may not be released past its initial value (asyncio's
/// `BoundedSemaphore`): an extra [`release`](BoundedSemaphore::release) is an error, which
/// catches a release without an acquire.
///
/// ```
/// use bucle::sync::BoundedSemaphore;
///
/// # bucle::run(async {
/// let sem = BoundedSemaphore::new(1);
/// let permit = sem.acquire().await;
/// permit.forget(); // keep it held without the guard
/// assert!(sem.release().is_ok());
/// assert!(sem.release().is_err()); // released more than acquired
/// # });
/// ```
pub struct BoundedSemaphore {
    core: Core,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also its bound.
    ///
    /// ```
    /// assert_eq!(bucle::sync::BoundedSemaphore::new(4).available(), 4);
    /// ```
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(permits, Some(permits)),
        }
    }

    /// Waits for a permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair, as [`Semaphore::acquire`]: a permit handed to a dropped future
    /// passes to the next waiter.
    ///
    /// ```
    /// # bucle::run(async {
    /// let sem = bucle::sync::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire().await;
    /// assert!(sem.is_locked());
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            core: &self.core,
            key: None,
        }
    }

    /// Takes a permit if one is free.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] if none is free.
    ///
    /// ```
    /// let sem = bucle::sync::BoundedSemaphore::new(1);
    /// let _permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        if self.core.try_acquire() {
            Ok(Permit { core: &self.core })
        } else {
            Err(TryAcquireError(()))
        }
    }

    /// Gives back a permit that was taken without a guard (see [`Permit::forget`]), waking
    /// the oldest waiter if one waits.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if every permit is already free (or handed to a woken waiter):
    /// more releases than acquires. Nothing changes.
    ///
    /// ```
    /// let sem = bucle::sync::BoundedSemaphore::new(1);
    /// let err = sem.release().unwrap_err();
    /// assert_eq!(err.to_string(), "bounded semaphore released too many times");
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.core.release(true)
    }

    /// How many permits are free now.
    ///
    /// ```
    /// assert_eq!(bucle::sync::BoundedSemaphore::new(2).available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.core.available()
    }

    /// True if `acquire` would wait.
    ///
    /// ```
    /// assert!(bucle::sync::BoundedSemaphore::new(0).is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.core.available() == 0
    }

    /// How many futures are registered: waiting, or handed a permit and not yet run. For
    /// tests and diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::BoundedSemaphore::new(1).registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        self.core.registered_waiters()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt("BoundedSemaphore", f)
    }
}

/// The future returned by [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    core: &'a Core,
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let this = self.get_mut();
        this.core
            .poll_acquire(&mut this.key, cx)
            .map(|()| Permit { core: this.core })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.drop_acquire(key);
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// One permit of a semaphore, given back when dropped.
///
/// For a [`BoundedSemaphore`] whose permits were all given back already by explicit
/// `release` calls, dropping a permit adds nothing: the count never passes the bound.
///
/// ```
/// let sem = bucle::sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available(), 0);
/// }
/// assert_eq!(sem.available(), 1);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct Permit<'a> {
    core: &'a Core,
}

impl Permit<'_> {
    /// Keeps the permit taken without holding the guard; give it back later with the
    /// semaphore's `release`.
    ///
    /// ```
    /// let sem = bucle::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available(), 0);
    /// sem.release();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let _ = self.core.release(false);
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// `try_acquire` failed: no permit is free.
///
/// ```
/// let sem = bucle::sync::Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err().to_string(), "no permit is available");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryAcquireError(());

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no permit is available")
    }
}

impl std::error::Error for TryAcquireError {}

/// [`BoundedSemaphore::release`] was called more times than permits were taken.
///
/// ```
/// let sem = bucle::sync::BoundedSemaphore::new(0);
/// assert!(sem.release().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseError(());

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bounded semaphore released too many times")
    }
}

impl std::error::Error for ReleaseError {}
