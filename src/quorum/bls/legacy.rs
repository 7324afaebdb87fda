//! The legacy (pre-V19) hash-to-G2 of relic/Chia `ep2_map_legacy` (PROTOCOL.md §5.4.3):
//! four SHA-256-derived field elements, two Shallue–van de Woestijne encodings added together,
//! then cofactor clearing with the ψ endomorphism.

use blstrs::{Fp, Fp2, G2Affine, G2Projective};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// |x| of the BLS parameter x = −0xd201000000010000.
const X_ABS: u64 = 0xd201_0000_0001_0000;

fn fp_from_be_hex(hex_str: &str) -> Fp {
    let raw = hex::decode(hex_str).expect("constant is valid hex");
    let mut b = [0u8; 48];
    b[48 - raw.len()..].copy_from_slice(&raw);
    Option::from(Fp::from_bytes_be(&b)).expect("constant is below p")
}

/// `int_be(bytes) mod p` for any length, by Horner's rule on 64-bit limbs.
fn fp_from_be_mod_p(bytes: &[u8]) -> Fp {
    let two64 = Fp::from(u64::MAX) + Fp::ONE;
    let mut acc = Fp::ZERO;
    for chunk in bytes.chunks(8) {
        let mut limb = [0u8; 8];
        limb[8 - chunk.len()..].copy_from_slice(chunk);
        let shift = if chunk.len() == 8 {
            two64
        } else {
            Fp::from(1u64 << (8 * chunk.len()))
        };
        acc = acc * shift + Fp::from(u64::from_be_bytes(limb));
    }
    acc
}

/// `a > p − a` as integers, i.e. `a > (p−1)/2`; false for zero.
fn fp_is_high(a: &Fp) -> bool {
    a.to_bytes_be() > (-*a).to_bytes_be()
}

struct Consts {
    sqrt_m3: Fp2,
    half_sqrt_m3_minus_1: Fp2,
    b: Fp2,
    psi_x: Fp2,
    psi_y: Fp2,
}

fn consts() -> &'static Consts {
    static C: OnceLock<Consts> = OnceLock::new();
    C.get_or_init(|| {
        let one_plus_u = Fp2::new(Fp::ONE, Fp::ONE);
        // (p − 1)/3 and (p − 1)/2 as little-endian u64 limbs.
        let p_minus_1_over_3 = limbs_le(
            "08ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38e",
        );
        let p_minus_1_over_2 = limbs_le(
            "0d0088f51cbff34d258dd3db21a5d66bb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555",
        );
        let inv = |e: Fp2| Option::<Fp2>::from(e.invert()).expect("non-zero constant");
        Consts {
            sqrt_m3: Fp2::from(fp_from_be_hex(
                "be32ce5fbeed9ca374d38c0ed41eefd5bb675277cdf12d11bc2fb026c41400045c03fffffffdfffd",
            )),
            half_sqrt_m3_minus_1: Fp2::from(fp_from_be_hex(
                "5f19672fdf76ce51ba69c6076a0f77eaddb3a93be6f89688de17d813620a00022e01fffffffefffe",
            )),
            b: Fp2::new(Fp::from(4u64), Fp::from(4u64)),
            psi_x: inv(one_plus_u.pow_vartime(p_minus_1_over_3)),
            psi_y: inv(one_plus_u.pow_vartime(p_minus_1_over_2)),
        }
    })
}

fn limbs_le(hex_be: &str) -> [u64; 6] {
    let raw = hex::decode(hex_be).expect("constant is valid hex");
    let mut b = [0u8; 48];
    b[48 - raw.len()..].copy_from_slice(&raw);
    let mut out = [0u64; 6];
    for (i, limb) in out.iter_mut().enumerate() {
        let start = 48 - 8 * (i + 1);
        *limb = u64::from_be_bytes(b[start..start + 8].try_into().expect("8 bytes"));
    }
    out
}

fn conj(a: &Fp2) -> Fp2 {
    Fp2::new(a.c0(), -a.c1())
}

/// The ψ endomorphism (untwist–Frobenius–twist) on an affine point.
fn psi(p: &G2Projective) -> G2Projective {
    let a = p.to_affine();
    if bool::from(a.is_identity()) {
        return G2Projective::identity();
    }
    let c = consts();
    let x = conj(&a.x()) * c.psi_x;
    let y = conj(&a.y()) * c.psi_y;
    G2Projective::from(G2Affine::from_raw_unchecked(x, y, false))
}

