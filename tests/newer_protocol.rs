//! A network newer than the library (issue 22): peers that send masternode list entries of an
//! entry version this library does not know (as a future Dash Core would). Reading the rest of
//! such an entry is impossible, but it is no proof of misbehaviour: the peer must never be
//! banned, the host must get `ErrorKind::UnsupportedProtocol` naming the structure, the version
//! and the library version, the peer is not asked again, and when no readable peer is left the
//! sync stops in `SyncState::UpdateRequired` — no reconnect loop.
#![cfg(feature = "simnet")]

mod common;

use common::recorder::{Log, Recorder};
use common::simnet::Net;
use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::{Client, ErrorKind, SyncState};
use std::sync::Arc;
use std::time::Duration;

fn simnet(seed: u64, faults: &[Faults]) -> Net {
    Net::start(SimConfig::regtest(seed), faults)
}

fn client(net: &Net) -> (Client, Arc<Recorder>) {
    net.client(|_| {})
}

fn newer() -> Faults {
    Faults {
        newer_entry_version: Some(4),
        ..Faults::default()
    }
}

fn misbehaviour(l: &Log) -> Vec<String> {
    l.errors
        .iter()
        .filter(|e| e.kind == ErrorKind::PeerMisbehaved)
        .map(|e| e.message.clone())
        .collect()
}

#[test]
fn a_network_of_newer_peers_ends_in_update_required_without_a_ban_or_a_reconnect_loop() {
    let net = simnet(61, &[newer()]);
    let (client, rec) = client(&net);
    client.start().unwrap();
    assert!(
        rec.wait_for(
            |l| l.states.contains(&SyncState::UpdateRequired),
            Duration::from_secs(90)
        ),
        "no UpdateRequired; states and errors {:?}",
        {
            let l = rec.log.lock().unwrap();
            (l.states.clone(), l.errors.clone())
        }
    );
    let log = rec.log.lock().unwrap();
    assert!(misbehaviour(&log).is_empty(), "{:?}", misbehaviour(&log));
    let unsupported: Vec<_> = log
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::UnsupportedProtocol)
        .collect();
    assert!(!unsupported.is_empty());
    for e in &unsupported {
        for what in [
            "SML entry version 4",
            concat!("dash-qrsync ", env!("CARGO_PKG_VERSION")),
            "update",
        ] {
            assert!(e.message.contains(what), "{what:?} not in {:?}", e.message);
        }
    }
    // The final one is not recoverable and says the sync stopped.
    let last = unsupported.last().unwrap();
    assert!(
        !last.recoverable && last.message.contains("sync stopped"),
        "{last:?}"
    );
    drop(log);
    assert_eq!(client.status().state, SyncState::UpdateRequired);
    // What was validated before (the headers) is kept.
    assert_eq!(client.status().header_height, net.node.tip_height());
    // No reconnect loop: the one peer is not dialled again, not even after new blocks.
    let seen = net.servers[0].counters().snapshot().connections;
    net.node.mine(2);
    std::thread::sleep(Duration::from_secs(6));
    let after = net.servers[0].counters().snapshot();
    assert_eq!(
        after.connections, seen,
        "dialled again after UpdateRequired"
    );
    assert!(after.faults_fired.get("newer_entry_version").copied() >= Some(1));
    client.stop();
}

#[test]
fn a_lone_newer_peer_beside_a_readable_one_is_not_banned_and_the_sync_completes() {
    let net = simnet(62, &[newer(), Faults::default()]);
    let (client, rec) = client(&net);
    client.start().unwrap();
    let synced = |l: &Log| l.states.last() == Some(&SyncState::Synced);
    assert!(
        rec.wait_for(synced, Duration::from_secs(90)),
        "not synced: {:?}",
        rec.log.lock().unwrap().errors
    );
    // Follow a few blocks so that requests rotate over both peers.
    for _ in 0..3 {
        net.node.mine(1);
        let tip = net.node.tip_height();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = client.status();
            if s.header_height == tip && s.list_height == Some(tip) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "tip {tip} not followed: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let fired = net.servers[0]
        .counters()
        .snapshot()
        .faults_fired
        .get("newer_entry_version")
        .copied()
        .unwrap_or(0);
    assert!(fired >= 1, "the newer peer was never asked for a list");
    let log = rec.log.lock().unwrap();
    assert!(misbehaviour(&log).is_empty(), "{:?}", misbehaviour(&log));
    let newer_addr = net.servers[0].addr().to_string();
    assert!(log
        .errors
        .iter()
        .any(|e| e.kind == ErrorKind::UnsupportedProtocol
            && e.recoverable
            && e.message.contains(&newer_addr)));
    assert!(!log.states.contains(&SyncState::UpdateRequired));
    drop(log);
    client.stop();
}
