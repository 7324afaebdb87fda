//! Headers from several peers at once (issue #17): with trusted checkpoints above the start and
//! more than one peer, the ranges between checkpoints are fetched from different peers and
//! connected in order; a peer serving a bad range is banned for it and the range comes from
//! another peer; with one peer the sequential (pipelined) path syncs the same chain.
//!
//! Issue 24: with only sparse trusted hashes (Core's hash-only checkpoints are ~60,000 blocks
//! apart; here one every 7 answers), ranges span several answers, each walked by one peer
//! answer by answer, the headers held bounded by `RANGE_HELD_ANSWERS` answers.
#![cfg(feature = "simnet")]

use dash_qrsync::chain::Checkpoint;
use dash_qrsync::simnet::bench::client_config;
use dash_qrsync::simnet::server::{Faults, ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode};
use dash_qrsync::wire::message::services;
use dash_qrsync::{
    ChainLockEvent, Client, ClientError, ErrorKind, EventListener, Hash256, MemoryStore, Progress,
    QuorumInfo, SyncProfile, SyncState, SyncStrategy,
};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The trusted start.
const START: u32 = 300;
/// Old history (no masternodes) up to this height, then the regtest preset's 480 blocks.
const OLD: u32 = 8_000;
/// Spacing of the trusted checkpoints given to the client.
const SPACING: u32 = 1_000;
/// Headers per answer of the servers here (uncompressed `headers`: no `headers2` service bit).
const PER_ANSWER: u32 = 2_000;
/// The sparse layout: old history up to this height…
const SPARSE_OLD: u32 = 44_000;
/// …and a trusted checkpoint only every 7 answers (3 ranges of 14,000 headers above
/// [`START`], then 2,180 headers without a checkpoint).
const SPARSE_SPACING: u32 = 7 * PER_ANSWER;

fn sim(old: u32) -> SimConfig {
    let recent = SimConfig::regtest(17);
    SimConfig {
        blocks: old + recent.blocks,
        masternodes_from: old + 1,
        checkpoint: Some(START),
        ..recent
    }
}

#[derive(Default)]
struct Listener {
    state: Mutex<Option<SyncState>>,
    errors: Mutex<Vec<ClientError>>,
    cv: Condvar,
}

impl EventListener for Listener {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, _: &QuorumInfo) {}
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        *self.state.lock().unwrap() = Some(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        self.errors.lock().unwrap().push(e.clone());
    }
}

struct Run {
    synced: bool,
    /// The client's block hashes from the start to the simulator's tip (`None` where missing).
    hashes: Vec<Option<Hash256>>,
    errors: Vec<ClientError>,
    /// `getheaders` received by each server.
    getheaders: Vec<u64>,
    /// How often each server's `bad_headers_from` fault fired.
    bad_fired: Vec<u64>,
    /// How often each server's `bad_header_every` fault fired.
    bad_every_fired: Vec<u64>,
    addrs: Vec<std::net::SocketAddr>,
}

/// Syncs a client from [`START`] against one server per entry of `faults` (headers served
/// uncompressed, 2,000 per answer, so the chain is many answers long), with trusted checkpoints
/// every [`SPACING`] blocks when `boundaries`.
/// Also returns the simulator's block hashes from [`START`] to its tip.
fn run(faults: Vec<Faults>, boundaries: bool) -> (Run, Vec<Option<Hash256>>) {
    run_on(OLD, faults, boundaries.then_some(SPACING))
}

/// As [`run`] on a chain with `old` blocks of old history, with trusted checkpoints every
/// `spacing` blocks above [`START`] (none when `None`).
fn run_on(old: u32, faults: Vec<Faults>, spacing: Option<u32>) -> (Run, Vec<Option<Hash256>>) {
    run_with(old, faults, spacing, usize::MAX)
}

