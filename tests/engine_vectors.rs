//! The masternode list engine on real mainnet/testnet data (issue 3): every rotated quorum of
//! every usable qrinfo capture is rebuilt member by member and both of its signatures verify;
//! non-rotated quorums validate wherever their lists are in the vectors; tampering with any
//! signature, key, bitset or snapshot is caught with a typed reason; "missing lists" is exact.

mod common;

use common::headers::VectorHeaders;
use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::engine::{Engine, EngineConfig, EngineError};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::quorum::verify::{self, ListSource, QuorumFailure, Verdict};
use dash_qrsync::sml::MasternodeList;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::{QrInfo, QuorumSnapshot};
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;
use std::path::Path;

fn qrinfo(dir: &Path, rel: &str, p: u32) -> QrInfo {
    QrInfo::from_bytes(&common::read_payload(dir, rel), p).unwrap()
}

fn diff(dir: &Path, rel: &str, p: u32) -> MnListDiff {
    MnListDiff::from_bytes(&common::read_payload(dir, rel), p).unwrap()
}

/// dashj captures end with a tip diff based on a list the capturing client held and that is not
/// in the vectors; for those the tip diff is replaced by the (genesis-based) H diff so the rest
/// of the message can be checked.
fn without_foreign_tip(mut q: QrInfo) -> QrInfo {
    q.mn_list_diff_tip = q.mn_list_diff_h.clone();
    q
}

struct Case {
    file: &'static str,
    network: Network,
    protocol: u32,
    /// A full list to feed first (the base of the qrinfo's diffs), if any.
    base: Option<(&'static str, u32)>,
    foreign_tip: bool,
    /// For captures whose quorum base blocks are in no header file: `(cycle, first index)`
    /// pairs saying which cycle the commitments with `quorumIndex ≥ first index` belong to.
    /// Their base heights are assumed to be `cycle + quorumIndex` — test scaffolding standing in
    /// for the headers a syncing client has; member computation and BLS checks are unchanged.
    /// (For tip 900692, indexes 0–29 are from cycle 900000 and 30–31 from 900288: only those
    /// members make `membersSig` verify. `spec/vectors/README.md` says all 32 are from 900000.)
    assumed_cycle: Option<&'static [(u32, i16)]>,
}

const CASES: &[Case] = &[
    Case {
        file: "mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin",
        network: Network::Mainnet,
        protocol: 70221,
        base: None,
        foreign_tip: false,
        assumed_cycle: None,
    },
    Case {
        file: "mainnet/qrinfo/qrinfo_mainnet_0_1740902_p70221.bin",
        network: Network::Mainnet,
        protocol: 70221,
        base: None,
        foreign_tip: false,
        assumed_cycle: None,
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_0_900692_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: None,
        foreign_tip: false,
        assumed_cycle: Some(&[(900_000, 0), (900_288, 30)]),
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_0_905294_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: None,
        foreign_tip: false,
        assumed_cycle: None,
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_0_905770_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: None,
        foreign_tip: true,
        assumed_cycle: None,
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_530000_904144_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: Some((
            "testnet/mnlistdiff/mnlistdiff_testnet_0_530000_p70228.bin",
            70228,
        )),
        foreign_tip: false,
        assumed_cycle: None,
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_530000_904383_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: Some((
            "testnet/mnlistdiff/mnlistdiff_testnet_0_530000_p70228.bin",
            70228,
        )),
        foreign_tip: false,
        assumed_cycle: None,
    },
    Case {
        file: "testnet/qrinfo/qrinfo_testnet_530000_905538_p70230.bin",
        network: Network::Testnet,
        protocol: 70230,
        base: Some((
            "testnet/mnlistdiff/mnlistdiff_testnet_0_530000_p70228.bin",
            70228,
        )),
        foreign_tip: false,
        assumed_cycle: None,
    },
];

fn fed(dir: &Path, case: &Case) -> (Engine, QrInfo, VectorHeaders) {
    let mut headers = VectorHeaders::load(dir, case.network.name());
    let mut engine = Engine::new(EngineConfig::for_network(case.network));
    if let Some((base, p)) = case.base {
        engine
            .feed_mnlistdiff(&diff(dir, base, p), &headers)
            .unwrap_or_else(|e| panic!("{base}: {e}"));
    }
    let mut q = qrinfo(dir, case.file, case.protocol);
    if case.foreign_tip {
        q = without_foreign_tip(q);
    }
    if let Some(cycles) = case.assumed_cycle {
        for c in &q.last_commitment_per_index {
            let (cycle, _) = cycles
                .iter()
                .rev()
                .find(|(_, first)| c.quorum_index >= *first)
                .expect("every index is covered");
            if headers.height_of(&c.quorum_hash).is_none() {
                headers.assume(cycle + c.quorum_index as u32, c.quorum_hash);
            }
        }
    }
    (engine, q, headers)
}

#[test]
fn every_rotated_quorum_of_every_qrinfo_validates() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut fully_validated_captures = 0;
    for case in CASES {
        let (mut engine, q, headers) = fed(&dir, case);
        let out = engine
            .feed_qrinfo(&q, &headers)
            .unwrap_or_else(|e| panic!("{}: {e}", case.file));
        assert_eq!(q.last_commitment_per_index.len(), 32, "{}", case.file);
        let missing = engine.missing(&headers);
        let mut validated = 0;
        for c in &q.last_commitment_per_index {
            if engine.quorum(c.llmq_type, &c.quorum_hash).is_some() {
                validated += 1;
                continue;
            }
            // Not validated: only acceptable when the capture lacks a list its members need
            // (an older cycle's commitment, kept after DKG failures), and the engine says so.
            let base = headers
                .height_of(&c.quorum_hash)
                .unwrap_or_else(|| panic!("{}: unknown base {}", case.file, c.quorum_hash));
            let cfg = EngineConfig::for_network(case.network);
            let req = verify::requirements(&cfg.params, c, base);
            let lacking: Vec<u32> = req
                .list_heights
                .iter()
                .copied()
                .filter(|h| engine.list_at_height(*h).is_none())
                .collect();
            assert!(
                !lacking.is_empty() && lacking.iter().all(|h| missing.list_heights.contains(h)),
                "{}: rotated quorum {} (index {}, base {base}) neither validated nor reported \
                 missing (needs {:?}, missing {:?})",
                case.file,
                c.quorum_hash,
                c.quorum_index,
                req,
                missing
            );
        }
        if validated == 32 {
            fully_validated_captures += 1;
        }
        let rotated = engine.quorums_of_type(q.last_commitment_per_index[0].llmq_type);
        assert!(rotated.len() >= validated, "{}", case.file);
        eprintln!(
            "{}: {validated}/32 last commitments validated; {} quorums validated ({} rotated), \
             {} pending, {} BLS verifications",
            case.file,
            engine.validated_count(),
            rotated.len(),
            out.quorums_pending.len(),
            out.bls_verifications
        );
    }
    // Mainnet 1739226 and 1740902 (legacy, pre-V19), testnet 900692 (two cycles), 905294
    // (post-V20 modifier) and 905770 hold every list their commitments need.
    assert!(fully_validated_captures >= 5, "{fully_validated_captures}");
}

