//! What the client reports while it runs: state, progress, quorums, ChainLocks, errors, and
//! the listener that receives them.

use super::error::ClientError;
use super::masternodes::MasternodesChanged;
use crate::engine::QuorumInfo;
use crate::hashes::Hash256;

/// What the client is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// Created, not started.
    Idle,
    /// Connecting to peers.
    Connecting,
    /// Downloading headers.
    Headers,
    /// Fetching and validating masternode lists and quorums.
    MasternodeLists,
    /// Every active quorum validated; following the tip.
    Synced,
    /// Stopped (by `stop` or an unrecoverable error).
    Stopped,
    /// Stopped because the network speaks a newer protocol than this library reads (every
    /// peer sent a structure version it does not know): update the library. What was validated
    /// before is kept and still answers lock checks; the error event names the structure, the
    /// version seen and the library version.
    UpdateRequired,
}

/// A progress report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Progress {
    /// Current phase.
    pub state: SyncState,
    /// Header chain height reached.
    pub header_height: u32,
    /// Best height peers announced.
    pub target_height: u32,
    /// Masternode lists held.
    pub lists_held: u32,
    /// Lists still needed (known so far).
    pub lists_missing: u32,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Overall completion, 0–100.
    pub percent: f32,
    /// Requests sent and not yet answered.
    pub requests_in_flight: u32,
    /// Bytes received from peers.
    pub bytes_in: u64,
    /// Bytes sent to peers.
    pub bytes_out: u64,
    /// Estimated seconds to completion, when it can be estimated.
    pub eta_seconds: Option<f64>,
}

/// A ChainLock the client verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLockEvent {
    /// Locked height.
    pub height: u32,
    /// Locked block.
    pub block_hash: Hash256,
}

/// Receives the client's events. Callbacks run on the `dqs-events` thread, one at a time, in
/// order; they may call any client method, including `stop` and dropping the client.
pub trait EventListener: Send + Sync {
    /// Progress.
    fn on_progress(&self, progress: &Progress);
    /// A quorum passed every check (reported once per quorum).
    fn on_quorum_available(&self, quorum: &QuorumInfo);
    /// A ChainLock verified.
    fn on_chain_lock(&self, lock: &ChainLockEvent);
    /// The state changed.
    fn on_state(&self, state: SyncState);
    /// Something went wrong; `recoverable` says whether the client continues on its own.
    fn on_error(&self, error: &ClientError);
    /// The entries of the validated masternode list at the tip changed (also reported once
    /// for the first validated list, and for the list restored from the store). Read the
    /// address book with [`crate::Client::masternodes`]. The default implementation ignores it.
    fn on_masternodes_changed(&self, _change: &MasternodesChanged) {}
}

/// A listener that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopListener;

impl EventListener for NoopListener {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, _: &QuorumInfo) {}
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, _: SyncState) {}
    fn on_error(&self, _: &ClientError) {}
}
