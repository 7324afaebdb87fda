//! Luffa-512, the round-2 SHA-3 submission, as specified in C. De Cannière, H. Sato, D. Watanabe,
//! "Hash Function Luffa: Specification", version 2.0 (2009).
//!
//! Five 256-bit blocks of eight 32-bit words; 32-byte message blocks read big-endian; the message
//! injection MI for w = 5 (multiplication by 2 in GF(2^32)^8 with the specification's feedback),
//! then the five permutations Q_j (tweak, then 8 steps of SubCrumb, MixWord and AddConstant);
//! the digest is the xor of the five blocks after each of two blank rounds.

type Block = [u32; 8];

const V_INIT: [Block; 5] = [
    [
        0x6d251e69, 0x44b051e0, 0x4eaa6fb4, 0xdbf78465, 0x6e292011, 0x90152df4, 0xee058139,
        0xdef610bb,
    ],
    [
        0xc3b44b95, 0xd9d2f256, 0x70eee9a0, 0xde099fa3, 0x5d9b0557, 0x8fc944b3, 0xcf1ccf0e,
        0x746cd581,
    ],
    [
        0xf7efc89d, 0x5dba5781, 0x04016ce5, 0xad659c05, 0x0306194f, 0x666d1836, 0x24aa230a,
        0x8b264ae7,
    ],
    [
        0x858075d5, 0x36d79cce, 0xe571f7d7, 0x204b1f67, 0x35870c6a, 0x57e9e923, 0x14bcb808,
        0x7cde72ce,
    ],
    [
        0x6c68e9be, 0x5ec41e22, 0xc825b7c7, 0xaffb4363, 0xf5df3999, 0x0fc688f1, 0xb07224cc,
        0x03e86cea,
    ],
];

/// Step constants: for permutation j, step r, `(C[j][0][r], C[j][1][r])` are added to words 0 and 4.
const C: [[[u32; 8]; 2]; 5] = [
    [
        [
            0x303994a6, 0xc0e65299, 0x6cc33a12, 0xdc56983e, 0x1e00108f, 0x7800423d, 0x8f5b7882,
            0x96e1db12,
        ],
        [
            0xe0337818, 0x441ba90d, 0x7f34d442, 0x9389217f, 0xe5a8bce6, 0x5274baf4, 0x26889ba7,
            0x9a226e9d,
        ],
    ],
    [
        [
            0xb6de10ed, 0x70f47aae, 0x0707a3d4, 0x1c1e8f51, 0x707a3d45, 0xaeb28562, 0xbaca1589,
            0x40a46f3e,
        ],
        [
            0x01685f3d, 0x05a17cf4, 0xbd09caca, 0xf4272b28, 0x144ae5cc, 0xfaa7ae2b, 0x2e48f1c1,
            0xb923c704,
        ],
    ],
    [
        [
            0xfc20d9d2, 0x34552e25, 0x7ad8818f, 0x8438764a, 0xbb6de032, 0xedb780c8, 0xd9847356,
            0xa2c78434,
        ],
        [
            0xe25e72c1, 0xe623bb72, 0x5c58a4a4, 0x1e38e2e7, 0x78e38b9d, 0x27586719, 0x36eda57f,
            0x703aace7,
        ],
    ],
    [
        [
            0xb213afa5, 0xc84ebe95, 0x4e608a22, 0x56d858fe, 0x343b138f, 0xd0ec4e3d, 0x2ceb4882,
            0xb3ad2208,
        ],
        [
            0xe028c9bf, 0x44756f91, 0x7e8fce32, 0x956548be, 0xfe191be2, 0x3cb226e5, 0x5944a28e,
            0xa1c4c355,
        ],
    ],
    [
        [
            0xf0d2e9e3, 0xac11d7fa, 0x1bcb66f2, 0x6f2d9bc9, 0x78602649, 0x8edae952, 0x3b6ba548,
            0xedae9520,
        ],
        [
            0x5090d577, 0x2d1925ab, 0xb46496ac, 0xd1925ab0, 0x29131ab6, 0x0fc053c3, 0x3f014f0c,
            0xfc053c31,
        ],
    ],
];

/// Multiplication by 2 (the element `x`) in the specification's ring of 8-word vectors.
#[inline(always)]
fn mul2(a: &Block) -> Block {
    let t = a[7];
    [a[7], a[0] ^ t, a[1], a[2] ^ t, a[3] ^ t, a[4], a[5], a[6]]
}

