//! `clsig` (ChainLock signature, PROTOCOL.md §9.1) and `isdlock` (deterministic InstantSend lock,
//! §9.3): wire codecs, LLMQ request ids and sign hashes.

use super::codec::{Decode, Encode, Reader, Writer};
use super::WireError;
use crate::hashes::{sha256d_parts, Hash256};
use serde::{Deserialize, Serialize};

/// Request-id prefix of a ChainLock (`CLSIG_REQUESTID_PREFIX`).
pub const CLSIG_REQUESTID_PREFIX: &str = "clsig";

/// Request-id prefix of a deterministic InstantSend lock (`ISLOCK_REQUESTID_PREFIX`).
pub const ISLOCK_REQUESTID_PREFIX: &str = "islock";

/// Encoded size of a `clsig` payload.
pub const CLSIG_SIZE: usize = 4 + 32 + 96;

/// Smallest encoded `isdlock` (no inputs).
pub const MIN_ISDLOCK_SIZE: usize = 1 + 1 + 32 + 32 + 96;

/// The current `isdlock` version (`InstantSendLock::CURRENT_VERSION`).
pub const ISDLOCK_CURRENT_VERSION: u8 = 1;

/// The LLMQ sign hash (DIP-0007): SHA256d(u8 type ‖ quorumHash ‖ requestId ‖ msgHash).
pub fn llmq_sign_hash(
    llmq_type: u8,
    quorum_hash: &Hash256,
    request_id: &Hash256,
    msg_hash: &Hash256,
) -> Hash256 {
    sha256d_parts(&[&[llmq_type], &quorum_hash.0, &request_id.0, &msg_hash.0])
}

/// A ChainLock signature message (`clsig`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClSig {
    /// Height of the locked block.
    pub height: i32,
    /// Hash of the locked block.
    pub block_hash: Hash256,
    /// Recovered threshold BLS signature (basic scheme).
    #[serde(with = "super::tx::serde_arr96")]
    pub signature: [u8; 96],
}

impl ClSig {
    /// The LLMQ request id: SHA256d(compactSize(5) ‖ "clsig" ‖ i32 height LE).
    pub fn request_id(&self) -> Hash256 {
        let prefix = CLSIG_REQUESTID_PREFIX.as_bytes();
        sha256d_parts(&[&[prefix.len() as u8], prefix, &self.height.to_le_bytes()])
    }

    /// The message the quorum signs: SHA256d(u8 type ‖ quorumHash ‖ requestId ‖ blockHash).
    pub fn sign_hash(&self, llmq_type: u8, quorum_hash: &Hash256) -> Hash256 {
        llmq_sign_hash(llmq_type, quorum_hash, &self.request_id(), &self.block_hash)
    }

    /// The inventory hash: SHA256d of the serialized message (inv type 29).
    pub fn inv_hash(&self) -> Hash256 {
        crate::hashes::sha256d(&self.to_bytes(0))
    }
}

impl Encode for ClSig {
    fn encode(&self, w: &mut Writer) {
        w.i32_le(self.height);
        w.hash(&self.block_hash);
        w.bytes(&self.signature);
    }
}

impl Decode for ClSig {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ClSig {
            height: r.i32_le()?,
            block_hash: r.hash()?,
            signature: r.array()?,
        })
    }
}

/// A transaction output reference (`COutPoint`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct OutPoint {
    /// Txid of the transaction holding the output.
    pub hash: Hash256,
    /// Output index.
    pub index: u32,
}

impl OutPoint {
    /// Encoded size.
    pub const SIZE: usize = 36;
}

impl Encode for OutPoint {
    fn encode(&self, w: &mut Writer) {
        w.hash(&self.hash);
        w.u32_le(self.index);
    }
}

impl Decode for OutPoint {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(OutPoint {
            hash: r.hash()?,
            index: r.u32_le()?,
        })
    }
}

