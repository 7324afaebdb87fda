//! The sync benchmark: one simulated network, fresh clients with each strategy at several
//! injected latencies, and the figures (`benches/sync.rs` prints them; a smoke test runs a
//! small configuration in CI).
//!
//! The client of a measurement runs either in this process ([`run`]; its CPU is the process's
//! minus the servers' busy time and its RSS includes the simulated network) or in a fresh
//! process of its own ([`ClientProcess`], [`run_with`]): then its CPU and peak RSS (`VmHWM`)
//! are the library's alone, read by that process from `/proc/self`.

use super::gen::{LONG_1Y_BLOCKS, LONG_30D_BLOCKS};
use super::server::{Faults, ServerConfig, SimServer};
use super::{SimConfig, SimNode};
use crate::api::{
    ChainLockEvent, ClientError, Config, EventListener, Progress, SyncProfile, SyncState,
    SyncStrategy,
};
use crate::engine::QuorumInfo;
use crate::network::conf::{split_pair, DashConf};
use crate::network::ChainParams;
use crate::store::{DirStore, MemoryStore, Store};
use crate::wire::header::BlockHeader;
use crate::Client;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The benchmark's presets by name: `regtest`, `devnet` ([`SimConfig::devnet`]), `v24`
/// ([`SimConfig::v24`]),
/// `mainnet-scale`, `long-30d` and `long-1y` (the long chains of [`SimConfig::long_chain`], the
/// client starting from a trusted header 30 days or a year of blocks below the tip), and
/// `mainnet-today` ([`mainnet_today`]).
pub fn preset(name: &str, seed: u64) -> Option<SimConfig> {
    Some(match name {
        "mainnet-today" => mainnet_today(seed, MAINNET_TODAY_BLOCKS),
        "regtest" => SimConfig::regtest(seed),
        "devnet" => SimConfig::devnet(seed),
        "v24" => SimConfig::v24(seed),
        "mainnet-scale" => SimConfig::mainnet_scale(seed),
        "long-30d" => SimConfig::long_chain(seed, LONG_30D_BLOCKS),
        "long-1y" => SimConfig::long_chain(seed, LONG_1Y_BLOCKS),
        _ => return None,
    })
}

/// Headers a mainnet wallet built today starts behind the tip: the newest built-in row is
/// 2,302,272 (2025-07-10), the tip ~515 days later (2026-12-07) about 285,000 blocks higher.
pub const MAINNET_TODAY_BLOCKS: u32 = 285_000;

/// Core's hash-only mainnet checkpoints above the newest built-in row, as heights above it:
/// 2,361,500 − 2,302,272 and 2,421,800 − 2,302,272 (`CMainParams::checkpointData`, v23.1.2;
/// none newer in Core's `src/chainparams.cpp` as of 2026-12-07, docs/CHECKPOINTS.md).
pub const MAINNET_TODAY_TRUSTED: [u32; 2] = [59_228, 119_528];

/// Today's mainnet for a wallet built from this library: the client starts from a trusted
/// header (standing for the newest built-in mainnet row) `blocks` blocks below the tip, and the
/// only trusted hashes above it are at Core's hash-only checkpoints' distances from that row
/// ([`MAINNET_TODAY_TRUSTED`], those within the chain): nothing denser. The chain is
/// [`SimConfig::long_chain`]'s (old history without masternodes, the mainnet-scale network for
/// the newest 2,600 blocks), so heights are those of the simulated chain (start at 576), not
/// mainnet's.
pub fn mainnet_today(seed: u64, blocks: u32) -> SimConfig {
    SimConfig {
        trusted_above_start: Some(
            MAINNET_TODAY_TRUSTED
                .iter()
                .copied()
                .filter(|h| *h < blocks)
                .collect(),
        ),
        ..SimConfig::long_chain(seed, blocks)
    }
}

/// `--dash-conf FILE` and repeatable `--chain-param KEY=VALUE` for the benchmark: the chain
/// parameters of the simulated network as Dash Core names them.
#[derive(Debug, Clone, Default)]
pub struct ChainArgs {
    /// The `dash.conf` to read.
    pub dash_conf: Option<PathBuf>,
    /// `KEY=VALUE` pairs, in order.
    pub params: Vec<(String, String)>,
}

