//! Subprocesses with async pipes: feed `sort` from the loop, stream `sh`'s output line by
//! line, and build a `cat | wc -c` pipeline, while a ticker task keeps running.
//!
//! `cargo run --example subprocess`

use std::time::Duration;

use bucle::process::{Command, Stdio};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures::StreamExt;

#[bucle::main]
async fn main() -> std::io::Result<()> {
    let ticker = bucle::spawn(async {
        let mut ticks = 0;
        loop {
            bucle::sleep(Duration::from_millis(10)).await;
            ticks += 1;
            if ticks == 3 {
                println!("(the loop keeps ticking while children run)");
            }
        }
    });

    // Write to a child's stdin, read its stdout.
    let mut sort = Command::new("sort")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = sort.stdin.take().unwrap();
    stdin.write_all(b"pear\napple\nfig\n").await?;
    drop(stdin); // end of input
    let mut sorted = String::new();
    sort.stdout
        .take()
        .unwrap()
        .read_to_string(&mut sorted)
        .await?;
    println!("sort said: {:?} ({})", sorted, sort.wait().await?);

    // Stream output as it is produced.
    let mut sh = Command::new("sh")
        .args(["-c", "for i in 1 2 3; do echo step $i; sleep 0.02; done"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(sh.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next().await {
        println!("sh: {}", line?);
    }
    sh.wait().await?;

    // A pipeline: cat's stdout becomes wc's stdin.
    let mut cat = Command::new("cat")
        .arg("Cargo.toml")
        .stdout(Stdio::piped())
        .spawn()?;
    let wc = Command::new("wc")
        .arg("-c")
        .stdin(cat.stdout.take().unwrap().into_stdio()?)
        .output()
        .await?;
    cat.wait().await?;
    println!(
        "Cargo.toml has {} bytes",
        String::from_utf8_lossy(&wc.stdout).trim()
    );

    // Kill a child that would run too long.
    let mut sleeper = Command::new("sleep").arg("60").spawn()?;
    if bucle::timeout(Duration::from_millis(50), sleeper.wait())
        .await
        .is_err()
    {
        sleeper.kill().await?;
        println!("sleep 60 was killed: {}", sleeper.wait().await?);
    }
    ticker.cancel();
    Ok(())
}
