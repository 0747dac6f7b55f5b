//! What the lint knows: which calls block, what to use instead, which calls run their closure
//! off the loop, and the types that constructors and builder methods return (so a method call's
//! receiver type can be told from the code around it).
//!
//! Every path here is canonical: the crate's public path after [`canonical`] has folded
//! re-exports (`bucle::Runtime` and `bucle::runtime::Runtime` are one type).

use crate::types::Ty;

/// One known-blocking call and its replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocking {
    /// The call as the diagnostic names it: `std::thread::sleep`, `std::sync::mpsc::Receiver::recv`.
    pub call: String,
    /// What to do instead, as the `help:` line says it.
    pub help: String,
}

/// Folds re-exports and the `::` root into one spelling per item, so the tables need one entry.
pub fn canonical(path: &str) -> String {
    let path = path.strip_prefix("::").unwrap_or(path);
    const ALIASES: &[(&str, &str)] = &[
        ("core::", "std::"),
        ("alloc::", "std::"),
        ("bucle::Runtime", "bucle::runtime::Runtime"),
        ("bucle::Handle", "bucle::runtime::Handle"),
        (
            "bucle::run_in_executor_with",
            "bucle::offload::run_in_executor_with",
        ),
        ("bucle::run_in_executor", "bucle::offload::run_in_executor"),
        ("bucle::ThreadPool", "bucle::offload::ThreadPool"),
        ("bucle::run", "bucle::runtime::run"),
        ("futures_executor::", "futures::executor::"),
        ("futures::executor::block_on", "futures::executor::block_on"),
    ];
    for (from, to) in ALIASES {
        if let Some(rest) = path.strip_prefix(from) {
            // `bucle::run` must not swallow `bucle::run_in_executor`: an alias matches a whole
            // segment or a prefix that ends in `::`.
            if from.ends_with("::") || rest.is_empty() || rest.starts_with("::") {
                return format!("{to}{rest}");
            }
        }
    }
    path.to_string()
}

/// `std::fs` functions that `bucle::fs` provides under the same name.
const BUCLE_FS: &[&str] = &["read", "read_to_string", "write"];

/// Every function of `std::fs` that touches the file system.
const STD_FS_FNS: &[&str] = &[
    "canonicalize",
    "copy",
    "create_dir",
    "create_dir_all",
    "exists",
    "hard_link",
    "metadata",
    "read",
    "read_dir",
    "read_link",
    "read_to_string",
    "remove_dir",
    "remove_dir_all",
    "remove_file",
    "rename",
    "set_permissions",
    "soft_link",
    "symlink_metadata",
    "write",
];

const BLOCK_ON_FNS: &[&str] = &[
    "futures::executor::block_on",
    "futures_lite::future::block_on",
    "pollster::block_on",
    "smol::block_on",
    "async_io::block_on",
    "async_std::task::block_on",
];

/// Synchronous network clients: every call under these paths does network I/O on the calling
/// thread (a `ureq` agent is the one thing made without it).
const SYNC_CLIENT_PREFIXES: &[&str] = &["reqwest::blocking::", "ureq::"];

/// A blocking free function or associated function, by its canonical path.
pub fn blocking_path(path: &str) -> Option<Blocking> {
    let entry = |help: String| {
        Some(Blocking {
            call: path.to_string(),
            help,
        })
    };
    if path == "std::thread::sleep" {
        return entry("use `bucle::sleep(..).await`".into());
    }
    if let Some(name) = path.strip_prefix("std::fs::") {
        if BUCLE_FS.contains(&name) {
            return entry(format!("use `bucle::fs::{name}(..).await`"));
        }
        if STD_FS_FNS.contains(&name) {
            return entry(format!(
                "use `bucle::run_in_executor(move || std::fs::{name}(..)).await`"
            ));
        }
        if matches!(name, "File::open" | "File::create" | "File::create_new") {
            let ctor = name
                .trim_start_matches("File::")
                .replace("create_new", "create");
            return entry(format!("use `bucle::fs::File::{ctor}(..).await`"));
        }
        return None;
    }
    if matches!(
        path,
        "std::net::TcpStream::connect" | "std::net::TcpStream::connect_timeout"
    ) {
        return entry("use `bucle::net::TcpStream::connect(..).await`".into());
    }
    if BLOCK_ON_FNS.contains(&path) {
        return entry("`.await` the future instead of blocking the loop on it".into());
    }
    if path == "bucle::runtime::run" {
        return entry("`.await` the future: `bucle::run` starts a second loop and blocks this one until it ends".into());
    }
    if path == "postgres::Client::connect" || path == "postgres::Config::connect" {
        return entry(sync_client_help());
    }
    if SYNC_CLIENT_PREFIXES.iter().any(|p| path.starts_with(p))
        && !path.starts_with("ureq::Agent")
        && path != "ureq::agent"
    {
        return entry(sync_client_help());
    }
    None
}