impl ChainArgs {
    /// Records `--chain-param` `value` (`KEY=VALUE`).
    pub fn add_param(&mut self, value: &str) -> Result<(), String> {
        let (k, v) = split_pair(value).map_err(|e| format!("--chain-param: {e}"))?;
        self.params.push((k.to_string(), v.to_string()));
        Ok(())
    }

    /// The preset's parameters with the `dash.conf` (it must select the preset's network) and
    /// then every `--chain-param` applied, checked as a whole.
    pub fn apply(&self, base: ChainParams) -> Result<ChainParams, String> {
        let mut p = match &self.dash_conf {
            Some(path) => {
                let c = DashConf::read(path)
                    .map_err(|e| format!("--dash-conf {}: {e}", path.display()))?;
                if c.params.network() != base.network() {
                    return Err(format!(
                        "--dash-conf selects {}, but the preset's network is {}",
                        c.params.network(),
                        base.network()
                    ));
                }
                c.params
            }
            None => base,
        };
        for (k, v) in &self.params {
            p.set(k, v)
                .map_err(|e| format!("--chain-param {k}={v}: {e}"))?;
        }
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    /// The same options as command-line arguments (for a client process).
    pub fn to_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(p) = &self.dash_conf {
            a.push("--dash-conf".to_string());
            a.push(p.display().to_string());
        }
        for (k, v) in &self.params {
            a.push("--chain-param".to_string());
            a.push(format!("{k}={v}"));
        }
        a
    }
}

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
    /// Masternode-list phase: the client's CPU time.
    pub list_cpu: Duration,
    /// Headers the client connected above its start.
    pub headers: u32,
    /// Wall time from start to headers synced.
    pub header_wall: Duration,
    /// Wall time from start to the first quorum validated.
    pub first_quorum: Option<Duration>,
    /// Wall time from start to the last quorum validated before `Synced`.
    pub all_quorums: Option<Duration>,
    /// The client ran in a process of its own: `cpu` and `peak_rss_kib` are the library's
    /// alone (otherwise they include the in-process simulated network).
    pub separate_process: bool,
    /// Resident set size of the client process before the client was created, KiB (the
    /// harness: code pages, allocator; separate-process runs only, else 0).
    pub rss_before_kib: u64,
}

impl Measurement {
    /// CPU time attributable to the client: the client process's CPU when it ran alone, else
    /// the process CPU minus the servers' busy time.
    pub fn client_cpu(&self) -> Duration {
        if self.separate_process {
            self.cpu
        } else {
            self.cpu.saturating_sub(self.server_busy)
        }
    }

    fn transfer(&self, bytes: u64) -> Duration {
        self.case
            .bandwidth
            .filter(|b| *b > 0)
            .map_or(Duration::ZERO, |b| {
                Duration::from_secs_f64(bytes as f64 / b as f64)
            })
    }

    /// The overlapped floor of the masternode-list phase (after headers), as the issue defines
    /// it: max(RTT × dependent round trips + bytes received ÷ bandwidth, client CPU), all
    /// measured after headers. A cold start has one dependent round trip after headers, so
    /// this is max(RTT + bytes ÷ bandwidth, CPU).
    pub fn floor(&self) -> Duration {
        let rtt = self.case.latency * 2;
        let net = rtt * self.list_dependent_round_trips as u32 + self.transfer(self.list_bytes_in);
        net.max(self.list_cpu)
    }

    /// Wall time of the masternode-list phase over [`Measurement::floor`].
    pub fn floor_ratio(&self) -> f64 {
        self.list_wall.as_secs_f64() / self.floor().as_secs_f64().max(1e-9)
    }

    /// The whole sync's serial floor (nothing overlapped): the handshake and every dependent
    /// round trip at the injected latency, plus all bytes received at the bandwidth, plus the
    /// client's CPU.
    pub fn serial_floor(&self) -> Duration {
        let rtt = self.case.latency * 2;
        rtt * (self.dependent_round_trips as u32 + 1)
            + self.transfer(self.bytes_in)
            + self.client_cpu()
    }

    /// Headers connected per second of the header phase.
    pub fn headers_per_sec(&self) -> f64 {
        self.headers as f64 / self.header_wall.as_secs_f64().max(1e-9)
    }
}

