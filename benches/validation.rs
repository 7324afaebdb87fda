//! Validation CPU (issue 17): what validating the quorums of a cold start costs, on the
//! simulated mainnet-scale network (98 active quorums) and on the largest real mainnet qrinfo.
//!
//! Run: `cargo bench --features simnet --bench validation` (all cores) and
//! `taskset -c 0 cargo bench --features simnet --bench validation` (one core: the engine then
//! validates on one thread). Options: `--rounds N` (default 3; the minimum is printed),
//! `--no-sim`, `--no-vectors`, `--batched-only` (profiling: one engine round, then only the
//! batched figures).
//!
//! Figures, each as process CPU (user + sys from `/proc/self/stat`, all threads) and wall time:
//! - `engine feeds`: an engine fed exactly what a cold start fetches (the engine's
//!   `cold_start_plan` chain of `mnlistdiff`s, then the `qrinfo`): list application, roots,
//!   coinbase proofs, member computation and signature checks, on the engine's own threads;
//! - `one by one`: only the validation of the same quorums, one thread, each commitment checked
//!   with `verify_commitment_cached` (two pairing checks each), cold operator-key cache;
//! - `batched`: the same quorums through `verify_commitments_batched`, the path the engine
//!   takes (one multi-pairing per scheme), cold operator-key cache;
//! - `snapshot load (restart)` and `batched, keys restored` (simulated network): the engine's
//!   snapshot loaded again, then the batched validation with the operator keys it restored
//!   (what validating costs after a restart).

#[path = "../tests/common/mod.rs"]
mod common;

use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::engine::{Engine, EngineConfig, ValidatedQuorum};
use dash_qrsync::quorum::verify::{self, ListSource, Verdict};
use dash_qrsync::simnet::{SimChain, SimConfig};
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::version::OUR_PROTOCOL_VERSION;
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Process CPU time (user + sys, every thread), from `/proc/self/stat` (10 ms ticks).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Best (minimum) CPU and wall time of `rounds` runs of `f`, and the last result.
fn measure<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut best_cpu = Duration::MAX;
    let mut best_wall = Duration::MAX;
    let mut last = None;
    for _ in 0..rounds.max(1) {
        let (c0, w0) = (cpu_time(), Instant::now());
        let out = f();
        best_wall = best_wall.min(w0.elapsed());
        best_cpu = best_cpu.min(cpu_time().saturating_sub(c0));
        last = Some(out);
    }
    (best_cpu, best_wall, last.expect("at least one round"))
}

