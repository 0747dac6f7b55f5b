//! Time on the loop: sleeping, deadlines, intervals and delayed callbacks.
//!
//! Everything here reads the loop's clock, which a test can pause
//! ([`Builder::start_paused`](crate::runtime::Builder::start_paused)). Timers are precise to
//! the clock's resolution; a timer fires at the first tick at or after its deadline.
//!
//! ```
//! use std::time::Duration;
//!
//! # bucle::run(async {
//! let start = bucle::time::Instant::now();
//! bucle::sleep(Duration::from_millis(10)).await;
//! assert!(start.elapsed() >= Duration::from_millis(10));
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Add, AddAssign, Sub};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::runtime::context;
use crate::runtime::core::Core;
use crate::runtime::timers::{Action, TimerKey};

/// A point in time on the loop's clock.
///
/// Outside a loop, or with the clock running, this is [`std::time::Instant::now`]; with the
/// loop's clock paused it is the loop's virtual time.
///
/// ```
/// # bucle::run(async {
/// let t = bucle::time::Instant::now();
/// assert!(t.elapsed() >= std::time::Duration::ZERO);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The loop's current time.
    ///
    /// ```
    /// let a = bucle::time::Instant::now();
    /// let b = bucle::time::Instant::now();
    /// assert!(b >= a);
    /// ```
    pub fn now() -> Instant {
        Instant(context::with_current(|core| match core {
            Some(core) => core.clock.now(),
            None => std::time::Instant::now(),
        }))
    }

    /// Time elapsed since `self` on the loop's clock.
    ///
    /// ```
    /// let t = bucle::time::Instant::now();
    /// assert!(t.elapsed() < std::time::Duration::from_secs(3600));
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = bucle::time::Instant::now();
    /// assert_eq!((t + Duration::from_secs(2)).duration_since(t), Duration::from_secs(2));
    /// assert_eq!(t.duration_since(t + Duration::from_secs(2)), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// `self + duration`, or `None` on overflow.
    ///
    /// ```
    /// let t = bucle::time::Instant::now();
    /// assert!(t.checked_add(std::time::Duration::MAX).is_none());
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// The standard library instant this wraps.
    ///
    /// ```
    /// let t = bucle::time::Instant::now();
    /// let std_t: std::time::Instant = t.into_std();
    /// # let _ = std_t;
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// `self + duration`, saturating at a point far in the future (about 30 years ahead).
    fn saturating_add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .or_else(|| self.checked_add(FAR_FUTURE))
            .unwrap_or(self)
    }
}

/// What "never" means for deadlines that overflow.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0 - rhs)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

/// Waits until `duration` has passed on the loop's clock.
///
/// The deadline is fixed when `sleep` is called. The returned [`Sleep`] must be polled on
/// a bucle loop.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future removes its timer.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let start = std::time::Instant::now();
/// bucle::sleep(Duration::from_millis(5)).await;
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline` on the loop's clock; completes at once if it has passed.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future removes its timer.
///
/// ```
/// use bucle::time::Instant;
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let deadline = Instant::now() + Duration::from_millis(5);
/// bucle::time::sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// `Sleep` is `Send` and `Unpin`; it must be polled on a bucle loop. A sleep polled on one
/// loop stays bound to that loop's timers.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<Registered>,
}

