//! The private tokio runtime a client owns: created by `start`, shut down by `stop` within a
//! bounded time, safe to stop or drop from any thread (including a runtime thread or a callback).

use std::sync::Mutex;
use std::time::Duration;
use tokio::runtime::Handle;

/// A lazily started multi-threaded runtime (2 workers named `dqs-rt`).
#[derive(Debug, Default)]
pub struct Runtime {
    inner: Mutex<Option<tokio::runtime::Runtime>>,
}

impl Runtime {
    /// A runtime that is not running yet.
    pub fn new() -> Runtime {
        Runtime::default()
    }

    /// Starts the runtime (no-op when running) and calls `spawn` with its handle.
    pub fn start(&self, spawn: impl FnOnce(&Handle)) -> Result<(), String> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_some() {
            return Ok(());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dqs-rt")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot create the runtime: {e}"))?;
        spawn(rt.handle());
        *guard = Some(rt);
        Ok(())
    }

    /// Shuts the runtime down: waits up to `timeout` for tasks to finish, or — when called from
    /// inside a runtime, where blocking is not allowed — lets them finish in the background.
    pub fn stop(&self, timeout: Duration) {
        let rt = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rt) = rt {
            if Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(timeout);
            }
        }
    }
}
