//! The sync benchmark (issues 8 and 17). Run: `cargo bench --features simnet --bench sync`
//! (with `-- OPTIONS`).
//!
//! Generates the simulated network once, then syncs a fresh client with each strategy at each
//! latency — QrInfo with 1 and 3 peers, QrInfo with the wallet profile, and the two sequential
//! baselines: (b) best sequential and (a) every list from genesis — and prints a table, the
//! ratio lines and, per run, the overlapped floor after headers and the ratio to it; then the
//! restart figures.
//!
//! Every client runs in a fresh process of its own (this benchmark's executable, started with
//! `--client-case`), so its CPU and peak RSS (`VmHWM`) are the library's alone; the simulated
//! network stays in this process. The restart figures use an in-process client.
//!
//! Options (an unknown option is an error; `--bench`, which cargo passes, is accepted):
//! - `--preset NAME`: `mainnet-scale` (default: a devnet with mainnet's LLMQ types, 3,600
//!   masternodes, 2,600 blocks), `regtest` (small), `devnet` (small, Core's devnet LLMQ types),
//!   `v24` (small, regtest with V24 active from height 500: CbTx v4, extended addresses),
//!   `long-30d` / `long-1y` (a long chain: the
//!   client starts from a trusted header 17,280 / 210,240 blocks below the tip; old history
//!   without masternodes, then the mainnet-scale network for the newest 2,600 blocks). The
//!   long presets default to `--latencies 150`, the QrInfo cases only (1 and 3 peers, wallet
//!   with 1) and no restart figures. `mainnet-today`: today's mainnet for a wallet built from
//!   this library — the client starts 285,000 blocks below the tip (the newest built-in row is
//!   that far behind) and trusts only hashes at Core's hash-only checkpoints' distances from it
//!   (59,228 and 119,528 blocks above the start); as a long preset, QrInfo with 1 and 3 peers
//!   only, and the header phase's floor printed beside each measured header phase.
//! - `--trusted-above H,H,...`: the heights above the start whose hashes the clients trust
//!   (`Config::extra_checkpoints`), instead of the preset's (e.g. `mainnet-today` with a wallet
//!   team's own checkpoint nearer the tip: `--trusted-above 59228,119528,200000`).
//! - `--latencies MS,MS,...` (default 25,75,150): one-way latency injected by each server.
//! - `--bandwidth-mbit N` (default 10; 0 = loopback speed): per peer.
//! - `--only LABEL`: one case with one peer (`QrInfo`, `QrInfo-wallet`, `Seq(b)best`,
//!   `Seq(a)genesis`, ...); `--all-cases`: every case also on the long presets.
//! - `--no-restart` / `--restart`: skip / force the restart figures.
//! - `--in-process`: the clients in this process (RSS then includes the simulated network).
//! - `--client-store dir|memory` (default `dir`): the client process's host store: files in a
//!   temporary directory (the saved state is not in memory, as on a phone) or a `MemoryStore`
//!   (its copies of the saved state count in the client's RSS). `DQS_BENCH_CLIENT_WRAPPER`
//!   (e.g. `heaptrack -o FILE`) is put in front of each client process's command.
//! - `--chain-param KEY=VALUE` (repeatable) and `--dash-conf FILE`: the network's chain
//!   parameters with Dash Core's option names (as `dash-qrsync demo`), applied to the preset's.
//! - `--seed N` (default 1), `--debug-log`, `--json FILE` (keep the figures).
//! - `--client-case JSON`: internal, the client-process mode.

use dash_qrsync::simnet::bench::{
    client_process_main, header_floor, measure_restart, preset, report, run_with, Case, ChainArgs,
    ClientProcess,
};
use dash_qrsync::{SyncProfile, SyncStrategy};
use std::path::PathBuf;
use std::time::Duration;

