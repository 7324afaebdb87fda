//! Every consensus check the header chain runs offline is run on the headers the sync
//! receives (issue 23, N3): here Core's rule that a header may be at most 2 hours ahead of the
//! clock, against a peer serving a valid-proof-of-work fork stamped 3 hours ahead.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::ErrorKind;
use std::time::Duration;

mod common;

use common::simnet::Net;

#[test]
fn headers_stamped_more_than_two_hours_ahead_are_refused_and_their_peer_banned() {
    let net = Net::start(SimConfig::regtest(41), &[Faults::default()]);
    let node = &net.node;
    let tip = node.tip_height();
    let from = tip - 5;
    // Before the client connects: faults apply to connections accepted from now on.
    net.servers[0].set_faults(Faults {
        future_time_from: Some(from),
        ..Faults::default()
    });
    let (client, rec) = net.client(|_| {});
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
        net.servers[0]
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
}
