//! The sync benchmark: one simulated network, fresh clients with each strategy at several
//! injected latencies, and the figures (`benches/sync.rs` prints them; a smoke test runs a
//! small configuration in CI).

use super::server::{Faults, ServerConfig, SimServer};
use super::{SimConfig, SimNode};
use crate::api::{
    ChainLockEvent, ClientError, Config, EventListener, Progress, SyncProfile, SyncState,
    SyncStrategy,
};
use crate::engine::QuorumInfo;
use crate::store::MemoryStore;
use crate::Client;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One measured configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Strategy.
    pub strategy: SyncStrategy,
    /// Peers (servers) the client uses.
    pub peers: usize,
    /// One-way latency injected by each server.
    pub latency: Duration,
    /// Which quorums the client validates.
    pub profile: SyncProfile,
    /// Outgoing bandwidth of each server, bytes per second (`None` = loopback speed).
    pub bandwidth: Option<u64>,
}

impl Case {
    /// A full-profile case at loopback bandwidth.
    pub fn new(strategy: SyncStrategy, peers: usize, latency: Duration) -> Case {
        Case {
            strategy,
            peers,
            latency,
            profile: SyncProfile::Full,
            bandwidth: None,
        }
    }

    /// Short name of the strategy and profile, as printed.
    pub fn label(&self) -> &'static str {
        match (self.strategy, self.profile) {
            (SyncStrategy::QrInfo, SyncProfile::Full) => "QrInfo",
            (SyncStrategy::QrInfo, SyncProfile::Wallet) => "QrInfo-wallet",
            (SyncStrategy::Sequential, SyncProfile::Full) => "Seq(b)best",
            (SyncStrategy::Sequential, SyncProfile::Wallet) => "Seq(b)wallet",
            (SyncStrategy::SequentialFromGenesis, SyncProfile::Full) => "Seq(a)genesis",
            (SyncStrategy::SequentialFromGenesis, SyncProfile::Wallet) => "Seq(a)wallet",
        }
    }
}

/// What one sync cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The configuration.
    pub case: Case,
    /// Reached `Synced` before the time limit.
    pub synced: bool,
    /// Wall time from start to `Synced`.
    pub wall: Duration,
    /// Requests that waited on an answer.
    pub round_trips: u64,
    /// Round trips that had to wait for each other.
    pub dependent_round_trips: u64,
    /// Bytes received / sent by the client.
    pub bytes_in: u64,
    /// Bytes sent by the client.
    pub bytes_out: u64,
    /// Messages received by the servers (client → server).
    pub messages_out: u64,
    /// Messages sent by the servers (server → client).
    pub messages_in: u64,
    /// Process CPU time (user + sys) during the sync (client and in-process servers).
    pub cpu: Duration,
    /// Time the in-process servers spent building answers.
    pub server_busy: Duration,
    /// Peak resident set size during the sync, KiB (Linux; 0 elsewhere).
    pub peak_rss_kib: u64,
    /// Quorums validated.
    pub quorums: u32,
    /// Masternode-list phase only (from "headers synced" to `Synced`): wall time.
    pub list_wall: Duration,
    /// Masternode-list phase: requests.
    pub list_round_trips: u64,
    /// Masternode-list phase: dependent round trips.
    pub list_dependent_round_trips: u64,
    /// Masternode-list phase: bytes received.
    pub list_bytes_in: u64,
}

impl Measurement {
    /// CPU time attributable to the client: process CPU minus the servers' busy time.
    pub fn client_cpu(&self) -> Duration {
        self.cpu.saturating_sub(self.server_busy)
    }

    /// The floor of this run as the issue defines it: the handshake and every round trip that
    /// had to wait for the previous one (at the injected latency), plus the bytes received at
    /// the link's bandwidth, plus the client's CPU time (as if nothing overlapped).
    pub fn floor(&self) -> Duration {
        let rtt = self.case.latency * 2;
        let transfer = self
            .case
            .bandwidth
            .filter(|b| *b > 0)
            .map_or(Duration::ZERO, |b| {
                Duration::from_secs_f64(self.bytes_in as f64 / b as f64)
            });
        rtt * (self.dependent_round_trips as u32 + 1) + transfer + self.client_cpu()
    }
}

#[derive(Default)]
struct Waiter {
    state: Mutex<Option<SyncState>>,
    cv: Condvar,
}

impl EventListener for Waiter {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, _: &QuorumInfo) {}
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
        self.cv.notify_all();
    }
    fn on_error(&self, _: &ClientError) {}
}

