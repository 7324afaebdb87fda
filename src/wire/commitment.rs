//! LLMQ final commitments (`CFinalCommitment`, PROTOCOL.md §5.1–§5.2).

use super::codec::{BitSet, Decode, Encode, Reader, Writer};
use super::WireError;
use crate::hashes::{sha256d, Hash256};
use serde::{Deserialize, Serialize};

/// Smallest possible encoded size of a commitment (used to bound counts read from the wire).
pub const MIN_COMMITMENT_SIZE: usize = 2 + 1 + 32 + 1 + 1 + 48 + 32 + 96 + 96;

/// A quorum final commitment as carried in `mnlistdiff`/`qrinfo` and the quorum merkle root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FinalCommitment {
    /// 1 legacy non-indexed, 2 legacy indexed, 3 basic non-indexed, 4 basic indexed.
    pub version: u16,
    /// LLMQ type id.
    pub llmq_type: u8,
    /// Hash of the quorum's base block.
    pub quorum_hash: Hash256,
    /// Quorum index (rotated quorums; present on the wire for versions 2 and 4 only).
    pub quorum_index: i16,
    /// Members that signed the commitment.
    pub signers: BitSet,
    /// Members that took part in the DKG successfully.
    pub valid_members: BitSet,
    /// Quorum public key (G1), in the commitment's encoding.
    #[serde(with = "super::tx::serde_arr48")]
    pub quorum_public_key: [u8; 48],
    /// Hash of the verification vector.
    pub quorum_vvec_hash: Hash256,
    /// Recovered threshold signature over the commitment hash (G2).
    #[serde(with = "super::tx::serde_arr96")]
    pub quorum_sig: [u8; 96],
    /// Aggregate of the signers' operator-key signatures over the commitment hash (G2).
    #[serde(with = "super::tx::serde_arr96")]
    pub members_sig: [u8; 96],
}

impl FinalCommitment {
    /// True for versions that carry `quorumIndex` (rotated quorums).
    pub fn is_indexed(&self) -> bool {
        version_is_indexed(self.version)
    }

    /// True for the basic BLS scheme (versions 3 and 4); false for legacy (1 and 2).
    pub fn is_basic_scheme(&self) -> bool {
        self.version >= 3
    }

    /// The message both signatures sign (PROTOCOL.md §5.2, W-09):
    /// `SHA256d(u8 type ‖ quorumHash ‖ compactSize(bits) ‖ validMembers ‖ pubKey ‖ vvecHash)`.
    pub fn commitment_hash(&self) -> Hash256 {
        let mut w = Writer::new(0);
        w.u8(self.llmq_type);
        w.hash(&self.quorum_hash);
        w.bitset(&self.valid_members);
        w.bytes(&self.quorum_public_key);
        w.hash(&self.quorum_vvec_hash);
        sha256d(w.as_bytes())
    }

    /// The quorum merkle-root leaf: SHA256d of the serialized commitment (§3.7).
    pub fn leaf_hash(&self) -> Hash256 {
        sha256d(&self.to_bytes(0))
    }
}

fn version_is_indexed(v: u16) -> bool {
    v == 2 || v == 4
}

impl Encode for FinalCommitment {
    fn encode(&self, w: &mut Writer) {
        w.u16_le(self.version);
        w.u8(self.llmq_type);
        w.hash(&self.quorum_hash);
        if self.is_indexed() {
            w.i16_le(self.quorum_index);
        }
        w.bitset(&self.signers);
        w.bitset(&self.valid_members);
        w.bytes(&self.quorum_public_key);
        w.hash(&self.quorum_vvec_hash);
        w.bytes(&self.quorum_sig);
        w.bytes(&self.members_sig);
    }
}

impl Decode for FinalCommitment {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let version = r.u16_le()?;
        if version > 4 {
            return Err(WireError::unsupported(
                "final commitment",
                version.into(),
                4,
            ));
        }
        if version == 0 {
            return Err(WireError::invalid(
                "commitment version",
                format!("{version} (expected 1..4)"),
            ));
        }
        let llmq_type = r.u8()?;
        let quorum_hash = r.hash()?;
        let quorum_index = if version_is_indexed(version) {
            r.i16_le()?
        } else {
            0
        };
        Ok(FinalCommitment {
            version,
            llmq_type,
            quorum_hash,
            quorum_index,
            signers: r.bitset()?,
            valid_members: r.bitset()?,
            quorum_public_key: r.array()?,
            quorum_vvec_hash: r.hash()?,
            quorum_sig: r.array()?,
            members_sig: r.array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(version: u16) -> FinalCommitment {
        FinalCommitment {
            version,
            llmq_type: 5,
            quorum_hash: Hash256([3; 32]),
            quorum_index: 7,
            signers: BitSet::from_bools(&[true, false, true]),
            valid_members: BitSet::from_bools(&[true, true, true]),
            quorum_public_key: [1; 48],
            quorum_vvec_hash: Hash256([2; 32]),
            quorum_sig: [4; 96],
            members_sig: [5; 96],
        }
    }

    #[test]
    fn round_trip_indexed_and_not() {
        for v in 1..=4 {
            let mut c = sample(v);
            if !c.is_indexed() {
                c.quorum_index = 0;
            }
            let b = c.to_bytes(70230);
            assert_eq!(FinalCommitment::from_bytes(&b, 70230).unwrap(), c);
            let expected = MIN_COMMITMENT_SIZE + 2 + if c.is_indexed() { 2 } else { 0 };
            assert_eq!(b.len(), expected);
        }
    }

    #[test]
    fn quorum_index_not_in_commitment_hash() {
        let a = sample(4);
        let mut b = a.clone();
        b.quorum_index = 9;
        assert_eq!(a.commitment_hash(), b.commitment_hash());
        assert_ne!(a.leaf_hash(), b.leaf_hash());
    }
}
