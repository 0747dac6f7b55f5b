//! The watchdog thread and the reports it shares with the loop thread.
//!
//! One watchdog per runtime, started by the first `block_on`. It parks while the loop is not
//! inside `block_on`, and otherwise wakes about twice per threshold to read the poll slot.
//! When one poll has run past its threshold, it samples the loop thread (`/proc` state, and a
//! stack on Linux), reports the stall at once, samples again at 2x, 4x.. the threshold, and
//! reports a hang past the hang limit. When the poll returns, the loop thread hands it the
//! exact duration and the final report is made from both.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use super::report::{self, BlockingReport, StallKind, ThreadState};
use super::sampler::{self, LoopThread, ProcState};
use super::{stack, Format, Level, Lint, PollView, Probe, Settings, Slot, NEVER};
use crate::task::Id;

/// A report of the same lint at the same site is printed at most once per this long; the
/// ones in between are counted.
const PRINT_EVERY: Duration = Duration::from_secs(10);

/// How long the watchdog waits for the loop thread to answer a stack sample.
const SAMPLE_WAIT: Duration = Duration::from_millis(200);

/// What the loop thread and the watchdog share.
pub(crate) struct Watched {
    pub(crate) slot: Slot,
    pub(crate) settings: Settings,
    loop_thread: OnceLock<LoopThread>,
    watchdog: OnceLock<Thread>,
    /// True while the loop is inside `block_on`.
    running: AtomicBool,
    /// True while the watchdog is parked without a timeout (the loop has been out of
    /// `block_on` for a while); only then does entering `block_on` pay for an unpark.
    asleep: AtomicBool,
    stopped: AtomicBool,
    /// Names of the named tasks that have started, for reports made mid-stall.
    names: Mutex<Names>,
    /// The stall the watchdog is following, if any.
    stall: Mutex<Option<Stall>>,
    /// Signalled when a stall's final report is made.
    stall_done: Condvar,
    /// The loop thread's run delay (ns) when the watchdog last saw it between polls: the
    /// baseline for "time spent waiting for a CPU" at `deny`. `u64::MAX` when unknown.
    delay_mark: AtomicU64,
    store: Mutex<Store>,
}

/// A poll the watchdog has reported while it ran.
struct Stall {
    seq: u64,
    report: BlockingReport,
    /// Raw stack, until the watchdog has symbolized it.
    ips: Option<Vec<usize>>,
    symbolized: bool,
    samples: Vec<ProcState>,
    first_sample_ns: u64,
    printed: bool,
    /// Set by the loop thread when the poll returns: its duration, in ns.
    completed: Option<u64>,
    /// The loop thread's run delay when the poll returned.
    end_delay: Option<u64>,
}

/// How many names of finished tasks are kept for the reports of their last polls.
const RECENT_NAMES: usize = 16;

#[derive(Default)]
struct Names {
    live: HashMap<u64, Arc<str>>,
    recent: std::collections::VecDeque<(u64, Arc<str>)>,
}

#[derive(Default)]
struct Store {
    reports: Vec<BlockingReport>,
    by_site: HashMap<(Lint, usize), usize>,
    printed: HashMap<(Lint, usize), Instant>,
    denied: Vec<BlockingReport>,
}

