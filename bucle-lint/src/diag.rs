//! Findings and how they are printed: rustc's diagnostic layout for people, one JSON object
//! per finding for tools.

use serde::Serialize;

/// The lint's name, as diagnostics and allow comments spell it.
pub const LINT: &str = "blocking_call";

/// One blocking call in async context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, as given or relative to the directory the lint ran in.
    pub file: String,
    /// 1-based line of the call.
    pub line: usize,
    /// 1-based column (in characters) of the call.
    pub column: usize,
    /// 1-based line where the underlined part ends.
    pub end_line: usize,
    /// 1-based column just past the underlined part.
    pub end_column: usize,
    /// The blocking call by its full path: `std::thread::sleep`.
    pub call: String,
    /// The headline: `std::thread::sleep blocks the event loop`.
    pub message: String,
    /// The async context it is in: `in async fn fetch`, or the chain of calls that leads there
    /// (`in fn load, called from async fn handle`).
    pub context: String,
    /// Further notes (for a guard: where the `.await` is).
    pub notes: Vec<String>,
    /// What to do instead.
    pub help: String,
    /// The source line, for the excerpt.
    pub source_line: String,
    /// Set when an allow comment or `bucle::detector::allow` scope silences the finding.
    pub silenced: Option<Silenced>,
}

/// Why a finding is not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Silenced {
    /// `comment` (`// bucle-lint: allow(blocking_call)`), `allow_scope`
    /// (`bucle::detector::allow`) or `allow_blocking_task` (a task spawned with
    /// `task::Builder::allow_blocking()`).
    pub by: &'static str,
    /// The reason written next to it.
    pub reason: String,
}

/// How the findings are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `warning[blocking_call]`: the default.
    Warning,
    /// `error[blocking_call]`: with `--deny`.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl Finding {
    /// The finding in rustc's layout:
    ///
    /// ```text
    /// warning[blocking_call]: std::thread::sleep blocks the event loop
    ///   --> src/main.rs:12:5
    ///    |
    /// 12 |     std::thread::sleep(Duration::from_millis(100));
    ///    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    ///    |
    ///    = note: in async fn fetch
    ///    = help: use `bucle::sleep(..).await`
    /// ```
    ///
    /// A silenced finding is shown as a `note` with the reason.
    pub fn render(&self, level: Level) -> String {
        let head = match self.silenced {
            Some(_) => "allowed",
            None => level.as_str(),
        };
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        let mut out = format!("{head}[{LINT}]: {}\n", self.message);
        out += &format!("{pad}--> {}:{}:{}\n", self.file, self.line, self.column);
        out += &format!("{pad} |\n");
        out += &format!("{number} | {}\n", self.source_line);
        out += &format!("{pad} | {}\n", self.carets());
        out += &format!("{pad} |\n");
        out += &format!("{pad} = note: {}\n", self.context);
        for note in &self.notes {
            out += &format!("{pad} = note: {note}\n");
        }
        out += &format!("{pad} = help: {}\n", self.help);
        if let Some(s) = &self.silenced {
            let by = match s.by {
                "comment" => "a `// bucle-lint: allow(blocking_call)` comment",
                "allow_blocking_task" => "`task::Builder::allow_blocking()`",
                _ => "a `bucle::detector::allow` scope",
            };
            out += &format!("{pad} = note: silenced by {by}: {}\n", s.reason);
        }
        out
    }

    /// Spaces up to the call, then a caret under each of its characters on this line (tabs
    /// kept, so the carets line up under a tab-indented line).
    fn carets(&self) -> String {
        let mut out = String::new();
        let chars: Vec<char> = self.source_line.chars().collect();
        let start = self.column.saturating_sub(1).min(chars.len());
        for c in &chars[..start] {
            out.push(if *c == '\t' { '\t' } else { ' ' });
        }
        let end = if self.end_line == self.line {
            self.end_column
                .saturating_sub(1)
                .clamp(start + 1, chars.len().max(start + 1))
        } else {
            chars.len().max(start + 1)
        };
        out.extend(std::iter::repeat_n('^', end - start));
        out
    }

    /// One JSON object, in the spirit of cargo's `--message-format json`: the fields above plus
    /// `reason`, `lint`, `level` and the `rendered` text.
    pub fn to_json(&self, level: Level) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            reason: &'static str,
            lint: &'static str,
            level: &'static str,
            #[serde(flatten)]
            finding: &'a Finding,
            rendered: String,
        }
        let level_str = if self.silenced.is_some() {
            "allow"
        } else {
            level.as_str()
        };
        serde_json::to_string(&Json {
            reason: "bucle-lint-finding",
            lint: LINT,
            level: level_str,
            finding: self,
            rendered: self.render(level),
        })
        .expect("a finding always serializes")
    }
}

/// The closing line: how many blocking calls, in how many files checked.
pub fn summary(reported: usize, files: usize, silenced: usize, level: Level) -> String {
    let calls = if reported == 1 { "call" } else { "calls" };
    let checked = if files == 1 { "file" } else { "files" };
    let silenced = match silenced {
        0 => String::new(),
        n => format!(", {n} silenced"),
    };
    if reported == 0 {
        format!("bucle-lint: no blocking calls in async code ({files} {checked} checked{silenced})")
    } else {
        format!(
            "{}: bucle-lint found {reported} blocking {calls} in async code ({files} {checked} checked{silenced})",
            level.as_str()
        )
    }
}
