//! Host persistence: `dqs_store` and the [`Store`] that calls it.

use super::boundary::FfiResult;
use super::types::dqs_result;
use crate::store::{MemoryStore, Store, StoreError};
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

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

/// The store for the host's `store` (NULL: state kept in memory only), checked as
/// `dqs_client_new` documents.
pub(crate) fn store_from_c(store: *const dqs_store) -> FfiResult<Arc<dyn Store>> {
    if store.is_null() {
        return Ok(Arc::new(MemoryStore::new()));
    }
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
    if s.load.is_none() || s.save.is_none() || s.remove.is_none() || s.free_buffer.is_none() {
        return Err((
            dqs_result::ErrInvalidArgument,
            "every dqs_store function is required".into(),
        ));
    }
    Ok(Arc::new(CStore(s)))
}
