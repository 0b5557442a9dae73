//! The entropy the core asks for (legacy session ids), from the operating system.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Fills `buf` from the OS's secure random source. Should that ever fail, the bytes come
/// from the standard library's randomly keyed hasher instead (also seeded by the OS), and the
/// failure is logged: a session id is never left predictable or zero.
pub fn os_entropy(buf: &mut [u8]) {
    if let Err(error) = os_random(buf) {
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

/// The kernel's random source on Unix-like systems (`/dev/urandom`, opened once and shared:
/// reads of it are thread-safe and never block once the system has booted).
#[cfg(unix)]
fn os_random(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    use std::sync::OnceLock;

    static URANDOM: OnceLock<std::fs::File> = OnceLock::new();
    let file = match URANDOM.get() {
        Some(file) => file,
        None => {
            let opened = std::fs::File::open("/dev/urandom")?;
            URANDOM.get_or_init(|| opened)
        }
    };
    (&*file).read_exact(buf)
}

/// The operating system's random source elsewhere.
#[cfg(not(unix))]
fn os_random(buf: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(buf).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_byte_differently_each_time() {
        let (mut first, mut second) = ([0u8; 32], [0u8; 32]);
        os_entropy(&mut first);
        os_entropy(&mut second);
        assert_ne!(first, [0u8; 32]);
        assert_ne!(first, second);
    }
}