#[inline(always)]
fn xor(a: &Block, b: &Block) -> Block {
    let mut r = [0u32; 8];
    for i in 0..8 {
        r[i] = a[i] ^ b[i];
    }
    r
}

/// The message injection function MI for five blocks.
fn inject(v: &mut [Block; 5], m: &Block) {
    // Mix all five blocks with their sum times 2.
    let mut a = xor(&xor(&xor(&v[0], &v[1]), &xor(&v[2], &v[3])), &v[4]);
    a = mul2(&a);
    for b in v.iter_mut() {
        *b = xor(&a, b);
    }
    // Forward then backward chains of doubling and adding the neighbour.
    let b0 = xor(&mul2(&v[0]), &v[1]);
    v[1] = xor(&mul2(&v[1]), &v[2]);
    v[2] = xor(&mul2(&v[2]), &v[3]);
    v[3] = xor(&mul2(&v[3]), &v[4]);
    v[4] = xor(&mul2(&v[4]), &v[0]);
    v[0] = xor(&mul2(&b0), &v[4]);
    v[4] = xor(&mul2(&v[4]), &v[3]);
    v[3] = xor(&mul2(&v[3]), &v[2]);
    v[2] = xor(&mul2(&v[2]), &v[1]);
    v[1] = xor(&mul2(&v[1]), &b0);
    // Add the message times 2^j into block j.
    let mut mm = *m;
    for (j, b) in v.iter_mut().enumerate() {
        if j > 0 {
            mm = mul2(&mm);
        }
        *b = xor(b, &mm);
    }
}

/// SubCrumb: the 4-bit S-box applied bit-sliced across four words.
#[inline(always)]
fn sub_crumb(a0: &mut u32, a1: &mut u32, a2: &mut u32, a3: &mut u32) {
    let mut t = *a0;
    *a0 |= *a1;
    *a2 ^= *a3;
    *a1 = !*a1;
    *a0 ^= *a3;
    *a3 &= t;
    *a1 ^= *a3;
    *a3 ^= *a2;
    *a2 &= *a0;
    *a0 = !*a0;
    *a2 ^= *a1;
    *a1 |= *a3;
    t ^= *a1;
    *a3 ^= *a2;
    *a2 &= *a1;
    *a1 ^= *a0;
    *a0 = t;
}

#[inline(always)]
fn mix_word(u: &mut u32, v: &mut u32) {
    *v ^= *u;
    *u = u.rotate_left(2) ^ *v;
    *v = v.rotate_left(14) ^ *u;
    *u = u.rotate_left(10) ^ *v;
    *v = v.rotate_left(1);
}

fn permute(b: &mut Block, j: usize) {
    // Tweak: words 4..8 of block j rotate left by j bits.
    for w in &mut b[4..] {
        *w = w.rotate_left(j as u32);
    }
    for r in 0..8 {
        let [w0, w1, w2, w3, w4, w5, w6, w7] = b;
        sub_crumb(w0, w1, w2, w3);
        sub_crumb(w5, w6, w7, w4);
        mix_word(w0, w4);
        mix_word(w1, w5);
        mix_word(w2, w6);
        mix_word(w3, w7);
        *w0 ^= C[j][0][r];
        *w4 ^= C[j][1][r];
    }
}

fn round(v: &mut [Block; 5], block: &[u8]) {
    let mut m = [0u32; 8];
    for (w, c) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_be_bytes(c.try_into().expect("4 bytes"));
    }
    inject(v, &m);
    for (j, b) in v.iter_mut().enumerate() {
        permute(b, j);
    }
}

fn output(v: &[Block; 5], out: &mut [u8]) {
    for i in 0..8 {
        let w = v[0][i] ^ v[1][i] ^ v[2][i] ^ v[3][i] ^ v[4][i];
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
}

/// Luffa-512 of a byte string.
pub fn luffa512(data: &[u8]) -> [u8; 64] {
    let mut v = V_INIT;
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        round(&mut v, c);
    }
    let rest = chunks.remainder();
    let mut block = [0u8; 32];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    round(&mut v, &block);
    let mut out = [0u8; 64];
    round(&mut v, &[0u8; 32]);
    output(&v, &mut out[..32]);
    round(&mut v, &[0u8; 32]);
    output(&v, &mut out[32..]);
    out
}
