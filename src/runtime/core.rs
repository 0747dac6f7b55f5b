//! The loop itself: the state shared with other threads ([`Shared`]), the state only the
//! loop thread touches ([`Core`]), and one tick.
//!
//! # One tick
//!
//! 1. Run the tasks that are ready when the tick begins, in FIFO order, at most
//!    `event_interval` of them (128 by default). A task woken during the tick, including one
//!    that wakes itself, runs in the next tick: it cannot starve the others.
//! 2. Run the `call_soon` callbacks that were queued before this step.
//! 3. Move work from other threads (remote queue) onto the loop.
//! 4. Poll I/O: if nothing is ready to run, wait until the next timer, an I/O event or a
//!    wake from another thread; if work is ready, poll without waiting once every
//!    `event_interval` tasks, so busy tasks delay I/O by a bounded amount and cost at most
//!    one syscall per 128 tasks (none while no I/O source is registered).
//! 5. Fire due timers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use async_task::Runnable;
use concurrent_queue::ConcurrentQueue;

use super::clock::Clock;
use super::context;
use super::reactor::Reactor;
use super::timers::{Action, Timers};
use crate::detector::{self, Detector};
use crate::task::raw::Meta;
use crate::task::Id;

/// Default number of tasks run per tick before I/O, timers and remote work are looked at.
pub(crate) const DEFAULT_EVENT_INTERVAL: u32 = 128;

pub(crate) type Callback = Box<dyn FnOnce()>;

/// Settings fixed when the runtime is built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) start_paused: bool,
    /// Where `run_in_executor` sends closures.
    pub(crate) executor: crate::offload::ExecutorRef,
    /// How long dropping the runtime waits for offloaded calls still running.
    pub(crate) shutdown_timeout: Duration,
    pub(crate) detector: detector::Settings,
    pub(crate) auto_advance: bool,
    pub(crate) task_timing: bool,
}

/// Work handed to the loop from other threads.
pub(crate) enum Remote {
    /// A task woken (or spawned) off the loop thread.
    Task(Runnable<Meta>),
    /// A closure from `Handle::call_soon`.
    Call(Box<dyn FnOnce() + Send>),
    /// Wake the registered task `(id, slot)`: a cancel requested from another thread.
    WakeTask(Id, usize),
}

/// The part of a loop that other threads may touch.
pub(crate) struct Shared {
    pub(crate) id: u64,
    remote: ConcurrentQueue<Remote>,
    pub(crate) reactor: Reactor,
    /// True while the loop runs or has already been notified; a wake from another thread
    /// pays for `Poller::notify` only when it flips this from false.
    awake: AtomicBool,
    /// Set when shutdown begins: no new work is accepted from other threads.
    closed: AtomicBool,
    /// Offloaded calls in flight; a paused clock does not jump while any runs.
    pub(crate) in_flight: AtomicUsize,
    /// True while the loop parks waiting for `in_flight` to reach zero (paused clock,
    /// shutdown); only then must the last call to finish unpark it.
    offload_waiter: AtomicBool,
    /// Every task that has been polled and not yet finished, with a waker of each, so
    /// shutdown can reach tasks that wait on something that will never come. Readable from
    /// any thread (`Handle::dump`).
    pub(crate) registry: crate::task::registry::Registry,
    /// Real-time origin of the tasks' poll timestamps.
    pub(crate) epoch: std::time::Instant,
    /// Whether task polls are timed (`Builder::task_timing`).
    pub(crate) task_timing: bool,
}

/// The part of a loop that only its thread touches.
pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Config,
    /// Tasks ready to run, woken on the loop thread.
    pub(crate) ready: RefCell<VecDeque<Runnable<Meta>>>,
    /// `call_soon` callbacks, run once per tick in FIFO order.
    callbacks: RefCell<VecDeque<Callback>>,
    pub(crate) timers: RefCell<Timers>,
    /// The metadata of the task being polled, set around each `Runnable::run` (see
    /// [`Core::running_task`]).
    running: Cell<Option<NonNull<Meta>>>,
    /// The task a task's first poll ended waiting on (its `JoinHandle` returned
    /// `Pending`): kept here until the task is registered, which records it.
    pub(crate) first_poll_awaiting: Cell<Option<Id>>,
    pub(crate) clock: Clock,
    events: RefCell<polling::Events>,
    /// Tasks run since I/O was last polled; I/O is polled at least every `event_interval`.
    ran_since_io: Cell<u32>,
    /// The blocking detector: times each poll (see `run_task`).
    pub(crate) detector: Detector,
}

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

impl Shared {
    /// Queues work from any thread and wakes the loop. Gives the item back if the loop has
    /// shut down.
    pub(crate) fn push_remote(&self, item: Remote) -> Result<(), Remote> {
        if let Err(err) = self.remote.push(item) {
            return Err(err.into_inner());
        }
        self.unpark();
        Ok(())
    }

