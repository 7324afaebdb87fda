//! Conformance on Dash Core's own answers: payloads captured from real Dash Core v23.1 regtest
//! networks (`$DASH_QRSYNC_VECTORS/core-regtest/`, see its README) and Core's RPC answers beside
//! them are the oracle. Every network is configured from nothing but its `dash.conf`.
//!
//! - every capture decodes to the last byte and re-encodes to Core's exact bytes;
//! - the header chain Core served validates under that network's rules and ends at Core's tip;
//! - every list root equals Core's (`protx diff`), diffs chain (h−1 → h applied to the list at
//!   h−1 gives Core's list at h, for every height of network A2);
//! - every quorum Core lists (`quorum list`) validates — members recomputed, both signatures —
//!   and nothing Core does not know (`quorum list 20`) is reported;
//! - Core's ChainLock and InstantSend lock verify;
//! - a full sync over loopback against a peer that answers only from Core's captures reaches
//!   `Synced` with Core's quorum set and verifies Core's later ChainLocks; a request the
//!   captures cannot answer fails the test, naming the request.
#![cfg(feature = "simnet")]

mod common;

use dash_qrsync::chain::{HeaderChain, HeaderIndex};
use dash_qrsync::engine::{Engine, EngineConfig, LockVerdict};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::conf::DashConf;
use dash_qrsync::network::{ChainParams, Network};
use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::SimService;
use dash_qrsync::sml::{DiffCheck, MasternodeList};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::wire::locks::{ClSig, IsDLock};
use dash_qrsync::wire::message::Message;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::{GetQrInfo, QrInfo};
use dash_qrsync::wire::Decode;
use dash_qrsync::{Client, Config};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The networks captured, with their folder, tip, and whether the folder holds Core's RPC
/// answers under `rpc/`.
const NETWORKS: &[&str] = &["A-v20at100", "A2-every-height", "B-v20at432"];

fn core_dir() -> Option<PathBuf> {
    let dir = common::vectors_dir()?.join("core-regtest");
    if dir.join("README.md").is_file() {
        Some(dir)
    } else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true: {} is missing", dir.display());
        }
        eprintln!(
            "*** SKIPPED: no core-regtest captures at {} ***",
            dir.display()
        );
        None
    }
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn display_hash(v: &Value) -> Hash256 {
    Hash256::from_display_hex(v.as_str().expect("hash string")).expect("hash hex")
}

/// The protocol version a capture was serialized for (`_pNNNNN` suffix).
fn protocol_of(name: &str) -> u32 {
    let p = name
        .rsplit("_p")
        .next()
        .and_then(|s| s.strip_suffix(".bin"))
        .unwrap_or_else(|| panic!("{name}: no _pNNNNN suffix"));
    p.parse()
        .unwrap_or_else(|_| panic!("{name}: bad protocol suffix"))
}

/// The P2P command of a capture, from its file name.
fn command_of(name: &str) -> &'static str {
    for (prefix, cmd) in [
        ("headers2_msg_", "headers2"),
        ("headers_msg_", "headers"),
        ("mnlistdiff_", "mnlistdiff"),
        ("qrinfo_", "qrinfo"),
        ("clsig_", "clsig"),
        ("isdlock_", "isdlock"),
    ] {
        if name.starts_with(prefix) {
            return cmd;
        }
    }
    panic!("{name}: unknown capture kind")
}

fn read_headers(path: &Path) -> Vec<BlockHeader> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes.len() % 80, 0, "{}", path.display());
    bytes
        .chunks(80)
        .map(|c| BlockHeader::from_bytes(c, 0).expect("80-byte header"))
        .collect()
}

/// Every capture file (`*.bin` except the derived header files) under `dir`, recursively.
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "bin")
                && !p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("headers_regtest_")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One captured network: its parameters from its `dash.conf`, and Core's header chain.
struct CoreNet {
    dir: PathBuf,
    params: ChainParams,
    headers: Vec<BlockHeader>,
    chain: HeaderChain,
    tip: u32,
}

