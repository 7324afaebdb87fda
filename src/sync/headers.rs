//! Header sync from the best peer.

use super::shared::SyncData;
use super::*;
use crate::wire::header::BlockHeader;
use crate::wire::headers2::HeaderBatch;
use crate::wire::message::GetHeaders;
use std::sync::atomic::AtomicUsize;

/// Downloads headers until the best peer has nothing newer: first, when several peers are
/// connected and the gap to the best announced height is large, the ranges between trusted
/// checkpoints from several peers at once ([`sync_ranges`]), then the rest from one peer,
/// pipelined ([`sync_sequential`]).
pub(super) async fn sync_headers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    ensure_peers(sh, peers).await?;
    // Peers that answered with nothing new in this pass: not asked again in it.
    let mut exhausted: HashSet<SocketAddr> = HashSet::new();
    if let Some((peer, got_new)) = sync_ranges(sh, peers).await? {
        // The stretch above the last trusted hash was walked to that peer's last header: the
        // sequential path only runs if another peer shows a higher tip.
        if !answered(sh, peers, &peer, &mut exhausted, got_new) {
            peers.prefer = None;
            return Ok(());
        }
    }
    let r = sync_sequential(sh, peers, exhausted).await;
    peers.prefer = None;
    r
}

/// The host clock, seconds since the epoch (Core checks header times against its adjusted
/// time; a light client has only the host's clock).
pub(super) fn host_time() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// Connects headers received from a peer with every check the header chain runs offline —
/// including Core's rule that a header is at most 2 hours ahead of the (host) clock — and
/// rewinds the engine when the active chain switched branches. Every path that connects
/// headers from the network goes through here.
pub(super) fn connect_checked(
    s: &mut SyncData,
    hs: &[BlockHeader],
    hashes: &[Hash256],
) -> Result<crate::chain::ConnectOutcome, crate::chain::ChainError> {
    let out = s.headers.connect_hashed(hs, hashes, Some(host_time()))?;
    if let Some(reorg) = &out.reorg {
        s.engine.rewind_to(reorg.fork_height);
    }
    Ok(out)
}

/// A peer answered `getheaders` with its last headers (`got_new`: some were new to us) or
/// with nothing new. Either way it is not asked again in this pass. If another peer shows a
/// higher tip — a start height above our tip that was not refuted, or an announcement (a block,
/// a ChainLock) — that peer is asked next: one peer cannot stall the sync by answering empty.
/// An answer with nothing new while a higher tip is shown counts as a failure of the peer that
/// gave it, and a peer whose own claimed start height is refuted by its empty answer is not
/// believed again. True when another peer should be asked.
fn answered(
    sh: &Shared,
    peers: &mut Peers,
    peer: &Peer,
    exhausted: &mut HashSet<SocketAddr>,
    got_new: bool,
) -> bool {
    let tip = sh.with_state(|s| s.headers.tip().0);
    // This peer's own hint is answered.
    peers.shown.remove(&peer.addr);
    exhausted.insert(peer.addr);
    let others_ahead = peers.list.iter().any(|p| {
        !p.is_closed()
            && !exhausted.contains(&p.addr)
            && ((p.start_height.max(0) as u32 > tip && !peers.refuted.contains(&p.addr))
                || peers.shown.get(&p.addr) > Some(&tip))
    });
    if !got_new {
        let claimed = peer.start_height.max(0) as u32 > tip;
        if claimed {
            peers.refuted.insert(peer.addr);
        }
        if claimed || others_ahead {
            tracing::debug!(peer = %peer.addr, tip, "getheaders answered with nothing new while a higher tip is shown");
            peers.record_failure(peer.addr, 1);
        }
    }
    others_ahead
}

/// Headers from `peer` that the chain refused: the peer is banned when the refusal proves it
/// wrong, otherwise only that connection is dropped.
fn refused(sh: &Shared, peers: &mut Peers, peer: &Peer, e: &crate::chain::ChainError) {
    if e.penalty() == Penalty::Ban {
        misbehaved(sh, peers, peer.addr, format!("invalid headers: {e}"))
    } else {
        lost(
            sh,
            peers,
            &NetError::Closed(peer.conn_id(), format!("headers not usable: {e}")),
        )
    }
}

/// Headers with their block hashes, computed off the async threads.
type Hashed = (Vec<BlockHeader>, Vec<Hash256>);

/// The headers of an answer with their hashes, one X11 per header in all: a `headers2` answer
/// carries the hashes its decompression computed (each header's hash is the next one's omitted
/// previous hash), a `headers` answer is hashed here. Linkage is checked against these hashes
/// by whoever connects them (the first header's previous hash against the held tip or the
/// previous answer's last hash, each later one against the hash of the header before it).
fn hash_batch(b: HeaderBatch) -> Hashed {
    b.into_hashed()
}

/// [`hash_batch`] on a blocking-pool thread (`None` if that thread failed).
async fn hashed(b: HeaderBatch) -> Option<Hashed> {
    tokio::task::spawn_blocking(move || hash_batch(b))
        .await
        .ok()
}

