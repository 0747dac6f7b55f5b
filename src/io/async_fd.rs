//! [`Async<T>`]: a file descriptor registered with the loop's reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use crate::runtime::context;
use crate::runtime::core::Shared;
use crate::runtime::reactor::{Source, READ, WRITE};
use crate::Handle;

/// An I/O object registered with a bucle loop's reactor.
///
/// `Async<T>` puts `T`'s file descriptor in non-blocking mode and registers it with the loop
/// it was created on. [`readable`](Async::readable) and [`writable`](Async::writable) wait
/// for readiness; [`read_with`](Async::read_with) and [`write_with`](Async::write_with) retry
/// a non-blocking operation until it stops returning `WouldBlock`. When `&T` implements
/// [`Read`]/[`Write`], `Async<T>` (and `&Async<T>`) implement
/// [`AsyncRead`]/[`AsyncWrite`], so `futures::io` adapters (`BufReader`, `copy`, `lines`...)
/// work on it.
///
/// Dropping an `Async<T>` removes the registration first and then closes the descriptor, so
/// no event for a reused descriptor number can reach the wrong task.
///
/// `Async<T>` is `Send` and `Sync` when `T` is: it may be moved to, used on, and dropped on
/// another thread; its wakeups still come from the loop it was created on, which must be
/// running for them to arrive.
///
/// # One waiter per direction
///
/// Each direction (read, write) remembers one waiting task. If two tasks wait to read the
/// same object at once, each poll wakes the other; share a socket between readers through a
/// queue instead, or give each its own half (`split`).
///
/// ```
/// use std::os::unix::net::UnixDatagram;
///
/// # bucle::run(async {
/// let (a, b) = UnixDatagram::pair()?;
/// let (a, b) = (bucle::io::Async::new(a)?, bucle::io::Async::new(b)?);
/// a.write_with(|s| s.send(b"hello")).await?;
/// let mut buf = [0; 16];
/// let n = b.read_with(|s| s.recv(&mut buf)).await?;
/// assert_eq!(&buf[..n], b"hello");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Async<T: AsFd> {
    /// Keeps the reactor alive for as long as `source` is registered with it.
    shared: Arc<Shared>,
    source: Arc<Source>,
    /// `None` only during `into_inner` and drop, after the source was deregistered.
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Registers `io` with the loop running on this thread and puts it in non-blocking mode.
    ///
    /// # Errors
    ///
    /// The operating system's error if the descriptor cannot be made non-blocking or
    /// registered (for example one that epoll refuses, such as a regular file).
    ///
    /// # Panics
    ///
    /// If no bucle loop runs on this thread; use [`Async::with_handle`] there.
    ///
    /// ```
    /// # bucle::run(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = bucle::io::Async::new(listener)?;
    /// # let _ = listener;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn new(io: T) -> io::Result<Async<T>> {
        let core = context::expect_current_rc("`bucle::io::Async::new` (and every bucle I/O type)");
        let shared = core.shared.clone();
        drop(core);
        Async::on(shared, io)
    }

    /// Registers `io` with the loop of `handle`, from any thread.
    ///
    /// # Errors
    ///
    /// As [`Async::new`].
    ///
    /// ```
    /// let rt = bucle::Runtime::new().unwrap();
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let a = bucle::io::Async::with_handle(a, &rt.handle()).unwrap();
    /// # drop(a);
    /// ```
    pub fn with_handle(io: T, handle: &Handle) -> io::Result<Async<T>> {
        Async::on(handle.shared().clone(), io)
    }

    fn on(shared: Arc<Shared>, io: T) -> io::Result<Async<T>> {
        rustix::io::ioctl_fionbio(io.as_fd(), true)?;
        Async::registered(shared, io)
    }

    /// Registers a descriptor that is already non-blocking.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let core = context::expect_current_rc("bucle I/O types");
        let shared = core.shared.clone();
        drop(core);
        Async::registered(shared, io)
    }

    /// Registers a non-blocking `io` with the same loop as `like` (accepted connections).
    pub(crate) fn registered_like<U: AsFd>(like: &Async<U>, io: T) -> io::Result<Async<T>> {
        Async::registered(like.shared.clone(), io)
    }

    fn registered(shared: Arc<Shared>, io: T) -> io::Result<Async<T>> {
        let source = shared.reactor.register(io.as_fd().as_raw_fd())?;
        Ok(Async {
            shared,
            source,
            io: Some(io),
        })
    }

    /// The inner I/O object.
    ///
    /// ```
    /// # bucle::run(async {
    /// let l = bucle::io::Async::new(std::net::TcpListener::bind("127.0.0.1:0")?)?;
    /// assert!(l.get_ref().local_addr()?.port() > 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("Async holds its I/O object until dropped")
    }

    /// The inner I/O object, mutably.
    ///
    /// # Safety
    ///
    /// The descriptor must not be closed or replaced through this reference (for example
    /// with `std::mem::swap`): it is registered with the reactor until the `Async` drops.
    ///
    /// ```
    /// # bucle::run(async {
    /// let mut l = bucle::io::Async::new(std::net::TcpListener::bind("127.0.0.1:0")?)?;
    /// // SAFETY: only reads through the reference.
    /// let port = unsafe { l.get_mut() }.local_addr()?.port();
    /// assert!(port > 0);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub unsafe fn get_mut(&mut self) -> &mut T {
        self.io
            .as_mut()
            .expect("Async holds its I/O object until dropped")
    }

    /// Deregisters and returns the inner I/O object (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// The operating system's error if the deregistration fails.
    ///
    /// ```
    /// # bucle::run(async {
    /// let l = bucle::io::Async::new(std::net::TcpListener::bind("127.0.0.1:0")?)?;
    /// let std_listener = l.into_inner()?;
    /// # let _ = std_listener;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self
            .io
            .take()
            .expect("Async holds its I/O object until dropped");
        self.shared.reactor.deregister(&self.source)?;
        Ok(io)
    }

    /// Waits until the descriptor is readable (or has an error or hang-up to report).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness; the next wait sees it.
    ///
    /// ```
    /// use std::io::Write;
    /// # bucle::run(async {
    /// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
    /// let b = bucle::io::Async::new(b)?;
    /// a.write_all(b"!")?;
    /// b.readable().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the descriptor is writable (or has an error or hang-up to report).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`readable`](Async::readable).
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// bucle::io::Async::new(a)?.writable().await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Polls for readability: `Ready` while the descriptor is readable (or has an error or
    /// hang-up to report), however often it is asked; `Pending` until it becomes readable
    /// otherwise. Only the last task to poll is woken.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, b) = std::os::unix::net::UnixStream::pair()?;
    /// let b = bucle::io::Async::new(b)?;
    /// drop(a); // a hang-up counts as readable: the next read returns 0
    /// std::future::poll_fn(|cx| b.poll_readable(cx)).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready_level(&self.shared.reactor, READ, cx)
    }

    /// Polls for writability, as [`poll_readable`](Async::poll_readable).
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = bucle::io::Async::new(a)?;
    /// std::future::poll_fn(|cx| a.poll_writable(cx)).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_ready_level(&self.shared.reactor, WRITE, cx)
    }

    /// Runs the non-blocking read-side operation `op` until it returns something other than
    /// `WouldBlock`, waiting for readability in between.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is: the future only waits between attempts, so when it is dropped
    /// no attempt is half done.
    ///
    /// ```
    /// # bucle::run(async {
    /// let l = bucle::io::Async::new(std::net::TcpListener::bind("127.0.0.1:0")?)?;
    /// let addr = l.get_ref().local_addr()?;
    /// std::thread::spawn(move || std::net::TcpStream::connect(addr));
    /// let (_stream, _peer) = l.read_with(|l| l.accept()).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_op(READ, cx, &mut op)).await
    }

    /// Runs the non-blocking write-side operation `op` until it returns something other than
    /// `WouldBlock`, waiting for writability in between.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is, as [`read_with`](Async::read_with).
    ///
    /// ```
    /// # bucle::run(async {
    /// let s = bucle::io::Async::new(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    /// let addr = s.get_ref().local_addr()?;
    /// s.write_with(|s| s.send_to(b"hi", addr)).await?;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_op(WRITE, cx, &mut op)).await
    }

    /// Polls a non-blocking read-side operation: `op` first, readiness on `WouldBlock`.
    pub(crate) fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(READ, cx, &mut op)
    }

    /// Polls a non-blocking write-side operation: `op` first, readiness on `WouldBlock`.
    pub(crate) fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(WRITE, cx, &mut op)
    }

    /// Tries `op`; on `WouldBlock` waits for the next readiness event in `dir` and tries again.
    fn poll_op<R>(
        &self,
        dir: usize,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            // Read before the attempt: an event after this point makes the wait below
            // return at once, so none is missed; one before it does not cost a retry.
            let tick = self.source.tick(dir);
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
            ready!(self.source.poll_ready(&self.shared.reactor, dir, tick, cx))?;
        }
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregister before the descriptor closes (the `polling` contract); an error here
            // means the descriptor was already gone, and there is nothing left to undo.
            let _ = self.shared.reactor.deregister(&self.source);
            self.io.take();
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + Into<OwnedFd>> TryFrom<Async<T>> for OwnedFd {
    type Error = io::Error;

    fn try_from(value: Async<T>) -> io::Result<OwnedFd> {
        value.into_inner().map(Into::into)
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", &self.io)
            .field("loop", &self.shared.id)
            .finish()
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    /// Flushes; closing the descriptor itself happens on drop. Sockets in
    /// [`crate::net`] shut their write side down here instead.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
