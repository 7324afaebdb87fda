//! The peer pool: dialling, bans and penalties, notices from connections.

use super::*;

/// The connected peers and what the sync learnt about the others.
pub(super) struct Peers {
    pub(super) list: Vec<Arc<Peer>>,
    /// Per address: failures so far and when the last one happened. An address is not dialled
    /// again before its back-off (0.5 s doubling per failure, at most 60 s) has passed;
    /// misbehaviour counts as several failures.
    pub(super) failures: HashMap<SocketAddr, (u32, Instant)>,
    /// Per address: bans so far and the last reason.
    pub(super) bans: HashMap<SocketAddr, (u32, String)>,
    /// Connections whose failure was already reported and penalised.
    pub(super) handled: HashSet<u64>,
    pub(super) next: usize,
    pub(super) tx: mpsc::Sender<Unsolicited>,
    pub(super) rx: mpsc::Receiver<Unsolicited>,
    /// A new block was announced since the last pass.
    pub(super) new_block: bool,
    /// ChainLocks received unsolicited, not yet handled (newest last, bounded).
    pub(super) clsigs: Vec<(ConnId, ClSig)>,
    /// Addresses that sent data of a newer protocol than this library reads, with what it was:
    /// not penalised, not dialled again (asking again would get the same answer).
    pub(super) newer: HashMap<SocketAddr, String>,
    /// The peer to ask for headers first: it sent a valid ChainLock for a block not in our
    /// header chain, so it has that block's headers (cleared after a header pass).
    pub(super) prefer: Option<SocketAddr>,
    /// Per address: a height above our tip the peer's own announcements (a new block, a
    /// ChainLock) showed it has — a hint, at most one block above our tip when noted. Cleared
    /// when the peer answers a `getheaders` with nothing new.
    pub(super) shown: HashMap<SocketAddr, u32>,
    /// Peers whose claimed start height an answer with nothing new refuted: their claim no
    /// longer orders them or makes others' empty answers failures.
    pub(super) refuted: HashSet<SocketAddr>,
    /// Per connection: unsolicited messages ignored as junk (headers that link to nothing we
    /// hold or show nothing above our tip, ChainLocks outside the plausible heights).
    pub(super) junk: HashMap<u64, u32>,
    /// Per address: when its announcement last started a pass.
    pub(super) announced_pass: HashMap<SocketAddr, Instant>,
    /// An announcement came within [`ANNOUNCE_PASS_INTERVAL`] of its sender's last one that
    /// started a pass: a pass is due when the interval ends (and counts as theirs).
    pub(super) deferred: Option<Instant>,
    /// The senders whose announcements the deferred pass serves.
    pub(super) deferred_for: HashSet<SocketAddr>,
}

/// The shortest time between two passes started by announcements of one peer: one
/// unsolicited message causes at most one pass, and one peer's announcements at most one pass
/// per interval (later ones are served by a pass at its end).
pub(super) const ANNOUNCE_PASS_INTERVAL: Duration = Duration::from_secs(1);
/// Headers in an announcement, at most (Core announces up to 8 blocks by `headers`, more by
/// `inv`); a longer unsolicited `headers` (a late answer) starts no pass.
pub(super) const MAX_ANNOUNCED_HEADERS: usize = 8;
/// Junk messages from one connection after which the host is told (once per connection).
pub(super) const JUNK_REPORT_AT: u32 = 10;

impl Peers {
    /// Whether some peer showed a block above `tip` that no header answer brought yet.
    /// Only connected peers count: a peer that left cannot be asked.
    pub(super) fn behind(&self, tip: u32) -> bool {
        self.shown
            .iter()
            .any(|(a, h)| *h > tip && self.list.iter().any(|p| p.addr == *a && !p.is_closed()))
    }
}

impl Peers {
    pub(super) fn record_failure(&mut self, addr: SocketAddr, weight: u32) {
        let e = self.failures.entry(addr).or_insert((0, Instant::now()));
        e.0 = e.0.saturating_add(weight);
        e.1 = Instant::now();
    }

    pub(super) fn backoff(count: u32) -> Duration {
        let ms = 500u64.saturating_mul(1u64 << count.min(7).saturating_sub(1));
        Duration::from_millis(ms.min(60_000))
    }

    /// When `addr` may be dialled again (`None` = now).
    pub(super) fn wait_for(&self, addr: &SocketAddr) -> Option<Duration> {
        let (count, last) = self.failures.get(addr)?;
        let due = *last + Peers::backoff(*count);
        due.checked_duration_since(Instant::now())
    }

    /// Failures that still count when choosing a peer: those of the last minute (an old
    /// timeout does not keep a peer out of the rotation for the whole session).
    pub(super) fn failures_of(&self, addr: &SocketAddr) -> u32 {
        self.failures
            .get(addr)
            .filter(|f| f.1.elapsed() < Duration::from_secs(60))
            .map_or(0, |f| f.0)
    }

    pub(super) fn remove(&mut self, addr: SocketAddr) {
        self.list.retain(|p| p.addr != addr);
        self.shown.remove(&addr);
    }

