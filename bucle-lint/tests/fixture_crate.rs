//! The fixture crate under `tests/fixtures/blocking_demo`: every line marked `//~ blocking_call`
//! is reported, every line marked `//~ silenced` (or carrying a trailing allow comment) is
//! silenced, nothing else is reported, and the diagnostics' text matches the snapshot.
//!
//! After an intended change to the diagnostics, regenerate the snapshot with
//! `BLESS=1 cargo test -p bucle-lint --test fixture_crate` and review its diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bucle_lint::{lint_manifest, summary, Level, Options, Report, Selection};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blocking_demo")
}

fn lint_fixture() -> Report {
    let dir = fixture_dir();
    let options = Options {
        include_tests: false,
        base_dir: Some(dir.clone()),
    };
    lint_manifest(
        Some(&dir.join("Cargo.toml")),
        &Selection::default(),
        &options,
    )
    .expect("the fixture crate lints")
}

/// `(file, line)` of every line carrying `marker`, in every `.rs` file of the fixture.
fn marked(marker: &dyn Fn(&str) -> bool) -> BTreeSet<(String, usize)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = fixture_dir();
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    let mut out = BTreeSet::new();
    for file in files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for (i, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            if marker(line) {
                out.insert((name.clone(), i + 1));
            }
        }
    }
    out
}

fn expected_reported() -> BTreeSet<(String, usize)> {
    marked(&|l| l.contains("//~ blocking_call"))
}

fn expected_silenced() -> BTreeSet<(String, usize)> {
    marked(&|l| {
        l.contains("//~ silenced")
            || l.split("// bucle-lint: allow(blocking_call)")
                .next()
                .is_some_and(|code| l.contains("// bucle-lint") && !code.trim().is_empty())
    })
}

#[test]
fn every_marked_positive_is_found_and_nothing_else() {
    let report = lint_fixture();
    let found: Vec<(String, usize)> = report
        .reported()
        .map(|f| (f.file.clone(), f.line))
        .collect();
    let found_set: BTreeSet<_> = found.iter().cloned().collect();
    assert_eq!(found.len(), found_set.len(), "one finding per marked line");
    let expected = expected_reported();
    let missed: Vec<_> = expected.difference(&found_set).collect();
    let false_positives: Vec<_> = found_set.difference(&expected).collect();
    assert!(missed.is_empty(), "missed (false negatives): {missed:?}");
    assert!(
        false_positives.is_empty(),
        "false positives: {false_positives:?}"
    );
    assert!(
        expected.len() >= 50,
        "the fixture keeps its breadth: {} positives",
        expected.len()
    );
    assert!(
        report.reported().all(|f| f.file != "src/negatives.rs"),
        "nothing in the negatives file"
    );
}

#[test]
fn every_marked_silenced_site_is_silenced_with_its_reason() {
    let report = lint_fixture();
    let silenced: BTreeSet<_> = report
        .silenced()
        .map(|f| (f.file.clone(), f.line))
        .collect();
    assert_eq!(silenced, expected_silenced());
    let reasons: BTreeSet<_> = report
        .silenced()
        .map(|f| f.silenced.as_ref().unwrap().reason.as_str())
        .collect();
    assert!(reasons.contains("a bounded startup pause"), "{reasons:?}");
    assert!(reasons.contains("startup: a bounded pause"), "{reasons:?}");
}

#[test]
fn cfg_test_code_is_linted_only_when_asked() {
    let dir = fixture_dir();
    let options = Options {
        include_tests: true,
        base_dir: Some(dir.clone()),
    };
    let report = lint_manifest(
        Some(&dir.join("Cargo.toml")),
        &Selection::default(),
        &options,
    )
    .unwrap();
    let extra: Vec<_> = report
        .reported()
        .filter(|f| !expected_reported().contains(&(f.file.clone(), f.line)))
        .map(|f| (f.file.as_str(), f.context.as_str()))
        .collect();
    assert_eq!(
        extra,
        [("src/lib.rs", "in async fn blocks_in_a_test_module")]
    );
}

/// The text of every diagnostic, pinned.
#[test]
fn diagnostics_match_the_snapshot() {
    let report = lint_fixture();
    let mut text = String::new();
    for f in &report.findings {
        text += &f.render(Level::Warning);
        text += "\n";
    }
    let reported = report.reported().count();
    let silenced = report.silenced().count();
    text += &summary(reported, report.files_checked, silenced, Level::Warning);
    text += "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/blocking_demo.txt");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .expect("the snapshot exists; create it with BLESS=1 cargo test -p bucle-lint");
    if expected != text {
        let first = expected
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(text.lines().count()));
        panic!(
            "diagnostics differ from tests/snapshots/blocking_demo.txt from line {}:\n\
             expected: {:?}\n   found: {:?}\n(BLESS=1 regenerates the snapshot)",
            first + 1,
            expected.lines().nth(first),
            text.lines().nth(first)
        );
    }
}

#[test]
fn a_directory_without_a_manifest_is_read_crate_by_crate() {
    let dir = fixture_dir();
    let options = Options {
        include_tests: false,
        base_dir: Some(dir.clone()),
    };
    let by_dir = bucle_lint::lint_path(&dir.join("src"), &Selection::default(), &options).unwrap();
    let by_manifest = lint_fixture();
    assert_eq!(by_dir.files_checked, by_manifest.files_checked);
    assert_eq!(
        by_dir.findings, by_manifest.findings,
        "same findings, same call-graph notes"
    );
}
