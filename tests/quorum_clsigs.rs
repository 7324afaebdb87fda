//! `quorumsCLSigs` (PROTOCOL.md §2.1) on real data: every entry of every real `mnlistdiff` and
//! `qrinfo` the vectors hold — Dash Core v23.1 regtest networks (captured at 70240 and, as the
//! library received them, at 70237) and testnet/mainnet captures at 70230 — is what Core's
//! `BuildQuorumChainlockInfo` builds: the engine compares each with the `bestCLSignature` of the
//! CbTx of the quorum's work block wherever that block's list is at hand, and the test counts
//! how many were compared (a floor from the real data) and how many could not be. A real message
//! with one entry's signature altered is refused with `WrongQuorumClSig` naming the quorum and
//! both signatures, and leaves the engine as it was; structural faults (an index out of range,
//! an index twice, a quorum left out, entries before V20) are refused with
//! `MalformedQuorumClSigs`.
//!
//! Oracles: the messages are Core's own (the entries were built by Core from its block index);
//! the CbTx signatures come from the diffs' coinbase transactions, proven against real headers.

mod common;

use common::headers::VectorHeaders;
use dash_qrsync::chain::{HeaderChain, HeaderIndex};
use dash_qrsync::engine::{ClSigChecks, ClSigsFault, Engine, EngineConfig, EngineError};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::conf::DashConf;
use dash_qrsync::network::Network;
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::wire::mnlistdiff::{MnListDiff, QuorumClSig};
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use std::path::{Path, PathBuf};

/// The Core regtest networks captured (see `core-regtest/README.md`).
const REGTEST: &[&str] = &[
    "A-v20at100",
    "A2-every-height",
    "B-v20at432",
    "E-v24-extaddr",
];

/// The library negotiates 70237; the `as_received_by_library/` payloads were captured at it.
const AS_RECEIVED_PROTOCOL: u32 = 70237;

/// A real message.
#[derive(Clone)]
enum Msg {
    Diff(Box<MnListDiff>),
    QrInfo(Box<QrInfo>),
}

/// The protocol version of a capture: `_pNNNNN` in its name, else the as-received one.
fn protocol_of(name: &str) -> u32 {
    match name.rsplit_once("_p") {
        Some((_, rest)) => rest
            .trim_end_matches(".bin")
            .split('_')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(AS_RECEIVED_PROTOCOL),
        None => AS_RECEIVED_PROTOCOL,
    }
}

/// Every `mnlistdiff`/`qrinfo` capture under `dir`, decoded.
fn regtest_messages(dir: &Path) -> Vec<(String, Msg)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".bin") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let pv = protocol_of(&name);
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            if name.contains("mnlistdiff_") {
                let d = MnListDiff::from_bytes(&bytes, pv).unwrap_or_else(|e| panic!("{rel}: {e}"));
                out.push((rel, Msg::Diff(Box::new(d))));
            } else if name.contains("qrinfo_") {
                let q = QrInfo::from_bytes(&bytes, pv).unwrap_or_else(|e| panic!("{rel}: {e}"));
                out.push((rel, Msg::QrInfo(Box::new(q))));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A regtest network's parameters (its `dash.conf`) and Core's header chain: the longest
/// `headers_regtest_0_N.bin` it holds (network A's session ran while the chain grew to 311).
fn regtest_network(dir: &Path) -> (EngineConfig, HeaderChain) {
    let params = DashConf::read(&dir.join("dash.conf")).unwrap().params;
    let mut files: Vec<PathBuf> = ["headers", "as_received_by_library"]
        .iter()
        .filter_map(|s| std::fs::read_dir(dir.join(s)).ok())
        .flat_map(|rd| rd.flatten().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("headers_regtest_0_")
        })
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    let file = files.pop().expect("a headers_regtest_0_N.bin");
    let bytes = std::fs::read(&file).unwrap();
    let headers: Vec<BlockHeader> = bytes
        .chunks(80)
        .map(|c| BlockHeader::from_bytes(c, 0).unwrap())
        .collect();
    let mut chain = HeaderChain::from_genesis(Network::Regtest);
    for batch in headers[1..].chunks(2000) {
        chain.connect(batch).unwrap();
    }
    (EngineConfig::new(params), chain)
}

