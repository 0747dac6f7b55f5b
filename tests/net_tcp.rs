//! TCP on the loop: loopback round trips, half-close, errors as values, std clients on
//! other threads, and 1,000 concurrent echo connections with every byte checked.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use bucle::net::{Shutdown, TcpListener, TcpStream};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures::StreamExt;

async fn echo_server() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    bucle::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            bucle::spawn(async move {
                let (reader, mut writer) = stream.halves();
                futures::io::copy(reader, &mut writer).await?;
                writer.close().await
            });
        }
    });
    Ok(addr)
}

/// A client stream and the server stream accepted for it, on loopback.
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn connect_accept_addresses_and_nodelay() {
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
    });
}

#[test]
fn name_resolution_runs_on_the_loops_default_executor() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let jobs = Arc::new(AtomicUsize::new(0));
    let counted = jobs.clone();
    let rt = bucle::Runtime::builder()
        .default_executor(move |job: bucle::offload::Job| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || job.run());
        })
        .build()
        .unwrap();
    rt.block_on(async {
        let addrs: Vec<_> = bucle::net::lookup_host("localhost:80")
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        // A literal address needs no lookup and no thread.
        let literal: Vec<_> = bucle::net::lookup_host("127.0.0.1:80")
            .await
            .unwrap()
            .collect();
        assert_eq!(literal, ["127.0.0.1:80".parse().unwrap()]);
    });
    assert_eq!(jobs.load(Ordering::SeqCst), 1);
}

#[test]
fn connect_by_name_resolves_off_the_loop() {
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("localhost", port)).await;
        // "localhost" may resolve to ::1 first; one of its addresses is ours.
        let client = client.unwrap();
        assert_eq!(client.peer_addr().unwrap().port(), port);
    });
}

#[test]
fn echo_with_bufreader_lines() {
    bucle::run(async {
        let addr = echo_server().await.unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (reader, mut writer) = stream.halves();
        writer.write_all(b"one\ntwo\n").await.unwrap();
        let mut lines = BufReader::new(reader).lines();
        assert_eq!(lines.next().await.unwrap().unwrap(), "one");
        assert_eq!(lines.next().await.unwrap().unwrap(), "two");
    });
}

#[test]
fn half_close_lets_the_peer_finish_reading_and_still_answer() {
    bucle::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"request").await.unwrap();
        client.close().await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        server.write_all(b"reply").await.unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply");
    });
}

#[test]
fn a_closed_peer_is_eof_then_an_error_value() {
    // With SIGPIPE at its default action (the Rust runtime ignores it; a C host need not),
    // a write that did not pass MSG_NOSIGNAL would kill this process instead of failing.
    // SAFETY: `signal` with `SIG_DFL` installs no handler code; every test in this binary
    // writes to sockets only, through calls that must not raise the signal.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    bucle::run(async {
        let (mut client, server) = connected_pair().await;
        drop(server);
        assert_eq!(client.read(&mut [0; 8]).await.unwrap(), 0);
        // Writing to a closed peer eventually fails with a reset or broken pipe.
        let mut failed = None;
        for _ in 0..100 {
            if let Err(err) = client.write_all(&[0; 1024]).await {
                failed = Some(err);
                break;
            }
            bucle::sleep(std::time::Duration::from_millis(1)).await;
        }
        let err = failed.expect("writes to a closed peer fail");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{err:?}"
        );
    });
}

#[test]
fn refused_connection_and_address_in_use_are_errors_with_context() {
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        drop(listener);

        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string().starts_with("connecting to 127.0.0.1:"),
            "{err}"
        );
        let source = std::error::Error::source(&err).expect("the OS error is the source");
        assert!(source.to_string().contains("refused"));
        // The loop keeps running.
        assert_eq!(bucle::spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn unresolvable_name_is_an_error_value() {
    bucle::run(async {
        let err = TcpStream::connect("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
    });
}

#[test]
fn server_driven_by_std_clients_on_other_threads() {
    bucle::run(async {
        let addr = echo_server().await.unwrap();
        let clients: Vec<_> = (0..8u8)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    let msg: Vec<u8> = (0..10_000u32).map(|j| (j as u8) ^ i).collect();
                    stream.write_all(&msg).unwrap();
                    stream.shutdown(Shutdown::Write).unwrap();
                    let mut back = Vec::new();
                    stream.read_to_end(&mut back).unwrap();
                    back == msg
                })
            })
            .collect();
        // The threads block; the loop must keep serving while they do.
        let ok = blocking::unblock(move || clients.into_iter().all(|c| c.join().unwrap())).await;
        assert!(ok);
    });
}