#[test]
fn non_rotated_quorums_validate_where_their_lists_are_held() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let headers = VectorHeaders::load(&dir, "mainnet");
    let mut engine = Engine::new(EngineConfig::for_network(Network::Mainnet));
    let full = diff(
        &dir,
        "mainnet/mnlistdiff/mnlistdiff_mainnet_0_1870848_p70227.bin",
        70227,
    );
    engine.feed_mnlistdiff(&full, &headers).unwrap();
    let next = diff(
        &dir,
        "mainnet/mnlistdiff/chain_1870848_1871755/mnlistdiff_mainnet_1870848_1871136_p70227.bin",
        70227,
    );
    let out = engine.feed_mnlistdiff(&next, &headers).unwrap();
    // The quorums of types 2, 3 and 4 based at 1870848 use the list at 1870848 (pre-V20) and
    // the legacy scheme with secure aggregation.
    let base = full.block_hash;
    for t in [2u8, 3, 4] {
        let q = engine
            .quorum(t, &base)
            .unwrap_or_else(|| panic!("type {t} quorum at 1870848 not validated"));
        assert!(q.info.legacy_scheme);
        assert_eq!(q.info.height, 1_870_848);
    }
    assert!(out.quorums_validated.len() >= 3);
}

#[test]
fn legacy_quorum_signatures_verify_in_the_2221605_full_list() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let d = diff(
        &dir,
        "mainnet/mnlistdiff/mnlistdiff_mainnet_0_2221605_p70230.msg.hex",
        70230,
    );
    let legacy: Vec<_> = d.new_quorums.iter().filter(|q| q.version == 1).collect();
    assert_eq!(legacy.len(), 24);
    for q in &d.new_quorums {
        verify::verify_quorum_sig(q).unwrap_or_else(|e| {
            panic!("type {} v{} {}: {e}", q.llmq_type, q.version, q.quorum_hash)
        });
    }
}

/// A list source that serves the engine's lists but a tampered snapshot for one cycle.
struct Tampered<'a> {
    engine: &'a Engine,
    cycle: u32,
    snapshot: QuorumSnapshot,
}

impl ListSource for Tampered<'_> {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        self.engine.list_at(height)
    }
    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        if cycle_height == self.cycle {
            Some(&self.snapshot)
        } else {
            self.engine.snapshot_at(cycle_height)
        }
    }
}

