//! The simulated network and a client of it, for the integration tests that sync against it:
//! one generated chain served by one or more servers (each with its own faults) on loopback.

use super::recorder::Recorder;
use dash_qrsync::simnet::server::{Faults, ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{Client, Config, SyncStrategy};
use std::sync::Arc;
use std::time::Duration;

/// A running simulated network.
pub struct Net {
    /// The runtime the servers run on (kept alive with the network).
    pub rt: tokio::runtime::Runtime,
    /// The chain every server serves.
    pub node: Arc<SimNode>,
    /// One server per entry of the faults given to [`Net::start`], in that order.
    pub servers: Vec<SimServer>,
    /// What the chain was generated from.
    pub cfg: SimConfig,
}

impl Net {
    /// Generates `cfg`'s chain and serves it once per entry of `faults` (announcing every 50 ms).
    pub fn start(cfg: SimConfig, faults: &[Faults]) -> Net {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let node = Arc::new(SimNode::new(cfg.clone()));
        let servers = faults
            .iter()
            .map(|f| {
                let sc = ServerConfig {
                    faults: f.clone(),
                    announce_interval: Duration::from_millis(50),
                    ..ServerConfig::default()
                };
                rt.block_on(SimServer::start(node.clone(), sc)).unwrap()
            })
            .collect();
        Net {
            rt,
            node,
            servers,
            cfg,
        }
    }

    /// Serves `service` (another chain, a fork, a switchable service) with `faults` beside the
    /// others; the clients made from now on know it too. Returns its index in `servers`.
    pub fn serve(&mut self, service: Arc<dyn SimService>, faults: Faults) -> usize {
        let sc = ServerConfig {
            faults,
            announce_interval: Duration::from_millis(50),
            ..ServerConfig::default()
        };
        let server = self.rt.block_on(SimServer::start(service, sc)).unwrap();
        self.servers.push(server);
        self.servers.len() - 1
    }

    /// A client of every server (QrInfo strategy, 5 s timeouts, a memory store), after `tune`
    /// adjusted its configuration; not started.
    pub fn client(&self, tune: impl FnOnce(&mut Config)) -> (Client, Arc<Recorder>) {
        self.client_with_store(Arc::new(MemoryStore::new()), tune)
    }

    /// [`Net::client`] with the host store `store`.
    pub fn client_with_store(
        &self,
        store: Arc<dyn dash_qrsync::store::Store>,
        tune: impl FnOnce(&mut Config),
    ) -> (Client, Arc<Recorder>) {
        let mut c = Config::new(self.cfg.network());
        c.chain = self.cfg.params.clone();
        c.peers = self.servers.iter().map(|s| s.addr()).collect();
        c.max_peers = c.peers.len();
        c.strategy = SyncStrategy::QrInfo;
        c.request_timeout = Duration::from_secs(5);
        c.connect_timeout = Duration::from_secs(5);
        tune(&mut c);
        let rec = Arc::new(Recorder::default());
        let client = Client::new(c, store, rec.clone()).unwrap();
        (client, rec)
    }
}

/// CPU time (user + system) this process has used so far, in seconds, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's USER_HZ); `None` without `/proc`. CPU time, not wall time:
/// it does not grow while the machine is busy with other work.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`), in KiB; `None` without `/proc`.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
