//! One finding of the detector, and its two renderings: rustc-style text and JSON lines.

use std::fmt::{self, Write as _};
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{Level, Lint};
use crate::task::Id;

/// One finding of the detector: which task held the loop, for how long, doing what, and what
/// to do about it. `Display` renders it in rustc's diagnostic style; [`to_json`](Self::to_json)
/// as one line of JSON.
///
/// ```
/// use std::time::Duration;
///
/// let rt = bucle::Runtime::builder()
///     .blocking_threshold(Duration::from_millis(10))
///     .blocking_print(false)
///     .build()?;
/// rt.block_on(async {
///     bucle::task::Builder::new()
///         .name("slow")
///         .spawn(async { std::thread::sleep(Duration::from_millis(40)) })
///         .await
///         .unwrap();
/// });
/// let report = &rt.blocking_reports()[0];
/// assert_eq!(report.task_name(), Some("slow"));
/// assert!(report.to_string().contains("task \"slow\""));
/// assert!(report.to_json().starts_with("{\"v\":1,"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BlockingReport {
    pub(crate) lint: Lint,
    pub(crate) level: Level,
    /// `None` for the future given to `block_on`.
    pub(crate) task_id: Option<Id>,
    pub(crate) task_name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) duration: Duration,
    pub(crate) threshold: Duration,
    pub(crate) completed: bool,
    pub(crate) thread: Option<ThreadState>,
    pub(crate) stack: Vec<Frame>,
    pub(crate) hint: String,
    pub(crate) count: u64,
    /// `long_tick`: how many polls the tick ran.
    pub(crate) polls: u32,
    pub(crate) samples: u32,
    pub(crate) notes: Vec<String>,
}

/// What the loop thread was doing mid-stall, from `/proc` (Linux only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadState {
    pub(crate) kind: StallKind,
    pub(crate) state: char,
    pub(crate) syscall: Option<String>,
    pub(crate) run_delay: Duration,
}

impl ThreadState {
    /// What kind of stall this was.
    ///
    /// ```
    /// # let state: Option<bucle::detector::ThreadState> = None;
    /// if let Some(state) = state {
    ///     println!("{:?}", state.kind());
    /// }
    /// ```
    pub fn kind(&self) -> StallKind {
        self.kind
    }

    /// The scheduler's state letter: `R` running or runnable, `S` sleeping, `D` waiting for
    /// the disk.
    ///
    /// ```
    /// # let state: Option<bucle::detector::ThreadState> = None;
    /// # if let Some(state) = state {
    /// assert!("RSD".contains(state.state()));
    /// # }
    /// ```
    pub fn state(&self) -> char {
        self.state
    }

    /// The syscall the thread was blocked in (`clock_nanosleep`, `read`, `futex`...), or its
    /// number if it has no name here.
    ///
    /// ```
    /// # let state: Option<bucle::detector::ThreadState> = None;
    /// # if let Some(state) = state {
    /// println!("{:?}", state.syscall());
    /// # }
    /// ```
    pub fn syscall(&self) -> Option<&str> {
        self.syscall.as_deref()
    }

    /// Time the thread spent runnable but waiting for a CPU during the samples: the machine's
    /// load, not the task's fault.
    ///
    /// ```
    /// # let state: Option<bucle::detector::ThreadState> = None;
    /// # if let Some(state) = state {
    /// println!("{:?}", state.run_delay());
    /// # }
    /// ```
    pub fn run_delay(&self) -> std::time::Duration {
        self.run_delay
    }
}

/// What the loop thread was doing while it blocked.
///
/// ```
/// use bucle::detector::StallKind;
///
/// assert_eq!(StallKind::Syscall.as_str(), "syscall");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StallKind {
    /// Sleeping in a syscall: a sleep, a read, a lock.
    Syscall,
    /// Running on a CPU: computing.
    OnCpu,
    /// Runnable but waiting for a CPU: the machine is overloaded.
    WaitingForCpu,
}

impl StallKind {
    /// `syscall`, `cpu` or `waiting_for_cpu`.
    ///
    /// ```
    /// assert_eq!(bucle::detector::StallKind::OnCpu.as_str(), "cpu");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StallKind::Syscall => "syscall",
            StallKind::OnCpu => "cpu",
            StallKind::WaitingForCpu => "waiting_for_cpu",
        }
    }
}

/// One frame of the loop thread's stack, captured mid-stall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub(crate) function: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    pub(crate) user: bool,
}

