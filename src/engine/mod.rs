//! The masternode list engine: verified lists and validated quorums by block, fed with
//! `mnlistdiff` and `qrinfo`, able to say exactly which lists it still lacks, and to pick and
//! check the quorum that must have signed a ChainLock or an InstantSend lock (PROTOCOL.md §3.9,
//! §4.6, §8, §9).
//!
//! Pure and I/O-free: block heights and merkle roots come from a caller-supplied
//! [`HeaderIndex`]. Every feed is staged and validated completely before anything is committed;
//! a feed that fails leaves the engine exactly as it was, so nothing that failed validation is
//! ever stored.

pub mod clsigs;
mod locks;
mod missing;
pub mod persist;
mod validate;

pub use clsigs::{ClSigChecks, ClSigsFault};
pub use locks::{select_non_rotated_quorum, LockFailure, LockVerdict};
pub use missing::{ColdStartPlan, MissingLists};
pub use validate::VALIDATION_THREADS;

use crate::chain::HeaderIndex;
use crate::hashes::Hash256;
use crate::network::{ChainParams, Network};
use crate::quorum::bls::PublicKey;
use crate::quorum::params::LlmqConfig;
use crate::quorum::verify::{self, ListSource, QuorumFailure};
use crate::sml::{self, MasternodeList, QuorumKey, SmlError};
use crate::wire::commitment::FinalCommitment;
use crate::wire::mnlistdiff::MnListDiff;
use crate::wire::qrinfo::{QrInfo, QuorumSnapshot};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why a feed was rejected. The engine is unchanged after any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A diff's target block is not in the header chain.
    #[error("block {0} is not in the header chain")]
    UnknownBlock(Hash256),
    /// A diff's base list is not held (nor produced earlier in the same qrinfo).
    #[error("base list {0} is not held")]
    UnknownBase(Hash256),
    /// A diff failed list verification (roots, coinbase proof, CbTx rules).
    #[error("diff to block {block} at height {height} is invalid: {source}")]
    InvalidDiff {
        /// Target block.
        block: Hash256,
        /// Its height.
        height: u32,
        /// What failed.
        #[source]
        source: SmlError,
    },
    /// A commitment failed validation.
    #[error("quorum type {llmq_type} {quorum_hash} is invalid: {reason}")]
    InvalidQuorum {
        /// LLMQ type.
        llmq_type: u8,
        /// Quorum hash.
        quorum_hash: Hash256,
        /// Why.
        reason: QuorumFailure,
    },
    /// Two different commitments were given for the same (type, quorum hash).
    #[error("conflicting commitments for quorum type {llmq_type} {quorum_hash}")]
    ConflictingCommitment {
        /// LLMQ type.
        llmq_type: u8,
        /// Quorum hash.
        quorum_hash: Hash256,
    },
    /// A qrinfo's structure does not match what was asked or what Core builds.
    #[error("malformed qrinfo: {0}")]
    MalformedQrInfo(String),
    /// A diff's `quorumsCLSigs` is not structured as Core builds it (PROTOCOL.md §2.1).
    #[error("quorumsCLSigs of the diff to block {block} at height {height}: {fault}")]
    MalformedQuorumClSigs {
        /// Target block of the diff.
        block: Hash256,
        /// Its height.
        height: u32,
        /// What is wrong.
        fault: ClSigsFault,
    },
    /// A diff's `quorumsCLSigs` gives a quorum a signature other than the `bestCLSignature` of
    /// its work block's CbTx (or a non-null one where Core's rule gives null) (PROTOCOL.md §2.1).
    #[error(
        "quorumsCLSigs of the diff to block {block}: quorum type {llmq_type} {quorum_hash} is \
         given signature {}…, its work block at height {work_height} has {}…",
        hex::encode(.claimed),
        hex::encode(.expected)
    )]
    WrongQuorumClSig {
        /// Target block of the diff.
        block: Hash256,
        /// LLMQ type of the quorum.
        llmq_type: u8,
        /// Quorum hash.
        quorum_hash: Hash256,
        /// Height of its work block (`baseHeight − quorumIndex − 8`; 0 when below genesis).
        work_height: u32,
        /// First 8 bytes of the signature the diff gives.
        claimed: [u8; 8],
        /// First 8 bytes of the signature Core's rule gives (all zero = null).
        expected: [u8; 8],
    },
}