/// `|x| · P` by double-and-add (P need not be in the prime-order subgroup).
fn mul_by_x_abs(p: &G2Projective) -> G2Projective {
    let mut acc = G2Projective::identity();
    for i in (0..64).rev() {
        acc = acc.double();
        if (X_ABS >> i) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

/// `h(P) = x²P − xP − P + ψ((x−1)P) + ψ²(2P)` with x = −|x| (equal to RFC 9380's
/// `clear_cofactor` for G2).
pub(crate) fn clear_cofactor(p: &G2Projective) -> G2Projective {
    let x_p = -mul_by_x_abs(p); // xP
    let x2_p = -mul_by_x_abs(&x_p); // x²P
    let psi_term = psi(&(x_p - p)); // ψ((x−1)P)
    let psi2_term = psi(&psi(&p.double())); // ψ²(2P)
    x2_p - x_p - p + psi_term + psi2_term
}

fn is_square(a: &Fp2) -> bool {
    bool::from(a.is_zero()) || a.is_quad_res()
}

/// The Shallue–van de Woestijne / Fouque–Tibouchi encoding of `t` on E2 (§5.4.3 step 3).
fn sw_encode(t: &Fp2) -> G2Projective {
    if bool::from(t.is_zero()) {
        return G2Projective::identity();
    }
    let c = consts();
    let parity = fp_is_high(&t.c1());
    let w0 = t.square() + c.b + Fp2::ONE;
    if bool::from(w0.is_zero()) {
        let g = G2Projective::generator();
        return if parity { -g } else { g };
    }
    let w = c.sqrt_m3 * t * Option::<Fp2>::from(w0.invert()).expect("w0 is non-zero");
    let x1 = -(w * t) + c.half_sqrt_m3_minus_1;
    let x2 = -x1 - Fp2::ONE;
    let w_sq_inv = Option::<Fp2>::from(w.square().invert());
    let x3 = match w_sq_inv {
        Some(inv) => inv + Fp2::ONE,
        None => Fp2::ONE,
    };
    let rhs = |x: &Fp2| x.square() * x + c.b;
    let chi = |x: &Fp2| if is_square(&rhs(x)) { 1i32 } else { -1 };
    let (chi1, chi2) = (chi(&x1), chi(&x2));
    let idx = ((chi1 - 1) * chi2).rem_euclid(3);
    let x = match idx {
        0 => x1,
        1 => x2,
        _ => x3,
    };
    let y = Option::<Fp2>::from(rhs(&x).sqrt()).expect("the selected x is on the curve");
    let y = if fp_is_high(&y.c1()) != parity { -y } else { y };
    G2Projective::from(G2Affine::from_raw_unchecked(x, y, false))
}

/// Hashes a 32-byte message to G2 the legacy way.
pub fn hash_to_g2(msg: &[u8; 32]) -> G2Projective {
    let e = |tag: &[u8]| {
        let a = Sha256::new()
            .chain_update(msg)
            .chain_update(tag)
            .chain_update([0u8])
            .finalize();
        let b = Sha256::new()
            .chain_update(msg)
            .chain_update(tag)
            .chain_update([1u8])
            .finalize();
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&a);
        wide[32..].copy_from_slice(&b);
        fp_from_be_mod_p(&wide)
    };
    let t0 = Fp2::new(e(b"G2_0_c0"), e(b"G2_0_c1"));
    let t1 = Fp2::new(e(b"G2_1_c0"), e(b"G2_1_c1"));
    let p = sw_encode(&t0) + sw_encode(&t1);
    clear_cofactor(&p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blstrs::Scalar;

    #[test]
    fn constants_are_what_the_spec_says() {
        let c = consts();
        assert_eq!(c.sqrt_m3.square(), -Fp2::from(Fp::from(3u64)));
        assert_eq!(c.half_sqrt_m3_minus_1.double() + Fp2::ONE, c.sqrt_m3);
    }

    #[test]
    fn psi_acts_as_multiplication_by_x_on_g2() {
        // On the prime-order subgroup ψ(P) = [p mod r]P = [x]P for BLS12 curves.
        let p = G2Projective::generator() * Scalar::from(123_456_789u64);
        assert_eq!(psi(&p), -mul_by_x_abs(&p));
    }

    #[test]
    fn legacy_hash_lands_in_the_subgroup_and_depends_on_the_message() {
        let a = hash_to_g2(&[1u8; 32]).to_affine();
        let b = hash_to_g2(&[2u8; 32]).to_affine();
        assert!(bool::from(a.is_torsion_free()));
        assert!(bool::from(a.is_on_curve()));
        assert!(!bool::from(a.is_identity()));
        assert_ne!(a, b);
    }

    #[test]
    fn wide_reduction_is_exact() {
        // p reduces to zero; p + 1 to one.
        let mut p = Fp::char();
        p.reverse(); // little-endian → big-endian
        assert_eq!(fp_from_be_mod_p(&p), Fp::ZERO);
        let mut p1 = [0u8; 64];
        p1[16..].copy_from_slice(&p);
        p1[63] += 1;
        assert_eq!(fp_from_be_mod_p(&p1), Fp::ONE);
    }
}