    /// Makes a parked loop run its next tick.
    pub(crate) fn unpark(&self) {
        // Pairs with the fence in `Core::park`: either the loop sees the queued work before it
        // parks, or this sees `awake == false` and notifies.
        fence(Ordering::SeqCst);
        if !self.awake.load(Ordering::SeqCst) && !self.awake.swap(true, Ordering::SeqCst) {
            let _ = self.reactor.notify();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// An offloaded call has finished and delivered its outcome (its waker already woken).
    /// Unparks the loop only if this was the last call and the loop waits for that: an
    /// unconditional unpark would often find the loop parked again on other work and cost
    /// it a spurious wake per call.
    pub(crate) fn offload_finished(&self) {
        // Pairs with `park` and `wait_in_flight`, which set the flag before they re-read
        // the count: either they see zero, or this sees the flag.
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && self.offload_waiter.load(Ordering::SeqCst)
        {
            self.unpark();
        }
    }
}

impl Core {
    pub(crate) fn new(config: Config) -> std::io::Result<Core> {
        let shared = Arc::new(Shared {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            remote: ConcurrentQueue::unbounded(),
            reactor: Reactor::new()?,
            awake: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            offload_waiter: AtomicBool::new(false),
            registry: Default::default(),
            epoch: std::time::Instant::now(),
            task_timing: config.task_timing,
        });
        let clock = Clock::new(config.start_paused, config.auto_advance);
        let detector = Detector::new(&config.detector);
        Ok(Core {
            shared,
            config,
            ready: RefCell::new(VecDeque::with_capacity(256)),
            callbacks: RefCell::new(VecDeque::new()),
            timers: RefCell::new(Timers::default()),
            running: Cell::new(None),
            first_poll_awaiting: Cell::new(None),
            clock,
            events: RefCell::new(polling::Events::new()),
            ran_since_io: Cell::new(0),
            detector,
        })
    }

    /// Queues a callback for the next tick.
    pub(crate) fn call_soon(&self, callback: Callback) {
        self.callbacks.borrow_mut().push_back(callback);
    }

    /// Runs the loop until `future` completes. The caller has entered the loop's context.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        // Whatever ran since the previous `block_on` returned is not a poll's time.
        self.detector.gap();
        loop {
            let main_polled = main.woken.swap(false, Ordering::SeqCst);
            if main_polled {
                // The main future can block the loop as well as any task.
                let probe = self.detector.begin(None);
                let poll = future.as_mut().poll(&mut cx);
                probe.finish();
                if let Poll::Ready(output) = poll {
                    return output;
                }
            }
            self.tick(&main.woken, main_polled);
        }
    }

    /// One round of the loop. `main_polled` says whether the `block_on` future was polled just
    /// before: it counts as one task run toward the I/O budget, so a main future that keeps
    /// waking itself cannot keep the reactor from being polled.
    fn tick(&self, main_woken: &AtomicBool, main_polled: bool) {
        // Only the tasks that were ready when the tick began: a task that wakes itself runs
        // again in the next tick, after everything else that was waiting.
        let ready = self
            .ready
            .borrow()
            .len()
            .min(self.config.event_interval as usize);
        for _ in 0..ready {
            let Some(runnable) = self.ready.borrow_mut().pop_front() else {
                break;
            };
            self.run_task(runnable);
        }
        self.detector.end_tick();

        let queued = self.callbacks.borrow().len();
        for _ in 0..queued {
            let Some(callback) = self.callbacks.borrow_mut().pop_front() else {
                break;
            };
            self.run_callback(callback);
        }

        self.drain_remote();

        let has_work = main_woken.load(Ordering::SeqCst)
            || !self.ready.borrow().is_empty()
            || !self.callbacks.borrow().is_empty();
        let since_io = self.ran_since_io.get() + ready as u32 + u32::from(main_polled);
        if !has_work {
            self.park(main_woken);
            self.ran_since_io.set(0);
        } else if since_io >= self.config.event_interval {
            if self.shared.reactor.has_sources() {
                self.poll_io(Some(Duration::ZERO));
            }
            self.ran_since_io.set(0);
        } else {
            self.ran_since_io.set(since_io);
        }
        self.fire_timers();
    }

    /// Polls one task. Everything the loop measures or guards per poll belongs here.
    fn run_task(&self, runnable: Runnable<Meta>) {
        let meta = runnable.metadata();
        let probe = self
            .detector
            .begin(Some((meta.id, meta.blocking(), meta.spawned_at())));
        self.run_marked(runnable);
        probe.finish();
    }

    /// Runs a task with its metadata marked as the running task's, the only way the loop
    /// runs one: a task's future finds its metadata there (`raw::TaskFuture`), and is only
    /// ever polled and dropped inside `Runnable::run`.
    fn run_marked(&self, runnable: Runnable<Meta>) {
        let previous = self
            .running
            .replace(Some(NonNull::from(runnable.metadata())));
        runnable.run();
        self.running.set(previous);
    }

    /// Runs `f` with the metadata of the task being polled, or `None` outside a task.
    pub(crate) fn with_running_task<R>(&self, f: impl FnOnce(Option<&Meta>) -> R) -> R {
        // SAFETY: `run_marked` stores a pointer into the task's allocation just before
        // `Runnable::run` and puts the previous value back right after; `run` keeps that
        // allocation alive while it runs, so a stored pointer is valid. `f` is called from
        // code the run is executing (the loop thread is inside it), so the run, and with it
        // the allocation, outlasts the call, and the borrow cannot escape `f`.
        f(self.running.get().map(|meta| unsafe { meta.as_ref() }))
    }

    /// The id of the task being polled.
    pub(crate) fn running_task_id(&self) -> Option<Id> {
        self.with_running_task(|meta| meta.map(|meta| meta.id))
    }

    /// Waits for I/O, the next timer or a remote wake, whichever comes first.
    fn park(&self, main_woken: &AtomicBool) {
        let next = self.timers.borrow_mut().next_deadline();
        let mut timeout = next.map(|deadline| deadline.saturating_duration_since(self.clock.now()));
        let mut waits_for_offload = false;

        if self.clock.is_paused() {
            if let Some(deadline) = next {
                // Paused clock: let I/O and remote work land first; jump to the next timer only
                // when nothing else could happen before it. The in-flight count is read
                // first: an offloaded call wakes its task before it stops counting, so if
                // this reads zero, that wake is already in the remote queue drained below.
                let in_flight = self.shared.in_flight.load(Ordering::SeqCst);
                let events = self.poll_io(Some(Duration::ZERO));
                self.drain_remote();
                let idle = in_flight == 0
                    && events == 0
                    && self.ready.borrow().is_empty()
                    && !main_woken.load(Ordering::SeqCst);
                let jump = idle && self.clock.auto_advances();
                if jump {
                    self.clock.advance_to(deadline);
                }
                if jump || !self.ready.borrow().is_empty() {
                    return;
                }
                // Offloaded work in flight (or auto-advance off): wait for a wake without a
                // timeout; the clock stays where it is.
                timeout = None;
                waits_for_offload = true;
            }
        }

        if waits_for_offload {
            self.shared.offload_waiter.store(true, Ordering::SeqCst);
        }
        self.shared.awake.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // A call that finished after the count was read above unparks the loop only if it
        // sees the waiter flag and `awake == false`; re-reading the count after both are
        // set closes that window.
        let offload_done = waits_for_offload && self.shared.in_flight.load(Ordering::SeqCst) == 0;
        if !self.shared.remote.is_empty() || main_woken.load(Ordering::SeqCst) || offload_done {
            timeout = Some(Duration::ZERO);
        }
        // The last offloaded call may have finished after the check above; its guard's
        // unpark saw `awake == true` and did not notify, so look again now.
        if timeout.is_none()
            && next.is_some()
            && self.clock.is_paused()
            && self.clock.auto_advances()
            && self.shared.in_flight.load(Ordering::SeqCst) == 0
        {
            timeout = Some(Duration::ZERO);
        }
        self.poll_io(timeout);
        self.shared.awake.store(true, Ordering::SeqCst);
        if waits_for_offload {
            self.shared.offload_waiter.store(false, Ordering::SeqCst);
        }
        self.drain_remote();
    }

    fn poll_io(&self, timeout: Option<Duration>) -> usize {
        self.detector.gap();
        let mut events = self.events.borrow_mut();
        match self.shared.reactor.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(err) => panic!("bucle: waiting for I/O events failed: {err}"),
        }
    }