/// What the wallet learns about a validated quorum.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuorumInfo {
    /// LLMQ type id.
    pub llmq_type: u8,
    /// Quorum hash (hash of its base block).
    pub quorum_hash: Hash256,
    /// Height of the base block.
    pub height: u32,
    /// Quorum index (rotated types; 0 otherwise).
    pub index: i16,
    /// Quorum public key in the basic (IETF) encoding.
    #[serde(with = "crate::wire::tx::serde_arr48")]
    pub public_key: [u8; 48],
    /// True when the commitment uses the legacy BLS scheme (pre-V19).
    pub legacy_scheme: bool,
}

/// A validated quorum as held by the engine.
#[derive(Debug, Clone)]
pub struct ValidatedQuorum {
    /// Public facts.
    pub info: QuorumInfo,
    /// The commitment.
    pub commitment: Arc<FinalCommitment>,
    /// Decoded public key (ready for lock verification).
    pub public_key: PublicKey,
}

/// What a successful feed changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedOutcome {
    /// Lists stored by this feed: (height, block hash), ascending.
    pub lists_added: Vec<(u32, Hash256)>,
    /// Quorums validated by this feed (including older pending ones it unblocked).
    pub quorums_validated: Vec<QuorumInfo>,
    /// Commitments seen whose validation still needs lists or snapshots that are not held.
    pub quorums_pending: Vec<QuorumKey>,
    /// Number of BLS signature verifications performed.
    pub bls_verifications: usize,
    /// What was checked of the `quorumsCLSigs` of the diffs applied (PROTOCOL.md §2.1).
    pub cl_sigs: ClSigChecks,
}

/// Which active quorums the engine must validate (and so which lists it asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncProfile {
    /// Every active quorum of every enabled type (ChainLocks, InstantSend, Platform, MNHF).
    #[default]
    Full,
    /// Only what a wallet needs to verify ChainLocks and InstantSend locks: the quorums of the
    /// ChainLocks and InstantSend types. Other quorums stay committed by the verified quorum
    /// root but are not BLS-validated and not reported.
    Wallet,
}

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The network's chain parameters (activation heights, LLMQ types and roles).
    pub params: ChainParams,
    /// Which quorums must be validated.
    pub profile: SyncProfile,
}

impl EngineConfig {
    /// Whether quorums of `llmq_type` are validated under this configuration's profile.
    pub fn wants_type(&self, llmq_type: u8) -> bool {
        match self.profile {
            SyncProfile::Full => true,
            SyncProfile::Wallet => {
                llmq_type == self.llmq().chainlocks || llmq_type == self.llmq().instantsend
            }
        }
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.params.network()
    }

    /// LLMQ types and roles.
    pub fn llmq(&self) -> &LlmqConfig {
        self.params.llmq()
    }
}

impl EngineConfig {
    /// Dash Core's default configuration of a network.
    pub fn for_network(network: Network) -> Self {
        EngineConfig::new(ChainParams::new(network))
    }

    /// The configuration for these chain parameters (full profile).
    pub fn new(params: ChainParams) -> Self {
        EngineConfig {
            params,
            profile: SyncProfile::Full,
        }
    }
}

/// A commitment seen in a verified list whose members could not be computed yet.
#[derive(Debug, Clone)]
struct Pending {
    commitment: Arc<FinalCommitment>,
    /// `None` while the base block is not in the header index (e.g. an old quorum based
    /// before the sync checkpoint): committed by a verified quorum root, not yet BLS-validated.
    base_height: Option<u32>,
}

/// The masternode list engine.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: EngineConfig,
    lists: HashMap<Hash256, Arc<MasternodeList>>,
    by_height: BTreeMap<u32, Hash256>,
    /// Snapshots keyed by cycle height: (cycle block hash, snapshot).
    snapshots: BTreeMap<u32, (Hash256, Arc<QuorumSnapshot>)>,
    quorums: HashMap<QuorumKey, ValidatedQuorum>,
    pending: BTreeMap<QuorumKey, Pending>,
    tip: Option<Hash256>,
    /// Operator keys decoded by earlier feeds (decoding with the subgroup check dominates
    /// validation, and a masternode sits in many quorums). Bounded; saved with the snapshot
    /// (the keys of the entries it stores), so a restart does not decode them again.
    keys: Arc<verify::KeyMap>,
}

/// Decoded operator keys kept between feeds; beyond this the cache starts over.
const MAX_CACHED_KEYS: usize = 65_536;

