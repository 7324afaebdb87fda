//! The sync benchmark in its short configuration (regtest preset, one latency), so that it
//! cannot rot: it must sync with every strategy and print the ratio line.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::bench::{report, run, Case};
use dash_qrsync::simnet::SimConfig;
use dash_qrsync::{SyncProfile, SyncStrategy};
use std::time::Duration;

#[test]
fn short_benchmark_runs_and_reports_ratios() {
    let latency = Duration::from_millis(20);
    let cases = [
        Case::new(SyncStrategy::QrInfo, 1, latency),
        Case::new(SyncStrategy::QrInfo, 3, latency),
        Case {
            profile: SyncProfile::Wallet,
            ..Case::new(SyncStrategy::QrInfo, 1, latency)
        },
        Case::new(SyncStrategy::Sequential, 1, latency),
        Case {
            bandwidth: Some(2_000_000),
            ..Case::new(SyncStrategy::SequentialFromGenesis, 1, latency)
        },
    ];
    let (results, _) = run(SimConfig::regtest(3), &cases, Duration::from_secs(120));
    let (table, json) = report(&results);
    println!("{table}");
    assert!(results.iter().all(|m| m.synced), "{table}");
    assert!(
        table.contains("ratio @20ms: QrInfo/Sequential(a) from genesis"),
        "{table}"
    );
    assert!(
        table.contains("ratio @20ms: QrInfo/Sequential(b) best"),
        "{table}"
    );
    assert!(table.contains("wallet profile @20ms"), "{table}");
    assert_eq!(json.as_array().unwrap().len(), cases.len());
    let (q, wallet, b, a) = (&results[0], &results[2], &results[3], &results[4]);
    // Deterministic comparisons only (wall times on a shared CI machine are noisy).
    for s in [a, b] {
        assert!(q.round_trips < s.round_trips, "{table}");
        assert!(q.dependent_round_trips < s.dependent_round_trips, "{table}");
    }
    // A cold start sends its masternode requests in one wave after headers.
    assert_eq!(q.list_dependent_round_trips, 1, "{table}");
    assert_eq!(wallet.list_dependent_round_trips, 1, "{table}");
    assert!(wallet.quorums < q.quorums, "{table}");
    // Baseline (a) downloads a full list per request.
    assert!(a.bytes_in > b.bytes_in, "{table}");
    assert!(
        results.iter().all(|m| m.wall >= m.case.latency * 2),
        "{table}"
    );
}

/// The benchmark on a devnet (the mainnet-scale presets are devnets; this is the small one,
/// Core's devnet LLMQ types): the client starts at the devnet's own genesis block at height 1,
/// which must be the simulated network's block 1, and syncs every list and quorum.
#[test]
fn short_benchmark_syncs_a_devnet() {
    let latency = Duration::from_millis(20);
    let cases = [
        Case::new(SyncStrategy::QrInfo, 1, latency),
        Case::new(SyncStrategy::Sequential, 1, latency),
    ];
    let sim = SimConfig::devnet(3);
    assert_eq!(sim.network(), dash_qrsync::network::Network::Devnet);
    let tip = sim.blocks;
    let (results, _) = run(sim, &cases, Duration::from_secs(120));
    let (table, _) = report(&results);
    println!("{table}");
    for m in &results {
        assert!(m.synced, "{table}");
        assert!(m.quorums > 0, "{table}");
        // Headers above the start: block 1, the devnet's genesis, is where the client starts.
        assert_eq!(m.headers, tip - 1, "{table}");
    }
}

/// The benchmark on the network speaking Dash Core v24 (the `v24` preset: CbTx v4 and version 3
/// SML entries with extended addresses after V24's version-bits activation).
#[test]
fn short_benchmark_syncs_the_v24_network() {
    let latency = Duration::from_millis(20);
    let cases = [Case::new(SyncStrategy::QrInfo, 1, latency)];
    let sim = dash_qrsync::simnet::bench::preset("v24", 3).unwrap();
    assert!(sim.params.v24().is_some());
    let tip = sim.blocks;
    let (results, _) = run(sim, &cases, Duration::from_secs(120));
    let (table, _) = report(&results);
    println!("{table}");
    for m in &results {
        assert!(m.synced, "{table}");
        assert!(m.quorums > 0, "{table}");
        assert_eq!(m.headers, tip, "{table}");
    }
}
