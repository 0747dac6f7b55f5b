//! The blocking detector: finds the code that holds the event loop's thread.
//!
//! A loop runs one task at a time, so a task that computes for 200 ms or calls a blocking
//! function (`std::thread::sleep`, a file read, a `std::sync::Mutex` another thread holds)
//! stops every other task, timer and socket for that long. The detector notices it while it
//! happens, tells which task did it, where that task was spawned, what the thread was doing
//! (on Linux: the stack and the syscall), and what to do instead.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = bucle::Runtime::builder()
//!     .blocking(bucle::detector::Level::Warn)
//!     .blocking_threshold(Duration::from_millis(20))
//!     .build()?;
//! rt.block_on(async {
//!     bucle::task::Builder::new()
//!         .name("fetch")
//!         .spawn(async { std::thread::sleep(Duration::from_millis(60)) })
//!         .await
//!         .unwrap();
//! });
//! let reports = rt.blocking_reports();
//! assert_eq!(reports[0].task_name(), Some("fetch"));
//! assert!(reports[0].duration() >= Duration::from_millis(40));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Lints and levels
//!
//! Four lints, each with a rustc-style [`Level`]:
//!
//! | lint | fires when |
//! |---|---|
//! | [`Lint::SlowPoll`] | one poll of a task took at least the threshold (seen when it returns) |
//! | [`Lint::Stall`] | the watchdog saw a poll still running past the threshold (reported at once, with a stack, then completed with the exact duration when the poll returns) |
//! | [`Lint::Hang`] | a poll is still running past the hang limit: printed at once, optionally aborts |
//! | [`Lint::LongTick`] | the polls of one tick together took longer than the tick limit |
//!
//! # Defaults
//!
//! | build | level | threshold | hang | tick limit | stack |
//! |---|---|---|---|---|---|
//! | debug (`debug_assertions`) | warn | 50 ms | 10 s | 200 ms | on |
//! | release | warn | 100 ms | 10 s | 500 ms | on |
//! | `#[bucle::test]` | deny (`long_tick`: warn) | 50 ms | 10 s | 200 ms | on |
//!
//! The environment wins over code, so CI can switch without edits: `BUCLE_BLOCKING=allow|warn|deny`
//! (every lint), `BUCLE_BLOCKING_THRESHOLD_MS`, `BUCLE_BLOCKING_HANG_MS`,
//! `BUCLE_BLOCKING_STACK=on|off`, `BUCLE_BLOCKING_FORMAT=text|json`.
//!
//! # Cost
//!
//! With every lint at `allow`, each poll pays one predictable branch. Otherwise each poll reads
//! the kernel's coarse monotonic clock once (about 5 ns on Linux: polls run back to back
//! while the loop has work, so one reading ends a poll and starts the next) and writes a
//! few words into a *poll slot* that a watchdog thread reads; `benches/detector.rs` measures it.
//! Durations therefore have the coarse clock's resolution (1 to 4 ms on Linux). The watchdog
//! (one thread per runtime, started by the first `block_on`) sleeps while the loop is idle
//! between `block_on` calls and wakes about twice per threshold while it runs; it takes stacks
//! only when a poll has already run past the threshold.
//!
//! Offloaded closures (`bucle::run_in_executor` and thread pools) run on other
//! threads: they never occupy the poll slot, so they are never reported. Neither is the
//! loop's own bookkeeping: only the polls of tasks and of the `block_on` future are timed.

use std::cell::Cell;
use std::fmt;
use std::panic::Location;
use std::str::FromStr;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod report;
mod sampler;
mod stack;
mod watchdog;

pub use report::{BlockingReport, Frame, StallKind, ThreadState};

use crate::runtime::context;
use crate::task::Id;
use watchdog::Watched;

/// How seriously a lint is taken, as in rustc.
///
/// ```
/// use bucle::detector::Level;
///
/// assert_eq!("deny".parse::<Level>(), Ok(Level::Deny));
/// assert_eq!(Level::Warn.to_string(), "warn");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Not checked, not reported.
    Allow,
    /// Reported (stderr, `tracing`, the callback, [`Runtime::blocking_reports`](crate::Runtime::blocking_reports)).
    Warn,
    /// Reported as an error, and fails the run: `block_on` panics once its future is done,
    /// [`Runtime::run_checked`](crate::Runtime::run_checked) returns the report, and
    /// `#[bucle::test]` fails the test.
    Deny,
}

