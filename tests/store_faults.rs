//! Persistence under faults: a store that fails or truncates any write during a sync, and every
//! kind of bad saved state. The client always comes back synced, reports typed errors, never an
//! invalid quorum, and never touches the host's other keys.
#![cfg(feature = "simnet")]

use dash_qrsync::engine::QuorumInfo;
use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::store::state::{HEAD, SLOT_A, SLOT_B};
use dash_qrsync::store::{MemoryStore, Store, StoreError};
use dash_qrsync::{
    ChainLockEvent, Client, ClientError, Config, ErrorKind, EventListener, Progress, SyncState,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Rec {
    states: Mutex<Vec<SyncState>>,
    errors: Mutex<Vec<ClientError>>,
    quorums: Mutex<Vec<QuorumInfo>>,
    cv: Condvar,
}

impl EventListener for Rec {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.quorums.lock().unwrap().push(q.clone());
    }
    fn on_chain_lock(&self, _: &ChainLockEvent) {}
    fn on_state(&self, s: SyncState) {
        self.states.lock().unwrap().push(s);
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        self.errors.lock().unwrap().push(e.clone());
    }
}

impl Rec {
    fn wait_synced(&self, t: Duration) -> bool {
        let deadline = Instant::now() + t;
        let mut s = self.states.lock().unwrap();
        while s.last() != Some(&SyncState::Synced) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            s = self.cv.wait_timeout(s, deadline - now).unwrap().0;
        }
        true
    }
}

/// Wraps a store; the n-th save (1-based) fails or is truncated.
struct Faulty {
    inner: Arc<MemoryStore>,
    saves: AtomicUsize,
    fail_at: Option<usize>,
    truncate_at: Option<usize>,
    fail_loads: bool,
}

impl Store for Faulty {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.fail_loads {
            return Err(StoreError("disk on fire".into()));
        }
        self.inner.load(key)
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let n = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(n) {
            return Err(StoreError(format!("write {n} failed")));
        }
        if self.truncate_at == Some(n) {
            return self.inner.save(key, &value[..value.len() / 2]);
        }
        self.inner.save(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner.remove(key)
    }
}

struct Net {
    rt: tokio::runtime::Runtime,
    node: Arc<SimNode>,
    server: SimServer,
    cfg: SimConfig,
}

fn net() -> Net {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig::regtest(5);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let server = rt
        .block_on(SimServer::start(node.clone(), ServerConfig::default()))
        .unwrap();
    Net {
        rt,
        node,
        server,
        cfg,
    }
}

fn run(net: &Net, store: Arc<dyn Store>) -> (bool, Arc<Rec>) {
    let mut c = Config::new(net.cfg.network());
    c.chain = net.cfg.params.clone();
    c.peers = vec![net.server.addr()];
    c.follow_tip = false;
    let rec = Arc::new(Rec::default());
    let client = Client::new(c, store, rec.clone()).unwrap();
    client.start().unwrap();
    let ok = rec.wait_synced(Duration::from_secs(30));
    // Let the final save happen before stopping.
    std::thread::sleep(Duration::from_millis(100));
    client.stop();
    (ok, rec)
}

fn genuine(net: &Net, rec: &Rec) {
    let all: std::collections::HashMap<_, _> = net.node.with_chain(|c| {
        c.mined_commitments()
            .iter()
            .map(|(_, q)| ((q.llmq_type, q.quorum_hash), q.quorum_public_key))
            .collect()
    });
    for q in rec.quorums.lock().unwrap().iter() {
        assert_eq!(all.get(&(q.llmq_type, q.quorum_hash)), Some(&q.public_key));
    }
}

#[test]
fn a_failed_or_torn_write_at_any_point_never_loses_a_valid_state() {
    let net = net();
    // How many saves does a sync make?
    let counting = Arc::new(Faulty {
        inner: Arc::new(MemoryStore::new()),
        saves: AtomicUsize::new(0),
        fail_at: None,
        truncate_at: None,
        fail_loads: false,
    });
    assert!(run(&net, counting.clone()).0);
    let saves = counting.saves.load(Ordering::SeqCst);
    assert!(saves >= 2, "{saves}");
    for n in 1..=saves + 1 {
        for truncate in [false, true] {
            let inner = Arc::new(MemoryStore::new());
            inner.save("host.own.key", b"do not touch").unwrap();
            let faulty = Arc::new(Faulty {
                inner: inner.clone(),
                saves: AtomicUsize::new(0),
                fail_at: (!truncate).then_some(n),
                truncate_at: truncate.then_some(n),
                fail_loads: false,
            });
            let (ok, rec) = run(&net, faulty);
            assert!(
                ok,
                "write {n} (truncate {truncate}): first run did not sync"
            );
            if !truncate && n <= saves {
                assert!(rec
                    .errors
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|e| e.kind == ErrorKind::Store));
            }
            genuine(&net, &rec);
            // Restart on what survived.
            let (ok, rec) = run(&net, inner.clone());
            assert!(ok, "write {n} (truncate {truncate}): restart did not sync");
            genuine(&net, &rec);
            assert_eq!(
                inner.load("host.own.key").unwrap().as_deref(),
                Some(&b"do not touch"[..])
            );
        }
    }
    let _ = &net.rt;
}