fn cpu_time() -> Duration {
    // /proc/self/stat fields 14 and 15: utime and stime in clock ticks (100 Hz on Linux).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Syncs a fresh client against `node` under `case`.
pub fn measure(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    limit: Duration,
) -> Measurement {
    measure_with_store(rt, node, sim, case, limit, Arc::new(MemoryStore::new()))
}

fn measure_with_store(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    limit: Duration,
    store: Arc<MemoryStore>,
) -> Measurement {
    let servers: Vec<SimServer> = (0..case.peers.max(1))
        .map(|_| {
            let cfg = ServerConfig {
                faults: Faults {
                    latency: case.latency,
                    bandwidth_bytes_per_sec: case.bandwidth,
                    ..Faults::default()
                },
                ..ServerConfig::default()
            };
            rt.block_on(SimServer::start(node.clone(), cfg))
                .expect("loopback listener")
        })
        .collect();
    let mut config = Config::new(sim.network());
    config.chain = sim.params.clone();
    config.peers = servers.iter().map(|s| s.addr()).collect();
    config.max_peers = servers.len();
    config.strategy = case.strategy;
    config.profile = case.profile;
    config.follow_tip = false;
    config.request_timeout = Duration::from_secs(60);
    let waiter = Arc::new(Waiter::default());
    let client = Client::new(config, store, waiter.clone()).expect("valid configuration");
    reset_peak_rss();
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    client.start().expect("start");
    let mut st = waiter.state.lock().unwrap_or_else(|e| e.into_inner());
    while *st != Some(SyncState::Synced) && t0.elapsed() < limit {
        st = waiter
            .cv
            .wait_timeout(st, Duration::from_millis(50))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    let synced = *st == Some(SyncState::Synced);
    drop(st);
    let wall = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let status = client.status();
    let phase = client.list_phase();
    let peak = peak_rss_kib();
    client.stop();
    let (mut m_in, mut m_out, mut busy) = (0, 0, 0);
    for s in servers {
        let c = s.counters().snapshot();
        m_in += c.messages_out;
        m_out += c.messages_in;
        busy += c.busy_micros;
        rt.block_on(s.shutdown());
    }
    Measurement {
        case: case.clone(),
        synced,
        wall,
        round_trips: status.round_trips,
        dependent_round_trips: status.dependent_round_trips,
        bytes_in: status.bytes_in,
        bytes_out: status.bytes_out,
        messages_out: m_out,
        messages_in: m_in,
        cpu,
        server_busy: Duration::from_micros(busy),
        peak_rss_kib: peak,
        quorums: status.quorums_validated,
        list_wall: phase.map_or(wall, |p| (t0 + wall).saturating_duration_since(p.at)),
        list_round_trips: status.round_trips - phase.map_or(0, |p| p.round_trips),
        list_dependent_round_trips: status.dependent_round_trips
            - phase.map_or(0, |p| p.dependent_round_trips),
        list_bytes_in: status.bytes_in - phase.map_or(0, |p| p.bytes_in),
    }
}

/// Resume cost: a client syncs with a store, stops, the network advances `blocks`, and a new
/// client on the same store resumes. Returns the measurement of the resume.
pub fn measure_restart(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    blocks: u32,
    limit: Duration,
) -> Measurement {
    let store = Arc::new(MemoryStore::new());
    let first = measure_with_store(rt, node, sim, case, limit, store.clone());
    assert!(
        first.synced,
        "the first sync of the restart measurement did not finish"
    );
    node.mine(blocks);
    measure_with_store(rt, node, sim, case, limit, store)
}

/// Runs every case against one generated network.
pub fn run(sim: SimConfig, cases: &[Case], limit: Duration) -> (Vec<Measurement>, Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let t = Instant::now();
    let node = Arc::new(SimNode::new(sim.clone()));
    let generated = t.elapsed();
    let results = cases
        .iter()
        .map(|c| measure(&rt, &node, &sim, c, limit))
        .collect();
    (results, generated)
}

/// The table, the ratio lines and a JSON document for `results`.
pub fn report(results: &[Measurement]) -> (String, serde_json::Value) {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<13} {:>5} {:>7} {:>8} {:>7} {:>5} {:>9} {:>8} {:>6} {:>8} {:>7} {:>8} {:>7} {:>7} {:>6}\n",
        "strategy",
        "peers",
        "lat(ms)",
        "wall(ms)",
        "rtrips",
        "dep",
        "bytes_in",
        "mn-wall",
        "mn-dep",
        "mn-bytes",
        "cli-cpu",
        "rss(KiB)",
        "quorums",
        "floor",
        "synced"
    ));
    let mut json = Vec::new();
    for m in results {
        out.push_str(&format!(
            "{:<13} {:>5} {:>7} {:>8.1} {:>7} {:>5} {:>9} {:>8.1} {:>6} {:>8} {:>7} {:>8} {:>7} {:>7.1} {:>6}\n",
            m.case.label(),
            m.case.peers,
            m.case.latency.as_millis(),
            m.wall.as_secs_f64() * 1000.0,
            m.round_trips,
            m.dependent_round_trips,
            m.bytes_in,
            m.list_wall.as_secs_f64() * 1000.0,
            m.list_dependent_round_trips,
            m.list_bytes_in,
            m.client_cpu().as_millis(),
            m.peak_rss_kib,
            m.quorums,
            m.floor().as_secs_f64() * 1000.0,
            m.synced
        ));
        json.push(serde_json::json!({
            "strategy": m.case.label(),
            "peers": m.case.peers,
            "latency_ms": m.case.latency.as_millis() as u64,
            "bandwidth_bytes_per_sec": m.case.bandwidth,
            "synced": m.synced,
            "wall_ms": m.wall.as_secs_f64() * 1000.0,
            "round_trips": m.round_trips,
            "dependent_round_trips": m.dependent_round_trips,
            "bytes_in": m.bytes_in,
            "bytes_out": m.bytes_out,
            "messages_in": m.messages_in,
            "messages_out": m.messages_out,
            "list_phase_wall_ms": m.list_wall.as_secs_f64() * 1000.0,
            "list_phase_round_trips": m.list_round_trips,
            "list_phase_dependent_round_trips": m.list_dependent_round_trips,
            "list_phase_bytes_in": m.list_bytes_in,
            "cpu_ms": m.cpu.as_millis() as u64,
            "server_busy_ms": m.server_busy.as_millis() as u64,
            "client_cpu_ms": m.client_cpu().as_millis() as u64,
            "peak_rss_kib": m.peak_rss_kib,
            "quorums": m.quorums,
            "floor_ms": m.floor().as_secs_f64() * 1000.0,
            "wall_over_floor": m.wall.as_secs_f64() / m.floor().as_secs_f64().max(1e-9),
        }));
    }
    out.push_str(&ratio_lines(results));
    (out, serde_json::Value::Array(json))
}