#[derive(Default)]
struct Marks {
    first_quorum: Option<Instant>,
    last_quorum: Option<Instant>,
    /// Process CPU when the masternode-list phase began.
    list_cpu0: Option<Duration>,
    synced: bool,
}

#[derive(Default)]
struct Waiter {
    state: Mutex<Option<SyncState>>,
    marks: Mutex<Marks>,
    cv: Condvar,
}

impl EventListener for Waiter {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, _: &QuorumInfo) {
        let now = Instant::now();
        let mut m = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        if !m.synced {
            m.first_quorum.get_or_insert(now);
            m.last_quorum = Some(now);
        }
    }
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        {
            let mut m = self.marks.lock().unwrap_or_else(|e| e.into_inner());
            if s == SyncState::MasternodeLists && m.list_cpu0.is_none() {
                m.list_cpu0 = Some(cpu_time());
            }
            if s == SyncState::Synced {
                m.synced = true;
            }
        }
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

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What a client measured about its own sync (in the process it ran in).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ClientRun {
    /// Reached `Synced` before the time limit.
    pub synced: bool,
    /// Microseconds from start to `Synced` (or to the limit).
    pub wall_us: u64,
    /// Microseconds from start to headers synced.
    pub header_wall_us: Option<u64>,
    /// Microseconds from start to the first quorum validated.
    pub first_quorum_us: Option<u64>,
    /// Microseconds from start to the last quorum validated before `Synced`.
    pub all_quorums_us: Option<u64>,
    /// Process CPU (user + sys) during the sync, microseconds.
    pub cpu_us: u64,
    /// Process CPU after headers, microseconds.
    pub list_cpu_us: u64,
    /// `VmHWM` after the sync, KiB.
    pub peak_rss_kib: u64,
    /// `VmRSS` before the client was created, KiB.
    pub rss_before_kib: u64,
    /// Requests.
    pub round_trips: u64,
    /// Dependent round trips.
    pub dependent_round_trips: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Quorums validated.
    pub quorums: u32,
    /// Headers connected above the start.
    pub headers: u32,
    /// After headers: requests.
    pub list_round_trips: u64,
    /// After headers: dependent round trips.
    pub list_dependent_round_trips: u64,
    /// After headers: bytes received.
    pub list_bytes_in: u64,
}

/// What a client process is told: its peers, strategy, profile, start and time limit (the chain
/// parameters come from the same command-line options as the parent's).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClientSpec {
    /// Peers (loopback).
    pub peers: Vec<SocketAddr>,
    /// `qrinfo`, `sequential` or `genesis`.
    pub strategy: String,
    /// `full` or `wallet`.
    pub profile: String,
    /// The trusted start header and its height (None = the network's default start).
    pub start: Option<(u32, BlockHeader)>,
    /// Time limit, milliseconds.
    pub limit_ms: u64,
    /// Trusted checkpoints above the start ([`Config::extra_checkpoints`]): heights and hashes.
    #[serde(default)]
    pub checkpoints: Vec<(u32, crate::Hash256)>,
    /// The host's store: `dir` (files in a fresh temporary directory, removed afterwards: the
    /// saved state is not in the process's memory, as on a phone) or `memory` (a
    /// [`MemoryStore`]: its copies of the saved state count in the process's RSS).
    pub store: String,
}

fn strategy_name(s: SyncStrategy) -> &'static str {
    match s {
        SyncStrategy::QrInfo => "qrinfo",
        SyncStrategy::Sequential => "sequential",
        SyncStrategy::SequentialFromGenesis => "genesis",
    }
}

fn profile_name(p: SyncProfile) -> &'static str {
    match p {
        SyncProfile::Full => "full",
        SyncProfile::Wallet => "wallet",
    }
}

/// The client configuration of a measurement.
pub fn client_config(
    params: &ChainParams,
    peers: Vec<SocketAddr>,
    strategy: SyncStrategy,
    profile: SyncProfile,
    start: Option<(u32, BlockHeader)>,
) -> Config {
    let mut config = Config::new(params.network());
    config.chain = params.clone();
    config.max_peers = peers.len().clamp(1, 16);
    config.peers = peers;
    config.strategy = strategy;
    config.profile = profile;
    config.follow_tip = false;
    config.request_timeout = Duration::from_secs(60);
    if let Some((height, header)) = start {
        config.start_at_header(height, header, header.block_hash());
    }
    config
}

