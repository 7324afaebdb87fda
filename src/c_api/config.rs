//! The configuration object: `dqs_config_*`, thin projections of [`Config`] through
//! [`config_ops`].

use super::boundary::{
    bytes, config_mut, config_ref, cstr, err, free_handle, guard, new_handle, out, FfiResult,
};
use super::types::{dqs_network, dqs_result, network_from_c, profile_from_c};
use crate::api::{Config, StartPoint};
use crate::bindings::config_ops;
use std::ffi::c_char;

/// Client configuration (opaque). Create with `dqs_config_new`, free with `dqs_config_free`.
pub struct dqs_config {
    pub(super) inner: Config,
}

/// Creates a configuration with the defaults for `network` (a `dqs_network` value; passed as
/// an integer so that an out-of-range value is an error, not undefined behaviour). No peers
/// yet. On success `*out` owns it: free it with `dqs_config_free` (a client copies what it
/// needs).
#[no_mangle]
pub extern "C" fn dqs_config_new(network: u32, out: *mut *mut dqs_config) -> dqs_result {
    guard(|| {
        let net = network_from_c(network).ok_or_else(|| {
            (
                dqs_result::ErrInvalidArgument,
                format!("unknown network {network}"),
            )
        })?;
        new_handle(
            dqs_config {
                inner: Config::new(net),
            },
            out,
            "out",
        )
    })
}

/// Frees a configuration. NULL is ignored.
#[no_mangle]
pub extern "C" fn dqs_config_free(config: *mut dqs_config) {
    guard(|| free_handle(config))
}

/// Writes the configuration's network (a `dqs_network` value; `dqs_config_set_dash_conf` can
/// change it) to `*out_network`.
#[no_mangle]
pub extern "C" fn dqs_config_network(
    config: *const dqs_config,
    out_network: *mut dqs_network,
) -> dqs_result {
    guard(|| {
        let c = config_ref(config)?;
        out(out_network, c.network().into(), "out_network")
    })
}

/// Checks the whole configuration as `dqs_client_new` does: `DQS_RESULT_ERR_INVALID_CONFIG`
/// with a message naming the first problem (e.g. no peers and DNS seeds disabled).
#[no_mangle]
pub extern "C" fn dqs_config_validate(config: *const dqs_config) -> dqs_result {
    guard(|| config_ref(config)?.validate().map_err(err))
}

/// Adds a peer, `"IP:port"` (e.g. `"127.0.0.1:19899"` or `"[::1]:9999"`). `addr` is borrowed
/// for the call.
#[no_mangle]
pub extern "C" fn dqs_config_add_peer(config: *mut dqs_config, addr: *const c_char) -> dqs_result {
    guard(|| {
        let c = config_mut(config)?;
        let s = cstr(addr, "addr")?;
        config_ops::add_peer(c, s).map_err(err)
    })
}

/// Enables or disables DNS seeds as a source of peers.
#[no_mangle]
pub extern "C" fn dqs_config_set_dns_seeds(config: *mut dqs_config, enabled: bool) -> dqs_result {
    guard(|| {
        config_mut(config)?.use_dns_seeds = enabled;
        Ok(())
    })
}

/// Sets which quorums are validated (a `dqs_profile` value).
#[no_mangle]
pub extern "C" fn dqs_config_set_profile(config: *mut dqs_config, profile: u32) -> dqs_result {
    guard(|| {
        let c = config_mut(config)?;
        c.profile = profile_from_c(profile).ok_or_else(|| {
            (
                dqs_result::ErrInvalidArgument,
                format!("unknown profile {profile}"),
            )
        })?;
        Ok(())
    })
}

/// Sets the connect and per-request timeouts in milliseconds (both > 0;
/// `DQS_RESULT_ERR_INVALID_CONFIG` otherwise, the configuration unchanged).
#[no_mangle]
pub extern "C" fn dqs_config_set_timeouts(
    config: *mut dqs_config,
    connect_ms: u32,
    request_ms: u32,
) -> dqs_result {
    guard(|| config_ops::set_timeouts(config_mut(config)?, connect_ms, request_ms).map_err(err))
}

