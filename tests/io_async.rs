//! `bucle::io::Async`: readiness for any descriptor, deregistration, threads.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bucle::io::Async;
use futures::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn readable_waits_for_data_written_from_another_thread() {
    bucle::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let b = Async::new(b).unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            a.write_all(b"late").unwrap();
            a
        });
        let mut buf = [0; 4];
        let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], &b"late"[..n]);
        drop(writer.join().unwrap());
    });
}

#[test]
fn futures_io_adapters_work_on_async_streams() {
    bucle::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let expected = data.clone();
        let writer = bucle::spawn(async move {
            a.write_all(&data).await.unwrap();
            a.flush().await.unwrap();
        });
        let mut got = Vec::new();
        let mut reader = futures::io::BufReader::new(&b);
        let mut chunk = [0; 4096];
        while got.len() < expected.len() {
            let n = reader.read(&mut chunk).await.unwrap();
            got.extend_from_slice(&chunk[..n]);
        }
        writer.await.unwrap();
        assert_eq!(got, expected);
    });
}

#[test]
fn dropping_a_waiting_task_loses_no_readiness() {
    bucle::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let b = std::rc::Rc::new(Async::new(b).unwrap());
        let waiter = {
            let b = b.clone();
            bucle::spawn(async move { b.readable().await })
        };
        bucle::yield_now().await;
        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
        a.write_all(b"!").unwrap();
        b.readable().await.unwrap();
        let mut buf = [0; 1];
        assert_eq!(b.read_with(|mut s| s.read(&mut buf)).await.unwrap(), 1);
    });
}

#[test]
fn into_inner_deregisters_and_hands_back_the_descriptor() {
    bucle::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::new(a).unwrap();
        let mut a = a.into_inner().unwrap();
        a.set_nonblocking(false).unwrap();
        a.write_all(b"x").unwrap();
        let mut one = [0; 1];
        b.read_exact(&mut one).unwrap();
    });
}

#[test]
fn created_with_a_handle_off_the_loop_and_used_on_another_thread() {
    let rt = bucle::Runtime::new().unwrap();
    let handle = rt.handle();
    let (a, b) = UnixStream::pair().unwrap();
    let a = Async::with_handle(a, &handle).unwrap();
    // The Async moves into a Send task spawned from another thread.
    let task = std::thread::spawn(move || {
        handle
            .spawn(async move {
                let mut a = a;
                a.write_all(b"from a thread").await.unwrap();
            })
            .unwrap()
    })
    .join()
    .unwrap();
    rt.block_on(async {
        task.await.unwrap();
        let b = Async::new(b).unwrap();
        let mut buf = [0; 13];
        (&b).read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from a thread");
    });
}

#[test]
fn registering_a_regular_file_is_an_error_not_a_panic() {
    bucle::run(async {
        let file = std::fs::File::open("Cargo.toml").unwrap();
        let err = Async::new(file).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(1),
            "epoll refuses regular files: {err}"
        );
        let _ = io::Error::last_os_error();
    });
}

#[test]
fn async_is_send_and_sync_when_the_inner_type_is() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Async<UnixStream>>();
    assert_send_sync::<bucle::net::TcpStream>();
    assert_send_sync::<bucle::net::UdpSocket>();
}

/// A `block_on` future that keeps waking itself must not keep the reactor from being polled:
/// its polls count toward the same I/O budget as task polls.
#[test]
fn a_busy_main_future_does_not_starve_io() {
    use std::cell::Cell;
    use std::rc::Rc;

    bucle::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let b = Async::new(b).unwrap();
        let got = Rc::new(Cell::new(false));
        let flag = got.clone();
        bucle::spawn(async move {
            b.readable().await.unwrap();
            flag.set(true);
        });
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            a.write_all(b"x").unwrap();
            a
        });
        let mut spins = 0u64;
        while !got.get() {
            bucle::task::yield_now().await;
            spins += 1;
        }
        assert!(spins > 0);
        drop(writer.join().unwrap());
    });
}

/// `readable()`/`writable()` answer for the descriptor's state now, even when the event that
/// announced it was consumed by an earlier operation.
#[test]
fn readiness_waits_report_the_current_state() {
    bucle::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let b = Async::new(b).unwrap();
        a.write_all(b"12").unwrap();
        let mut one = [0; 1];
        // The read consumes the edge; one byte is still there.
        b.read_with(|mut s| s.read(&mut one)).await.unwrap();
        b.readable().await.unwrap();
        b.readable().await.unwrap();
        b.writable().await.unwrap();
        b.writable().await.unwrap();
    });
}

#[test]
fn a_connected_stream_is_writable() {
    bucle::run(async {
        let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        for _ in 0..50 {
            let stream = bucle::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            stream.as_async().writable().await.unwrap();
            let _ = listener.accept().await.unwrap();
        }
    });
}