fn key(lint: Lint, site: &'static Location<'static>) -> (Lint, usize) {
    (lint, site as *const Location<'static> as usize)
}

fn ns(duration: Duration) -> u64 {
    super::duration_ns(duration)
}

impl Watched {
    pub(crate) fn new(settings: Settings) -> Watched {
        Watched {
            slot: Slot::default(),
            settings,
            loop_thread: OnceLock::new(),
            watchdog: OnceLock::new(),
            running: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            names: Mutex::new(Names::default()),
            stall: Mutex::new(None),
            stall_done: Condvar::new(),
            delay_mark: AtomicU64::new(u64::MAX),
            store: Mutex::new(Store::default()),
        }
    }

    /// Marks the loop as inside `block_on` or not; the first call starts the watchdog.
    pub(crate) fn running(self: &Arc<Self>, running: bool) {
        self.running.store(running, Ordering::SeqCst);
        if running {
            self.loop_thread.get_or_init(LoopThread::current);
            let mut started = false;
            let watchdog = self.watchdog.get_or_init(|| {
                started = true;
                // Loading the debug info costs a large binary tens of megabytes and a
                // second of CPU, so a program pays for it up front only where a report
                // must carry its stack while the stall still runs: at `deny` (tests).
                // Otherwise the first stall starts the symbolizer.
                if self.settings.stack && self.settings.level(Lint::Stall) == Level::Deny {
                    symbolizer();
                }
                let watched = self.clone();
                thread::Builder::new()
                    .name("bucle-watchdog".into())
                    .spawn(move || watch(watched))
                    .map(|handle| handle.thread().clone())
                    .unwrap_or_else(|_| thread::current())
            });
            if !started && self.asleep.swap(false, Ordering::SeqCst) {
                watchdog.unpark();
            }
        }
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(watchdog) = self.watchdog.get() {
            watchdog.unpark();
        }
    }

    pub(crate) fn name_task(&self, id: u64, name: Arc<str>) {
        lock(&self.names).live.insert(id, name);
    }

    pub(crate) fn forget_task(&self, id: u64) {
        let mut names = lock(&self.names);
        if let Some(name) = names.live.remove(&id) {
            // A task finishes inside its last poll, before that poll is reported.
            if names.recent.len() == RECENT_NAMES {
                names.recent.pop_front();
            }
            names.recent.push_back((id, name));
        }
    }

    fn name_of(&self, task: u64) -> Option<Arc<str>> {
        let names = lock(&self.names);
        names.live.get(&task).cloned().or_else(|| {
            names
                .recent
                .iter()
                .find(|(id, _)| *id == task)
                .map(|(_, name)| name.clone())
        })
    }

    fn base_report(
        &self,
        lint: Lint,
        task: u64,
        site: &'static Location<'static>,
        duration_ns: u64,
        threshold_ns: u64,
    ) -> BlockingReport {
        BlockingReport {
            lint,
            level: self.settings.level(lint),
            task_id: Id::from_u64(task),
            task_name: (task != 0).then(|| self.name_of(task)).flatten(),
            spawned_at: site,
            duration: Duration::from_nanos(duration_ns),
            threshold: Duration::from_nanos(threshold_ns),
            completed: false,
            thread: None,
            stack: Vec::new(),
            hint: String::new(),
            count: 1,
            polls: 1,
            samples: 0,
            notes: Vec::new(),
        }
    }

    /// The loop thread: the poll timed by `probe` returned after `duration_ns` (at least its
    /// threshold, or the watchdog had flagged it).
    pub(crate) fn poll_returned(&self, probe: &Probe, duration_ns: u64) {
        let end_delay = self
            .loop_thread
            .get()
            .and_then(|t| sampler::run_delay_ns(*t));
        let mut guard = lock(&self.stall);
        if let Some(stall) = guard.as_mut().filter(|stall| stall.seq == probe.seq) {
            stall.completed = Some(duration_ns);
            stall.end_delay = end_delay;
            if stall.symbolized {
                let stall = guard.take().expect("checked above");
                drop(guard);
                self.finish_stall(stall);
                self.stall_done.notify_all();
            } else if let Some(watchdog) = self.watchdog.get() {
                // The watchdog is symbolizing the stack; it makes the final report.
                watchdog.unpark();
            }
            return;
        }
        drop(guard);
        if probe.threshold_ns == NEVER || duration_ns < probe.threshold_ns {
            return;
        }
        if self.settings.level(Lint::SlowPoll) == Level::Allow {
            return;
        }
        let mut report = self.base_report(
            Lint::SlowPoll,
            probe.task,
            probe.site,
            duration_ns,
            probe.threshold_ns,
        );
        report.completed = true;
        report.hint = report::hint(Lint::SlowPoll, None, &[]);
        self.guard_cpu_wait(&mut report, end_delay);
        self.emit(report, true, true);
    }

    /// The loop thread: the polls of one tick took `total_ns` together.
    pub(crate) fn long_tick(
        &self,
        total_ns: u64,
        polls: u32,
        longest: (u64, u64, Option<&'static Location<'static>>),
    ) {
        let (_, task, site) = longest;
        let Some(site) = site else { return };
        let mut report = self.base_report(
            Lint::LongTick,
            task,
            site,
            total_ns,
            ns(self.settings.tick_limit),
        );
        report.completed = true;
        report.polls = polls;
        report.hint = report::hint(Lint::LongTick, None, &[]);
        self.emit(report, true, true);
    }

    /// At `deny`, time the loop thread spent waiting for a CPU does not count: if the rest
    /// is under the threshold, the finding is downgraded to a warning.
    fn guard_cpu_wait(&self, report: &mut BlockingReport, end_delay: Option<u64>) {
        if report.level != Level::Deny {
            return;
        }
        let mark = self.delay_mark.load(Ordering::SeqCst);
        let (Some(end), true) = (end_delay, mark != u64::MAX) else {
            return;
        };
        let waited = Duration::from_nanos(end.saturating_sub(mark)).min(report.duration);
        if report.duration - waited < report.threshold {
            report.level = Level::Warn;
            report.notes.push(format!(
                "downgraded from `deny`: {} of the {} were spent waiting for a CPU (the \
                 machine is overloaded), which leaves less than the threshold",
                report::human(waited),
                report::human(report.duration)
            ));
        }
    }

    /// Waits until the watchdog has made the final report of a stall whose poll returned.
    fn flush(&self) {
        let mut guard = lock(&self.stall);
        let deadline = Instant::now() + Duration::from_secs(30);
        while guard
            .as_ref()
            .is_some_and(|stall| stall.completed.is_some())
        {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            guard = self
                .stall_done
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|poison| poison.into_inner())
                .0;
        }
    }

    pub(crate) fn reports(&self) -> Vec<BlockingReport> {
        self.flush();
        lock(&self.store).reports.clone()
    }

    pub(crate) fn take_denied(&self) -> Option<BlockingReport> {
        self.flush();
        let mut store = lock(&self.store);
        let mut denied = std::mem::take(&mut store.denied).into_iter();
        denied.next()
    }

    /// Records, prints and hands out one report. `last` is false for a report made
    /// mid-stall, which the final one will complete. Returns whether it was printed.
    fn emit(&self, report: BlockingReport, last: bool, print: bool) -> bool {
        let key = key(report.lint, report.spawned_at);
        let mut printed = false;
        {
            let mut store = lock(&self.store);
            if last {
                if report.level == Level::Deny {
                    store.denied.push(report.clone());
                }
                match store.by_site.get(&key) {
                    Some(&index) => store.reports[index].count += 1,
                    None => {
                        let index = store.reports.len();
                        store.reports.push(report.clone());
                        store.by_site.insert(key, index);
                    }
                }
            }
            if print && self.settings.print {
                let now = Instant::now();
                let due = report.lint == Lint::Hang
                    || store
                        .printed
                        .get(&key)
                        .is_none_or(|at| now.duration_since(*at) >= PRINT_EVERY);
                if due {
                    store.printed.insert(key, now);
                    printed = true;
                }
            }
        }
        if printed {
            let count = {
                let store = lock(&self.store);
                store
                    .by_site
                    .get(&key)
                    .map_or(report.count, |&i| store.reports[i].count)
            };
            let mut shown = report.clone();
            shown.count = count;
            match self.settings.format {
                Format::Text => eprint!("{shown}"),
                Format::Json => eprintln!("{}", shown.to_json()),
            }
        }
        #[cfg(feature = "tracing")]
        trace(&report);
        if let Some(callback) = &self.settings.callback {
            if panic::catch_unwind(AssertUnwindSafe(|| callback(&report))).is_err() {
                eprintln!("bucle: the blocking report callback panicked; the panic was contained");
            }
        }
        printed
    }

    /// The final report of a stall: the watchdog's findings with the exact duration.
    fn finish_stall(&self, stall: Stall) {
        let Stall {
            mut report,
            samples,
            printed,
            completed,
            end_delay,
            ..
        } = stall;
        let duration_ns = completed.unwrap_or(0);
        report.duration = report.duration.max(Duration::from_nanos(duration_ns));
        report.completed = true;
        report.samples = samples.len() as u32;
        report.thread = self.classify(&samples, end_delay);
        report.hint = report::hint(report.lint, report.thread.as_ref(), &report.stack);
        self.guard_cpu_wait(&mut report, end_delay);
        if printed && self.settings.print {
            match self.settings.format {
                Format::Text => eprintln!(
                    "note[blocking::{}]: {} returned after {}",
                    report.lint,
                    describe(&report),
                    report::human(report.duration)
                ),
                Format::Json => eprintln!("{}", report.to_json()),
            }
        }
        self.emit(report, true, !printed);
    }

    /// What the samples say the thread was doing.
    fn classify(&self, samples: &[ProcState], end_delay: Option<u64>) -> Option<ThreadState> {
        let first = samples.first()?;
        let mark = self.delay_mark.load(Ordering::SeqCst);
        let last = samples.last().unwrap_or(first);
        let run_delay = match (end_delay, mark != u64::MAX) {
            (Some(end), true) => end.saturating_sub(mark),
            _ => last.run_delay_ns.saturating_sub(first.run_delay_ns),
        };
        // The sample where the thread was in a syscall wins: that is where it blocked.
        let in_syscall = samples
            .iter()
            .find(|s| matches!(s.state, 'S' | 'D') && s.syscall.is_some());
        let (kind, sample) = match in_syscall {
            Some(sample) => (StallKind::Syscall, sample),
            None => {
                let cpu = last.cpu_ns.saturating_sub(first.cpu_ns);
                let waited = last.run_delay_ns.saturating_sub(first.run_delay_ns);
                // Mostly waiting: the machine's load, more than the task's computing.
                if samples.len() > 1 && waited > cpu.saturating_mul(2) {
                    (StallKind::WaitingForCpu, last)
                } else {
                    (StallKind::OnCpu, first)
                }
            }
        };
        Some(ThreadState {
            kind,
            state: sample.state,
            syscall: sample.syscall.map(|nr| {
                sampler::syscall_name(nr).map_or_else(|| format!("syscall {nr}"), str::to_owned)
            }),
            run_delay: Duration::from_nanos(run_delay),
        })
    }
}