/// The height a message brings the engine to (its diff's block, or a qrinfo's tip diff).
fn target(m: &Msg, headers: &dyn HeaderIndex) -> Option<u32> {
    let block = match m {
        Msg::Diff(d) => d.block_hash,
        Msg::QrInfo(q) => q.mn_list_diff_tip.block_hash,
    };
    headers.height_of(&block)
}

fn feed(
    engine: &mut Engine,
    m: &Msg,
    headers: &dyn HeaderIndex,
) -> Result<ClSigChecks, EngineError> {
    match m {
        Msg::Diff(d) => engine.feed_mnlistdiff(d, headers),
        Msg::QrInfo(q) => engine.feed_qrinfo(q, headers),
    }
    .map(|o| o.cl_sigs)
}

/// Feeds every message in target-height order (a qrinfo before the diffs of its height), again
/// for those whose base was not held yet. Only "not held yet" (`UnknownBase`) and "not in the
/// header chain" (`UnknownBlock`) may refuse a real message; anything else fails the test.
fn feed_all(
    what: &str,
    engine: &mut Engine,
    mut msgs: Vec<(String, Msg)>,
    headers: &dyn HeaderIndex,
) -> (ClSigChecks, usize) {
    msgs.sort_by_key(|(name, m)| {
        (
            target(m, headers).unwrap_or(u32::MAX),
            matches!(m, Msg::Diff(_)),
            name.clone(),
        )
    });
    let mut total = ClSigChecks::default();
    let mut fed = 0;
    for _pass in 0..3 {
        let mut later = Vec::new();
        for (name, m) in msgs {
            match feed(engine, &m, headers) {
                Ok(c) => {
                    total.add(&c);
                    fed += 1;
                }
                Err(EngineError::UnknownBase(_) | EngineError::UnknownBlock(_)) => {
                    later.push((name, m))
                }
                Err(e) => panic!("{what}: {name}: real message refused: {e}"),
            }
        }
        msgs = later;
    }
    for (name, _) in &msgs {
        eprintln!("{what}: {name}: not fed (its base or block is not at hand)");
    }
    (total, fed)
}

fn report(what: &str, c: &ClSigChecks, fed: usize) {
    eprintln!(
        "{what}: {fed} messages fed; quorumsCLSigs claims compared with the work block's CbTx: {} \
         ({} non-null), null below V20: {}, not checkable: {}",
        c.against_cbtx,
        c.non_null,
        c.before_v20,
        c.unchecked.len()
    );
}

fn regtest_dir() -> Option<PathBuf> {
    let d = common::vectors_dir()?.join("core-regtest");
    d.join("README.md").is_file().then_some(d)
}

fn vdiff(dir: &Path, rel: &str, p: u32) -> Msg {
    Msg::Diff(Box::new(
        MnListDiff::from_bytes(&common::read_payload(dir, rel), p).unwrap(),
    ))
}

fn vqrinfo(dir: &Path, rel: &str, p: u32, foreign_tip: bool) -> Msg {
    let mut q = QrInfo::from_bytes(&common::read_payload(dir, rel), p).unwrap();
    if foreign_tip {
        // dashj captures: the tip diff's base is a list the capturing client held and the
        // vectors lack (MANIFEST); the genesis-based H diff stands in for it.
        q.mn_list_diff_tip = q.mn_list_diff_h.clone();
    }
    Msg::QrInfo(Box::new(q))
}

