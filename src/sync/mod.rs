//! The orchestrator: peers → headers → qrinfo-driven masternode sync → follow the tip.
//!
//! One task owns the flow; peer I/O runs in each peer's own tasks. The pure core (header chain
//! and engine) sits behind a mutex that is only held for synchronous steps, never across an
//! await. Every answer is validated before it changes anything; a peer that sends invalid data is
//! disconnected and banned for the session, and the request is retried on another peer.

mod declined;
pub mod events;
mod headers;
mod lists;
mod peers;
mod run;
mod shared;

use crate::api::{
    ChainLockEvent, ClientError, Config, ErrorKind, EventListener, PhaseMark, Progress, Status,
    SyncState, SyncStrategy,
};
use crate::chain::{HeaderChain, HeaderIndex};
use crate::engine::{Engine, EngineConfig, EngineError, LockVerdict};
use crate::hashes::Hash256;
use crate::net::{
    Blame, ConnId, Expect, NetCounters, NetError, Notice, Peer, PeerConfig, Penalty, Unsolicited,
};
use crate::sml::QuorumKey;
use crate::store::Store;
use crate::wire::locks::ClSig;
use crate::wire::message::Message;
use crate::wire::mnlistdiff::{GetMnListDiff, MnListDiff};
use crate::wire::qrinfo::QrInfo;
use events::{Event, EventSink};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, Notify};

/// Held lists offered as bases in one `getqrinfo` (Core sets no limit; the engine prunes what
/// it holds, so this is rarely reached).
const MAX_QRINFO_BASES: usize = 64;
/// Rounds of "fetch what is missing" before giving up on this pass.
const MAX_MISSING_ROUNDS: usize = 6;
/// Bans after which an address is not dialled again in this session.
const MAX_BANS: u32 = 3;
/// ChainLocks kept from announcements until they are handled.
const MAX_PENDING_CLSIGS: usize = 4;

use headers::*;
#[doc(hidden)]
pub use headers::{
    range_headers_held_peak, tail_headers_beside_ranges, RANGE_HELD_ANSWERS, TAIL_HELD_ANSWERS,
};
use lists::*;
use peers::*;
use run::*;
pub use shared::Shared;

/// Spawns the sync task on `handle`.
pub fn spawn(shared: Arc<Shared>, handle: &Handle) {
    shared.stop_flag.store(false, Ordering::SeqCst);
    *shared.started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    handle.spawn(async move {
        let sh = shared.clone();
        tokio::select! {
            _ = sh.stop_notify.notified() => {}
            _ = run(shared.clone()) => {}
        }
        sh.peers.store(0, Ordering::Relaxed);
    });
}

/// Why a sync pass ended early.
pub(super) enum PassError {
    /// Stop requested.
    Stopped,
    /// No usable peer right now.
    NoPeers,
    /// Every candidate address was banned [`MAX_BANS`] times: the sync cannot go on.
    AllBanned(String),
    /// No peer is left that this library can read, and at least one sent data of a newer
    /// protocol (what it was): the library must be updated.
    UpdateRequired(String),
}
