//! Real mainnet/testnet data: every mnlistdiff (and every diff inside every qrinfo) decodes to its
//! last byte, re-encodes identically, applies to its base, and its SML root, quorum root and
//! coinbase proof equal the CbTx / expected values from the vectors' manifest.

mod common;

use common::expected::{ExpectedDiff, EXPECTED_DIFFS};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::sml::{self, DiffCheck, MasternodeList, SmlError};
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::{Decode, Encode};
use dash_qrsync::Network;
use std::collections::HashMap;

fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).unwrap()
}

fn network(name: &str) -> Network {
    name.parse().unwrap()
}

/// Genesis hash of a vector network (a genesis base means "from the empty list").
fn genesis(net: &str) -> Hash256 {
    match net {
        "mainnet" => h("00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6"),
        _ => h("00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"),
    }
}

fn embedded<'a>(q: &'a QrInfo, part: &str) -> &'a MnListDiff {
    match part {
        "mnListDiffTip" => &q.mn_list_diff_tip,
        "mnListDiffH" => &q.mn_list_diff_h,
        "mnListDiffAtHMinusC" => &q.mn_list_diff_h_minus_c,
        "mnListDiffAtHMinus2C" => &q.mn_list_diff_h_minus_2c,
        "mnListDiffAtHMinus3C" => &q.mn_list_diff_h_minus_3c,
        "mnListDiffAtHMinus4C" => &q.extra_share.as_ref().unwrap().mn_list_diff_h_minus_4c,
        p if p.starts_with("mnListDiffList[") => {
            let i: usize = p["mnListDiffList[".len()..p.len() - 1].parse().unwrap();
            &q.mn_list_diff_list[i]
        }
        p => panic!("unknown part {p}"),
    }
}

fn check_diff(e: &ExpectedDiff, diff: &MnListDiff, lists: &mut HashMap<Hash256, MasternodeList>) {
    let what = format!("{} {}", e.file, e.part);
    assert_eq!(diff.block_hash, h(e.block_hash), "{what}: block hash");
    assert_eq!(diff.base_block_hash, h(e.base_hash), "{what}: base hash");
    assert_eq!(diff.new_quorums.len(), e.new_quorums, "{what}: new quorums");
    assert_eq!(
        diff.cb_tx.txid(),
        h(e.coinbase_txid),
        "{what}: coinbase txid"
    );
    let base = if diff.base_block_hash.is_zero() || diff.base_block_hash == genesis(e.network) {
        Some(MasternodeList::empty())
    } else {
        lists.get(&diff.base_block_hash).cloned()
    };
    let Some(base) = base else {
        assert!(!e.applied, "{what}: base list should be known");
        return;
    };
    assert!(e.applied, "{what}: the manifest did not apply this diff");
    let list = base.apply_diff(diff, e.height).expect(&what);
    let check = DiffCheck::compute(&list, diff, None);
    assert_eq!(check.pmt_root, Ok(h(e.pmt_root)), "{what}: PMT root");
    assert_eq!(
        check.sml_root_computed,
        h(e.sml_root.unwrap()),
        "{what}: SML root"
    );
    assert_eq!(
        check.sml_root_computed == check.sml_root_cbtx,
        e.sml_root_matches_cbtx,
        "{what}: SML root vs CbTx"
    );
    if let Some(q) = e.quorum_root {
        assert_eq!(check.quorum_root_computed, h(q), "{what}: quorum root");
    }
    assert_eq!(list.entries.len(), e.list_size, "{what}: list size");
    assert_eq!(list.quorums.len(), e.quorum_count, "{what}: quorum count");
    let verdict = check.result(&network(e.network).activations(), None);
    if e.sml_root_matches_cbtx {
        verdict.unwrap_or_else(|err| panic!("{what}: {err}"));
        // The same through the one-call API, given the proven root as the header's merkle root.
        let again = sml::apply_and_verify(
            &network(e.network).activations(),
            None,
            &base,
            diff,
            e.height,
            Some(h(e.pmt_root)),
        )
        .unwrap();
        assert_eq!(again, list);
        lists.insert(list.block_hash, list);
    } else {
        assert!(
            matches!(verdict, Err(SmlError::SmlRootMismatch { .. })),
            "{what}: a re-serialized vector must be detected: {verdict:?}"
        );
        // Kept (test only) so the next re-serialized diff, based on it, can be checked too.
        lists.insert(list.block_hash, list);
    }
}

