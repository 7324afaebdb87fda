//! Golden tests of member selection whose expected members come from a real Dash Core v23.1
//! regtest network (`core-regtest/A-v20at100`: 4 masternodes, `testactivationheight=v20@100`),
//! kept here as small constants so that a wrong score, modifier or rotation rule fails
//! `cargo test` with no vector directory at all.
//!
//! Inputs (from Core's own `mnlistdiff`/`qrinfo` answers): the four list entries (identical in
//! the lists at heights 184–280), the ChainLock signature each work block's CbTx carries, and the
//! rotation snapshots of `quorum rotationinfo`. Expected: the ordered `members` of Core's
//! `quorum info` for each quorum.

use super::members::rotated_cycle_members;
use super::selection::{modifier, non_rotated_members};
use super::verify::ListSource;
use crate::hashes::Hash256;
use crate::network::{ChainParams, Network};
use crate::sml::MasternodeList;
use crate::wire::codec::BitSet;
use crate::wire::qrinfo::QuorumSnapshot;
use crate::wire::sml_entry::{NetInfo, SmlEntry};
use crate::wire::tx::{BestChainLock, CbTx};
use std::collections::BTreeMap;
use std::sync::Arc;

/// (proRegTxHash, confirmedHash), display hex, as in Core's `protx diff`.
const ENTRIES: [(&str, &str); 4] = [
    (
        "c32b2fc7bd9496220aac47e0d92b9571f636ef78b4d437b8042729bebb464b1f",
        "09d6c3aaed9139c38ff873de8dea2a1efa529f4a2d0cddbd0d04a571ec2df2e7",
    ),
    (
        "9d2a858d892e5849906a85b740380ffd8f880a197145a40d41f042101081d43e",
        "442068fba874cfd36298a941f1c8ad18a1029840b8731fa30ea5c24a0ede3ab9",
    ),
    (
        "b344474b4eb92c731e789b6be30164fa05bb13e768beee30909bd53e9372d63e",
        "302f0ee850e880758554e1f38051327f37de8c42fc24d364dd8b2f1c74d39f57",
    ),
    (
        "d9e8cb4f7a2e45152c35233ad558d031c3190ad8fadc4a56758c2a065e89fff9",
        "6a95cc48d532548ae23e2456dee75457f59efc5ccb0d85dc83fe4718af2b6c5f",
    ),
];

const SIG_280: &str = "a3d8de1d7a4d1e79ed6fa3cac49f3b77c1f8c858ca6c213aa444871fcf71dcc893d623186bb39dacf86fa1a42043435a05071b9eda4ec65a424a59732f18d0e02d5f6ee3e52dfff96ef6b45d567d5d12ab87ec27b16b5a325534cce9309dd3e2";
const SIG_256_232_208: &str = "a1e7ad3e39a4727280a85e8d08fbc2935c8bc9f94377437c7dc29eac367ae1fec13ec4498cb0f82fe6ec3405bb95f6ea0f0bc941280a004cbca88ce903a9ccb845f0b2d2f9f7420c48fd6e80c133d17562e9c371343b5a52e287224644be58fb";
const SIG_184: &str = "852c5d860641eea312d7c875c960fae8527e22906dde4c445a502e9f9fafaf4ccd7ce26e39b18c8a8a70dc26afd4738605dfc1b9a286bfdc63a7994f74e8b2d56d46bc1eca1e562d084f9b695a3be2af1ae65b86f4e6f422b6bfbf800eeb375f";

/// Work blocks: (height, block hash, CbTx ChainLock signature).
const WORK: [(u32, &str, &str); 5] = [
    (
        280,
        "7d471b5c7d34b007646cca1b796aaaff5e5fc27529b78afeb1f6a8c36c49d74b",
        SIG_280,
    ),
    (
        256,
        "114d37befa05e18f4f07a5ac27040651b09b530e34b63c1c10c6e3e8c7a89e97",
        SIG_256_232_208,
    ),
    (
        232,
        "7af05db49f6593345081c45d3183037252d86b035174df380e355c43fde23da7",
        SIG_256_232_208,
    ),
    (
        208,
        "3611ac260e2829a9890336767a4042aac4e0b48a41c7ca8e90e1e0056490000b",
        SIG_256_232_208,
    ),
    (
        184,
        "033f90ad77eac7665e4d84978dcf85054c411f65bbba925910043eba3079efc9",
        SIG_184,
    ),
];

/// Rotation snapshots of `quorum rotationinfo` at 309: cycle → (skip mode, skip list); every
/// snapshot's activeQuorumMembers is [true; 4].
const SNAPSHOTS: [(u32, i32, &[i32]); 4] = [
    (264, 1, &[0]),
    (240, 1, &[0, 1, 1, -1, 0]),
    (216, 1, &[0]),
    (192, 1, &[0, 2]),
];

fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).expect("hash")
}

fn sig(s: &str) -> [u8; 96] {
    hex::decode(s).expect("hex").try_into().expect("96 bytes")
}

