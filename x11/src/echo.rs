//! ECHO-512, the round-2 SHA-3 submission, as specified in R. Benadjila, O. Billet, H. Gilbert,
//! G. Macario-Rat, T. Peyrin, M. Robshaw, Y. Seurin, "SHA-3 Proposal: ECHO", version 2.0 (2010).
//!
//! A 2048-bit state of sixteen 128-bit words (columns-first 4×4 matrix): eight chaining words and
//! eight message words (a 128-byte block). Ten rounds of BIG.SubWords (two AES rounds per word,
//! the first keyed with the running bit counter, the second with the all-zero salt),
//! BIG.ShiftRows and BIG.MixColumns; BIG.Final folds the state back into the chaining value.

use super::aes;

type Word = [u32; 4];

fn compress(v: &mut [Word; 8], block: &[u8; 128], counter: u128) {
    let mut w = [[0u32; 4]; 16];
    w[..8].copy_from_slice(v);
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[8 + i / 4][i % 4] = u32::from_le_bytes(c.try_into().expect("4 bytes"));
    }
    let mut k = counter;
    for _ in 0..10 {
        // BIG.SubWords
        for x in w.iter_mut() {
            let key = [
                k as u32,
                (k >> 32) as u32,
                (k >> 64) as u32,
                (k >> 96) as u32,
            ];
            let mut y = aes::round(*x);
            for i in 0..4 {
                y[i] ^= key[i];
            }
            *x = aes::round(y);
            k = k.wrapping_add(1);
        }
        // BIG.ShiftRows: row r (words r, r+4, r+8, r+12) moves r columns left.
        let old = w;
        for c in 0..4 {
            for r in 1..4 {
                w[4 * c + r] = old[4 * ((c + r) % 4) + r];
            }
        }
        // BIG.MixColumns: the AES MixColumns matrix on each byte position of each column of words.
        for c in 0..4 {
            for i in 0..4 {
                let a = w[4 * c][i];
                let b = w[4 * c + 1][i];
                let cc = w[4 * c + 2][i];
                let d = w[4 * c + 3][i];
                let ab = a ^ b;
                let bc = b ^ cc;
                let cd = cc ^ d;
                let (abx, bcx, cdx) = (xtime4(ab), xtime4(bc), xtime4(cd));
                w[4 * c][i] = abx ^ bc ^ d;
                w[4 * c + 1][i] = bcx ^ a ^ cd;
                w[4 * c + 2][i] = cdx ^ ab ^ d;
                w[4 * c + 3][i] = abx ^ bcx ^ cdx ^ ab ^ cc;
            }
        }
    }
    // BIG.Final
    for i in 0..8 {
        for j in 0..4 {
            let m = u32::from_le_bytes(
                block[16 * i + 4 * j..16 * i + 4 * j + 4]
                    .try_into()
                    .expect("4"),
            );
            v[i][j] ^= m ^ w[i][j] ^ w[i + 8][j];
        }
    }
}

/// Multiplication by 2 in GF(2^8) of the four bytes of a word at once.
#[inline(always)]
fn xtime4(x: u32) -> u32 {
    (((x & 0x8080_8080) >> 7) * 0x1b) ^ ((x & 0x7f7f_7f7f) << 1)
}

/// ECHO-512 of a byte string.
pub fn echo512(data: &[u8]) -> [u8; 64] {
    let mut v = [[512u32, 0, 0, 0]; 8];
    let mut chunks = data.chunks_exact(128);
    let mut counter: u128 = 0;
    for c in &mut chunks {
        counter += 1024;
        compress(&mut v, c.try_into().expect("128 bytes"), counter);
    }
    let rest = chunks.remainder();
    let total_bits = (data.len() as u128) * 8;
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    // The counter keys a block by the message bits up to its end; a block with none uses zero.
    let last_counter = if rest.is_empty() { 0 } else { total_bits };
    if rest.len() + 1 > 128 - 18 {
        compress(&mut v, &block, last_counter);
        block = [0u8; 128];
        block[110..112].copy_from_slice(&512u16.to_le_bytes());
        block[112..].copy_from_slice(&total_bits.to_le_bytes());
        compress(&mut v, &block, 0);
    } else {
        block[110..112].copy_from_slice(&512u16.to_le_bytes());
        block[112..].copy_from_slice(&total_bits.to_le_bytes());
        compress(&mut v, &block, last_counter);
    }
    let mut out = [0u8; 64];
    for (i, o) in out.chunks_exact_mut(4).enumerate() {
        o.copy_from_slice(&v[i / 4][i % 4].to_le_bytes());
    }
    out
}