/// A sleep's timer, on the loop `loop_id`.
#[derive(Clone, Copy)]
struct Registered {
    loop_id: u64,
    key: TimerKey,
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            timer: None,
        }
    }

    /// When this sleep completes.
    ///
    /// ```
    /// use std::time::Duration;
    /// let deadline = bucle::time::Instant::now() + Duration::from_secs(1);
    /// assert_eq!(bucle::time::sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True if the deadline has passed.
    ///
    /// ```
    /// let past = bucle::time::Instant::now();
    /// assert!(bucle::time::sleep_until(past).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline. The sleep can be awaited again, even after it completed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # bucle::run(async {
    /// let mut sleep = bucle::sleep(Duration::from_secs(3600));
    /// sleep.reset(bucle::time::Instant::now() + Duration::from_millis(1));
    /// (&mut sleep).await;
    /// # });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deregister();
        self.deadline = deadline;
    }

    fn deregister(&mut self) {
        if let Some(timer) = self.timer.take() {
            context::with_current(|core| {
                if let Some(core) = core.filter(|core| core.shared.id == timer.loop_id) {
                    drop(core.timers.borrow_mut().remove(timer.key));
                }
                // On another thread the timer stays until it fires: a spurious wake of a
                // task that no longer waits for it, which tasks tolerate.
            });
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        context::with_current(|core| {
            let Some(core) = core else {
                panic!(
                    "a bucle `Sleep` (from `bucle::sleep`, `timeout` or `interval`) was polled \
                     outside a bucle event loop; await it inside `bucle::run` or a bucle task"
                );
            };
            if core.clock.now() >= this.deadline.0 {
                if let Some(timer) = this.timer.take() {
                    if timer.loop_id == core.shared.id {
                        drop(core.timers.borrow_mut().remove(timer.key));
                    }
                }
                return Poll::Ready(());
            }
            let mut timers = core.timers.borrow_mut();
            let live = matches!(this.timer, Some(timer)
                if timer.loop_id == core.shared.id && timers.update_waker(timer.key, cx.waker()));
            if !live {
                let key = timers.insert(this.deadline.0, Action::Wake(cx.waker().clone()));
                this.timer = Some(Registered {
                    loop_id: core.shared.id,
                    key,
                });
            }
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.timer.is_some())
            .finish()
    }
}

/// Runs `future` with a time limit: `Ok(output)` if it completes within `duration`,
/// `Err(Elapsed)` otherwise, in which case the future is dropped.
///
/// The future is polled before the deadline is checked, so a future that is ready at once
/// succeeds even with a zero duration, while one that must wait fails (asyncio's rule).
///
/// # Cancel safety
///
/// As cancel safe as `future` itself: on timeout `future` is dropped like any cancelled
/// future.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let fast = bucle::timeout(Duration::from_secs(1), async { 1 }).await;
/// assert_eq!(fast, Ok(1));
/// let slow = bucle::timeout(Duration::from_millis(1), bucle::sleep(Duration::from_secs(60))).await;
/// assert!(slow.is_err());
/// # });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Cancel safety
///
/// As cancel safe as `future` itself.
///
/// ```
/// use bucle::time::Instant;
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let deadline = Instant::now() + Duration::from_millis(1);
/// let result = bucle::time::timeout_at(deadline, std::future::pending::<()>()).await;
/// assert!(result.is_err());
/// # });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// ```
    /// let t = bucle::timeout(std::time::Duration::from_secs(1), async { 5 });
    /// let _inner = t.into_inner();
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// When the time limit ends.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = bucle::timeout(Duration::from_secs(1), async {});
    /// assert!(t.deadline() > bucle::time::Instant::now());
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The time limit of a [`timeout`] passed before the future completed.
///
/// ```
/// # bucle::run(async {
/// let err = bucle::timeout(std::time::Duration::ZERO, std::future::pending::<()>())
///     .await
///     .unwrap_err();
/// assert_eq!(err.to_string(), "deadline has elapsed");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// What an [`Interval`] does when ticks were missed because the loop or the task was busy.
///
/// ```
/// use bucle::time::MissedTickBehavior;
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up; the schedule keeps its phase.
    #[default]
    Burst,
    /// Fire once now, then continue one period after now: the schedule shifts.
    Delay,
    /// Fire once now, then continue at the next tick of the original schedule.
    Skip,
}

/// Ticks every `period`, the first tick at once.
///
/// # Panics
///
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let mut ticks = bucle::time::interval(Duration::from_millis(2));
/// let first = ticks.tick().await;
/// let second = ticks.tick().await;
/// assert_eq!(second - first, Duration::from_millis(2));
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// use bucle::time::Instant;
///
/// # bucle::run(async {
/// let start = Instant::now() + Duration::from_millis(3);
/// let mut ticks = bucle::time::interval_at(start, Duration::from_millis(2));
/// assert_eq!(ticks.tick().await, start);
/// # });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "bucle::time::interval needs a period greater than zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// A stream of evenly spaced ticks; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a tick is consumed only when this returns it.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut ticks = bucle::time::interval(std::time::Duration::from_millis(1));
    /// ticks.tick().await;
    /// # });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick, for use inside hand-written futures.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut ticks = bucle::time::interval(std::time::Duration::from_millis(1));
    /// std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    /// # });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let next = match self.missed_tick_behavior {
            MissedTickBehavior::Burst => scheduled.saturating_add(self.period),
            MissedTickBehavior::Delay if now > scheduled + self.period => {
                now.saturating_add(self.period)
            }
            MissedTickBehavior::Skip if now > scheduled + self.period => {
                let behind = now.duration_since(scheduled).as_nanos();
                let period = self.period.as_nanos();
                let periods = u32::try_from(behind / period + 1).unwrap_or(u32::MAX);
                scheduled.saturating_add(self.period.saturating_mul(periods))
            }
            MissedTickBehavior::Delay | MissedTickBehavior::Skip => {
                scheduled.saturating_add(self.period)
            }
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut ticks = bucle::time::interval(std::time::Duration::from_millis(1));
    /// ticks.reset();
    /// ticks.tick().await;
    /// # });
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset(Instant::now().saturating_add(self.period));
    }

    /// The period.
    ///
    /// ```
    /// use std::time::Duration;
    /// # bucle::run(async {
    /// assert_eq!(bucle::time::interval(Duration::from_secs(1)).period(), Duration::from_secs(1));
    /// # });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// How missed ticks are handled.
    ///
    /// ```
    /// use bucle::time::MissedTickBehavior;
    /// # bucle::run(async {
    /// let mut ticks = bucle::time::interval(std::time::Duration::from_secs(1));
    /// ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// # });
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets how missed ticks are handled.
    ///
    /// ```
    /// use bucle::time::MissedTickBehavior;
    /// # bucle::run(async {
    /// let mut ticks = bucle::time::interval(std::time::Duration::from_secs(1));
    /// ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// # });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl futures::Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.poll_tick(cx).map(Some)
    }
}