fn load(name: &str) -> Option<CoreNet> {
    let dir = core_dir()?.join(name);
    let params = DashConf::read(&dir.join("dash.conf"))
        .unwrap_or_else(|e| panic!("{name}/dash.conf: {e}"))
        .params;
    let file = std::fs::read_dir(dir.join("headers"))
        .map(|rd| {
            rd.flatten().map(|e| e.path()).find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("headers_regtest_0_")
            })
        })
        .ok()
        .flatten()
        .or_else(|| {
            std::fs::read_dir(&dir)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("headers_regtest_0_")
                })
        })
        .unwrap_or_else(|| panic!("{name}: no headers_regtest_0_N.bin"));
    let headers = read_headers(&file);
    let mut chain = HeaderChain::from_genesis(Network::Regtest);
    assert_eq!(
        headers[0].block_hash(),
        chain.tip().1,
        "{name}: genesis is regtest's"
    );
    for batch in headers[1..].chunks(2000) {
        chain
            .connect(batch)
            .unwrap_or_else(|e| panic!("{name}: Core's headers rejected: {e}"));
    }
    let tip = chain.tip().0;
    Some(CoreNet {
        dir,
        params,
        headers,
        chain,
        tip,
    })
}

#[test]
fn every_capture_decodes_to_the_last_byte_and_reencodes_exactly() {
    let Some(root) = core_dir() else { return };
    let files = captures(&root);
    assert!(files.len() > 600, "only {} captures found", files.len());
    let mut by_kind: HashMap<&str, usize> = HashMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let cmd = command_of(&name);
        let p = protocol_of(&name);
        let bytes = std::fs::read(f).unwrap();
        let m = Message::decode(cmd, &bytes, p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !matches!(m, Message::Unknown { .. }),
            "{name}: decoded as unknown"
        );
        let again = m.encode_payload(p);
        if again != bytes {
            let at = again.iter().zip(&bytes).position(|(a, b)| a != b);
            panic!(
                "{name}: re-encoding differs from Core's bytes: {} vs {} bytes, first difference at {at:?} (ours {:?}, Core's {:?})",
                again.len(),
                bytes.len(),
                at.map(|i| &again[i.saturating_sub(4)..(i + 8).min(again.len())]),
                at.map(|i| &bytes[i.saturating_sub(4)..(i + 8).min(bytes.len())]),
            );
        }
        *by_kind.entry(cmd).or_default() += 1;
    }
    for kind in [
        "headers",
        "headers2",
        "mnlistdiff",
        "qrinfo",
        "clsig",
        "isdlock",
    ] {
        assert!(
            by_kind.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} capture"
        );
    }
}

#[test]
fn core_header_chains_validate_under_each_dash_conf() {
    for name in NETWORKS.iter().copied().chain(["plain-no-masternodes"]) {
        let Some(net) = load(name) else { return };
        let manifest = net.dir.join("manifest.json");
        if manifest.is_file() {
            let m = json(&manifest);
            assert_eq!(
                net.tip as u64,
                m["tip"].as_u64().unwrap(),
                "{name}: tip height"
            );
            assert_eq!(
                net.chain.tip().1,
                display_hash(&m["tip_hash"]),
                "{name}: tip hash"
            );
        }
        // The headers and headers2 messages Core sent carry the same headers.
        let hdir = net.dir.join("headers");
        for f in std::fs::read_dir(&hdir).into_iter().flatten().flatten() {
            let name = f.file_name().to_string_lossy().to_string();
            if !name.starts_with("headers") || name.starts_with("headers_regtest_") {
                continue;
            }
            let bytes = std::fs::read(f.path()).unwrap();
            let p = protocol_of(&name);
            let hs = match Message::decode(command_of(&name), &bytes, p).unwrap() {
                Message::Headers(h) | Message::Headers2(h) => h,
                _ => unreachable!(),
            };
            assert_eq!(hs.as_slice(), &net.headers[1..], "{name}");
        }
    }
}