#[test]
fn every_real_quorums_cl_sigs_entry_is_the_work_blocks_cbtx_signature() {
    let Some(vectors) = common::vectors_dir() else {
        return;
    };
    let mut all = ClSigChecks::default();
    // Core regtest networks: every capture, one engine per network.
    let mut regtest = ClSigChecks::default();
    if let Some(root) = regtest_dir() {
        for net in REGTEST {
            let dir = root.join(net);
            let (cfg, chain) = regtest_network(&dir);
            let mut engine = Engine::new(cfg);
            let (c, fed) = feed_all(net, &mut engine, regtest_messages(&dir), &chain);
            report(net, &c, fed);
            assert!(fed > 0, "{net}: nothing fed");
            if *net == "A2-every-height" {
                // Every list is held when each diff arrives: every claim is comparable.
                assert!(c.unchecked.is_empty(), "A2: {:?} not checked", c.unchecked);
            }
            regtest.add(&c);
        }
        // Network A2 has a diff to every height, so every claim in it has its work block's list
        // at hand (413 comparisons, 161 non-null); the four networks give 574 (284 non-null).
        assert!(
            regtest.against_cbtx >= 500 && regtest.non_null >= 250,
            "regtest: too few comparisons ({} against a CbTx, {} non-null)",
            regtest.against_cbtx,
            regtest.non_null
        );
        all.add(&regtest);
    }
    // Testnet at 70230 (V20 active since 905100): the qrinfos and diffs after V20.
    let testnet_headers = VectorHeaders::load(&vectors, "testnet");
    let mut engine = Engine::new(EngineConfig::for_network(Network::Testnet));
    let t = |rel: &str, p| (rel.to_string(), vdiff(&vectors, rel, p));
    let mut msgs = vec![
        t(
            "testnet/mnlistdiff/mnlistdiff_testnet_0_530000_p70228.bin",
            70228,
        ),
        t(
            "testnet/mnlistdiff/mnlistdiff_testnet_530000_904382_p70230.bin",
            70230,
        ),
        t(
            "testnet/mnlistdiff/mnlistdiff_testnet_530000_905465_p70230.bin",
            70230,
        ),
        t(
            "testnet/mnlistdiff/mnlistdiff_testnet_530000_907104_p70230.bin",
            70230,
        ),
        t(
            "testnet/mnlistdiff/mnlistdiff_testnet_0_905762_p70230.bin",
            70230,
        ),
    ];
    let chain_dir = vectors.join("testnet/mnlistdiff/chain_907104_907296");
    for e in std::fs::read_dir(&chain_dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".bin") {
            msgs.push(t(
                &format!("testnet/mnlistdiff/chain_907104_907296/{name}"),
                70230,
            ));
        }
    }
    for (rel, foreign) in [
        (
            "testnet/qrinfo/qrinfo_testnet_530000_904144_p70230.bin",
            false,
        ),
        (
            "testnet/qrinfo/qrinfo_testnet_530000_904383_p70230.bin",
            false,
        ),
        (
            "testnet/qrinfo/qrinfo_testnet_530000_905538_p70230.bin",
            false,
        ),
        ("testnet/qrinfo/qrinfo_testnet_0_900692_p70230.bin", false),
        ("testnet/qrinfo/qrinfo_testnet_0_905294_p70230.bin", false),
        ("testnet/qrinfo/qrinfo_testnet_0_905770_p70230.bin", true),
    ] {
        msgs.push((rel.to_string(), vqrinfo(&vectors, rel, 70230, foreign)));
    }
    let (testnet, fed) = feed_all("testnet", &mut engine, msgs, &testnet_headers);
    report("testnet", &testnet, fed);
    assert!(
        testnet.against_cbtx >= 1 && testnet.non_null >= 1,
        "testnet: no claim compared with a CbTx"
    );
    all.add(&testnet);
    // Mainnet at 70230 (V20 at 1987776): the full list at 2028691 and the qrinfo for 2028764.
    let mainnet_headers = VectorHeaders::load(&vectors, "mainnet");
    let mut engine = Engine::new(EngineConfig::for_network(Network::Mainnet));
    let msgs = vec![
        (
            "mnlistdiff_mainnet_0_2028691".to_string(),
            vdiff(
                &vectors,
                "mainnet/mnlistdiff/mnlistdiff_mainnet_0_2028691_p70230.bin",
                70230,
            ),
        ),
        (
            "mnlistdiff_mainnet_0_2221605".to_string(),
            vdiff(
                &vectors,
                "mainnet/mnlistdiff/mnlistdiff_mainnet_0_2221605_p70230.msg.hex",
                70230,
            ),
        ),
        (
            "qrinfo_mainnet_0_2028764".to_string(),
            vqrinfo(
                &vectors,
                "mainnet/qrinfo/qrinfo_mainnet_0_2028764_p70230.bin",
                70230,
                true,
            ),
        ),
    ];
    let (mainnet, fed) = feed_all("mainnet", &mut engine, msgs, &mainnet_headers);
    report("mainnet", &mainnet, fed);
    all.add(&mainnet);
    report("all real data", &all, 0);
    assert!(all.compared() > 0);
}

/// Network A2's diffs from the empty list to every height, and from h − 1 to h.
fn every_height(dir: &Path, name: &str) -> MnListDiff {
    let f = dir.join("mnlistdiff_every_height").join(name);
    MnListDiff::from_bytes(&std::fs::read(&f).unwrap(), 70240)
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
}

