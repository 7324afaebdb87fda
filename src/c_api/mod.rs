//! The C ABI (`include/dash_qrsync.h`, prefix `dqs_`): a thin translation of [`crate::api`].
//!
//! Rules every entry point follows:
//! - the body runs inside `catch_unwind`; a panic becomes `DQS_RESULT_ERR_PANIC`, never an abort
//!   or unwinding into C;
//! - fallible calls return a [`dqs_result`]; the message of the last failure on the calling
//!   thread is available through [`dqs_last_error_message`];
//! - NULL pointers, invalid UTF-8 and wrong sizes are errors, never crashes;
//! - ownership is written next to each function: objects created by `*_new` are freed by the
//!   matching `*_free`, which accepts NULL.
#![allow(non_camel_case_types)]
// These functions are called from C, where Rust's `unsafe fn` marking means nothing; every
// pointer is checked for NULL and its contract is documented on the function instead.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod masternodes;
#[cfg(feature = "simnet")]
pub mod simnet;

pub use masternodes::*;

use crate::api::QuorumInfo;
use crate::api::{
    ChainLockEvent, ClientError, Config, ErrorKind, EventListener, LockStatus, NoopListener,
    Progress, StartPoint, SyncProfile, SyncState,
};
use crate::bindings::config_ops;
use crate::network::Network;
use crate::store::{MemoryStore, Store, StoreError};
use crate::Client;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// ABI version of the C interface; bumped on any incompatible change of the header
/// (3: `dqs_strategy` and `DQS_ERROR_KIND_NOT_RUNNING` removed, `dqs_status` grew
/// `dependent_round_trips`).
pub const DQS_ABI_VERSION: u32 = 3;

static VERSION_CSTR: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Result of every fallible call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_result {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL.
    ErrNull = 1,
    /// An argument is invalid (bad bytes, wrong size, bad address, out of range).
    ErrInvalidArgument = 2,
    /// A string is not valid UTF-8.
    ErrInvalidUtf8 = 3,
    /// The configuration cannot work (see the message).
    ErrInvalidConfig = 4,
    /// Nothing was found (e.g. no validated quorum with that hash).
    ErrNotFound = 5,
    /// The caller's buffer is too small; the needed count was written.
    ErrBufferTooSmall = 6,
    /// The library failed internally (see the message).
    ErrInternal = 7,
    /// A Rust panic was caught at the boundary (a bug; please report the message).
    ErrPanic = 8,
}

/// Networks.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_network {
    /// Mainnet.
    Mainnet = 0,
    /// Testnet.
    Testnet = 1,
    /// A devnet.
    Devnet = 2,
    /// Regtest (and the built-in simulated network).
    Regtest = 3,
}

/// Which quorums to validate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_profile {
    /// Every active quorum (default).
    Full = 0,
    /// Only the ChainLocks and InstantSend quorums a wallet needs.
    Wallet = 1,
}

/// The most verbose level [`dqs_enable_logging`] logs (passed as its `uint32_t level`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_log_level {
    /// Errors only.
    Error = 0,
    /// Errors and warnings (peer faults, rejected data, store failures).
    Warn = 1,
    /// Also sync milestones.
    Info = 2,
    /// Also per-request detail.
    Debug = 3,
    /// Everything.
    Trace = 4,
}

/// Client states.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_state {
    /// Created, not started.
    Idle = 0,
    /// Connecting to peers.
    Connecting = 1,
    /// Downloading headers.
    Headers = 2,
    /// Fetching and validating masternode lists.
    MasternodeLists = 3,
    /// Synced; following the tip.
    Synced = 4,
    /// Stopped.
    Stopped = 5,
    /// Stopped: the network speaks a newer protocol than this library reads; update it.
    UpdateRequired = 6,
}

/// Error kinds reported to `on_error`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_error_kind {
    /// Configuration problem.
    InvalidConfig = 0,
    /// Bad argument.
    InvalidArgument = 1,
    /// Network trouble.
    Network = 2,
    /// A peer sent invalid data (discarded, peer disconnected).
    PeerMisbehaved = 3,
    /// The host store failed.
    Store = 4,
    /// Saved state was unusable; a clean resync follows.
    CorruptState = 5,
    /// A bug. (6 is not used: it was a kind the library never reported.)
    Internal = 7,
    /// A peer sent data of a newer protocol than this library reads (not penalised); when no
    /// readable peer is left the state becomes `DQS_STATE_UPDATE_REQUIRED`.
    UnsupportedProtocol = 8,
}

