//! The engine snapshot format on real data: round trip, sharing, and every bad-state case.

mod common;

use common::headers::VectorHeaders;
use dash_qrsync::engine::persist::PersistError;
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::persist::{BlobKind, EnvelopeError};
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;

const ENGINE: BlobKind = BlobKind::Engine;

fn fed() -> Option<(Engine, VectorHeaders)> {
    let dir = common::vectors_dir()?;
    let headers = VectorHeaders::load(&dir, "testnet");
    let q = QrInfo::from_bytes(
        &common::read_payload(&dir, "testnet/qrinfo/qrinfo_testnet_0_905294_p70230.bin"),
        70230,
    )
    .unwrap();
    let mut e = Engine::new(EngineConfig::for_network(Network::Testnet));
    e.feed_qrinfo(&q, &headers).unwrap();
    Some((e, headers))
}

#[test]
fn engine_round_trips_with_entries_stored_once() {
    let Some((e, headers)) = fed() else { return };
    let bytes = e.to_bytes();
    let back = Engine::from_bytes(EngineConfig::for_network(Network::Testnet), &bytes).unwrap();
    assert_eq!(back.held_lists(), e.held_lists());
    assert_eq!(back.validated_count(), e.validated_count());
    assert_eq!(back.pending(), e.pending());
    assert_eq!(back.missing(&headers), e.missing(&headers));
    for (h, _) in e.held_lists() {
        let (a, b) = (
            e.list_at_height(h).unwrap(),
            back.list_at_height(h).unwrap(),
        );
        assert_eq!(a.sml_root(), b.sml_root());
        assert_eq!(a.quorum_root(), b.quorum_root());
    }
    // Six lists of ~514 entries share most entries: far less than six full copies (plus the
    // decoded operator keys, 52 bytes each).
    let lists = e.held_lists().len();
    let entries_per_list = e.tip_list().unwrap().entries.len();
    eprintln!(
        "engine snapshot: {} bytes for {lists} lists of ~{entries_per_list} entries, {} quorums, \
         {} operator keys",
        bytes.len(),
        e.validated_count(),
        e.cached_keys()
    );
    assert!(
        bytes.len() < lists * entries_per_list * 150 / 2 + e.cached_keys() * (4 + 48),
        "{} bytes",
        bytes.len()
    );
    assert!(back.to_bytes() == bytes, "re-serialization is not stable");
}

/// The operator keys decoded while validating are saved with the snapshot and restored without
/// decoding them again; restored, they are the same points: every quorum validated before
/// validates again from the restored keys alone (a wrong point fails its `membersSig`).
#[test]
fn decoded_operator_keys_survive_a_restart() {
    use dash_qrsync::quorum::verify::{self, Verdict};
    let Some((e, headers)) = fed() else { return };
    assert!(e.cached_keys() > 0);
    let back =
        Engine::from_bytes(EngineConfig::for_network(Network::Testnet), &e.to_bytes()).unwrap();
    assert_eq!(back.cached_keys(), e.cached_keys());
    assert_eq!(*back.key_cache(), *e.key_cache());
    let cfg = back.config().clone();
    let mut jobs = Vec::new();
    for t in &cfg.llmq().configured_types {
        for q in back.quorums_of_type(*t) {
            jobs.push((q.commitment.clone(), q.info.height));
        }
    }
    assert_eq!(jobs.len(), e.validated_count());
    let mut cache = verify::MemberCache::with_known_keys(back.key_cache());
    let (verdicts, _) =
        verify::verify_commitments_batched(&cfg.params, &jobs, &headers, &back, &mut cache);
    for v in &verdicts {
        assert!(matches!(v, Verdict::Valid { .. }), "{v:?}");
    }
    // Nothing was decoded again.
    assert!(cache.into_new_keys().is_empty());
}

#[test]
fn bad_snapshots_are_typed_errors() {
    let Some((e, _)) = fed() else { return };
    let bytes = e.to_bytes();
    let cfg = || EngineConfig::for_network(Network::Testnet);
    // Truncated anywhere.
    for cut in [0, 3, 7, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            Engine::from_bytes(cfg(), &bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // A flipped byte anywhere in the body.
    for at in [10, bytes.len() / 3, bytes.len() - 40] {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        assert_eq!(
            Engine::from_bytes(cfg(), &b).unwrap_err(),
            PersistError::Envelope(EnvelopeError::Checksum { kind: ENGINE })
        );
    }
    // Other format version.
    let mut b = bytes.clone();
    b[4] = 99;
    assert_eq!(
        Engine::from_bytes(cfg(), &b).unwrap_err(),
        PersistError::Envelope(EnvelopeError::UnsupportedVersion {
            kind: ENGINE,
            found: 99,
            supported: 2
        })
    );
    // Another network.
    assert_eq!(
        Engine::from_bytes(EngineConfig::for_network(Network::Mainnet), &bytes).unwrap_err(),
        PersistError::Envelope(EnvelopeError::OtherNetwork {
            kind: ENGINE,
            expected: Network::Mainnet,
            found: 1
        })
    );
    // Not a snapshot at all.
    assert_eq!(
        Engine::from_bytes(cfg(), b"hello world, this is not an engine snapshot at all")
            .unwrap_err(),
        PersistError::Envelope(EnvelopeError::WrongKind {
            expected: ENGINE,
            found: None
        })
    );
}

#[test]
fn pruning_keeps_what_active_quorums_need() {
    let Some((mut e, headers)) = fed() else {
        return;
    };
    let before = e.missing(&headers);
    let dropped = e.prune(1);
    assert_eq!(
        e.missing(&headers),
        before,
        "pruning must not create new needs"
    );
    assert!(e.tip_list().is_some());
    eprintln!("pruned {dropped} lists");
}

#[test]
fn state_saved_under_other_chain_parameters_is_not_trusted() {
    // A regtest engine saved under Dash Core's test-framework parameters (v20 at 100) must not
    // be restored under Core's defaults (v20 at 432): its validated quorums may not hold there.
    let mut framework = dash_qrsync::network::ChainParams::new(Network::Regtest);
    framework.set("dip3params", "2:2").unwrap();
    framework.set("testactivationheight", "v20@100").unwrap();
    framework.set("testactivationheight", "mn_rr@100").unwrap();
    let e = Engine::new(EngineConfig::new(framework.clone()));
    let bytes = e.to_bytes();
    Engine::from_bytes(EngineConfig::new(framework.clone()), &bytes).unwrap();
    let err = Engine::from_bytes(EngineConfig::for_network(Network::Regtest), &bytes).unwrap_err();
    assert_eq!(
        err,
        PersistError::Envelope(EnvelopeError::ChainParams { kind: ENGINE })
    );
    // The same values given in another order are the same parameters.
    let mut same = dash_qrsync::network::ChainParams::new(Network::Regtest);
    same.set("testactivationheight", "mn_rr@100").unwrap();
    same.set("dip3params", "2:2").unwrap();
    same.set("testactivationheight", "v20@100").unwrap();
    Engine::from_bytes(EngineConfig::new(same), &bytes).unwrap();
}