struct Options {
    preset: String,
    seed: u64,
    latencies: Option<Vec<u64>>,
    json_out: Option<String>,
    mbit: f64,
    only: Option<String>,
    all_cases: bool,
    restart: Option<bool>,
    in_process: bool,
    client_store: String,
    debug_log: bool,
    chain: ChainArgs,
    client_case: Option<String>,
    trusted_above: Option<Vec<u32>>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        preset: "mainnet-scale".to_string(),
        seed: 1,
        latencies: None,
        json_out: None,
        mbit: 10.0,
        only: None,
        all_cases: false,
        restart: None,
        in_process: false,
        client_store: "dir".to_string(),
        debug_log: false,
        chain: ChainArgs::default(),
        client_case: None,
        trusted_above: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--bench" => {} // cargo bench passes it
            "--preset" => o.preset = value()?,
            "--seed" => {
                let v = value()?;
                o.seed = v.parse().map_err(|_| format!("--seed {v}: not a number"))?;
            }
            "--latencies" => {
                let v = value()?;
                let l: Result<Vec<u64>, _> = v.split(',').map(|x| x.trim().parse()).collect();
                let l = l.map_err(|_| format!("--latencies {v}: not a list of milliseconds"))?;
                if l.is_empty() {
                    return Err("--latencies: empty".into());
                }
                o.latencies = Some(l);
            }
            "--trusted-above" => {
                let v = value()?;
                let t: Result<Vec<u32>, _> = v.split(',').map(|x| x.trim().parse()).collect();
                let mut t = t.map_err(|_| format!("--trusted-above {v}: not a list of heights"))?;
                t.sort_unstable();
                t.dedup();
                o.trusted_above = Some(t);
            }
            "--json" => o.json_out = Some(value()?),
            "--only" => o.only = Some(value()?),
            "--all-cases" => o.all_cases = true,
            "--no-restart" => o.restart = Some(false),
            "--restart" => o.restart = Some(true),
            "--in-process" => o.in_process = true,
            "--client-store" => {
                o.client_store = value()?;
                if !["dir", "memory"].contains(&o.client_store.as_str()) {
                    return Err(format!("--client-store {}: dir or memory", o.client_store));
                }
            }
            "--debug-log" => o.debug_log = true,
            "--bandwidth-mbit" => {
                let v = value()?;
                o.mbit =
                    v.parse().ok().filter(|m: &f64| *m >= 0.0).ok_or_else(|| {
                        format!("--bandwidth-mbit {v}: not a non-negative number")
                    })?;
            }
            "--chain-param" => o.chain.add_param(&value()?)?,
            "--dash-conf" => {
                if o.chain.dash_conf.replace(PathBuf::from(value()?)).is_some() {
                    return Err("--dash-conf may be given once".into());
                }
            }
            "--client-case" => o.client_case = Some(value()?),
            other => return Err(format!("unknown option {other:?} (see benches/sync.rs)")),
        }
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = parse(&args).unwrap_or_else(|e| {
        eprintln!("sync bench: {e}");
        std::process::exit(2)
    });
    if o.debug_log {
        dash_qrsync::logging::enable_platform_logging(dash_qrsync::logging::LogLevel::Debug);
    }
    let mut sim = preset(&o.preset, o.seed).unwrap_or_else(|| {
        eprintln!(
            "sync bench: unknown preset {:?} (regtest, devnet, v24, mainnet-scale, long-30d, long-1y, mainnet-today)",
            o.preset
        );
        std::process::exit(2)
    });
    if let Some(t) = &o.trusted_above {
        sim.trusted_above_start = Some(t.iter().copied().filter(|h| *h < sim.blocks).collect());
    }
    sim.params = o.chain.apply(sim.params.clone()).unwrap_or_else(|e| {
        eprintln!("sync bench: {e}");
        std::process::exit(2)
    });
    if let Some(spec) = &o.client_case {
        match client_process_main(&sim.params, spec) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("sync bench client: {e}");
                std::process::exit(1)
            }
        }
        return;
    }
    let today = o.preset == "mainnet-today";
    let long = o.preset.starts_with("long-") || today;
    let latencies =
        o.latencies
            .clone()
            .unwrap_or_else(|| if long { vec![150] } else { vec![25, 75, 150] });
    let bandwidth = (o.mbit > 0.0).then(|| (o.mbit * 1_000_000.0 / 8.0) as u64);
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
        // Also on the long presets: headers from three peers at once (issue 17).
        cases.push(case(SyncStrategy::QrInfo, 3, SyncProfile::Full));
        if !today || o.all_cases {
            cases.push(case(SyncStrategy::QrInfo, 1, SyncProfile::Wallet));
        }
        if !long || o.all_cases {
            cases.push(case(SyncStrategy::Sequential, 1, SyncProfile::Full));
            cases.push(case(
                SyncStrategy::SequentialFromGenesis,
                1,
                SyncProfile::Full,
            ));
        }
    }
    if let Some(only) = &o.only {
        cases.retain(|c| c.label() == only.as_str() && c.peers == 1);
    }
    let process = (!o.in_process).then(|| {
        let mut args = vec![
            "--preset".to_string(),
            o.preset.clone(),
            "--seed".to_string(),
            o.seed.to_string(),
        ];
        args.extend(o.chain.to_args());
        if let Some(t) = &o.trusted_above {
            args.push("--trusted-above".to_string());
            args.push(t.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        }
        if o.debug_log {
            args.push("--debug-log".to_string());
        }
        ClientProcess {
            exe: std::env::current_exe().expect("the benchmark's own executable"),
            args,
            store: o.client_store.clone(),
        }
    });
    let (results, generated) = run_with(
        sim.clone(),
        &cases,
        Duration::from_secs(900),
        process.as_ref(),
    );
    println!(
        "preset {}: network of {} blocks generated in {:.1} s{}; link: {} per peer; clients {}",
        o.preset,
        sim.blocks,
        generated.as_secs_f64(),
        sim.checkpoint.map_or(String::new(), |h| format!(
            "; clients start from the trusted header at height {h}"
        )),
        match bandwidth {
            Some(_) => format!("{} Mbit/s", o.mbit),
            None => "loopback speed".to_string(),
        },
        if o.in_process {
            "in this process"
        } else {
            "each in a fresh process"
        }
    );
    let (table, syncs) = report(&results);
    print!("{table}");
    // The header phase beside its floor (issue 24): bytes ÷ bandwidth per peer, CPU ÷ cores,
    // round trips that cannot overlap.
    let trusted = sim.trusted_above_start.clone().unwrap_or_else(|| {
        (1..)
            .map(|k| k * dash_qrsync::simnet::bench::SIM_CHECKPOINT_SPACING)
            .take_while(|h| *h <= sim.blocks)
            .collect()
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let per_answer = dash_qrsync::wire::headers2::MAX_HEADERS2_V2 as u32;
    for m in &results {
        let f = header_floor(m, &trusted, per_answer, cores);
        println!(
            "header phase {} {} peer(s) @{}ms: {} headers in {:.2} s; floor {:.2} s \
             (transfer {:.2} s = {} bytes over {} link(s), CPU {:.2} s = {:.2} s / {} cores, \
             {} round trips that cannot overlap); {:.2}x the floor",
            m.case.label(),
            m.case.peers,
            m.case.latency.as_millis(),
            m.headers,
            m.header_wall.as_secs_f64(),
            f.floor.as_secs_f64(),
            f.transfer.as_secs_f64(),
            m.bytes_in.saturating_sub(m.list_bytes_in),
            m.case.peers,
            f.cpu.as_secs_f64(),
            m.cpu.saturating_sub(m.list_cpu).as_secs_f64(),
            cores,
            f.dependent_rtts,
            m.header_wall.as_secs_f64() / f.floor.as_secs_f64().max(1e-9),
        );
    }
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
    let ks: &[u32] = if o.restart.unwrap_or(!long) {
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
    let json = serde_json::json!({
        "preset": o.preset,
        "blocks": sim.blocks,
        "generated_s": generated.as_secs_f64(),
        "syncs": syncs,
        "restarts": restarts,
    });
    if let Some(path) = o.json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
            .expect("write json");
        println!("figures written to {path}");
    }
}
