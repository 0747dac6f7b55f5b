//! Chapter 6: networking, subprocesses and signals on the loop.

use std::time::Instant;

use bucle::net::{TcpListener, TcpStream, UdpSocket};
use bucle::process::Command;
use futures::io::{AsyncReadExt, AsyncWriteExt};

pub fn run() {
    bucle::run(async {
        // An echo server and 100 clients, all on this one thread.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        bucle::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                bucle::spawn(async move {
                    let (reader, mut writer) = stream.halves();
                    let _ = futures::io::copy(reader, &mut writer).await;
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..100u32)
            .map(|i| {
                bucle::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let mut buf = [0u8; 4];
                    for _ in 0..100 {
                        stream.write_all(&i.to_be_bytes()).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(u32::from_be_bytes(buf), i);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        println!(
            "100 clients x 100 echo round trips over TCP took {} ms on one thread",
            start.elapsed().as_millis()
        );

        // Errors are values: a refused connection does not stop the loop.
        let err = TcpStream::connect("127.0.0.1:1").await.unwrap_err();
        println!("connecting to a closed port: {err}");

        // UDP: one datagram there and back.
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        println!(
            "udp: {:?} from {from}",
            std::str::from_utf8(&buf[..n]).unwrap()
        );

        // A subprocess, awaited without blocking the loop.
        let out = Command::new("sh")
            .args(["-c", "echo hello from a child process"])
            .output()
            .await
            .unwrap();
        print!("subprocess: {}", String::from_utf8_lossy(&out.stdout));
    });
}
