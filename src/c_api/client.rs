//! The client object: `dqs_client_*` (lifecycle, status and the lookups), thin projections of
//! [`Client`].

use super::boundary::{
    bytes, client_ref, config_ref, err, free_handle, guard, new_handle, null, out, set_last_error,
    FfiResult,
};
use super::config::dqs_config;
use super::events::{dqs_callbacks, listener_from_c};
use super::store::{dqs_store, store_from_c};
use super::types::{dqs_lock_status, dqs_quorum, dqs_result, dqs_status, quorum_c};
use crate::api::{ClientError, LockStatus};
use crate::bindings::config_ops;
use crate::Client;

/// A client (opaque). Create with `dqs_client_new`, free with `dqs_client_free`.
pub struct dqs_client {
    pub(super) inner: Client,
}

/// Creates a client from `config` (copied; the caller still frees it). `store` may be NULL
/// (state kept in memory only); `callbacks` may be NULL. Both structs are copied; the function
/// pointers and `user_data` inside must stay valid until `dqs_client_free` returns. On success
/// `*out` owns the client: free it with `dqs_client_free`. Nothing runs before
/// `dqs_client_start`.
#[no_mangle]
pub extern "C" fn dqs_client_new(
    config: *const dqs_config,
    store: *const dqs_store,
    callbacks: *const dqs_callbacks,
    out: *mut *mut dqs_client,
) -> dqs_result {
    guard(|| {
        let cfg = config_ref(config)?.clone();
        if out.is_null() {
            return Err(null("out"));
        }
        let store = store_from_c(store)?;
        let listener = listener_from_c(callbacks)?;
        let client = Client::new(cfg, store, listener).map_err(err)?;
        new_handle(dqs_client { inner: client }, out, "out")
    })
}

/// Starts syncing in the background; returns at once.
#[no_mangle]
pub extern "C" fn dqs_client_start(client: *const dqs_client) -> dqs_result {
    guard(|| client_ref(client)?.start().map_err(err))
}

/// Stops every task and connection (bounded time). Safe from any thread and from inside a
/// callback. A stopped client can be started again.
#[no_mangle]
pub extern "C" fn dqs_client_stop(client: *const dqs_client) -> dqs_result {
    guard(|| {
        client_ref(client)?.stop();
        Ok(())
    })
}

/// Stops and frees a client. NULL is ignored. Safe from inside one of its own callbacks; from
/// any other thread, no callback runs after it returns. No store call begins once it was
/// entered: it first waits for a store call in progress (see `dqs_store`), then stops.
#[no_mangle]
pub extern "C" fn dqs_client_free(client: *mut dqs_client) {
    // Dropping the client closes its store gate first (`Client`'s `Drop`): no store call
    // begins once free has begun (a save's second write, or a new save, while the client
    // stops), and free waits for the call in progress. Then the client stops.
    guard(|| free_handle(client))
}

/// Fills `*out` with the client's status.
#[no_mangle]
pub extern "C" fn dqs_client_status(
    client: *const dqs_client,
    out_status: *mut dqs_status,
) -> dqs_result {
    guard(|| {
        let s = client_ref(client)?.status();
        out(
            out_status,
            dqs_status {
                state: s.state.into(),
                header_height: s.header_height,
                list_height: s.list_height.unwrap_or(0),
                has_list: s.list_height.is_some(),
                quorums_validated: s.quorums_validated,
                peers: s.peers,
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                round_trips: s.round_trips,
                dependent_round_trips: s.dependent_round_trips,
            },
            "out_status",
        )
    })
}

/// Looks up a validated quorum by type and 32-byte hash (internal order). Returns
/// `DQS_RESULT_ERR_NOT_FOUND` when it is not validated (or unknown).
#[no_mangle]
pub extern "C" fn dqs_client_quorum(
    client: *const dqs_client,
    llmq_type: u8,
    quorum_hash: *const u8,
    out_quorum: *mut dqs_quorum,
) -> dqs_result {
    guard(|| {
        let c = client_ref(client)?;
        let h = config_ops::hash_from(bytes(quorum_hash, 32, "quorum_hash")?).map_err(err)?;
        let q = c.quorum(llmq_type, &h).ok_or((
            dqs_result::ErrNotFound,
            "no validated quorum with that hash".into(),
        ))?;
        out(out_quorum, quorum_c(&q), "out_quorum")
    })
}

