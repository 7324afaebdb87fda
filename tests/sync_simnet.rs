//! End to end: the client syncs the simulated network over loopback TCP.
#![cfg(feature = "simnet")]

use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{
    ChainLockEvent, Client, ClientError, Config, EventListener, Progress, SyncProfile, SyncState,
    SyncStrategy,
};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::recorder::{synced, Recorder};
use common::simnet::Net;

/// The simulated network of `seed`'s regtest chain, served once per entry of `faults`.
fn simnet(seed: u64, faults: &[Faults]) -> Net {
    Net::start(SimConfig::regtest(seed), faults)
}

/// A client of every server with `strategy` and 3 s timeouts (not started).
fn client_for(net: &Net, strategy: SyncStrategy) -> (Client, Arc<Recorder>) {
    net.client(|c| {
        c.strategy = strategy;
        c.request_timeout = Duration::from_secs(3);
        c.connect_timeout = Duration::from_secs(3);
    })
}

/// Mines `blocks` and waits until the client verified the new tip's ChainLock; the new tip.
fn mine_and_await_tip_chainlock(net: &Net, rec: &Recorder, blocks: u32) -> u32 {
    net.node.mine(blocks);
    let new_tip = net.node.tip_height();
    assert!(
        rec.wait_for(
            |l| l.chainlocks.iter().any(|c| c.height == new_tip),
            Duration::from_secs(60)
        ),
        "tip ChainLock not verified"
    );
    new_tip
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
    // New blocks across a rotation cycle and DKG windows: followed, new quorums validated,
    // ChainLock verified.
    let new_tip = mine_and_await_tip_chainlock(&net, &rec, 50);
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

/// Every reported quorum is one the simulated chain really formed (same key).
fn all_reported_are_genuine(net: &Net, rec: &Recorder) {
    let genuine: HashMap<_, _> = net.node.with_chain(|c| {
        c.mined_commitments()
            .iter()
            .map(|(_, q)| ((q.llmq_type, q.quorum_hash), q.quorum_public_key))
            .collect()
    });
    for q in &rec.log.lock().unwrap().quorums {
        let key = genuine
            .get(&(q.llmq_type, q.quorum_hash))
            .unwrap_or_else(|| panic!("reported quorum {} does not exist", q.quorum_hash));
        assert_eq!(
            *key, q.public_key,
            "reported quorum {} has a wrong key",
            q.quorum_hash
        );
    }
}

/// How a fault must show: which `Faults` field fired on the server, and the kind of error (and
/// a part of its message) reported for the faulty peer's address; `None`: no error names it.
struct Shows {
    fired: &'static str,
    /// For faults that fire at the n-th message: n (the client may not need that many
    /// messages from this peer).
    after: Option<usize>,
    reported: Option<(dash_qrsync::ErrorKind, &'static str)>,
}

fn sync_with_one_faulty_peer(faults: Faults, name: &str, shows: Shows) {
    let net = simnet(21, &[faults, Faults::default()]);
    let bad = net.servers[0].addr().to_string();
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    client.start().unwrap();
    let ok = rec.wait_for(synced, Duration::from_secs(60));
    let errors = rec.log.lock().unwrap().errors.clone();
    assert!(ok, "{name}: not synced; errors {errors:?}");
    all_reported_are_genuine(&net, &rec);
    // The fault fired (a fault that answers one kind of request can only fire when the
    // client happened to send that request to this peer; then it must have).
    let snap = net.servers[0].counters().snapshot();
    let unreached = shows.after.is_some_and(|n| snap.messages_out <= n as u64);
    if !snap.faults_fired.contains_key(shows.fired)
        && (unreached || shows.fired == "no_qrinfo" && !snap.requests.contains_key("getqrinfo"))
    {
        eprintln!("{name}: the client did not need what triggers the fault this time");
        client.stop();
        return;
    }
    let fired = snap.faults_fired;
    assert!(
        fired.get(shows.fired).copied().unwrap_or(0) > 0,
        "{name}: fault {} never fired ({fired:?})",
        shows.fired
    );
    // And was classified as it deserves.
    match shows.reported {
        Some((kind, what)) => {
            let found = rec.wait_for(
                |l| {
                    l.errors.iter().any(|e| {
                        e.kind == kind && e.message.contains(&bad) && e.message.contains(what)
                    })
                },
                Duration::from_secs(10),
            );
            let errors = rec.log.lock().unwrap().errors.clone();
            assert!(
                found,
                "{name}: no {kind:?} error naming {bad} and {what:?}: {errors:?}"
            );
            if kind == dash_qrsync::ErrorKind::Network {
                assert!(
                    !errors
                        .iter()
                        .any(|e| e.kind == dash_qrsync::ErrorKind::PeerMisbehaved),
                    "{name}: network trouble treated as misbehaviour: {errors:?}"
                );
            }
        }
        None => {
            let errors = rec.log.lock().unwrap().errors.clone();
            assert!(
                !errors.iter().any(|e| e.message.contains(&bad)),
                "{name}: harmless traffic reported: {errors:?}"
            );
        }
    }
    returns_within(60, &format!("{name}: stop"), move || client.stop());
    for s in net.servers {
        net.rt.block_on(s.shutdown());
    }
}

#[test]
fn disconnect_at_every_message_boundary_is_survived() {
    use dash_qrsync::ErrorKind::Network;
    for n in 0..8 {
        sync_with_one_faulty_peer(
            Faults {
                close_after_messages: Some(n),
                ..Faults::default()
            },
            &format!("close after {n}"),
            Shows {
                fired: "close_after_messages",
                after: Some(n),
                reported: Some((Network, "closed by the peer")),
            },
        );
        sync_with_one_faulty_peer(
            Faults {
                close_mid_message_after: Some(n),
                ..Faults::default()
            },
            &format!("close mid-message after {n}"),
            Shows {
                fired: "close_mid_message_after",
                after: Some(n),
                reported: Some((Network, "closed by the peer")),
            },
        );
    }
}

#[test]
fn corrupt_and_invalid_data_is_rejected_and_sync_completes_elsewhere() {
    use dash_qrsync::ErrorKind::{Network, PeerMisbehaved};
    let cases = [
        (
            "commitment bit flip (root check)",
            Faults {
                commitment_bit_flip: true,
                ..Faults::default()
            },
            Shows {
                fired: "commitment_bit_flip",
                after: None,
                reported: Some((PeerMisbehaved, "invalid")),
            },
        ),
        (
            "wrong merkle root",
            Faults {
                wrong_merkle_root: true,
                ..Faults::default()
            },
            Shows {
                fired: "wrong_merkle_root",
                after: None,
                reported: Some((PeerMisbehaved, "invalid")),
            },
        ),
        (
            "oversized count",
            Faults {
                oversized_count: true,
                ..Faults::default()
            },
            Shows {
                fired: "oversized_count",
                after: None,
                reported: Some((PeerMisbehaved, "undecodable")),
            },
        ),
        (
            "bad checksum",
            Faults {
                bad_checksum_after: Some(4),
                ..Faults::default()
            },
            Shows {
                fired: "bad_checksum_after",
                after: Some(4),
                reported: Some((PeerMisbehaved, "checksum")),
            },
        ),
        (
            "corrupt byte",
            Faults {
                corrupt_byte_after: Some(4),
                ..Faults::default()
            },
            Shows {
                fired: "corrupt_byte_after",
                after: Some(4),
                reported: Some((PeerMisbehaved, "banned")),
            },
        ),
        (
            "stall",
            Faults {
                stall_after: Some(3),
                ..Faults::default()
            },
            Shows {
                fired: "stall_after",
                after: Some(3),
                reported: Some((Network, "did not answer")),
            },
        ),
        (
            "old peer without qrinfo",
            Faults {
                no_qrinfo: true,
                ..Faults::default()
            },
            Shows {
                fired: "no_qrinfo",
                after: None,
                reported: Some((Network, "did not answer getqrinfo")),
            },
        ),
        (
            "unsolicited",
            Faults {
                unsolicited: true,
                ..Faults::default()
            },
            Shows {
                fired: "unsolicited",
                after: None,
                reported: None,
            },
        ),
    ];
    for (name, f, shows) in cases {
        sync_with_one_faulty_peer(f, name, shows);
    }
}

#[test]
fn a_lone_bad_peer_gives_typed_errors_and_never_a_bad_quorum() {
    let net = simnet(
        31,
        &[Faults {
            commitment_bit_flip: true,
            ..Faults::default()
        }],
    );
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    client.start().unwrap();
    assert!(rec.wait_for(
        |l| l
            .errors
            .iter()
            .any(|e| e.kind == dash_qrsync::ErrorKind::PeerMisbehaved),
        Duration::from_secs(30)
    ));
    assert!(!rec.log.lock().unwrap().states.contains(&SyncState::Synced));
    all_reported_are_genuine(&net, &rec);
    returns_within(60, "stop", move || {
        client.stop();
        drop(client);
    });
}

#[test]
fn three_peers_share_the_getmnlistd_requests() {
    let net = simnet(
        41,
        &[Faults::default(), Faults::default(), Faults::default()],
    );
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    // Mine past the first sync so that following the tip needs several diffs.
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    for _ in 0..6 {
        net.node.mine(5);
        let tip = net.node.tip_height();
        assert!(rec.wait_for(
            |_| client.status().list_height == Some(tip),
            Duration::from_secs(30)
        ));
    }
    let per_server: Vec<u64> = net
        .servers
        .iter()
        .map(|s| {
            s.counters()
                .snapshot()
                .requests
                .get("getmnlistd")
                .copied()
                .unwrap_or(0)
        })
        .collect();
    assert!(
        per_server.iter().filter(|n| **n > 0).count() >= 2,
        "getmnlistd per server: {per_server:?}"
    );
    client.stop();
}

#[test]
fn wallet_profile_validates_only_chainlock_and_instantsend_quorums_in_one_round_trip() {
    let net = simnet(13, &[Faults::default()]);
    let (client, rec) = net.client(|c| c.profile = SyncProfile::Wallet);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    let phase = client.list_phase().expect("the list phase began");
    let status = client.status();
    assert_eq!(
        status.dependent_round_trips - phase.dependent_round_trips,
        1,
        "a wallet cold start needs one round trip after headers"
    );
    let (cl, is) = (net.cfg.llmq().chainlocks, net.cfg.llmq().instantsend);
    let tip = net.node.tip_height();
    let active = net.node.with_chain(|c| c.active_set(tip));
    {
        let log = rec.log.lock().unwrap();
        assert!(log
            .quorums
            .iter()
            .all(|q| q.llmq_type == cl || q.llmq_type == is));
        for (t, h) in active.keys().filter(|(t, _)| *t == cl || *t == is) {
            assert!(
                log.quorums
                    .iter()
                    .any(|q| q.llmq_type == *t && q.quorum_hash == *h),
                "active wallet quorum {t}/{h} not reported"
            );
        }
        assert!(
            active.keys().any(|(t, _)| *t != cl && *t != is),
            "the simulated network has other quorum types too"
        );
    }
    all_reported_are_genuine(&net, &rec);
    // ChainLocks verify with the wallet profile.
    mine_and_await_tip_chainlock(&net, &rec, 3);
    client.stop();
}

#[test]
fn qrinfo_needs_fewer_round_trips_than_either_sequential_baseline() {
    let mut rounds = Vec::new();
    for strategy in [
        SyncStrategy::QrInfo,
        SyncStrategy::Sequential,
        SyncStrategy::SequentialFromGenesis,
    ] {
        let net = simnet(51, &[Faults::default()]);
        let (client, rec) = client_for(&net, strategy);
        client.start().unwrap();
        assert!(
            rec.wait_for(synced, Duration::from_secs(60)),
            "{strategy:?}"
        );
        rounds.push(client.status().round_trips);
        client.stop();
    }
    eprintln!(
        "round trips: QrInfo {} vs Sequential {} vs SequentialFromGenesis {}",
        rounds[0], rounds[1], rounds[2]
    );
    assert!(rounds[0] < rounds[1], "{rounds:?}");
    assert!(rounds[0] < rounds[2], "{rounds:?}");
}

#[test]
fn a_reorg_across_a_dkg_window_is_followed() {
    let net = simnet(61, &[Faults::default()]);
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    // Replace the last 20 blocks (a mining window included) by a longer branch.
    net.node.reorg(20);
    let tip = net.node.tip_height();
    let tip_hash = net.node.hash_at(tip).unwrap();
    assert!(
        rec.wait_for(
            |_| client.block_hash(tip) == Some(tip_hash)
                && client.status().list_height == Some(tip),
            Duration::from_secs(30)
        ),
        "reorg not followed: status {:?}",
        client.status()
    );
    let active = net.node.with_chain(|c| c.active_set(tip));
    for (t, h) in active.keys() {
        assert!(
            client.quorum(*t, h).is_some(),
            "quorum {h} of the new branch not validated"
        );
    }
    client.stop();
}

#[test]
fn restart_with_the_same_store_resyncs_in_one_round_trip() {
    let net = simnet(71, &[Faults::default()]);
    let store = Arc::new(MemoryStore::new());
    let make = |store: Arc<MemoryStore>| {
        let mut c = Config::new(net.cfg.network());
        c.chain = net.cfg.params.clone();
        c.peers = vec![net.servers[0].addr()];
        let rec = Arc::new(Recorder::default());
        (Client::new(c, store, rec.clone()).unwrap(), rec)
    };
    let (client, rec) = make(store.clone());
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    let quorums_before = client.status().quorums_validated;
    client.stop();
    drop(client);
    // Only the library's keys: the fixed ones and header segments (`docs/STORAGE.md`).
    let keys = store.keys();
    assert!(keys.contains(&"dqs.state.head".to_string()), "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| dash_qrsync::store::state::is_library_key(k)),
        "{keys:?}"
    );
    assert!(keys.iter().any(|k| k.starts_with("dqs.hdr.")), "{keys:?}");
    net.node.mine(3);
    let before = net.servers[0].counters().snapshot();
    let (client, rec) = make(store.clone());
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    let after = net.servers[0].counters().snapshot();
    let mn_requests = |s: &dash_qrsync::simnet::server::CountersSnapshot| {
        s.requests.get("getmnlistd").copied().unwrap_or(0)
            + s.requests.get("getqrinfo").copied().unwrap_or(0)
    };
    let used = mn_requests(&after) - mn_requests(&before);
    eprintln!("masternode requests after restart: {used}");
    assert!(used <= 2, "{used} masternode requests after restart");
    assert!(client.status().quorums_validated >= quorums_before);
    client.stop();
}

/// A listener that stops and drops the client from inside its own callback.
struct DropsClient {
    client: Mutex<Option<Client>>,
    done: Mutex<bool>,
    cv: Condvar,
}

impl EventListener for DropsClient {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, _: &QuorumInfo) {}
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        if s == SyncState::Synced {
            if let Some(c) = self.client.lock().unwrap().take() {
                c.stop();
                drop(c);
                *self.done.lock().unwrap() = true;
                self.cv.notify_all();
            }
        }
    }
    fn on_error(&self, _: &ClientError) {}
}

