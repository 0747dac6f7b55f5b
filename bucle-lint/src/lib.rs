//! Finds blocking calls in async code before it runs.
//!
//! bucle's runtime detector reports a task that holds the loop *while it happens*. This crate
//! is the other half: it reads the source and reports `std::thread::sleep` in an `async fn`,
//! `std::fs::read_to_string` in a handler, a `std::sync::Mutex` guard held across an `.await`,
//! each with what to use instead, in rustc's diagnostic style.
//!
//! ```
//! let findings = bucle_lint::lint_source(
//!     "src/main.rs",
//!     "async fn fetch() { std::thread::sleep(std::time::Duration::from_millis(5)); }",
//! )
//! .unwrap();
//! assert_eq!(findings[0].message, "std::thread::sleep blocks the event loop");
//! assert_eq!(findings[0].context, "in async fn fetch");
//! assert_eq!(findings[0].help, "use `bucle::sleep(..).await`");
//! ```
//!
//! Run it as `cargo bucle-lint` (after `cargo install --path bucle-lint`) on a package, a
//! workspace, or files.
//!
//! # What is async context
//!
//! The bodies of `async fn`s, `async` blocks and async closures, the `poll` methods of
//! `Future`, `Stream` and async I/O impls, the closures written inside them, and the crate's
//! own sync functions that they call (followed through further sync calls), unless that
//! function is also handed to a thread. Code that runs off the loop is not async context:
//! closures passed to `bucle::run_in_executor(_with)`, `ThreadPool::run`, `std::thread::spawn`,
//! `tokio::task::spawn_blocking`, `blocking::unblock` and their kin, and `fn` items nested in a
//! body (they run where they are called).
//!
//! # Precision over recall
//!
//! A method call is reported only when its receiver's type is evident from the code: a `let`
//! with a constructor or an annotation, a struct field's declared type, a parameter's type.
//! Paths are resolved through the file's `use` declarations, so an async `sleep` that merely
//! shares the name (`bucle::sleep`, `tokio::time::sleep`) is never mistaken for
//! `std::thread::sleep`.
//!
//! # Silencing
//!
//! Code inside `bucle::detector::allow("reason", || ..)` or a task spawned with
//! `task::Builder::new().allow_blocking()` is not reported, and a comment
//! `// bucle-lint: allow(blocking_call) <reason>` on the line, or on its own line above the
//! statement or item, silences what it covers. `--verbose` lists silenced findings with their
//! reasons.

#![forbid(unsafe_code)]

mod analyze;
mod diag;
mod model;
mod resolve;
mod source;
mod table;
mod targets;
mod types;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

pub use diag::{summary, Finding, Level, Silenced, LINT};
pub use targets::{Selection, TargetKinds};

use analyze::{Analyzer, Facts, RawFinding};
use model::Model;
use source::{LoadOptions, SourceFile};

/// Why a lint run could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A file could not be read.
    Io(String),
    /// A file is not valid Rust (the message has its `file:line:col`).
    Parse(String),
    /// `cargo metadata` failed, or the package asked for is not there.
    Metadata(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(m) => write!(f, "{m}"),
            Error::Parse(m) => write!(f, "cannot parse {m}"),
            Error::Metadata(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

/// How to lint.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also lint `#[cfg(test)]` modules and items.
    pub include_tests: bool,
    /// Print file paths relative to this directory (when they are under it).
    pub base_dir: Option<PathBuf>,
}

/// The findings of one run, silenced ones included, in file and line order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every finding; [`Report::reported`] leaves out the silenced ones.
    pub findings: Vec<Finding>,
    /// How many distinct files were read.
    pub files_checked: usize,
    seen_files: HashSet<PathBuf>,
}

impl Report {
    /// The findings that are not silenced.
    pub fn reported(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.silenced.is_none())
    }

    /// The findings an allow comment or scope silenced.
    pub fn silenced(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.silenced.is_some())
    }

    /// Adds another crate's findings; a file shared by two targets is counted and reported
    /// once.
    pub fn merge(&mut self, other: Report) {
        for file in other.seen_files {
            if self.seen_files.insert(file) {
                self.files_checked += 1;
            }
        }
        for f in other.findings {
            let dup = self.findings.iter().any(|g| {
                g.file == f.file && g.line == f.line && g.column == f.column && g.call == f.call
            });
            if !dup {
                self.findings.push(f);
            }
        }
        self.findings
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
}

/// Lints source text as a crate of one file named `name`.
pub fn lint_source(name: &str, text: &str) -> Result<Vec<Finding>, Error> {
    let file = SourceFile::parse(
        Path::new(name),
        name.to_string(),
        text.to_string(),
        Vec::new(),
    )?;
    Ok(lint_files(vec![file], false).findings)
}

