//! Nothing leaks: every descriptor and registration is released on drop, on errors, and
//! under `EMFILE`, and the loop keeps running. One test per file's process would interfere
//! with the descriptor count, so the checks run in sequence inside one test.

use std::io;

use bucle::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

async fn churn() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = bucle::spawn(async move {
        for _ in 0..50 {
            let (mut s, _) = listener.accept().await.unwrap();
            bucle::spawn(async move {
                let mut buf = [0; 16];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let _ = s.write_all(&buf[..n]).await;
            });
        }
    });
    for _ in 0..50 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"hi").await.unwrap();
        let mut b = [0; 2];
        c.read_exact(&mut b).await.unwrap();
    }
    server.await.unwrap();
    // Failed operations release their sockets too.
    for _ in 0..20 {
        assert!(TcpStream::connect(addr).await.is_err());
        assert!(TcpListener::bind("192.0.2.1:0").await.is_err());
    }
    let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    u.send_to(b"x", u.local_addr().unwrap()).await.unwrap();
    drop(u);
    let (a, b) = UnixStream::pair().unwrap();
    drop((a, b));
    // A task cancelled while it waits on a socket drops it.
    let (a, _b) = UnixStream::pair().unwrap();
    let waiting = bucle::spawn(async move {
        let mut a = a;
        a.read(&mut [0; 1]).await
    });
    bucle::yield_now().await;
    waiting.cancel();
    let _ = waiting.await;
    // Signal listeners close both ends of their socket pair.
    for _ in 0..10 {
        drop(bucle::signal::Signal::new(bucle::signal::SIGWINCH).unwrap());
    }
    // Children and their pipes.
    let out = bucle::process::Command::new("echo")
        .arg("x")
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"x\n");
}

#[test]
fn no_descriptor_leaks_and_emfile_is_an_error_value() {
    // Warm up lazily opened descriptors (the resolver, the executor's threads).
    bucle::run(churn());
    let before = open_fds();
    for _ in 0..3 {
        bucle::run(churn());
    }
    assert_eq!(open_fds(), before, "descriptors leaked");

    // EMFILE: lower the soft limit just above what is open, fill it, and check that accept
    // and connect report errors while the loop keeps running.
    let limit = getrlimit(Resource::Nofile);
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cap = open_fds() as u64 + 16;
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(cap),
                maximum: limit.maximum,
            },
        )
        .unwrap();
        let mut held = Vec::new();
        let mut saw_emfile = false;
        for _ in 0..64 {
            match TcpStream::connect(addr).await {
                Ok(s) => held.push(s),
                Err(err) => {
                    assert!(
                        err.raw_os_error() == Some(24) || err.to_string().contains("os error 24"),
                        "{err}"
                    );
                    saw_emfile = true;
                    break;
                }
            }
        }
        assert!(saw_emfile, "the lowered limit was never reached");
        // Accepting now fails too, as a value: the pending connection stays queued.
        let err = listener.accept().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(24), "{err}");
        assert_eq!(bucle::spawn(async { 1 }).await.unwrap(), 1);
        // Free descriptors; the queued connection is accepted now.
        held.truncate(held.len().saturating_sub(4));
        let (_s, _) = listener.accept().await.unwrap();
        setrlimit(Resource::Nofile, limit).unwrap();
        drop(held);
    });
    assert_eq!(open_fds(), before, "descriptors leaked after EMFILE");
    let _ = io::stdout();
}
