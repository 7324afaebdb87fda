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
use dash_qrsync::{
    AddressPurpose, Client, Config, MasternodeBook, MasternodeEntry, MasternodeType,
};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The networks captured, with their folder, tip, and whether the folder holds Core's RPC
/// answers under `rpc/`.
const NETWORKS: &[&str] = &[
    "A-v20at100",
    "A2-every-height",
    "B-v20at432",
    "E-v24-extaddr",
];

/// The protocol version of the payloads in network E's `as_received_by_library/`, whose names
/// (`NN_<command>_<bytes>.bin`) carry none: the library negotiated 70237 (the folder's README).
const AS_RECEIVED_PROTOCOL: u32 = 70237;

/// `NN_<command>_<bytes>.bin` (network E's packet-capture extracts) → the command part.
fn as_received_rest(name: &str) -> Option<&str> {
    let (n, rest) = name.split_once('_')?;
    (n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())).then_some(rest)
}

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

/// The protocol version a capture was serialized for (`_pNNNNN` in its name, possibly followed
/// by a `_<note>` such as `_recheck`).
fn protocol_of(name: &str) -> u32 {
    if as_received_rest(name).is_some() {
        return AS_RECEIVED_PROTOCOL;
    }
    let p = name
        .rsplit("_p")
        .next()
        .map(|s| s.trim_end_matches(".bin"))
        .map(|s| s.split('_').next().unwrap_or(s))
        .unwrap_or_else(|| panic!("{name}: no _pNNNNN suffix"));
    p.parse()
        .unwrap_or_else(|_| panic!("{name}: bad protocol suffix"))
}

