//! Persistence delegated to the host: the library hands it blobs to keep and asks for them
//! back; it never writes files of its own. [`Store`] is what the host implements;
//! [`MemoryStore`] and [`DirStore`] are reference implementations.

pub mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A host storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store error: {0}")]
pub struct StoreError(pub String);

/// Blob storage the host provides. Keys are short ASCII names chosen by the library, all
/// starting with `dqs.` (`dqs.state.a`, `dqs.state.b`, `dqs.state.head` and header segments
/// `dqs.hdr.<index>.<tag>`, see [`state::is_library_key`]); the host must not interpret the bytes.
/// Calls come from a library thread, never from the host's own callbacks.
pub trait Store: Send + Sync {
    /// The blob saved under `key`, or `None` when there is none.
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Saves (replaces) the blob under `key`. When this returns `Ok` the bytes must be durable.
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key` (no error when absent).
    fn remove(&self, key: &str) -> Result<(), StoreError>;
}

/// Wraps a host store so that its calls never overlap (one at a time, even when a stopped
/// client's last save is still running while a restarted one loads) and so that none begins
/// once [`GatedStore::close`] was called, and none runs after it returns.
pub struct GatedStore {
    inner: Arc<dyn Store>,
    /// Set first by `close`: a call that takes the gate after it was set is refused, even one
    /// that was already waiting for the gate (a save's second write queued behind its first).
    closed: std::sync::atomic::AtomicBool,
    /// Held during every call.
    gate: Mutex<()>,
}

impl std::fmt::Debug for GatedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedStore").finish_non_exhaustive()
    }
}

impl GatedStore {
    /// Gates `inner`.
    pub fn new(inner: Arc<dyn Store>) -> GatedStore {
        GatedStore {
            inner,
            closed: std::sync::atomic::AtomicBool::new(false),
            gate: Mutex::new(()),
        }
    }

    /// Refuses every call that has not begun yet (at once, before waiting), then waits for a
    /// call in progress to return: after this returns the wrapped store is never called again,
    /// and no call begins after this was entered.
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        drop(self.gate.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _held = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError(
                "the client was freed; store no longer used".into(),
            ));
        }
        f(self.inner.as_ref())
    }
}

impl Store for GatedStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|s| s.load(key))
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.with(|s| s.save(key, value))
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.with(|s| s.remove(key))
    }
}

/// Keeps blobs in memory (tests, and hosts that do not persist).
#[derive(Debug, Default)]
pub struct MemoryStore {
    blobs: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Keys currently held (tests use it to check the library touches only its own keys).
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self
            .blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }
}

impl Store for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned())
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), value.to_vec());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(())
    }
}

/// One file per key in a directory, written to a temporary file, synced, then renamed over the
/// old one (atomic on POSIX). For the demo and tests; apps usually store blobs their own way.
#[derive(Debug, Clone)]
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// A store in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<DirStore, StoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        Ok(DirStore { dir })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(StoreError(format!("invalid key {key:?}")));
        }
        Ok(self.dir.join(key))
    }
}

impl Store for DirStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.path(key)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError(format!("cannot read {key}: {e}"))),
        }
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        let path = self.path(key)?;
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(value)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| StoreError(format!("cannot write {key}: {e}")))
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError(format!("cannot remove {key}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_dir_stores_round_trip() {
        let dir = std::env::temp_dir().join(format!("dqs-store-test-{}", std::process::id()));
        let stores: Vec<Box<dyn Store>> = vec![
            Box::new(MemoryStore::new()),
            Box::new(DirStore::new(&dir).unwrap()),
        ];
        for s in &stores {
            assert_eq!(s.load("k1").unwrap(), None);
            s.save("k1", b"abc").unwrap();
            s.save("k1", b"abcd").unwrap();
            assert_eq!(s.load("k1").unwrap().as_deref(), Some(&b"abcd"[..]));
            s.remove("k1").unwrap();
            s.remove("k1").unwrap();
            assert_eq!(s.load("k1").unwrap(), None);
        }
        assert!(DirStore::new(&dir).unwrap().save("../evil", b"x").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