impl Frame {
    /// The demangled function name, or the address when it has no symbol.
    ///
    /// ```
    /// # let frames: Vec<bucle::detector::Frame> = Vec::new();
    /// for frame in &frames {
    ///     println!("{}", frame.function());
    /// }
    /// ```
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The source file, when debug info has it.
    ///
    /// ```
    /// # let frames: Vec<bucle::detector::Frame> = Vec::new();
    /// let files: Vec<_> = frames.iter().filter_map(|f| f.file()).collect();
    /// # assert!(files.is_empty());
    /// ```
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The line, when debug info has it.
    ///
    /// ```
    /// # let frames: Vec<bucle::detector::Frame> = Vec::new();
    /// let lines: Vec<_> = frames.iter().filter_map(|f| f.line()).collect();
    /// # assert!(lines.is_empty());
    /// ```
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// True for a frame of the user's code (not std, not bucle, not a dependency from the
    /// registry).
    ///
    /// ```
    /// # let frames: Vec<bucle::detector::Frame> = Vec::new();
    /// let first_user_frame = frames.iter().find(|f| f.is_user());
    /// # assert!(first_user_frame.is_none());
    /// ```
    pub fn is_user(&self) -> bool {
        self.user
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.function)?;
        if let Some(file) = &self.file {
            write!(f, " at {file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
        }
        Ok(())
    }
}

impl BlockingReport {
    /// The lint that fired.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{}", report.lint());
    /// # }
    /// ```
    pub fn lint(&self) -> Lint {
        self.lint
    }

    /// Its level: `Warn` or `Deny` (an `Allow` lint is never reported).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// assert_ne!(report.level(), bucle::detector::Level::Allow);
    /// # }
    /// ```
    pub fn level(&self) -> Level {
        self.level
    }

    /// The task that blocked; `None` for the future passed to `block_on` (or `run`).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{:?}", report.task_id());
    /// # }
    /// ```
    pub fn task_id(&self) -> Option<Id> {
        self.task_id
    }

    /// The task's name, if it was given one with
    /// [`task::Builder::name`](crate::task::Builder::name).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{:?}", report.task_name());
    /// # }
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// Where the task was spawned (for the `block_on` future: where `block_on` was called).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{}:{}", report.spawned_at().file(), report.spawned_at().line());
    /// # }
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// How long the poll held the loop: exact (to the coarse clock's resolution) once it has
    /// returned, a lower bound while it is still running. For `long_tick`, the tick's total.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// assert!(report.duration() >= report.threshold() / 2);
    /// # }
    /// ```
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The limit that was crossed: the threshold, the hang limit or the tick limit.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{:?}", report.threshold());
    /// # }
    /// ```
    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    /// False while the poll is still running (a report made mid-stall, as the report callback
    /// sees it), true once it returned.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{}", report.completed());
    /// # }
    /// ```
    pub fn completed(&self) -> bool {
        self.completed
    }

    /// What the thread was doing mid-stall (Linux, stall and hang reports).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{:?}", report.thread().and_then(|t| t.syscall()));
    /// # }
    /// ```
    pub fn thread(&self) -> Option<&ThreadState> {
        self.thread.as_ref()
    }

    /// The loop thread's stack mid-stall, innermost first (Linux, stall and hang reports,
    /// with the stack on).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// let yours = report.stack().iter().find(|f| f.is_user());
    /// # let _ = yours;
    /// # }
    /// ```
    pub fn stack(&self) -> &[Frame] {
        &self.stack
    }

