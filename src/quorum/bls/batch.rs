//! Batch verification of plain BLS checks (PROTOCOL.md §5.4.4): many `(public key, message,
//! signature)` triples of one scheme checked with one multi-pairing.
//!
//! Keys are in G1 and signatures in G2, so each check is `e(pk_i, H(m_i)) == e(g1, sig_i)`.
//! With random non-zero 128-bit coefficients `r_i` drawn from the operating system's CSPRNG
//! for every batch, all checks hold together when
//!
//! ```text
//! e(−g1, Σ r_i·sig_i) · Π_m e(Σ_{i : m_i = m} r_i·pk_i, H(m)) == 1
//! ```
//!
//! Checks over the same message share one Miller loop (a commitment's `quorumSig` and
//! `membersSig` sign the same hash). If any check fails, the equation holds only when the
//! coefficients happen to cancel the failure, which for coefficients the signer could not
//! predict has probability at most 2⁻¹²⁸ (the small-exponents test of Bellare, Garay and Rabin;
//! every point is already in its prime-order subgroup, which decoding guarantees).
//!
//! A failed batch is bisected, each half with fresh coefficients, down to single checks that
//! are verified exactly as [`super::verify`] does, so the failing items are named. If the
//! random source fails, every check is verified one by one: never accepted without a check.

use super::{hash_to_g2, PublicKey, Scheme, Signature};
use blstrs::{Bls12, G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Gt, Scalar};
use ff::PrimeField;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group};
use pairing::{MillerLoopResult, MultiMillerLoop};
use std::collections::HashMap;

/// One plain check: `signature` is `public_key`'s signature over `msg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// The signer's key (for an aggregate, the aggregated key).
    pub public_key: PublicKey,
    /// The signed 32-byte message.
    pub msg: [u8; 32],
    /// The signature.
    pub signature: Signature,
}

/// Checks of one scheme, verified together (see the module documentation).
#[derive(Debug, Clone)]
pub struct Batch {
    scheme: Scheme,
    checks: Vec<Check>,
}

/// What verifying a batch cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCost {
    /// Multi-pairings (each one final exponentiation) computed, single checks included.
    pub pairings: usize,
    /// Miller loops computed.
    pub miller_loops: usize,
}

impl Batch {
    /// An empty batch of `scheme`'s checks (messages hash to G2 with that scheme's function).
    pub fn new(scheme: Scheme) -> Batch {
        Batch {
            scheme,
            checks: Vec::new(),
        }
    }

    /// Adds a check; returns its index.
    pub fn push(&mut self, public_key: PublicKey, msg: [u8; 32], signature: Signature) -> usize {
        self.checks.push(Check {
            public_key,
            msg,
            signature,
        });
        self.checks.len() - 1
    }

    /// The scheme of every check.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The checks, in the order they were added.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Number of checks.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// True when there is no check.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// True when every check holds (an empty batch holds).
    pub fn verify(&self) -> bool {
        self.invalid_with_cost().0.is_empty()
    }

    /// The indices of the checks that do not hold, ascending; empty when all hold.
    pub fn invalid(&self) -> Vec<usize> {
        self.invalid_with_cost().0
    }

    /// [`Batch::invalid`] and what it cost: one multi-pairing when every check holds; a
    /// bisection (each part with fresh coefficients) when some do not.
    pub fn invalid_with_cost(&self) -> (Vec<usize>, BatchCost) {
        let mut cost = BatchCost::default();
        if self.checks.is_empty() {
            return (Vec::new(), cost);
        }
        let hashes = Hashes::new(self.scheme, &self.checks);
        let all: Vec<usize> = (0..self.checks.len()).collect();
        let mut bad = Vec::new();
        self.bisect(&hashes, &all, &mut bad, &mut cost);
        bad.sort_unstable();
        (bad, cost)
    }

    fn bisect(&self, h: &Hashes, idx: &[usize], bad: &mut Vec<usize>, cost: &mut BatchCost) {
        if idx.is_empty() {
            return;
        }
        if idx.len() == 1 {
            if !self.single_holds(h, idx[0], cost) {
                bad.push(idx[0]);
            }
            return;
        }
        match self.combined_holds(h, idx, cost) {
            Some(true) => {}
            Some(false) => {
                let (a, b) = idx.split_at(idx.len() / 2);
                self.bisect(h, a, bad, cost);
                self.bisect(h, b, bad, cost);
            }
            // No random coefficients: every check on its own.
            None => {
                for &i in idx {
                    if !self.single_holds(h, i, cost) {
                        bad.push(i);
                    }
                }
            }
        }
    }

    /// `e(pk, H(m)) == e(g1, sig)` for one check, without coefficients.
    fn single_holds(&self, h: &Hashes, i: usize, cost: &mut BatchCost) -> bool {
        let c = &self.checks[i];
        let neg_g1 = -G1Affine::generator();
        let sp = G2Prepared::from(c.signature.0);
        cost.pairings += 1;
        cost.miller_loops += 2;
        let r = <Bls12 as MultiMillerLoop>::multi_miller_loop(&[
            (&c.public_key.0, h.prepared(&c.msg)),
            (&neg_g1, &sp),
        ])
        .final_exponentiation();
        r == Gt::identity()
    }

