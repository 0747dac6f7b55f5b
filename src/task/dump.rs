//! Seeing what every task is doing: [`Dump`], printed like `python -m asyncio ps` (a table)
//! and `pstree` (who spawned whom).
//!
//! A dump reads the loop's registry (`registry.rs`), which lives in the loop's thread-shared
//! state, so [`Handle::dump`](crate::Handle::dump) works from another thread even while the
//! loop thread is stuck inside a poll: the loop need not answer. Per-poll data lives in each
//! task's atomics (see `stats.rs`).

use std::fmt;
use std::time::Duration;

use super::{Id, TaskInfo};
use crate::runtime::context;
use crate::runtime::core::Shared;

/// Records that the running task's poll ends waiting on the task `target` (its
/// `JoinHandle` returned `Pending`).
pub(crate) fn note_awaiting(target: Id) {
    context::with_current(|core| {
        let Some(core) = core else { return };
        match core.with_running_task(|meta| meta.map(|meta| meta.slot())) {
            Some(Some(slot)) => core.shared.registry.note_awaiting(slot, target),
            // In its first poll: registration records it, if the task lives past the poll.
            Some(None) => core.first_poll_awaiting.set(Some(target)),
            None => {}
        }
    });
}

/// A snapshot of every started task of one loop: taken by
/// [`Runtime::dump`](crate::Runtime::dump) or, from any thread, by
/// [`Handle::dump`](crate::Handle::dump).
///
/// `Display` prints a table like `python -m asyncio ps`; [`Dump::tree`] prints who spawned
/// whom like `pstree`.
///
/// ```
/// # bucle::run(async {
/// let sleeper = bucle::task::Builder::new()
///     .name("sleeper")
///     .spawn(bucle::sleep(std::time::Duration::from_secs(60)));
/// bucle::yield_now().await;
/// let dump = bucle::Handle::current().dump();
/// let text = dump.to_string();
/// assert!(text.contains("sleeper"));
/// assert!(text.contains(file!()));
/// # sleeper.cancel();
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    loop_id: u64,
    tasks: Vec<TaskInfo>,
}

impl Dump {
    pub(crate) fn take(shared: &Shared) -> Dump {
        Dump {
            loop_id: shared.id,
            tasks: shared.registry.snapshot(),
        }
    }

    /// The tasks, by id (oldest first).
    ///
    /// ```
    /// # bucle::run(async {
    /// let worker = bucle::task::Builder::new().name("w").spawn(std::future::pending::<()>());
    /// bucle::yield_now().await;
    /// let dump = bucle::Handle::current().dump();
    /// assert_eq!(dump.tasks()[0].name(), Some("w"));
    /// # worker.cancel();
    /// # });
    /// ```
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }

    /// The same tasks as a tree: each task under the task that spawned it (tasks spawned
    /// from outside a task, or whose parent has finished, are roots), like `pstree`.
    ///
    /// ```
    /// # bucle::run(async {
    /// let parent = bucle::task::Builder::new().name("parent").spawn(async {
    ///     let child = bucle::task::Builder::new().name("child").spawn(std::future::pending::<()>());
    ///     child.await.ok();
    /// });
    /// bucle::yield_now().await;
    /// bucle::yield_now().await;
    /// let tree = bucle::Handle::current().dump().tree().to_string();
    /// let parent_line = tree.lines().position(|l| l.contains("\"parent\"")).unwrap();
    /// let child_line = tree.lines().position(|l| l.contains("\"child\"")).unwrap();
    /// assert!(child_line > parent_line);
    /// assert!(tree.contains("awaits"));
    /// # parent.cancel();
    /// # });
    /// ```
    pub fn tree(&self) -> impl fmt::Display + '_ {
        Tree(self)
    }
}

/// `1.2ms`-style durations for the table.
fn short(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}us", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.1}ms", ns as f64 / 1e6)
    } else {
        format!("{:.2}s", ns as f64 / 1e9)
    }
}

fn opt(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), short)
}

/// `running 1.2s`, `idle, awaits #4`, ...
fn doing(task: &TaskInfo) -> String {
    let mut s = task.state().as_str().to_owned();
    if let Some(running) = task.running_for() {
        s.push_str(&format!(" for {}", short(running)));
    }
    if let Some(target) = task.awaiting() {
        s.push_str(&format!(", awaits {target}"));
    }
    s
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.tasks.len() == 1 { "" } else { "s" };
        writeln!(
            f,
            "bucle loop {}: {} task{plural}",
            self.loop_id,
            self.tasks.len()
        )?;
        let rows: Vec<[String; 8]> = self
            .tasks
            .iter()
            .map(|t| {
                [
                    t.id().to_string(),
                    t.parent().map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    t.name()
                        .map_or_else(|| "-".to_owned(), |n| format!("{n:?}")),
                    doing(t),
                    t.polls().to_string(),
                    opt(t.busy()),
                    opt(t.longest_poll()),
                    t.spawned_at().to_string(),
                ]
            })
            .collect();
        let header = [
            "id",
            "parent",
            "name",
            "state",
            "polls",
            "busy",
            "longest",
            "spawned at",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 8]| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<w$}  "));
                }
            }
            writeln!(f, "{}", out.trim_end())
        };
        line(f, header)?;
        for row in &rows {
            line(f, row.each_ref().map(String::as_str))?;
        }
        Ok(())
    }
}

struct Tree<'a>(&'a Dump);

impl fmt::Display for Tree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tasks = &self.0.tasks;
        let present = |id: Id| tasks.iter().any(|t| t.id() == id);
        writeln!(f, "bucle loop {}", self.0.loop_id)?;
        let roots: Vec<&TaskInfo> = tasks
            .iter()
            .filter(|t| t.parent().is_none_or(|p| !present(p)))
            .collect();
        for (i, root) in roots.iter().enumerate() {
            write_node(f, tasks, root, "", i + 1 == roots.len())?;
        }
        Ok(())
    }
}

fn write_node(
    f: &mut fmt::Formatter<'_>,
    tasks: &[TaskInfo],
    task: &TaskInfo,
    prefix: &str,
    last: bool,
) -> fmt::Result {
    let branch = if last { "└── " } else { "├── " };
    writeln!(
        f,
        "{prefix}{branch}{} [{}] {}",
        super::describe(task.id(), task.name()),
        doing(task),
        task.spawned_at()
    )?;
    let children: Vec<&TaskInfo> = tasks
        .iter()
        .filter(|t| t.parent() == Some(task.id()))
        .collect();
    let prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    for (i, child) in children.iter().enumerate() {
        write_node(f, tasks, child, &prefix, i + 1 == children.len())?;
    }
    Ok(())
}
