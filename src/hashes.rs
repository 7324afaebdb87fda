//! Hash primitives shared by every layer: the 256-bit hash type with Dash's internal/display byte
//! orders, SHA-256, SHA-256d and the X11 block hash.
//!
//! Byte order convention (PROTOCOL.md §0.2): a [`Hash256`] always holds the **internal** bytes, as
//! they appear on the wire and in every hash input. Block explorers and RPC print the bytes
//! reversed ("display order"); [`Hash256::to_display_hex`] / [`Hash256::from_display_hex`] convert.
//! Ordering (`Ord`) is `memcmp` of the internal bytes, exactly as Dash Core orders `uint256`.

use sha2::{Digest, Sha256};
use std::fmt;

/// A 256-bit hash (block hash, txid, proRegTxHash, quorum hash…) in internal byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash256(pub [u8; 32]);

/// Error returned when a hex string is not a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 64-character hex hash: {0:?}")]
pub struct HashParseError(pub String);

impl Hash256 {
    /// The all-zero hash (Core's "null" uint256).
    pub const ZERO: Hash256 = Hash256([0u8; 32]);

    /// Wraps internal-order bytes.
    pub const fn from_bytes(b: [u8; 32]) -> Self {
        Hash256(b)
    }

    /// The internal-order bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// True for the all-zero hash.
    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 32]
    }

    /// Parses a hash written in display (byte-reversed) hex, as explorers print block hashes.
    pub fn from_display_hex(s: &str) -> Result<Self, HashParseError> {
        let mut b = Self::from_internal_hex(s)?.0;
        b.reverse();
        Ok(Hash256(b))
    }

    /// Parses a hash written in internal-order hex.
    pub fn from_internal_hex(s: &str) -> Result<Self, HashParseError> {
        let v = hex::decode(s.trim()).map_err(|_| HashParseError(s.to_string()))?;
        let b: [u8; 32] = v.try_into().map_err(|_| HashParseError(s.to_string()))?;
        Ok(Hash256(b))
    }

    /// Display (byte-reversed) hex, as explorers and RPC print it.
    pub fn to_display_hex(&self) -> String {
        let mut b = self.0;
        b.reverse();
        hex::encode(b)
    }

    /// Internal-order hex.
    pub fn to_internal_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display_hex())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({})", self.to_display_hex())
    }
}

impl serde::Serialize for Hash256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_display_hex())
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Hash256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Hash256::from_display_hex(&s).map_err(D::Error::custom)
        } else {
            let v = <Vec<u8>>::deserialize(d)?;
            let b: [u8; 32] = v
                .try_into()
                .map_err(|_| D::Error::custom("hash must be 32 bytes"))?;
            Ok(Hash256(b))
        }
    }
}

/// Single SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 over the concatenation of several slices (avoids building a temporary buffer).
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// SHA256d = SHA-256(SHA-256(data)), Core's `SerializeHash`.
pub fn sha256d(data: &[u8]) -> Hash256 {
    Hash256(sha256(&sha256(data)))
}

/// SHA256d over the concatenation of several slices.
pub fn sha256d_parts(parts: &[&[u8]]) -> Hash256 {
    Hash256(sha256(&sha256_parts(parts)))
}

/// The X11 hash of an 80-byte block header (PROTOCOL.md §2.2).
///
/// The input is a fixed-size array: a block header is exactly 80 bytes, so a shorter buffer
/// cannot be passed by construction. The implementation is pure Rust ([`crate::chain::x11`]).
pub fn x11(header: &[u8; 80]) -> Hash256 {
    #[cfg(test)]
    X11_CALLS.with(|c| c.set(c.get() + 1));
    Hash256(crate::chain::x11::x11(header))
}

#[cfg(test)]
thread_local! {
    /// X11 invocations on this thread (tests count the hashes a code path computes).
    pub(crate) static X11_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The number of X11 hashes computed on this thread so far (tests only).
#[cfg(test)]
pub(crate) fn x11_calls() -> u64 {
    X11_CALLS.with(|c| c.get())
}

/// Bitcoin-style merkle root over leaf hashes: pairwise SHA256d of `left ‖ right`, duplicating the
/// last element of an odd level; the empty list gives the zero hash (PROTOCOL.md §3.6).
pub fn merkle_root(leaves: &[Hash256]) -> Hash256 {
    if leaves.is_empty() {
        return Hash256::ZERO;
    }
    let mut level: Vec<Hash256> = leaves.to_vec();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            let l = &pair[0];
            let r = pair.get(1).unwrap_or(l);
            next.push(sha256d_parts(&[&l.0, &r.0]));
        }
        level = next;
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trip() {
        let s = "00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6";
        let h = Hash256::from_display_hex(s).unwrap();
        assert_eq!(h.0[31], 0x00);
        assert_eq!(h.0[0], 0xb6);
        assert_eq!(h.to_display_hex(), s);
        assert!(Hash256::from_display_hex("abcd").is_err());
    }

    #[test]
    fn sha256d_known() {
        // SHA256d("") = 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456
        assert_eq!(
            sha256d(b"").to_internal_hex(),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn merkle_root_single_and_pair() {
        let a = sha256d(b"a");
        let b = sha256d(b"b");
        assert_eq!(merkle_root(&[a]), a);
        assert_eq!(merkle_root(&[a, b]), sha256d_parts(&[&a.0, &b.0]));
        // odd level duplicates the last element
        let c = sha256d(b"c");
        let ab = sha256d_parts(&[&a.0, &b.0]);
        let cc = sha256d_parts(&[&c.0, &c.0]);
        assert_eq!(merkle_root(&[a, b, c]), sha256d_parts(&[&ab.0, &cc.0]));
        assert_eq!(merkle_root(&[]), Hash256::ZERO);
    }
}
