//! `quorumsCLSigs` of a `mnlistdiff` (PROTOCOL.md §2.1): each entry is a ChainLock signature and
//! the `newQuorums` indexes it applies to. Dash Core (`BuildQuorumChainlockInfo`,
//! `src/evo/smldiff.cpp`) builds it, when V20 is active after the diff's block, by taking for
//! every new quorum `q` the block `w` at height `q.baseHeight − q.quorumIndex − 8` and
//! `GetNonNullCoinbaseChainlock(w)` (`src/evo/cbtx.cpp`): `w`'s CbTx `bestCLSignature` when `w`
//! is at or above V20 and that signature is a valid BLS signature, else the null signature;
//! quorums with the same signature share one entry (a `std::map` keyed by signature, values
//! `std::set`s of indexes).
//!
//! Two checks follow from that:
//! - structure ([`check_structure`]): indexes in range, none twice, no empty entry, no
//!   signature twice, every new quorum covered when there is any entry, no entry before V20;
//! - content ([`expected_signature`]): each quorum's signature equals its work block's, when the
//!   work block's list (with its proven CbTx) is held or arrives in the same feed, or when the
//!   work block is below V20 (then it must be null without looking at any list).

use crate::quorum::bls::{Scheme, Signature};
use crate::sml::{MasternodeList, QuorumKey};
use crate::wire::mnlistdiff::MnListDiff;
use std::collections::{HashMap, HashSet};

/// Why a diff's `quorumsCLSigs` cannot be what Core builds, whatever the chain holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClSigsFault {
    /// An index points past the end of `newQuorums`.
    #[error("index {index} is out of range ({new_quorums} new quorums)")]
    IndexOutOfRange {
        /// The index.
        index: u16,
        /// Number of new quorums in the diff.
        new_quorums: usize,
    },
    /// A new quorum is indexed twice (in one entry or in two).
    #[error("new quorum {index} is indexed twice")]
    IndexedTwice {
        /// The index.
        index: u16,
    },
    /// An entry indexes no quorum (Core only makes entries for quorums).
    #[error("an entry indexes no quorum")]
    EmptyEntry,
    /// Two entries carry the same signature (Core keys the entries by signature).
    #[error("two entries carry the same signature")]
    DuplicateSignature,
    /// Entries are present but a new quorum has none (Core covers every new quorum).
    #[error("new quorum {index} (type {llmq_type} {quorum_hash}) has no entry")]
    NotCovered {
        /// Its index in `newQuorums`.
        index: u16,
        /// Its LLMQ type.
        llmq_type: u8,
        /// Its quorum hash.
        quorum_hash: crate::hashes::Hash256,
    },
    /// Entries are present although V20 is not active after the diff's block (Core builds
    /// none then).
    #[error("entries are present before V20 (V20 at height {v20})")]
    BeforeV20 {
        /// The V20 activation height.
        v20: u32,
    },
}

/// What a feed could and could not check of the `quorumsCLSigs` it received: one count per new
/// quorum of each applied diff that carries entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClSigChecks {
    /// Claims compared with the `bestCLSignature` of the work block's CbTx (from a list held or
    /// received in the same feed) and found equal.
    pub against_cbtx: usize,
    /// Of those, how many were a non-null signature.
    pub non_null: usize,
    /// Claims whose work block is below V20 (or below genesis): found null, as Core builds
    /// them, without needing a list.
    pub before_v20: usize,
    /// New quorums whose claim could not be compared: the work block's list is not held and
    /// not in the feed, or the quorum's base block is not in the header index. Nothing is
    /// concluded about them.
    pub unchecked: Vec<QuorumKey>,
}

impl ClSigChecks {
    /// Claims that were compared (with a CbTx or by the V20 rule).
    pub fn compared(&self) -> usize {
        self.against_cbtx + self.before_v20
    }

    /// Adds another feed's counts.
    pub fn add(&mut self, other: &ClSigChecks) {
        self.against_cbtx += other.against_cbtx;
        self.non_null += other.non_null;
        self.before_v20 += other.before_v20;
        self.unchecked.extend(other.unchecked.iter().copied());
    }
}

/// The signature each new quorum of `diff` is claimed to have (`None` for an uncovered one), after
/// checking the structure Core guarantees. `diff_height` is the height of the diff's block and
/// `v20` the V20 activation height.
pub fn check_structure(
    diff: &MnListDiff,
    diff_height: u32,
    v20: u32,
) -> Result<Vec<Option<[u8; 96]>>, ClSigsFault> {
    let n = diff.new_quorums.len();
    let mut claimed: Vec<Option<[u8; 96]>> = vec![None; n];
    if diff.quorums_cl_sigs.is_empty() {
        return Ok(claimed);
    }
    // `DeploymentActiveAfter(blockIndex, V20)`: active for the block after the diff's.
    if diff_height.saturating_add(1) < v20 {
        return Err(ClSigsFault::BeforeV20 { v20 });
    }
    let mut seen_sigs: HashSet<&[u8; 96]> = HashSet::new();
    for entry in &diff.quorums_cl_sigs {
        if entry.quorum_indexes.is_empty() {
            return Err(ClSigsFault::EmptyEntry);
        }
        if !seen_sigs.insert(&entry.signature) {
            return Err(ClSigsFault::DuplicateSignature);
        }
        for &index in &entry.quorum_indexes {
            let slot = claimed
                .get_mut(usize::from(index))
                .ok_or(ClSigsFault::IndexOutOfRange {
                    index,
                    new_quorums: n,
                })?;
            if slot.is_some() {
                return Err(ClSigsFault::IndexedTwice { index });
            }
            *slot = Some(entry.signature);
        }
    }
    if let Some(index) = claimed.iter().position(Option::is_none) {
        let q = &diff.new_quorums[index];
        return Err(ClSigsFault::NotCovered {
            index: index as u16,
            llmq_type: q.llmq_type,
            quorum_hash: q.quorum_hash,
        });
    }
    Ok(claimed)
}

