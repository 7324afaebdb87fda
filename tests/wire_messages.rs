//! P2P framing and message codecs: real vectors (headers, clsig, isdlock, framed mnlistdiff,
//! qrinfo), property round trips for every message type, and robustness against arbitrary,
//! truncated and oversize input.

mod common;

use dash_qrsync::hashes::Hash256;
use dash_qrsync::wire::frame::{
    encode_frame, FrameDecoder, FrameError, RawMessage, MAX_LARGE_MESSAGE_SIZE, MAX_MESSAGE_SIZE,
};
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::wire::headers2::{
    compress_headers, decode_headers2, decompress_headers, encode_headers2, CompressedHeader,
    HeaderTime, HeaderVersion,
};
use dash_qrsync::wire::locks::{ClSig, IsDLock, OutPoint};
use dash_qrsync::wire::message::{
    inv_type, AddrEntry, AddrV2, AddrV2Entry, GetHeaders, Inventory, Message, NetAddress, Reject,
    VersionMessage, KNOWN_COMMANDS,
};
use dash_qrsync::wire::mnlistdiff::GetMnListDiff;
use dash_qrsync::wire::qrinfo::GetQrInfo;
use dash_qrsync::wire::{Decode, Encode, WireError};
use dash_qrsync::Network;
use proptest::prelude::*;

const P: u32 = 70237;
const VERSIONS: [u32; 8] = [70218, 70225, 70227, 70228, 70229, 70230, 70235, 70240];

fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).unwrap()
}

fn locks_json(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("locks/locks.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Real vectors
// ---------------------------------------------------------------------------------------------

#[test]
fn real_headers_payload_decodes_to_2000_linked_headers() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let payload = common::read_vector(
        &dir,
        "testnet/headers/headers_msg_testnet_903776_905775.bin",
    );
    let Message::Headers(hs) = Message::decode("headers", &payload, P).unwrap() else {
        panic!("not headers")
    };
    assert_eq!(hs.len(), 2000);
    for w in hs.windows(2) {
        assert_eq!(w[1].prev_block_hash, w[0].block_hash());
    }
    // The tip is the block of the real testnet ChainLock at 905775.
    assert_eq!(
        hs[1999].block_hash(),
        h("000000e832ac791591489ccfbb531ace828e1465b68b203158c9974c4c2b23b5")
    );
    // Byte-identical re-encoding, and every tx-count byte must be zero.
    assert_eq!(Message::Headers(hs.clone()).encode_payload(P), payload);
    let mut bad = payload.clone();
    bad[3 + 80] = 1;
    assert!(Message::decode("headers", &bad, P).is_err());

    // The same headers as a compressed `headers2` message round-trip and are much smaller:
    // ~43 bytes each instead of 81 (bitfield, merkle root, time offset, nonce, and the bits,
    // which change every block under DGW).
    let m = Message::Headers2(hs.clone().into());
    let compressed = m.encode_payload(P);
    assert!(
        compressed.len() < payload.len() * 55 / 100,
        "{}",
        compressed.len()
    );
    assert_eq!(Message::decode("headers2", &compressed, P).unwrap(), m);
    // The compressed tail needs the header before it.
    let c = decode_headers2(&compressed, P).unwrap();
    assert!(decompress_headers(&c[1..], None).is_err());
    let tail = decompress_headers(&compress_headers(&hs[1..]), None).unwrap();
    assert_eq!(tail, hs[1..]);
    let mut c2 = compress_headers(&hs[1000..]);
    c2[0].prev_block_hash = None;
    if hs[1000].bits == hs[999].bits {
        c2[0].bits = None;
    }
    c2[0].time = HeaderTime::Offset((hs[1000].time as i64 - hs[999].time as i64) as i16);
    assert_eq!(decompress_headers(&c2, Some(&hs[999])).unwrap(), hs[1000..]);
    // 2000 headers fit the pre-70235 limit too.
    assert!(Message::decode("headers2", &compressed, 70230).is_ok());
}

#[test]
fn real_clsigs_decode_reencode_and_request_ids() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let j = locks_json(&dir);
    let cls = j["clsig"].as_array().unwrap();
    assert!(cls.len() >= 4);
    for c in cls {
        let wire = hex::decode(c["wire_hex"].as_str().unwrap()).unwrap();
        let sig = ClSig::from_bytes(&wire, P).unwrap();
        assert_eq!(sig.height as i64, c["height"].as_i64().unwrap());
        assert_eq!(sig.block_hash, h(c["blockHash"].as_str().unwrap()));
        assert_eq!(sig.to_bytes(P), wire);
        assert_eq!(
            sig.request_id(),
            h(c["requestId_display"].as_str().unwrap()),
            "height {}",
            sig.height
        );
        let m = Message::decode("clsig", &wire, P).unwrap();
        assert_eq!(m, Message::ClSig(sig.clone()));
        // sign hash = SHA256d(type ‖ quorumHash ‖ requestId ‖ blockHash)
        let q = Hash256([7; 32]);
        let mut pre = vec![1u8];
        pre.extend_from_slice(&q.0);
        pre.extend_from_slice(&sig.request_id().0);
        pre.extend_from_slice(&sig.block_hash.0);
        assert_eq!(sig.sign_hash(1, &q), dash_qrsync::hashes::sha256d(&pre));
        // Truncations fail.
        for n in 0..wire.len() {
            assert!(ClSig::from_bytes(&wire[..n], P).is_err());
        }
        if let Some(f) = c["file"].as_str() {
            assert_eq!(common::read_vector(&dir, f), wire);
        }
    }
    // Appendix A.2 (internal order).
    let a2 = cls.iter().find(|c| c["height"] == 84202).unwrap();
    let sig =
        ClSig::from_bytes(&hex::decode(a2["wire_hex"].as_str().unwrap()).unwrap(), P).unwrap();
    assert_eq!(
        sig.request_id().to_internal_hex(),
        "6639d0da4a746f7260968e54be1b14fce8c5429f51bfe8762b58aae294e0925d"
    );
}

