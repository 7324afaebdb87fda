//! Real mainnet/testnet block headers: X11 hashes, linkage, proof of work, DGW bits, chain work,
//! checkpoints, the header chain over whole files (incl. the real stale testnet branch),
//! rejection of tampered headers and snapshot round trips.

mod common;

use dash_qrsync::chain::params::{self, Checkpoint};
use dash_qrsync::chain::pow::{self, U256};
use dash_qrsync::chain::{ChainError, HeaderChain, HeaderIndex};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::persist::{BlobKind, EnvelopeError};
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::Network;
use std::path::Path;

const FILES: &[(&str, &str)] = &[
    ("mainnet", "mainnet/headers/headers_mainnet_1737084_1742083"),
    ("mainnet", "mainnet/headers/headers_mainnet_1886799_1891798"),
    ("testnet", "testnet/headers/headers_testnet_844005_849004"),
    ("testnet", "testnet/headers/headers_testnet_844817_849816"),
    ("testnet", "testnet/headers/headers_testnet_900776_905775"),
    (
        "testnet",
        "testnet/headers/headers_testnet_ORPHANED_FORK_897321_902320",
    ),
];

const ORPHANED: &str = "testnet/headers/headers_testnet_ORPHANED_FORK_897321_902320";
const REAL_900776: &str = "testnet/headers/headers_testnet_900776_905775";
const MAINNET_1886799: &str = "mainnet/headers/headers_mainnet_1886799_1891798";

struct Expected {
    height: u32,
    hash: Hash256,
    prev: Hash256,
    merkle_root: Hash256,
    version: i32,
    time: u32,
    bits: u32,
    nonce: u32,
    chainwork: U256,
}

struct VectorFile {
    network: Network,
    headers: Vec<BlockHeader>,
    expected: Vec<Expected>,
}

fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).unwrap()
}

fn u256_hex(s: &str) -> U256 {
    let padded = format!("{s:0>64}");
    let mut b: [u8; 32] = hex::decode(padded).unwrap().try_into().unwrap();
    b.reverse();
    U256::from_le_bytes(&b)
}

fn load(dir: &Path, net: &str, stem: &str) -> VectorFile {
    let bin = common::read_vector(dir, &format!("{stem}.bin"));
    assert_eq!(bin.len() % 80, 0, "{stem}");
    let headers: Vec<BlockHeader> = bin
        .chunks_exact(80)
        .map(|c| BlockHeader::from_array(c.try_into().unwrap()))
        .collect();
    let json: serde_json::Value =
        serde_json::from_slice(&common::read_vector(dir, &format!("{stem}.json"))).unwrap();
    let expected = json["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Expected {
            height: e["height"].as_u64().unwrap() as u32,
            hash: h(e["hash"].as_str().unwrap()),
            prev: h(e["prev_hash"].as_str().unwrap()),
            merkle_root: h(e["merkle_root"].as_str().unwrap()),
            version: e["version"].as_i64().unwrap() as i32,
            time: e["time"].as_u64().unwrap() as u32,
            bits: u32::from_str_radix(e["bits"].as_str().unwrap(), 16).unwrap(),
            nonce: e["nonce"].as_u64().unwrap() as u32,
            chainwork: u256_hex(e["chainwork"].as_str().unwrap()),
        })
        .collect::<Vec<_>>();
    assert_eq!(headers.len(), expected.len(), "{stem}");
    VectorFile {
        network: net.parse().unwrap(),
        headers,
        expected,
    }
}

/// A chain anchored at the file's first header with the rest connected in `headers`-message
/// sized batches.
fn chain_over(f: &VectorFile, upto: usize) -> HeaderChain {
    let mut chain = HeaderChain::new(f.network, f.expected[0].height, f.headers[0]);
    for batch in f.headers[1..upto].chunks(2000) {
        let out = chain.connect(batch).unwrap();
        assert_eq!(out.new_headers, batch.len());
        assert!(out.reorg.is_none() && !out.side_branch);
    }
    chain
}

#[test]
fn chain_genesis_hashes() {
    assert_eq!(
        params::genesis_header(Network::Mainnet).block_hash(),
        h("00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6")
    );
    assert_eq!(
        params::genesis_header(Network::Testnet).block_hash(),
        h("00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c")
    );
    for n in Network::ALL {
        let g = params::genesis_header(n);
        assert_eq!(g.block_hash(), params::genesis_hash(n));
        pow::check_proof_of_work(&g.block_hash(), g.bits, n).unwrap();
        let c = HeaderChain::from_genesis(n);
        assert_eq!(c.tip(), (0, params::genesis_hash(n)));
    }
}