#[test]
fn tampering_is_caught_with_a_typed_reason_and_nothing_else_changes() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let case = &CASES[3]; // testnet 905294, post-V20 new quarter
    let (mut engine, q, headers) = fed(&dir, case);
    engine.feed_qrinfo(&q, &headers).unwrap();
    let cfg = engine.config().clone();
    let verdict = |c: &dash_qrsync::wire::commitment::FinalCommitment, src: &dyn ListSource| {
        let h = headers.height_of(&c.quorum_hash).unwrap();
        verify::verify_commitment(&cfg.params, c, h, &headers, src)
    };
    let all = &q.last_commitment_per_index;
    for c in all {
        assert!(matches!(verdict(c, &engine), Verdict::Valid { .. }));
    }
    let target = &all[7];
    let others_still_valid = |src: &dyn ListSource, skip: &Hash256| {
        for c in all.iter().filter(|c| c.quorum_hash != *skip) {
            assert!(matches!(verdict(c, src), Verdict::Valid { .. }));
        }
    };
    // One bit of each signed field.
    let mut cases: Vec<(&str, dash_qrsync::wire::commitment::FinalCommitment)> = Vec::new();
    let mut c = target.clone();
    c.quorum_sig[40] ^= 1;
    cases.push(("quorumSig", c));
    let mut c = target.clone();
    c.members_sig[40] ^= 1;
    cases.push(("membersSig", c));
    let mut c = target.clone();
    c.quorum_public_key[20] ^= 1;
    cases.push(("quorumPublicKey", c));
    let mut c = target.clone();
    let i = (0..c.valid_members.len())
        .find(|&i| c.valid_members.get(i))
        .unwrap();
    c.valid_members.set(i, false);
    cases.push(("validMembers", c));
    for (what, bad) in &cases {
        match verdict(bad, &engine) {
            Verdict::Invalid(reason) => {
                eprintln!("tampered {what}: {reason}");
                assert!(!matches!(reason, QuorumFailure::UnknownBaseBlock));
            }
            other => panic!("tampered {what} not rejected: {other:?}"),
        }
        others_still_valid(&engine, &target.quorum_hash);
    }
    // One bit of a snapshot: the quorums whose members come from that cycle fail.
    let h = headers.height_of(&target.quorum_hash).unwrap();
    let cycle = h - h % 288 - 288;
    let mut snap = engine.snapshot_at(cycle).unwrap().clone();
    let bit = snap.active_quorum_members.get(3);
    snap.active_quorum_members.set(3, !bit);
    let src = Tampered {
        engine: &engine,
        cycle,
        snapshot: snap,
    };
    let failed = all
        .iter()
        .filter(|c| {
            matches!(
                verdict(c, &src),
                Verdict::Invalid(QuorumFailure::MembersSigInvalid)
            )
        })
        .count();
    assert!(failed >= 1, "a flipped snapshot bit must break some quorum");

    // A qrinfo carrying a tampered commitment is rejected whole; the engine is unchanged.
    let (mut fresh, mut q2, headers2) = fed(&dir, case);
    let before = fresh.held_lists();
    q2.last_commitment_per_index[7].quorum_sig[40] ^= 1;
    let err = fresh.feed_qrinfo(&q2, &headers2).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::InvalidQuorum { .. } | EngineError::ConflictingCommitment { .. }
        ),
        "{err}"
    );
    assert_eq!(fresh.held_lists(), before);
    assert_eq!(fresh.validated_count(), 0);
}

#[test]
fn missing_lists_match_the_hand_derived_set() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let case = &CASES[3]; // testnet 905294
    let (mut engine, q, headers) = fed(&dir, case);
    engine.feed_qrinfo(&q, &headers).unwrap();
    let missing = engine.missing(&headers);
    // Derived by hand from the tip list's 141 commitments and their base heights (testnet header
    // file 900776–905775 and the DSC block store): non-rotated types need the list at the base
    // block before V20 (905100) and at base − 8 from it; the rotated LLMQ_60_75 quorums of cycle
    // 905184 need 905176, 904888, 904600 and 904312, which this qrinfo delivered. Plus 905286
    // (tip − 8): a ChainLock for the tip is signed by the LLMQ_50_60 set at 905286, and the
    // nearest held list (905176) is separated from it by mining windows.
    let expected: Vec<u32> = vec![
        338688, 417600, 417888, 418176, 418464, 904728, 904752, 904776, 904800, 904824, 904848,
        904872, 904896, 904920, 904944, 904968, 904992, 905016, 905040, 905064, 905088, 905104,
        905128, 905152, 905200, 905224, 905248, 905272, 905286,
    ];
    let got: Vec<u32> = missing
        .list_heights
        .iter()
        .chain(missing.unresolved_heights.iter())
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(got, expected);
    assert!(missing.snapshot_heights.is_empty());
    // Each request goes against the nearest held list at or below its target.
    for r in engine.mnlistdiff_requests(&missing, &headers) {
        let target = headers.height_of(&r.block_hash).unwrap();
        if let Some(base) = headers.height_of(&r.base_block_hash) {
            assert!(base <= target);
        }
    }
}