#[test]
fn stop_and_drop_from_inside_a_callback_neither_hang_nor_panic() {
    let net = simnet(81, &[Faults::default()]);
    let mut c = Config::new(net.cfg.network());
    c.chain = net.cfg.params.clone();
    c.peers = vec![net.servers[0].addr()];
    let listener = Arc::new(DropsClient {
        client: Mutex::new(None),
        done: Mutex::new(false),
        cv: Condvar::new(),
    });
    let client = Client::new(c, Arc::new(MemoryStore::new()), listener.clone()).unwrap();
    client.start().unwrap();
    *listener.client.lock().unwrap() = Some(client);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut done = listener.done.lock().unwrap();
    while !*done && Instant::now() < deadline {
        done = listener
            .cv
            .wait_timeout(done, Duration::from_millis(100))
            .unwrap()
            .0;
    }
    assert!(*done, "the callback could not stop and drop the client");
}

#[test]
fn dropping_a_running_client_from_another_thread_returns_promptly() {
    let net = simnet(
        91,
        &[Faults {
            latency: Duration::from_millis(200),
            ..Faults::default()
        }],
    );
    let (client, _rec) = client_for(&net, SyncStrategy::QrInfo);
    client.start().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    returns_within(60, "drop from another thread", move || drop(client));
}

