//! # dash-qrsync
//!
//! Fast, fully validated Dash masternode-list and LLMQ quorum sync for mobile wallets.
//!
//! Layers, from the pure core outwards (dependencies point inward):
//! - [`hashes`], [`network`]: primitives and network parameters.
//! - [`persist`]: the storage envelope of every blob the host keeps (pure).
//! - [`wire`]: P2P framing and message codecs (pure).
//! - [`chain`]: block headers, X11, proof of work, checkpoints, the header chain (pure).
//! - [`sml`]: simplified masternode lists, diff application, merkle roots, CbTx proofs (pure).
//! - [`quorum`]: LLMQ parameters, member selection, commitments and BLS (pure).
//! - [`engine`]: the masternode list engine (pure).
//! - `simnet` (feature `simnet`): the simulated Dash network used by tests, the demo and benches.
//! - [`net`], [`sync`], [`store`], [`runtime`]: peers, the orchestrator, host persistence and
//!   the private tokio runtime.
//! - [`api`]: [`Client`], the one Rust API the FFI layers wrap.
//! - `c_api`: the C ABI (thin); [`bindings`]: the UniFFI exports (thin).
#![deny(missing_docs)]

::uniffi::setup_scaffolding!("dash_qrsync");

pub mod api;
pub mod bindings;
pub mod chain;
pub mod engine;
pub mod hashes;
pub mod logging;
pub mod net;
pub mod network;
pub mod persist;
pub mod quorum;
pub mod runtime;
pub mod sml;
pub mod store;
pub mod sync;
pub mod wire;

#[cfg(feature = "simnet")]
pub mod simnet;

pub mod c_api;

pub use api::{Client, ClientError, Config, EventListener, SyncProfile, SyncState, SyncStrategy};
pub use hashes::Hash256;
pub use network::Network;

/// The library version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
