//! The little the lint knows about types: enough to tell that `rx.recv()` is a
//! `std::sync::mpsc::Receiver`'s when `rx` came from `mpsc::channel()`, and nothing more.
//! Anything it cannot see from the code at hand is unknown, and an unknown receiver is never
//! reported.

/// A value's type as far as the lint can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A type outside the crate, by canonical path (`std::sync::mpsc::Receiver`).
    Path(String),
    /// A type defined in the crate, by name (its fields are looked up by name).
    Local(String),
    /// `Result<T, _>` or `Option<T>`: `?`, `unwrap()` and `expect(..)` give the `T`.
    Fallible(Box<Ty>),
    /// A tuple, for `let (tx, rx) = mpsc::channel();`.
    Tuple(Vec<Option<Ty>>),
}

impl Ty {
    /// The type after `?`, `.unwrap()` or `.expect(..)`.
    pub fn unwrapped(self) -> Option<Ty> {
        match self {
            Ty::Fallible(inner) => Some(*inner),
            _ => None,
        }
    }

    /// The canonical path of an external type, the one the method tables are keyed by.
    pub fn path(&self) -> Option<&str> {
        match self {
            Ty::Path(p) => Some(p),
            _ => None,
        }
    }
}
