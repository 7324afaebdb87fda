//! The built-in checkpoint table against the shared vectors (rows, X11 hashes, chain work,
//! Core's hash-only checkpoints, the real header files), exact header-chain starts on real
//! headers, and the start selection of `Config` (defaults, birth height and time, host headers).

mod common;

use dash_qrsync::chain::checkpoints::{self, INTERVAL};
use dash_qrsync::chain::params::{self, Checkpoint};
use dash_qrsync::chain::pow::{self, U256};
use dash_qrsync::chain::{ChainError, HeaderChain, HeaderIndex, TrustedCheckpoint};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::Network;
use dash_qrsync::{Checkpoint as HostCheckpoint, Config, ErrorKind, StartPoint};
use std::collections::BTreeMap;
use std::path::Path;

fn u256_hex(s: &str) -> U256 {
    let padded = format!("{s:0>64}");
    let mut b: [u8; 32] = hex::decode(padded).unwrap().try_into().unwrap();
    b.reverse();
    U256::from_le_bytes(&b)
}

fn header_hex(s: &str) -> BlockHeader {
    BlockHeader::from_array(&hex::decode(s).unwrap().try_into().unwrap())
}

/// Every row of the shared checkpoint file of `net`, by height.
fn shared_rows(dir: &Path, net: &str) -> BTreeMap<u32, TrustedCheckpoint> {
    let json: serde_json::Value = serde_json::from_slice(&common::read_vector(
        dir,
        &format!("checkpoints/checkpoints_{net}.json"),
    ))
    .unwrap();
    assert_eq!(json["network"], net);
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, json["count"].as_u64().unwrap());
    rows.iter()
        .map(|r| {
            let height = r["height"].as_u64().unwrap() as u32;
            let header = header_hex(r["header"].as_str().unwrap());
            // The convenience fields repeat the header's own.
            assert_eq!(header.time as u64, r["time"].as_u64().unwrap(), "{height}");
            assert_eq!(
                header.merkle_root,
                Hash256::from_display_hex(r["merkle_root"].as_str().unwrap()).unwrap()
            );
            let t = TrustedCheckpoint {
                height,
                chain_work: u256_hex(r["chain_work"].as_str().unwrap()),
                header,
            };
            (height, t)
        })
        .collect()
}

/// A real header file: headers and, per header, (height, hash, chainwork).
struct HeaderFile {
    network: Network,
    headers: Vec<BlockHeader>,
    meta: Vec<(u32, Hash256, U256)>,
}

impl HeaderFile {
    fn load(dir: &Path, net: &str, stem: &str) -> HeaderFile {
        let bin = common::read_vector(dir, &format!("{stem}.bin"));
        let headers: Vec<BlockHeader> = bin
            .chunks_exact(80)
            .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
            .collect();
        let json: serde_json::Value =
            serde_json::from_slice(&common::read_vector(dir, &format!("{stem}.json"))).unwrap();
        let meta: Vec<_> = json["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["height"].as_u64().unwrap() as u32,
                    Hash256::from_display_hex(e["hash"].as_str().unwrap()).unwrap(),
                    u256_hex(e["chainwork"].as_str().unwrap()),
                )
            })
            .collect();
        assert_eq!(headers.len(), meta.len());
        HeaderFile {
            network: net.parse().unwrap(),
            headers,
            meta,
        }
    }

    fn index_of(&self, height: u32) -> Option<usize> {
        let first = self.meta[0].0;
        let i = height.checked_sub(first)? as usize;
        (i < self.headers.len()).then_some(i)
    }
}

const HEADER_FILES: &[(&str, &str)] = &[
    ("mainnet", "mainnet/headers/headers_mainnet_1737084_1742083"),
    ("mainnet", "mainnet/headers/headers_mainnet_1886799_1891798"),
    ("testnet", "testnet/headers/headers_testnet_844005_849004"),
    ("testnet", "testnet/headers/headers_testnet_844817_849816"),
    ("testnet", "testnet/headers/headers_testnet_900776_905775"),
];

/// The generator's selection, restated: the newest 366 rows, and every row whose index is a
/// multiple of 28 with the row before it.
fn expected_selection(all: &BTreeMap<u32, TrustedCheckpoint>) -> Vec<u32> {
    let last = *all.keys().last().unwrap() / INTERVAL;
    all.keys()
        .copied()
        .filter(|h| {
            let i = h / INTERVAL;
            i + 366 > last || i % 28 == 0 || (i + 1) % 28 == 0
        })
        .collect()
}

