//! Locking the small shared states of this crate's queues and signals.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not: the states guarded in this crate are plain data that no code
/// leaves half-updated while it holds the lock, so a panic elsewhere does not make them unsafe
/// to use (and a transport must not fail because some unrelated thread panicked).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
