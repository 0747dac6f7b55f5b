//! Turning raw return addresses into frames, on the watchdog thread, and deciding which
//! frames are the user's.

use std::ffi::c_void;

use super::report::Frame;

/// Symbolizes `ips` (innermost first), drops the frames of the signal handler itself, and
/// marks the frames that belong to the user's code.
pub(crate) fn symbolize(ips: &[usize]) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(ips.len());
    for &ip in ips {
        let mut resolved = false;
        backtrace::resolve(ip as *mut c_void, |symbol| {
            resolved = true;
            let function = symbol
                .name()
                .map(|name| format!("{name:#}"))
                .unwrap_or_else(|| format!("{ip:#x}"));
            frames.push(Frame {
                function,
                file: symbol.filename().map(|path| path.display().to_string()),
                line: symbol.lineno(),
                column: symbol.colno(),
                user: false,
            });
        });
        if !resolved {
            frames.push(Frame {
                function: format!("{ip:#x}"),
                file: None,
                line: None,
                column: None,
                user: false,
            });
        }
    }
    // The handler's own frames end at the kernel's signal trampoline; what follows is the
    // interrupted code.
    if let Some(trampoline) = frames.iter().position(|frame| {
        frame.function.contains("__restore_rt") || frame.function == "__kernel_rt_sigreturn"
    }) {
        frames.drain(..=trampoline);
    } else {
        let handler = frames
            .iter()
            .rposition(|frame| frame.function.contains("detector::sampler"))
            .map_or(0, |index| index + 1);
        frames.drain(..handler);
    }
    let cwd = std::env::current_dir()
        .ok()
        .map(|dir| format!("{}/", dir.display()));
    for frame in &mut frames {
        frame.user = is_user(frame);
        // Paths of the user's crate as rustc prints them: relative to where it runs.
        if let (Some(cwd), Some(file)) = (&cwd, &mut frame.file) {
            if let Some(relative) = file.strip_prefix(cwd.as_str()) {
                *file = relative.to_owned();
            }
        }
    }
    frames
}

/// True for frames of the user's code: a source file outside the toolchain, the registry and
/// bucle, in a function that is not bucle's, std's or the unwinder's.
pub(crate) fn is_user(frame: &Frame) -> bool {
    let Some(file) = frame.file.as_deref() else {
        return false;
    };
    let foreign_file = [
        "/rustc/",
        "/.cargo/registry/",
        "/.cargo/git/",
        "/library/std/",
    ]
    .iter()
    .any(|dir| file.contains(dir))
        || file.starts_with("/usr/")
        || file.starts_with("./")
        || file.starts_with("../");
    // The user's crate is Rust: its functions have paths (C libraries' do not).
    frame.function.contains("::")
        && !foreign_file
        && !is_runtime(&frame.function)
        && !is_bucle_source(file)
}

/// Functions of std, core, bucle and the crates it runs tasks with.
pub(crate) fn is_runtime(function: &str) -> bool {
    let function = function.trim_start_matches('<');
    [
        "std::",
        "core::",
        "alloc::",
        "bucle::",
        "async_task::",
        "backtrace::",
        "futures_",
        "__rust",
        "__libc",
    ]
    .iter()
    .any(|prefix| function.starts_with(prefix))
}

/// bucle's own sources (when the user's crate depends on bucle by path).
fn is_bucle_source(file: &str) -> bool {
    let ours = env!("CARGO_MANIFEST_DIR");
    file.starts_with(&format!("{ours}/src/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, file: Option<&str>) -> Frame {
        Frame {
            function: function.into(),
            file: file.map(Into::into),
            line: Some(1),
            column: None,
            user: false,
        }
    }

    #[test]
    fn user_frames_are_told_apart() {
        assert!(is_user(&frame(
            "app::fetch",
            Some("/home/me/app/src/main.rs")
        )));
        assert!(!is_user(&frame(
            "std::thread::sleep",
            Some("/rustc/abc/library/std/src/thread/mod.rs")
        )));
        assert!(!is_user(&frame(
            "serde::de::x",
            Some("/home/me/.cargo/registry/src/x/serde/src/de.rs")
        )));
        assert!(!is_user(&frame("clock_nanosleep", None)));
        assert!(!is_user(&frame(
            "__GI___clock_nanosleep",
            Some("./time/../sysdeps/unix/sysv/linux/clock_nanosleep.c")
        )));
        assert!(!is_user(&frame(
            "bucle::runtime::core::Core::run_task",
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/src/runtime/core.rs"))
        )));
    }
}
