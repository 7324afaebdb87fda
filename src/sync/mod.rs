//! The orchestrator: peers → headers → qrinfo-driven masternode sync → follow the tip.
//!
//! One task owns the flow; peer I/O runs in each peer's own tasks. The pure core (header chain
//! and engine) sits behind a mutex that is only held for synchronous steps, never across an
//! await. Every answer is validated before it changes anything; a peer that sends invalid data is
//! disconnected and banned for the session, and the request is retried on another peer.

pub mod events;

use crate::api::{
    ChainLockEvent, ClientError, Config, ErrorKind, EventListener, Progress, Status, SyncState,
    SyncStrategy,
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

/// The pure state the sync drives.
#[derive(Debug)]
pub struct SyncData {
    /// Validated header chain.
    pub headers: HeaderChain,
    /// The masternode-list engine.
    pub engine: Engine,
}

/// State shared between the client handle, the sync task and event delivery.
pub struct Shared {
    /// Configuration.
    pub config: Config,
    store: Arc<dyn Store>,
    events: EventSink,
    data: Mutex<SyncData>,
    state: Mutex<SyncState>,
    stop_flag: AtomicBool,
    stop_notify: Notify,
    /// Network counters.
    pub counters: Arc<NetCounters>,
    peers: AtomicU32,
    target: AtomicU32,
    reported: Mutex<HashSet<QuorumKey>>,
    started: Mutex<Option<Instant>>,
    list_phase: Mutex<Option<PhaseMark>>,
    /// The tip for which every attempt at a `getqrinfo` went unanswered (Core sends nothing
    /// when it cannot build one, e.g. without quorum snapshots); not asked again until the tip
    /// moves.
    declined_qrinfo: Mutex<Option<Hash256>>,
}

/// The counters when the masternode-list phase of the first sync began (headers synced).
#[derive(Debug, Clone, Copy)]
pub struct PhaseMark {
    /// When.
    pub at: Instant,
    /// Requests sent so far.
    pub round_trips: u64,
    /// Dependent round trips so far.
    pub dependent_round_trips: u64,
    /// Bytes received so far.
    pub bytes_in: u64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Fresh state for a client.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        listener: Arc<dyn EventListener>,
    ) -> Arc<Shared> {
        let headers = config.initial_header_chain();
        let engine = Engine::new(EngineConfig {
            params: config.chain.clone(),
            profile: config.profile,
        });
        Arc::new(Shared {
            config,
            // Serialised: a stopped client's last save never overlaps a restarted one's load.
            store: Arc::new(crate::store::GatedStore::new(store)),
            events: EventSink::new(listener),
            data: Mutex::new(SyncData { headers, engine }),
            state: Mutex::new(SyncState::Idle),
            stop_flag: AtomicBool::new(false),
            stop_notify: Notify::new(),
            counters: Arc::default(),
            peers: AtomicU32::new(0),
            target: AtomicU32::new(0),
            reported: Mutex::default(),
            started: Mutex::default(),
            list_phase: Mutex::default(),
            declined_qrinfo: Mutex::default(),
        })
    }

    /// Asks the sync task to end.
    pub fn request_stop(&self) {
        self.stop_flag.store(true, Ordering::SeqCst);
        self.stop_notify.notify_waiters();
    }

    fn stopping(&self) -> bool {
        self.stop_flag.load(Ordering::SeqCst)
    }

    /// Sets and reports the state.
    pub fn set_state(&self, s: SyncState) {
        let changed = {
            let mut cur = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // After a stop request only `Stopped` may be set: a sync task still finishing a
            // step (e.g. when `stop` was called from inside the host's store) must not report
            // `Synced` afterwards.
            if self.stopping() && s != SyncState::Stopped {
                return;
            }
            let changed = *cur != s;
            *cur = s;
            changed
        };
        if changed {
            self.events.emit(Event::State(s));
        }
    }

    fn state(&self) -> SyncState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the pure state.
    pub fn with_state<T>(&self, f: impl FnOnce(&SyncData) -> T) -> T {
        f(&self.data.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn with_state_mut<T>(&self, f: impl FnOnce(&mut SyncData) -> T) -> T {
        f(&mut self.data.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The counters at the start of the first masternode-list phase (for the benchmark).
    pub fn list_phase(&self) -> Option<PhaseMark> {
        *self.list_phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark_list_phase(&self) {
        let mut m = self.list_phase.lock().unwrap_or_else(|e| e.into_inner());
        if m.is_none() {
            *m = Some(PhaseMark {
                at: Instant::now(),
                round_trips: self.counters.round_trips.load(Ordering::Relaxed),
                dependent_round_trips: self.counters.dependent_round_trips.load(Ordering::Relaxed),
                bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            });
        }
    }

    /// Ends event delivery (on drop of the client).
    pub fn close_events(&self) {
        self.events.close();
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>, recoverable: bool) {
        let e = ClientError::new(kind, message, recoverable);
        tracing::warn!(kind = ?e.kind, "{}", e.message);
        self.events.emit(Event::Error(e));
    }

    /// Status snapshot.
    pub fn status(&self) -> Status {
        let (header_height, list_height, quorums) = self.with_state(|s| {
            (
                s.headers.tip().0,
                s.engine.tip_list().map(|l| l.height),
                s.engine.validated_count() as u32,
            )
        });
        Status {
            state: self.state(),
            header_height,
            list_height,
            quorums_validated: quorums,
            peers: self.peers.load(Ordering::Relaxed),
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            round_trips: self.counters.round_trips.load(Ordering::Relaxed),
            dependent_round_trips: self.counters.dependent_round_trips.load(Ordering::Relaxed),
        }
    }

    fn progress(&self) {
        let (h, held, missing, validated, unvalidated) = self.with_state(|s| {
            let m = s.engine.missing(&s.headers);
            (
                s.headers.tip().0,
                s.engine.held_lists().len() as u32,
                (m.list_heights.len() + m.snapshot_heights.len()) as u32,
                s.engine.validated_count() as u32,
                m.unvalidated_quorums as u32,
            )
        });
        let target = self.target.load(Ordering::Relaxed).max(h);
        let state = self.state();
        let header_part = if target == 0 {
            1.0
        } else {
            h as f32 / target as f32
        };
        let list_part = if validated + unvalidated == 0 {
            0.0
        } else {
            validated as f32 / (validated + unvalidated) as f32
        };
        let percent = match state {
            SyncState::Synced => 100.0,
            SyncState::Headers | SyncState::Connecting | SyncState::Idle => 50.0 * header_part,
            _ => 50.0 + 50.0 * list_part,
        };
        let elapsed = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|t| t.elapsed().as_secs_f64());
        let eta = elapsed
            .filter(|_| percent > 1.0 && percent < 100.0)
            .map(|e| e * (100.0 - percent as f64) / percent as f64);
        self.events.emit(Event::Progress(Progress {
            state,
            header_height: h,
            target_height: target,
            lists_held: held,
            lists_missing: missing,
            quorums_validated: validated,
            percent,
            requests_in_flight: self.counters.in_flight.load(Ordering::Relaxed) as u32,
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            eta_seconds: eta,
        }));
    }

    fn report_quorums(&self, validated: &[crate::engine::QuorumInfo]) {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        for q in validated {
            if reported.insert((q.llmq_type, q.quorum_hash)) {
                self.events.emit(Event::Quorum(q.clone()));
            }
        }
    }
}

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
enum PassError {
    /// Stop requested.
    Stopped,
    /// No usable peer right now.
    NoPeers,
    /// Every candidate address was banned [`MAX_BANS`] times: the sync cannot go on.
    AllBanned(String),
}

/// The connected peers and what the sync learnt about the others.
struct Peers {
    list: Vec<Arc<Peer>>,
    /// Per address: failures so far and when the last one happened. An address is not dialled
    /// again before its back-off (0.5 s doubling per failure, at most 60 s) has passed;
    /// misbehaviour counts as several failures.
    failures: HashMap<SocketAddr, (u32, Instant)>,
    /// Per address: bans so far and the last reason.
    bans: HashMap<SocketAddr, (u32, String)>,
    /// Connections whose failure was already reported and penalised.
    handled: HashSet<u64>,
    next: usize,
    tx: mpsc::Sender<Unsolicited>,
    rx: mpsc::Receiver<Unsolicited>,
    /// A new block was announced since the last pass.
    new_block: bool,
    /// ChainLocks received unsolicited, not yet handled (newest last, bounded).
    clsigs: Vec<(ConnId, ClSig)>,
}

impl Peers {
    fn record_failure(&mut self, addr: SocketAddr, weight: u32) {
        let e = self.failures.entry(addr).or_insert((0, Instant::now()));
        e.0 = e.0.saturating_add(weight);
        e.1 = Instant::now();
    }

    fn backoff(count: u32) -> Duration {
        let ms = 500u64.saturating_mul(1u64 << count.min(7).saturating_sub(1));
        Duration::from_millis(ms.min(60_000))
    }

    /// When `addr` may be dialled again (`None` = now).
    fn wait_for(&self, addr: &SocketAddr) -> Option<Duration> {
        let (count, last) = self.failures.get(addr)?;
        let due = *last + Peers::backoff(*count);
        due.checked_duration_since(Instant::now())
    }

    /// Failures that still count when choosing a peer: those of the last minute (an old
    /// timeout does not keep a peer out of the rotation for the whole session).
    fn failures_of(&self, addr: &SocketAddr) -> u32 {
        self.failures
            .get(addr)
            .filter(|f| f.1.elapsed() < Duration::from_secs(60))
            .map_or(0, |f| f.0)
    }

    fn remove(&mut self, addr: SocketAddr) {
        self.list.retain(|p| p.addr != addr);
    }

    /// Whether `addr` was banned too often to be dialled again.
    fn banned_out(&self, addr: &SocketAddr) -> bool {
        self.bans.get(addr).is_some_and(|b| b.0 >= MAX_BANS)
    }

    fn pick(&mut self, min_version: u32) -> Option<Arc<Peer>> {
        let fewest = self
            .list
            .iter()
            .filter(|p| p.version >= min_version && !p.is_closed())
            .map(|p| self.failures_of(&p.addr))
            .min()?;
        // Only the peers that failed least (a peer that timed out is not asked again while
        // another has a cleaner record); rotate among them.
        let usable: Vec<_> = self
            .list
            .iter()
            .filter(|p| {
                p.version >= min_version && !p.is_closed() && self.failures_of(&p.addr) <= fewest
            })
            .cloned()
            .collect();
        if usable.is_empty() {
            return None;
        }
        self.next = self.next.wrapping_add(1);
        Some(usable[self.next % usable.len()].clone())
    }
}

async fn candidates(sh: &Shared) -> Vec<SocketAddr> {
    let mut out = sh.config.peers.clone();
    if sh.config.use_dns_seeds {
        let port = sh.config.network().default_port();
        for seed in sh.config.network().dns_seeds() {
            if let Ok(Ok(addrs)) = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::lookup_host((*seed, port)),
            )
            .await
            {
                out.extend(addrs);
            }
        }
    }
    out
}

async fn refill(sh: &Arc<Shared>, peers: &mut Peers) {
    reap(sh, peers);
    if peers.list.len() >= sh.config.max_peers {
        return;
    }
    let start_height = sh.with_state(|s| s.headers.tip().0) as i32;
    let cfg = PeerConfig {
        network: sh.config.network(),
        protocol_version: sh.config.protocol_version,
        connect_timeout: sh.config.connect_timeout,
        io_timeout: sh.config.request_timeout,
        start_height,
        budget: crate::net::Budget::default(),
    };
    let connected: HashSet<SocketAddr> = peers.list.iter().map(|p| p.addr).collect();
    let want = sh.config.max_peers - peers.list.len();
    let todo: Vec<SocketAddr> = candidates(sh)
        .await
        .into_iter()
        .filter(|a| !connected.contains(a) && !peers.banned_out(a) && peers.wait_for(a).is_none())
        .take(want)
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for addr in todo {
        let (cfg, counters, tx) = (cfg.clone(), sh.counters.clone(), peers.tx.clone());
        set.spawn(async move { Peer::connect(addr, &cfg, counters, tx).await });
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(p)) => {
                sh.target
                    .fetch_max(p.start_height.max(0) as u32, Ordering::Relaxed);
                peers.list.push(Arc::new(p));
            }
            Ok(Err(e)) => lost(sh, peers, &e),
            Err(_) => {}
        }
    }
    sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
}

/// Bans `addr` for data it sent (`why` names it): its connections are closed with that reason
/// (their other requests fail at once), and after [`MAX_BANS`] bans it is not dialled again.
fn misbehaved(sh: &Shared, peers: &mut Peers, addr: SocketAddr, why: String) {
    let bans = {
        let b = peers.bans.entry(addr).or_insert((0, String::new()));
        b.0 += 1;
        b.1 = why.clone();
        b.0
    };
    let last = if bans >= MAX_BANS {
        format!(" ({bans} bans: not dialled again)")
    } else {
        String::new()
    };
    sh.error(
        ErrorKind::PeerMisbehaved,
        format!("{addr}: {why}; disconnected and banned{last}"),
        true,
    );
    for p in peers.list.iter().filter(|p| p.addr == addr) {
        peers.handled.insert(p.conn_id().id);
        p.close_with(NetError::Misbehaved(p.conn_id(), why.clone()));
    }
    peers.record_failure(addr, 2);
    peers.remove(addr);
    sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
}

/// Reports and penalises a failed connection or request, classified by [`Blame::penalty`]. A
/// failure is tied to its own connection: it never closes a later connection to the same
/// address, and each connection's failure is reported once.
fn lost(sh: &Shared, peers: &mut Peers, e: &NetError) {
    let addr = e.addr();
    if let Some(c) = e.conn() {
        if !peers.handled.insert(c.id) {
            return;
        }
    }
    if let NetError::Misbehaved(_, why) = e {
        // Close this connection with its own reason first (misbehaved closes by address).
        if let Some(p) = peers.list.iter().find(|p| Some(p.conn_id()) == e.conn()) {
            p.close_with(e.clone());
        }
        misbehaved(sh, peers, addr, why.clone());
        return;
    }
    debug_assert_ne!(e.penalty(), Penalty::Ban);
    sh.error(ErrorKind::Network, e.to_string(), true);
    if let Some(c) = e.conn() {
        if let Some(p) = peers.list.iter().find(|p| p.conn_id() == c) {
            p.close_with(e.clone());
        }
        peers.list.retain(|p| p.conn_id() != c);
    }
    peers.record_failure(addr, 1);
    sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
}

/// Reports the connections that closed on their own (each with its real reason).
fn reap(sh: &Shared, peers: &mut Peers) {
    let closed: Vec<NetError> = peers
        .list
        .iter()
        .filter(|p| p.is_closed())
        .map(|p| p.close_reason())
        .collect();
    for e in closed {
        lost(sh, peers, &e);
    }
    let handled = &peers.handled;
    peers
        .list
        .retain(|p| !(p.is_closed() && handled.contains(&p.conn_id().id)));
    // Bounded: forget handled connections that are gone (a late error of one of them would
    // only be reported again, never touch another connection).
    if peers.handled.len() > 1024 {
        let live: HashSet<u64> = peers.list.iter().map(|p| p.conn_id().id).collect();
        peers.handled.retain(|id| live.contains(id));
    }
    sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
}

/// Handles one notice: closes are reaped, announcements noted, ChainLock inventory fetched.
fn note(sh: &Shared, peers: &mut Peers, u: Unsolicited) {
    match u.notice {
        Notice::Closed => reap(sh, peers),
        Notice::NewBlock => peers.new_block = true,
        Notice::ClSigInv(cls) => {
            if let Some(p) = peers.list.iter().find(|p| p.conn_id() == u.conn) {
                p.send(Message::GetData(cls));
            }
        }
        Notice::ClSig(cl) => {
            if peers.clsigs.len() >= MAX_PENDING_CLSIGS {
                peers.clsigs.remove(0);
            }
            peers.clsigs.push((u.conn, cl));
        }
    }
}

/// Handles every queued notice without waiting (also while a pass runs).
fn drain(sh: &Shared, peers: &mut Peers) {
    while let Ok(u) = peers.rx.try_recv() {
        note(sh, peers, u);
    }
}

async fn ensure_peers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    let mut delay = Duration::from_millis(200);
    loop {
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
        drain(sh, peers);
        refill(sh, peers).await;
        if !peers.list.is_empty() {
            return Ok(());
        }
        let all = candidates(sh).await;
        if !all.is_empty() && all.iter().all(|a| peers.banned_out(a)) {
            let why: Vec<String> = all
                .iter()
                .filter_map(|a| peers.bans.get(a).map(|b| format!("{a}: {}", b.1)))
                .collect();
            return Err(PassError::AllBanned(why.join("; ")));
        }
        // Wait until the first address is due again (or a short pause when none failed).
        let due = candidates(sh)
            .await
            .iter()
            .filter_map(|a| peers.wait_for(a))
            .min()
            .unwrap_or(delay);
        tokio::time::sleep(due.max(Duration::from_millis(50))).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// Downloads headers until the best peer has nothing newer.
async fn sync_headers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    loop {
        ensure_peers(sh, peers).await?;
        let Some(peer) = peers
            .list
            .iter()
            .filter(|p| !p.is_closed())
            .min_by_key(|p| (peers.failures_of(&p.addr), -(p.start_height as i64)))
            .cloned()
        else {
            return Err(PassError::NoPeers);
        };
        let locator = sh.with_state(|s| s.headers.locator());
        let (msg, expect) = peer.get_headers_msg(locator);
        match peer.request(msg, expect, sh.config.request_timeout).await {
            Ok(Message::Headers(hs) | Message::Headers2(hs)) => {
                let n = hs.len();
                if n == 0 {
                    return Ok(());
                }
                let r = sh.with_state_mut(|s| {
                    let out = s.headers.connect(&hs)?;
                    if let Some(reorg) = &out.reorg {
                        s.engine.rewind_to(reorg.fork_height);
                    }
                    Ok::<_, crate::chain::ChainError>(out)
                });
                match r {
                    Ok(out) => {
                        sh.target.fetch_max(out.tip_height, Ordering::Relaxed);
                        sh.progress();
                        if n < peer.max_headers_per_message() {
                            return Ok(());
                        }
                    }
                    Err(e) if e.penalty() == Penalty::Ban => {
                        misbehaved(sh, peers, peer.addr, format!("invalid headers: {e}"))
                    }
                    Err(e) => lost(
                        sh,
                        peers,
                        &NetError::Closed(peer.conn_id(), format!("headers not usable: {e}")),
                    ),
                }
            }
            Ok(_) => {}
            Err(e) => lost(sh, peers, &e),
        }
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
}

/// Whether an engine error blames the peer (invalid data) or our own view (unknown block); the
/// classification itself is [`Blame::penalty`].
fn blames_peer(e: &EngineError) -> bool {
    e.penalty() == Penalty::Ban
}

/// Attempts at one `getqrinfo` before it counts as declined for the tip.
const QRINFO_ATTEMPTS: usize = 4;

/// One `getqrinfo` for the tip with the held lists as bases. `Ok(false)` when no peer answered
/// (Core answers nothing it cannot build): reported once as an error naming the request, and
/// not asked again for the same tip.
async fn fetch_qrinfo(sh: &Arc<Shared>, peers: &mut Peers) -> Result<bool, PassError> {
    let tip = sh.with_state(|s| s.headers.tip());
    let declined = sh
        .declined_qrinfo
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some_and(|d| d == tip.1);
    if declined {
        return Ok(false);
    }
    for _attempt in 0..QRINFO_ATTEMPTS {
        ensure_peers(sh, peers).await?;
        let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
            return Ok(false);
        };
        let bases = if sh.config.strategy == SyncStrategy::SequentialFromGenesis {
            0
        } else {
            MAX_QRINFO_BASES
        };
        let req = sh.with_state(|s| {
            let tip = s.headers.tip().1;
            s.engine.qrinfo_request(tip, bases)
        });
        match peer
            .request(
                Message::GetQrInfo(req),
                Expect::QrInfo,
                sh.config.request_timeout,
            )
            .await
        {
            Ok(Message::QrInfo(q)) => match feed_qrinfo(sh, peers, peer.addr, &q) {
                Fed::Yes => {
                    sh.progress();
                    return Ok(true);
                }
                Fed::PeerBanned => {}
                // The peer is ahead of our headers: catch up and retry.
                Fed::NotYet => sync_headers(sh, peers).await?,
            },
            Ok(_) => {}
            Err(e) => lost(sh, peers, &e),
        }
    }
    *sh.declined_qrinfo.lock().unwrap_or_else(|e| e.into_inner()) = Some(tip.1);
    sh.error(
        ErrorKind::Network,
        format!(
            "no peer answered getqrinfo for block {} (height {}) in {QRINFO_ATTEMPTS} attempts of {} s: \
             a node that cannot build it (no quorum snapshots) sends nothing; rotated quorums \
             stay unvalidated until a peer answers (retried when the tip moves)",
            tip.1,
            tip.0,
            sh.config.request_timeout.as_secs_f64()
        ),
        true,
    );
    Ok(false)
}

/// One `getmnlistd` with retries on other peers; feeds the answer.
fn fetch_diff(
    sh: &Shared,
    peer: &Peer,
    req: GetMnListDiff,
) -> impl std::future::Future<Output = (SocketAddr, Result<Message, NetError>, GetMnListDiff)>
       + Send
       + 'static {
    // Started now (see `Peer::request`), awaited by the caller or a task.
    let answer = peer.request(
        Message::GetMnListD(req.clone()),
        Expect::MnListDiff(req.block_hash),
        sh.config.request_timeout,
    );
    let addr = peer.addr;
    async move { (addr, answer.await, req) }
}

