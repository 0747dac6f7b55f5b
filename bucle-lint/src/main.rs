//! `cargo bucle-lint`: finds blocking calls in async code.
//!
//! Installed with `cargo install --path bucle-lint`, cargo runs it as
//! `cargo-bucle-lint bucle-lint [ARGS]`; in this repository, `cargo run -p bucle-lint -- [ARGS]`.

use std::path::PathBuf;
use std::process::ExitCode;

use bucle_lint::{summary, Level, Options, Report, Selection, TargetKinds};

const USAGE: &str = "\
Finds blocking calls in async code before it runs.

Usage: cargo bucle-lint [OPTIONS] [PATH]...

Arguments:
  [PATH]...  .rs files (linted on their own), package or workspace directories (with a
             Cargo.toml), or other directories (every .rs file in them). Without a path: the
             package or workspace in the current directory.

Options:
      --manifest-path <PATH>    The Cargo.toml of the package or workspace to lint
  -p, --package <NAME>          Lint this workspace member (repeatable)
      --workspace               Lint every workspace member
      --all-targets             Also lint tests, benches and #[cfg(test)] code
      --message-format <FMT>    human (default) or json: one JSON object per finding on stdout
      --deny                    Report findings as errors and exit with status 1 if there are any
  -v, --verbose                 Also show the findings that allow comments or scopes silence,
                                with their reasons
  -h, --help                    Print this help
  -V, --version                 Print the version

Silence one site with `// bucle-lint: allow(blocking_call) <reason>` on its line or on the
line above the statement or item; code inside `bucle::detector::allow(..)` is not reported.
";

struct Args {
    paths: Vec<PathBuf>,
    manifest: Option<PathBuf>,
    selection: Selection,
    json: bool,
    deny: bool,
    verbose: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args {
        paths: Vec::new(),
        manifest: None,
        selection: Selection::default(),
        json: false,
        deny: false,
        verbose: false,
    };
    let mut first = true;
    while let Some(arg) = args.next() {
        // `cargo bucle-lint` runs `cargo-bucle-lint bucle-lint ...`.
        if std::mem::take(&mut first) && arg == "bucle-lint" {
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value; see --help"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("cargo-bucle-lint {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--manifest-path" => out.manifest = Some(value("--manifest-path")?.into()),
            "-p" | "--package" => out.selection.packages.push(value("--package")?),
            "--workspace" | "--all" => out.selection.workspace = true,
            "--all-targets" | "--tests" => out.selection.kinds = TargetKinds::All,
            "--message-format" => match value("--message-format")?.as_str() {
                "human" | "short" => out.json = false,
                "json" => out.json = true,
                other => {
                    return Err(format!(
                        "--message-format must be `human` or `json`, not `{other}`"
                    ))
                }
            },
            "--deny" | "-D" => out.deny = true,
            "-v" | "--verbose" => out.verbose = true,
            f if f.starts_with('-') => {
                return Err(format!("unknown option `{f}`; see --help"));
            }
            _ => out.paths.push(arg.into()),
        }
    }
    Ok(Some(out))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        include_tests: args.selection.kinds == TargetKinds::All,
        base_dir: None,
    };
    let mut report = Report::default();
    let mut failed = false;
    let runs: Vec<Result<Report, bucle_lint::Error>> = if args.paths.is_empty() {
        vec![bucle_lint::lint_manifest(
            args.manifest.as_deref(),
            &args.selection,
            &options,
        )]
    } else {
        args.paths
            .iter()
            .map(|p| bucle_lint::lint_path(p, &args.selection, &options))
            .collect()
    };
    for run in runs {
        match run {
            Ok(r) => report.merge(r),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    let level = if args.deny {
        Level::Error
    } else {
        Level::Warning
    };
    for finding in &report.findings {
        if finding.silenced.is_some() && !args.verbose {
            continue;
        }
        if args.json {
            println!("{}", finding.to_json(level));
        } else {
            eprintln!("{}", finding.render(level));
        }
    }
    let reported = report.reported().count();
    let silenced = report.silenced().count();
    eprintln!(
        "{}",
        summary(reported, report.files_checked, silenced, level)
    );
    if failed {
        ExitCode::from(2)
    } else if args.deny && reported > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
