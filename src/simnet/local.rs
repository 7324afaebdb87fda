//! A blocking handle on a simulated network served on 127.0.0.1, for hosts without an async
//! runtime: the C ABI (`dqs_simnet_*`) and the bindings (`Simnet`) are projections of it.
//!
//! It owns a one-thread tokio runtime for the server, generates the regtest preset from a seed,
//! and hands out the network's own lock messages (serialized as peers send them) so that an
//! app can check lock verification end to end without Dash Core.

use super::server::{ServerConfig, SimServer};
use super::{SimConfig, SimNode, SimService};
use crate::wire::Encode;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running simulated network. Dropping it stops the server.
pub struct LocalSimnet {
    rt: tokio::runtime::Runtime,
    node: Arc<SimNode>,
    server: Option<SimServer>,
    addr: SocketAddr,
}

impl std::fmt::Debug for LocalSimnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSimnet")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LocalSimnet {
    /// Generates the regtest preset from `seed` and serves it on an ephemeral loopback port.
    /// The error names what failed (runtime or listener).
    pub fn start(seed: u64) -> Result<LocalSimnet, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dqs-simnet")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the simulator's runtime: {e}"))?;
        let node = Arc::new(SimNode::new(SimConfig::regtest(seed)));
        let server = rt
            .block_on(SimServer::start(node.clone(), ServerConfig::default()))
            .map_err(|e| format!("cannot listen: {e}"))?;
        let addr = server.addr();
        Ok(LocalSimnet {
            rt,
            node,
            server: Some(server),
            addr,
        })
    }

    /// The address to add as a peer (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Height of the simulated chain's tip.
    pub fn tip_height(&self) -> u32 {
        self.node.tip_height()
    }

    /// Mines `blocks` more blocks (announced to connected clients).
    pub fn mine(&self, blocks: u32) {
        self.node.mine(blocks);
    }

    /// The network's ChainLock for the block at `height`, serialized as a `clsig` payload
    /// (`None` when that block is not locked or does not exist).
    pub fn clsig(&self, height: u32) -> Option<Vec<u8>> {
        let p = crate::wire::version::OUR_PROTOCOL_VERSION;
        self.node.clsig(height).map(|c| c.to_bytes(p))
    }

    /// The network's newest InstantSend lock, serialized as an `isdlock` payload (`None` before
    /// the first one). It is signed by a quorum of the current cycle, so a client synced to the
    /// tip verifies it.
    pub fn latest_islock(&self) -> Option<Vec<u8>> {
        let p = crate::wire::version::OUR_PROTOCOL_VERSION;
        self.node
            .with_chain(|c| c.islocks().last().map(|(_, l)| l.to_bytes(p)))
    }

    /// From now on, serves every masternode list entry with entry version `version` (to new
    /// connections), as a peer running a future Dash Core would; `None` serves them as they
    /// are. With a version newer than the library knows, a client reports
    /// `ErrorKind::UnsupportedProtocol` without penalising the peer and, with no other peer,
    /// stops in `SyncState::UpdateRequired`.
    pub fn serve_entry_version(&self, version: Option<u16>) {
        if let Some(s) = &self.server {
            let mut f = s.faults();
            f.newer_entry_version = version;
            s.set_faults(f);
        }
    }

    /// The underlying node (for Rust tests that need more than the blocking surface).
    pub fn node(&self) -> &Arc<SimNode> {
        &self.node
    }

    /// Stops serving (idempotent; also done on drop).
    pub fn shutdown(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

impl Drop for LocalSimnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}