/// Verdict on a lock.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_lock_status {
    /// Signed by the quorum the rules select.
    Valid = 0,
    /// Invalid (reason in the last-error message).
    Invalid = 1,
    /// Not decidable yet (reason in the last-error message); try again after sync.
    Unknown = 2,
}

/// A progress report (valid during the callback only).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_progress {
    /// Current state.
    pub state: dqs_state,
    /// Header chain height.
    pub header_height: u32,
    /// Best height peers announced.
    pub target_height: u32,
    /// Masternode lists held.
    pub lists_held: u32,
    /// Lists still needed.
    pub lists_missing: u32,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Completion, 0–100.
    pub percent: f32,
    /// Requests in flight.
    pub requests_in_flight: u32,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Estimated seconds left; negative when unknown.
    pub eta_seconds: f64,
}

/// A validated quorum.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_quorum {
    /// LLMQ type.
    pub llmq_type: u8,
    /// Quorum hash (internal byte order, as on the wire).
    pub quorum_hash: [u8; 32],
    /// Height of its base block.
    pub height: u32,
    /// Quorum index (rotated types), else 0.
    pub index: i16,
    /// Public key, basic (IETF) encoding.
    pub public_key: [u8; 48],
    /// True for pre-V19 legacy-scheme commitments.
    pub legacy_scheme: bool,
}

/// A verified ChainLock.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_chain_lock {
    /// Locked height.
    pub height: u32,
    /// Locked block hash (internal byte order).
    pub block_hash: [u8; 32],
}

/// An error event (valid during the callback only).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_error {
    /// Kind.
    pub kind: dqs_error_kind,
    /// True when the client recovers on its own.
    pub recoverable: bool,
    /// NUL-terminated message, valid during the callback only.
    pub message: *const c_char,
}

/// A status snapshot.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_status {
    /// State.
    pub state: dqs_state,
    /// Header chain height.
    pub header_height: u32,
    /// Height of the newest masternode list held (valid when `has_list`).
    pub list_height: u32,
    /// Whether any list is held.
    pub has_list: bool,
    /// Quorums validated.
    pub quorums_validated: u32,
    /// Peers connected.
    pub peers: u32,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Requests that waited on an answer.
    pub round_trips: u64,
    /// Round trips that had to wait for each other (parallel requests count once).
    pub dependent_round_trips: u64,
}

// The C enums are the Rust ones with fixed values: Rust to C is an exhaustive match (a new
// Rust variant does not compile until it has a C value), C to Rust goes through it
// (tests/surface_parity.rs checks every value against the header).

impl From<Network> for dqs_network {
    fn from(n: Network) -> dqs_network {
        match n {
            Network::Mainnet => dqs_network::Mainnet,
            Network::Testnet => dqs_network::Testnet,
            Network::Devnet => dqs_network::Devnet,
            Network::Regtest => dqs_network::Regtest,
        }
    }
}

impl From<SyncProfile> for dqs_profile {
    fn from(p: SyncProfile) -> dqs_profile {
        match p {
            SyncProfile::Full => dqs_profile::Full,
            SyncProfile::Wallet => dqs_profile::Wallet,
        }
    }
}

impl From<SyncState> for dqs_state {
    fn from(s: SyncState) -> dqs_state {
        match s {
            SyncState::Idle => dqs_state::Idle,
            SyncState::Connecting => dqs_state::Connecting,
            SyncState::Headers => dqs_state::Headers,
            SyncState::MasternodeLists => dqs_state::MasternodeLists,
            SyncState::Synced => dqs_state::Synced,
            SyncState::Stopped => dqs_state::Stopped,
            SyncState::UpdateRequired => dqs_state::UpdateRequired,
        }
    }
}

