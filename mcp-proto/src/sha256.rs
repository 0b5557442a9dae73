//! SHA-256 (FIPS 180-4 §6.2): the PKCE `S256` code challenge, and the `sha256:` digests of
//! skill listings.
//!
//! Written here rather than taken from the `sha2` crate because `sha2` pulls in `cpufeatures`,
//! which depends on `libc` on some targets, and `mcp-proto`'s dependency tree must stay free of
//! OS crates on every target (`scripts/check-purity.sh`); it also spares the adapters seven
//! crates. Its constants are checked against their definition and its output against the
//! FIPS 180-2 examples in the tests.

/// Round constants: the first 32 bits of the fractional parts of the cube roots of the first
/// 64 primes (FIPS 180-4 §4.2.2).
const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

/// Initial hash value: the first 32 bits of the fractional parts of the square roots of the
/// first 8 primes (FIPS 180-4 §5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The SHA-256 digest of `message`.
///
/// ```
/// let hash = mcp_proto::sha256::digest(b"abc");
/// assert_eq!(hash[..4], [0xba, 0x78, 0x16, 0xbf]);
/// ```
#[must_use]
pub fn digest(message: &[u8]) -> [u8; 32] {
    let mut state = H0;
    let mut blocks = message.chunks_exact(64);
    for block in blocks.by_ref() {
        compress(&mut state, block);
    }
    // Padding: the remainder, 0x80, zeros, and the bit length as a big-endian u64, filling one
    // or two final blocks.
    let remainder = blocks.remainder();
    let mut tail = [0_u8; 128];
    let tail_len = if remainder.len() < 56 { 64 } else { 128 };
    for (slot, byte) in tail.iter_mut().zip(remainder) {
        *slot = *byte;
    }
    if let Some(slot) = tail.get_mut(remainder.len()) {
        *slot = 0x80;
    }
    let bit_len = (message.len() as u64).wrapping_mul(8);
    if let Some(length) = tail.get_mut(tail_len - 8..tail_len) {
        length.copy_from_slice(&bit_len.to_be_bytes());
    }
    for block in tail.get(..tail_len).unwrap_or_default().chunks_exact(64) {
        compress(&mut state, block);
    }
    let mut out = [0_u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// One application of the compression function to a 64-byte block (FIPS 180-4 §6.2.2).
#[allow(
    clippy::indexing_slicing,
    reason = "the message schedule is indexed with t - 16 ..= t - 2 for t in 16..64 of 64 words"
)]
fn compress(state: &mut [u32; 8], block: &[u8]) {
    let mut schedule = [0_u32; 64];
    for (word, bytes) in schedule.iter_mut().zip(block.chunks_exact(4)) {
        let mut be = [0_u8; 4];
        be.copy_from_slice(bytes);
        *word = u32::from_be_bytes(be);
    }
    for t in 16..64 {
        let (w2, w7, w15, w16) = (
            schedule[t - 2],
            schedule[t - 7],
            schedule[t - 15],
            schedule[t - 16],
        );
        let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
        let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
        schedule[t] = w16.wrapping_add(s0).wrapping_add(w7).wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (k, w) in K.iter().zip(schedule) {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(w);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (word, value) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *word = word.wrapping_add(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The first `count` primes.
    fn primes(count: usize) -> Vec<u32> {
        let mut found = Vec::new();
        let mut candidate = 2_u32;
        while found.len() < count {
            if found.iter().all(|prime| candidate % prime != 0) {
                found.push(candidate);
            }
            candidate += 1;
        }
        found
    }

    /// The first 32 bits of the fractional part of `root`, computed exactly in integers:
    /// the largest `r` with `r^n <= prime * 2^(32n)`, taken modulo 2^32.
    fn fractional_bits(prime: u32, n: u32) -> u32 {
        let target = u128::from(prime) << (32 * n);
        let (mut low, mut high) = (0_u128, 1_u128 << 40);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if mid.pow(n) <= target {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        (low & 0xffff_ffff) as u32
    }

    #[test]
    fn constants_match_their_definition() {
        let primes = primes(64);
        for (index, prime) in primes.iter().enumerate() {
            assert_eq!(K[index], fractional_bits(*prime, 3), "K[{index}]");
        }
        for (index, prime) in primes.iter().take(8).enumerate() {
            assert_eq!(H0[index], fractional_bits(*prime, 2), "H0[{index}]");
        }
    }

    #[test]
    fn fips_examples() {
        assert_eq!(
            hex(&digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&digest(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex(&digest(&[b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn every_padding_boundary_is_consistent() {
        // Lengths around the one- and two-block padding boundaries hash to distinct values,
        // and hashing is deterministic.
        let data = [0x5a_u8; 130];
        let mut seen = std::collections::HashSet::new();
        for len in 0..=130 {
            let first = digest(&data[..len]);
            assert_eq!(first, digest(&data[..len]));
            assert!(seen.insert(first), "collision at length {len}");
        }
        assert_eq!(
            hex(&digest(&[b'a'; 55])),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"
        );
        assert_eq!(
            hex(&digest(&[b'a'; 56])),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"
        );
        assert_eq!(
            hex(&digest(&[b'a'; 64])),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }
}