#[test]
fn table_equals_shared_rows_and_hashes_are_x11_of_headers() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    for (net, n) in [("mainnet", Network::Mainnet), ("testnet", Network::Testnet)] {
        let all = shared_rows(&dir, net);
        let table = checkpoints::all(n);
        let heights: Vec<u32> = table.iter().map(|c| c.height).collect();
        assert_eq!(heights, expected_selection(&all), "{net}: selection");
        for (c, h) in table.iter().zip(checkpoints::hashes(n)) {
            assert_eq!(Some(c), all.get(&c.height), "{net} {}", c.height);
            assert_eq!(h.height, c.height);
            assert_eq!(h.hash, c.header.block_hash(), "{net} {}", c.height);
            assert_eq!(checkpoints::at(n, c.height), Some(*c));
        }
        // Newest rows as the README states them.
        let newest = checkpoints::newest_start(n).unwrap();
        assert_eq!(Some(&newest.start.height), all.keys().last());
        eprintln!("{net}: {} of {} rows embedded", table.len(), all.len());
    }
}

#[test]
fn shared_rows_agree_with_core_checkpoints_headers_and_chain_work() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut core_coinciding = 0;
    let mut file_coinciding = 0;
    for (net, n) in [("mainnet", Network::Mainnet), ("testnet", Network::Testnet)] {
        let all = shared_rows(&dir, net);
        assert!(all.keys().all(|h| h % INTERVAL == 0));
        assert_eq!(all.len() as u32, all.keys().last().unwrap() / INTERVAL);
        // Core's hash-only checkpoints where heights coincide (X11 of the row's header).
        for c in params::checkpoints(n) {
            if let Some(r) = all.get(&c.height) {
                assert_eq!(r.header.block_hash(), c.hash, "{net} {}", c.height);
                core_coinciding += 1;
            }
        }
        // Chain work: strictly increasing; each step at least the later block's own work and at
        // least 576 blocks at the powLimit (the easiest possible blocks).
        let min_block = pow::work_from_bits(params::pow_limit_bits(n));
        let mut prev: Option<&TrustedCheckpoint> = None;
        for r in all.values() {
            pow::target_from_bits(r.header.bits, n).expect("valid bits");
            if let Some(p) = prev {
                assert!(r.chain_work > p.chain_work, "{net} {}", r.height);
                let step = r.chain_work.wrapping_sub(&p.chain_work);
                assert!(
                    step >= pow::work_from_bits(r.header.bits),
                    "{net} {}",
                    r.height
                );
                assert!(step >= min_block.wrapping_mul_u64(INTERVAL as u64));
            } else {
                // The first row (576) above genesis: at least the row's own work.
                assert!(r.chain_work >= pow::work_from_bits(r.header.bits));
            }
            prev = Some(r);
        }
        // Real header files: the same header, hash and chainwork at every coinciding height.
        for (fnet, stem) in HEADER_FILES.iter().filter(|(f, _)| *f == net) {
            let f = HeaderFile::load(&dir, fnet, stem);
            for r in all.values() {
                if let Some(i) = f.index_of(r.height) {
                    assert_eq!(f.headers[i], r.header, "{stem} {}", r.height);
                    assert_eq!(f.meta[i].1, r.header.block_hash());
                    assert_eq!(f.meta[i].2, r.chain_work, "{stem} {} chainwork", r.height);
                    file_coinciding += 1;
                }
            }
        }
    }
    // Core v23.1.2's hash-only lists have no height that is a multiple of 576.
    eprintln!(
        "coinciding: {core_coinciding} with Core's list, {file_coinciding} with header files"
    );
    assert!(file_coinciding >= 30, "{file_coinciding}");
}

/// Connects `f`'s headers above `chain`'s anchor in 2000-header batches.
fn connect_file(chain: &mut HeaderChain, f: &HeaderFile) -> Result<(), ChainError> {
    let first = f
        .index_of(chain.anchor_height() + 1)
        .expect("file covers the start");
    for batch in f.headers[first..].chunks(2000) {
        let out = chain.connect(batch)?;
        assert_eq!(out.new_headers, batch.len());
    }
    Ok(())
}