/// Sets how many peers are kept connected (1–16; `DQS_RESULT_ERR_INVALID_CONFIG` otherwise,
/// the configuration unchanged).
#[no_mangle]
pub extern "C" fn dqs_config_set_max_peers(config: *mut dqs_config, max_peers: u32) -> dqs_result {
    guard(|| config_ops::set_max_peers(config_mut(config)?, max_peers).map_err(err))
}

/// Sets the protocol version advertised to peers (default: the newest the library speaks).
/// `DQS_RESULT_ERR_INVALID_CONFIG` below the lowest version that can sync lists.
#[no_mangle]
pub extern "C" fn dqs_config_set_protocol_version(
    config: *mut dqs_config,
    version: u32,
) -> dqs_result {
    guard(|| config_ops::set_protocol_version(config_mut(config)?, version).map_err(err))
}

/// Starts the header chain at a trusted checkpoint: its height and its 80-byte header
/// (`header` points to exactly 80 bytes, borrowed for the call); the hash trusted is the
/// header's own. `DQS_RESULT_ERR_INVALID_ARGUMENT` for a wrong length,
/// `DQS_RESULT_ERR_INVALID_CONFIG` when its proof of work is invalid or it contradicts a known
/// checkpoint (the configuration is then unchanged). Takes precedence over the other starts
/// until one of them is set.
#[no_mangle]
pub extern "C" fn dqs_config_set_checkpoint(
    config: *mut dqs_config,
    height: u32,
    header: *const u8,
    header_len: usize,
) -> dqs_result {
    guard(|| {
        let c = config_mut(config)?;
        let b = bytes(header, header_len, "header")?;
        config_ops::set_checkpoint(c, height, b).map_err(err)
    })
}

/// Adds a hash-only checkpoint the header chain must pass through: a block height and its
/// 32-byte hash in internal byte order (Core's `getblockhash` prints display order: reverse
/// the bytes), borrowed for the call. Use it to start a wallet built months ago from a newer
/// trusted point: the headers are still downloaded from the start, but pinned to this hash, and
/// the header sync fetches the ranges between trusted hashes from several peers at once.
/// `DQS_RESULT_ERR_INVALID_ARGUMENT` for a wrong length, `DQS_RESULT_ERR_INVALID_CONFIG` when
/// it contradicts a checkpoint the library knows at that height or one added before (the
/// configuration is then unchanged). A saved state whose headers contradict it is discarded
/// at start (a `DQS_ERROR_KIND_CORRUPT_STATE` error) and the sync starts afresh.
#[no_mangle]
pub extern "C" fn dqs_config_add_checkpoint_hash(
    config: *mut dqs_config,
    height: u32,
    hash: *const u8,
    hash_len: usize,
) -> dqs_result {
    guard(|| {
        let c = config_mut(config)?;
        let b = bytes(hash, hash_len, "hash")?;
        config_ops::add_checkpoint_hash(c, height, b).map_err(err)
    })
}

/// Sets one chain parameter with Dash Core's option name and syntax (without the leading
/// `-`), e.g. `dqs_config_set_chain_param(cfg, "testactivationheight", "v20@100")` or
/// `("llmqtestparams", "4:4")`; options Core takes several times add up. `docs/CONFORMANCE.md`
/// lists the options and their support. An unknown option, a bad value or an option for another
/// network gives `DQS_RESULT_ERR_INVALID_CONFIG` with a message naming the option; the
/// configuration is then unchanged.
#[no_mangle]
pub extern "C" fn dqs_config_set_chain_param(
    config: *mut dqs_config,
    key: *const c_char,
    value: *const c_char,
) -> dqs_result {
    guard(|| {
        let cfg = config_mut(config)?;
        let key = cstr(key, "key")?;
        let value = cstr(value, "value")?;
        cfg.set_chain_param(key, value).map_err(err)
    })
}

/// Replaces the configuration's network and chain parameters with those of a Dash Core
/// `dash.conf` given as text (`regtest=1`, `[regtest]` sections…; keys that do not concern a
/// light client are ignored). Peers, timeouts and the other settings are kept.
#[no_mangle]
pub extern "C" fn dqs_config_set_dash_conf(
    config: *mut dqs_config,
    dash_conf_text: *const c_char,
) -> dqs_result {
    guard(|| {
        let cfg = config_mut(config)?;
        let text = cstr(dash_conf_text, "dash_conf_text")?;
        config_ops::set_dash_conf(cfg, text).map_err(err)
    })
}

