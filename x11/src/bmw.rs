//! Blue Midnight Wish BMW-512, the round-2 SHA-3 submission ("tweaked" version), as specified in
//! D. Gligoroski et al., "Cryptographic Hash Function BLUE MIDNIGHT WISH", round 2 (2009).
//!
//! Sixteen 64-bit chaining words, 128-byte blocks read little-endian, functions f0 (bijective
//! transform of M xor H), f1 (two expand1 and fourteen expand2 rounds) and f2 (folding); the
//! final block is compressed once more under the constant chaining value `0xaaaa…a0 + i`.

const IV: [u64; 16] = {
    // 0x8081828384858687, 0x88898A8B8C8D8E8F, ..., 0xF8F9FAFBFCFDFEFF
    let mut iv = [0u64; 16];
    let mut i = 0;
    while i < 16 {
        let mut w = 0u64;
        let mut b = 0;
        while b < 8 {
            w = (w << 8) | (0x80 + 8 * i as u64 + b as u64);
            b += 1;
        }
        iv[i] = w;
        i += 1;
    }
    iv
};

const FINAL: [u64; 16] = {
    let mut f = [0u64; 16];
    let mut i = 0;
    while i < 16 {
        f[i] = 0xaaaa_aaaa_aaaa_aaa0 + i as u64;
        i += 1;
    }
    f
};

#[inline(always)]
fn s0(x: u64) -> u64 {
    (x >> 1) ^ (x << 3) ^ x.rotate_left(4) ^ x.rotate_left(37)
}
#[inline(always)]
fn s1(x: u64) -> u64 {
    (x >> 1) ^ (x << 2) ^ x.rotate_left(13) ^ x.rotate_left(43)
}
#[inline(always)]
fn s2(x: u64) -> u64 {
    (x >> 2) ^ (x << 1) ^ x.rotate_left(19) ^ x.rotate_left(53)
}
#[inline(always)]
fn s3(x: u64) -> u64 {
    (x >> 2) ^ (x << 2) ^ x.rotate_left(28) ^ x.rotate_left(59)
}
#[inline(always)]
fn s4(x: u64) -> u64 {
    (x >> 1) ^ x
}
#[inline(always)]
fn s5(x: u64) -> u64 {
    (x >> 2) ^ x
}

/// f0's W_j: signed sums of five of the words M_i xor H_i (table from the specification).
/// Each row: (index, subtract?) for the five terms; the first term is always added.
const W: [[(usize, bool); 5]; 16] = [
    [(5, false), (7, true), (10, false), (13, false), (14, false)],
    [(6, false), (8, true), (11, false), (14, false), (15, true)],
    [(0, false), (7, false), (9, false), (12, true), (15, false)],
    [(0, false), (1, true), (8, false), (10, true), (13, false)],
    [(1, false), (2, false), (9, false), (11, true), (14, true)],
    [(3, false), (2, true), (10, false), (12, true), (15, false)],
    [(4, false), (0, true), (3, true), (11, true), (13, false)],
    [(1, false), (4, true), (5, true), (12, true), (14, true)],
    [(2, false), (5, true), (6, true), (13, false), (15, true)],
    [(0, false), (3, true), (6, false), (7, true), (14, false)],
    [(8, false), (1, true), (4, true), (7, true), (15, false)],
    [(8, false), (0, true), (2, true), (5, true), (9, false)],
    [(1, false), (3, false), (6, true), (9, true), (10, false)],
    [(2, false), (4, false), (7, false), (10, false), (11, false)],
    [(3, false), (5, true), (8, false), (11, true), (12, true)],
    [(12, false), (4, true), (6, true), (9, true), (13, false)],
];