#[test]
fn exact_start_from_real_checkpoint_pairs() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    for (net, stem) in [HEADER_FILES[0], HEADER_FILES[1], HEADER_FILES[4]] {
        let f = HeaderFile::load(&dir, net, stem);
        let all = shared_rows(&dir, net);
        // The lowest row pair whose anchor is in the file.
        let anchor = *all
            .values()
            .find(|r| f.index_of(r.height).is_some())
            .unwrap();
        let start = all[&(anchor.height + INTERVAL)];
        let through = Checkpoint {
            height: start.height,
            hash: start.header.block_hash(),
        };
        let mut chain =
            HeaderChain::from_trusted(f.network, &anchor).with_required_checkpoint(through);
        assert_eq!(chain.anchor_chain_work(), anchor.chain_work);
        assert!(chain.checkpoints().contains(&through));
        // Every header above the start has its whole DGW window above the anchor.
        assert!(chain.dgw_checked_from() <= start.height + 1);
        connect_file(&mut chain, &f).unwrap();
        let (tip_h, tip_hash, tip_work) = *f.meta.last().unwrap();
        assert_eq!(chain.tip(), (tip_h, tip_hash), "{stem}");
        assert_eq!(chain.hash_at(start.height), Some(through.hash));
        // Cumulative chain work from the anchor's row equals Core's chainwork at the tip.
        assert_eq!(chain.chain_work(), tip_work, "{stem}");
        // The DGW rule computes every header's real bits above the start from held headers.
        for h in start.height + 1..=tip_h {
            let past: Vec<BlockHeader> =
                (h - 24..h).map(|x| *chain.header_at(x).unwrap()).collect();
            let hdr = chain.header_at(h).unwrap();
            assert_eq!(
                pow::next_work_required(f.network, h - 1, &past, hdr.time),
                Some(hdr.bits),
                "{stem} {h}"
            );
        }
        // A chain required to pass through another hash at the start height refuses the file.
        let wrong = Checkpoint {
            height: start.height,
            hash: Hash256([7; 32]),
        };
        let mut bad = HeaderChain::from_trusted(f.network, &anchor).with_required_checkpoint(wrong);
        assert!(matches!(
            connect_file(&mut bad, &f).unwrap_err(),
            ChainError::CheckpointMismatch { height, .. } if height == start.height
        ));
        assert_eq!(bad.tip().0, anchor.height);
        // A snapshot reloads with the anchor's chain work (the anchor is not a built-in row
        // unless embedded, in which case the table supplies the same work).
        let back = HeaderChain::from_bytes(f.network, &chain.to_bytes()).unwrap();
        assert_eq!(back.tip(), chain.tip());
        if checkpoints::at(f.network, anchor.height).is_some() {
            assert_eq!(back.chain_work(), tip_work);
        }
    }
}

#[test]
fn birth_height_start_connects_real_headers_with_exact_chain_work() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut covered = 0;
    for (net, stem) in HEADER_FILES {
        let f = HeaderFile::load(&dir, net, stem);
        let birth = f.meta.last().unwrap().0;
        let mut cfg = Config::new(f.network);
        cfg.start_at_birth_height(birth);
        let r = cfg.resolve_start().unwrap();
        let s = r.builtin.unwrap();
        assert!(r.start_height() <= birth && r.start_height() % INTERVAL == 0);
        assert_eq!(r.anchor_height + INTERVAL, r.start_height());
        // No built-in start lies between the chosen one and the birth height.
        let next = checkpoints::all(f.network)
            .windows(2)
            .filter(|w| w[0].height + INTERVAL == w[1].height)
            .map(|w| w[1].height)
            .find(|&h| h > r.start_height());
        assert!(next.is_none_or(|h| h > birth));
        if f.index_of(r.anchor_height).is_none() {
            continue; // the file starts above the anchor
        }
        covered += 1;
        let mut chain = HeaderChain::from_builtin_start(f.network, &s);
        connect_file(&mut chain, &f).unwrap();
        assert_eq!(chain.tip().1, f.meta.last().unwrap().1);
        assert_eq!(chain.chain_work(), f.meta.last().unwrap().2, "{stem}");
        assert_eq!(chain.hash_at(r.start_height()), r.through.map(|c| c.hash));
        // The snapshot reloads with the embedded anchor's chain work and the start enforced.
        let back = HeaderChain::from_bytes(f.network, &chain.to_bytes()).unwrap();
        assert_eq!(back.chain_work(), chain.chain_work());
        assert!(back.checkpoints().contains(&r.through.unwrap()));
        assert!(cfg.accepts_saved_chain(&back));
    }
    assert!(covered >= 1, "no header file covers a built-in start");
}

