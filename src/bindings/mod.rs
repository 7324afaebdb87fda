//! The UniFFI exports (Swift module `DashQRSync`, Kotlin package `org.dash.qrsync`): thin
//! wrappers over [`crate::api`], generated into `bindings/` by the project's `uniffi-bindgen`.
//!
//! The host implements [`SyncListener`] (events) and [`HostStore`] (persistence) as foreign
//! traits. `start` returns at once; `stop` is bounded; events arrive on the library's
//! `dqs-events` thread. [`Simnet`] is always exported so that the generated bindings are the
//! same for every build; without the `simnet` feature its constructor returns
//! [`QrSyncError::NotAvailable`].

pub(crate) mod config_ops;

use crate::api;
use crate::api::QuorumInfo;
pub use crate::api::SyncProfile;
pub use crate::api::{ErrorKind, Progress, Status, SyncState};
use crate::hashes::Hash256;
pub use crate::logging::LogLevel;
pub use crate::network::Network;
use crate::store::{MemoryStore, Store, StoreError};
use std::sync::{Arc, Mutex};

/// Errors surfaced to Swift (`throws`) and Kotlin (exceptions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, ::uniffi::Error)]
pub enum QrSyncError {
    /// The configuration cannot work.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// Detail.
        reason: String,
    },
    /// An argument is invalid.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// Detail.
        reason: String,
    },
    /// The feature is not compiled into this library.
    #[error("not available: {reason}")]
    NotAvailable {
        /// Detail.
        reason: String,
    },
    /// An internal failure.
    #[error("internal error: {reason}")]
    Internal {
        /// Detail.
        reason: String,
    },
}

impl From<crate::ClientError> for QrSyncError {
    fn from(e: crate::ClientError) -> Self {
        match e.kind {
            ErrorKind::InvalidConfig => QrSyncError::InvalidConfig { reason: e.message },
            ErrorKind::InvalidArgument => QrSyncError::InvalidArgument { reason: e.message },
            ErrorKind::Network
            | ErrorKind::PeerMisbehaved
            | ErrorKind::Store
            | ErrorKind::CorruptState
            | ErrorKind::UnsupportedProtocol
            | ErrorKind::Internal => QrSyncError::Internal { reason: e.message },
        }
    }
}

/// A failure reported by the host's store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, ::uniffi::Error)]
pub enum StoreFailure {
    /// The host could not complete the operation.
    #[error("store failure: {reason}")]
    Failed {
        /// Detail.
        reason: String,
    },
}

impl From<::uniffi::UnexpectedUniFFICallbackError> for StoreFailure {
    /// Any other exception the host's store threw. Kotlin hands over its whole stack trace
    /// (`stackTraceToString()`); the error event gets its first line, the exception itself
    /// (`java.io.IOException: disk full`), as every surface reports it.
    fn from(e: ::uniffi::UnexpectedUniFFICallbackError) -> Self {
        StoreFailure::Failed {
            reason: first_line(&e.reason),
        }
    }
}

/// The first non-empty line of a host exception's text, trimmed.
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("the store failed without a message")
        .to_string()
}

#[cfg(test)]
mod host_error_tests {
    use super::*;

    #[test]
    fn a_host_stack_trace_becomes_its_first_line() {
        // The shape of Kotlin's Throwable.stackTraceToString().
        let trace = "java.io.IOException: disk full\n\tat Store.save(Store.kt:12)\n\tat \
                     uniffi.Callback.call(dash_qrsync.kt:300)\nCaused by: x\n\t... 3 more\n";
        let e: StoreFailure = ::uniffi::UnexpectedUniFFICallbackError::new(trace).into();
        assert_eq!(
            e,
            StoreFailure::Failed {
                reason: "java.io.IOException: disk full".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "store failure: java.io.IOException: disk full"
        );
        let e: StoreFailure = ::uniffi::UnexpectedUniFFICallbackError::new("\n").into();
        assert!(!e.to_string().contains('\n'));
    }
}

// The API's own types are exported as they are: `SyncState`, `ErrorKind`, `Progress` and
// `Status` derive UniFFI in `crate::api`; the network, profile and log level are described
// here with `uniffi::remote` (their definitions live in modules the bindings do not own), which
// makes the compiler check these descriptions against the real types.

/// Networks.
#[::uniffi::remote(Enum)]
pub enum Network {
    /// Mainnet.
    Mainnet,
    /// Testnet.
    Testnet,
    /// A devnet.
    Devnet,
    /// Regtest and the built-in simulated network.
    Regtest,
}

/// The most verbose level [`enable_logging`] logs.
#[::uniffi::remote(Enum)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Also sync milestones.
    Info,
    /// Also per-request detail.
    Debug,
    /// Everything.
    Trace,
}

