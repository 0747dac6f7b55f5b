//! UDP round trips on loopback.

use std::io;
use std::rc::Rc;

use bucle::net::UdpSocket;

#[test]
fn send_to_recv_from_round_trip() {
    bucle::run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = bucle::spawn(async move {
            let mut buf = [0; 1500];
            for _ in 0..100 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let mut buf = [0; 1500];
        for i in 0..100u32 {
            let msg = i.to_be_bytes();
            client.send_to(&msg, server_addr).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &msg);
        }
        echo.await.unwrap();
    });
}

#[test]
fn connected_send_recv_and_peek() {
    bucle::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"datagram").await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((n, from), (8, a.local_addr().unwrap()));
        assert_eq!(b.recv(&mut buf).await.unwrap(), 8);
        assert_eq!(&buf[..8], b"datagram");
    });
}

#[test]
fn a_receiver_task_and_a_sender_task_share_one_socket() {
    bucle::run(async {
        let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = socket.local_addr().unwrap();
        let receiver = {
            let socket = socket.clone();
            bucle::spawn(async move {
                let mut total = 0;
                let mut buf = [0; 64];
                while total < 50 {
                    socket.recv_from(&mut buf).await.unwrap();
                    total += 1;
                }
                total
            })
        };
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for _ in 0..50 {
            sender.send_to(b"x", addr).await.unwrap();
            bucle::yield_now().await;
        }
        assert_eq!(receiver.await.unwrap(), 50);
    });
}

#[test]
fn sending_to_a_closed_port_reports_refused_on_a_connected_socket() {
    bucle::run(async {
        let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let gone_addr = gone.local_addr().unwrap();
        drop(gone);
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(gone_addr).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        // Linux reports the ICMP port-unreachable on the next receive.
        let err = socket.recv(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn bind_in_use_is_an_error_with_the_address() {
    bucle::run(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let err = UdpSocket::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()));
    });
}