/// `--batched-only` (for profiling): only the batched validation figure is measured.
fn batched_only() -> bool {
    std::env::args().any(|a| a == "--batched-only")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(what: &str, cpu: Duration, wall: Duration, extra: &str) {
    println!(
        "  {what:<34} cpu {:>7.1} ms  wall {:>7.1} ms  {extra}",
        ms(cpu),
        ms(wall)
    );
}

/// Validation-only figures for `quorums`, with `engine` as the source of lists.
fn validation_figures(
    cfg: &EngineConfig,
    quorums: &[ValidatedQuorum],
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    rounds: usize,
) {
    if !batched_only() {
        let (cpu, wall, n) = measure(rounds, || {
            let mut cache = verify::MemberCache::default();
            let mut valid = 0;
            for q in quorums {
                let v = verify::verify_commitment_cached(
                    &cfg.params,
                    &q.commitment,
                    q.info.height,
                    headers,
                    lists,
                    &mut cache,
                );
                assert!(matches!(v, Verdict::Valid { .. }), "{v:?}");
                valid += 1;
            }
            valid
        });
        line(
            "one by one (1 thread)",
            cpu,
            wall,
            &format!("{n} quorums valid"),
        );
    }
    let jobs: Vec<(std::sync::Arc<_>, u32)> = quorums
        .iter()
        .map(|q| (q.commitment.clone(), q.info.height))
        .collect();
    let (cpu, wall, (n, stats)) = measure(rounds, || {
        let mut cache = verify::MemberCache::default();
        let (verdicts, stats) =
            verify::verify_commitments_batched(&cfg.params, &jobs, headers, lists, &mut cache);
        for v in &verdicts {
            assert!(matches!(v, Verdict::Valid { .. }), "{v:?}");
        }
        (verdicts.len(), stats)
    });
    line(
        "batched (1 thread)",
        cpu,
        wall,
        &format!(
            "{n} quorums valid, {} signatures in {} multi-pairing(s)",
            stats.signatures, stats.batches
        ),
    );
}

/// Where the batched path's time goes, step by step on one thread (cold caches).
fn breakdown(
    cfg: &EngineConfig,
    quorums: &[ValidatedQuorum],
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    rounds: usize,
) {
    let cp = &cfg.params;
    let members = |cache: &mut verify::MemberCache| {
        quorums
            .iter()
            .map(|q| {
                verify::members_cached(cp, &q.commitment, q.info.height, headers, lists, cache)
                    .expect("members")
            })
            .collect::<Vec<_>>()
    };
    let (c_members, _, m) = measure(rounds, || members(&mut verify::MemberCache::default()));
    let ids = {
        let cache = verify::MemberCache::default();
        let mut ids: Vec<_> = quorums
            .iter()
            .zip(&m)
            .flat_map(|(q, m)| cache.undecoded_signer_keys(&q.commitment, m))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let (c_decode, _, keys) = measure(rounds, || verify::decode_operator_keys(&ids));
    let keys = std::sync::Arc::new(keys);
    let prepare = || {
        let mut cache = verify::MemberCache::with_known_keys(keys.clone());
        quorums
            .iter()
            .zip(&m)
            .map(|(q, m)| {
                verify::prepare_members_cached(cp, &q.commitment, q.info.height, m, &mut cache)
                    .expect("prepared")
            })
            .collect::<Vec<_>>()
    };
    let (c_structure, _, _) = measure(rounds, || {
        for q in quorums {
            verify::check_structure(cp, &q.commitment, q.info.height).expect("structure");
        }
    });
    let (c_aggregate, _, pending) = measure(rounds, prepare);
    let (c_pairing, _, _) = measure(rounds, || verify::verify_signatures_batched(&pending));
    println!(
        "  breakdown (1 thread, cpu ms): members {:.0}, decode {} operator keys {:.0}, \
         structure (3 point decodings each) {:.0}, structure + secure aggregation {:.0}, \
         batch pairing check {:.0}",
        ms(c_members),
        ids.len(),
        ms(c_decode),
        ms(c_structure),
        ms(c_aggregate),
        ms(c_pairing)
    );
}

fn all_quorums(engine: &Engine) -> Vec<ValidatedQuorum> {
    let mut out = Vec::new();
    for t in &engine.config().llmq().configured_types {
        out.extend(engine.quorums_of_type(*t).into_iter().cloned());
    }
    out
}

fn simulated(rounds: usize) {
    let sim = SimConfig::mainnet_scale(1);
    let started = Instant::now();
    let chain = SimChain::generate(sim.clone());
    let tip_h = chain.tip_height();
    let tip = chain.hash_at(tip_h).expect("tip");
    let cfg = EngineConfig::new(sim.params.clone());
    let plan = Engine::new(cfg.clone()).cold_start_plan(&chain, tip_h, tip);
    let diffs: Vec<_> = plan
        .diffs
        .iter()
        .map(|g| {
            chain
                .build_mnlistdiff(&g.base_block_hash, &g.block_hash, OUR_PROTOCOL_VERSION)
                .expect("the simulated node answers the plan")
        })
        .collect();
    let qrinfo = chain
        .build_qrinfo(&plan.qrinfo, OUR_PROTOCOL_VERSION)
        .expect("the simulated node answers the plan's qrinfo");
    println!(
        "mainnet-scale simulated network (seed 1): generated in {:.1} s; cold start = {} diffs + 1 qrinfo",
        started.elapsed().as_secs_f64(),
        diffs.len()
    );
    let (cpu, wall, engine) = measure(if batched_only() { 1 } else { rounds }, || {
        let mut e = Engine::new(cfg.clone());
        let mut bls = 0;
        for d in &diffs {
            bls += e
                .feed_mnlistdiff(d, &chain)
                .expect("valid diff")
                .bls_verifications;
        }
        bls += e
            .feed_qrinfo(&qrinfo, &chain)
            .expect("valid qrinfo")
            .bls_verifications;
        (e, bls)
    });
    let (engine, bls) = engine;
    line(
        "engine feeds (engine threads)",
        cpu,
        wall,
        &format!(
            "{} quorums validated, {bls} signatures verified",
            engine.validated_count()
        ),
    );
    let quorums = all_quorums(&engine);
    validation_figures(&cfg, &quorums, &chain, &engine, rounds);
    restarted(&cfg, &engine, &quorums, &chain, rounds);
    breakdown(&cfg, &quorums, &chain, &engine, rounds);
}

/// After a restart: the engine's snapshot loaded (its decoded operator keys restored without
/// decoding them again), then the same batched validation with those keys.
fn restarted(
    cfg: &EngineConfig,
    engine: &Engine,
    quorums: &[ValidatedQuorum],
    headers: &dyn HeaderIndex,
    rounds: usize,
) {
    let bytes = engine.to_bytes();
    let (cpu, wall, restored) = measure(rounds, || {
        Engine::from_bytes(cfg.clone(), &bytes).expect("the engine's own snapshot loads")
    });
    line(
        "snapshot load (restart)",
        cpu,
        wall,
        &format!(
            "{:.1} MB, {} operator keys restored",
            bytes.len() as f64 / 1e6,
            restored.cached_keys()
        ),
    );
    let jobs: Vec<(std::sync::Arc<_>, u32)> = quorums
        .iter()
        .map(|q| (q.commitment.clone(), q.info.height))
        .collect();
    let keys = restored.key_cache();
    let (cpu, wall, (n, decoded)) = measure(rounds, || {
        let mut cache = verify::MemberCache::with_known_keys(keys.clone());
        let (verdicts, _) =
            verify::verify_commitments_batched(&cfg.params, &jobs, headers, &restored, &mut cache);
        for v in &verdicts {
            assert!(matches!(v, Verdict::Valid { .. }), "{v:?}");
        }
        (verdicts.len(), cache.into_new_keys().len())
    });
    line(
        "batched, keys restored (1 thread)",
        cpu,
        wall,
        &format!("{n} quorums valid, {decoded} operator keys decoded"),
    );
}

fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DASH_QRSYNC_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    dir.join("manifest.json").is_file().then_some(dir)
}

fn real_vectors(rounds: usize) {
    let Some(dir) = vectors_dir() else {
        println!("real vectors: SKIPPED (not found; set DASH_QRSYNC_VECTORS)");
        return;
    };
    let bytes = std::fs::read(dir.join("mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin"))
        .expect("largest mainnet qrinfo");
    let headers = common::headers::VectorHeaders::load(&dir, "mainnet");
    let q = QrInfo::from_bytes(&bytes, 70221).expect("decodes");
    let cfg = EngineConfig::for_network(Network::Mainnet);
    println!("real mainnet qrinfo 0→1739226 (3.5 MB):");
    let (cpu, wall, engine) = measure(rounds, || {
        let mut e = Engine::new(cfg.clone());
        let out = e.feed_qrinfo(&q, &headers).expect("valid qrinfo");
        (e, out.bls_verifications)
    });
    let (engine, bls) = engine;
    line(
        "engine feed (engine threads)",
        cpu,
        wall,
        &format!(
            "{} quorums validated, {bls} signatures verified",
            engine.validated_count()
        ),
    );
    let quorums = all_quorums(&engine);
    validation_figures(&cfg, &quorums, &headers, &engine, rounds);
    breakdown(&cfg, &quorums, &headers, &engine, rounds);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 3usize;
    let (mut sim, mut vectors) = (true, true);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" => rounds = it.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--no-sim" => sim = false,
            "--no-vectors" => vectors = false,
            _ => {} // cargo bench passes --bench
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "validation CPU: {cores} core(s) available (engine threads: {}), best of {rounds} round(s)",
        dash_qrsync::engine::VALIDATION_THREADS.min(cores)
    );
    if sim {
        simulated(rounds);
    }
    if vectors {
        real_vectors(rounds);
    }
}
