//! [`TcpListener`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use rustix::net::{sockopt, SocketFlags};

use super::addr::{each_addr, ToSocketAddrs};
use super::TcpStream;
use crate::io::Async;

/// Listen backlog: pending connections the kernel queues before `accept` (as tokio). The
/// kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// # bucle::run(async {
/// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// std::thread::spawn(move || std::net::TcpStream::connect(addr));
/// let (stream, peer) = listener.accept().await?;
/// assert_eq!(stream.peer_addr()?, peer);
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    inner: Async<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port) and listens, with `SO_REUSEADDR` set and a
    /// backlog of 1024.
    ///
    /// # Errors
    ///
    /// The OS's error with the address as context, e.g. of kind
    /// [`AddrInUse`](io::ErrorKind::AddrInUse).
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
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let taken = listener.local_addr()?;
    /// let err = std::net::TcpListener::bind(taken).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, "binding to", |addr| async move { bind_one(addr) }).await
    }

    /// Wraps a listening `std::net::TcpListener`, making it non-blocking.
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
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = bucle::net::TcpListener::from_std(std_listener)?;
    /// # let _ = listener;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Async::new(listener)?,
        })
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Waits for and accepts the next connection.
    ///
    /// # Errors
    ///
    /// The OS's error. Running out of descriptors (`EMFILE`, kind `Other` with
    /// `raw_os_error() == Some(24)`) leaves the pending connection queued in the kernel: the
    /// listener stays usable, and a later `accept` succeeds once descriptors are freed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the kernel's queue by a call that returns
    /// it.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let client = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (_stream, peer) = listener.accept().await?;
    /// assert_eq!(peer, client.local_addr()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection, as [`accept`](TcpListener::accept).
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let _client = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (_stream, _peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (fd, addr) = match self.inner.poll_read_with(cx, |l| {
            rustix::net::acceptfrom_with(l, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)
                .map_err(io::Error::from)
        }) {
            Poll::Ready(Ok(accepted)) => accepted,
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => return Poll::Pending,
        };
        let stream = std::net::TcpStream::from(fd);
        let addr = match addr.map(SocketAddr::try_from) {
            Some(Ok(addr)) => addr,
            _ => match stream.peer_addr() {
                Ok(addr) => addr,
                Err(err) => return Poll::Ready(Err(err)),
            },
        };
        Poll::Ready(
            Async::registered_like(&self.inner, stream).map(|inner| (TcpStream { inner }, addr)),
        )
    }

    /// A stream of incoming connections; each item is [`accept`](TcpListener::accept)'s
    /// result without the address. It never ends.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let _client = bucle::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let mut incoming = listener.incoming();
    /// let stream = incoming.next().await.unwrap()?;
    /// # let _ = stream;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The underlying [`Async`] registration.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let _ = listener.as_async().get_ref().ttl()?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::net::TcpListener> {
        &self.inner
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

/// The stream returned by [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|result| Some(result.map(|(stream, _)| stream)))
    }
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let fd = super::tcp_socket(addr)?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, BACKLOG)?;
    Ok(TcpListener {
        inner: Async::new_nonblocking(std::net::TcpListener::from(fd))?,
    })
}
