//! The simulated network speaking Dash Core v24 (the `v24` preset): V24 activates by version
//! bits under Core's own `vbparams=v24:…:0` option, coinbases carry CbTx version 4 from then,
//! and masternodes (evonodes among them) move to SML entries of version 3 with mixed extended
//! addresses. A client syncs it with every quorum validated and holds the CbTx v4 lists; a
//! client whose V24 never starts refuses them.
#![cfg(feature = "simnet")]

use dash_qrsync::chain::{HeaderChain, HeaderIndex};
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::network::{ChainParams, Network};
use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimChain, SimConfig, SimService};
use dash_qrsync::wire::qrinfo::GetQrInfo;
use dash_qrsync::wire::sml_entry::{NetInfo, SmlEntry};
use dash_qrsync::wire::tx::CbTx;
use dash_qrsync::wire::version::OUR_PROTOCOL_VERSION as P;
use dash_qrsync::wire::{Decode, Encode};
use dash_qrsync::{Client, Hash256};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

mod common;

use common::recorder::{synced, Log, Recorder};
use common::simnet::Net;

fn chain() -> &'static SimChain {
    static CHAIN: OnceLock<SimChain> = OnceLock::new();
    CHAIN.get_or_init(|| SimChain::generate(SimConfig::v24(11)))
}

/// Hand-derived from BIP 9 as Dash Core runs it with `v24:0:999999999999:500:100:80:60:5:0`:
/// periods of 100 blocks; start time 0 is reached by the first period's median time, so the
/// deployment is STARTED from 100; every block signals, so LOCKED_IN from 200; ACTIVE at the
/// next period boundary no lower than the minimum activation height 500.
const V24_HEIGHT: u32 = 500;

#[test]
fn v24_activates_by_version_bits_and_coinbases_become_cbtx_v4() {
    let chain = chain();
    assert_eq!(
        dash_qrsync::simnet::gen::V24_VBPARAMS,
        "v24:0:999999999999:500:100:80:60:5:0"
    );
    assert!(chain.tip_height() > V24_HEIGHT + 50);
    let v20 = chain.config.params.activations().v20;
    for h in 1..=chain.tip_height() {
        let b = chain.block(h).unwrap();
        // Signalling: bit 12 with the version-bits top bits, until active.
        let signals = b.header.version as u32 & (1 << 12) != 0;
        assert_eq!(signals, h < V24_HEIGHT, "height {h}");
        assert_eq!(b.header.version as u32 & 0xE000_0000, 0x2000_0000);
        // The coinbase payload, decoded from the transaction's bytes as a peer receives it.
        let payload = b.txs[0].extra_payload.as_ref().unwrap();
        let cbtx = CbTx::from_bytes(payload, P).unwrap();
        assert_eq!(cbtx.height, h as i32);
        let expected = if h >= V24_HEIGHT {
            4
        } else if h >= v20 {
            3
        } else {
            2
        };
        assert_eq!(cbtx.version, expected, "height {h}");
        if h >= V24_HEIGHT {
            // Core's value for a block without version 2 asset unlocks.
            assert_eq!(cbtx.merkle_root_asset_unlocks, Some(Hash256::ZERO));
            // Version 4 is version 3's layout plus the 32-byte root.
            assert_eq!(payload.len(), 2 + 4 + 32 + 32 + 1 + 96 + 8 + 32);
        } else {
            assert_eq!(cbtx.merkle_root_asset_unlocks, None);
        }
    }
    // The library's V24 tracking over the generated headers agrees.
    let at = |h: u32| {
        chain
            .config
            .params
            .v24_active_after(h - 1, &|x| chain.version_and_time_at(x))
    };
    assert_eq!(at(V24_HEIGHT - 1), Some(false));
    assert_eq!(at(V24_HEIGHT), Some(true));
}