#[test]
fn default_mainnet_and_testnet_configs_start_from_the_newest_builtin_checkpoint() {
    for n in [Network::Mainnet, Network::Testnet] {
        let cfg = Config::new(n);
        assert_eq!(cfg.start, StartPoint::Newest);
        let r = cfg.resolve_start().unwrap();
        let newest = checkpoints::all(n).last().copied().unwrap();
        assert_eq!(r.start_height(), newest.height);
        assert_eq!(r.through.unwrap().hash, newest.header.block_hash());
        assert_eq!(r.anchor_height, newest.height - INTERVAL);
    }
    // The README's newest heights.
    assert_eq!(
        Config::new(Network::Mainnet)
            .resolve_start()
            .unwrap()
            .start_height(),
        2_302_272
    );
    assert_eq!(
        Config::new(Network::Testnet)
            .resolve_start()
            .unwrap()
            .start_height(),
        1_284_480
    );
    // A default mainnet client holds the newest built-in anchor before it connects anywhere.
    let mut cfg = Config::new(Network::Mainnet);
    cfg.peers.push("127.0.0.1:9".parse().unwrap());
    let r = cfg.resolve_start().unwrap();
    let client = dash_qrsync::Client::new(
        cfg,
        std::sync::Arc::new(dash_qrsync::store::MemoryStore::default()),
        std::sync::Arc::new(dash_qrsync::NoopListener),
    )
    .unwrap();
    assert_eq!(client.status().header_height, r.anchor_height);
    assert_eq!(client.block_hash(r.anchor_height), Some(r.anchor_hash));
    assert_eq!(client.block_hash(0), None);
    // Regtest has no table: genesis. A devnet has none either; its chain starts at its own
    // genesis block at height 1 (Core's `devnet` name when none is given).
    let r = Config::new(Network::Regtest).resolve_start().unwrap();
    assert_eq!(
        (r.anchor_height, r.anchor_hash),
        (0, params::genesis_hash(Network::Regtest))
    );
    assert!(r.builtin.is_none());
    let r = Config::new(Network::Devnet).resolve_start().unwrap();
    assert_eq!(r.anchor_height, 1);
    assert_ne!(r.anchor_hash, params::genesis_hash(Network::Devnet));
    assert!(r.builtin.is_none());
}