impl From<ErrorKind> for dqs_error_kind {
    fn from(k: ErrorKind) -> dqs_error_kind {
        match k {
            ErrorKind::InvalidConfig => dqs_error_kind::InvalidConfig,
            ErrorKind::InvalidArgument => dqs_error_kind::InvalidArgument,
            ErrorKind::Network => dqs_error_kind::Network,
            ErrorKind::PeerMisbehaved => dqs_error_kind::PeerMisbehaved,
            ErrorKind::Store => dqs_error_kind::Store,
            ErrorKind::CorruptState => dqs_error_kind::CorruptState,
            ErrorKind::Internal => dqs_error_kind::Internal,
            ErrorKind::UnsupportedProtocol => dqs_error_kind::UnsupportedProtocol,
        }
    }
}

/// The Rust network whose C value is `v`.
pub fn network_from_c(v: u32) -> Option<Network> {
    [
        Network::Mainnet,
        Network::Testnet,
        Network::Devnet,
        Network::Regtest,
    ]
    .into_iter()
    .find(|n| dqs_network::from(*n) as u32 == v)
}

/// The Rust profile whose C value is `v`.
pub fn profile_from_c(v: u32) -> Option<SyncProfile> {
    [SyncProfile::Full, SyncProfile::Wallet]
        .into_iter()
        .find(|p| dqs_profile::from(*p) as u32 == v)
}

/// The result code of a Rust error: its kind decides (the message is passed on unchanged).
pub fn result_of(kind: ErrorKind) -> dqs_result {
    match kind {
        ErrorKind::InvalidConfig => dqs_result::ErrInvalidConfig,
        ErrorKind::InvalidArgument => dqs_result::ErrInvalidArgument,
        ErrorKind::Network
        | ErrorKind::PeerMisbehaved
        | ErrorKind::Store
        | ErrorKind::CorruptState
        | ErrorKind::UnsupportedProtocol
        | ErrorKind::Internal => dqs_result::ErrInternal,
    }
}

fn err(e: ClientError) -> (dqs_result, String) {
    (result_of(e.kind), e.message)
}

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

/// Host persistence. Calls are never concurrent (one at a time, also across `dqs_client_stop`
/// and a later `dqs_client_start`), from library threads other than the caller's. No store
/// call begins once `dqs_client_free` was entered, and none runs after it returns: it waits
/// for a store call in progress to return (so a slow `save` delays `dqs_client_free` by at
/// most that one call) and refuses every later one, also the rest of a save cut short (the
/// previous generation stays loadable); a store function must therefore not call
/// `dqs_client_free` itself. `struct_size` is read before anything else: a smaller one than
/// this header's is `DQS_RESULT_ERR_INVALID_ARGUMENT` and nothing past it is read.
/// Return 0 for success. `load` returns 0 and sets `*out_data`/`*out_len` (a buffer the
/// library hands back to `free_buffer` when done), 1 when the key is absent, any other value
/// on failure. `key` is a short ASCII name, valid during the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_store {
    /// `sizeof(dqs_store)`, for versioning.
    pub struct_size: u32,
    /// Passed back to every function.
    pub user_data: *mut c_void,
    /// Loads a blob.
    pub load: Option<
        extern "C" fn(
            user_data: *mut c_void,
            key: *const c_char,
            out_data: *mut *mut u8,
            out_len: *mut usize,
        ) -> i32,
    >,
    /// Saves (replaces) a blob; durable when it returns 0.
    pub save: Option<
        extern "C" fn(
            user_data: *mut c_void,
            key: *const c_char,
            data: *const u8,
            len: usize,
        ) -> i32,
    >,
    /// Removes a blob (0 also when absent).
    pub remove: Option<extern "C" fn(user_data: *mut c_void, key: *const c_char) -> i32>,
    /// Frees a buffer returned by `load`.
    pub free_buffer: Option<extern "C" fn(user_data: *mut c_void, data: *mut u8, len: usize)>,
}

/// Client configuration (opaque). Create with `dqs_config_new`, free with `dqs_config_free`.
pub struct dqs_config {
    inner: Config,
}

/// A client (opaque). Create with `dqs_client_new`, free with `dqs_client_free`.
pub struct dqs_client {
    inner: Client,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
}

