//! The one `unsafe` corner of bucle: looking at the loop thread from the watchdog while the
//! loop thread is stuck.
//!
//! - [`coarse_now_ns`]: the cheap clock of the hot path.
//! - [`SiteCell`]: a spawn site (`&'static Location`) in an atomic, for the poll slot.
//! - [`sample_stack`] (Linux): signal the loop thread; its handler copies raw return addresses
//!   into a preallocated buffer (no allocation, no lock, at most [`MAX_FRAMES`] frames) and the
//!   watchdog symbolizes them later on its own thread.
//! - [`read_thread`] (Linux): `/proc/self/task/<tid>/{stat,syscall,schedstat}`: is the thread
//!   sleeping in a syscall (which one), running, or waiting for a CPU.
//!
//! On other platforms there is no stack and no thread state; everything else works.
//!
//! # Sampling must not change the program
//!
//! The handler is installed with `SA_RESTART`, so a `read`, `write` or `wait` that the loop
//! thread is blocked in resumes as if nothing had happened: it returns its data, not `EINTR`.
//! (The kernel never restarts a few calls whatever the flags say: `nanosleep`, `epoll_wait`,
//! `poll`, `select`, and socket calls with a timeout. Rust's `std::thread::sleep` and
//! `std::sync` primitives retry on `EINTR`.) The handler chains to the handler that was there
//! before for any `SIGURG` that is not one of our samples, and the signal's default action is
//! to be ignored, so a stray sample can never kill the process.

use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The deepest stack a sample keeps.
pub(crate) const MAX_FRAMES: usize = 64;