/// Runs `callback` on the loop once `delay` has passed (asyncio's `call_later`). The
/// returned [`TimerHandle`] cancels it.
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let fired = Rc::new(Cell::new(false));
/// let f = fired.clone();
/// bucle::time::call_later(Duration::from_millis(1), move || f.set(true));
/// bucle::sleep(Duration::from_millis(5)).await;
/// assert!(fired.get());
/// # });
/// ```
#[track_caller]
pub fn call_later<F: FnOnce() + 'static>(delay: Duration, callback: F) -> TimerHandle {
    context::expect_current("`bucle::time::call_later`", |core| {
        let deadline = Instant(core.clock.now()).saturating_add(delay);
        schedule_call(core, deadline, Box::new(callback))
    })
}

/// Runs `callback` on the loop at `deadline` (asyncio's `call_at`).
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// let when = bucle::time::Instant::now() + Duration::from_secs(60);
/// let handle = bucle::time::call_at(when, || unreachable!("cancelled"));
/// assert_eq!(handle.when(), when);
/// assert!(handle.cancel());
/// # });
/// ```
#[track_caller]
pub fn call_at<F: FnOnce() + 'static>(deadline: Instant, callback: F) -> TimerHandle {
    context::expect_current("`bucle::time::call_at`", |core| {
        schedule_call(core, deadline, Box::new(callback))
    })
}

fn schedule_call(core: &Core, deadline: Instant, callback: Box<dyn FnOnce()>) -> TimerHandle {
    let key = core
        .timers
        .borrow_mut()
        .insert(deadline.0, Action::Call(callback));
    TimerHandle {
        loop_id: core.shared.id,
        key,
        deadline,
        _loop_thread: PhantomData,
    }
}

/// A callback scheduled with [`call_later`] or [`call_at`]. Dropping the handle does not
/// cancel the callback; [`TimerHandle::cancel`] does.
///
/// The handle stays on the loop thread (it is not `Send`), like the callback it refers to.
#[derive(Debug)]
pub struct TimerHandle {
    loop_id: u64,
    key: TimerKey,
    deadline: Instant,
    _loop_thread: PhantomData<*const ()>,
}

impl TimerHandle {
    /// Cancels the callback. Returns true if it had not run yet (it now never will).
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::time::call_later(std::time::Duration::from_secs(1), || {});
    /// assert!(handle.cancel());
    /// assert!(!handle.cancel());
    /// # });
    /// ```
    pub fn cancel(&self) -> bool {
        self.with_timers(|timers| timers.remove(self.key))
            .flatten()
            .is_some()
    }

    /// True while the callback has neither run nor been cancelled.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::time::call_later(std::time::Duration::ZERO, || {});
    /// assert!(handle.is_pending());
    /// bucle::sleep(std::time::Duration::from_millis(1)).await;
    /// assert!(!handle.is_pending());
    /// # });
    /// ```
    pub fn is_pending(&self) -> bool {
        self.with_timers(|timers| timers.contains(self.key))
            .unwrap_or(false)
    }

    /// When the callback is due.
    ///
    /// ```
    /// # bucle::run(async {
    /// let handle = bucle::time::call_later(std::time::Duration::from_secs(1), || {});
    /// assert!(handle.when() > bucle::time::Instant::now());
    /// # });
    /// ```
    pub fn when(&self) -> Instant {
        self.deadline
    }

    fn with_timers<R>(
        &self,
        f: impl FnOnce(&mut crate::runtime::timers::Timers) -> R,
    ) -> Option<R> {
        context::with_current(|core| {
            let core = core.filter(|core| core.shared.id == self.loop_id)?;
            let mut timers = core.timers.borrow_mut();
            Some(f(&mut timers))
        })
    }
}

