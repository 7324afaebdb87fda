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

/// The mechanism behind N3: the sync reached the header chain by two paths (pipelined and
/// parallel ranges) and each passed its own arguments, so one could drop a rule the other kept.
/// Now every header the sync receives above its start goes through one function,
/// `connect_checked`, which passes the host clock. This holds the sources to that: outside unit
/// tests, `src/sync` calls `connect_hashed` once (in `connect_checked`, with `Some(host_time())`)
/// and never `connect_at`, so a new path cannot skip a rule the offline path runs.
#[test]
fn the_sync_connects_headers_only_through_the_checked_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sync");
    let mut hashed = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests sit at the end of a file behind `#[cfg(test)]`.
        let product = text.split("#[cfg(test)]").next().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !product.contains(".connect_at("),
            "{name} connects headers without connect_checked"
        );
        for line in product.lines().filter(|l| l.contains(".connect_hashed(")) {
            hashed.push((name.clone(), line.trim().to_string()));
        }
    }
    assert_eq!(
        hashed.len(),
        1,
        "src/sync must reach connect_hashed only from connect_checked: {hashed:?}"
    );
    assert!(
        hashed[0].1.contains("Some(host_time())"),
        "connect_checked must pass the host clock: {:?}",
        hashed[0]
    );
}
