//! A broadcast chat server: every line a client sends goes to every other client.
//!
//! `cargo run --example chat` listens on 127.0.0.1:7879; connect with several
//! `nc 127.0.0.1 7879`. With `--demo` it runs three scripted clients and exits.
//!
//! The clients' outboxes are `futures::channel::mpsc` channels kept in an
//! `Rc<RefCell<HashMap>>`: one loop thread, so no locks. (Once `bucle::sync::Queue` lands,
//! a `Queue<String>` per client is the asyncio-shaped replacement for the channel.)

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;

use bucle::net::{TcpListener, TcpStream};
use futures::channel::mpsc;
use futures::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use futures::StreamExt;

type Peers = Rc<RefCell<HashMap<SocketAddr, mpsc::UnboundedSender<String>>>>;

fn broadcast(peers: &Peers, from: SocketAddr, line: &str) {
    for (addr, outbox) in peers.borrow().iter() {
        if *addr != from {
            // A peer that just left has a closed channel; its task cleans up.
            let _ = outbox.unbounded_send(format!("{from}: {line}\n"));
        }
    }
}

async fn client(stream: TcpStream, peer: SocketAddr, peers: Peers) {
    let (tx, mut rx) = mpsc::unbounded::<String>();
    peers.borrow_mut().insert(peer, tx);
    broadcast(&peers, peer, "joined");
    let (reader, mut writer) = stream.split();
    // Writer: drain this client's outbox into its socket.
    let writing = bucle::spawn(async move {
        while let Some(msg) = rx.next().await {
            if writer.write_all(msg.as_bytes()).await.is_err() {
                break;
            }
        }
        let _ = writer.close().await;
    });
    // Reader: every line goes to everyone else.
    let mut lines = BufReader::new(reader).lines();
    while let Some(Ok(line)) = lines.next().await {
        broadcast(&peers, peer, &line);
    }
    // Dropping the sender ends the writer task after it flushed what was queued.
    peers.borrow_mut().remove(&peer);
    broadcast(&peers, peer, "left");
    let _ = writing.await;
}

#[bucle::main]
async fn main() -> std::io::Result<()> {
    let demo = std::env::args().any(|a| a == "--demo");
    let listener = TcpListener::bind(if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:7879"
    })
    .await?;
    let addr = listener.local_addr()?;
    println!("chat server on {addr}");
    let peers: Peers = Rc::default();
    bucle::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    bucle::spawn(client(stream, peer, peers.clone()));
                }
                Err(err) => eprintln!("accept failed: {err}"),
            }
        }
    });
    if !demo {
        return std::future::pending().await;
    }

    // Three scripted users: alice and bob listen, carol says hello.
    let mut listeners = Vec::new();
    for name in ["alice", "bob"] {
        let stream = TcpStream::connect(addr).await?;
        listeners.push((name, BufReader::new(stream).lines()));
    }
    bucle::sleep(std::time::Duration::from_millis(20)).await; // let both join
    let mut carol = TcpStream::connect(addr).await?;
    carol.write_all(b"hello, everyone\n").await?;
    for (name, lines) in &mut listeners {
        // Each listener first hears about later joins, then carol's line.
        while let Some(line) = lines.next().await {
            let line = line?;
            println!("{name} sees {line}");
            if line.ends_with("hello, everyone") {
                break;
            }
        }
    }
    Ok(())
}