fn sync_client_help() -> String {
    "a synchronous client blocks on the network: run it with `bucle::run_in_executor(move || ..).await`, or use an async client".into()
}

/// A blocking method, by the canonical path of its receiver's type and the method's name.
pub fn blocking_method(ty: &str, method: &str) -> Option<Blocking> {
    let help: Option<String> = match (ty, method) {
        ("std::net::TcpListener", "accept" | "incoming") => {
            Some("use `bucle::net::TcpListener` and `.accept().await`".into())
        }
        ("std::os::unix::net::UnixListener", "accept" | "incoming") => {
            Some("use `bucle::net::UnixListener` and `.accept().await`".into())
        }
        (
            "std::net::TcpStream" | "std::os::unix::net::UnixStream",
            "read" | "read_exact" | "read_to_end" | "read_to_string" | "write" | "write_all",
        ) => Some(format!(
            "use `{}` (an `AsyncRead` and `AsyncWrite`) and `.{method}(..).await`",
            ty.replace("std::os::unix::net", "bucle::net").replace("std::net", "bucle::net")
        )),
        ("std::net::UdpSocket", "recv" | "recv_from" | "peek" | "peek_from") => {
            Some(format!("use `bucle::net::UdpSocket` and `.{method}(..).await`"))
        }
        ("std::process::Command", "output" | "status") => {
            Some(format!("use `bucle::process::Command` and `.{method}().await`"))
        }
        ("std::process::Child", "wait" | "wait_with_output") => Some(format!(
            "spawn it with `bucle::process::Command` and `.{method}().await` its child"
        )),
        ("std::io::Stdin" | "std::io::StdinLock", "read_line" | "lines" | "read_to_string" | "read_to_end") => Some(
            "read `bucle::io::stdin()` (an `AsyncRead`) through `futures::io::BufReader` with `.read_line(..).await`".into(),
        ),
        ("std::sync::mpsc::Receiver", "recv" | "recv_timeout" | "iter") => Some(
            "use an async queue: `bucle::sync::Queue` and `.get().await`".into(),
        ),
        ("std::sync::mpsc::SyncSender", "send") => Some(
            "use an async queue: `bucle::sync::Queue` and `.put(..).await`".into(),
        ),
        ("std::sync::Condvar", "wait" | "wait_while" | "wait_timeout" | "wait_timeout_while") => {
            Some("use `bucle::sync::Condition` and `.wait(guard).await`".into())
        }
        ("std::sync::Barrier", "wait") => Some("use `bucle::sync::Barrier` and `.wait().await`".into()),
        ("std::thread::JoinHandle", "join") => Some(
            "run the work with `bucle::run_in_executor(..).await` instead of joining a thread".into(),
        ),
        (
            "tokio::runtime::Runtime" | "tokio::runtime::Handle" | "bucle::runtime::Runtime"
            | "futures::executor::LocalPool",
            "block_on" | "run_until",
        ) => Some("`.await` the future instead of blocking the loop on it".into()),
        (
            "std::fs::File",
            "read" | "read_exact" | "read_to_end" | "read_to_string" | "write" | "write_all"
            | "sync_all" | "sync_data" | "set_len",
        ) => Some(format!(
            "use `bucle::fs::File`, or move the I/O into `bucle::run_in_executor(move || file.{method}(..)).await`"
        )),
        ("std::fs::OpenOptions", "open") => {
            Some("use `bucle::fs::File::open_with(..).await`".into())
        }
        (
            "postgres::Client" | "postgres::Transaction",
            "query" | "query_one" | "query_opt" | "execute" | "batch_execute" | "prepare"
            | "transaction" | "commit" | "copy_in" | "copy_out" | "simple_query",
        ) => Some(sync_client_help()),
        _ => None,
    };
    help.map(|help| Blocking {
        call: format!("{ty}::{method}"),
        help,
    })
}