/// The `ExtNetInfo` entries of a version 3 SML entry, parsed by hand after the layout in
/// PROTOCOL.md §3.5: (purpose, entry type, BIP-155 network id or 0 for a domain).
fn ext_entries(b: &[u8]) -> Vec<(u8, u8, u8)> {
    let mut out = Vec::new();
    assert_eq!(b[0], 1, "ExtNetInfo version");
    let mut i = 2;
    for _ in 0..b[1] {
        let purpose = b[i];
        let n = b[i + 1];
        i += 2;
        for _ in 0..n {
            let t = b[i];
            match t {
                0x01 => {
                    let net = b[i + 1];
                    let len = b[i + 2] as usize;
                    let expected_len = match net {
                        1 => 4,
                        2 => 16,
                        4 => 32,
                        _ => panic!("network id {net}"),
                    };
                    assert_eq!(len, expected_len);
                    out.push((purpose, t, net));
                    i += 3 + len + 2;
                }
                0x02 => {
                    let len = b[i + 1] as usize;
                    assert!(std::str::from_utf8(&b[i + 2..i + 2 + len]).is_ok());
                    out.push((purpose, t, 0));
                    i += 2 + len + 2;
                }
                _ => panic!("entry type {t}"),
            }
        }
    }
    assert_eq!(i, b.len(), "nothing after the entries");
    out
}

#[test]
fn masternodes_move_to_version_3_entries_with_mixed_extended_addresses() {
    let chain = chain();
    let before = chain.list_at(V24_HEIGHT - 1).unwrap();
    assert!(before.entries.values().all(|e| e.version == 2));
    let tip = chain.list_at(chain.tip_height()).unwrap();
    let v3: Vec<&SmlEntry> = tip
        .entries
        .values()
        .map(|e| &**e)
        .filter(|e| e.version == 3)
        .collect();
    let v2 = tip.entries.values().filter(|e| e.version == 2).count();
    assert!(v3.len() >= 10 && v2 >= 10, "v3 {} v2 {v2}", v3.len());
    let evo_v3 = v3.iter().filter(|e| e.mn_type == 1).count();
    assert!(evo_v3 >= 2, "{evo_v3}");
    let mut kinds = std::collections::BTreeSet::new();
    for e in &v3 {
        let NetInfo::Extended(b) = &e.net_info else {
            panic!("version 3 without ExtNetInfo")
        };
        let entries = ext_entries(b);
        // Core P2P first, an IPv4 address first.
        assert_eq!(entries[0], (0, 0x01, 1));
        let purposes: std::collections::BTreeSet<u8> = entries.iter().map(|x| x.0).collect();
        if e.mn_type == 1 {
            assert_eq!(purposes, [0, 1, 2].into());
        } else {
            assert_eq!(purposes, [0].into());
        }
        // Domains only for Platform HTTPS, onions only for Core P2P.
        for &(purpose, t, net) in &entries {
            if t == 0x02 {
                assert_eq!(purpose, 2);
            }
            if net == 4 {
                assert_eq!(purpose, 0);
            }
        }
        kinds.extend(entries.iter().map(|x| (x.1, x.2)));
        // The entry survives the wire at our protocol version, byte for byte.
        let bytes = e.to_bytes(P);
        assert_eq!(SmlEntry::from_bytes(&bytes, P).unwrap(), **e);
    }
    // IPv4, IPv6, Tor v3 and a domain all occur.
    assert_eq!(
        kinds,
        [(0x01, 1), (0x01, 2), (0x01, 4), (0x02, 0)].into(),
        "{kinds:?}"
    );
}

fn headers_of(chain: &SimChain) -> HeaderChain {
    let mut hc = HeaderChain::from_genesis(chain.network());
    let hs: Vec<_> = (1..=chain.tip_height())
        .map(|h| chain.block(h).unwrap().header)
        .collect();
    for batch in hs.chunks(2000) {
        hc.connect(batch).expect("simnet headers are valid");
    }
    hc
}

