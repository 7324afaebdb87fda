//! SIMD-512, the round-2 SHA-3 submission (tweaked version 1.1), as specified in G. Leurent,
//! C. Bouillaguet, P.-A. Fouque, "SIMD Is a Message Digest", version 1.1 (2009).
//!
//! Message expansion: the 128-byte block is read as a polynomial over F_257 and evaluated at the
//! 256 powers of 41 (a number-theoretic transform), a fixed polynomial is added (a different one
//! for the final block), the values are centred in [-128, 128] and multiplied by 185 (rounds 0–1)
//! or 233 (rounds 2–3), and pairs of 16-bit results form the 32-bit step words in the
//! specification's order. Compression: the state (four registers of eight 32-bit lanes) is the
//! chaining value xor the block, then 4 rounds of 8 Feistel-like steps (IF in the first four steps
//! of a round, MAJ in the last four) and 4 feed-forward steps keyed with the old chaining value.
//! Padding is zeros; the message length in bits then goes into a final block of its own.

const P: i32 = 257;

const IV: [u32; 32] = [
    0x0BA16B95, 0x72F999AD, 0x9FECC2AE, 0xBA3264FC, 0x5E894929, 0x8E9F30E5, 0x2F1DAA37, 0xF0F2C558,
    0xAC506643, 0xA90635A5, 0xE25B878B, 0xAAB7878F, 0x88817F7A, 0x0A02892B, 0x559A7550, 0x598F657E,
    0x7EEF60A1, 0x6B70E3E8, 0x9C1714D1, 0xB958E2A8, 0xAB02675E, 0xED1C014F, 0xCD8D65BB, 0xFDB7A257,
    0x09254899, 0xD699C7BC, 0x9019B6DC, 0x2B9022E4, 0x8FA14956, 0x21BF9BD3, 0xB94D0943, 0x6FFDDC22,
];

/// Powers of 41 modulo 257 (41 has order 256).
const POW41: [i32; 256] = {
    let mut t = [0i32; 256];
    let mut v = 1i32;
    let mut i = 0;
    while i < 256 {
        t[i] = v;
        v = v * 41 % P;
        i += 1;
    }
    t
};

/// The constant added to the transform for ordinary blocks (41^(255 i)) and for the final block
/// (41^(255 i) + 41^(253 i)).
const OFFSETS: [[i32; 256]; 2] = {
    let mut t = [[0i32; 256]; 2];
    let mut i = 0;
    while i < 256 {
        let a = POW41[(255 * i) % 256];
        let b = POW41[(253 * i) % 256];
        t[0][i] = a;
        t[1][i] = (a + b) % P;
        i += 1;
    }
    t
};

/// Twiddle factors laid out per stage: `TWIDDLE[half + k] = 41^(k * 128 / half)` for each
/// butterfly half-width `half` (a power of two below 256), so each stage reads a contiguous run.
const TWIDDLE: [i32; 256] = {
    let mut t = [0i32; 256];
    let mut half = 1;
    while half < 256 {
        let mut k = 0;
        while k < half {
            t[half + k] = POW41[k * (128 / half)];
            k += 1;
        }
        half *= 2;
    }
    t
};

/// The bit-reversal permutation of 0..256.
const BITREV: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).reverse_bits();
        i += 1;
    }
    t
};

/// Reduces modulo 257 cheaply (2^16 = 1 and 2^8 = -1 mod 257): from any i32 to [-383, 383].
#[inline(always)]
fn reduce(x: i32) -> i32 {
    let x = (x & 0xffff) + (x >> 16);
    (x & 0xff) - (x >> 8)
}

/// y_i = sum_j x_j 41^(i j) mod 257 for i in 0..256, with x_j = 0 for j >= 128 (not reduced:
/// each value is only congruent to y_i, within a few thousand of zero).
///
/// An iterative radix-2 Cooley–Tukey transform on bit-reversed input. Only the multiplied half of
/// each butterfly is reduced; the other grows by at most 383 a stage, which stays far inside i32.
fn ntt(x: &[u8; 128]) -> [i32; 256] {
    let mut a = [0i32; 256];
    // Odd positions hold x_j with j >= 128, all zero: the first stage just duplicates.
    for i in (0..256).step_by(2) {
        let v = x[BITREV[i] as usize] as i32;
        a[i] = v;
        a[i + 1] = v;
    }
    let mut len = 4;
    while len <= 256 {
        let half = len / 2;
        let tw = &TWIDDLE[half..len];
        for chunk in a.chunks_exact_mut(len) {
            let (lo, hi) = chunk.split_at_mut(half);
            for ((l, h), w) in lo.iter_mut().zip(hi.iter_mut()).zip(tw) {
                let v = reduce(*h * w);
                let u = *l;
                *l = u + v;
                *h = u - v;
            }
        }
        len *= 2;
    }
    a
}

/// The expanded message: the 256 centred values of the specification.
fn expand(block: &[u8; 128], last: bool) -> [i32; 256] {
    let mut y = ntt(block);
    let off = &OFFSETS[last as usize];
    for (v, o) in y.iter_mut().zip(off.iter()) {
        // reduce() gives [-383, 383]; one more 2^8 = -1 fold gives [-1, 257]; then centre.
        let t = reduce(*v + o);
        let t = (t & 0xff) - (t >> 8);
        *v = if t <= 128 { t } else { t - P };
    }
    y
}

