//! Quorum member selection (PROTOCOL.md §7): scores and modifiers, non-rotated quorums, and
//! DIP-0024 rotation (quarters from snapshots, the new quarter of a cycle, and the snapshot a
//! cycle produces). Pure functions over masternode lists.

use crate::hashes::{sha256, sha256_parts, sha256d_parts, Hash256};
use crate::network::ChainParams;
use crate::sml::MasternodeList;
use crate::wire::codec::BitSet;
use crate::wire::qrinfo::QuorumSnapshot;
use crate::wire::sml_entry::SmlEntry;
use std::collections::HashSet;
use std::sync::Arc;

/// A masternode with the score it has for one modifier.
type Scored = ([u8; 32], Arc<SmlEntry>);

/// `SHA256(proRegTxHash ‖ confirmedHash)` (Core's `confirmedHashWithProRegTxHash`).
pub fn confirmed_hash_with_pro_reg_tx_hash(e: &SmlEntry) -> [u8; 32] {
    sha256_parts(&[&e.pro_reg_tx_hash.0, &e.confirmed_hash.0])
}

/// The score of `e` for `modifier`, as big-endian bytes so that byte order = numeric order
/// (the hash is read as a little-endian 256-bit number, §7.1).
pub fn score(e: &SmlEntry, modifier: &Hash256) -> [u8; 32] {
    let mut s = sha256_parts(&[&confirmed_hash_with_pro_reg_tx_hash(e), &modifier.0]);
    s.reverse();
    s
}

/// [`confirmed_hash_with_pro_reg_tx_hash`] of the entries already scored, so that scoring a
/// list for many quorums hashes each entry once (half of the hashing of a non-rotated quorum's
/// member computation). Keyed by proRegTxHash; the confirmed hash is compared on every lookup,
/// so an entry whose confirmed hash changed is hashed again.
#[derive(Default)]
pub struct InnerHashes(
    std::collections::HashMap<Hash256, (Hash256, [u8; 32]), std::hash::BuildHasherDefault<Fold>>,
);

/// The map's hasher: proRegTxHashes are uniformly distributed already (transaction hashes), so
/// folding their bytes is enough.
#[derive(Default)]
pub struct Fold(u64);

impl std::hash::Hasher for Fold {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.0 = self.0.rotate_left(17) ^ u64::from_le_bytes(b);
        }
    }
}

impl InnerHashes {
    /// `SHA256(proRegTxHash ‖ confirmedHash)` of `e`.
    pub fn get(&mut self, e: &SmlEntry) -> [u8; 32] {
        match self.0.get(&e.pro_reg_tx_hash) {
            Some((confirmed, h)) if *confirmed == e.confirmed_hash => *h,
            _ => {
                let h = confirmed_hash_with_pro_reg_tx_hash(e);
                self.0.insert(e.pro_reg_tx_hash, (e.confirmed_hash, h));
                h
            }
        }
    }

    /// [`score`] with the inner hash taken from (or added to) this cache.
    pub fn score(&mut self, e: &SmlEntry, modifier: &Hash256) -> [u8; 32] {
        let mut s = sha256_parts(&[&self.get(e), &modifier.0]);
        s.reverse();
        s
    }
}

/// Entries that may be selected: valid and confirmed.
pub fn is_candidate(e: &SmlEntry) -> bool {
    e.is_valid && !e.confirmed_hash.is_zero()
}

/// Sorts entries by score for `modifier`, highest first.
pub fn sort_by_score<'a>(
    entries: impl Iterator<Item = &'a Arc<SmlEntry>>,
    modifier: &Hash256,
) -> Vec<Arc<SmlEntry>> {
    let mut v: Vec<Scored> = entries.map(|e| (score(e, modifier), e.clone())).collect();
    v.sort_by_key(|a| std::cmp::Reverse(a.0));
    v.into_iter().map(|(_, e)| e).collect()
}