/// A deterministic InstantSend lock (`isdlock`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IsDLock {
    /// Lock version (1).
    pub version: u8,
    /// The inputs locked.
    pub inputs: Vec<OutPoint>,
    /// The locked transaction.
    pub txid: Hash256,
    /// Cycle base block hash (its meaning changed in v23, PROTOCOL.md §9.3).
    pub cycle_hash: Hash256,
    /// Recovered threshold BLS signature (basic scheme).
    #[serde(with = "super::tx::serde_arr96")]
    pub signature: [u8; 96],
}

impl IsDLock {
    /// The LLMQ request id: SHA256d(compactSize(6) ‖ "islock" ‖ compactSize(n) ‖ inputs).
    pub fn request_id(&self) -> Hash256 {
        let mut w = Writer::new(0);
        w.var_bytes(ISLOCK_REQUESTID_PREFIX.as_bytes());
        w.vec(&self.inputs);
        crate::hashes::sha256d(w.as_bytes())
    }

    /// The message the quorum signs: SHA256d(u8 type ‖ quorumHash ‖ requestId ‖ txid).
    pub fn sign_hash(&self, llmq_type: u8, quorum_hash: &Hash256) -> Hash256 {
        llmq_sign_hash(llmq_type, quorum_hash, &self.request_id(), &self.txid)
    }

    /// The inventory hash: SHA256d of the serialized message (inv type 31).
    pub fn inv_hash(&self) -> Hash256 {
        crate::hashes::sha256d(&self.to_bytes(0))
    }

    /// Core's `TriviallyValid` checks: txid non-zero, at least one input, no duplicate inputs;
    /// additionally the version must not be 0 (only version 1 exists; Core does not gate on
    /// higher versions, so neither does this check).
    pub fn check_trivially_valid(&self) -> Result<(), WireError> {
        if self.version == 0 {
            return Err(WireError::invalid("isdlock version", "version 0"));
        }
        if self.txid.is_zero() {
            return Err(WireError::invalid("isdlock txid", "null txid"));
        }
        if self.inputs.is_empty() {
            return Err(WireError::invalid("isdlock inputs", "no inputs"));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.inputs.len());
        for i in &self.inputs {
            if !seen.insert(*i) {
                return Err(WireError::invalid(
                    "isdlock inputs",
                    format!("duplicate input {}:{}", i.hash, i.index),
                ));
            }
        }
        Ok(())
    }
}

impl Encode for IsDLock {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.version);
        w.vec(&self.inputs);
        w.hash(&self.txid);
        w.hash(&self.cycle_hash);
        w.bytes(&self.signature);
    }
}

impl Decode for IsDLock {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(IsDLock {
            version: r.u8()?,
            inputs: r.vec(OutPoint::SIZE)?,
            txid: r.hash()?,
            cycle_hash: r.hash()?,
            signature: r.array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clsig_request_id_appendix_a2() {
        let c = ClSig {
            height: 84202,
            block_hash: Hash256::ZERO,
            signature: [0; 96],
        };
        assert_eq!(
            c.request_id().to_internal_hex(),
            "6639d0da4a746f7260968e54be1b14fce8c5429f51bfe8762b58aae294e0925d"
        );
    }

    #[test]
    fn isdlock_trivial_checks() {
        let op = OutPoint {
            hash: Hash256([1; 32]),
            index: 0,
        };
        let mut l = IsDLock {
            version: 1,
            inputs: vec![op],
            txid: Hash256([2; 32]),
            cycle_hash: Hash256([3; 32]),
            signature: [0; 96],
        };
        l.check_trivially_valid().unwrap();
        l.inputs.push(op);
        assert!(l.check_trivially_valid().is_err());
        l.inputs.clear();
        assert!(l.check_trivially_valid().is_err());
        l.inputs.push(op);
        l.txid = Hash256::ZERO;
        assert!(l.check_trivially_valid().is_err());
    }
}
