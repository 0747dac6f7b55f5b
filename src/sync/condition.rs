//! `Condition<T>`: asyncio's `Condition`, owning its lock and the data behind it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::lock::{Acquire, Lock, LockGuard, TryLockError};
use super::lock_state;
use super::waiters::{wake_all, WaiterList};

/// A condition variable bound to its own [`Lock`] (asyncio's `Condition`): tasks holding
/// the lock wait until another task changes the data and notifies them.
///
/// [`wait`](Condition::wait) takes the guard, releases the lock while it waits for a
/// [`notify`](Condition::notify), then takes the lock again and returns the guard.
/// [`wait_for`](Condition::wait_for) loops until a predicate on the data holds, which is
/// how a condition is normally used: a wakeup says "look again", not "it is true".
/// Waiters are notified first in, first out.
///
/// ```
/// use std::rc::Rc;
/// use bucle::sync::Condition;
///
/// # bucle::run(async {
/// let stock = Rc::new(Condition::new(0));
/// let buyer = bucle::spawn({
///     let stock = stock.clone();
///     async move {
///         let guard = stock.lock().await;
///         let mut guard = stock.wait_for(guard, |n| *n >= 3).await;
///         *guard -= 3;
///     }
/// });
/// for _ in 0..3 {
///     *stock.lock().await += 1;
///     stock.notify_all();
///     bucle::yield_now().await;
/// }
/// buyer.await.unwrap();
/// assert_eq!(*stock.lock().await, 0);
/// # });
/// ```
pub struct Condition<T> {
    lock: Lock<T>,
    /// Tasks in `wait`, between releasing the lock and being notified.
    waiters: Mutex<WaiterList<()>>,
}

impl<T> Condition<T> {
    /// A condition guarding `value`.
    ///
    /// ```
    /// let cond = bucle::sync::Condition::new(Vec::<u8>::new());
    /// assert!(!cond.is_locked());
    /// ```
    pub fn new(value: T) -> Condition<T> {
        Condition {
            lock: Lock::new(value),
            waiters: Mutex::new(WaiterList::new()),
        }
    }

    /// Waits for the condition's lock; see [`Lock::lock`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`Lock::lock`].
    ///
    /// ```
    /// # bucle::run(async {
    /// let cond = bucle::sync::Condition::new(1);
    /// assert_eq!(*cond.lock().await, 1);
    /// # });
    /// ```
    pub fn lock(&self) -> Acquire<'_, T> {
        self.lock.lock()
    }

    /// Takes the condition's lock if it is free; see [`Lock::try_lock`].
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or promised to a waiter.
    ///
    /// ```
    /// let cond = bucle::sync::Condition::new(());
    /// let _guard = cond.try_lock().unwrap();
    /// assert!(cond.try_lock().is_err());
    /// ```
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        self.lock.try_lock()
    }

    /// True while the condition's lock is held.
    ///
    /// ```
    /// let cond = bucle::sync::Condition::new(());
    /// let _guard = cond.try_lock().unwrap();
    /// assert!(cond.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }

    /// Releases the lock, waits to be notified, takes the lock again and returns its guard.
    ///
    /// The waiter is registered before the lock is released, so a `notify` made by whoever
    /// takes the lock next cannot be missed. Wakeups can be spurious from the caller's point
    /// of view (another waiter may change the data first): check the data again, or use
    /// [`wait_for`](Condition::wait_for).
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in asyncio's sense, with one difference in shape: dropping the future
    /// drops the guard, so the lock is not held afterwards (asyncio re-acquires it). A
    /// notification that reached the future before it was dropped passes to the next
    /// waiter, so no wakeup is lost (asyncio's `test_cancelled_wakeup`); a lock handed to
    /// it passes on as in [`Lock::lock`].
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// # bucle::run(async {
    /// let cond = Rc::new(bucle::sync::Condition::new(false));
    /// let waiter = bucle::spawn({
    ///     let cond = cond.clone();
    ///     async move {
    ///         let mut guard = cond.lock().await;
    ///         while !*guard {
    ///             guard = cond.wait(guard).await;
    ///         }
    ///     }
    /// });
    /// bucle::yield_now().await; // the waiter is now waiting
    /// *cond.lock().await = true;
    /// cond.notify(1);
    /// waiter.await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn wait<'a>(&'a self, guard: LockGuard<'a, T>) -> Wait<'a, T> {
        self.check_guard(&guard, "wait");
        Wait {
            cond: self,
            stage: Stage::Start(guard),
        }
    }

    /// Waits until `predicate` holds for the data: checks it with the lock held, and while
    /// it is false, [`wait`](Condition::wait)s and checks again. Returns the guard, with the
    /// predicate true.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another lock.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Condition::wait): the guard is dropped with the future, and no
    /// notification is lost.
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// # bucle::run(async {
    /// let cond = Rc::new(bucle::sync::Condition::new(0));
    /// let setter = bucle::spawn({
    ///     let cond = cond.clone();
    ///     async move {
    ///         for _ in 0..5 {
    ///             *cond.lock().await += 1;
    ///             cond.notify_all();
    ///             bucle::yield_now().await;
    ///         }
    ///     }
    /// });
    /// let guard = cond.lock().await;
    /// let guard = cond.wait_for(guard, |n| *n == 5).await;
    /// assert_eq!(*guard, 5);
    /// # drop(guard);
    /// # setter.await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn wait_for<'a, F>(&'a self, guard: LockGuard<'a, T>, predicate: F) -> WaitFor<'a, T, F>
    where
        F: FnMut(&mut T) -> bool,
    {
        self.check_guard(&guard, "wait_for");
        WaitFor {
            cond: self,
            guard: Some(guard),
            wait: None,
            predicate,
        }
    }

    /// Wakes up to `n` waiting tasks, oldest first. Call it while holding the lock, after
    /// changing the data, so that waiters see the change.
    ///
    /// ```
    /// # bucle::run(async {
    /// let cond = bucle::sync::Condition::new(());
    /// let _guard = cond.lock().await;
    /// cond.notify(2); // nobody waits: nothing happens
    /// # });
    /// ```
    pub fn notify(&self, n: usize) {
        let mut waiters = lock_state(&self.waiters);
        let mut wakers = Vec::new();
        for _ in 0..n {
            match waiters.notify_one(()) {
                Some(waker) => wakers.push(waker),
                None => break,
            }
        }
        drop(waiters);
        wake_all(wakers);
    }

    /// Wakes every waiting task.
    ///
    /// ```
    /// let cond = bucle::sync::Condition::new(());
    /// cond.notify_all();
    /// ```
    pub fn notify_all(&self) {
        let mut waiters = lock_state(&self.waiters);
        let mut wakers = Vec::new();
        waiters.notify_all((), &mut wakers);
        drop(waiters);
        wake_all(wakers);
    }

    /// A mutable reference to the data; the borrow proves exclusive access.
    ///
    /// ```
    /// let mut cond = bucle::sync::Condition::new(1);
    /// *cond.get_mut() += 1;
    /// assert_eq!(cond.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.lock.get_mut()
    }

    /// The data, consuming the condition.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Condition::new('x').into_inner(), 'x');
    /// ```
    pub fn into_inner(self) -> T {
        self.lock.into_inner()
    }

    /// How many futures are registered: waiting for a notification or for the lock. For
    /// tests and diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Condition::new(()).registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        lock_state(&self.waiters).registered() + self.lock.registered_waiters()
    }

    #[track_caller]
    fn check_guard(&self, guard: &LockGuard<'_, T>, method: &str) {
        assert!(
            guard.lock().same_lock(&self.lock),
            "`Condition::{method}` was given the guard of another lock; pass the guard \
             returned by this condition's own `lock()`"
        );
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.lock.is_locked())
            .field("waiters", &lock_state(&self.waiters).queued())
            .finish_non_exhaustive()
    }
}

