//! A guided tour of bucle: each chapter is a small program that prints what it shows.
//!
//! Run it with `cargo run --release --example tour`. Each chapter lives in its own file beside
//! this one; read them along with the output.

mod ch01_loop;
mod ch02_queues;
mod ch04_offload;
mod ch05_detector;
mod ch06_net;
mod ch07_structured;

fn main() {
    let chapters: &[(&str, fn())] = &[
        ("1. The loop: tasks, time, cancellation", ch01_loop::run),
        (
            "2. Queues are the glue: a worker pipeline",
            ch02_queues::run,
        ),
        (
            "4. Blocking work belongs in the executor",
            ch04_offload::run,
        ),
        ("5. Find what blocks your loop", ch05_detector::run),
        ("6. Networking: sockets, subprocesses", ch06_net::run),
        (
            "7. Structured concurrency: task groups, combinators, dumps",
            ch07_structured::run,
        ),
    ];
    for (title, chapter) in chapters {
        println!("\n=== {title} ===");
        chapter();
    }
    println!("\nEnd of the tour.");
}