fn describe(report: &BlockingReport) -> String {
    match report.task_id {
        Some(id) => crate::task::describe(id, report.task_name()),
        None => "the `block_on` future".to_owned(),
    }
}

#[cfg(feature = "tracing")]
fn trace(report: &BlockingReport) {
    let task_id = report.task_id.map(Id::as_u64);
    let headline = report.headline();
    let spawned_at = report.spawned_at.to_string();
    let duration_ms = report.duration.as_millis() as u64;
    match report.level {
        Level::Deny => tracing::error!(
            target: "bucle::detector",
            lint = report.lint.as_str(),
            task_id,
            task_name = report.task_name(),
            spawned_at,
            duration_ms,
            completed = report.completed,
            hint = report.hint(),
            "{headline}"
        ),
        _ => tracing::warn!(
            target: "bucle::detector",
            lint = report.lint.as_str(),
            task_id,
            task_name = report.task_name(),
            spawned_at,
            duration_ms,
            completed = report.completed,
            hint = report.hint(),
            "{headline}"
        ),
    }
}

/// The process's symbolizer thread, started with the first watchdog that takes stacks. It
/// loads the debug info at once (slow the first time), so that the first stall report comes
/// while the stall still goes on, and symbolizes stacks while the watchdogs keep watching.
fn symbolizer() -> &'static Mutex<mpsc::Sender<Arc<Watched>>> {
    static SENDER: OnceLock<Mutex<mpsc::Sender<Arc<Watched>>>> = OnceLock::new();
    SENDER.get_or_init(|| {
        // The loop thread's stack now (in `block_on`): symbolizing it loads most of the
        // debug info a stall's stack will need.
        let mut warm_up = Vec::with_capacity(sampler::MAX_FRAMES);
        backtrace::trace(|frame| {
            warm_up.push(frame.ip() as usize);
            warm_up.len() < sampler::MAX_FRAMES
        });
        let (sender, jobs) = mpsc::channel::<Arc<Watched>>();
        let spawned = thread::Builder::new()
            .name("bucle-symbols".into())
            .spawn(move || {
                let _ = stack::symbolize(&warm_up);
                for watched in jobs {
                    watched.symbolize_pending();
                }
            });
        if spawned.is_err() {
            eprintln!("bucle: could not start the detector's symbolizer thread; no stacks");
        }
        Mutex::new(sender)
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// What the watchdog knows about the poll it is watching.
struct Tracked {
    seq: u64,
    /// Elapsed time (ns) at which to sample next: the threshold, then 2x, 4x..
    next_ns: u64,
    hang_reported: bool,
}

/// The watchdog thread's body.
fn watch(watched: Arc<Watched>) {
    let settings = &watched.settings;
    let period = ns((settings.threshold / 2).max(Duration::from_millis(1)));
    let hang_ns = ns(settings.hang);
    let stall_on = settings.level(Lint::Stall) != Level::Allow;
    let hang_on = settings.level(Lint::Hang) != Level::Allow;
    let mark_delays = settings.levels.contains(&Level::Deny);
    let mut tracked: Option<Tracked> = None;
    // Consecutive looks that found the loop outside `block_on`.
    let mut idle_looks = 0u64;
    loop {
        if watched.stopped.load(Ordering::SeqCst) {
            return;
        }
        if !watched.running.load(Ordering::SeqCst) {
            watched.finish_pending();
            idle_looks += 1;
            // A program that calls `block_on` in a loop must not pay a wake-up per call:
            // sleep for good only after a second outside `block_on`.
            if idle_looks.saturating_mul(period) < 1_000_000_000 {
                thread::park_timeout(Duration::from_nanos(period));
                continue;
            }
            watched.asleep.store(true, Ordering::SeqCst);
            // Re-check after announcing the sleep: `running(true)` either sees `asleep` and
            // unparks us, or we see it running here.
            if watched.running.load(Ordering::SeqCst) {
                watched.asleep.store(false, Ordering::SeqCst);
                continue;
            }
            thread::park();
            idle_looks = 0;
            continue;
        }
        idle_looks = 0;
        watched.finish_pending();
        let Some(loop_thread) = watched.loop_thread.get().copied() else {
            thread::park();
            continue;
        };
        let mut sleep = period;
        let view = watched
            .slot
            .read()
            .filter(|view| view.threshold_ns != NEVER);
        match view {
            Some(view) => {
                let allowed = watched.slot.allow_depth.load(Ordering::Relaxed) > 0;
                let tracked = match &mut tracked {
                    Some(t) if t.seq == view.seq => t,
                    other => other.insert(Tracked {
                        seq: view.seq,
                        next_ns: view.threshold_ns,
                        hang_reported: false,
                    }),
                };
                let elapsed = sampler::coarse_now_ns().saturating_sub(view.start_ns);
                if !allowed && stall_on && elapsed >= tracked.next_ns {
                    Watched::sample(&watched, view, elapsed, loop_thread);
                    tracked.next_ns = tracked.next_ns.saturating_mul(2);
                }
                if !allowed && hang_on && !tracked.hang_reported && elapsed >= hang_ns {
                    tracked.hang_reported = true;
                    watched.hang(view, elapsed, hang_ns, loop_thread);
                }
                let mut next = tracked.next_ns;
                if hang_on && !tracked.hang_reported {
                    next = next.min(hang_ns);
                }
                let elapsed = sampler::coarse_now_ns().saturating_sub(view.start_ns);
                sleep = next.saturating_sub(elapsed).clamp(1_000_000, period);
            }
            None => {
                tracked = None;
                if mark_delays {
                    if let Some(delay) = sampler::run_delay_ns(loop_thread) {
                        watched.delay_mark.store(delay, Ordering::SeqCst);
                    }
                }
            }
        }
        thread::park_timeout(Duration::from_nanos(sleep));
    }
}

impl Watched {
    /// One sample of a poll that has run past its threshold (or 2x, 4x.. it).
    fn sample(self: &Arc<Self>, view: PollView, elapsed: u64, loop_thread: LoopThread) {
        let proc = sampler::read_thread(loop_thread);
        let mut guard = lock(&self.stall);
        match guard.as_mut() {
            Some(stall) if stall.seq == view.seq => {
                // A later sample of the same stall: merge it.
                stall.samples.extend(proc);
                stall.report.duration = Duration::from_nanos(elapsed);
                return;
            }
            // The previous stall's stack is still being symbolized: this poll is reported
            // when it returns, as a `slow_poll`.
            Some(_) => return,
            None => {}
        }
        drop(guard);
        let ips = if self.settings.stack {
            sampler::sample_stack(loop_thread, SAMPLE_WAIT)
        } else {
            None
        };
        let mut guard = lock(&self.stall);
        if !self.slot.is_polling(view.seq) {
            // The poll returned while we sampled: the loop thread reports it.
            return;
        }
        let mut report = self.base_report(
            Lint::Stall,
            view.task,
            view.site,
            elapsed,
            view.threshold_ns,
        );
        report.samples = 1;
        *guard = Some(Stall {
            seq: view.seq,
            report,
            ips,
            symbolized: false,
            samples: proc.into_iter().collect(),
            first_sample_ns: elapsed,
            printed: false,
            completed: None,
            end_delay: None,
        });
        self.slot.flagged.store(view.seq, Ordering::SeqCst);
        drop(guard);
        let queued = self.settings.stack
            && symbolizer()
                .lock()
                .is_ok_and(|jobs| jobs.send(self.clone()).is_ok());
        if !queued {
            self.symbolize_pending();
        }
    }

    /// Symbolizes the current stall's stack (slow the first time: debug info is loaded),
    /// then prints the mid-stall report, or the final one if the poll returned meanwhile.
    fn symbolize_pending(&self) {
        let ips = lock(&self.stall)
            .as_mut()
            .and_then(|stall| stall.ips.take());
        let frames = ips.map(|ips| stack::symbolize(&ips)).unwrap_or_default();
        let mut guard = lock(&self.stall);
        let Some(stall) = guard.as_mut() else { return };
        stall.report.stack = frames;
        stall.symbolized = true;
        if stall.completed.is_some() {
            let stall = guard.take().expect("checked above");
            drop(guard);
            self.finish_stall(stall);
            self.stall_done.notify_all();
            return;
        }
        let mut report = stall.report.clone();
        report.thread = self.classify(&stall.samples, None);
        report.hint = report::hint(report.lint, report.thread.as_ref(), &report.stack);
        let _ = stall.first_sample_ns;
        drop(guard);
        let printed = self.emit(report, false, true);
        if let Some(stall) = lock(&self.stall).as_mut() {
            stall.printed = printed;
        }
    }

    /// Makes the final report of a stall whose poll returned while nobody was looking.
    fn finish_pending(&self) {
        let mut guard = lock(&self.stall);
        let done = guard
            .as_ref()
            .is_some_and(|stall| stall.completed.is_some() && stall.symbolized);
        if done {
            let stall = guard.take().expect("checked above");
            drop(guard);
            self.finish_stall(stall);
            self.stall_done.notify_all();
        }
    }

    /// A poll is still running past the hang limit: report it at once, maybe abort.
    fn hang(&self, view: PollView, elapsed: u64, hang_ns: u64, loop_thread: LoopThread) {
        let proc = sampler::read_thread(loop_thread);
        let existing = lock(&self.stall)
            .as_ref()
            .filter(|stall| stall.seq == view.seq)
            .map(|stall| stall.report.stack.clone());
        let stack = match existing {
            Some(stack) if !stack.is_empty() => stack,
            _ if self.settings.stack => sampler::sample_stack(loop_thread, SAMPLE_WAIT)
                .map(|ips| stack::symbolize(&ips))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut report = self.base_report(Lint::Hang, view.task, view.site, elapsed, hang_ns);
        let samples: Vec<ProcState> = proc.into_iter().collect();
        report.samples = samples.len() as u32;
        report.thread = self.classify(&samples, None);
        report.stack = stack;
        report.hint = report::hint(Lint::Hang, report.thread.as_ref(), &report.stack);
        if self.settings.abort_on_hang {
            report
                .notes
                .push("aborting: `Builder::blocking_abort_on_hang(true)`".to_owned());
        }
        self.emit(report, true, true);
        if self.settings.abort_on_hang {
            std::process::abort();
        }
    }
}
