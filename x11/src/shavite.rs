//! SHAvite-3-512, the tweaked round-2 SHA-3 submission, as specified in E. Biham, O. Dunkelman,
//! "The SHAvite-3 Hash Function", revised version (2009), with the AES round in the
//! specification's little-endian convention.
//!
//! A 512-bit chaining value of four 128-bit words in a 14-round generalised Feistel structure
//! (two keyed F functions of four AES rounds per round); 448 round-key words are expanded from the
//! 128-byte block by AES rounds and linear steps, with the 128-bit bit counter injected at four
//! points.

use super::aes;

const IV: [u32; 16] = [
    0x72FCCDD8, 0x79CA4727, 0x128A077B, 0x40D55AEC, 0xD1901A06, 0x430AE307, 0xB29F5CD1, 0xDF07FBFC,
    0x8E45D73D, 0x681AB538, 0xBDE86578, 0xDD577E47, 0xE275EADE, 0x502D9FCD, 0xB9357178, 0x022A4B9A,
];

fn expand_keys(block: &[u8; 128], cnt: [u32; 4]) -> [u32; 448] {
    let mut rk = [0u32; 448];
    for (w, c) in rk.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes(c.try_into().expect("4 bytes"));
    }
    let mut u = 32;
    loop {
        // Eight nonlinear steps.
        for _ in 0..8 {
            let x = aes::round([rk[u - 31], rk[u - 30], rk[u - 29], rk[u - 32]]);
            for i in 0..4 {
                rk[u + i] = x[i] ^ rk[u - 4 + i];
            }
            let inject = match u {
                32 => Some([cnt[0], cnt[1], cnt[2], !cnt[3]]),
                164 => Some([cnt[3], cnt[2], cnt[1], !cnt[0]]),
                316 => Some([cnt[2], cnt[3], cnt[0], !cnt[1]]),
                440 => Some([cnt[1], cnt[0], cnt[3], !cnt[2]]),
                _ => None,
            };
            if let Some(c) = inject {
                for i in 0..4 {
                    rk[u + i] ^= c[i];
                }
            }
            u += 4;
        }
        if u == 448 {
            break;
        }
        // Eight linear steps.
        for _ in 0..8 {
            for i in 0..4 {
                rk[u + i] = rk[u - 32 + i] ^ rk[u - 7 + i];
            }
            u += 4;
        }
    }
    rk
}

#[inline(always)]
fn f(x: &[u32; 4], rk: &[u32]) -> [u32; 4] {
    let mut y = [x[0] ^ rk[0], x[1] ^ rk[1], x[2] ^ rk[2], x[3] ^ rk[3]];
    y = aes::round(y);
    for k in 1..4 {
        for i in 0..4 {
            y[i] ^= rk[4 * k + i];
        }
        y = aes::round(y);
    }
    y
}

fn compress(h: &mut [u32; 16], block: &[u8; 128], counter: u128) {
    let cnt = [
        counter as u32,
        (counter >> 32) as u32,
        (counter >> 64) as u32,
        (counter >> 96) as u32,
    ];
    let rk = expand_keys(block, cnt);
    let mut p: [[u32; 4]; 4] =
        core::array::from_fn(|i| [h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]]);
    for r in 0..14 {
        let k = &rk[32 * r..32 * r + 32];
        let fa = f(&p[1], &k[..16]);
        let fc = f(&p[3], &k[16..]);
        for i in 0..4 {
            p[0][i] ^= fa[i];
            p[2][i] ^= fc[i];
        }
        // (A, B, C, D) <- (D, A, B, C)
        p = [p[3], p[0], p[1], p[2]];
    }
    for i in 0..16 {
        h[i] ^= p[i / 4][i % 4];
    }
}

/// SHAvite-3-512 of a byte string.
pub fn shavite512(data: &[u8]) -> [u8; 64] {
    let mut h = IV;
    let mut chunks = data.chunks_exact(128);
    let mut counter: u128 = 0;
    for c in &mut chunks {
        counter += 1024;
        compress(&mut h, c.try_into().expect("128 bytes"), counter);
    }
    let rest = chunks.remainder();
    let total_bits = (data.len() as u128) * 8;
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    let tail = |b: &mut [u8; 128]| {
        b[110..126].copy_from_slice(&total_bits.to_le_bytes());
        b[126..].copy_from_slice(&512u16.to_le_bytes());
    };
    if rest.is_empty() {
        tail(&mut block);
        compress(&mut h, &block, 0);
    } else if rest.len() < 110 {
        tail(&mut block);
        compress(&mut h, &block, total_bits);
    } else {
        compress(&mut h, &block, total_bits);
        block = [0u8; 128];
        tail(&mut block);
        compress(&mut h, &block, 0);
    }
    let mut out = [0u8; 64];
    for (o, w) in out.chunks_exact_mut(4).zip(h.iter()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}
