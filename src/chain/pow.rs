//! Proof of work (PROTOCOL.md §2.3): 256-bit target arithmetic, compact ("nBits") encoding,
//! chain work, `CheckProofOfWork` and Dark Gravity Wave v3 exactly as Dash Core computes them
//! (CORE `src/pow.cpp`, `src/arith_uint256.cpp`).
//!
//! All arithmetic on [`U256`] wraps modulo 2^256 like Core's `arith_uint256`, so the results are
//! bit-identical to Core's even where Core's intermediate values would overflow.

use super::params;
use super::ChainError;
use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::header::BlockHeader;
use std::cmp::Ordering;

/// An unsigned 256-bit integer (four 64-bit limbs, least significant first), used for targets
/// and chain work. Arithmetic wraps modulo 2^256 as Core's `arith_uint256` does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256(pub [u64; 4]);

/// A decoded compact target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactTarget {
    /// The target (meaningless when `negative` or `overflow`).
    pub target: U256,
    /// The sign bit was set with a non-zero mantissa.
    pub negative: bool,
    /// The value does not fit in 256 bits.
    pub overflow: bool,
}

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 − 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// A small value.
    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// Interprets 32 bytes as a little-endian integer (Core's `UintToArith256` of a hash).
    pub fn from_le_bytes(b: &[u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(w);
        }
        U256(limbs)
    }

    /// The 32 little-endian bytes.
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Big-endian hex (64 digits), as Core prints `arith_uint256`.
    pub fn to_hex(&self) -> String {
        let mut b = self.to_le_bytes();
        b.reverse();
        hex::encode(b)
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// The lowest 64 bits.
    pub fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Left shift; bits shifted past 2^255 are lost, shifts ≥ 256 give zero.
    pub fn shl(&self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let limbs = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        for i in (limbs..4).rev() {
            let src = i - limbs;
            out[i] = self.0[src] << bits;
            if bits != 0 && src > 0 {
                out[i] |= self.0[src - 1] >> (64 - bits);
            }
        }
        U256(out)
    }

    /// Right shift; shifts ≥ 256 give zero.
    pub fn shr(&self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let limbs = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        for (i, o) in out.iter_mut().enumerate().take(4 - limbs) {
            let src = i + limbs;
            *o = self.0[src] >> bits;
            if bits != 0 && src + 1 < 4 {
                *o |= self.0[src + 1] << (64 - bits);
            }
        }
        U256(out)
    }

    /// Addition modulo 2^256.
    pub fn wrapping_add(&self, o: &U256) -> U256 {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, r) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *r = s2;
            carry = c1 || c2;
        }
        U256(out)
    }

    /// Addition that stops at 2^256 − 1.
    pub fn saturating_add(&self, o: &U256) -> U256 {
        let s = self.wrapping_add(o);
        if s < *self {
            U256::MAX
        } else {
            s
        }
    }

    /// Subtraction modulo 2^256.
    pub fn wrapping_sub(&self, o: &U256) -> U256 {
        self.wrapping_add(&o.not().wrapping_add(&U256::ONE))
    }

    /// Bitwise complement (Core's `~`).
    pub fn not(&self) -> U256 {
        U256([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }

    /// Multiplication by a 64-bit value modulo 2^256.
    pub fn wrapping_mul_u64(&self, m: u64) -> U256 {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for (i, r) in out.iter_mut().enumerate() {
            let p = self.0[i] as u128 * m as u128 + carry;
            *r = p as u64;
            carry = p >> 64;
        }
        U256(out)
    }

    /// Division by a non-zero 64-bit value (division by zero gives zero).
    pub fn div_u64(&self, d: u64) -> U256 {
        if d == 0 {
            return U256::ZERO;
        }
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | self.0[i] as u128;
            out[i] = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        U256(out)
    }

    /// Quotient of a 256-bit division (division by zero gives zero).
    pub fn div(&self, d: &U256) -> U256 {
        if d.is_zero() || *self < *d {
            return U256::ZERO;
        }
        let shift = self.bits() - d.bits();
        let mut den = d.shl(shift);
        let mut num = *self;
        let mut q = U256::ZERO;
        for i in (0..=shift).rev() {
            if num >= den {
                num = num.wrapping_sub(&den);
                q.0[(i / 64) as usize] |= 1u64 << (i % 64);
            }
            den = den.shr(1);
        }
        q
    }

    /// Core's `SetCompact`: decodes nBits, reporting the negative and overflow conditions.
    pub fn from_compact(compact: u32) -> CompactTarget {
        let size = compact >> 24;
        let mut word = compact & 0x007f_ffff;
        let target = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from_u64(word as u64)
        } else {
            U256::from_u64(word as u64).shl(8 * (size - 3))
        };
        let negative = word != 0 && (compact & 0x0080_0000) != 0;
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        CompactTarget {
            target,
            negative,
            overflow,
        }
    }

    /// Core's `GetCompact` (non-negative).
    pub fn to_compact(&self) -> u32 {
        let mut size = self.bits().div_ceil(8);
        let mut compact: u32 = if size <= 3 {
            (self.low_u64() << (8 * (3 - size))) as u32
        } else {
            self.shr(8 * (size - 3)).low_u64() as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        compact | (size << 24)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for U256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "U256(0x{})", self.to_hex())
    }
}