#[test]
fn real_isdlock_decodes_reencodes_and_request_id() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let j = locks_json(&dir);
    let l = &j["isdlock"][0];
    let wire = hex::decode(l["wire_hex"].as_str().unwrap()).unwrap();
    let lock = IsDLock::from_bytes(&wire, P).unwrap();
    assert_eq!(lock.version, 1);
    assert_eq!(
        lock.inputs,
        vec![OutPoint {
            hash: h("1bf428fa3e8be00779c7eb7fe1e1f87a30ae07b5a4ab75662e123da462281001"),
            index: 0
        }]
    );
    assert_eq!(
        lock.txid,
        h("e17f490ba5856baaf554903e4b08299fd64a9f64650a2c40672c590ae06d444b")
    );
    assert_eq!(
        lock.cycle_hash,
        h("7c30826123d0f29fe4c4a8895d7ba4eb469b1fafa6ad7b23896a1a591766a536")
    );
    assert_eq!(lock.to_bytes(P), wire);
    assert_eq!(
        lock.request_id(),
        h("495be44677e82895a9396fef02c6e9afc1f01d4aff70622b9f78e0e10d57064c")
    );
    lock.check_trivially_valid().unwrap();
    let q = Hash256([9; 32]);
    let mut pre = vec![5u8];
    pre.extend_from_slice(&q.0);
    pre.extend_from_slice(&lock.request_id().0);
    pre.extend_from_slice(&lock.txid.0);
    assert_eq!(lock.sign_hash(5, &q), dash_qrsync::hashes::sha256d(&pre));
    assert_eq!(
        Message::decode("isdlock", &wire, P).unwrap(),
        Message::IsDLock(lock)
    );
    for n in 0..wire.len() {
        assert!(IsDLock::from_bytes(&wire[..n], P).is_err());
    }
}

