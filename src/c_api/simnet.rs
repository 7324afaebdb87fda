//! C entry points for the built-in simulated network (feature `simnet`), so C programs can
//! test offline: a projection of [`crate::simnet::LocalSimnet`].

use super::boundary::{
    copy_bytes_out, free_handle, guard, handle_ref, new_handle, null, out, FfiResult,
};
use super::types::dqs_result;
use crate::simnet::LocalSimnet;

/// A running simulated network (opaque): a regtest chain served on 127.0.0.1. Create with
/// `dqs_simnet_start`, free with `dqs_simnet_free`.
pub struct dqs_simnet {
    inner: LocalSimnet,
}

fn net_ref<'a>(net: *const dqs_simnet) -> FfiResult<&'a LocalSimnet> {
    Ok(&handle_ref(net, "net")?.inner)
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
        if out_port.is_null() {
            return Err(null("out_port"));
        }
        let inner = LocalSimnet::start(seed).map_err(|e| (dqs_result::ErrInternal, e))?;
        out(out_port, inner.port(), "out_port")?;
        new_handle(dqs_simnet { inner }, out_net, "out")
    })
}

/// Mines `blocks` more blocks (announced to connected clients).
#[no_mangle]
pub extern "C" fn dqs_simnet_mine(net: *const dqs_simnet, blocks: u32) -> dqs_result {
    guard(|| {
        net_ref(net)?.mine(blocks);
        Ok(())
    })
}

/// From now on serves every masternode list entry with entry version `entry_version` to new
/// connections, as a peer running a future Dash Core would (0: as they are). With a version
/// newer than the library reads (4 and above), a client reports
/// `DQS_ERROR_KIND_UNSUPPORTED_PROTOCOL` without banning the peer and, with no other peer,
/// stops in `DQS_STATE_UPDATE_REQUIRED`.
#[no_mangle]
pub extern "C" fn dqs_simnet_serve_entry_version(
    net: *const dqs_simnet,
    entry_version: u16,
) -> dqs_result {
    guard(|| {
        net_ref(net)?.serve_entry_version((entry_version != 0).then_some(entry_version));
        Ok(())
    })
}

/// Height of the simulated chain's tip (0 for NULL).
#[no_mangle]
pub extern "C" fn dqs_simnet_tip_height(net: *const dqs_simnet) -> u32 {
    guard(|| net_ref(net).map_or(0, |n| n.tip_height()))
}

/// Copies the network's ChainLock for the block at `height`, serialized as a `clsig` payload
/// (what `dqs_client_verify_clsig` takes), into `buf` (`capacity` bytes owned by the caller;
/// may be NULL when `capacity` is 0) and writes its length to `*out_len`.
/// `DQS_RESULT_ERR_NOT_FOUND` when that block is not locked (or above the tip);
/// `DQS_RESULT_ERR_BUFFER_TOO_SMALL` (nothing copied) when `capacity` is less than the length.
#[no_mangle]
pub extern "C" fn dqs_simnet_clsig(
    net: *const dqs_simnet,
    height: u32,
    buf: *mut u8,
    capacity: usize,
    out_len: *mut usize,
) -> dqs_result {
    guard(|| {
        let n = net_ref(net)?;
        let data = n.clsig(height).ok_or((
            dqs_result::ErrNotFound,
            format!("the simulated chain has no ChainLock at height {height}"),
        ))?;
        copy_bytes_out(&data, buf, capacity, out_len)
    })
}

/// Copies the network's newest InstantSend lock, serialized as an `isdlock` payload (what
/// `dqs_client_verify_islock` takes), like `dqs_simnet_clsig`. `DQS_RESULT_ERR_NOT_FOUND`
/// before the network has made one.
#[no_mangle]
pub extern "C" fn dqs_simnet_latest_islock(
    net: *const dqs_simnet,
    buf: *mut u8,
    capacity: usize,
    out_len: *mut usize,
) -> dqs_result {
    guard(|| {
        let n = net_ref(net)?;
        let data = n.latest_islock().ok_or((
            dqs_result::ErrNotFound,
            "the simulated chain has no InstantSend lock yet".to_string(),
        ))?;
        copy_bytes_out(&data, buf, capacity, out_len)
    })
}

/// Stops serving and frees the network. NULL is ignored.
#[no_mangle]
pub extern "C" fn dqs_simnet_free(net: *mut dqs_simnet) {
    guard(|| free_handle(net))
}
