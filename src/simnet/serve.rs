//! Answers built from a [`SimChain`] exactly as Dash Core builds them: `mnlistdiff` between any
//! two blocks (with the coinbase proof and `quorumsCLSigs`) and `qrinfo` with Core's choice of
//! each diff's base (PROTOCOL.md §3.2, §3.8, §4.2–§4.5). [`SimNode`] wraps a chain for
//! concurrent serving while it grows and reorgs.

use super::gen::{SimChain, SimConfig};
use super::service::SimService;
use crate::chain::params as chain_params;
use crate::hashes::Hash256;
use crate::network::Network;
use crate::sml::{pmt, MasternodeList};
use crate::wire::header::BlockHeader;
use crate::wire::locks::{ClSig, IsDLock};
use crate::wire::mnlistdiff::{DeletedQuorum, MnListDiff, QuorumClSig};
use crate::wire::qrinfo::{ExtraShare, GetQrInfo, QrInfo, QuorumSnapshot};
use crate::wire::version::{EFFICIENT_QRINFO_VERSION, MNLISTDIFF_CHAINLOCKS_PROTO_VERSION};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

impl SimChain {
    fn base_height(&self, base: &Hash256) -> Option<u32> {
        if base.is_zero() || *base == chain_params::genesis_hash(self.network()) {
            Some(0)
        } else {
            self.block_by_hash(base).map(|_| self.height_of_block(base))
        }
    }

    fn height_of_block(&self, hash: &Hash256) -> u32 {
        crate::chain::HeaderIndex::height_of(self, hash).expect("known block")
    }

    /// The `mnlistdiff` from `base` (zero or genesis = the empty list) to `block`, or `None` when
    /// Core would not answer (unknown block, base above the target).
    pub fn build_mnlistdiff(
        &self,
        base: &Hash256,
        block: &Hash256,
        protocol_version: u32,
    ) -> Option<MnListDiff> {
        let base_h = self.base_height(base)?;
        let h = crate::chain::HeaderIndex::height_of(self, block)?;
        if base_h > h || h == 0 {
            return None;
        }
        let from = if base_h == 0 {
            MasternodeList::empty()
        } else {
            self.list_at(base_h)?
        };
        let to = self.list_at(h)?;
        let b = self.block(h)?;
        let deleted_mns = from
            .entries
            .keys()
            .filter(|k| !to.entries.contains_key(*k))
            .copied()
            .collect();
        let mn_list = to
            .entries
            .iter()
            .filter(|(k, e)| from.entries.get(*k).is_none_or(|old| old != *e))
            .map(|(_, e)| (**e).clone())
            .collect();
        let deleted_quorums = from
            .quorums
            .keys()
            .filter(|k| !to.quorums.contains_key(*k))
            .map(|(t, q)| DeletedQuorum {
                llmq_type: *t,
                quorum_hash: *q,
            })
            .collect();
        let new_quorums: Vec<_> = to
            .quorums
            .iter()
            .filter(|(k, _)| !from.quorums.contains_key(*k))
            .map(|(_, c)| (**c).clone())
            .collect();
        let mut quorums_cl_sigs = Vec::new();
        // Core builds the field when V20 is active after the diff's block
        // (`DeploymentActiveAfter`, PROTOCOL.md §2.1).
        let v20 = self.config.params.activations().v20;
        if protocol_version >= MNLISTDIFF_CHAINLOCKS_PROTO_VERSION && h + 1 >= v20 {
            // Per new quorum the CL signature in its work block's CbTx (null below V20), grouped.
            let mut groups: BTreeMap<[u8; 96], Vec<u16>> = BTreeMap::new();
            for (i, c) in new_quorums.iter().enumerate() {
                let base_height = self.height_of_block(&c.quorum_hash);
                let w = base_height.saturating_sub(c.quorum_index.max(0) as u32 + 8);
                let sig = if w >= v20 {
                    self.block(w)
                        .and_then(|b| b.cbtx.as_ref())
                        .and_then(|cb| cb.best_cl)
                        .map_or([0u8; 96], |cl| cl.signature)
                } else {
                    [0u8; 96]
                };
                groups.entry(sig).or_default().push(i as u16);
            }
            quorums_cl_sigs = groups
                .into_iter()
                .map(|(signature, quorum_indexes)| QuorumClSig {
                    signature,
                    quorum_indexes,
                })
                .collect();
        }
        let txids: Vec<Hash256> = b.txs.iter().map(|t| t.txid()).collect();
        let mut matches = vec![false; txids.len()];
        matches[0] = true;
        Some(MnListDiff {
            version: 1,
            base_block_hash: if base.is_zero() { Hash256::ZERO } else { *base },
            block_hash: *block,
            cb_tx_merkle_tree: pmt::build(&txids, &matches),
            cb_tx: b.txs[0].clone(),
            deleted_mns,
            mn_list,
            deleted_quorums,
            new_quorums,
            quorums_cl_sigs,
        })
    }