/// The list after `diff`, applied to `base`, with its roots compared to Core's RPC twin.
fn check_against_rpc(
    net: &CoreNet,
    base: &MasternodeList,
    diff: &MnListDiff,
    rpc: Option<&Value>,
    what: &str,
) -> MasternodeList {
    let height = net
        .chain
        .height_of(&diff.block_hash)
        .unwrap_or_else(|| panic!("{what}: block not in Core's chain"));
    let list = base
        .apply_diff(diff, height)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let merkle = net.chain.merkle_root_of(&diff.block_hash);
    let check = DiffCheck::compute(&list, diff, merkle);
    // V24's state where the network's options make it visible (network E), as the engine does.
    let v24 = net.params.v24_active_after(height.saturating_sub(1), &|h| {
        net.chain.version_and_time_at(h)
    });
    check
        .result(net.params.activations(), v24)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(rpc) = rpc {
        assert_eq!(
            check.sml_root_computed,
            display_hash(&rpc["merkleRootMNList"]),
            "{what}: SML root vs Core's protx diff"
        );
        assert_eq!(
            check.quorum_root_computed,
            display_hash(&rpc["merkleRootQuorums"]),
            "{what}: quorum root vs Core's protx diff"
        );
        assert_eq!(
            diff.mn_list.len(),
            rpc["mnList"].as_array().unwrap().len(),
            "{what}: entries"
        );
        assert_eq!(
            diff.new_quorums.len(),
            rpc["newQuorums"].as_array().unwrap().len(),
            "{what}: new quorums"
        );
        assert_eq!(
            diff.deleted_mns.len(),
            rpc["deletedMNs"].as_array().unwrap().len(),
            "{what}: deleted entries"
        );
    }
    list
}

