//! Event delivery: one library thread (`dqs-events`) calls the listener in order, with no lock
//! held; the sync only enqueues, so a slow listener never blocks it.

use crate::api::{
    ChainLockEvent, ClientError, EventListener, MasternodesChanged, Progress, SyncState,
};
use crate::engine::QuorumInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};

/// One event for the listener.
#[derive(Debug, Clone)]
pub enum Event {
    /// Progress report.
    Progress(Progress),
    /// A quorum validated.
    Quorum(QuorumInfo),
    /// A ChainLock verified.
    ChainLock(ChainLockEvent),
    /// State change.
    State(SyncState),
    /// An error.
    Error(ClientError),
    /// The tip list's entries changed.
    Masternodes(MasternodesChanged),
}

/// The queue and the thread that drains it.
pub struct EventSink {
    tx: Mutex<Option<mpsc::Sender<Event>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink")
    }
}

impl EventSink {
    /// Starts the delivery thread.
    pub fn new(listener: Arc<dyn EventListener>) -> EventSink {
        let (tx, rx) = mpsc::channel::<Event>();
        let closed = Arc::new(AtomicBool::new(false));
        let closed2 = closed.clone();
        let thread = std::thread::Builder::new()
            .name("dqs-events".into())
            .spawn(move || {
                for ev in rx {
                    if closed2.load(Ordering::SeqCst) {
                        break;
                    }
                    // A panicking Rust listener must not take the delivery thread down.
                    let l = listener.clone();
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || match &ev {
                            Event::Progress(p) => l.on_progress(p),
                            Event::Quorum(q) => l.on_quorum_available(q),
                            Event::ChainLock(c) => l.on_chain_lock(c),
                            Event::State(s) => l.on_state(*s),
                            Event::Error(e) => l.on_error(e),
                            Event::Masternodes(m) => l.on_masternodes_changed(m),
                        }));
                }
            })
            .expect("the OS can start a thread");
        EventSink {
            tx: Mutex::new(Some(tx)),
            thread_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
            closed,
        }
    }

    /// Enqueues an event (dropped after `close`).
    pub fn emit(&self, ev: Event) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send(ev);
        }
    }

    /// Stops delivery: events still queued are discarded, the callback running now finishes.
    /// Waits for the thread unless called from it (e.g. the client dropped inside a callback),
    /// so that after this returns no callback runs any more.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if std::thread::current().id() != self.thread_id {
            if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = t.join();
            }
        }
    }
}