/// Lock types whose guard must not live across an `.await`, with the methods that return one.
pub fn guard_lock(ty: &str, method: &str) -> bool {
    matches!(
        (ty, method),
        ("std::sync::Mutex" | "parking_lot::Mutex", "lock")
            | (
                "std::sync::RwLock" | "parking_lot::RwLock",
                "read" | "write"
            )
    )
}

/// Free functions whose closure argument runs on another thread.
pub fn off_loop_path(path: &str) -> bool {
    matches!(
        path,
        "std::thread::spawn"
            | "bucle::offload::run_in_executor"
            | "bucle::offload::run_in_executor_with"
            | "tokio::task::spawn_blocking"
            | "tokio::task::block_in_place"
            | "blocking::unblock"
            | "smol::unblock"
            | "async_std::task::spawn_blocking"
            | "rayon::spawn"
    )
}

/// Methods whose closure argument runs on another thread: `ThreadPool::run`,
/// `thread::Builder::spawn`, `Scope::spawn`, `Handle::spawn_blocking` and their kin.
///
/// Only a closure or a function path argument counts, so `task::Builder::spawn(async { .. })`
/// (a future, run on the loop) is not mistaken for a thread.
pub fn off_loop_method(method: &str) -> bool {
    matches!(
        method,
        "run"
            | "spawn"
            | "spawn_scoped"
            | "spawn_blocking"
            | "unblock"
            | "run_in_executor"
            | "run_in_executor_with"
            | "execute"
    )
}

/// The runtime detector's allow scope: its closure is deliberately allowed to block.
pub fn allow_scope_path(path: &str) -> bool {
    path == "bucle::detector::allow"
}

/// Types that wrap another without changing which methods matter (`Arc<Mutex<T>>` locks like
/// `Mutex<T>`).
pub fn is_transparent_wrapper(path: &str) -> bool {
    matches!(
        path,
        "std::sync::Arc" | "std::rc::Rc" | "Box" | "std::boxed::Box" | "Arc" | "Rc"
    )
}

/// `Result` and `Option`: `?`, `unwrap` and `expect` look through them.
pub fn is_fallible_wrapper(path: &str) -> bool {
    matches!(
        path,
        "Result" | "Option" | "std::result::Result" | "std::option::Option" | "std::io::Result"
    )
}

/// Names that a glob import (`use std::thread::*;`) may bring in: only those the tables know,
/// so an unknown name is never guessed into a blocking one.
pub fn known_glob_target(path: &str) -> bool {
    blocking_path(path).is_some()
        || off_loop_path(path)
        || allow_scope_path(path)
        || constructor(path).is_some()
        || KNOWN_TYPES.contains(&path)
}

/// Types whose methods the tables mention.
const KNOWN_TYPES: &[&str] = &[
    "std::net::TcpListener",
    "std::net::TcpStream",
    "std::net::UdpSocket",
    "std::os::unix::net::UnixStream",
    "std::os::unix::net::UnixListener",
    "std::process::Command",
    "std::process::Child",
    "std::io::Stdin",
    "std::sync::mpsc::Receiver",
    "std::sync::mpsc::SyncSender",
    "std::sync::Condvar",
    "std::sync::Barrier",
    "std::sync::Mutex",
    "std::sync::RwLock",
    "std::sync::Arc",
    "std::thread::JoinHandle",
    "std::fs::File",
    "std::fs::OpenOptions",
];

fn path(p: &str) -> Ty {
    Ty::Path(p.to_string())
}

fn fallible(t: Ty) -> Ty {
    Ty::Fallible(Box::new(t))
}

