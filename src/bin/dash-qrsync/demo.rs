//! `dash-qrsync demo`: starts the built-in simulated network (or connects to a node) and syncs it
//! with a live progress line, printing each quorum as it becomes available and a summary.

use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::network::Network;
use dash_qrsync::quorum::params::params_of;
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{
    ChainLockEvent, Client, ClientError, Config, EventListener, Progress, SyncState,
};
use indicatif::{ProgressBar, ProgressStyle};
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
    chain: crate::chainargs::ChainArgs,
    /// After `Synced`, how long to keep following the tip for a ChainLock (`None`: the
    /// default, 10 s on the simulated network, which mines a block for it; 0 with --connect).
    follow: Option<Duration>,
    size: Size,
}

/// The demo's presets (the simulated networks it can start).
pub const PRESETS: &[&str] = &["regtest", "devnet", "v24", "mainnet-scale"];

/// Overrides of the preset's size (`--masternodes`, `--evonodes`, `--blocks`): a smaller
/// network generates and syncs faster (the CI runs every preset this way).
#[derive(Debug, Clone, Default)]
struct Size {
    masternodes: Option<usize>,
    evonodes: Option<usize>,
    blocks: Option<u32>,
}

impl Size {
    fn apply(&self, cfg: &mut dash_qrsync::simnet::SimConfig) {
        if let Some(n) = self.masternodes {
            cfg.masternodes = n;
        }
        if let Some(n) = self.evonodes {
            cfg.evonodes = n;
        }
        if let Some(n) = self.blocks {
            cfg.blocks = n;
        }
    }
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
            chain: crate::chainargs::ChainArgs::default(),
            size: Size::default(),
            follow: None,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            if o.chain.take(a, &mut value)? {
                continue;
            }
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
                "--masternodes" => {
                    o.size.masternodes = Some(
                        value("--masternodes")?
                            .parse()
                            .map_err(|_| "--masternodes must be a number")?,
                    )
                }
                "--evonodes" => {
                    o.size.evonodes = Some(
                        value("--evonodes")?
                            .parse()
                            .map_err(|_| "--evonodes must be a number")?,
                    )
                }
                "--blocks" => {
                    o.size.blocks = Some(
                        value("--blocks")?
                            .parse()
                            .map_err(|_| "--blocks must be a number")?,
                    )
                }
                "--follow-secs" => {
                    o.follow = Some(Duration::from_secs(
                        value("--follow-secs")?
                            .parse()
                            .map_err(|_| "--follow-secs must be a number")?,
                    ))
                }
                s => return Err(format!("unknown option {s}")),
            }
        }
        if !PRESETS.contains(&o.preset.as_str()) {
            return Err(format!(
                "unknown preset {:?} ({})",
                o.preset,
                PRESETS.join(", ")
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
    bar: ProgressBar,
}

/// An LLMQ type as Dash Core names it (`llmq_test_dip0024`), or its number if unknown.
fn llmq_name(t: u8) -> String {
    params_of(t).map_or_else(|| format!("type {t}"), |p| p.name.to_string())
}

impl Printer {
    fn new() -> Printer {
        let bar = ProgressBar::new(100);
        bar.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos:>3}% {msg}")
                .expect("valid template")
                .progress_chars("#>-"),
        );
        Printer {
            seen: Mutex::default(),
            cv: Condvar::new(),
            bar,
        }
    }

    /// A line above the bar (or plain when the bar is hidden, e.g. output to a pipe).
    fn line(&self, s: String) {
        if self.bar.is_hidden() {
            println!("{s}");
        } else {
            self.bar.println(s);
        }
    }

    fn redraw(&self, seen: &Seen) {
        let Some(p) = &seen.last else { return };
        self.bar.set_position(p.percent.clamp(0.0, 100.0) as u64);
        self.bar.set_message(format!(
            "headers {}/{}  lists {} held, {} missing  quorums {}  {} KiB in",
            p.header_height,
            p.target_height,
            p.lists_held,
            p.lists_missing,
            p.quorums_validated.max(seen.quorums.len() as u32),
            p.bytes_in / 1024
        ));
    }
}

impl EventListener for Printer {
    fn on_progress(&self, p: &Progress) {
        let mut seen = self.seen.lock().unwrap();
        seen.last = Some(p.clone());
        self.redraw(&seen);
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.line(format!(
            "quorum available: {:<20} index {:>2}  height {:>6}  {}",
            llmq_name(q.llmq_type),
            q.index,
            q.height,
            q.quorum_hash
        ));
        let mut seen = self.seen.lock().unwrap();
        seen.quorums.push(q.clone());
        // Every validated quorum advances the count on the bar, between progress events.
        self.redraw(&seen);
    }
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        self.line(format!(
            "ChainLock verified: height {} {}",
            c.height, c.block_hash
        ));
        self.seen.lock().unwrap().chainlocks.push(*c);
    }
    fn on_state(&self, s: SyncState) {
        self.line(format!("state: {s:?}"));
        self.seen.lock().unwrap().state = Some(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        self.line(format!(
            "error ({}): {:?}: {}",
            if e.recoverable { "recovering" } else { "fatal" },
            e.kind,
            e.message
        ));
        self.seen.lock().unwrap().errors.push(e.clone());
    }
}

