//! End to end: the client syncs the simulated network over loopback TCP.
#![cfg(feature = "simnet")]

use dash_qrsync::api::{
    ChainLockEvent, Client, ClientError, Config, EventListener, Progress, SyncState, SyncStrategy,
};
use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::simnet::server::{Faults, ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::store::MemoryStore;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Log {
    states: Vec<SyncState>,
    quorums: Vec<QuorumInfo>,
    chainlocks: Vec<ChainLockEvent>,
    errors: Vec<ClientError>,
    progress: usize,
}

#[derive(Default)]
struct Recorder {
    log: Mutex<Log>,
    cv: Condvar,
}

impl Recorder {
    fn wait_for(&self, what: impl Fn(&Log) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut log = self.log.lock().unwrap();
        while !what(&log) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            log = self.cv.wait_timeout(log, deadline - now).unwrap().0;
        }
        true
    }
}

impl EventListener for Recorder {
    fn on_progress(&self, _: &Progress) {
        self.log.lock().unwrap().progress += 1;
        self.cv.notify_all();
    }
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.log.lock().unwrap().quorums.push(q.clone());
        self.cv.notify_all();
    }
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        self.log.lock().unwrap().chainlocks.push(*c);
        self.cv.notify_all();
    }
    fn on_state(&self, s: SyncState) {
        self.log.lock().unwrap().states.push(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        self.log.lock().unwrap().errors.push(e.clone());
        self.cv.notify_all();
    }
}

struct Net {
    rt: tokio::runtime::Runtime,
    node: Arc<SimNode>,
    servers: Vec<SimServer>,
    cfg: SimConfig,
}

fn simnet(seed: u64, faults: &[Faults]) -> Net {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig::regtest(seed);
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

fn client_for(net: &Net, strategy: SyncStrategy) -> (Client, Arc<Recorder>) {
    let mut c = Config::new(net.cfg.network);
    c.llmq = Some(net.cfg.llmq.clone());
    c.peers = net.servers.iter().map(|s| s.addr()).collect();
    c.max_peers = c.peers.len();
    c.strategy = strategy;
    c.request_timeout = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(3);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    (client, rec)
}

fn synced(l: &Log) -> bool {
    l.states.last() == Some(&SyncState::Synced)
}

#[test]
fn fresh_sync_validates_every_active_quorum_once_then_follows_the_tip() {
    let net = simnet(11, &[Faults::default()]);
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "not synced: {:?}",
        rec.log.lock().unwrap().errors
    );
    let tip = net.node.tip_height();
    assert_eq!(client.status().header_height, tip);
    let active = net.node.with_chain(|c| c.active_set(tip));
    {
        let log = rec.log.lock().unwrap();
        let mut counts: HashMap<_, usize> = HashMap::new();
        for q in &log.quorums {
            *counts.entry((q.llmq_type, q.quorum_hash)).or_default() += 1;
        }
        assert!(
            counts.values().all(|n| *n == 1),
            "a quorum was reported twice"
        );
        for key in active.keys() {
            assert_eq!(
                counts.get(key),
                Some(&1),
                "active quorum {key:?} not reported"
            );
        }
        assert!(log.progress > 0);
    }
    // New blocks across a DKG window: followed, new quorums validated, ChainLock verified.
    net.node.mine(30);
    let new_tip = net.node.tip_height();
    assert!(
        rec.wait_for(
            |l| l.chainlocks.iter().any(|c| c.height == new_tip),
            Duration::from_secs(60)
        ),
        "tip ChainLock not verified"
    );
    assert!(rec.wait_for(
        |_| client.status().list_height == Some(new_tip),
        Duration::from_secs(30)
    ));
    let active = net.node.with_chain(|c| c.active_set(new_tip));
    for (t, h) in active.keys() {
        assert!(
            client.quorum(*t, h).is_some(),
            "new quorum {h} not validated"
        );
    }
    client.stop();
    for s in net.servers {
        net.rt.block_on(s.shutdown());
    }
}
