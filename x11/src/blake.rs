//! BLAKE-512, the final-round SHA-3 submission (16 rounds), as specified in
//! J.-P. Aumasson, L. Henzen, W. Meier, R. C.-W. Phan, "SHA-3 proposal BLAKE", version 1.3 (2010).
//!
//! The state is sixteen 64-bit words; message words are read big-endian; the counter is the number
//! of message bits hashed so far (zero for a block made only of padding); no salt.

const IV: [u64; 8] = [
    0x6A09E667F3BCC908,
    0xBB67AE8584CAA73B,
    0x3C6EF372FE94F82B,
    0xA54FF53A5F1D36F1,
    0x510E527FADE682D1,
    0x9B05688C2B3E6C1F,
    0x1F83D9ABFB41BD6B,
    0x5BE0CD19137E2179,
];

/// The sixteen constants: the first 1024 bits of the fractional part of pi.
const C: [u64; 16] = [
    0x243F6A8885A308D3,
    0x13198A2E03707344,
    0xA4093822299F31D0,
    0x082EFA98EC4E6C89,
    0x452821E638D01377,
    0xBE5466CF34E90C6C,
    0xC0AC29B7C97C50DD,
    0x3F84D5B5B5470917,
    0x9216D5D98979FB1B,
    0xD1310BA698DFB5AC,
    0x2FFD72DBD01ADFB7,
    0xB8E1AFED6A267E96,
    0xBA7C9045F12C7F99,
    0x24A19947B3916CF7,
    0x0801F2E2858EFC16,
    0x636920D871574E69,
];

/// The ten message permutations; round r uses `SIGMA[r % 10]`.
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

const ROUNDS: usize = 16;

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn g(
    v: &mut [u64; 16],
    m: &[u64; 16],
    s: &[usize; 16],
    i: usize,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
) {
    let (x, y) = (s[2 * i], s[2 * i + 1]);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(m[x] ^ C[y]);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(25);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(m[y] ^ C[x]);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(11);
}

fn compress(h: &mut [u64; 8], block: &[u8; 128], t: u128) {
    let mut m = [0u64; 16];
    for (w, c) in m.iter_mut().zip(block.chunks_exact(8)) {
        *w = u64::from_be_bytes(c.try_into().expect("8 bytes"));
    }
    let (t0, t1) = (t as u64, (t >> 64) as u64);
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..12].copy_from_slice(&C[..4]);
    v[12] = t0 ^ C[4];
    v[13] = t0 ^ C[5];
    v[14] = t1 ^ C[6];
    v[15] = t1 ^ C[7];
    for r in 0..ROUNDS {
        let s = &SIGMA[r % 10];
        g(&mut v, &m, s, 0, 0, 4, 8, 12);
        g(&mut v, &m, s, 1, 1, 5, 9, 13);
        g(&mut v, &m, s, 2, 2, 6, 10, 14);
        g(&mut v, &m, s, 3, 3, 7, 11, 15);
        g(&mut v, &m, s, 4, 0, 5, 10, 15);
        g(&mut v, &m, s, 5, 1, 6, 11, 12);
        g(&mut v, &m, s, 6, 2, 7, 8, 13);
        g(&mut v, &m, s, 7, 3, 4, 9, 14);
    }
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

/// BLAKE-512 of a byte string.
pub fn blake512(data: &[u8]) -> [u8; 64] {
    let mut h = IV;
    let bits = (data.len() as u128) * 8;
    let mut chunks = data.chunks_exact(128);
    let mut t: u128 = 0;
    for c in &mut chunks {
        t += 1024;
        compress(&mut h, c.try_into().expect("128 bytes"), t);
    }
    let rest = chunks.remainder();
    // Padding: a 1 bit, zeros, a 1 bit, then the 128-bit big-endian message length.
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    if rest.len() <= 128 - 17 {
        block[111] |= 0x01;
        block[112..].copy_from_slice(&bits.to_be_bytes());
        // The counter is the number of message bits in this block and before it; zero if none.
        let t_last = if rest.is_empty() { 0 } else { bits };
        compress(&mut h, &block, t_last);
    } else {
        compress(&mut h, &block, bits);
        let mut last = [0u8; 128];
        last[111] = 0x01;
        last[112..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut h, &last, 0);
    }
    let mut out = [0u8; 64];
    for (o, w) in out.chunks_exact_mut(8).zip(h.iter()) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}