type FfiResult = Result<(), (dqs_result, String)>;

/// Runs `f`, converting errors and panics to a result code and the thread's last error.
fn guard(f: impl FnOnce() -> FfiResult) -> dqs_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => dqs_result::Ok,
        Ok(Err((code, msg))) => {
            set_last_error(&msg);
            code
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("panic inside dash-qrsync: {msg}"));
            dqs_result::ErrPanic
        }
    }
}

fn null(what: &str) -> (dqs_result, String) {
    (dqs_result::ErrNull, format!("{what} is NULL"))
}

fn cstr<'a>(p: *const c_char, what: &str) -> Result<&'a str, (dqs_result, String)> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller passes a NUL-terminated string that stays valid for this call
    // (documented on every function taking a string); NULL was excluded above.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| {
        (
            dqs_result::ErrInvalidUtf8,
            format!("{what} is not valid UTF-8"),
        )
    })
}

fn bytes<'a>(p: *const u8, len: usize, what: &str) -> Result<&'a [u8], (dqs_result, String)> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller guarantees `p` points to `len` readable bytes for this call; NULL
    // was excluded above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

fn out<T>(p: *mut T, v: T, what: &str) -> FfiResult {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller passes a valid, writable pointer to a `T`; NULL was excluded above.
    unsafe { p.write(v) };
    Ok(())
}

fn config_mut<'a>(c: *mut dqs_config) -> Result<&'a mut Config, (dqs_result, String)> {
    if c.is_null() {
        return Err(null("config"));
    }
    // SAFETY: `c` was returned by `dqs_config_new` and not freed (caller contract); the caller
    // does not use it from two threads at once.
    Ok(unsafe { &mut (*c).inner })
}

fn config_ref<'a>(c: *const dqs_config) -> Result<&'a Config, (dqs_result, String)> {
    if c.is_null() {
        return Err(null("config"));
    }
    // SAFETY: `c` was returned by `dqs_config_new` and not freed (caller contract); it is only
    // read, and the caller does not write it from another thread at the same time.
    Ok(unsafe { &(*c).inner })
}

/// Copies `data` into the caller's `buf` (`capacity` bytes; may be NULL when `capacity` is 0)
/// and writes its length to `*out_len`; `DQS_RESULT_ERR_BUFFER_TOO_SMALL` (nothing copied) when
/// it does not fit.
#[cfg_attr(not(feature = "simnet"), allow(dead_code))]
pub(crate) fn copy_bytes_out(
    data: &[u8],
    buf: *mut u8,
    capacity: usize,
    out_len: *mut usize,
) -> FfiResult {
    out(out_len, data.len(), "out_len")?;
    if data.len() > capacity {
        return Err((
            dqs_result::ErrBufferTooSmall,
            format!("{} bytes, room for {capacity}", data.len()),
        ));
    }
    if buf.is_null() {
        return if data.is_empty() {
            Ok(())
        } else {
            Err(null("buf"))
        };
    }
    // SAFETY: `buf` points to `capacity` writable bytes (caller contract) and
    // `data.len() <= capacity`; the regions cannot overlap (`data` is the library's).
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    Ok(())
}

fn client_ref<'a>(c: *const dqs_client) -> Result<&'a Client, (dqs_result, String)> {
    if c.is_null() {
        return Err(null("client"));
    }
    // SAFETY: `c` was returned by `dqs_client_new` and not freed (caller contract). `Client`
    // is `Sync`, so shared references from several threads are fine.
    Ok(unsafe { &(*c).inner })
}

/// Returns the library version as a static NUL-terminated string. Never NULL; do not free.
#[no_mangle]
pub extern "C" fn dqs_version() -> *const c_char {
    VERSION_CSTR.as_ptr() as *const c_char
}

/// Returns DQS_ABI_VERSION as compiled into the library, so a program can check that the
/// header it was compiled against matches the library it loaded.
#[no_mangle]
pub extern "C" fn dqs_abi_version() -> u32 {
    DQS_ABI_VERSION
}

