//! The live test against a real Dash Core node that the test starts itself (issue 13).
//!
//! Needs a Dash Core v23.1.x build: set `DASH_QRSYNC_DASHD` to its directory (the one where
//! `./configure && make` ran, holding `src/dashd` and `test/functional/`) and have Python's
//! `dash_hash` module (`pip install dash-hash`); `DASH_QRSYNC_PYTHON` picks the interpreter
//! (default `python3`). Without `DASH_QRSYNC_DASHD` the test prints SKIPPED and passes: CI
//! cannot build Core within its time limit (docs/CONFORMANCE.md says how to run it).
//!
//! `tests/dashd/live_network.py` uses Core's own functional test framework to start a controller
//! and 4 masternodes on loopback, mine llmq_test quorums and a DIP-0024 cycle, and wait for a
//! ChainLock and an InstantSend lock. This test then configures a client from nothing but the
//! node's `dash.conf` and command-line options and its P2P port, syncs, and checks against
//! Core's own answers (the oracle): every quorum of `quorum list` validated with Core's height
//! and public key and nothing else, Core's best ChainLock and InstantSend lock valid and a
//! flipped byte invalid, no error blaming Core's node; then Core mines 24 blocks one at a time
//! and the client must follow and verify every one of their ChainLocks live, and send nothing
//! more once synced and idle. Run with `--v20 432` in `DASH_QRSYNC_DASHD_ARGS` for Core's
//! regtest defaults (v20 at 432, where `testdummy` enables llmq_test_v17), and with `--v24` for
//! DEPLOYMENT_V24 by version bits with masternodes and evonodes on extended addresses (several
//! core P2P, platform P2P and platform HTTPS addresses: IPv6, Tor, I2P, domains) registered
//! before the quorums form. In every mode the client's masternode address book must equal
//! Core's `protx diff` and `masternodelist json` at the tip.

use dash_qrsync::network::params::{Support, KEYS};
use dash_qrsync::wire::locks::ClSig;
use dash_qrsync::wire::Encode;
use dash_qrsync::{
    AddressPurpose, ChainLockEvent, Client, ClientError, Config, ErrorKind, EventListener,
    LockStatus, MasternodeType, MemoryStore, Progress, QuorumInfo, StartPoint, SyncState,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long Core's framework may take to set the network up (DKGs, locks) on a slow machine.
const SETUP_LIMIT: Duration = Duration::from_secs(1500);
/// How long the client may take to sync the network.
const SYNC_LIMIT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Log {
    states: Vec<SyncState>,
    quorums: Vec<QuorumInfo>,
    chainlocks: Vec<ChainLockEvent>,
    errors: Vec<ClientError>,
}

#[derive(Default)]
struct Rec(Mutex<Log>);

impl EventListener for Rec {
    fn on_progress(&self, _: &Progress) {}
    fn on_quorum_available(&self, q: &QuorumInfo) {
        self.0.lock().unwrap().quorums.push(q.clone());
    }
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        self.0.lock().unwrap().chainlocks.push(*c);
    }
    fn on_state(&self, s: SyncState) {
        self.0.lock().unwrap().states.push(s);
    }
    fn on_error(&self, e: &ClientError) {
        self.0.lock().unwrap().errors.push(e.clone());
    }
}