/// Which group of sixteen expanded values feeds each of the 32 steps.
const STEP_GROUP: [usize; 32] = [
    4, 6, 0, 2, 7, 5, 3, 1, 15, 11, 12, 8, 9, 13, 10, 14, 17, 18, 23, 20, 22, 21, 16, 19, 30, 24,
    25, 31, 27, 29, 28, 26,
];

/// Rotation amounts of each round.
const ROT: [[u32; 4]; 4] = [
    [3, 23, 17, 27],
    [28, 19, 22, 7],
    [29, 9, 15, 5],
    [4, 13, 10, 25],
];

/// Step i exchanges lanes n and n xor PERM[i % 7].
const PERM: [usize; 7] = [1, 6, 2, 3, 5, 7, 4];

#[inline(always)]
fn if_(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}
#[inline(always)]
fn maj(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | ((x | y) & z)
}

/// One step on all eight lanes; `PX` is the lane permutation (lane n takes rotated A from lane
/// n xor PX), `MAJ` selects the boolean function.
#[inline(always)]
fn step_with<const MAJ: bool, const PX: usize>(
    st: &mut [[u32; 8]; 4],
    w: &[u32; 8],
    r: u32,
    s: u32,
) {
    let ta: [u32; 8] = core::array::from_fn(|n| st[0][n].rotate_left(r));
    let [a, b, c, d] = *st;
    let na: [u32; 8] = core::array::from_fn(|n| {
        let f = if MAJ {
            maj(a[n], b[n], c[n])
        } else {
            if_(a[n], b[n], c[n])
        };
        d[n].wrapping_add(w[n])
            .wrapping_add(f)
            .rotate_left(s)
            .wrapping_add(ta[PX ^ n])
    });
    *st = [na, ta, b, c];
}

#[inline(always)]
fn step(st: &mut [[u32; 8]; 4], w: &[u32; 8], maj_step: bool, r: u32, s: u32, p: usize) {
    macro_rules! dispatch {
        ($($px:literal),*) => {
            match (maj_step, p) {
                $((false, $px) => step_with::<false, $px>(st, w, r, s),
                  (true, $px) => step_with::<true, $px>(st, w, r, s),)*
                // PERM holds 1..=7: the remaining value is 7.
                (false, _) => step_with::<false, 7>(st, w, r, s),
                (true, _) => step_with::<true, 7>(st, w, r, s),
            }
        };
    }
    dispatch!(1, 2, 3, 4, 5, 6)
}

fn compress(h: &mut [u32; 32], block: &[u8; 128], last: bool) {
    let y = expand(block, last);
    let mut st = [[0u32; 8]; 4];
    for i in 0..32 {
        let m = u32::from_le_bytes(block[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        st[i / 8][i % 8] = h[i] ^ m;
    }
    for r in 0..4 {
        let (mult, lo, hi): (i32, isize, isize) = match r {
            0 | 1 => (185, 0, 1),
            2 => (233, -256, -128),
            _ => (233, -383, -255),
        };
        for s in 0..8 {
            let i = 8 * r + s;
            let base = 16 * STEP_GROUP[i] as isize;
            let w: [u32; 8] = core::array::from_fn(|k| {
                let l = y[(base + 2 * k as isize + lo) as usize];
                let u = y[(base + 2 * k as isize + hi) as usize];
                ((l * mult) as u32 & 0xffff).wrapping_add(((u * mult) as u32) << 16)
            });
            let rot = &ROT[r];
            step(
                &mut st,
                &w,
                s >= 4,
                rot[s % 4],
                rot[(s + 1) % 4],
                PERM[i % 7],
            );
        }
    }
    // Feed-forward: four IF steps keyed with the previous chaining value.
    let rot = &ROT[3];
    for k in 0..4 {
        let w: [u32; 8] = core::array::from_fn(|n| h[8 * k + n]);
        step(
            &mut st,
            &w,
            false,
            rot[k],
            rot[(k + 1) % 4],
            PERM[(32 + k) % 7],
        );
    }
    for i in 0..32 {
        h[i] = st[i / 8][i % 8];
    }
}

/// SIMD-512 of a byte string.
pub fn simd512(data: &[u8]) -> [u8; 64] {
    let mut h = IV;
    let mut chunks = data.chunks_exact(128);
    for c in &mut chunks {
        compress(&mut h, c.try_into().expect("128 bytes"), false);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut block = [0u8; 128];
        block[..rest.len()].copy_from_slice(rest);
        compress(&mut h, &block, false);
    }
    let mut block = [0u8; 128];
    block[..8].copy_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    compress(&mut h, &block, true);
    let mut out = [0u8; 64];
    for (o, w) in out.chunks_exact_mut(4).zip(h.iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntt_matches_the_definition() {
        let x: [u8; 128] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let y = ntt(&x);
        for (i, yi) in y.iter().enumerate() {
            let mut s = 0i64;
            for (j, xj) in x.iter().enumerate() {
                s += *xj as i64 * POW41[(i * j) % 256] as i64;
            }
            assert_eq!((*yi as i64).rem_euclid(257), s % 257, "index {i}");
        }
    }

    #[test]
    fn offsets_match_the_specification_tables() {
        // First entries of the ordinary and final offsets, 41^(255 i) and 41^(255 i) + 41^(253 i).
        assert_eq!(&OFFSETS[0][..4], &[1, 163, 98, 40]);
        assert_eq!(&OFFSETS[1][..4], &[2, 203, 156, 47]);
    }
}