/// Sends the library's logs to standard error (logcat on Android) at `level` (a
/// `dqs_log_level`: `DQS_LOG_LEVEL_ERROR` … `DQS_LOG_LEVEL_TRACE`) and above; any other value
/// is `DQS_RESULT_ERR_INVALID_ARGUMENT`. Installs a process-wide `tracing`
/// subscriber once. `installed` (may be NULL) receives false when a subscriber was already
/// installed (an earlier call or the host's own), in which case nothing changes.
#[no_mangle]
pub extern "C" fn dqs_enable_logging(level: u32, installed: *mut bool) -> dqs_result {
    guard(|| {
        use crate::logging::{enable_platform_logging, LogLevel};
        const ERROR: u32 = dqs_log_level::Error as u32;
        const WARN: u32 = dqs_log_level::Warn as u32;
        const INFO: u32 = dqs_log_level::Info as u32;
        const DEBUG: u32 = dqs_log_level::Debug as u32;
        const TRACE: u32 = dqs_log_level::Trace as u32;
        let l = match level {
            ERROR => LogLevel::Error,
            WARN => LogLevel::Warn,
            INFO => LogLevel::Info,
            DEBUG => LogLevel::Debug,
            TRACE => LogLevel::Trace,
            other => {
                return Err((
                    dqs_result::ErrInvalidArgument,
                    format!("unknown log level {other}"),
                ))
            }
        };
        let done = enable_platform_logging(l);
        if !installed.is_null() {
            // SAFETY: the caller passes NULL or a valid, writable bool (documented above).
            unsafe { installed.write(done) };
        }
        Ok(())
    })
}

/// Length in bytes (without the NUL) of the calling thread's last error message; 0 if none.
#[no_mangle]
pub extern "C" fn dqs_last_error_length() -> usize {
    catch_unwind(|| LAST_ERROR.with(|e| e.borrow().as_ref().map_or(0, |c| c.as_bytes().len())))
        .unwrap_or(0)
}

/// Copies the calling thread's last error message, NUL-terminated and truncated to fit, into
/// `buf` (`len` bytes, owned by the caller). Returns the number of bytes written without the
/// NUL, or 0 when there is no message or `buf` is NULL / `len` is 0.
#[no_mangle]
pub extern "C" fn dqs_last_error_message(buf: *mut c_char, len: usize) -> usize {
    catch_unwind(|| {
        if buf.is_null() || len == 0 {
            return 0;
        }
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            let msg = e.as_ref().map_or(&[][..], |c| c.as_bytes());
            let n = msg.len().min(len - 1);
            // SAFETY: `buf` points to `len` writable bytes (caller contract) and `n + 1 <= len`.
            unsafe {
                std::ptr::copy_nonoverlapping(msg.as_ptr(), buf as *mut u8, n);
                *buf.add(n) = 0;
            }
            n
        })
    })
    .unwrap_or(0)
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
        let b = Box::new(dqs_config {
            inner: Config::new(net),
        });
        let p = Box::into_raw(b);
        if out.is_null() {
            // SAFETY: `p` came from `Box::into_raw` just above and was not shared.
            drop(unsafe { Box::from_raw(p) });
            return Err(null("out"));
        }
        // SAFETY: `out` is a valid pointer to write the result to (checked non-NULL).
        unsafe { *out = p };
        Ok(())
    })
}

