//! The attack matrix of issue 23 (item 6) on the simulated network: each case puts a hostile
//! peer beside an honest one and asserts that the honest chain is followed (the client's
//! headers and lists reach the honest tip and its ChainLocks, for the honest block hashes,
//! are verified), that the honest peer is never banned, that the fault is reported with its
//! true kind naming the hostile peer, and that the process's peak memory and CPU time stay
//! under generous bounds. Cases run one at a time (a lock) so that each one's CPU time is its
//! own; every wait is bounded, no assertion is on wall time. Valid-proof-of-work forks come from
//! the simulator (`SimChain::branch_from`); forks deeper than the best ChainLock are
//! `tests/chainlock_fork.rs`.
//!
//! Each case prints one `ATTACK` line with its figures (requests the honest peer received,
//! the worst lag of the client behind a newly mined block, peak RSS, CPU seconds):
//! `cargo test --all-features --test attack_matrix -- --nocapture --test-threads 1`.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::{Faults, SimServer};
use dash_qrsync::simnet::{SimConfig, SimService, SwitchableService};
use dash_qrsync::{Client, ErrorKind};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::recorder::{synced, Log, Recorder};
use common::simnet::{cpu_seconds, proc_status_kib, Net};

/// One case at a time: CPU time is measured per process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Peak resident memory of the whole test process (client, honest and hostile servers, and
/// the generated chains): far above the ~40 MiB a case needs, far below a leak or a bomb.
const MAX_PEAK_RSS_MIB: u64 = 512;
/// CPU seconds one case may use (chain generation, sync, following, the attack), on any load.
const MAX_CASE_CPU_SECS: f64 = 90.0;
/// Deadline of every wait.
const WAIT: Duration = Duration::from_secs(90);

/// The requests a light client sends that cost a server work.
const REQUESTS: [&str; 5] = [
    "getheaders",
    "getheaders2",
    "getmnlistd",
    "getqrinfo",
    "getdata",
];

fn requests(server: &SimServer) -> u64 {
    let snap = server.counters().snapshot();
    REQUESTS
        .iter()
        .map(|c| snap.requests.get(*c).copied().unwrap_or(0))
        .sum()
}

/// Errors naming `addr`.
fn errors_of(l: &Log, addr: SocketAddr) -> Vec<(ErrorKind, String)> {
    let a = addr.to_string();
    l.errors
        .iter()
        .filter(|e| e.message.contains(&a))
        .map(|e| (e.kind, e.message.clone()))
        .collect()
}

fn bans_of(l: &Log, addr: SocketAddr) -> Vec<String> {
    errors_of(l, addr)
        .into_iter()
        .filter(|(k, _)| *k == ErrorKind::PeerMisbehaved)
        .map(|(_, m)| m)
        .collect()
}

/// A case's measurements, from its start.
struct Case {
    name: &'static str,
    cpu0: f64,
    _one: std::sync::MutexGuard<'static, ()>,
}

impl Case {
    fn start(name: &'static str) -> Case {
        let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        if std::env::var_os("ATTACK_LOG").is_some() {
            // The library's diagnostics on standard error, for a case that fails.
            dash_qrsync::logging::enable_platform_logging(dash_qrsync::logging::LogLevel::Debug);
        }
        Case {
            name,
            cpu0: cpu_seconds().unwrap_or(0.0),
            _one: one,
        }
    }

    /// Checks the resource bounds and prints the case's figures.
    fn finish(self, honest_requests: u64, worst_lag: Duration, note: &str) {
        let cpu = cpu_seconds().map(|c| c - self.cpu0);
        let peak = proc_status_kib("VmHWM").map(|k| k / 1024);
        println!(
            "ATTACK {}: requests to the honest peer {honest_requests}; worst lag {} ms; peak RSS \
             {} MiB; CPU {} s; {note}",
            self.name,
            worst_lag.as_millis(),
            peak.map_or("?".into(), |p| p.to_string()),
            cpu.map_or("?".into(), |c| format!("{c:.1}")),
        );
        if let Some(p) = peak {
            assert!(p < MAX_PEAK_RSS_MIB, "{}: peak RSS {p} MiB", self.name);
        }
        if let Some(c) = cpu {
            assert!(c < MAX_CASE_CPU_SECS, "{}: {c:.1} CPU seconds", self.name);
        }
    }
}