/// The target encoded by `bits` if it is a valid proof-of-work target on `network`: not
/// negative, not zero, no overflow, not above the network's powLimit.
pub fn target_from_bits(bits: u32, network: Network) -> Option<U256> {
    let c = U256::from_compact(bits);
    if c.negative || c.overflow || c.target.is_zero() || c.target > params::pow_limit(network) {
        None
    } else {
        Some(c.target)
    }
}

/// The work a block with these `bits` represents: 2^256 / (target + 1); zero for a negative,
/// zero or overflowing target (Core's `GetBlockProof`).
pub fn work_from_bits(bits: u32) -> U256 {
    let c = U256::from_compact(bits);
    if c.negative || c.overflow || c.target.is_zero() {
        return U256::ZERO;
    }
    // 2^256 / (t + 1) == ~t / (t + 1) + 1 (t + 1 cannot wrap: compact targets are < 2^255).
    c.target
        .not()
        .div(&c.target.wrapping_add(&U256::ONE))
        .wrapping_add(&U256::ONE)
}

/// Core's `CheckProofOfWork`: `bits` must be a valid target on `network` and the block hash,
/// read as a little-endian 256-bit integer, must not exceed it. The errors carry height 0;
/// [`crate::chain::HeaderChain`] fills in the real height.
pub fn check_proof_of_work(hash: &Hash256, bits: u32, network: Network) -> Result<(), ChainError> {
    let target = target_from_bits(bits, network).ok_or(ChainError::BadTarget {
        height: 0,
        hash: *hash,
        bits,
    })?;
    if U256::from_le_bytes(&hash.0) > target {
        return Err(ChainError::HighHash {
            height: 0,
            hash: *hash,
            bits,
        });
    }
    Ok(())
}

/// Dark Gravity Wave v3 (Core's `DarkGravityWave` without the testnet minimum-difficulty
/// shortcuts, which [`next_work_required`] applies first).
///
/// `past` holds headers in ascending height order ending with the last block before the one
/// whose bits are computed; only its last [`params::DGW_PAST_BLOCKS`] (24) entries are used.
/// With fewer than 24 headers the result is the powLimit, as in Core. Core also returns the
/// powLimit while the last block's height is below 24; that rule needs the height and is applied
/// by [`next_work_required`].
pub fn dark_gravity_wave(past: &[BlockHeader], network: Network) -> u32 {
    let limit = params::pow_limit(network);
    let n = params::DGW_PAST_BLOCKS as usize;
    if past.len() < n {
        return limit.to_compact();
    }
    let window = &past[past.len() - n..];
    let mut avg = U256::ZERO;
    for (i, h) in window.iter().rev().enumerate() {
        let count = i as u64 + 1;
        let target = U256::from_compact(h.bits).target;
        avg = if count == 1 {
            target
        } else {
            avg.wrapping_mul_u64(count)
                .wrapping_add(&target)
                .div_u64(count + 1)
        };
    }
    let last = &window[n - 1];
    let first = &window[0];
    let target_timespan = params::DGW_PAST_BLOCKS as i64 * params::TARGET_SPACING as i64;
    let actual =
        (last.time as i64 - first.time as i64).clamp(target_timespan / 3, target_timespan * 3);
    let mut new = avg
        .wrapping_mul_u64(actual as u64)
        .div_u64(target_timespan as u64);
    if new > limit {
        new = limit;
    }
    new.to_compact()
}