fn fail(message: &str) -> std::process::ExitCode {
    eprintln!("error: {message}");
    std::process::ExitCode::from(2)
}

/// Runs the demo; returns the exit code.
pub fn run(o: &Options) -> std::process::ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut server = None;
    let mut sim_node = None;
    let (addr, mut config) = match o.connect {
        Some(addr) => {
            // --dash-conf chooses the network when given (--network otherwise).
            let network = match o.chain.conf_network() {
                Ok(n) => n.unwrap_or(o.network),
                Err(e) => return fail(&e),
            };
            let mut c = Config::new(network);
            match o.chain.build(network) {
                Ok(p) => c.chain = p,
                Err(e) => return fail(&e),
            }
            (addr, c)
        }
        None => {
            let started = Instant::now();
            let Some(mut cfg) = dash_qrsync::simnet::bench::preset(&o.preset, o.seed) else {
                return fail(&format!("unknown preset {:?}", o.preset));
            };
            o.size.apply(&mut cfg);
            // Chain parameters change the simulated network too: it is generated under them.
            match o.chain.build_on(cfg.params.clone()) {
                Ok(p) => cfg.params = p,
                Err(e) => return fail(&e),
            }
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
            sim_node = Some(node.clone());
            let mut c = Config::new(cfg.network());
            c.chain = cfg.params.clone();
            (addr, c)
        }
    };
    config.peers = vec![addr];
    config.max_peers = 1;
    config.strategy = o.strategy;
    config.follow_tip = true;
    let printer = Arc::new(Printer::new());
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
    // Keep following the tip for a while: a ChainLock comes with a block, and a synced chain
    // has no new block yet. The simulated network mines one (with its ChainLock).
    let follow = o.follow.unwrap_or(if sim_node.is_some() {
        Duration::from_secs(10)
    } else {
        Duration::ZERO
    });
    let mut followed = None;
    if ok && !follow.is_zero() {
        if let Some(node) = &sim_node {
            node.mine(1);
            printer.line(format!(
                "simnet mined block {} with its ChainLock; following the tip for up to {} s",
                dash_qrsync::simnet::SimService::tip_height(node.as_ref()),
                follow.as_secs()
            ));
        } else {
            printer.line(format!(
                "following the tip for up to {} s for a ChainLock",
                follow.as_secs()
            ));
        }
        let until = Instant::now() + follow;
        let mut seen = printer.seen.lock().unwrap();
        while seen.chainlocks.is_empty() && Instant::now() < until {
            seen = printer
                .cv
                .wait_timeout(seen, Duration::from_millis(200))
                .unwrap()
                .0;
        }
        followed = Some(follow);
    }
    client.stop();
    if let Some(s) = server {
        rt.block_on(s.shutdown());
    }
    printer.bar.finish_and_clear();
    let seen = printer.seen.lock().unwrap();
    let mut by_type: std::collections::BTreeMap<String, usize> = Default::default();
    for q in &seen.quorums {
        *by_type.entry(llmq_name(q.llmq_type)).or_default() += 1;
    }
    let by_type = by_type
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!();
    println!("──────── summary ────────");
    println!(
        "result:             {}",
        if ok { "synced" } else { "NOT synced (timeout)" }
    );
    println!("time:               {:.2} s", elapsed.as_secs_f64());
    println!("header height:      {}", status.header_height);
    println!(
        "list height:        {}",
        status
            .list_height
            .map_or_else(|| "none".to_string(), |h| h.to_string())
    );
    println!("quorums validated:  {}", status.quorums_validated);
    println!(
        "quorums available:  {}{}",
        seen.quorums.len(),
        if by_type.is_empty() {
            String::new()
        } else {
            format!(" ({by_type})")
        }
    );
    let chainlocks = match (seen.chainlocks.last(), followed) {
        (Some(last), _) => format!("{} (newest: block {})", seen.chainlocks.len(), last.height),
        (None, Some(f)) => format!(
            "none announced in the {} s after sync (a ChainLock comes with each new block, \
             about every 2.5 minutes on mainnet; not a failure)",
            f.as_secs()
        ),
        (None, None) if ok => "none yet: a ChainLock comes with the next block (about every \
             2.5 minutes on mainnet; --follow-secs N waits for one); not a failure"
            .to_string(),
        (None, None) => "none (not synced)".to_string(),
    };
    println!("ChainLocks verified: {chainlocks}");
    println!("round trips:        {}", status.round_trips);
    println!(
        "bytes in / out:     {} / {} ({:.1} KiB / {:.1} KiB)",
        status.bytes_in,
        status.bytes_out,
        status.bytes_in as f64 / 1024.0,
        status.bytes_out as f64 / 1024.0
    );
    println!("errors reported:    {}", seen.errors.len());
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
