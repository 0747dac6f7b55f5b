//! Unix-domain streams, listeners and datagrams.

use std::io;
use std::path::PathBuf;

use bucle::net::{UnixDatagram, UnixListener, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("bucle-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn listener_accepts_and_echoes() {
    let path = temp_path("echo.sock");
    bucle::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = bucle::spawn(async move {
            for _ in 0..10 {
                let (stream, _) = listener.accept().await.unwrap();
                bucle::spawn(async move {
                    let (r, mut w) = stream.halves();
                    futures::io::copy(r, &mut w).await.unwrap();
                    w.close().await.unwrap();
                });
            }
        });
        let mut clients = Vec::new();
        for i in 0..10u8 {
            let path = path.clone();
            clients.push(bucle::spawn(async move {
                let mut s = UnixStream::connect(&path).await.unwrap();
                let msg = vec![i; 100_000];
                let (mut r, mut w) = s.halves();
                let mut back = Vec::new();
                let (a, b) = futures::join!(
                    async {
                        w.write_all(&msg).await?;
                        w.close().await
                    },
                    r.read_to_end(&mut back)
                );
                a.unwrap();
                b.unwrap();
                s.close().await.unwrap();
                back == msg
            }));
        }
        for c in clients {
            assert!(c.await.unwrap());
        }
        server.await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn connect_errors_name_the_path() {
    bucle::run(async {
        let err = UnixStream::connect("/nonexistent/bucle.sock")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/bucle.sock"), "{err}");

        let path = temp_path("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn pair_half_close() {
    bucle::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"question").await.unwrap();
        a.close().await.unwrap();
        let mut q = Vec::new();
        b.read_to_end(&mut q).await.unwrap();
        assert_eq!(q, b"question");
        b.write_all(b"answer").await.unwrap();
        drop(b);
        let mut ans = Vec::new();
        a.read_to_end(&mut ans).await.unwrap();
        assert_eq!(ans, b"answer");
    });
}

#[test]
fn datagrams_by_path_and_pair() {
    let path = temp_path("dgram.sock");
    bucle::run(async {
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        for i in 0..20u8 {
            client.send_to(&[i; 32], &path).await.unwrap();
            let mut buf = [0; 64];
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[i; 32]);
        }
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"p").await.unwrap();
        assert_eq!(b.recv(&mut [0; 4]).await.unwrap(), 1);
    });
    std::fs::remove_file(&path).unwrap();
}