/// What one feed changes: the lists, snapshots, validated quorums and decoded keys it adds,
/// the pending commitments it leaves and its outcome. Built while the feed is staged, applied
/// by `Engine::commit` once every check has passed.
#[derive(Default)]
struct Delta {
    lists: HashMap<Hash256, Arc<MasternodeList>>,
    by_height: BTreeMap<u32, Hash256>,
    snapshots: BTreeMap<u32, (Hash256, Arc<QuorumSnapshot>)>,
    quorums: HashMap<QuorumKey, ValidatedQuorum>,
    pending: BTreeMap<QuorumKey, Pending>,
    outcome: FeedOutcome,
    new_keys: verify::KeyMap,
}

/// A feed in progress: its [`Delta`] over the engine. Lists and snapshots visible during the
/// feed are the staged ones first, then the engine's.
struct Staged<'a> {
    engine: &'a Engine,
    delta: Delta,
    /// `quorumsCLSigs` claims of the diffs applied, compared once every diff of the feed is in:
    /// (diff block, each new quorum with the signature it is given).
    cl_claims: Vec<(Hash256, Vec<ClClaim>)>,
}

/// One new quorum's `quorumsCLSigs` claim: its key, its `quorumIndex` and the signature given.
type ClClaim = (QuorumKey, i16, [u8; 96]);

impl ListSource for Staged<'_> {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        if let Some(h) = self.delta.by_height.get(&height) {
            return self.delta.lists.get(h).map(|l| l.as_ref());
        }
        self.engine.list_at_height(height)
    }

    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        if let Some((_, s)) = self.delta.snapshots.get(&cycle_height) {
            return Some(s);
        }
        self.engine
            .snapshots
            .get(&cycle_height)
            .map(|(_, s)| s.as_ref())
    }
}

impl ListSource for Engine {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        self.list_at_height(height)
    }

    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        self.snapshots.get(&cycle_height).map(|(_, s)| s.as_ref())
    }
}

