//! The sync benchmark (issue 8). Run: `cargo bench --features simnet --bench sync`
//! (`-- --preset regtest --latencies 25` for a quick run; `--bandwidth-mbit 0` for loopback
//! speed instead of the default 10 Mbit/s per peer; `--only QrInfo` for one case with one peer,
//! `--no-restart` to skip the restart mode, `--debug-log` for the library's debug log; `--json FILE` to keep the figures).
//!
//! Generates the simulated network once, then syncs a fresh client with each strategy at each
//! latency — QrInfo with 1 and 3 peers, QrInfo with the wallet profile, and the two sequential
//! baselines: (b) best sequential and (a) every list from genesis — and prints a table, the
//! ratio lines and the floor for each run; then the restart figures.

use dash_qrsync::simnet::bench::{measure_restart, report, run, Case};
use dash_qrsync::simnet::SimConfig;
use dash_qrsync::{SyncProfile, SyncStrategy};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut preset = "mainnet-scale".to_string();
    let mut latencies = vec![25u64, 75, 150];
    let mut json_out = None;
    let mut mbit = 10.0f64;
    let mut only: Option<String> = None;
    let mut restarts_wanted = true;
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
            "--only" => only = it.next().cloned(),
            "--no-restart" => restarts_wanted = false,
            "--debug-log" => {
                dash_qrsync::logging::enable_platform_logging(
                    dash_qrsync::logging::LogLevel::Debug,
                );
            }
            "--bandwidth-mbit" => {
                mbit = it.next().and_then(|v| v.parse().ok()).unwrap_or(mbit);
            }
            _ => {} // cargo bench passes --bench
        }
    }
    let sim = match preset.as_str() {
        "regtest" => SimConfig::regtest(1),
        _ => SimConfig::mainnet_scale(1),
    };
    let bandwidth = (mbit > 0.0).then(|| (mbit * 1_000_000.0 / 8.0) as u64);
    let mut cases = Vec::new();
    for l in &latencies {
        let latency = Duration::from_millis(*l);
        let case = |strategy, peers, profile| Case {
            strategy,
            peers,
            latency,
            profile,
            bandwidth,
        };
        cases.push(case(SyncStrategy::QrInfo, 1, SyncProfile::Full));
        cases.push(case(SyncStrategy::QrInfo, 3, SyncProfile::Full));
        cases.push(case(SyncStrategy::QrInfo, 1, SyncProfile::Wallet));
        cases.push(case(SyncStrategy::Sequential, 1, SyncProfile::Full));
        cases.push(case(
            SyncStrategy::SequentialFromGenesis,
            1,
            SyncProfile::Full,
        ));
    }
    if let Some(o) = &only {
        cases.retain(|c| c.label() == o.as_str() && c.peers == 1);
    }
    let (results, generated) = run(sim.clone(), &cases, Duration::from_secs(900));
    println!(
        "preset {preset}: network generated in {:.1} s; link: {} per peer",
        generated.as_secs_f64(),
        match bandwidth {
            Some(_) => format!("{mbit} Mbit/s"),
            None => "loopback speed".to_string(),
        }
    );
    let (table, syncs) = report(&results);
    print!("{table}");
    // Resume after the network moved k blocks (1, 24 and one rotation cycle), at the largest
    // latency, each on a fresh copy of the network.
    let latency = Duration::from_millis(*latencies.iter().max().unwrap_or(&150));
    let cycle = sim
        .llmq()
        .params(sim.llmq().instantsend)
        .map_or(24, |p| p.dkg_interval);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut restarts = Vec::new();
    let ks: &[u32] = if restarts_wanted {
        &[1, 24, cycle]
    } else {
        &[]
    };
    for &k in ks {
        let node = std::sync::Arc::new(dash_qrsync::simnet::SimNode::new(sim.clone()));
        let case = Case {
            bandwidth,
            ..Case::new(SyncStrategy::QrInfo, 1, latency)
        };
        let m = measure_restart(&rt, &node, &sim, &case, k, Duration::from_secs(900));
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