enum Stage<'a, T> {
    /// Not polled yet: still holding the lock.
    Start(LockGuard<'a, T>),
    /// Registered as a waiter, lock released.
    Waiting(usize),
    /// Notified; taking the lock again.
    Locking(Acquire<'a, T>),
    Done,
}

/// The future returned by [`Condition::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T> {
    cond: &'a Condition<T>,
    stage: Stage<'a, T>,
}

// Nothing in `Wait` is pinned structurally; the data `T` is only reached through the guard.
impl<T> Unpin for Wait<'_, T> {}

impl<'a, T> Future for Wait<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            match &mut this.stage {
                Stage::Start(_) => {
                    // Register first, then unlock: a notify after the unlock reaches us.
                    let key = lock_state(&this.cond.waiters).push(cx.waker());
                    // Dropping the guard releases the lock.
                    this.stage = Stage::Waiting(key);
                    return Poll::Pending;
                }
                Stage::Waiting(key) => {
                    let key = *key;
                    let mut waiters = lock_state(&this.cond.waiters);
                    if waiters.poll(key, cx.waker()).is_none() {
                        return Poll::Pending;
                    }
                    waiters.remove(key);
                    drop(waiters);
                    this.stage = Stage::Locking(this.cond.lock.lock());
                }
                Stage::Locking(acquire) => {
                    let guard = std::task::ready!(Pin::new(acquire).poll(cx));
                    this.stage = Stage::Done;
                    return Poll::Ready(guard);
                }
                Stage::Done => panic!("a `Condition::wait` future was polled after it completed"),
            }
        }
    }
}

impl<T> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        if let Stage::Waiting(key) = self.stage {
            let mut waiters = lock_state(&self.cond.waiters);
            if waiters.remove(key).is_some() {
                // Notified, but gone before it could act: hand the wakeup on, as a spurious
                // wakeup is harmless and a lost one is not.
                let waker = waiters.notify_one(());
                drop(waiters);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }
}

impl<T> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Start(_) => "start",
            Stage::Waiting(_) => "waiting",
            Stage::Locking(_) => "locking",
            Stage::Done => "done",
        };
        f.debug_struct("Wait")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Condition::wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<'a, T, F> {
    cond: &'a Condition<T>,
    /// Held between waits, while the predicate is checked.
    guard: Option<LockGuard<'a, T>>,
    wait: Option<Wait<'a, T>>,
    predicate: F,
}

// The predicate is only called through `&mut`, never pinned.
impl<T, F> Unpin for WaitFor<'_, T, F> {}

impl<'a, T, F> Future for WaitFor<'a, T, F>
where
    F: FnMut(&mut T) -> bool,
{
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            if let Some(mut guard) = this.guard.take() {
                if (this.predicate)(&mut guard) {
                    return Poll::Ready(guard);
                }
                this.wait = Some(Wait {
                    cond: this.cond,
                    stage: Stage::Start(guard),
                });
            }
            let wait = this
                .wait
                .as_mut()
                .expect("a `Condition::wait_for` future was polled after it completed");
            let guard = std::task::ready!(Pin::new(wait).poll(cx));
            this.wait = None;
            this.guard = Some(guard);
        }
    }
}

impl<T, F> fmt::Debug for WaitFor<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}