#[test]
fn every_vector_diff_applies_and_matches_its_cbtx() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut lists: HashMap<Hash256, MasternodeList> = HashMap::new();
    let mut decoded: HashMap<&str, QrInfo> = HashMap::new();
    let mut checked = 0;
    for e in EXPECTED_DIFFS {
        let payload = common::read_payload(&dir, e.file);
        if e.part.is_empty() {
            let diff = MnListDiff::from_bytes(&payload, e.protocol).unwrap();
            assert_eq!(
                diff.to_bytes(e.protocol),
                payload,
                "{}: re-encoding",
                e.file
            );
            check_diff(e, &diff, &mut lists);
        } else {
            let q = decoded.entry(e.file).or_insert_with(|| {
                let q = QrInfo::from_bytes(&payload, e.protocol).unwrap();
                assert_eq!(q.to_bytes(e.protocol), payload, "{}: re-encoding", e.file);
                q
            });
            let diff = embedded(q, e.part).clone();
            check_diff(e, &diff, &mut lists);
        }
        checked += 1;
    }
    assert_eq!(checked, 157);
    eprintln!("checked {checked} diffs, {} lists verified", lists.len());
}

const SMALL: &str = "testnet/mnlistdiff/mnlistdiff_testnet_0_8000_p70221.bin";

fn small() -> Option<(Vec<u8>, &'static ExpectedDiff)> {
    let dir = common::vectors_dir()?;
    let e = EXPECTED_DIFFS.iter().find(|e| e.file == SMALL).unwrap();
    Some((common::read_payload(&dir, SMALL), e))
}

/// Decodes, applies to the empty list and verifies against the real header merkle root.
fn verify_bytes(bytes: &[u8], e: &ExpectedDiff) -> Result<(), String> {
    let diff = MnListDiff::from_bytes(bytes, e.protocol).map_err(|e| e.to_string())?;
    sml::apply_and_verify(
        &network(e.network).activations(),
        None,
        &MasternodeList::empty(),
        &diff,
        e.height,
        Some(h(e.pmt_root)),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

fn range_of(haystack: &[u8], needle: &[u8]) -> std::ops::Range<usize> {
    let start = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("sub-encoding present");
    start..start + needle.len()
}

#[test]
fn any_flipped_byte_in_an_entry_or_the_coinbase_fails_verification() {
    let Some((bytes, e)) = small() else { return };
    verify_bytes(&bytes, e).expect("the untouched vector verifies");
    let diff = MnListDiff::from_bytes(&bytes, e.protocol).unwrap();
    let entry = range_of(&bytes, &diff.mn_list[0].to_bytes(e.protocol));
    let coinbase = range_of(&bytes, &diff.cb_tx.to_bytes(e.protocol));
    let mut failures = 0;
    for at in entry.clone().chain(coinbase.clone()) {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        let r = verify_bytes(&b, e);
        assert!(r.is_err(), "flipping byte {at} went unnoticed");
        failures += 1;
    }
    eprintln!(
        "{failures} single-byte flips ({} in the first entry, {} in the coinbase) all rejected",
        entry.len(),
        coinbase.len()
    );
}

#[test]
fn truncation_at_every_offset_is_an_error_not_a_panic() {
    let Some((bytes, e)) = small() else { return };
    for cut in 0..bytes.len() {
        assert!(
            MnListDiff::from_bytes(&bytes[..cut], e.protocol).is_err(),
            "truncated at {cut} decoded"
        );
    }
}
