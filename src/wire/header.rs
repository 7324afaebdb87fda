//! The 80-byte block header (PROTOCOL.md §2.1) and its X11 block hash (§2.2).

use super::codec::{Decode, Encode, Reader, Writer};
use super::WireError;
use crate::hashes::{x11, Hash256};

/// A Dash block header exactly as serialized on the wire (80 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BlockHeader {
    /// Block version (signed on the wire).
    pub version: i32,
    /// Hash of the previous block (internal byte order).
    pub prev_block_hash: Hash256,
    /// Merkle root of the block's transactions.
    pub merkle_root: Hash256,
    /// Block time, seconds since the Unix epoch.
    pub time: u32,
    /// Compact difficulty target.
    pub bits: u32,
    /// Proof-of-work nonce.
    pub nonce: u32,
}

impl BlockHeader {
    /// Serialized size.
    pub const SIZE: usize = 80;

    /// The 80 serialized bytes.
    pub fn to_array(&self) -> [u8; 80] {
        let mut out = [0u8; 80];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_block_hash.0);
        out[36..68].copy_from_slice(&self.merkle_root.0);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Parses exactly 80 bytes.
    pub fn from_array(b: &[u8; 80]) -> BlockHeader {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&b[4..36]);
        let mut merkle = [0u8; 32];
        merkle.copy_from_slice(&b[36..68]);
        BlockHeader {
            version: u32_at(0) as i32,
            prev_block_hash: Hash256(prev),
            merkle_root: Hash256(merkle),
            time: u32_at(68),
            bits: u32_at(72),
            nonce: u32_at(76),
        }
    }

    /// The block hash: X11 of the 80 serialized bytes.
    pub fn block_hash(&self) -> Hash256 {
        x11(&self.to_array())
    }
}

impl Encode for BlockHeader {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.to_array());
    }
}

impl Decode for BlockHeader {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let b: [u8; 80] = r.array()?;
        Ok(BlockHeader::from_array(&b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_genesis_hashes_with_x11() {
        let g = BlockHeader {
            version: 1,
            prev_block_hash: Hash256([0; 32]),
            merkle_root: Hash256::from_display_hex(
                "e0028eb9648db56b1ac77cf090b99048a8007e2bb64b68f092c03c7f56a662c7",
            )
            .unwrap(),
            time: 1390095618,
            bits: 0x1e0ffff0,
            nonce: 28917698,
        };
        assert_eq!(
            g.block_hash().to_display_hex(),
            "00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6"
        );
        assert_eq!(BlockHeader::from_array(&g.to_array()), g);
    }
}
