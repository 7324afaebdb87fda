//! The pure-Rust X11 (src/chain/x11/) against every real header in the vectors: each block hash
//! equals the one recorded by the source (dashj header stores, Dash Core's RPC), each header's
//! `prev_hash` equals the X11 of the one before it, and each checkpoint header meets the proof of
//! work its own `bits` demand.

mod common;

use dash_qrsync::chain::pow;
use dash_qrsync::chain::x11;
use dash_qrsync::Network;
use serde_json::Value;
use std::path::Path;

/// X11 of an 80-byte header in display (reversed) hex.
fn display_hash(header: &[u8]) -> String {
    let mut h = x11::x11(header);
    h.reverse();
    hex::encode(h)
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&common::read_vector(dir, rel)).expect("valid JSON")
}

/// Prev-hash field (bytes 4..36, internal order) of a header in display hex.
fn prev_display(header: &[u8]) -> String {
    let mut p = header[4..36].to_vec();
    p.reverse();
    hex::encode(p)
}

const HEADER_FILES: &[&str] = &[
    "mainnet/headers/headers_mainnet_1737084_1742083",
    "mainnet/headers/headers_mainnet_1886799_1891798",
    "testnet/headers/headers_testnet_844005_849004",
    "testnet/headers/headers_testnet_844817_849816",
    "testnet/headers/headers_testnet_900776_905775",
    "testnet/headers/headers_testnet_ORPHANED_FORK_897321_902320",
];

#[test]
fn x11_every_mainnet_and_testnet_header_hashes_to_the_recorded_hash() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut total = 0;
    for stem in HEADER_FILES {
        let bin = common::read_vector(&dir, &format!("{stem}.bin"));
        let meta = json(&dir, &format!("{stem}.json"));
        let rows = meta["headers"].as_array().expect("headers array");
        assert_eq!(bin.len(), rows.len() * 80, "{stem}");
        let mut prev: Option<String> = None;
        for (i, (hdr, row)) in bin.chunks_exact(80).zip(rows).enumerate() {
            let got = display_hash(hdr);
            assert_eq!(got, row["hash"].as_str().unwrap(), "{stem} row {i}");
            if let Some(p) = prev {
                assert_eq!(prev_display(hdr), p, "{stem} link {i}");
            }
            prev = Some(got);
        }
        total += rows.len();
    }
    eprintln!("x11: {total} real mainnet/testnet headers match their recorded hashes");
    assert_eq!(total, 6 * 5000);
}

#[test]
fn x11_headers_message_links() {
    // A real `headers` payload (count, then 80-byte header + 0x00 tx count per entry).
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let p = common::read_vector(
        &dir,
        "testnet/headers/headers_msg_testnet_903776_905775.bin",
    );
    let (n, off) = match p[0] {
        0xfd => (u16::from_le_bytes([p[1], p[2]]) as usize, 3),
        b => (b as usize, 1),
    };
    assert_eq!(p.len(), off + n * 81);
    let hdrs: Vec<&[u8]> = (0..n)
        .map(|i| &p[off + 81 * i..off + 81 * i + 80])
        .collect();
    for w in hdrs.windows(2) {
        assert_eq!(prev_display(w[1]), display_hash(w[0]));
    }
    // Its last header is the tip of testnet/headers_testnet_900776_905775 (height 905775).
    let meta = json(&dir, "testnet/headers/headers_testnet_900776_905775.json");
    let last = meta["headers"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["height"], 905775);
    assert_eq!(display_hash(hdrs[n - 1]), last["hash"].as_str().unwrap());
}

#[test]
fn x11_every_checkpoint_header_meets_its_proof_of_work() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut total = 0;
    for (net, network) in [("mainnet", Network::Mainnet), ("testnet", Network::Testnet)] {
        let cp = json(&dir, &format!("checkpoints/checkpoints_{net}.json"));
        // Hashes recorded elsewhere for the same heights, to compare where they overlap.
        let mut known = std::collections::HashMap::new();
        for stem in HEADER_FILES
            .iter()
            .filter(|s| s.starts_with(net) && !s.contains("ORPHANED"))
        {
            for row in json(&dir, &format!("{stem}.json"))["headers"]
                .as_array()
                .unwrap()
            {
                known.insert(
                    row["height"].as_u64().unwrap(),
                    row["hash"].as_str().unwrap().to_string(),
                );
            }
        }
        let mut overlaps = 0;
        for row in cp["rows"].as_array().unwrap() {
            let hdr = hex::decode(row["header"].as_str().unwrap()).unwrap();
            let arr: [u8; 80] = hdr.as_slice().try_into().unwrap();
            let bits = u32::from_le_bytes(arr[72..76].try_into().unwrap());
            let hash = dash_qrsync::hashes::x11(&arr);
            let height = row["height"].as_u64().unwrap();
            pow::check_proof_of_work(&hash, bits, network)
                .unwrap_or_else(|e| panic!("{net} checkpoint {height}: {e}"));
            if let Some(h) = known.get(&height) {
                assert_eq!(&display_hash(&hdr), h, "{net} checkpoint {height}");
                overlaps += 1;
            }
            total += 1;
        }
        assert!(overlaps > 0, "{net}: no checkpoint overlaps a header file");
    }
    eprintln!("x11: {total} checkpoint headers meet their proof of work");
    assert_eq!(total, 3997 + 2230);
}

#[test]
fn x11_core_regtest_headers_match_cores_rpc() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut total = 0;
    for (scenario, tip) in [
        ("A-v20at100", 309),
        ("A2-every-height", 309),
        ("B-v20at432", 597),
    ] {
        let bin = common::read_vector(
            &dir,
            &format!("core-regtest/{scenario}/headers/headers_regtest_0_{tip}.bin"),
        );
        let rpc = json(
            &dir,
            &format!("core-regtest/{scenario}/rpc/getblockheader_0_{tip}.json"),
        );
        let rows = rpc.as_array().unwrap();
        assert_eq!(bin.len(), 80 * rows.len());
        for (hdr, row) in bin.chunks_exact(80).zip(rows) {
            assert_eq!(
                display_hash(hdr),
                row["hash"].as_str().unwrap(),
                "{scenario} {}",
                row["height"]
            );
            total += 1;
        }
    }
    // No per-header RPC here: linkage plus Core's best block hash at height 450.
    let bin = common::read_vector(
        &dir,
        "core-regtest/plain-no-masternodes/headers_regtest_0_450.bin",
    );
    let hdrs: Vec<&[u8]> = bin.chunks_exact(80).collect();
    assert_eq!(hdrs.len(), 451);
    for w in hdrs.windows(2) {
        assert_eq!(prev_display(w[1]), display_hash(w[0]));
    }
    let info = json(
        &dir,
        "core-regtest/plain-no-masternodes/getblockchaininfo.json",
    );
    assert_eq!(
        display_hash(hdrs[450]),
        info["bestblockhash"].as_str().unwrap()
    );
    total += hdrs.len();
    eprintln!("x11: {total} Core regtest headers match Core's hashes");
}
