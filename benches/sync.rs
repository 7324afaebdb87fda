//! The sync benchmark (issue 8). Run: `cargo bench --features simnet --bench sync`
//! (`-- --preset regtest --latencies 25` for a quick run; `--json FILE` to keep the figures).
//!
//! Generates the simulated network once, then syncs a fresh client with each strategy at each
//! latency (QrInfo with 1 and 3 peers, Sequential with 1) and prints a table, the ratio lines
//! and the floor for each run.

use dash_qrsync::simnet::bench::{measure_restart, report, run, Case};
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
    let (results, generated) = run(sim.clone(), &cases, Duration::from_secs(900));
    println!(
        "preset {preset}: network generated in {:.1} s",
        generated.as_secs_f64()
    );
    let (table, syncs) = report(&results);
    print!("{table}");
    // Resume after the network moved k blocks (1, 24 and one rotation cycle), at the largest
    // latency, each on a fresh copy of the network.
    let latency = Duration::from_millis(*latencies.iter().max().unwrap_or(&150));
    let cycle = sim
        .llmq
        .params(sim.llmq.instantsend)
        .map_or(24, |p| p.dkg_interval);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut restarts = Vec::new();
    for k in [1u32, 24, cycle] {
        let node = std::sync::Arc::new(dash_qrsync::simnet::SimNode::new(sim.clone()));
        let m = measure_restart(&rt, &node, &sim, latency, k, Duration::from_secs(900));
        println!(
            "restart after {k:>3} new blocks @{}ms: wall {:.1} ms, {} requests ({} dependent), {} bytes in, synced {}",
            latency.as_millis(),
            m.wall.as_secs_f64() * 1000.0,
            m.round_trips,
            m.dependent_round_trips,
            m.bytes_in,
            m.synced
        );
        restarts.push(serde_json::json!({
            "blocks": k,
            "latency_ms": latency.as_millis() as u64,
            "wall_ms": m.wall.as_secs_f64() * 1000.0,
            "round_trips": m.round_trips,
            "dependent_round_trips": m.dependent_round_trips,
            "bytes_in": m.bytes_in,
            "synced": m.synced,
        }));
    }
    let json = serde_json::json!({"syncs": syncs, "restarts": restarts});
    if let Some(path) = json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
            .expect("write json");
        println!("figures written to {path}");
    }
}
