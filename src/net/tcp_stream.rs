//! [`TcpStream`].

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use rustix::net::sockopt;

use super::addr::{each_addr, ToSocketAddrs};
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::Async;

/// A TCP connection.
///
/// Implements [`AsyncRead`](futures::io::AsyncRead) and
/// [`AsyncWrite`](futures::io::AsyncWrite), on `TcpStream` and on `&TcpStream`.
/// [`close`](futures::io::AsyncWriteExt::close) shuts the write side down (the peer reads
/// end-of-file, and this side can still read); dropping the stream closes the socket.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # bucle::run(async {
/// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"ping").await?;
/// client.close().await?; // half-close: the server reads to the end
/// let mut got = String::new();
/// server.read_to_string(&mut got).await?;
/// assert_eq!(got, "ping");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpStream {
    pub(crate) inner: Async<std::net::TcpStream>,
}

super::stream_io!(TcpStream);

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// The connect itself is non-blocking: the task waits on the reactor for the handshake.
    /// Names are resolved off the loop (see [`lookup_host`](super::lookup_host)).
    ///
    /// # Errors
    ///
    /// The last address's error with the address as context, for example of kind
    /// [`ConnectionRefused`](io::ErrorKind::ConnectionRefused).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future closes the half-open socket.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, "connecting to", connect_one).await
    }

    /// Wraps a connected `std::net::TcpStream`, making it non-blocking.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered with the reactor.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = bucle::net::TcpStream::from_std(std_stream)?;
    /// # let _ = stream;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Async::new(stream)?,
        })
    }

    /// Deregisters the stream and returns the `std` stream, still non-blocking.
    ///
    /// # Errors
    ///
    /// If deregistration fails.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let std_stream = stream.into_std()?;
    /// std_stream.set_nonblocking(false)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.inner.into_inner()
    }

    /// The local address of this end.
    ///
    /// # Errors
    ///
    /// The OS's error, e.g. after the socket was shut down on some systems.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert!(stream.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// [`NotConnected`](io::ErrorKind::NotConnected) once the peer is gone.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY`: small writes are sent at once instead of being coalesced (Nagle's
    /// algorithm). Request/response protocols usually want this.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert!(!stream.nodelay()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side, or both. After `Shutdown::Write` the peer
    /// reads end-of-file; this side can still read.
    ///
    /// # Errors
    ///
    /// The OS's error, e.g. [`NotConnected`](io::ErrorKind::NotConnected).
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// stream.shutdown(bucle::net::Shutdown::Write)?;
    /// assert_eq!(server.read(&mut [0; 8]).await?, 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Reads without removing the data from the socket's queue.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// stream.write_all(b"abc").await?;
    /// let mut buf = [0; 3];
    /// let n = server.peek(&mut buf).await?;
    /// assert_eq!(&buf[..n], &b"abc"[..n]);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.peek(buf)).await
    }

    /// Borrows the stream as a read half and a write half (`&stream` itself reads and
    /// writes too; the halves only make the roles explicit), usable by two futures at once
    /// (for example in `futures::join!`).
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// let (reader, mut writer) = server.halves();
    /// writer.write_all(b"echo").await?;
    /// # let _ = (reader, stream);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn halves(&self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into owned halves that can move to different tasks. Reads and
    /// writes use separate readiness, so unlike `futures::io::AsyncReadExt::split` (which
    /// this inherent method shadows) no lock is shared between the halves. Dropping both
    /// closes the socket; [`OwnedReadHalf::reunite`] puts them back together.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (read, write) = stream.split();
    /// # let _ = (read, write);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        let this = Arc::new(self);
        (OwnedReadHalf(this.clone()), OwnedWriteHalf(this))
    }

    /// The underlying [`Async`] registration, for readiness-level access.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.as_async().writable().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::net::TcpStream> {
        &self.inner
    }
}

async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    let fd = super::tcp_socket(addr)?;
    match rustix::net::connect(&fd, &addr) {
        Ok(()) => {}
        Err(rustix::io::Errno::INPROGRESS) => {}
        Err(err) => return Err(err.into()),
    }
    let stream = Async::new_nonblocking(std::net::TcpStream::from(fd))?;
    // The handshake finished (or failed) once the socket is writable; SO_ERROR tells which.
    stream.writable().await?;
    match sockopt::socket_error(stream.get_ref())? {
        Ok(()) => Ok(TcpStream { inner: stream }),
        Err(err) => Err(err.into()),
    }
}