impl Level {
    /// The name used in reports and environment variables.
    ///
    /// ```
    /// assert_eq!(bucle::detector::Level::Allow.as_str(), "allow");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Level, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow" | "off" => Ok(Level::Allow),
            "warn" => Ok(Level::Warn),
            "deny" => Ok(Level::Deny),
            _ => Err(ParseError {
                value: s.to_owned(),
                expected: "allow, warn or deny",
            }),
        }
    }
}

/// A value that is not a level or a format.
///
/// ```
/// let err = "loud".parse::<bucle::detector::Level>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid value \"loud\": expected allow, warn or deny");
/// assert_eq!(err.value(), "loud");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    value: String,
    expected: &'static str,
}

impl ParseError {
    /// The value that was refused.
    ///
    /// ```
    /// let err = "x".parse::<bucle::detector::Format>().unwrap_err();
    /// assert_eq!(err.value(), "x");
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {:?}: expected {}",
            self.value, self.expected
        )
    }
}

impl std::error::Error for ParseError {}

/// What the detector checks. Each lint has its own [`Level`].
///
/// ```
/// use bucle::detector::Lint;
///
/// assert_eq!(Lint::Stall.as_str(), "stall");
/// assert_eq!(Lint::ALL.len(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lint {
    /// One poll took at least the threshold; seen when it returns.
    SlowPoll,
    /// The watchdog saw one poll still running past the threshold.
    Stall,
    /// One poll is still running past the hang limit.
    Hang,
    /// The polls of one tick together took longer than the tick limit.
    LongTick,
}

impl Lint {
    /// Every lint.
    pub const ALL: [Lint; 4] = [Lint::SlowPoll, Lint::Stall, Lint::Hang, Lint::LongTick];

    /// The name used in reports: `slow_poll`, `stall`, `hang`, `long_tick`.
    ///
    /// ```
    /// assert_eq!(bucle::detector::Lint::LongTick.as_str(), "long_tick");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Lint::SlowPoll => "slow_poll",
            Lint::Stall => "stall",
            Lint::Hang => "hang",
            Lint::LongTick => "long_tick",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How reports are printed on stderr.
///
/// ```
/// use bucle::detector::Format;
///
/// assert_eq!("json".parse::<Format>(), Ok(Format::Json));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// rustc's diagnostic style, for people.
    Text,
    /// One JSON object per line, for tools (see [`BlockingReport::to_json`]).
    Json,
}

impl FromStr for Format {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Format, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            _ => Err(ParseError {
                value: s.to_owned(),
                expected: "text or json",
            }),
        }
    }
}

/// A report callback: runs on the watchdog thread for findings made mid-stall, on the loop
/// thread for the others.
pub(crate) type Callback = Arc<dyn Fn(&BlockingReport) + Send + Sync>;

/// The detector's settings, fixed when the runtime is built.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) levels: [Level; 4],
    pub(crate) threshold: Duration,
    pub(crate) hang: Duration,
    pub(crate) tick_limit: Duration,
    pub(crate) stack: bool,
    pub(crate) format: Format,
    pub(crate) abort_on_hang: bool,
    pub(crate) print: bool,
    pub(crate) callback: Option<Callback>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("levels", &self.levels)
            .field("threshold", &self.threshold)
            .field("hang", &self.hang)
            .field("tick_limit", &self.tick_limit)
            .field("stack", &self.stack)
            .field("format", &self.format)
            .field("abort_on_hang", &self.abort_on_hang)
            .field("print", &self.print)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Settings {
        let debug = cfg!(debug_assertions);
        Settings {
            levels: [Level::Warn; 4],
            threshold: Duration::from_millis(if debug { 50 } else { 100 }),
            hang: Duration::from_secs(10),
            tick_limit: Duration::from_millis(if debug { 200 } else { 500 }),
            stack: true,
            format: Format::Text,
            abort_on_hang: false,
            print: true,
            callback: None,
        }
    }
}

impl Settings {
    /// `#[bucle::test]`: deny, except `long_tick` (many short polls on a loaded CI machine are
    /// a throughput question, not a bug).
    pub(crate) fn for_test() -> Settings {
        let mut settings = Settings {
            threshold: Duration::from_millis(50),
            tick_limit: Duration::from_millis(200),
            ..Settings::default()
        };
        settings.levels = [Level::Deny, Level::Deny, Level::Deny, Level::Warn];
        settings
    }

