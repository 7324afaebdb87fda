//! Criterion microbenchmarks on the real-network vectors. Run: `cargo bench --bench vectors`.
//!
//! Each benchmark prints its own figure; extra context (sizes, counts) goes to stderr. Without
//! the vectors (`$DASH_QRSYNC_VECTORS`, default `../shared/vectors`) it says so and does nothing.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::quorum::verify;
use dash_qrsync::sml::{DiffCheck, MasternodeList};
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;
use std::path::PathBuf;

fn vectors() -> Option<PathBuf> {
    let dir = std::env::var_os("DASH_QRSYNC_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    if dir.join("manifest.json").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: vectors not found at {}", dir.display());
        None
    }
}

/// Decoding and verifying the largest vector: the 3.5 MB mainnet qrinfo from genesis
/// (5 full lists of ~4,400 entries): decode, apply every diff, SML and quorum roots, PMT proofs.
fn largest_qrinfo(c: &mut Criterion) {
    let Some(dir) = vectors() else { return };
    let bytes =
        std::fs::read(dir.join("mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin")).unwrap();
    eprintln!("largest vector: {} bytes", bytes.len());
    let mut g = c.benchmark_group("largest_qrinfo_3.5MB");
    g.sample_size(10);
    g.bench_function("decode", |b| {
        b.iter(|| QrInfo::from_bytes(black_box(&bytes), 70221).unwrap())
    });
    let q = QrInfo::from_bytes(&bytes, 70221).unwrap();
    g.bench_function("apply_and_verify_roots", |b| {
        b.iter(|| {
            for d in q.diffs_in_application_order() {
                let list = MasternodeList::empty().apply_diff(d, 0).unwrap();
                let check = DiffCheck::compute(&list, d, None);
                assert_eq!(check.sml_root_computed, check.sml_root_cbtx);
            }
        })
    });
    g.finish();
}

/// One full mainnet mnlistdiff (2221605, 3,170 entries): decode, apply, roots.
fn full_mnlistdiff(c: &mut Criterion) {
    let Some(dir) = vectors() else { return };
    let bytes =
        std::fs::read(dir.join("mainnet/mnlistdiff/mnlistdiff_mainnet_0_2028691_p70230.bin"))
            .unwrap();
    let mut g = c.benchmark_group("mnlistdiff_2028691");
    g.sample_size(20);
    g.bench_function("decode", |b| {
        b.iter(|| MnListDiff::from_bytes(black_box(&bytes), 70230).unwrap())
    });
    let d = MnListDiff::from_bytes(&bytes, 70230).unwrap();
    g.bench_function("apply_diff", |b| {
        b.iter(|| {
            MasternodeList::empty()
                .apply_diff(black_box(&d), 2028691)
                .unwrap()
        })
    });
    let list = MasternodeList::empty().apply_diff(&d, 2028691).unwrap();
    g.bench_function("sml_root", |b| b.iter(|| black_box(&list).sml_root()));
    g.bench_function("quorum_root", |b| b.iter(|| black_box(&list).quorum_root()));
    g.finish();
}

/// The engine fed the largest qrinfo: parse, apply every diff, verify roots and coinbase
/// proofs, recompute the members of every quorum whose lists are present and verify both BLS
/// signatures of each. Prints the BLS verification count of one feed.
fn engine_feed_largest_qrinfo(c: &mut Criterion) {
    let Some(dir) = vectors() else { return };
    let bytes =
        std::fs::read(dir.join("mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin")).unwrap();
    let headers = common::headers::VectorHeaders::load(&dir, "mainnet");
    let feed = || {
        let q = QrInfo::from_bytes(&bytes, 70221).unwrap();
        let mut engine = Engine::new(EngineConfig::for_network(Network::Mainnet));
        let out = engine.feed_qrinfo(&q, &headers).unwrap();
        (engine.validated_count(), out.bls_verifications)
    };
    let started = std::time::Instant::now();
    let (validated, bls) = feed();
    eprintln!(
        "engine feed of the 3.5 MB mainnet qrinfo: {validated} quorums validated, {bls} BLS \
         verifications, {:.1} ms (single cold run)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.bench_function("feed_qrinfo_mainnet_1739226", |b| {
        b.iter(|| black_box(feed()))
    });
    g.finish();
}

/// Validating one quorum of each type that the largest mainnet qrinfo lets the engine validate:
/// member computation (with rotation for the InstantSend type) and both BLS signatures, from
/// cold caches each time.
fn validate_one_quorum_per_type(c: &mut Criterion) {
    let Some(dir) = vectors() else { return };
    let bytes =
        std::fs::read(dir.join("mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin")).unwrap();
    let headers = common::headers::VectorHeaders::load(&dir, "mainnet");
    // Rotated quorums from the qrinfo; the non-rotated types 2, 3, 4 (legacy scheme) from the
    // full list at 1870848 and the diff that mines their commitments.
    let q = QrInfo::from_bytes(&bytes, 70221).unwrap();
    let mut rotated = Engine::new(EngineConfig::for_network(Network::Mainnet));
    rotated.feed_qrinfo(&q, &headers).unwrap();
    let mut non_rotated = Engine::new(EngineConfig::for_network(Network::Mainnet));
    for rel in [
        "mainnet/mnlistdiff/mnlistdiff_mainnet_0_1870848_p70227.bin",
        "mainnet/mnlistdiff/chain_1870848_1871755/mnlistdiff_mainnet_1870848_1871136_p70227.bin",
    ] {
        let d = MnListDiff::from_bytes(&std::fs::read(dir.join(rel)).unwrap(), 70227).unwrap();
        non_rotated.feed_mnlistdiff(&d, &headers).unwrap();
    }
    let cfg = rotated.config().clone();
    let mut g = c.benchmark_group("validate_one_quorum");
    g.sample_size(10);
    for t in &cfg.llmq().configured_types {
        let found = [&rotated, &non_rotated]
            .into_iter()
            .find_map(|e| e.quorums_of_type(*t).first().map(|v| ((*v).clone(), e)));
        let Some((v, engine)) = found else {
            eprintln!("type {t}: no quorum of this type validates from the vectors; not measured");
            continue;
        };
        let name = cfg.llmq().params(*t).map_or("unknown", |p| p.name);
        g.bench_function(format!("type_{t}_{name}"), |b| {
            b.iter(|| {
                let verdict = verify::verify_commitment(
                    &cfg.params,
                    &v.commitment,
                    v.info.height,
                    &headers,
                    engine,
                );
                assert!(matches!(verdict, verify::Verdict::Valid { .. }));
                black_box(verdict)
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    largest_qrinfo,
    full_mnlistdiff,
    engine_feed_largest_qrinfo,
    validate_one_quorum_per_type
);
criterion_main!(benches);
