//! [`UnixStream`].

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustix::net::{sockopt, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use super::context;
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::Async;

/// A Unix-domain stream connection.
///
/// Implements [`AsyncRead`](futures::io::AsyncRead) and
/// [`AsyncWrite`](futures::io::AsyncWrite) on `UnixStream` and `&UnixStream`;
/// [`close`](futures::io::AsyncWriteExt::close) shuts the write side down.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # bucle::run(async {
/// let (mut a, mut b) = bucle::net::UnixStream::pair()?;
/// a.write_all(b"over").await?;
/// a.close().await?;
/// let mut got = Vec::new();
/// b.read_to_end(&mut got).await?;
/// assert_eq!(got, b"over");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixStream {
    pub(crate) inner: Async<std::os::unix::net::UnixStream>,
}

super::stream_io!(UnixStream);

impl UnixStream {
    /// Connects to the socket at `path` without blocking the loop.
    ///
    /// # Errors
    ///
    /// The OS's error with the path as context: [`NotFound`](io::ErrorKind::NotFound) when
    /// no socket is there, [`ConnectionRefused`](io::ErrorKind::ConnectionRefused) when
    /// nothing listens on it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let err = bucle::net::UnixStream::connect("/nonexistent/sock").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        connect_path(path)
            .await
            .map_err(|err| context(err, format_args!("connecting to {}", path.display())))
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// The OS's error (e.g. out of descriptors).
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, b) = bucle::net::UnixStream::pair()?;
    /// # let _ = (a, b);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected `std` stream, making it non-blocking.
    ///
    /// # Errors
    ///
    /// If it cannot be registered with the reactor.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = bucle::net::UnixStream::from_std(a)?;
    /// # let _ = a;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Async::new(stream)?,
        })
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// assert!(a.local_addr()?.is_unnamed());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// # bucle::run(async {
    /// let (a, mut b) = bucle::net::UnixStream::pair()?;
    /// a.shutdown(bucle::net::Shutdown::Write)?;
    /// assert_eq!(b.read(&mut [0; 4]).await?, 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Borrows the stream as a read half and a write half (`&stream` itself reads and
    /// writes too; the halves only make the roles explicit).
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let (read, write) = a.halves();
    /// # let _ = (read, write);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn halves(&self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into owned halves that can move to different tasks. Reads and
    /// writes use separate readiness, so unlike `futures::io::AsyncReadExt::split` (which
    /// this inherent method shadows) no lock is shared between the halves.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let (read, write) = a.split();
    /// # let _ = (read, write);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        let this = Arc::new(self);
        (OwnedReadHalf(this.clone()), OwnedWriteHalf(this))
    }

    /// The underlying [`Async`] registration.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// a.as_async().writable().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::os::unix::net::UnixStream> {
        &self.inner
    }
}

async fn connect_path(path: &Path) -> io::Result<UnixStream> {
    let addr = SocketAddrUnix::new(path)?;
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&fd, &addr) {
        Ok(()) => {}
        Err(rustix::io::Errno::INPROGRESS) => {}
        // A full backlog: the listener is alive but busy. Report it; retrying is the
        // caller's policy.
        Err(err) => return Err(err.into()),
    }
    let stream = Async::new_nonblocking(std::os::unix::net::UnixStream::from(fd))?;
    stream.writable().await?;
    match sockopt::socket_error(stream.get_ref())? {
        Ok(()) => Ok(UnixStream { inner: stream }),
        Err(err) => Err(err.into()),
    }
}
