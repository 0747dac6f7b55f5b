//! Subprocesses: pipes, pipelines, status, output, kill, kill_on_drop, no zombies.

use std::io;
use std::time::Duration;

use bucle::process::{Command, Stdio};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures::StreamExt;

/// Waits (with a generous bound that only a bug would reach) until `pid` is gone from
/// `/proc`, which for our own child means it was reaped.
async fn wait_gone(pid: u32) -> bool {
    for _ in 0..500 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        bucle::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[test]
fn cat_echoes_a_large_input_through_pipes() {
    bucle::run(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // Larger than a pipe buffer: writing and reading must interleave.
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = bucle::spawn(async move {
            stdin.write_all(&data).await.unwrap();
        });
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).await.unwrap();
        writer.await.unwrap();
        assert_eq!(out.len(), expected.len());
        assert!(out == expected);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn sh_pipeline_lines_and_exit_codes() {
    bucle::run(async {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo line $i; done; exit 4"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(lines, ["line 1", "line 2", "line 3"]);
        assert_eq!(child.wait().await.unwrap().code(), Some(4));
        // Waiting again gives the same status.
        assert_eq!(child.wait().await.unwrap().code(), Some(4));
    });
}

#[test]
fn two_processes_connected_by_a_pipe() {
    bucle::run(async {
        let mut producer = Command::new("sh")
            .args(["-c", "printf 'c\\na\\nb\\n'"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdio = producer.stdout.take().unwrap().into_stdio().unwrap();
        let sorted = Command::new("sort")
            .stdin(stdio)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
            .wait_with_output()
            .await
            .unwrap();
        assert_eq!(sorted.stdout, b"a\nb\nc\n");
        assert!(producer.wait().await.unwrap().success());
    });
}

#[test]
fn output_status_and_spawn_errors() {
    bucle::run(async {
        let out = Command::new("sh")
            .args(["-c", "echo to-out; echo to-err >&2; exit 2"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"to-out\n");
        assert_eq!(out.stderr, b"to-err\n");
        assert_eq!(out.status.code(), Some(2));
        assert!(Command::new("true").status().await.unwrap().success());
        let err = Command::new("/definitely/not/here").spawn().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    });
}

#[test]
fn kill_stops_a_long_running_child_while_the_loop_keeps_going() {
    use std::os::unix::process::ExitStatusExt;
    bucle::run(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        let ticker = bucle::spawn(async {
            bucle::sleep(Duration::from_millis(5)).await;
            "ticked"
        });
        assert_eq!(ticker.await.unwrap(), "ticked");
        assert!(child.try_wait().unwrap().is_none());
        child.kill().await.unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    bucle::run(async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        assert!(wait_gone(pid).await, "child {pid} still exists");
    });
}

#[test]
fn a_dropped_child_is_reaped_when_it_exits_no_zombie() {
    bucle::run(async {
        let child = Command::new("sh")
            .args(["-c", "sleep 0.05"])
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        // Without reaping, the exited child would stay in /proc as a zombie.
        assert!(wait_gone(pid).await, "child {pid} became a zombie");
    });
}

#[test]
fn waiting_is_cancel_safe() {
    bucle::run(async {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 0.05; exit 5"])
            .spawn()
            .unwrap();
        let first = bucle::timeout(Duration::from_millis(1), child.wait()).await;
        assert!(first.is_err());
        assert_eq!(child.wait().await.unwrap().code(), Some(5));
    });
}