    /// Whether `addr` was banned too often to be dialled again.
    pub(super) fn banned_out(&self, addr: &SocketAddr) -> bool {
        self.bans.get(addr).is_some_and(|b| b.0 >= MAX_BANS)
    }

    /// Whether `addr` is not dialled again: banned too often, or it speaks a newer protocol.
    pub(super) fn given_up(&self, addr: &SocketAddr) -> bool {
        self.banned_out(addr) || self.newer.contains_key(addr)
    }

    pub(super) fn pick(&mut self, min_version: u32) -> Option<Arc<Peer>> {
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

pub(super) async fn candidates(sh: &Shared) -> Vec<SocketAddr> {
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

pub(super) async fn refill(sh: &Arc<Shared>, peers: &mut Peers) {
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
        .filter(|a| !connected.contains(a) && !peers.given_up(a) && peers.wait_for(a).is_none())
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
pub(super) fn misbehaved(sh: &Shared, peers: &mut Peers, addr: SocketAddr, why: String) {
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
pub(super) fn lost(sh: &Shared, peers: &mut Peers, e: &NetError) {
    let addr = e.addr();
    if let Some(c) = e.conn() {
        if !peers.handled.insert(c.id) {
            return;
        }
    }
    if let NetError::Unsupported(c, command, newer) = e {
        // A newer protocol is no fault of the peer: no ban, no back-off record; the peer is
        // simply not asked again. When every peer answers so, the sync ends with
        // `UpdateRequired` (`ensure_peers`).
        if let Some(p) = peers.list.iter().find(|p| p.conn_id() == *c) {
            p.close_with(e.clone());
        }
        peers.list.retain(|p| p.conn_id() != *c);
        let what = format!("{command}: {newer}");
        sh.error(
            ErrorKind::UnsupportedProtocol,
            format!("{addr} sent a {what}; not asking it again"),
            true,
        );
        peers.newer.insert(addr, what);
        sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
        return;
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
    sh.error(ErrorKind::Network, describe(sh, e), true);
    if let Some(c) = e.conn() {
        if let Some(p) = peers.list.iter().find(|p| p.conn_id() == c) {
            p.close_with(e.clone());
        }
        peers.list.retain(|p| p.conn_id() != c);
    }
    peers.record_failure(addr, 1);
    sh.peers.store(peers.list.len() as u32, Ordering::Relaxed);
}

/// The report of a network failure: headers that do not connect name our tip by its height.
fn describe(sh: &Shared, e: &NetError) -> String {
    match e {
        NetError::HeadersDoNotConnect { conn, prev, tip } => {
            let height = sh.with_state(|s| s.headers.height_of(tip));
            match height {
                Some(h) => format!(
                    "headers from {conn} do not connect to our chain: first header's previous \
                     block {prev}, our tip height {h}"
                ),
                None => e.to_string(),
            }
        }
        _ => e.to_string(),
    }
}

/// Reports the connections that closed on their own (each with its real reason).
pub(super) fn reap(sh: &Shared, peers: &mut Peers) {
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
pub(super) fn note(sh: &Shared, peers: &mut Peers, u: Unsolicited) {
    match u.notice {
        Notice::Closed => reap(sh, peers),
        Notice::NewBlock(hash) => {
            let (known, tip) =
                sh.with_state(|s| (s.headers.height_of(&hash).is_some(), s.headers.tip().0));
            if known {
                // Already held (another peer announced it first): nothing to do.
                return;
            }
            tracing::debug!(peer = %u.conn, block = %hash, tip, "block announced");
            announced(peers, u.conn, tip);
        }
        Notice::Headers {
            prev, last, count, ..
        } => {
            let (known, parent, tip) = sh.with_state(|s| {
                (
                    s.headers.height_of(&last).is_some(),
                    s.headers.height_of(&prev),
                    s.headers.tip().0,
                )
            });
            if known {
                return;
            }
            // Checked before any request: the headers must link to a block we hold and
            // claim a height above our tip, within what one announcement carries.
            match parent {
                Some(p) if count <= MAX_ANNOUNCED_HEADERS && p + count as u32 > tip => {
                    announced(peers, u.conn, tip)
                }
                Some(p) if count <= MAX_ANNOUNCED_HEADERS => junk(
                    sh,
                    peers,
                    u.conn,
                    format!(
                        "headers at heights {}..={} show nothing above our tip {tip}",
                        p + 1,
                        p + count as u32
                    ),
                ),
                Some(_) => {
                    // A late answer: its headers are fetched by the next pass if still needed.
                }
                None => junk(
                    sh,
                    peers,
                    u.conn,
                    format!("headers that connect to no block we hold (previous block {prev})"),
                ),
            }
        }
        Notice::ClSigInv(cls) => {
            if let Some(p) = peers.list.iter().find(|p| p.conn_id() == u.conn) {
                p.send(Message::GetData(cls));
            }
        }
        Notice::ClSig(cl) => {
            // Checked before anything may follow from it: a height a lock can have now — at
            // most one block above our tip, and above the best lock held (Core ignores a lock
            // that is not newer; a lock below 8 is malformed and left to the verification,
            // which bans its sender).
            let (tip, pin) = sh.with_state(|s| (s.headers.tip().0, s.headers.chain_lock()));
            let h = cl.height.max(0) as u32;
            if pin == Some((h, cl.block_hash)) {
                // The lock we hold, relayed again by another peer.
                return;
            }
            let below = pin.is_some_and(|(p, _)| h <= p);
            if h >= 8 && (below || h > tip + MAX_CLSIG_AHEAD) {
                // While catching up, locks above the tip are the network's, not junk.
                if below || sh.state() == SyncState::Synced {
                    junk(
                        sh,
                        peers,
                        u.conn,
                        format!(
                            "ChainLocks for heights outside {}..={} (our tip {tip}), last {h}",
                            pin.map_or(8, |(p, _)| p + 1),
                            tip + MAX_CLSIG_AHEAD
                        ),
                    );
                }
                return;
            }
            // A lock for a block above our tip shows its sender has that block (a hint,
            // bounded to one block above our tip; the lock itself is verified later).
            if cl.height > 0 && cl.height as u32 > tip {
                if let Some(p) = peers.list.iter().find(|p| p.conn_id() == u.conn) {
                    let shown = peers.shown.entry(p.addr).or_default();
                    *shown = (*shown).max(tip + 1);
                }
            }
            if peers.clsigs.len() >= MAX_PENDING_CLSIGS {
                peers.clsigs.remove(0);
            }
            peers.clsigs.push((u.conn, cl));
        }
    }
}

/// A block above our tip was announced by `conn` (an `inv`, or `headers` that passed the
/// checks): a pass is due — at once, unless an announcement of the same peer started one less
/// than [`ANNOUNCE_PASS_INTERVAL`] ago (then when the interval ends).
fn announced(peers: &mut Peers, conn: ConnId, tip: u32) {
    let Some(addr) = peers
        .list
        .iter()
        .find(|p| p.conn_id() == conn)
        .map(|p| p.addr)
    else {
        return;
    };
    // The announcer shows a block above our tip (a hint, bounded to one block: how far ahead
    // it is only its headers tell) and is asked for headers first (unless a ChainLock's
    // sender already is).
    let shown = peers.shown.entry(addr).or_default();
    *shown = (*shown).max(tip + 1);
    if peers.prefer.is_none() {
        peers.prefer = Some(addr);
    }
    let now = Instant::now();
    match peers.announced_pass.get(&addr) {
        Some(last) if now.duration_since(*last) < ANNOUNCE_PASS_INTERVAL => {
            let due = *last + ANNOUNCE_PASS_INTERVAL;
            peers.deferred = Some(peers.deferred.map_or(due, |d| d.min(due)));
            peers.deferred_for.insert(addr);
        }
        _ => {
            if peers.announced_pass.len() > 1024 {
                peers.announced_pass.clear();
            }
            peers.announced_pass.insert(addr, now);
            peers.new_block = true;
        }
    }
}

/// The deferred pass starts now: it counts as a pass of every sender it serves.
pub(super) fn deferred_pass_started(peers: &mut Peers) {
    peers.deferred = None;
    let now = Instant::now();
    for addr in std::mem::take(&mut peers.deferred_for) {
        peers.announced_pass.insert(addr, now);
    }
}

/// An unsolicited message from `conn` that can cause nothing (`what` it was): ignored, no
/// request. Its bytes were charged to the sender's budget; the host is told once per
/// connection, at the [`JUNK_REPORT_AT`]th (not a ban: nothing in it is provably wrong).
fn junk(sh: &Shared, peers: &mut Peers, conn: ConnId, what: String) {
    if peers.junk.len() > 1024 {
        let live: HashSet<u64> = peers.list.iter().map(|p| p.conn_id().id).collect();
        peers.junk.retain(|id, _| live.contains(id));
    }
    let n = peers.junk.entry(conn.id).or_default();
    *n += 1;
    tracing::debug!(peer = %conn.addr, n = *n, "{what}: ignored");
    if *n == JUNK_REPORT_AT {
        sh.error(
            ErrorKind::Network,
            format!(
                "{}: {JUNK_REPORT_AT} unsolicited messages ignored, no request sent (last: \
                 {what})",
                conn.addr
            ),
            true,
        );
    }
}

/// Handles every queued notice without waiting (also while a pass runs).
pub(super) fn drain(sh: &Shared, peers: &mut Peers) {
    while let Ok(u) = peers.rx.try_recv() {
        note(sh, peers, u);
    }
}

pub(super) async fn ensure_peers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
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
        if !all.is_empty() && all.iter().all(|a| peers.given_up(a)) {
            if let Some(what) = all.iter().find_map(|a| peers.newer.get(a)) {
                // Every peer is out of reach and at least one speaks a newer protocol: the
                // network has moved on (a lone peer claiming so is merely not asked again).
                return Err(PassError::UpdateRequired(what.clone()));
            }
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
