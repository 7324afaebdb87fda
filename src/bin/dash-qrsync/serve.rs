//! `dash-qrsync simnet serve`: the simulated Dash network as a standalone process, for apps in an
//! Android emulator or iOS simulator (docs/SIMNET.md). It keeps mining blocks (each with a
//! ChainLock; InstantSend locks every rotation cycle), prints what a client must be configured
//! with, and stops on SIGINT, at end of input (when stdin is a terminal or a pipe) or after
//! `--duration`.

use dash_qrsync::network::llmq::LlmqConfig;
use dash_qrsync::network::Network;
use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Connections the listener forwards at once (each is a client of the simulated node).
const MAX_FORWARDED: usize = 64;

/// Options of `simnet serve`.
#[derive(Debug, Clone)]
pub struct Options {
    listen: SocketAddr,
    preset: String,
    seed: u64,
    block_interval: Duration,
    dash_conf_out: Option<PathBuf>,
    duration: Option<Duration>,
}

impl Options {
    /// Parses the arguments after `simnet serve`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            listen: "127.0.0.1:0".parse().expect("valid"),
            preset: "regtest".into(),
            seed: 1,
            block_interval: Duration::from_secs(10),
            dash_conf_out: None,
            duration: None,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let secs = |name: &str, v: String| -> Result<Duration, String> {
                let s: f64 = v
                    .parse()
                    .map_err(|_| format!("{name} must be a number of seconds"))?;
                if !(0.05..=86_400.0).contains(&s) {
                    return Err(format!("{name} must be between 0.05 and 86400 seconds"));
                }
                Ok(Duration::from_secs_f64(s))
            };
            match a.as_str() {
                "--listen" => {
                    o.listen = value("--listen")?
                        .parse()
                        .map_err(|_| "--listen needs IP:PORT (e.g. 127.0.0.1:19899)")?
                }
                "--preset" => o.preset = value("--preset")?,
                "--seed" => {
                    o.seed = value("--seed")?
                        .parse()
                        .map_err(|_| "--seed must be a number")?
                }
                "--block-interval" => {
                    o.block_interval = secs("--block-interval", value("--block-interval")?)?
                }
                "--duration" => o.duration = Some(secs("--duration", value("--duration")?)?),
                "--dash-conf-out" => o.dash_conf_out = Some(value("--dash-conf-out")?.into()),
                s => return Err(format!("unknown option {s}")),
            }
        }
        if !crate::demo::PRESETS.contains(&o.preset.as_str()) {
            return Err(format!(
                "unknown preset {:?} ({})",
                o.preset,
                crate::demo::PRESETS.join(", ")
            ));
        }
        Ok(o)
    }
}

/// The dash.conf lines a client (or Dash Core) needs to join the simulated network at `addr`:
/// the network, the peer, and the chain parameters the network was generated with, in Core's
/// option names (`docs/CONFORMANCE.md`); `Config::from_dash_conf` reads them back exactly.
fn dash_conf(cfg: &SimConfig, addr: SocketAddr) -> String {
    let p = &cfg.params;
    let mut s = String::new();
    let section = match p.network() {
        Network::Mainnet => "main",
        Network::Testnet => {
            s.push_str("testnet=1\n");
            "test"
        }
        Network::Regtest => {
            s.push_str("regtest=1\n");
            "regtest"
        }
        Network::Devnet => {
            s.push_str(&format!(
                "devnet={}\n",
                p.devnet_name().unwrap_or("qrsync-simnet")
            ));
            "devnet"
        }
    };
    s.push_str(&format!("[{section}]\n"));
    s.push_str(&format!("connect={addr}\n"));
    for (k, v) in p.settings().iter().filter(|(k, _)| k != "devnet") {
        s.push_str(&format!("{k}={v}\n"));
    }
    if p.llmq() != &LlmqConfig::for_network(p.network()) {
        // The mainnet-scale preset runs mainnet's LLMQ types on a devnet: Core has no option
        // for a devnet's set of types, so a client must take them from the preset.
        s.push_str(
            "# this preset's LLMQ types (mainnet's, on a devnet) have no dash.conf option: \
             configure the client with the same simnet preset\n",
        );
    }
    s
}