/// An engine holding network A2's list at every height up to `upto` (chained h − 1 → h diffs),
/// its header chain, and its configuration's V20 height.
fn a2_engine(upto: u32) -> Option<(Engine, HeaderChain, PathBuf)> {
    let dir = regtest_dir()?.join("A2-every-height");
    let (cfg, chain) = regtest_network(&dir);
    let mut engine = Engine::new(cfg);
    engine
        .feed_mnlistdiff(
            &every_height(&dir, "mnlistdiff_regtest_null_2_p70240.bin"),
            &chain,
        )
        .unwrap();
    for h in 3..=upto {
        let d = every_height(
            &dir,
            &format!("mnlistdiff_regtest_{}_{h}_p70240.bin", h - 1),
        );
        engine.feed_mnlistdiff(&d, &chain).unwrap();
    }
    Some((engine, chain, dir))
}

/// What the engine holds (lists, validated count, pending quorums, tip list).
type EngineState = (
    Vec<(u32, Hash256)>,
    usize,
    Vec<(u8, Hash256)>,
    Option<Hash256>,
);

/// What the engine holds, to show a refused feed changed nothing.
fn state(e: &Engine) -> EngineState {
    (
        e.held_lists(),
        e.validated_count(),
        e.pending(),
        e.tip_list().map(|l| l.block_hash),
    )
}

/// The first real diff of network A2's chain (h − 1 → h) whose entries are compared with a
/// non-null CbTx signature and that has at least `min_quorums` new quorums, with the engine as
/// it was before it.
fn a2_first_non_null(min_quorums: usize) -> Option<(Engine, HeaderChain, MnListDiff, u32)> {
    let (mut engine, chain, dir) = a2_engine(2)?;
    for h in 3..=chain.tip().0 {
        let d = every_height(
            &dir,
            &format!("mnlistdiff_regtest_{}_{h}_p70240.bin", h - 1),
        );
        let before = engine.clone();
        let out = engine.feed_mnlistdiff(&d, &chain).unwrap();
        if out.cl_sigs.non_null > 0 && d.new_quorums.len() >= min_quorums {
            return Some((before, chain, d, h));
        }
    }
    panic!("A2: no diff with a non-null quorumsCLSigs entry and {min_quorums} new quorums");
}