#[test]
fn a_thousand_concurrent_echo_connections_every_byte_verified() {
    bucle::run(async {
        let addr = echo_server().await.unwrap();
        let clients: Vec<_> = (0..1000u32)
            .map(|i| {
                bucle::spawn(async move {
                    let stream = TcpStream::connect(addr).await?;
                    let msg: Vec<u8> = (0..4096u32)
                        .map(|j| (j.wrapping_mul(31) ^ i) as u8)
                        .collect();
                    let (mut reader, mut writer) = stream.halves();
                    let send = async {
                        writer.write_all(&msg).await?;
                        writer.close().await
                    };
                    let mut back = Vec::new();
                    let recv = reader.read_to_end(&mut back);
                    let (sent, received) = futures::join!(send, recv);
                    sent?;
                    received?;
                    drop(stream);
                    io::Result::Ok(back == msg)
                })
            })
            .collect();
        let mut verified = 0;
        for client in clients {
            assert!(client.await.unwrap().unwrap());
            verified += 1;
        }
        assert_eq!(verified, 1000);
    });
}

#[test]
fn incoming_stream_and_owned_halves_across_tasks() {
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = bucle::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut read, mut write) = stream.split();
            let writer = bucle::spawn(async move {
                write.write_all(b"owned halves").await.unwrap();
                write.close().await.unwrap();
                write
            });
            let mut got = Vec::new();
            read.read_to_end(&mut got).await.unwrap();
            let write = writer.await.unwrap();
            let _stream: TcpStream = read.reunite(write).unwrap();
            got
        });
        let mut incoming = listener.incoming();
        let mut server = incoming.next().await.unwrap().unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        server.write_all(&got).await.unwrap();
        drop(server);
        assert_eq!(client.await.unwrap(), b"owned halves");
    });
}

#[test]
fn stream_is_send_and_usable_after_moving_to_a_send_task() {
    fn assert_send<T: Send>(_: &T) {}
    bucle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_send(&listener);
        let handle = bucle::Handle::current();
        let task = handle
            .spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(b"x").await.unwrap();
            })
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut b = [0; 1];
        server.read_exact(&mut b).await.unwrap();
        task.await.unwrap();
    });
}

#[test]
#[should_panic(expected = "must be called from inside a bucle event loop")]
fn creating_a_socket_outside_a_loop_panics_with_advice() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _ = TcpListener::from_std(std_listener);
}

/// Reads that came back short (the receive buffer emptied) are followed by data written
/// right after and much later: each arrives, none waits for an event already consumed.
#[test]
fn reads_after_a_short_read_see_later_data() {
    bucle::run(async {
        let (mut client, mut server) = connected_pair().await;
        let mut buf = [0; 8];
        for round in 0..100u32 {
            client.write_all(b"ab").await.unwrap();
            assert_eq!(server.read(&mut buf).await.unwrap(), 2);
            client.write_all(b"cd").await.unwrap();
            assert_eq!(server.read(&mut buf).await.unwrap(), 2);
            assert_eq!(&buf[..2], b"cd");
            if round % 10 == 0 {
                let late = bucle::spawn({
                    let payload = round.to_le_bytes();
                    async move {
                        bucle::sleep(std::time::Duration::from_millis(2)).await;
                        client.write_all(&payload).await.unwrap();
                        client
                    }
                });
                assert_eq!(server.read(&mut buf).await.unwrap(), 4);
                assert_eq!(buf[..4], round.to_le_bytes());
                client = late.await.unwrap();
            }
        }
        drop(client);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}
