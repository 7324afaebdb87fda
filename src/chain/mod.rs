//! Block headers, proof of work, checkpoints and the in-memory header chain (PROTOCOL.md §2).
//!
//! - [`params`]: genesis headers, powLimit, DGW constants, checkpoints.
//! - [`checkpoints`]: the built-in trusted checkpoints (real headers with chain work) a header
//!   chain can start from near a wallet's birth.
//! - [`pow`]: 256-bit target arithmetic, `CheckProofOfWork`, Dark Gravity Wave v3.
//! - [`HeaderChain`]: a header chain grown from a trusted anchor (genesis or a checkpoint), with
//!   fork choice by chain work, bounded reorgs and a compact persistence snapshot.
//! - [`HeaderIndex`]: the read-only view other layers need (height ↔ hash, merkle roots);
//!   [`MapHeaderIndex`] is a trivial implementation for callers that already know the headers.

use crate::hashes::Hash256;
use std::collections::HashMap;

pub mod checkpoints;
mod header_chain;
pub mod params;
pub mod pow;
/// X11, Dash's proof-of-work hash (the `dash-qrsync-x11` crate of this workspace, pure Rust).
pub use dash_qrsync_x11 as x11;

pub use checkpoints::{BuiltinStart, TrustedCheckpoint};
pub use header_chain::{
    ChainLockPlacement, ConnectOutcome, HeaderChain, Reorg, DEFAULT_MAX_REORG_DEPTH,
};
pub use params::Checkpoint;
pub use pow::U256;

/// Read-only access to the active chain's block hashes (object-safe; used as `&dyn HeaderIndex`).
pub trait HeaderIndex: Sync {
    /// Height of the block with this hash, if it is on the active chain.
    fn height_of(&self, hash: &Hash256) -> Option<u32>;
    /// Hash of the active-chain block at `height`.
    fn hash_at(&self, height: u32) -> Option<Hash256>;
    /// Merkle root of the block with this hash, if known.
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256>;
    /// Version and time of the active-chain block at `height`, if its header is held (the
    /// version-bits deployments that enable LLMQ types are decided from them).
    fn version_and_time_at(&self, _height: u32) -> Option<(i32, u32)> {
        None
    }
}

/// A [`HeaderIndex`] built from `(height, hash, merkle_root)` triples (for hosts that keep their
/// own header store, and for tests).
#[derive(Debug, Clone, Default)]
pub struct MapHeaderIndex {
    by_hash: HashMap<Hash256, (u32, Hash256)>,
    by_height: HashMap<u32, Hash256>,
}

impl MapHeaderIndex {
    /// An empty index.
    pub fn new() -> MapHeaderIndex {
        MapHeaderIndex::default()
    }

    /// Records the block at `height`; replaces whatever block was recorded at that height.
    pub fn insert(&mut self, height: u32, hash: Hash256, merkle_root: Hash256) {
        if let Some(old) = self.by_height.insert(height, hash) {
            if old != hash {
                self.by_hash.remove(&old);
            }
        }
        if let Some((old_height, _)) = self.by_hash.insert(hash, (height, merkle_root)) {
            if old_height != height {
                self.by_height.remove(&old_height);
            }
        }
    }

    /// Number of blocks recorded.
    pub fn len(&self) -> usize {
        self.by_height.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.by_height.is_empty()
    }
}

impl HeaderIndex for MapHeaderIndex {
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.by_hash.get(hash).map(|(h, _)| *h)
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.by_height.get(&height).copied()
    }
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256> {
        self.by_hash.get(hash).map(|(_, m)| *m)
    }
}

