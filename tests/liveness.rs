//! One peer cannot stall the header sync (issue 23, N2): a peer that answers every
//! `getheaders` with an empty `headers` (faithful otherwise) and claims the highest possible
//! start height sits beside an honest peer; the client syncs and follows the tip anyway, and an
//! empty answer while a higher tip is known counts against the peer that gave it.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::{Faults, ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{Client, Config, ErrorKind, SyncState, SyncStrategy};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::recorder::{synced, Recorder};

#[test]
fn a_peer_answering_empty_headers_with_a_lying_start_height_cannot_stall_the_sync() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig::regtest(51);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let start = |faults: Faults| {
        let sc = ServerConfig {
            faults,
            announce_interval: Duration::from_millis(50),
            ..ServerConfig::default()
        };
        rt.block_on(SimServer::start(node.clone(), sc)).unwrap()
    };
    let staller = start(Faults {
        empty_headers: true,
        claim_start_height: Some(i32::MAX),
        ..Faults::default()
    });
    let honest = start(Faults::default());
    let mut c = Config::new(cfg.network());
    c.chain = cfg.params.clone();
    c.peers = vec![staller.addr(), honest.addr()];
    c.max_peers = 2;
    c.strategy = SyncStrategy::QrInfo;
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "not synced: {:?} {:?}",
        client.status(),
        rec.log.lock().unwrap().errors
    );
    assert_eq!(client.status().header_height, node.tip_height());
    // Follow 10 blocks, one at a time: the staller announces each one too.
    for _ in 0..10 {
        node.mine(1);
        let tip = node.tip_height();
        assert!(
            rec.wait_for(
                |l| l.chainlocks.iter().any(|c| c.height == tip),
                Duration::from_secs(90)
            ),
            "stalled at {:?} (tip {tip}); errors {:?}",
            client.status(),
            rec.log.lock().unwrap().errors
        );
    }
    assert!(
        staller
            .counters()
            .snapshot()
            .faults_fired
            .get("empty_headers")
            > Some(&0),
        "the staller was never asked"
    );
    let log = rec.log.lock().unwrap();
    // The empty answers never left the client behind what its peers announced.
    assert!(
        !log.errors.iter().any(|e| e.message.contains("left Synced")),
        "fell behind: {:?}",
        log.errors
    );
    assert!(
        !log.errors
            .iter()
            .any(|e| e.kind == ErrorKind::PeerMisbehaved
                && e.message.contains(&honest.addr().to_string())),
        "honest peer banned: {:?}",
        log.errors
    );
    drop(log);
    client.stop();
    rt.block_on(staller.shutdown());
    rt.block_on(honest.shutdown());
}

/// Lists that stop following the headers take the client out of `Synced`, with the reason, until
/// they catch up (before: `Synced` was never left once reached).
#[test]
fn lists_trailing_the_headers_leave_synced_with_a_reason() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig::regtest(52);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let first = node.tip_height();
    let sc = ServerConfig {
        faults: Faults {
            decline_mnlistd_above: Some(first),
            ..Faults::default()
        },
        announce_interval: Duration::from_millis(50),
        ..ServerConfig::default()
    };
    let server = rt.block_on(SimServer::start(node.clone(), sc)).unwrap();
    let mut c = Config::new(cfg.network());
    c.chain = cfg.params.clone();
    c.peers = vec![server.addr()];
    c.max_peers = 1;
    c.strategy = SyncStrategy::QrInfo;
    c.request_timeout = Duration::from_secs(2);
    c.connect_timeout = Duration::from_secs(5);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(120)), "not synced");
    node.mine(1);
    assert!(
        rec.wait_for(
            |l| l.errors.iter().any(|e| e
                .message
                .contains("left Synced: masternode lists trail the headers")),
            Duration::from_secs(120)
        ),
        "still Synced with lists behind: {:?} {:?}",
        client.status(),
        rec.log.lock().unwrap().errors
    );
    let s = client.status();
    assert_ne!(s.state, SyncState::Synced, "{s:?}");
    assert_eq!(s.header_height, first + 1);
    assert_eq!(s.list_height, Some(first));
    client.stop();
    rt.block_on(server.shutdown());
}