/// What a free function or associated function returns, when that says what later method
/// calls on it mean. `T::new()`, `T::default()` and `T::with_capacity(..)` return `T` by
/// convention and are handled by the caller.
pub fn constructor(p: &str) -> Option<Ty> {
    Some(match p {
        "std::sync::mpsc::channel" => Ty::Tuple(vec![
            Some(path("std::sync::mpsc::Sender")),
            Some(path("std::sync::mpsc::Receiver")),
        ]),
        "std::sync::mpsc::sync_channel" => Ty::Tuple(vec![
            Some(path("std::sync::mpsc::SyncSender")),
            Some(path("std::sync::mpsc::Receiver")),
        ]),
        "std::net::TcpListener::bind" => fallible(path("std::net::TcpListener")),
        "std::net::UdpSocket::bind" => fallible(path("std::net::UdpSocket")),
        "std::net::TcpStream::connect" | "std::net::TcpStream::connect_timeout" => {
            fallible(path("std::net::TcpStream"))
        }
        "std::thread::spawn" => path("std::thread::JoinHandle"),
        "std::io::stdin" => path("std::io::Stdin"),
        "std::fs::File::open" | "std::fs::File::create" | "std::fs::File::create_new" => {
            fallible(path("std::fs::File"))
        }
        "std::fs::File::options" => path("std::fs::OpenOptions"),
        "tokio::runtime::Runtime::new" => fallible(path("tokio::runtime::Runtime")),
        "tokio::runtime::Builder::new_current_thread"
        | "tokio::runtime::Builder::new_multi_thread" => path("tokio::runtime::Builder"),
        "tokio::runtime::Handle::current" => path("tokio::runtime::Handle"),
        "bucle::runtime::Runtime::new" => fallible(path("bucle::runtime::Runtime")),
        "bucle::runtime::Runtime::builder" => path("bucle::runtime::Builder"),
        "bucle::offload::ThreadPool::builder" => path("bucle::offload::ThreadPoolBuilder"),
        "postgres::Client::connect" => fallible(path("postgres::Client")),
        _ => return None,
    })
}

/// What a method returns, for the receiver types the tables care about (builders return
/// themselves; `spawn` returns a handle).
pub fn method_returns(ty: &str, method: &str) -> Option<Ty> {
    Some(match (ty, method) {
        (
            "std::process::Command",
            "arg" | "args" | "env" | "envs" | "env_remove" | "env_clear" | "current_dir" | "stdin"
            | "stdout" | "stderr" | "uid" | "gid" | "process_group",
        ) => path("std::process::Command"),
        ("std::process::Command", "spawn") => fallible(path("std::process::Child")),
        (
            "std::fs::OpenOptions",
            "read" | "write" | "append" | "truncate" | "create" | "create_new" | "mode",
        ) => path("std::fs::OpenOptions"),
        ("std::thread::Builder", "name" | "stack_size") => path("std::thread::Builder"),
        ("std::thread::Builder", "spawn") => fallible(path("std::thread::JoinHandle")),
        ("std::io::Stdin", "lock") => path("std::io::StdinLock"),
        ("tokio::runtime::Runtime", "handle") => path("tokio::runtime::Handle"),
        ("tokio::runtime::Builder", "build") => fallible(path("tokio::runtime::Runtime")),
        ("tokio::runtime::Builder", _) => path("tokio::runtime::Builder"),
        ("bucle::runtime::Builder", "build") => fallible(path("bucle::runtime::Runtime")),
        ("bucle::runtime::Builder", _) => path("bucle::runtime::Builder"),
        ("bucle::offload::ThreadPoolBuilder", "build") => path("bucle::offload::ThreadPool"),
        ("bucle::offload::ThreadPoolBuilder", _) => path("bucle::offload::ThreadPoolBuilder"),
        ("postgres::Client", "transaction") => fallible(path("postgres::Transaction")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_folds_reexports_by_whole_segments() {
        assert_eq!(canonical("::std::thread::sleep"), "std::thread::sleep");
        assert_eq!(canonical("bucle::Runtime"), "bucle::runtime::Runtime");
        assert_eq!(
            canonical("bucle::run_in_executor"),
            "bucle::offload::run_in_executor"
        );
        assert_eq!(canonical("bucle::run"), "bucle::runtime::run");
        assert_eq!(canonical("bucle::runner"), "bucle::runner");
    }

    #[test]
    fn async_twins_are_not_blocking() {
        for p in [
            "bucle::fs::read",
            "bucle::time::sleep",
            "tokio::time::sleep",
            "std::fs::OpenOptions::new",
        ] {
            assert_eq!(blocking_path(p), None, "{p}");
        }
        assert!(blocking_path("std::fs::remove_file").is_some());
        assert!(blocking_path("ureq::get").is_some());
    }
}