/// A spawn site in an atomic: null or a `&'static Location<'static>`.
#[derive(Default)]
pub(crate) struct SiteCell(AtomicPtr<Location<'static>>);

impl SiteCell {
    #[inline]
    pub(crate) fn store(&self, site: &'static Location<'static>) {
        self.0.store(
            site as *const Location<'static> as *mut _,
            Ordering::Relaxed,
        );
    }

    pub(crate) fn load(&self) -> Option<&'static Location<'static>> {
        let ptr = self.0.load(Ordering::Relaxed);
        // SAFETY: the cell only ever holds null (its initial value) or a pointer made from a
        // `&'static Location<'static>` by `store`. Such a location is immutable and lives for
        // the whole program, so turning it back into a shared `'static` reference is sound on
        // any thread (`Location` is `Sync`).
        unsafe { ptr.as_ref() }
    }
}

pub(crate) use imp::*;

#[cfg(target_os = "linux")]
mod imp {
    use std::fs;
    use std::io;
    use std::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use super::MAX_FRAMES;

    /// Nanoseconds on `CLOCK_MONOTONIC_COARSE`: a memory read in the vDSO (about 5 ns),
    /// with the kernel tick's resolution (1 to 4 ms).
    #[inline]
    pub(crate) fn coarse_now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes one `timespec` through a pointer to a live local;
        // `CLOCK_MONOTONIC_COARSE` exists on every Linux since 2.6.32, so it cannot fail.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    /// The loop thread, as the watchdog addresses it.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct LoopThread {
        tid: libc::pid_t,
    }

    impl LoopThread {
        /// The calling thread.
        pub(crate) fn current() -> LoopThread {
            // SAFETY: `gettid` takes no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t;
            LoopThread { tid }
        }
    }

    /// What `/proc` says about a thread.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct ProcState {
        /// The scheduler state letter: `R` running or runnable, `S` sleeping, `D` disk...
        pub(crate) state: char,
        /// The syscall it is blocked in, if any (`None`: running user code).
        pub(crate) syscall: Option<i64>,
        /// Nanoseconds spent on a CPU and waiting for one (`schedstat`).
        pub(crate) cpu_ns: u64,
        pub(crate) run_delay_ns: u64,
    }

    /// Reads `/proc/self/task/<tid>/{stat,syscall,schedstat}`.
    pub(crate) fn read_thread(thread: LoopThread) -> Option<ProcState> {
        let dir = format!("/proc/self/task/{}", thread.tid);
        let stat = fs::read_to_string(format!("{dir}/stat")).ok()?;
        // `pid (comm) S ...`: the name may contain spaces or parentheses, the state follows
        // the last `)`.
        let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
        let syscall = fs::read_to_string(format!("{dir}/syscall"))
            .ok()
            .and_then(|text| {
                let first = text.split_whitespace().next()?;
                first.parse::<i64>().ok().filter(|nr| *nr >= 0)
            });
        let (cpu_ns, run_delay_ns) = fs::read_to_string(format!("{dir}/schedstat"))
            .ok()
            .and_then(|text| {
                let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
                Some((fields.next()??, fields.next()??))
            })
            .unwrap_or((0, 0));
        Some(ProcState {
            state,
            syscall,
            cpu_ns,
            run_delay_ns,
        })
    }

    /// The run delay (time spent runnable but waiting for a CPU) of a thread, in ns.
    pub(crate) fn run_delay_ns(thread: LoopThread) -> Option<u64> {
        let text = fs::read_to_string(format!("/proc/self/task/{}/schedstat", thread.tid)).ok()?;
        text.split_whitespace().nth(1)?.parse().ok()
    }

    /// The name of syscall `nr` on this architecture, for the common blocking ones.
    pub(crate) fn syscall_name(nr: i64) -> Option<&'static str> {
        macro_rules! table {
            ($($(#[$cfg:meta])* $name:ident),* $(,)?) => {
                $( $(#[$cfg])* if nr == libc::$name as i64 {
                    return Some(&stringify!($name)[4..]);
                } )*
            };
        }
        table!(
            SYS_read,
            SYS_write,
            SYS_readv,
            SYS_writev,
            SYS_pread64,
            SYS_pwrite64,
            SYS_openat,
            SYS_close,
            SYS_fsync,
            SYS_fdatasync,
            SYS_fstat,
            SYS_newfstatat,
            SYS_statx,
            SYS_getdents64,
            SYS_nanosleep,
            SYS_clock_nanosleep,
            SYS_futex,
            SYS_ppoll,
            SYS_pselect6,
            SYS_epoll_pwait,
            SYS_recvfrom,
            SYS_sendto,
            SYS_recvmsg,
            SYS_sendmsg,
            SYS_accept4,
            SYS_connect,
            SYS_wait4,
            SYS_waitid,
            SYS_flock,
            SYS_fcntl,
            SYS_getrandom,
            SYS_sched_yield,
            SYS_copy_file_range,
            SYS_sendfile,
            SYS_splice,
            SYS_ioctl,
            #[cfg(target_arch = "x86_64")]
            SYS_open,
            #[cfg(target_arch = "x86_64")]
            SYS_stat,
            #[cfg(target_arch = "x86_64")]
            SYS_poll,
            #[cfg(target_arch = "x86_64")]
            SYS_select,
            #[cfg(target_arch = "x86_64")]
            SYS_epoll_wait,
            #[cfg(target_arch = "x86_64")]
            SYS_accept,
            #[cfg(target_arch = "x86_64")]
            SYS_pause,
        );
        None
    }

    /// The signal that asks the loop thread for its stack. Ignored by default, so a sample
    /// that arrives after the watchdog gave up, or a `SIGURG` nobody handles, is harmless.
    const SIGNAL: libc::c_int = libc::SIGURG;

    const IDLE: u8 = 0;
    const REQUESTED: u8 = 1;
    const CAPTURING: u8 = 2;
    const DONE: u8 = 3;

    /// The one sample buffer of the process. `SAMPLER` serializes the watchdogs that use it.
    struct Buffer {
        state: AtomicU8,
        target: AtomicI32,
        len: AtomicUsize,
        frames: [AtomicUsize; MAX_FRAMES],
    }

    static BUFFER: Buffer = Buffer {
        state: AtomicU8::new(IDLE),
        target: AtomicI32::new(0),
        len: AtomicUsize::new(0),
        frames: [const { AtomicUsize::new(0) }; MAX_FRAMES],
    };

    static SAMPLER: Mutex<()> = Mutex::new(());

    /// The handler that was installed for `SIGNAL` before ours; `Err` if installing failed.
    static PREVIOUS: OnceLock<Result<libc::sigaction, i32>> = OnceLock::new();

    fn install() -> Result<(), i32> {
        let previous = PREVIOUS.get_or_init(|| {
            // SAFETY: a zeroed `sigaction` is a valid value (no handler, empty mask, no
            // flags); every field we rely on is set below.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            let mut previous: libc::sigaction =
                // SAFETY: as above, an all-zero `sigaction` is valid; the kernel fills it.
                unsafe { std::mem::zeroed() };
            // SAFETY: `sigemptyset` initialises the mask of a `sigaction` we own; `sigaction`
            // installs `handler`, which is an `extern "C"` function with the three-argument
            // signature `SA_SIGINFO` calls for and which only does async-signal-safe work
            // (see `handler`). `previous` is written by the kernel.
            let rc = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(SIGNAL, &action, &mut previous)
            };
            if rc == 0 {
                Ok(previous)
            } else {
                Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
            }
        });
        previous.as_ref().map(|_| ()).map_err(|err| *err)
    }

    /// Runs on the loop thread, interrupted anywhere. It must not allocate, lock, or touch
    /// anything a half-finished operation could have left inconsistent: it only reads and
    /// writes atomics and walks the stack into the static buffer.
    extern "C" fn handler(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid `siginfo_t` to a `SA_SIGINFO` handler; `si_code`
        // is always set, and `si_pid` is valid for the `SI_TKILL` code we check first.
        let ours = !info.is_null()
            && unsafe { (*info).si_code == libc::SI_TKILL && (*info).si_pid() == libc::getpid() };
        // SAFETY: `gettid` is async-signal-safe and takes no arguments.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
        if ours && BUFFER.target.load(Ordering::Acquire) == tid {
            if BUFFER
                .state
                .compare_exchange(REQUESTED, CAPTURING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                let mut len = 0;
                // SAFETY: `trace_unsynchronized` requires that no other thread walks stacks
                // through it at the same time with unsynchronized state; the unwinder it uses
                // on Linux (libgcc's `_Unwind_Backtrace`) keeps its own locks recursive or
                // lock-free and does not allocate on this path, and the closure only stores
                // into preallocated atomics, bounded by `MAX_FRAMES`.
                unsafe {
                    backtrace::trace_unsynchronized(|frame| {
                        BUFFER.frames[len].store(frame.ip() as usize, Ordering::Relaxed);
                        len += 1;
                        len < MAX_FRAMES
                    });
                }
                BUFFER.len.store(len, Ordering::Relaxed);
                BUFFER.state.store(DONE, Ordering::Release);
            }
            // A sample the watchdog gave up on: nothing to do.
            return;
        }
        chain(signal, info, context);
    }

    /// Passes a signal that is not one of our samples to the handler installed before ours.
    fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let Some(Ok(previous)) = PREVIOUS.get() else {
            return;
        };
        let target = previous.sa_sigaction;
        if target == libc::SIG_DFL || target == libc::SIG_IGN {
            // `SIGURG`'s default action is to ignore it.
            return;
        }
        if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with `SA_SIGINFO`, so `sa_sigaction`
            // holds a function with this three-argument signature; we call it with the
            // arguments the kernel gave us, as the kernel would have.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(target) };
            f(signal, info, context);
        } else {
            // SAFETY: without `SA_SIGINFO`, `sa_sigaction` holds a one-argument
            // `sa_handler`; it is neither `SIG_DFL` nor `SIG_IGN` (checked above).
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(target) };
            f(signal);
        }
    }

    /// Raw return addresses of `thread`'s stack, innermost first (the first ones belong to the
    /// signal handler), or `None` if the thread did not answer within `wait`.
    pub(crate) fn sample_stack(thread: LoopThread, wait: Duration) -> Option<Vec<usize>> {
        install().ok()?;
        let _one_at_a_time = SAMPLER.lock().unwrap_or_else(|poison| poison.into_inner());
        BUFFER.target.store(thread.tid, Ordering::Release);
        BUFFER.len.store(0, Ordering::Relaxed);
        BUFFER.state.store(REQUESTED, Ordering::Release);
        // SAFETY: `tgkill` only sends a signal; `getpid` cannot fail. The thread id belongs to
        // this process (checked by `tgkill` itself through the pid).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::getpid(),
                thread.tid,
                SIGNAL as libc::c_long,
            )
        };
        if rc != 0 {
            BUFFER.state.store(IDLE, Ordering::Release);
            return None;
        }
        let deadline = Instant::now() + wait;
        loop {
            match BUFFER.state.load(Ordering::Acquire) {
                DONE => break,
                // The handler has started: it is bounded, wait for it.
                CAPTURING => std::thread::yield_now(),
                _ if Instant::now() >= deadline => {
                    // Give up, unless the handler starts right now.
                    if BUFFER
                        .state
                        .compare_exchange(REQUESTED, IDLE, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return None;
                    }
                }
                _ => std::thread::sleep(Duration::from_micros(200)),
            }
        }
        let len = BUFFER.len.load(Ordering::Relaxed).min(MAX_FRAMES);
        let frames = BUFFER.frames[..len]
            .iter()
            .map(|ip| ip.load(Ordering::Relaxed))
            .collect();
        BUFFER.state.store(IDLE, Ordering::Release);
        Some(frames)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        // `c_long` is `i64` only on 64-bit targets.
        #[allow(clippy::unnecessary_cast)]
        fn syscall_names_come_from_this_architecture() {
            assert_eq!(syscall_name(libc::SYS_read as i64), Some("read"));
            assert_eq!(syscall_name(libc::SYS_futex as i64), Some("futex"));
            assert_eq!(syscall_name(-1), None);
        }

        #[test]
        fn a_sleeping_thread_reads_as_sleeping() {
            let (tx, rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let child = std::thread::spawn(move || {
                tx.send(LoopThread::current()).unwrap();
                done_rx.recv().unwrap();
            });
            let thread = rx.recv().unwrap();
            let mut state = read_thread(thread).unwrap();
            while state.state != 'S' {
                std::thread::sleep(Duration::from_millis(1));
                state = read_thread(thread).unwrap();
            }
            assert!(state.syscall.is_some());
            let frames = sample_stack(thread, Duration::from_secs(5)).expect("a stack");
            assert!(frames.len() > 2);
            done_tx.send(()).unwrap();
            child.join().unwrap();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Nanoseconds since the first call, from `Instant`.
    #[inline]
    pub(crate) fn coarse_now_ns() -> u64 {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    #[derive(Clone, Copy, Debug)]
    pub(crate) struct LoopThread;

    impl LoopThread {
        pub(crate) fn current() -> LoopThread {
            LoopThread
        }
    }

    #[derive(Clone, Debug, Default)]
    pub(crate) struct ProcState {
        pub(crate) state: char,
        pub(crate) syscall: Option<i64>,
        pub(crate) cpu_ns: u64,
        pub(crate) run_delay_ns: u64,
    }

    pub(crate) fn read_thread(_: LoopThread) -> Option<ProcState> {
        None
    }

    pub(crate) fn run_delay_ns(_: LoopThread) -> Option<u64> {
        None
    }

    pub(crate) fn syscall_name(_: i64) -> Option<&'static str> {
        None
    }

    pub(crate) fn sample_stack(_: LoopThread, _: Duration) -> Option<Vec<usize>> {
        None
    }
}