impl Staged<'_> {
    fn list_by_hash(&self, h: &Hash256) -> Option<Arc<MasternodeList>> {
        self.delta
            .lists
            .get(h)
            .cloned()
            .or_else(|| self.engine.lists.get(h).cloned())
    }

    /// Applies one diff, verifying it completely against the header chain.
    fn apply(
        &mut self,
        diff: &MnListDiff,
        headers: &dyn HeaderIndex,
    ) -> Result<Arc<MasternodeList>, EngineError> {
        let height = headers
            .height_of(&diff.block_hash)
            .ok_or(EngineError::UnknownBlock(diff.block_hash))?;
        let merkle_root = headers
            .merkle_root_of(&diff.block_hash)
            .ok_or(EngineError::UnknownBlock(diff.block_hash))?;
        let genesis = crate::chain::params::genesis_hash(self.engine.cfg.network());
        let base = if diff.base_block_hash.is_zero() || diff.base_block_hash == genesis {
            Arc::new(MasternodeList::empty())
        } else {
            self.list_by_hash(&diff.base_block_hash)
                .ok_or(EngineError::UnknownBase(diff.base_block_hash))?
        };
        let v24_active = self
            .engine
            .cfg
            .params
            .v24_active_after(height.saturating_sub(1), &|h| {
                headers.version_and_time_at(h)
            });
        let list = sml::apply_and_verify(
            self.engine.cfg.params.activations(),
            v24_active,
            &base,
            diff,
            height,
            Some(merkle_root),
        )
        .map_err(|source| EngineError::InvalidDiff {
            block: diff.block_hash,
            height,
            source,
        })?;
        let claimed =
            clsigs::check_structure(diff, height, self.engine.cfg.params.activations().v20)
                .map_err(|fault| EngineError::MalformedQuorumClSigs {
                    block: diff.block_hash,
                    height,
                    fault,
                })?;
        let claims: Vec<ClClaim> = diff
            .new_quorums
            .iter()
            .zip(claimed)
            .filter_map(|(q, sig)| sig.map(|s| ((q.llmq_type, q.quorum_hash), q.quorum_index, s)))
            .collect();
        if !claims.is_empty() {
            self.cl_claims.push((diff.block_hash, claims));
        }
        let list = Arc::new(list);
        if !self.engine.lists.contains_key(&list.block_hash)
            && !self.delta.lists.contains_key(&list.block_hash)
        {
            self.delta
                .outcome
                .lists_added
                .push((height, list.block_hash));
        }
        self.delta.by_height.insert(height, list.block_hash);
        self.delta.lists.insert(list.block_hash, list.clone());
        // Every new commitment becomes a candidate for validation.
        for q in &diff.new_quorums {
            self.note_commitment(q, headers)?;
        }
        Ok(list)
    }

    /// Compares every `quorumsCLSigs` claim of the diffs applied in this feed with Core's rule
    /// (PROTOCOL.md §2.1): the signature of quorum `q` is the `bestCLSignature` of the CbTx of
    /// the block at `q.baseHeight − q.quorumIndex − 8` (null when that block is below V20 or
    /// its CbTx has none). The work block's CbTx comes from its list, held or applied in this
    /// feed (the list's CbTx is proven by its diff's merkle proof); a claim whose work block
    /// list is not at hand is recorded as unchecked, never judged.
    fn check_cl_claims(&mut self, headers: &dyn HeaderIndex) -> Result<(), EngineError> {
        let v20 = self.engine.cfg.params.activations().v20;
        let claims = std::mem::take(&mut self.cl_claims);
        let mut valid = HashMap::new();
        let mut tally = ClSigChecks::default();
        for (block, quorums) in &claims {
            for &(key, quorum_index, claimed) in quorums {
                let Some(base_height) = headers.height_of(&key.1) else {
                    tally.unchecked.push(key);
                    continue;
                };
                let work = clsigs::work_height(base_height, quorum_index);
                let (expected, from_cbtx) = match work {
                    Some(w) if w >= v20 => {
                        let list = self
                            .list_at(w)
                            .filter(|l| headers.hash_at(w) == Some(l.block_hash));
                        let Some(list) = list else {
                            tally.unchecked.push(key);
                            continue;
                        };
                        (clsigs::expected_signature(list, &mut valid), true)
                    }
                    // Below V20 (or below genesis): Core's `GetNonNullCoinbaseChainlock` gives
                    // no signature, whatever the CbTx.
                    _ => ([0u8; 96], false),
                };
                if claimed != expected {
                    return Err(EngineError::WrongQuorumClSig {
                        block: *block,
                        llmq_type: key.0,
                        quorum_hash: key.1,
                        work_height: work.unwrap_or(0),
                        claimed: clsigs::prefix(&claimed),
                        expected: clsigs::prefix(&expected),
                    });
                }
                if from_cbtx {
                    tally.against_cbtx += 1;
                    if expected != [0u8; 96] {
                        tally.non_null += 1;
                    }
                } else {
                    tally.before_v20 += 1;
                }
            }
        }
        if !claims.is_empty() {
            tracing::debug!(
                against_cbtx = tally.against_cbtx,
                non_null = tally.non_null,
                before_v20 = tally.before_v20,
                unchecked = tally.unchecked.len(),
                "quorumsCLSigs checked"
            );
        }
        self.delta.outcome.cl_sigs.add(&tally);
        Ok(())
    }

    /// Registers a commitment for validation (no-op when already validated or pending).
    fn note_commitment(
        &mut self,
        q: &FinalCommitment,
        headers: &dyn HeaderIndex,
    ) -> Result<(), EngineError> {
        let key = (q.llmq_type, q.quorum_hash);
        let known = self
            .delta
            .quorums
            .get(&key)
            .or_else(|| self.engine.quorums.get(&key))
            .map(|v| v.commitment.clone())
            .or_else(|| self.delta.pending.get(&key).map(|p| p.commitment.clone()));
        if let Some(known) = known {
            if *known != *q {
                return Err(EngineError::ConflictingCommitment {
                    llmq_type: q.llmq_type,
                    quorum_hash: q.quorum_hash,
                });
            }
            return Ok(());
        }
        let base_height = headers.height_of(&q.quorum_hash);
        self.delta.pending.insert(
            key,
            Pending {
                commitment: Arc::new(q.clone()),
                base_height,
            },
        );
        Ok(())
    }
}

impl Engine {
    /// An empty engine.
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            cfg,
            lists: HashMap::new(),
            by_height: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            quorums: HashMap::new(),
            pending: BTreeMap::new(),
            tip: None,
            keys: Arc::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The list at a block, if held.
    pub fn list(&self, block_hash: &Hash256) -> Option<&Arc<MasternodeList>> {
        self.lists.get(block_hash)
    }

    /// The list at a height, if held.
    pub fn list_at_height(&self, height: u32) -> Option<&MasternodeList> {
        self.by_height
            .get(&height)
            .and_then(|h| self.lists.get(h))
            .map(|l| l.as_ref())
    }

    /// Held lists as (height, block hash), ascending.
    pub fn held_lists(&self) -> Vec<(u32, Hash256)> {
        self.by_height.iter().map(|(h, b)| (*h, *b)).collect()
    }

