//! Host event callbacks: `dqs_callbacks` and the listener that calls them.

use super::boundary::FfiResult;
use super::masternodes::dqs_masternodes_changed;
use super::types::{
    dqs_chain_lock, dqs_error, dqs_progress, dqs_quorum, dqs_result, dqs_state, quorum_c,
};
use crate::api::QuorumInfo;
use crate::api::{ChainLockEvent, ClientError, EventListener, NoopListener, Progress, SyncState};
use std::ffi::{c_void, CString};
use std::sync::Arc;

/// Event callbacks. Every pointer may be NULL. They run on the library's `dqs-events` thread,
/// one at a time, in order, with no library lock held; they may call any `dqs_` function,
/// including `dqs_client_stop` and `dqs_client_free` on the client that calls them. After
/// `dqs_client_free` returns (from any other thread) no callback runs any more.
/// `user_data` must be usable from that thread.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_callbacks {
    /// `sizeof(dqs_callbacks)`, for versioning.
    pub struct_size: u32,
    /// Passed back to every callback.
    pub user_data: *mut c_void,
    /// Progress.
    pub on_progress: Option<extern "C" fn(user_data: *mut c_void, progress: *const dqs_progress)>,
    /// A quorum passed every check (once per quorum).
    pub on_quorum: Option<extern "C" fn(user_data: *mut c_void, quorum: *const dqs_quorum)>,
    /// A ChainLock verified.
    pub on_chain_lock: Option<extern "C" fn(user_data: *mut c_void, lock: *const dqs_chain_lock)>,
    /// State changed.
    pub on_state: Option<extern "C" fn(user_data: *mut c_void, state: dqs_state)>,
    /// An error.
    pub on_error: Option<extern "C" fn(user_data: *mut c_void, error: *const dqs_error)>,
    /// The entries of the validated masternode list at the tip changed (read the book with
    /// `dqs_client_masternodes`). Added after ABI 3's first release: a caller whose
    /// `struct_size` ends before this field is accepted and gets no such callback.
    pub on_masternodes_changed:
        Option<extern "C" fn(user_data: *mut c_void, change: *const dqs_masternodes_changed)>,
}

/// `struct_size` of a `dqs_callbacks` compiled before `on_masternodes_changed` existed.
const CALLBACKS_SIZE_WITHOUT_MASTERNODES: usize =
    std::mem::offset_of!(dqs_callbacks, on_masternodes_changed);

struct CListener(dqs_callbacks);

// SAFETY: the host promises (header documentation of `dqs_callbacks`) that its callbacks and
// `user_data` may be used from the library's event thread; the struct holds only function
// pointers and that opaque pointer, which Rust never dereferences.
unsafe impl Send for CListener {}
// SAFETY: as above; callbacks are only ever invoked from the single event thread.
unsafe impl Sync for CListener {}

impl EventListener for CListener {
    fn on_progress(&self, p: &Progress) {
        if let Some(f) = self.0.on_progress {
            let c = dqs_progress {
                state: p.state.into(),
                header_height: p.header_height,
                target_height: p.target_height,
                lists_held: p.lists_held,
                lists_missing: p.lists_missing,
                quorums_validated: p.quorums_validated,
                percent: p.percent,
                requests_in_flight: p.requests_in_flight,
                bytes_in: p.bytes_in,
                bytes_out: p.bytes_out,
                eta_seconds: p.eta_seconds.unwrap_or(-1.0),
            };
            f(self.0.user_data, &c);
        }
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        if let Some(f) = self.0.on_quorum {
            f(self.0.user_data, &quorum_c(q));
        }
    }
    fn on_chain_lock(&self, l: &ChainLockEvent) {
        if let Some(f) = self.0.on_chain_lock {
            let c = dqs_chain_lock {
                height: l.height,
                block_hash: l.block_hash.0,
            };
            f(self.0.user_data, &c);
        }
    }
    fn on_state(&self, s: SyncState) {
        if let Some(f) = self.0.on_state {
            f(self.0.user_data, s.into());
        }
    }
    fn on_error(&self, e: &ClientError) {
        if let Some(f) = self.0.on_error {
            let kind = e.kind.into();
            let msg = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
            let c = dqs_error {
                kind,
                recoverable: e.recoverable,
                message: msg.as_ptr(),
            };
            f(self.0.user_data, &c);
        }
    }
    fn on_masternodes_changed(&self, m: &crate::api::MasternodesChanged) {
        if let Some(f) = self.0.on_masternodes_changed {
            f(self.0.user_data, &dqs_masternodes_changed::from(m));
        }
    }
}

/// The listener for the host's `callbacks` (NULL: none), read as the caller's header version
/// laid it out.
pub(crate) fn listener_from_c(
    callbacks: *const dqs_callbacks,
) -> FfiResult<Arc<dyn EventListener>> {
    if callbacks.is_null() {
        return Ok(Arc::new(NoopListener));
    }
    // SAFETY: `callbacks` points to a `dqs_callbacks` (of the caller's header version)
    // valid for this call; its first field is `struct_size`.
    let size = unsafe { std::ptr::read_unaligned(callbacks as *const u32) } as usize;
    let c = if size >= std::mem::size_of::<dqs_callbacks>() {
        // SAFETY: the caller's struct is at least as large as ours; only our size is
        // read.
        unsafe { std::ptr::read_unaligned(callbacks) }
    } else if size >= CALLBACKS_SIZE_WITHOUT_MASTERNODES {
        // An older header: copy the fields it has; the newer ones stay NULL.
        let mut c = dqs_callbacks {
            struct_size: 0,
            user_data: std::ptr::null_mut(),
            on_progress: None,
            on_quorum: None,
            on_chain_lock: None,
            on_state: None,
            on_error: None,
            on_masternodes_changed: None,
        };
        // SAFETY: the caller's struct has `CALLBACKS_SIZE_WITHOUT_MASTERNODES` readable
        // bytes laid out as the prefix of ours (fields are only ever appended); `c` is
        // a distinct local with room for them.
        unsafe {
            std::ptr::copy_nonoverlapping(
                callbacks as *const u8,
                &mut c as *mut dqs_callbacks as *mut u8,
                CALLBACKS_SIZE_WITHOUT_MASTERNODES,
            )
        };
        c.on_masternodes_changed = None;
        c
    } else {
        return Err((
            dqs_result::ErrInvalidArgument,
            "dqs_callbacks.struct_size is too small".into(),
        ));
    };
    Ok(Arc::new(CListener(c)))
}
