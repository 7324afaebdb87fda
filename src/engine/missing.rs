//! "Tell me what you are missing": the exact lists the engine needs to validate every active
//! quorum at its tip, and the requests that fetch only those (PROTOCOL.md §8).

use super::Engine;
use crate::chain::HeaderIndex;
use crate::hashes::Hash256;
use crate::quorum::verify::{self, Requirements};
use crate::wire::mnlistdiff::GetMnListDiff;
use crate::wire::qrinfo::GetQrInfo;
use std::collections::BTreeSet;

/// What the engine lacks to validate every active quorum of every enabled type at its tip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingLists {
    /// Heights of lists needed and not held, ascending.
    pub list_heights: BTreeSet<u32>,
    /// Cycle heights whose snapshots are needed and not held (only a qrinfo delivers them).
    pub snapshot_heights: BTreeSet<u32>,
    /// Heights the header chain could not resolve to a block yet (fetch headers first).
    pub unresolved_heights: BTreeSet<u32>,
    /// Active quorums at the tip that are not validated yet.
    pub unvalidated_quorums: usize,
    /// Active quorums whose base block is not in the header index (based before the header
    /// chain's anchor): committed by the verified quorum root, but their members cannot be
    /// computed, so they stay unvalidated and are never used to verify a lock.
    pub without_base_header: usize,
}

impl MissingLists {
    /// True when every active quorum can be (or is) validated with what is held.
    pub fn is_empty(&self) -> bool {
        self.list_heights.is_empty() && self.snapshot_heights.is_empty()
    }

    /// True when a `getqrinfo` is needed (snapshots of rotation cycles are missing).
    pub fn needs_qrinfo(&self) -> bool {
        !self.snapshot_heights.is_empty()
    }

    /// The missing lists as (height, block hash), for heights the header chain knows.
    pub fn block_hashes(&self, headers: &dyn HeaderIndex) -> Vec<(u32, Hash256)> {
        self.list_heights
            .iter()
            .filter_map(|h| headers.hash_at(*h).map(|b| (*h, b)))
            .collect()
    }
}

pub(super) fn compute(engine: &Engine, headers: &dyn HeaderIndex) -> MissingLists {
    let mut m = MissingLists::default();
    let Some(tip) = engine.tip_list() else {
        return m;
    };
    let cfg = &engine.cfg;
    let needs = |r: Requirements, m: &mut MissingLists| {
        for h in r.list_heights {
            if engine.list_at_height(h).is_none() {
                if headers.hash_at(h).is_some() {
                    m.list_heights.insert(h);
                } else {
                    m.unresolved_heights.insert(h);
                }
            }
        }
        for h in r.snapshot_heights {
            if !engine.snapshots.contains_key(&h) {
                m.snapshot_heights.insert(h);
            }
        }
    };
    // ChainLocks for the tip are signed by the set at tip − 8: hold a list that shows it.
    let cl_type = cfg.llmq.chainlocks;
    if let Some(start) = tip.height.checked_sub(8) {
        if start > 0 && engine.active_set_list(cl_type, start).is_none() {
            needs(
                Requirements {
                    list_heights: vec![start],
                    snapshot_heights: Vec::new(),
                },
                &mut m,
            );
        }
    }
    for (key, q) in &tip.quorums {
        if engine.quorums.contains_key(key) {
            continue;
        }
        let Some(base_height) = headers.height_of(&q.quorum_hash) else {
            m.without_base_header += 1;
            continue;
        };
        if !cfg
            .llmq
            .is_type_enabled(cfg.network, q.llmq_type, base_height)
        {
            // Disabled types are never selected for signing (W-37); they need no lists.
            continue;
        }
        m.unvalidated_quorums += 1;
        needs(
            verify::requirements(&cfg.llmq, cfg.network, q, base_height),
            &mut m,
        );
    }
    m
}

impl Engine {
    /// The `getqrinfo` to send for `tip`: every held list as a base (ascending by height, the
    /// most recent `max_bases` of them), extraShare on so the previous cycle's quorums can be
    /// validated too.
    pub fn qrinfo_request(&self, tip: Hash256, max_bases: usize) -> GetQrInfo {
        let held = self.held_lists();
        let skip = held.len().saturating_sub(max_bases);
        GetQrInfo {
            base_block_hashes: held.into_iter().skip(skip).map(|(_, h)| h).collect(),
            block_request_hash: tip,
            extra_share: true,
        }
    }

    /// One `getmnlistd` per missing list, each against the nearest held list below it. Lists
    /// with no held list below them would each need a full list from genesis: only the oldest
    /// of those is requested now, the others are requested in the next round, against it (a
    /// small diff instead of another full list, for one more round trip).
    pub fn mnlistdiff_requests(
        &self,
        missing: &MissingLists,
        headers: &dyn HeaderIndex,
    ) -> Vec<GetMnListDiff> {
        let mut out = Vec::new();
        let mut from_genesis = false;
        for (height, block_hash) in missing.block_hashes(headers) {
            let base = self.by_height.range(..=height).next_back().map(|(_, b)| *b);
            let base_block_hash = match base {
                Some(b) => b,
                None if from_genesis => continue,
                None => {
                    from_genesis = true;
                    Hash256::ZERO
                }
            };
            out.push(GetMnListDiff {
                base_block_hash,
                block_hash,
            });
        }
        out
    }
}