#[test]
fn real_framed_mnlistdiff_through_frame_decoder() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let rel = "mainnet/mnlistdiff/mnlistdiff_mainnet_0_2221605_p70230.msg.hex";
    let framed = common::read_vector(&dir, rel);
    // Feed in uneven chunks, with another message before and after.
    let ping = Message::Ping(42).to_frame(Network::Mainnet, 70230);
    let mut stream = ping.clone();
    stream.extend_from_slice(&framed);
    stream.extend_from_slice(&ping);
    let mut d = FrameDecoder::new(Network::Mainnet);
    let mut got: Vec<RawMessage> = Vec::new();
    let mut i = 0;
    let mut step = 1;
    while i < stream.len() {
        let end = (i + step).min(stream.len());
        d.push(&stream[i..end]).unwrap();
        while let Some(m) = d.pop().unwrap() {
            got.push(m);
        }
        i = end;
        step = step * 7 % 65_521 + 1;
    }
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].command, "mnlistdiff");
    let m = Message::from_raw(&got[1], 70230).unwrap();
    let Message::MnListDiff(diff) = &m else {
        panic!("not a mnlistdiff")
    };
    assert_eq!(
        diff.block_hash,
        h("0000000000000024f1f005fb8ff269ae025f5b913ede4a1faffa6b654fbb58d2")
    );
    assert_eq!(
        diff.base_block_hash,
        h("00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6")
    );
    assert_eq!(m.to_frame(Network::Mainnet, 70230), framed);
    assert_eq!(
        Message::from_raw(&got[0], 70230).unwrap(),
        Message::Ping(42)
    );
    // The same bytes with a wrong network's magic are rejected at the header.
    let mut d = FrameDecoder::new(Network::Testnet);
    assert!(matches!(
        d.push(&framed[..24]),
        Err(FrameError::WrongMagic { .. })
    ));
}

#[test]
fn real_qrinfo_over_3mib_is_framed_and_decoded() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    for (rel, p) in [
        ("mainnet/qrinfo/qrinfo_mainnet_0_1740902_p70221.bin", 70221),
        ("testnet/qrinfo/qrinfo_testnet_0_905770_p70230.bin", 70230),
    ] {
        let payload = common::read_vector(&dir, rel);
        let m = Message::decode("qrinfo", &payload, p).unwrap();
        assert!(matches!(m, Message::QrInfo(_)));
        assert_eq!(m.encode_payload(p), payload);
        let framed = m.to_frame(Network::Mainnet, p);
        let mut d = FrameDecoder::new(Network::Mainnet);
        let got = d.decode_all(&framed).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].payload, payload);
        // Truncated payloads are errors (sampled prefixes).
        for n in (0..payload.len()).step_by(payload.len() / 97 + 1) {
            assert!(Message::decode("qrinfo", &payload[..n], p).is_err());
        }
    }
    // A non-large command of the same size is refused.
    let payload = vec![0u8; MAX_MESSAGE_SIZE + 1];
    let framed = encode_frame(Network::Mainnet, "inv", &payload);
    let mut d = FrameDecoder::new(Network::Mainnet);
    assert!(matches!(
        d.push(&framed[..24]),
        Err(FrameError::Oversize { .. })
    ));
}

