//! Raw I/O readiness: [`Async<T>`] wraps any file descriptor so tasks can wait for it to
//! become readable or writable on the loop's reactor.
//!
//! The socket types in [`crate::net`], the pipes of [`crate::process`] and the signal streams
//! of [`crate::signal`] are all built on [`Async`]; use it directly for descriptors bucle has
//! no type for (a serial port, an `eventfd`, a socket from another library).
//!
//! ```
//! use std::os::unix::net::UnixStream;
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # bucle::run(async {
//! let (a, b) = UnixStream::pair()?;
//! let (mut a, mut b) = (bucle::io::Async::new(a)?, bucle::io::Async::new(b)?);
//! a.write_all(b"ping").await?;
//! let mut buf = [0; 4];
//! b.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"ping");
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```

mod async_fd;

/// The process's standard input and output as `futures-io` streams, read and written on the
/// executor so the loop never waits on a terminal or a pipe. The same items as
/// [`crate::offload::stdin`] and [`crate::offload::stdout`].
///
/// ```
/// use futures::io::AsyncWriteExt;
///
/// # bucle::run(async {
/// let mut out = bucle::io::stdout();
/// out.write_all(b"written off the loop\n").await?;
/// out.flush().await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub use crate::offload::{stdin, stdout, Stdin, Stdout};
pub use async_fd::Async;
pub use futures::io::{AsyncBufRead, AsyncRead, AsyncWrite};
