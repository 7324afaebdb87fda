//! BLS12-381 as Dash uses it (PROTOCOL.md §5.4): public keys in G1 (48 bytes), signatures in G2
//! (96 bytes), two serialization formats (legacy relic/Chia and basic IETF), two hash-to-G2
//! functions, plain verification and Dash's secure aggregate verification.
//!
//! Built on `blstrs` (which wraps `blst`); the legacy hash-to-curve of pre-V19 objects, which no
//! published crate implements, is in [`legacy`].

pub mod batch;
pub mod legacy;

pub use batch::{Batch, BatchCost, Check};

use blstrs::{Bls12, G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Gt, Scalar};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group};
use pairing::{MillerLoopResult, MultiMillerLoop};
use sha2::{Digest, Sha256};

/// The domain separation tag of the basic scheme (Chia `BasicSchemeMPL`).
pub const BASIC_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Which serialization and hash-to-curve an object uses (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scheme {
    /// Pre-V19 relic/Chia format and hash (`ep2_map_legacy`).
    Legacy,
    /// IETF/zcash format and RFC 9380 hash with [`BASIC_DST`].
    Basic,
}

/// Why bytes are not a usable BLS key or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// All bytes zero: "not set" in Core.
    #[error("{0} is all zero (not set)")]
    Null(&'static str),
    /// The point at infinity, which Core treats as invalid.
    #[error("{0} is the point at infinity")]
    Identity(&'static str),
    /// Flag bits that the format does not allow.
    #[error("{0} has invalid flag bits for the {1:?} format")]
    BadFlags(&'static str, Scheme),
    /// Not on the curve or not in the prime-order subgroup.
    #[error("{0} is not a valid point of the prime-order subgroup")]
    NotInSubgroup(&'static str),
    /// An empty set of keys cannot verify an aggregate.
    #[error("no public keys to aggregate")]
    NoKeys,
}

/// A validated BLS public key (a G1 point of the prime-order subgroup, never the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(G1Affine);

/// A validated BLS signature (a G2 point of the prime-order subgroup, never the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature(G2Affine);

/// A BLS secret key; used by the simulated network and tests to produce real signatures.
#[derive(Clone)]
pub struct SecretKey(Scalar);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

fn check_not_null<const N: usize>(b: &[u8; N], what: &'static str) -> Result<(), BlsError> {
    if b.iter().all(|&x| x == 0) {
        Err(BlsError::Null(what))
    } else {
        Ok(())
    }
}

fn is_identity_encoding(b: &[u8]) -> bool {
    b[0] == 0xC0 && b[1..].iter().all(|&x| x == 0)
}

/// Converts a legacy G1/G2 "first 48 bytes" flag byte to the modern flags, or fails when a bit
/// that cannot occur in a legacy encoding is set.
fn legacy_flags_to_modern(b0: u8, what: &'static str) -> Result<u8, BlsError> {
    if b0 & 0x60 != 0 {
        return Err(BlsError::BadFlags(what, Scheme::Legacy));
    }
    let sign = b0 & 0x80 != 0;
    Ok((b0 & 0x1F) | 0x80 | if sign { 0x20 } else { 0 })
}

fn modern_flags_to_legacy(b0: u8) -> u8 {
    let sign = b0 & 0x20 != 0;
    (b0 & 0x1F) | if sign { 0x80 } else { 0 }
}

/// Legacy 48-byte G1 encoding → modern compressed encoding.
fn g1_legacy_to_modern(b: &[u8; 48]) -> Result<[u8; 48], BlsError> {
    let mut out = *b;
    out[0] = legacy_flags_to_modern(b[0], "public key")?;
    Ok(out)
}

/// Legacy 96-byte G2 encoding (`x.c0 ‖ x.c1`, sign in bit 7) → modern (`x.c1 ‖ x.c0`).
fn g2_legacy_to_modern(b: &[u8; 96]) -> Result<[u8; 96], BlsError> {
    if b[48] & 0xE0 != 0 {
        return Err(BlsError::BadFlags("signature", Scheme::Legacy));
    }
    let mut out = [0u8; 96];
    out[..48].copy_from_slice(&b[48..]);
    out[48..].copy_from_slice(&b[..48]);
    out[0] = (out[0] & 0x1F) | legacy_flags_to_modern(b[0], "signature")? & 0xE0;
    out[48] &= 0x1F;
    Ok(out)
}

fn g2_modern_to_legacy(b: &[u8; 96]) -> [u8; 96] {
    let mut out = [0u8; 96];
    out[..48].copy_from_slice(&b[48..]);
    out[48..].copy_from_slice(&b[..48]);
    out[0] = (out[0] & 0x1F) | (modern_flags_to_legacy(b[0]) & 0x80);
    out[48] &= 0x1F;
    out
}

/// The format checks of a 48-byte key in `scheme`'s format (not null, not the identity, flag
/// bits) and its modern compressed encoding.
fn modern_key_bytes(b: &[u8; 48], scheme: Scheme) -> Result<[u8; 48], BlsError> {
    check_not_null(b, "public key")?;
    if is_identity_encoding(b) {
        return Err(BlsError::Identity("public key"));
    }
    match scheme {
        Scheme::Basic => {
            if b[0] & 0x80 == 0 || b[0] & 0x40 != 0 {
                return Err(BlsError::BadFlags("public key", scheme));
            }
            Ok(*b)
        }
        Scheme::Legacy => g1_legacy_to_modern(b),
    }
}

impl PublicKey {
    /// Decodes and validates a 48-byte key in `scheme`'s format (§5.4.1–§5.4.2): rejects
    /// all-zero bytes, the identity, bad flags, points off the curve or outside the subgroup.
    pub fn from_bytes(b: &[u8; 48], scheme: Scheme) -> Result<PublicKey, BlsError> {
        let modern = modern_key_bytes(b, scheme)?;
        let p: Option<G1Affine> = G1Affine::from_compressed(&modern).into();
        match p {
            Some(p) if bool::from(p.is_identity()) => Err(BlsError::Identity("public key")),
            Some(p) => Ok(PublicKey(p)),
            None => Err(BlsError::NotInSubgroup("public key")),
        }
    }

    /// The key's affine `y` coordinate (48 bytes, big-endian): with the 48 bytes of the
    /// encoded key it restores the point without a square root or a subgroup check
    /// ([`PublicKey::from_bytes_and_y`]).
    pub fn y_bytes(&self) -> [u8; 48] {
        let u = self.0.to_uncompressed();
        let mut y = [0u8; 48];
        y.copy_from_slice(&u[48..]);
        y
    }

    /// Restores a key that this library decoded with [`PublicKey::from_bytes`] before (the
    /// engine's saved key cache, `docs/STORAGE.md`): `b` in `scheme`'s format and the point's
    /// `y` as [`PublicKey::y_bytes`] gave it. The same format checks as `from_bytes`; the point
    /// (x from `b`, `y`) must be on the curve, and its encoding must be `b` exactly (same x,
    /// same sign of y), so it is the point `b` decodes to. The subgroup check is not repeated:
    /// the caller vouches that the key passed it when it was first decoded.
    pub fn from_bytes_and_y(
        b: &[u8; 48],
        scheme: Scheme,
        y: &[u8; 48],
    ) -> Result<PublicKey, BlsError> {
        let modern = modern_key_bytes(b, scheme)?;
        let mut u = [0u8; 96];
        u[..48].copy_from_slice(&modern);
        u[0] &= 0x1F;
        u[48..].copy_from_slice(y);
        let p: Option<G1Affine> = G1Affine::from_uncompressed_unchecked(&u).into();
        match p {
            Some(p) if !bool::from(p.is_identity()) && p.to_compressed() == modern => {
                Ok(PublicKey(p))
            }
            _ => Err(BlsError::NotInSubgroup("public key")),
        }
    }

    /// Encodes the key in `scheme`'s format.
    pub fn to_bytes(&self, scheme: Scheme) -> [u8; 48] {
        let mut b = self.0.to_compressed();
        if scheme == Scheme::Legacy {
            b[0] = modern_flags_to_legacy(b[0]);
        }
        b
    }
}

impl Signature {
    /// Decodes and validates a 96-byte signature in `scheme`'s format (§5.4.1–§5.4.2).
    pub fn from_bytes(b: &[u8; 96], scheme: Scheme) -> Result<Signature, BlsError> {
        check_not_null(b, "signature")?;
        if is_identity_encoding(b) {
            return Err(BlsError::Identity("signature"));
        }
        let modern = match scheme {
            Scheme::Basic => {
                if b[0] & 0x80 == 0 || b[0] & 0x40 != 0 || b[48] & 0xE0 != 0 {
                    return Err(BlsError::BadFlags("signature", scheme));
                }
                *b
            }
            Scheme::Legacy => g2_legacy_to_modern(b)?,
        };
        let p: Option<G2Affine> = G2Affine::from_compressed(&modern).into();
        match p {
            Some(p) if bool::from(p.is_identity()) => Err(BlsError::Identity("signature")),
            Some(p) => Ok(Signature(p)),
            None => Err(BlsError::NotInSubgroup("signature")),
        }
    }

    /// Encodes the signature in `scheme`'s format.
    pub fn to_bytes(&self, scheme: Scheme) -> [u8; 96] {
        let b = self.0.to_compressed();
        match scheme {
            Scheme::Basic => b,
            Scheme::Legacy => g2_modern_to_legacy(&b),
        }
    }

    /// Aggregates signatures by point addition (what a quorum's members' shares become).
    pub fn aggregate(sigs: &[Signature]) -> Option<Signature> {
        let sum: G2Projective = sigs.iter().map(|s| G2Projective::from(s.0)).sum();
        let a = sum.to_affine();
        (!bool::from(a.is_identity())).then_some(Signature(a))
    }
}

impl SecretKey {
    /// A secret key from 32 bytes of seed material: `SHA256(seed) mod r`, never zero.
    pub fn from_seed(seed: &[u8]) -> SecretKey {
        let mut counter = 0u32;
        loop {
            let h = Sha256::new()
                .chain_update(seed)
                .chain_update(counter.to_be_bytes())
                .finalize();
            let s = scalar_from_be_mod_r(&h.into());
            if !bool::from(s.is_zero()) {
                return SecretKey(s);
            }
            counter += 1;
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey((G1Projective::generator() * self.0).to_affine())
    }

    /// Signs a 32-byte message with `scheme`'s hash-to-curve.
    pub fn sign(&self, msg: &[u8; 32], scheme: Scheme) -> Signature {
        Signature((hash_to_g2(msg, scheme) * self.0).to_affine())
    }
}

/// `int_be(bytes) mod r`, exact for any 256-bit value (§5.4.5 step 4).
pub(crate) fn scalar_from_be_mod_r(b: &[u8; 32]) -> Scalar {
    let two64 = Scalar::from(u64::MAX) + Scalar::ONE;
    let mut acc = Scalar::ZERO;
    for chunk in b.chunks_exact(8) {
        let limb = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
        acc = acc * two64 + Scalar::from(limb);
    }
    acc
}

/// The G2 point a 32-byte message hashes to under `scheme` (§5.4.3).
pub fn hash_to_g2(msg: &[u8; 32], scheme: Scheme) -> G2Projective {
    match scheme {
        Scheme::Basic => G2Projective::hash_to_curve(msg, BASIC_DST, &[]),
        Scheme::Legacy => legacy::hash_to_g2(msg),
    }
}

/// Plain verification `e(pk, H(m)) == e(g1, sig)` (§5.4.4, Core's `VerifyInsecure`).
pub fn verify(pk: &PublicKey, msg: &[u8; 32], sig: &Signature, scheme: Scheme) -> bool {
    let h = hash_to_g2(msg, scheme).to_affine();
    let neg_g1 = -G1Affine::generator();
    let hp = G2Prepared::from(h);
    let sp = G2Prepared::from(sig.0);
    let r = <Bls12 as MultiMillerLoop>::multi_miller_loop(&[(&pk.0, &hp), (&neg_g1, &sp)])
        .final_exponentiation();
    r == Gt::identity()
}

/// The key Dash's secure aggregation derives from `keys` (§5.4.5 steps 1–5).
pub fn secure_aggregate_key(keys: &[PublicKey], scheme: Scheme) -> Result<PublicKey, BlsError> {
    if keys.is_empty() {
        return Err(BlsError::NoKeys);
    }
    let mut sorted: Vec<([u8; 48], &PublicKey)> =
        keys.iter().map(|k| (k.to_bytes(scheme), k)).collect();
    sorted.sort_by_key(|a| a.0);
    let mut hasher = Sha256::new();
    for (b, _) in &sorted {
        hasher.update(b);
    }
    let h: [u8; 32] = hasher.finalize().into();
    let mut points = Vec::with_capacity(sorted.len());
    let mut scalars = Vec::with_capacity(sorted.len());
    for (i, (_, k)) in sorted.iter().enumerate() {
        let t: [u8; 32] = Sha256::new()
            .chain_update((i as u32).to_be_bytes())
            .chain_update(h)
            .finalize()
            .into();
        scalars.push(scalar_from_be_mod_r(&t));
        points.push(G1Projective::from(k.0));
    }
    let pk = G1Projective::multi_exp(&points, &scalars).to_affine();
    if bool::from(pk.is_identity()) {
        return Err(BlsError::Identity("aggregated public key"));
    }
    Ok(PublicKey(pk))
}

/// Secure aggregate verification of one message signed by every key (§5.4.5, Core's
/// `VerifySecureAggregated`). An empty key set fails.
pub fn verify_secure_aggregate(
    keys: &[PublicKey],
    msg: &[u8; 32],
    sig: &Signature,
    scheme: Scheme,
) -> bool {
    match secure_aggregate_key(keys, scheme) {
        Ok(pk) => verify(&pk, msg, sig, scheme),
        Err(_) => false,
    }
}

/// Signs like a quorum whose members all sign `msg`: Σ t_i·sk_i·H(m) with the secure
/// aggregation coefficients, i.e. the signature [`verify_secure_aggregate`] accepts. Used by the
/// simulated network to produce `membersSig`.
pub fn sign_secure_aggregate(keys: &[SecretKey], msg: &[u8; 32], scheme: Scheme) -> Signature {
    let mut sorted: Vec<([u8; 48], &SecretKey)> = keys
        .iter()
        .map(|k| (k.public_key().to_bytes(scheme), k))
        .collect();
    sorted.sort_by_key(|a| a.0);
    let mut hasher = Sha256::new();
    for (b, _) in &sorted {
        hasher.update(b);
    }
    let h: [u8; 32] = hasher.finalize().into();
    let mut total = Scalar::ZERO;
    for (i, (_, k)) in sorted.iter().enumerate() {
        let t: [u8; 32] = Sha256::new()
            .chain_update((i as u32).to_be_bytes())
            .chain_update(h)
            .finalize()
            .into();
        total += scalar_from_be_mod_r(&t) * k.0;
    }
    Signature((hash_to_g2(msg, scheme) * total).to_affine())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<SecretKey> {
        (0..n)
            .map(|i| SecretKey::from_seed(format!("key {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn sign_verify_both_schemes() {
        let sk = &keys(1)[0];
        let msg = [7u8; 32];
        for scheme in [Scheme::Basic, Scheme::Legacy] {
            let sig = sk.sign(&msg, scheme);
            assert!(verify(&sk.public_key(), &msg, &sig, scheme));
            assert!(!verify(&sk.public_key(), &[8u8; 32], &sig, scheme));
            let other = if scheme == Scheme::Basic {
                Scheme::Legacy
            } else {
                Scheme::Basic
            };
            assert!(!verify(&sk.public_key(), &msg, &sig, other));
        }
    }

    #[test]
    fn encodings_round_trip_and_differ() {
        for sk in keys(20) {
            let pk = sk.public_key();
            let sig = sk.sign(&[1u8; 32], Scheme::Basic);
            for scheme in [Scheme::Basic, Scheme::Legacy] {
                let b = pk.to_bytes(scheme);
                assert_eq!(PublicKey::from_bytes(&b, scheme).unwrap(), pk);
                let s = sig.to_bytes(scheme);
                assert_eq!(Signature::from_bytes(&s, scheme).unwrap(), sig);
            }
            assert_ne!(sig.to_bytes(Scheme::Basic), sig.to_bytes(Scheme::Legacy));
            // A modern encoding read as legacy is rejected (the 0x20/0x40 or compression bits).
            let modern = pk.to_bytes(Scheme::Basic);
            let as_legacy = PublicKey::from_bytes(&modern, Scheme::Legacy);
            assert!(as_legacy.is_err() || as_legacy.unwrap() != pk);
        }
    }

    #[test]
    fn keys_restore_from_their_bytes_and_y_only_as_the_same_point() {
        for sk in keys(8) {
            let pk = sk.public_key();
            let neg = PublicKey(-pk.0);
            for scheme in [Scheme::Basic, Scheme::Legacy] {
                let b = pk.to_bytes(scheme);
                assert_eq!(
                    PublicKey::from_bytes_and_y(&b, scheme, &pk.y_bytes()),
                    Ok(pk)
                );
                // The other point with this x (on the curve, other sign of y) is not this key.
                assert!(PublicKey::from_bytes_and_y(&b, scheme, &neg.y_bytes()).is_err());
                // A y off the curve for this x.
                let mut y = pk.y_bytes();
                y[47] ^= 1;
                assert!(PublicKey::from_bytes_and_y(&b, scheme, &y).is_err());
                // The format checks of `from_bytes` still apply.
                let other = if scheme == Scheme::Basic {
                    Scheme::Legacy
                } else {
                    Scheme::Basic
                };
                assert!(PublicKey::from_bytes_and_y(&b, other, &pk.y_bytes()).is_err());
                assert!(PublicKey::from_bytes_and_y(&[0u8; 48], scheme, &[0u8; 48]).is_err());
            }
        }
    }

    #[test]
    fn invalid_encodings_rejected() {
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 48], Scheme::Basic),
            Err(BlsError::Null("public key"))
        );
        let mut inf = [0u8; 48];
        inf[0] = 0xC0;
        assert!(matches!(
            PublicKey::from_bytes(&inf, Scheme::Basic),
            Err(BlsError::Identity(_))
        ));
        let mut junk = [0x11u8; 48];
        junk[0] = 0x91;
        assert!(PublicKey::from_bytes(&junk, Scheme::Basic).is_err());
        assert_eq!(
            Signature::from_bytes(&[0u8; 96], Scheme::Legacy),
            Err(BlsError::Null("signature"))
        );
    }

    #[test]
    fn secure_aggregation_matches_signing() {
        let sks = keys(7);
        let pks: Vec<_> = sks.iter().map(|k| k.public_key()).collect();
        let msg = [42u8; 32];
        for scheme in [Scheme::Basic, Scheme::Legacy] {
            let sig = sign_secure_aggregate(&sks, &msg, scheme);
            assert!(verify_secure_aggregate(&pks, &msg, &sig, scheme));
            let mut reversed = pks.clone();
            reversed.reverse();
            assert!(verify_secure_aggregate(&reversed, &msg, &sig, scheme));
            assert!(!verify_secure_aggregate(&pks[1..], &msg, &sig, scheme));
            // A plain (insecure) aggregate of the members' signatures is not accepted.
            let plain: Vec<_> = sks.iter().map(|k| k.sign(&msg, scheme)).collect();
            let plain = Signature::aggregate(&plain).unwrap();
            assert!(!verify_secure_aggregate(&pks, &msg, &plain, scheme));
        }
        assert!(!verify_secure_aggregate(
            &[],
            &msg,
            &sks[0].sign(&msg, Scheme::Basic),
            Scheme::Basic
        ));
    }

    #[test]
    fn mod_r_reduction_is_exact() {
        // r itself reduces to zero, r + 5 to 5, 2^256 - 1 to (2^256 - 1) mod r.
        let r = Scalar::char();
        let mut r_be = r;
        r_be.reverse();
        assert_eq!(scalar_from_be_mod_r(&r_be), Scalar::ZERO);
        let mut r5 = r_be;
        r5[31] += 5;
        assert_eq!(scalar_from_be_mod_r(&r5), Scalar::from(5u64));
        let max = scalar_from_be_mod_r(&[0xFF; 32]);
        // 2^256 - 1 = 2*r + k with k = 2^256 - 1 - 2r; check max + 1 == 2^256 mod r.
        let two64 = Scalar::from(u64::MAX) + Scalar::ONE;
        let two256 = two64.square().square();
        assert_eq!(max + Scalar::ONE, two256);
    }
}
