//! Subprocesses with async pipes, like asyncio's `create_subprocess_exec`.
//!
//! [`Command`] wraps [`std::process::Command`]: build it the same way, then
//! [`spawn`](Command::spawn) a [`Child`] whose `stdin`, `stdout` and `stderr` (when piped)
//! are [`AsyncWrite`]/[`AsyncRead`] pipes on the loop, or await [`status`](Command::status)
//! or [`output`](Command::output).
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use bucle::process::{Command, Stdio};
//!
//! # bucle::run(async {
//! let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//! let mut stdin = child.stdin.take().unwrap();
//! stdin.write_all(b"meow").await?;
//! drop(stdin); // end of input: cat exits
//! let mut out = String::new();
//! child.stdout.take().unwrap().read_to_string(&mut out).await?;
//! assert_eq!(out, "meow");
//! assert!(child.wait().await?.success());
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```
//!
//! # Implementation
//!
//! The loop learns that a child exited from a pidfd (Linux 5.3+) registered with its reactor,
//! so waiting costs no thread and no signal handler; where pidfds are missing, `wait` checks
//! every 10 ms instead. Spawning itself (`fork`/`exec`) runs on the loop thread, as in
//! asyncio.
//!
//! # No zombies
//!
//! A [`Child`] dropped before its exit status was read is reaped all the same: if it is still
//! running, a background thread (one for the process, started on first use) collects its
//! exit status once it ends. With [`Command::kill_on_drop`] it is killed first.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use crate::io::Async;

pub use std::process::{ExitStatus, Output, Stdio};

/// A process builder: [`std::process::Command`] with async `spawn`, `status` and `output`.
///
/// ```
/// # bucle::run(async {
/// let status = bucle::process::Command::new("sh").args(["-c", "exit 3"]).status().await?;
/// assert_eq!(status.code(), Some(3));
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Command {
    inner: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// A command running `program`, with the parent's environment and working directory.
    ///
    /// ```
    /// let cmd = bucle::process::Command::new("ls");
    /// # drop(cmd);
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            inner: std::process::Command::new(program),
            kill_on_drop: false,
        }
    }

    /// Adds an argument.
    ///
    /// ```
    /// let mut cmd = bucle::process::Command::new("echo");
    /// cmd.arg("hello");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// ```
    /// let mut cmd = bucle::process::Command::new("sh");
    /// cmd.args(["-c", "true"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// # bucle::run(async {
    /// let out = bucle::process::Command::new("sh")
    ///     .args(["-c", "echo $GREETING"])
    ///     .env("GREETING", "hola")
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"hola\n");
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env(key, value);
        self
    }

    /// Removes an environment variable for the child.
    ///
    /// ```
    /// let mut cmd = bucle::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env_remove(key);
        self
    }

    /// Clears the child's environment.
    ///
    /// ```
    /// let mut cmd = bucle::process::Command::new("env");
    /// cmd.env_clear();
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.inner.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// # bucle::run(async {
    /// let out = bucle::process::Command::new("pwd").current_dir("/").output().await?;
    /// assert_eq!(out.stdout, b"/\n");
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.inner.current_dir(dir);
        self
    }

    /// Configures the child's standard input ([`Stdio::piped`] gives [`Child::stdin`]).
    ///
    /// ```
    /// use bucle::process::{Command, Stdio};
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::piped());
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdin(cfg);
        self
    }

    /// Configures the child's standard output ([`Stdio::piped`] gives [`Child::stdout`]).
    ///
    /// ```
    /// use bucle::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stdout(Stdio::null());
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdout(cfg);
        self
    }

    /// Configures the child's standard error ([`Stdio::piped`] gives [`Child::stderr`]).
    ///
    /// ```
    /// use bucle::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stderr(Stdio::piped());
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stderr(cfg);
        self
    }

    /// Kill the child (`SIGKILL`) when its [`Child`] is dropped before it exited. Default:
    /// off, and a dropped child keeps running (and is reaped when it ends).
    ///
    /// ```
    /// # bucle::run(async {
    /// let child = bucle::process::Command::new("sleep").arg("100").kill_on_drop(true).spawn()?;
    /// drop(child); // sleep is killed and reaped
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// Starts the process.
    ///
    /// # Errors
    ///
    /// The OS's error with the program name as context, e.g. [`NotFound`](io::ErrorKind::NotFound).
    ///
    /// # Panics
    ///
    /// Outside a bucle loop when a pipe was requested.
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::process::Command::new("no-such-program-here").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.to_string().contains("no-such-program-here"));
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let mut child = self.inner.spawn().map_err(|err| {
            crate::net::context(err, format_args!("spawning {:?}", self.inner.get_program()))
        })?;
        let stdin = child.stdin.take().map(OwnedFd::from);
        let stdout = child.stdout.take().map(OwnedFd::from);
        let stderr = child.stderr.take().map(OwnedFd::from);
        // Own the child first, so that an error below still kills (if asked) and reaps it.
        let mut owned = Child {
            child: Some(child),
            status: None,
            exit: None,
            kill_on_drop: self.kill_on_drop,
            stdin: None,
            stdout: None,
            stderr: None,
        };
        owned.stdin = stdin
            .map(|fd| pipe(fd).map(|inner| ChildStdin { inner }))
            .transpose()?;
        owned.stdout = stdout
            .map(|fd| pipe(fd).map(|inner| ChildStdout { inner }))
            .transpose()?;
        owned.stderr = stderr
            .map(|fd| pipe(fd).map(|inner| ChildStderr { inner }))
            .transpose()?;
        owned.exit = pidfd(owned.child.as_ref().expect("just spawned"));
        Ok(owned)
    }

    /// Runs the process to completion with inherited stdio and returns its exit status.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or the OS's error while waiting.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the child (killed if [`kill_on_drop`](Command::kill_on_drop)
    /// is set; reaped either way).
    ///
    /// ```
    /// # bucle::run(async {
    /// assert!(bucle::process::Command::new("true").status().await?.success());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the process with stdin closed and stdout and stderr captured, and returns them
    /// with the exit status.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or the OS's error while reading or waiting.
    ///
    /// # Cancel safety
    ///
    /// As [`status`](Command::status).
    ///
    /// ```
    /// # bucle::run(async {
    /// let out = bucle::process::Command::new("sh")
    ///     .args(["-c", "echo out; echo err >&2; exit 1"])
    ///     .output()
    ///     .await?;
    /// assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
    /// assert_eq!(out.status.code(), Some(1));
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        self.inner.stdin(Stdio::null());
        self.inner.stdout(Stdio::piped());
        self.inner.stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("command", &self.inner)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

