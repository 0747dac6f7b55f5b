//! Which loop, if any, is running on this thread.
//!
//! The loop marks itself current for the length of `block_on` (and while it shuts down), so
//! that `spawn`, `sleep` and the wakers of its tasks can find it without carrying a reference
//! around. A wake on the loop thread takes the cheap local path; anything else goes through
//! the loop's remote queue. This lookup runs on every spawn and every local wake, so it is a
//! plain pointer in a thread-local rather than a `RefCell<Option<Rc<_>>>`.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::Rc;

use super::core::Core;

thread_local! {
    /// The current loop, or null. Only an `EnterGuard` writes it, and while it points to a
    /// core, `OWNED` holds an `Rc` of that core.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
    /// The same core, owned, for the callers that keep it beyond one call.
    static OWNED: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// The loop running on this thread, if any, as an owned handle.
pub(crate) fn current() -> Option<Rc<Core>> {
    OWNED
        .try_with(|owned| owned.borrow().clone())
        .ok()
        .flatten()
}

/// [`current`], or a panic at the caller's location that says what to do instead.
#[track_caller]
pub(crate) fn expect_current_rc(what: &str) -> Rc<Core> {
    match current() {
        Some(core) => core,
        None => expect_current(what, |_| unreachable!("no loop is current")),
    }
}

/// Runs `f` with the loop running on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    // A thread being torn down behaves as if no loop runs on it.
    let current = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: a non-null pointer was stored by a live `EnterGuard`, which put an `Rc` of
    // that core in `OWNED` until it drops, so the core is alive. Guards live in the stack frames of `block_on` and of
    // the runtime's drop, outside any call of `f`, and restore the previous pointer when they
    // drop, so the pointer cannot go stale while `f` runs. The borrow cannot outlive `f`.
    f(unsafe { current.as_ref() })
}

/// Runs `f` with the loop running on this thread, or panics at the caller's location with a
/// message that says what to do instead.
#[track_caller]
pub(crate) fn expect_current<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    let mut f = Some(f);
    let result = with_current(|core| core.map(|core| (f.take().expect("called once"))(core)));
    match result {
        Some(result) => result,
        None => panic!(
            "{what} must be called from inside a bucle event loop, but no loop is running on \
             this thread; start one with `bucle::run(async {{ .. }})` or \
             `Runtime::block_on`, or use a `bucle::Handle` from other threads"
        ),
    }
}

/// Marks a core as the loop of this thread until the guard drops.
pub(crate) struct EnterGuard {
    previous: *const Core,
    previous_owned: Option<Rc<Core>>,
}

/// Enters `core` on this thread. Panics at the caller's location if another loop is already
/// running here: two loops on one thread would each block the other.
#[track_caller]
pub(crate) fn enter(core: Rc<Core>, what: &str) -> EnterGuard {
    if with_current(|current| current.is_some()) {
        panic!(
            "`{what}` was called on a thread that is already running a bucle event loop; a \
             loop cannot block inside itself. Use `.await` on the future instead, \
             `bucle::spawn` it, or move the blocking call to another thread with \
             `bucle::run_in_executor`"
        );
    }
    enter_for_shutdown(core)
}

/// Enters `core` for its own shutdown even if the thread is inside another loop (a runtime
/// dropped inside a task): its tasks must be dropped with their own loop marked current.
pub(crate) fn enter_for_shutdown(core: Rc<Core>) -> EnterGuard {
    let pointer = Rc::as_ptr(&core);
    let previous = CURRENT
        .try_with(|current| current.replace(pointer))
        .unwrap_or(ptr::null());
    // `OWNED` keeps the pointed-to core alive while it is current.
    let previous_owned = OWNED
        .try_with(|owned| owned.borrow_mut().replace(core))
        .ok()
        .flatten();
    EnterGuard {
        previous,
        previous_owned,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(self.previous));
        let previous = self.previous_owned.take();
        let _ = OWNED.try_with(|owned| *owned.borrow_mut() = previous);
    }
}
