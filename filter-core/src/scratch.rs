//! Scratch memory a thread keeps from call to call (the regex-automata
//! `Cache` idea, behind `scan()`): the normalized text, the context window,
//! the fuzzy comparison windows. A scan of a prompt then allocates nothing
//! for them once its thread has scanned one of that size.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Scratch kept per thread.
pub(crate) trait Scratch: Default + 'static {
    /// Called after each use: gives back what a large input grew the
    /// scratch to, so that a thread does not keep it for good.
    fn trim(&mut self) {}
}

/// Runs `f` with this thread's scratch in `key`, then trims it; a fresh
/// scratch if this thread's is in use (`f` reached this again).
pub(crate) fn with<T: Scratch, R>(
    key: &'static LocalKey<RefCell<T>>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let r = f(&mut scratch);
            scratch.trim();
            r
        }
        Err(_) => f(&mut T::default()),
    })
}
