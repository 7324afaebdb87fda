//! The boundary every C entry point crosses: the one panic guard ([`guard`]), the thread's
//! last-error message, and the checks that turn C pointers into Rust references (NULL is an
//! error, never a crash).

use super::client::dqs_client;
use super::config::dqs_config;
use super::types::{dqs_result, result_of};
use crate::api::{ClientError, Config};
use crate::Client;
use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failure on its way to C: the result code and the message the thread's last error gets.
pub(crate) type FfiError = (dqs_result, String);

/// What a fallible entry point's body returns.
pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

/// The return types of the C functions, and what each gives C when the body panicked.
pub(crate) trait Outcome {
    /// The type the C function returns.
    type C;
    /// The C value of a body that returned normally.
    fn into_c(self) -> Self::C;
    /// The C value of a body that panicked with `msg`.
    fn panicked(msg: &str) -> Self::C;
}

/// Fallible calls: an error sets the thread's last error and returns its code; a panic sets
/// it too and returns `DQS_RESULT_ERR_PANIC`.
impl Outcome for FfiResult {
    type C = dqs_result;
    fn into_c(self) -> dqs_result {
        match self {
            Ok(()) => dqs_result::Ok,
            Err((code, msg)) => {
                set_last_error(&msg);
                code
            }
        }
    }
    fn panicked(msg: &str) -> dqs_result {
        set_last_error(&format!("panic inside dash-qrsync: {msg}"));
        dqs_result::ErrPanic
    }
}

/// Calls that cannot report a failure (the `*_free` functions, the last-error readers, plain
/// getters): a panic returns the type's neutral value (nothing, 0) and leaves the thread's
/// last error as it was.
macro_rules! neutral_outcome {
    ($($t:ty => $v:expr),* $(,)?) => {$(
        impl Outcome for $t {
            type C = $t;
            fn into_c(self) -> $t {
                self
            }
            fn panicked(_msg: &str) -> $t {
                $v
            }
        }
    )*};
}
neutral_outcome!(() => (), usize => 0, u32 => 0);

/// Runs the body of a C entry point: a panic never unwinds into C but becomes the return
/// type's panic value ([`Outcome::panicked`]); an error becomes its result code and the
/// thread's last error.
pub(crate) fn guard<T: Outcome>(f: impl FnOnce() -> T) -> T::C {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v.into_c(),
        Err(p) => T::panicked(&panic_message(p.as_ref())),
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Sets the calling thread's last error message (a NUL inside becomes a space).
pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
}

/// The boundary error of a Rust error: its kind decides the code, its message is kept.
pub(crate) fn err(e: ClientError) -> FfiError {
    (result_of(e.kind), e.message)
}

/// `DQS_RESULT_ERR_NULL` naming the pointer `what`.
pub(crate) fn null(what: &str) -> FfiError {
    (dqs_result::ErrNull, format!("{what} is NULL"))
}

pub(crate) fn cstr<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
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

pub(crate) fn bytes<'a>(p: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller guarantees `p` points to `len` readable bytes for this call; NULL
    // was excluded above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

pub(crate) fn out<T>(p: *mut T, v: T, what: &str) -> FfiResult {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller passes a valid, writable pointer to a `T`; NULL was excluded above.
    unsafe { p.write(v) };
    Ok(())
}

/// The object behind a handle the library created (`*_new`/`*_start`), read-only. The handle
/// `what` must not be freed, nor written from another thread, during the call (the contract
/// of every function taking one).
pub(crate) fn handle_ref<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: `p` was returned boxed by the library and not freed (caller contract, above);
    // it is only read, and nobody writes it during the call.
    Ok(unsafe { &*p })
}

/// The object behind a handle the library created, for writing. The caller does not use the
/// handle `what` from two threads at once.
pub(crate) fn handle_mut<'a, T>(p: *mut T, what: &str) -> FfiResult<&'a mut T> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: `p` was returned boxed by the library and not freed, and no other reference to
    // it is in use during the call (caller contract, above).
    Ok(unsafe { &mut *p })
}