/// Forwards connections accepted on `listener` to the simulated node at `target` (the node
/// itself listens on an OS-chosen loopback port).
async fn forward(listener: tokio::net::TcpListener, target: SocketAddr) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        if active.load(Ordering::Relaxed) >= MAX_FORWARDED {
            continue; // dropped: the peer sees a closed connection
        }
        active.fetch_add(1, Ordering::Relaxed);
        let active = active.clone();
        tokio::spawn(async move {
            let connect = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::TcpStream::connect(target),
            );
            if let Ok(Ok(mut outbound)) = connect.await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
            active.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Whether end of input on stdin should stop the server: only for a terminal or a pipe (a
/// background job reading /dev/null would otherwise stop at once).
fn stdin_is_interactive_or_pipe() -> bool {
    use std::io::IsTerminal;
    use std::os::unix::fs::FileTypeExt;
    std::io::stdin().is_terminal()
        || std::fs::metadata("/dev/stdin").is_ok_and(|m| m.file_type().is_fifo())
}

/// Runs the server; returns the exit code.
pub fn run(o: &Options) -> std::process::ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let Some(cfg) = dash_qrsync::simnet::bench::preset(&o.preset, o.seed) else {
        eprintln!("error: unknown preset {:?}", o.preset);
        return std::process::ExitCode::from(2);
    };
    let started = Instant::now();
    eprintln!(
        "generating the simulated network ({} preset, seed {})…",
        o.preset, o.seed
    );
    let node = Arc::new(SimNode::new(cfg.clone()));
    eprintln!(
        "generated {} blocks in {:.1} s",
        node.with_chain(|c| c.tip_height()),
        started.elapsed().as_secs_f64()
    );
    let code = rt.block_on(async {
        let server = match SimServer::start(node.clone(), ServerConfig::default()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on loopback: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let addr = if o.listen == "127.0.0.1:0".parse::<SocketAddr>().expect("valid") {
            server.addr()
        } else {
            match tokio::net::TcpListener::bind(o.listen).await {
                Ok(l) => {
                    let a = l.local_addr().unwrap_or(o.listen);
                    tokio::spawn(forward(l, server.addr()));
                    a
                }
                Err(e) => {
                    eprintln!("error: cannot listen on {}: {e}", o.listen);
                    server.shutdown().await;
                    return std::process::ExitCode::from(1);
                }
            }
        };
        let conf = dash_conf(&cfg, addr);
        if let Some(path) = &o.dash_conf_out {
            if let Err(e) = std::fs::write(path, &conf) {
                eprintln!("error: cannot write {}: {e}", path.display());
                server.shutdown().await;
                return std::process::ExitCode::from(1);
            }
        }
        println!("network: {}", cfg.network());
        println!("address: {}", addr.ip());
        println!("port: {}", addr.port());
        println!(
            "chain: tip {}, a block every {:.1} s, each with a ChainLock; {} InstantSend locks per cycle",
            node.with_chain(|c| c.tip_height()),
            o.block_interval.as_secs_f64(),
            cfg.islocks_per_cycle
        );
        println!("dash.conf:\n{conf}");
        println!(
            "Android emulator: connect to 10.0.2.2:{}; iOS simulator: 127.0.0.1:{}",
            addr.port(),
            addr.port()
        );
        println!("listening on {addr}");
        let _ = std::io::stdout().flush();

        let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<&'static str>(4);
        if stdin_is_interactive_or_pipe() {
            let tx = stop_tx.clone();
            std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
                let _ = tx.blocking_send("end of input");
            });
        }
        let deadline = o.duration.map(|d| tokio::time::Instant::now() + d);
        let mut ticker = tokio::time::interval(o.block_interval);
        ticker.tick().await; // the first tick is immediate
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let reason = loop {
            let until_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut ctrl_c => break "SIGINT",
                r = stop_rx.recv() => break r.unwrap_or("end of input"),
                _ = until_deadline => break "--duration elapsed",
                _ = ticker.tick() => {
                    let n = node.clone();
                    let tip = tokio::task::spawn_blocking(move || {
                        n.mine(1);
                        n.with_chain(|c| c.tip_height())
                    })
                    .await
                    .unwrap_or(0);
                    println!("mined block {tip} (ChainLocked)");
                    let _ = std::io::stdout().flush();
                }
            }
        };
        println!("stopping: {reason}");
        server.shutdown().await;
        std::process::ExitCode::SUCCESS
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}