#[test]
fn real_mnlistdiffs_decode_as_messages() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    for (rel, p) in [
        (
            "testnet/mnlistdiff/mnlistdiff_testnet_0_905762_p70230.bin",
            70230,
        ),
        (
            "testnet/mnlistdiff/mnlistdiff_testnet_0_8000_p70221.bin",
            70221,
        ),
    ] {
        let payload = common::read_vector(&dir, rel);
        let m = Message::decode("mnlistdiff", &payload, p).unwrap();
        assert_eq!(m.encode_payload(p), payload);
        for n in (0..payload.len()).step_by(payload.len() / 61 + 1) {
            assert!(Message::decode("mnlistdiff", &payload[..n], p).is_err());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Oversize counts, limits, unknown commands
// ---------------------------------------------------------------------------------------------

fn count_payload(count: u64, body: usize) -> Vec<u8> {
    let mut w = dash_qrsync::wire::Writer::new(P);
    w.compact_size(count);
    let mut v = w.into_bytes();
    v.resize(v.len() + body, 0);
    v
}

#[test]
fn oversize_counts_are_rejected_without_allocating() {
    // Huge counts on tiny inputs: rejected before allocation.
    for cmd in KNOWN_COMMANDS {
        for count in [0xffff_ffffu64, 0x0200_0001, u64::MAX, 1_000_000] {
            let payload = count_payload(count, 40);
            let _ = Message::decode(cmd, &payload, P);
        }
    }
    let payload = count_payload(0xffff_ffff, 100);
    assert!(matches!(
        Message::decode("inv", &payload, P),
        Err(WireError::SizeTooLarge { .. })
    ));
    let payload = count_payload(1_000_000, 100);
    assert!(matches!(
        Message::decode("headers", &payload, P),
        Err(WireError::CountExceedsInput { .. })
    ));
    // Counts above the protocol limits, with the bytes present.
    let inv = count_payload(50_001, 50_001 * 36);
    assert!(matches!(
        Message::decode("inv", &inv, P),
        Err(WireError::InvalidValue { .. })
    ));
    let inv = count_payload(50_000, 50_000 * 36);
    assert!(Message::decode("getdata", &inv, P).is_ok());
    let hdrs = count_payload(2001, 2001 * 81);
    assert!(matches!(
        Message::decode("headers", &hdrs, P),
        Err(WireError::InvalidValue { .. })
    ));
    let addr = count_payload(1001, 1001 * 30);
    assert!(Message::decode("addr", &addr, P).is_err());
    let loc = count_payload(102, 102 * 32 + 32);
    let mut gh = 70237u32.to_le_bytes().to_vec();
    gh.extend_from_slice(&loc);
    assert!(Message::decode("getheaders", &gh, P).is_err());
}

#[test]
fn headers2_limit_depends_on_protocol_version() {
    let mut hs = Vec::new();
    let mut prev = Hash256::ZERO;
    for i in 0..2001u32 {
        let hdr = BlockHeader {
            version: 0x2000_0000,
            prev_block_hash: prev,
            merkle_root: Hash256([i as u8; 32]),
            time: 1_700_000_000 + i * 150,
            bits: 0x1e0f_fff0,
            nonce: i,
        };
        prev = hdr.block_hash();
        hs.push(hdr);
    }
    let payload = Message::Headers2(hs.clone().into()).encode_payload(70235);
    assert!(Message::decode("headers2", &payload, 70230).is_err());
    assert_eq!(
        Message::decode("headers2", &payload, 70235).unwrap(),
        Message::Headers2(hs.into())
    );
    let big = count_payload(8001, 8001 * 39);
    assert!(decode_headers2(&big, 70240).is_err());
}

#[test]
fn unknown_commands_are_kept_not_errors() {
    let m = Message::decode("senddsq", &[1], P).unwrap();
    assert_eq!(
        m,
        Message::Unknown {
            command: "senddsq".into(),
            payload: vec![1]
        }
    );
    assert_eq!(m.command(), "senddsq");
    assert_eq!(m.encode_payload(P), vec![1]);
}

#[test]
fn version_optional_fields_and_limits() {
    let v = VersionMessage {
        version: 70237,
        services: 0,
        timestamp: 1_700_000_000,
        addr_recv: NetAddress::from_ipv4(1, [127, 0, 0, 1], 19999),
        addr_from: NetAddress::default(),
        nonce: 7,
        user_agent: "/dash-qrsync:0.1.0/".into(),
        start_height: 0,
        relay: Some(false),
        mnauth_challenge: Some([5; 32]),
        masternode_connection: Some(false),
    };
    let full = Message::Version(v.clone()).encode_payload(P);
    assert_eq!(full.len(), 4 + 8 + 8 + 26 + 26 + 8 + 20 + 4 + 1 + 32 + 1);
    // Extra bytes from a later version are ignored.
    let mut ext = full.clone();
    ext.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        Message::decode("version", &ext, P).unwrap(),
        Message::Version(v.clone())
    );
    // Old peers stop after start_height.
    let short = &full[..full.len() - 34];
    let Message::Version(s) = Message::decode("version", short, P).unwrap() else {
        panic!()
    };
    assert_eq!(s.relay, None);
    // A partial challenge is an error.
    assert!(Message::decode("version", &full[..full.len() - 10], P).is_err());
    // A non-UTF-8 user agent of the maximum length is sanitized byte for byte.
    let mut raw = full[..80].to_vec();
    raw.extend_from_slice(&[0xfd, 0x00, 0x01]);
    raw.extend_from_slice(&[0xff; 256]);
    raw.extend_from_slice(&0i32.to_le_bytes());
    let Message::Version(s) = Message::decode("version", &raw, P).unwrap() else {
        panic!()
    };
    assert_eq!(s.user_agent, "?".repeat(256));
    let again = Message::Version(s.clone()).encode_payload(P);
    assert_eq!(
        Message::decode("version", &again, P).unwrap(),
        Message::Version(s)
    );
    // User agent over 256 bytes is rejected.
    let mut long = v;
    long.user_agent = "x".repeat(257);
    let payload = Message::Version(long).encode_payload(P);
    assert!(Message::decode("version", &payload, P).is_err());
}

#[test]
fn addrv2_size_checks() {
    let mk = |net: u8, len: usize| {
        let mut w = dash_qrsync::wire::Writer::new(P);
        w.compact_size(1);
        w.u32_le(1);
        w.compact_size(1);
        w.u8(net);
        w.var_bytes(&vec![0xfc; len]);
        w.u16_be(9999);
        w.into_bytes()
    };
    for (net, ok) in [(1u8, 4usize), (2, 16), (4, 32), (5, 32), (6, 16)] {
        assert!(Message::decode("addrv2", &mk(net, ok), P).is_ok());
        assert!(Message::decode("addrv2", &mk(net, ok + 1), P).is_err());
        assert!(Message::decode("addrv2", &mk(net, ok - 1), P).is_err());
    }
    // Unknown networks are kept (to be ignored), up to 512 bytes.
    assert!(Message::decode("addrv2", &mk(3, 10), P).is_ok());
    assert!(Message::decode("addrv2", &mk(42, 512), P).is_ok());
    assert!(Message::decode("addrv2", &mk(42, 513), P).is_err());
}

#[test]
fn isdlock_trivial_validity() {
    let op = OutPoint {
        hash: Hash256([1; 32]),
        index: 3,
    };
    let mut l = IsDLock {
        version: 1,
        inputs: vec![op],
        txid: Hash256([2; 32]),
        cycle_hash: Hash256::ZERO,
        signature: [0; 96],
    };
    assert!(l.check_trivially_valid().is_ok());
    l.version = 0;
    assert!(l.check_trivially_valid().is_err());
    l.version = 1;
    l.inputs = vec![op, OutPoint { index: 4, ..op }, op];
    assert!(l.check_trivially_valid().is_err());
    l.inputs.clear();
    assert!(l.check_trivially_valid().is_err());
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn hash() -> impl Strategy<Value = Hash256> {
    any::<[u8; 32]>().prop_map(Hash256)
}

fn sig96() -> impl Strategy<Value = [u8; 96]> {
    prop::collection::vec(any::<u8>(), 96).prop_map(|v| {
        let mut a = [0u8; 96];
        a.copy_from_slice(&v);
        a
    })
}

fn header() -> impl Strategy<Value = BlockHeader> {
    (
        any::<i32>(),
        hash(),
        hash(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(version, prev_block_hash, merkle_root, time, bits, nonce)| BlockHeader {
                version,
                prev_block_hash,
                merkle_root,
                time,
                bits,
                nonce,
            },
        )
}

/// Header sequences that exercise every compression case: mostly linked, few distinct
/// versions (more than 7 sometimes), small and large time steps, repeated bits.
fn header_chain() -> impl Strategy<Value = Vec<BlockHeader>> {
    prop::collection::vec(
        (
            0usize..10,
            hash(),
            prop_oneof![-40_000i64..40_000, any::<u32>().prop_map(|t| t as i64)],
            prop_oneof![Just(None), any::<u32>().prop_map(Some)],
            any::<u32>(),
            prop::bool::weighted(0.85),
            hash(),
        ),
        0..40,
    )
    .prop_map(|steps| {
        let versions = [0x2000_0000, 0x2000_0004, 1, 2, 3, 4, 5, 6, 7, -1];
        let mut out: Vec<BlockHeader> = Vec::new();
        for (vi, merkle_root, dt, bits, nonce, linked, other) in steps {
            let prev = out.last();
            let time = match prev {
                Some(p) if dt.unsigned_abs() < 100_000 => p.time.wrapping_add_signed(dt as i32),
                _ => dt as u32,
            };
            let bits = bits.unwrap_or(prev.map(|p| p.bits).unwrap_or(0x1e0f_fff0));
            let prev_block_hash = match prev {
                Some(p) if linked => p.block_hash(),
                _ => other,
            };
            out.push(BlockHeader {
                version: versions[vi],
                prev_block_hash,
                merkle_root,
                time,
                bits,
                nonce,
            });
        }
        out
    })
}

fn net_address() -> impl Strategy<Value = NetAddress> {
    (any::<u64>(), any::<[u8; 16]>(), any::<u16>()).prop_map(|(services, ip, port)| NetAddress {
        services,
        ip,
        port,
    })
}

fn version_message() -> impl Strategy<Value = VersionMessage> {
    (
        (
            any::<i32>(),
            any::<u64>(),
            any::<i64>(),
            net_address(),
            net_address(),
        ),
        (any::<u64>(), "[ -~]{0,64}", any::<i32>(), 0usize..4),
        (any::<bool>(), any::<[u8; 32]>(), any::<bool>()),
    )
        .prop_map(
            |(
                (version, services, timestamp, addr_recv, addr_from),
                (nonce, user_agent, start_height, opt),
                (relay, ch, mn),
            )| VersionMessage {
                version,
                services,
                timestamp,
                addr_recv,
                addr_from,
                nonce,
                user_agent,
                start_height,
                relay: (opt >= 1).then_some(relay),
                mnauth_challenge: (opt >= 2).then_some(ch),
                masternode_connection: (opt >= 3).then_some(mn),
            },
        )
}

fn get_headers() -> impl Strategy<Value = GetHeaders> {
    (any::<u32>(), prop::collection::vec(hash(), 0..=101), hash()).prop_map(
        |(version, locator, stop_hash)| GetHeaders {
            version,
            locator,
            stop_hash,
        },
    )
}

fn inventory() -> impl Strategy<Value = Vec<Inventory>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just(inv_type::MSG_TX),
                Just(inv_type::MSG_BLOCK),
                Just(inv_type::MSG_CLSIG),
                Just(inv_type::MSG_ISDLOCK),
                any::<u32>()
            ],
            hash(),
        )
            .prop_map(|(inv_type, hash)| Inventory { inv_type, hash }),
        0..60,
    )
}

