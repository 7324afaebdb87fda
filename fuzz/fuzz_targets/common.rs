#![allow(dead_code)]
//! A small synced state from the simulated regtest network, built once per fuzz process: the
//! header chain, an engine that holds the lists of a real `qrinfo`, that `qrinfo`'s bytes and a
//! real `mnlistdiff` on top of it (after a few more blocks).

use dash_qrsync::chain::HeaderChain;
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::simnet::{SimConfig, SimNode, SimService};
use dash_qrsync::wire::Encode;
use std::sync::OnceLock;

/// The negotiated protocol version of the simulated network.
pub const P: u32 = dash_qrsync::wire::version::OUR_PROTOCOL_VERSION;

/// What the targets start from.
pub struct Base {
    pub cfg: EngineConfig,
    pub headers: HeaderChain,
    /// A fresh engine (nothing held).
    pub fresh: Engine,
    /// The engine after the real qrinfo.
    pub synced: Engine,
    pub qrinfo: Vec<u8>,
    pub diff: Vec<u8>,
}

pub fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let sim = SimConfig::regtest(3);
        let node = SimNode::new(sim.clone());
        let cfg = EngineConfig {
            params: sim.params.clone(),
            profile: dash_qrsync::SyncProfile::Full,
        };
        let connect = |hc: &mut HeaderChain, from: u32, to: u32| {
            let hs: Vec<_> = (from..=to).filter_map(|h| node.header(h)).collect();
            for chunk in hs.chunks(2000) {
                hc.connect(chunk).expect("simulated headers connect");
            }
        };
        let mut headers = HeaderChain::from_genesis(sim.network());
        let tip = node.tip_height();
        connect(&mut headers, 1, tip);
        let fresh = Engine::new(cfg.clone());
        let req = fresh.qrinfo_request(node.hash_at(tip).expect("tip"), 0);
        let q = node.qrinfo(&req, P).expect("the simulated node answers getqrinfo");
        let mut synced = fresh.clone();
        synced
            .feed_qrinfo(&q, &headers)
            .expect("the real qrinfo feeds");
        let held = synced.tip_list().expect("a list is held").block_hash;
        node.mine(3);
        let new_tip = node.tip_height();
        connect(&mut headers, tip + 1, new_tip);
        let d = node
            .mnlistdiff(&held, &node.hash_at(new_tip).expect("tip"), P)
            .expect("the simulated node answers getmnlistd");
        Base {
            cfg,
            headers,
            fresh,
            synced,
            qrinfo: q.to_bytes(P),
            diff: d.to_bytes(P),
        }
    })
}

/// Applies `script` (4-byte steps: 24-bit offset, xor mask) to a copy of `real`.
pub fn mutate(real: &[u8], script: &[u8]) -> Vec<u8> {
    let mut b = real.to_vec();
    if b.is_empty() {
        return b;
    }
    for s in script.chunks_exact(4) {
        let at = u32::from_le_bytes([s[0], s[1], s[2], 0]) as usize % b.len();
        b[at] ^= s[3];
    }
    b
}