/// As [`run_on`] with at most `trusted` of the trusted checkpoints (the lowest).
fn run_with(
    old: u32,
    faults: Vec<Faults>,
    spacing: Option<u32>,
    trusted: usize,
) -> (Run, Vec<Option<Hash256>>) {
    let sim = sim(old);
    let node = Arc::new(SimNode::new(sim.clone()));
    let (tip, start, expected) = node.with_chain(|c| {
        let tip = c.tip_height();
        let hashes: Vec<_> = (START..=tip).map(|h| c.block(h).unwrap().hash).collect();
        (tip, c.checkpoint(), hashes)
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let servers: Vec<SimServer> = faults
        .into_iter()
        .map(|f| {
            let cfg = ServerConfig {
                services: services::NODE_NETWORK | services::NODE_BLOOM,
                faults: f,
                ..ServerConfig::default()
            };
            rt.block_on(SimServer::start(node.clone(), cfg)).unwrap()
        })
        .collect();
    let addrs: Vec<_> = servers.iter().map(|s| s.addr()).collect();
    let mut config = client_config(
        &sim.params,
        addrs.clone(),
        SyncStrategy::QrInfo,
        SyncProfile::Full,
        start,
    );
    config.request_timeout = Duration::from_secs(20);
    if let Some(spacing) = spacing {
        config.extra_checkpoints = (1..)
            .map(|k| START + k * spacing)
            .take_while(|h| *h <= tip)
            .take(trusted)
            .map(|h| Checkpoint {
                height: h,
                hash: expected[(h - START) as usize],
            })
            .collect();
    }
    let listener = Arc::new(Listener::default());
    let client = Client::new(config, Arc::new(MemoryStore::new()), listener.clone()).unwrap();
    client.start().unwrap();
    let t0 = Instant::now();
    let mut st = listener.state.lock().unwrap();
    while *st != Some(SyncState::Synced) && t0.elapsed() < Duration::from_secs(120) {
        st = listener
            .cv
            .wait_timeout(st, Duration::from_millis(50))
            .unwrap()
            .0;
    }
    let synced = *st == Some(SyncState::Synced);
    drop(st);
    let hashes = (START..=tip).map(|h| client.block_hash(h)).collect();
    client.stop();
    let snaps: Vec<_> = servers.iter().map(|s| s.counters().snapshot()).collect();
    for s in servers {
        rt.block_on(s.shutdown());
    }
    let errors = listener.errors.lock().unwrap().clone();
    eprintln!(
        "getheaders per server: {:?}",
        snaps
            .iter()
            .map(|s| s.requests.get("getheaders").copied().unwrap_or(0))
            .collect::<Vec<_>>()
    );
    eprintln!("errors: {errors:?}");
    (
        Run {
            synced,
            hashes,
            errors,
            getheaders: snaps
                .iter()
                .map(|s| s.requests.get("getheaders").copied().unwrap_or(0))
                .collect(),
            bad_fired: snaps
                .iter()
                .map(|s| s.faults_fired.get("bad_headers_from").copied().unwrap_or(0))
                .collect(),
            bad_every_fired: snaps
                .iter()
                .map(|s| s.faults_fired.get("bad_header_every").copied().unwrap_or(0))
                .collect(),
            addrs,
        },
        expected.into_iter().map(Some).collect(),
    )
}

#[test]
fn three_peers_serve_ranges_and_the_chain_is_the_simulators() {
    let (r, chain) = run(vec![Faults::default(); 3], true);
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    // 8,180 headers above the start: four ranges of 2,000 between checkpoints, then the rest.
    let serving = r.getheaders.iter().filter(|n| **n > 0).count();
    assert!(serving >= 2, "getheaders per server: {:?}", r.getheaders);
    assert!(
        r.getheaders.iter().sum::<u64>() >= 5,
        "getheaders per server: {:?}",
        r.getheaders
    );
    assert!(
        !r.errors.iter().any(|e| e.kind == ErrorKind::PeerMisbehaved),
        "{:?}",
        r.errors
    );
}

#[test]
fn a_peer_serving_a_bad_range_is_banned_for_it_and_the_others_finish() {
    let bad = Faults {
        bad_headers_from: Some(START + 1),
        ..Faults::default()
    };
    let (r, chain) = run(vec![bad, Faults::default(), Faults::default()], true);
    assert!(r.bad_fired[0] >= 1, "fault fired: {:?}", r.bad_fired);
    assert_synced_and_only_the_first_banned(&r, &chain);
}

/// The client synced the simulator's chain, the first server was banned for invalid headers
/// and no other server was blamed.
fn assert_synced_and_only_the_first_banned(r: &Run, chain: &[Option<Hash256>]) {
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    let bad_addr = r.addrs[0].to_string();
    let bans: Vec<_> = r
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::PeerMisbehaved)
        .collect();
    assert!(
        bans.iter()
            .any(|e| e.message.contains(&bad_addr) && e.message.contains("invalid headers")),
        "{bans:?}"
    );
    for good in &r.addrs[1..] {
        let g = good.to_string();
        assert!(!bans.iter().any(|e| e.message.contains(&g)), "{bans:?}");
    }
}

#[test]
fn one_peer_syncs_sequentially_without_boundaries() {
    let (r, chain) = run(vec![Faults::default()], false);
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    // 8,180 headers at 2,000 per answer: five answers (the last partial), at least.
    assert!(r.getheaders[0] >= 5, "{:?}", r.getheaders);
}

/// Only sparse trusted hashes (one every 7 answers): the three ranges of 14,000 headers are
/// each walked by one peer (7 `getheaders` a range), the chain is
/// the simulator's, nobody is blamed, and the headers held for ranges not yet connected never
/// exceed the bound (16 answers, 32,000 headers here; the three ranges together are 42,000, so
/// the third is only handed out once the first is connected).
#[test]
fn sparse_checkpoints_three_peers_each_walk_a_long_range() {
    let (r, chain) = run_on(SPARSE_OLD, vec![Faults::default(); 3], Some(SPARSE_SPACING));
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    // Every peer served (two ranges walked at once, the third range and the 2,180 headers
    // above the last trusted hash by whoever is free), at least two of them a whole range.
    let per_range = u64::from(SPARSE_SPACING / PER_ANSWER);
    assert!(
        r.getheaders.iter().all(|n| *n > 0)
            && r.getheaders.iter().filter(|n| **n >= per_range).count() >= 2
            && r.getheaders.iter().sum::<u64>() >= 3 * per_range + 2,
        "getheaders per server: {:?}",
        r.getheaders
    );
    assert!(
        !r.errors.iter().any(|e| e.kind == ErrorKind::PeerMisbehaved),
        "{:?}",
        r.errors
    );
    // The ranges' bound plus the stretch above the last trusted hash (2,180 headers here),
    // walked beside them.
    let cap =
        (dash_qrsync::RANGE_HELD_ANSWERS + dash_qrsync::TAIL_HELD_ANSWERS) * PER_ANSWER as usize;
    let peak = dash_qrsync::range_headers_held_peak();
    eprintln!("headers held for ranges at most: {peak} (bound {cap})");
    assert!(
        peak >= SPARSE_SPACING as usize,
        "peak {peak}: no range was held"
    );
    assert!(peak <= cap, "peak {peak} above the bound {cap}");
}

/// A peer that walks a long range and then, in the range's last answer, serves a header that
/// does not link (whichever range it gets: one bad header 1,000 blocks below each checkpoint)
/// is banned for it (the range path's message, after at least the 6 good answers before), the
/// range is fetched from another peer and the chain is the simulator's.
#[test]
fn sparse_checkpoints_a_bad_long_range_is_banned_and_fetched_elsewhere() {
    let bad = Faults {
        bad_header_every: Some((START + SPARSE_SPACING - PER_ANSWER / 2, SPARSE_SPACING)),
        ..Faults::default()
    };
    let (r, chain) = run_on(
        SPARSE_OLD,
        vec![bad, Faults::default(), Faults::default()],
        Some(SPARSE_SPACING),
    );
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    assert!(
        r.bad_every_fired[0] >= 1,
        "fault fired: {:?}",
        r.bad_every_fired
    );
    // The bad answer was the 7th of a range: the 6 before it were asked for and served.
    let per_range = u64::from(SPARSE_SPACING / PER_ANSWER);
    assert!(r.getheaders[0] >= per_range, "{:?}", r.getheaders);
    let bad_addr = r.addrs[0].to_string();
    let bans: Vec<_> = r
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::PeerMisbehaved)
        .collect();
    assert!(
        bans.iter().any(|e| e.message.contains(&bad_addr)
            && e.message.contains("invalid headers for blocks")
            && e.message.contains("header 13001 after block")),
        "{bans:?}"
    );
    for good in &r.addrs[1..] {
        let g = good.to_string();
        assert!(!bans.iter().any(|e| e.message.contains(&g)), "{bans:?}");
    }
}

