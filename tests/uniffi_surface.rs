//! The UniFFI surface (`src/bindings/mod.rs`) driven from Rust: the same exported objects,
//! records, enums and foreign traits that Kotlin and Swift see, with Rust implementations of
//! `SyncListener` and `HostStore`.
//!
//! Oracles: the simulated network (the quorums it formed and their keys, the ChainLocks and
//! InstantSend locks it signed, regenerated here from the same seed, which is deterministic),
//! and the documented contract of each call (which inputs are invalid and which error kind
//! they map to).
// Without the `simnet` feature only the network-free tests run; their helpers stay compiled.
#![cfg_attr(not(feature = "simnet"), allow(dead_code, unused_imports))]

use dash_qrsync::bindings::{
    enable_logging, ClientConfig, ErrorEvent, ErrorKind, HostStore, LogLevel, Network, Progress,
    QrSyncClient, QrSyncError, Quorum, Simnet, StoreFailure, SyncListener, SyncProfile, SyncState,
};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Everything the listener saw.
#[derive(Default)]
struct Seen {
    progress: Vec<Progress>,
    quorums: Vec<Quorum>,
    chainlocks: Vec<dash_qrsync::bindings::ChainLock>,
    states: Vec<SyncState>,
    errors: Vec<ErrorEvent>,
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Seen>,
    cv: Condvar,
}

impl Recorder {
    fn wait_for(&self, what: impl Fn(&Seen) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut seen = self.seen.lock().unwrap();
        while !what(&seen) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            seen = self.cv.wait_timeout(seen, deadline - now).unwrap().0;
        }
        true
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap());
        self.cv.notify_all();
    }
}

impl SyncListener for Recorder {
    fn on_progress(&self, progress: Progress) {
        self.update(|s| s.progress.push(progress));
    }
    fn on_quorum(&self, quorum: Quorum) {
        self.update(|s| s.quorums.push(quorum));
    }
    fn on_chain_lock(&self, lock: dash_qrsync::bindings::ChainLock) {
        self.update(|s| s.chainlocks.push(lock));
    }
    fn on_state(&self, state: SyncState) {
        self.update(|s| s.states.push(state));
    }
    fn on_error(&self, error: ErrorEvent) {
        self.update(|s| s.errors.push(error));
    }
}

/// A host store over a map, as an app would write one; can be told to fail.
#[derive(Default)]
struct MapStore {
    map: Mutex<HashMap<String, Vec<u8>>>,
    fail_saves: bool,
    saves: Mutex<usize>,
}

impl HostStore for MapStore {
    fn load(&self, key: String) -> Result<Option<Vec<u8>>, StoreFailure> {
        Ok(self.map.lock().unwrap().get(&key).cloned())
    }
    fn save(&self, key: String, value: Vec<u8>) -> Result<(), StoreFailure> {
        *self.saves.lock().unwrap() += 1;
        if self.fail_saves {
            return Err(StoreFailure::Failed {
                reason: "disk full (test)".into(),
            });
        }
        self.map.lock().unwrap().insert(key, value);
        Ok(())
    }
    fn remove(&self, key: String) -> Result<(), StoreFailure> {
        self.map.lock().unwrap().remove(&key);
        Ok(())
    }
}

fn synced(s: &Seen) -> bool {
    s.states.last() == Some(&SyncState::Synced)
}

fn reason(e: &QrSyncError) -> &str {
    match e {
        QrSyncError::InvalidConfig { reason }
        | QrSyncError::InvalidArgument { reason }
        | QrSyncError::NotAvailable { reason }
        | QrSyncError::Internal { reason } => reason,
    }
}

// ---------------------------------------------------------------------------------------------
// Argument and configuration errors (no network needed).

