//! The one Rust API of the library: [`Client`], [`Config`], events and errors. The C ABI and the
//! UniFFI bindings are thin translations of this module.
//!
//! A client owns a private tokio runtime. [`Client::start`] returns at once; the sync runs in the
//! background and reports through an [`EventListener`], whose callbacks run in order on one
//! library thread (`dqs-events`) with no lock held. A slow listener is buffered, never awaited.
//! [`Client::stop`] ends every task and connection within a bounded time and may be called from
//! any thread, including from inside a callback; so may dropping the client.

use crate::api::{
    ClientError, Config, ErrorKind, EventListener, LockStatus, MasternodeBook, QuorumInfo, Status,
    Store, SyncState,
};
use crate::chain::HeaderIndex;
use crate::hashes::Hash256;
use crate::runtime::Runtime;
use crate::sync::{self, Shared};
use crate::wire::locks::{ClSig, IsDLock};
use crate::wire::Decode;
use std::sync::Arc;
use std::time::Duration;

/// The light client: syncs headers, masternode lists and quorums from Dash peers, validating
/// everything, and answers quorum lookups and lock verifications from what it validated.
///
/// Create it with [`Client::new`] from a [`Config`], a [`Store`] (the host's persistence) and
/// an [`EventListener`]; [`Client::start`] returns at once and the sync runs in the background
/// on the client's own runtime. Every method may be called from any thread, including from
/// inside a listener callback; dropping the client stops it.
///
/// # Example
///
/// A complete sync of the built-in simulated network (feature `simnet`), then a ChainLock of
/// that network verified:
///
/// ```
/// # #[cfg(feature = "simnet")] {
/// use dash_qrsync::simnet::LocalSimnet;
/// use dash_qrsync::{Client, Config, LockStatus, MemoryStore, Network, NoopListener, SyncState};
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
///
/// let net = LocalSimnet::start(7).expect("simulated network");
/// let mut config = Config::new(Network::Regtest);
/// config.peers.push(net.addr());
/// let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
/// client.start()?;
/// let deadline = Instant::now() + Duration::from_secs(120);
/// while client.status().state != SyncState::Synced {
///     assert!(Instant::now() < deadline, "not synced: {:?}", client.status());
///     std::thread::sleep(Duration::from_millis(50));
/// }
/// let status = client.status();
/// assert_eq!(status.header_height, net.tip_height());
/// assert!(status.quorums_validated > 0);
/// let clsig = net.clsig(net.tip_height()).expect("the tip is chainlocked");
/// assert!(matches!(client.verify_clsig(&clsig)?, LockStatus::Valid { .. }));
/// client.stop();
/// # }
/// # Ok::<(), dash_qrsync::ClientError>(())
/// ```
pub struct Client {
    shared: Arc<Shared>,
    runtime: Runtime,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("status", &self.status())
            .finish()
    }
}

impl Client {
    /// Creates a client. Nothing runs until [`Client::start`]. Stored state is loaded at start.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        listener: Arc<dyn EventListener>,
    ) -> Result<Client, ClientError> {
        config.validate()?;
        Ok(Client {
            shared: Shared::new(config, store, listener),
            runtime: Runtime::new(),
        })
    }

    /// Starts syncing in the background and returns at once. Starting a running client is a
    /// no-op; a stopped client can be started again.
    pub fn start(&self) -> Result<(), ClientError> {
        let shared = self.shared.clone();
        self.runtime
            .start(move |handle| sync::spawn(shared, handle))
            .map_err(|e| ClientError::new(ErrorKind::Internal, e, false))
    }

    /// Stops every task and connection. Returns within a bounded time (a few seconds at most),
    /// from any thread, including inside a callback.
    pub fn stop(&self) {
        self.shared.request_stop();
        self.runtime.stop(Duration::from_secs(3));
        self.shared.set_state(SyncState::Stopped);
    }

    /// Current status.
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// Counters at the start of the first masternode-list phase (headers synced), for the
    /// benchmark's "after headers" figures.
    #[doc(hidden)]
    pub fn list_phase(&self) -> Option<crate::api::PhaseMark> {
        self.shared.list_phase()
    }

    /// A validated quorum by type and hash.
    pub fn quorum(&self, llmq_type: u8, quorum_hash: &Hash256) -> Option<QuorumInfo> {
        self.shared.with_state(|s| {
            s.engine
                .quorum(llmq_type, quorum_hash)
                .map(|q| q.info.clone())
        })
    }

    /// Every validated quorum of a type, newest first.
    pub fn quorums(&self, llmq_type: u8) -> Vec<QuorumInfo> {
        self.shared.with_state(|s| {
            let mut v: Vec<QuorumInfo> = s
                .engine
                .quorums_of_type(llmq_type)
                .into_iter()
                .map(|q| q.info.clone())
                .collect();
            v.sort_by(|a, b| b.height.cmp(&a.height).then(a.index.cmp(&b.index)));
            v
        })
    }

    /// The authenticated masternode address book: every entry of the validated masternode list
    /// at the tip (type, validity, keys, every address of its network information). None
    /// before the first list is validated. As trustworthy as the quorums: the list's SML root
    /// is the coinbase's `merkleRootMNList`, proven against the header chain.
    pub fn masternodes(&self) -> Option<MasternodeBook> {
        self.shared
            .with_state(|s| s.engine.tip_list().map(|l| MasternodeBook::from_list(l)))
    }

    /// Verifies a serialized `clsig` payload against the validated quorums.
    pub fn verify_clsig(&self, payload: &[u8]) -> Result<LockStatus, ClientError> {
        let p = self.shared.config.protocol_version;
        let cl = ClSig::from_bytes(payload, p).map_err(|e| {
            ClientError::new(
                ErrorKind::InvalidArgument,
                format!("not a clsig: {e}"),
                false,
            )
        })?;
        Ok(self
            .shared
            .with_state(|s| s.engine.verify_clsig(&cl, &s.headers))
            .into())
    }

    /// Verifies a serialized `isdlock` payload against the validated quorums.
    pub fn verify_islock(&self, payload: &[u8]) -> Result<LockStatus, ClientError> {
        let p = self.shared.config.protocol_version;
        let lock = IsDLock::from_bytes(payload, p).map_err(|e| {
            ClientError::new(
                ErrorKind::InvalidArgument,
                format!("not an isdlock: {e}"),
                false,
            )
        })?;
        Ok(self
            .shared
            .with_state(|s| {
                let tip = s.headers.tip().0;
                s.engine.verify_islock(&lock, &s.headers, tip)
            })
            .into())
    }

    /// The header chain's block hash at a height (for hosts that want to show it).
    pub fn block_hash(&self, height: u32) -> Option<Hash256> {
        self.shared.with_state(|s| s.headers.hash_at(height))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.request_stop();
        self.runtime.stop(Duration::from_secs(3));
        self.shared.close_events();
    }
}
