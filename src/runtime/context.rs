//! Which loop, if any, is running on this thread.
//!
//! The loop sets [`CURRENT`] for the length of `block_on` (and while it shuts down), so that
//! `spawn`, `sleep` and the wakers of its tasks can find it without carrying a reference around.
//! A wake on the loop thread takes the cheap local path; anything else goes through the
//! loop's remote queue.

use std::cell::RefCell;
use std::rc::Rc;

use super::core::Core;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the loop running on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Rc<Core>>) -> R) -> R {
    let mut f = Some(f);
    match CURRENT.try_with(|current| (f.take().expect("called once"))(current.borrow().as_ref())) {
        Ok(result) => result,
        // The thread is being torn down: behave as if no loop runs here.
        Err(_) => (f.take().expect("called once"))(None),
    }
}

/// Returns the loop running on this thread, if any.
pub(crate) fn current() -> Option<Rc<Core>> {
    with_current(|core| core.cloned())
}

/// Returns the loop running on this thread, or panics at the caller's location with a
/// message that says what to do instead.
#[track_caller]
pub(crate) fn expect_current(what: &str) -> Rc<Core> {
    match current() {
        Some(core) => core,
        None => panic!(
            "{what} must be called from inside a bucle event loop, but no loop is running on \
             this thread; start one with `bucle::run(async {{ .. }})` or \
             `Runtime::block_on`, or use a `bucle::Handle` from other threads"
        ),
    }
}

/// Marks `core` as the loop of this thread until the guard drops.
pub(crate) struct EnterGuard {
    previous: Option<Rc<Core>>,
}

/// Enters `core` on this thread. Panics at the caller's location if another loop is already
/// running here: two loops on one thread would each block the other.
#[track_caller]
pub(crate) fn enter(core: Rc<Core>, what: &str) -> EnterGuard {
    let already = with_current(|current| current.is_some());
    if already {
        panic!(
            "`{what}` was called on a thread that is already running a bucle event loop; a \
             loop cannot block inside itself. Use `.await` on the future instead, \
             `bucle::spawn` it, or move the blocking call to another thread with \
             `bucle::run_in_executor`"
        );
    }
    let previous = CURRENT.with(|current| current.borrow_mut().replace(core));
    EnterGuard { previous }
}

/// Enters `core` for its own shutdown even if the thread is inside another loop (a runtime
/// dropped inside a task): its tasks must be dropped with their own loop marked current.
pub(crate) fn enter_for_shutdown(core: Rc<Core>) -> EnterGuard {
    let previous = CURRENT
        .try_with(|current| current.borrow_mut().replace(core))
        .ok()
        .flatten();
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}