    pub(crate) fn level(&self, lint: Lint) -> Level {
        self.levels[lint.index()]
    }

    pub(crate) fn set_level(&mut self, lint: Lint, level: Level) {
        self.levels[lint.index()] = level;
    }

    fn enabled(&self) -> bool {
        self.levels.iter().any(|level| *level != Level::Allow)
    }

    /// Applies the `BUCLE_BLOCKING*` environment variables, which win over code. A value that
    /// does not parse is reported once on stderr and ignored.
    pub(crate) fn apply_env(&mut self) {
        self.apply_vars(|name| std::env::var(name).ok());
    }

    fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) {
        fn warn(name: &str, value: &str, expected: &str) {
            eprintln!("bucle: ignoring {name}={value:?}: expected {expected}");
        }
        if let Some(value) = var("BUCLE_BLOCKING") {
            match value.parse::<Level>() {
                Ok(level) => self.levels = [level; 4],
                Err(_) => warn("BUCLE_BLOCKING", &value, "allow, warn or deny"),
            }
        }
        let millis = |name: &str| -> Option<Duration> {
            let value = var(name)?;
            match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                _ => {
                    warn(name, &value, "a positive number of milliseconds");
                    None
                }
            }
        };
        if let Some(threshold) = millis("BUCLE_BLOCKING_THRESHOLD_MS") {
            self.threshold = threshold;
        }
        if let Some(hang) = millis("BUCLE_BLOCKING_HANG_MS") {
            self.hang = hang;
        }
        if let Some(value) = var("BUCLE_BLOCKING_STACK") {
            match value.trim().to_ascii_lowercase().as_str() {
                "on" | "1" | "true" => self.stack = true,
                "off" | "0" | "false" => self.stack = false,
                _ => warn("BUCLE_BLOCKING_STACK", &value, "on or off"),
            }
        }
        if let Some(value) = var("BUCLE_BLOCKING_FORMAT") {
            match value.parse::<Format>() {
                Ok(format) => self.format = format,
                Err(_) => warn("BUCLE_BLOCKING_FORMAT", &value, "text or json"),
            }
        }
    }
}

/// A task's own detector setting, from [`task::Builder`](crate::task::Builder).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum TaskBlocking {
    /// The runtime's threshold.
    #[default]
    Default,
    /// Never reported (`allow_blocking`).
    Allow,
    /// Its own threshold.
    Threshold(Duration),
}

/// No threshold: the poll is allowed to block.
const NEVER: u64 = u64::MAX;

/// The poll slot: what the loop thread is polling right now, readable by the watchdog.
///
/// The loop thread is the only writer. It writes the fields of a poll, then makes `seq` odd;
/// when the poll returns it makes `seq` even. A reader that sees the same odd `seq` before
/// and after reading the fields has read one poll's fields (a seqlock).
#[derive(Default)]
pub(crate) struct Slot {
    seq: AtomicU64,
    task: AtomicU64,
    start_ns: AtomicU64,
    threshold_ns: AtomicU64,
    site: sampler::SiteCell,
    /// Depth of `detector::allow` scopes on the loop thread: no stall is reported inside one.
    allow_depth: AtomicU32,
    /// The `seq` of the poll the watchdog has reported; its end merges the findings.
    flagged: AtomicU64,
}

/// One poll as the watchdog read it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollView {
    seq: u64,
    task: u64,
    start_ns: u64,
    threshold_ns: u64,
    site: &'static Location<'static>,
}

impl Slot {
    /// The poll running now, if any (`None` between polls or when the read raced a change).
    fn read(&self) -> Option<PollView> {
        let seq = self.seq.load(Ordering::Acquire);
        if seq % 2 == 0 {
            return None;
        }
        let view = PollView {
            seq,
            task: self.task.load(Ordering::Relaxed),
            start_ns: self.start_ns.load(Ordering::Relaxed),
            threshold_ns: self.threshold_ns.load(Ordering::Relaxed),
            site: self.site.load()?,
        };
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == seq).then_some(view)
    }

    fn is_polling(&self, seq: u64) -> bool {
        self.seq.load(Ordering::Acquire) == seq
    }
}