/// Sends the library's logs to the platform log (logcat on Android, standard error elsewhere).
/// Returns false when a logger was already installed (an earlier call or the app's own).
#[::uniffi::export]
pub fn enable_logging(level: LogLevel) -> bool {
    crate::logging::enable_platform_logging(level)
}

/// Which quorums to validate.
#[::uniffi::remote(Enum)]
pub enum SyncProfile {
    /// Every active quorum (default).
    Full,
    /// Only the ChainLocks and InstantSend quorums a wallet needs.
    Wallet,
}

/// A validated quorum.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct Quorum {
    /// LLMQ type.
    pub llmq_type: u8,
    /// Quorum hash, display hex (as explorers show it).
    pub quorum_hash: String,
    /// Height of its base block.
    pub height: u32,
    /// Quorum index (rotated types), else 0.
    pub index: i16,
    /// Public key, 48 bytes, basic (IETF) encoding.
    pub public_key: Vec<u8>,
    /// True for pre-V19 legacy-scheme commitments.
    pub legacy_scheme: bool,
}

impl From<&QuorumInfo> for Quorum {
    fn from(q: &QuorumInfo) -> Self {
        Quorum {
            llmq_type: q.llmq_type,
            quorum_hash: q.quorum_hash.to_display_hex(),
            height: q.height,
            index: q.index,
            public_key: q.public_key.to_vec(),
            legacy_scheme: q.legacy_scheme,
        }
    }
}

/// A verified ChainLock.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct ChainLock {
    /// Locked height.
    pub height: u32,
    /// Locked block hash, display hex.
    pub block_hash: String,
}

/// An error event.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct ErrorEvent {
    /// Kind.
    pub kind: ErrorKind,
    /// Detail.
    pub message: String,
    /// True when the client recovers on its own.
    pub recoverable: bool,
}

/// The verdict on a lock.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Enum)]
pub enum LockResult {
    /// Signed by the quorum the rules select.
    Valid {
        /// Signing quorum type.
        llmq_type: u8,
        /// Signing quorum, display hex.
        quorum_hash: String,
    },
    /// Invalid.
    Invalid {
        /// Why.
        reason: String,
    },
    /// Not decidable yet.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One address of a masternode.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct MasternodeAddress {
    /// What it is for.
    pub purpose: api::AddressPurpose,
    /// The kind of host.
    pub kind: api::AddressKind,
    /// The host as Dash Core prints it (IPv6 without brackets, `….onion`, `….b32.i2p`, domain).
    pub host: String,
    /// The port.
    pub port: u16,
    /// `host:port` as Dash Core prints it (`[v6]:port`).
    pub host_port: String,
}

/// One masternode of the validated list at the tip.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct Masternode {
    /// ProRegTx hash, display hex.
    pub pro_reg_tx_hash: String,
    /// Regular or evonode.
    pub mn_type: api::MasternodeType,
    /// Not PoSe-banned.
    pub is_valid: bool,
    /// Confirmed hash, display hex (all zeros while unconfirmed).
    pub confirmed_hash: String,
    /// BLS operator public key, 48 bytes as in the list.
    pub operator_public_key: Vec<u8>,
    /// True when the operator key is in the legacy BLS encoding (entry version 1).
    pub legacy_operator_key: bool,
    /// Voting key id (hash160), 20 bytes.
    pub voting_key_id: Vec<u8>,
    /// Platform node id of an evonode as Dash Core's RPC prints it (`platformNodeID`, hex of
    /// the list's bytes reversed); null/nil for a regular masternode.
    pub platform_node_id: Option<String>,
    /// Simplified-list entry version (1, 2 or 3).
    pub entry_version: u16,
    /// Every address (core P2P, platform P2P, platform HTTPS).
    pub addresses: Vec<MasternodeAddress>,
}

