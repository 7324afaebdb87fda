//! ChainLocks decide the chain the client follows (issue 23, N1): a longer valid-proof-of-work
//! fork below a ChainLocked block is refused and its server penalised; a valid ChainLock for
//! another branch moves the client there and its sender is never banned. The forks are mined
//! by the simulated network (`SimChain::competing_fork`), the honest peer sits beside.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::{SimChain, SimConfig, SimNode, SimService, SwitchableService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{Client, Config, ErrorKind, SyncStrategy};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::recorder::{synced, Log, Recorder};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn serve(rt: &tokio::runtime::Runtime, service: Arc<dyn SimService>) -> SimServer {
    let sc = ServerConfig {
        announce_interval: Duration::from_millis(50),
        ..ServerConfig::default()
    };
    rt.block_on(SimServer::start(service, sc)).unwrap()
}

fn client(cfg: &SimConfig, peers: Vec<SocketAddr>) -> (Client, Arc<Recorder>) {
    let mut c = Config::new(cfg.network());
    c.chain = cfg.params.clone();
    c.max_peers = peers.len();
    c.peers = peers;
    c.strategy = SyncStrategy::QrInfo;
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    (client, rec)
}

/// Errors reporting `addr` as misbehaving.
fn bans_of(l: &Log, addr: SocketAddr) -> Vec<String> {
    l.errors
        .iter()
        .filter(|e| e.kind == ErrorKind::PeerMisbehaved && e.message.contains(&addr.to_string()))
        .map(|e| e.message.clone())
        .collect()
}

fn await_chainlock(rec: &Recorder, height: u32) {
    assert!(
        rec.wait_for(
            |l| l.chainlocks.iter().any(|c| c.height == height),
            Duration::from_secs(90)
        ),
        "ChainLock {height} not verified: {:?}",
        rec.log.lock().unwrap().errors
    );
}

#[test]
fn a_longer_fork_below_a_chainlock_is_refused_and_its_server_penalised() {
    let rt = runtime();
    let cfg = SimConfig::regtest(31);
    let honest = Arc::new(SimNode::new(cfg.clone()));
    let turncoat = Arc::new(SwitchableService::new(honest.clone()));
    let h = serve(&rt, honest.clone());
    let f = serve(&rt, turncoat.clone());
    let (client, rec) = client(&cfg, vec![h.addr(), f.addr()]);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(120)), "not synced");
    honest.mine(1);
    let locked = honest.tip_height();
    await_chainlock(&rec, locked);
    // The second peer turns to a fork from 3 blocks below the lock, 10 blocks long (7 more
    // blocks of work than the honest chain).
    let fork = SimChain::competing_fork(&cfg, locked - 3, 10);
    let fork_tip = fork.tip_height();
    turncoat.switch_to(Arc::new(SimNode::from_chain(fork)));
    assert!(
        rec.wait_for(
            |l| !bans_of(l, f.addr()).is_empty(),
            Duration::from_secs(90)
        ),
        "the fork's server was not penalised; errors {:?}",
        rec.log.lock().unwrap().errors
    );
    let status = client.status();
    assert!(status.header_height < fork_tip, "fork adopted: {status:?}");
    // The honest chain is followed on, every ChainLock verified; the honest peer never banned.
    for _ in 0..3 {
        honest.mine(1);
        await_chainlock(&rec, honest.tip_height());
    }
    let tip = honest.tip_height();
    assert!(rec.wait_for(
        |_| client.status().header_height == tip && client.status().list_height == Some(tip),
        Duration::from_secs(60)
    ));
    let log = rec.log.lock().unwrap();
    assert!(
        bans_of(&log, h.addr()).is_empty(),
        "honest peer banned: {:?}",
        bans_of(&log, h.addr())
    );
    assert!(
        bans_of(&log, f.addr())
            .iter()
            .all(|m| m.contains("ChainLock")),
        "{:?}",
        bans_of(&log, f.addr())
    );
    drop(log);
    client.stop();
    rt.block_on(h.shutdown());
    rt.block_on(f.shutdown());
}

#[test]
fn a_valid_chainlock_for_another_branch_moves_the_client_there_and_its_sender_stays() {
    let rt = runtime();
    let cfg = SimConfig::regtest(32);
    let honest = Arc::new(SimNode::new(cfg.clone()));
    let tip = honest.tip_height();
    // Both peers first serve a fork from 3 blocks below the honest tip, 8 blocks long: the
    // client adopts it (it has more work, and no lock says otherwise yet).
    let fork = Arc::new(SimNode::from_chain(SimChain::competing_fork(
        &cfg,
        tip - 3,
        8,
    )));
    let fork_tip = fork.tip_height();
    let relay = Arc::new(SwitchableService::new(fork.clone()));
    let h = serve(&rt, relay.clone());
    let f = serve(&rt, fork.clone());
    let (client, rec) = client(&cfg, vec![h.addr(), f.addr()]);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(120)), "not synced");
    assert!(rec.wait_for(
        |_| client.status().header_height == fork_tip,
        Duration::from_secs(60)
    ));
    // The first peer turns to the honest chain and relays its ChainLock for the honest tip:
    // valid, it conflicts with the adopted fork, so the client moves to the locked branch.
    relay.switch_to(honest.clone());
    await_chainlock(&rec, tip);
    let honest_tip_hash = honest.hash_at(tip);
    assert!(
        rec.wait_for(
            |_| client.status().header_height == tip && client.status().list_height == Some(tip),
            Duration::from_secs(60)
        ),
        "not on the locked branch: {:?}",
        client.status()
    );
    // It follows the honest chain from there.
    for _ in 0..2 {
        honest.mine(1);
        await_chainlock(&rec, honest.tip_height());
    }
    let log = rec.log.lock().unwrap();
    assert!(
        bans_of(&log, h.addr()).is_empty(),
        "the ChainLock's sender was banned: {:?}",
        bans_of(&log, h.addr())
    );
    assert!(log
        .chainlocks
        .iter()
        .any(|c| c.height == tip && Some(c.block_hash) == honest_tip_hash));
    drop(log);
    client.stop();
    rt.block_on(h.shutdown());
    rt.block_on(f.shutdown());
}