#[test]
fn every_kind_of_bad_state_is_reported_and_resynced() {
    let net = net();
    let good = Arc::new(MemoryStore::new());
    assert!(run(&net, good.clone()).0);
    let head = good.load(HEAD).unwrap().unwrap();
    let slot = if good.load(SLOT_B).unwrap().is_some() && head[4] == b'b' {
        SLOT_B
    } else {
        SLOT_A
    };
    let blob = good.load(slot).unwrap().unwrap();
    let mut other_version = blob.clone();
    other_version[4] = 77;
    let mut flipped = blob.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    let mut other_network = blob.clone();
    other_network[6] = 0; // mainnet
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unknown format version", other_version),
        ("checksum mismatch", flipped),
        ("truncated", blob[..blob.len() / 3].to_vec()),
        ("other network", other_network),
        ("garbage", b"not a state".to_vec()),
    ];
    for (name, bad) in cases {
        let store = Arc::new(MemoryStore::new());
        store.save("host.own.key", b"mine").unwrap();
        store.save(HEAD, &head).unwrap();
        store.save(SLOT_A, &bad).unwrap();
        store.save(SLOT_B, &bad).unwrap();
        let (ok, rec) = run(&net, store.clone());
        assert!(ok, "{name}: no clean resync");
        let errors = rec.errors.lock().unwrap().clone();
        assert!(
            errors
                .iter()
                .any(|e| e.kind == ErrorKind::CorruptState && e.recoverable),
            "{name}: {errors:?}"
        );
        genuine(&net, &rec);
        assert_eq!(
            store.load("host.own.key").unwrap().as_deref(),
            Some(&b"mine"[..])
        );
    }
    // A store that cannot be read: a Store error, then a sync from scratch.
    let failing = Arc::new(Faulty {
        inner: good.clone(),
        saves: AtomicUsize::new(0),
        fail_at: None,
        truncate_at: None,
        fail_loads: true,
    });
    let (ok, rec) = run(&net, failing);
    assert!(ok);
    assert!(rec
        .errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.kind == ErrorKind::Store));
}

fn copy_of(store: &MemoryStore) -> Arc<MemoryStore> {
    let out = Arc::new(MemoryStore::new());
    for k in store.keys() {
        out.save(&k, &store.load(&k).unwrap().unwrap()).unwrap();
    }
    out
}

fn engine_cfg(net: &Net) -> dash_qrsync::engine::EngineConfig {
    let mut c = Config::new(net.cfg.network());
    c.chain = net.cfg.params.clone();
    dash_qrsync::engine::EngineConfig {
        params: c.chain.clone(),
        profile: c.profile,
    }
}

/// The header tip of the generation `load` picks, or why none loads.
fn saved_tip(net: &Net, store: &dyn Store) -> Result<u32, String> {
    dash_qrsync::store::state::load(store, &engine_cfg(net))
        .map(|(s, _)| s.headers.tip().0)
        .map_err(|e| e.to_string())
}

/// The newest saved state, as the single blob earlier builds wrote (`state::encode`, which
/// loading still reads): its layers are cut apart below.
fn newest_blob(net: &Net, store: &MemoryStore) -> Vec<u8> {
    let (s, _) = dash_qrsync::store::state::load(store, &engine_cfg(net)).unwrap();
    dash_qrsync::store::state::encode(&s.headers, &s.engine)
}

