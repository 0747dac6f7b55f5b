//! [`UnixListener`].

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use rustix::net::SocketFlags;

use super::{context, UnixStream};
use crate::io::Async;

/// A Unix-domain socket listening for connections.
///
/// Dropping the listener closes it; it does not remove the socket file.
///
/// ```
/// # bucle::run(async {
/// let dir = std::env::temp_dir().join(format!("bucle-doc-ul-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = bucle::net::UnixListener::bind(&path)?;
/// let _client = bucle::net::UnixStream::connect(&path).await?;
/// let (_server, _addr) = listener.accept().await?;
/// # std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    inner: Async<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens. Binding is a local file operation and never waits.
    ///
    /// # Errors
    ///
    /// The OS's error with the path as context, e.g. [`AddrInUse`](io::ErrorKind::AddrInUse)
    /// if the file exists.
    ///
    /// # Panics
    ///
    /// Outside a bucle loop.
    ///
    /// ```
    /// # bucle::run(async {
    /// let path = std::env::temp_dir().join(format!("bucle-doc-ulb-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = bucle::net::UnixListener::bind(&path)?;
    /// let err = bucle::net::UnixListener::bind(&path).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = std::os::unix::net::UnixListener::bind(path)
            .map_err(|err| context(err, format_args!("binding to {}", path.display())))?;
        UnixListener::from_std(listener)
    }

    /// Wraps a `std` listener, making it non-blocking.
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
    /// # let path = std::env::temp_dir().join(format!("bucle-doc-ulf-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    /// let listener = bucle::net::UnixListener::from_std(std_listener)?;
    /// # std::fs::remove_file(&path)?;
    /// # let _ = listener;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
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
    /// # let path = std::env::temp_dir().join(format!("bucle-doc-ula-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = bucle::net::UnixListener::bind(&path)?;
    /// assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    /// # std::fs::remove_file(&path)?;
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
    /// The OS's error (e.g. `EMFILE`); the listener stays usable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let path = std::env::temp_dir().join(format!("bucle-doc-ulc-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = bucle::net::UnixListener::bind(&path)?;
    /// let _client = bucle::net::UnixStream::connect(&path).await?;
    /// let (_stream, _addr) = listener.accept().await?;
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let fd = self
            .inner
            .read_with(|l| {
                rustix::net::accept_with(l, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)
                    .map_err(io::Error::from)
            })
            .await?;
        let stream = std::os::unix::net::UnixStream::from(fd);
        let addr = stream.peer_addr()?;
        let inner = Async::registered_like(&self.inner, stream)?;
        Ok((UnixStream { inner }, addr))
    }

    /// The underlying [`Async`] registration.
    ///
    /// ```
    /// # bucle::run(async {
    /// # let path = std::env::temp_dir().join(format!("bucle-doc-ulr-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = bucle::net::UnixListener::bind(&path)?;
    /// let _ = listener.as_async().get_ref();
    /// # std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn as_async(&self) -> &Async<std::os::unix::net::UnixListener> {
        &self.inner
    }
}

impl std::os::fd::AsFd for UnixListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