/// Syncs one client in this process and measures it.
pub fn sync_client(config: Config, store: Arc<dyn Store>, limit: Duration) -> ClientRun {
    let anchor = config.resolve_start().map_or(0, |r| r.anchor_height);
    let rss_before_kib = status_kib("VmRSS:");
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
    let cpu_end = cpu_time();
    let status = client.status();
    let phase = client.list_phase();
    let peak = peak_rss_kib();
    client.stop();
    let marks = waiter.marks.lock().unwrap_or_else(|e| e.into_inner());
    let us = |d: Duration| d.as_micros() as u64;
    let since = |t: Instant| us(t.saturating_duration_since(t0));
    ClientRun {
        synced,
        wall_us: us(wall),
        header_wall_us: phase.map(|p| since(p.at)),
        first_quorum_us: marks.first_quorum.map(since),
        all_quorums_us: marks.last_quorum.map(since),
        cpu_us: us(cpu_end.saturating_sub(cpu0)),
        list_cpu_us: marks.list_cpu0.map_or(0, |c| us(cpu_end.saturating_sub(c))),
        peak_rss_kib: peak,
        rss_before_kib,
        round_trips: status.round_trips,
        dependent_round_trips: status.dependent_round_trips,
        bytes_in: status.bytes_in,
        bytes_out: status.bytes_out,
        quorums: status.quorums_validated,
        headers: status.header_height.saturating_sub(anchor),
        list_round_trips: status.round_trips - phase.map_or(0, |p| p.round_trips),
        list_dependent_round_trips: status.dependent_round_trips
            - phase.map_or(0, |p| p.dependent_round_trips),
        list_bytes_in: status.bytes_in - phase.map_or(0, |p| p.bytes_in),
    }
}

/// The line a client process prints its [`ClientRun`] on.
pub const CLIENT_RUN_PREFIX: &str = "dqs-bench-client-run ";

/// The client-process side: syncs the client `spec` (JSON of a [`ClientSpec`]) describes on
/// `params` and returns the line to print ([`CLIENT_RUN_PREFIX`] and the [`ClientRun`] JSON).
pub fn client_process_main(params: &ChainParams, spec: &str) -> Result<String, String> {
    let spec: ClientSpec = serde_json::from_str(spec).map_err(|e| format!("--client-case: {e}"))?;
    let strategy = match spec.strategy.as_str() {
        "qrinfo" => SyncStrategy::QrInfo,
        "sequential" => SyncStrategy::Sequential,
        "genesis" => SyncStrategy::SequentialFromGenesis,
        s => return Err(format!("--client-case: unknown strategy {s:?}")),
    };
    let profile = match spec.profile.as_str() {
        "full" => SyncProfile::Full,
        "wallet" => SyncProfile::Wallet,
        p => return Err(format!("--client-case: unknown profile {p:?}")),
    };
    let mut config = client_config(params, spec.peers, strategy, profile, spec.start);
    config.extra_checkpoints = spec
        .checkpoints
        .iter()
        .map(|&(height, hash)| crate::chain::Checkpoint { height, hash })
        .collect();
    config.validate().map_err(|e| e.to_string())?;
    let limit = Duration::from_millis(spec.limit_ms);
    let run = match spec.store.as_str() {
        "memory" => sync_client(config, Arc::new(MemoryStore::new()), limit),
        "dir" => {
            let dir = std::env::temp_dir().join(format!("dqs-bench-store-{}", std::process::id()));
            let store = DirStore::new(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let run = sync_client(config, Arc::new(store), limit);
            let _ = std::fs::remove_dir_all(&dir);
            run
        }
        s => return Err(format!("--client-case: unknown store {s:?}")),
    };
    Ok(format!(
        "{CLIENT_RUN_PREFIX}{}",
        serde_json::to_string(&run).map_err(|e| e.to_string())?
    ))
}

/// How to start a client process: an executable (normally the benchmark itself) and the
/// arguments that give it the network's chain parameters; `--client-case SPEC` is appended.
/// The environment variable `DQS_BENCH_CLIENT_WRAPPER` (e.g. `heaptrack -o /tmp/client`) is
/// put in front of the command, to profile the client alone.
#[derive(Debug, Clone)]
pub struct ClientProcess {
    /// The executable.
    pub exe: PathBuf,
    /// Arguments before `--client-case`.
    pub args: Vec<String>,
    /// The host store the client uses (see [`ClientSpec::store`]).
    pub store: String,
}

impl ClientProcess {
    /// Runs one client process for `spec`, killing it if it outlives the limit by 30 s.
    pub fn run(&self, spec: &ClientSpec) -> Result<ClientRun, String> {
        let json = serde_json::to_string(spec).map_err(|e| e.to_string())?;
        let wrapper: Vec<String> = std::env::var("DQS_BENCH_CLIENT_WRAPPER")
            .map(|w| w.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        let mut child = cmd
            .args(&self.args)
            .arg("--client-case")
            .arg(json)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("client process {}: {e}", self.exe.display()))?;
        let stdout = child.stdout.take().ok_or("client process: no stdout")?;
        // Reads to the end (a wrapper may print after the result), keeping the result line.
        let reader = std::thread::spawn(move || {
            let mut found = None;
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(r) = l.strip_prefix(CLIENT_RUN_PREFIX) {
                    found = Some(r.to_string());
                }
            }
            found
        });
        let deadline =
            Instant::now() + Duration::from_millis(spec.limit_ms) + Duration::from_secs(30);
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(s) => break s,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("client process outlived its time limit; killed".into());
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let line = reader
            .join()
            .map_err(|_| "client process reader panicked")?;
        match line {
            Some(l) if status.success() => serde_json::from_str(&l).map_err(|e| e.to_string()),
            _ => Err(format!("client process failed ({status}) without a result")),
        }
    }
}

