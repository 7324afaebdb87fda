//! The sync benchmark in its short configuration (regtest preset, one latency), so that it
//! cannot rot: it must sync with every strategy and print the ratio line.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::bench::{report, run, Case};
use dash_qrsync::simnet::SimConfig;
use dash_qrsync::SyncStrategy;
use std::time::Duration;

#[test]
fn short_benchmark_runs_and_reports_ratios() {
    let latency = Duration::from_millis(20);
    let cases = [
        Case {
            strategy: SyncStrategy::QrInfo,
            peers: 1,
            latency,
        },
        Case {
            strategy: SyncStrategy::QrInfo,
            peers: 3,
            latency,
        },
        Case {
            strategy: SyncStrategy::Sequential,
            peers: 1,
            latency,
        },
    ];
    let (results, _) = run(SimConfig::regtest(3), &cases, Duration::from_secs(120));
    let (table, json) = report(&results);
    println!("{table}");
    assert!(results.iter().all(|m| m.synced), "{table}");
    assert!(table.contains("ratio @20ms: QrInfo/Sequential"), "{table}");
    assert_eq!(json.as_array().unwrap().len(), 3);
    let q = &results[0];
    let s = &results[2];
    // Deterministic comparisons only (wall times on a shared CI machine are noisy).
    assert!(q.round_trips < s.round_trips, "{table}");
    assert!(q.dependent_round_trips < s.dependent_round_trips, "{table}");
    assert!(
        results.iter().all(|m| m.wall >= m.case.latency * 2),
        "{table}"
    );
}