#[test]
fn birth_time_selection_and_config_errors() {
    let n = Network::Mainnet;
    // 2024-01-01T00:00:00Z: the newest start at least a day earlier, and no later start is.
    let t = 1_704_067_200u64;
    let mut cfg = Config::new(n);
    cfg.start_at_birth_time(t);
    let r = cfg.resolve_start().unwrap();
    let start = checkpoints::at(n, r.start_height()).unwrap();
    assert!(start.header.time as u64 + checkpoints::BIRTH_TIME_MARGIN <= t);
    let table = checkpoints::all(n);
    let later = table
        .windows(2)
        .filter(|w| w[0].height + INTERVAL == w[1].height && w[1].height > start.height)
        .map(|w| w[1].header.time as u64)
        .min()
        .unwrap();
    assert!(later + checkpoints::BIRTH_TIME_MARGIN > t);

    let invalid = |c: &Config, what: &str| {
        let e = c.resolve_start().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidConfig, "{what}");
        let mut with_peer = c.clone();
        with_peer.peers.push("127.0.0.1:9".parse().unwrap());
        assert_eq!(
            with_peer.validate().unwrap_err().kind,
            ErrorKind::InvalidConfig
        );
        e.message
    };
    // Birth height / time before the oldest start; births on networks without a table.
    let oldest = checkpoints::oldest_start_height(n).unwrap();
    let mut c = Config::new(n);
    c.start_at_birth_height(oldest - 1);
    assert!(invalid(&c, "low birth height").contains("below the oldest"));
    c.start_at_birth_height(oldest);
    assert_eq!(c.resolve_start().unwrap().start_height(), oldest);
    c.start_at_birth_time(params::genesis_header(n).time as u64);
    invalid(&c, "early birth time");
    let mut reg = Config::new(Network::Regtest);
    reg.start_at_birth_height(5000);
    assert!(invalid(&reg, "regtest birth").contains("no built-in checkpoints"));

    // A host header must hash to what it claims, have valid PoW and agree with checkpoints.
    let g = params::genesis_header(n);
    let mut host = Config::new(n);
    host.start_at_header(0, g, params::genesis_hash(n));
    assert_eq!(host.resolve_start().unwrap().start_height(), 0);
    host.start_at_header(0, g, Hash256([1; 32]));
    assert!(invalid(&host, "wrong claimed hash").contains("not the claimed"));
    let row = checkpoints::newest_start(n).unwrap().anchor;
    host.start_at_header(row.height + 1, row.header, row.header.block_hash());
    let r = host.resolve_start().unwrap();
    assert_eq!((r.start_height(), r.through), (row.height + 1, None));
    host.start_at_header(row.height + INTERVAL, row.header, row.header.block_hash());
    invalid(&host, "header at another built-in height");
    let mut tampered = row.header;
    tampered.nonce ^= 1;
    host.start_at_header(row.height + 1, tampered, tampered.block_hash());
    assert!(invalid(&host, "bad pow").contains("hash above target"));
    // The older `checkpoint` field gets the same checks and wins over `start`.
    let mut legacy = Config::new(n);
    legacy.checkpoint = Some(HostCheckpoint {
        height: 1500,
        header: g,
    });
    invalid(&legacy, "legacy checkpoint contradicting Core's 1500");
    legacy.checkpoint = Some(HostCheckpoint {
        height: row.height,
        header: row.header,
    });
    legacy.start = StartPoint::Genesis;
    assert_eq!(legacy.resolve_start().unwrap().anchor_height, row.height);
}

#[test]
fn saved_chains_that_fit_the_configured_start() {
    let n = Network::Mainnet;
    let newest = checkpoints::newest_start(n).unwrap();
    let default = Config::new(n);
    let table = checkpoints::all(n);
    let older = table[table.len() - 10];
    // The configured anchor, genesis, and an older built-in row all fit the default start.
    assert!(default.accepts_saved_chain(&HeaderChain::from_builtin_start(n, &newest)));
    assert!(default.accepts_saved_chain(&HeaderChain::from_genesis(n)));
    assert!(default.accepts_saved_chain(&HeaderChain::from_trusted(n, &older)));
    // A birth start does not take a chain anchored above its own anchor.
    let mut birth = Config::new(n);
    birth.start_at_birth_height(older.height);
    assert!(!birth.accepts_saved_chain(&HeaderChain::from_builtin_start(n, &newest)));
    assert!(birth.accepts_saved_chain(&HeaderChain::from_genesis(n)));
    // Genesis and host starts take only their own anchor.
    let mut genesis = Config::new(n);
    genesis.start = StartPoint::Genesis;
    assert!(genesis.accepts_saved_chain(&HeaderChain::from_genesis(n)));
    assert!(!genesis.accepts_saved_chain(&HeaderChain::from_trusted(n, &older)));
    let mut host = Config::new(n);
    host.start_at_header(older.height, older.header, older.header.block_hash());
    assert!(host.accepts_saved_chain(&HeaderChain::from_trusted(n, &older)));
    assert!(!host.accepts_saved_chain(&HeaderChain::from_genesis(n)));
    // A chain anchored at a non-table header does not fit a built-in start.
    let odd = HeaderChain::new(n, older.height + 1, older.header);
    assert!(!default.accepts_saved_chain(&odd));
}

