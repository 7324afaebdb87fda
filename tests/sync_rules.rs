//! Every consensus check the header chain runs offline is run on the headers the sync
//! receives (issue 23, N3): here Core's rule that a header may be at most 2 hours ahead of the
//! clock, against a peer serving a valid-proof-of-work fork stamped 3 hours ahead.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::{Faults, ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{Client, Config, ErrorKind, SyncStrategy};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::recorder::Recorder;

#[test]
fn headers_stamped_more_than_two_hours_ahead_are_refused_and_their_peer_banned() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig::regtest(41);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let tip = node.tip_height();
    let from = tip - 5;
    let sc = ServerConfig {
        faults: Faults {
            future_time_from: Some(from),
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
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    let refused = |l: &common::recorder::Log| {
        l.errors.iter().any(|e| {
            e.kind == ErrorKind::PeerMisbehaved && e.message.contains("after the allowed maximum")
        })
    };
    assert!(
        rec.wait_for(refused, Duration::from_secs(90)),
        "future-stamped headers not refused: {:?}, status {:?}",
        rec.log.lock().unwrap().errors,
        client.status()
    );
    assert!(
        server
            .counters()
            .snapshot()
            .faults_fired
            .get("future_time_from")
            > Some(&0),
        "the fault never fired"
    );
    // Nothing at or above the first future-stamped height was adopted.
    assert!(client.status().header_height < from);
    client.stop();
    rt.block_on(server.shutdown());
}