/// Core sends nothing for a `getmnlistd` it cannot build. Each such request is asked a bounded
/// number of times at one tip (3), reported once naming the block, and not asked again until
/// the tip moves — not retried on every pass.
#[test]
fn a_silently_declined_getmnlistd_is_reported_once_and_not_retried_for_the_same_tip() {
    let tip = SimConfig::regtest(41).blocks;
    // Three peers of one node that all decline the same requests (a timed-out peer is
    // disconnected and backs off, so one peer alone would hide retries behind its back-off).
    let f = Faults {
        // Without qrinfo the lists at quorum bases must come by getmnlistd.
        no_qrinfo: true,
        decline_mnlistd_at_or_below: Some(tip - 5),
        ..Faults::default()
    };
    let net = simnet(41, &[f.clone(), f.clone(), f]);
    let (client, rec) = net.client(|c| {
        c.request_timeout = Duration::from_millis(700);
        c.connect_timeout = Duration::from_secs(3);
    });
    client.start().unwrap();
    let declined_errors = |rec: &Recorder| {
        rec.log
            .lock()
            .unwrap()
            .errors
            .iter()
            .filter(|e| e.message.contains("no peer answered getmnlistd"))
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        rec.wait_for(
            |l| l
                .errors
                .iter()
                .any(|e| e.message.contains("no peer answered getmnlistd")),
            Duration::from_secs(60)
        ),
        "no declined getmnlistd reported: {:?}",
        {
            let l = rec.log.lock().unwrap();
            (
                l.errors.clone(),
                l.states.clone(),
                net.servers[0].counters().snapshot(),
            )
        }
    );
    // Passes run at least every 5 s while not synced: after two more windows of 11 s every
    // request still failing has been declined, and nothing declined is asked again.
    let fired = || -> u64 {
        net.servers
            .iter()
            .map(|s| {
                s.counters()
                    .snapshot()
                    .faults_fired
                    .get("decline_mnlistd")
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    };
    std::thread::sleep(Duration::from_secs(11));
    let settled = fired();
    std::thread::sleep(Duration::from_secs(11));
    assert_eq!(
        fired(),
        settled,
        "declined getmnlistd asked again at the same tip"
    );
    let errors = declined_errors(&rec);
    let mut blocks: Vec<_> = errors
        .iter()
        .map(|m| m.split_whitespace().nth(6).unwrap_or_default().to_string())
        .collect();
    blocks.sort();
    blocks.dedup();
    assert_eq!(
        blocks.len(),
        errors.len(),
        "a block reported twice: {errors:?}"
    );
    assert!(
        errors.iter().all(|m| m.contains("(height ")),
        "messages name the height: {errors:?}"
    );
    assert!(
        settled <= 3 * errors.len() as u64 + 3,
        "{settled} declined requests for {} declined blocks",
        errors.len()
    );
    let log = rec.log.lock().unwrap();
    assert!(log.errors.iter().all(|e| e.recoverable), "{:?}", log.errors);
    drop(log);
    all_reported_are_genuine(&net, &rec);
    // A new tip: what was declined is asked again.
    net.node.mine(1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while fired() == settled && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(fired() > settled, "not asked again after the tip moved");
    client.stop();
    assert_eq!(client.status().state, SyncState::Stopped);
}

/// Runs `f` on its own thread and fails if it has not returned within `secs` seconds: a hang
/// is a failure, a slow machine is not (the bound is generous, not a measure of speed).
fn returns_within(secs: u64, what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(secs)).is_ok(),
        "{what} did not return within {secs} s"
    );
}

/// A client whose chain parameters differ from the network's (here `llmqtestparams` 4:3
/// against the network's 3:2, Core's regtest default) finds every honest peer "invalid" on
/// the same check: the terminal error calls it a probable configuration error and names the
/// parameter, instead of asking for other peers.
#[test]
fn every_peer_failing_the_same_check_is_reported_as_a_configuration_error() {
    let net = simnet(17, &[Faults::default(), Faults::default()]);
    let mut c = Config::new(net.cfg.network());
    c.chain = net.cfg.params.clone();
    assert_eq!(
        c.chain.llmq_params(100).map(|p| (p.size, p.threshold)),
        Some((3, 2))
    );
    c.chain.set("llmqtestparams", "4:3").unwrap();
    c.peers = net.servers.iter().map(|s| s.addr()).collect();
    c.max_peers = c.peers.len();
    c.request_timeout = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(3);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    assert!(
        rec.wait_for(
            |l| l.errors.iter().any(|e| !e.recoverable),
            Duration::from_secs(120)
        ),
        "no terminal error: {:?}",
        rec.log.lock().unwrap().errors
    );
    let e = rec
        .log
        .lock()
        .unwrap()
        .errors
        .iter()
        .find(|e| !e.recoverable)
        .cloned()
        .unwrap();
    assert_eq!(e.kind, dash_qrsync::ErrorKind::PeerMisbehaved, "{e:?}");
    assert!(
        e.message.contains("probable configuration error"),
        "{}",
        e.message
    );
    assert!(e.message.contains("check llmqtestparams"), "{}", e.message);
    assert!(
        !e.message.contains("configure other peers"),
        "{}",
        e.message
    );
    returns_within(60, "stop", move || client.stop());
}

/// Progress moves with the work: one report per list (or qrinfo) applied, so that the masternode
/// phase is not one jump from 50 % to 100 %.
#[test]
fn progress_is_reported_for_every_list_applied() {
    #[derive(Default)]
    struct Seen {
        list_phase: Mutex<Vec<dash_qrsync::Progress>>,
        inner: Recorder,
    }
    impl dash_qrsync::EventListener for Seen {
        fn on_progress(&self, p: &dash_qrsync::Progress) {
            if p.state == SyncState::MasternodeLists {
                self.list_phase.lock().unwrap().push(p.clone());
            }
            self.inner.on_progress(p);
        }
        fn on_state(&self, s: SyncState) {
            self.inner.on_state(s);
        }
        fn on_quorum_available(&self, q: &dash_qrsync::engine::QuorumInfo) {
            self.inner.on_quorum_available(q);
        }
        fn on_chain_lock(&self, c: &dash_qrsync::ChainLockEvent) {
            self.inner.on_chain_lock(c);
        }
        fn on_error(&self, e: &dash_qrsync::ClientError) {
            self.inner.on_error(e);
        }
    }
    let net = simnet(19, &[Faults::default()]);
    let mut c = Config::new(net.cfg.network());
    c.chain = net.cfg.params.clone();
    c.peers = net.servers.iter().map(|s| s.addr()).collect();
    let seen = Arc::new(Seen::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), seen.clone()).unwrap();
    client.start().unwrap();
    assert!(seen.inner.wait_for(synced, Duration::from_secs(120)));
    let served = net
        .servers
        .iter()
        .map(|s| {
            let r = s.counters().snapshot().requests;
            r.get("getmnlistd").copied().unwrap_or(0) + r.get("getqrinfo").copied().unwrap_or(0)
        })
        .sum::<u64>();
    let list_phase = seen.list_phase.lock().unwrap().clone();
    // One report per answer applied (each list and the qrinfo), however they were batched.
    assert!(
        list_phase.len() as u64 >= served,
        "{} progress reports in the list phase for {served} list answers",
        list_phase.len()
    );
    let distinct: std::collections::BTreeSet<u32> =
        list_phase.iter().map(|p| p.quorums_validated).collect();
    assert!(distinct.len() >= 2, "{list_phase:?}");
    client.stop();
}