/// Core's `GetNonNullCoinbaseChainlock` (`src/evo/cbtx.cpp`) for the block whose list is
/// `work`: its CbTx's `bestCLSignature` when there is one and it is `IsValid()` — not all zero
/// and decoding as a BLS signature (`is_signature` decides that; callers may cache it) — else
/// `None`. The modifier (§7.1) and the `quorumsCLSigs` check both take the ChainLock from here.
pub fn coinbase_chainlock_with(
    work: &MasternodeList,
    is_signature: impl FnOnce(&[u8; 96]) -> bool,
) -> Option<[u8; 96]> {
    let cl = work.cbtx.as_ref()?.best_cl.as_ref()?;
    (!cl.is_null() && is_signature(&cl.signature)).then_some(cl.signature)
}

/// [`coinbase_chainlock_with`], decoding the signature.
pub fn coinbase_chainlock(work: &MasternodeList) -> Option<[u8; 96]> {
    coinbase_chainlock_with(work, |s| {
        crate::quorum::bls::Signature::from_bytes(s, crate::quorum::bls::Scheme::Basic).is_ok()
    })
}

/// The modifier of a quorum (non-rotated) or cycle (rotated) based at `base` (§7.1). `work` is
/// the list at `base.height − 8`, whose CbTx may carry a ChainLock; it is only consulted when
/// the table needs it (`None` is fine for pre-V20 non-rotated quorums).
pub fn modifier(
    cp: &ChainParams,
    llmq_type: u8,
    rotated: bool,
    base_hash: &Hash256,
    work: Option<&MasternodeList>,
    work_height: u32,
) -> Option<Hash256> {
    let v20 = cp.activations().v20;
    if work_height + 1 >= v20 {
        let work = work?;
        // Core's `GetHashModifier` (`src/llmq/utils.cpp`): a ChainLock in the work block's
        // coinbase only counts when it is a valid signature.
        if let Some(signature) = coinbase_chainlock(work) {
            return Some(sha256d_parts(&[
                &[llmq_type],
                &(work_height as i32).to_le_bytes(),
                &signature,
            ]));
        }
        return Some(sha256d_parts(&[&[llmq_type], &work.block_hash.0]));
    }
    if rotated {
        let work = work?;
        return Some(sha256d_parts(&[&[llmq_type], &work.block_hash.0]));
    }
    Some(sha256d_parts(&[&[llmq_type], &base_hash.0]))
}

/// Members of a non-rotated quorum (§7.2): the `size` best-scoring candidates of `list`
/// (evonodes only when `evo_only`).
pub fn non_rotated_members(
    list: &MasternodeList,
    modifier: &Hash256,
    size: usize,
    evo_only: bool,
) -> Vec<Arc<SmlEntry>> {
    non_rotated_members_cached(list, modifier, size, evo_only, &mut InnerHashes::default())
}

/// [`non_rotated_members`] reusing the inner hashes of `inner`. Only the `size` best are
/// sorted: the rest are split off by score first (ties, which only equal hashes could make,
/// keep the list's order, as the full stable sort does).
pub fn non_rotated_members_cached(
    list: &MasternodeList,
    modifier: &Hash256,
    size: usize,
    evo_only: bool,
    inner: &mut InnerHashes,
) -> Vec<Arc<SmlEntry>> {
    /// A candidate: its score (highest first), its position in the list, the entry.
    type Ranked<'a> = (std::cmp::Reverse<[u8; 32]>, usize, &'a Arc<SmlEntry>);
    let mut v: Vec<Ranked> = list
        .entries
        .values()
        .filter(|e| is_candidate(e) && (!evo_only || e.is_evo()))
        .enumerate()
        .map(|(i, e)| (std::cmp::Reverse(inner.score(e, modifier)), i, e))
        .collect();
    let key = |a: &Ranked| (a.0, a.1);
    if size == 0 {
        return Vec::new();
    }
    if v.len() > size {
        v.select_nth_unstable_by_key(size - 1, key);
        v.truncate(size);
    }
    v.sort_unstable_by_key(key);
    v.into_iter().map(|(_, _, e)| e.clone()).collect()
}