fn pipe(fd: OwnedFd) -> io::Result<Async<File>> {
    Async::new(File::from(fd))
}

fn pidfd(child: &std::process::Child) -> Option<Async<OwnedFd>> {
    let pid = rustix::process::Pid::from_child(child);
    let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    // A pidfd is only polled, never read, so it needs no non-blocking mode.
    Async::new_nonblocking(fd).ok()
}

/// A running (or finished) child process.
///
/// ```
/// # bucle::run(async {
/// let mut child = bucle::process::Command::new("sleep").arg("10").spawn()?;
/// child.kill().await?;
/// assert!(!child.wait().await?.success());
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Child {
    /// `None` once handed to the reaper in `drop`.
    child: Option<std::process::Child>,
    /// The exit status, once read: the process is reaped.
    status: Option<ExitStatus>,
    /// Readable when the process has exited.
    exit: Option<Async<OwnedFd>>,
    kill_on_drop: bool,
    /// The child's standard input, if piped. Dropping it closes the pipe (end of input).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    fn inner(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("the child is owned until drop")
    }

    /// The OS process id.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut child = bucle::process::Command::new("true").spawn()?;
    /// assert!(child.id() > 0);
    /// child.wait().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn id(&self) -> u32 {
        self.child
            .as_ref()
            .expect("the child is owned until drop")
            .id()
    }

    /// The exit status if the process has exited, without waiting.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut child = bucle::process::Command::new("sleep").arg("10").spawn()?;
    /// assert!(child.try_wait()?.is_none());
    /// child.kill().await?;
    /// assert!(child.try_wait()?.is_some());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.inner().try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits for the process to exit and returns its status. Closes the child's stdin first
    /// (so a child reading to end-of-input can finish).
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: waiting again later gives the same status.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut child = bucle::process::Command::new("sh").args(["-c", "exit 7"]).spawn()?;
    /// assert_eq!(child.wait().await?.code(), Some(7));
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            match &self.exit {
                Some(exit) => exit.readable().await?,
                None => crate::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Reads stdout and stderr to their ends (those that are piped) while waiting for the
    /// process to exit.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the child and its pipes (see [`Child`]'s drop).
    ///
    /// ```
    /// use bucle::process::{Command, Stdio};
    /// # bucle::run(async {
    /// let child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    /// let out = child.wait_with_output().await?;
    /// assert_eq!(out.stdout, b"hi\n");
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        use futures::io::AsyncReadExt;
        drop(self.stdin.take());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let read_out = async {
            match stdout {
                Some(mut s) => s.read_to_end(&mut out).await.map(drop),
                None => Ok(()),
            }
        };
        let read_err = async {
            match stderr {
                Some(mut s) => s.read_to_end(&mut err).await.map(drop),
                None => Ok(()),
            }
        };
        let (a, b) = futures::join!(read_out, read_err);
        a?;
        b?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }

    /// Sends `SIGKILL` without waiting. Does nothing if the process was already reaped.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut child = bucle::process::Command::new("sleep").arg("10").spawn()?;
    /// child.start_kill()?;
    /// child.wait().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.inner().kill()
    }

    /// Kills the process (`SIGKILL`) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// The signal is sent before the first await; dropping the future then only stops the
    /// waiting.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// # bucle::run(async {
    /// let mut child = bucle::process::Command::new("sleep").arg("10").spawn()?;
    /// child.kill().await?;
    /// assert_eq!(child.wait().await?.signal(), Some(9));
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.status.is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = child.kill();
        }
        if let Ok(None) = child.try_wait() {
            reap_later(child)
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.child.as_ref().map(|c| c.id()))
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Children dropped while still running, and the thread that reaps them.
struct Orphans {
    list: Mutex<Vec<std::process::Child>>,
    added: Condvar,
}