/// Pauses the current loop's clock: time stands still while tasks run, and jumps to the next
/// timer whenever the loop would otherwise wait for it (never while I/O events or offloaded
/// calls are pending). For tests; see also
/// [`Builder::start_paused`](crate::runtime::Builder::start_paused).
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::run(async {
/// bucle::time::pause();
/// let before = bucle::time::Instant::now();
/// bucle::sleep(Duration::from_secs(600)).await; // returns at once, in real time
/// assert_eq!(bucle::time::Instant::now() - before, Duration::from_secs(600));
/// bucle::time::resume();
/// # });
/// ```
#[track_caller]
pub fn pause() {
    context::expect_current("`bucle::time::pause`", |core| core.clock.pause());
}

/// Lets the current loop's clock run again, continuing from the virtual time it had
/// reached (it never goes backwards).
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// # bucle::run(async {
/// bucle::time::pause();
/// bucle::time::resume();
/// # });
/// ```
#[track_caller]
pub fn resume() {
    context::expect_current("`bucle::time::resume`", |core| core.clock.resume());
}

/// Moves the current loop's paused clock forward by `duration`, firing the timers it
/// passes in deadline order. The caller first yields, so that tasks already ready run and
/// set their timers; then at each timer's deadline the clock stops, the timer fires, and
/// the caller yields again so that the tasks it woke run before time moves on. After the
/// last timer the clock stops at exactly `now + duration`.
///
/// Works with auto-advance on or off ([`Builder::auto_advance`](crate::runtime::Builder::auto_advance));
/// with it off, `advance` is the only thing that moves a paused clock.
///
/// # Panics
///
/// If no bucle loop is running on this thread, or if its clock is not paused: pause it with
/// [`pause`] or build the loop with
/// [`Builder::start_paused(true)`](crate::runtime::Builder::start_paused).
///
/// # Cancel safety
///
/// Dropping the future stops the clock where it is: timers it already fired stay fired,
/// later ones stay pending.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// let log = Rc::new(RefCell::new(Vec::new()));
/// for secs in [3, 1, 2] {
///     let log = log.clone();
///     bucle::spawn(async move {
///         bucle::sleep(Duration::from_secs(secs)).await;
///         log.borrow_mut().push((secs, bucle::time::Instant::now()));
///     });
/// }
/// let start = bucle::time::Instant::now();
/// bucle::time::advance(Duration::from_secs(10)).await;
/// let seen: Vec<_> = log.borrow().iter().map(|&(s, at)| (s, at - start)).collect();
/// // Each woke at its own deadline, in order, not all at 10 s.
/// assert_eq!(seen, [1, 2, 3].map(|s| (s, Duration::from_secs(s))));
/// assert_eq!(bucle::time::Instant::now() - start, Duration::from_secs(10));
/// # });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl Future<Output = ()> {
    let core = context::expect_current_rc("`bucle::time::advance`");
    assert!(
        core.clock.is_paused(),
        "`bucle::time::advance` needs a paused clock; call `bucle::time::pause()` first or \
         build the loop with `Builder::start_paused(true)` (`#[bucle::test(start_paused = true)]`)"
    );
    let target = Instant(core.clock.now()).saturating_add(duration).0;
    async move {
        loop {
            // Tasks that are ready (just spawned, or woken by the last timer) run first, so
            // the timers they set count from the time they were due.
            crate::yield_now().await;
            if !core.clock.is_paused() {
                return;
            }
            let next = core.timers.borrow_mut().next_deadline();
            match next {
                Some(deadline) if deadline <= target => {
                    core.clock.advance_to(deadline);
                    core.fire_timers();
                }
                _ => break,
            }
        }
        core.clock.advance_to(target);
    }
}

/// Switches whether the current loop's paused clock jumps to the next timer by itself when
/// the loop is idle; see [`Builder::auto_advance`](crate::runtime::Builder::auto_advance).
///
/// # Panics
///
/// If no bucle loop is running on this thread.
///
/// ```
/// use std::time::Duration;
///
/// # bucle::Runtime::builder().start_paused(true).build().unwrap().block_on(async {
/// bucle::time::set_auto_advance(false);
/// let sleeper = bucle::spawn(bucle::sleep(Duration::from_secs(1)));
/// bucle::yield_now().await;
/// bucle::yield_now().await;
/// assert!(!sleeper.is_finished()); // nothing moves the clock but `advance`
/// bucle::time::advance(Duration::from_secs(1)).await;
/// assert!(sleeper.is_finished());
/// bucle::time::set_auto_advance(true);
/// # });
/// ```
#[track_caller]
pub fn set_auto_advance(on: bool) {
    context::expect_current_rc("`bucle::time::set_auto_advance`")
        .clock
        .set_auto_advance(on);
}