    /// The newest list fed with [`Engine::feed_mnlistdiff`] or as a qrinfo tip.
    pub fn tip_list(&self) -> Option<&Arc<MasternodeList>> {
        self.tip.and_then(|t| self.lists.get(&t))
    }

    /// A validated quorum.
    pub fn quorum(&self, llmq_type: u8, quorum_hash: &Hash256) -> Option<&ValidatedQuorum> {
        self.quorums.get(&(llmq_type, *quorum_hash))
    }

    /// All validated quorums of a type, by height.
    pub fn quorums_of_type(&self, llmq_type: u8) -> Vec<&ValidatedQuorum> {
        let mut v: Vec<&ValidatedQuorum> = self
            .quorums
            .values()
            .filter(|q| q.info.llmq_type == llmq_type)
            .collect();
        v.sort_by_key(|q| (q.info.height, q.info.quorum_hash));
        v
    }

    /// Operator keys decoded and kept for later feeds (a cache, saved with the snapshot).
    pub fn cached_keys(&self) -> usize {
        self.keys.len()
    }

    /// The decoded operator keys kept for later feeds (restored from a snapshot too), e.g. to
    /// validate with [`verify::MemberCache::with_known_keys`].
    pub fn key_cache(&self) -> Arc<verify::KeyMap> {
        self.keys.clone()
    }

    /// Number of validated quorums.
    pub fn validated_count(&self) -> usize {
        self.quorums.len()
    }

    /// Commitments seen but not yet validatable.
    pub fn pending(&self) -> Vec<QuorumKey> {
        self.pending.keys().copied().collect()
    }