fn reap_later(child: std::process::Child) {
    static ORPHANS: OnceLock<&'static Orphans> = OnceLock::new();
    let orphans = *ORPHANS.get_or_init(|| {
        let orphans: &'static Orphans = Box::leak(Box::new(Orphans {
            list: Mutex::new(Vec::new()),
            added: Condvar::new(),
        }));
        let spawned = std::thread::Builder::new()
            .name("bucle-reaper".into())
            .spawn(move || loop {
                let mut list = orphans.list.lock().unwrap();
                list.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
                if list.is_empty() {
                    drop(orphans.added.wait(list).unwrap());
                } else {
                    drop(list);
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        if let Err(err) = spawned {
            eprintln!("bucle: could not start the child reaper thread: {err}");
        }
        orphans
    });
    orphans.list.lock().unwrap().push(child);
    orphans.added.notify_one();
}

macro_rules! pipe_type {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name {
            inner: Async<File>,
        }

        impl $name {
            /// Turns the pipe back into a blocking [`Stdio`], to connect it to another
            /// process (a pipeline like `cat | sort`).
            ///
            /// # Errors
            ///
            /// If the pipe cannot be deregistered or made blocking again.
            ///
            /// ```
            /// use bucle::process::{Command, Stdio};
            /// # bucle::run(async {
            /// let mut echo = Command::new("echo").arg("b\na").stdout(Stdio::piped()).spawn()?;
            /// let stdio = echo.stdout.take().unwrap().into_stdio()?;
            /// let out = Command::new("sort").stdin(stdio).stdout(Stdio::piped()).spawn()?
            ///     .wait_with_output().await?;
            /// assert_eq!(out.stdout, b"a\nb\n");
            /// echo.wait().await?;
            /// # std::io::Result::Ok(())
            /// # }).unwrap();
            /// ```
            pub fn into_stdio(self) -> io::Result<Stdio> {
                let file = self.inner.into_inner()?;
                rustix::io::ioctl_fionbio(&file, false)?;
                Ok(Stdio::from(file))
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }
    };
}

pipe_type!(
    ChildStdin,
    "The child's standard input: an [`AsyncWrite`]. Dropping it closes the pipe, which the \
     child reads as end of input."
);
pipe_type!(
    ChildStdout,
    "The child's standard output: an [`AsyncRead`]."
);
pipe_type!(ChildStderr, "The child's standard error: an [`AsyncRead`].");

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.inner).poll_close(cx)
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.inner).poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.inner).poll_read(cx, buf)
    }
}