    /// Fires the timers that are due: wakes their tasks, runs their callbacks. The check for
    /// none at all is inline, since it is made every tick.
    #[inline]
    pub(crate) fn fire_timers(&self) {
        if !self.timers.borrow().is_empty() {
            self.fire_due_timers();
        }
    }

    fn fire_due_timers(&self) {
        let now = self.clock.now();
        loop {
            let Some(action) = self.timers.borrow_mut().pop_due(now) else {
                break;
            };
            match action {
                Action::Wake(waker) => waker.wake(),
                Action::Call(callback) => self.run_callback(callback),
            }
        }
    }

    /// Runs a callback; a panic in it is reported and contained, like a task's. The
    /// callback is not a poll, so its time is kept off the next poll's (`Detector::gap`).
    fn run_callback(&self, callback: impl FnOnce()) {
        self.detector.gap();
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(callback)) {
            eprintln!(
                "bucle: a callback scheduled on the loop panicked: {}\n  = note: the loop keeps \
                 running; catch the error inside the callback to handle it",
                crate::task::panic_message(&*payload)
            );
        }
    }

    /// Takes in what other threads sent: wakes, spawned tasks, callbacks.
    #[inline]
    fn drain_remote(&self) {
        // The common case, checked inline: two loads, where the queue's `len` is a loop.
        if !self.shared.remote.is_empty() {
            self.drain_remote_items();
        }
    }

    fn drain_remote_items(&self) {
        // Bounded by what is there now, so a thread that keeps sending cannot hold the loop.
        for _ in 0..self.shared.remote.len() {
            match self.shared.remote.pop() {
                Ok(Remote::Task(runnable)) => self.ready.borrow_mut().push_back(runnable),
                Ok(Remote::Call(callback)) => self.run_callback(callback),
                Ok(Remote::WakeTask(id, slot)) => self.wake_registered(id, slot),
                Err(_) => break,
            }
        }
    }

    /// Wakes the task registered at `slot`, if it is still the task `id`.
    pub(crate) fn wake_registered(&self, id: Id, slot: usize) {
        if let Some(waker) = self.shared.registry.waker(slot, id) {
            waker.wake();
        }
    }

    /// Cancels every task and drops every future, callback and timer, on the loop thread.
    /// Every task future is dropped exactly once: each pending task is woken, and its next
    /// poll sees the cancel flag and drops the future instead of polling it.
    pub(crate) fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        loop {
            for waker in self.shared.registry.wakers() {
                waker.wake();
            }
            while let Ok(item) = self.shared.remote.pop() {
                match item {
                    Remote::Task(runnable) => self.ready.borrow_mut().push_back(runnable),
                    Remote::Call(_) | Remote::WakeTask(..) => {}
                }
            }
            drop(std::mem::take(&mut *self.callbacks.borrow_mut()));
            let mut ran = false;
            loop {
                let Some(runnable) = self.ready.borrow_mut().pop_front() else {
                    break;
                };
                runnable.metadata().request_cancel();
                self.run_marked(runnable);
                ran = true;
            }
            let timers = self.timers.borrow_mut().clear();
            let had_timers = !timers.is_empty();
            drop(timers);
            if !ran
                && !had_timers
                && self.shared.registry.is_empty()
                && self.shared.remote.is_empty()
            {
                break;
            }
        }
        self.shared.remote.close();
        // Anything pushed between the last drain and the close: calls are Send and may be
        // dropped anywhere; a task here would be one already finished, so nothing runs.
        while self.shared.remote.pop().is_ok() {}
    }
}