/// Boxes `v` and hands it to C through `*out`, which then owns it (freed by [`free_handle`]).
pub(crate) fn new_handle<T>(v: T, out: *mut *mut T, what: &str) -> FfiResult {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: `out` is non-NULL and writable (caller contract).
    unsafe { *out = Box::into_raw(Box::new(v)) };
    Ok(())
}

/// Frees a handle made by [`new_handle`]; NULL is ignored.
pub(crate) fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: `p` came from `new_handle` and is freed once (caller contract).
        drop(unsafe { Box::from_raw(p) });
    }
}

pub(crate) fn config_mut<'a>(c: *mut dqs_config) -> FfiResult<&'a mut Config> {
    Ok(&mut handle_mut(c, "config")?.inner)
}

pub(crate) fn config_ref<'a>(c: *const dqs_config) -> FfiResult<&'a Config> {
    Ok(&handle_ref(c, "config")?.inner)
}

/// The client behind `c`. `Client` is `Sync`, so shared references from several threads are
/// fine.
pub(crate) fn client_ref<'a>(c: *const dqs_client) -> FfiResult<&'a Client> {
    Ok(&handle_ref(c, "client")?.inner)
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

/// Length in bytes (without the NUL) of the calling thread's last error message; 0 if none.
#[no_mangle]
pub extern "C" fn dqs_last_error_length() -> usize {
    guard(|| LAST_ERROR.with(|e| e.borrow().as_ref().map_or(0, |c| c.as_bytes().len())))
}

/// Copies the calling thread's last error message, NUL-terminated and truncated to fit, into
/// `buf` (`len` bytes, owned by the caller). Returns the number of bytes written without the
/// NUL, or 0 when there is no message or `buf` is NULL / `len` is 0.
#[no_mangle]
pub extern "C" fn dqs_last_error_message(buf: *mut c_char, len: usize) -> usize {
    guard(|| {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = [0 as c_char; 128];
        let n = dqs_last_error_message(buf.as_mut_ptr(), buf.len());
        let bytes: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn fallible_calls_report_errors_and_panics_through_the_last_error() {
        assert_eq!(guard(|| -> FfiResult { Ok(()) }), dqs_result::Ok);
        assert_eq!(
            guard(|| -> FfiResult { Err(null("x")) }),
            dqs_result::ErrNull
        );
        assert_eq!(last_error(), "x is NULL");
        assert_eq!(dqs_last_error_length(), "x is NULL".len());
        let r = guard(|| -> FfiResult { panic!("boom {}", 1) });
        assert_eq!(r, dqs_result::ErrPanic);
        assert_eq!(last_error(), "panic inside dash-qrsync: boom 1");
        let r = guard(|| -> FfiResult { std::panic::panic_any(7u8) });
        assert_eq!(r, dqs_result::ErrPanic);
        assert_eq!(last_error(), "panic inside dash-qrsync: unknown panic");
    }

    #[test]
    fn other_return_types_give_their_neutral_value_and_keep_the_last_error() {
        set_last_error("earlier");
        assert_eq!(guard(|| 5usize), 5);
        assert_eq!(guard(|| -> usize { panic!("boom") }), 0);
        assert_eq!(guard(|| -> u32 { panic!("boom") }), 0);
        guard(|| -> () { panic!("boom") });
        assert_eq!(last_error(), "earlier");
    }

    #[test]
    fn handles_are_checked_for_null_and_freed_once() {
        let mut h: *mut u64 = std::ptr::null_mut();
        assert_eq!(
            new_handle(9u64, std::ptr::null_mut(), "out"),
            Err(null("out"))
        );
        assert_eq!(new_handle(9u64, &mut h, "out"), Ok(()));
        assert_eq!(handle_ref(h, "h").copied(), Ok(9));
        *handle_mut(h, "h").unwrap() = 10;
        assert_eq!(handle_ref(h, "h").copied(), Ok(10));
        assert_eq!(
            handle_ref::<u64>(std::ptr::null(), "h").copied(),
            Err(null("h"))
        );
        free_handle(h);
        free_handle::<u64>(std::ptr::null_mut());
    }
}
