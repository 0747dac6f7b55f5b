//! The environment wins over code, and `blocking_abort_on_hang` aborts after the report.
//! Each claim runs a child process (this test binary, one ignored test) so that the variables
//! and the abort stay out of this process.

use std::process::{Command, Output};
use std::time::Duration;

use bucle::detector::Level;
use bucle::Runtime;

fn child(test: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "--exact",
        test,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
#[ignore = "run in a child process by `the_environment_wins_over_code`"]
fn child_denies_in_code() {
    let rt = Runtime::builder()
        .blocking(Level::Deny)
        .blocking_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    rt.run_checked(async { std::thread::sleep(Duration::from_millis(150)) })
        .expect("BUCLE_BLOCKING=warn turns the code's deny into a warning");
    assert_eq!(rt.blocking_reports()[0].level(), Level::Warn);
}

#[test]
fn the_environment_wins_over_code() {
    let output = child(
        "child_denies_in_code",
        &[
            ("BUCLE_BLOCKING", "warn"),
            ("BUCLE_BLOCKING_FORMAT", "json"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("{\"v\":1,"))
        .unwrap_or_else(|| panic!("a JSON line in {stderr}"));
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(json["level"], "warn");
}

#[test]
#[ignore = "run in a child process by `abort_on_hang_aborts_after_the_report`"]
fn child_hangs() {
    let rt = Runtime::builder()
        .blocking_threshold(Duration::from_millis(20))
        .blocking_hang(Duration::from_millis(200))
        .blocking_abort_on_hang(true)
        .build()
        .unwrap();
    rt.block_on(async { std::thread::sleep(Duration::from_secs(60)) });
}

#[test]
fn abort_on_hang_aborts_after_the_report() {
    let output = child("child_hangs", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(output.status.signal(), Some(6), "SIGABRT: {stderr}");
    }
    assert!(stderr.contains("[blocking::hang]"), "{stderr}");
    assert!(
        stderr.contains("is still running (hang limit 200 ms)"),
        "{stderr}"
    );
    assert!(stderr.contains("aborting"), "{stderr}");
}
