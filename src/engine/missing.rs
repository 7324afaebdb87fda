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
    /// The base block hashes of those quorums (of the types the profile validates): where the
    /// header chain must be extended below its anchor to place them.
    pub unplaced_bases: BTreeSet<Hash256>,
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
            .filter_map(|h| header_hash(headers, *h).map(|b| (*h, b)))
            .collect()
    }

    /// The lowest height whose header is needed and not held (a list must be checked
    /// against it), if any.
    pub fn lowest_unresolved(&self) -> Option<u32> {
        self.unresolved_heights.first().copied()
    }
}

/// The hash of the block at `height` when its header is held: a list can only be checked
/// against a block whose merkle root is known (a hash known from linkage alone is not enough).
pub(super) fn header_hash(headers: &dyn HeaderIndex, height: u32) -> Option<Hash256> {
    headers
        .hash_at(height)
        .filter(|b| headers.merkle_root_of(b).is_some())
}

/// What [`Engine::cold_start_plan`] sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdStartPlan {
    /// The predicted lists, ascending, each against the previous one (the first from genesis).
    pub diffs: Vec<GetMnListDiff>,
    /// The `getqrinfo` for the tip, based on the oldest predicted list and the work blocks.
    pub qrinfo: GetQrInfo,
}

pub(super) fn compute(engine: &Engine, headers: &dyn HeaderIndex) -> MissingLists {
    let mut m = MissingLists::default();
    let Some(tip) = engine.tip_list() else {
        return m;
    };
    let cfg = &engine.cfg;
    let dip3 = cfg.params.activations().dip0003;
    let needs = |r: Requirements, m: &mut MissingLists| {
        // No list exists below DIP3 (Core answers such a request with a null block hash).
        for h in r.list_heights.into_iter().filter(|h| *h >= dip3) {
            if engine.list_at_height(h).is_none() {
                if header_hash(headers, h).is_some() {
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
    let cl_type = cfg.llmq().chainlocks;
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
            if cfg.wants_type(q.llmq_type) {
                m.unplaced_bases.insert(q.quorum_hash);
            }
            continue;
        };
        if !cfg.params.is_type_enabled(q.llmq_type, base_height, &|h| {
            headers.version_and_time_at(h)
        }) {
            // Disabled types are never selected for signing (W-37); they need no lists.
            continue;
        }
        if !cfg.wants_type(q.llmq_type) {
            // Not part of the configured profile (e.g. Platform quorums for a wallet).
            continue;
        }
        m.unvalidated_quorums += 1;
        needs(verify::requirements(&cfg.params, q, base_height), &mut m);
    }
    m
}

/// The lists a cold start will most likely need besides those a `getqrinfo` for the tip carries,
/// predicted from the tip height and the LLMQ parameters alone (no list needs to be held):
/// for every enabled non-rotated type of the profile, the lists its newest
/// `signingActiveQuorumCount` quorums are computed from — one interval more when the newest DKG
/// may still be mining — and the list at `tip − 8` that shows the ChainLocks set (held lists
/// included; the caller skips those). A wrong guess costs one small diff; a missed list is found by
/// [`Engine::missing`] afterwards.
pub(super) fn predict(
    engine: &Engine,
    headers: &dyn HeaderIndex,
    tip_height: u32,
) -> BTreeSet<u32> {
    let cfg = &engine.cfg;
    // No list exists below DIP3: never ask for one.
    let dip3 = cfg.params.activations().dip0003;
    let mut out = BTreeSet::new();
    if tip_height > 8 && tip_height - 8 >= dip3 {
        out.insert(tip_height - 8);
    }
    for &t in &cfg.llmq().configured_types {
        if !cfg.wants_type(t) {
            continue;
        }
        let Some(p) = cfg.llmq().params(t) else {
            continue;
        };
        if p.dkg_interval == 0 {
            continue;
        }
        // Newest DKG start that may have been mined by the tip.
        let Some(newest) = tip_height.checked_sub(p.dkg_mining_window_start) else {
            continue;
        };
        let newest = newest - newest % p.dkg_interval;
        let surely_mined = newest + p.dkg_mining_window_end <= tip_height;
        let count = p.signing_active_quorum_count + u32::from(!surely_mined);
        for k in 0..count {
            let Some(base) = newest.checked_sub(k * p.dkg_interval) else {
                break;
            };
            if base == 0
                || !cfg
                    .params
                    .is_type_enabled(t, base, &|h| headers.version_and_time_at(h))
                || cfg.params.is_rotation_enabled(t, base)
            {
                // Rotated quorums come with the qrinfo; disabled types need nothing.
                continue;
            }
            let r = crate::quorum::members::requirements(&cfg.params, t, base);
            out.extend(r.list_heights.into_iter().filter(|h| *h > 0 && *h >= dip3));
        }
    }
    out
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

    /// A cold start's masternode requests, all sent at once (nothing needs to be held, the
    /// server only needs the base hashes): the predicted lists (see `predict`) and the work
    /// blocks the qrinfo will carry (H − 8 − k·C, H = tip − tip mod C, k = 0..4) as one chain —
    /// the oldest from genesis, each next one against the previous — and one `getqrinfo` for the
    /// tip whose bases are the oldest list and those work blocks, so its diffs are nearly empty
    /// and the whole sync downloads one full list and each change once. Feed the diffs in
    /// height order, then the qrinfo.
    pub fn cold_start_plan(
        &self,
        headers: &dyn HeaderIndex,
        tip_height: u32,
        tip: Hash256,
    ) -> ColdStartPlan {
        let mut heights = predict(self, headers, tip_height);
        let mut work_blocks = BTreeSet::new();
        let dip3 = self.cfg.params.activations().dip0003;
        if let Some(c) = self
            .cfg
            .llmq()
            .params(self.cfg.llmq().instantsend)
            .map(|p| p.dkg_interval)
            .filter(|c| *c > 0)
        {
            let h = tip_height - tip_height % c;
            for k in 0..=4 {
                if let Some(w) = h.checked_sub(k * c + 8).filter(|w| *w > 0 && *w >= dip3) {
                    work_blocks.insert(w);
                }
            }
        }
        heights.extend(&work_blocks);
        let mut diffs = Vec::new();
        let mut bases = Vec::new();
        let mut base = Hash256::ZERO;
        for h in heights {
            if h >= tip_height || self.list_at_height(h).is_some() {
                continue;
            }
            let Some(block_hash) = header_hash(headers, h) else {
                continue;
            };
            if diffs.is_empty() || work_blocks.contains(&h) {
                bases.push(block_hash);
            }
            diffs.push(GetMnListDiff {
                base_block_hash: base,
                block_hash,
            });
            base = block_hash;
        }
        let qrinfo = GetQrInfo {
            base_block_hashes: bases,
            block_request_hash: tip,
            extra_share: true,
        };
        ColdStartPlan { diffs, qrinfo }
    }

    /// Baseline (a) of the benchmark: one `getmnlistd` per missing list, every one from
    /// genesis (a full list each), as clients did before they tracked bases.
    pub fn mnlistdiff_requests_from_genesis(
        &self,
        missing: &MissingLists,
        headers: &dyn HeaderIndex,
    ) -> Vec<GetMnListDiff> {
        missing
            .block_hashes(headers)
            .into_iter()
            .map(|(_, block_hash)| GetMnListDiff {
                base_block_hash: Hash256::ZERO,
                block_hash,
            })
            .collect()
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

/// Most helper hashes [`Engine::history_stones`] returns.
const MAX_STONES: usize = 512;

impl Engine {
    /// How far below the tip the lists and blocks of active quorums can lie, from the LLMQ
    /// parameters of the validated types: a non-rotated type's oldest active quorum is at
    /// most `signingActiveQuorumCount + 1` intervals old (its list at base − 8), a rotated
    /// cycle reaches back to H − 3C − 8 for a cycle up to 2C old; one interval more for a DKG
    /// that failed. Headers deeper than this below the tip are never fetched.
    pub fn history_depth(&self) -> u32 {
        let cfg = &self.cfg;
        let mut depth = 8u32;
        for &t in &cfg.llmq().configured_types {
            let Some(p) = cfg.llmq().params(t).filter(|p| p.dkg_interval > 0) else {
                continue;
            };
            if !cfg.wants_type(t) {
                continue;
            }
            let intervals = if p.use_rotation {
                6
            } else {
                p.signing_active_quorum_count.saturating_add(2)
            };
            depth = depth.max(
                intervals
                    .saturating_mul(p.dkg_interval)
                    .saturating_add(p.dkg_mining_window_end)
                    .saturating_add(8),
            );
        }
        depth
    }

    /// Block hashes below the header chain's lowest header that a `getheaders` can start
    /// from to reach further down: the base blocks of the quorums in the held lists that the
    /// header index cannot place, from the lowest list up and, within a list, from the types
    /// with the shortest DKG interval (closest below it). Only a locator: whatever a peer
    /// answers from it is accepted only if it links to the held headers.
    pub fn history_stones(&self, headers: &dyn HeaderIndex) -> Vec<Hash256> {
        let interval = |t: u8| {
            self.cfg
                .llmq()
                .params(t)
                .map_or(u32::MAX, |p| p.dkg_interval)
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for hash in self.by_height.values() {
            let Some(list) = self.lists.get(hash) else {
                continue;
            };
            let mut qs: Vec<_> = list
                .quorums
                .keys()
                .filter(|(_, h)| headers.height_of(h).is_none())
                .collect();
            qs.sort_by_key(|(t, h)| (interval(*t), *h));
            for (_, h) in qs {
                if seen.insert(*h) {
                    out.push(*h);
                    if out.len() >= MAX_STONES {
                        return out;
                    }
                }
            }
        }
        out
    }
}
