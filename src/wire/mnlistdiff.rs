//! `getmnlistd` / `mnlistdiff` (PROTOCOL.md §3.1–§3.2), with every layout from 70218 on.

use super::codec::{Decode, Encode, Reader, Writer};
use super::commitment::{FinalCommitment, MIN_COMMITMENT_SIZE};
use super::sml_entry::{SmlEntry, MIN_ENTRY_SIZE};
use super::tx::{PartialMerkleTree, Transaction};
use super::version::{
    BLS_SCHEME_PROTO_VERSION, MNLISTDIFF_CHAINLOCKS_PROTO_VERSION, MNLISTDIFF_VERSION_ORDER,
};
use super::WireError;
use crate::hashes::Hash256;
use serde::{Deserialize, Serialize};

/// Smallest possible encoded `mnlistdiff` (bounds counts of embedded diffs in `qrinfo`).
pub const MIN_MNLISTDIFF_SIZE: usize = 32 + 32 + 4 + 1 + 1 + 10 + 4;

/// `getmnlistd`: ask for the diff between the lists at two blocks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetMnListDiff {
    /// Block of a list already held; zero = from the empty list.
    pub base_block_hash: Hash256,
    /// Target block.
    pub block_hash: Hash256,
}

impl Encode for GetMnListDiff {
    fn encode(&self, w: &mut Writer) {
        w.hash(&self.base_block_hash);
        w.hash(&self.block_hash);
    }
}

impl Decode for GetMnListDiff {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(GetMnListDiff {
            base_block_hash: r.hash()?,
            block_hash: r.hash()?,
        })
    }
}

/// A deleted quorum: (LLMQ type, quorum hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeletedQuorum {
    /// LLMQ type id.
    pub llmq_type: u8,
    /// Quorum hash.
    pub quorum_hash: Hash256,
}

impl Encode for DeletedQuorum {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.llmq_type);
        w.hash(&self.quorum_hash);
    }
}

impl Decode for DeletedQuorum {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DeletedQuorum {
            llmq_type: r.u8()?,
            quorum_hash: r.hash()?,
        })
    }
}

/// One `quorumsCLSigs` group: a ChainLock signature and the `newQuorums` indexes it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuorumClSig {
    /// The work block's CbTx best ChainLock signature (all-zero when none).
    #[serde(with = "super::tx::serde_arr96")]
    pub signature: [u8; 96],
    /// Indexes into `newQuorums` of the same message.
    pub quorum_indexes: Vec<u16>,
}

impl Encode for QuorumClSig {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.signature);
        w.vec(&self.quorum_indexes);
    }
}

impl Decode for QuorumClSig {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(QuorumClSig {
            signature: r.array()?,
            quorum_indexes: r.vec(2)?,
        })
    }
}

/// `mnlistdiff`: the difference between the masternode lists (and quorum sets) at two blocks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MnListDiff {
    /// Diff version (1); on the wire only from P ≥ 70225.
    pub version: u16,
    /// Base block (zero or genesis = the empty list).
    pub base_block_hash: Hash256,
    /// Target block.
    pub block_hash: Hash256,
    /// Proof that `cb_tx` is the target block's coinbase.
    pub cb_tx_merkle_tree: PartialMerkleTree,
    /// The target block's coinbase transaction (carries the CbTx payload).
    pub cb_tx: Transaction,
    /// ProRegTx hashes removed since the base.
    pub deleted_mns: Vec<Hash256>,
    /// Entries added or changed since the base (full content).
    pub mn_list: Vec<SmlEntry>,
    /// Quorums removed from the active set since the base.
    pub deleted_quorums: Vec<DeletedQuorum>,
    /// Commitments added to the active set since the base.
    pub new_quorums: Vec<FinalCommitment>,
    /// ChainLock signatures of the new quorums' work blocks (P ≥ 70230; empty before).
    pub quorums_cl_sigs: Vec<QuorumClSig>,
}

impl Encode for MnListDiff {
    fn encode(&self, w: &mut Writer) {
        let p = w.version();
        if p >= MNLISTDIFF_VERSION_ORDER {
            w.u16_le(self.version);
        }
        w.hash(&self.base_block_hash);
        w.hash(&self.block_hash);
        self.cb_tx_merkle_tree.encode(w);
        self.cb_tx.encode(w);
        if (BLS_SCHEME_PROTO_VERSION..MNLISTDIFF_VERSION_ORDER).contains(&p) {
            w.u16_le(self.version);
        }
        w.vec(&self.deleted_mns);
        w.vec(&self.mn_list);
        w.vec(&self.deleted_quorums);
        w.vec(&self.new_quorums);
        if p >= MNLISTDIFF_CHAINLOCKS_PROTO_VERSION {
            w.vec(&self.quorums_cl_sigs);
        }
    }
}

impl Decode for MnListDiff {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let p = r.version();
        let mut version = 1;
        if p >= MNLISTDIFF_VERSION_ORDER {
            version = r.u16_le()?;
        }
        let base_block_hash = r.hash()?;
        let block_hash = r.hash()?;
        let cb_tx_merkle_tree = PartialMerkleTree::decode(r)?;
        let cb_tx = Transaction::decode(r)?;
        if (BLS_SCHEME_PROTO_VERSION..MNLISTDIFF_VERSION_ORDER).contains(&p) {
            version = r.u16_le()?;
        }
        // Core: 1 (legacy BLS) or 2 (basic BLS) between 70225 and 70228, always 1 from 70229
        // (`CSimplifiedMNListDiff::CURRENT_VERSION`). A higher one may change what follows.
        let newest: u16 = if p >= MNLISTDIFF_VERSION_ORDER { 1 } else { 2 };
        if version > newest {
            return Err(WireError::unsupported(
                "mnlistdiff",
                version.into(),
                newest.into(),
            ));
        }
        let deleted_mns = r.vec(32)?;
        let mn_list = r.vec(MIN_ENTRY_SIZE)?;
        let deleted_quorums = r.vec(33)?;
        let new_quorums = r.vec(MIN_COMMITMENT_SIZE)?;
        let quorums_cl_sigs = if p >= MNLISTDIFF_CHAINLOCKS_PROTO_VERSION {
            r.vec(97)?
        } else {
            Vec::new()
        };
        Ok(MnListDiff {
            version,
            base_block_hash,
            block_hash,
            cb_tx_merkle_tree,
            cb_tx,
            deleted_mns,
            mn_list,
            deleted_quorums,
            new_quorums,
            quorums_cl_sigs,
        })
    }
}
