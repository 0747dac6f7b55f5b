//! hyper 1.x on bucle: an HTTP/1 server and a client on the same loop.
//!
//! `cargo run --example http --features hyper` serves on 127.0.0.1:8080 (try
//! `curl localhost:8080/hello`); with `--demo` it sends itself a few requests and exits.

use std::convert::Infallible;

use bucle::hyper::{BucleIo, BucleTimer};
use bucle::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = format!("hello from bucle, you asked for {}\n", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

#[bucle::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = std::env::args().any(|a| a == "--demo");
    let listener = TcpListener::bind(if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8080"
    })
    .await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    bucle::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            stream.set_nodelay(true).ok();
            bucle::spawn(async move {
                let served = hyper::server::conn::http1::Builder::new()
                    .timer(BucleTimer::new())
                    .serve_connection(BucleIo::new(stream), hyper::service::service_fn(hello))
                    .await;
                if let Err(err) = served {
                    eprintln!("connection error: {err}");
                }
            });
        }
    });
    if !demo {
        std::future::pending::<()>().await;
    }

    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(BucleIo::new(stream)).await?;
    bucle::spawn(conn);
    for path in ["/", "/hello", "/bucle"] {
        let req = Request::get(path)
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())?;
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        print!("GET {path} -> {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}