/// Fetches what the engine still lacks, in parallel across peers (or one at a time for the
/// sequential strategy), until nothing is missing.
async fn fetch_missing(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    for _round in 0..MAX_MISSING_ROUNDS {
        let (missing, reqs) = sh.with_state(|s| {
            let m = s.engine.missing(&s.headers);
            let r = if sh.config.strategy == SyncStrategy::SequentialFromGenesis {
                s.engine.mnlistdiff_requests_from_genesis(&m, &s.headers)
            } else {
                s.engine.mnlistdiff_requests(&m, &s.headers)
            };
            (m, r)
        });
        if missing.is_empty() {
            return Ok(());
        }
        if !missing.snapshot_heights.is_empty() && reqs.is_empty() {
            // Only a qrinfo delivers rotation snapshots.
            if !fetch_qrinfo(sh, peers).await? {
                return Ok(());
            }
            continue;
        }
        if reqs.is_empty() {
            return Ok(());
        }
        ensure_peers(sh, peers).await?;
        let mut answers = Vec::new();
        if sh.config.strategy != SyncStrategy::QrInfo {
            for req in reqs {
                let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
                    return Err(PassError::NoPeers);
                };
                answers.push(fetch_diff(sh, &peer, req).await);
                if sh.stopping() {
                    return Err(PassError::Stopped);
                }
            }
        } else {
            let mut set = tokio::task::JoinSet::new();
            for req in reqs {
                let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
                    return Err(PassError::NoPeers);
                };
                set.spawn(fetch_diff(sh, &peer, req));
            }
            while let Some(r) = set.join_next().await {
                if let Ok(a) = r {
                    answers.push(a);
                }
            }
        }
        // Feed in ascending height order (each against a base held before this round).
        let mut diffs = Vec::new();
        for (addr, r, req) in answers {
            match r {
                Ok(Message::MnListDiff(d)) => diffs.push((addr, d, req)),
                Ok(_) => {}
                Err(e) => lost(sh, peers, &e),
            }
        }
        diffs.sort_by_key(|(_, d, _)| sh.with_state(|s| s.headers.height_of(&d.block_hash)));
        for (addr, d, _) in diffs {
            feed_diff(sh, peers, addr, &d);
        }
        sh.progress();
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
    Ok(())
}