/// Why headers were rejected or a snapshot could not be loaded. Heights are those the header
/// would have had; hashes are block hashes (printed in display order).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A header's bits are negative, zero, overflowing or above the network's powLimit.
    #[error("header {hash} at height {height}: bits {bits:#010x} are not a valid target")]
    BadTarget {
        /// Height of the header.
        height: u32,
        /// Its hash.
        hash: Hash256,
        /// Its nBits.
        bits: u32,
    },
    /// The header's hash exceeds the target its bits claim.
    #[error("header {hash} at height {height}: hash above target of bits {bits:#010x}")]
    HighHash {
        /// Height of the header.
        height: u32,
        /// Its hash.
        hash: Hash256,
        /// Its nBits.
        bits: u32,
    },
    /// The header's bits differ from what the retargeting rules (DGW) require.
    #[error("header {hash} at height {height}: bits {bits:#010x}, required {expected:#010x}")]
    BadDifficulty {
        /// Height of the header.
        height: u32,
        /// Its hash.
        hash: Hash256,
        /// Its nBits.
        bits: u32,
        /// The bits the rules require.
        expected: u32,
    },
    /// The header's time is not after the median time of the previous 11 blocks.
    #[error("header {hash} at height {height}: time {time} not after median time past {median}")]
    TimeTooOld {
        /// Height of the header.
        height: u32,
        /// Its hash.
        hash: Hash256,
        /// Its time.
        time: u32,
        /// Median of the previous 11 block times.
        median: u32,
    },
    /// The header's time is more than 2 hours after the caller's clock.
    #[error("header {hash} at height {height}: time {time} after the allowed maximum {max}")]
    TimeTooNew {
        /// Height of the header.
        height: u32,
        /// Its hash.
        hash: Hash256,
        /// Its time.
        time: u32,
        /// now + 2 h.
        max: u32,
    },
    /// A header at a checkpoint height has a different hash.
    #[error("header {hash} at checkpoint height {height}: expected {expected}")]
    CheckpointMismatch {
        /// The checkpoint height.
        height: u32,
        /// The header's hash.
        hash: Hash256,
        /// The checkpoint's hash.
        expected: Hash256,
    },
    /// Header `index` of a batch does not point at header `index − 1`.
    #[error("batch header {index} ({hash}) has prev {prev}, expected {expected}")]
    NotLinked {
        /// Position in the batch.
        index: usize,
        /// Its hash.
        hash: Hash256,
        /// Its prev hash.
        prev: Hash256,
        /// Hash of the preceding batch header.
        expected: Hash256,
    },
    /// The first header of a batch does not connect to any known header.
    #[error("header {hash} connects to unknown block {prev}")]
    UnknownParent {
        /// The header's hash.
        hash: Hash256,
        /// Its prev hash.
        prev: Hash256,
    },
    /// The batch forks off below the trusted anchor (competes with the anchor itself).
    #[error("header {hash} forks below the anchor at height {anchor_height}")]
    ForkBelowAnchor {
        /// The header's hash.
        hash: Hash256,
        /// The anchor height.
        anchor_height: u32,
    },
    /// The batch forks off the active chain deeper than the allowed reorg depth.
    #[error("fork at height {fork_height} is {depth} blocks below the tip (max {max})")]
    ForkTooDeep {
        /// Height of the last common block.
        fork_height: u32,
        /// Tip height − fork height.
        depth: u32,
        /// The configured maximum.
        max: u32,
    },
    /// The batch forks off before a checkpoint the active chain already passed.
    #[error("fork at height {fork_height} is before checkpoint {checkpoint_height}")]
    ForkBeforeCheckpoint {
        /// Height of the last common block.
        fork_height: u32,
        /// The checkpoint height.
        checkpoint_height: u32,
    },
    /// A header at a ChainLocked height is not the locked block.
    #[error("header {hash} at height {height} conflicts with the ChainLock of block {locked}")]
    ConflictsWithChainLock {
        /// The locked height.
        height: u32,
        /// The header's hash.
        hash: Hash256,
        /// The ChainLocked block.
        locked: Hash256,
    },
    /// The batch forks off below the best ChainLocked block the active chain holds.
    #[error("fork at height {fork_height} is below the ChainLocked block at {lock_height}")]
    ForkBelowChainLock {
        /// Height of the last common block.
        fork_height: u32,
        /// Height of the best ChainLock.
        lock_height: u32,
    },
    /// Too many side-branch headers are held; the batch is refused.
    #[error("side branches already hold {held} headers (limit {limit})")]
    SideBranchLimit {
        /// Headers held.
        held: usize,
        /// The limit.
        limit: usize,
    },
    /// Heights would exceed u32.
    #[error("height overflow")]
    HeightOverflow,
    /// The snapshot's envelope is unusable: not a header-chain snapshot, another format
    /// version or network, a checksum mismatch, too short or too large ([`crate::persist`]).
    #[error(transparent)]
    Snapshot(#[from] crate::persist::EnvelopeError),
    /// The snapshot (with a valid checksum) is shorter than its header count says.
    #[error("snapshot truncated: {needed} bytes needed, {got} present")]
    SnapshotTruncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The snapshot (with a valid checksum) is longer than its header count says.
    #[error("snapshot has {extra} trailing bytes")]
    SnapshotTrailing {
        /// Number of extra bytes.
        extra: usize,
    },
    /// The snapshot holds the same header twice (not something `to_bytes` writes).
    #[error("snapshot holds a header twice")]
    SnapshotDuplicate,
    /// The snapshot holds no headers.
    #[error("snapshot holds no headers")]
    SnapshotEmpty,
}

impl ChainError {
    /// The same error with its height field set (for errors produced by [`pow`] helpers).
    pub(crate) fn at_height(self, h: u32) -> ChainError {
        match self {
            ChainError::BadTarget { hash, bits, .. } => ChainError::BadTarget {
                height: h,
                hash,
                bits,
            },
            ChainError::HighHash { hash, bits, .. } => ChainError::HighHash {
                height: h,
                hash,
                bits,
            },
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_header_index() {
        let mut m = MapHeaderIndex::new();
        let (a, b, r) = (Hash256([1; 32]), Hash256([2; 32]), Hash256([9; 32]));
        m.insert(5, a, r);
        assert_eq!(m.height_of(&a), Some(5));
        assert_eq!(m.hash_at(5), Some(a));
        assert_eq!(m.merkle_root_of(&a), Some(r));
        m.insert(5, b, r);
        assert_eq!(m.height_of(&a), None);
        assert_eq!(m.hash_at(5), Some(b));
        m.insert(6, b, r);
        assert_eq!(m.hash_at(5), None);
        assert_eq!(m.len(), 1);
        let d: &dyn HeaderIndex = &m;
        assert_eq!(d.height_of(&b), Some(6));
    }
}