    /// What to do about it, derived from the evidence.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("help: {}", report.hint());
    /// # }
    /// ```
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// How many times this lint fired at this site (the report keeps the first one's details).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// assert!(report.count() >= 1);
    /// # }
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many times the watchdog sampled the thread during this poll (0 for `slow_poll`
    /// and `long_tick`, which are seen only when they are over).
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{} samples", report.samples());
    /// # }
    /// ```
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// The report as one line of JSON (no trailing newline), schema version 1:
    /// `{"v":1,"lint":..,"level":..,"task":{"id":..,"name":..,"spawned_at":..},
    /// "poll":{"duration_ns":..,"threshold_ns":..,"completed":..},"thread":{"state":..,
    /// "syscall":..,"kind":..,"run_delay_ns":..},"stack":[{"fn":..,"file":..,"line":..,
    /// "user":..}],"hint":..,"count":..}`. Fields may be added; these stay.
    ///
    /// ```
    /// # let report: Option<bucle::detector::BlockingReport> = None;
    /// # if let Some(report) = report {
    /// println!("{}", report.to_json());
    /// # }
    /// ```
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            v: u32,
            lint: &'a str,
            level: &'a str,
            task: Task<'a>,
            poll: Poll,
            #[serde(skip_serializing_if = "Option::is_none")]
            tick: Option<Tick>,
            thread: Option<Thread<'a>>,
            stack: Vec<JsonFrame<'a>>,
            hint: &'a str,
            count: u64,
            samples: u32,
            notes: &'a [String],
        }
        #[derive(Serialize)]
        struct Task<'a> {
            id: Option<u64>,
            name: Option<&'a str>,
            spawned_at: String,
            main: bool,
        }
        #[derive(Serialize)]
        struct Poll {
            duration_ns: u64,
            threshold_ns: u64,
            completed: bool,
        }
        #[derive(Serialize)]
        struct Tick {
            polls: u32,
        }
        #[derive(Serialize)]
        struct Thread<'a> {
            state: String,
            syscall: Option<&'a str>,
            kind: &'a str,
            run_delay_ns: u64,
        }
        #[derive(Serialize)]
        struct JsonFrame<'a> {
            #[serde(rename = "fn")]
            function: &'a str,
            file: Option<&'a str>,
            line: Option<u32>,
            user: bool,
        }
        let json = Json {
            v: 1,
            lint: self.lint.as_str(),
            level: self.level.as_str(),
            task: Task {
                id: self.task_id.map(Id::as_u64),
                name: self.task_name(),
                spawned_at: self.spawned_at.to_string(),
                main: self.task_id.is_none() && self.lint != Lint::LongTick,
            },
            poll: Poll {
                duration_ns: self.duration.as_nanos() as u64,
                threshold_ns: self.threshold.as_nanos() as u64,
                completed: self.completed,
            },
            tick: (self.lint == Lint::LongTick).then_some(Tick { polls: self.polls }),
            thread: self.thread.as_ref().map(|thread| Thread {
                state: thread.state.to_string(),
                syscall: thread.syscall(),
                kind: thread.kind.as_str(),
                run_delay_ns: thread.run_delay.as_nanos() as u64,
            }),
            stack: self
                .stack
                .iter()
                .map(|frame| JsonFrame {
                    function: &frame.function,
                    file: frame.file.as_deref(),
                    line: frame.line,
                    user: frame.user,
                })
                .collect(),
            hint: &self.hint,
            count: self.count,
            samples: self.samples,
            notes: &self.notes,
        };
        serde_json::to_string(&json).expect("a report always serializes")
    }

    /// `task "fetch" (#7)`, `task #7` or `the block_on future`.
    fn who(&self) -> String {
        match self.task_id {
            Some(id) => crate::task::describe(id, self.task_name()),
            None => "the `block_on` future".to_owned(),
        }
    }

    /// The first line, without the `warning[..]: ` prefix.
    pub(crate) fn headline(&self) -> String {
        let who = self.who();
        let took = human(self.duration);
        let limit = human(self.threshold);
        match (self.lint, self.completed) {
            (Lint::LongTick, _) => format!(
                "one tick of the event loop ran {} polls for {took} together (limit {limit}); \
                 the longest was {who}",
                self.polls
            ),
            (Lint::Hang, false) => format!(
                "{who} has blocked the event loop for {took} and is still running (hang limit \
                 {limit})"
            ),
            (Lint::Hang, true) => {
                format!("{who} blocked the event loop for {took} (hang limit {limit})")
            }
            (_, false) => format!(
                "{who} has been blocking the event loop for {took} and is still running \
                 (threshold {limit})"
            ),
            (_, true) => format!("{who} blocked the event loop for {took} (threshold {limit})"),
        }
    }
}

impl fmt::Display for BlockingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.level {
            Level::Deny => "error",
            _ => "warning",
        };
        writeln!(
            f,
            "{severity}[blocking::{}]: {}",
            self.lint.as_str(),
            self.headline()
        )?;
        let site = if self.task_id.is_some() {
            "spawned here"
        } else {
            "block_on called here"
        };
        writeln!(f, "  --> {} ({site})", self.spawned_at)?;
        writeln!(f, "   |")?;
        if let Some(thread) = &self.thread {
            let doing = match (thread.kind, thread.syscall()) {
                (StallKind::Syscall, Some(name)) => format!("sleeping in syscall `{name}`"),
                (StallKind::Syscall, None) => "sleeping in a syscall".to_owned(),
                (StallKind::OnCpu, _) => "running on a CPU".to_owned(),
                (StallKind::WaitingForCpu, _) => "runnable, waiting for a CPU".to_owned(),
            };
            write!(f, "   = thread: {doing} (state {})", thread.state)?;
            if self.samples > 1 {
                write!(f, ", {} samples", self.samples)?;
            }
            if thread.run_delay >= Duration::from_millis(1) {
                write!(f, "; {} waiting for a CPU", human(thread.run_delay))?;
            }
            writeln!(f)?;
        }
        if !self.stack.is_empty() {
            writeln!(
                f,
                "   = stack, innermost first (std and bucle frames elided):"
            )?;
            f.write_str(&render_stack(&self.stack))?;
        }
        writeln!(f, "   = help: {}", self.hint)?;
        for note in &self.notes {
            writeln!(f, "   = note: {note}")?;
        }
        if self.count > 1 {
            writeln!(f, "   = note: seen {} times at this site", self.count)?;
        }
        Ok(())
    }
}

