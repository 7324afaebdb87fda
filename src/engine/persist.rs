//! The engine's snapshot format (for host-side persistence, `docs/STORAGE.md`) and pruning.
//!
//! Layout (all integers little-endian, counts are compactSize, wire layouts at
//! [`STORAGE_WIRE_VERSION`]), in the storage envelope ([`crate::persist`], kind
//! [`BlobKind::Engine`]):
//! ```text
//! "DQSE" | u16 format (2) | u8 network | chain-parameter fingerprint[32]
//!        | entries[] | commitments[] | lists[] | snapshots[] | validated[] | pending[] | tip?
//!        | [keys[]] | SHA256d(all previous bytes)
//! ```
//! `keys[]` (u32 entry index | y[48], by ascending index; present only when non-empty) holds
//! the operator keys the engine decoded, so a restart does not decode them again.
//! Entries and commitments are stored once (deduplicated by content) and referenced by index
//! from every list that holds them; loading restores the sharing in memory. Loading re-checks the checksum, every count against the
//! bytes present, every index, every list's SML root against its CbTx, decodes every quorum
//! key, and checks every saved operator key's point against its entry's key bytes (on the
//! curve, same x and sign; the subgroup check it passed when first decoded is not repeated);
//! anything wrong is a typed error and nothing is returned.

use super::{Engine, EngineConfig, Pending, ValidatedQuorum};
use crate::engine::QuorumInfo;
use crate::hashes::Hash256;
use crate::persist::{BlobKind, Envelope, EnvelopeError};
use crate::quorum::bls::{PublicKey, Scheme};
use crate::quorum::verify;
use crate::sml::{MasternodeList, QuorumKey};
use crate::wire::codec::{Decode, Encode, Reader, Writer};
use crate::wire::commitment::FinalCommitment;
use crate::wire::qrinfo::QuorumSnapshot;
use crate::wire::sml_entry::SmlEntry;
use crate::wire::tx::CbTx;
use crate::wire::WireError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub use crate::persist::STORAGE_WIRE_VERSION;

/// Format version written and read by this library ([`crate::persist::ENGINE_FORMAT`]).
pub const FORMAT_VERSION: u16 = BlobKind::Engine.version();

/// Why a stored engine snapshot cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersistError {
    /// The envelope is unusable: not an engine snapshot, another format version, network or
    /// chain parameters, a checksum mismatch, too short or too large.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Structurally invalid content (behind a valid checksum).
    #[error("engine snapshot is malformed: {0}")]
    Malformed(String),
}

impl From<WireError> for PersistError {
    fn from(e: WireError) -> Self {
        PersistError::Malformed(e.to_string())
    }
}

