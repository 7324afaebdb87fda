//! `getqrinfo` / `qrinfo` and quorum snapshots (PROTOCOL.md §4.1–§4.3).

use super::codec::{BitSet, Decode, Encode, Reader, Writer};
use super::commitment::{FinalCommitment, MIN_COMMITMENT_SIZE};
use super::mnlistdiff::{MnListDiff, MIN_MNLISTDIFF_SIZE};
use super::WireError;
use crate::hashes::Hash256;
use serde::{Deserialize, Serialize};

/// `getqrinfo`: ask for everything needed to validate the rotated quorums of a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetQrInfo {
    /// Blocks whose lists the client holds (verified); empty = from genesis.
    pub base_block_hashes: Vec<Hash256>,
    /// The block whose cycle is wanted (usually the tip).
    pub block_request_hash: Hash256,
    /// Also return the H−4C snapshot and diff.
    pub extra_share: bool,
}

impl Encode for GetQrInfo {
    fn encode(&self, w: &mut Writer) {
        w.vec(&self.base_block_hashes);
        w.hash(&self.block_request_hash);
        w.bool(self.extra_share);
    }
}

impl Decode for GetQrInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(GetQrInfo {
            base_block_hashes: r.vec(32)?,
            block_request_hash: r.hash()?,
            extra_share: r.bool()?,
        })
    }
}

/// Snapshot skip-list mode (`SnapshotSkipMode`).
pub mod skip_mode {
    /// No skipping.
    pub const NO_SKIPPING: i32 = 0;
    /// The skip list lists skipped entries.
    pub const SKIPPING_ENTRIES: i32 = 1;
    /// The skip list lists non-skipped entries (never produced by Core).
    pub const NO_SKIPPING_ENTRIES: i32 = 2;
    /// All skipped.
    pub const ALL_SKIPPED: i32 = 3;
}

/// `CQuorumSnapshot`: which masternodes were already used when a cycle's new quarter was built.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuorumSnapshot {
    /// Skip-list mode (see [`skip_mode`]).
    pub skip_list_mode: i32,
    /// Bit `i` set = the `i`-th candidate (score order) was already in a previous quarter.
    pub active_quorum_members: BitSet,
    /// Skipped positions (first absolute, later ones offsets from the first, W-16).
    pub skip_list: Vec<i32>,
}

/// The most quorum indexes of any LLMQ type (Core's largest `signingActiveQuorumCount`, 32):
/// `lastCommitmentPerIndex` has one entry per index.
pub const MAX_QUORUM_INDEXES: usize = 32;

/// The most extra snapshots (and diffs) a `qrinfo` carries: Core adds the H−C, H−2C and H−3C
/// cycles of each last commitment per index, minus those already in the fixed fields.
pub const MAX_EXTRA_SNAPSHOTS: usize = 3 * MAX_QUORUM_INDEXES;

/// Smallest possible encoded snapshot.
pub const MIN_SNAPSHOT_SIZE: usize = 4 + 1 + 1;

impl Encode for QuorumSnapshot {
    fn encode(&self, w: &mut Writer) {
        w.i32_le(self.skip_list_mode);
        w.bitset(&self.active_quorum_members);
        w.vec(&self.skip_list);
    }
}

impl Decode for QuorumSnapshot {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(QuorumSnapshot {
            skip_list_mode: r.i32_le()?,
            active_quorum_members: r.bitset()?,
            skip_list: r.vec(4)?,
        })
    }
}

/// The H−4C part of a `qrinfo`, present when `extraShare` was requested.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExtraShare {
    /// Snapshot at H−4C.
    pub snapshot_h_minus_4c: QuorumSnapshot,
    /// Diff to H−4C−8.
    pub mn_list_diff_h_minus_4c: MnListDiff,
}

/// `qrinfo`: snapshots and diffs for the rotation cycles around the requested block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QrInfo {
    /// Snapshot at H−C.
    pub snapshot_h_minus_c: QuorumSnapshot,
    /// Snapshot at H−2C.
    pub snapshot_h_minus_2c: QuorumSnapshot,
    /// Snapshot at H−3C.
    pub snapshot_h_minus_3c: QuorumSnapshot,
    /// Diff to the server's tip.
    pub mn_list_diff_tip: MnListDiff,
    /// Diff to H−8.
    pub mn_list_diff_h: MnListDiff,
    /// Diff to H−C−8.
    pub mn_list_diff_h_minus_c: MnListDiff,
    /// Diff to H−2C−8.
    pub mn_list_diff_h_minus_2c: MnListDiff,
    /// Diff to H−3C−8.
    pub mn_list_diff_h_minus_3c: MnListDiff,
    /// H−4C snapshot and diff, if requested.
    pub extra_share: Option<ExtraShare>,
    /// Per quorum index, the latest rotated commitment mined at or below the request.
    pub last_commitment_per_index: Vec<FinalCommitment>,
    /// Further snapshots needed for older commitments (ascending height).
    pub quorum_snapshot_list: Vec<QuorumSnapshot>,
    /// The diffs matching `quorum_snapshot_list` (same count and order).
    pub mn_list_diff_list: Vec<MnListDiff>,
}

