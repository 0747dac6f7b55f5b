//! The `cargo-bucle-lint` binary as cargo and CI run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/blocking_demo")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-bucle-lint"))
        .args(args)
        .current_dir(fixture(""))
        .output()
        .expect("the binary runs")
}

/// How many lines of a fixture file are marked as positives.
fn marked(rel: &str) -> usize {
    std::fs::read_to_string(fixture(rel))
        .unwrap()
        .lines()
        .filter(|l| l.contains("//~ blocking_call"))
        .count()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cargo_subcommand_argument_is_skipped_and_deny_fails_the_run() {
    let out = run(&["bucle-lint", "--deny", "src/direct.rs"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[blocking_call]: std::thread::sleep blocks the event loop\n --> src/direct.rs:7:5\n"), "{stderr}");
    let summary = format!(
        "error: bucle-lint found {} blocking calls in async code (1 file checked)",
        marked("src/direct.rs")
    );
    assert!(stderr.trim_end().ends_with(&summary), "{stderr}");
}

#[test]
fn without_deny_findings_are_warnings_and_the_run_succeeds() {
    let out = run(&["src/direct.rs"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("warning[blocking_call]: "));
}

#[test]
fn a_clean_file_passes_deny_with_a_summary() {
    let out = run(&["--deny", "src/negatives.rs"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "bucle-lint: no blocking calls in async code (1 file checked)"
    );
}

#[test]
fn json_is_one_object_per_finding_on_stdout() {
    let out = run(&["--message-format", "json", "src/imports.rs"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    let expected = marked("src/imports.rs");
    assert_eq!(objects.len(), expected, "{stdout}");
    let first = &objects[0];
    assert_eq!(first["reason"], "bucle-lint-finding");
    assert_eq!(first["lint"], "blocking_call");
    assert_eq!(first["level"], "warning");
    assert_eq!(first["call"], "std::thread::sleep");
    assert_eq!(first["file"], "src/imports.rs");
    assert_eq!(first["line"], 16);
    assert_eq!(first["column"], 5);
    assert_eq!(first["context"], "in async fn by_name");
    assert_eq!(first["help"], "use `bucle::sleep(..).await`");
    assert!(first["rendered"]
        .as_str()
        .unwrap()
        .starts_with("warning[blocking_call]"));
    assert!(text(&out.stderr).contains(&format!("bucle-lint found {expected} blocking calls")));
}

#[test]
fn verbose_lists_silenced_sites_with_their_reasons() {
    let quiet = text(&run(&["src/silenced.rs"]).stderr);
    assert!(!quiet.contains("allowed[blocking_call]"), "{quiet}");
    assert!(quiet.contains("(1 file checked, 6 silenced)"), "{quiet}");
    let verbose = text(&run(&["--verbose", "src/silenced.rs"]).stderr);
    assert_eq!(
        verbose.matches("allowed[blocking_call]").count(),
        6,
        "{verbose}"
    );
    assert!(verbose.contains("= note: silenced by a `// bucle-lint: allow(blocking_call)` comment: a bounded startup pause"));
    assert!(verbose
        .contains("= note: silenced by `task::Builder::allow_blocking()`: the task may block"));
    assert!(verbose.contains(
        "= note: silenced by a `bucle::detector::allow` scope: startup: a bounded pause"
    ));
}

#[test]
fn a_package_is_found_through_cargo_metadata() {
    let out = run(&["--manifest-path", "Cargo.toml"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--> src/bin/server.rs:7:18"), "{stderr}");
    assert!(stderr.contains("--> src/util.rs:4:5"), "{stderr}");
    let by_dir = text(&run(&["."]).stderr);
    assert_eq!(by_dir.lines().last(), stderr.lines().last());
}

#[test]
fn bad_input_gets_a_clear_error_and_status_2() {
    let out = run(&["--message-format", "xml", "src/lib.rs"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: --message-format must be `human` or `json`, not `xml`"
    );

    let out = run(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: unknown option `--frobnicate`; see --help"
    );

    let out = run(&["-p", "no_such_package"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr)
        .contains("error: package `no_such_package` is not a member of the workspace"));

    let broken = std::env::temp_dir().join(format!("bucle-lint-broken-{}.rs", std::process::id()));
    std::fs::write(&broken, "async fn f() {\n    let x = ;\n}\n").unwrap();
    let out = run(&[broken.to_str().unwrap()]);
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: cannot parse ") && stderr.contains(".rs:2:13: "),
        "{stderr}"
    );
}
