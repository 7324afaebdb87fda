//! # dash-qrsync
//!
//! Fast, fully validated Dash masternode-list and LLMQ quorum sync for mobile wallets: the
//! quorums a wallet needs to verify InstantSend locks and ChainLocks, learned from peers with
//! one `getqrinfo` and a predicted wave of `getmnlistd`, every answer checked (X11 and proof of
//! work of each header, merkle roots of every list, BLS signatures of every quorum).
//!
//! ## Quick start
//!
//! A [`Client`] is made from a [`Config`], a [`Store`] (the host owns persistence: the library
//! hands it bytes and asks for them back) and an [`EventListener`]. [`Client::start`] returns
//! at once; the sync runs on the client's private runtime and reports through the listener.
//!
//! A wallet on mainnet configures peers (or DNS seeds) and where to start, here the newest
//! built-in checkpoint at or below its birth height:
//!
//! ```
//! use dash_qrsync::{Config, Network};
//!
//! let mut config = Config::new(Network::Mainnet);
//! config.use_dns_seeds = true; // or config.peers.push("203.0.113.7:9999".parse()?)
//! config.start_at_birth_height(2_200_000);
//! let start = config.resolve_start()?;
//! assert!(start.start_height() <= 2_200_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Then the client syncs and answers. This runs against the built-in simulated network (feature
//! `simnet`, on loopback), exactly as it would against mainnet peers:
//!
//! ```
//! # #[cfg(feature = "simnet")] {
//! use dash_qrsync::{Client, Config, MemoryStore, Network, NoopListener, SyncState};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let net = dash_qrsync::simnet::LocalSimnet::start(3).expect("simulated network");
//! let mut config = Config::new(Network::Regtest);
//! config.peers.push(net.addr());
//! let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
//! client.start()?;
//! // Blocks until synced (an error after the timeout); `wait_for_state_async` in async code.
//! client.wait_for_state(SyncState::Synced, Duration::from_secs(120))?;
//! for q in client.quorums(100 /* llmq_test */) {
//!     println!("quorum {} at height {}", q.quorum_hash, q.height);
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Client`] has a further example: verifying a ChainLock.
//!
//! ## What is public
//!
//! The API is the crate root: [`Client`], the types of [`api`] re-exported here, [`network`]
//! (networks and Dash Core's chain parameters), [`Hash256`], [`store`] (the host-persistence
//! trait and two stores), [`logging`]. The C ABI (`include/dash_qrsync.h`) and the UniFFI
//! bindings (Kotlin, Swift) are projections of exactly this API.
//!
//! The modules below it are public only so that the project's own CLI, tests, benchmarks and
//! fuzzers can reach them; they are hidden from the documentation and not covered by semantic
//! versioning. Layers, from the pure core outwards (dependencies point inward;
//! `docs/ARCHITECTURE.md` is the map):
//! - `hashes`, `network`: primitives and network parameters.
//! - `persist`: the storage envelope of every blob the host keeps (pure).
//! - `wire`: P2P framing and message codecs (pure).
//! - `chain`: block headers, X11, proof of work, checkpoints, the header chain (pure).
//! - `sml`: simplified masternode lists, diff application, merkle roots, CbTx proofs (pure).
//! - `quorum`: LLMQ parameters, member selection, commitments and BLS (pure).
//! - `engine`: the masternode list engine (pure).
//! - `api`: the client API's vocabulary (config, events, errors, status), plain values.
//! - `net`, `sync`, `store`, `runtime` (crate-private except `store`): peers, the orchestrator,
//!   host persistence and the private tokio runtime.
//! - [`Client`]: the façade that drives the sync.
//! - `c_api`: the C ABI; `bindings`: the UniFFI exports — both thin translations of the above.
//! - [`simnet`] (feature `simnet`, documented for its [`simnet::LocalSimnet`]): the simulated
//!   Dash network used by the examples, tests, the demo and benches.
#![deny(missing_docs)]

::uniffi::setup_scaffolding!("dash_qrsync");

pub mod api;
#[doc(hidden)]
pub mod bindings;
#[doc(hidden)]
pub mod chain;
mod client;
#[doc(hidden)]
pub mod engine;
pub mod hashes;
pub mod logging;
pub(crate) mod net;
pub mod network;
#[doc(hidden)]
pub mod persist;
#[doc(hidden)]
pub mod quorum;
pub(crate) mod runtime;
#[doc(hidden)]
pub mod sml;
pub mod store;
pub(crate) mod sync;
/// The parallel header ranges' memory bound and the most headers they held (for tests).
#[doc(hidden)]
pub use sync::{
    range_headers_held_peak, tail_headers_beside_ranges, RANGE_HELD_ANSWERS, TAIL_HELD_ANSWERS,
};
#[doc(hidden)]
pub mod wire;

/// The built-in simulated Dash network, for trying the client without a Dash node (examples,
/// tests, the demo). **Needs the `simnet` feature** (`dash-qrsync = { version = "…", features
/// = ["simnet"] }`); not for app builds. [`simnet::LocalSimnet`] is the handle the examples
/// use.
#[cfg(feature = "simnet")]
pub mod simnet;

#[doc(hidden)]
pub mod c_api;

pub use api::{
    AddressKind, AddressPurpose, BlockHeader, ChainLockEvent, Checkpoint, ClientError, Config,
    ErrorKind, EventListener, LockFailureReason, LockStatus, MasternodeAddress, MasternodeBook,
    MasternodeEntry, MasternodeType, MasternodesChanged, NoopListener, Progress, QuorumInfo,
    ResolvedStart, StartPoint, Status, SyncProfile, SyncState, SyncStrategy,
};
pub use client::Client;
pub use hashes::Hash256;
pub use network::{ChainParams, Network};
pub use store::{MemoryStore, Store, StoreError};

/// The library version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
