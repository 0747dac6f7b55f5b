//! Address resolution off the loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::context;

/// Addresses accepted by `connect`, `bind` and [`lookup_host`]: socket addresses, `(ip, port)`
/// pairs, and `"host:port"` or `("host", port)` names, which are resolved on the executor.
///
/// This trait is sealed: bucle's own implementations decide which values need a lookup.
///
/// ```
/// # bucle::run(async {
/// let a = bucle::net::lookup_host("127.0.0.1:80").await?.next();
/// let b = bucle::net::lookup_host(([127, 0, 0, 1], 80)).await?.next();
/// assert_eq!(a, b);
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// Addresses known now, or a name to resolve.
    pub enum Addrs {
        Ready(Vec<SocketAddr>),
        Lookup(String),
    }

    pub trait Sealed {
        fn into_addrs(self) -> Addrs;
    }
}

use sealed::{Addrs, Sealed};

macro_rules! ready_addr {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl Sealed for $t {
            fn into_addrs(self) -> Addrs {
                Addrs::Ready(vec![SocketAddr::from(self)])
            }
        }
    )*};
}

ready_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u8; 16], u16)
);

impl ToSocketAddrs for &SocketAddr {}
impl Sealed for &SocketAddr {
    fn into_addrs(self) -> Addrs {
        Addrs::Ready(vec![*self])
    }
}

impl ToSocketAddrs for &[SocketAddr] {}
impl Sealed for &[SocketAddr] {
    fn into_addrs(self) -> Addrs {
        Addrs::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl Sealed for Vec<SocketAddr> {
    fn into_addrs(self) -> Addrs {
        Addrs::Ready(self)
    }
}

impl ToSocketAddrs for &str {}
impl Sealed for &str {
    fn into_addrs(self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::Ready(vec![addr]),
            Err(_) => Addrs::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn into_addrs(self) -> Addrs {
        self.as_str().into_addrs()
    }
}

impl ToSocketAddrs for &String {}
impl Sealed for &String {
    fn into_addrs(self) -> Addrs {
        self.as_str().into_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn into_addrs(self) -> Addrs {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Addrs::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Addrs::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn into_addrs(self) -> Addrs {
        (self.0.as_str(), self.1).into_addrs()
    }
}

/// Resolves `addrs` to socket addresses.
///
/// A name (`"localhost:80"`) is resolved by the system resolver (`getaddrinfo`) on the
/// default executor's thread pool (the `blocking` crate's pool), so the loop keeps running
/// while it waits; a literal address is returned at once.
///
/// # Errors
///
/// The resolver's error, with the name as context; an error of kind `InvalidInput` if the
/// name resolves to no address.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future abandons the lookup (the pool thread finishes it and
/// drops the answer).
///
/// ```
/// # bucle::run(async {
/// let addrs: Vec<_> = bucle::net::lookup_host("localhost:8080").await?.collect();
/// assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn lookup_host(
    addrs: impl ToSocketAddrs,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(addrs).await.map(Vec::into_iter)
}

pub(crate) async fn resolve(addrs: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addrs.into_addrs() {
        Addrs::Ready(addrs) => Ok(addrs),
        Addrs::Lookup(name) => {
            // The system resolver blocks: it runs on the loop's default executor, so a loop
            // configured with its own pool resolves there, and a paused test clock does not
            // jump while a lookup is in flight.
            let (name, result) = crate::run_in_executor(move || {
                let result = std::net::ToSocketAddrs::to_socket_addrs(&name)
                    .map(|addrs| addrs.collect::<Vec<_>>());
                (name, result)
            })
            .await;
            match result {
                Ok(addrs) if addrs.is_empty() => Err(context(
                    io::Error::new(io::ErrorKind::InvalidInput, "no addresses found"),
                    format_args!("resolving {name:?}"),
                )),
                Ok(addrs) => Ok(addrs),
                Err(err) => Err(context(err, format_args!("resolving {name:?}"))),
            }
        }
    }
}

/// Tries `op` on each address in turn; returns the first success or the last error.
pub(crate) async fn each_addr<T, F, Fut>(
    addrs: impl ToSocketAddrs,
    verb: &str,
    mut op: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let addrs = resolve(addrs).await?;
    let mut last = None;
    for addr in addrs {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last = Some(context(err, format_args!("{verb} {addr}"))),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "no socket addresses to use")
    }))
}