#[test]
fn chain_every_header_hashes_links_and_has_valid_pow_and_dgw_bits() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut dgw_checked = [0usize; 2];
    let mut checkpoints_seen = 0;
    for (net, stem) in FILES {
        let f = load(&dir, net, stem);
        for (i, (hdr, e)) in f.headers.iter().zip(&f.expected).enumerate() {
            let hash = hdr.block_hash();
            assert_eq!(hash, e.hash, "{stem} height {}", e.height);
            assert_eq!(hdr.prev_block_hash, e.prev, "{stem} {}", e.height);
            assert_eq!(hdr.merkle_root, e.merkle_root);
            assert_eq!(
                (hdr.version, hdr.time, hdr.bits, hdr.nonce),
                (e.version, e.time, e.bits, e.nonce)
            );
            pow::check_proof_of_work(&hash, hdr.bits, f.network).unwrap();
            if i > 0 {
                assert_eq!(e.height, f.expected[i - 1].height + 1);
                assert_eq!(
                    hdr.prev_block_hash,
                    f.expected[i - 1].hash,
                    "{stem} linkage"
                );
                // chainwork(i) − chainwork(i−1) = GetBlockProof(bits).
                assert_eq!(
                    e.chainwork.wrapping_sub(&f.expected[i - 1].chainwork),
                    pow::work_from_bits(hdr.bits),
                    "{stem} work at {}",
                    e.height
                );
            }
            if i >= 24 {
                let expected =
                    pow::next_work_required(f.network, e.height - 1, &f.headers[i - 24..i], e.time)
                        .unwrap();
                assert_eq!(
                    expected, hdr.bits,
                    "{stem}: DGW bits at height {}",
                    e.height
                );
                dgw_checked[(f.network == Network::Testnet) as usize] += 1;
            }
        }
        // Checkpoints within the file's range.
        let first = f.expected[0].height;
        for c in params::checkpoints(f.network) {
            if let Some(e) = c
                .height
                .checked_sub(first)
                .and_then(|i| f.expected.get(i as usize))
            {
                assert_eq!(e.hash, c.hash, "{stem}: checkpoint {}", c.height);
                checkpoints_seen += 1;
            }
        }
    }
    eprintln!(
        "DGW bits checked: mainnet {}, testnet {}",
        dgw_checked[0], dgw_checked[1]
    );
    assert!(dgw_checked[0] > 9000 && dgw_checked[1] > 19000);
    // Mainnet 1889000 and testnet 905100 lie inside the files.
    assert_eq!(checkpoints_seen, 2);
}

#[test]
fn chain_pure_dgw_matches_mainnet() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let f = load(&dir, "mainnet", MAINNET_1886799);
    for i in 24..f.headers.len() {
        assert_eq!(
            pow::dark_gravity_wave(&f.headers[i - 24..i], Network::Mainnet),
            f.headers[i].bits
        );
    }
}

#[test]
fn chain_over_every_file() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    for (net, stem) in FILES {
        let f = load(&dir, net, stem);
        let chain = chain_over(&f, f.headers.len());
        let last = f.expected.last().unwrap();
        assert_eq!(chain.tip(), (last.height, last.hash), "{stem}");
        assert_eq!(chain.len(), f.headers.len());
        for (i, e) in f.expected.iter().enumerate().step_by(97) {
            assert_eq!(chain.hash_at(e.height), Some(e.hash));
            assert_eq!(chain.height_of(&e.hash), Some(e.height));
            assert_eq!(chain.merkle_root_of(&e.hash), Some(e.merkle_root));
            assert_eq!(chain.header_at(e.height), Some(&f.headers[i]));
        }
        // Work since the anchor equals the chainwork difference (+ the anchor's own work).
        let w = last
            .chainwork
            .wrapping_sub(&f.expected[0].chainwork)
            .wrapping_add(&pow::work_from_bits(f.headers[0].bits));
        assert_eq!(chain.chain_work(), w);
        let loc = chain.locator();
        assert_eq!(loc[0], last.hash);
        assert_eq!(*loc.last().unwrap(), f.expected[0].hash);
        assert!(loc.len() < 40);
        // Re-sending known headers is a no-op.
        let out = chain.clone().connect(&f.headers[100..300]).unwrap();
        assert_eq!(out.new_headers, 0);
    }
}

