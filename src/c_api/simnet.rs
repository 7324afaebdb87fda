//! C entry points for the built-in simulated network (feature `simnet`), so C programs can
//! test offline.

use super::{dqs_result, guard, null, out};
use crate::simnet::server::{ServerConfig, SimServer};
use crate::simnet::{SimConfig, SimNode, SimService};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A running simulated network (opaque): a regtest chain served on 127.0.0.1. Create with
/// `dqs_simnet_start`, free with `dqs_simnet_free`.
pub struct dqs_simnet {
    rt: tokio::runtime::Runtime,
    node: Arc<SimNode>,
    server: Option<SimServer>,
}

/// Generates the regtest preset from `seed` and serves it on loopback. On success `*out` owns
/// the network (free with `dqs_simnet_free`) and `*out_port` is its TCP port on 127.0.0.1.
#[no_mangle]
pub extern "C" fn dqs_simnet_start(
    seed: u64,
    out_net: *mut *mut dqs_simnet,
    out_port: *mut u16,
) -> dqs_result {
    guard(|| {
        if out_net.is_null() {
            return Err(null("out"));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dqs-simnet")
            .enable_all()
            .build()
            .map_err(|e| (dqs_result::ErrInternal, e.to_string()))?;
        let node = Arc::new(SimNode::new(SimConfig::regtest(seed)));
        let server = rt
            .block_on(SimServer::start(node.clone(), ServerConfig::default()))
            .map_err(|e| (dqs_result::ErrInternal, format!("cannot listen: {e}")))?;
        out(out_port, server.addr().port(), "out_port")?;
        let b = Box::new(dqs_simnet {
            rt,
            node,
            server: Some(server),
        });
        // SAFETY: `out_net` is non-NULL and writable (caller contract).
        unsafe { *out_net = Box::into_raw(b) };
        Ok(())
    })
}

/// Mines `blocks` more blocks (announced to connected clients).
#[no_mangle]
pub extern "C" fn dqs_simnet_mine(net: *const dqs_simnet, blocks: u32) -> dqs_result {
    guard(|| {
        if net.is_null() {
            return Err(null("net"));
        }
        // SAFETY: `net` came from `dqs_simnet_start` and is not freed (caller contract).
        unsafe { (*net).node.mine(blocks) };
        Ok(())
    })
}

/// Height of the simulated chain's tip (0 for NULL).
#[no_mangle]
pub extern "C" fn dqs_simnet_tip_height(net: *const dqs_simnet) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        if net.is_null() {
            return 0;
        }
        // SAFETY: `net` came from `dqs_simnet_start` and is not freed (caller contract).
        unsafe { (*net).node.tip_height() }
    }))
    .unwrap_or(0)
}

/// Stops serving and frees the network. NULL is ignored.
#[no_mangle]
pub extern "C" fn dqs_simnet_free(net: *mut dqs_simnet) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if net.is_null() {
            return;
        }
        // SAFETY: `net` came from `dqs_simnet_start` and is freed once (caller contract).
        let mut b = unsafe { Box::from_raw(net) };
        if let Some(s) = b.server.take() {
            b.rt.block_on(s.shutdown());
        }
    }));
}
