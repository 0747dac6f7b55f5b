//! [`UnixDatagram`].

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::context;
use crate::io::Async;

/// A Unix-domain datagram socket.
///
/// ```
/// # bucle::run(async {
/// let (a, b) = bucle::net::UnixDatagram::pair()?;
/// a.send(b"one").await?;
/// let mut buf = [0; 8];
/// assert_eq!(b.recv(&mut buf).await?, 3);
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    inner: Async<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds a socket to `path`.
    ///
    /// # Errors
    ///
    /// The OS's error with the path as context.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-doc-ud-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let socket = bucle::net::UnixDatagram::bind(&path)?;
    /// let sender = bucle::net::UnixDatagram::unbound()?;
    /// sender.send_to(b"hey", &path).await?;
    /// let mut buf = [0; 8];
    /// let (n, _from) = socket.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hey");
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = std::os::unix::net::UnixDatagram::bind(path)
            .map_err(|err| context(err, format_args!("binding to {}", path.display())))?;
        UnixDatagram::from_std(socket)
    }

    /// A socket bound to no address, for sending.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let socket = bucle::net::UnixDatagram::unbound()?;
    /// # let _ = socket;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A connected pair.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, b) = bucle::net::UnixDatagram::pair()?;
    /// # let _ = (a, b);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a `std` socket, making it non-blocking.
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
    /// let s = bucle::net::UnixDatagram::from_std(std::os::unix::net::UnixDatagram::unbound()?)?;
    /// # let _ = s;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Async::new(socket)?,
        })
    }

    /// Connects to the socket at `path` (sets the default destination). Never waits.
    ///
    /// # Errors
    ///
    /// The OS's error with the path as context.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::net::UnixDatagram::unbound()?;
    /// assert!(s.connect("/nonexistent/sock").is_err());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.inner
            .get_ref()
            .connect(path)
            .map_err(|err| context(err, format_args!("connecting to {}", path.display())))
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::net::UnixDatagram::unbound()?;
    /// assert!(s.local_addr()?.is_unnamed());
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
    /// [`NotConnected`](io::ErrorKind::NotConnected) if not connected.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::net::UnixDatagram::unbound()?;
    /// assert!(s.peer_addr().is_err());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sends a datagram to `path`.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is sent whole or not at all.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::net::UnixDatagram::unbound()?;
    /// assert!(s.send_to(b"x", "/nonexistent/sock").await.is_err());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and its sender.
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
    /// let (a, b) = bucle::net::UnixDatagram::pair()?;
    /// a.send(b"x").await?;
    /// let (n, _from) = b.recv_from(&mut [0; 4]).await?;
    /// assert_eq!(n, 1);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends to the connected peer.
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
    /// let (a, _b) = bucle::net::UnixDatagram::pair()?;
    /// assert_eq!(a.send(b"abc").await?, 3);
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
    /// let (a, b) = bucle::net::UnixDatagram::pair()?;
    /// a.send(b"abc").await?;
    /// assert_eq!(b.recv(&mut [0; 8]).await?, 3);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixDatagram::pair()?;
    /// a.shutdown(bucle::net::Shutdown::Both)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// The underlying [`Async`] registration.
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::net::UnixDatagram::unbound()?;
    /// let _ = s.as_async().get_ref();
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::os::unix::net::UnixDatagram> {
        &self.inner
    }
}

impl std::os::fd::AsFd for UnixDatagram {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