#[test]
fn an_altered_signature_in_a_real_diff_is_refused_naming_the_quorum() {
    let Some((engine, chain, real, h)) = a2_first_non_null(1) else {
        return;
    };
    let non_null: Vec<usize> = real
        .quorums_cl_sigs
        .iter()
        .enumerate()
        .filter(|(_, e)| e.signature != [0; 96])
        .map(|(i, _)| i)
        .collect();
    assert!(!non_null.is_empty());
    for i in non_null {
        let mut bad = real.clone();
        let original = bad.quorums_cl_sigs[i].signature;
        bad.quorums_cl_sigs[i].signature[5] ^= 0xff;
        let mut e = engine.clone();
        let err = e.feed_mnlistdiff(&bad, &chain).unwrap_err();
        match &err {
            EngineError::WrongQuorumClSig {
                block,
                llmq_type,
                quorum_hash,
                claimed,
                expected,
                ..
            } => {
                assert_eq!(*block, real.block_hash);
                let first = usize::from(bad.quorums_cl_sigs[i].quorum_indexes[0]);
                let q = &real.new_quorums[first];
                assert_eq!((*llmq_type, *quorum_hash), (q.llmq_type, q.quorum_hash));
                assert_eq!(claimed[..], bad.quorums_cl_sigs[i].signature[..8]);
                assert_eq!(expected[..], original[..8]);
                assert_ne!(claimed, expected);
            }
            other => panic!("diff to {h}: expected WrongQuorumClSig, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&hex::encode(&original[..8])), "{text}");
        assert_eq!(
            state(&e),
            state(&engine),
            "a refused diff changed the engine"
        );
    }
    // The real diff itself is accepted.
    engine.clone().feed_mnlistdiff(&real, &chain).unwrap();
}

#[test]
fn a_null_claim_where_the_cbtx_has_a_chainlock_is_refused_and_vice_versa() {
    let Some((engine, chain, real, _)) = a2_first_non_null(1) else {
        return;
    };
    // Null for a quorum whose work block's CbTx carries a ChainLock.
    let mut bad = real.clone();
    let i = bad
        .quorums_cl_sigs
        .iter()
        .position(|e| e.signature != [0; 96])
        .unwrap();
    if bad.quorums_cl_sigs.iter().any(|e| e.signature == [0; 96]) {
        // Merge into the existing null entry (a second null entry is a structural fault).
        let moved = bad.quorums_cl_sigs.remove(i);
        let z = bad
            .quorums_cl_sigs
            .iter_mut()
            .find(|e| e.signature == [0; 96])
            .unwrap();
        z.quorum_indexes.extend(moved.quorum_indexes);
    } else {
        bad.quorums_cl_sigs[i].signature = [0; 96];
    }
    let err = engine.clone().feed_mnlistdiff(&bad, &chain).unwrap_err();
    assert!(
        matches!(err, EngineError::WrongQuorumClSig { expected, claimed, .. }
            if claimed == [0; 8] && expected != [0; 8]),
        "{err:?}"
    );
    // A ChainLock signature for a quorum whose work block is below V20 (Core's rule: null
    // there, whatever the CbTx): testnet's diff 530000 → 905465 (V20 at 905100) holds quorums
    // based before 905108.
    let Some(vectors) = common::vectors_dir() else {
        return;
    };
    let headers = VectorHeaders::load(&vectors, "testnet");
    let cfg = EngineConfig::for_network(Network::Testnet);
    let v20 = cfg.params.activations().v20;
    let mut engine = Engine::new(cfg);
    let Msg::Diff(base) = vdiff(
        &vectors,
        "testnet/mnlistdiff/mnlistdiff_testnet_0_530000_p70228.bin",
        70228,
    ) else {
        unreachable!()
    };
    engine.feed_mnlistdiff(&base, &headers).unwrap();
    let Msg::Diff(d) = vdiff(
        &vectors,
        "testnet/mnlistdiff/mnlistdiff_testnet_530000_905465_p70230.bin",
        70230,
    ) else {
        unreachable!()
    };
    let below: Vec<u16> = d
        .new_quorums
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            headers
                .height_of(&q.quorum_hash)
                .is_some_and(|b| i64::from(b) - i64::from(q.quorum_index) - 8 < i64::from(v20))
        })
        .map(|(i, _)| i as u16)
        .collect();
    assert!(
        !below.is_empty(),
        "testnet 905465: no quorum with a work block below V20"
    );
    let out = engine.clone().feed_mnlistdiff(&d, &headers).unwrap();
    assert!(out.cl_sigs.before_v20 >= below.len(), "{:?}", out.cl_sigs);
    let sig = d
        .quorums_cl_sigs
        .iter()
        .find(|e| e.signature != [0; 96])
        .expect("905465 has a ChainLock entry")
        .signature;
    let mut bad = d.clone();
    for e in &mut bad.quorums_cl_sigs {
        e.quorum_indexes.retain(|i| !below.contains(i));
    }
    bad.quorums_cl_sigs.retain(|e| !e.quorum_indexes.is_empty());
    bad.quorums_cl_sigs
        .iter_mut()
        .find(|e| e.signature == sig)
        .unwrap()
        .quorum_indexes
        .extend(&below);
    let before = state(&engine);
    let err = engine.feed_mnlistdiff(&bad, &headers).unwrap_err();
    assert!(
        matches!(&err, EngineError::WrongQuorumClSig { expected, claimed, work_height, .. }
            if *expected == [0; 8] && claimed[..] == sig[..8] && *work_height < v20),
        "{err:?}"
    );
    assert_eq!(state(&engine), before);
}