/// Frees a configuration. NULL is ignored.
#[no_mangle]
pub extern "C" fn dqs_config_free(config: *mut dqs_config) {
    let _ = catch_unwind(|| {
        if !config.is_null() {
            // SAFETY: `config` came from `dqs_config_new` and is freed once (caller contract).
            drop(unsafe { Box::from_raw(config) });
        }
    });
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

struct CListener(dqs_callbacks);

// SAFETY: the host promises (header documentation of `dqs_callbacks`) that its callbacks and
// `user_data` may be used from the library's event thread; the struct holds only function
// pointers and that opaque pointer, which Rust never dereferences.
unsafe impl Send for CListener {}
// SAFETY: as above; callbacks are only ever invoked from the single event thread.
unsafe impl Sync for CListener {}

fn quorum_c(q: &QuorumInfo) -> dqs_quorum {
    dqs_quorum {
        llmq_type: q.llmq_type,
        quorum_hash: q.quorum_hash.0,
        height: q.height,
        index: q.index,
        public_key: q.public_key,
        legacy_scheme: q.legacy_scheme,
    }
}

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

struct CStore(dqs_store);

// SAFETY: the host promises (header documentation of `dqs_store`) that its functions and
// `user_data` may be called from library threads; the library never calls them concurrently.
unsafe impl Send for CStore {}
// SAFETY: as above; calls are serialized by the library.
unsafe impl Sync for CStore {}

fn key_c(key: &str) -> Result<CString, StoreError> {
    CString::new(key).map_err(|_| StoreError("key contains NUL".into()))
}

impl Store for CStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let f = self
            .0
            .load
            .ok_or_else(|| StoreError("store has no load function".into()))?;
        let k = key_c(key)?;
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut len: usize = 0;
        let rc = f(self.0.user_data, k.as_ptr(), &mut data, &mut len);
        match rc {
            0 => {
                if data.is_null() {
                    return if len == 0 {
                        Ok(Some(Vec::new()))
                    } else {
                        Err(StoreError("load returned NULL data with a length".into()))
                    };
                }
                // SAFETY: on success the host's `load` returned `data` pointing to `len`
                // readable bytes that stay valid until we hand them to `free_buffer`.
                let v = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
                if let Some(free) = self.0.free_buffer {
                    free(self.0.user_data, data, len);
                }
                Ok(Some(v))
            }
            1 => Ok(None),
            other => Err(StoreError(format!("host load failed with code {other}"))),
        }
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let f = self
            .0
            .save
            .ok_or_else(|| StoreError("store has no save function".into()))?;
        let k = key_c(key)?;
        match f(self.0.user_data, k.as_ptr(), value.as_ptr(), value.len()) {
            0 => Ok(()),
            other => Err(StoreError(format!("host save failed with code {other}"))),
        }
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        let f = self
            .0
            .remove
            .ok_or_else(|| StoreError("store has no remove function".into()))?;
        let k = key_c(key)?;
        match f(self.0.user_data, k.as_ptr()) {
            0 => Ok(()),
            other => Err(StoreError(format!("host remove failed with code {other}"))),
        }
    }
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
        if config.is_null() {
            return Err(null("config"));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: `config` came from `dqs_config_new` and is valid for this call.
        let cfg = unsafe { (*config).inner.clone() };
        let store: Arc<dyn Store> = if store.is_null() {
            Arc::new(MemoryStore::new())
        } else {
            // SAFETY: `store` points to a `dqs_store` valid for this call, of the caller's
            // header version; its first field is `struct_size`, read alone (unaligned-safe) so
            // a shorter struct is never read past its end.
            let size = unsafe { std::ptr::read_unaligned(store as *const u32) } as usize;
            if size < std::mem::size_of::<dqs_store>() {
                return Err((
                    dqs_result::ErrInvalidArgument,
                    "dqs_store.struct_size is too small".into(),
                ));
            }
            // SAFETY: the caller's struct is at least as large as ours (checked above); only
            // our size is read (a newer, longer struct's extra fields are ignored).
            let s = unsafe { std::ptr::read_unaligned(store) };
            if s.load.is_none() || s.save.is_none() || s.remove.is_none() || s.free_buffer.is_none()
            {
                return Err((
                    dqs_result::ErrInvalidArgument,
                    "every dqs_store function is required".into(),
                ));
            }
            Arc::new(CStore(s))
        };
        let listener: Arc<dyn EventListener> = if callbacks.is_null() {
            Arc::new(NoopListener)
        } else {
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
            Arc::new(CListener(c))
        };
        let client = Client::new(cfg, store, listener).map_err(err)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { *out = Box::into_raw(Box::new(dqs_client { inner: client })) };
        Ok(())
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
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !client.is_null() {
            // SAFETY: `client` came from `dqs_client_new` and is freed once (caller contract).
            let c = unsafe { Box::from_raw(client) };
            // Dropping the client closes its store gate first (`Client`'s `Drop`): no store
            // call begins once free has begun (a save's second write, or a new save, while the
            // client stops), and free waits for the call in progress. Then the client stops.
            drop(c);
        }
    }));
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