/// The simulated (regtest) network: the default start is genesis (no table), and a host header
/// with its claimed hash starts the sync above genesis; both reach the tip.
#[cfg(feature = "simnet")]
#[test]
fn simnet_syncs_from_the_regtest_default_and_from_a_host_header() {
    use dash_qrsync::simnet::server::{ServerConfig, SimServer};
    use dash_qrsync::simnet::{SimConfig, SimNode};
    use dash_qrsync::store::MemoryStore;
    use dash_qrsync::{Client, SyncState};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = SimConfig::regtest(7);
    let node = Arc::new(SimNode::new(sim.clone()));
    let server = rt
        .block_on(SimServer::start(node.clone(), ServerConfig::default()))
        .unwrap();
    let tip = node.with_chain(|c| c.tip_height());
    let start = 3u32;
    let (header, hash) = node.with_chain(|c| {
        let b = c.block(start).unwrap();
        (b.header, b.hash)
    });
    for host_start in [false, true] {
        let mut cfg = Config::new(sim.network());
        cfg.chain = sim.params.clone();
        cfg.peers = vec![server.addr()];
        cfg.max_peers = 1;
        cfg.follow_tip = false;
        if host_start {
            cfg.start_at_header(start, header, hash);
        }
        let r = cfg.resolve_start().unwrap();
        assert_eq!(r.anchor_height, if host_start { start } else { 0 });
        let client = Client::new(
            cfg,
            Arc::new(MemoryStore::new()),
            Arc::new(dash_qrsync::NoopListener),
        )
        .unwrap();
        assert_eq!(client.status().header_height, r.anchor_height);
        client.start().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.status().state != SyncState::Synced && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let st = client.status();
        assert_eq!(st.state, SyncState::Synced, "host start {host_start}");
        assert_eq!(st.header_height, tip);
        assert_eq!(client.block_hash(start), Some(hash));
        assert_eq!(client.block_hash(0).is_some(), !host_start);
        client.stop();
    }
    rt.block_on(server.shutdown());
}

/// A devnet's chain starts at its own genesis block, derived from its name as Dash Core does:
/// Core v23.1.2 with `-devnet=dqs` holds block 0b19fa77…feeb at height 1 (`getchaintips`).
#[test]
fn a_devnet_starts_at_the_genesis_block_core_derives_from_its_name() {
    let c = dash_qrsync::Config::from_dash_conf("devnet=dqs\n").unwrap();
    let r = c.resolve_start().unwrap();
    assert_eq!(r.anchor_height, 1);
    assert_eq!(
        r.anchor_hash.to_display_hex(),
        "0b19fa77be615ff4fcc16823082eec7b011fa267e167febb42685cafc397feeb"
    );
    let other = dash_qrsync::Config::from_dash_conf("devnet=other\n").unwrap();
    assert_ne!(other.resolve_start().unwrap().anchor_hash, r.anchor_hash);
}

/// The UniFFI start setters reach the same start as the Rust ones: a birth time picks the same
/// built-in row, a host checkpoint (a real mainnet header of the table) starts there, and a
/// header of the wrong length or one that contradicts the table at its height is refused with
/// the configuration unchanged.
#[test]
fn uniffi_birth_time_and_checkpoint_choose_the_rust_start() {
    use dash_qrsync::bindings::{ClientConfig, QrSyncError};
    let n = Network::Mainnet;
    let t = 1_704_067_200u64;
    let mut rust = Config::new(n);
    rust.start_at_birth_time(t);
    let u = ClientConfig::new(n);
    u.set_birth_time(t).unwrap();
    assert_eq!(
        u.start_height().unwrap(),
        rust.resolve_start().unwrap().start_height()
    );
    let early = u.set_birth_time(params::genesis_header(n).time as u64);
    assert!(
        matches!(early, Err(QrSyncError::InvalidConfig { .. })),
        "{early:?}"
    );
    assert_eq!(
        u.start_height().unwrap(),
        rust.resolve_start().unwrap().start_height(),
        "a refused birth time changed the configuration"
    );

    let row = checkpoints::all(n)[10];
    u.set_checkpoint(row.height, row.header.to_array().to_vec())
        .unwrap();
    assert_eq!(u.start_height().unwrap(), row.height);
    let short = u.set_checkpoint(row.height, row.header.to_array()[..79].to_vec());
    assert!(
        matches!(short, Err(QrSyncError::InvalidArgument { .. })),
        "{short:?}"
    );
    // Another row's header claimed at this row's height contradicts the table.
    let other = checkpoints::all(n)[11];
    let wrong = u.set_checkpoint(row.height, other.header.to_array().to_vec());
    assert!(
        matches!(wrong, Err(QrSyncError::InvalidConfig { .. })),
        "{wrong:?}"
    );
    assert_eq!(u.start_height().unwrap(), row.height);
}