/// The stack with runs of std/bucle frames folded, the first user frame marked.
fn render_stack(stack: &[Frame]) -> String {
    let mut out = String::new();
    let first_user = stack.iter().position(|frame| frame.user);
    // The innermost frame with a symbol: where the thread actually was (often libc).
    let first_named = stack
        .iter()
        .position(|frame| !frame.function.starts_with("0x"));
    let mut elided = 0;
    let mut shown_after_user = 0;
    for (index, frame) in stack.iter().enumerate() {
        let keep = Some(index) == first_named || frame.user;
        if !keep {
            elided += 1;
            continue;
        }
        if elided > 0 {
            let _ = writeln!(out, "          ... {elided} frame(s) elided");
            elided = 0;
        }
        if Some(index) == first_user {
            let _ = writeln!(
                out,
                "     --> {index:>2}: {frame}   <- first frame in your code"
            );
        } else {
            let _ = writeln!(out, "         {index:>2}: {frame}");
        }
        if first_user.is_some_and(|first| index > first) {
            shown_after_user += 1;
            if shown_after_user == 4 {
                elided = stack.len() - index - 1;
                break;
            }
        }
    }
    if elided > 0 {
        let _ = writeln!(out, "          ... {elided} frame(s) elided");
    }
    out
}

/// `212 ms`, `1.5 s`.
pub(crate) fn human(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// What to do, from what the thread was seen doing.
pub(crate) fn hint(lint: Lint, thread: Option<&ThreadState>, stack: &[Frame]) -> String {
    if lint == Lint::LongTick {
        return "many tasks each did a lot of work in the same tick: split the work with \
                `bucle::yield_now().await`, or move it to `bucle::run_in_executor`"
            .to_owned();
    }
    let in_stack = |needle: &str| stack.iter().any(|frame| frame.function.contains(needle));
    let Some(thread) = thread else {
        return "a poll must return quickly: move blocking calls to `bucle::run_in_executor`, \
                split long computations with `bucle::yield_now().await`; lower the threshold \
                (BUCLE_BLOCKING_THRESHOLD_MS) to catch it mid-stall with a stack"
            .to_owned();
    };
    match thread.kind {
        StallKind::OnCpu => "the task computed without yielding: split the work into chunks \
                             with `bucle::yield_now().await` between them, or move it to \
                             `bucle::run_in_executor`"
            .to_owned(),
        StallKind::WaitingForCpu => "the thread was runnable but mostly waiting for a CPU: the \
                                     machine is overloaded (that time is not counted as \
                                     blocking at `deny`); if the task also computes, split the \
                                     work with `bucle::yield_now().await` or move it to \
                                     `bucle::run_in_executor`"
            .to_owned(),
        StallKind::Syscall => match thread.syscall() {
            Some("nanosleep" | "clock_nanosleep" | "pause") => {
                "`std::thread::sleep` blocks the whole loop: use `bucle::sleep(..).await`"
                    .to_owned()
            }
            Some("futex") => "the thread waited on a lock, condition variable or blocking \
                              channel held up by another thread (a `std::sync::Mutex`?): use \
                              an async primitive from `bucle::sync`, or move the waiting call \
                              to `bucle::run_in_executor`"
                .to_owned(),
            Some(
                "recvfrom" | "sendto" | "recvmsg" | "sendmsg" | "accept" | "accept4" | "connect"
                | "poll" | "ppoll" | "select" | "pselect6" | "epoll_wait" | "epoll_pwait",
            ) => "a blocking socket call: use `bucle::net` types, or move the call to \
                  `bucle::run_in_executor`"
                .to_owned(),
            Some("wait4" | "waitid") => {
                "waiting for a child process: use `bucle::process`, or move the wait to \
                 `bucle::run_in_executor`"
                    .to_owned()
            }
            Some(
                "read" | "write" | "readv" | "writev" | "pread64" | "pwrite64" | "openat" | "open"
                | "close" | "fsync" | "fdatasync" | "fstat" | "newfstatat" | "stat" | "statx"
                | "getdents64" | "flock" | "copy_file_range" | "sendfile" | "splice",
            ) => {
                let what = if in_stack("std::net") {
                    "a blocking socket read or write: use `bucle::net` types"
                } else {
                    "a blocking file, pipe or terminal operation: use `bucle::fs` or \
                     `bucle::io::Async`"
                };
                format!("{what}, or move the call to `bucle::run_in_executor`")
            }
            _ => "the thread was blocked in a syscall: move the blocking call to \
                  `bucle::run_in_executor`"
                .to_owned(),
        },
    }
}