fn read_diff(path: &Path) -> MnListDiff {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    MnListDiff::from_bytes(&std::fs::read(path).unwrap(), protocol_of(&name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `mnlistdiff_regtest_<base>_<block>_pP.bin` → (base, block); base `null`/`0` = empty list.
fn diff_heights(name: &str) -> Option<(Option<u32>, u32)> {
    let rest = name.strip_prefix("mnlistdiff_regtest_")?;
    let mut it = rest.split('_');
    let base = it.next()?;
    let block = it.next()?.parse().ok()?;
    let base = match base {
        "null" | "0" => None,
        b => Some(b.parse().ok()?),
    };
    Some((base, block))
}

#[test]
fn list_roots_equal_cores_and_diffs_chain() {
    for name in NETWORKS.iter().copied().chain(["plain-no-masternodes"]) {
        let Some(net) = load(name) else { return };
        // Lists from the empty list at every height Core gave one for.
        let mut from_empty: HashMap<u32, MasternodeList> = HashMap::new();
        let mut files: Vec<PathBuf> = captures(&net.dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("mnlistdiff_")
            })
            .collect();
        files.sort_by_key(|p| diff_heights(&p.file_name().unwrap().to_string_lossy()));
        for f in &files {
            let fname = f.file_name().unwrap().to_string_lossy().to_string();
            let (base, block) = diff_heights(&fname).unwrap();
            if base.is_some() || block < net.params.activations().dip0003 || block > net.tip {
                continue;
            }
            let rpc_name = format!(
                "protx_diff_{}_{block}.json",
                fname.split('_').nth(2).unwrap()
            );
            let rpc_path = [net.dir.join("rpc").join(&rpc_name), net.dir.join(&rpc_name)]
                .into_iter()
                .find(|p| p.is_file());
            let rpc = rpc_path.map(|p| json(&p));
            let list = check_against_rpc(
                &net,
                &MasternodeList::empty(),
                &read_diff(f),
                rpc.as_ref(),
                &format!("{name}/{fname}"),
            );
            from_empty.insert(block, list);
        }
        assert!(
            !from_empty.is_empty(),
            "{name}: no list from the empty base"
        );
        // Diffs between two heights: applied to the list at the base, they give Core's list.
        let mut chained = 0;
        for f in &files {
            let fname = f.file_name().unwrap().to_string_lossy().to_string();
            let (Some(base), block) = diff_heights(&fname).unwrap() else {
                continue;
            };
            if block > net.tip {
                continue;
            }
            let Some(base_list) = from_empty.get(&base) else {
                continue;
            };
            let rpc_path = net
                .dir
                .join("rpc")
                .join(format!("protx_diff_{base}_{block}.json"));
            let rpc = rpc_path.is_file().then(|| json(&rpc_path));
            let list = check_against_rpc(
                &net,
                base_list,
                &read_diff(f),
                rpc.as_ref(),
                &format!("{name}/{fname}"),
            );
            if let Some(expected) = from_empty.get(&block) {
                assert_eq!(
                    list.sml_root(),
                    expected.sml_root(),
                    "{name}/{fname}: chained list differs from Core's list at {block}"
                );
                assert_eq!(list.quorum_root(), expected.quorum_root(), "{name}/{fname}");
                chained += 1;
            }
        }
        if name == "A2-every-height" {
            assert!(
                chained > 250,
                "{name}: only {chained} chained diffs checked"
            );
        }
    }
}

/// Core's quorum set at the tip (`quorum list`) and every quorum it knows (`quorum list 20`).
/// A set of quorums by (type, hash).
type QuorumSet = BTreeSet<(u8, Hash256)>;

fn core_quorums(net: &CoreNet) -> (QuorumSet, QuorumSet) {
    let set = |file: &str| {
        let v = json(&net.dir.join("rpc").join(file));
        let mut out = BTreeSet::new();
        for (tname, hashes) in v.as_object().unwrap() {
            let t = net
                .params
                .llmq()
                .type_by_name(tname)
                .unwrap_or_else(|| panic!("Core's type {tname} is not configured here"))
                .llmq_type;
            for h in hashes.as_array().unwrap() {
                out.insert((t, display_hash(h)));
            }
        }
        out
    };
    (set("quorum_list.json"), set("quorum_list_20.json"))
}

fn qrinfo_file(net: &CoreNet, stem: &str) -> QrInfo {
    let path = net.dir.join("qrinfo").join(stem);
    QrInfo::from_bytes(&std::fs::read(&path).unwrap(), protocol_of(stem))
        .unwrap_or_else(|e| panic!("{stem}: {e}"))
}

/// An engine fed Core's qrinfo for the tip (no bases) and, where the engine still lacks lists,
/// Core's diffs from the empty list at those heights (network A2 has them all).
fn engine_from_core(net: &CoreNet) -> Engine {
    let mut engine = Engine::new(EngineConfig::new(net.params.clone()));
    let q = qrinfo_file(
        net,
        &format!("qrinfo_regtest_nobase_{}_extra_p70240.bin", net.tip),
    );
    engine
        .feed_qrinfo(&q, &net.chain)
        .unwrap_or_else(|e| panic!("{}: Core's qrinfo rejected: {e}", net.dir.display()));
    let every = net.dir.join("mnlistdiff_every_height");
    for h in engine.missing(&net.chain).list_heights {
        let f = every.join(format!("mnlistdiff_regtest_null_{h}_p70240.bin"));
        if f.is_file() {
            engine.feed_mnlistdiff(&read_diff(&f), &net.chain).unwrap();
        }
    }
    // Then every other captured diff whose base the engine holds (e.g. the list at tip − 8
    // that shows the ChainLocks quorum set), in height order.
    let mut diffs: Vec<(u32, PathBuf)> = captures(&net.dir)
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().to_string();
            let (base, block) = diff_heights(&name)?;
            (base.is_some() && block <= net.tip).then_some((block, p))
        })
        .collect();
    diffs.sort();
    for (_, f) in diffs {
        let d = read_diff(&f);
        if engine.list(&d.base_block_hash).is_some() {
            engine
                .feed_mnlistdiff(&d, &net.chain)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
    engine
}

#[test]
fn every_quorum_core_lists_validates_and_nothing_else_is_reported() {
    for name in NETWORKS {
        let Some(net) = load(name) else { return };
        let (active, known) = core_quorums(&net);
        let engine = engine_from_core(&net);
        let validated: BTreeSet<(u8, Hash256)> = net
            .params
            .llmq()
            .configured_types
            .iter()
            .flat_map(|t| engine.quorums_of_type(*t))
            .map(|q| (q.info.llmq_type, q.info.quorum_hash))
            .collect();
        for q in &active {
            assert!(
                validated.contains(q),
                "{name}: Core's active quorum {q:?} not validated (pending: {:?})",
                engine.pending()
            );
        }
        for q in &validated {
            assert!(
                known.contains(q),
                "{name}: {q:?} validated but unknown to Core"
            );
        }
        if *name == "B-v20at432" {
            // LLMQ_TEST_V17 is enabled by the testdummy deployment Core's miners signalled.
            assert!(
                active.iter().any(|(t, _)| *t == 102),
                "{name}: no llmq_test_v17"
            );
        } else {
            assert!(active.iter().all(|(t, _)| *t != 102));
        }
        // Member order and heights equal Core's `quorum info` for every active quorum.
        let info = json(&net.dir.join("rpc/quorum_info_all.json"));
        for (key, q) in info.as_object().unwrap() {
            let t = net
                .params
                .llmq()
                .type_by_name(q["type"].as_str().unwrap())
                .unwrap()
                .llmq_type;
            let hash = display_hash(&q["quorumHash"]);
            let Some(v) = engine.quorum(t, &hash) else {
                continue;
            };
            assert_eq!(
                v.info.height as u64,
                q["height"].as_u64().unwrap(),
                "{name} {key}: height"
            );
            let pk = hex::decode(q["quorumPublicKey"].as_str().unwrap()).unwrap();
            assert_eq!(
                v.commitment.quorum_public_key.to_vec(),
                pk,
                "{name} {key}: key"
            );
        }
    }
}

#[test]
fn cores_chainlock_and_instantsend_lock_verify() {
    for name in NETWORKS {
        let Some(net) = load(name) else { return };
        let engine = engine_from_core(&net);
        let locks = net.dir.join("locks");
        let mut seen = 0;
        for f in std::fs::read_dir(&locks).unwrap().flatten() {
            let fname = f.file_name().to_string_lossy().to_string();
            let bytes = std::fs::read(f.path()).unwrap();
            let p = protocol_of(&fname);
            let verdict = if fname.starts_with("clsig_") {
                let cl = ClSig::from_bytes(&bytes, p).unwrap();
                let best = json(&net.dir.join("rpc/getbestchainlock.json"));
                assert_eq!(cl.block_hash, display_hash(&best["blockhash"]), "{fname}");
                engine.verify_clsig(&cl, &net.chain)
            } else {
                let lock = IsDLock::from_bytes(&bytes, p).unwrap();
                engine.verify_islock(&lock, &net.chain, net.tip)
            };
            // Network B's captures hold no list at tip − 8 (589), which shows the ChainLocks
            // quorum set the lock is checked against: undecidable offline, never invalid.
            let undecidable = *name == "B-v20at432" && fname.starts_with("clsig_");
            if undecidable {
                assert!(
                    matches!(verdict, LockVerdict::CannotVerify(_)),
                    "{name}/{fname}: {verdict:?}"
                );
            } else {
                assert!(
                    matches!(verdict, LockVerdict::Valid { .. }),
                    "{name}/{fname}: {verdict:?}"
                );
            }
            // One flipped signature byte is caught.
            let mut bad = bytes.clone();
            let at = bad.len() - 10;
            bad[at] ^= 1;
            let verdict = if fname.starts_with("clsig_") {
                match ClSig::from_bytes(&bad, p) {
                    Ok(cl) => engine.verify_clsig(&cl, &net.chain),
                    Err(_) => LockVerdict::CannotVerify("undecodable".into()),
                }
            } else {
                match IsDLock::from_bytes(&bad, p) {
                    Ok(l) => engine.verify_islock(&l, &net.chain, net.tip),
                    Err(_) => LockVerdict::CannotVerify("undecodable".into()),
                }
            };
            assert!(
                !matches!(verdict, LockVerdict::Valid { .. }),
                "{name}/{fname}: tampered lock accepted"
            );
            seen += 1;
        }
        assert_eq!(seen, 2, "{name}: one clsig and one isdlock");
    }
}

// ---------------------------------------------------------------- replay over loopback

/// A peer that answers only from Core's captures (and, for network A2, from Core's diffs from
/// the empty list at every height). Anything it cannot answer is recorded and left
/// unanswered, as Core leaves requests it cannot serve.
struct Replay {
    headers: Vec<BlockHeader>,
    by_hash: HashMap<Hash256, u32>,
    tip: AtomicU32,
    diffs: HashMap<(Option<u32>, u32), MnListDiff>,
    /// Answer `base → h` with Core's diff from the empty list to `h` when no exact capture
    /// exists (a valid answer: the base is only a hint for the size of the answer).
    from_empty_fallback: bool,
    qrinfos: Vec<(Vec<u32>, u32, bool, QrInfo)>,
    clsigs: HashMap<u32, ClSig>,
    misses: Mutex<Vec<String>>,
}

impl Replay {
    fn height(&self, h: &Hash256) -> Option<u32> {
        self.by_hash.get(h).copied()
    }

    fn load(
        net: &CoreNet,
        dirs: &[&str],
        headers: Vec<BlockHeader>,
        tip: u32,
        fallback: bool,
    ) -> Replay {
        let by_hash = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.block_hash(), i as u32))
            .collect();
        let mut r = Replay {
            headers,
            by_hash,
            tip: AtomicU32::new(tip),
            diffs: HashMap::new(),
            from_empty_fallback: fallback,
            qrinfos: Vec::new(),
            clsigs: HashMap::new(),
            misses: Mutex::default(),
        };
        for d in dirs {
            for f in std::fs::read_dir(net.dir.join(d)).unwrap().flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                if !name.ends_with(".bin") || name.starts_with("headers") {
                    continue;
                }
                let bytes = std::fs::read(f.path()).unwrap();
                let p = protocol_of(&name);
                match Message::decode(command_of(&name), &bytes, p).unwrap() {
                    Message::MnListDiff(diff) => {
                        let (base, block) = diff_heights(&name).unwrap();
                        r.diffs.insert((base, block), *diff);
                    }
                    Message::QrInfo(q) => {
                        // qrinfo_regtest_<bases>_<block>_<extra|noextra>_pP.bin
                        let parts: Vec<&str> = name.split('_').collect();
                        let bases = match parts[2] {
                            "nobase" => Vec::new(),
                            b => b.split('-').map(|x| x.parse().unwrap()).collect(),
                        };
                        let block = parts[3].parse().unwrap();
                        r.qrinfos.push((bases, block, parts[4] == "extra", *q));
                    }
                    Message::ClSig(cl) => {
                        r.clsigs.insert(cl.height as u32, cl);
                    }
                    _ => {}
                }
            }
        }
        r
    }

    fn miss(&self, what: String) {
        self.misses.lock().unwrap().push(what);
    }
}