impl Core {
    /// After shutdown: waits until no offloaded call of this loop is running, or `timeout`
    /// has passed. Returns the number still running. Each call unparks the loop when it
    /// finishes, so this sleeps in the poller rather than spinning.
    pub(crate) fn wait_in_flight(&self, timeout: Duration) -> usize {
        let deadline = Instant::now().checked_add(timeout);
        self.shared.offload_waiter.store(true, Ordering::SeqCst);
        loop {
            self.shared.awake.store(false, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let running = self.shared.in_flight.load(Ordering::SeqCst);
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if running == 0 || left == Some(Duration::ZERO) {
                self.shared.awake.store(true, Ordering::SeqCst);
                self.shared.offload_waiter.store(false, Ordering::SeqCst);
                return running;
            }
            self.poll_io(left);
            self.shared.awake.store(true, Ordering::SeqCst);
        }
    }
}

/// The waker of the future given to `block_on`.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.shared.unpark();
    }
}

/// Schedules a woken task: onto the local queue on the loop thread, else the remote queue.
pub(crate) fn schedule(runnable: Runnable<Meta>) {
    runnable.metadata().stats.scheduled();
    let runnable = context::with_current(|core| match core {
        Some(core) if Arc::ptr_eq(&core.shared, &runnable.metadata().shared) => {
            core.ready.borrow_mut().push_back(runnable);
            None
        }
        _ => Some(runnable),
    });
    if let Some(runnable) = runnable {
        let shared = runnable.metadata().shared.clone();
        if let Err(Remote::Task(runnable)) = shared.push_remote(Remote::Task(runnable)) {
            // The loop has shut down, so every task future is already gone and this wake
            // came after its task finished. The runnable must not be dropped off the loop
            // thread; it owns no future any more, so forgetting it only keeps its memory.
            std::mem::forget(runnable);
        }
    }
}

#[cfg(test)]
pub(crate) fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Shared>();
}