/// The bits Core requires for a block at height `last_height + 1` with timestamp `new_time`
/// (Core's `GetNextWorkRequired`), when this library can determine them:
///
/// - regtest: no retargeting — the previous block's bits;
/// - devnet: `None` (minimum-difficulty block count is a node argument);
/// - heights before DGW activation (Kimoto Gravity Well / Bitcoin retargeting): `None`;
/// - last height below 24: the powLimit;
/// - testnet: a block more than 2 h after its parent may use the powLimit, more than 4 × 150 s
///   after it ten times the parent's target (capped at the powLimit);
/// - otherwise DGW over `past`, which must hold at least the 24 headers ending with the last
///   block (ascending), else `None`.
pub fn next_work_required(
    network: Network,
    last_height: u32,
    past: &[BlockHeader],
    new_time: u32,
) -> Option<u32> {
    let last = past.last()?;
    let limit = params::pow_limit(network);
    match network {
        Network::Regtest => return Some(last.bits),
        Network::Devnet => return None,
        Network::Mainnet | Network::Testnet => {}
    }
    if (last_height as u64) + 1 < params::dgw_height(network) as u64 {
        return None;
    }
    if last_height < params::DGW_PAST_BLOCKS {
        return Some(limit.to_compact());
    }
    if params::allow_min_difficulty_blocks(network) {
        let gap = new_time as i64 - last.time as i64;
        if gap > 2 * 60 * 60 {
            return Some(limit.to_compact());
        }
        if gap > 4 * params::TARGET_SPACING as i64 {
            let mut t = U256::from_compact(last.bits).target.wrapping_mul_u64(10);
            if t > limit {
                t = limit;
            }
            return Some(t.to_compact());
        }
    }
    if past.len() < params::DGW_PAST_BLOCKS as usize {
        return None;
    }
    Some(dark_gravity_wave(past, network))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips_and_flags() {
        // Core's arith_uint256 tests.
        let c = U256::from_compact(0x0112_3456);
        assert_eq!(c.target, U256::from_u64(0x12));
        assert_eq!(c.target.to_compact(), 0x0112_0000);
        let c = U256::from_compact(0x0492_3456);
        assert!(c.negative);
        let c = U256::from_compact(0x0412_3456);
        assert_eq!(c.target, U256::from_u64(0x1234_5600));
        assert_eq!(c.target.to_compact(), 0x0412_3456);
        assert!(U256::from_compact(0xff12_3456).overflow);
        assert!(!U256::from_compact(0x2100_ffff).overflow);
        assert!(U256::from_compact(0x2101_0000).overflow);
        assert_eq!(U256::from_compact(0x0080_0000).target, U256::ZERO);
        assert!(!U256::from_compact(0x0180_0000).negative);
        assert_eq!(U256::from_u64(0x80).to_compact(), 0x0200_8000);
        let lim = params::pow_limit(Network::Mainnet);
        assert_eq!(lim.to_compact(), 0x1e0f_ffff);
        assert_eq!(
            params::pow_limit(Network::Regtest).to_compact(),
            0x207f_ffff
        );
    }

    #[test]
    fn arithmetic() {
        let a = U256([u64::MAX, 5, 0, 0]);
        assert_eq!(a.wrapping_add(&U256::ONE), U256([0, 6, 0, 0]));
        assert_eq!(U256([0, 6, 0, 0]).wrapping_sub(&U256::ONE), a);
        assert_eq!(a.shl(64).shr(64), a);
        assert_eq!(a.shl(4).shr(4), a);
        assert_eq!(U256::ONE.shl(255).bits(), 256);
        let x = U256([123, 456, 789, 1011]);
        let d = U256([77, 3, 0, 0]);
        let q = x.div(&d);
        // q*d <= x < (q+1)*d, checked via limbs of small multiplier path
        assert!(q > U256::ZERO);
        assert_eq!(x.div_u64(7), x.div(&U256::from_u64(7)));
        assert_eq!(U256::MAX.wrapping_add(&U256::ONE), U256::ZERO);
        assert_eq!(U256::MAX.saturating_add(&U256::ONE), U256::MAX);
    }

    proptest::proptest! {
        #[test]
        fn div_agrees_with_div_u64(a: [u64; 4], d in 1u64..) {
            let x = U256(a);
            proptest::prop_assert_eq!(x.div(&U256::from_u64(d)), x.div_u64(d));
            let q = x.div_u64(d);
            // q*d <= x and x - q*d < d
            let r = x.wrapping_sub(&q.wrapping_mul_u64(d));
            proptest::prop_assert!(r < U256::from_u64(d));
        }

        #[test]
        fn compact_round_trip(bits in 0u32..) {
            let c = U256::from_compact(bits);
            if !c.negative && !c.overflow {
                let again = U256::from_compact(c.target.to_compact());
                proptest::prop_assert_eq!(again.target, c.target);
            }
        }
    }

    #[test]
    fn work_matches_core() {
        // 0x1d00ffff (Bitcoin's difficulty 1): work 0x100010001.
        assert_eq!(work_from_bits(0x1d00_ffff), U256::from_u64(0x1_0001_0001));
        assert_eq!(work_from_bits(0x207f_ffff), U256::from_u64(2));
        assert_eq!(work_from_bits(0x0492_3456), U256::ZERO);
    }

    #[test]
    fn pow_check_rejects_bad_bits() {
        let h = Hash256([0; 32]);
        assert!(matches!(
            check_proof_of_work(&h, 0x207f_ffff, Network::Mainnet),
            Err(ChainError::BadTarget { .. })
        ));
        assert!(check_proof_of_work(&h, 0x207f_ffff, Network::Regtest).is_ok());
        assert!(matches!(
            check_proof_of_work(&Hash256([0xff; 32]), 0x1e0f_ffff, Network::Mainnet),
            Err(ChainError::HighHash { .. })
        ));
    }
}