fn list(height: u32, hash: &str, cl: &str) -> MasternodeList {
    let entries: BTreeMap<Hash256, Arc<SmlEntry>> = ENTRIES
        .iter()
        .map(|(p, c)| {
            let e = SmlEntry {
                version: 2,
                pro_reg_tx_hash: h(p),
                confirmed_hash: h(c),
                net_info: NetInfo::Service([0; 18]),
                operator_key: [0; 48],
                voting_key_id: [0; 20],
                is_valid: true,
                mn_type: 0,
                platform_http_port: 0,
                platform_node_id: [0; 20],
            };
            (e.pro_reg_tx_hash, Arc::new(e))
        })
        .collect();
    MasternodeList {
        block_hash: h(hash),
        height,
        entries,
        quorums: BTreeMap::new(),
        cbtx: Some(CbTx {
            version: 3,
            height: height as i32,
            merkle_root_mn_list: Hash256::ZERO,
            merkle_root_quorums: Some(Hash256::ZERO),
            best_cl: Some(BestChainLock {
                height_diff: 0,
                signature: sig(cl),
            }),
            credit_pool_balance: Some(0),
            merkle_root_asset_unlocks: None,
            unknown_fields: Vec::new(),
        }),
    }
}

/// Network A's parameters, set the way its `dash.conf` sets them.
fn params() -> ChainParams {
    let mut p = ChainParams::new(Network::Regtest);
    p.set("dip3params", "2:2").unwrap();
    p.set("testactivationheight", "v20@100").unwrap();
    p.set("testactivationheight", "mn_rr@100").unwrap();
    p.validate().unwrap();
    p
}

struct Lists {
    lists: BTreeMap<u32, MasternodeList>,
    snapshots: BTreeMap<u32, QuorumSnapshot>,
}

impl ListSource for Lists {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        self.lists.get(&height)
    }
    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        self.snapshots.get(&cycle_height)
    }
}

fn lists() -> Lists {
    Lists {
        lists: WORK
            .iter()
            .map(|(height, hash, cl)| (*height, list(*height, hash, cl)))
            .collect(),
        snapshots: SNAPSHOTS
            .iter()
            .map(|(c, mode, skip)| {
                (
                    *c,
                    QuorumSnapshot {
                        skip_list_mode: *mode,
                        active_quorum_members: BitSet::from_bools(&[true; 4]),
                        skip_list: skip.to_vec(),
                    },
                )
            })
            .collect(),
    }
}

fn prefixes(members: &[Arc<SmlEntry>]) -> Vec<String> {
    members
        .iter()
        .map(|e| e.pro_reg_tx_hash.to_string()[..8].to_string())
        .collect()
}

#[test]
fn non_rotated_members_are_cores() {
    // llmq_test (size 3): Core's `quorum info` members of the quorums at 288 and 264; V20 is
    // active, so the work block is base − 8 and the modifier hashes its CbTx ChainLock.
    let p = params();
    let l = lists();
    for (base, expected) in [
        (288, ["b344474b", "d9e8cb4f", "9d2a858d"]),
        (264, ["c32b2fc7", "9d2a858d", "d9e8cb4f"]),
    ] {
        let work = l.list_at(base - 8).unwrap();
        let m = modifier(&p, 100, false, &Hash256::ZERO, Some(work), base - 8).unwrap();
        let members = non_rotated_members(work, &m, 3, false);
        assert_eq!(prefixes(&members), expected, "llmq_test quorum at {base}");
    }
}

#[test]
fn rotated_members_are_cores() {
    // llmq_test_dip0024 (size 4, two quorums a cycle, quarters of one): Core's members of the
    // quorums of the cycles at 288 and 264 — Quarter(H−3c) ‖ Quarter(H−2c) ‖ Quarter(H−c) ‖
    // NewQuarter(H), the older quarters rebuilt from Core's snapshots.
    let p = params();
    let l = lists();
    for (cycle, expected) in [
        (
            288,
            [
                ["c32b2fc7", "b344474b", "9d2a858d", "d9e8cb4f"],
                ["9d2a858d", "d9e8cb4f", "c32b2fc7", "b344474b"],
            ],
        ),
        (
            264,
            [
                ["d9e8cb4f", "c32b2fc7", "b344474b", "9d2a858d"],
                ["b344474b", "9d2a858d", "d9e8cb4f", "c32b2fc7"],
            ],
        ),
    ] {
        let all = rotated_cycle_members(&p, 103, cycle, &l)
            .unwrap_or_else(|r| panic!("cycle {cycle}: missing {r:?}"));
        assert_eq!(all.len(), 2);
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(&prefixes(&all[i]), want, "cycle {cycle} quorum index {i}");
        }
    }
}

#[test]
fn modifier_and_score_order_are_cores() {
    // The scores of the four masternodes under the llmq_test modifier of the quorum at 288,
    // highest first, give Core's member order; the fourth is the one Core left out.
    let p = params();
    let l = lists();
    let work = l.list_at(280).unwrap();
    let m = modifier(&p, 100, false, &Hash256::ZERO, Some(work), 280).unwrap();
    let sorted = super::selection::sort_by_score(work.entries.values(), &m);
    assert_eq!(
        prefixes(&sorted),
        ["b344474b", "d9e8cb4f", "9d2a858d", "c32b2fc7"]
    );
    // Before V20 the modifier is the base block's hash instead: a different order, so the
    // activation height really decides it.
    let mut pre = ChainParams::new(Network::Regtest);
    pre.set("dip3params", "2:2").unwrap();
    let m_pre = modifier(&pre, 100, false, &h(WORK[0].1), Some(work), 280).unwrap();
    assert_ne!(m, m_pre);
}