/// Spacing of the trusted checkpoints a measured client gets (the built-in table's: a row
/// every 576 blocks).
pub const SIM_CHECKPOINT_SPACING: u32 = 576;

/// The checkpoints a measured client trusts above its start: the simulated chain's block every
/// [`SIM_CHECKPOINT_SPACING`] blocks above the trusted start, as the built-in table gives a
/// mainnet or testnet client (none without a trusted start). They let a client with several
/// peers fetch headers from all of them at once.
/// With [`SimConfig::trusted_above_start`] set, those heights above the start instead.
pub fn sim_checkpoints(chain: &super::SimChain) -> Vec<(u32, crate::Hash256)> {
    let Some((start, _)) = chain.checkpoint() else {
        return Vec::new();
    };
    let heights: Vec<u32> = match &chain.config.trusted_above_start {
        Some(offsets) => offsets.iter().map(|o| start + o).collect(),
        None => (1..)
            .map(|k| start + k * SIM_CHECKPOINT_SPACING)
            .take_while(|h| *h <= chain.tip_height())
            .collect(),
    };
    heights
        .into_iter()
        .filter(|h| *h <= chain.tip_height())
        .filter_map(|h| chain.block(h).map(|b| (h, b.hash)))
        .collect()
}

/// The header phase's floor of one measurement ([`header_floor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderFloor {
    /// Bytes received in the header phase ÷ (bandwidth per peer × peers).
    pub transfer: Duration,
    /// The client's CPU in the header phase ÷ cores.
    pub cpu: Duration,
    /// Round trips that cannot overlap: the handshake, then the answers one peer must ask for
    /// one after another (a range between trusted hashes, or beyond the last one, is walked
    /// answer by answer from its start; with one peer every answer).
    pub dependent_rtts: u32,
    /// The floor: the longest of the transfer, the CPU and the walk of the longest stretch
    /// between trusted hashes (its round trips plus its bytes over one peer's link), plus the
    /// handshake's round trip.
    pub floor: Duration,
}