/// Per latency, QrInfo (one peer, full profile) against each sequential baseline.
fn ratio_lines(results: &[Measurement]) -> String {
    let mut out = String::new();
    let mut latencies: Vec<Duration> = results.iter().map(|m| m.case.latency).collect();
    latencies.sort();
    latencies.dedup();
    let pct = |a: u64, b: u64| 100.0 * (1.0 - a as f64 / b.max(1) as f64);
    let x = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    for lat in latencies {
        let find = |s: SyncStrategy| {
            results.iter().find(|m| {
                m.case.latency == lat
                    && m.case.strategy == s
                    && m.case.peers == 1
                    && m.case.profile == SyncProfile::Full
            })
        };
        let Some(q) = find(SyncStrategy::QrInfo) else {
            continue;
        };
        for (name, base) in [
            (
                "Sequential(a) from genesis",
                SyncStrategy::SequentialFromGenesis,
            ),
            ("Sequential(b) best", SyncStrategy::Sequential),
        ] {
            let Some(s) = find(base) else {
                continue;
            };
            out.push_str(&format!(
                "ratio @{}ms: QrInfo/{name}: wall {:.3} ({:.1}x faster; after headers {:.1}x), dependent round trips {}/{} ({:.0}% fewer; after headers {}/{}, {:.0}% fewer), bytes in {:.3}\n",
                lat.as_millis(),
                q.wall.as_secs_f64() / s.wall.as_secs_f64().max(1e-9),
                x(q.wall, s.wall),
                x(q.list_wall, s.list_wall),
                q.dependent_round_trips,
                s.dependent_round_trips,
                pct(q.dependent_round_trips, s.dependent_round_trips),
                q.list_dependent_round_trips,
                s.list_dependent_round_trips,
                pct(q.list_dependent_round_trips, s.list_dependent_round_trips),
                q.bytes_in as f64 / s.bytes_in.max(1) as f64
            ));
        }
        if let Some(w) = results.iter().find(|m| {
            m.case.latency == lat
                && m.case.strategy == SyncStrategy::QrInfo
                && m.case.profile == SyncProfile::Wallet
        }) {
            out.push_str(&format!(
                "wallet profile @{}ms: {} dependent round trip(s) after headers, {} quorums, {} bytes in after headers\n",
                lat.as_millis(),
                w.list_dependent_round_trips,
                w.quorums,
                w.list_bytes_in
            ));
        }
    }
    out
}
