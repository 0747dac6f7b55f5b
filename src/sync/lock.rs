//! `Lock<T>`: asyncio's `Lock`, holding the data it guards.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::lock_state;
use super::waiters::WaiterList;

struct State<T> {
    /// True while a guard exists or the lock is granted to a woken waiter.
    locked: bool,
    /// The data, while no guard holds it. A guard takes it out and puts it back on drop,
    /// which is how this lock lends `&mut T` without `unsafe`.
    value: Option<T>,
    /// Tasks waiting for the lock. A waiter is queued only while the lock is held, and
    /// unlocking hands the lock straight to the oldest one.
    waiters: WaiterList<()>,
}

/// An async mutual-exclusion lock that owns its data (asyncio's `Lock`, shaped like
/// `std::sync::Mutex`): [`lock`](Lock::lock) waits for the lock and returns a guard that
/// derefs to the data; dropping the guard unlocks.
///
/// Waiters get the lock first in, first out. Unlocking hands the lock directly to the
/// oldest waiter, so a task that calls `lock` meanwhile waits behind it.
///
/// # Which kind of lock should you use?
///
/// Use `Lock` when the data stays borrowed across an `.await`. If every borrow ends before
/// the next `.await`, a `std::sync::Mutex` (or, for `!Send` data, a `RefCell`) is simpler
/// and faster; on a single loop it is never contended. `Lock::new(())` is a plain lock, as
/// in asyncio.
///
/// The data moves into the guard while it is locked and back on unlock; keep large values
/// behind a `Box` if that copy matters.
///
/// ```
/// use std::rc::Rc;
/// use bucle::sync::Lock;
///
/// # bucle::run(async {
/// let balance = Rc::new(Lock::new(100));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let balance = balance.clone();
///         bucle::spawn(async move {
///             let mut guard = balance.lock().await;
///             let read = *guard;
///             bucle::yield_now().await; // others run, but cannot touch the balance
///             *guard = read - 10;
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*balance.lock().await, 0);
/// # });
/// ```
pub struct Lock<T> {
    state: Mutex<State<T>>,
}

impl<T> Lock<T> {
    /// A lock guarding `value`, unlocked.
    ///
    /// ```
    /// let lock = bucle::sync::Lock::new(vec![1, 2, 3]);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn new(value: T) -> Lock<T> {
        Lock {
            state: Mutex::new(State {
                locked: false,
                value: Some(value),
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Waits for the lock and returns a guard; the lock is released when the guard drops.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, and fair: dropping the future gives up its place in line. If the lock had
    /// already been handed to it, the lock passes on to the next waiter (or is released), so
    /// a cancelled waiter never leaves the lock held.
    ///
    /// ```
    /// # bucle::run(async {
    /// let lock = bucle::sync::Lock::new(0);
    /// *lock.lock().await += 1;
    /// assert_eq!(*lock.lock().await, 1);
    /// # });
    /// ```
    pub fn lock(&self) -> Acquire<'_, T> {
        Acquire {
            lock: self,
            key: None,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or promised to a woken waiter.
    ///
    /// ```
    /// let lock = bucle::sync::Lock::new(());
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_err());
    /// drop(guard);
    /// assert!(lock.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        let mut state = lock_state(&self.state);
        if state.locked {
            return Err(TryLockError(()));
        }
        state.locked = true;
        let value = state.value.take();
        drop(state);
        Ok(LockGuard { lock: self, value })
    }

    /// True while the lock is held (or handed to a waiter that has not run yet).
    ///
    /// ```
    /// let lock = bucle::sync::Lock::new(());
    /// let _guard = lock.try_lock().unwrap();
    /// assert!(lock.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        lock_state(&self.state).locked
    }

    /// A mutable reference to the data: no lock needed, the borrow proves exclusive access.
    ///
    /// ```
    /// let mut lock = bucle::sync::Lock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .value
            .as_mut()
            .expect("an unlocked Lock holds its value; a guard was leaked with mem::forget")
    }

    /// The data, consuming the lock.
    ///
    /// ```
    /// let lock = bucle::sync::Lock::new(String::from("x"));
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .value
            .expect("an unlocked Lock holds its value; a guard was leaked with mem::forget")
    }

    /// How many futures are registered with the lock: waiting, or handed the lock and not
    /// yet run. For tests and diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Lock::new(()).registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        lock_state(&self.state).waiters.registered()
    }

    /// Puts the value back and hands the lock to the oldest waiter, or unlocks.
    fn unlock(&self, value: Option<T>) {
        let mut state = lock_state(&self.state);
        state.value = value;
        let waker = Self::pass_on(&mut state);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The lock is free to give: to the oldest waiter if there is one.
    fn pass_on(state: &mut State<T>) -> Option<Waker> {
        let waker = state.waiters.notify_one(());
        if waker.is_none() {
            state.locked = false;
        }
        waker
    }

    pub(crate) fn same_lock(&self, other: &Lock<T>) -> bool {
        std::ptr::eq(self, other)
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    fn from(value: T) -> Self {
        Lock::new(value)
    }
}

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Lock")
            .field("locked", &state.locked)
            .field("waiters", &state.waiters.queued())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Lock::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a, T> {
    lock: &'a Lock<T>,
    key: Option<usize>,
}

impl<'a, T> Future for Acquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        let mut state = lock_state(&this.lock.state);
        match this.key {
            None if !state.locked => state.locked = true,
            None => {
                this.key = Some(state.waiters.push(cx.waker()));
                return Poll::Pending;
            }
            Some(key) => {
                if state.waiters.poll(key, cx.waker()).is_none() {
                    return Poll::Pending;
                }
                // Handed the lock: `locked` stayed true for us.
                state.waiters.remove(key);
                this.key = None;
            }
        }
        let value = state.value.take();
        drop(state);
        Poll::Ready(LockGuard {
            lock: this.lock,
            value,
        })
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut state = lock_state(&self.lock.state);
        let waker = match state.waiters.remove(key) {
            // Handed the lock but never took it: hand it on.
            Some(()) => Lock::pass_on(&mut state),
            None => None,
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Acquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockFuture")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Holds a [`Lock`] and derefs to its data; unlocks on drop.
///
/// ```
/// # bucle::run(async {
/// let lock = bucle::sync::Lock::new(vec![1]);
/// let mut guard = lock.lock().await;
/// guard.push(2);
/// drop(guard);
/// assert_eq!(*lock.lock().await, [1, 2]);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
    /// Always `Some` until the guard drops.
    value: Option<T>,
}

impl<'a, T> LockGuard<'a, T> {
    /// The lock this guard holds.
    pub(crate) fn lock(&self) -> &'a Lock<T> {
        self.lock
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("a live guard holds the value")
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a live guard holds the value")
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock(self.value.take());
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// [`Lock::try_lock`] failed: the lock is held or promised to a waiter.
///
/// ```
/// let lock = bucle::sync::Lock::new(());
/// let _held = lock.try_lock().unwrap();
/// assert_eq!(lock.try_lock().unwrap_err().to_string(), "lock is held");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held")
    }
}

impl std::error::Error for TryLockError {}