/// The header phase's floor of `m` on a chain whose trusted hashes lie `trusted` blocks above
/// the start (ascending), with `per_answer` headers per answer and `cores` CPU cores: nothing
/// the client could overlap is counted twice, nothing it cannot overlap is left out.
pub fn header_floor(m: &Measurement, trusted: &[u32], per_answer: u32, cores: u32) -> HeaderFloor {
    let h = m.headers;
    let peers = m.case.peers.max(1) as u32;
    let rtt = m.case.latency * 2;
    let bytes = m.bytes_in.saturating_sub(m.list_bytes_in);
    let over = |b: f64, ways: u32| match m.case.bandwidth {
        Some(bw) if bw > 0 => Duration::from_secs_f64(b / (bw as f64 * f64::from(ways))),
        _ => Duration::ZERO,
    };
    // Stretches between the start, the trusted hashes and the tip.
    let mut cuts: Vec<u32> = trusted.iter().copied().filter(|t| *t < h).collect();
    cuts.push(h);
    let mut stretches = Vec::new();
    let mut from = 0;
    for c in cuts {
        if c > from {
            stretches.push(c - from);
        }
        from = c;
    }
    let answers = |len: u32| len.div_ceil(per_answer.max(1));
    let per_header = if h > 0 {
        bytes as f64 / f64::from(h)
    } else {
        0.0
    };
    let (net, chain) = if peers == 1 {
        // One peer asks for full answers whatever the trusted hashes: every answer in sequence.
        let n = answers(h);
        (rtt * n + over(bytes as f64, 1), n)
    } else {
        let walk = |l: u32| rtt * answers(l) + over(per_header * f64::from(l), 1);
        let longest = stretches.iter().copied().max().unwrap_or(0);
        let total: u32 = stretches.iter().map(|l| answers(*l)).sum();
        let n = answers(longest).max(total.div_ceil(peers));
        (
            walk(longest)
                .max(over(bytes as f64, peers))
                .max(rtt * n + over(bytes as f64, peers)),
            n,
        )
    };
    let cpu = m.cpu.saturating_sub(m.list_cpu) / cores.max(1);
    let transfer = over(bytes as f64, peers);
    HeaderFloor {
        transfer,
        cpu,
        dependent_rtts: chain + 1,
        floor: net.max(cpu) + rtt,
    }
}

/// Syncs a fresh client against `node` under `case`.
pub fn measure(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    limit: Duration,
) -> Measurement {
    measure_in(rt, node, sim, case, limit, None)
}

/// As [`measure`], the client in a process of its own when `process` is given.
pub fn measure_in(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    limit: Duration,
    process: Option<&ClientProcess>,
) -> Measurement {
    measure_with_store(
        rt,
        node,
        sim,
        case,
        limit,
        Arc::new(MemoryStore::new()),
        process,
    )
}