/// Height of the work block whose CbTx carries a quorum's signature: `baseHeight − quorumIndex
/// − 8`, `None` below genesis (Core's `GetAncestor` gives no block, so a null signature).
pub fn work_height(base_height: u32, quorum_index: i16) -> Option<u32> {
    let h = i64::from(base_height) - i64::from(quorum_index) - 8;
    u32::try_from(h).ok()
}

/// Core's `GetNonNullCoinbaseChainlock` for a work block whose list is `work` (at or above
/// V20): the CbTx's `bestCLSignature` when it decodes as a BLS signature, else the null
/// signature. `valid` caches decodings within a feed.
pub fn expected_signature(work: &MasternodeList, valid: &mut HashMap<[u8; 96], bool>) -> [u8; 96] {
    crate::quorum::selection::coinbase_chainlock_with(work, |s| {
        *valid
            .entry(*s)
            .or_insert_with(|| Signature::from_bytes(s, Scheme::Basic).is_ok())
    })
    .unwrap_or([0; 96])
}

/// The first 8 bytes of a signature (what an error shows).
pub fn prefix(sig: &[u8; 96]) -> [u8; 8] {
    let mut p = [0u8; 8];
    p.copy_from_slice(&sig[..8]);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashes::Hash256;
    use crate::quorum::bls::SecretKey;
    use crate::wire::tx::{BestChainLock, CbTx};

    fn list_with(best_cl: Option<[u8; 96]>, version: u16) -> MasternodeList {
        let mut l = MasternodeList::empty();
        l.cbtx = Some(CbTx {
            version,
            height: 1,
            merkle_root_mn_list: Hash256::ZERO,
            merkle_root_quorums: Some(Hash256::ZERO),
            best_cl: best_cl.map(|signature| BestChainLock {
                height_diff: 0,
                signature,
            }),
            credit_pool_balance: (version >= 3).then_some(0),
            merkle_root_asset_unlocks: None,
            unknown_fields: Vec::new(),
        });
        l
    }

    /// Core's `GetNonNullCoinbaseChainlock` (`src/evo/cbtx.cpp`): no CbTx payload with a
    /// ChainLock, or a `bestCLSignature` that is not `IsValid()` (all zero, or bytes that do not
    /// decode as a signature), gives the null signature; a valid one is returned as is.
    #[test]
    fn expected_signature_follows_get_non_null_coinbase_chainlock() {
        let mut cache = HashMap::new();
        let sig = SecretKey::from_seed(b"clsigs")
            .sign(&[7; 32], Scheme::Basic)
            .to_bytes(Scheme::Basic);
        assert_eq!(
            expected_signature(&list_with(Some(sig), 3), &mut cache),
            sig
        );
        assert_eq!(expected_signature(&list_with(None, 2), &mut cache), [0; 96]);
        assert_eq!(
            expected_signature(&MasternodeList::empty(), &mut cache),
            [0; 96]
        );
        assert_eq!(
            expected_signature(&list_with(Some([0; 96]), 3), &mut cache),
            [0; 96]
        );
        // Non-zero, not a point: Core's `IsValid()` is false, so null.
        let mut garbage = sig;
        garbage[10] ^= 0x01;
        garbage[0] = 0xa0 | (garbage[0] & 0x1f);
        assert!(Signature::from_bytes(&garbage, Scheme::Basic).is_err());
        assert_eq!(
            expected_signature(&list_with(Some(garbage), 3), &mut cache),
            [0; 96]
        );
        assert_eq!(
            expected_signature(&list_with(Some([0x55; 96]), 3), &mut cache),
            [0; 96]
        );
    }

    /// The mismatch error shows both signature prefixes in hex.
    #[test]
    fn the_mismatch_error_shows_both_prefixes() {
        let h = Hash256([3; 32]);
        let wrong = crate::engine::EngineError::WrongQuorumClSig {
            block: h,
            llmq_type: 103,
            quorum_hash: h,
            work_height: 280,
            claimed: [1; 8],
            expected: [0; 8],
        };
        let text = wrong.to_string();
        assert!(text.contains("0101010101010101") && text.contains("0000000000000000"));
        assert!(text.contains("280") && text.contains("type 103"), "{text}");
    }

    #[test]
    fn work_height_is_base_minus_index_minus_8() {
        assert_eq!(work_height(288, 0), Some(280));
        assert_eq!(work_height(289, 1), Some(280));
        assert_eq!(work_height(5, 0), None);
        assert_eq!(work_height(8, 0), Some(0));
    }
}
