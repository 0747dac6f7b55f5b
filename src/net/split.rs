//! Read and write halves of a stream socket.
//!
//! Reading and writing use different readiness directions, so the two halves never contend:
//! a reader task and a writer task can both wait on one connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

/// The read half of a stream borrowed by `halves` ([`TcpStream::halves`](super::TcpStream::halves),
/// [`UnixStream::halves`](super::UnixStream::halves)).
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # bucle::run(async {
/// let (a, mut b) = bucle::net::UnixStream::pair()?;
/// let (mut read, mut write) = a.halves();
/// write.write_all(b"to b").await?;
/// let mut got = [0; 4];
/// b.read_exact(&mut got).await?;
/// b.write_all(b"to a").await?;
/// drop(b);
/// // The peer is gone: its bytes, then end-of-file.
/// let mut rest = Vec::new();
/// read.read_to_end(&mut rest).await?;
/// assert_eq!(rest, b"to a");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half of a stream borrowed by `halves`. See [`ReadHalf`].
#[derive(Debug)]
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The owned read half from `split`; it may move to another task.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # bucle::run(async {
/// let (a, mut b) = bucle::net::UnixStream::pair()?;
/// let (mut read, _write) = a.split();
/// let reader = bucle::spawn(async move {
///     let mut buf = [0; 2];
///     read.read_exact(&mut buf).await.map(|_| buf)
/// });
/// b.write_all(b"hi").await?;
/// assert_eq!(&reader.await.unwrap()?, b"hi");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf<S>(pub(crate) Arc<S>);

/// The owned write half from `split`. Closing it
/// ([`AsyncWriteExt::close`](futures::io::AsyncWriteExt::close)) shuts down the write side
/// of the connection; the peer then reads end-of-file. See [`OwnedReadHalf`].
#[derive(Debug)]
pub struct OwnedWriteHalf<S>(pub(crate) Arc<S>);

impl<S> OwnedReadHalf<S> {
    /// Puts the halves back together.
    ///
    /// # Errors
    ///
    /// Gives both halves back if they come from different streams.
    ///
    /// ```
    /// # bucle::run(async {
    /// let (a, _b) = bucle::net::UnixStream::pair()?;
    /// let (read, write) = a.split();
    /// let a = read.reunite(write).unwrap();
    /// # let _ = a;
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, (Self, OwnedWriteHalf<S>)> {
        if !Arc::ptr_eq(&self.0, &other.0) {
            return Err((self, other));
        }
        drop(other);
        Ok(Arc::into_inner(self.0).expect("both halves of the stream were given"))
    }
}

macro_rules! read_impl {
    ($half:ty, $($lt:lifetime)?) => {
        impl<$($lt,)? S> AsyncRead for $half
        where
            for<'s> &'s S: AsyncRead,
        {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut &*self.0).poll_read(cx, buf)
            }
        }
    };
}

macro_rules! write_impl {
    ($half:ty, $($lt:lifetime)?) => {
        impl<$($lt,)? S> AsyncWrite for $half
        where
            for<'s> &'s S: AsyncWrite,
        {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut &*self.0).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut &*self.0).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut &*self.0).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut &*self.0).poll_close(cx)
            }
        }
    };
}

read_impl!(ReadHalf<'a, S>, 'a);
read_impl!(OwnedReadHalf<S>,);
write_impl!(WriteHalf<'a, S>, 'a);
write_impl!(OwnedWriteHalf<S>,);