/// One `getmnlistd` to any usable peer, fed to the engine; invalid answers ban the peer.
async fn fetch_and_feed(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    req: GetMnListDiff,
) -> Result<(), PassError> {
    ensure_peers(sh, peers).await?;
    let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
        return Ok(());
    };
    let (addr, r, _) = fetch_diff(sh, &peer, req).await;
    match r {
        Ok(Message::MnListDiff(d)) => feed_diff(sh, peers, addr, &d),
        Ok(_) => {}
        Err(e) => lost(sh, peers, &e),
    }
    Ok(())
}

/// A cold start in one wave (QrInfo strategy, nothing held): the `getqrinfo` for the tip and the
/// predicted lists go out together, spread over the peers, and are fed in dependency order.
/// Whatever the prediction missed (or a failed answer left out) is fetched afterwards by
/// [`fetch_missing`]; if the qrinfo did not land, it is asked for again on its own.
async fn cold_start(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    ensure_peers(sh, peers).await?;
    let plan = sh.with_state(|s| {
        let (h, t) = s.headers.tip();
        s.engine.cold_start_plan(&s.headers, h, t)
    });
    let min = crate::wire::version::MIN_MNLIST_SYNC_VERSION;
    let timeout = sh.config.request_timeout;
    // The chain first, so its answers arrive (and are fed, overlapping the CPU with the rest of
    // the transfer) while the qrinfo, which is fed last, is still on its way.
    let mut set = tokio::task::JoinSet::new();
    for req in plan.diffs.iter().cloned() {
        let Some(peer) = peers.pick(min) else {
            return Err(PassError::NoPeers);
        };
        set.spawn(fetch_diff(sh, &peer, req));
    }
    let Some(qr_peer) = peers.pick(min) else {
        return Err(PassError::NoPeers);
    };
    let qr_task = {
        let answer = qr_peer.request(
            Message::GetQrInfo(plan.qrinfo.clone()),
            Expect::QrInfo,
            timeout,
        );
        let addr = qr_peer.addr;
        tokio::spawn(async move { (addr, answer.await) })
    };
    // Feed the chain in order as its links arrive (each diff's base is the previous one); a
    // link that failed is skipped, and what it breaks is fetched again by `fetch_missing`.
    let position: HashMap<Hash256, usize> = plan
        .diffs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.block_hash, i))
        .collect();
    let mut ready: std::collections::BTreeMap<usize, Option<(SocketAddr, Box<MnListDiff>)>> =
        std::collections::BTreeMap::new();
    let mut next = 0usize;
    while let Some(r) = set.join_next().await {
        let Ok((addr, answer, req)) = r else {
            continue;
        };
        let at = position.get(&req.block_hash).copied().unwrap_or(usize::MAX);
        let item = match answer {
            Ok(Message::MnListDiff(d)) => Some((addr, d)),
            Ok(_) => None,
            Err(e) => {
                lost(sh, peers, &e);
                None
            }
        };
        ready.insert(at, item);
        while let Some(item) = ready.remove(&next) {
            if let Some((addr, d)) = item {
                feed_diff(sh, peers, addr, &d);
            }
            next += 1;
        }
    }
    // Links after a lost task: feed what arrived, in order.
    for (addr, d) in ready.into_values().flatten() {
        feed_diff(sh, peers, addr, &d);
    }
    let qrinfo = match qr_task.await {
        Ok((addr, Ok(Message::QrInfo(q)))) => Some((addr, q)),
        Ok((_, Err(e))) => {
            lost(sh, peers, &e);
            None
        }
        _ => None,
    };
    let qrinfo_fed = qrinfo.is_some_and(|(addr, q)| feed_qrinfo(sh, peers, addr, &q) == Fed::Yes);
    sh.progress();
    if sh.stopping() {
        return Err(PassError::Stopped);
    }
    if !qrinfo_fed && !fetch_qrinfo(sh, peers).await? {
        // Declined: the tip list by a plain diff, so that a network without rotated quorums
        // (e.g. a regtest node with no masternodes) still syncs.
        fetch_tip_list(sh, peers).await?;
    }
    Ok(())
}