/// One poll being timed; dropping it ends the poll.
pub(crate) struct PollGuard<'a> {
    /// `None` when the detector is off.
    timing: Option<&'a Detector>,
}

impl PollGuard<'_> {
    /// Ends the poll. The same as dropping the guard, which is what happens on unwind, but
    /// inlined into the loop's hot path where the drop glue would be a call.
    #[inline(always)]
    pub(crate) fn finish(self) {
        self.end();
        std::mem::forget(self);
    }

    #[inline(always)]
    fn end(&self) {
        if let Some(detector) = self.timing {
            detector.end_on();
        }
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

/// A poll that ended, for the watchdog's report.
pub(crate) struct Probe {
    seq: u64,
    task: u64,
    threshold_ns: u64,
    site: &'static Location<'static>,
}

/// The detector of one loop; lives in the loop's `Core`, so only its thread touches the cells.
pub(crate) struct Detector {
    on: bool,
    watched: Arc<Watched>,
    /// The runtime's threshold, in ns.
    threshold_ns: u64,
    tick_limit_ns: u64,
    seq: Cell<u64>,
    /// Time spent inside `detector::allow` during the current poll.
    allowed_ns: Cell<u64>,
    /// Sum of the poll durations of the current tick, their number, and the longest one
    /// (its duration, then its task and site).
    tick_ns: Cell<u64>,
    tick_polls: Cell<u32>,
    tick_longest_ns: Cell<u64>,
    tick_longest: Cell<(u64, Option<&'static Location<'static>>)>,
    /// When the previous poll ended, if nothing but the loop's own bookkeeping ran since:
    /// polls run back to back (within a tick, and from one tick to the next while the loop
    /// has work), so that reading of the clock also starts the next poll (one read per
    /// poll). Waiting for I/O or running a callback breaks the chain ([`Detector::gap`]).
    last_end: Cell<Option<u64>>,
    /// Where `block_on` was called: the spawn site of the main future.
    main_site: Cell<&'static Location<'static>>,
}

impl Detector {
    pub(crate) fn new(settings: &Settings) -> Detector {
        if settings.enabled() && !std::thread::panicking() {
            install_panic_hook();
        }
        Detector {
            on: settings.enabled(),
            watched: Arc::new(Watched::new(settings.clone())),
            threshold_ns: duration_ns(settings.threshold),
            tick_limit_ns: if settings.level(Lint::LongTick) == Level::Allow {
                NEVER
            } else {
                duration_ns(settings.tick_limit)
            },
            seq: Cell::new(0),
            allowed_ns: Cell::new(0),
            tick_ns: Cell::new(0),
            tick_polls: Cell::new(0),
            tick_longest_ns: Cell::new(0),
            tick_longest: Cell::new((0, None)),
            last_end: Cell::new(None),
            main_site: Cell::new(Location::caller()),
        }
    }

    /// Starts the watchdog if the detector is on (once), and marks the loop as running.
    /// Called by `block_on` on the loop thread.
    pub(crate) fn enter_block_on(&self, site: &'static Location<'static>) {
        self.main_site.set(site);
        if self.on {
            self.watched.running(true);
        }
    }

    /// The loop left `block_on`: the watchdog can sleep.
    pub(crate) fn exit_block_on(&self) {
        if self.on {
            self.watched.running(false);
        }
    }

    /// Times the poll of task `id` until the guard drops (also when the poll unwinds). The
    /// poll of the `block_on` future passes `None`.
    #[inline]
    pub(crate) fn begin(
        &self,
        task: Option<(Id, TaskBlocking, &'static Location<'static>)>,
    ) -> PollGuard<'_> {
        if !self.on {
            return PollGuard { timing: None };
        }
        self.begin_on(task);
        PollGuard { timing: Some(self) }
    }

    #[inline]
    fn begin_on(&self, task: Option<(Id, TaskBlocking, &'static Location<'static>)>) {
        let (task, threshold_ns, site) = match task {
            Some((id, blocking, site)) => {
                let threshold_ns = match blocking {
                    TaskBlocking::Default => self.threshold_ns,
                    TaskBlocking::Allow => NEVER,
                    TaskBlocking::Threshold(threshold) => duration_ns(threshold),
                };
                (id.as_u64(), threshold_ns, site)
            }
            None => (0, self.threshold_ns, self.main_site.get()),
        };
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        let start_ns = match self.last_end.take() {
            Some(end) => end,
            None => sampler::coarse_now_ns(),
        };
        let slot = &self.watched.slot;
        // Orders the previous poll's `seq` (even) before these fields, for the seqlock.
        fence(Ordering::Release);
        slot.task.store(task, Ordering::Relaxed);
        slot.start_ns.store(start_ns, Ordering::Relaxed);
        slot.threshold_ns.store(threshold_ns, Ordering::Relaxed);
        slot.site.store(site);
        slot.seq.store(seq, Ordering::Release);
    }

    #[inline(always)]
    fn end_on(&self) {
        // The poll's own fields are read back from the slot, which only this thread writes.
        let slot = &self.watched.slot;
        let seq = self.seq.get();
        let start_ns = slot.start_ns.load(Ordering::Relaxed);
        let threshold_ns = slot.threshold_ns.load(Ordering::Relaxed);
        let now = sampler::coarse_now_ns();
        self.last_end.set(Some(now));
        self.seq.set(seq + 1);
        slot.seq.store(seq + 1, Ordering::Release);
        let mut duration = now.saturating_sub(start_ns);
        let allowed = self.allowed_ns.replace(0);
        if allowed != 0 {
            duration = duration.saturating_sub(allowed);
        }
        if threshold_ns != NEVER {
            self.tick_ns.set(self.tick_ns.get() + duration);
            self.tick_polls.set(self.tick_polls.get() + 1);
            if duration > self.tick_longest_ns.get() {
                self.tick_longest_ns.set(duration);
                self.tick_longest
                    .set((slot.task.load(Ordering::Relaxed), slot.site.load()));
            }
        }
        if duration >= threshold_ns || slot.flagged.load(Ordering::Relaxed) == seq {
            let probe = Probe {
                seq,
                task: slot.task.load(Ordering::Relaxed),
                threshold_ns,
                site: slot.site.load().unwrap_or(self.main_site.get()),
            };
            self.watched.poll_returned(&probe, duration);
        }
    }

    /// The run phase of a tick is over: checks `long_tick`.
    #[inline]
    pub(crate) fn end_tick(&self) {
        if !self.on {
            return;
        }
        let total = self.tick_ns.replace(0);
        let polls = self.tick_polls.replace(0);
        let (task, site) = self.tick_longest.replace((0, None));
        let longest = (self.tick_longest_ns.replace(0), task, site);
        if total >= self.tick_limit_ns && polls > 1 {
            self.watched.long_tick(total, polls, longest);
        }
    }

    /// Something other than a poll is about to run on the loop thread (a wait for I/O, a
    /// callback): the next poll reads the clock for its start instead of continuing from the
    /// previous poll's end, so that time is not counted against it.
    #[inline]
    pub(crate) fn gap(&self) {
        self.last_end.set(None);
    }

    /// Records the name of a task that starts running, for reports made mid-stall.
    #[inline]
    pub(crate) fn task_started(&self, id: Id, name: Option<&Arc<str>>) {
        if let (true, Some(name)) = (self.on, name) {
            self.watched.name_task(id.as_u64(), name.clone());
        }
    }

    /// Forgets a finished task's name.
    pub(crate) fn task_finished(&self, id: Id, named: bool) {
        if self.on && named {
            self.watched.forget_task(id.as_u64());
        }
    }

    /// Every report so far, deduplicated by site.
    pub(crate) fn reports(&self) -> Vec<BlockingReport> {
        self.watched.reports()
    }

    /// The first finding at `deny` since the last call, if any.
    pub(crate) fn take_denied(&self) -> Option<BlockingReport> {
        self.watched.take_denied()
    }

    fn allow_enter(&self) -> Option<u64> {
        if !self.on {
            return None;
        }
        let slot = &self.watched.slot;
        slot.allow_depth.store(
            slot.allow_depth.load(Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
        Some(sampler::coarse_now_ns())
    }

    fn allow_exit(&self, start_ns: u64) {
        let slot = &self.watched.slot;
        let depth = slot.allow_depth.load(Ordering::Relaxed);
        slot.allow_depth.store(depth - 1, Ordering::Relaxed);
        // Only the outermost scope counts, so nested scopes do not subtract twice.
        if depth == 1 {
            let spent = sampler::coarse_now_ns().saturating_sub(start_ns);
            self.allowed_ns.set(self.allowed_ns.get() + spent);
        }
    }
}

impl Drop for Detector {
    fn drop(&mut self) {
        self.watched.stop();
    }
}

/// Chains a panic hook (once per process) that runs the previous hook inside an [`allow`]
/// scope: printing a panic, with a backtrace under `RUST_BACKTRACE`, can take a debug build
/// a hundred milliseconds, and that time belongs to the panic, not to blocking code.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            allow("printing a panic", || previous(info));
        }));
    });
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(NEVER)
}

