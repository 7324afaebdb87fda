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

/// The same rounds as [`round`], on the two halves `a = x[0..16]`, `b = x[16..32]` written as
/// whole-array operations so that the compiler can use SIMD registers: the swaps become index
/// permutations (`i ^ 8`, `i ^ 2`, `i ^ 4`, `i ^ 1`).
#[inline(always)]
fn fast_rounds(x: &mut [u32; 32], n: usize) {
    let mut a: [u32; 16] = core::array::from_fn(|i| x[i]);
    let mut b: [u32; 16] = core::array::from_fn(|i| x[16 + i]);
    for _ in 0..n {
        for i in 0..16 {
            b[i] = b[i].wrapping_add(a[i]);
            a[i] = a[i].rotate_left(7);
        }
        let a2: [u32; 16] = core::array::from_fn(|i| a[i ^ 8] ^ b[i]);
        let mut b2: [u32; 16] = core::array::from_fn(|i| b[i ^ 2]);
        let mut a2 = a2;
        for i in 0..16 {
            b2[i] = b2[i].wrapping_add(a2[i]);
            a2[i] = a2[i].rotate_left(11);
        }
        a = core::array::from_fn(|i| a2[i ^ 4] ^ b2[i]);
        b = core::array::from_fn(|i| b2[i ^ 1]);
    }
    x[..16].copy_from_slice(&a);
    x[16..].copy_from_slice(&b);
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
