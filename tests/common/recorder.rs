//! A listener that records every event of a client, for tests that wait on them.

use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::{
    ChainLockEvent, ClientError, EventListener, MasternodesChanged, Progress, SyncState,
};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Everything a client reported, in order.
#[derive(Default)]
pub struct Log {
    pub states: Vec<SyncState>,
    pub quorums: Vec<QuorumInfo>,
    pub chainlocks: Vec<ChainLockEvent>,
    pub errors: Vec<ClientError>,
    pub progress: usize,
    pub masternodes: Vec<MasternodesChanged>,
}

/// Records events and wakes waiters on each.
#[derive(Default)]
pub struct Recorder {
    pub log: Mutex<Log>,
    cv: Condvar,
}

impl Recorder {
    /// Waits until `what` holds of the log; false after `timeout`.
    pub fn wait_for(&self, what: impl Fn(&Log) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut log = self.log.lock().unwrap();
        while !what(&log) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            log = self.cv.wait_timeout(log, deadline - now).unwrap().0;
        }
        true
    }

    fn record(&self, f: impl FnOnce(&mut Log)) {
        f(&mut self.log.lock().unwrap());
        self.cv.notify_all();
    }
}

impl EventListener for Recorder {
    fn on_progress(&self, _: &Progress) {
        self.record(|l| l.progress += 1);
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.record(|l| l.quorums.push(q.clone()));
    }
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        self.record(|l| l.chainlocks.push(*c));
    }
    fn on_state(&self, s: SyncState) {
        self.record(|l| l.states.push(s));
    }
    fn on_error(&self, e: &ClientError) {
        self.record(|l| l.errors.push(e.clone()));
    }
    fn on_masternodes_changed(&self, m: &MasternodesChanged) {
        self.record(|l| l.masternodes.push(*m));
    }
}

/// The last state reported is `Synced`.
pub fn synced(l: &Log) -> bool {
    l.states.last() == Some(&SyncState::Synced)
}
