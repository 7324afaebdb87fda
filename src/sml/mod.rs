//! Simplified masternode lists: diff application, the SML and quorum merkle roots, and the proof
//! that ties a list to a block header (PROTOCOL.md §3.3–§3.9).
//!
//! Pure and I/O-free. A [`MasternodeList`] shares unchanged entries and commitments with the list
//! it was derived from (`Arc`), so holding many lists costs little more than their differences.

pub mod pmt;

use crate::hashes::{merkle_root, Hash256};
use crate::network::Activations;
use crate::wire::commitment::FinalCommitment;
use crate::wire::mnlistdiff::MnListDiff;
use crate::wire::sml_entry::SmlEntry;
use crate::wire::tx::{CbTx, TRANSACTION_COINBASE};
use crate::wire::WireError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Key of a quorum in a list: (LLMQ type, quorum hash).
pub type QuorumKey = (u8, Hash256);

/// Why a diff or list was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmlError {
    /// The diff is internally inconsistent with its base.
    #[error("diff does not apply to its base: {0}")]
    Inconsistent(String),
    /// The coinbase transaction or its payload is malformed.
    #[error("bad coinbase: {0}")]
    BadCoinbase(String),
    /// The CbTx payload's height is not the block's height.
    #[error("CbTx height {cbtx} does not match block height {block}")]
    HeightMismatch {
        /// Height in the CbTx.
        cbtx: i32,
        /// Height of the block in the header chain.
        block: u32,
    },
    /// The CbTx version is not the one required at this height.
    #[error("CbTx version {version} not allowed at height {height}")]
    BadCbTxVersion {
        /// Version found.
        version: u16,
        /// Block height.
        height: u32,
    },
    /// The recomputed SML root differs from the CbTx.
    #[error("masternode list root mismatch: computed {computed}, CbTx has {expected}")]
    SmlRootMismatch {
        /// Root computed over the list.
        computed: Hash256,
        /// Root committed in the CbTx.
        expected: Hash256,
    },
    /// The recomputed quorum root differs from the CbTx.
    #[error("quorum root mismatch: computed {computed}, CbTx has {expected}")]
    QuorumRootMismatch {
        /// Root computed over the active commitments.
        computed: Hash256,
        /// Root committed in the CbTx.
        expected: Hash256,
    },
    /// The partial merkle tree is malformed or does not prove the coinbase.
    #[error("bad coinbase merkle proof: {0}")]
    BadMerkleProof(String),
    /// The proof's root is not the block header's merkle root.
    #[error("coinbase proof root {proof} is not the header's merkle root {header}")]
    HeaderMerkleRootMismatch {
        /// Root of the PMT.
        proof: Hash256,
        /// Merkle root of the block header.
        header: Hash256,
    },
}

impl From<WireError> for SmlError {
    fn from(e: WireError) -> Self {
        SmlError::BadCoinbase(e.to_string())
    }
}

/// The verified masternode list and active quorum set at one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasternodeList {
    /// The block this list is at (zero for the empty list).
    pub block_hash: Hash256,
    /// Its height.
    pub height: u32,
    /// Entries keyed by proRegTxHash (iteration order = Core's memcmp order).
    pub entries: BTreeMap<Hash256, Arc<SmlEntry>>,
    /// Active commitments keyed by (type, quorum hash).
    pub quorums: BTreeMap<QuorumKey, Arc<FinalCommitment>>,
    /// The block's CbTx payload (None only for the empty list).
    pub cbtx: Option<CbTx>,
}

impl MasternodeList {
    /// The empty list (what a zero or genesis base means, W-27).
    pub fn empty() -> Self {
        MasternodeList {
            block_hash: Hash256::ZERO,
            height: 0,
            entries: BTreeMap::new(),
            quorums: BTreeMap::new(),
            cbtx: None,
        }
    }

    /// SML merkle root over every entry (valid and banned), sorted by proRegTxHash (§3.6).
    pub fn sml_root(&self) -> Hash256 {
        let leaves: Vec<Hash256> = self.entries.values().map(|e| e.entry_hash()).collect();
        merkle_root(&leaves)
    }

    /// Quorum merkle root over every active commitment of every type (§3.7).
    pub fn quorum_root(&self) -> Hash256 {
        let mut leaves: Vec<Hash256> = self.quorums.values().map(|q| q.leaf_hash()).collect();
        leaves.sort();
        merkle_root(&leaves)
    }

    /// Number of entries not PoSe-banned.
    pub fn valid_count(&self) -> usize {
        self.entries.values().filter(|e| e.is_valid).count()
    }

    /// The active commitments of one LLMQ type.
    pub fn quorums_of_type(&self, llmq_type: u8) -> impl Iterator<Item = &Arc<FinalCommitment>> {
        self.quorums
            .range((llmq_type, Hash256::ZERO)..=(llmq_type, Hash256([0xff; 32])))
            .map(|(_, q)| q)
    }

