//! The sync benchmark (issue 8). Run: `cargo bench --features simnet --bench sync`
//! (`-- --preset regtest --latencies 25` for a quick run; `--json FILE` to keep the figures).
//!
//! Generates the simulated network once, then syncs a fresh client with each strategy at each
//! latency (QrInfo with 1 and 3 peers, Sequential with 1) and prints a table, the ratio lines
//! and the floor for each run.

use dash_qrsync::simnet::bench::{report, run, Case};
use dash_qrsync::simnet::SimConfig;
use dash_qrsync::SyncStrategy;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut preset = "mainnet-scale".to_string();
    let mut latencies = vec![25u64, 75, 150];
    let mut json_out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--preset" => preset = it.next().cloned().unwrap_or(preset),
            "--latencies" => {
                latencies = it
                    .next()
                    .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
                    .unwrap_or(latencies)
            }
            "--json" => json_out = it.next().cloned(),
            _ => {} // cargo bench passes --bench
        }
    }
    let sim = match preset.as_str() {
        "regtest" => SimConfig::regtest(1),
        _ => SimConfig::mainnet_scale(1),
    };
    let mut cases = Vec::new();
    for l in &latencies {
        let latency = Duration::from_millis(*l);
        cases.push(Case {
            strategy: SyncStrategy::QrInfo,
            peers: 1,
            latency,
        });
        cases.push(Case {
            strategy: SyncStrategy::QrInfo,
            peers: 3,
            latency,
        });
        cases.push(Case {
            strategy: SyncStrategy::Sequential,
            peers: 1,
            latency,
        });
    }
    let (results, generated) = run(sim, &cases, Duration::from_secs(900));
    println!(
        "preset {preset}: network generated in {:.1} s",
        generated.as_secs_f64()
    );
    let (table, json) = report(&results);
    print!("{table}");
    if let Some(path) = json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
            .expect("write json");
        println!("figures written to {path}");
    }
}
