//! The AES round function (FIPS 197: SubBytes, ShiftRows, MixColumns), keyless, as used by
//! SHAvite-3 and ECHO. A 16-byte block is four little-endian 32-bit columns (byte 0 of the block
//! is the low byte of column 0). The S-box and the four lookup tables are computed at compile time
//! from the definition (multiplicative inverse in GF(2^8) mod x^8+x^4+x^3+x+1, then the affine map).

const fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

const fn sbox() -> [u8; 256] {
    let mut s = [0u8; 256];
    let mut x = 0usize;
    while x < 256 {
        // inverse = x^254 (0 maps to 0)
        let mut inv = 1u8;
        let mut i = 0;
        while i < 254 {
            inv = gmul(inv, x as u8);
            i += 1;
        }
        if x == 0 {
            inv = 0;
        }
        let b = inv;
        s[x] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        x += 1;
    }
    s
}

/// The AES S-box.
pub(super) const SBOX: [u8; 256] = sbox();

const fn table(shift: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut x = 0;
    while x < 256 {
        let s = SBOX[x];
        // The MixColumns column for byte s in row 0: (2s, s, s, 3s), little-endian.
        let col = (gmul(s, 2) as u32)
            | ((s as u32) << 8)
            | ((s as u32) << 16)
            | ((gmul(s, 3) as u32) << 24);
        t[x] = col.rotate_left(shift);
        x += 1;
    }
    t
}

const T0: [u32; 256] = table(0);
const T1: [u32; 256] = table(8);
const T2: [u32; 256] = table(16);
const T3: [u32; 256] = table(24);

/// One keyless AES round on four little-endian columns.
#[inline(always)]
pub(super) fn round(x: [u32; 4]) -> [u32; 4] {
    let [x0, x1, x2, x3] = x;
    let col = |a: u32, b: u32, c: u32, d: u32| {
        T0[(a & 0xff) as usize]
            ^ T1[((b >> 8) & 0xff) as usize]
            ^ T2[((c >> 16) & 0xff) as usize]
            ^ T3[(d >> 24) as usize]
    };
    [
        col(x0, x1, x2, x3),
        col(x1, x2, x3, x0),
        col(x2, x3, x0, x1),
        col(x3, x0, x1, x2),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbox_matches_fips197() {
        // FIPS 197 Figure 7: S(0x00) = 0x63, S(0x53) = 0xed, S(0xff) = 0x16.
        assert_eq!(SBOX[0x00], 0x63);
        assert_eq!(SBOX[0x53], 0xed);
        assert_eq!(SBOX[0xff], 0x16);
    }

    #[test]
    fn aes128_known_answer_via_rounds() {
        // FIPS 197 Appendix C.1: AES-128, key 000102..0f, plaintext 00112233..ff,
        // ciphertext 69c4e0d86a7b0430d8cdb78070b4c55a. Rounds 1..9 use `round` plus the round key;
        // the last round (no MixColumns) is done by hand here.
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let pt: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
        let mut rk = [[0u32; 4]; 11];
        for (i, w) in rk[0].iter_mut().enumerate() {
            *w = u32::from_le_bytes(key[4 * i..4 * i + 4].try_into().unwrap());
        }
        let mut rcon = 1u8;
        for r in 1..11 {
            let p = rk[r - 1][3].rotate_right(8);
            let sub = u32::from_le_bytes(p.to_le_bytes().map(|b| SBOX[b as usize]));
            let mut w0 = rk[r - 1][0] ^ sub ^ rcon as u32;
            rk[r][0] = w0;
            for i in 1..4 {
                w0 ^= rk[r - 1][i];
                rk[r][i] = w0;
            }
            rcon = gmul(rcon, 2);
        }
        let mut s: [u32; 4] =
            core::array::from_fn(|i| u32::from_le_bytes(pt[4 * i..4 * i + 4].try_into().unwrap()));
        for i in 0..4 {
            s[i] ^= rk[0][i];
        }
        for k in rk.iter().take(10).skip(1) {
            s = round(s);
            for i in 0..4 {
                s[i] ^= k[i];
            }
        }
        // Final round: SubBytes and ShiftRows only.
        let b: Vec<u8> = s.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = [0u8; 16];
        for c in 0..4 {
            for r in 0..4 {
                out[4 * c + r] = SBOX[b[4 * ((c + r) % 4) + r] as usize];
            }
        }
        let out: Vec<u8> = out
            .chunks(4)
            .zip(rk[10].iter())
            .flat_map(|(c, k)| (u32::from_le_bytes(c.try_into().unwrap()) ^ k).to_le_bytes())
            .collect();
        assert_eq!(hex::encode(out), "69c4e0d86a7b0430d8cdb78070b4c55a");
    }
}
