//! A dishonest DKG in the chain itself: the simulated network mines a commitment whose
//! `quorumSig` (or, separately, `membersSig`) is a valid signature over another message, with
//! every root, merkle proof and header consistent with it. Only BLS verification can reject
//! it — these tests fail if signature verification is skipped or always succeeds.
#![cfg(feature = "simnet")]

use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::{BadSigKind, BadSignature, SimConfig, SimNode};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{
    ChainLockEvent, Client, ClientError, Config, ErrorKind, EventListener, Progress, SyncState,
};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Seen {
    quorums: Vec<QuorumInfo>,
    errors: Vec<ClientError>,
    states: Vec<SyncState>,
}

#[derive(Default)]
struct Rec {
    seen: Mutex<Seen>,
    cv: Condvar,
}

impl EventListener for Rec {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.seen.lock().unwrap().quorums.push(q.clone());
    }
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        self.seen.lock().unwrap().states.push(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        self.seen.lock().unwrap().errors.push(e.clone());
        self.cv.notify_all();
    }
}

fn run(which: BadSigKind, needle: &str) {
    let mut cfg = SimConfig::regtest(21);
    // The newest ChainLocks quorums are active at the tip (480), so the cold start needs them.
    let bad = BadSignature {
        which,
        llmq_type: cfg.llmq().chainlocks,
        from_height: 440,
    };
    cfg.bad_signature = Some(bad);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(SimServer::start(node.clone(), ServerConfig::default()))
        .unwrap();
    let mut c = Config::new(cfg.network());
    c.chain = cfg.params.clone();
    c.peers = vec![server.addr()];
    c.max_peers = 1;
    c.request_timeout = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(3);
    c.follow_tip = false;
    let rec = Arc::new(Rec::default());
    let client = Client::new(c, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = rec.seen.lock().unwrap();
    while !seen.errors.iter().any(|e| e.message.contains(needle)) {
        let now = Instant::now();
        assert!(
            now < deadline,
            "{which:?}: no error naming {needle}; errors {:?}, states {:?}",
            seen.errors,
            seen.states
        );
        seen = rec.cv.wait_timeout(seen, deadline - now).unwrap().0;
    }
    let e = seen
        .errors
        .iter()
        .find(|e| e.message.contains(needle))
        .unwrap()
        .clone();
    assert_eq!(e.kind, ErrorKind::PeerMisbehaved, "{e:?}");
    // Not a root or proof mismatch: the chain is consistent with the bad commitment.
    assert!(
        !seen
            .errors
            .iter()
            .any(|e| e.message.contains("root") || e.message.contains("merkle")),
        "{:?}",
        seen.errors
    );
    assert_ne!(seen.states.last(), Some(&SyncState::Synced));
    drop(seen);
    client.stop();
    rt.block_on(server.shutdown());
    // Nothing from the rejected feeds reached the client: no quorum of the bad type at or
    // above the bad height was reported.
    let seen = rec.seen.lock().unwrap();
    assert!(
        !seen
            .quorums
            .iter()
            .any(|q| q.llmq_type == bad.llmq_type && q.height >= bad.from_height),
        "{:?}",
        seen.quorums
    );
}

#[test]
fn a_quorum_sig_over_another_message_is_rejected_by_bls_alone() {
    run(BadSigKind::QuorumSig, "quorumSig does not verify");
}

#[test]
fn a_members_sig_over_another_message_is_rejected_by_bls_alone() {
    run(BadSigKind::MembersSig, "membersSig does not verify");
}
