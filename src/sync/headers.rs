//! Header sync from the best peer.

use super::shared::SyncData;
use super::*;
use crate::wire::header::BlockHeader;
use crate::wire::message::GetHeaders;

/// Downloads headers until the best peer has nothing newer.
pub(super) async fn sync_headers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
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
            Ok(Message::Headers(hs) | Message::Headers2(hs)) => {
                if hs.first().is_none_or(|f| f.prev_block_hash != cur) {
                    // The peer does not have `cur` on its chain.
                    return Ok(Fetched::GiveUp);
                }
                let mut prev = cur;
                for hdr in &hs {
                    if hdr.prev_block_hash != prev {
                        misbehaved(
                            sh,
                            peers,
                            peer.addr,
                            "invalid headers: an answer to getheaders is not linked".into(),
                        );
                        return Ok(Fetched::GiveUp);
                    }
                    prev = hdr.block_hash();
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
