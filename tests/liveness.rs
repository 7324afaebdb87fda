//! One peer cannot stall the header sync (issue 23, N2): a peer that answers every
//! `getheaders` with an empty `headers` (faithful otherwise) and claims the highest possible
//! start height sits beside an honest peer; the client syncs and follows the tip anyway, and an
//! empty answer while a higher tip is known counts against the peer that gave it.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::{ErrorKind, SyncState};
use std::time::Duration;

mod common;

use common::recorder::synced;
use common::simnet::Net;

#[test]
fn a_peer_answering_empty_headers_with_a_lying_start_height_cannot_stall_the_sync() {
    let net = Net::start(
        SimConfig::regtest(51),
        &[
            Faults {
                empty_headers: true,
                claim_start_height: Some(i32::MAX),
                ..Faults::default()
            },
            Faults::default(),
        ],
    );
    let (node, staller, honest) = (&net.node, &net.servers[0], &net.servers[1]);
    let (client, rec) = net.client(|_| {});
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
}

/// Lists that stop following the headers take the client out of `Synced`, with the reason, until
/// they catch up (before: `Synced` was never left once reached).
#[test]
fn lists_trailing_the_headers_leave_synced_with_a_reason() {
    let net = Net::start(SimConfig::regtest(52), &[Faults::default()]);
    let node = &net.node;
    let first = node.tip_height();
    // Before the client connects: faults apply to connections accepted from now on.
    net.servers[0].set_faults(Faults {
        decline_mnlistd_above: Some(first),
        ..Faults::default()
    });
    let (client, rec) = net.client(|c| c.request_timeout = Duration::from_secs(2));
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
}
