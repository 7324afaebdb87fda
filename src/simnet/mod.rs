//! The built-in simulated Dash network (feature `simnet`): a deterministic chain generator with
//! real headers, masternodes, quorums and BLS signatures, and a P2P server on loopback that
//! speaks the real protocol. For examples, tests, the demo and benchmarks; not for app builds.
//!
//! Available with the crate's **`simnet` feature**. The documented entry point is
//! [`LocalSimnet`](crate::simnet::LocalSimnet): a network on loopback in one call, whose
//! address goes into [`crate::Config::peers`] of a [`crate::Network::Regtest`] client:
//!
//! ```
//! use dash_qrsync::simnet::LocalSimnet;
//! use dash_qrsync::{Client, Config, MemoryStore, Network, NoopListener, SyncState};
//! use std::{sync::Arc, time::Duration};
//!
//! let net = LocalSimnet::start(1).expect("simulated network");
//! let mut config = Config::new(Network::Regtest);
//! config.peers.push(net.addr());
//! let client = Client::new(config, Arc::new(MemoryStore::new()), Arc::new(NoopListener))?;
//! client.start()?;
//! client.wait_for_state(SyncState::Synced, Duration::from_secs(120))?;
//! assert_eq!(client.status().header_height, net.tip_height());
//! # Ok::<(), dash_qrsync::ClientError>(())
//! ```
//!
//! The other modules (generator, server, benchmark) serve the project's own tests and tools
//! and are hidden from the documentation.

#[doc(hidden)]
pub mod bench;
#[doc(hidden)]
pub mod fork;
#[doc(hidden)]
pub mod gen;
pub mod local;
#[doc(hidden)]
pub mod rng;
#[doc(hidden)]
pub mod serve;
#[doc(hidden)]
pub mod server;
#[doc(hidden)]
pub mod service;

#[doc(hidden)]
pub use fork::SwitchableService;
#[doc(hidden)]
pub use gen::{BadSigKind, BadSignature, Churn, SimBlock, SimChain, SimConfig};
pub use local::LocalSimnet;
#[doc(hidden)]
pub use serve::SimNode;
#[doc(hidden)]
pub use service::SimService;
