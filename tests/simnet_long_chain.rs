//! The long-chain shape of the simulated network (`SimConfig::long_chain`, the benchmark's
//! `long-30d` / `long-1y` presets) at a size that runs in seconds: old history without
//! masternodes, a trusted header to start from, and a client that starts there, validates every
//! header above it and syncs the recent network's quorums.
#![cfg(feature = "simnet")]

use dash_qrsync::simnet::bench::{client_config, sync_client};
use dash_qrsync::simnet::{SimChain, SimConfig, SimNode};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{SyncProfile, SyncStrategy};
use std::sync::Arc;
use std::time::Duration;

/// Regtest-sized: 900 blocks without masternodes (the trusted start at 300), then the regtest
/// preset's network for its 480 blocks.
fn small_long_chain() -> SimConfig {
    let recent = SimConfig::regtest(11);
    SimConfig {
        blocks: 900 + recent.blocks,
        masternodes_from: 901,
        checkpoint: Some(300),
        ..recent
    }
}

#[test]
fn old_history_has_no_masternodes_quorums_or_locks() {
    let chain = SimChain::generate(small_long_chain());
    assert_eq!(chain.tip_height(), 1_380);
    for h in [1, 300, 899, 900] {
        let b = chain.block(h).unwrap();
        assert!(b.entries.is_empty(), "height {h} has masternodes");
        assert_eq!(b.txs.len(), 1, "height {h} has more than its coinbase");
        assert!(chain.clsig(h).is_none(), "height {h} is ChainLocked");
    }
    let registered = chain.block(901).unwrap().entries.len();
    assert_eq!(
        registered, 40,
        "32 masternodes and 8 evonodes register at 901"
    );
    let first = chain.mined_commitments().first().map(|(h, _)| *h).unwrap();
    assert!(first > 908, "first commitment mined at {first}");
    let (h, header) = chain.checkpoint().unwrap();
    assert_eq!(h, 300);
    assert_eq!(header.block_hash(), chain.block(300).unwrap().hash);
}

#[test]
fn a_client_starting_from_the_checkpoint_validates_the_headers_above_it_and_syncs() {
    let sim = small_long_chain();
    let node = Arc::new(SimNode::new(sim.clone()));
    let (start, tip, active) = node.with_chain(|c| {
        (
            c.checkpoint().unwrap(),
            c.tip_height(),
            c.active_set(c.tip_height()).len() as u32,
        )
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(dash_qrsync::simnet::server::SimServer::start(
            node.clone(),
            Default::default(),
        ))
        .unwrap();
    let sync = |start| {
        let config = client_config(
            &sim.params,
            vec![server.addr()],
            SyncStrategy::QrInfo,
            SyncProfile::Full,
            start,
        );
        sync_client(
            config,
            Arc::new(MemoryStore::new()),
            Duration::from_secs(120),
        )
    };
    let run = sync(Some(start));
    let from_genesis = sync(None);
    rt.block_on(server.shutdown());
    assert!(run.synced, "{run:?}");
    assert!(from_genesis.synced, "{from_genesis:?}");
    // Every header from the checkpoint to the tip, none below it.
    assert_eq!(run.headers, tip - 300, "{run:?}");
    assert_eq!(from_genesis.headers, tip, "{from_genesis:?}");
    // The same quorums as a client that validated the whole chain, at least the tip's set.
    assert_eq!(
        run.quorums, from_genesis.quorums,
        "{run:?} {from_genesis:?}"
    );
    assert!(run.quorums >= active, "{run:?}");
    assert!(run.first_quorum_us.is_some() && run.all_quorums_us >= run.first_quorum_us);
    // Quorums based below the checkpoint need headers fetched below it (history cut) before
    // their lists can be asked for: a few more dependent rounds than a cold start's one.
    assert!(run.list_dependent_round_trips <= 5, "{run:?}");
}

#[test]
fn a_checkpoint_from_another_chain_does_not_sync() {
    let sim = small_long_chain();
    let node = Arc::new(SimNode::new(sim.clone()));
    // The header at the same height of a chain with other block times: the served headers do
    // not connect to it.
    let other = SimChain::generate(SimConfig {
        blocks: 310,
        block_time: 151,
        ..small_long_chain()
    });
    let start = other.checkpoint().unwrap();
    assert_ne!(
        start.1.block_hash(),
        node.with_chain(|c| c.block(300).unwrap().hash)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(dash_qrsync::simnet::server::SimServer::start(
            node.clone(),
            Default::default(),
        ))
        .unwrap();
    let mut config = client_config(
        &sim.params,
        vec![server.addr()],
        SyncStrategy::QrInfo,
        SyncProfile::Full,
        Some(start),
    );
    config.request_timeout = Duration::from_secs(2);
    let run = sync_client(config, Arc::new(MemoryStore::new()), Duration::from_secs(8));
    rt.block_on(server.shutdown());
    assert!(!run.synced, "{run:?}");
    assert_eq!(run.headers, 0, "{run:?}");
    assert_eq!(run.quorums, 0, "{run:?}");
}