    /// The `qrinfo` Core would send for `request`, or `None` when it would not answer (unknown
    /// blocks, not enough history).
    pub fn build_qrinfo(&self, request: &GetQrInfo, protocol_version: u32) -> Option<QrInfo> {
        let is_type = self.config.llmq().instantsend;
        let p = *self.config.params.llmq_params(is_type)?;
        let c = p.dkg_interval;
        let r = crate::chain::HeaderIndex::height_of(self, &request.block_request_hash)?;
        let h = r - r % c;
        let deepest = if request.extra_share { 4 * c } else { 3 * c };
        if h < deepest + 8 + 1 {
            return None;
        }
        let mut bases: Vec<(u32, Hash256)> = Vec::new();
        for b in &request.base_block_hashes {
            let bh = crate::chain::HeaderIndex::height_of(self, b)?;
            bases.push((bh, *b));
        }
        bases.sort();
        let efficient = protocol_version >= EFFICIENT_QRINFO_VERSION;
        let genesis = chain_params::genesis_hash(self.network());
        let snapshot = |cycle: u32| {
            self.snapshot(is_type, cycle)
                .cloned()
                .unwrap_or(QuorumSnapshot {
                    skip_list_mode: 0,
                    active_quorum_members: crate::wire::codec::BitSet::new(0),
                    skip_list: Vec::new(),
                })
        };
        // lastCommitmentPerIndex: per index the latest commitment mined at or below R.
        let mut per_index: BTreeMap<i16, _> = BTreeMap::new();
        for (mined, cm) in self.mined_commitments() {
            if *mined <= r && cm.llmq_type == is_type {
                per_index.insert(cm.quorum_index, cm.clone());
            }
        }
        let last: Vec<_> = per_index.into_values().map(|c| (*c).clone()).collect();
        let mut covered: BTreeSet<u32> = [h - c, h - 2 * c, h - 3 * c].into();
        if request.extra_share {
            covered.insert(h - 4 * c);
        }
        let mut extra_cycles = BTreeSet::new();
        for cm in &last {
            let bh = self.height_of_block(&cm.quorum_hash);
            let q = bh - bh % c;
            for k in 1..=3 {
                if let Some(x) = q.checked_sub(k * c) {
                    if x >= 8 && !covered.contains(&x) && self.snapshot(is_type, x).is_some() {
                        extra_cycles.insert(x);
                    }
                }
            }
        }
        // Diffs in Core's build order, each against the best base (§4.5).
        let mut targets: Vec<u32> = extra_cycles.iter().map(|x| x - 8).collect();
        if request.extra_share {
            targets.push(h - 4 * c - 8);
        }
        targets.extend([h - 3 * c - 8, h - 2 * c - 8, h - c - 8, h - 8]);
        let tip = self.tip_height();
        let mut diffs = Vec::with_capacity(targets.len() + 1);
        let mut known = bases.clone();
        for &t in &targets {
            let base = known
                .iter()
                .rev()
                .find(|(bh, _)| *bh <= t)
                .map_or(genesis, |(_, b)| *b);
            let d = self.build_mnlistdiff(&base, &self.block(t)?.hash, protocol_version)?;
            if efficient {
                known.push((t, d.block_hash));
                known.sort();
            }
            diffs.push(d);
        }
        let tip_base = if efficient {
            known
                .iter()
                .rev()
                .find(|(bh, _)| *bh <= tip)
                .map_or(genesis, |(_, b)| *b)
        } else {
            bases.last().map_or(genesis, |(_, b)| *b)
        };
        let tip_diff =
            self.build_mnlistdiff(&tip_base, &self.block(tip)?.hash, protocol_version)?;
        let mut it = diffs.into_iter();
        let list: Vec<MnListDiff> = (&mut it).take(extra_cycles.len()).collect();
        let extra = if request.extra_share {
            Some(ExtraShare {
                snapshot_h_minus_4c: snapshot(h - 4 * c),
                mn_list_diff_h_minus_4c: it.next()?,
            })
        } else {
            None
        };
        let d3 = it.next()?;
        let d2 = it.next()?;
        let d1 = it.next()?;
        let dh = it.next()?;
        Some(QrInfo {
            snapshot_h_minus_c: snapshot(h - c),
            snapshot_h_minus_2c: snapshot(h - 2 * c),
            snapshot_h_minus_3c: snapshot(h - 3 * c),
            mn_list_diff_tip: tip_diff,
            mn_list_diff_h: dh,
            mn_list_diff_h_minus_c: d1,
            mn_list_diff_h_minus_2c: d2,
            mn_list_diff_h_minus_3c: d3,
            extra_share: extra,
            last_commitment_per_index: last,
            quorum_snapshot_list: extra_cycles.iter().map(|x| snapshot(*x)).collect(),
            mn_list_diff_list: list,
        })
    }
}

