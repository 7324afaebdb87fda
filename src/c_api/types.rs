//! The `#[repr(C)]` values that cross the boundary (result codes, enums, plain structs) and
//! their conversions from the Rust API.

use crate::api::QuorumInfo;
use crate::api::{ErrorKind, SyncProfile, SyncState};
use crate::network::Network;
use std::ffi::c_char;

/// Result of every fallible call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_result {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL.
    ErrNull = 1,
    /// An argument is invalid (bad bytes, wrong size, bad address, out of range).
    ErrInvalidArgument = 2,
    /// A string is not valid UTF-8.
    ErrInvalidUtf8 = 3,
    /// The configuration cannot work (see the message).
    ErrInvalidConfig = 4,
    /// Nothing was found (e.g. no validated quorum with that hash).
    ErrNotFound = 5,
    /// The caller's buffer is too small; the needed count was written.
    ErrBufferTooSmall = 6,
    /// The library failed internally (see the message).
    ErrInternal = 7,
    /// A Rust panic was caught at the boundary (a bug; please report the message).
    ErrPanic = 8,
}

/// Networks.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_network {
    /// Mainnet.
    Mainnet = 0,
    /// Testnet.
    Testnet = 1,
    /// A devnet.
    Devnet = 2,
    /// Regtest (and the built-in simulated network).
    Regtest = 3,
}

/// Which quorums to validate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_profile {
    /// Every active quorum (default).
    Full = 0,
    /// Only the ChainLocks and InstantSend quorums a wallet needs.
    Wallet = 1,
}

/// The most verbose level [`dqs_enable_logging`] logs (passed as its `uint32_t level`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_log_level {
    /// Errors only.
    Error = 0,
    /// Errors and warnings (peer faults, rejected data, store failures).
    Warn = 1,
    /// Also sync milestones.
    Info = 2,
    /// Also per-request detail.
    Debug = 3,
    /// Everything.
    Trace = 4,
}

/// Client states.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_state {
    /// Created, not started.
    Idle = 0,
    /// Connecting to peers.
    Connecting = 1,
    /// Downloading headers.
    Headers = 2,
    /// Fetching and validating masternode lists.
    MasternodeLists = 3,
    /// Synced; following the tip.
    Synced = 4,
    /// Stopped.
    Stopped = 5,
    /// Stopped: the network speaks a newer protocol than this library reads; update it.
    UpdateRequired = 6,
}

/// Error kinds reported to `on_error`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_error_kind {
    /// Configuration problem.
    InvalidConfig = 0,
    /// Bad argument.
    InvalidArgument = 1,
    /// Network trouble.
    Network = 2,
    /// A peer sent invalid data (discarded, peer disconnected).
    PeerMisbehaved = 3,
    /// The host store failed.
    Store = 4,
    /// Saved state was unusable; a clean resync follows.
    CorruptState = 5,
    /// A bug. (6 is not used: it was a kind the library never reported.)
    Internal = 7,
    /// A peer sent data of a newer protocol than this library reads (not penalised); when no
    /// readable peer is left the state becomes `DQS_STATE_UPDATE_REQUIRED`.
    UnsupportedProtocol = 8,
}

/// Verdict on a lock.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_lock_status {
    /// Signed by the quorum the rules select.
    Valid = 0,
    /// Invalid (reason in the last-error message).
    Invalid = 1,
    /// Not decidable yet (reason in the last-error message); try again after sync.
    Unknown = 2,
}

/// A progress report (valid during the callback only).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_progress {
    /// Current state.
    pub state: dqs_state,
    /// Header chain height.
    pub header_height: u32,
    /// Best height peers announced.
    pub target_height: u32,
    /// Masternode lists held.
    pub lists_held: u32,
    /// Lists still needed.
    pub lists_missing: u32,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Completion, 0–100.
    pub percent: f32,
    /// Requests in flight.
    pub requests_in_flight: u32,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Estimated seconds left; negative when unknown.
    pub eta_seconds: f64,
}

/// A validated quorum.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_quorum {
    /// LLMQ type.
    pub llmq_type: u8,
    /// Quorum hash (internal byte order, as on the wire).
    pub quorum_hash: [u8; 32],
    /// Height of its base block.
    pub height: u32,
    /// Quorum index (rotated types), else 0.
    pub index: i16,
    /// Public key, basic (IETF) encoding.
    pub public_key: [u8; 48],
    /// True for pre-V19 legacy-scheme commitments.
    pub legacy_scheme: bool,
}