impl SimService for Replay {
    fn network(&self) -> Network {
        Network::Regtest
    }
    fn tip_height(&self) -> u32 {
        self.tip.load(Ordering::SeqCst)
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        (height <= self.tip_height())
            .then(|| self.headers.get(height as usize).map(|h| h.block_hash()))
            .flatten()
    }
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.height(hash).filter(|h| *h <= self.tip_height())
    }
    fn header(&self, height: u32) -> Option<BlockHeader> {
        (height <= self.tip_height())
            .then(|| self.headers.get(height as usize).copied())
            .flatten()
    }
    fn mnlistdiff(&self, base: &Hash256, block: &Hash256, _p: u32) -> Option<MnListDiff> {
        let Some(h) = self.height_of(block) else {
            self.miss(format!("getmnlistd to unknown block {block}"));
            return None;
        };
        let b = if base.is_zero() || self.height(base) == Some(0) {
            None
        } else {
            match self.height(base) {
                Some(b) => Some(b),
                None => {
                    self.miss(format!("getmnlistd from unknown base {base}"));
                    return None;
                }
            }
        };
        if let Some(d) = self.diffs.get(&(b, h)) {
            return Some(d.clone());
        }
        if self.from_empty_fallback {
            if let Some(d) = self.diffs.get(&(None, h)) {
                return Some(d.clone());
            }
        }
        self.miss(format!("getmnlistd {b:?} -> {h}: no capture"));
        None
    }
    fn qrinfo(&self, request: &GetQrInfo, _p: u32) -> Option<QrInfo> {
        let block = self.height_of(&request.block_request_hash)?;
        let bases: Vec<u32> = request
            .base_block_hashes
            .iter()
            .filter_map(|h| self.height(h))
            .collect();
        let exact = self
            .qrinfos
            .iter()
            .find(|(b, h, e, _)| *b == bases && *h == block && *e == request.extra_share);
        let any = || {
            self.qrinfos
                .iter()
                .find(|(b, h, e, _)| b.is_empty() && *h == block && *e == request.extra_share)
        };
        match exact.or_else(|| self.from_empty_fallback.then(any).flatten()) {
            Some((_, _, _, q)) => Some(q.clone()),
            None => {
                self.miss(format!(
                    "getqrinfo bases {bases:?} block {block} extraShare {}: no capture",
                    request.extra_share
                ));
                None
            }
        }
    }
    fn clsig(&self, height: u32) -> Option<ClSig> {
        self.clsigs.get(&height).cloned()
    }
    fn isdlock(&self, _inv_hash: &Hash256) -> Option<IsDLock> {
        None
    }
}