#[test]
fn structural_faults_in_a_real_diff_are_refused() {
    let Some((engine, chain, real, h)) = a2_first_non_null(2) else {
        return;
    };
    let n = real.new_quorums.len();
    let refused = |bad: &MnListDiff| -> ClSigsFault {
        let mut e = engine.clone();
        match e.feed_mnlistdiff(bad, &chain).unwrap_err() {
            EngineError::MalformedQuorumClSigs {
                block,
                height,
                fault,
            } => {
                assert_eq!((block, height), (real.block_hash, h));
                assert_eq!(state(&e), state(&engine));
                fault
            }
            other => panic!("expected MalformedQuorumClSigs, got {other:?}"),
        }
    };
    // An index out of range.
    let mut bad = real.clone();
    bad.quorums_cl_sigs[0].quorum_indexes.push(n as u16);
    assert_eq!(
        refused(&bad),
        ClSigsFault::IndexOutOfRange {
            index: n as u16,
            new_quorums: n
        }
    );
    // The same quorum twice.
    let mut bad = real.clone();
    let first = bad.quorums_cl_sigs[0].quorum_indexes[0];
    bad.quorums_cl_sigs[0].quorum_indexes.push(first);
    assert_eq!(refused(&bad), ClSigsFault::IndexedTwice { index: first });
    // A quorum left out.
    let mut bad = real.clone();
    let dropped = bad.quorums_cl_sigs[0].quorum_indexes.remove(0);
    bad.quorums_cl_sigs.retain(|e| !e.quorum_indexes.is_empty());
    assert!(
        matches!(refused(&bad), ClSigsFault::NotCovered { index, .. } if index == dropped),
        "left out"
    );
    // No entry at all is accepted: without the protocol version it is what a peer below
    // 70230 sends (the field is absent), so nothing is claimed and nothing is checked.
    let mut bare = real.clone();
    bare.quorums_cl_sigs.clear();
    let out = engine.clone().feed_mnlistdiff(&bare, &chain).unwrap();
    assert_eq!(out.cl_sigs, ClSigChecks::default());
    // An entry with no quorum.
    let mut bad = real.clone();
    bad.quorums_cl_sigs.push(QuorumClSig {
        signature: [7; 96],
        quorum_indexes: Vec::new(),
    });
    assert_eq!(refused(&bad), ClSigsFault::EmptyEntry);
    // Two entries with one signature.
    let mut bad = real.clone();
    bad.quorums_cl_sigs.push(QuorumClSig {
        signature: bad.quorums_cl_sigs[0].signature,
        quorum_indexes: vec![0],
    });
    assert_eq!(refused(&bad), ClSigsFault::DuplicateSignature);
    // Entries in a diff to a block before V20 (A2: V20 at 100): Core builds none there.
    let Some((engine, chain, dir)) = a2_engine(2) else {
        return;
    };
    let mut early = every_height(&dir, "mnlistdiff_regtest_null_50_p70240.bin");
    early.quorums_cl_sigs.push(QuorumClSig {
        signature: [0; 96],
        quorum_indexes: vec![0],
    });
    let err = engine.clone().feed_mnlistdiff(&early, &chain).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::MalformedQuorumClSigs {
                fault: ClSigsFault::BeforeV20 { v20: 100 },
                height: 50,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_altered_signature_in_a_real_qrinfo_is_refused() {
    let Some(root) = regtest_dir() else { return };
    let dir = root.join("A2-every-height");
    let (cfg, chain) = regtest_network(&dir);
    let q = QrInfo::from_bytes(
        &std::fs::read(dir.join("qrinfo/qrinfo_regtest_nobase_309_extra_p70240.bin")).unwrap(),
        70240,
    )
    .unwrap();
    let mut engine = Engine::new(cfg);
    let out = engine.clone().feed_qrinfo(&q, &chain).unwrap();
    // The rotated quorums of the tip diff have their work block (H − 8) in the same message.
    assert!(out.cl_sigs.non_null > 0, "{:?}", out.cl_sigs);
    let mut bad = q.clone();
    let entry = bad
        .mn_list_diff_tip
        .quorums_cl_sigs
        .iter_mut()
        .find(|e| e.signature != [0; 96])
        .unwrap();
    entry.signature[3] ^= 0x5a;
    let err = engine.feed_qrinfo(&bad, &chain).unwrap_err();
    assert!(
        matches!(&err, EngineError::WrongQuorumClSig { block, .. } if *block == q.mn_list_diff_tip.block_hash),
        "{err:?}"
    );
    assert!(engine.held_lists().is_empty() && engine.validated_count() == 0);
    // Out of range in the same message.
    let mut bad = q.clone();
    let n = bad.mn_list_diff_tip.new_quorums.len() as u16;
    bad.mn_list_diff_tip.quorums_cl_sigs[0]
        .quorum_indexes
        .push(n + 3);
    let err = engine.feed_qrinfo(&bad, &chain).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::MalformedQuorumClSigs {
                fault: ClSigsFault::IndexOutOfRange { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(engine.held_lists().is_empty());
}