/// The simulated chain's list at `height`: (ProRegTx hash, valid) of every entry.
fn sim_entries(net: &Net, height: u32) -> Vec<(dash_qrsync::Hash256, bool)> {
    let hash = net.node.hash_at(height).unwrap();
    let diff = net
        .node
        .mnlistdiff(&dash_qrsync::Hash256::ZERO, &hash, 70237)
        .unwrap();
    let mut v: Vec<_> = diff
        .mn_list
        .iter()
        .map(|e| (e.pro_reg_tx_hash, e.is_valid))
        .collect();
    v.sort();
    v
}

#[test]
fn masternode_book_is_reachable_after_a_sync_and_its_change_is_reported() {
    let net = simnet(23, &[Faults::default()]);
    let (client, rec) = client_for(&net, SyncStrategy::QrInfo);
    assert!(client.masternodes().is_none(), "no book before a sync");
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "not synced: {:?}",
        rec.log.lock().unwrap().errors
    );
    let book = client.masternodes().expect("a book after the sync");
    let tip = net.node.tip_height();
    assert_eq!(Some(book.height), client.status().list_height);
    let ours: Vec<_> = book
        .entries
        .iter()
        .map(|e| (e.pro_reg_tx_hash, e.is_valid))
        .collect();
    assert_eq!(ours, sim_entries(&net, book.height));
    assert!(book
        .entries
        .iter()
        .any(|e| e.mn_type == dash_qrsync::MasternodeType::Evo && e.platform_node_id.is_some()));
    assert!(book.entries.iter().all(|e| !e.addresses.is_empty()));
    {
        let l = rec.log.lock().unwrap();
        let last = l.masternodes.last().expect("a masternodes-changed event");
        assert_eq!(last.sml_root, book.sml_root);
        assert_eq!(last.count as usize, book.entries.len());
    }
    // The simulated chain churns its masternodes every 10 blocks: the change is reported and
    // the book follows.
    let before = rec.log.lock().unwrap().masternodes.len();
    let new_tip = mine_and_await_tip_chainlock(&net, &rec, 20);
    assert!(new_tip > tip);
    assert!(
        rec.wait_for(
            |l| l.masternodes.len() > before
                && client.masternodes().is_some_and(|b| {
                    b.height == new_tip
                        && l.masternodes
                            .last()
                            .is_some_and(|m| m.sml_root == b.sml_root)
                }),
            Duration::from_secs(60)
        ),
        "no masternodes-changed event for the new tip list: {:?}",
        rec.log.lock().unwrap().masternodes
    );
    let after = client.masternodes().unwrap();
    assert_eq!(after.height, new_tip);
    assert_ne!(after.sml_root, book.sml_root);
    let ours: Vec<_> = after
        .entries
        .iter()
        .map(|e| (e.pro_reg_tx_hash, e.is_valid))
        .collect();
    assert_eq!(ours, sim_entries(&net, new_tip));
    // One event per change: consecutive events never name the same list root.
    assert!(rec
        .log
        .lock()
        .unwrap()
        .masternodes
        .windows(2)
        .all(|w| w[0].sml_root != w[1].sml_root));
    client.stop();
    for s in net.servers {
        net.rt.block_on(s.shutdown());
    }
}

