//! Peak memory of spawning 200,000 tasks and awaiting them in order, for one runtime per
//! process: `cargo run --release --example spawn_rss -- bucle|tokio|smol`. Prints the peak
//! resident set size in KiB (Linux: `VmHWM` from `/proc/self/status`).

const TASKS: u64 = 200_000;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "bucle".into());
    let sum: u64 = match which.as_str() {
        "bucle" => bucle::run(async {
            let handles: Vec<_> = (0..TASKS).map(|i| bucle::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        }),
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            tokio::task::LocalSet::new().block_on(&rt, async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| tokio::task::spawn_local(async move { i }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        }
        "smol" => {
            let ex = smol::LocalExecutor::new();
            async_io::block_on(ex.run(async {
                let handles: Vec<_> = (0..TASKS).map(|i| ex.spawn(async move { i })).collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await;
                }
                sum
            }))
        }
        other => panic!("unknown runtime {other:?}: use bucle, tokio or smol"),
    };
    assert_eq!(sum, (0..TASKS).sum::<u64>());
    println!("{which} peak_rss_kib {}", peak_rss_kib());
}