/// A verified ChainLock.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_chain_lock {
    /// Locked height.
    pub height: u32,
    /// Locked block hash (internal byte order).
    pub block_hash: [u8; 32],
}

/// An error event (valid during the callback only).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_error {
    /// Kind.
    pub kind: dqs_error_kind,
    /// True when the client recovers on its own.
    pub recoverable: bool,
    /// NUL-terminated message, valid during the callback only.
    pub message: *const c_char,
}

/// A status snapshot.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_status {
    /// State.
    pub state: dqs_state,
    /// Header chain height.
    pub header_height: u32,
    /// Height of the newest masternode list held (valid when `has_list`).
    pub list_height: u32,
    /// Whether any list is held.
    pub has_list: bool,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Peers connected.
    pub peers: u32,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Requests that waited on an answer.
    pub round_trips: u64,
    /// Round trips that had to wait for each other (parallel requests count once).
    pub dependent_round_trips: u64,
}

// The C enums are the Rust ones with fixed values: Rust to C is an exhaustive match (a new
// Rust variant does not compile until it has a C value), C to Rust goes through it
// (tests/surface_parity.rs checks every value against the header).

impl From<Network> for dqs_network {
    fn from(n: Network) -> dqs_network {
        match n {
            Network::Mainnet => dqs_network::Mainnet,
            Network::Testnet => dqs_network::Testnet,
            Network::Devnet => dqs_network::Devnet,
            Network::Regtest => dqs_network::Regtest,
        }
    }
}

impl From<SyncProfile> for dqs_profile {
    fn from(p: SyncProfile) -> dqs_profile {
        match p {
            SyncProfile::Full => dqs_profile::Full,
            SyncProfile::Wallet => dqs_profile::Wallet,
        }
    }
}

impl From<SyncState> for dqs_state {
    fn from(s: SyncState) -> dqs_state {
        match s {
            SyncState::Idle => dqs_state::Idle,
            SyncState::Connecting => dqs_state::Connecting,
            SyncState::Headers => dqs_state::Headers,
            SyncState::MasternodeLists => dqs_state::MasternodeLists,
            SyncState::Synced => dqs_state::Synced,
            SyncState::Stopped => dqs_state::Stopped,
            SyncState::UpdateRequired => dqs_state::UpdateRequired,
        }
    }
}

impl From<ErrorKind> for dqs_error_kind {
    fn from(k: ErrorKind) -> dqs_error_kind {
        match k {
            ErrorKind::InvalidConfig => dqs_error_kind::InvalidConfig,
            ErrorKind::InvalidArgument => dqs_error_kind::InvalidArgument,
            ErrorKind::Network => dqs_error_kind::Network,
            ErrorKind::PeerMisbehaved => dqs_error_kind::PeerMisbehaved,
            ErrorKind::Store => dqs_error_kind::Store,
            ErrorKind::CorruptState => dqs_error_kind::CorruptState,
            ErrorKind::Internal => dqs_error_kind::Internal,
            ErrorKind::UnsupportedProtocol => dqs_error_kind::UnsupportedProtocol,
        }
    }
}

/// The Rust network whose C value is `v`.
pub fn network_from_c(v: u32) -> Option<Network> {
    [
        Network::Mainnet,
        Network::Testnet,
        Network::Devnet,
        Network::Regtest,
    ]
    .into_iter()
    .find(|n| dqs_network::from(*n) as u32 == v)
}

/// The Rust profile whose C value is `v`.
pub fn profile_from_c(v: u32) -> Option<SyncProfile> {
    [SyncProfile::Full, SyncProfile::Wallet]
        .into_iter()
        .find(|p| dqs_profile::from(*p) as u32 == v)
}

/// The result code of a Rust error: its kind decides (the message is passed on unchanged).
pub fn result_of(kind: ErrorKind) -> dqs_result {
    match kind {
        ErrorKind::InvalidConfig => dqs_result::ErrInvalidConfig,
        ErrorKind::InvalidArgument => dqs_result::ErrInvalidArgument,
        ErrorKind::Network
        | ErrorKind::PeerMisbehaved
        | ErrorKind::Store
        | ErrorKind::CorruptState
        | ErrorKind::UnsupportedProtocol
        | ErrorKind::Internal => dqs_result::ErrInternal,
    }
}

/// The C form of a validated quorum.
pub(crate) fn quorum_c(q: &QuorumInfo) -> dqs_quorum {
    dqs_quorum {
        llmq_type: q.llmq_type,
        quorum_hash: q.quorum_hash.0,
        height: q.height,
        index: q.index,
        public_key: q.public_key,
        legacy_scheme: q.legacy_scheme,
    }
}