    /// Applies `diff` to this list (the diff's base) without verifying roots: removes deleted
    /// entries and quorums, inserts added/changed ones. Rejects diffs that delete what is not
    /// there or add a quorum twice. `height` is the target block's height.
    pub fn apply_diff(&self, diff: &MnListDiff, height: u32) -> Result<MasternodeList, SmlError> {
        let mut entries = self.entries.clone();
        for h in &diff.deleted_mns {
            if entries.remove(h).is_none() {
                return Err(SmlError::Inconsistent(format!(
                    "deletes masternode {h} which the base list does not have"
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &diff.mn_list {
            if !seen.insert(e.pro_reg_tx_hash) {
                return Err(SmlError::Inconsistent(format!(
                    "masternode {} appears twice",
                    e.pro_reg_tx_hash
                )));
            }
            entries.insert(e.pro_reg_tx_hash, Arc::new(e.clone()));
        }
        let mut quorums = self.quorums.clone();
        for d in &diff.deleted_quorums {
            if quorums.remove(&(d.llmq_type, d.quorum_hash)).is_none() {
                return Err(SmlError::Inconsistent(format!(
                    "deletes quorum type {} {} which the base does not have",
                    d.llmq_type, d.quorum_hash
                )));
            }
        }
        for q in &diff.new_quorums {
            let key = (q.llmq_type, q.quorum_hash);
            if quorums.insert(key, Arc::new(q.clone())).is_some() {
                return Err(SmlError::Inconsistent(format!(
                    "adds quorum type {} {} which is already active",
                    q.llmq_type, q.quorum_hash
                )));
            }
        }
        let cbtx = check_coinbase(diff)?;
        Ok(MasternodeList {
            block_hash: diff.block_hash,
            height,
            entries,
            quorums,
            cbtx: Some(cbtx),
        })
    }
}

/// Checks the coinbase transaction's shape and decodes its CbTx payload.
fn check_coinbase(diff: &MnListDiff) -> Result<CbTx, SmlError> {
    let tx = &diff.cb_tx;
    if !tx.is_coinbase() {
        return Err(SmlError::BadCoinbase(
            "transaction does not spend the null outpoint".into(),
        ));
    }
    if tx.version < 3 || tx.tx_type != TRANSACTION_COINBASE {
        return Err(SmlError::BadCoinbase(format!(
            "version {} type {} is not a special coinbase (version 3, type 5)",
            tx.version, tx.tx_type
        )));
    }
    Ok(tx.coinbase_payload()?)
}

/// Everything checked about one diff, computed values next to committed ones (for reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffCheck {
    /// Target block height (from the header chain or the caller).
    pub height: u32,
    /// Height in the CbTx.
    pub cbtx_height: i32,
    /// CbTx version.
    pub cbtx_version: u16,
    /// SML root over the resulting list.
    pub sml_root_computed: Hash256,
    /// SML root in the CbTx.
    pub sml_root_cbtx: Hash256,
    /// Quorum root over the resulting active set.
    pub quorum_root_computed: Hash256,
    /// Quorum root in the CbTx (version ≥ 2).
    pub quorum_root_cbtx: Option<Hash256>,
    /// Coinbase txid.
    pub coinbase_txid: Hash256,
    /// Root the partial merkle tree proves the coinbase into (Err: why the proof failed).
    pub pmt_root: Result<Hash256, String>,
    /// The header's merkle root, when the header is known.
    pub header_merkle_root: Option<Hash256>,
}

impl DiffCheck {
    /// Computes every check for `list`, the result of applying `diff`.
    pub fn compute(
        list: &MasternodeList,
        diff: &MnListDiff,
        header_merkle_root: Option<Hash256>,
    ) -> DiffCheck {
        let cbtx = list
            .cbtx
            .clone()
            .expect("a list produced by a diff has a CbTx");
        let coinbase_txid = diff.cb_tx.txid();
        DiffCheck {
            height: list.height,
            cbtx_height: cbtx.height,
            cbtx_version: cbtx.version,
            sml_root_computed: list.sml_root(),
            sml_root_cbtx: cbtx.merkle_root_mn_list,
            quorum_root_computed: list.quorum_root(),
            quorum_root_cbtx: cbtx.merkle_root_quorums,
            coinbase_txid,
            pmt_root: pmt::verify_coinbase_proof(&diff.cb_tx_merkle_tree, &coinbase_txid)
                .map_err(|e| e.to_string()),
            header_merkle_root,
        }
    }

    /// The first failed check, if any. The activation heights (and V24, where visible: see
    /// [`check_cbtx_version`]) decide which CbTx versions are allowed.
    pub fn result(
        &self,
        activations: &Activations,
        v24_active: Option<bool>,
    ) -> Result<(), SmlError> {
        if self.cbtx_height < 0 || self.cbtx_height as u32 != self.height {
            return Err(SmlError::HeightMismatch {
                cbtx: self.cbtx_height,
                block: self.height,
            });
        }
        check_cbtx_version(activations, v24_active, self.cbtx_version, self.height)?;
        if self.sml_root_computed != self.sml_root_cbtx {
            return Err(SmlError::SmlRootMismatch {
                computed: self.sml_root_computed,
                expected: self.sml_root_cbtx,
            });
        }
        if let Some(expected) = self.quorum_root_cbtx {
            if self.quorum_root_computed != expected {
                return Err(SmlError::QuorumRootMismatch {
                    computed: self.quorum_root_computed,
                    expected,
                });
            }
        }
        let proof = self.pmt_root.clone().map_err(SmlError::BadMerkleProof)?;
        if let Some(header) = self.header_merkle_root {
            if proof != header {
                return Err(SmlError::HeaderMerkleRootMismatch { proof, header });
            }
        }
        Ok(())
    }
}

/// CbTx version rules by height (Core `CheckCbTx`, `src/evo/cbtx.cpp`), as far as a light client
/// can apply them. `v24_active` is whether V24 is active for this block when its activation is
/// visible in the headers (`None`: EHF-signalled, as on mainnet and testnet, or not known).
///
/// - before DIP-0008: 1 or 2; from DIP-0008 until V20: 2 (versions ≥ 3 are refused before V20
///   by every Core release);
/// - from V20: 3 or newer. Where V24 is visibly not yet active, 4 and newer are refused (every
///   Core release refuses them there). Where V24 is active or cannot be seen, 3 and 4 are both
///   accepted: Core v24 requires 4 once V24 is active, but Core v23.1.x activates the same
///   deployment (for extended addresses) and keeps mining 3 (real captures, network E), and a
///   light client cannot check the one field version 4 adds. Versions above the newest known
///   layout only append fields and are accepted (their roots are still checked).
pub fn check_cbtx_version(
    a: &Activations,
    v24_active: Option<bool>,
    version: u16,
    height: u32,
) -> Result<(), SmlError> {
    let ok = if height >= a.v20 {
        version >= 3 && (v24_active != Some(false) || version == 3)
    } else if height > a.dip0008 {
        version == 2
    } else {
        (1..=2).contains(&version)
    };
    if ok {
        Ok(())
    } else {
        Err(SmlError::BadCbTxVersion { version, height })
    }
}

/// Applies `diff` to `base` and verifies the result completely: CbTx height and version, SML
/// root, quorum root, and the coinbase proof against `header_merkle_root` (which a syncing
/// client must always supply, W-28). Nothing is returned unless every check passed.
/// `v24_active`: see [`check_cbtx_version`].
pub fn apply_and_verify(
    activations: &Activations,
    v24_active: Option<bool>,
    base: &MasternodeList,
    diff: &MnListDiff,
    height: u32,
    header_merkle_root: Option<Hash256>,
) -> Result<MasternodeList, SmlError> {
    let list = base.apply_diff(diff, height)?;
    DiffCheck::compute(&list, diff, header_merkle_root).result(activations, v24_active)?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Core's `CheckCbTx` (v23.1 and v24 `src/evo/cbtx.cpp`) on regtest activation heights
    /// (DIP-0008 at 1, V20 at 100), with the light-client tolerance for V24 written out.
    #[test]
    fn cbtx_versions_follow_core_with_v24_where_visible() {
        let mut a = crate::network::Network::Regtest.activations();
        a.dip0008 = 1;
        a.v20 = 100;
        let ok = |v24: Option<bool>, version: u16, height: u32| {
            check_cbtx_version(&a, v24, version, height).is_ok()
        };
        // Before V20: 1..2, and 2 only once DIP-0008 is active; never 3 or newer.
        assert!(ok(None, 1, 1) && ok(None, 2, 1));
        assert!(ok(None, 2, 50) && !ok(None, 1, 50));
        for v in [3, 4, 5] {
            assert!(!ok(None, v, 50), "v{v} before V20");
        }
        // From V20 with V24 unseen (EHF): 3, 4 and newer (appending) versions.
        assert!(!ok(None, 2, 100));
        for v in [3, 4, 5, 9] {
            assert!(ok(None, v, 100), "v{v} after V20, V24 not visible");
        }
        // V24 visibly not active: only 3 (every Core release refuses 4+ there).
        assert!(ok(Some(false), 3, 150));
        for v in [4, 5] {
            assert!(!ok(Some(false), v, 150), "v{v} before visible V24");
        }
        // V24 visibly active: 4 (Core v24) and 3 (Core v23.1.x on the same deployment).
        assert!(ok(Some(true), 4, 250) && ok(Some(true), 3, 250) && ok(Some(true), 5, 250));
        assert!(!ok(Some(true), 2, 250));
    }
}