#[test]
fn chain_orphaned_testnet_branch_and_real_chain() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let orphan = load(&dir, "testnet", ORPHANED);
    let real = load(&dir, "testnet", REAL_900776);
    // The two files share no block: the real file starts after the fork, so they cannot be
    // linked (the reorg logic is tested with synthetic regtest branches in the unit tests).
    let first_real = &real.expected[0];
    assert!(orphan
        .expected
        .iter()
        .all(|e| e.height != first_real.height || e.hash != first_real.hash));

    let mut chain = chain_over(&orphan, orphan.headers.len());
    let last = orphan.expected.last().unwrap();
    assert_eq!(chain.tip(), (last.height, last.hash));
    let before = chain.to_bytes();
    // The real chain's headers do not connect to the stale branch.
    let err = chain.connect(&real.headers[..100]).unwrap_err();
    assert_eq!(
        err,
        ChainError::UnknownParent {
            hash: first_real.hash,
            prev: first_real.prev
        }
    );
    assert_eq!(chain.to_bytes(), before);
    // The stale branch's own tail fed again: nothing new.
    let out = chain.connect(&orphan.headers[4000..]).unwrap();
    assert_eq!(out.new_headers, 0);
    // A competing header at height +50 whose PoW fails is refused; one forking deeper than
    // the max reorg depth is refused before its PoW is even looked at.
    let mut small = HeaderChain::new(
        Network::Testnet,
        orphan.expected[0].height,
        orphan.headers[0],
    )
    .with_max_reorg_depth(60);
    small.connect(&orphan.headers[1..100]).unwrap();
    let mut bad = orphan.headers[50];
    bad.nonce ^= 1;
    let e = small.connect(&[bad]).unwrap_err();
    assert!(
        matches!(e, ChainError::HighHash { height, .. } if height == orphan.expected[50].height)
    );
    let mut deep = orphan.headers[20];
    deep.nonce ^= 1;
    assert!(matches!(
        small.connect(&[deep]).unwrap_err(),
        ChainError::ForkTooDeep { fork_height, depth: 80, max: 60 } if fork_height == orphan.expected[19].height
    ));
    assert_eq!(
        small.tip(),
        (orphan.expected[99].height, orphan.expected[99].hash)
    );
}

#[test]
fn chain_tampered_real_headers_are_rejected_and_chain_unchanged() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let f = load(&dir, "mainnet", MAINNET_1886799);
    let mut chain = chain_over(&f, 1000);
    let before = chain.to_bytes();
    let next = &f.headers[1000..1100];
    let height = f.expected[1000].height;

    // Bad bits (easier target): the PoW no longer matches (hash changes) or DGW refuses.
    let mut batch = next.to_vec();
    batch[0].bits = 0x1e0f_ffff;
    match chain.connect(&batch[..1]).unwrap_err() {
        ChainError::HighHash { height: h, .. } | ChainError::BadDifficulty { height: h, .. } => {
            assert_eq!(h, height)
        }
        e => panic!("unexpected {e}"),
    }
    // Bits above powLimit.
    batch[0].bits = 0x2100_ffff;
    assert!(matches!(
        chain.connect(&batch[..1]).unwrap_err(),
        ChainError::BadTarget { height: h, .. } if h == height
    ));
    // Bad PoW in the middle of the batch: nothing of the batch is kept.
    let mut batch = next.to_vec();
    batch[50].merkle_root = Hash256([7; 32]);
    // Relink the rest so the only fault is the PoW of header 50.
    for i in 51..batch.len() {
        batch[i].prev_block_hash = batch[i - 1].block_hash();
    }
    assert!(matches!(
        chain.connect(&batch).unwrap_err(),
        ChainError::HighHash { height: h, .. } if h == height + 50
    ));
    assert_eq!(chain.to_bytes(), before);
    // Broken linkage inside the batch.
    let mut batch = next.to_vec();
    batch.remove(10);
    assert!(matches!(
        chain.connect(&batch).unwrap_err(),
        ChainError::NotLinked { index: 10, .. }
    ));
    // Not connecting at all.
    assert!(matches!(
        chain.connect(&next[1..]).unwrap_err(),
        ChainError::UnknownParent { .. }
    ));
    assert_eq!(chain.to_bytes(), before);
    assert_eq!(chain.tip().0, height - 1);

    // Real checkpoint 1889000 is inside this file and passes; a wrong checkpoint is caught.
    let cp_height = f.expected[1010].height;
    let mut strict = chain.clone().with_checkpoints(vec![Checkpoint {
        height: cp_height,
        hash: Hash256([1; 32]),
    }]);
    let e = strict.connect(next).unwrap_err();
    assert_eq!(
        e,
        ChainError::CheckpointMismatch {
            height: cp_height,
            hash: f.expected[1010].hash,
            expected: Hash256([1; 32]),
        }
    );
    assert_eq!(strict.to_bytes(), before);
    let out = chain.connect(&f.headers[1000..]).unwrap();
    assert_eq!(out.tip_height, f.expected.last().unwrap().height);
    assert!(chain.tip().0 > 1_889_000);
    assert_eq!(
        chain.hash_at(1_889_000),
        params::checkpoint_at(Network::Mainnet, 1_889_000)
    );
    // A fork before the passed checkpoint is refused (with a generous reorg depth).
    let mut deep = chain.clone().with_max_reorg_depth(10_000);
    let mut fork_hdr = f.headers[2000];
    fork_hdr.nonce ^= 1;
    let e = deep.connect(&[fork_hdr]).unwrap_err();
    assert!(matches!(
        e,
        ChainError::ForkBeforeCheckpoint {
            checkpoint_height: 1_889_000,
            ..
        }
    ));
    // ... and deeper than the default max reorg depth otherwise.
    let e = chain.connect(&[f.headers[100]]).unwrap();
    assert_eq!(e.new_headers, 0);
    let mut old = f.headers[101];
    old.time += 1;
    assert!(matches!(
        chain.connect(&[old]).unwrap_err(),
        ChainError::ForkTooDeep { .. }
    ));
}