fn addrv2() -> impl Strategy<Value = AddrV2> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(AddrV2::Ipv4),
        any::<[u8; 16]>().prop_map(AddrV2::Ipv6),
        any::<[u8; 32]>().prop_map(AddrV2::TorV3),
        any::<[u8; 32]>().prop_map(AddrV2::I2p),
        any::<[u8; 16]>().prop_map(AddrV2::Cjdns),
        (7u8..=255, prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(network_id, bytes)| AddrV2::Unknown { network_id, bytes }),
    ]
}

fn clsig() -> impl Strategy<Value = ClSig> {
    (any::<i32>(), hash(), sig96()).prop_map(|(height, block_hash, signature)| ClSig {
        height,
        block_hash,
        signature,
    })
}

fn isdlock() -> impl Strategy<Value = IsDLock> {
    (
        any::<u8>(),
        prop::collection::vec(
            (hash(), any::<u32>()).prop_map(|(hash, index)| OutPoint { hash, index }),
            0..8,
        ),
        hash(),
        hash(),
        sig96(),
    )
        .prop_map(|(version, inputs, txid, cycle_hash, signature)| IsDLock {
            version,
            inputs,
            txid,
            cycle_hash,
            signature,
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        version_message().prop_map(Message::Version),
        Just(Message::Verack),
        any::<u64>().prop_map(Message::Ping),
        any::<u64>().prop_map(Message::Pong),
        Just(Message::SendHeaders),
        Just(Message::SendHeaders2),
        get_headers().prop_map(Message::GetHeaders),
        get_headers().prop_map(Message::GetHeaders2),
        prop::collection::vec(header(), 0..30).prop_map(Message::Headers),
        header_chain().prop_map(|hs| Message::Headers2(hs.into())),
        (hash(), hash()).prop_map(|(base_block_hash, block_hash)| Message::GetMnListD(
            GetMnListDiff {
                base_block_hash,
                block_hash
            }
        )),
        (prop::collection::vec(hash(), 0..5), hash(), any::<bool>()).prop_map(
            |(base_block_hashes, block_request_hash, extra_share)| Message::GetQrInfo(GetQrInfo {
                base_block_hashes,
                block_request_hash,
                extra_share
            })
        ),
        clsig().prop_map(Message::ClSig),
        isdlock().prop_map(Message::IsDLock),
        inventory().prop_map(Message::Inv),
        inventory().prop_map(Message::GetData),
        inventory().prop_map(Message::NotFound),
        Just(Message::GetAddr),
        prop::collection::vec(
            (any::<u32>(), net_address()).prop_map(|(time, addr)| AddrEntry { time, addr }),
            0..20
        )
        .prop_map(Message::Addr),
        prop::collection::vec(
            (any::<u32>(), any::<u64>(), addrv2(), any::<u16>()).prop_map(
                |(time, services, addr, port)| AddrV2Entry {
                    time,
                    services,
                    addr,
                    port
                }
            ),
            0..20
        )
        .prop_map(Message::AddrV2),
        Just(Message::SendAddrV2),
        (
            "[a-z]{0,12}",
            any::<u8>(),
            "[ -~]{0,111}",
            prop::option::of(hash())
        )
            .prop_map(|(message, code, reason, data)| Message::Reject(Reject {
                message,
                code,
                reason,
                data
            })),
        ("[a-z]{1,12}", prop::collection::vec(any::<u8>(), 0..100))
            .prop_filter("not a known command", |(c, _)| !KNOWN_COMMANDS
                .contains(&c.as_str()))
            .prop_map(|(command, payload)| Message::Unknown { command, payload }),
    ]
}

/// Messages whose every strict prefix must fail to decode (fixed layouts, no optional tail).
fn prefix_must_fail(m: &Message) -> bool {
    !matches!(
        m,
        Message::Version(_)
            | Message::Reject(_)
            | Message::Unknown { .. }
            | Message::Verack
            | Message::SendHeaders
            | Message::SendHeaders2
            | Message::GetAddr
            | Message::SendAddrV2
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_message_round_trips(m in message(), pi in 0usize..VERSIONS.len()) {
        let p = VERSIONS[pi];
        let payload = m.encode_payload(p);
        let back = Message::decode(m.command(), &payload, p).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.encode_payload(p), payload.clone());
        // Framing round trip.
        let framed = m.to_frame(Network::Testnet, p);
        let mut d = FrameDecoder::new(Network::Testnet);
        let raws = d.decode_all(&framed).unwrap();
        prop_assert_eq!(raws.len(), 1);
        prop_assert_eq!(Message::from_raw(&raws[0], p).unwrap(), m.clone());
        // Truncation is an error for fixed layouts.
        if prefix_must_fail(&m) {
            for n in 0..payload.len() {
                prop_assert!(Message::decode(m.command(), &payload[..n], p).is_err(), "prefix {}", n);
            }
        }
    }

    #[test]
    fn headers2_compression_round_trips(hs in header_chain()) {
        let c = compress_headers(&hs);
        let payload = encode_headers2(&c);
        let d = decode_headers2(&payload, 70240).unwrap();
        prop_assert_eq!(&d, &c);
        prop_assert_eq!(decompress_headers(&d, None).unwrap(), hs);
    }

    #[test]
    fn compressed_header_codec_round_trips(
        vk in 0u8..8, v in any::<i32>(), prev in prop::option::of(hash()), m in hash(),
        full_time in any::<bool>(), t in any::<u32>(), bits in prop::option::of(any::<u32>()),
        nonce in any::<u32>(),
    ) {
        let c = CompressedHeader {
            version: if vk == 0 { HeaderVersion::Full(v) } else { HeaderVersion::Cached(vk) },
            prev_block_hash: prev,
            merkle_root: m,
            time: if full_time { HeaderTime::Full(t) } else { HeaderTime::Offset(t as i16) },
            bits,
            nonce,
        };
        let payload = encode_headers2(&[c]);
        prop_assert_eq!(decode_headers2(&payload, 70230).unwrap(), vec![c]);
        let _ = decompress_headers(&[c], None);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..600),
        ci in 0usize..KNOWN_COMMANDS.len(),
        pi in 0usize..VERSIONS.len(),
    ) {
        let _ = Message::decode(KNOWN_COMMANDS[ci], &data, VERSIONS[pi]);
        let _ = decode_headers2(&data, VERSIONS[pi]);
    }

    #[test]
    fn whatever_decodes_reencodes_stably(
        data in prop::collection::vec(any::<u8>(), 0..400),
        ci in 0usize..KNOWN_COMMANDS.len(),
        pi in 0usize..VERSIONS.len(),
    ) {
        let (cmd, p) = (KNOWN_COMMANDS[ci], VERSIONS[pi]);
        if let Ok(m) = Message::decode(cmd, &data, p) {
            let again = m.encode_payload(p);
            prop_assert_eq!(Message::decode(cmd, &again, p).unwrap(), m);
        }
    }

    #[test]
    fn prefixed_arbitrary_bytes_never_panic(
        count in prop_oneof![0u64..10, any::<u64>()],
        data in prop::collection::vec(any::<u8>(), 0..400),
        ci in 0usize..KNOWN_COMMANDS.len(),
        pi in 0usize..VERSIONS.len(),
    ) {
        let mut w = dash_qrsync::wire::Writer::new(0);
        w.compact_size(count);
        w.bytes(&data);
        let b = w.into_bytes();
        let _ = Message::decode(KNOWN_COMMANDS[ci], &b, VERSIONS[pi]);
    }

    #[test]
    fn frame_decoder_any_chunking(
        msgs in prop::collection::vec(message(), 1..5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend_from_slice(&m.to_frame(Network::Regtest, P));
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let mut d = FrameDecoder::new(Network::Regtest);
        let mut got = Vec::new();
        for w in points.windows(2) {
            d.push(&stream[w[0]..w[1]]).unwrap();
            while let Some(r) = d.pop().unwrap() {
                got.push(Message::from_raw(&r, P).unwrap());
            }
        }
        prop_assert_eq!(got, msgs);
        prop_assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn frame_decoder_random_bytes_never_panic(
        prefix in prop::option::of(message()),
        data in prop::collection::vec(any::<u8>(), 0..300),
        chunk in 1usize..50,
    ) {
        let mut stream = prefix.map(|m| m.to_frame(Network::Devnet, P)).unwrap_or_default();
        // Sometimes start the garbage with a valid magic so the header checks are reached.
        stream.extend_from_slice(&Network::Devnet.magic());
        stream.extend_from_slice(&data);
        let mut d = FrameDecoder::new(Network::Devnet);
        for c in stream.chunks(chunk) {
            if d.push(c).is_err() {
                break;
            }
            while let Ok(Some(r)) = d.pop() {
                prop_assert!(r.payload.len() <= MAX_LARGE_MESSAGE_SIZE);
                let _ = Message::from_raw(&r, P);
            }
        }
    }
}
