//! Snapshots of the client's status and verdicts on locks.

use super::event::SyncState;
use crate::engine::{LockFailure, LockVerdict};
use crate::hashes::Hash256;
use std::time::Instant;

/// A snapshot of the client's status.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Status {
    /// Current state.
    pub state: SyncState,
    /// Header chain tip height.
    pub header_height: u32,
    /// Height of the newest masternode list held.
    pub list_height: Option<u32>,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Peers connected.
    pub peers: u32,
    /// Bytes received / sent.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Requests that waited on an answer (round trips).
    pub round_trips: u64,
    /// Round trips that had to wait for each other: the highest request generation, where a
    /// request is one generation after the answers its sender had received when it was sent
    /// (requests sent together count once, however their answers overlap in time; see
    /// docs/PERFORMANCE.md). Does not change with machine load.
    pub dependent_round_trips: u64,
}

/// The verdict on a lock handed to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockStatus {
    /// Signed by the quorum the rules select.
    Valid {
        /// Signing quorum type.
        llmq_type: u8,
        /// Signing quorum.
        quorum_hash: Hash256,
    },
    /// Definitely invalid, with the reason.
    Invalid(String),
    /// Not decidable yet (headers, lists or quorums missing); try again after sync.
    Unknown(String),
}

impl From<LockVerdict> for LockStatus {
    fn from(v: LockVerdict) -> LockStatus {
        match v {
            LockVerdict::Valid {
                llmq_type,
                quorum_hash,
            } => LockStatus::Valid {
                llmq_type,
                quorum_hash,
            },
            LockVerdict::Invalid(f) => LockStatus::Invalid(f.to_string()),
            LockVerdict::CannotVerify(why) => LockStatus::Unknown(why),
        }
    }
}

/// Why a malformed lock failed, for callers matching on reasons.
pub type LockFailureReason = LockFailure;

/// For the benchmark: the counters when the masternode-list phase of the first sync began (headers synced).
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
pub struct PhaseMark {
    /// When.
    pub at: Instant,
    /// Requests sent so far.
    pub round_trips: u64,
    /// Dependent round trips so far.
    pub dependent_round_trips: u64,
    /// Bytes received so far.
    pub bytes_in: u64,
}