/// Copies the validated quorums of a type (newest first) into `out_quorums` (an array of
/// `capacity` elements owned by the caller; may be NULL when `capacity` is 0) and writes the
/// total count to `*out_count`. Returns `DQS_RESULT_ERR_BUFFER_TOO_SMALL` (after copying
/// `capacity` of them) when the array is too small.
#[no_mangle]
pub extern "C" fn dqs_client_quorums(
    client: *const dqs_client,
    llmq_type: u8,
    out_quorums: *mut dqs_quorum,
    capacity: usize,
    out_count: *mut usize,
) -> dqs_result {
    guard(|| {
        let qs = client_ref(client)?.quorums(llmq_type);
        out(out_count, qs.len(), "out_count")?;
        if capacity > 0 && out_quorums.is_null() {
            return Err(null("out_quorums"));
        }
        for (i, q) in qs.iter().take(capacity).enumerate() {
            // SAFETY: `out_quorums` points to `capacity` writable elements and `i < capacity`.
            unsafe { out_quorums.add(i).write(quorum_c(q)) };
        }
        if qs.len() > capacity {
            return Err((
                dqs_result::ErrBufferTooSmall,
                format!("{} quorums, room for {capacity}", qs.len()),
            ));
        }
        Ok(())
    })
}

fn lock_verdict(r: Result<LockStatus, ClientError>, out_status: *mut dqs_lock_status) -> FfiResult {
    let st = r.map_err(err)?;
    let (code, why) = match st {
        LockStatus::Valid { .. } => (dqs_lock_status::Valid, None),
        LockStatus::Invalid(w) => (dqs_lock_status::Invalid, Some(w)),
        LockStatus::Unknown(w) => (dqs_lock_status::Unknown, Some(w)),
    };
    if let Some(w) = why {
        set_last_error(&w);
    }
    out(out_status, code, "out_status")
}

/// Verifies a serialized `clsig` payload (`data`, `len` bytes, borrowed) against the validated
/// quorums. On `DQS_RESULT_OK`, `*out_status` says valid / invalid / unknown; for the latter two
/// the reason is the thread's last-error message. Every pointer is checked first: a NULL one is
/// `DQS_RESULT_ERR_NULL` before the bytes are decoded or any signature checked.
#[no_mangle]
pub extern "C" fn dqs_client_verify_clsig(
    client: *const dqs_client,
    data: *const u8,
    len: usize,
    out_status: *mut dqs_lock_status,
) -> dqs_result {
    guard(|| {
        // Every pointer is checked before any work (no decoding or BLS check for a call that
        // can only return `DQS_RESULT_ERR_NULL`).
        let c = client_ref(client)?;
        let b = bytes(data, len, "data")?;
        if out_status.is_null() {
            return Err(null("out_status"));
        }
        lock_verdict(c.verify_clsig(b), out_status)
    })
}

/// Verifies a serialized `isdlock` payload like `dqs_client_verify_clsig`.
#[no_mangle]
pub extern "C" fn dqs_client_verify_islock(
    client: *const dqs_client,
    data: *const u8,
    len: usize,
    out_status: *mut dqs_lock_status,
) -> dqs_result {
    guard(|| {
        // Every pointer is checked before any work (no decoding or BLS check for a call that
        // can only return `DQS_RESULT_ERR_NULL`).
        let c = client_ref(client)?;
        let b = bytes(data, len, "data")?;
        if out_status.is_null() {
            return Err(null("out_status"));
        }
        lock_verdict(c.verify_islock(b), out_status)
    })
}

/// Writes the 32-byte block hash (internal byte order) of the header chain at `height` to
/// `out_hash` (32 writable bytes owned by the caller). `DQS_RESULT_ERR_NOT_FOUND` when the
/// chain does not reach that height (or starts above it).
#[no_mangle]
pub extern "C" fn dqs_client_block_hash(
    client: *const dqs_client,
    height: u32,
    out_hash: *mut u8,
) -> dqs_result {
    guard(|| {
        let h = client_ref(client)?.block_hash(height).ok_or_else(|| {
            (
                dqs_result::ErrNotFound,
                format!("the header chain has no block at height {height}"),
            )
        })?;
        out(out_hash as *mut [u8; 32], h.0, "out_hash")
    })
}
