//! X11, Dash's proof-of-work hash: eleven SHA-3 candidates chained, each hashing the previous
//! 64-byte digest (dash-qrsync's PROTOCOL.md §2.2), in pure Rust, with no C compiler, libclang
//! or bindgen.
//!
//! Order: BLAKE-512, BMW-512, Grøstl-512, Skein-512-512, JH-512, Keccak-512, Luffa-512,
//! CubeHash-512, SHAvite-3-512, SIMD-512, ECHO-512; the block hash is the first 32 bytes.
//!
//! Grøstl, Skein, JH and Keccak come from the RustCrypto crates (`groestl`, `skein`, `jh`, `sha3`);
//! the seven others are implemented here from their SHA-3 submission documents, one file each.
//! Every function is tested against published known-answer values (see `tests` below), and the
//! whole chain against every real header vector (dash-qrsync's `tests/x11_vectors.rs`).

#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Index loops follow the specifications' notation (x[i], x[i + 16], ...).
#![allow(clippy::needless_range_loop)]

mod aes;
mod blake;
mod bmw;
mod cubehash;
mod echo;
mod luffa;
mod shavite;
mod simd;

pub use blake::blake512;
pub use bmw::bmw512;
pub use cubehash::cubehash512;
pub use echo::echo512;
pub use luffa::luffa512;
pub use shavite::shavite512;
pub use simd::simd512;

use digest::Digest;

/// Grøstl-512 (final-round version) of a byte string (RustCrypto `groestl`).
pub fn groestl512(data: &[u8]) -> [u8; 64] {
    groestl::Groestl512::digest(data).into()
}

/// Skein-512 with 512-bit output of a byte string (RustCrypto `skein`).
pub fn skein512(data: &[u8]) -> [u8; 64] {
    skein::Skein512::<digest::consts::U64>::digest(data).into()
}

/// JH-512 (final-round, 42 rounds) of a byte string (RustCrypto `jh`).
pub fn jh512(data: &[u8]) -> [u8; 64] {
    jh::Jh512::digest(data).into()
}

/// Keccak-512 with the original submission padding (not SHA3-512) of a byte string
/// (RustCrypto `sha3`).
pub fn keccak512(data: &[u8]) -> [u8; 64] {
    sha3::Keccak512::digest(data).into()
}

/// The full 512-bit X11 chain of `data` (X11 block hashes use the first 32 bytes).
pub fn x11_512(data: &[u8]) -> [u8; 64] {
    let h = blake512(data);
    let h = bmw512(&h);
    let h = groestl512(&h);
    let h = skein512(&h);
    let h = jh512(&h);
    let h = keccak512(&h);
    let h = luffa512(&h);
    let h = cubehash512(&h);
    let h = shavite512(&h);
    let h = simd512(&h);
    echo512(&h)
}

/// X11 of `data`, truncated to 32 bytes as Dash's block hash (in internal byte order).
pub fn x11(data: &[u8]) -> [u8; 32] {
    let full = x11_512(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&full[..32]);
    out
}

#[cfg(test)]
mod tests;
