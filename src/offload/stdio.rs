//! The process's standard input and output as `futures-io` streams, read and written on the
//! `blocking` crate's pool so the loop never waits on a terminal or a pipe.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use blocking::Unblock;
use futures::io::{AsyncRead, AsyncWrite};

use super::track::InFlight;

/// Standard input, as an [`AsyncRead`]. Created by [`stdin`].
///
/// Reads run on a pool thread. A read that waits for input keeps that thread blocked until
/// input arrives; the loop and shutdown are not held up by it.
///
/// ```no_run
/// // no_run: it would wait for input on the terminal.
/// use futures::io::{AsyncBufReadExt, BufReader};
///
/// # bucle::run(async {
/// let mut line = String::new();
/// BufReader::new(bucle::offload::stdin()).read_line(&mut line).await?;
/// println!("you said {line:?}");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Stdin {
    inner: Unblock<io::Stdin>,
    in_flight: InFlight,
}

/// Standard output, as an [`AsyncWrite`]. Created by [`stdout`].
///
/// Writes are buffered and written on a pool thread; call `flush().await` (from
/// `futures::AsyncWriteExt`) to wait until they are out.
///
/// ```
/// use futures::io::AsyncWriteExt;
///
/// # bucle::run(async {
/// let mut out = bucle::offload::stdout();
/// out.write_all(b"hello from the loop\n").await?;
/// out.flush().await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Stdout {
    inner: Unblock<io::Stdout>,
    in_flight: InFlight,
}

/// A handle to the process's standard input. Each handle reads from the same stream.
///
/// ```
/// let stdin = bucle::offload::stdin();
/// # drop(stdin);
/// ```
pub fn stdin() -> Stdin {
    Stdin {
        inner: Unblock::new(io::stdin()),
        in_flight: InFlight::default(),
    }
}

/// A handle to the process's standard output. Each handle writes to the same stream.
///
/// ```
/// use futures::io::AsyncWriteExt;
///
/// # bucle::run(async {
/// bucle::offload::stdout().write_all(b"done\n").await.unwrap();
/// # });
/// ```
pub fn stdout() -> Stdout {
    Stdout {
        inner: Unblock::new(io::stdout()),
        in_flight: InFlight::default(),
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.in_flight.track(poll)
    }
}

impl AsyncWrite for Stdout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.in_flight.track(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.in_flight.track(poll)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_close(cx);
        this.in_flight.track(poll)
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}

impl fmt::Debug for Stdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdout").finish_non_exhaustive()
    }
}