impl Engine {
    /// Serializes the engine (lists with shared entries stored once, quorums and their
    /// validation state, snapshots, pending commitments).
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = STORAGE_WIRE_VERSION;
        let env = self.envelope();
        let mut w = Writer::new(p);
        w.bytes(&env.begin(0));
        // Unique entries and commitments.
        let mut entry_ix: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut entries: Vec<&SmlEntry> = Vec::new();
        let mut comm_ix: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut comms: Vec<&FinalCommitment> = Vec::new();
        let lists: Vec<&MasternodeList> = self
            .by_height
            .values()
            .filter_map(|h| self.lists.get(h).map(|l| l.as_ref()))
            .collect();
        let mut list_refs: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        for l in &lists {
            let mut e_refs = Vec::with_capacity(l.entries.len());
            for e in l.entries.values() {
                let ix = *entry_ix.entry(e.to_bytes(p)).or_insert_with(|| {
                    entries.push(e.as_ref());
                    (entries.len() - 1) as u32
                });
                e_refs.push(ix);
            }
            let q_refs = l
                .quorums
                .values()
                .map(|c| intern(c, &mut comm_ix, &mut comms))
                .collect();
            list_refs.push((e_refs, q_refs));
        }
        let mut sorted: Vec<(&QuorumKey, &ValidatedQuorum)> = self.quorums.iter().collect();
        sorted.sort_by_key(|(k, _)| **k);
        let validated: Vec<(u32, &ValidatedQuorum)> = sorted
            .into_iter()
            .map(|(_, v)| (intern(&v.commitment, &mut comm_ix, &mut comms), v))
            .collect();
        let pending: Vec<(u32, Option<u32>)> = self
            .pending
            .values()
            .map(|pd| {
                (
                    intern(&pd.commitment, &mut comm_ix, &mut comms),
                    pd.base_height,
                )
            })
            .collect();
        w.compact_size(entries.len() as u64);
        for e in &entries {
            e.encode(&mut w);
        }
        w.compact_size(comms.len() as u64);
        for c in &comms {
            c.encode(&mut w);
        }
        w.compact_size(lists.len() as u64);
        for (l, (e_refs, q_refs)) in lists.iter().zip(&list_refs) {
            w.u32_le(l.height);
            w.hash(&l.block_hash);
            match &l.cbtx {
                Some(cb) => {
                    w.u8(1);
                    w.var_bytes(&cb.to_bytes(p));
                }
                None => w.u8(0),
            }
            w.compact_size(e_refs.len() as u64);
            for r in e_refs {
                w.u32_le(*r);
            }
            w.compact_size(q_refs.len() as u64);
            for r in q_refs {
                w.u32_le(*r);
            }
        }
        w.compact_size(self.snapshots.len() as u64);
        for (cycle, (hash, s)) in &self.snapshots {
            w.u32_le(*cycle);
            w.hash(hash);
            s.encode(&mut w);
        }
        w.compact_size(validated.len() as u64);
        for (ix, v) in &validated {
            w.u32_le(*ix);
            w.u32_le(v.info.height);
        }
        w.compact_size(pending.len() as u64);
        for (ix, base) in &pending {
            w.u32_le(*ix);
            match base {
                Some(b) => {
                    w.u8(1);
                    w.u32_le(*b);
                }
                None => w.u8(0),
            }
        }
        match self.tip {
            Some(t) => {
                w.u8(1);
                w.hash(&t);
            }
            None => w.u8(0),
        }
        // Decoded operator keys of the stored entries (written only when there are some, so an
        // engine without them keeps the bytes older versions wrote): the entry index and the
        // point's y; the entry's operator key gives x and the scheme.
        let mut keys: Vec<(u32, [u8; 48])> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (ix, e) in entries.iter().enumerate() {
            let id = verify::operator_key_id(e);
            if let Some(k) = self.keys.get(&id) {
                if seen.insert(id) {
                    keys.push((ix as u32, k.y_bytes()));
                }
            }
        }
        if !keys.is_empty() {
            w.compact_size(keys.len() as u64);
            for (ix, y) in &keys {
                w.u32_le(*ix);
                w.bytes(y);
            }
        }
        env.seal(w.into_bytes())
    }

    /// The envelope of this engine's snapshots: its network and chain parameters.
    fn envelope(&self) -> Envelope {
        Envelope::engine(self.cfg.network(), self.cfg.params.fingerprint())
    }

    /// Restores an engine saved by [`Engine::to_bytes`] for `cfg`'s network and chain
    /// parameters.
    pub fn from_bytes(cfg: EngineConfig, bytes: &[u8]) -> Result<Engine, PersistError> {
        let payload = Envelope::engine(cfg.network(), cfg.params.fingerprint()).open(bytes)?;
        let p = STORAGE_WIRE_VERSION;
        let mut r = Reader::new(payload, p);
        let n = r.read_count(crate::wire::sml_entry::MIN_ENTRY_SIZE)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            entries.push(Arc::new(SmlEntry::decode(&mut r)?));
        }
        let n = r.read_count(100)?;
        let mut comms = Vec::with_capacity(n);
        for _ in 0..n {
            comms.push(Arc::new(FinalCommitment::decode(&mut r)?));
        }
        let bad = |m: String| PersistError::Malformed(m);
        let n = r.read_count(4 + 32 + 1 + 2)?;
        let mut lists = HashMap::new();
        let mut by_height = BTreeMap::new();
        for _ in 0..n {
            let height = r.u32_le()?;
            let block_hash = r.hash()?;
            let cbtx = if r.bool()? {
                Some(CbTx::from_bytes(r.var_bytes()?, p)?)
            } else {
                None
            };
            let k = r.read_count(4)?;
            let mut l = MasternodeList {
                block_hash,
                height,
                entries: BTreeMap::new(),
                quorums: BTreeMap::new(),
                cbtx,
            };
            for _ in 0..k {
                let ix = r.u32_le()? as usize;
                let e = entries
                    .get(ix)
                    .ok_or_else(|| bad(format!("entry index {ix} out of range")))?;
                l.entries.insert(e.pro_reg_tx_hash, e.clone());
            }
            let k = r.read_count(4)?;
            for _ in 0..k {
                let ix = r.u32_le()? as usize;
                let c = comms
                    .get(ix)
                    .ok_or_else(|| bad(format!("commitment index {ix} out of range")))?;
                l.quorums.insert((c.llmq_type, c.quorum_hash), c.clone());
            }
            if let Some(cb) = &l.cbtx {
                if l.sml_root() != cb.merkle_root_mn_list {
                    return Err(bad(format!(
                        "list at {height}: SML root does not match its CbTx"
                    )));
                }
            }
            // One list per height and per block, as the engine holds them (`to_bytes` writes
            // the lists by height): a second list at a height would be dropped by the next save
            // and could leave the tip pointing at nothing (found by fuzzing).
            if by_height.insert(height, block_hash).is_some() {
                return Err(bad(format!("two lists at height {height}")));
            }
            if lists.insert(block_hash, Arc::new(l)).is_some() {
                return Err(bad(format!("two lists for block {block_hash}")));
            }
        }
        let n = r.read_count(4 + 32 + 6)?;
        let mut snapshots = BTreeMap::new();
        for _ in 0..n {
            let cycle = r.u32_le()?;
            let hash = r.hash()?;
            let s = QuorumSnapshot::decode(&mut r)?;
            snapshots.insert(cycle, (hash, Arc::new(s)));
        }
        let n = r.read_count(8)?;
        let mut quorums: HashMap<QuorumKey, ValidatedQuorum> = HashMap::new();
        for _ in 0..n {
            let ix = r.u32_le()? as usize;
            let height = r.u32_le()?;
            let c = comms
                .get(ix)
                .ok_or_else(|| bad(format!("commitment index {ix} out of range")))?
                .clone();
            let scheme = if c.is_basic_scheme() {
                Scheme::Basic
            } else {
                Scheme::Legacy
            };
            let public_key = PublicKey::from_bytes(&c.quorum_public_key, scheme)
                .map_err(|e| bad(format!("quorum key: {e}")))?;
            let info = QuorumInfo {
                llmq_type: c.llmq_type,
                quorum_hash: c.quorum_hash,
                height,
                index: c.quorum_index,
                public_key: public_key.to_bytes(Scheme::Basic),
                legacy_scheme: scheme == Scheme::Legacy,
            };
            quorums.insert(
                (c.llmq_type, c.quorum_hash),
                ValidatedQuorum {
                    info,
                    commitment: c,
                    public_key,
                },
            );
        }
        let n = r.read_count(5)?;
        let mut pending = BTreeMap::new();
        for _ in 0..n {
            let ix = r.u32_le()? as usize;
            let base_height = if r.bool()? { Some(r.u32_le()?) } else { None };
            let c = comms
                .get(ix)
                .ok_or_else(|| bad(format!("commitment index {ix} out of range")))?
                .clone();
            pending.insert(
                (c.llmq_type, c.quorum_hash),
                Pending {
                    commitment: c,
                    base_height,
                },
            );
        }
        let tip = if r.bool()? { Some(r.hash()?) } else { None };
        // Decoded operator keys (absent in snapshots written without any, and before they were
        // saved): restored without the square root and subgroup check they passed when this
        // library first decoded them (see `docs/STORAGE.md`).
        let mut keys = verify::KeyMap::new();
        if !r.is_empty() {
            let n = r.read_count(4 + 48)?;
            if n == 0 {
                return Err(bad("empty key section".into()));
            }
            let mut last = None;
            for _ in 0..n {
                let ix = r.u32_le()?;
                let y: [u8; 48] = r.array()?;
                if last.is_some_and(|l| l >= ix) {
                    return Err(bad(format!("key of entry {ix} out of order")));
                }
                last = Some(ix);
                let e = entries
                    .get(ix as usize)
                    .ok_or_else(|| bad(format!("key entry index {ix} out of range")))?;
                let id = verify::operator_key_id(e);
                let scheme = if id.1 { Scheme::Legacy } else { Scheme::Basic };
                let k = PublicKey::from_bytes_and_y(&id.0, scheme, &y)
                    .map_err(|err| bad(format!("operator key of entry {ix}: {err}")))?;
                if keys.insert(id, k).is_some() {
                    return Err(bad(format!("operator key of entry {ix} stored twice")));
                }
            }
        }
        r.finish()?;
        if let Some(t) = tip {
            if !lists.contains_key(&t) {
                return Err(bad("tip list missing".into()));
            }
        }
        Ok(Engine {
            cfg,
            lists,
            by_height,
            snapshots,
            quorums,
            pending,
            tip,
            keys: Arc::new(keys),
        })
    }

    /// Drops lists no longer useful: keeps the tip, the newest `keep_recent` lists, and every
    /// list the engine will need next (see [`Engine::prune_to_needs`]). Snapshots older than
    /// four cycles below the tip are dropped too. Returns the number of lists dropped.
    pub fn prune(&mut self, keep_recent: usize) -> usize {
        self.prune_with_retention(keep_recent, RETAIN_INACTIVE_BLOCKS)
    }

    /// Drops every list the engine will not need next; what it keeps is derived from what
    /// verification and the next sync pass use, never from a count:
    /// - the tip;
    /// - the lists the ChainLocks of the newest blocks and of the next ones are verified
    ///   against: for every height `x` in `[tip − 2·8, tip]`, the list
    ///   [`Engine::active_set_list`] picks for the ChainLocks type at `x` (a lock for block `h`
    ///   is signed by the set at `h − 8`; the tip moves up to 8 blocks before these are
    ///   superseded), and every held list in that range (as the tip moves they become the
    ///   lists at `tip − 8`);
    /// - the lists an InstantSend lock of the current and the previous cycle is verified
    ///   against (the sets at the tip and one interval below it);
    /// - every list and snapshot the active quorums at the tip are computed from (validated or
    ///   not; for rotated types this is the cycle's `H − 8 − k·C` bases), and those the quorums
    ///   of a DKG whose mining window is still open will be computed from.
    ///
    /// So pruning never creates a need ([`Engine::missing`] is the same before and after) and
    /// nothing pruned is fetched again while following the tip. Returns the number of lists
    /// dropped.
    pub fn prune_to_needs(&mut self) -> usize {
        self.prune_with_retention(0, RETAIN_INACTIVE_BLOCKS)
    }

    /// Heights of held lists the ChainLock and InstantSend verifications of recent and upcoming
    /// locks use (see [`Engine::prune_to_needs`]).
    fn lock_list_heights(&self, tip: u32) -> BTreeSet<u32> {
        /// ChainLocks are signed by the quorum set this many blocks below the locked block.
        const CL_OFFSET: u32 = 8;
        let mut keep = BTreeSet::new();
        let low = tip.saturating_sub(2 * CL_OFFSET);
        keep.extend(self.by_height.range(low..=tip).map(|(h, _)| *h));
        let cl_type = self.cfg.llmq().chainlocks;
        for x in low..=tip {
            if let Some(l) = self.active_set_list(cl_type, x) {
                keep.insert(l.height);
            }
        }
        let is_type = self.cfg.llmq().instantsend;
        if let Some(c) = self
            .cfg
            .llmq()
            .params(is_type)
            .map(|p| p.dkg_interval)
            .filter(|c| *c > 0)
        {
            for x in [Some(tip), tip.checked_sub(c)].into_iter().flatten() {
                if let Some(l) = self.active_set_list(is_type, x) {
                    keep.insert(l.height);
                }
            }
        }
        keep
    }

    /// [`Engine::prune`] keeping validated quorums that left the active set for
    /// `retain_inactive` blocks after their base block (instead of [`RETAIN_INACTIVE_BLOCKS`]).
    pub fn prune_with_retention(&mut self, keep_recent: usize, retain_inactive: u32) -> usize {
        let Some(tip) = self.tip_list().cloned() else {
            return 0;
        };
        let mut keep: BTreeSet<u32> = self
            .by_height
            .keys()
            .rev()
            .take(keep_recent)
            .copied()
            .collect();
        keep.insert(tip.height);
        keep.extend(self.lock_list_heights(tip.height));
        let mut keep_snaps = BTreeSet::new();
        for (key, c) in &tip.quorums {
            if !self.cfg.wants_type(key.0) {
                // Not validated under this profile: its lists are not needed.
                continue;
            }
            let base = self
                .quorums
                .get(key)
                .map(|v| v.info.height)
                .or_else(|| self.pending.get(key).and_then(|p| p.base_height));
            if let Some(base) = base {
                let req = crate::quorum::members::requirements(&self.cfg.params, c.llmq_type, base);
                keep.extend(req.list_heights);
                keep_snaps.extend(req.snapshot_heights);
            }
        }
        // The DKG whose commitments may still be mined: its quorums will need these lists
        // and snapshots as soon as they appear in a tip list (the rotation bases H − 8 − k·C).
        for &t in &self.cfg.llmq().configured_types {
            if !self.cfg.wants_type(t) {
                continue;
            }
            let Some(p) = self.cfg.llmq().params(t).filter(|p| p.dkg_interval > 0) else {
                continue;
            };
            let newest = tip.height - tip.height % p.dkg_interval;
            if newest > 0 && tip.height <= newest + p.dkg_mining_window_end {
                let req = crate::quorum::members::requirements(&self.cfg.params, t, newest);
                keep.extend(req.list_heights);
                keep_snaps.extend(req.snapshot_heights);
            }
        }
        let drop: Vec<(u32, Hash256)> = self
            .by_height
            .iter()
            .filter(|(h, _)| !keep.contains(h))
            .map(|(h, b)| (*h, *b))
            .collect();
        for (h, b) in &drop {
            self.by_height.remove(h);
            self.lists.remove(b);
        }
        let oldest_needed = keep_snaps.iter().next().copied().unwrap_or(u32::MAX);
        self.snapshots
            .retain(|h, _| *h >= oldest_needed || keep_snaps.contains(h));
        // Commitments no longer in the tip's quorum set are never validated later; validated
        // quorums that left it are kept for a while (a lock for a recent block may name them),
        // so neither grows without bound as the chain moves.
        self.pending.retain(|k, _| tip.quorums.contains_key(k));
        self.quorums.retain(|k, q| {
            tip.quorums.contains_key(k)
                || q.info.height.saturating_add(retain_inactive) >= tip.height
        });
        drop.len()
    }
}

