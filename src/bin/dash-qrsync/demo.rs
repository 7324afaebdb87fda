//! `dash-qrsync demo`: starts the built-in simulated network (or connects to a node) and syncs it
//! with a live progress line, printing each quorum as it becomes available and a summary.

use dash_qrsync::api::{
    ChainLockEvent, Client, ClientError, Config, EventListener, Progress, SyncState,
};
use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::network::Network;
use dash_qrsync::store::MemoryStore;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Options of `demo`.
#[derive(Debug, Clone)]
pub struct Options {
    preset: String,
    seed: u64,
    connect: Option<SocketAddr>,
    network: Network,
    latency_ms: u64,
    timeout: Duration,
    strategy: dash_qrsync::SyncStrategy,
}

impl Options {
    /// Parses the arguments after `demo`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            preset: "regtest".into(),
            seed: 1,
            connect: None,
            network: Network::Mainnet,
            latency_ms: 0,
            timeout: Duration::from_secs(600),
            strategy: dash_qrsync::SyncStrategy::QrInfo,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match a.as_str() {
                "--preset" => o.preset = value("--preset")?,
                "--seed" => {
                    o.seed = value("--seed")?
                        .parse()
                        .map_err(|_| "--seed must be a number")?
                }
                "--connect" => {
                    o.connect = Some(
                        value("--connect")?
                            .parse()
                            .map_err(|_| "--connect needs host:port (an IP address)")?,
                    )
                }
                "--network" => {
                    o.network = value("--network")?
                        .parse()
                        .map_err(|e: dash_qrsync::network::UnknownNetwork| e.to_string())?
                }
                "--latency-ms" => {
                    o.latency_ms = value("--latency-ms")?
                        .parse()
                        .map_err(|_| "--latency-ms must be a number")?
                }
                "--timeout-secs" => {
                    o.timeout = Duration::from_secs(
                        value("--timeout-secs")?
                            .parse()
                            .map_err(|_| "--timeout-secs must be a number")?,
                    )
                }
                "--sequential" => o.strategy = dash_qrsync::SyncStrategy::Sequential,
                s => return Err(format!("unknown option {s}")),
            }
        }
        if !matches!(o.preset.as_str(), "regtest" | "mainnet-scale") {
            return Err(format!(
                "unknown preset {:?} (regtest or mainnet-scale)",
                o.preset
            ));
        }
        Ok(o)
    }
}

#[derive(Default)]
struct Seen {
    state: Option<SyncState>,
    quorums: Vec<QuorumInfo>,
    last: Option<Progress>,
    errors: Vec<ClientError>,
    chainlocks: Vec<ChainLockEvent>,
}

struct Printer {
    seen: Mutex<Seen>,
    cv: Condvar,
}

impl EventListener for Printer {
    fn on_progress(&self, p: &Progress) {
        let bar = (p.percent / 5.0) as usize;
        print!(
            "\r[{:<20}] {:5.1}%  headers {}/{}  lists {} held, {} missing  quorums {}  {} KiB in  ",
            "#".repeat(bar.min(20)),
            p.percent,
            p.header_height,
            p.target_height,
            p.lists_held,
            p.lists_missing,
            p.quorums_validated,
            p.bytes_in / 1024
        );
        let _ = std::io::stdout().flush();
        self.seen.lock().unwrap().last = Some(p.clone());
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        println!(
            "\rquorum available: type {:>3} index {:>2} height {:>6} {}",
            q.llmq_type, q.index, q.height, q.quorum_hash
        );
        self.seen.lock().unwrap().quorums.push(q.clone());
    }
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        println!("\rChainLock verified: height {} {}", c.height, c.block_hash);
        self.seen.lock().unwrap().chainlocks.push(*c);
    }
    fn on_state(&self, s: SyncState) {
        println!("\rstate: {s:?}");
        self.seen.lock().unwrap().state = Some(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        println!(
            "\rerror ({}): {:?}: {}",
            if e.recoverable { "recovering" } else { "fatal" },
            e.kind,
            e.message
        );
        self.seen.lock().unwrap().errors.push(e.clone());
    }
}

/// Runs the demo; returns the exit code.
pub fn run(o: &Options) -> std::process::ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut server = None;
    let (addr, mut config) = match o.connect {
        Some(addr) => (addr, Config::new(o.network)),
        None => {
            let started = Instant::now();
            let cfg = match o.preset.as_str() {
                "mainnet-scale" => dash_qrsync::simnet::SimConfig::mainnet_scale(o.seed),
                _ => dash_qrsync::simnet::SimConfig::regtest(o.seed),
            };
            println!(
                "generating the simulated network ({} preset, seed {})…",
                o.preset, o.seed
            );
            let node = Arc::new(dash_qrsync::simnet::SimNode::new(cfg.clone()));
            let (tip, mns) = node.with_chain(|c| {
                (
                    c.tip_height(),
                    c.list_at(c.tip_height()).map_or(0, |l| l.entries.len()),
                )
            });
            println!(
                "simnet: {} blocks, {mns} masternodes, generated in {:.1} s",
                tip,
                started.elapsed().as_secs_f64()
            );
            let mut scfg = dash_qrsync::simnet::server::ServerConfig::default();
            scfg.faults.latency = Duration::from_millis(o.latency_ms);
            let s = rt
                .block_on(dash_qrsync::simnet::server::SimServer::start(
                    node.clone(),
                    scfg,
                ))
                .expect("the simulated node can listen on loopback");
            let addr = s.addr();
            println!("simnet listening on {addr}");
            server = Some(s);
            let mut c = Config::new(cfg.network());
            c.chain = cfg.params.clone();
            (addr, c)
        }
    };
    config.peers = vec![addr];
    config.max_peers = 1;
    config.strategy = o.strategy;
    config.follow_tip = true;
    let printer = Arc::new(Printer {
        seen: Mutex::default(),
        cv: Condvar::new(),
    });
    let client = match Client::new(config, Arc::new(MemoryStore::new()), printer.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let started = Instant::now();
    client.start().expect("start");
    let deadline = started + o.timeout;
    let mut seen = printer.seen.lock().unwrap();
    while seen.state != Some(SyncState::Synced) && Instant::now() < deadline {
        seen = printer
            .cv
            .wait_timeout(seen, Duration::from_millis(200))
            .unwrap()
            .0;
    }
    let ok = seen.state == Some(SyncState::Synced);
    drop(seen);
    let elapsed = started.elapsed();
    let status = client.status();
    client.stop();
    if let Some(s) = server {
        rt.block_on(s.shutdown());
    }
    let seen = printer.seen.lock().unwrap();
    println!();
    println!("──────── summary ────────");
    println!(
        "result:             {}",
        if ok { "synced" } else { "NOT synced (timeout)" }
    );
    println!("time:               {:.2} s", elapsed.as_secs_f64());
    println!("header height:      {}", status.header_height);
    println!("list height:        {:?}", status.list_height);
    println!(
        "quorums validated:  {} ({} reported)",
        status.quorums_validated,
        seen.quorums.len()
    );
    println!("round trips:        {}", status.round_trips);
    println!(
        "bytes in / out:     {} / {}",
        status.bytes_in, status.bytes_out
    );
    println!("errors reported:    {}", seen.errors.len());
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
