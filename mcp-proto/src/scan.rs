//! Searches for a few byte values in long inputs (line breaks in frames, brackets in JSON),
//! written so that the compiler turns them into vector instructions: each 32-byte block is
//! tested as a whole, without an early exit inside it, and only a block that holds a match is
//! searched byte by byte. A plain `iter().position(..)` looks at one byte per step.

/// Bytes tested together; two 128-bit or one 256-bit vector.
const BLOCK: usize = 32;

/// The index of the first byte of `haystack` for which `matches` holds.
#[inline]
pub(crate) fn find(haystack: &[u8], matches: impl Fn(u8) -> bool + Copy) -> Option<usize> {
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut offset = 0usize;
    for block in &mut blocks {
        if block.iter().fold(0u8, |hit, &b| hit | u8::from(matches(b))) != 0 {
            return block
                .iter()
                .position(|&b| matches(b))
                .map(|i| offset.saturating_add(i));
        }
        offset = offset.saturating_add(BLOCK);
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| matches(b))
        .map(|i| offset.saturating_add(i))
}

/// How many bytes of `haystack` satisfy `matches`.
#[inline]
pub(crate) fn count(haystack: &[u8], matches: impl Fn(u8) -> bool + Copy) -> usize {
    let mut total = 0usize;
    let mut blocks = haystack.chunks_exact(BLOCK);
    for block in &mut blocks {
        // At most 32 per block: a byte-wide sum cannot overflow, and stays in vector lanes.
        let hits = block
            .iter()
            .fold(0u8, |sum, &b| sum.wrapping_add(u8::from(matches(b))));
        total = total.saturating_add(usize::from(hits));
    }
    let rest = blocks.remainder().iter().filter(|&&b| matches(b)).count();
    total.saturating_add(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_position_at_every_offset_and_length() {
        for len in 0..100 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                if let Some(b) = bytes.get_mut(at) {
                    *b = b'\n';
                }
                let expected = bytes.iter().position(|&b| b == b'\n');
                assert_eq!(find(&bytes, |b| b == b'\n'), expected, "len {len} at {at}");
            }
        }
        let bytes = b"0123456789abcdef0123456789abcdef0123\r5\n";
        assert_eq!(find(bytes, |b| b == b'\n' || b == b'\r'), Some(36));
    }

    #[test]
    fn count_agrees_with_filter() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 128) as u8).collect();
        for len in [0, 1, 31, 32, 33, 64, 100, 1000] {
            let slice = bytes.get(..len).unwrap_or_default();
            let expected = slice.iter().filter(|&&b| b == b'{' || b == b'[').count();
            assert_eq!(count(slice, |b| b == b'{' || b == b'['), expected);
        }
        assert_eq!(count(&[b'{'; 300], |b| b == b'{'), 300);
    }
}
