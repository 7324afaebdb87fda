//! CubeHash16/32-512 (CubeHash160+16/32+160-512), the round-2 SHA-3 submission, as specified in
//! D. J. Bernstein, "CubeHash specification (2.B.1)" (2009).
//!
//! A 1024-bit state of thirty-two 32-bit words; 32-byte blocks xored into the first eight words
//! (little-endian), 16 rounds per block; the initial state is derived from (h/8, b, r) by 160
//! rounds; finalisation flips the last word's low bit and runs 160 more rounds.

const R: usize = 16;

/// One CubeHash round (the ten steps of the specification, section 2.2).
#[inline(always)]
const fn round(x: &mut [u32; 32]) {
    let mut i = 0;
    // 1. add x[0jklm] into x[1jklm]; 2. rotate x[0jklm] left by 7.
    while i < 16 {
        x[i + 16] = x[i + 16].wrapping_add(x[i]);
        x[i] = x[i].rotate_left(7);
        i += 1;
    }
    // 3. swap x[00klm] with x[01klm]; 4. xor x[1jklm] into x[0jklm].
    i = 0;
    while i < 8 {
        let t = x[i];
        x[i] = x[i + 8] ^ x[i + 16];
        x[i + 8] = t ^ x[i + 24];
        i += 1;
    }
    // 5. swap x[1jk0m] with x[1jk1m].
    i = 16;
    while i < 32 {
        let (a, b) = (x[i], x[i + 1]);
        x[i] = x[i + 2];
        x[i + 1] = x[i + 3];
        x[i + 2] = a;
        x[i + 3] = b;
        i += 4;
    }
    // 6. add x[0jklm] into x[1jklm]; 7. rotate x[0jklm] left by 11.
    i = 0;
    while i < 16 {
        x[i + 16] = x[i + 16].wrapping_add(x[i]);
        x[i] = x[i].rotate_left(11);
        i += 1;
    }
    // 8. swap x[0j0lm] with x[0j1lm]; 9. xor x[1jklm] into x[0jklm].
    i = 0;
    while i < 16 {
        let mut k = 0;
        while k < 4 {
            let t = x[i + k];
            x[i + k] = x[i + k + 4] ^ x[i + k + 16];
            x[i + k + 4] = t ^ x[i + k + 20];
            k += 1;
        }
        i += 8;
    }
    // 10. swap x[1jkl0] with x[1jkl1].
    i = 16;
    while i < 32 {
        let t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t;
        i += 2;
    }
}

const fn rounds(x: &mut [u32; 32], n: usize) {
    let mut i = 0;
    while i < n {
        round(x);
        i += 1;
    }
}

/// The initial state for 512-bit output, 32-byte blocks and 16 rounds, derived at compile time.
const INITIAL_STATE: [u32; 32] = {
    let mut x = [0u32; 32];
    x[0] = 512 / 8;
    x[1] = 32;
    x[2] = R as u32;
    rounds(&mut x, 10 * R);
    x
};

type V4 = [u32; 4];

#[inline(always)]
fn add(a: V4, b: V4) -> V4 {
    [
        a[0].wrapping_add(b[0]),
        a[1].wrapping_add(b[1]),
        a[2].wrapping_add(b[2]),
        a[3].wrapping_add(b[3]),
    ]
}
#[inline(always)]
fn xor(a: V4, b: V4) -> V4 {
    [a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]]
}
#[inline(always)]
fn rotl<const N: u32>(a: V4) -> V4 {
    [
        a[0].rotate_left(N),
        a[1].rotate_left(N),
        a[2].rotate_left(N),
        a[3].rotate_left(N),
    ]
}

/// The same rounds as [`round`], on the state as eight vectors of four words (`v[q]` holds
/// x[4q..4q+4]), so that the compiler can use SIMD registers: the word swaps of steps 3 and 8
/// become renamings of whole vectors, those of steps 5 and 10 lane shuffles.
#[inline(always)]
fn fast_rounds(x: &mut [u32; 32], n: usize) {
    let mut v: [V4; 8] =
        core::array::from_fn(|q| [x[4 * q], x[4 * q + 1], x[4 * q + 2], x[4 * q + 3]]);
    for _ in 0..n {
        let [a0, a1, a2, a3, b0, b1, b2, b3] = v;
        // 1, 2
        let (b0, b1, b2, b3) = (add(b0, a0), add(b1, a1), add(b2, a2), add(b3, a3));
        let (a0, a1, a2, a3) = (rotl::<7>(a0), rotl::<7>(a1), rotl::<7>(a2), rotl::<7>(a3));
        // 3 (swap a0<->a2, a1<->a3), 4
        let (a0, a1, a2, a3) = (xor(a2, b0), xor(a3, b1), xor(a0, b2), xor(a1, b3));
        // 5: lanes (2, 3, 0, 1) of each b
        let sw = |b: V4| [b[2], b[3], b[0], b[1]];
        let (b0, b1, b2, b3) = (sw(b0), sw(b1), sw(b2), sw(b3));
        // 6, 7
        let (b0, b1, b2, b3) = (add(b0, a0), add(b1, a1), add(b2, a2), add(b3, a3));
        let (a0, a1, a2, a3) = (
            rotl::<11>(a0),
            rotl::<11>(a1),
            rotl::<11>(a2),
            rotl::<11>(a3),
        );
        // 8 (swap a0<->a1, a2<->a3), 9
        let (a0, a1, a2, a3) = (xor(a1, b0), xor(a0, b1), xor(a3, b2), xor(a2, b3));
        // 10: lanes (1, 0, 3, 2) of each b
        let sw = |b: V4| [b[1], b[0], b[3], b[2]];
        v = [a0, a1, a2, a3, sw(b0), sw(b1), sw(b2), sw(b3)];
    }
    for q in 0..8 {
        x[4 * q..4 * q + 4].copy_from_slice(&v[q]);
    }
}

fn absorb(x: &mut [u32; 32], block: &[u8]) {
    for (v, c) in x.iter_mut().zip(block.chunks_exact(4)) {
        *v ^= u32::from_le_bytes(c.try_into().expect("4 bytes"));
    }
    fast_rounds(x, R);
}

/// CubeHash16/32-512 of a byte string.
pub fn cubehash512(data: &[u8]) -> [u8; 64] {
    let mut x = INITIAL_STATE;
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        absorb(&mut x, c);
    }
    let rest = chunks.remainder();
    let mut block = [0u8; 32];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    absorb(&mut x, &block);
    x[31] ^= 1;
    fast_rounds(&mut x, 10 * R);
    let mut out = [0u8; 64];
    for (o, w) in out.chunks_exact_mut(4).zip(x.iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_state_matches_the_published_first_word() {
        // CubeHash specification, "CubeHash16/32-512" initial state, first word 0x2aea2a61.
        assert_eq!(super::INITIAL_STATE[0], 0x2aea_2a61);
    }

    #[test]
    fn vectorised_rounds_equal_the_reference_rounds() {
        let mut a: [u32; 32] = core::array::from_fn(|i| (i as u32).wrapping_mul(0x9e37_79b9));
        let mut b = a;
        super::rounds(&mut a, 3);
        super::fast_rounds(&mut b, 3);
        assert_eq!(a, b);
    }
}