use common::recorder::{synced, Log, Recorder};

/// Syncs a client configured from `dash.conf` alone against `replay`; returns the recorder.
fn replay_sync(
    net: &CoreNet,
    replay: Arc<Replay>,
    request_timeout: Duration,
    until: impl Fn(&Log) -> bool,
    after_sync: impl FnOnce(&Arc<Replay>, &Recorder),
) -> Arc<Recorder> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sc = ServerConfig {
        // What Core v23.1 advertises.
        protocol_version: 70240,
        announce_interval: Duration::from_millis(50),
        ..ServerConfig::default()
    };
    let server = rt.block_on(SimServer::start(replay.clone(), sc)).unwrap();
    let text = std::fs::read_to_string(net.dir.join("dash.conf")).unwrap();
    let mut config = Config::from_dash_conf(&text).unwrap();
    config.peers = vec![server.addr()];
    config.max_peers = 1;
    config.request_timeout = request_timeout;
    config.connect_timeout = Duration::from_secs(3);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(config, Arc::new(MemoryStore::new()), rec.clone()).unwrap();
    client.start().unwrap();
    let ok = rec.wait_for(until, Duration::from_secs(60));
    let log = |rec: &Recorder| {
        let l = rec.log.lock().unwrap();
        format!("states {:?}, errors {:?}", l.states, l.errors)
    };
    assert!(
        ok,
        "{}: not there; requests without a capture: {:?}; {}",
        net.dir.display(),
        replay.misses.lock().unwrap(),
        log(&rec)
    );
    after_sync(&replay, &rec);
    client.stop();
    rt.block_on(server.shutdown());
    rec
}