/// A host store whose saves take 2 s, counting calls in progress and calls that began after
/// the test set `dropping`.
#[derive(Default)]
struct SlowStore {
    inner: MemoryStore,
    busy: std::sync::atomic::AtomicUsize,
    saves: std::sync::atomic::AtomicUsize,
    dropping: std::sync::atomic::AtomicBool,
    after: std::sync::atomic::AtomicUsize,
}

impl SlowStore {
    fn enter(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.dropping.load(SeqCst) {
            self.after.fetch_add(1, SeqCst);
        }
        self.busy.fetch_add(1, SeqCst);
    }
    fn leave(&self) {
        self.busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl dash_qrsync::store::Store for SlowStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, dash_qrsync::store::StoreError> {
        self.enter();
        let r = self.inner.load(key);
        self.leave();
        r
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), dash_qrsync::store::StoreError> {
        self.enter();
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs(2));
        let r = self.inner.save(key, value);
        self.leave();
        r
    }
    fn remove(&self, key: &str) -> Result<(), dash_qrsync::store::StoreError> {
        self.enter();
        let r = self.inner.remove(key);
        self.leave();
        r
    }
}

/// Issue 26: dropping a Rust client closes its store first, as `dqs_client_free` does (now
/// through the same `Drop`): dropped while a save is in progress, the drop returns only once
/// that call has, and no store call begins after the drop began (the save's second write, the
/// head, is refused).
#[test]
fn dropping_the_client_closes_its_store_first() {
    use std::sync::atomic::Ordering::SeqCst;
    let net = Net::start(SimConfig::regtest(5), &[Faults::default()]);
    let store = Arc::new(SlowStore::default());
    let (client, _rec) = net.client_with_store(store.clone(), |_| {});
    client.start().unwrap();
    let t0 = Instant::now();
    while !(store.saves.load(SeqCst) >= 1 && store.busy.load(SeqCst) == 1) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no save began");
        std::thread::sleep(Duration::from_millis(1));
    }
    store.dropping.store(true, SeqCst);
    drop(client);
    assert_eq!(store.busy.load(SeqCst), 0, "a store call outlived the drop");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        store.after.load(SeqCst),
        0,
        "store calls began after the drop began"
    );
    assert_eq!(store.busy.load(SeqCst), 0);
}
