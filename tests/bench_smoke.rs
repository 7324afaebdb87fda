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