/// `Quarter(X)` reconstructed from the snapshot of cycle X (§7.3.1): `n` quarters of
/// `quarter_size` members each, from `list` (the list at X − 8) sorted by `modifier`.
pub fn quarters_from_snapshot(
    list: &MasternodeList,
    modifier: &Hash256,
    snapshot: &QuorumSnapshot,
    n: usize,
    quarter_size: usize,
) -> Vec<Vec<Arc<SmlEntry>>> {
    let sorted = sort_by_score(list.entries.values().filter(|e| is_candidate(e)), modifier);
    let mut used = Vec::new();
    let mut unused = Vec::new();
    for (k, e) in sorted.into_iter().enumerate() {
        if snapshot.active_quorum_members.get(k) {
            used.push(e);
        } else {
            unused.push(e);
        }
    }
    let mut combined = unused;
    combined.extend(used);
    let mut q: Vec<Vec<Arc<SmlEntry>>> = vec![Vec::new(); n];
    if combined.is_empty() {
        return q;
    }
    match snapshot.skip_list_mode {
        0 => {
            let mut it = 0;
            for quarter in q.iter_mut() {
                while quarter.len() < quarter_size {
                    quarter.push(combined[it].clone());
                    it = (it + 1) % combined.len();
                }
            }
        }
        1 => {
            let mut first: i32 = 0;
            let mut skips: Vec<i64> = Vec::with_capacity(snapshot.skip_list.len());
            for &s in &snapshot.skip_list {
                if first == 0 {
                    first = s;
                    skips.push(s as i64);
                } else {
                    skips.push(first.wrapping_add(s) as i64);
                }
            }
            let (mut idx, mut k) = (0usize, 0usize);
            // A malformed skip list could skip forever; bound the walk.
            let mut budget = (n * quarter_size + skips.len() + 1) * 2 + combined.len();
            for quarter in q.iter_mut() {
                while quarter.len() < quarter_size {
                    if budget == 0 {
                        return vec![Vec::new(); n];
                    }
                    budget -= 1;
                    if k < skips.len() && idx as i64 == skips[k] {
                        k += 1;
                    } else {
                        quarter.push(combined[idx].clone());
                    }
                    idx += 1;
                    if idx == combined.len() {
                        idx = 0;
                    }
                }
            }
        }
        _ => {}
    }
    q
}

/// The result of building the new quarter of a cycle.
#[derive(Debug, Clone, Default)]
pub struct NewQuarter {
    /// `N` quarters (all empty when there are not enough masternodes).
    pub quarters: Vec<Vec<Arc<SmlEntry>>>,
    /// Positions in `combined` that were skipped (absolute, in walk order).
    pub skipped: Vec<usize>,
    /// proRegTxHashes already used by the previous three quarters.
    pub used_all: HashSet<Hash256>,
}