/// The list at the header tip by one `getmnlistd` from the newest held list.
async fn fetch_tip_list(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    let (tip_hash, base) = sh.with_state(|s| {
        (
            s.headers.tip().1,
            s.engine.tip_list().map_or(Hash256::ZERO, |l| l.block_hash),
        )
    });
    if base == tip_hash {
        return Ok(());
    }
    fetch_and_feed(
        sh,
        peers,
        GetMnListDiff {
            base_block_hash: base,
            block_hash: tip_hash,
        },
    )
    .await
}

/// What became of an answer fed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fed {
    /// Stored (and its quorums reported).
    Yes,
    /// Invalid: the peer was banned.
    PeerBanned,
    /// It names a block or base we do not have yet: not the peer's fault.
    NotYet,
}

/// Feeds one answered qrinfo; invalid data bans the peer.
fn feed_qrinfo(sh: &Shared, peers: &mut Peers, addr: SocketAddr, q: &QrInfo) -> Fed {
    let t = Instant::now();
    match sh.with_state_mut(|s| s.engine.feed_qrinfo(q, &s.headers)) {
        Ok(out) => {
            tracing::debug!(
                quorums = out.quorums_validated.len(),
                bls = out.bls_verifications,
                ms = t.elapsed().as_secs_f64() * 1000.0,
                "qrinfo fed"
            );
            sh.report_quorums(&out.quorums_validated);
            Fed::Yes
        }
        Err(e) if blames_peer(&e) => {
            misbehaved(sh, peers, addr, format!("invalid qrinfo: {e}"));
            Fed::PeerBanned
        }
        Err(_) => Fed::NotYet,
    }
}

