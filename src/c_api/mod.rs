//! The C ABI (`include/dash_qrsync.h`, prefix `dqs_`): a thin translation of [`crate::api`].
//!
//! Rules every entry point follows:
//! - the body runs inside the one panic guard ([`boundary`]'s `guard`); a panic becomes
//!   `DQS_RESULT_ERR_PANIC` (or the return type's neutral value), never an abort or unwinding
//!   into C;
//! - fallible calls return a [`dqs_result`]; the message of the last failure on the calling
//!   thread is available through [`dqs_last_error_message`];
//! - NULL pointers, invalid UTF-8 and wrong sizes are errors, never crashes;
//! - ownership is written next to each function: objects created by `*_new` are freed by the
//!   matching `*_free`, which accepts NULL.
//!
//! By object: [`boundary`] (panic guard, last error, pointer checks), [`types`] (the
//! `#[repr(C)]` values and their conversions), [`config`] (`dqs_config_*`), [`client`]
//! (`dqs_client_*`), [`events`] (host callbacks), [`store`] (host persistence), `masternodes`
//! (the address book) and [`simnet`] (feature `simnet`); the library-wide functions are here.
#![allow(non_camel_case_types)]
// These functions are called from C, where Rust's `unsafe fn` marking means nothing; every
// pointer is checked for NULL and its contract is documented on the function instead.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod boundary;
mod client;
mod config;
mod events;
mod masternodes;
#[cfg(feature = "simnet")]
pub mod simnet;
mod store;
mod types;

pub use boundary::{dqs_last_error_length, dqs_last_error_message};
pub use client::*;
pub use config::*;
pub use events::dqs_callbacks;
pub use masternodes::*;
pub use store::dqs_store;
pub use types::*;

use boundary::guard;
use std::ffi::c_char;

/// ABI version of the C interface; bumped on any incompatible change of the header
/// (3: `dqs_strategy` and `DQS_ERROR_KIND_NOT_RUNNING` removed, `dqs_status` grew
/// `dependent_round_trips`).
pub const DQS_ABI_VERSION: u32 = 3;

static VERSION_CSTR: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

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