fn set_start(config: *mut dqs_config, start: StartPoint) -> FfiResult {
    config_ops::set_start(config_mut(config)?, start).map_err(err)
}

/// Starts the header chain at the newest built-in checkpoint at or below the wallet birth
/// height `birth_height` (mainnet and testnet). `DQS_RESULT_ERR_INVALID_CONFIG` when the
/// height is below the oldest built-in checkpoint or the network has none (the configuration
/// is then unchanged). Replaces any earlier start or checkpoint.
#[no_mangle]
pub extern "C" fn dqs_config_set_birth_height(
    config: *mut dqs_config,
    birth_height: u32,
) -> dqs_result {
    guard(|| set_start(config, StartPoint::BirthHeight(birth_height)))
}

/// Starts the header chain at the newest built-in checkpoint whose block time is at least a day
/// before the wallet birth time `birth_time` (Unix seconds). `DQS_RESULT_ERR_INVALID_CONFIG`
/// when no built-in checkpoint is that old or the network has none. Replaces any earlier
/// start or checkpoint.
#[no_mangle]
pub extern "C" fn dqs_config_set_birth_time(
    config: *mut dqs_config,
    birth_time: u64,
) -> dqs_result {
    guard(|| set_start(config, StartPoint::BirthTime(birth_time)))
}

/// Starts the header chain at the newest built-in checkpoint (the default; genesis on networks
/// without built-in checkpoints). Replaces any earlier start or checkpoint.
#[no_mangle]
pub extern "C" fn dqs_config_set_start_newest(config: *mut dqs_config) -> dqs_result {
    guard(|| set_start(config, StartPoint::Newest))
}

/// Starts the header chain at genesis (every header is downloaded). Replaces any earlier start
/// or checkpoint.
#[no_mangle]
pub extern "C" fn dqs_config_set_start_genesis(config: *mut dqs_config) -> dqs_result {
    guard(|| set_start(config, StartPoint::Genesis))
}

/// Starts the header chain at a header the host trusts: its height, its 80-byte header
/// (`header`, `header_len` must be 80) and the 32-byte block hash the host claims for it
/// (`hash`, internal byte order). `DQS_RESULT_ERR_INVALID_ARGUMENT` for a wrong length;
/// `DQS_RESULT_ERR_INVALID_CONFIG` when the header's X11 hash differs from `hash`, its proof of
/// work is invalid, or it contradicts a known checkpoint at that height. Replaces any earlier
/// start or checkpoint.
#[no_mangle]
pub extern "C" fn dqs_config_set_start_header(
    config: *mut dqs_config,
    height: u32,
    header: *const u8,
    header_len: usize,
    hash: *const u8,
) -> dqs_result {
    guard(|| {
        config_mut(config)?;
        let header = config_ops::header_from(bytes(header, header_len, "header")?).map_err(err)?;
        let hash = config_ops::hash_from(bytes(hash, 32, "hash")?).map_err(err)?;
        set_start(
            config,
            StartPoint::Header {
                height,
                header,
                hash,
            },
        )
    })
}

/// Writes to `*out_height` the height the header sync will start from with this configuration
/// (the chosen built-in checkpoint, a host-supplied checkpoint's height, or 0 for genesis).
/// `DQS_RESULT_ERR_INVALID_CONFIG` when the configured start is invalid.
#[no_mangle]
pub extern "C" fn dqs_config_start_height(
    config: *const dqs_config,
    out_height: *mut u32,
) -> dqs_result {
    guard(|| {
        let r = config_ref(config)?.resolve_start().map_err(err)?;
        out(out_height, r.start_height(), "out_height")
    })
}

/// Whether to keep following the tip after the first sync (default true).
#[no_mangle]
pub extern "C" fn dqs_config_set_follow_tip(config: *mut dqs_config, follow: bool) -> dqs_result {
    guard(|| {
        config_mut(config)?.follow_tip = follow;
        Ok(())
    })
}