#[test]
fn a_torn_or_failed_write_over_an_older_generation_never_loses_it() {
    let net = net();
    let older = Arc::new(MemoryStore::new());
    assert!(run(&net, older.clone()).0);
    let t1 = net.node.tip_height();
    assert_eq!(saved_tip(&net, older.as_ref()), Ok(t1));
    // Enough blocks to fill a header segment (128 headers on regtest): the saves write one.
    net.node.mine(40);
    assert!(t1 / 128 < net.node.tip_height() / 128);
    let t2 = net.node.tip_height();
    // How many saves does the sync on top of the older generation make?
    let counting = Arc::new(Faulty {
        inner: copy_of(&older),
        saves: AtomicUsize::new(0),
        fail_at: None,
        truncate_at: None,
        fail_loads: false,
    });
    assert!(run(&net, counting.clone()).0);
    assert_eq!(saved_tip(&net, counting.inner.as_ref()), Ok(t2));
    let saves = counting.saves.load(Ordering::SeqCst);
    assert!(saves >= 2, "{saves}");
    for n in 1..=saves {
        for truncate in [false, true] {
            let inner = copy_of(&older);
            let faulty = Arc::new(Faulty {
                inner: inner.clone(),
                saves: AtomicUsize::new(0),
                fail_at: (!truncate).then_some(n),
                truncate_at: truncate.then_some(n),
                fail_loads: false,
            });
            let (ok, rec) = run(&net, faulty);
            assert!(ok, "write {n} (truncate {truncate}): did not sync");
            genuine(&net, &rec);
            // The older generation (or a complete newer one) survives; never nothing.
            match saved_tip(&net, inner.as_ref()) {
                Ok(h) => assert!(
                    h == t1 || h == t2,
                    "write {n} (truncate {truncate}): loaded tip {h}, expected {t1} or {t2}"
                ),
                Err(e) => panic!("write {n} (truncate {truncate}): every generation lost: {e}"),
            }
        }
    }
}

fn reseal(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&dash_qrsync::hashes::sha256d(body).0);
    out
}

/// The two layers of a blob (headers, engine).
fn layers(blob: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let body = &blob[..blob.len() - 32];
    let hl = u64::from_le_bytes(body[7..15].try_into().unwrap()) as usize;
    let h = body[15..15 + hl].to_vec();
    let el_at = 15 + hl;
    let el = u64::from_le_bytes(body[el_at..el_at + 8].try_into().unwrap()) as usize;
    let e = body[el_at + 8..el_at + 8 + el].to_vec();
    (h, e)
}

fn assemble(prefix: &[u8], h: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = prefix[..7].to_vec();
    body.extend_from_slice(&(h.len() as u64).to_le_bytes());
    body.extend_from_slice(h);
    body.extend_from_slice(&(e.len() as u64).to_le_bytes());
    body.extend_from_slice(e);
    reseal(&body)
}

#[test]
fn blobs_with_a_valid_checksum_but_bad_contents_are_refused_by_name_and_resynced() {
    let net = net();
    let short = Arc::new(MemoryStore::new());
    assert!(run(&net, short.clone()).0);
    let old = newest_blob(&net, &short);
    net.node.mine(12);
    let long = copy_of(&short);
    assert!(run(&net, long.clone()).0);
    let new = newest_blob(&net, &long);
    let (h_old, _) = layers(&old);
    let (h_new, e_new) = layers(&new);
    let mut x: u32 = 99;
    let garbage: Vec<u8> = (0..e_new.len())
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    let mut flipped_headers = h_new.clone();
    let mid = flipped_headers.len() / 2;
    flipped_headers[mid] ^= 0x40;
    let mut beyond = new[..new.len() - 32].to_vec();
    beyond[7..15].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "engine lists beyond the saved headers",
            assemble(&new, &h_old, &e_new),
            "is not on the saved header chain",
        ),
        (
            "engine layer garbage",
            assemble(&new, &h_new, &garbage),
            "engine: ",
        ),
        (
            "headers layer bit flip",
            assemble(&new, &flipped_headers, &e_new),
            "headers: ",
        ),
        (
            "layer length beyond the blob",
            reseal(&beyond),
            "headers: length beyond the blob",
        ),
        ("empty layers", assemble(&new, &[], &[]), "headers: "),
    ];
    let head = short.load(HEAD).unwrap().unwrap();
    for (name, bad, what) in cases {
        // The decoder names the problem (and never panics).
        match dash_qrsync::store::state::decode(&engine_cfg(&net), &bad) {
            Err(dash_qrsync::store::state::StateError::Corrupt(m)) => {
                assert!(m.contains(what), "{name}: {m}")
            }
            Err(e) => panic!("{name}: {e}"),
            Ok(_) => panic!("{name}: accepted"),
        }
        // The client reports it and resyncs cleanly.
        let store = Arc::new(MemoryStore::new());
        store.save(HEAD, &head).unwrap();
        store.save(SLOT_A, &bad).unwrap();
        store.save(SLOT_B, &bad).unwrap();
        let (ok, rec) = run(&net, store.clone());
        assert!(ok, "{name}: no clean resync");
        let errors = rec.errors.lock().unwrap().clone();
        assert!(
            errors.iter().any(|e| e.kind == ErrorKind::CorruptState
                && e.recoverable
                && e.message.contains(what)),
            "{name}: {errors:?}"
        );
        genuine(&net, &rec);
        assert_eq!(saved_tip(&net, store.as_ref()), Ok(net.node.tip_height()));
    }
}
