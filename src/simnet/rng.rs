//! A small deterministic random number generator (SplitMix64) so that a seed alone fixes the
//! whole simulated chain, independent of any external crate's algorithm changes.

use crate::hashes::sha256_parts;

/// Deterministic generator derived from a seed and a label.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `(seed, labels…)`.
    pub fn new(seed: u64, labels: &[&[u8]]) -> Rng {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(labels.len() + 1);
        let s = seed.to_le_bytes();
        parts.push(&s);
        parts.extend_from_slice(labels);
        let h = sha256_parts(&parts);
        Rng(u64::from_le_bytes(h[..8].try_into().expect("8 bytes")))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// 32 random bytes.
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}
