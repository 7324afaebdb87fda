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
/// use std::time::Duration;
///
/// let net = LocalSimnet::start(7).expect("simulated network");
/// let mut config = Config::new(Network::Regtest);
/// config.peers.push(net.addr());
/// let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
/// client.start()?;
/// let status = client.wait_for_state(SyncState::Synced, Duration::from_secs(120))?;
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
    /// Closes the host's store first — no store call begins once the drop has begun (a save's
    /// second write, or a new save while the client stops), and the drop waits for a call in
    /// progress — then stops. On every surface (Rust, C `dqs_client_free`, the UniFFI
    /// objects' release), so the host may free its store once the client is gone.
    fn drop(&mut self) {
        self.shared.close_store();
        self.shared.request_stop();
        self.runtime.stop(Duration::from_secs(3));
        self.shared.close_events();
    }
}

/// Waiting for a state, blocking or async, with a timeout.
impl Client {
    /// Blocks until the client is in `state` (checked at once, then at every change) and
    /// returns a status snapshot taken then. Fails after `timeout` (the client keeps going:
    /// `recoverable`), or when the client stops before reaching `state` (waiting for
    /// [`SyncState::Stopped`] is allowed; a client restarted after a stop is `Stopped` until
    /// its sync task begins, so wait for an event or a status first there). May be called from
    /// any thread; inside a listener callback it holds up the later events until it returns.
    ///
    /// ```
    /// # #[cfg(feature = "simnet")] {
    /// use dash_qrsync::simnet::LocalSimnet;
    /// use dash_qrsync::{Client, Config, MemoryStore, Network, NoopListener, SyncState};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let net = LocalSimnet::start(5).expect("simulated network");
    /// let mut config = Config::new(Network::Regtest);
    /// config.peers.push(net.addr());
    /// let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
    /// // Not started: it never gets there, and says so after the timeout.
    /// let e = client.wait_for_state(SyncState::Synced, Duration::from_millis(10)).unwrap_err();
    /// assert!(e.recoverable && e.message.contains("not Synced within"), "{e}");
    /// client.start()?;
    /// let status = client.wait_for_state(SyncState::Synced, Duration::from_secs(120))?;
    /// assert_eq!(status.header_height, net.tip_height());
    /// client.stop();
    /// # }
    /// # Ok::<(), dash_qrsync::ClientError>(())
    /// ```
    pub fn wait_for_state(
        &self,
        state: SyncState,
        timeout: Duration,
    ) -> Result<Status, ClientError> {
        block_on(self.wait_for_state_async(state, timeout))
    }

    /// [`Client::wait_for_state`] as a future. It runs on any executor (it needs no tokio
    /// runtime of the caller's; the timeout is kept by a helper thread that ends with the
    /// future).
    ///
    /// ```
    /// # #[cfg(feature = "simnet")] {
    /// # use dash_qrsync::simnet::LocalSimnet;
    /// # use dash_qrsync::{Client, Config, MemoryStore, Network, NoopListener, SyncState};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # let net = LocalSimnet::start(6).expect("simulated network");
    /// # let mut config = Config::new(Network::Regtest);
    /// # config.peers.push(net.addr());
    /// let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
    /// client.start()?;
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let status = rt.block_on(client.wait_for_state_async(SyncState::Synced, Duration::from_secs(120)))?;
    /// assert!(status.quorums_validated > 0);
    /// client.stop();
    /// # }
    /// # Ok::<(), dash_qrsync::ClientError>(())
    /// ```
    pub async fn wait_for_state_async(
        &self,
        state: SyncState,
        timeout: Duration,
    ) -> Result<Status, ClientError> {
        let mut rx = self.shared.watch_state();
        // The deadline: a helper thread fires `expired` at the deadline, or ends at once when
        // this future ends (its sender `_alive` dropped).
        let (expired_tx, mut expired) = tokio::sync::oneshot::channel::<()>();
        let (_alive, alive_rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("dqs-wait".into())
            .spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    alive_rx.recv_timeout(timeout)
                {
                    let _ = expired_tx.send(());
                }
            })
            .map_err(|e| ClientError::new(ErrorKind::Internal, e.to_string(), false))?;
        loop {
            let now = *rx.borrow_and_update();
            if now == state {
                return Ok(self.status());
            }
            if now == SyncState::Stopped {
                return Err(ClientError::new(
                    ErrorKind::Network,
                    format!(
                        "the client stopped before it was {state:?} (see its error events); \
                         status {:?}",
                        self.status()
                    ),
                    false,
                ));
            }
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        return Err(ClientError::new(ErrorKind::Internal, "client state closed", false));
                    }
                }
                _ = &mut expired => {
                    let s = self.status();
                    return Err(ClientError::new(
                        ErrorKind::Network,
                        format!(
                            "not {state:?} within {:.1} s (state {:?}, header height {}, {} quorums, \
                             {} peers)",
                            timeout.as_secs_f64(),
                            s.state,
                            s.header_height,
                            s.quorums_validated,
                            s.peers
                        ),
                        true,
                    ));
                }
            }
        }
    }
}

/// Runs a future to completion on the calling thread (parks between wake-ups).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
