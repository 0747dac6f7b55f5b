//! `Barrier`: asyncio's `Barrier`, where a fixed number of tasks meet.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::lock_state;
use super::waiters::{wake_all, WaiterList};

/// Why a barrier waiter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The last party arrived: the cycle is complete.
    Passed,
    /// `abort` or `reset` broke the cycle.
    Broken,
}

struct State {
    /// Parties waiting in the current cycle.
    count: usize,
    broken: bool,
    waiters: WaiterList<Outcome>,
}

/// A meeting point for `parties` tasks (asyncio's `Barrier`): each [`wait`](Barrier::wait)
/// blocks until `parties` tasks are waiting, then all of them go on together and the
/// barrier is ready for the next cycle.
///
/// [`abort`](Barrier::abort) breaks the barrier: current and future `wait`s fail with
/// [`BrokenBarrier`] until [`reset`](Barrier::reset).
///
/// ```
/// use std::rc::Rc;
/// use bucle::sync::Barrier;
///
/// # bucle::run(async {
/// let barrier = Rc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         bucle::spawn(async move { barrier.wait().await.unwrap().index() })
///     })
///     .collect();
/// let mut indexes = Vec::new();
/// for task in tasks {
///     indexes.push(task.await.unwrap());
/// }
/// indexes.sort();
/// assert_eq!(indexes, [0, 1, 2]);
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is zero (asyncio raises `ValueError`): nobody could ever pass.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Barrier::new(4).parties(), 4);
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "`Barrier::new(0)` makes a barrier that no task can pass; use at least 1 party"
        );
        Barrier {
            parties,
            state: Mutex::new(State {
                count: 0,
                broken: false,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then returns for all of them. Each gets its
    /// arrival index in `0..parties` (as in asyncio, a party that leaves the cycle frees its
    /// number for the next arrival); the last to arrive, which releases the others, is the
    /// [leader](BarrierWaitResult::is_leader).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken when called, or is aborted or reset while
    /// waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping a pending `wait` leaves the cycle (the barrier then waits for
    /// another party, as asyncio's does). Once the cycle completed, dropping changes nothing.
    ///
    /// ```
    /// # bucle::run(async {
    /// let barrier = bucle::sync::Barrier::new(1);
    /// let result = barrier.wait().await.unwrap();
    /// assert!(result.is_leader());
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            index: 0,
        }
    }

    /// Breaks the barrier: waiting tasks and later `wait`s fail with [`BrokenBarrier`]
    /// until [`reset`](Barrier::reset).
    ///
    /// ```
    /// # bucle::run(async {
    /// let barrier = bucle::sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// assert!(barrier.wait().await.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        let mut state = lock_state(&self.state);
        state.broken = true;
        state.count = 0;
        let mut wakers = Vec::new();
        state.waiters.notify_all(Outcome::Broken, &mut wakers);
        drop(state);
        wake_all(wakers);
    }

    /// Returns the barrier to its empty, unbroken state. Tasks waiting now fail with
    /// [`BrokenBarrier`] (asyncio's rule); later `wait`s start a new cycle.
    ///
    /// ```
    /// # bucle::run(async {
    /// let barrier = bucle::sync::Barrier::new(1);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(barrier.wait().await.is_ok());
    /// # });
    /// ```
    pub fn reset(&self) {
        let mut state = lock_state(&self.state);
        state.broken = false;
        state.count = 0;
        let mut wakers = Vec::new();
        state.waiters.notify_all(Outcome::Broken, &mut wakers);
        drop(state);
        wake_all(wakers);
    }

    /// How many tasks must meet to pass.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current cycle.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock_state(&self.state).count
    }

    /// True once [`abort`](Barrier::abort) broke the barrier, until [`reset`](Barrier::reset).
    ///
    /// ```
    /// let barrier = bucle::sync::Barrier::new(2);
    /// assert!(!barrier.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        lock_state(&self.state).broken
    }

    /// How many futures are registered: waiting, or released and not yet run. For tests and
    /// diagnostics.
    ///
    /// ```
    /// assert_eq!(bucle::sync::Barrier::new(2).registered_waiters(), 0);
    /// ```
    pub fn registered_waiters(&self) -> usize {
        lock_state(&self.state).waiters.registered()
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &state.count)
            .field("broken", &state.broken)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
    index: usize,
}

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let parties = this.barrier.parties;
        let mut state = lock_state(&this.barrier.state);
        let Some(key) = this.key else {
            if state.broken {
                return Poll::Ready(Err(BrokenBarrier(())));
            }
            let index = state.count;
            state.count += 1;
            if state.count < parties {
                this.index = index;
                this.key = Some(state.waiters.push(cx.waker()));
                return Poll::Pending;
            }
            state.count = 0;
            let mut wakers = Vec::new();
            state.waiters.notify_all(Outcome::Passed, &mut wakers);
            drop(state);
            wake_all(wakers);
            return Poll::Ready(Ok(BarrierWaitResult {
                index,
                leader: true,
            }));
        };
        match state.waiters.poll(key, cx.waker()) {
            None => Poll::Pending,
            Some(outcome) => {
                state.waiters.remove(key);
                this.key = None;
                Poll::Ready(match outcome {
                    Outcome::Passed => Ok(BarrierWaitResult {
                        index: this.index,
                        leader: false,
                    }),
                    Outcome::Broken => Err(BrokenBarrier(())),
                })
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut state = lock_state(&self.barrier.state);
            if state.waiters.remove(key).is_none() {
                // Still waiting in this cycle: leave it.
                state.count -= 1;
            }
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] returns to each party of a completed cycle.
///
/// ```
/// # bucle::run(async {
/// let result = bucle::sync::Barrier::new(1).wait().await.unwrap();
/// assert_eq!(result.index(), 0);
/// assert!(result.is_leader());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// The party's arrival index in its cycle, in `0..parties`.
    ///
    /// ```
    /// # bucle::run(async {
    /// assert_eq!(bucle::sync::Barrier::new(1).wait().await.unwrap().index(), 0);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// True for exactly one party of each cycle: the last to arrive, which released the
    /// others.
    ///
    /// ```
    /// # bucle::run(async {
    /// assert!(bucle::sync::Barrier::new(1).wait().await.unwrap().is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The barrier was aborted or reset: [`Barrier::wait`] cannot complete.
///
/// ```
/// # bucle::run(async {
/// let barrier = bucle::sync::Barrier::new(2);
/// barrier.abort();
/// assert_eq!(barrier.wait().await.unwrap_err().to_string(), "barrier is broken");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenBarrier(());

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl std::error::Error for BrokenBarrier {}