impl QrInfo {
    /// The embedded diffs in the order they must be applied (PROTOCOL.md §4.5, W-26):
    /// `mnListDiffList[..]`, H−4C, H−3C, H−2C, H−C, H, tip.
    pub fn diffs_in_application_order(&self) -> Vec<&MnListDiff> {
        let mut v: Vec<&MnListDiff> = self.mn_list_diff_list.iter().collect();
        if let Some(e) = &self.extra_share {
            v.push(&e.mn_list_diff_h_minus_4c);
        }
        v.push(&self.mn_list_diff_h_minus_3c);
        v.push(&self.mn_list_diff_h_minus_2c);
        v.push(&self.mn_list_diff_h_minus_c);
        v.push(&self.mn_list_diff_h);
        v.push(&self.mn_list_diff_tip);
        v
    }
}

impl Encode for QrInfo {
    fn encode(&self, w: &mut Writer) {
        self.snapshot_h_minus_c.encode(w);
        self.snapshot_h_minus_2c.encode(w);
        self.snapshot_h_minus_3c.encode(w);
        self.mn_list_diff_tip.encode(w);
        self.mn_list_diff_h.encode(w);
        self.mn_list_diff_h_minus_c.encode(w);
        self.mn_list_diff_h_minus_2c.encode(w);
        self.mn_list_diff_h_minus_3c.encode(w);
        w.bool(self.extra_share.is_some());
        if let Some(e) = &self.extra_share {
            e.snapshot_h_minus_4c.encode(w);
            e.mn_list_diff_h_minus_4c.encode(w);
        }
        w.vec(&self.last_commitment_per_index);
        w.vec(&self.quorum_snapshot_list);
        w.vec(&self.mn_list_diff_list);
    }
}

impl Decode for QrInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let snapshot_h_minus_c = QuorumSnapshot::decode(r)?;
        let snapshot_h_minus_2c = QuorumSnapshot::decode(r)?;
        let snapshot_h_minus_3c = QuorumSnapshot::decode(r)?;
        let mn_list_diff_tip = MnListDiff::decode(r)?;
        let mn_list_diff_h = MnListDiff::decode(r)?;
        let mn_list_diff_h_minus_c = MnListDiff::decode(r)?;
        let mn_list_diff_h_minus_2c = MnListDiff::decode(r)?;
        let mn_list_diff_h_minus_3c = MnListDiff::decode(r)?;
        let extra_share = if r.bool()? {
            Some(ExtraShare {
                snapshot_h_minus_4c: QuorumSnapshot::decode(r)?,
                mn_list_diff_h_minus_4c: MnListDiff::decode(r)?,
            })
        } else {
            None
        };
        let last_commitment_per_index = r.vec_max(
            MIN_COMMITMENT_SIZE,
            MAX_QUORUM_INDEXES,
            "qrinfo lastCommitmentPerIndex",
        )?;
        let quorum_snapshot_list: Vec<QuorumSnapshot> = r.vec_max(
            MIN_SNAPSHOT_SIZE,
            MAX_EXTRA_SNAPSHOTS,
            "qrinfo quorumSnapshotList",
        )?;
        let mn_list_diff_list: Vec<MnListDiff> = r.vec_max(
            MIN_MNLISTDIFF_SIZE,
            MAX_EXTRA_SNAPSHOTS,
            "qrinfo mnListDiffList",
        )?;
        if quorum_snapshot_list.len() != mn_list_diff_list.len() {
            return Err(WireError::invalid(
                "qrinfo",
                format!(
                    "{} snapshots but {} diffs in the extra lists",
                    quorum_snapshot_list.len(),
                    mn_list_diff_list.len()
                ),
            ));
        }
        Ok(QrInfo {
            snapshot_h_minus_c,
            snapshot_h_minus_2c,
            snapshot_h_minus_3c,
            mn_list_diff_tip,
            mn_list_diff_h,
            mn_list_diff_h_minus_c,
            mn_list_diff_h_minus_2c,
            mn_list_diff_h_minus_3c,
            extra_share,
            last_commitment_per_index,
            quorum_snapshot_list,
            mn_list_diff_list,
        })
    }
}