#[test]
fn the_engine_validates_the_v24_lists_and_every_active_quorum() {
    let chain = chain();
    let hc = headers_of(chain);
    let mut engine = Engine::new(EngineConfig::new(chain.config.params.clone()));
    let tip = chain.block(chain.tip_height()).unwrap().hash;
    let q = chain
        .build_qrinfo(
            &GetQrInfo {
                base_block_hashes: Vec::new(),
                block_request_hash: tip,
                extra_share: true,
            },
            P,
        )
        .unwrap();
    // Through the wire, as a peer sends it.
    let q = dash_qrsync::wire::qrinfo::QrInfo::from_bytes(&q.to_bytes(P), P).unwrap();
    engine.feed_qrinfo(&q, &hc).expect("v24 qrinfo validates");
    for _ in 0..3 {
        let missing = engine.missing(&hc);
        if missing.is_empty() {
            break;
        }
        for req in engine.mnlistdiff_requests(&missing, &hc) {
            let d = chain
                .build_mnlistdiff(&req.base_block_hash, &req.block_hash, P)
                .unwrap();
            let d =
                dash_qrsync::wire::mnlistdiff::MnListDiff::from_bytes(&d.to_bytes(P), P).unwrap();
            engine.feed_mnlistdiff(&d, &hc).expect("v24 diff validates");
        }
    }
    assert!(engine.missing(&hc).is_empty());
    let list = engine.tip_list().unwrap();
    let cbtx = list.cbtx.as_ref().unwrap();
    assert_eq!(cbtx.version, 4);
    assert_eq!(cbtx.merkle_root_asset_unlocks, Some(Hash256::ZERO));
    assert!(list.entries.values().any(|e| e.version == 3));
    for (t, h) in chain.active_set(chain.tip_height()).keys() {
        assert!(engine.quorum(*t, h).is_some(), "type {t} quorum {h}");
    }
}

/// A client of `net`'s one server under `params` (which may differ from the served chain's).
fn client(net: &Net, params: ChainParams) -> (Client, Arc<Recorder>) {
    net.client(|c| {
        c.chain = params;
        c.request_timeout = Duration::from_secs(10);
    })
}

fn messages(l: &Log) -> Vec<String> {
    l.errors.iter().map(|e| e.message.clone()).collect()
}

#[test]
fn a_client_syncs_the_v24_network_with_every_quorum_validated() {
    let net = Net::start(SimConfig::v24(12), &[Faults::default()]);
    let node = &net.node;
    let params = node.with_chain(|c| c.config.params.clone());
    assert!(params.v24().is_some());
    let (client, rec) = client(&net, params);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(120)),
        "{:?}",
        messages(&rec.log.lock().unwrap())
    );
    let tip = node.tip_height();
    assert_eq!(client.status().header_height, tip);
    assert_eq!(client.status().list_height, Some(tip));
    let active = node.with_chain(|c| c.active_set(tip));
    assert!(!active.is_empty());
    for (t, h) in active.keys() {
        assert!(client.quorum(*t, h).is_some(), "type {t} quorum {h}");
    }
    assert!(rec.log.lock().unwrap().errors.is_empty());
    client.stop();
}

#[test]
fn a_client_whose_v24_never_starts_refuses_the_cbtx_v4_lists() {
    let net = Net::start(SimConfig::v24(13), &[Faults::default()]);
    // Same network, but V24's start time is never reached: version 4 is visibly premature.
    let mut params = ChainParams::new(Network::Regtest);
    params
        .set("vbparams", "v24:4000000000:4000000001:500:100:80:60:5:0")
        .unwrap();
    let (client, rec) = client(&net, params);
    client.start().unwrap();
    let refused = |l: &Log| {
        l.errors
            .iter()
            .any(|e| e.message.to_lowercase().contains("cbtx version"))
    };
    assert!(
        rec.wait_for(refused, Duration::from_secs(120)),
        "{:?}",
        messages(&rec.log.lock().unwrap())
    );
    client.stop();
    assert!(!synced(&rec.log.lock().unwrap()));
}
