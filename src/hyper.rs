//! Adapters that run [hyper] 1.x on bucle (the `hyper` feature).
//!
//! hyper brings its own I/O, executor and timer traits (`hyper::rt`). [`BucleIo`] adapts any
//! `futures::io` stream (a [`TcpStream`](crate::net::TcpStream), a
//! [`UnixStream`](crate::net::UnixStream)) to hyper's `Read` and `Write`; [`BucleExecutor`]
//! spawns hyper's background futures as bucle tasks; [`BucleTimer`] gives hyper bucle's
//! timers (needed for timeouts such as the HTTP/1 server's header-read timeout).
//!
//! ```
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Bytes;
//! use bucle::hyper::{BucleIo, BucleTimer};
//!
//! # bucle::run(async {
//! let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! bucle::spawn(async move {
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let service = hyper::service::service_fn(|_req| async {
//!         Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from("hi"))))
//!     });
//!     hyper::server::conn::http1::Builder::new()
//!         .timer(BucleTimer::new())
//!         .serve_connection(BucleIo::new(stream), service)
//!         .await
//!         .unwrap();
//! });
//!
//! let stream = bucle::net::TcpStream::connect(addr).await?;
//! let (mut sender, conn) = hyper::client::conn::http1::handshake(BucleIo::new(stream)).await.unwrap();
//! bucle::spawn(conn);
//! let req = hyper::Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
//! let resp = sender.send_request(req).await.unwrap();
//! let body = resp.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(body, "hi");
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, AsyncWrite};
use hyper::rt::{ReadBufCursor, Sleep};

/// Bytes read per call into hyper's buffer: read into a stack buffer and copied, which keeps
/// this adapter free of `unsafe` (hyper's buffer is uninitialised memory).
const CHUNK: usize = 16 * 1024;

/// A `futures::io` stream usable as hyper's `rt::Read` + `rt::Write`.
///
/// ```
/// # bucle::run(async {
/// let (a, _b) = bucle::net::UnixStream::pair()?;
/// let io = bucle::hyper::BucleIo::new(a);
/// let _a: bucle::net::UnixStream = io.into_inner();
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct BucleIo<T> {
    inner: T,
}

impl<T> BucleIo<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let io = bucle::hyper::BucleIo::new(a);
    /// # drop(io);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn new(inner: T) -> BucleIo<T> {
        BucleIo { inner }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let io = bucle::hyper::BucleIo::new(a);
    /// assert!(io.get_ref().peer_addr().is_ok());
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Unwraps the stream.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let a = bucle::hyper::BucleIo::new(a).into_inner();
    /// # drop(a);
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for BucleIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut chunk = [0u8; CHUNK];
        let want = buf.remaining().min(CHUNK);
        match Pin::new(&mut self.inner).poll_read(cx, &mut chunk[..want]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&chunk[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for BucleIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// Spawns hyper's background futures (HTTP/2 streams, connection tasks) on the current
/// loop with [`crate::spawn`]; they need not be `Send`.
///
/// ```
/// use hyper::rt::Executor;
/// # bucle::run(async {
/// bucle::hyper::BucleExecutor::new().execute(async { println!("on the loop") });
/// bucle::yield_now().await;
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BucleExecutor(());

impl BucleExecutor {
    /// The executor.
    ///
    /// ```
    /// let exec = bucle::hyper::BucleExecutor::new();
    /// # let _ = exec;
    /// ```
    pub fn new() -> BucleExecutor {
        BucleExecutor(())
    }
}

impl<F> hyper::rt::Executor<F> for BucleExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        drop(crate::spawn(fut));
    }
}

/// bucle's timers for hyper (`Builder::timer`). The sleeps must be polled on a bucle loop.
///
/// ```
/// let mut builder = hyper::server::conn::http1::Builder::new();
/// builder.timer(bucle::hyper::BucleTimer::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BucleTimer(());

impl BucleTimer {
    /// The timer.
    ///
    /// ```
    /// let timer = bucle::hyper::BucleTimer::new();
    /// # let _ = timer;
    /// ```
    pub fn new() -> BucleTimer {
        BucleTimer(())
    }
}

struct HyperSleep(crate::time::Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Sleep for HyperSleep {}

impl hyper::rt::Timer for BucleTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(HyperSleep(crate::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}