/// A simulated node: a chain behind a lock, serving while it grows and reorgs.
#[derive(Debug)]
pub struct SimNode {
    chain: RwLock<SimChain>,
}

impl SimNode {
    /// Generates the chain for `config`.
    pub fn new(config: SimConfig) -> SimNode {
        SimNode::from_chain(SimChain::generate(config))
    }

    /// Serves an already generated chain.
    pub fn from_chain(chain: SimChain) -> SimNode {
        SimNode {
            chain: RwLock::new(chain),
        }
    }

    /// Mines `n` more blocks.
    pub fn mine(&self, n: u32) {
        self.chain
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extend(n);
    }

    /// Replaces the last `depth` blocks by a longer branch.
    pub fn reorg(&self, depth: u32) {
        self.chain
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .reorg(depth);
    }

    /// Runs `f` with read access to the chain.
    pub fn with_chain<T>(&self, f: impl FnOnce(&SimChain) -> T) -> T {
        f(&self.chain.read().unwrap_or_else(|e| e.into_inner()))
    }
}

impl SimService for SimNode {
    fn network(&self) -> Network {
        self.with_chain(|c| c.network())
    }
    fn tip_height(&self) -> u32 {
        self.with_chain(|c| c.tip_height())
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.with_chain(|c| c.block(height).map(|b| b.hash))
    }
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.with_chain(|c| crate::chain::HeaderIndex::height_of(c, hash))
    }
    fn header(&self, height: u32) -> Option<BlockHeader> {
        self.with_chain(|c| c.block(height).map(|b| b.header))
    }
    fn mnlistdiff(
        &self,
        base: &Hash256,
        block: &Hash256,
        protocol_version: u32,
    ) -> Option<MnListDiff> {
        self.with_chain(|c| c.build_mnlistdiff(base, block, protocol_version))
    }
    fn qrinfo(&self, request: &GetQrInfo, protocol_version: u32) -> Option<QrInfo> {
        self.with_chain(|c| c.build_qrinfo(request, protocol_version))
    }
    fn clsig(&self, height: u32) -> Option<ClSig> {
        self.with_chain(|c| c.clsig(height).cloned())
    }
    fn isdlock(&self, inv_hash: &Hash256) -> Option<IsDLock> {
        self.with_chain(|c| {
            c.islocks()
                .iter()
                .find(|(_, l)| l.inv_hash() == *inv_hash)
                .map(|(_, l)| l.clone())
        })
    }
}
