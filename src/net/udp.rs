//! [`UdpSocket`].

use std::io;
use std::net::SocketAddr;

use super::addr::{each_addr, resolve, ToSocketAddrs};
use super::context;
use crate::io::Async;

/// A UDP socket.
///
/// All methods take `&self`, so one socket can be shared (for example in an `Rc`) by a task
/// that sends and one that receives.
///
/// ```
/// # bucle::run(async {
/// let a = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
/// let b = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    inner: Async<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS's error with the address as context, e.g. [`AddrInUse`](io::ErrorKind::AddrInUse).
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
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, "binding to", |addr| async move {
            // `bind` on a datagram socket never blocks.
            UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Wraps a `std::net::UdpSocket`, making it non-blocking.
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
    /// let socket = bucle::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    /// # let _ = socket;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Async::new(socket)?,
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
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// [`NotConnected`](io::ErrorKind::NotConnected) if [`connect`](UdpSocket::connect) was
    /// not called.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert!(socket.peer_addr().is_err());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets the default destination for [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts. Uses the first address `addr` resolves to.
    ///
    /// # Errors
    ///
    /// The OS's or the resolver's error, with the address as context.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// ```
    /// # bucle::run(async {
    /// let a = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, "connecting to", |addr| async move {
            self.inner.get_ref().connect(addr)
        })
        .await
    }

    /// Sends `buf` to `addr`; returns the bytes sent (all of them, for UDP).
    ///
    /// # Errors
    ///
    /// The OS's error (e.g. `EMSGSIZE` for an oversized datagram).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is sent whole or not at all.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_eq!(socket.send_to(b"hi", socket.local_addr()?).await?, 2);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let target = match resolve(addr).await?.first() {
            Some(addr) => *addr,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no addresses to send data to",
                ))
            }
        };
        self.inner
            .write_with(|s| s.send_to(buf, target))
            .await
            .map_err(|err| context(err, format_args!("sending to {target}")))
    }

    /// Receives one datagram; returns its length and sender. A datagram longer than `buf` is
    /// truncated.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no datagram is consumed unless this returns it.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.send_to(b"me", socket.local_addr()?).await?;
    /// let mut buf = [0; 8];
    /// let (n, from) = socket.recv_from(&mut buf).await?;
    /// assert_eq!((n, from), (2, socket.local_addr()?));
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Receives one datagram without removing it from the queue.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.send_to(b"x", socket.local_addr()?).await?;
    /// let mut buf = [0; 8];
    /// socket.peek_from(&mut buf).await?;
    /// assert_eq!(socket.recv_from(&mut buf).await?.0, 1);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.peek_from(buf)).await
    }

    /// Sends to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS's error; [`ConnectionRefused`](io::ErrorKind::ConnectionRefused) can report an
    /// ICMP "port unreachable" caused by an earlier datagram.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// ```
    /// # bucle::run(async {
    /// let a = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(a.local_addr()?).await?;
    /// a.send(b"loop").await?;
    /// let mut buf = [0; 8];
    /// assert_eq!(a.recv(&mut buf).await?, 4);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// ```
    /// # bucle::run(async {
    /// let a = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(a.local_addr()?).await?;
    /// a.send(b"x").await?;
    /// assert_eq!(a.recv(&mut [0; 4]).await?, 1);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// Enables sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_broadcast(true)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }

    /// The underlying [`Async`] registration, for options this type does not wrap.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.as_async().get_ref().set_ttl(8)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::net::UdpSocket> {
        &self.inner
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