/// Feeds one answered diff; invalid data bans the peer, a missing base is left for later.
fn feed_diff(sh: &Shared, peers: &mut Peers, addr: SocketAddr, d: &MnListDiff) {
    let t = Instant::now();
    match sh.with_state_mut(|s| s.engine.feed_mnlistdiff(d, &s.headers)) {
        Ok(out) => {
            tracing::debug!(
                block = %d.block_hash,
                entries = d.mn_list.len(),
                quorums = out.quorums_validated.len(),
                bls = out.bls_verifications,
                ms = t.elapsed().as_secs_f64() * 1000.0,
                "mnlistdiff fed"
            );
            sh.report_quorums(&out.quorums_validated)
        }
        Err(e) if blames_peer(&e) => {
            misbehaved(sh, peers, addr, format!("invalid mnlistdiff: {e}"))
        }
        Err(_) => {}
    }
}

/// Brings the engine to the header tip: a `getqrinfo` on a cold start (the full list by
/// `getmnlistd` for the sequential baseline), otherwise one diff from the newest held list;
/// then whatever is still missing (which asks for a `getqrinfo` when a new rotation cycle
/// needs snapshots).
async fn sync_lists(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    let (tip_hash, held_tip) =
        sh.with_state(|s| (s.headers.tip().1, s.engine.tip_list().map(|l| l.block_hash)));
    match held_tip {
        Some(t) if t == tip_hash => {}
        Some(base) => {
            let req = GetMnListDiff {
                base_block_hash: base,
                block_hash: tip_hash,
            };
            fetch_and_feed(sh, peers, req).await?;
        }
        None if sh.config.strategy != SyncStrategy::QrInfo => {
            // Baseline: the full list at the tip first, one request at a time afterwards.
            let req = GetMnListDiff {
                base_block_hash: Hash256::ZERO,
                block_hash: tip_hash,
            };
            fetch_and_feed(sh, peers, req).await?;
        }
        None => cold_start(sh, peers).await?,
    }
    fetch_missing(sh, peers).await
}

