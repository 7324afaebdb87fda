//! Simulated devnets: block 1 is the devnet's own genesis block, the one a client configured
//! with the same `devnet=NAME` starts its header chain at, so a client syncs a simulated devnet;
//! a client of another devnet is told that the headers do not connect (peer, previous block,
//! our tip height), not that the peer timed out.
#![cfg(feature = "simnet")]

use dash_qrsync::chain::params::{devnet_genesis_header, genesis_hash};
use dash_qrsync::network::Network;
use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimChain, SimConfig, SimService};
use dash_qrsync::{Client, SyncState};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::recorder::{synced, Recorder};
use common::simnet::Net;

/// A short devnet (every fork is active from height 2 on a devnet; no quorum needed here).
fn short_devnet(seed: u64) -> SimConfig {
    SimConfig {
        blocks: 40,
        ..SimConfig::devnet(seed)
    }
}

#[test]
fn block_one_of_a_simulated_devnet_is_the_genesis_core_derives_from_its_name() {
    let chain = SimChain::generate(short_devnet(5));
    assert_eq!(chain.network(), Network::Devnet);
    assert_eq!(chain.config.params.devnet_name(), Some("qrsync-simnet"));
    // Core's derivation (checked byte for byte in chain::params and against Core -devnet=dqs
    // in CONFORMANCE.md): from "devnet-" + the name.
    let expected = devnet_genesis_header("devnet-qrsync-simnet").unwrap();
    let b1 = chain.block(1).unwrap();
    assert_eq!(b1.header, expected);
    assert_eq!(b1.hash, expected.block_hash());
    assert_eq!(b1.header.prev_block_hash, genesis_hash(Network::Devnet));
    // Its one transaction is the coinbase the merkle root commits to.
    assert_eq!(b1.txs.len(), 1);
    assert_eq!(b1.txs[0].txid(), expected.merkle_root);
    assert!(b1.cbtx.is_none());
    // Block 2 builds on it.
    assert_eq!(chain.block(2).unwrap().header.prev_block_hash, b1.hash);
    assert_eq!(chain.tip_height(), 40);
}

/// A client of `net`'s one server under `chain` (which may be another devnet's).
fn client(net: &Net, chain: dash_qrsync::network::ChainParams) -> (Client, Arc<Recorder>) {
    net.client(|c| {
        c.chain = chain;
        c.request_timeout = Duration::from_secs(3);
    })
}

#[test]
fn a_client_of_the_same_devnet_syncs_the_devnet_preset() {
    let net = Net::start(SimConfig::devnet(6), &[Faults::default()]);
    let params = net.node.with_chain(|c| c.config.params.clone());
    let (client, rec) = client(&net, params);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "errors: {:?}",
        rec.log
            .lock()
            .unwrap()
            .errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
    );
    let status = client.status();
    assert_eq!(status.header_height, net.node.tip_height());
    assert!(status.quorums_validated > 0);
    client.stop();
}

#[test]
fn headers_of_another_devnet_are_reported_as_not_connecting() {
    let net = Net::start(short_devnet(7), &[Faults::default()]);
    // A client of another devnet: its chain starts at another block 1.
    let mut other = dash_qrsync::network::ChainParams::new(Network::Devnet);
    other.set("devnet", "elsewhere").unwrap();
    let (client, rec) = client(&net, other);
    client.start().unwrap();
    let reported = |l: &common::recorder::Log| {
        l.errors
            .iter()
            .any(|e| e.message.contains("do not connect to our chain"))
    };
    assert!(
        rec.wait_for(reported, Duration::from_secs(120)),
        "errors: {:?}",
        rec.log
            .lock()
            .unwrap()
            .errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
    );
    client.stop();
    let log = rec.log.lock().unwrap();
    let e = log
        .errors
        .iter()
        .find(|e| e.message.contains("do not connect to our chain"))
        .unwrap();
    // The peer, the first header's previous block (the shared regtest-style genesis: the
    // simulated devnet's block 2 links to its own block 1, block 1 to that genesis), our
    // height.
    let addr = net.servers[0].addr().to_string();
    let base = genesis_hash(Network::Devnet).to_string();
    assert!(
        e.message.starts_with(&format!("headers from {addr} ")),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains(&format!("first header's previous block {base}")),
        "{}",
        e.message
    );
    assert!(e.message.ends_with("our tip height 1"), "{}", e.message);
    assert!(!log.states.contains(&SyncState::Synced));
    assert!(
        !log.errors.iter().any(|e| e.message.contains("in time")),
        "{:?}",
        log.errors.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
}
