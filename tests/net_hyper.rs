//! hyper 1.x on bucle: an HTTP/1 server answering hyper's client, a raw std client on another
//! thread, and curl (when installed); keep-alive and request bodies included.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;

use bucle::hyper::{BucleExecutor, BucleIo, BucleTimer};
use bucle::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(format!(
        "path={path} body={}",
        String::from_utf8_lossy(&body)
    )))))
}

async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    bucle::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            bucle::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(BucleTimer::new())
                    .serve_connection(BucleIo::new(stream), hyper::service::service_fn(handle))
                    .await;
            });
        }
    });
    addr
}

#[test]
fn hyper_client_to_hyper_server_with_keep_alive() {
    bucle::run(async {
        let addr = server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(BucleIo::new(stream))
            .await
            .unwrap();
        hyper::rt::Executor::execute(&BucleExecutor::new(), conn);
        for i in 0..50 {
            let req = Request::post(format!("/item/{i}"))
                .header("host", "localhost")
                .body(Full::new(Bytes::from(format!("n{i}"))))
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("path=/item/{i} body=n{i}"));
        }
    });
}

#[test]
fn raw_http_client_on_another_thread() {
    bucle::run(async {
        let addr = server().await;
        let response = blocking::unblock(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        })
        .await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with("path=/raw body="), "{response}");
    });
}

#[test]
fn curl_talks_to_the_server() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl is not installed; skipping");
        return;
    }
    bucle::run(async {
        let addr = server().await;
        let out = bucle::process::Command::new("curl")
            .args(["-sS", "--data", "from-curl"])
            .arg(format!("http://{addr}/curl"))
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"path=/curl body=from-curl");
    });
}
