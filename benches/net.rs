//! Loopback TCP echo: 64 clients x 5,000 round trips of 64 bytes, server and clients on one
//! single-threaded loop, for bucle, tokio (`current_thread` + `LocalSet`) and smol
//! (`LocalExecutor` on `async_io::block_on`). After criterion's timing, one extra run per
//! runtime prints messages/s and p99 round-trip latency, then bucle's idle-connection
//! capacity and memory per connection.
//!
//! `cargo bench --bench net`; `BUCLE_BENCH_IDLE=N` sets the idle connections (default 10,000).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

const CLIENTS: usize = 64;
const ROUNDS: usize = 5_000;
const MSG: usize = 64;

type Latencies = Rc<RefCell<Vec<Duration>>>;

fn record(lat: &Option<Latencies>, start: Instant) {
    if let Some(lat) = lat {
        lat.borrow_mut().push(start.elapsed());
    }
}

fn bucle_echo(lat: Option<Latencies>) {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    bucle::run(async move {
        let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        bucle::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                bucle::spawn(async move {
                    let mut buf = [0; MSG];
                    while s.read_exact(&mut buf).await.is_ok() {
                        if s.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let lat = lat.clone();
                bucle::spawn(async move {
                    let mut s = bucle::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = [7u8; MSG];
                    for _ in 0..ROUNDS {
                        let start = Instant::now();
                        s.write_all(&buf).await.unwrap();
                        s.read_exact(&mut buf).await.unwrap();
                        record(&lat, start);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
}

fn tokio_echo(lat: Option<Latencies>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::task::spawn_local(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::task::spawn_local(async move {
                    let mut buf = [0; MSG];
                    while s.read_exact(&mut buf).await.is_ok() {
                        if s.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let lat = lat.clone();
                tokio::task::spawn_local(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = [7u8; MSG];
                    for _ in 0..ROUNDS {
                        let start = Instant::now();
                        s.write_all(&buf).await.unwrap();
                        s.read_exact(&mut buf).await.unwrap();
                        record(&lat, start);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
}

fn smol_echo(lat: Option<Latencies>) {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let ex = Rc::new(smol::LocalExecutor::new());
    let ex2 = ex.clone();
    async_io::block_on(ex.run(async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ex3 = ex2.clone();
        ex2.spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                ex3.spawn(async move {
                    let mut buf = [0; MSG];
                    while s.read_exact(&mut buf).await.is_ok() {
                        if s.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                })
                .detach();
            }
        })
        .detach();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let lat = lat.clone();
                ex2.spawn(async move {
                    let mut s = smol::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = [7u8; MSG];
                    for _ in 0..ROUNDS {
                        let start = Instant::now();
                        s.write_all(&buf).await.unwrap();
                        s.read_exact(&mut buf).await.unwrap();
                        record(&lat, start);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await;
        }
    }));
}

fn echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("echo_64x5000");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((CLIENTS * ROUNDS) as u64));
    group.bench_function("bucle", |b| b.iter(|| bucle_echo(None)));
    group.bench_function("tokio", |b| b.iter(|| tokio_echo(None)));
    group.bench_function("smol", |b| b.iter(|| smol_echo(None)));
    group.finish();
}

criterion_group!(benches, echo);

fn report(name: &str, run: fn(Option<Latencies>)) -> f64 {
    let lat: Latencies = Rc::new(RefCell::new(Vec::with_capacity(CLIENTS * ROUNDS)));
    let start = Instant::now();
    run(Some(lat.clone()));
    let elapsed = start.elapsed();
    let mut lat = lat.borrow_mut();
    lat.sort();
    let p50 = lat[lat.len() / 2];
    let p99 = lat[lat.len() * 99 / 100];
    let rate = (CLIENTS * ROUNDS) as f64 / elapsed.as_secs_f64();
    println!("{name:>6}: {rate:>10.0} msg/s  p50 {p50:>8.1?}  p99 {p99:>8.1?}");
    rate
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Opens `n` idle connections to a bucle server whose per-connection task waits in `read`.
fn idle_connections(n: usize) {
    use futures::io::AsyncReadExt;
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    // Both ends live in this process: 2 descriptors per connection, plus headroom.
    let want = (2 * n + 1024) as u64;
    let limit = getrlimit(Resource::Nofile);
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(want),
            maximum: Some(want.max(limit.maximum.unwrap_or(want))),
        },
    )
    .or_else(|_| {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )
    });
    if let Err(err) = raised {
        println!("could not raise RLIMIT_NOFILE: {err}");
    }
    // Stay under the limit we got: both ends are ours, beside what is already open, plus
    // some headroom.
    let got = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()) as u64;
    let n = n.min((got.saturating_sub(open + 256) / 2) as usize);
    bucle::run(async move {
        let listener = bucle::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Rc::new(std::cell::Cell::new(0usize));
        let accept_error = Rc::new(RefCell::new(None::<std::io::Error>));
        let counter = accepted.clone();
        let accept_failed = accept_error.clone();
        bucle::spawn(async move {
            loop {
                let (mut s, _) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors: stop accepting, and say so below.
                        *accept_failed.borrow_mut() = Some(err);
                        return;
                    }
                };
                counter.set(counter.get() + 1);
                bucle::spawn(async move {
                    let mut buf = [0; 64];
                    let _ = s.read(&mut buf).await;
                });
            }
        });
        let before = rss_bytes();
        let start = Instant::now();
        let mut held = Vec::with_capacity(n);
        let mut error = None;
        for _ in 0..n {
            match bucle::net::TcpStream::connect(addr).await {
                Ok(s) => held.push(s),
                Err(err) => {
                    error = Some(err);
                    break;
                }
            }
        }
        while accepted.get() < held.len() && accept_error.borrow().is_none() {
            bucle::sleep(Duration::from_millis(1)).await;
        }
        let error = error.or_else(|| accept_error.borrow_mut().take());
        held.truncate(accepted.get());
        let elapsed = start.elapsed();
        // The loop still answers with every connection open.
        assert_eq!(bucle::spawn(async { 1 }).await.unwrap(), 1);
        let per_conn = (rss_bytes().saturating_sub(before)) / held.len().max(1);
        println!(
            "idle: {} connections held by one loop (both ends in-process) in {:.2?}; \
             ~{} bytes of user-space memory per connection (client stream + server stream + \
             its task){}",
            held.len(),
            elapsed,
            per_conn,
            error
                .map(|e| format!("; stopped by: {e}"))
                .unwrap_or_default()
        );
        // Closing ten thousand sockets in one poll holds the loop on purpose.
        bucle::detector::allow("closing every idle connection at once", || drop(held));
    });
}

fn main() {
    // `scripts/perf_report.py` reads only criterion's results; `--list`/`--test` run nothing.
    let extras = std::env::var_os("BUCLE_BENCH_CRITERION_ONLY").is_none()
        && !std::env::args().any(|a| a == "--list" || a == "--test");
    if extras {
        // First, while the allocator holds nothing from earlier runs, so the growth of the
        // resident set is the connections' own.
        let n = std::env::var("BUCLE_BENCH_IDLE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        idle_connections(n);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !extras {
        return;
    }
    println!("\n64 clients x 5,000 round trips of 64 bytes, one run each:");
    let b = report("bucle", bucle_echo);
    let t = report("tokio", tokio_echo);
    let s = report("smol", smol_echo);
    println!("bucle / faster peer (throughput): {:.2}", b / t.max(s));
}