/// `NewQuarter(H)` (§7.3.2). `list` is the list at H − 8; `prev` holds the quarters of
/// H − c, H − 2c, H − 3c in that order (missing ones empty).
pub fn new_quarter(
    list: &MasternodeList,
    modifier: &Hash256,
    prev: &[&[Vec<Arc<SmlEntry>>]],
    n: usize,
    quarter_size: usize,
    skip_removed: bool,
) -> NewQuarter {
    let empty = NewQuarter {
        quarters: vec![Vec::new(); n],
        ..NewQuarter::default()
    };
    if list.entries.values().filter(|e| e.is_valid).count() < quarter_size {
        return empty;
    }
    let mut used_all: Vec<Arc<SmlEntry>> = Vec::new();
    let mut used_all_set: HashSet<Hash256> = HashSet::new();
    let mut used_idx: Vec<HashSet<Hash256>> = vec![HashSet::new(); n];
    for (i, used) in used_idx.iter_mut().enumerate() {
        for quarters in prev {
            let Some(members) = quarters.get(i) else {
                continue;
            };
            for m in members {
                let now = list.entries.get(&m.pro_reg_tx_hash);
                if skip_removed && now.is_none() {
                    continue;
                }
                if now.is_some_and(|e| !e.is_valid) {
                    continue;
                }
                if used_all_set.insert(m.pro_reg_tx_hash) {
                    used_all.push(m.clone());
                }
                used.insert(m.pro_reg_tx_hash);
            }
        }
    }
    let not_used = list
        .entries
        .values()
        .filter(|e| !used_all_set.contains(&e.pro_reg_tx_hash) && is_candidate(e));
    let mut combined = sort_by_score(not_used, modifier);
    combined.extend(sort_by_score(
        used_all.iter().filter(|e| is_candidate(e)),
        modifier,
    ));
    let mut quarters: Vec<Vec<Arc<SmlEntry>>> = vec![Vec::new(); n];
    let mut skipped = Vec::new();
    if combined.is_empty() {
        return empty;
    }
    let mut idx = 0usize;
    for (i, quarter) in quarters.iter_mut().enumerate() {
        let start = idx;
        let mut progressed = false;
        while quarter.len() < quarter_size && used_idx[i].len() + quarter.len() < combined.len() {
            let m = &combined[idx];
            if used_idx[i].insert(m.pro_reg_tx_hash) {
                quarter.push(m.clone());
                progressed = true;
            } else {
                skipped.push(idx);
            }
            idx += 1;
            if idx == combined.len() {
                idx = 0;
            }
            if idx == start {
                if !progressed {
                    return empty;
                }
                progressed = false;
            }
        }
    }
    NewQuarter {
        quarters,
        skipped,
        used_all: used_all_set,
    }
}

/// The snapshot cycle H records for its new quarter (Core `BuildQuorumSnapshot`): which
/// candidates of `list` (sorted by `modifier`) were used before, and the skip list encoded
/// as §7.3.2 describes. Used by the simulated network; mirrors [`quarters_from_snapshot`].
pub fn build_snapshot(
    list: &MasternodeList,
    modifier: &Hash256,
    nq: &NewQuarter,
) -> QuorumSnapshot {
    let sorted = sort_by_score(list.entries.values().filter(|e| is_candidate(e)), modifier);
    let bits: Vec<bool> = sorted
        .iter()
        .map(|e| nq.used_all.contains(&e.pro_reg_tx_hash))
        .collect();
    let mut skip_list = Vec::with_capacity(nq.skipped.len());
    let mut first: Option<i64> = None;
    let mut first_was_zero_pending = false;
    for &s in &nq.skipped {
        let s = s as i64;
        match first {
            None => {
                first = Some(s);
                first_was_zero_pending = s == 0;
                skip_list.push(s as i32);
            }
            Some(_) if first_was_zero_pending => {
                // Mirror of the decoder: after an absolute 0, the next value is absolute too.
                first = Some(s);
                first_was_zero_pending = s == 0;
                skip_list.push(s as i32);
            }
            Some(f) => skip_list.push((s - f) as i32),
        }
    }
    QuorumSnapshot {
        skip_list_mode: if skip_list.is_empty() { 0 } else { 1 },
        active_quorum_members: BitSet::from_bools(&bits),
        skip_list,
    }
}