/// The validated masternode list at the tip: the authenticated address book.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct MasternodeBook {
    /// Height of the list's block.
    pub height: u32,
    /// The list's block hash, display hex.
    pub block_hash: String,
    /// Its SML merkle root, display hex (the coinbase's `merkleRootMNList`).
    pub sml_root: String,
    /// Every masternode, ordered by ProRegTx hash (internal byte order, as Core orders them).
    pub entries: Vec<Masternode>,
}

impl From<&api::MasternodeBook> for MasternodeBook {
    fn from(b: &api::MasternodeBook) -> Self {
        MasternodeBook {
            height: b.height,
            block_hash: b.block_hash.to_display_hex(),
            sml_root: b.sml_root.to_display_hex(),
            entries: b
                .entries
                .iter()
                .map(|e| Masternode {
                    pro_reg_tx_hash: e.pro_reg_tx_hash.to_display_hex(),
                    mn_type: e.mn_type,
                    is_valid: e.is_valid,
                    confirmed_hash: e.confirmed_hash.to_display_hex(),
                    operator_public_key: e.operator_public_key.to_vec(),
                    legacy_operator_key: e.legacy_operator_key,
                    voting_key_id: e.voting_key_id.to_vec(),
                    platform_node_id: e.platform_node_id_display(),
                    entry_version: e.entry_version,
                    addresses: e
                        .addresses
                        .iter()
                        .map(|a| MasternodeAddress {
                            purpose: a.purpose,
                            kind: a.kind,
                            host: a.host.clone(),
                            port: a.port,
                            host_port: a.host_port(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The entries of the validated list at the tip changed.
#[derive(Debug, Clone, PartialEq, Eq, ::uniffi::Record)]
pub struct MasternodesChange {
    /// Height of the tip list.
    pub height: u32,
    /// Its block hash, display hex.
    pub block_hash: String,
    /// Its SML merkle root, display hex.
    pub sml_root: String,
    /// Entries in it.
    pub count: u32,
}

/// Receives "masternodes changed" (set with `QrSyncClient.setMasternodesListener`; a separate
/// interface so that existing `SyncListener` implementations stay valid). Called on the
/// library's `dqs-events` thread, in order with the `SyncListener` events.
#[::uniffi::export(with_foreign)]
pub trait MasternodesListener: Send + Sync {
    /// The entries of the validated list at the tip changed; read `QrSyncClient.masternodes`.
    fn on_masternodes_changed(&self, change: MasternodesChange);
}

/// Events from the client, implemented by the app. Called on the library's `dqs-events`
/// thread, one at a time, in order; may call back into the client (including `stop`).
#[::uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Progress.
    fn on_progress(&self, progress: Progress);
    /// A quorum passed every check (once per quorum).
    fn on_quorum(&self, quorum: Quorum);
    /// A ChainLock verified.
    fn on_chain_lock(&self, lock: ChainLock);
    /// State changed.
    fn on_state(&self, state: SyncState);
    /// An error (recoverable ones are informational).
    fn on_error(&self, error: ErrorEvent);
}

/// Blob persistence implemented by the app (Room/SQLite row, file, keychain…). Calls are never
/// concurrent. Keys are short ASCII names chosen by the library.
#[::uniffi::export(with_foreign)]
pub trait HostStore: Send + Sync {
    /// The blob under `key`, or null/nil.
    fn load(&self, key: String) -> Result<Option<Vec<u8>>, StoreFailure>;
    /// Saves (replaces) the blob under `key`; durable when it returns.
    fn save(&self, key: String, value: Vec<u8>) -> Result<(), StoreFailure>;
    /// Removes `key`.
    fn remove(&self, key: String) -> Result<(), StoreFailure>;
}

/// The host's optional masternodes listener, shared by the client handle and the bridge.
type MasternodesSlot = Arc<Mutex<Option<Arc<dyn MasternodesListener>>>>;

struct ListenerBridge(Arc<dyn SyncListener>, MasternodesSlot);

impl api::EventListener for ListenerBridge {
    fn on_progress(&self, p: &api::Progress) {
        self.0.on_progress(p.clone());
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.0.on_quorum(q.into());
    }
    fn on_chain_lock(&self, c: &api::ChainLockEvent) {
        self.0.on_chain_lock(ChainLock {
            height: c.height,
            block_hash: c.block_hash.to_display_hex(),
        });
    }
    fn on_state(&self, s: api::SyncState) {
        self.0.on_state(s);
    }
    fn on_error(&self, e: &crate::ClientError) {
        self.0.on_error(ErrorEvent {
            kind: e.kind,
            message: e.message.clone(),
            recoverable: e.recoverable,
        });
    }
    fn on_masternodes_changed(&self, m: &api::MasternodesChanged) {
        let l = self.1.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(l) = l {
            l.on_masternodes_changed(MasternodesChange {
                height: m.height,
                block_hash: m.block_hash.to_display_hex(),
                sml_root: m.sml_root.to_display_hex(),
                count: m.count,
            });
        }
    }
}

struct StoreBridge(Arc<dyn HostStore>);

impl Store for StoreBridge {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .load(key.to_string())
            .map_err(|e| StoreError(e.to_string()))
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0
            .save(key.to_string(), value.to_vec())
            .map_err(|e| StoreError(e.to_string()))
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.0
            .remove(key.to_string())
            .map_err(|e| StoreError(e.to_string()))
    }
}

/// Client configuration (mutable until passed to a client, which copies it). Every setter
/// that can fail checks with the Rust [`api::Config`] validation and leaves the configuration
/// unchanged on error; the message is the Rust one.
#[derive(Debug, ::uniffi::Object)]
pub struct ClientConfig {
    inner: Mutex<api::Config>,
}

fn arg(message: impl Into<String>) -> QrSyncError {
    QrSyncError::InvalidArgument {
        reason: message.into(),
    }
}

#[::uniffi::export]
impl ClientConfig {
    /// Defaults for `network`: no peers yet, 3 peers, 10 s connect and 20 s request timeouts,
    /// following the tip, starting at the newest built-in checkpoint.
    #[uniffi::constructor]
    pub fn new(network: Network) -> Arc<Self> {
        Arc::new(ClientConfig {
            inner: Mutex::new(api::Config::new(network)),
        })
    }

    /// The network (changed by `setDashConf`).
    pub fn network(&self) -> Network {
        self.lock().network()
    }

    /// Checks the whole configuration as creating a client does; `InvalidConfig` names the
    /// first problem.
    pub fn validate(&self) -> Result<(), QrSyncError> {
        Ok(self.lock().validate()?)
    }

    /// Adds a peer, "IP:port".
    pub fn add_peer(&self, address: String) -> Result<(), QrSyncError> {
        Ok(config_ops::add_peer(&mut self.lock(), &address)?)
    }

    /// Uses the network's DNS seeds for peers too.
    pub fn set_dns_seeds(&self, enabled: bool) {
        self.lock().use_dns_seeds = enabled;
    }

    /// Sets one chain parameter with Dash Core's option name and syntax, e.g.
    /// `setChainParam("testactivationheight", "v20@100")` (`docs/CONFORMANCE.md` lists them).
    /// An unknown option or a bad value is an `InvalidConfig` error naming the option.
    pub fn set_chain_param(&self, key: String, value: String) -> Result<(), QrSyncError> {
        Ok(self.lock().set_chain_param(&key, &value)?)
    }

    /// Takes the network and chain parameters from the text of a Dash Core `dash.conf`
    /// (sections and all; keys that do not concern a light client are ignored).
    pub fn set_dash_conf(&self, text: String) -> Result<(), QrSyncError> {
        Ok(config_ops::set_dash_conf(&mut self.lock(), &text)?)
    }

    /// Sets which quorums are validated (all by default; the wallet profile needs one round
    /// trip after headers on a cold start).
    pub fn set_profile(&self, profile: SyncProfile) {
        self.lock().profile = profile;
    }

    /// Sets the connect and per-request timeouts in milliseconds (both positive).
    pub fn set_timeouts(&self, connect_ms: u32, request_ms: u32) -> Result<(), QrSyncError> {
        Ok(config_ops::set_timeouts(
            &mut self.lock(),
            connect_ms,
            request_ms,
        )?)
    }

    /// Peers kept connected (1–16).
    pub fn set_max_peers(&self, max_peers: u32) -> Result<(), QrSyncError> {
        Ok(config_ops::set_max_peers(&mut self.lock(), max_peers)?)
    }

    /// The protocol version advertised to peers (default: the newest the library speaks; not
    /// below the lowest version that can sync lists).
    pub fn set_protocol_version(&self, version: u32) -> Result<(), QrSyncError> {
        Ok(config_ops::set_protocol_version(&mut self.lock(), version)?)
    }

    /// Keep following the tip after the first sync (default true).
    pub fn set_follow_tip(&self, follow: bool) {
        self.lock().follow_tip = follow;
    }

    /// Starts the header chain at the newest built-in checkpoint at or below the wallet birth
    /// height (mainnet and testnet); an error when the height is below the oldest built-in
    /// checkpoint or the network has none.
    pub fn set_birth_height(&self, birth_height: u32) -> Result<(), QrSyncError> {
        self.set_start(api::StartPoint::BirthHeight(birth_height))
    }

    /// Starts the header chain at the newest built-in checkpoint whose block time is at least a
    /// day before the wallet birth time (Unix seconds); an error when none is that old.
    pub fn set_birth_time(&self, birth_time: u64) -> Result<(), QrSyncError> {
        self.set_start(api::StartPoint::BirthTime(birth_time))
    }

    /// Starts the header chain at the newest built-in checkpoint (the default; genesis on
    /// networks without built-in checkpoints).
    pub fn set_start_newest(&self) {
        let mut c = self.lock();
        c.checkpoint = None;
        c.start = api::StartPoint::Newest;
    }

    /// Starts the header chain at genesis (every header is downloaded).
    pub fn set_start_genesis(&self) {
        let mut c = self.lock();
        c.checkpoint = None;
        c.start = api::StartPoint::Genesis;
    }

    /// Starts the header chain at a header the host trusts: its height, the 80-byte header and
    /// the 32-byte block hash claimed for it (internal byte order). An error when the header's
    /// X11 hash differs, its proof of work is invalid, or it contradicts a known checkpoint.
    pub fn set_start_header(
        &self,
        height: u32,
        header: Vec<u8>,
        hash: Vec<u8>,
    ) -> Result<(), QrSyncError> {
        let header = config_ops::header_from(&header)?;
        let hash = config_ops::hash_from(&hash)?;
        self.set_start(api::StartPoint::Header {
            height,
            header,
            hash,
        })
    }

    /// Starts the header chain at a trusted checkpoint: its height and 80-byte header (the hash
    /// trusted is the header's own). An error when its proof of work is invalid or it
    /// contradicts a known checkpoint; takes precedence over the other starts until one of
    /// them is set.
    pub fn set_checkpoint(&self, height: u32, header: Vec<u8>) -> Result<(), QrSyncError> {
        Ok(config_ops::set_checkpoint(
            &mut self.lock(),
            height,
            &header,
        )?)
    }

    /// Adds a hash-only checkpoint the header chain must pass through: a height and its
    /// 32-byte hash in internal byte order (reverse what Core's `getblockhash` prints). The
    /// headers are still downloaded from the start, pinned to this hash, and fetched between
    /// trusted hashes from several peers at once. An error when it contradicts a checkpoint
    /// known at that height or one added before (the configuration is then unchanged).
    pub fn add_checkpoint_hash(&self, height: u32, hash: Vec<u8>) -> Result<(), QrSyncError> {
        Ok(config_ops::add_checkpoint_hash(
            &mut self.lock(),
            height,
            &hash,
        )?)
    }

    /// The height the header sync will start from (the chosen built-in checkpoint, the host's
    /// header, or 0 for genesis); an error when the configured start is invalid.
    pub fn start_height(&self) -> Result<u32, QrSyncError> {
        Ok(self.lock().resolve_start()?.start_height())
    }
}

impl ClientConfig {
    fn lock(&self) -> std::sync::MutexGuard<'_, api::Config> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_start(&self, start: api::StartPoint) -> Result<(), QrSyncError> {
        Ok(config_ops::set_start(&mut self.lock(), start)?)
    }
}

/// The light client.
#[derive(::uniffi::Object)]
pub struct QrSyncClient {
    inner: crate::Client,
    masternodes_listener: MasternodesSlot,
}

impl std::fmt::Debug for QrSyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrSyncClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[::uniffi::export]
impl QrSyncClient {
    /// Creates a client. `store` may be null/nil (state kept in memory only).
    #[uniffi::constructor]
    pub fn new(
        config: Arc<ClientConfig>,
        store: Option<Arc<dyn HostStore>>,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<Self>, QrSyncError> {
        let cfg = config.lock().clone();
        let store: Arc<dyn Store> = match store {
            Some(s) => Arc::new(StoreBridge(s)),
            None => Arc::new(MemoryStore::new()),
        };
        let slot = MasternodesSlot::default();
        let inner =
            crate::Client::new(cfg, store, Arc::new(ListenerBridge(listener, slot.clone())))?;
        Ok(Arc::new(QrSyncClient {
            inner,
            masternodes_listener: slot,
        }))
    }

    /// Starts syncing in the background; returns at once.
    pub fn start(&self) -> Result<(), QrSyncError> {
        Ok(self.inner.start()?)
    }

    /// Stops every task and connection (bounded time); safe inside a callback.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Status snapshot.
    pub fn status(&self) -> Status {
        self.inner.status()
    }

    /// The block hash (display hex) of the header chain at `height`, null/nil when the chain
    /// does not reach it.
    pub fn block_hash(&self, height: u32) -> Option<String> {
        self.inner.block_hash(height).map(|h| h.to_display_hex())
    }

    /// A validated quorum by type and hash (display hex).
    pub fn quorum(
        &self,
        llmq_type: u8,
        quorum_hash: String,
    ) -> Result<Option<Quorum>, QrSyncError> {
        let h = Hash256::from_display_hex(&quorum_hash)
            .map_err(|_| arg(format!("{quorum_hash:?} is not a 32-byte hex hash")))?;
        Ok(self.inner.quorum(llmq_type, &h).as_ref().map(Quorum::from))
    }

    /// Validated quorums of a type, newest first.
    pub fn quorums(&self, llmq_type: u8) -> Vec<Quorum> {
        self.inner
            .quorums(llmq_type)
            .iter()
            .map(Quorum::from)
            .collect()
    }

    /// The authenticated masternode address book: the validated list at the tip, null/nil
    /// before the first list is validated.
    pub fn masternodes(&self) -> Option<MasternodeBook> {
        self.inner.masternodes().as_ref().map(MasternodeBook::from)
    }

    /// Sets (or, with null/nil, removes) the listener told when the tip list's entries change.
    /// Changes reported before it is set are not replayed: read `masternodes` after setting it.
    pub fn set_masternodes_listener(&self, listener: Option<Arc<dyn MasternodesListener>>) {
        *self
            .masternodes_listener
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = listener;
    }

    /// Verifies a serialized `clsig` payload.
    pub fn verify_clsig(&self, payload: Vec<u8>) -> Result<LockResult, QrSyncError> {
        Ok(lock_result(self.inner.verify_clsig(&payload)?))
    }

    /// Verifies a serialized `isdlock` payload.
    pub fn verify_islock(&self, payload: Vec<u8>) -> Result<LockResult, QrSyncError> {
        Ok(lock_result(self.inner.verify_islock(&payload)?))
    }
}

fn lock_result(s: api::LockStatus) -> LockResult {
    match s {
        api::LockStatus::Valid {
            llmq_type,
            quorum_hash,
        } => LockResult::Valid {
            llmq_type,
            quorum_hash: quorum_hash.to_display_hex(),
        },
        api::LockStatus::Invalid(reason) => LockResult::Invalid { reason },
        api::LockStatus::Unknown(reason) => LockResult::Unknown { reason },
    }
}

/// The built-in simulated Dash network (regtest preset) served on 127.0.0.1, for offline app
/// tests: a projection of `simnet::LocalSimnet`. Needs a library built with the `simnet`
/// feature; without it the constructor fails with `NotAvailable`.
#[derive(::uniffi::Object)]
pub struct Simnet {
    #[cfg(feature = "simnet")]
    inner: Mutex<crate::simnet::LocalSimnet>,
    address: String,
}

impl std::fmt::Debug for Simnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simnet")
            .field("address", &self.address)
            .finish()
    }
}

#[cfg(feature = "simnet")]
impl Simnet {
    fn with<T>(&self, f: impl FnOnce(&mut crate::simnet::LocalSimnet) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[::uniffi::export]
impl Simnet {
    /// Generates the regtest preset from `seed` and starts serving it.
    #[uniffi::constructor]
    pub fn start(seed: u64) -> Result<Arc<Self>, QrSyncError> {
        #[cfg(feature = "simnet")]
        {
            let net = crate::simnet::LocalSimnet::start(seed)
                .map_err(|reason| QrSyncError::Internal { reason })?;
            Ok(Arc::new(Simnet {
                address: net.addr().to_string(),
                inner: Mutex::new(net),
            }))
        }
        #[cfg(not(feature = "simnet"))]
        {
            let _ = seed;
            Err(QrSyncError::NotAvailable {
                reason: "this library was built without the `simnet` feature".into(),
            })
        }
    }

    /// "127.0.0.1:port" to add as a peer.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// Mines `blocks` more blocks (announced to connected clients).
    pub fn mine(&self, blocks: u32) {
        #[cfg(feature = "simnet")]
        self.with(|n| n.mine(blocks));
        #[cfg(not(feature = "simnet"))]
        let _ = blocks;
    }

    /// From now on serves every masternode list entry with entry version `version` to new
    /// connections, as a peer running a future Dash Core would (null/nil: as they are). With a
    /// version newer than the library reads (4 and above), a client reports
    /// `ErrorKind.UNSUPPORTED_PROTOCOL` without banning the peer and, with no other peer, stops
    /// in `SyncState.UPDATE_REQUIRED`.
    pub fn serve_entry_version(&self, version: Option<u16>) {
        #[cfg(feature = "simnet")]
        self.with(|n| n.serve_entry_version(version));
        #[cfg(not(feature = "simnet"))]
        let _ = version;
    }

    /// Height of the tip.
    pub fn tip_height(&self) -> u32 {
        #[cfg(feature = "simnet")]
        {
            self.with(|n| n.tip_height())
        }
        #[cfg(not(feature = "simnet"))]
        0
    }

    /// The network's ChainLock for the block at `height`, serialized as a `clsig` payload (what
    /// `verifyClsig` takes); null/nil when that block is not locked.
    pub fn clsig(&self, height: u32) -> Option<Vec<u8>> {
        #[cfg(feature = "simnet")]
        {
            self.with(|n| n.clsig(height))
        }
        #[cfg(not(feature = "simnet"))]
        {
            let _ = height;
            None
        }
    }

    /// The network's newest InstantSend lock, serialized as an `isdlock` payload (what
    /// `verifyIslock` takes); null/nil before the first one.
    pub fn latest_islock(&self) -> Option<Vec<u8>> {
        #[cfg(feature = "simnet")]
        {
            self.with(|n| n.latest_islock())
        }
        #[cfg(not(feature = "simnet"))]
        None
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        #[cfg(feature = "simnet")]
        self.with(|n| n.shutdown());
    }
}