    /// The random-linear-combination check of the checks `idx`; `None` when the random
    /// source fails.
    fn combined_holds(&self, h: &Hashes, idx: &[usize], cost: &mut BatchCost) -> Option<bool> {
        let r = coefficients(idx.len())?;
        // Σ r_i·pk_i per distinct message, in first-seen order.
        let mut slot: HashMap<[u8; 32], usize> = HashMap::new();
        let mut msgs: Vec<&[u8; 32]> = Vec::new();
        let mut keys: Vec<G1Projective> = Vec::new();
        let mut sigs: Vec<G2Projective> = Vec::with_capacity(idx.len());
        for (k, &i) in idx.iter().enumerate() {
            let c = &self.checks[i];
            let term = G1Projective::from(c.public_key.0) * r[k];
            match slot.get(&c.msg) {
                Some(&s) => keys[s] += term,
                None => {
                    slot.insert(c.msg, keys.len());
                    msgs.push(&c.msg);
                    keys.push(term);
                }
            }
            sigs.push(G2Projective::from(c.signature.0));
        }
        let sig_sum = G2Projective::multi_exp(&sigs, &r).to_affine();
        let mut keys_affine = vec![G1Affine::identity(); keys.len()];
        G1Projective::batch_normalize(&keys, &mut keys_affine);
        let neg_g1 = -G1Affine::generator();
        let sp = G2Prepared::from(sig_sum);
        let mut terms: Vec<(&G1Affine, &G2Prepared)> = keys_affine
            .iter()
            .zip(&msgs)
            .map(|(k, m)| (k, h.prepared(m)))
            .collect();
        terms.push((&neg_g1, &sp));
        cost.pairings += 1;
        cost.miller_loops += terms.len();
        let res = <Bls12 as MultiMillerLoop>::multi_miller_loop(&terms).final_exponentiation();
        Some(res == Gt::identity())
    }
}

/// Each distinct message hashed to G2 once per batch (bisection reuses them).
struct Hashes(HashMap<[u8; 32], G2Prepared>);

impl Hashes {
    fn new(scheme: Scheme, checks: &[Check]) -> Hashes {
        let mut map = HashMap::new();
        for c in checks {
            map.entry(c.msg).or_insert_with(|| {
                let p: G2Affine = hash_to_g2(&c.msg, scheme).to_affine();
                G2Prepared::from(p)
            });
        }
        Hashes(map)
    }

    fn prepared(&self, msg: &[u8; 32]) -> &G2Prepared {
        self.0
            .get(msg)
            .expect("every message of the batch is hashed")
    }
}

/// `n` independent uniformly random non-zero scalars below 2¹²⁸ from the OS CSPRNG.
fn coefficients(n: usize) -> Option<Vec<Scalar>> {
    let mut bytes = vec![0u8; 16 * n];
    getrandom::fill(&mut bytes).ok()?;
    Some(
        bytes
            .chunks_exact(16)
            .map(|b| {
                let v = u128::from_le_bytes(b.try_into().expect("16-byte chunk"));
                // Zero (probability 2⁻¹²⁸) would drop the check from the sum.
                Scalar::from_u128(v.max(1))
            })
            .collect(),
    )
}

/// Verifies checks of one scheme in one multi-pairing; the indices of those that fail.
pub fn batch_invalid(scheme: Scheme, checks: &[Check]) -> Vec<usize> {
    Batch {
        scheme,
        checks: checks.to_vec(),
    }
    .invalid()
}

#[cfg(test)]
mod tests {
    use super::super::{verify, SecretKey};
    use super::*;

    fn keys(n: usize) -> Vec<SecretKey> {
        (0..n)
            .map(|i| SecretKey::from_seed(format!("batch key {i}").as_bytes()))
            .collect()
    }

    fn msg(i: usize) -> [u8; 32] {
        let mut m = [0u8; 32];
        m[..8].copy_from_slice(&(i as u64).to_le_bytes());
        m[31] = 0x5a;
        m
    }

    #[test]
    fn coefficients_are_distinct_non_zero_and_below_2_128() {
        let r = coefficients(64).expect("OS random source");
        for (i, a) in r.iter().enumerate() {
            assert_ne!(*a, Scalar::from(0u64));
            // Below 2^128: its little-endian encoding has zero upper 16 bytes.
            assert!(a.to_bytes_le()[16..].iter().all(|b| *b == 0), "{a:?}");
            for b in &r[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn one_check_batches_agree_with_verify() {
        let sk = &keys(1)[0];
        for scheme in [Scheme::Basic, Scheme::Legacy] {
            let sig = sk.sign(&msg(1), scheme);
            let mut ok = Batch::new(scheme);
            ok.push(sk.public_key(), msg(1), sig);
            assert!(ok.verify());
            let mut bad = Batch::new(scheme);
            bad.push(sk.public_key(), msg(2), sig);
            assert!(!verify(&sk.public_key(), &msg(2), &sig, scheme));
            assert_eq!(bad.invalid(), vec![0]);
        }
    }

    #[test]
    fn empty_batch_holds() {
        assert!(Batch::new(Scheme::Basic).verify());
    }
}
