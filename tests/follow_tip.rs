//! Following the tip on the simulated network: every ChainLock is verified, no list is
//! fetched twice, and an idle synced client sends nothing (issue 23, item 0).
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::SyncState;
use std::time::Duration;

mod common;

use common::recorder::synced;
use common::simnet::Net;

/// Blocks followed one at a time after the first sync.
const FOLLOW: u32 = 32;

#[test]
fn following_the_tip_verifies_every_chainlock_and_fetches_no_list_twice() {
    let net = Net::start(SimConfig::regtest(23), &[Faults::default()]);
    let node = &net.node;
    let counters = net.servers[0].counters();
    let (client, rec) = net.client(|_| {});
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "first sync not done: {:?}",
        rec.log.lock().unwrap().errors
    );
    let first = node.tip_height();
    // One block at a time, as a wallet sees the chain grow: each block's ChainLock must be
    // verified before the next is mined.
    for _ in 0..FOLLOW {
        node.mine(1);
        let tip = node.tip_height();
        assert!(
            rec.wait_for(
                |l| l.chainlocks.iter().any(|c| c.height == tip),
                Duration::from_secs(90)
            ),
            "ChainLock of block {tip} not verified (followed {} blocks); errors {:?}",
            tip - first - 1,
            rec.log.lock().unwrap().errors
        );
    }
    let tip = node.tip_height();
    assert!(rec.wait_for(
        |_| client.status().list_height == Some(tip) && client.status().state == SyncState::Synced,
        Duration::from_secs(60)
    ));
    {
        let log = rec.log.lock().unwrap();
        for h in first + 1..=tip {
            assert!(
                log.chainlocks.iter().any(|c| c.height == h),
                "ChainLock {h} not verified"
            );
        }
    }
    // No list was asked for twice (a list fetched, pruned and fetched again is the bug).
    let snap = counters.snapshot();
    let repeated: Vec<_> = snap
        .mnlistd_targets
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(h, n)| (node.height_of(h), *n))
        .collect();
    assert!(
        repeated.is_empty(),
        "lists requested more than once: {repeated:?}"
    );
    // Idle and synced: the periodic re-check (every 5 s) finds nothing to do, so no request
    // leaves the client over three of its periods.
    let before = counters.snapshot().requests;
    std::thread::sleep(Duration::from_secs(16));
    let after = counters.snapshot().requests;
    for cmd in ["getheaders", "getheaders2", "getmnlistd", "getqrinfo"] {
        assert_eq!(
            before.get(cmd),
            after.get(cmd),
            "{cmd} sent while idle and synced"
        );
    }
    assert_eq!(client.status().state, SyncState::Synced);
    client.stop();
}