/// The hash a member list commits to (handy for tests and logs).
pub fn members_digest(members: &[Arc<SmlEntry>]) -> [u8; 32] {
    let mut all = Vec::with_capacity(members.len() * 32);
    for m in members {
        all.extend_from_slice(&m.pro_reg_tx_hash.0);
    }
    sha256(&all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;
    use crate::quorum::bls::{Scheme, SecretKey};
    use crate::wire::tx::{BestChainLock, CbTx};

    fn work_list(signature: [u8; 96]) -> MasternodeList {
        let mut l = MasternodeList::empty();
        l.block_hash = Hash256([0x42; 32]);
        l.cbtx = Some(CbTx {
            version: 3,
            height: 1,
            merkle_root_mn_list: Hash256::ZERO,
            merkle_root_quorums: Some(Hash256::ZERO),
            best_cl: Some(BestChainLock {
                height_diff: 0,
                signature,
            }),
            credit_pool_balance: Some(0),
            merkle_root_asset_unlocks: None,
            unknown_fields: Vec::new(),
        });
        l
    }

    fn entry(i: u8, confirmed: u8, valid: bool) -> SmlEntry {
        SmlEntry {
            version: 2,
            pro_reg_tx_hash: Hash256(sha256(&[i])),
            confirmed_hash: Hash256([confirmed; 32]),
            net_info: crate::wire::sml_entry::NetInfo::Service([0; 18]),
            operator_key: [0; 48],
            voting_key_id: [0; 20],
            is_valid: valid,
            mn_type: 0,
            platform_http_port: 0,
            platform_node_id: [0; 20],
        }
    }

    /// The cached inner hash is the entry's own, also after its confirmed hash changed.
    #[test]
    fn inner_hashes_follow_the_entry() {
        let mut cache = InnerHashes::default();
        let a = entry(1, 7, true);
        assert_eq!(cache.get(&a), confirmed_hash_with_pro_reg_tx_hash(&a));
        assert_eq!(cache.get(&a), confirmed_hash_with_pro_reg_tx_hash(&a));
        let changed = entry(1, 8, true);
        assert_eq!(
            cache.get(&changed),
            confirmed_hash_with_pro_reg_tx_hash(&changed)
        );
        let m = Hash256([3; 32]);
        assert_eq!(cache.score(&a, &m), score(&a, &m));
    }

    /// Partial selection with cached inner hashes gives the members the full sort gives.
    #[test]
    fn non_rotated_members_match_the_full_sort() {
        let mut list = MasternodeList::empty();
        for i in 0..60u8 {
            // Some invalid and some unconfirmed entries, which are never candidates.
            let e = entry(i, if i % 7 == 0 { 0 } else { i }, i % 5 != 0);
            list.entries.insert(e.pro_reg_tx_hash, Arc::new(e));
        }
        let mut cache = InnerHashes::default();
        for (k, size) in [0usize, 1, 10, 30, 40, 60, 100].into_iter().enumerate() {
            let m = Hash256([k as u8; 32]);
            let mut full = sort_by_score(list.entries.values().filter(|e| is_candidate(e)), &m);
            full.truncate(size);
            let digest = members_digest(&full);
            assert_eq!(
                members_digest(&non_rotated_members_cached(
                    &list, &m, size, false, &mut cache
                )),
                digest,
                "size {size}"
            );
            assert_eq!(
                members_digest(&non_rotated_members(&list, &m, size, false)),
                digest
            );
        }
    }

    /// Core's `GetHashModifier` after V20 (`src/llmq/utils.cpp`): `SerializeHash(type,
    /// workHeight, bestCLSignature)` when `GetNonNullCoinbaseChainlock` gives a signature, else
    /// `SerializeHash(type, workBlockHash)`; a non-zero `bestCLSignature` that is not a valid
    /// point is `IsValid() == false` there, so it counts as no ChainLock.
    #[test]
    fn an_undecodable_coinbase_chainlock_counts_as_none_in_the_modifier() {
        let cp = ChainParams::new(Network::Regtest);
        let h = cp.activations().v20 + 100;
        let valid = SecretKey::from_seed(b"cl")
            .sign(&[7; 32], Scheme::Basic)
            .to_bytes(Scheme::Basic);
        let with_cl = modifier(&cp, 100, true, &Hash256::ZERO, Some(&work_list(valid)), h);
        let mut by_height = vec![100u8];
        by_height.extend_from_slice(&(h as i32).to_le_bytes());
        by_height.extend_from_slice(&valid);
        assert_eq!(with_cl, Some(crate::hashes::sha256d(&by_height)));
        let mut by_hash = vec![100u8];
        by_hash.extend_from_slice(&[0x42; 32]);
        let by_hash = crate::hashes::sha256d(&by_hash);
        for bad in [[0u8; 96], [0x55; 96]] {
            assert_eq!(
                modifier(&cp, 100, true, &Hash256::ZERO, Some(&work_list(bad)), h),
                Some(by_hash),
                "{:02x?}",
                &bad[..4]
            );
        }
    }
}
