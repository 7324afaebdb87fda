//! The C ABI (`include/dash_qrsync.h`, prefix `dqs_`): a thin layer over the Rust API.
//! Every entry point catches panics; see `docs/` and the header for ownership rules.

use std::ffi::c_char;

/// ABI version of the C interface; bumped on any incompatible change of the header.
pub const DQS_ABI_VERSION: u32 = 1;

static VERSION_CSTR: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Returns the library version as a static NUL-terminated string. Never NULL; the caller must
/// not free it.
#[no_mangle]
pub extern "C" fn dqs_version() -> *const c_char {
    VERSION_CSTR.as_ptr() as *const c_char
}

/// Returns DQS_ABI_VERSION as compiled into the library, so a program can check that the header it was compiled against
/// matches the library it loaded.
#[no_mangle]
pub extern "C" fn dqs_abi_version() -> u32 {
    DQS_ABI_VERSION
}