#[test]
fn chain_snapshot_round_trip_and_corruption() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let f = load(&dir, "testnet", REAL_900776);
    let chain = chain_over(&f, f.headers.len());
    let bytes = chain.to_bytes();
    assert_eq!(bytes.len(), 15 + 80 * f.headers.len() + 32);
    let back = HeaderChain::from_bytes(Network::Testnet, &bytes).unwrap();
    assert_eq!(back.tip(), chain.tip());
    assert_eq!(back.anchor_height(), chain.anchor_height());
    assert_eq!(back.to_bytes(), bytes);

    assert_eq!(
        HeaderChain::from_bytes(Network::Mainnet, &bytes).unwrap_err(),
        ChainError::Snapshot(EnvelopeError::OtherNetwork {
            kind: BlobKind::HeaderChain,
            expected: Network::Mainnet,
            found: 1
        })
    );
    // Cut short, extended or altered: the checksum (over everything before it) fails.
    let checksum = ChainError::Snapshot(EnvelopeError::Checksum {
        kind: BlobKind::HeaderChain,
    });
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &bytes[..bytes.len() - 1]).unwrap_err(),
        checksum
    );
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &bytes[..10]).unwrap_err(),
        ChainError::Snapshot(EnvelopeError::Truncated {
            kind: BlobKind::HeaderChain,
            needed: 39,
            got: 10
        })
    );
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &longer).unwrap_err(),
        checksum
    );
    let mut flipped = bytes.clone();
    flipped[15 + 80 * 1234 + 40] ^= 0x10;
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &flipped).unwrap_err(),
        checksum
    );
    // Behind a valid checksum, the header count must match the bytes.
    let mut longer = bytes[..bytes.len() - 32].to_vec();
    longer.push(0);
    let sum = dash_qrsync::hashes::sha256d(&longer);
    longer.extend_from_slice(&sum.0);
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &longer).unwrap_err(),
        ChainError::SnapshotTrailing { extra: 1 }
    );
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(
        HeaderChain::from_bytes(Network::Testnet, &magic).unwrap_err(),
        ChainError::Snapshot(EnvelopeError::WrongKind {
            expected: BlobKind::HeaderChain,
            found: None
        })
    );
    // A tampered header with a recomputed checksum fails revalidation: in the middle its
    // successor no longer links to it, at the end its proof of work fails.
    let forge = |at: usize| {
        let mut forged = bytes[..bytes.len() - 32].to_vec();
        forged[15 + 80 * at + 40] ^= 0x10;
        let sum = dash_qrsync::hashes::sha256d(&forged);
        forged.extend_from_slice(&sum.0);
        HeaderChain::from_bytes(Network::Testnet, &forged).unwrap_err()
    };
    assert!(matches!(forge(1234), ChainError::NotLinked { .. }));
    let last = f.headers.len() - 1;
    let e = forge(last);
    assert!(
        matches!(e, ChainError::HighHash { height, .. } if height == f.expected[last].height),
        "{e}"
    );
    // Anchor that is not the genesis at height 0.
    let mut g = HeaderChain::from_genesis(Network::Testnet).to_bytes();
    assert!(HeaderChain::from_bytes(Network::Testnet, &g).is_ok());
    g[15 + 70] ^= 1; // bits byte of the genesis header
    let n = g.len() - 32;
    let sum = dash_qrsync::hashes::sha256d(&g[..n]);
    g[n..].copy_from_slice(&sum.0);
    assert!(matches!(
        HeaderChain::from_bytes(Network::Testnet, &g).unwrap_err(),
        ChainError::CheckpointMismatch { height: 0, .. }
    ));
}
