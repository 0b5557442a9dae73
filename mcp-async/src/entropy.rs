//! The entropy the core asks for (legacy session ids), from the operating system.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Fills `buf` from the OS's secure random source. Should that ever fail, the bytes come
/// from the standard library's randomly keyed hasher instead (also seeded by the OS), and the
/// failure is logged: a session id is never left predictable or zero.
pub fn os_entropy(buf: &mut [u8]) {
    if let Err(error) = getrandom::fill(buf) {
        tracing::error!(%error, "the OS random source failed; using the hasher's keys");
        for (index, chunk) in buf.chunks_mut(8).enumerate() {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_usize(index);
            for (slot, byte) in chunk.iter_mut().zip(hasher.finish().to_le_bytes()) {
                *slot = byte;
            }
        }
    }
}