/// The P2P command of a capture, from its file name.
fn command_of(name: &str) -> &'static str {
    let name = as_received_rest(name).unwrap_or(name);
    for (prefix, cmd) in [
        ("headers2_msg_", "headers2"),
        ("headers_msg_", "headers"),
        ("headers2_", "headers2"),
        ("headers_", "headers"),
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
    // The chain to the capture's tip: the shortest `headers_regtest_0_N.bin` (network E also
    // holds one to a later height, for its edge cases after the tip).
    let file = std::fs::read_dir(dir.join("headers"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("headers_regtest_0_")
                })
                .min_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(u64::MAX))
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
            let hs = Message::decode(command_of(&name), &bytes, p)
                .unwrap()
                .into_header_batch()
                .unwrap()
                .headers;
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
    // The library's own session (network E's packet-capture extracts), in the order received:
    // a chain of diffs from the empty list that holds the list at tip − 8.
    let received = net.dir.join("as_received_by_library");
    let mut extracts: Vec<PathBuf> = std::fs::read_dir(&received)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            as_received_rest(&n).is_some_and(|r| r.starts_with("mnlistdiff_"))
        })
        .collect();
    extracts.sort();
    for f in extracts {
        let d = MnListDiff::from_bytes(&std::fs::read(&f).unwrap(), AS_RECEIVED_PROTOCOL)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if d.base_block_hash.is_zero()
            || net.chain.height_of(&d.base_block_hash) == Some(0)
            || engine.list(&d.base_block_hash).is_some()
        {
            engine
                .feed_mnlistdiff(&d, &net.chain)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
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
    /// (bases, block, extraShare, answer); bases None = any (a packet-capture extract, whose
    /// request is not in its name).
    qrinfos: Vec<(Option<Vec<u32>>, u32, bool, QrInfo)>,
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
                        let (base, block) = diff_heights(&name).unwrap_or_else(|| {
                            // A packet-capture extract: the heights from the hashes it names.
                            let base = r.height(&diff.base_block_hash).filter(|h| *h > 0);
                            let block = r
                                .height(&diff.block_hash)
                                .unwrap_or_else(|| panic!("{name}: block not in the chain"));
                            (base, block)
                        });
                        r.diffs.insert((base, block), *diff);
                    }
                    Message::QrInfo(q) if as_received_rest(&name).is_some() => {
                        let block = r
                            .height(&q.mn_list_diff_tip.block_hash)
                            .unwrap_or_else(|| panic!("{name}: tip not in the chain"));
                        let extra = q.extra_share.is_some();
                        r.qrinfos.push((None, block, extra, *q));
                    }
                    Message::QrInfo(q) => {
                        // qrinfo_regtest_<bases>_<block>_<extra|noextra>_pP.bin
                        let parts: Vec<&str> = name.split('_').collect();
                        let bases = match parts[2] {
                            "nobase" => Vec::new(),
                            b => b.split('-').map(|x| x.parse().unwrap()).collect(),
                        };
                        let block = parts[3].parse().unwrap();
                        r.qrinfos
                            .push((Some(bases), block, parts[4] == "extra", *q));
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
        let exact = self.qrinfos.iter().find(|(b, h, e, _)| {
            b.as_ref().is_none_or(|b| *b == bases) && *h == block && *e == request.extra_share
        });
        let any = || {
            self.qrinfos.iter().find(|(b, h, e, _)| {
                b.as_ref().is_some_and(|b| b.is_empty()) && *h == block && *e == request.extra_share
            })
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
    replay_sync_with(net, replay, request_timeout, until, |r, rec, _| {
        after_sync(r, rec)
    })
}

/// [`replay_sync`], with the client handed to `after_sync`.
fn replay_sync_with(
    net: &CoreNet,
    replay: Arc<Replay>,
    request_timeout: Duration,
    until: impl Fn(&Log) -> bool,
    after_sync: impl FnOnce(&Arc<Replay>, &Recorder, &Client),
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
    after_sync(&replay, &rec, &client);
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

// ---------------------------------------------------------------- the masternode address book

/// Base58Check of a regtest/testnet P2PKH key id (version byte 140), as Core prints
/// `votingAddress`.
fn regtest_p2pkh(key_id: &[u8; 20]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut data = vec![140u8];
    data.extend_from_slice(key_id);
    let check = dash_qrsync::hashes::sha256d(&data);
    data.extend_from_slice(&check.0[..4]);
    let mut digits: Vec<u8> = Vec::new();
    for &byte in &data {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = data.iter().take_while(|b| **b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char))
        .collect()
}

fn rpc_purpose(key: &str) -> AddressPurpose {
    match key {
        "core_p2p" => AddressPurpose::CoreP2p,
        "platform_p2p" => AddressPurpose::PlatformP2p,
        "platform_https" => AddressPurpose::PlatformHttps,
        k => panic!("Core prints an address purpose unknown here: {k}"),
    }
}

/// Every address of `e` for `purpose`, as Core prints them.
fn printed(e: &MasternodeEntry, purpose: AddressPurpose) -> Vec<String> {
    e.addresses_for(purpose).map(|a| a.host_port()).collect()
}

/// Core's `addresses` object equals the entry's addresses, purpose by purpose, in order.
fn check_addresses(e: &MasternodeEntry, rpc: &Value, what: &str) {
    let obj = rpc.as_object().unwrap();
    for (key, list) in obj {
        let expected: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert_eq!(printed(e, rpc_purpose(key)), expected, "{what}: {key}");
    }
    for a in &e.addresses {
        let key = match a.purpose {
            AddressPurpose::CoreP2p => "core_p2p",
            AddressPurpose::PlatformP2p => "platform_p2p",
            AddressPurpose::PlatformHttps => "platform_https",
        };
        assert!(
            obj.contains_key(key),
            "{what}: {} ({key}) not printed by Core",
            a.host_port()
        );
    }
}

/// Every entry of the book equals Core's `protx diff` entry: version, type, hashes, validity,
/// operator key, voting address, platform fields and every address.
fn check_book_against_protx_diff(book: &MasternodeBook, rpc: &Value, what: &str) -> usize {
    let list = rpc["mnList"].as_array().unwrap();
    assert_eq!(book.entries.len(), list.len(), "{what}: entries");
    for r in list {
        let hash = display_hash(&r["proRegTxHash"]);
        let what = format!("{what} {hash}");
        let e = book
            .entry(&hash)
            .unwrap_or_else(|| panic!("{what}: not in the book"));
        assert_eq!(
            e.entry_version as u64,
            r["nVersion"].as_u64().unwrap(),
            "{what}: version"
        );
        let evo = r["nType"].as_u64().unwrap() == 1;
        assert_eq!(
            e.mn_type,
            if evo {
                MasternodeType::Evo
            } else {
                MasternodeType::Regular
            },
            "{what}: type"
        );
        assert_eq!(
            e.confirmed_hash,
            display_hash(&r["confirmedHash"]),
            "{what}: confirmed hash"
        );
        assert_eq!(
            e.is_valid,
            r["isValid"].as_bool().unwrap(),
            "{what}: validity"
        );
        assert_eq!(
            hex::encode(e.operator_public_key),
            r["pubKeyOperator"].as_str().unwrap(),
            "{what}: operator key"
        );
        assert_eq!(
            regtest_p2pkh(&e.voting_key_id),
            r["votingAddress"].as_str().unwrap(),
            "{what}: voting key"
        );
        match r.get("platformNodeID") {
            Some(id) => assert_eq!(
                e.platform_node_id_display().as_deref(),
                id.as_str(),
                "{what}: platform node id"
            ),
            None => assert_eq!(e.platform_node_id, None, "{what}: platform node id"),
        }
        if let Some(port) = r.get("platformHTTPPort") {
            assert_eq!(
                e.addresses_for(AddressPurpose::PlatformHttps)
                    .next()
                    .map(|a| a.port as u64),
                port.as_u64(),
                "{what}: platform HTTP port"
            );
        }
        if let Some(service) = r.get("service") {
            let primary = printed(e, AddressPurpose::CoreP2p)
                .into_iter()
                .next()
                .unwrap_or_else(|| "[::]:0".into());
            assert_eq!(primary, service.as_str().unwrap(), "{what}: service");
        }
        check_addresses(e, &r["addresses"], &what);
    }
    list.len()
}

/// Every masternode Core's `masternodelist json` shows is in the book with the same type,
/// status, operator key, platform node id and addresses.
fn check_book_against_masternodelist(book: &MasternodeBook, rpc: &Value, what: &str) {
    let all = rpc.as_object().unwrap();
    assert_eq!(book.entries.len(), all.len(), "{what}: masternodes");
    for (key, r) in all {
        let what = format!("{what} {key}");
        let e = book
            .entry(&display_hash(&r["proTxHash"]))
            .unwrap_or_else(|| panic!("{what}: not in the book"));
        let t = match r["type"].as_str().unwrap() {
            "Regular" => MasternodeType::Regular,
            "Evo" => MasternodeType::Evo,
            t => panic!("{what}: type {t}"),
        };
        assert_eq!(e.mn_type, t, "{what}: type");
        assert_eq!(
            e.is_valid,
            r["status"].as_str().unwrap() != "POSE_BANNED",
            "{what}: status"
        );
        assert_eq!(
            hex::encode(e.operator_public_key),
            r["pubkeyoperator"].as_str().unwrap(),
            "{what}: operator key"
        );
        assert_eq!(
            e.platform_node_id_display().as_deref(),
            r.get("platformNodeID").and_then(|v| v.as_str()),
            "{what}: platform node id"
        );
        if let Some(addrs) = r.get("addresses") {
            check_addresses(e, addrs, &what);
        }
        if let Some(address) = r.get("address") {
            assert_eq!(
                printed(e, AddressPurpose::CoreP2p)
                    .first()
                    .map(String::as_str),
                address.as_str(),
                "{what}: address"
            );
        }
    }
}

/// The list at `block` built from Core's diff from the empty list, roots checked.
fn list_from_empty(net: &CoreNet, stem: &str, rpc: &Value) -> MasternodeList {
    let path = net.dir.join("mnlistdiff").join(stem);
    check_against_rpc(
        net,
        &MasternodeList::empty(),
        &read_diff(&path),
        Some(rpc),
        &format!("{}/{stem}", net.dir.display()),
    )
}

#[test]
fn masternode_book_equals_cores_protx_diff_and_masternodelist() {
    let mut v3 = 0;
    for name in NETWORKS {
        let Some(net) = load(name) else { return };
        let rpc = json(
            &net.dir
                .join("rpc")
                .join(format!("protx_diff_null_{}.json", net.tip)),
        );
        let list = list_from_empty(
            &net,
            &format!("mnlistdiff_regtest_null_{}_p70240.bin", net.tip),
            &rpc,
        );
        let book = MasternodeBook::from_list(&list);
        assert_eq!(book.height, net.tip, "{name}");
        assert_eq!(
            book.sml_root,
            display_hash(&rpc["merkleRootMNList"]),
            "{name}"
        );
        check_book_against_protx_diff(&book, &rpc, name);
        check_book_against_masternodelist(
            &book,
            &json(&net.dir.join("rpc/masternodelist_json.json")),
            name,
        );
        v3 += book.entries.iter().filter(|e| e.entry_version == 3).count();
        if *name == "E-v24-extaddr" {
            // What the captures hold (their README): 8 entries, 7 of version 3, 4 evonodes,
            // every kind of address.
            assert_eq!(book.entries.len(), 8);
            assert_eq!(
                book.entries
                    .iter()
                    .filter(|e| e.mn_type == MasternodeType::Evo)
                    .count(),
                4
            );
            let kinds: BTreeSet<String> = book
                .entries
                .iter()
                .flat_map(|e| e.addresses.iter().map(|a| format!("{:?}", a.kind)))
                .collect();
            for k in ["Ipv4", "Ipv6", "TorV3", "I2p", "Domain"] {
                assert!(kinds.contains(k), "{name}: no {k} address: {kinds:?}");
            }
            let purposes: BTreeSet<AddressPurpose> = book
                .entries
                .iter()
                .flat_map(|e| e.addresses.iter().map(|a| a.purpose))
                .collect();
            assert_eq!(purposes.len(), 3, "{name}: {purposes:?}");
        }
    }
    assert_eq!(v3, 7, "version 3 entries across the networks");
}

#[test]
fn v24_edge_cases_after_the_tip_equal_cores() {
    // Network E after 381: an operator-key update resets a version 3 masternode to version 2
    // with no address (PoSe-banned), and a version 3 registration with no core P2P address.
    let Some(net) = load("E-v24-extaddr") else {
        return;
    };
    let headers = read_headers(&net.dir.join("headers/headers_regtest_0_389.bin"));
    assert_eq!(&headers[..=net.tip as usize], &net.headers[..]);
    let mut chain = HeaderChain::from_genesis(Network::Regtest);
    chain.connect(&headers[1..]).unwrap();
    let net389 = CoreNet {
        dir: net.dir.clone(),
        params: net.params.clone(),
        headers,
        tip: chain.tip().0,
        chain,
    };
    assert_eq!(net389.tip, 389);
    let rpc = json(
        &net.dir
            .join("rpc/protx_diff_1_389_after_upreg_emptyaddr.json"),
    );
    let list = list_from_empty(
        &net389,
        "mnlistdiff_regtest_null_389_p70240_after_upreg_emptyaddr.bin",
        &rpc,
    );
    let book = MasternodeBook::from_list(&list);
    assert_eq!(check_book_against_protx_diff(&book, &rpc, "E@389"), 9);
    let empty: Vec<_> = book
        .entries
        .iter()
        .filter(|e| e.addresses.is_empty())
        .collect();
    assert_eq!(empty.len(), 2, "two entries without an address");
    assert!(empty.iter().all(|e| !e.is_valid));
    assert!(empty.iter().any(|e| e.entry_version == 3));
    assert!(empty.iter().any(|e| e.entry_version == 2));
}

#[test]
fn replayed_v24_extaddr_network_syncs_and_its_address_book_is_cores() {
    let Some(net) = load("E-v24-extaddr") else {
        return;
    };
    // The library's own session against this network (packet-capture extracts) and Core's
    // other answers.
    let replay = Arc::new(Replay::load(
        &net,
        &["as_received_by_library", "mnlistdiff", "qrinfo", "locks"],
        net.headers.clone(),
        net.tip,
        false,
    ));
    let (active, known) = core_quorums(&net);
    let rpc = json(
        &net.dir
            .join("rpc")
            .join(format!("protx_diff_null_{}.json", net.tip)),
    );
    let book = Arc::new(Mutex::new(None));
    let book2 = book.clone();
    let rec = replay_sync_with(
        &net,
        replay.clone(),
        Duration::from_secs(5),
        synced,
        move |_, _, client| {
            *book2.lock().unwrap() = client.masternodes();
        },
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
    assert!(l.errors.is_empty(), "errors: {:?}", l.errors);
    // The address book at the tip is Core's, and its change was reported.
    let book = book.lock().unwrap().clone().expect("a book after the sync");
    assert_eq!(
        book.height,
        net.tip,
        "events {:?}, misses {:?}",
        l.masternodes,
        replay.misses.lock().unwrap()
    );
    assert_eq!(book.sml_root, display_hash(&rpc["merkleRootMNList"]));
    check_book_against_protx_diff(&book, &rpc, "replayed E");
    check_book_against_masternodelist(
        &book,
        &json(&net.dir.join("rpc/masternodelist_json.json")),
        "replayed E",
    );
    let last = l.masternodes.last().expect("a masternodes-changed event");
    // The entries last changed before the first list the library fetched (256): the event
    // names that list; later lists carry the same root and are not reported again.
    assert_eq!(last.sml_root, book.sml_root);
    assert!(last.height <= net.tip);
    assert_eq!(last.count, 8);
    // Reported once per change: no two consecutive events name the same list root.
    assert!(l
        .masternodes
        .windows(2)
        .all(|w| w[0].sml_root != w[1].sml_root));
}