/// Loads saved state from the host's store; bad state is reported and replaced by a clean start.
async fn restore(sh: &Arc<Shared>) {
    let store = sh.store.clone();
    let cfg = sh.with_state(|s| s.engine.config().clone());
    let r =
        tokio::task::spawn_blocking(move || crate::store::state::load(store.as_ref(), &cfg)).await;
    match r {
        Ok(Ok((saved, warning))) => {
            if let Some(w) = warning {
                sh.error(
                    ErrorKind::CorruptState,
                    format!("newest saved state skipped: {w}"),
                    true,
                );
            }
            let start_ok = sh.config.accepts_saved_chain(&saved.headers);
            if !start_ok {
                sh.error(
                    ErrorKind::CorruptState,
                    "saved state starts at another checkpoint; resyncing",
                    true,
                );
                return;
            }
            let restored: Vec<_> = saved
                .engine
                .held_lists()
                .last()
                .map(|_| {
                    let tip = saved.engine.tip_list().cloned();
                    tip.map(|t| {
                        t.quorums
                            .keys()
                            .filter_map(|k| saved.engine.quorum(k.0, &k.1).map(|q| q.info.clone()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
                })
                .unwrap_or_default();
            sh.with_state_mut(|s| {
                s.headers = saved.headers;
                s.engine = saved.engine;
            });
            sh.report_quorums(&restored);
            sh.progress();
        }
        Ok(Err(crate::store::state::StateError::Empty)) => {}
        Ok(Err(crate::store::state::StateError::Store(e))) => sh.error(
            ErrorKind::Store,
            format!("cannot load saved state: {e}; syncing from scratch"),
            true,
        ),
        Ok(Err(e)) => sh.error(
            ErrorKind::CorruptState,
            format!("{e}; syncing from scratch"),
            true,
        ),
        // Cancelled by a stop (the runtime shut down under it): not a failure.
        Err(e) if e.is_cancelled() || sh.stopping() => {}
        Err(_) => sh.error(ErrorKind::Internal, "state loading task failed", true),
    }
}

/// Saves the current state through the host's store (on a blocking thread).
async fn persist(sh: &Arc<Shared>) {
    let blob = sh.with_state(|s| crate::store::state::encode(&s.headers, &s.engine));
    let store = sh.store.clone();
    let r =
        tokio::task::spawn_blocking(move || crate::store::state::save(store.as_ref(), &blob)).await;
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => sh.error(ErrorKind::Store, format!("cannot save state: {e}"), true),
        Err(e) if e.is_cancelled() || sh.stopping() => {}
        Err(_) => sh.error(ErrorKind::Internal, "state saving task failed", true),
    }
}

fn synced(sh: &Shared) -> bool {
    sh.with_state(|s| {
        s.engine.tip_list().map(|l| l.block_hash) == Some(s.headers.tip().1)
            && s.engine.missing(&s.headers).is_empty()
    })
}

/// Verifies a ChainLock; reports it once when valid.
fn handle_clsig(sh: &Shared, cl: &ClSig, seen: &mut HashMap<u32, Hash256>) -> LockVerdict {
    let v = sh.with_state(|s| s.engine.verify_clsig(cl, &s.headers));
    if let LockVerdict::Valid { .. } = v {
        let h = cl.height.max(0) as u32;
        if seen.insert(h, cl.block_hash) != Some(cl.block_hash) {
            sh.events.emit(Event::ChainLock(ChainLockEvent {
                height: h,
                block_hash: cl.block_hash,
            }));
        }
    }
    v
}

async fn run(sh: Arc<Shared>) {
    let (tx, rx) = mpsc::channel::<Unsolicited>(crate::net::NOTICE_QUEUE);
    let mut peers = Peers {
        list: Vec::new(),
        failures: HashMap::new(),
        bans: HashMap::new(),
        handled: HashSet::new(),
        next: 0,
        tx,
        rx,
        new_block: false,
        clsigs: Vec::new(),
    };
    let mut chainlocks: HashMap<u32, Hash256> = HashMap::new();
    let mut pending_clsig: Option<ClSig> = None;
    let mut saved_tip: Option<(Hash256, Hash256)> = None;
    restore(&sh).await;
    sh.set_state(SyncState::Connecting);
    loop {
        // One pass: headers, then lists, until synced.
        peers.new_block = false;
        let pass = async {
            ensure_peers(&sh, &mut peers).await?;
            if sh.state() != SyncState::Synced {
                sh.set_state(SyncState::Headers);
            }
            sync_headers(&sh, &mut peers).await?;
            if sh.state() != SyncState::Synced {
                sh.mark_list_phase();
                sh.set_state(SyncState::MasternodeLists);
            }
            sync_lists(&sh, &mut peers).await?;
            Ok::<(), PassError>(())
        };
        match pass.await {
            Err(PassError::Stopped) => return,
            Err(PassError::NoPeers) => {
                sh.error(ErrorKind::Network, "no usable peer", true);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(PassError::AllBanned(why)) => {
                sh.error(
                    ErrorKind::PeerMisbehaved,
                    format!(
                        "every peer was banned {MAX_BANS} times ({why}); sync stopped: \
                         configure other peers"
                    ),
                    false,
                );
                sh.set_state(SyncState::Stopped);
                return;
            }
            Ok(()) => {}
        }
        let now = sh.with_state(|s| {
            (
                s.headers.tip().1,
                s.engine.tip_list().map_or(Hash256::ZERO, |l| l.block_hash),
            )
        });
        if synced(&sh) {
            sh.with_state_mut(|s| s.engine.prune(4));
        }
        if saved_tip != Some(now) {
            persist(&sh).await;
            saved_tip = Some(now);
        }
        if synced(&sh) {
            sh.set_state(SyncState::Synced);
            sh.progress();
            if let Some(cl) = pending_clsig.take() {
                if let LockVerdict::CannotVerify(_) = handle_clsig(&sh, &cl, &mut chainlocks) {
                    pending_clsig = Some(cl);
                }
            }
            if !sh.config.follow_tip {
                return;
            }
        } else {
            sh.progress();
        }
        // Wait for something to do: an announcement, a lock, or a periodic re-check. Notices
        // that arrived during the pass were already noted by `drain`.
        let mut need_pass = std::mem::take(&mut peers.new_block);
        while !need_pass {
            if sh.stopping() {
                return;
            }
            for (conn, cl) in std::mem::take(&mut peers.clsigs) {
                match handle_clsig(&sh, &cl, &mut chainlocks) {
                    LockVerdict::Valid { .. } => {}
                    LockVerdict::CannotVerify(_) => {
                        pending_clsig = Some(cl);
                        need_pass = true;
                    }
                    LockVerdict::Invalid(f) => {
                        misbehaved(&sh, &mut peers, conn.addr, format!("invalid clsig: {f}"))
                    }
                }
            }
            if need_pass {
                break;
            }
            let next = tokio::time::timeout(Duration::from_secs(5), peers.rx.recv()).await;
            let Ok(Some(u)) = next else {
                // Periodic: top up peers; re-run a pass if not synced.
                refill(&sh, &mut peers).await;
                need_pass = !synced(&sh);
                continue;
            };
            note(&sh, &mut peers, u);
            drain(&sh, &mut peers);
            need_pass = std::mem::take(&mut peers.new_block);
        }
    }
}