fn compress(h: &[u64; 16], m: &[u64; 16]) -> [u64; 16] {
    let mut x = [0u64; 16];
    for i in 0..16 {
        x[i] = m[i] ^ h[i];
    }
    let mut q = [0u64; 32];
    // f0
    for j in 0..16 {
        let mut w = x[W[j][0].0];
        for &(i, neg) in &W[j][1..] {
            w = if neg {
                w.wrapping_sub(x[i])
            } else {
                w.wrapping_add(x[i])
            };
        }
        let s = match j % 5 {
            0 => s0(w),
            1 => s1(w),
            2 => s2(w),
            3 => s3(w),
            _ => s4(w),
        };
        q[j] = s.wrapping_add(h[(j + 1) % 16]);
    }
    // f1
    for j in 16..32 {
        let i = j - 16;
        let rot = |k: usize| m[k].rotate_left(k as u32 + 1);
        let add_elt = (rot(i)
            .wrapping_add(rot((i + 3) % 16))
            .wrapping_sub(rot((i + 10) % 16))
            .wrapping_add((j as u64).wrapping_mul(0x0555_5555_5555_5555)))
            ^ h[(i + 7) % 16];
        let mut acc = add_elt;
        if j < 18 {
            // expand1
            for k in 0..16 {
                let v = q[i + k];
                acc = acc.wrapping_add(match k % 4 {
                    0 => s1(v),
                    1 => s2(v),
                    2 => s3(v),
                    _ => s0(v),
                });
            }
        } else {
            // expand2
            const R: [u32; 7] = [5, 11, 27, 32, 37, 43, 53];
            for k in 0..14 {
                let v = q[i + k];
                acc = acc.wrapping_add(if k % 2 == 0 {
                    v
                } else {
                    v.rotate_left(R[k / 2])
                });
            }
            acc = acc.wrapping_add(s4(q[i + 14])).wrapping_add(s5(q[i + 15]));
        }
        q[j] = acc;
    }
    // f2
    let xl = q[16..24].iter().fold(0, |a, v| a ^ v);
    let xh = q[24..32].iter().fold(xl, |a, v| a ^ v);
    let mut d = [0u64; 16];
    d[0] = ((xh << 5) ^ (q[16] >> 5) ^ m[0]).wrapping_add(xl ^ q[24] ^ q[0]);
    d[1] = ((xh >> 7) ^ (q[17] << 8) ^ m[1]).wrapping_add(xl ^ q[25] ^ q[1]);
    d[2] = ((xh >> 5) ^ (q[18] << 5) ^ m[2]).wrapping_add(xl ^ q[26] ^ q[2]);
    d[3] = ((xh >> 1) ^ (q[19] << 5) ^ m[3]).wrapping_add(xl ^ q[27] ^ q[3]);
    d[4] = ((xh >> 3) ^ q[20] ^ m[4]).wrapping_add(xl ^ q[28] ^ q[4]);
    d[5] = ((xh << 6) ^ (q[21] >> 6) ^ m[5]).wrapping_add(xl ^ q[29] ^ q[5]);
    d[6] = ((xh >> 4) ^ (q[22] << 6) ^ m[6]).wrapping_add(xl ^ q[30] ^ q[6]);
    d[7] = ((xh >> 11) ^ (q[23] << 2) ^ m[7]).wrapping_add(xl ^ q[31] ^ q[7]);
    const XL_SHIFT: [(bool, u32); 8] = [
        (true, 8),
        (false, 6),
        (true, 6),
        (true, 4),
        (false, 3),
        (false, 4),
        (false, 7),
        (false, 2),
    ];
    for k in 0..8 {
        let j = 8 + k;
        let (left, n) = XL_SHIFT[k];
        let xls = if left { xl << n } else { xl >> n };
        let qidx = if k == 0 { 23 } else { 15 + k };
        d[j] = d[(k + 4) % 8]
            .rotate_left(9 + k as u32)
            .wrapping_add(xh ^ q[24 + k] ^ m[j])
            .wrapping_add(xls ^ q[qidx] ^ q[j]);
    }
    d
}

fn words(block: &[u8]) -> [u64; 16] {
    let mut m = [0u64; 16];
    for (w, c) in m.iter_mut().zip(block.chunks_exact(8)) {
        *w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
    }
    m
}

/// BMW-512 of a byte string.
pub fn bmw512(data: &[u8]) -> [u8; 64] {
    let mut h = IV;
    let mut chunks = data.chunks_exact(128);
    for c in &mut chunks {
        h = compress(&h, &words(c));
    }
    let rest = chunks.remainder();
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    if rest.len() + 1 > 120 {
        h = compress(&h, &words(&block));
        block = [0u8; 128];
    }
    block[120..].copy_from_slice(&bits.to_le_bytes());
    h = compress(&h, &words(&block));
    let mut fin = [0u8; 128];
    for (o, w) in fin.chunks_exact_mut(8).zip(h.iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    let out_words = compress(&FINAL, &words(&fin));
    let mut out = [0u8; 64];
    for (o, w) in out.chunks_exact_mut(8).zip(out_words[8..].iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}
