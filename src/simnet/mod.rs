//! The built-in simulated Dash network (feature `simnet`): a deterministic chain generator with
//! real headers, masternodes, quorums and BLS signatures, and a P2P server on loopback that
//! speaks the real protocol. For tests, the demo and benchmarks; not for app builds.

pub mod bench;
pub mod fork;
pub mod gen;
pub mod local;
pub mod rng;
pub mod serve;
pub mod server;
pub mod service;

pub use fork::SwitchableService;
pub use gen::{BadSigKind, BadSignature, Churn, SimBlock, SimChain, SimConfig};
pub use local::LocalSimnet;
pub use serve::SimNode;
pub use service::SimService;
