//! Networking: TCP, UDP and Unix-domain sockets on the loop's reactor.
//!
//! Every type here registers its socket with the loop it was created on, implements
//! [`futures::io::AsyncRead`] and [`AsyncWrite`](futures::io::AsyncWrite) where it is a
//! stream (so `futures::io::BufReader`, `copy`, `lines` and codecs work), and closes its
//! descriptor on drop after removing the registration.
//!
//! Host names are resolved by [`lookup_host`], which runs the system resolver on the
//! default executor's thread pool: name resolution never blocks the loop. Literal addresses
//! (`"127.0.0.1:8080"`, a [`SocketAddr`](std::net::SocketAddr)) skip the pool.
//!
//! # Errors
//!
//! Errors are the operating system's [`io::Error`]s. Those from connecting, binding and
//! resolving carry the address as context (`connecting to 127.0.0.1:1: Connection refused
//! (os error 111)`) and keep the OS error's [`kind`](io::Error::kind) and, as their
//! [`source`](std::error::Error::source), the original error. A refused connection, an
//! address in use, a reset peer or running out of descriptors (`EMFILE`) is an error value
//! for the task that asked; the loop keeps running.
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use bucle::net::{TcpListener, TcpStream};
//!
//! # bucle::run(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! bucle::spawn(async move {
//!     let (mut conn, _) = listener.accept().await?;
//!     let mut buf = [0; 5];
//!     conn.read_exact(&mut buf).await?;
//!     conn.write_all(&buf).await?;
//!     std::io::Result::Ok(())
//! });
//! let mut stream = TcpStream::connect(addr).await?;
//! stream.write_all(b"hello").await?;
//! let mut back = [0; 5];
//! stream.read_exact(&mut back).await?;
//! assert_eq!(&back, b"hello");
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```

use std::error::Error;
use std::fmt;
use std::io;
use std::os::fd::AsFd;

mod addr;
mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use std::net::Shutdown;
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// An OS error with what was being done when it happened.
#[derive(Debug)]
struct Context {
    what: String,
    source: io::Error,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `err` with `what`, keeping its kind.
/// A non-blocking, close-on-exec TCP socket of `addr`'s family.
fn tcp_socket(addr: std::net::SocketAddr) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    Ok(rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?)
}

pub(crate) fn context(err: io::Error, what: impl fmt::Display) -> io::Error {
    io::Error::new(
        err.kind(),
        Context {
            what: what.to_string(),
            source: err,
        },
    )
}

/// Reads from a stream socket: `recv(2)` made directly (through `rustix`), without the
/// C library's wrapper, whose cancellation-point bookkeeping cost more user-space time than
/// the rest of a small read on the loop.
pub(crate) fn recv(socket: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    match rustix::net::recv(socket, buf, rustix::net::RecvFlags::empty()) {
        Ok((read, _)) => Ok(read),
        Err(errno) => Err(errno.into()),
    }
}

/// Writes to a stream socket: `send(2)` made directly, as [`recv`]; with `MSG_NOSIGNAL`, as
/// the standard library does, so that writing to a closed connection is an error
/// (`BrokenPipe`), never a `SIGPIPE`.
pub(crate) fn send(socket: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    rustix::net::send(socket, buf, rustix::net::SendFlags::NOSIGNAL).map_err(Into::into)
}

/// `AsyncRead` and `AsyncWrite` for a stream type `$t` with an `inner: Async<std type>`
/// field, on `$t` and `&$t`; closing shuts the write side down.
macro_rules! stream_io {
    ($t:ty) => {
        impl futures::io::AsyncRead for &$t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner
                    .poll_read_with(cx, |io| $crate::net::recv(io, &mut *buf))
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &self.inner).poll_read_vectored(cx, bufs)
            }
        }

        impl futures::io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
            }
        }

        impl futures::io::AsyncWrite for &$t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner
                    .poll_write_with(cx, |io| $crate::net::send(io, buf))
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &self.inner).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space buffer: every write went to the kernel.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(
                    match self.inner.get_ref().shutdown(std::net::Shutdown::Write) {
                        // The peer already went away: the write side is as closed as it gets.
                        Err(err) if err.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                        other => other,
                    },
                )
            }
        }

        impl futures::io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_flush(cx)
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_close(cx)
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }

        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.as_raw_fd()
            }
        }
    };
}
pub(crate) use stream_io;