/// Blocks a validated quorum is kept after it left the active set (4 × 576 blocks, about four
/// days on mainnet).
pub const RETAIN_INACTIVE_BLOCKS: u32 = 2304;

/// Index of `c` in the table of unique commitments (by content), adding it if new.
fn intern<'a>(
    c: &'a Arc<FinalCommitment>,
    ix: &mut HashMap<Vec<u8>, u32>,
    table: &mut Vec<&'a FinalCommitment>,
) -> u32 {
    *ix.entry(c.to_bytes(STORAGE_WIRE_VERSION))
        .or_insert_with(|| {
            table.push(c.as_ref());
            (table.len() - 1) as u32
        })
}

/// A small engine holding one or more of everything the snapshot format stores, for the
/// storage-compatibility tests (`src/store/state.rs`).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::quorum::bls::SecretKey;
    use crate::wire::codec::BitSet;
    use crate::wire::sml_entry::NetInfo;
    use crate::wire::tx::BestChainLock;

    fn entry(tag: u8, evo: bool) -> SmlEntry {
        let mut service = [0u8; 18];
        service[10] = 0xff;
        service[11] = 0xff;
        service[12..16].copy_from_slice(&[127, 0, 0, tag]);
        service[16..].copy_from_slice(&19899u16.to_be_bytes());
        SmlEntry {
            version: 2,
            pro_reg_tx_hash: Hash256([tag; 32]),
            confirmed_hash: Hash256([tag.wrapping_add(1); 32]),
            net_info: NetInfo::Service(service),
            operator_key: SecretKey::from_seed(&[tag; 32])
                .public_key()
                .to_bytes(Scheme::Basic),
            voting_key_id: [tag.wrapping_add(2); 20],
            is_valid: true,
            mn_type: u16::from(evo),
            platform_http_port: if evo { 443 } else { 0 },
            platform_node_id: if evo {
                [tag.wrapping_add(3); 20]
            } else {
                [0; 20]
            },
        }
    }

    fn commitment(
        version: u16,
        llmq_type: u8,
        quorum_hash: Hash256,
        index: i16,
    ) -> FinalCommitment {
        let seed = [llmq_type; 32];
        FinalCommitment {
            version,
            llmq_type,
            quorum_hash,
            quorum_index: index,
            signers: BitSet::from_bools(&[true, true, false]),
            valid_members: BitSet::from_bools(&[true, true, true]),
            quorum_public_key: SecretKey::from_seed(&seed)
                .public_key()
                .to_bytes(Scheme::Basic),
            quorum_vvec_hash: Hash256([0x77; 32]),
            quorum_sig: [0x11; 96],
            members_sig: [0x22; 96],
        }
    }

    /// The engine: lists at heights 2 and 3 of `blocks` (hashes by height, at least 4), a
    /// validated LLMQ_TEST quorum based at 1, a pending LLMQ_TEST_DIP0024 commitment, one
    /// snapshot, tip at 3.
    pub(crate) fn engine(cfg: EngineConfig, blocks: &[Hash256]) -> Engine {
        let (e1, e2) = (Arc::new(entry(0x31, false)), Arc::new(entry(0x41, true)));
        let c1 = Arc::new(commitment(3, 100, blocks[1], 0));
        let c2 = Arc::new(commitment(4, 103, blocks[2], 1));
        let l2 = MasternodeList {
            block_hash: blocks[2],
            height: 2,
            entries: BTreeMap::from([(e1.pro_reg_tx_hash, e1.clone())]),
            quorums: BTreeMap::from([((c1.llmq_type, c1.quorum_hash), c1.clone())]),
            cbtx: None,
        };
        let mut l3 = MasternodeList {
            block_hash: blocks[3],
            height: 3,
            entries: BTreeMap::from([
                (e1.pro_reg_tx_hash, e1.clone()),
                (e2.pro_reg_tx_hash, e2.clone()),
            ]),
            quorums: BTreeMap::from([
                ((c1.llmq_type, c1.quorum_hash), c1.clone()),
                ((c2.llmq_type, c2.quorum_hash), c2.clone()),
            ]),
            cbtx: None,
        };
        l3.cbtx = Some(CbTx {
            version: 3,
            height: 3,
            merkle_root_mn_list: l3.sml_root(),
            merkle_root_quorums: Some(l3.quorum_root()),
            best_cl: Some(BestChainLock {
                height_diff: 1,
                signature: [0x33; 96],
            }),
            credit_pool_balance: Some(1_000),
            merkle_root_asset_unlocks: None,
            unknown_fields: Vec::new(),
        });
        let public_key = PublicKey::from_bytes(&c1.quorum_public_key, Scheme::Basic).unwrap();
        let validated = ValidatedQuorum {
            info: QuorumInfo {
                llmq_type: 100,
                quorum_hash: c1.quorum_hash,
                height: 1,
                index: 0,
                public_key: public_key.to_bytes(Scheme::Basic),
                legacy_scheme: false,
            },
            commitment: c1.clone(),
            public_key,
        };
        let snapshot = QuorumSnapshot {
            skip_list_mode: 1,
            active_quorum_members: BitSet::from_bools(&[true, false, true, true]),
            skip_list: vec![2, 1],
        };
        Engine {
            cfg,
            lists: HashMap::from([(blocks[2], Arc::new(l2)), (blocks[3], Arc::new(l3))]),
            by_height: BTreeMap::from([(2, blocks[2]), (3, blocks[3])]),
            snapshots: BTreeMap::from([(3, (blocks[3], Arc::new(snapshot)))]),
            quorums: HashMap::from([((100, c1.quorum_hash), validated)]),
            pending: BTreeMap::from([(
                (103, c2.quorum_hash),
                Pending {
                    commitment: c2,
                    base_height: Some(2),
                },
            )]),
            tip: Some(blocks[3]),
            keys: Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;

    /// The fixture with every entry's operator key decoded, as after a validation.
    fn with_keys(mut engine: Engine) -> Engine {
        let mut keys = verify::KeyMap::new();
        for l in engine.lists.values() {
            for e in l.entries.values() {
                let id = verify::operator_key_id(e);
                let scheme = if id.1 { Scheme::Legacy } else { Scheme::Basic };
                keys.insert(id, PublicKey::from_bytes(&id.0, scheme).unwrap());
            }
        }
        engine.keys = Arc::new(keys);
        engine
    }

    fn fixture_with_keys() -> (EngineConfig, Engine) {
        let cfg = EngineConfig::for_network(Network::Regtest);
        let blocks: Vec<Hash256> = (0..4u8).map(|i| Hash256([i + 1; 32])).collect();
        (cfg.clone(), with_keys(fixture::engine(cfg, &blocks)))
    }

    #[test]
    fn decoded_operator_keys_are_saved_and_restored() {
        let (cfg, engine) = fixture_with_keys();
        assert_eq!(engine.cached_keys(), 2);
        let bytes = engine.to_bytes();
        let back = Engine::from_bytes(cfg.clone(), &bytes).unwrap();
        assert_eq!(*back.keys, *engine.keys);
        assert_eq!(back.to_bytes(), bytes);
        // Without keys, no section: the bytes older versions wrote (and read back).
        let mut bare = engine.clone();
        bare.keys = Arc::default();
        let old = bare.to_bytes();
        assert_eq!(old.len() + 1 + 2 * (4 + 48), bytes.len());
        assert_eq!(Engine::from_bytes(cfg, &old).unwrap().cached_keys(), 0);
    }

    /// `p − y`: the y of the other point with the same x.
    fn negated(y: &[u8; 48]) -> [u8; 48] {
        let p = hex::decode(
            "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
        )
        .unwrap();
        let mut out = [0u8; 48];
        let mut borrow = 0i16;
        for i in (0..48).rev() {
            let d = i16::from(p[i]) - i16::from(y[i]) - borrow;
            borrow = i16::from(d < 0);
            out[i] = (d + 256 * borrow) as u8;
        }
        out
    }

    /// A saved key whose point is not the one its entry's bytes decode to is refused, even
    /// behind a valid checksum: the same x with the other y, a y off the curve, another entry.
    #[test]
    fn a_saved_key_that_is_not_its_entrys_point_is_refused() {
        let (cfg, engine) = fixture_with_keys();
        let env = Envelope::engine(cfg.network(), cfg.params.fingerprint());
        let bytes = engine.to_bytes();
        let payload = env.open(&bytes).unwrap().to_vec();
        // The section is at the end: count, then (u32 index, y[48]) twice.
        let section = payload.len() - 2 * 52;
        assert_eq!(payload[section - 1], 2);
        let y_at = section + 4;
        let y: [u8; 48] = payload[y_at..y_at + 48].try_into().unwrap();
        let tampered = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut p = payload.clone();
            f(&mut p);
            Engine::from_bytes(cfg.clone(), &env.wrap(&p))
        };
        let err = tampered(&|p| p[y_at..y_at + 48].copy_from_slice(&negated(&y))).unwrap_err();
        assert!(err.to_string().contains("operator key of entry"), "{err}");
        let err = tampered(&|p| p[y_at + 47] ^= 1).unwrap_err();
        assert!(err.to_string().contains("operator key of entry"), "{err}");
        // Both saved ys swapped: each is the other entry's point.
        let err = tampered(&|p| {
            let other: Vec<u8> = p[y_at + 52..y_at + 100].to_vec();
            p.copy_within(y_at..y_at + 48, y_at + 52);
            p[y_at..y_at + 48].copy_from_slice(&other);
        })
        .unwrap_err();
        assert!(err.to_string().contains("operator key of entry"), "{err}");
        let err = tampered(&|p| p[section..section + 4].copy_from_slice(&99u32.to_le_bytes()))
            .unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        // Untouched, it loads.
        assert!(tampered(&|_| {}).is_ok());
    }

    /// Two lists at one height (a snapshot the engine never writes): refused when loading, so a
    /// loaded engine always saves to a snapshot that loads again (fuzz finding: the second
    /// list was dropped by the next save and the tip pointed at nothing).
    #[test]
    fn a_snapshot_with_two_lists_at_one_height_is_refused() {
        let cfg = EngineConfig::for_network(Network::Regtest);
        let blocks: Vec<Hash256> = (0..4u8).map(|i| Hash256([i + 1; 32])).collect();
        let engine = fixture::engine(cfg.clone(), &blocks);
        let env = Envelope::engine(cfg.network(), cfg.params.fingerprint());
        let bytes = engine.to_bytes();
        assert!(Engine::from_bytes(cfg.clone(), &bytes).is_ok());
        // The list record at height 3 (u32 height, then its block hash) moved to height 2.
        let mut payload = env.open(&bytes).unwrap().to_vec();
        let mut record = 3u32.to_le_bytes().to_vec();
        record.extend_from_slice(&blocks[3].0);
        let at = payload
            .windows(record.len())
            .position(|w| w == record.as_slice())
            .expect("the list record at height 3");
        payload[at..at + 4].copy_from_slice(&2u32.to_le_bytes());
        let err = Engine::from_bytes(cfg, &env.wrap(&payload)).unwrap_err();
        assert!(err.to_string().contains("two lists at height 2"), "{err}");
    }
}
