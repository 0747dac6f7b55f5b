//! A TCP echo server: one task per connection, all on one thread.
//!
//! `cargo run --example echo_server` listens on 127.0.0.1:7878 (or the address given as the
//! first argument); try it with `nc 127.0.0.1 7878`. With `--demo` it also runs a few
//! clients against itself and exits.

use bucle::net::{TcpListener, TcpStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

#[bucle::main]
async fn main() -> std::io::Result<()> {
    let demo = std::env::args().any(|a| a == "--demo");
    let addr = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| {
            if demo {
                "127.0.0.1:0".into()
            } else {
                "127.0.0.1:7878".into()
            }
        });
    let listener = TcpListener::bind(addr.as_str()).await?;
    let local = listener.local_addr()?;
    println!("echo server on {local}");

    bucle::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    bucle::spawn(async move {
                        // The halves borrow the stream: `copy` reads from one side while
                        // writing to the other, until the client closes its side.
                        let (reader, mut writer) = stream.halves();
                        match futures::io::copy(reader, &mut writer).await {
                            Ok(n) => println!("{peer}: echoed {n} bytes"),
                            Err(err) => println!("{peer}: {err}"),
                        }
                    });
                }
                // EMFILE and friends: report and keep accepting.
                Err(err) => eprintln!("accept failed: {err}"),
            }
        }
    });

    if !demo {
        return std::future::pending().await;
    }
    let clients: Vec<_> = (0..3)
        .map(|i| {
            bucle::spawn(async move {
                let mut stream = TcpStream::connect(local).await?;
                let msg = format!("hello from client {i}");
                stream.write_all(msg.as_bytes()).await?;
                stream.close().await?; // half-close: the server sees end-of-file
                let mut back = String::new();
                stream.read_to_string(&mut back).await?;
                assert_eq!(back, msg);
                std::io::Result::Ok(back)
            })
        })
        .collect();
    for client in clients {
        println!("client got back: {:?}", client.await.unwrap()?);
    }
    Ok(())
}