fn start_synced(net: &Net) -> (Client, Arc<Recorder>) {
    let (client, rec) = net.client(|_| {});
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "not synced: {:?} {:?}",
        client.status(),
        rec.log.lock().unwrap().errors
    );
    (client, rec)
}

/// Mines one honest block and waits until the client has its headers and list and verified
/// its ChainLock for the honest hash; returns how long that took.
fn follow_one(net: &Net, client: &Client, rec: &Recorder) -> Duration {
    let t = Instant::now();
    net.node.mine(1);
    let tip = net.node.tip_height();
    let hash = net.node.hash_at(tip);
    let ok = rec.wait_for(
        |l| {
            l.chainlocks
                .iter()
                .any(|c| c.height == tip && Some(c.block_hash) == hash)
        },
        WAIT,
    ) && rec.wait_for(
        |_| {
            let s = client.status();
            s.header_height == tip && s.list_height == Some(tip)
        },
        WAIT,
    );
    assert!(
        ok,
        "honest block {tip} not followed: {:?}; errors {:?}",
        client.status(),
        rec.log.lock().unwrap().errors
    );
    t.elapsed()
}

/// Mines `blocks` honest blocks (200 ms apart), waits until the client has the honest tip's
/// headers and list, then follows one more block with its ChainLock verified for the honest
/// hash (the locks of the blocks between may stay unverified: a client on a fork above the
/// best lock returns to the honest chain when that chain has more work); returns the worst
/// wait.
fn catch_up(net: &Net, client: &Client, rec: &Recorder, blocks: u32) -> Duration {
    for _ in 1..blocks {
        net.node.mine(1);
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Instant::now();
    net.node.mine(1);
    let tip = net.node.tip_height();
    assert!(
        rec.wait_for(
            |_| {
                let s = client.status();
                s.header_height == tip && s.list_height == Some(tip)
            },
            WAIT
        ),
        "honest tip {tip} not reached: {:?}; errors {:?}",
        client.status(),
        rec.log.lock().unwrap().errors
    );
    // On the honest chain: the next block's lock is verified for the honest hash.
    t.elapsed().max(follow_one(net, client, rec))
}

fn follow(net: &Net, client: &Client, rec: &Recorder, blocks: u32) -> Duration {
    (0..blocks)
        .map(|_| follow_one(net, client, rec))
        .max()
        .unwrap_or_default()
}

fn assert_honest_not_banned(rec: &Recorder, honest: SocketAddr) {
    let l = rec.log.lock().unwrap();
    let b = bans_of(&l, honest);
    assert!(b.is_empty(), "honest peer banned: {b:?}");
}

/// Waits for a `kind` error naming `addr` and containing `what`.
fn expect_report(rec: &Recorder, addr: SocketAddr, kind: ErrorKind, what: &str) -> String {
    let found = |l: &Log| {
        errors_of(l, addr)
            .into_iter()
            .find(|(k, m)| *k == kind && m.contains(what))
            .map(|e| e.1)
    };
    assert!(
        rec.wait_for(|l| found(l).is_some(), WAIT),
        "no {kind:?} report naming {addr} and {what:?}: {:?}",
        rec.log.lock().unwrap().errors
    );
    let l = rec.log.lock().unwrap();
    found(&l).unwrap()
}

/// Every report naming the hostile peer has the expected kind and says what it was.
fn assert_reports_are(rec: &Recorder, addr: SocketAddr, kind: ErrorKind, what: &[&str]) {
    let l = rec.log.lock().unwrap();
    for (k, m) in errors_of(&l, addr) {
        assert!(
            k == kind && what.iter().any(|w| m.contains(w)),
            "{addr} reported as {k:?} {m:?}, expected {kind:?} with one of {what:?}"
        );
    }
}

/// A honest network plus a hostile server whose chain can be switched to a fork.
fn with_turncoat(seed: u64) -> (Net, Arc<SwitchableService>) {
    let mut net = Net::start(SimConfig::regtest(seed), &[Faults::default()]);
    let turncoat = Arc::new(SwitchableService::new(net.node.clone()));
    net.serve(turncoat.clone(), Faults::default());
    (net, turncoat)
}

/// A fork of the honest chain from `fork_height`, `length` blocks long, served as a node.
fn fork(net: &Net, fork_height: u32, length: u32) -> Arc<dyn SimService> {
    let chain = net.node.with_chain(|c| c.branch_from(fork_height, length));
    Arc::new(dash_qrsync::simnet::SimNode::from_chain(chain))
}

#[test]
fn a_longer_fork_above_the_best_chainlock_is_left_for_the_next_locked_block() {
    let case = Case::start("fork above the best ChainLock (2 blocks longer)");
    let (net, turncoat) = with_turncoat(61);
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    follow(&net, &client, &rec, 1);
    let locked = net.node.tip_height();
    let base = requests(&net.servers[0]);
    // A branch from the locked block itself, two blocks long: more work, and no lock excludes
    // it, so the client may take it; the honest chain's next ChainLock takes it back.
    turncoat.switch_to(fork(&net, locked, 2));
    assert!(
        rec.wait_for(|_| client.status().header_height == locked + 2, WAIT),
        "the fork above the lock was not taken: {:?}",
        client.status()
    );
    // Three honest blocks: more work than the fork.
    let lag = catch_up(&net, &client, &rec, 3);
    assert_honest_not_banned(&rec, honest);
    // Serving a branch above every lock is no fault: no ban. A list of the other branch asked
    // of a peer that does not have it goes unanswered (network trouble, either peer).
    {
        let l = rec.log.lock().unwrap();
        for (k, m) in errors_of(&l, hostile) {
            assert!(
                k == ErrorKind::Network && m.contains("did not answer"),
                "fork server reported as {k:?} {m:?}"
            );
        }
    }
    case.finish(requests(&net.servers[0]) - base, lag, "");
    client.stop();
}

#[test]
fn an_equal_work_fork_below_the_best_chainlock_is_refused_and_its_server_banned() {
    let case = Case::start("equal-work fork below the best ChainLock");
    let (net, turncoat) = with_turncoat(62);
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    follow(&net, &client, &rec, 1);
    let locked = net.node.tip_height();
    let base = requests(&net.servers[0]);
    // Two blocks replacing the honest two up to the locked one: exactly the same work.
    turncoat.switch_to(fork(&net, locked - 2, 2));
    let report = expect_report(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        "conflicts with the ChainLock",
    );
    let lag = follow(&net, &client, &rec, 2);
    assert_honest_not_banned(&rec, honest);
    case.finish(requests(&net.servers[0]) - base, lag, &report);
    client.stop();
}

#[test]
fn a_future_stamped_fork_beside_an_honest_peer_is_refused_and_its_server_banned() {
    let case = Case::start("fork stamped 3 h ahead");
    let cfg = SimConfig::regtest(63);
    // The hostile peer is asked first: the honest one answers the handshake 300 ms later, so
    // the hostile connection is the first the client holds.
    let mut net = Net::start(cfg, &[]);
    let from = net.node.tip_height() - 5;
    let node = net.node.clone();
    net.serve(
        node.clone(),
        Faults {
            future_time_from: Some(from),
            ..Faults::default()
        },
    );
    net.serve(
        node,
        Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
    );
    let (hostile, honest) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    let report = expect_report(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        "after the allowed maximum",
    );
    let base = requests(&net.servers[1]);
    let lag = follow(&net, &client, &rec, 2);
    assert_honest_not_banned(&rec, honest);
    assert_reports_are(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        &["after the allowed maximum"],
    );
    case.finish(requests(&net.servers[1]) - base, lag, &report);
    client.stop();
}

/// Forks served one after another, each 1-3 blocks from near the honest tip: most branch at
/// the locked tip (left when the honest chain outgrows them), every third below it (refused,
/// the server banned). Bounded: 12 forks, one per three honest blocks.
#[test]
fn a_storm_of_short_forks_never_moves_the_client_off_the_locked_chain() {
    let case = Case::start("storm of 12 short forks (1-3 blocks)");
    let (net, turncoat) = with_turncoat(64);
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    let base = requests(&net.servers[0]);
    let mut worst = Duration::ZERO;
    for k in 0..12u32 {
        // Three honest blocks outgrow any fork of the storm (at most 2 blocks above the tip).
        worst = worst.max(catch_up(&net, &client, &rec, 3));
        let tip = net.node.tip_height();
        let depth = if k % 3 == 2 { 1 + k % 2 } else { 0 };
        turncoat.switch_to(fork(&net, tip - depth, depth + 1 + k % 2));
        std::thread::sleep(Duration::from_millis(300));
    }
    worst = worst.max(follow(&net, &client, &rec, 2));
    assert_honest_not_banned(&rec, honest);
    // Bans for the forks below the lock; a list asked of the storm's server for a block of a
    // fork it no longer serves goes unanswered (network trouble, not misbehaviour).
    {
        let l = rec.log.lock().unwrap();
        for (k, m) in errors_of(&l, hostile) {
            assert!(
                (k == ErrorKind::PeerMisbehaved && m.contains("conflicts with the ChainLock"))
                    || (k == ErrorKind::Network && m.contains("did not answer")),
                "storm server reported as {k:?} {m:?}"
            );
        }
    }
    let bans = bans_of(&rec.log.lock().unwrap(), hostile).len();
    assert!(bans >= 1, "no fork below the lock was refused");
    case.finish(
        requests(&net.servers[0]) - base,
        worst,
        &format!("{bans} bans of the storm's server"),
    );
    client.stop();
}

/// One peer answers every `getheaders` with nothing, another never answers at all; both claim
/// the highest start height. The honest peer beside them is followed.
#[test]
fn empty_and_absent_header_answers_with_lying_start_heights_do_not_stall_the_sync() {
    let case = Case::start("empty + absent header answers, start height 2^31-1");
    let net = Net::start(
        SimConfig::regtest(65),
        &[
            Faults {
                empty_headers: true,
                claim_start_height: Some(i32::MAX),
                ..Faults::default()
            },
            Faults {
                // version, sendaddrv2, verack, sendheaders: then silence.
                stall_after: Some(4),
                claim_start_height: Some(i32::MAX),
                ..Faults::default()
            },
            Faults::default(),
        ],
    );
    let (empty, absent, honest) = (
        net.servers[0].addr(),
        net.servers[1].addr(),
        net.servers[2].addr(),
    );
    let (client, rec) = start_synced(&net);
    let base = requests(&net.servers[2]);
    let lag = follow(&net, &client, &rec, 3);
    let report = expect_report(&rec, absent, ErrorKind::Network, "did not answer");
    assert_honest_not_banned(&rec, honest);
    assert_reports_are(&rec, absent, ErrorKind::Network, &["did not answer"]);
    {
        let l = rec.log.lock().unwrap();
        assert!(bans_of(&l, empty).is_empty(), "empty answers are no ban");
    }
    assert!(
        net.servers[0]
            .counters()
            .snapshot()
            .faults_fired
            .contains_key("empty_headers"),
        "the empty peer was never asked"
    );
    case.finish(requests(&net.servers[2]) - base, lag, &report);
    client.stop();
}

#[test]
fn unsolicited_big_frames_are_charged_by_their_bytes_and_their_sender_banned() {
    let case = Case::start("20 unsolicited 2 MiB qrinfo frames");
    let net = Net::start(
        SimConfig::regtest(66),
        &[
            Faults::default(),
            Faults {
                unsolicited_large: Some((20, 2 << 20)),
                ..Faults::default()
            },
        ],
    );
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    // "unsolicited flood … last: qrinfo of 2097152 bytes", or "undecodable qrinfo" (below).
    let report = expect_report(&rec, hostile, ErrorKind::PeerMisbehaved, "qrinfo");
    let base = requests(&net.servers[0]);
    let lag = follow(&net, &client, &rec, 2);
    assert_honest_not_banned(&rec, honest);
    // A frame that arrives while a `getqrinfo` to that peer is outstanding is taken as the
    // answer (nothing tells the two apart on the wire) and refused as undecodable: also
    // provably wrong, also a ban. Which of the two comes first depends on scheduling.
    assert_reports_are(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        &["unsolicited flood", "undecodable qrinfo"],
    );
    case.finish(requests(&net.servers[0]) - base, lag, &report);
    client.stop();
}

/// Requests the honest peer receives in a fixed window while 3 honest blocks are followed,
/// with a second peer beside it that is faithful (`junk: None`) or sends `junk` as well.
fn junk_window(seed: u64, junk: Option<Faults>) -> (u64, Duration, Arc<Recorder>, SocketAddr) {
    let (n, lag, rec, hostile, _) = junk_window_all(seed, junk);
    (n, lag, rec, hostile)
}

/// [`junk_window`], with the client's own count of round trips in the window and how often it
/// left `Synced` (printed for the figures).
fn junk_window_all(
    seed: u64,
    junk: Option<Faults>,
) -> (u64, Duration, Arc<Recorder>, SocketAddr, (u64, usize)) {
    const WINDOW: Duration = Duration::from_secs(15);
    let net = Net::start(
        SimConfig::regtest(seed),
        &[Faults::default(), junk.unwrap_or_default()],
    );
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    let t = Instant::now();
    let base = requests(&net.servers[0]);
    let trips = client.status().round_trips;
    let mut worst = Duration::ZERO;
    for _ in 0..3 {
        worst = worst.max(follow_one(&net, &client, &rec));
        std::thread::sleep(Duration::from_secs(2));
    }
    if let Some(left) = WINDOW.checked_sub(t.elapsed()) {
        std::thread::sleep(left);
    }
    let n = requests(&net.servers[0]) - base;
    let trips = client.status().round_trips - trips;
    let left = rec
        .log
        .lock()
        .unwrap()
        .errors
        .iter()
        .filter(|e| e.message.contains("left Synced"))
        .count();
    assert_honest_not_banned(&rec, honest);
    client.stop();
    (n, worst, rec, hostile, (trips, left))
}

/// 15 s of a hostile peer sending `faults`' junk beside the honest one (seed `seed`): asserts
/// the honest peer got at most about as many requests as beside a faithful peer and that the
/// sender was told off ("ignored"); prints the figures; returns the log and the sender.
fn junk_case(name: &'static str, seed: u64, faults: Faults) -> (Arc<Recorder>, SocketAddr) {
    let case = Case::start(name);
    let (quiet, _, _, _) = junk_window(seed, None);
    let (n, lag, rec, hostile, (trips, left)) = junk_window_all(seed, Some(faults));
    // The figures first (also when an assertion below fails: the figure before the fix).
    case.finish(
        n,
        lag,
        &format!(
            "{quiet} beside a faithful peer; client round trips {trips}, left Synced {left} times"
        ),
    );
    assert!(
        n <= 2 * quiet + 4,
        "{n} requests to the honest peer beside {name}, {quiet} beside a faithful peer"
    );
    let report = expect_report(&rec, hostile, ErrorKind::Network, "ignored");
    println!("ATTACK report: {report}");
    (rec, hostile)
}

/// Unsolicited `headers` that connect to no block the client holds, or to one below its tip
/// (valid proof of work, 20 a second), cause no request: the honest peer receives no more
/// requests than beside a faithful peer, the sender is told off once, never banned.
#[test]
fn junk_headers_announcements_cause_no_requests() {
    let (rec, hostile) = junk_case(
        "junk headers (unconnected / stale), 20/s for 15 s",
        67,
        Faults {
            junk_headers: true,
            ..Faults::default()
        },
    );
    // A stale header can also arrive while a `getheaders` to its sender waits and continue
    // that request's locator: it is then taken as the answer, and it forks below the best
    // ChainLock (a ban for a provably wrong header, with that reason).
    let l = rec.log.lock().unwrap();
    for (k, m) in errors_of(&l, hostile) {
        assert!(
            (k == ErrorKind::Network && m.contains("ignored"))
                || (k == ErrorKind::PeerMisbehaved && m.contains("below the ChainLocked")),
            "junk headers reported as {k:?} {m:?}"
        );
    }
}

/// Unsolicited `clsig`s for heights no client can verify (far above the tip, or below every
/// list it keeps) cause no request.
#[test]
fn junk_chainlocks_cause_no_requests() {
    let (rec, hostile) = junk_case(
        "junk clsigs (1000 above / near genesis), 20/s for 15 s",
        68,
        Faults {
            junk_clsigs: true,
            ..Faults::default()
        },
    );
    assert_reports_are(&rec, hostile, ErrorKind::Network, &["ignored"]);
}

/// A headers announcement whose header does not meet its own proof-of-work target is provably
/// invalid: its sender is banned before any request.
#[test]
fn an_announcement_failing_its_own_proof_of_work_bans_its_sender() {
    let case = Case::start("headers announcement failing its own target");
    let net = Net::start(
        SimConfig::regtest(69),
        &[
            Faults::default(),
            Faults {
                bad_pow_announcements: true,
                ..Faults::default()
            },
        ],
    );
    let (honest, hostile) = (net.servers[0].addr(), net.servers[1].addr());
    let (client, rec) = start_synced(&net);
    let report = expect_report(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        "does not meet its own target",
    );
    let base = requests(&net.servers[0]);
    let lag = follow(&net, &client, &rec, 2);
    assert_honest_not_banned(&rec, honest);
    assert_reports_are(
        &rec,
        hostile,
        ErrorKind::PeerMisbehaved,
        &["does not meet its own target"],
    );
    case.finish(requests(&net.servers[0]) - base, lag, &report);
    client.stop();
}

/// A peer announcing, 20 times a second, a new block linked to the tip (valid proof of work,
/// never served): each passes every cheap check, so the bound is the rate — one pass per second
/// per announcing peer. Counted: the `getheaders` the announcer received in 15 s.
#[test]
fn plausible_fake_announcements_start_at_most_one_pass_a_second() {
    const WINDOW: Duration = Duration::from_secs(15);
    let case = Case::start("fake tip announcements (linked, valid PoW), 20/s for 15 s");
    let net = Net::start(
        SimConfig::regtest(70),
        &[
            Faults::default(),
            Faults {
                fake_tip_announcements: true,
                ..Faults::default()
            },
        ],
    );
    let honest = net.servers[0].addr();
    let (client, rec) = start_synced(&net);
    let asked = |s: &SimServer| {
        let r = s.counters().snapshot().requests;
        r.get("getheaders").copied().unwrap_or(0) + r.get("getheaders2").copied().unwrap_or(0)
    };
    let (base, base_honest) = (asked(&net.servers[1]), requests(&net.servers[0]));
    let t = Instant::now();
    let lag = follow(&net, &client, &rec, 2);
    if let Some(left) = WINDOW.checked_sub(t.elapsed()) {
        std::thread::sleep(left);
    }
    let n = asked(&net.servers[1]) - base;
    let secs = t.elapsed().as_secs();
    case.finish(
        requests(&net.servers[0]) - base_honest,
        lag,
        &format!(
            "getheaders to the announcer {n} in {secs} s; its reports {:?}",
            errors_of(&rec.log.lock().unwrap(), net.servers[1].addr())
        ),
    );
    // One per second at most, plus the passes of the two honest blocks (generous).
    assert!(
        n <= secs + 10,
        "{n} header rounds to the fake announcer in {secs} s"
    );
    assert_honest_not_banned(&rec, honest);
    client.stop();
}