/// A request running in its own task (answer received and hashed while the sync task
/// validates the previous batch); aborted when dropped.
struct Pending(tokio::task::JoinHandle<Result<Option<Hashed>, NetError>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pending {
    /// `getheaders` from `locator` to `peer`; `Ok(None)` for an answer that is not headers.
    fn start(peer: &Peer, locator: Vec<Hash256>, timeout: Duration) -> Pending {
        let (msg, expect) = peer.get_headers_msg(locator);
        let req = peer.request(msg, expect, timeout);
        Pending(tokio::spawn(async move {
            match req.await?.into_header_batch() {
                Some(b) => Ok(hashed(b).await),
                None => Ok(None),
            }
        }))
    }

    async fn answer(mut self) -> Result<Option<Hashed>, NetError> {
        (&mut self.0).await.unwrap_or(Ok(None))
    }
}

/// Headers from one peer, pipelined: when an answer is full, the next request (located at its
/// last header, known before validation) leaves before the answer is validated, so transfer
/// overlaps hashing and validation. An invalid batch discards the request after it.
///
/// `exhausted`: peers that already answered with nothing new in this pass (not asked again).
async fn sync_sequential(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    mut exhausted: HashSet<SocketAddr>,
) -> Result<(), PassError> {
    let timeout = sh.config.request_timeout;
    let mut pending: Option<(Arc<Peer>, Pending)> = None;
    loop {
        ensure_peers(sh, peers).await?;
        let (peer, task) = match pending.take() {
            Some(p) if !p.0.is_closed() => p,
            _ => {
                let tip = sh.with_state(|s| s.headers.tip().0);
                let live = peers.list.iter().filter(|p| !p.is_closed());
                if live.clone().next().is_none() {
                    return Err(PassError::NoPeers);
                }
                // Fewest recent failures first, then the peer that has what we need (it sent a
                // lock or announced a block), then one that claims to be ahead at all: the
                // claimed start height is a hint and orders no further than that.
                let Some(peer) = live
                    .filter(|p| !exhausted.contains(&p.addr))
                    .min_by_key(|p| {
                        (
                            peers.failures_of(&p.addr),
                            peers.prefer != Some(p.addr),
                            p.start_height.max(0) as u32 <= tip || peers.refuted.contains(&p.addr),
                        )
                    })
                    .cloned()
                else {
                    // Every peer was asked and none had more: as far as we can get.
                    return Ok(());
                };
                let locator = sh.with_state(|s| s.headers.locator());
                let task = Pending::start(&peer, locator, timeout);
                (peer, task)
            }
        };
        match task.answer().await {
            Ok(Some((hs, hashes))) => {
                let n = hs.len();
                let Some(last) = hashes.last().copied() else {
                    if answered(sh, peers, &peer, &mut exhausted, false) {
                        continue;
                    }
                    return Ok(());
                };
                let full = n >= peer.max_headers_per_message();
                if full {
                    let mut locator = vec![last];
                    locator.extend(sh.with_state(|s| s.headers.locator()));
                    pending = Some((peer.clone(), Pending::start(&peer, locator, timeout)));
                }
                let r = sh.with_state_mut(|s| connect_checked(s, &hs, &hashes));
                match r {
                    Ok(out) => {
                        sh.target.fetch_max(out.tip_height, Ordering::Relaxed);
                        sh.progress();
                        if !full {
                            if answered(sh, peers, &peer, &mut exhausted, out.new_headers > 0) {
                                continue;
                            }
                            return Ok(());
                        }
                    }
                    Err(e) => {
                        pending = None;
                        refused(sh, peers, &peer, &e);
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                pending = None;
                lost(sh, peers, &e)
            }
        }
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
}

/// Headers strictly above `from` up to and including the trusted `to`.
#[derive(Debug, Clone, Copy)]
struct Range {
    from: Hash256,
    from_height: u32,
    to: crate::chain::Checkpoint,
}

impl Range {
    fn len(&self) -> usize {
        (self.to.height - self.from_height) as usize
    }
}

/// Ranges planned in one pass at most (the rest is planned in the next pass or fetched
/// sequentially).
const MAX_RANGES: usize = 4096;
/// Ranges in flight per peer.
const RANGES_PER_PEER: usize = 2;
/// The memory bound of the parallel ranges, in answers (`getheaders` answers of the peers'
/// size: 8,000 headers over `headers2`, 2,000 over `headers`): the headers of ranges requested
/// but not yet connected never exceed this many answers' worth (128,000 headers, ~14 MB, at
/// 8,000 per answer: two of Core's hash-only checkpoint gaps of ~60,000 blocks). A range is
/// only handed out when the ranges admitted and not yet connected plus it fit; the lowest one
/// is always admitted, and a range longer than the bound is left to the sequential path.
#[doc(hidden)]
pub const RANGE_HELD_ANSWERS: usize = 16;

/// The memory bound of the stretch above the last trusted hash while the ranges below it are
/// walked ([`walk_tail`]), in answers: the answers waiting to be connected, the one being
/// connected and the one arriving. The walk pauses when the ranges below are slower; all
/// fetched headers held at once stay within `RANGE_HELD_ANSWERS + TAIL_HELD_ANSWERS` answers.
#[doc(hidden)]
pub const TAIL_HELD_ANSWERS: usize = 10;

/// The most headers the parallel ranges of any client in this process held at once, fetched
/// and not yet connected (for tests of the bounds [`RANGE_HELD_ANSWERS`] and
/// [`TAIL_HELD_ANSWERS`]; the stretch above the last trusted hash counts too).
static HELD_PEAK: AtomicUsize = AtomicUsize::new(0);

/// See [`HELD_PEAK`]: the most headers the parallel ranges of one client held at once, over
/// every client of this process so far.
#[doc(hidden)]
pub fn range_headers_held_peak() -> usize {
    HELD_PEAK.load(Ordering::Relaxed)
}

/// The most headers of the stretch above the last trusted hash one client received while
/// ranges below it were not yet all connected, over every client of this process so far (for
/// tests that the stretch is fetched beside the ranges, not after them).
static TAIL_BESIDE_RANGES: AtomicUsize = AtomicUsize::new(0);

/// See [`TAIL_BESIDE_RANGES`].
#[doc(hidden)]
pub fn tail_headers_beside_ranges() -> usize {
    TAIL_BESIDE_RANGES.load(Ordering::Relaxed)
}

/// Headers fetched for ranges and not yet connected, of one [`sync_ranges`] call.
#[derive(Default)]
struct Held(AtomicUsize);

impl Held {
    fn add(&self, n: usize) {
        let now = self.0.fetch_add(n, Ordering::Relaxed) + n;
        HELD_PEAK.fetch_max(now, Ordering::Relaxed);
    }

    fn sub(&self, n: usize) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| {
                Some(x.saturating_sub(n))
            });
    }
}

/// Why fetching a range failed.
enum RangeFail {
    /// The request failed (timeout, closed connection).
    Net(NetError),
    /// The peer does not have the range's start on its chain: not its fault, ask another.
    Missing,
    /// The peer served headers that do not form the range: blamed.
    Bad(String),
}

/// The ranges between trusted checkpoints above the tip, when at least two peers are
/// connected and the best announced height is more than two answers above the tip, with the
/// bound on held headers ([`RANGE_HELD_ANSWERS`] answers). Trusted checkpoints are every hash
/// the chain enforces (Core's hash-only list, the built-in table) and the host's
/// `Config::extra_checkpoints`. Each range ends at a checkpoint and holds at most one answer's
/// worth of headers where the checkpoints allow (the farthest checkpoint within that many
/// blocks); where they are sparser a range spans as many answers as the gap to the next
/// checkpoint (Core's list: ~60,000 blocks), walked answer by answer by one peer.
///
/// When every trusted hash above the tip is planned and the best announced height is more than
/// one answer above the last, the stretch above it is planned too ([`Tail`]): it is walked
/// beside the ranges. One range with such a stretch is parallelism enough.
fn plan_ranges(sh: &Shared, peers: &Peers) -> (Vec<Range>, usize, Option<Tail>) {
    let live: Vec<&Arc<Peer>> = peers.list.iter().filter(|p| !p.is_closed()).collect();
    if live.len() < 2 {
        return (Vec::new(), 0, None);
    }
    let per = live
        .iter()
        .map(|p| p.max_headers_per_message())
        .min()
        .unwrap_or(1)
        .max(1) as u32;
    let best = live
        .iter()
        .map(|p| p.start_height.max(0) as u32)
        .max()
        .unwrap_or(0);
    let (tip_height, tip_hash, mut cps) = sh.with_state(|s| {
        let (h, x) = s.headers.tip();
        (h, x, s.headers.checkpoints().to_vec())
    });
    let cap = RANGE_HELD_ANSWERS * per as usize;
    if best <= tip_height.saturating_add(2 * per) {
        return (Vec::new(), cap, None);
    }
    cps.extend(sh.config.extra_checkpoints.iter().copied());
    cps.retain(|c| c.height > tip_height && c.height <= best);
    cps.sort_by_key(|c| c.height);
    cps.dedup_by_key(|c| c.height);
    let mut out = Vec::new();
    let (mut from_height, mut from) = (tip_height, tip_hash);
    let mut i = 0;
    while i < cps.len() && out.len() < MAX_RANGES {
        let mut j = i;
        while j + 1 < cps.len() && cps[j + 1].height - from_height <= per {
            j += 1;
        }
        let r = Range {
            from,
            from_height,
            to: cps[j],
        };
        if r.len() > cap {
            break;
        }
        out.push(r);
        (from_height, from) = (cps[j].height, cps[j].hash);
        i = j + 1;
    }
    let tail = match out.last() {
        Some(last) if i == cps.len() && best > last.to.height.saturating_add(per) => Some(Tail {
            from: last.to.hash,
            from_height: last.to.height,
        }),
        _ => None,
    };
    // One range alone is no parallelism: the sequential path does it as well.
    if out.len() + usize::from(tail.is_some()) < 2 {
        return (Vec::new(), cap, None);
    }
    (out, cap, tail)
}

/// The stretch above the last trusted hash of the planned ranges, up to a peer's tip.
#[derive(Debug, Clone, Copy)]
struct Tail {
    from: Hash256,
    from_height: u32,
}

/// What the walk of the stretch above the last trusted hash hands to the sync task, in order.
enum TailItem {
    /// The next answer, linked to the one before it (the first to the last trusted hash).
    Answer(Hashed),
    /// The peer's last answer was not full: it has nothing newer.
    Done,
    /// The walk stopped.
    Failed(RangeFail),
}

/// Walks the stretch above the last trusted hash from `peer`, pipelined as the sequential path
/// (the next `getheaders` leaves as soon as an answer is in), each answer checked to link to the
/// one before and handed over in order. At most [`TAIL_HELD_ANSWERS`] answers are held: the
/// channel holds two fewer (one is being connected, one arriving), and the walk waits for room
/// before it asks for the next answer. `beside`: ranges not yet connected (the answers received
/// meanwhile are counted in [`TAIL_BESIDE_RANGES`]).
async fn walk_tail(
    peer: Arc<Peer>,
    t: Tail,
    genesis: Hash256,
    timeout: Duration,
    held: Arc<Held>,
    beside: Arc<AtomicUsize>,
    tx: tokio::sync::mpsc::Sender<TailItem>,
) {
    let per = peer.max_headers_per_message();
    let mut cur = t.from;
    let mut height = t.from_height;
    let mut received_beside = 0;
    let mut pending = Some(Pending::start(&peer, vec![cur, genesis], timeout));
    while let Some(request) = pending.take() {
        let (hs, hashes) = match request.answer().await {
            Ok(Some(h)) => h,
            Ok(None) => {
                let _ = tx.send(TailItem::Failed(RangeFail::Missing)).await;
                return;
            }
            Err(e) => {
                let _ = tx.send(TailItem::Failed(RangeFail::Net(e))).await;
                return;
            }
        };
        let Some(&last) = hashes.last() else {
            let _ = tx.send(TailItem::Done).await;
            return;
        };
        if hs.first().is_none_or(|h| h.prev_block_hash != cur) {
            // Not on this peer's chain (it answered from genesis): not its fault.
            let _ = tx.send(TailItem::Failed(RangeFail::Missing)).await;
            return;
        }
        let mut prev = cur;
        for (i, (h, x)) in hs.iter().zip(&hashes).enumerate() {
            if h.prev_block_hash != prev {
                let why = format!(
                    "the header for block {} does not link to block {} (walking up from \
                     trusted block {})",
                    height + i as u32 + 1,
                    height + i as u32,
                    t.from_height
                );
                let _ = tx.send(TailItem::Failed(RangeFail::Bad(why))).await;
                return;
            }
            prev = *x;
        }
        let full = hs.len() >= per;
        // Room for this answer first, then the next request: the bound holds.
        let Ok(permit) = tx.reserve().await else {
            return;
        };
        if full {
            pending = Some(Pending::start(&peer, vec![last, genesis], timeout));
        }
        held.add(hs.len());
        if beside.load(Ordering::Relaxed) > 0 {
            received_beside += hs.len();
            TAIL_BESIDE_RANGES.fetch_max(received_beside, Ordering::Relaxed);
        }
        permit.send(TailItem::Answer((hs, hashes)));
        if !full {
            let _ = tx.send(TailItem::Done).await;
            return;
        }
        cur = last;
        height += per as u32;
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches one range from `peer` answer by answer (each `getheaders` located at the last header
/// received, with the range's end as stop hash), hashes each answer on a blocking-pool thread
/// and checks it links from `r.from` to `r.to`. The headers received count in `held` until the
/// range is connected (or, when this fails, until it returns).
async fn fetch_range(
    peer: Arc<Peer>,
    r: Range,
    genesis: Hash256,
    timeout: Duration,
    held: Arc<Held>,
) -> Result<Hashed, RangeFail> {
    let mut count = 0;
    let out = walk_range(&peer, r, genesis, timeout, &held, &mut count).await;
    if out.is_err() {
        held.sub(count);
    }
    out
}

/// [`fetch_range`]'s walk; `count`: the headers added to `held` so far.
async fn walk_range(
    peer: &Peer,
    r: Range,
    genesis: Hash256,
    timeout: Duration,
    held: &Held,
    count: &mut usize,
) -> Result<Hashed, RangeFail> {
    let mut got: Vec<BlockHeader> = Vec::with_capacity(r.len());
    let mut hashes: Vec<Hash256> = Vec::with_capacity(r.len());
    let mut cur = r.from;
    loop {
        // Genesis second: a peer without `cur` answers from genesis (a matching answer).
        let locator = vec![cur, genesis];
        let g = GetHeaders {
            version: peer.version,
            locator: locator.clone(),
            stop_hash: r.to.hash,
        };
        let msg = if peer.compressed_headers() {
            Message::GetHeaders2(g)
        } else {
            Message::GetHeaders(g)
        };
        let Some(hs) = peer
            .request(msg, Expect::Headers(locator), timeout)
            .await
            .map_err(RangeFail::Net)?
            .into_header_batch()
        else {
            return Err(RangeFail::Missing);
        };
        if hs.first().is_none_or(|h| h.prev_block_hash != cur) {
            return Err(RangeFail::Missing);
        }
        let n = hs.len();
        if got.len() + n > r.len() {
            return Err(RangeFail::Bad(format!(
                "{} headers after block {}, more than the {} up to checkpoint {}",
                got.len() + n,
                r.from_height,
                r.len(),
                r.to.height
            )));
        }
        let (hs, hs_hashes) = hashed(hs).await.ok_or_else(|| {
            RangeFail::Net(NetError::Closed(peer.conn_id(), "hashing failed".into()))
        })?;
        let mut prev = cur;
        for (i, (h, x)) in hs.iter().zip(&hs_hashes).enumerate() {
            if h.prev_block_hash != prev {
                return Err(RangeFail::Bad(format!(
                    "header {} after block {} does not link to the one before it",
                    got.len() + i + 1,
                    r.from_height
                )));
            }
            prev = *x;
        }
        got.extend_from_slice(&hs);
        hashes.extend_from_slice(&hs_hashes);
        held.add(hs.len());
        *count += hs.len();
        if got.len() == r.len() {
            if prev != r.to.hash {
                return Err(RangeFail::Bad(format!(
                    "block {} is {prev}, not the checkpoint {}",
                    r.to.height, r.to.hash
                )));
            }
            return Ok((got, hashes));
        }
        if n < peer.max_headers_per_message() {
            return Err(RangeFail::Bad(format!(
                "the answer ends at block {} before checkpoint {} (announced height {})",
                r.from_height as usize + got.len(),
                r.to.height,
                peer.start_height
            )));
        }
        cur = prev;
    }
}

/// Headers between trusted checkpoints from several peers at once ([`plan_ranges`]).
///
/// Up to [`RANGES_PER_PEER`] ranges per peer are in flight; a peer walks a range answer by
/// answer while the other peers walk theirs, each answer hashed on a blocking-pool thread, and
/// ranges are connected to the chain in ascending order (validation needs the headers before
/// them) once the range below is connected and the range's last hash is its checkpoint. Ranges
/// that arrive early wait; at most two per connected peer beyond the next to connect are
/// requested or held, and a range is only handed out while the ranges admitted and not yet
/// connected, it included, fit in [`RANGE_HELD_ANSWERS`] answers (the lowest range is always
/// admitted). Among the peers free for a range, the one that served fewest ranges gets it. A
/// range that does not link from its start to its checkpoint, or fails validation, bans the
/// peer that served it and is requested from another peer (each peer is asked for a range
/// once). When no peer is left for a range, what is connected stays and the sequential path
/// goes on from the tip.
///
/// The stretch above the last trusted hash ([`Tail`]) is walked at the same time by one peer
/// (the one announcing the highest height, fewest failures first; it is given ranges only after
/// the others), its answers held within [`TAIL_HELD_ANSWERS`] and connected once every range
/// is. Returns that peer, and whether it brought new headers, when it walked to its last header
/// (the sequential path then has nothing to ask it).
async fn sync_ranges(
    sh: &Arc<Shared>,
    peers: &mut Peers,
) -> Result<Option<(Arc<Peer>, bool)>, PassError> {
    let (ranges, cap, tail) = plan_ranges(sh, peers);
    if ranges.is_empty() {
        return Ok(None);
    }
    let n = ranges.len();
    let held = Arc::new(Held::default());
    // Ranges handed out at least once and not yet connected, and their headers in all.
    let mut admitted: std::collections::BTreeSet<usize> = Default::default();
    let mut reserved = 0usize;
    let mut served: HashMap<SocketAddr, usize> = HashMap::new();
    let timeout = sh.config.request_timeout;
    let genesis = crate::chain::params::genesis_hash(sh.with_state(|s| s.headers.network()));
    let window = RANGES_PER_PEER * peers.list.len().max(1);
    tracing::debug!(ranges = n, window, cap, "headers from several peers");
    let mut todo: std::collections::BTreeSet<usize> = (0..n).collect();
    let mut ready: std::collections::BTreeMap<usize, (Hashed, SocketAddr)> = Default::default();
    let mut tried: HashMap<usize, HashSet<SocketAddr>> = HashMap::new();
    let mut busy: HashMap<SocketAddr, usize> = HashMap::new();
    let mut set = tokio::task::JoinSet::new();
    // Ranges not yet connected, read by the walk of the stretch above them.
    let beside = Arc::new(AtomicUsize::new(n));
    let walking = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let walk = tail.and_then(|t| {
        let peer = peers
            .list
            .iter()
            .filter(|p| !p.is_closed() && p.start_height.max(0) as u32 > t.from_height)
            .min_by_key(|p| {
                (
                    peers.failures_of(&p.addr),
                    std::cmp::Reverse(p.start_height),
                )
            })?
            .clone();
        let (tx, rx) = tokio::sync::mpsc::channel(TAIL_HELD_ANSWERS - 2);
        tracing::debug!(peer = %peer.addr, from = t.from_height, "headers above the last trusted hash beside the ranges");
        let walk = walk_tail(
            peer.clone(),
            t,
            genesis,
            timeout,
            held.clone(),
            beside.clone(),
            tx,
        );
        let walking = walking.clone();
        let task = tokio::spawn(async move {
            walk.await;
            walking.store(false, Ordering::Relaxed);
        });
        Some((peer, rx, AbortOnDrop(task)))
    });
    // A peer's ranges in flight, the walk above them counting as one while it runs.
    let tail_addr = walk.as_ref().map(|w| w.0.addr);
    let load = |busy: &HashMap<SocketAddr, usize>, addr: &SocketAddr| {
        busy.get(addr).copied().unwrap_or(0)
            + usize::from(Some(*addr) == tail_addr && walking.load(Ordering::Relaxed))
    };
    let mut next = 0;
    while next < n {
        drain(sh, peers);
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
        // Hand out the lowest ranges not yet requested, within the window.
        while let Some(&idx) = todo.first() {
            if idx >= next + window {
                break;
            }
            let r = ranges[idx];
            if !admitted.contains(&idx) && !admitted.is_empty() && reserved + r.len() > cap {
                break;
            }
            let peer = peers
                .list
                .iter()
                .filter(|p| {
                    !p.is_closed()
                        && p.start_height.max(0) as u32 >= r.to.height
                        && load(&busy, &p.addr) < RANGES_PER_PEER
                        && !tried.get(&idx).is_some_and(|t| t.contains(&p.addr))
                })
                .min_by_key(|p| {
                    (
                        load(&busy, &p.addr),
                        peers.failures_of(&p.addr),
                        served.get(&p.addr).copied().unwrap_or(0),
                    )
                })
                .cloned();
            let Some(peer) = peer else {
                break;
            };
            todo.remove(&idx);
            if admitted.insert(idx) {
                reserved += r.len();
            }
            *busy.entry(peer.addr).or_default() += 1;
            *served.entry(peer.addr).or_default() += 1;
            let addr = peer.addr;
            let held = held.clone();
            set.spawn(async move {
                (
                    idx,
                    addr,
                    fetch_range(peer, r, genesis, timeout, held).await,
                )
            });
        }
        let Some(done) = set.join_next().await else {
            // Nothing in flight and nothing can be handed out: the sequential path goes on.
            return Ok(None);
        };
        let Ok((idx, addr, result)) = done else {
            return Ok(None);
        };
        if let Some(b) = busy.get_mut(&addr) {
            *b = b.saturating_sub(1);
        }
        let r = ranges[idx];
        match result {
            Ok(h) => {
                ready.insert(idx, (h, addr));
            }
            Err(fail) => {
                tried.entry(idx).or_default().insert(addr);
                todo.insert(idx);
                match fail {
                    RangeFail::Net(e) => lost(sh, peers, &e),
                    RangeFail::Missing => {}
                    RangeFail::Bad(why) => misbehaved(
                        sh,
                        peers,
                        addr,
                        format!(
                            "invalid headers for blocks {}..={}: {why}",
                            r.from_height + 1,
                            r.to.height
                        ),
                    ),
                }
            }
        }
        // Connect what is next in order.
        while let Some(((hs, hashes), addr)) = ready.remove(&next) {
            let r = sh.with_state_mut(|s| connect_checked(s, &hs, &hashes));
            held.sub(hs.len());
            drop((hs, hashes));
            match r {
                Ok(out) => {
                    sh.target.fetch_max(out.tip_height, Ordering::Relaxed);
                    sh.progress();
                    if admitted.remove(&next) {
                        reserved -= ranges[next].len();
                    }
                    next += 1;
                    beside.store(n - next, Ordering::Relaxed);
                }
                Err(e) => {
                    tried.entry(next).or_default().insert(addr);
                    todo.insert(next);
                    let range = ranges[next];
                    let why = format!(
                        "invalid headers for blocks {}..={}: {e}",
                        range.from_height + 1,
                        range.to.height
                    );
                    if e.penalty() == Penalty::Ban {
                        misbehaved(sh, peers, addr, why);
                    }
                    break;
                }
            }
        }
    }
    match walk {
        Some((peer, rx, task)) => connect_tail(sh, peers, peer, rx, &held, task).await,
        None => Ok(None),
    }
}

/// Connects the answers of the walk above the last trusted hash as they come, once every range
/// below is connected. A failed walk or an answer that fails validation ends it (what is
/// connected stays; the sequential path goes on from the tip), blaming the peer only for what
/// it provably did wrong. Returns the peer and whether it brought new headers when it walked to
/// its last header.
async fn connect_tail(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    peer: Arc<Peer>,
    mut rx: tokio::sync::mpsc::Receiver<TailItem>,
    held: &Held,
    _task: AbortOnDrop,
) -> Result<Option<(Arc<Peer>, bool)>, PassError> {
    let mut got_new = false;
    loop {
        drain(sh, peers);
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
        let Some(item) = rx.recv().await else {
            return Ok(None);
        };
        match item {
            TailItem::Answer((hs, hashes)) => {
                let r = sh.with_state_mut(|s| connect_checked(s, &hs, &hashes));
                held.sub(hs.len());
                match r {
                    Ok(out) => {
                        got_new |= out.new_headers > 0;
                        sh.target.fetch_max(out.tip_height, Ordering::Relaxed);
                        sh.progress();
                    }
                    Err(e) => {
                        refused(sh, peers, &peer, &e);
                        return Ok(None);
                    }
                }
            }
            TailItem::Done => return Ok(Some((peer, got_new))),
            TailItem::Failed(f) => {
                match f {
                    RangeFail::Net(e) => lost(sh, peers, &e),
                    RangeFail::Missing => {}
                    RangeFail::Bad(why) => {
                        misbehaved(sh, peers, peer.addr, format!("invalid headers: {why}"))
                    }
                }
                return Ok(None);
            }
        }
    }
}

/// What the history backfill remembers across passes.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Start hashes no peer could link to the held headers within the depth budget (a quorum
    /// based too far back, or a hash a peer made up); not tried again this session.
    given_up: HashSet<Hash256>,
    /// The number of unplaceable quorums last reported (reported again when it changes).
    reported: usize,
}

/// Bound of [`History::given_up`].
const MAX_GIVEN_UP: usize = 4096;
/// Downward steps of one backfill (each: one start hash, one or two `getheaders`).
const BACKFILL_STEPS: usize = 24;
/// Attempts at one `getheaders` of a step (on different peers when one fails).
const BACKFILL_ATTEMPTS: usize = 3;

/// One downward step: headers from just above `start` up to the lowest held header.
struct Step {
    start: Hash256,
    /// Hash of the lowest held header (the `getheaders` stop).
    stop: Hash256,
    /// Most headers this step may add (the depth budget left).
    budget: usize,
}

/// How a step ended.
enum Fetched {
    /// `start + 1 ..= stop`, linked, from this peer.
    Segment(Vec<BlockHeader>, SocketAddr),
    /// Nothing usable: give the start hash up.
    GiveUp,
}

/// The next step, if any: a start hash below everything the engine needs headers for.
///
/// Needed: the base blocks of active quorums that the header index cannot place
/// (`MissingLists::unplaced_bases`), the blocks of a qrinfo being fed (`needed`), and the
/// lowest height whose header a list must be checked against. Start hashes, in this order:
/// a checkpoint of the network below that height (known height, one request), the needed
/// hashes themselves (placing one places its height), base blocks of quorums in held lists,
/// then `helpers` (quorums a qrinfo names). A start hash is only a locator: what comes back is
/// kept only if it links to the held headers ([`HeaderChain::connect_below`]).
fn next_step(
    s: &SyncData,
    needed: &[Hash256],
    helpers: &[Hash256],
    given_up: &HashSet<Hash256>,
) -> Option<Step> {
    let h = &s.headers;
    let e = &s.engine;
    let floor = h.tip().0.saturating_sub(e.history_depth());
    let low = h.lowest_height();
    if low <= floor || low == 0 {
        return None;
    }
    let budget = (low - floor) as usize;
    let stop = h.lowest_header().block_hash();
    let m = e.missing(h);
    let usable = |x: &Hash256| h.height_of(x).is_none() && !given_up.contains(x);
    let unplaced: Vec<Hash256> = m
        .unplaced_bases
        .iter()
        .chain(needed)
        .copied()
        .filter(|x| usable(x))
        .collect();
    let need = m
        .unresolved_heights
        .iter()
        .copied()
        .chain(
            needed
                .iter()
                .filter(|x| h.merkle_root_of(x).is_none())
                .filter_map(|x| h.height_of(x)),
        )
        .filter(|n| *n < low && *n >= floor)
        .min();
    if need.is_none() && unplaced.is_empty() {
        return None;
    }
    let net = h.network();
    let checkpoint = need.and_then(|n| {
        crate::chain::params::checkpoints(net)
            .iter()
            .chain(crate::chain::checkpoints::hashes(net))
            .filter(|c| c.height < n && c.height + 1 >= floor && !given_up.contains(&c.hash))
            .max_by_key(|c| c.height)
            .map(|c| c.hash)
    });
    let start = checkpoint
        .or_else(|| unplaced.first().copied())
        .or_else(|| {
            need?;
            e.history_stones(h)
                .into_iter()
                .chain(helpers.iter().copied())
                .find(|x| usable(x))
        })?;
    Some(Step {
        start,
        stop,
        budget,
    })
}

/// Block hashes a qrinfo's diffs target and its bases, and the quorum hashes it names.
fn qrinfo_hashes(q: &QrInfo, genesis: Hash256) -> (Vec<Hash256>, Vec<Hash256>) {
    let mut blocks = Vec::new();
    let mut quorums = Vec::new();
    for d in q.diffs_in_application_order() {
        blocks.push(d.block_hash);
        // A zero or genesis base is the empty list; any other base must be a held list.
        if !d.base_block_hash.is_zero() && d.base_block_hash != genesis {
            blocks.push(d.base_block_hash);
        }
        quorums.extend(d.new_quorums.iter().map(|c| c.quorum_hash));
    }
    quorums.extend(q.last_commitment_per_index.iter().map(|c| c.quorum_hash));
    blocks.sort();
    blocks.dedup();
    quorums.sort();
    quorums.dedup();
    (blocks, quorums)
}

/// `getheaders` from `step.start` up to `step.stop`, in as many answers as needed.
async fn fetch_step(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    step: &Step,
) -> Result<Fetched, PassError> {
    let genesis = crate::chain::params::genesis_hash(sh.with_state(|s| s.headers.network()));
    let mut got: Vec<BlockHeader> = Vec::new();
    let mut cur = step.start;
    let mut attempts = 0;
    loop {
        ensure_peers(sh, peers).await?;
        let Some(peer) = peers.pick(0) else {
            return Err(PassError::NoPeers);
        };
        // Genesis second: a peer that does not know `cur` answers from genesis, and the answer
        // still matches the request (instead of timing out).
        let locator = vec![cur, genesis];
        let g = GetHeaders {
            version: peer.version,
            locator: locator.clone(),
            stop_hash: step.stop,
        };
        let msg = if peer.compressed_headers() {
            Message::GetHeaders2(g)
        } else {
            Message::GetHeaders(g)
        };
        let answer = peer
            .request(msg, Expect::Headers(locator), sh.config.request_timeout)
            .await;
        match answer {
            Ok(m @ (Message::Headers(_) | Message::Headers2(_))) => {
                let Some((hs, hs_hashes)) = m.into_header_batch().map(hash_batch) else {
                    return Ok(Fetched::GiveUp);
                };
                if hs.first().is_none_or(|f| f.prev_block_hash != cur) {
                    // The peer does not have `cur` on its chain.
                    return Ok(Fetched::GiveUp);
                }
                let mut prev = cur;
                for (hdr, x) in hs.iter().zip(&hs_hashes) {
                    if hdr.prev_block_hash != prev {
                        misbehaved(
                            sh,
                            peers,
                            peer.addr,
                            "invalid headers: an answer to getheaders is not linked".into(),
                        );
                        return Ok(Fetched::GiveUp);
                    }
                    prev = *x;
                }
                got.extend_from_slice(&hs);
                if prev == step.stop {
                    return Ok(Fetched::Segment(got, peer.addr));
                }
                if hs.len() < peer.max_headers_per_message() || got.len() > step.budget {
                    // Ended before our lowest header (another chain), or deeper than the
                    // history any active quorum needs.
                    return Ok(Fetched::GiveUp);
                }
                cur = prev;
            }
            Ok(_) => return Ok(Fetched::GiveUp),
            Err(e) => {
                lost(sh, peers, &e);
                attempts += 1;
                if attempts >= BACKFILL_ATTEMPTS {
                    return Ok(Fetched::GiveUp);
                }
            }
        }
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
}

/// Extends the header chain below its anchor as far as the engine needs to validate the
/// active quorums (and, with `q`, to feed that qrinfo): base and work blocks of quorums and
/// rotation cycles before the start, and the ChainLocks set near it. Every header added is
/// proven by linkage down from the anchor; what cannot be linked within
/// [`Engine::history_depth`] blocks of the tip is not fetched, and the quorums depending on it
/// stay unvalidated (reported once as an error event).
pub(super) async fn backfill(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    q: Option<&QrInfo>,
) -> Result<(), PassError> {
    let genesis = crate::chain::params::genesis_hash(sh.with_state(|s| s.headers.network()));
    let (needed, helpers) = q.map(|q| qrinfo_hashes(q, genesis)).unwrap_or_default();
    for _ in 0..BACKFILL_STEPS {
        let step = {
            let history = sh.history.lock().unwrap_or_else(|e| e.into_inner());
            sh.with_state(|s| next_step(s, &needed, &helpers, &history.given_up))
        };
        let Some(step) = step else {
            break;
        };
        let added = match fetch_step(sh, peers, &step).await? {
            Fetched::Segment(hs, addr) => {
                let r = sh.with_state_mut(|s| s.headers.connect_below(&hs, step.budget));
                match r {
                    Ok(n) => n,
                    Err(e) => {
                        if e.penalty() == Penalty::Ban {
                            misbehaved(
                                sh,
                                peers,
                                addr,
                                format!("invalid headers below the anchor: {e}"),
                            );
                        }
                        0
                    }
                }
            }
            Fetched::GiveUp => 0,
        };
        if added == 0 {
            let mut history = sh.history.lock().unwrap_or_else(|e| e.into_inner());
            if history.given_up.len() >= MAX_GIVEN_UP {
                history.given_up.clear();
            }
            history.given_up.insert(step.start);
        } else {
            tracing::debug!(added, "headers below the anchor");
            sh.progress();
        }
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
    report_unplaced(sh);
    Ok(())
}

/// Reports (once per change) the active quorums that cannot be validated because their base
/// block could not be linked to the header chain.
fn report_unplaced(sh: &Shared) {
    let (n, low, depth) = sh.with_state(|s| {
        (
            s.engine.missing(&s.headers).unplaced_bases.len(),
            s.headers.lowest_height(),
            s.engine.history_depth(),
        )
    });
    let mut history = sh.history.lock().unwrap_or_else(|e| e.into_inner());
    if n == history.reported {
        return;
    }
    history.reported = n;
    drop(history);
    if n > 0 {
        sh.error(
            ErrorKind::Network,
            format!(
                "{n} active quorums stay unvalidated: their base blocks lie before the header \
                 chain's start and no peer served headers linking them to it (lowest header \
                 {low}, searched up to {depth} blocks below the tip); they are never used to \
                 verify a lock"
            ),
            true,
        );
    }
}

/// Feeds a qrinfo; when it names blocks before the header chain's start, fetches the headers
/// that link them (see [`backfill`]) and feeds it again.
pub(super) async fn feed_qrinfo_placing(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    addr: SocketAddr,
    q: &QrInfo,
) -> Result<Fed, PassError> {
    let fed = feed_qrinfo(sh, peers, addr, q);
    if fed != Fed::NotYet {
        return Ok(fed);
    }
    let before = sh.with_state(|s| s.headers.below_anchor_len());
    backfill(sh, peers, Some(q)).await?;
    if sh.with_state(|s| s.headers.below_anchor_len()) == before {
        return Ok(fed);
    }
    Ok(feed_qrinfo(sh, peers, addr, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::HeaderChain;
    use crate::hashes::x11_calls;
    use crate::network::Network;
    use crate::wire::headers2::{compress_headers, encode_headers2, MAX_HEADERS};

    /// 4,000 real mainnet headers (heights 1,737,085..=1,741,084) after their anchor, from the
    /// shared vectors; `None` (skipped, loudly) when the vectors are absent.
    fn mainnet_headers() -> Option<(BlockHeader, Vec<BlockHeader>)> {
        let dir = std::env::var_os("DASH_QRSYNC_VECTORS").map(std::path::PathBuf::from)?;
        let path = dir.join("mainnet/headers/headers_mainnet_1737084_1742083.bin");
        let Ok(bin) = std::fs::read(&path) else {
            eprintln!("*** SKIPPED: {} not found ***", path.display());
            return None;
        };
        let hs: Vec<BlockHeader> = bin
            .chunks_exact(80)
            .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
            .collect();
        Some((hs[0], hs[1..=4000].to_vec()))
    }

    /// Reads and decodes each answer as the network layer does (frame decoder, which rebuilds a
    /// `headers2` answer while it arrives, then [`Message::from_raw`]), takes its headers and hashes the way
    /// the sync does ([`hash_batch`]) and connects them to a chain anchored below them; returns
    /// the X11 invocations of decoding + hashing + connecting.
    fn count_sync(command: &str, payloads: &[Vec<u8>], anchor: BlockHeader, n: usize) -> u64 {
        let mut chain = HeaderChain::new(Network::Mainnet, 1_737_084, anchor);
        let before = x11_calls();
        let mut connected = 0;
        let mut dec = crate::wire::frame::FrameDecoder::new(Network::Mainnet);
        for p in payloads {
            // As the network layer reads it: the frame in segments, popped, then decoded.
            let frame = crate::wire::frame::encode_frame(Network::Mainnet, command, p);
            for seg in frame.chunks(1_448) {
                dec.push(seg).unwrap();
            }
            let raw = dec.pop().unwrap().unwrap();
            let m = Message::from_raw(&raw, 70235).unwrap();
            let (hs, hashes) = hash_batch(m.into_header_batch().unwrap());
            let out = chain.connect_hashed(&hs, &hashes, None).unwrap();
            connected += out.new_headers;
        }
        assert_eq!(connected, n);
        x11_calls() - before
    }

    /// One X11 per header for a sync of N headers, over `headers2` and `headers` answers
    /// (before, a `headers2` header was hashed twice: once by decompression, again by the sync).
    #[test]
    fn one_x11_per_header() {
        let Some((anchor, hs)) = mainnet_headers() else {
            return;
        };
        let n = hs.len();
        let h2: Vec<Vec<u8>> = hs
            .chunks(MAX_HEADERS)
            .map(|c| encode_headers2(&compress_headers(c)))
            .collect();
        let h1: Vec<Vec<u8>> = hs
            .chunks(MAX_HEADERS)
            .map(|c| Message::Headers(c.to_vec()).encode_payload(70235))
            .collect();
        let calls2 = count_sync("headers2", &h2, anchor, n);
        let calls1 = count_sync("headers", &h1, anchor, n);
        println!("X11 calls syncing {n} headers: headers2 {calls2}, headers {calls1}");
        assert_eq!(calls2, n as u64, "headers2");
        assert_eq!(calls1, n as u64, "headers");
    }

    /// Linkage is still proven with the decompression's hashes: a `headers2` answer whose first
    /// header does not extend the chain, or one whose sent previous hash is not the hash of the
    /// header before it, is refused.
    #[test]
    fn decompressed_hashes_still_prove_linkage() {
        let Some((anchor, hs)) = mainnet_headers() else {
            return;
        };
        let mut chain = HeaderChain::new(Network::Mainnet, 1_737_084, anchor);
        // An answer starting one header late does not connect to the held tip.
        let gap = encode_headers2(&compress_headers(&hs[1..10]));
        let m = Message::decode("headers2", &gap, 70235).unwrap();
        let (g, gh) = hash_batch(m.into_header_batch().unwrap());
        assert!(chain.connect_hashed(&g, &gh, None).is_err());
        // A header carrying a previous hash that is not its predecessor's.
        let mut c = compress_headers(&hs[..10]);
        c[5].prev_block_hash = Some(hs[3].block_hash());
        let m = Message::decode("headers2", &encode_headers2(&c), 70235).unwrap();
        let (b, bh) = hash_batch(m.into_header_batch().unwrap());
        assert_eq!(bh[4], hs[4].block_hash());
        assert!(matches!(
            chain.connect_hashed(&b, &bh, None),
            Err(crate::chain::ChainError::NotLinked { index: 5, .. })
        ));
        // The honest answer connects, and every hash is the header's own X11.
        let m = Message::decode(
            "headers2",
            &encode_headers2(&compress_headers(&hs[..10])),
            70235,
        )
        .unwrap();
        let (ok, okh) = hash_batch(m.into_header_batch().unwrap());
        for (h, x) in ok.iter().zip(&okh) {
            assert_eq!(h.block_hash(), *x);
        }
        assert_eq!(
            chain.connect_hashed(&ok, &okh, None).unwrap().new_headers,
            10
        );
    }
}