impl Rec {
    fn wait(&self, limit: Duration, f: impl Fn(&Log) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if f(&self.0.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// The framework's process; killed (with its nodes, by its own cleanup) if the test fails.
struct Core {
    child: Child,
    log: PathBuf,
    handoff: PathBuf,
}

impl Core {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Waits for a hand-off file; fails if the framework exits first or takes too long.
    fn wait_for(&mut self, name: &str, limit: Duration) -> Value {
        let path = self.handoff.join(name);
        let end = Instant::now() + limit;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return serde_json::from_str(&text).expect("hand-off JSON");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Core's framework exited ({status}) before writing {name}:\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < end,
                "no {name} after {} s:\n{}",
                limit.as_secs(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn signal(&self, name: &str) {
        std::fs::write(self.handoff.join(name), b"").expect("hand-off signal");
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Ask the framework to fail its current wait: it then stops its dashd nodes and
            // exits. Killed only if it has not exited within a minute.
            self.signal("abort");
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn display_hash(v: &Value) -> dash_qrsync::Hash256 {
    dash_qrsync::Hash256::from_display_hex(v.as_str().expect("hash string")).expect("hash hex")
}

/// A client configured from Core's dash.conf and its command-line chain options only.
fn config(ready: &Value) -> Config {
    let mut c = Config::from_dash_conf(ready["dash_conf"].as_str().unwrap()).expect("dash.conf");
    for a in ready["args"].as_array().unwrap() {
        let a = a.as_str().unwrap().trim_start_matches('-');
        let Some((k, v)) = a.split_once('=') else {
            continue;
        };
        let applied = KEYS
            .iter()
            .any(|i| i.key == k && i.support == Support::Applied && i.network.is_some());
        if applied {
            c.set_chain_param(k, v)
                .unwrap_or_else(|e| panic!("Core's option -{k}={v}: {e}"));
        }
    }
    let port = ready["p2p_port"].as_u64().unwrap() as u16;
    c.peers = vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))];
    c.max_peers = 1;
    c.start = StartPoint::Genesis;
    c.request_timeout = Duration::from_secs(10);
    c
}

fn core_quorums(ready: &Value, c: &Config) -> BTreeSet<(u8, dash_qrsync::Hash256, u32, Vec<u8>)> {
    ready["quorum_info"]
        .as_object()
        .unwrap()
        .values()
        .map(|q| {
            let t = c
                .chain
                .llmq()
                .type_by_name(q["type"].as_str().unwrap())
                .unwrap_or_else(|| panic!("Core's type {} is not configured here", q["type"]))
                .llmq_type;
            (
                t,
                display_hash(&q["quorumHash"]),
                q["height"].as_u64().unwrap() as u32,
                hex::decode(q["quorumPublicKey"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn clsig_bytes(best: &Value) -> Vec<u8> {
    let mut signature = [0u8; 96];
    signature.copy_from_slice(&hex::decode(best["signature"].as_str().unwrap()).unwrap());
    ClSig {
        height: best["height"].as_i64().unwrap() as i32,
        block_hash: display_hash(&best["blockhash"]),
        signature,
    }
    .to_bytes(dash_qrsync::wire::version::OUR_PROTOCOL_VERSION)
}

/// Core's `addresses` object as (purpose, `host:port`) pairs, in Core's order.
fn core_addresses(v: &Value) -> Vec<(AddressPurpose, String)> {
    let mut out = Vec::new();
    for (key, purpose) in [
        ("core_p2p", AddressPurpose::CoreP2p),
        ("platform_p2p", AddressPurpose::PlatformP2p),
        ("platform_https", AddressPurpose::PlatformHttps),
    ] {
        for a in v.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.push((purpose, a.as_str().unwrap().to_string()));
        }
    }
    out
}

/// The client's address book equals Core's `protx diff 1 <tip> true` and `masternodelist
/// json`; returns (entries, entries of version 3, evonodes, addresses).
fn check_address_book(client: &Client, ready: &Value) -> (usize, usize, usize, usize) {
    let book = client
        .masternodes()
        .expect("an address book after the sync");
    let diff = &ready["protx_diff"];
    assert_eq!(
        book.sml_root,
        display_hash(&diff["merkleRootMNList"]),
        "SML root = Core's"
    );
    let list = diff["mnList"].as_array().unwrap();
    assert_eq!(book.entries.len(), list.len(), "entries = Core's");
    let mut addresses = 0;
    for r in list {
        let hash = display_hash(&r["proRegTxHash"]);
        let e = book
            .entry(&hash)
            .unwrap_or_else(|| panic!("{hash} not in the book"));
        assert_eq!(
            e.entry_version as u64,
            r["nVersion"].as_u64().unwrap(),
            "{hash}"
        );
        let evo = r["nType"].as_u64().unwrap() == 1;
        assert_eq!(e.mn_type == MasternodeType::Evo, evo, "{hash}: type");
        assert_eq!(
            e.is_valid,
            r["isValid"].as_bool().unwrap(),
            "{hash}: validity"
        );
        assert_eq!(
            hex::encode(e.operator_public_key),
            r["pubKeyOperator"].as_str().unwrap(),
            "{hash}: operator key"
        );
        assert_eq!(
            e.platform_node_id_display().as_deref(),
            r.get("platformNodeID").and_then(Value::as_str),
            "{hash}: platform node id"
        );
        let ours: Vec<(AddressPurpose, String)> = e
            .addresses
            .iter()
            .map(|a| (a.purpose, a.host_port()))
            .collect();
        assert_eq!(ours, core_addresses(&r["addresses"]), "{hash}: addresses");
        addresses += ours.len();
    }
    for (key, r) in ready["masternodelist"].as_object().unwrap() {
        let e = book
            .entry(&display_hash(&r["proTxHash"]))
            .unwrap_or_else(|| panic!("masternodelist {key} not in the book"));
        assert_eq!(
            e.is_valid,
            r["status"].as_str() != Some("POSE_BANNED"),
            "{key}: status"
        );
        if let Some(a) = r.get("addresses") {
            let ours: Vec<(AddressPurpose, String)> = e
                .addresses
                .iter()
                .map(|a| (a.purpose, a.host_port()))
                .collect();
            assert_eq!(ours, core_addresses(a), "{key}: addresses");
        }
    }
    (
        book.entries.len(),
        book.entries.iter().filter(|e| e.entry_version == 3).count(),
        book.entries
            .iter()
            .filter(|e| e.mn_type == MasternodeType::Evo)
            .count(),
        addresses,
    )
}

fn start_core(core_dir: &Path) -> Core {
    let root = std::env::temp_dir().join(format!("dqs-dashd-live-{}", std::process::id()));
    let handoff = root.join("handoff");
    std::fs::create_dir_all(&handoff).unwrap();
    let log = root.join("framework.log");
    let python = std::env::var("DASH_QRSYNC_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashd/live_network.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(format!("--handoff={}", handoff.display()))
        .arg(format!("--tmpdir={}", root.join("core").display()))
        .arg(format!(
            "--configfile={}",
            core_dir.join("test/config.ini").display()
        ));
    if let Ok(extra) = std::env::var("DASH_QRSYNC_DASHD_ARGS") {
        cmd.args(extra.split_whitespace());
    }
    let out = std::fs::File::create(&log).unwrap();
    let child = cmd
        .env("DASH_QRSYNC_DASHD", core_dir)
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start python3 (set DASH_QRSYNC_PYTHON)");
    Core {
        child,
        log,
        handoff,
    }
}

fn main() {
    let Some(core_dir) = std::env::var_os("DASH_QRSYNC_DASHD").map(PathBuf::from) else {
        println!(
            "dashd_live: SKIPPED — no Dash Core here. Set DASH_QRSYNC_DASHD to a Dash Core \
             v23.1.x build directory (src/dashd, test/functional) to sync a real regtest \
             network the test starts itself (docs/CONFORMANCE.md)."
        );
        return;
    };
    assert!(
        core_dir.join("src/dashd").exists() && core_dir.join("test/config.ini").exists(),
        "DASH_QRSYNC_DASHD={} has no src/dashd or test/config.ini (configure and build Core there)",
        core_dir.display()
    );
    let started = Instant::now();
    let mut core = start_core(&core_dir);
    let ready = core.wait_for("ready.json", SETUP_LIMIT);
    let setup = started.elapsed();
    let cfg = config(&ready);
    let expected = core_quorums(&ready, &cfg);
    let tip_height = ready["tip_height"].as_u64().unwrap() as u32;
    println!(
        "dashd_live: Core's network ready in {:.0} s: tip {tip_height}, {} quorums in `quorum list`",
        setup.as_secs_f64(),
        expected.len()
    );

    // Phase 1: sync from dash.conf alone and compare with Core's answers.
    let rec = Arc::new(Rec::default());
    let client = Client::new(cfg.clone(), Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    let t = Instant::now();
    client.start().unwrap();
    let synced = rec.wait(SYNC_LIMIT, |l| l.states.last() == Some(&SyncState::Synced));
    let sync_time = t.elapsed();
    {
        let l = rec.0.lock().unwrap();
        assert!(
            synced,
            "not synced in {SYNC_LIMIT:?}: errors {:?}",
            l.errors
        );
        let blamed: Vec<_> = l
            .errors
            .iter()
            .filter(|e| e.kind == ErrorKind::PeerMisbehaved || !e.recoverable)
            .collect();
        assert!(blamed.is_empty(), "Core's node was blamed: {blamed:?}");
    }
    let status = client.status();
    assert_eq!(status.header_height, tip_height, "header tip = Core's");
    assert_eq!(
        client.block_hash(tip_height),
        Some(display_hash(&ready["tip_hash"])),
        "tip hash = Core's"
    );
    // Exactly Core's active quorums of every type Core lists, with Core's heights and keys.
    let types: BTreeSet<u8> = expected.iter().map(|q| q.0).collect();
    let got: BTreeSet<_> = types
        .iter()
        .flat_map(|t| client.quorums(*t))
        .map(|q| (q.llmq_type, q.quorum_hash, q.height, q.public_key.to_vec()))
        .collect();
    assert_eq!(got, expected, "validated quorums = Core's `quorum list`");
    // Core's locks.
    let cl = clsig_bytes(&ready["best_chainlock"]);
    assert!(
        matches!(client.verify_clsig(&cl).unwrap(), LockStatus::Valid { .. }),
        "Core's best ChainLock"
    );
    let mut bad = cl.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    assert!(
        matches!(client.verify_clsig(&bad).unwrap(), LockStatus::Invalid(_)),
        "a ChainLock with a flipped signature byte"
    );
    let is = hex::decode(ready["islock"]["hex"].as_str().unwrap()).unwrap();
    let is_verdict = client.verify_islock(&is).unwrap();
    assert!(
        matches!(is_verdict, LockStatus::Valid { .. }),
        "Core's InstantSend lock: {is_verdict:?}"
    );
    // A forged signature is never Valid. It is Unknown, not Invalid, when the quorum set of
    // the cycle before (which Core also tries) is not held (docs/PROTOCOL.md §8.2).
    let mut bad = is.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    let forged = client.verify_islock(&bad).unwrap();
    assert!(
        !matches!(forged, LockStatus::Valid { .. }),
        "an InstantSend lock with a flipped signature byte: {forged:?}"
    );
    println!("dashd_live: Core's InstantSend lock with a flipped signature byte: {forged:?}");
    // The masternode address book = Core's list at the tip.
    let (entries, v3, evos, addresses) = check_address_book(&client, &ready);
    println!(
        "dashd_live: address book = Core's: {entries} masternodes ({v3} of entry version 3, \
         {evos} evonodes), {addresses} addresses"
    );
    if ready["v24"].as_bool() == Some(true) {
        assert_eq!(
            ready["blockchaininfo_softforks"]["v24"]["active"].as_bool(),
            Some(true),
            "V24 active on Core's node"
        );
        assert!(
            v3 >= 5 && evos >= 2,
            "{v3} version 3 entries, {evos} evonodes"
        );
        assert!(addresses > entries, "several addresses per masternode");
    }
    println!(
        "dashd_live: synced Core's network in {:.2} s ({} headers, {} quorums = Core's, {} B in, \
         {} round trips, {} dependent); Core's ChainLock at {} and InstantSend lock valid, a \
         flipped ChainLock byte Invalid, a forged InstantSend lock not Valid",
        sync_time.as_secs_f64(),
        status.header_height,
        got.len(),
        status.bytes_in,
        status.round_trips,
        status.dependent_round_trips,
        ready["best_chainlock"]["height"]
    );

    // Phase 2: Core mines blocks one at a time (24 by default), each ChainLocked before the
    // next: the client follows and verifies every one of those ChainLocks live (issue 23).
    core.signal("phase1.done");
    let ready2 = core.wait_for("ready2.json", Duration::from_secs(900));
    let locks: Vec<(u32, dash_qrsync::Hash256)> = ready2["chainlocks"]
        .as_array()
        .expect("chainlocks")
        .iter()
        .map(|cl| {
            (
                cl["height"].as_u64().unwrap() as u32,
                display_hash(&cl["blockhash"]),
            )
        })
        .collect();
    assert!(
        locks.len() >= 20,
        "Core followed only {} blocks",
        locks.len()
    );
    let all = rec.wait(Duration::from_secs(120), |l| {
        locks.iter().all(|(h, x)| {
            l.chainlocks
                .iter()
                .any(|c| c.height == *h && c.block_hash == *x)
        })
    });
    assert!(
        all,
        "Core's ChainLocks {:?} not all verified live: got {:?}",
        locks,
        rec.0.lock().unwrap().chainlocks
    );
    let tip2 = ready2["tip_height"].as_u64().unwrap() as u32;
    assert!(rec.wait(Duration::from_secs(60), |_| {
        let s = client.status();
        s.header_height == tip2 && s.list_height == Some(tip2) && s.state == SyncState::Synced
    }));
    // Synced and idle: nothing is asked again (the pass that refetched a pruned list every
    // 5 s is gone).
    let before = client.status().round_trips;
    std::thread::sleep(Duration::from_secs(16));
    assert_eq!(
        client.status().round_trips,
        before,
        "requests sent while synced and idle"
    );
    println!(
        "dashd_live: followed {} blocks, every ChainLock verified live",
        locks.len()
    );
    client.stop();
    core.signal("done");
    let status = core.child.wait().expect("framework exit");
    assert!(status.success(), "framework failed:\n{}", core.log_tail());
    // The framework removed its nodes' directories; the hand-off and its log go too.
    if let Some(root) = core.handoff.parent() {
        let _ = std::fs::remove_dir_all(root);
    }
    println!(
        "dashd_live: PASSED in {:.0} s (Core's set-up {:.0} s)",
        started.elapsed().as_secs_f64(),
        setup.as_secs_f64()
    );
}