fn measure_with_store(
    rt: &tokio::runtime::Runtime,
    node: &Arc<SimNode>,
    sim: &SimConfig,
    case: &Case,
    limit: Duration,
    store: Arc<MemoryStore>,
    process: Option<&ClientProcess>,
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
    let peers: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let start = node.with_chain(|c| c.checkpoint());
    let checkpoints = node.with_chain(sim_checkpoints);
    let run = match process {
        None => {
            let mut config = client_config(&sim.params, peers, case.strategy, case.profile, start);
            config.extra_checkpoints = checkpoints
                .iter()
                .map(|&(height, hash)| crate::chain::Checkpoint { height, hash })
                .collect();
            sync_client(config, store, limit)
        }
        Some(p) => {
            let spec = ClientSpec {
                peers,
                strategy: strategy_name(case.strategy).to_string(),
                profile: profile_name(case.profile).to_string(),
                start,
                limit_ms: limit.as_millis() as u64,
                checkpoints,
                store: p.store.clone(),
            };
            p.run(&spec).unwrap_or_else(|e| {
                eprintln!("bench: {e}");
                ClientRun::default()
            })
        }
    };
    let (mut m_in, mut m_out, mut busy) = (0, 0, 0);
    for s in servers {
        let c = s.counters().snapshot();
        m_in += c.messages_out;
        m_out += c.messages_in;
        busy += c.busy_micros;
        rt.block_on(s.shutdown());
    }
    let d = Duration::from_micros;
    let wall = d(run.wall_us);
    let separate = process.is_some();
    Measurement {
        case: case.clone(),
        synced: run.synced,
        wall,
        round_trips: run.round_trips,
        dependent_round_trips: run.dependent_round_trips,
        bytes_in: run.bytes_in,
        bytes_out: run.bytes_out,
        messages_out: m_out,
        messages_in: m_in,
        cpu: d(run.cpu_us),
        server_busy: Duration::from_micros(busy),
        peak_rss_kib: run.peak_rss_kib,
        quorums: run.quorums,
        list_wall: run
            .header_wall_us
            .map_or(wall, |h| wall.saturating_sub(d(h))),
        list_round_trips: run.list_round_trips,
        list_dependent_round_trips: run.list_dependent_round_trips,
        list_bytes_in: run.list_bytes_in,
        // In one process the servers' busy time after headers is not separated; the whole
        // sync's is subtracted (an upper bound on what was theirs).
        list_cpu: if separate {
            d(run.list_cpu_us)
        } else {
            d(run.list_cpu_us).saturating_sub(Duration::from_micros(busy))
        },
        headers: run.headers,
        header_wall: run.header_wall_us.map_or(wall, d),
        first_quorum: run.first_quorum_us.map(d),
        all_quorums: run.all_quorums_us.map(d),
        separate_process: separate,
        rss_before_kib: if separate { run.rss_before_kib } else { 0 },
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
    let first = measure_with_store(rt, node, sim, case, limit, store.clone(), None);
    assert!(
        first.synced,
        "the first sync of the restart measurement did not finish"
    );
    node.mine(blocks);
    measure_with_store(rt, node, sim, case, limit, store, None)
}

/// Runs every case against one generated network, each client in this process.
pub fn run(sim: SimConfig, cases: &[Case], limit: Duration) -> (Vec<Measurement>, Duration) {
    run_with(sim, cases, limit, None)
}

/// Runs every case against one generated network, each client in a fresh process when
/// `process` is given. Returns the measurements and the time the generation took.
pub fn run_with(
    sim: SimConfig,
    cases: &[Case],
    limit: Duration,
    process: Option<&ClientProcess>,
) -> (Vec<Measurement>, Duration) {
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
        .map(|c| measure_in(&rt, &node, &sim, c, limit, process))
        .collect();
    (results, generated)
}

/// The table, the ratio lines and a JSON document for `results`.
pub fn report(results: &[Measurement]) -> (String, serde_json::Value) {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<13} {:>5} {:>7} {:>8} {:>7} {:>5} {:>9} {:>8} {:>6} {:>8} {:>7} {:>8} {:>7} {:>7} {:>8} {:>8} {:>7} {:>8} {:>6} {:>6}\n",
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
        "headers",
        "hdr/s",
        "1stq(ms)",
        "allq(s)",
        "floor",
        "xfloor",
        "synced"
    ));
    let mut json = Vec::new();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for m in results {
        out.push_str(&format!(
            "{:<13} {:>5} {:>7} {:>8.1} {:>7} {:>5} {:>9} {:>8.1} {:>6} {:>8} {:>7} {:>8} {:>7} {:>7} {:>8.0} {:>8.1} {:>7.2} {:>8.1} {:>6.2} {:>6}\n",
            m.case.label(),
            m.case.peers,
            m.case.latency.as_millis(),
            ms(m.wall),
            m.round_trips,
            m.dependent_round_trips,
            m.bytes_in,
            ms(m.list_wall),
            m.list_dependent_round_trips,
            m.list_bytes_in,
            m.client_cpu().as_millis(),
            m.peak_rss_kib,
            m.quorums,
            m.headers,
            m.headers_per_sec(),
            m.first_quorum.map_or(f64::NAN, ms),
            m.all_quorums.map_or(f64::NAN, |d| d.as_secs_f64()),
            ms(m.floor()),
            m.floor_ratio(),
            m.synced
        ));
        json.push(serde_json::json!({
            "strategy": m.case.label(),
            "peers": m.case.peers,
            "latency_ms": m.case.latency.as_millis() as u64,
            "bandwidth_bytes_per_sec": m.case.bandwidth,
            "synced": m.synced,
            "wall_ms": ms(m.wall),
            "round_trips": m.round_trips,
            "dependent_round_trips": m.dependent_round_trips,
            "bytes_in": m.bytes_in,
            "bytes_out": m.bytes_out,
            "messages_in": m.messages_in,
            "messages_out": m.messages_out,
            "headers": m.headers,
            "header_phase_wall_ms": ms(m.header_wall),
            "headers_per_sec": m.headers_per_sec(),
            "first_quorum_ms": m.first_quorum.map(ms),
            "all_quorums_ms": m.all_quorums.map(ms),
            "list_phase_wall_ms": ms(m.list_wall),
            "list_phase_round_trips": m.list_round_trips,
            "list_phase_dependent_round_trips": m.list_dependent_round_trips,
            "list_phase_bytes_in": m.list_bytes_in,
            "list_phase_client_cpu_ms": m.list_cpu.as_millis() as u64,
            "cpu_ms": m.cpu.as_millis() as u64,
            "server_busy_ms": m.server_busy.as_millis() as u64,
            "client_cpu_ms": m.client_cpu().as_millis() as u64,
            "client_in_separate_process": m.separate_process,
            "client_rss_before_kib": m.rss_before_kib,
            "peak_rss_kib": m.peak_rss_kib,
            "quorums": m.quorums,
            "floor_after_headers_ms": ms(m.floor()),
            "list_wall_over_floor": m.floor_ratio(),
            "serial_floor_ms": ms(m.serial_floor()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(peers: usize, headers: u32, bytes: u64, cpu: Duration) -> Measurement {
        let z = Duration::ZERO;
        Measurement {
            case: Case {
                bandwidth: Some(1_000_000),
                ..Case::new(SyncStrategy::QrInfo, peers, Duration::from_millis(150))
            },
            synced: true,
            wall: z,
            round_trips: 0,
            dependent_round_trips: 0,
            bytes_in: bytes + 5_000,
            bytes_out: 0,
            messages_out: 0,
            messages_in: 0,
            cpu: cpu + Duration::from_secs(1),
            server_busy: z,
            peak_rss_kib: 0,
            quorums: 0,
            list_wall: z,
            list_round_trips: 0,
            list_dependent_round_trips: 0,
            list_bytes_in: 5_000,
            list_cpu: Duration::from_secs(1),
            headers,
            header_wall: z,
            first_quorum: None,
            all_quorums: None,
            separate_process: true,
            rss_before_kib: 0,
        }
    }

    /// Floors derived by hand: 16,000 headers, 1,000,000 bytes, 1 MB/s per peer, 150 ms one
    /// way, 8,000 headers per answer, 1 s of header CPU on 2 cores.
    #[test]
    fn header_floor_by_hand() {
        let s = Duration::from_secs_f64;
        // One peer: 2 answers in sequence (0.6 s) + 1 s of transfer, + the handshake's 0.3 s.
        let f = header_floor(&measured(1, 16_000, 1_000_000, s(1.0)), &[8_000], 8_000, 2);
        assert_eq!(f.dependent_rtts, 3);
        assert_eq!(f.cpu, s(0.5));
        assert!((f.floor.as_secs_f64() - 1.9).abs() < 1e-6, "{f:?}");
        // Three peers, a trusted hash halfway: each half is one answer of 500,000 bytes over one
        // link (0.3 + 0.5 s), the longer of that and the total over three links (0.3 + 0.333 s),
        // + the handshake.
        let f = header_floor(&measured(3, 16_000, 1_000_000, s(1.0)), &[8_000], 8_000, 2);
        assert_eq!(f.dependent_rtts, 2);
        assert!((f.transfer.as_secs_f64() - 1.0 / 3.0).abs() < 1e-6, "{f:?}");
        assert!((f.floor.as_secs_f64() - 1.1).abs() < 1e-6, "{f:?}");
        // No trusted hash: the one stretch is walked by one peer whatever the peers.
        let f = header_floor(&measured(3, 16_000, 1_000_000, s(1.0)), &[], 8_000, 2);
        assert!((f.floor.as_secs_f64() - 1.9).abs() < 1e-6, "{f:?}");
        // CPU-bound: 10 s on 2 cores.
        let f = header_floor(&measured(1, 16_000, 1_000_000, s(10.0)), &[], 8_000, 2);
        assert!((f.floor.as_secs_f64() - 5.3).abs() < 1e-6, "{f:?}");
        // One peer, trusted hashes every 576 blocks below 2,600 headers: one answer (the
        // sequential path does not stop at trusted hashes), + the handshake.
        let f = header_floor(
            &measured(1, 2_600, 100_000, s(0.0)),
            &[576, 1_152, 1_728, 2_304],
            8_000,
            2,
        );
        assert_eq!(f.dependent_rtts, 2);
        assert!((f.floor.as_secs_f64() - 0.7).abs() < 1e-6, "{f:?}");
    }
}