#[test]
fn configuration_errors_are_typed_and_name_what_was_wrong() {
    let c = ClientConfig::new(Network::Regtest);
    let e = c.add_peer("not an address".into()).unwrap_err();
    assert!(matches!(e, QrSyncError::InvalidArgument { .. }), "{e:?}");
    assert!(reason(&e).contains("\"not an address\""), "{e}");
    assert!(e.to_string().starts_with("invalid argument: "), "{e}");
    // A host name is not an IP:port either.
    assert!(c.add_peer("localhost:19899".into()).is_err());

    // Values the configuration's validation refuses (the Rust messages, tests/surface_parity.rs).
    for bad in [0, 17] {
        let e = c.set_max_peers(bad).unwrap_err();
        assert_eq!(
            e,
            QrSyncError::InvalidConfig {
                reason: "max_peers must be between 1 and 16".into()
            }
        );
    }
    assert!(c.set_max_peers(1).is_ok() && c.set_max_peers(16).is_ok());
    assert!(matches!(
        c.set_timeouts(0, 1000),
        Err(QrSyncError::InvalidConfig { .. })
    ));
    assert!(matches!(
        c.set_timeouts(1000, 0),
        Err(QrSyncError::InvalidConfig { .. })
    ));
    assert!(c.set_timeouts(1, 1).is_ok());

    // No peers and no DNS seeds: the client refuses the configuration.
    let e = QrSyncClient::new(c.clone(), None, Arc::new(Recorder::default())).unwrap_err();
    assert_eq!(
        e,
        QrSyncError::InvalidConfig {
            reason: "no peers configured and DNS seeds disabled".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid configuration: no peers configured and DNS seeds disabled"
    );
    // Devnets have no DNS seeds either.
    let d = ClientConfig::new(Network::Devnet);
    d.set_dns_seeds(true);
    assert!(matches!(
        QrSyncClient::new(d, None, Arc::new(Recorder::default())),
        Err(QrSyncError::InvalidConfig { .. })
    ));
    // Regtest has no DNS seeds to fall back on.
    c.set_dns_seeds(true);
    let e = QrSyncClient::new(c, None, Arc::new(Recorder::default())).unwrap_err();
    assert!(matches!(e, QrSyncError::InvalidConfig { .. }), "{e:?}");
    assert!(reason(&e).contains("no DNS seeds"), "{e}");

    // Mainnet has DNS seeds: seeds alone are a valid configuration (nothing is started).
    let m = ClientConfig::new(Network::Mainnet);
    m.set_dns_seeds(true);
    let client = QrSyncClient::new(m, None, Arc::new(Recorder::default())).unwrap();
    assert_eq!(client.status().state, SyncState::Idle);
}

#[test]
fn a_client_that_never_synced_answers_lookups_and_locks_honestly() {
    let c = ClientConfig::new(Network::Testnet);
    c.add_peer("127.0.0.1:1".into()).unwrap();
    c.set_profile(SyncProfile::Wallet);
    c.set_follow_tip(false);
    let client = QrSyncClient::new(c, None, Arc::new(Recorder::default())).unwrap();

    let s = client.status();
    assert_eq!(s.state, SyncState::Idle);
    // A fresh testnet client starts at the built-in checkpoint one row (576 blocks) below the
    // newest one, 1,284,480 (docs/CHECKPOINTS.md).
    assert_eq!((s.header_height, s.list_height), (1_284_480 - 576, None));
    assert_eq!((s.quorums_validated, s.peers, s.bytes_in), (0, 0, 0));

    // Lookups: a malformed hash is an argument error, a well-formed unknown one is absent.
    let e = client.quorum(1, "zz".into()).unwrap_err();
    assert!(matches!(e, QrSyncError::InvalidArgument { .. }) && reason(&e).contains("\"zz\""));
    assert!(client.quorum(1, "ab".repeat(31)).is_err(), "31 bytes");
    assert_eq!(client.quorum(1, "ab".repeat(32)).unwrap(), None);
    assert!(client.quorums(1).is_empty());

    // Locks: bytes that are not a lock are argument errors; well-formed locks cannot be
    // decided without headers, lists and quorums (Unknown), or are invalid on their face.
    let e = client.verify_clsig(vec![1, 2, 3]).unwrap_err();
    assert!(reason(&e).starts_with("not a clsig"), "{e}");
    let e = client.verify_islock(vec![1, 2, 3]).unwrap_err();
    assert!(reason(&e).starts_with("not an isdlock"), "{e}");

    let mut clsig = Vec::new();
    clsig.extend_from_slice(&905_775i32.to_le_bytes());
    clsig.extend_from_slice(&[0x11; 32]);
    clsig.extend_from_slice(&[0x22; 96]);
    match client.verify_clsig(clsig.clone()).unwrap() {
        dash_qrsync::bindings::LockResult::Unknown { reason } => {
            assert!(reason.contains("no held list"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Heights below 8 have no signing set at all.
    clsig[..4].copy_from_slice(&7i32.to_le_bytes());
    match client.verify_clsig(clsig).unwrap() {
        dash_qrsync::bindings::LockResult::Invalid { reason } => {
            assert!(
                reason.contains("below the first signable height"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // An isdlock without inputs is malformed (version, 0 inputs, txid, cycle hash, signature).
    let mut islock = vec![1u8, 0];
    islock.extend_from_slice(&[0x33; 32]);
    islock.extend_from_slice(&[0x44; 32]);
    islock.extend_from_slice(&[0x55; 96]);
    match client.verify_islock(islock).unwrap() {
        dash_qrsync::bindings::LockResult::Invalid { reason } => {
            assert!(reason.starts_with("malformed lock"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    client.stop();
    assert_eq!(client.status().state, SyncState::Stopped);
}

#[test]
fn enabling_logging_twice_reports_the_logger_already_installed() {
    // The only test in this binary that installs a logger.
    assert!(enable_logging(LogLevel::Warn));
    assert!(!enable_logging(LogLevel::Debug));
    for l in [LogLevel::Error, LogLevel::Info, LogLevel::Trace] {
        assert!(!enable_logging(l));
    }
}

#[test]
fn an_unreachable_peer_is_a_recoverable_network_error_event() {
    // Bind then drop a listener: a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = ClientConfig::new(Network::Regtest);
    c.add_peer(format!("127.0.0.1:{port}")).unwrap();
    c.set_timeouts(500, 500).unwrap();
    let rec = Arc::new(Recorder::default());
    let client = QrSyncClient::new(c, None, rec.clone()).unwrap();
    client.start().unwrap();
    // Starting a running client is a no-op.
    client.start().unwrap();
    assert!(
        rec.wait_for(
            |s| s.errors.iter().any(|e| e.kind == ErrorKind::Network),
            Duration::from_secs(20)
        ),
        "no network error reported"
    );
    let started = Instant::now();
    client.stop();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stop is bounded (a generous bound: a hang fails, a loaded machine does not)"
    );
    let seen = rec.seen.lock().unwrap();
    assert!(seen
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::Network)
        .all(|e| e.recoverable && !e.message.is_empty()));
    assert!(
        seen.states.contains(&SyncState::Connecting),
        "{:?}",
        seen.states
    );
    assert!(!seen.states.contains(&SyncState::Synced));
}

#[test]
fn a_peer_that_answers_with_another_networks_bytes_is_reported_and_dropped() {
    // A loopback "node" that answers the connection with a mainnet-magic `verack` header while
    // the client expects regtest: the frame is rejected during the handshake.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut sock, _)) = listener.accept() {
            use std::io::Write;
            let mut frame = vec![0xbf, 0x0c, 0x6b, 0xbd];
            frame.extend_from_slice(b"verack\0\0\0\0\0\0");
            frame.extend_from_slice(&0u32.to_le_bytes());
            frame.extend_from_slice(&[0x5d, 0xf6, 0xe0, 0xe2]);
            let _ = sock.write_all(&frame);
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let c = ClientConfig::new(Network::Regtest);
    c.add_peer(addr.to_string()).unwrap();
    c.set_timeouts(2000, 2000).unwrap();
    let rec = Arc::new(Recorder::default());
    let client = QrSyncClient::new(c, None, rec.clone()).unwrap();
    client.start().unwrap();
    assert!(
        rec.wait_for(
            |s| s.errors.iter().any(|e| e.message.contains("wrong magic")),
            Duration::from_secs(20)
        ),
        "{:?}",
        rec.seen.lock().unwrap().errors
    );
    client.stop();
    server.join().unwrap();
    let seen = rec.seen.lock().unwrap();
    let e = seen
        .errors
        .iter()
        .find(|e| e.message.contains("wrong magic"))
        .unwrap();
    // Bytes that are not this network's framing are misbehaviour: the peer is banned (with
    // back-off), and the message names the magic it sent.
    assert_eq!(e.kind, ErrorKind::PeerMisbehaved, "{e:?}");
    assert!(e.recoverable);
    assert!(
        e.message.starts_with(&format!("{addr}: wrong magic"))
            && e.message.ends_with("disconnected and banned"),
        "{}",
        e.message
    );
    assert!(!seen.states.contains(&SyncState::Headers));
}

#[cfg(not(feature = "simnet"))]
#[test]
fn simnet_is_not_available_without_the_feature() {
    let e = Simnet::start(1).unwrap_err();
    assert!(matches!(e, QrSyncError::NotAvailable { .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Full syncs against the exported Simnet.

#[cfg(feature = "simnet")]
mod simnet {
    use super::*;
    use dash_qrsync::bindings::LockResult;
    use dash_qrsync::hashes::Hash256;
    use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
    use dash_qrsync::wire::Encode;

    /// The regtest preset's ChainLocks (LLMQ_TEST) and InstantSend (LLMQ_TEST_DIP0024) types.
    const CL_TYPE: u8 = 100;
    const IS_TYPE: u8 = 103;

    fn config(net: &Simnet) -> Arc<ClientConfig> {
        let c = ClientConfig::new(Network::Regtest);
        c.add_peer(net.address()).unwrap();
        c.set_timeouts(3000, 5000).unwrap();
        c
    }

    /// The same chain as the exported Simnet serves (generation is deterministic in the seed).
    fn twin(seed: u64) -> SimNode {
        SimNode::new(SimConfig::regtest(seed))
    }

    fn hex(h: &Hash256) -> String {
        h.to_display_hex()
    }

    #[test]
    fn full_sync_through_the_exported_api_then_locks_lookups_and_a_restart() {
        let seed = 21;
        let net = Simnet::start(seed).unwrap();
        assert!(net.address().starts_with("127.0.0.1:"), "{}", net.address());
        let oracle = twin(seed);
        let tip = net.tip_height();
        assert_eq!(tip, oracle.tip_height(), "twin chain differs");

        let store = Arc::new(MapStore::default());
        let rec = Arc::new(Recorder::default());
        let client = QrSyncClient::new(config(&net), Some(store.clone()), rec.clone()).unwrap();
        client.start().unwrap();
        assert!(
            rec.wait_for(synced, Duration::from_secs(120)),
            "not synced: {:?}",
            rec.seen.lock().unwrap().errors
        );

        // Status and progress.
        let st = client.status();
        assert_eq!(st.state, SyncState::Synced);
        assert_eq!(st.header_height, tip);
        assert_eq!(st.list_height, Some(tip));
        assert_eq!(st.peers, 1);
        assert!(
            st.bytes_in > 0 && st.bytes_out > 0 && st.round_trips > 0,
            "{st:?}"
        );
        {
            let seen = rec.seen.lock().unwrap();
            let states = &seen.states;
            let pos = |s| states.iter().position(|x| *x == s);
            assert!(
                pos(SyncState::Connecting) < pos(SyncState::Headers)
                    && pos(SyncState::Headers) < pos(SyncState::MasternodeLists)
                    && pos(SyncState::MasternodeLists) < pos(SyncState::Synced),
                "{states:?}"
            );
            let last = seen.progress.last().expect("progress reported");
            assert!(
                last.header_height <= tip && last.percent <= 100.0,
                "{last:?}"
            );
            assert!(seen.progress.iter().any(|p| p.bytes_in > 0));
            assert!(
                seen.errors.iter().all(|e| e.recoverable),
                "{:?}",
                seen.errors
            );
        }

        // Every quorum active at the tip was reported once, with the key the network formed.
        let active = oracle.with_chain(|c| c.active_set(tip));
        assert!(active.keys().any(|(t, _)| *t == IS_TYPE) && active.len() >= 4);
        {
            let seen = rec.seen.lock().unwrap();
            let mut counts: HashMap<(u8, String), usize> = HashMap::new();
            for q in &seen.quorums {
                *counts
                    .entry((q.llmq_type, q.quorum_hash.clone()))
                    .or_default() += 1;
            }
            assert!(
                counts.values().all(|n| *n == 1),
                "a quorum was reported twice"
            );
            for ((t, h), c) in &active {
                let key = (*t, hex(h));
                assert_eq!(
                    counts.get(&key),
                    Some(&1),
                    "active quorum {key:?} not reported"
                );
                let q = client.quorum(*t, hex(h)).unwrap().expect("looked up");
                assert_eq!(q.public_key, c.quorum_public_key.to_vec());
                assert_eq!(q.public_key.len(), 48);
                assert_eq!(q.index, c.quorum_index);
                assert!(
                    !q.legacy_scheme,
                    "the preset's commitments are all basic-scheme"
                );
                let height = oracle
                    .with_chain(|ch| (0..=tip).find(|x| ch.block(*x).map(|b| b.hash) == Some(*h)));
                assert_eq!(Some(q.height), height, "quorum base height");
            }
        }
        // quorums(type): newest first, every entry of that type.
        let cl = client.quorums(CL_TYPE);
        assert!(!cl.is_empty());
        assert!(cl.iter().all(|q| q.llmq_type == CL_TYPE));
        assert!(
            cl.windows(2).all(|w| w[0].height >= w[1].height),
            "not newest first"
        );
        assert!(client.quorums(42).is_empty());

        // The ChainLock the network signed for the tip: valid, signed by a ChainLocks quorum.
        let clsig = oracle
            .with_chain(|c| c.clsig(tip).cloned())
            .expect("tip is locked");
        match client.verify_clsig(clsig.to_bytes(70230)).unwrap() {
            LockResult::Valid {
                llmq_type,
                quorum_hash,
            } => {
                assert_eq!(llmq_type, CL_TYPE);
                assert!(cl.iter().any(|q| q.quorum_hash == quorum_hash));
            }
            other => panic!("{other:?}"),
        }
        // The exported simulator hands out that lock (and its newest InstantSend lock) as wire
        // bytes that verify; the header chain's hash at the tip is the block it locks.
        let exported = net
            .clsig(tip)
            .expect("the exported Simnet has the tip's clsig");
        assert!(matches!(
            client.verify_clsig(exported).unwrap(),
            LockResult::Valid { .. }
        ));
        assert_eq!(net.clsig(tip + 1000), None);
        assert_eq!(client.block_hash(tip), Some(hex(&clsig.block_hash)));
        assert_eq!(client.block_hash(tip + 1000), None);
        let newest = net
            .latest_islock()
            .expect("the network made InstantSend locks");
        assert!(matches!(
            client.verify_islock(newest).unwrap(),
            LockResult::Valid { .. }
        ));
        let st = client.status();
        assert!(st.dependent_round_trips > 0 && st.dependent_round_trips <= st.round_trips);
        // One flipped bit in the signature: invalid (or not a curve point at all).
        let mut bad = clsig.clone();
        bad.signature[40] ^= 0x01;
        assert!(
            matches!(
                client.verify_clsig(bad.to_bytes(70230)).unwrap(),
                LockResult::Invalid { .. }
            ),
            "tampered clsig accepted"
        );
        // Another block at a height we hold: conflicts with the chain.
        let mut other = clsig.clone();
        other.block_hash = Hash256([0x5a; 32]);
        match client.verify_clsig(other.to_bytes(70230)).unwrap() {
            LockResult::Invalid { reason } => assert!(reason.contains("conflicts"), "{reason}"),
            v => panic!("{v:?}"),
        }

        // The network's recent InstantSend locks verify under rotated quorums.
        let recent: Vec<_> = oracle.with_chain(|c| {
            c.islocks()
                .iter()
                .filter(|(h, _)| *h + 24 > tip)
                .map(|(_, l)| l.clone())
                .collect()
        });
        assert!(!recent.is_empty());
        for lock in &recent {
            match client.verify_islock(lock.to_bytes(70230)).unwrap() {
                LockResult::Valid { llmq_type, .. } => assert_eq!(llmq_type, IS_TYPE),
                v => panic!("{v:?}"),
            }
            let mut forged = lock.clone();
            forged.txid.0[0] ^= 0xff;
            // Not valid under the current set; when the previous cycle's set is no longer held
            // the verdict is Unknown rather than Invalid (engine/locks.rs keeps the last
            // verdict of the two sets it tries).
            let v = client.verify_islock(forged.to_bytes(70230)).unwrap();
            assert!(
                !matches!(v, LockResult::Valid { .. }),
                "forged islock accepted"
            );
        }

        // Locks the rules cannot accept or cannot decide yet.
        let mut garbage_sig = clsig.clone();
        garbage_sig.signature = [0xff; 96];
        match client.verify_clsig(garbage_sig.to_bytes(70230)).unwrap() {
            LockResult::Invalid { reason } => {
                assert!(reason.starts_with("malformed signature"), "{reason}")
            }
            v => panic!("{v:?}"),
        }
        let mut ahead = clsig.clone();
        ahead.height = tip as i32 + 100;
        ahead.block_hash = Hash256([0x42; 32]);
        assert!(
            matches!(
                client.verify_clsig(ahead.to_bytes(70230)).unwrap(),
                LockResult::Unknown { .. }
            ),
            "a ChainLock far above the tip cannot be decided"
        );
        let lock = recent[0].clone();
        let not_a_cycle = (tip - 1..tip).find(|h| h % 24 != 0).unwrap();
        let mut off_cycle = lock.clone();
        off_cycle.cycle_hash = oracle
            .with_chain(|c| c.block(not_a_cycle).map(|b| b.hash))
            .unwrap();
        match client.verify_islock(off_cycle.to_bytes(70230)).unwrap() {
            LockResult::Invalid { reason } => {
                assert!(reason.contains("not a cycle boundary"), "{reason}")
            }
            v => panic!("{v:?}"),
        }
        let mut unknown_cycle = lock.clone();
        unknown_cycle.cycle_hash = Hash256([0x17; 32]);
        match client.verify_islock(unknown_cycle.to_bytes(70230)).unwrap() {
            LockResult::Unknown { reason } => {
                assert!(reason.contains("not in the header chain"), "{reason}")
            }
            v => panic!("{v:?}"),
        }
        let mut duplicate = lock.clone();
        duplicate.inputs.push(duplicate.inputs[0]);
        match client.verify_islock(duplicate.to_bytes(70230)).unwrap() {
            LockResult::Invalid { reason } => {
                assert!(reason.contains("duplicate input"), "{reason}")
            }
            v => panic!("{v:?}"),
        }

        // Following the tip: new blocks are announced, followed and chain-locked.
        net.mine(3);
        assert_eq!(net.tip_height(), tip + 3);
        assert!(
            rec.wait_for(
                |s| s.chainlocks.iter().any(|c| c.height == tip + 3),
                Duration::from_secs(60)
            ),
            "ChainLock of the new tip not verified"
        );
        oracle.mine(3);
        let new_hash = oracle
            .with_chain(|c| c.block(tip + 3).map(|b| b.hash))
            .unwrap();
        {
            let seen = rec.seen.lock().unwrap();
            let ev = seen
                .chainlocks
                .iter()
                .find(|c| c.height == tip + 3)
                .unwrap();
            assert_eq!(ev.block_hash, hex(&new_hash));
        }
        client.stop();
        assert_eq!(client.status().state, SyncState::Stopped);
        let validated = rec.seen.lock().unwrap().quorums.len();

        // The host store holds the library's state under its own keys.
        {
            let map = store.map.lock().unwrap();
            assert!(
                !map.is_empty() && map.keys().all(|k| k.starts_with("dqs.")),
                "{map:?}"
            );
        }

        // Restart from the host's store: synced again for far fewer bytes, the held quorums
        // reported from the saved state.
        let first_bytes = client.status().bytes_in;
        let rec2 = Arc::new(Recorder::default());
        let again = QrSyncClient::new(config(&net), Some(store.clone()), rec2.clone()).unwrap();
        again.start().unwrap();
        assert!(
            rec2.wait_for(synced, Duration::from_secs(120)),
            "restart not synced: {:?}",
            rec2.seen.lock().unwrap().errors
        );
        let st2 = again.status();
        assert_eq!(st2.header_height, tip + 3);
        assert!(
            st2.bytes_in * 4 < first_bytes,
            "restart fetched {} bytes, first sync {first_bytes}",
            st2.bytes_in
        );
        assert!(validated >= 4);
        assert!(
            !rec2.seen.lock().unwrap().quorums.is_empty(),
            "restored quorums not reported"
        );
        again.stop();
        net.shutdown();
        // Shutting down twice is harmless.
        net.shutdown();
    }

    #[test]
    fn wallet_profile_validates_only_wallet_quorums() {
        let seed = 22;
        let net = Simnet::start(seed).unwrap();
        let c = config(&net);
        c.set_profile(SyncProfile::Wallet);
        c.set_follow_tip(false);
        let rec = Arc::new(Recorder::default());
        let client = QrSyncClient::new(c, None, rec.clone()).unwrap();
        client.start().unwrap();
        assert!(
            rec.wait_for(synced, Duration::from_secs(120)),
            "not synced: {:?}",
            rec.seen.lock().unwrap().errors
        );
        let tip = net.tip_height();
        let oracle = twin(seed);
        let wanted: Vec<String> = oracle.with_chain(|ch| {
            ch.active_set(tip)
                .keys()
                .filter(|(t, _)| *t == CL_TYPE || *t == IS_TYPE)
                .map(|(_, h)| hex(h))
                .collect()
        });
        let seen = rec.seen.lock().unwrap();
        assert!(
            seen.quorums
                .iter()
                .all(|q| q.llmq_type == CL_TYPE || q.llmq_type == IS_TYPE),
            "{:?}",
            seen.quorums.iter().map(|q| q.llmq_type).collect::<Vec<_>>()
        );
        for h in &wanted {
            assert!(
                seen.quorums.iter().any(|q| &q.quorum_hash == h),
                "{h} missing"
            );
        }
        drop(seen);
        client.stop();
        net.shutdown();
    }

    /// A listener that stops its own client when it sees `Synced` (the documented contract:
    /// `stop` is safe inside a callback).
    #[derive(Default)]
    struct StopOnSynced {
        rec: Recorder,
        client: std::sync::OnceLock<std::sync::Weak<QrSyncClient>>,
        stopped_in_callback: Mutex<Option<Duration>>,
    }

    impl SyncListener for StopOnSynced {
        fn on_progress(&self, p: Progress) {
            self.rec.on_progress(p)
        }
        fn on_quorum(&self, q: Quorum) {
            self.rec.on_quorum(q)
        }
        fn on_chain_lock(&self, c: dash_qrsync::bindings::ChainLock) {
            self.rec.on_chain_lock(c)
        }
        fn on_state(&self, s: SyncState) {
            if s == SyncState::Synced {
                if let Some(c) = self.client.get().and_then(|w| w.upgrade()) {
                    let t = Instant::now();
                    c.stop();
                    *self.stopped_in_callback.lock().unwrap() = Some(t.elapsed());
                }
            }
            self.rec.on_state(s)
        }
        fn on_error(&self, e: ErrorEvent) {
            self.rec.on_error(e)
        }
    }

    #[test]
    fn stop_from_inside_a_callback_returns_and_stops_the_client() {
        let net = Simnet::start(25).unwrap();
        let l = Arc::new(StopOnSynced::default());
        let client = QrSyncClient::new(config(&net), None, l.clone()).unwrap();
        l.client.set(Arc::downgrade(&client)).unwrap();
        client.start().unwrap();
        assert!(l.rec.wait_for(
            |s| s.states.contains(&SyncState::Stopped),
            Duration::from_secs(120)
        ));
        // `stop` reports Stopped before it returns: wait for it to return.
        let deadline = Instant::now() + Duration::from_secs(60);
        let took = loop {
            if let Some(t) = *l.stopped_in_callback.lock().unwrap() {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "stop inside the callback never returned"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(took < Duration::from_secs(60), "stop took {took:?}");
        assert_eq!(client.status().state, SyncState::Stopped);
        // A stopped client can be started again and syncs.
        let l2 = Arc::new(Recorder::default());
        let again = QrSyncClient::new(config(&net), None, l2.clone()).unwrap();
        again.start().unwrap();
        assert!(l2.wait_for(synced, Duration::from_secs(120)));
        again.stop();
        net.shutdown();
    }

    /// A store whose first save stops the client: `stop` called on one of the library's own
    /// runtime threads (the store runs on one) must not block or deadlock.
    #[derive(Default)]
    struct StoppingStore {
        client: std::sync::OnceLock<std::sync::Weak<QrSyncClient>>,
        inner: MapStore,
        stopped: Mutex<Option<Duration>>,
    }

    impl HostStore for StoppingStore {
        fn load(&self, key: String) -> Result<Option<Vec<u8>>, StoreFailure> {
            self.inner.load(key)
        }
        fn save(&self, key: String, value: Vec<u8>) -> Result<(), StoreFailure> {
            let first = self.stopped.lock().unwrap().is_none();
            if first {
                if let Some(c) = self.client.get().and_then(|w| w.upgrade()) {
                    let t = Instant::now();
                    c.stop();
                    *self.stopped.lock().unwrap() = Some(t.elapsed());
                }
            }
            self.inner.save(key, value)
        }
        fn remove(&self, key: String) -> Result<(), StoreFailure> {
            self.inner.remove(key)
        }
    }

    #[test]
    fn stop_from_inside_the_store_on_a_runtime_thread_does_not_block() {
        let net = Simnet::start(26).unwrap();
        let store = Arc::new(StoppingStore::default());
        let rec = Arc::new(Recorder::default());
        let client = QrSyncClient::new(config(&net), Some(store.clone()), rec.clone()).unwrap();
        store.client.set(Arc::downgrade(&client)).unwrap();
        client.start().unwrap();
        assert!(rec.wait_for(
            |s| s.states.contains(&SyncState::Stopped),
            Duration::from_secs(120)
        ));
        // `stop` reports Stopped before it returns: wait for it to return.
        let deadline = Instant::now() + Duration::from_secs(60);
        let took = loop {
            if let Some(t) = *store.stopped.lock().unwrap() {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "stop inside the store never returned"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(took < Duration::from_secs(60), "stop took {took:?}");
        // The final state is asserted by the next test.
        net.shutdown();
    }

    /// A race found by this file under coverage instrumentation: when `stop` runs on one of the
    /// client's runtime threads (inside `HostStore::save`), the sync task could still finish its
    /// pass and set `Synced` after `stop` set `Stopped` (fixed: after a stop request only
    /// `Stopped` can be set).
    #[test]
    fn after_stop_from_the_store_the_state_stays_stopped() {
        let net = Simnet::start(27).unwrap();
        for _ in 0..5 {
            let store = Arc::new(StoppingStore::default());
            let rec = Arc::new(Recorder::default());
            let client = QrSyncClient::new(config(&net), Some(store.clone()), rec.clone()).unwrap();
            store.client.set(Arc::downgrade(&client)).unwrap();
            client.start().unwrap();
            assert!(rec.wait_for(
                |s| s.states.contains(&SyncState::Stopped),
                Duration::from_secs(120)
            ));
            std::thread::sleep(Duration::from_secs(1));
            assert_eq!(client.status().state, SyncState::Stopped);
            let states = rec.seen.lock().unwrap().states.clone();
            assert_eq!(states.last(), Some(&SyncState::Stopped), "{states:?}");
        }
        net.shutdown();
    }

    #[test]
    fn store_failures_and_corrupt_state_become_error_events_and_sync_goes_on() {
        let net = Simnet::start(24).unwrap();

        // Saves fail: a recoverable Store error naming the host's reason; the sync completes.
        let failing = Arc::new(MapStore {
            fail_saves: true,
            ..MapStore::default()
        });
        let rec = Arc::new(Recorder::default());
        let client = QrSyncClient::new(config(&net), Some(failing.clone()), rec.clone()).unwrap();
        client.start().unwrap();
        assert!(rec.wait_for(
            |s| synced(s) && s.errors.iter().any(|e| e.kind == ErrorKind::Store),
            Duration::from_secs(120)
        ));
        client.stop();
        {
            let seen = rec.seen.lock().unwrap();
            let e = seen
                .errors
                .iter()
                .find(|e| e.kind == ErrorKind::Store)
                .unwrap();
            assert!(e.recoverable);
            assert!(e.message.contains("cannot save state"), "{}", e.message);
            assert!(e.message.contains("disk full (test)"), "{}", e.message);
        }
        assert!(*failing.saves.lock().unwrap() > 0);
        assert!(failing.map.lock().unwrap().is_empty());

        // Garbage where the state should be: CorruptState, then a clean sync from scratch.
        let corrupt = Arc::new(MapStore::default());
        for k in dash_qrsync::store::state::KEYS {
            corrupt
                .map
                .lock()
                .unwrap()
                .insert(k.to_string(), b"not a saved state".to_vec());
        }
        let rec = Arc::new(Recorder::default());
        let client = QrSyncClient::new(config(&net), Some(corrupt.clone()), rec.clone()).unwrap();
        client.start().unwrap();
        assert!(rec.wait_for(synced, Duration::from_secs(120)));
        client.stop();
        let seen = rec.seen.lock().unwrap();
        let e = seen
            .errors
            .iter()
            .find(|e| e.kind == ErrorKind::CorruptState)
            .expect("corrupt state reported");
        assert!(e.recoverable, "{e:?}");
        assert!(seen.quorums.len() >= 4);
        // The garbage was replaced by a state the library can read again.
        let head = corrupt.map.lock().unwrap().get("dqs.state.head").cloned();
        assert_ne!(head.as_deref(), Some(&b"not a saved state"[..]));
        drop(seen);
        net.shutdown();
    }
}