/// Runs `f` without the detector: time spent inside it does not count towards the poll's
/// duration, and no stall is reported while it runs. `reason` documents why blocking is
/// acceptable here; it is not reported.
///
/// Prefer moving blocking work off the loop with `bucle::run_in_executor`; use `allow` for short, known, bounded calls where the
/// round trip to a thread costs more than it saves (reading a small config file at startup).
///
/// ```
/// use std::time::Duration;
///
/// let rt = bucle::Runtime::builder()
///     .blocking(bucle::detector::Level::Deny)
///     .blocking_threshold(Duration::from_millis(10))
///     .build()?;
/// let answer = rt.run_checked(async {
///     bucle::detector::allow("startup: a bounded pause", || {
///         std::thread::sleep(Duration::from_millis(30));
///         42
///     })
/// });
/// assert_eq!(answer.unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn allow<R>(reason: &str, f: impl FnOnce() -> R) -> R {
    let _ = reason;
    let started = context::with_current(|core| core.and_then(|core| core.detector.allow_enter()));
    /// Ends the allowed scope even if `f` panics.
    struct Exit(Option<u64>);
    impl Drop for Exit {
        fn drop(&mut self) {
            if let Some(start) = self.0 {
                context::with_current(|core| {
                    if let Some(core) = core {
                        core.detector.allow_exit(start);
                    }
                });
            }
        }
    }
    let _exit = Exit(started);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn environment_overrides_code() {
        let mut settings = Settings::for_test();
        settings.apply_vars(vars(&[
            ("BUCLE_BLOCKING", "warn"),
            ("BUCLE_BLOCKING_THRESHOLD_MS", "7"),
            ("BUCLE_BLOCKING_HANG_MS", "900"),
            ("BUCLE_BLOCKING_STACK", "off"),
            ("BUCLE_BLOCKING_FORMAT", "json"),
        ]));
        assert_eq!(settings.levels, [Level::Warn; 4]);
        assert_eq!(settings.threshold, Duration::from_millis(7));
        assert_eq!(settings.hang, Duration::from_millis(900));
        assert!(!settings.stack);
        assert_eq!(settings.format, Format::Json);
    }

    #[test]
    fn bad_environment_values_are_ignored() {
        let mut settings = Settings::for_test();
        settings.apply_vars(vars(&[
            ("BUCLE_BLOCKING", "loud"),
            ("BUCLE_BLOCKING_THRESHOLD_MS", "soon"),
            ("BUCLE_BLOCKING_HANG_MS", "0"),
            ("BUCLE_BLOCKING_STACK", "maybe"),
            ("BUCLE_BLOCKING_FORMAT", "xml"),
        ]));
        let test = Settings::for_test();
        assert_eq!(settings.levels, test.levels);
        assert_eq!(settings.threshold, test.threshold);
        assert_eq!(settings.hang, test.hang);
        assert!(settings.stack);
        assert_eq!(settings.format, Format::Text);
    }

    #[test]
    fn allow_everywhere_turns_the_detector_off() {
        let mut settings = Settings::default();
        settings.apply_vars(vars(&[("BUCLE_BLOCKING", "allow")]));
        assert!(!settings.enabled());
        let detector = Detector::new(&settings);
        assert!(detector.begin(None).timing.is_none());
    }

    #[test]
    fn the_slot_reads_one_poll_or_nothing() {
        let detector = Detector::new(&Settings::default());
        let slot = &detector.watched.slot;
        assert!(slot.read().is_none());
        let guard = detector.begin(None);
        let view = slot.read().expect("a poll is running");
        assert!(guard.timing.is_some(), "on by default");
        assert_eq!(view.seq, detector.seq.get());
        assert_eq!(view.task, 0);
        drop(guard);
        assert!(slot.read().is_none());
    }
}