#[test]
fn replayed_core_network_syncs_to_cores_quorum_set_and_follows_its_chainlocks() {
    let Some(net) = load("A-v20at100") else {
        return;
    };
    // The library's own session against this network: the headers Core had then (to 311), Core's
    // answers to every request, and the later ChainLocks.
    let headers = read_headers(
        &net.dir
            .join("as_received_by_library/headers_regtest_0_311.bin"),
    );
    assert_eq!(&headers[..=net.tip as usize], &net.headers[..]);
    let replay = Arc::new(Replay::load(
        &net,
        &["as_received_by_library", "mnlistdiff", "qrinfo", "locks"],
        headers,
        net.tip,
        false,
    ));
    let (active, known) = core_quorums(&net);
    let rec = replay_sync(
        &net,
        replay,
        Duration::from_secs(5),
        synced,
        |replay, rec| {
            // Two new blocks, as Core mined them, each with its ChainLock.
            for h in [310u32, 311] {
                replay.tip.store(h, Ordering::SeqCst);
                assert!(
                    rec.wait_for(
                        |l| l.chainlocks.iter().any(|c| c.height == h),
                        Duration::from_secs(30)
                    ),
                    "Core's ChainLock at {h} not verified; misses {:?}",
                    replay.misses.lock().unwrap()
                );
            }
        },
    );
    let l = rec.log.lock().unwrap();
    let reported: BTreeSet<(u8, Hash256)> = l
        .quorums
        .iter()
        .map(|q| (q.llmq_type, q.quorum_hash))
        .collect();
    assert_eq!(
        reported.len(),
        l.quorums.len(),
        "a quorum was reported twice"
    );
    assert!(
        active.is_subset(&reported),
        "reported {reported:?}, Core {active:?}"
    );
    assert!(
        reported.is_subset(&known),
        "reported {reported:?} beyond Core's {known:?}"
    );
    assert!(l.errors.is_empty(), "errors: {:?}", l.errors);
}

