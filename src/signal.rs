//! Unix signals as async streams, and [`ctrl_c`].
//!
//! ```no_run
//! # bucle::run(async {
//! // Wait for the user to press Ctrl-C, then shut down cleanly.
//! bucle::signal::ctrl_c().await?;
//! println!("shutting down");
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```
//!
//! # Implementation
//!
//! Handlers are installed through `signal-hook`'s registry, which chains to handlers that were
//! there before (so other libraries' handlers keep working) and runs only async-signal-safe
//! code: on a signal, it writes one byte to a socket pair whose read end is registered with
//! the loop's reactor. Signals that arrive while nobody is reading are coalesced: a stream
//! yields once for any number of deliveries since its last item.
//!
//! Once a signal has had a handler, the process keeps one: when the last [`Signal`] for
//! `SIGINT` is dropped, Ctrl-C no longer reaches anyone and does not terminate the process
//! either (as with tokio). Keep a stream alive for as long as the program should react.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use signal_hook::SigId;

use crate::io::Async;

/// Signal numbers, for [`Signal::new`].
pub use signal_hook::consts::signal::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
};

/// A stream of deliveries of one Unix signal.
///
/// Each item is `()`: one or more deliveries since the previous item. The stream never ends.
///
/// ```
/// use futures::StreamExt;
/// use bucle::signal::{Signal, SIGUSR1};
///
/// # bucle::run(async {
/// let mut usr1 = Signal::new(SIGUSR1)?;
/// signal_hook::low_level::raise(SIGUSR1)?;
/// usr1.next().await;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Signal {
    signal: i32,
    reader: Async<UnixStream>,
    id: SigId,
}

impl Signal {
    /// Starts listening for `signal` (for example [`SIGTERM`]).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for signals that cannot be handled
    /// (`SIGKILL`, `SIGSTOP`, and `SIGSEGV`, `SIGILL`, `SIGFPE`, which signal-hook forbids);
    /// the OS's error if the socket pair cannot be created.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::signal::Signal::new(9).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(bucle::signal::Signal::new(bucle::signal::SIGHUP).is_ok());
    /// # });
    /// ```
    #[track_caller]
    pub fn new(signal: i32) -> io::Result<Signal> {
        if signal_hook::consts::FORBIDDEN.contains(&signal) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signal} cannot be handled; listen for another signal"),
            ));
        }
        let (reader, writer) = UnixStream::pair()?;
        let reader = Async::new(reader)?;
        // The registry takes the write end and closes it when the action is unregistered.
        let id = signal_hook::low_level::pipe::register(signal, writer).map_err(|err| {
            crate::net::context(
                err,
                format_args!("installing a handler for signal {signal}"),
            )
        })?;
        Ok(Signal { signal, reader, id })
    }

    /// The signal number.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::signal::Signal::new(bucle::signal::SIGUSR2)?;
    /// assert_eq!(s.signal(), bucle::signal::SIGUSR2);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn signal(&self) -> i32 {
        self.signal
    }

    /// Waits for the next delivery (coalescing any that arrived since the last call).
    ///
    /// # Errors
    ///
    /// The OS's error reading the wake-up socket (not expected in practice).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a delivery that arrives while nobody waits is kept for the next call.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut hup = bucle::signal::Signal::new(bucle::signal::SIGHUP)?;
    /// signal_hook::low_level::raise(bucle::signal::SIGHUP)?;
    /// hup.recv().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn recv(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery, as [`recv`](Signal::recv).
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut s = bucle::signal::Signal::new(bucle::signal::SIGUSR2)?;
    /// signal_hook::low_level::raise(bucle::signal::SIGUSR2)?;
    /// std::future::poll_fn(|cx| s.poll_recv(cx)).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut buf = [0u8; 64];
        // Drain every byte queued so far: they all stand for one item.
        self.reader.poll_read_with(cx, |mut r| {
            let n = r.read(&mut buf)?;
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) => return Err(err),
                }
            }
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the signal handler's socket closed",
                ));
            }
            Ok(())
        })
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match self.get_mut().poll_recv(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Some(())),
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

/// Waits for Ctrl-C (`SIGINT`), like asyncio's `loop.add_signal_handler(SIGINT, ..)`.
///
/// The handler is installed on the first poll, and stays for the life of the future; a
/// `SIGINT` that arrives while none is installed terminates the process as usual.
///
/// # Errors
///
/// If the handler cannot be installed.
///
/// # Cancel safety
///
/// Dropping the future stops listening; deliveries after that are not seen (see the module
/// docs: SIGINT then no longer terminates the process).
///
/// # Panics
///
/// Outside a bucle loop.
///
/// ```
/// # bucle::run(async {
/// let ctrl_c = bucle::spawn(bucle::signal::ctrl_c());
/// bucle::yield_now().await; // let it install the handler
/// signal_hook::low_level::raise(bucle::signal::SIGINT)?;
/// ctrl_c.await.unwrap()?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    Signal::new(SIGINT)?.recv().await
}