    fn stage(&self) -> Staged<'_> {
        Staged {
            engine: self,
            delta: Delta {
                pending: self.pending.clone(),
                ..Delta::default()
            },
            cl_claims: Vec::new(),
        }
    }

    fn commit(&mut self, delta: Delta, new_tip: Option<Hash256>) -> FeedOutcome {
        let Delta {
            lists,
            by_height,
            snapshots,
            quorums,
            pending,
            mut outcome,
            new_keys,
        } = delta;
        if !new_keys.is_empty() {
            if self.keys.len() + new_keys.len() > MAX_CACHED_KEYS {
                self.keys = Arc::default();
            }
            Arc::make_mut(&mut self.keys).extend(new_keys);
        }
        self.lists.extend(lists);
        self.by_height.extend(by_height);
        self.snapshots.extend(snapshots);
        self.quorums.extend(quorums);
        self.pending = pending;
        if let Some(t) = new_tip {
            let newer = match self.tip.and_then(|t| self.lists.get(&t)) {
                Some(cur) => self.lists.get(&t).is_some_and(|n| n.height >= cur.height),
                None => true,
            };
            if newer {
                self.tip = Some(t);
            }
        }
        outcome.lists_added.sort();
        outcome.quorums_pending = self.pending.keys().copied().collect();
        outcome
    }

    /// Feeds one `mnlistdiff`. Its target must be in `headers`; its base must be held (or
    /// zero/genesis). On success the new list is stored and every commitment that can now be
    /// validated is; on any failure the engine is unchanged.
    pub fn feed_mnlistdiff(
        &mut self,
        diff: &MnListDiff,
        headers: &dyn HeaderIndex,
    ) -> Result<FeedOutcome, EngineError> {
        let mut staged = self.stage();
        let list = staged.apply(diff, headers)?;
        staged.check_cl_claims(headers)?;
        staged.validate_pending(headers)?;
        let tip = list.block_hash;
        Ok(self.commit(staged.delta, Some(tip)))
    }

    /// Feeds one `qrinfo`: applies its diffs in Core's build order (W-26), stores its snapshots
    /// by cycle, and validates its rotated commitments and any other commitment whose lists are
    /// now held. All or nothing.
    pub fn feed_qrinfo(
        &mut self,
        q: &QrInfo,
        headers: &dyn HeaderIndex,
    ) -> Result<FeedOutcome, EngineError> {
        let mut staged = self.stage();
        let mut lists = Vec::new();
        for diff in q.diffs_in_application_order() {
            lists.push(staged.apply(diff, headers)?);
        }
        // Work-block heights of the cycle diffs: H−8, H−C−8, …; snapshots belong to cycles.
        let c = self
            .cfg
            .llmq()
            .params(self.cfg.llmq().instantsend)
            .map(|p| p.dkg_interval)
            .ok_or_else(|| EngineError::MalformedQrInfo("no rotated InstantSend type".into()))?;
        let h_work = q_height(&q.mn_list_diff_h, headers)?;
        let h = h_work + 8;
        if h % c != 0 {
            return Err(EngineError::MalformedQrInfo(format!(
                "mnListDiffH targets height {h_work}, which is not a cycle block − 8"
            )));
        }
        let mut expect = vec![
            (&q.mn_list_diff_h_minus_c, &q.snapshot_h_minus_c, 1u32),
            (&q.mn_list_diff_h_minus_2c, &q.snapshot_h_minus_2c, 2),
            (&q.mn_list_diff_h_minus_3c, &q.snapshot_h_minus_3c, 3),
        ];
        if let Some(e) = &q.extra_share {
            expect.push((&e.mn_list_diff_h_minus_4c, &e.snapshot_h_minus_4c, 4));
        }
        for (diff, snap, k) in expect {
            let work = q_height(diff, headers)?;
            if Some(work + 8) != h.checked_sub(k * c) {
                return Err(EngineError::MalformedQrInfo(format!(
                    "diff for H−{k}C targets height {work}, expected {}",
                    h.saturating_sub(k * c).saturating_sub(8)
                )));
            }
            staged.store_snapshot(work + 8, diff.block_hash, snap);
        }
        let mut prev = 0;
        for (diff, snap) in q.mn_list_diff_list.iter().zip(&q.quorum_snapshot_list) {
            let work = q_height(diff, headers)?;
            if (work + 8) % c != 0 || work < prev {
                return Err(EngineError::MalformedQrInfo(format!(
                    "extra diff targets height {work}, not a work block in ascending order"
                )));
            }
            prev = work;
            staged.store_snapshot(work + 8, diff.block_hash, snap);
        }
        for commitment in &q.last_commitment_per_index {
            staged.note_commitment(commitment, headers)?;
        }
        staged.check_cl_claims(headers)?;
        staged.validate_pending(headers)?;
        let tip = lists.last().map(|l| l.block_hash);
        Ok(self.commit(staged.delta, tip))
    }

    /// What lists (and whether a qrinfo) are needed to validate every active quorum at the tip
    /// list. See [`MissingLists`].
    pub fn missing(&self, headers: &dyn HeaderIndex) -> MissingLists {
        missing::compute(self, headers)
    }

    /// A copy without the lists below `height` (validated quorums, snapshots and pending
    /// commitments stay): what can be saved with a header chain that does not hold the headers
    /// below its anchor. Lists are shared, not copied.
    pub fn without_lists_below(&self, height: u32) -> Engine {
        let mut e = self.clone();
        let drop: Vec<(u32, Hash256)> =
            e.by_height.range(..height).map(|(h, b)| (*h, *b)).collect();
        for (h, b) in drop {
            e.by_height.remove(&h);
            e.lists.remove(&b);
        }
        if e.tip.is_some_and(|t| !e.lists.contains_key(&t)) {
            e.tip = e.by_height.values().next_back().copied();
        }
        e
    }

    /// Forgets lists above `height` (after a reorg below them) and every quorum based above it.
    pub fn rewind_to(&mut self, height: u32) {
        let drop: Vec<(u32, Hash256)> = self
            .by_height
            .range(height + 1..)
            .map(|(h, b)| (*h, *b))
            .collect();
        for (h, b) in drop {
            self.by_height.remove(&h);
            self.lists.remove(&b);
        }
        self.snapshots.retain(|h, _| *h <= height);
        self.quorums.retain(|_, q| q.info.height <= height);
        self.pending
            .retain(|_, p| p.base_height.is_none_or(|b| b <= height));
        if self.tip.is_some_and(|t| !self.lists.contains_key(&t)) {
            self.tip = self.by_height.values().next_back().copied();
        }
    }
}

impl Staged<'_> {
    /// Stores the snapshot of the cycle at `cycle_height`, remembering the hash of its work
    /// block (cycle − 8), which is what the qrinfo's diff proved.
    fn store_snapshot(&mut self, cycle_height: u32, work_hash: Hash256, snap: &QuorumSnapshot) {
        self.delta
            .snapshots
            .insert(cycle_height, (work_hash, Arc::new(snap.clone())));
    }
}

fn q_height(diff: &MnListDiff, headers: &dyn HeaderIndex) -> Result<u32, EngineError> {
    headers
        .height_of(&diff.block_hash)
        .ok_or(EngineError::UnknownBlock(diff.block_hash))
}