/// Issue 24: the stretch above the last trusted hash is walked beside the ranges, not after
/// them. Two trusted hashes (two ranges of 7 answers) and 16,180 headers above the last
/// (9 answers), three peers answering after 100 ms each: while the two ranges are walked, the
/// third peer walks the stretch above them (at least 3 of its answers arrive before the ranges
/// are connected: the ranges need 7 round trips each, the stretch's answers one each); the
/// chain is the simulator's, nobody is blamed, and the headers held stay within the two bounds.
#[test]
fn the_stretch_above_the_last_trusted_hash_is_walked_beside_the_ranges() {
    let slow = Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    };
    let (r, chain) = run_with(SPARSE_OLD, vec![slow; 3], Some(SPARSE_SPACING), 2);
    assert!(r.synced, "errors: {:?}", r.errors);
    assert!(
        r.hashes == chain,
        "the client's chain differs from the simulator's"
    );
    assert!(
        !r.errors.iter().any(|e| e.kind == ErrorKind::PeerMisbehaved),
        "{:?}",
        r.errors
    );
    let beside = dash_qrsync::tail_headers_beside_ranges();
    eprintln!("headers above the last trusted hash received beside the ranges: {beside}");
    assert!(
        beside >= 3 * PER_ANSWER as usize,
        "only {beside} headers above the last trusted hash arrived before the ranges were connected"
    );
    let cap =
        (dash_qrsync::RANGE_HELD_ANSWERS + dash_qrsync::TAIL_HELD_ANSWERS) * PER_ANSWER as usize;
    let peak = dash_qrsync::range_headers_held_peak();
    assert!(peak <= cap, "peak {peak} above the bound {cap}");
}

/// The peer walking the stretch above the last trusted hash (the one announcing the highest
/// height) serves a header there that does not link: it is banned for it, what it served
/// before stays, the rest comes from the other peers, and the chain is the simulator's.
#[test]
fn a_bad_header_above_the_last_trusted_hash_bans_its_walker() {
    let bad = Faults {
        // Announces a higher tip than the others, so it is the one given the stretch.
        claim_start_height: Some(i32::try_from(SPARSE_OLD + 10_000).unwrap()),
        bad_headers_from: Some(START + 2 * SPARSE_SPACING + 3 * PER_ANSWER + 500),
        ..Faults::default()
    };
    let (r, chain) = run_with(
        SPARSE_OLD,
        vec![bad, Faults::default(), Faults::default()],
        Some(SPARSE_SPACING),
        2,
    );
    assert!(r.bad_fired[0] >= 1, "fault fired: {:?}", r.bad_fired);
    assert_synced_and_only_the_first_banned(&r, &chain);
}