#[test]
fn replayed_every_height_network_syncs_to_cores_quorum_set() {
    let Some(net) = load("A2-every-height") else {
        return;
    };
    let replay = Arc::new(Replay::load(
        &net,
        &["mnlistdiff_every_height", "mnlistdiff", "qrinfo", "locks"],
        net.headers.clone(),
        net.tip,
        true,
    ));
    let (active, known) = core_quorums(&net);
    let rec = replay_sync(
        &net,
        replay.clone(),
        Duration::from_secs(5),
        synced,
        |_, _| {},
    );
    let l = rec.log.lock().unwrap();
    let reported: BTreeSet<(u8, Hash256)> = l
        .quorums
        .iter()
        .map(|q| (q.llmq_type, q.quorum_hash))
        .collect();
    assert!(
        active.is_subset(&reported),
        "reported {reported:?}, Core {active:?}"
    );
    assert!(
        reported.is_subset(&known),
        "reported {reported:?} beyond Core's {known:?}"
    );
    assert!(
        replay.misses.lock().unwrap().is_empty(),
        "requests without an answer: {:?}",
        replay.misses.lock().unwrap()
    );
}

#[test]
fn plain_regtest_node_is_asked_nothing_below_dip3_and_a_declined_qrinfo_is_bounded() {
    let Some(net) = load("plain-no-masternodes") else {
        return;
    };
    // Core's defaults: DIP3 at 432. The library must never ask for a list below it (Core
    // answers those with a null block hash), and Core answers no getqrinfo on this chain.
    assert_eq!(net.params.activations().dip0003, 432);
    let mut replay = Replay::load(&net, &["."], net.headers.clone(), net.tip, false);
    replay.qrinfos.clear();
    let replay = Arc::new(replay);
    let declined = |l: &Log| {
        l.errors
            .iter()
            .any(|e| e.message.contains("no peer answered getqrinfo"))
    };
    let rec = replay_sync(
        &net,
        replay.clone(),
        Duration::from_secs(1),
        declined,
        |_, _| std::thread::sleep(Duration::from_secs(4)),
    );
    let l = rec.log.lock().unwrap();
    assert!(l.quorums.is_empty());
    let misses = replay.misses.lock().unwrap();
    // The only diffs asked for are at or above DIP3 (432): the tip list, the list at tip − 8
    // (the captures hold no list at 442; Core would have answered it).
    assert!(
        misses
            .iter()
            .all(|m| m.starts_with("getqrinfo") || m == "getmnlistd None -> 442: no capture"),
        "unexpected requests: {misses:?}"
    );
    // Bounded: the cold start's getqrinfo and the retries of one pass, then no more for this tip.
    let asked = misses.iter().filter(|m| m.starts_with("getqrinfo")).count();
    assert!(
        (1..=5).contains(&asked),
        "{asked} getqrinfo requests: {misses:?}"
    );
    // The declined getqrinfo is reported once, naming the request.
    let declined: Vec<_> = l
        .errors
        .iter()
        .filter(|e| e.message.contains("no peer answered getqrinfo"))
        .collect();
    assert_eq!(declined.len(), 1, "errors: {:?}", l.errors);
    assert!(declined[0].recoverable);
}