/// Lints one file on its own (its `mod` declarations are not followed).
pub fn lint_file(path: &Path, options: &Options) -> Result<Report, Error> {
    let text = source::read(path)?;
    let display = display_path(path, options);
    let file = SourceFile::parse(path, display, text, Vec::new())?;
    Ok(lint_files(vec![file], options.include_tests))
}

/// Lints a crate from its root file (`src/lib.rs`, `src/main.rs`, an example), following its
/// module tree, with one call graph for the whole crate.
pub fn lint_crate(root: &Path, options: &Options) -> Result<Report, Error> {
    let load = LoadOptions {
        include_tests: options.include_tests,
    };
    let files = source::load_crate(root, load, &|p| display_path(p, options))?;
    Ok(lint_files(files, options.include_tests))
}

/// Lints every `.rs` file under a directory that is not a package. Each file that no other
/// file declares as a module is a crate root, so `examples/tour/main.rs` and its modules are
/// one crate.
pub fn lint_dir(dir: &Path, options: &Options) -> Result<Report, Error> {
    let mut paths = Vec::new();
    collect_rs_files(dir, &mut paths)?;
    // Likely roots first (shallow files, `lib.rs` and `main.rs` before their siblings), so
    // each module is read once, as part of its crate.
    paths.sort_by_key(|p| {
        let root_name = p
            .file_name()
            .is_some_and(|n| n == "lib.rs" || n == "main.rs");
        (p.components().count(), !root_name, p.clone())
    });
    let load = LoadOptions {
        include_tests: options.include_tests,
    };
    let mut seen = HashSet::new();
    let mut report = Report::default();
    for path in &paths {
        if seen.contains(path) {
            continue;
        }
        let files = source::load_crate(path, load, &|p| display_path(p, options))?;
        seen.extend(files.iter().map(|f| f.path.clone()));
        report.merge(lint_files(files, options.include_tests));
    }
    Ok(report)
}

/// Lints the targets of a package or workspace, found with `cargo metadata`.
pub fn lint_manifest(
    manifest: Option<&Path>,
    selection: &Selection,
    options: &Options,
) -> Result<Report, Error> {
    let roots = targets::crate_roots(manifest, selection)?;
    let mut report = Report::default();
    for root in roots {
        report.merge(lint_crate(&root, options)?);
    }
    Ok(report)
}

/// Lints a path as the command line does: a `.rs` file on its own, a directory with a
/// `Cargo.toml` as that package (or workspace), any other directory file by file.
pub fn lint_path(path: &Path, selection: &Selection, options: &Options) -> Result<Report, Error> {
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            return lint_manifest(Some(path), selection, options);
        }
        return lint_file(path, options);
    }
    if path.join("Cargo.toml").is_file() {
        return lint_manifest(Some(&path.join("Cargo.toml")), selection, options);
    }
    if path.is_dir() {
        return lint_dir(path, options);
    }
    Err(Error::Io(format!(
        "{} is neither a file nor a directory",
        path.display()
    )))
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn display_path(path: &Path, options: &Options) -> String {
    let base = options
        .base_dir
        .clone()
        .or_else(|| std::env::current_dir().ok());
    let shown = base
        .and_then(|b| {
            let abs = std::path::absolute(path).ok()?;
            abs.strip_prefix(&b).ok().map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    shown.display().to_string()
}

/// Walks the bodies of one crate's files and turns what it learned into findings.
fn lint_files(files: Vec<SourceFile>, include_tests: bool) -> Report {
    let mut model = Model::build(&files, include_tests);
    let mut facts = Facts::default();
    for (index, file) in files.iter().enumerate() {
        Analyzer::new(&mut model, &mut facts, index, file, include_tests).run();
    }
    let raw = facts.resolve(&model);
    let mut report = Report::default();
    for file in &files {
        if report.seen_files.insert(file.path.clone()) {
            report.files_checked += 1;
        }
    }
    let findings = raw.into_iter().map(|r| finish(r, &files)).collect();
    report.merge(Report {
        findings,
        files_checked: 0,
        seen_files: HashSet::new(),
    });
    report
}

fn finish(raw: RawFinding, files: &[SourceFile]) -> Finding {
    let file = &files[raw.file];
    let line = raw.start.0;
    let by_comment = std::iter::once(line)
        .chain(raw.anchors.iter().rev().copied())
        .find_map(|l| file.allowed_lines.get(&l));
    let silenced = match (by_comment, &raw.allow_scope) {
        (Some(reason), _) => Some(Silenced {
            by: "comment",
            reason: reason.clone(),
        }),
        (None, Some((by, reason))) => Some(Silenced {
            by,
            reason: reason.to_string(),
        }),
        (None, None) => None,
    };
    Finding {
        file: file.display.clone(),
        line,
        column: raw.start.1 + 1,
        end_line: raw.end.0,
        end_column: raw.end.1 + 1,
        call: raw.call,
        message: raw.message,
        context: raw.context,
        notes: raw.notes,
        help: raw.help,
        source_line: file.line(line).to_string(),
        silenced,
    }
}
