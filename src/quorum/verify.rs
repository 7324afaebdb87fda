//! Final-commitment verification (PROTOCOL.md §5.3, port of `CFinalCommitment::Verify` with
//! signature checks): structure, members (§7), `membersSig` by secure aggregation of the signers'
//! operator keys, and `quorumSig`.
//!
//! Members are computed from lists the caller holds ([`ListSource`]); when one is missing the
//! verdict is [`Verdict::Unverifiable`] with the exact [`Requirements`], never a guess.

use super::bls::{self, PublicKey, Scheme, Signature};
use super::members;
use crate::chain::HeaderIndex;
use crate::network::ChainParams;
use crate::sml::MasternodeList;
use crate::wire::commitment::FinalCommitment;
use crate::wire::qrinfo::QuorumSnapshot;
use crate::wire::sml_entry::SmlEntry;
use std::sync::Arc;

/// Lists and snapshots available to member computation.
pub trait ListSource {
    /// The verified list at a height (best chain), if held.
    fn list_at(&self, height: u32) -> Option<&MasternodeList>;
    /// The snapshot of the rotation cycle starting at `cycle_height`, if held.
    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot>;
}

/// What member computation for one commitment needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Heights of the lists needed.
    pub list_heights: Vec<u32>,
    /// Cycle heights of the snapshots needed.
    pub snapshot_heights: Vec<u32>,
}

/// Why a commitment is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumFailure {
    /// The LLMQ type is not configured for the network.
    #[error("LLMQ type {0} is not configured for this network")]
    UnknownType(u8),
    /// The quorum's base block is not in the header chain.
    #[error("the quorum's base block is not in the header chain")]
    UnknownBaseBlock,
    /// The commitment version is not the one required at its height.
    #[error("commitment version {got}, expected {expected}")]
    WrongVersion {
        /// Required version.
        expected: u16,
        /// Version found.
        got: u16,
    },
    /// `quorumIndex` does not match the base height (W-10) or is out of range.
    #[error("quorum index {index} does not match base height {height}")]
    WrongIndex {
        /// Index in the commitment.
        index: i16,
        /// Base block height.
        height: u32,
    },
    /// The bitsets do not have `size` bits.
    #[error("bitset sizes {signers}/{valid_members}, expected {size}")]
    WrongBitsetSize {
        /// Signers bits.
        signers: usize,
        /// Valid-members bits.
        valid_members: usize,
        /// Quorum size.
        size: usize,
    },
    /// Fewer than `minSize` signers or valid members (W-11).
    #[error("{signers} signers / {valid_members} valid members, minimum {min_size}")]
    TooFewMembers {
        /// Signers.
        signers: usize,
        /// Valid members.
        valid_members: usize,
        /// Minimum.
        min_size: usize,
    },
    /// The quorum public key is malformed.
    #[error("invalid quorum public key: {0}")]
    InvalidPublicKey(String),
    /// A signature is malformed.
    #[error("invalid {which} encoding: {reason}")]
    InvalidSignatureEncoding {
        /// quorumSig or membersSig.
        which: &'static str,
        /// Why.
        reason: String,
    },
    /// `quorumVvecHash` is zero.
    #[error("null verification vector hash")]
    NullVvecHash,
    /// The type is disabled at the base block: it has no members.
    #[error("LLMQ type is not enabled at the base block, so it has no members")]
    TypeDisabled,
    /// Bits are set for positions beyond the computed members.
    #[error("bits set beyond the {members} computed members")]
    BitsBeyondMembers {
        /// Number of members computed.
        members: usize,
    },
    /// A signer's operator key is malformed.
    #[error("member {position} has an invalid operator key: {reason}")]
    BadOperatorKey {
        /// Position in the member list.
        position: usize,
        /// Why.
        reason: String,
    },
    /// `membersSig` does not verify against the signers' keys.
    #[error("membersSig does not verify against the signers' operator keys")]
    MembersSigInvalid,
    /// `quorumSig` does not verify against the quorum public key.
    #[error("quorumSig does not verify against the quorum public key")]
    QuorumSigInvalid,
}

/// The result of verifying one commitment.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every check passed.
    Valid {
        /// The decoded quorum public key.
        public_key: PublicKey,
        /// BLS verifications performed.
        bls_verifications: usize,
    },
    /// A check failed.
    Invalid(QuorumFailure),
    /// Member computation needs lists or snapshots that are not held.
    Unverifiable(Requirements),
    /// Not used for the current network configuration (kept for completeness).
    NotApplicable,
}

fn scheme_of(c: &FinalCommitment) -> Scheme {
    if c.is_basic_scheme() {
        Scheme::Basic
    } else {
        Scheme::Legacy
    }
}

/// The cheap steps of §5.3 (type, version, index, bitset sizes, minimum counts).
pub fn check_shape(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
) -> Result<(), QuorumFailure> {
    if !cp.llmq().configured_types.contains(&c.llmq_type) {
        return Err(QuorumFailure::UnknownType(c.llmq_type));
    }
    let p = cp
        .llmq_params(c.llmq_type)
        .ok_or(QuorumFailure::UnknownType(c.llmq_type))?;
    let a = cp.activations();
    let rotated = cp.is_rotation_enabled(c.llmq_type, base_height);
    let basic = base_height + 1 >= a.v19;
    let expected = match (basic, rotated) {
        (false, false) => 1,
        (false, true) => 2,
        (true, false) => 3,
        (true, true) => 4,
    };
    if c.version != expected {
        return Err(QuorumFailure::WrongVersion {
            expected,
            got: c.version,
        });
    }
    let index_ok = c.quorum_index >= 0
        && base_height % p.dkg_interval == c.quorum_index as u32
        && (!rotated || (c.quorum_index as u32) < p.signing_active_quorum_count);
    if !index_ok {
        return Err(QuorumFailure::WrongIndex {
            index: c.quorum_index,
            height: base_height,
        });
    }
    let size = p.size as usize;
    if c.signers.len() != size || c.valid_members.len() != size {
        return Err(QuorumFailure::WrongBitsetSize {
            signers: c.signers.len(),
            valid_members: c.valid_members.len(),
            size,
        });
    }
    let (signers, valid) = (c.signers.count_ones(), c.valid_members.count_ones());
    if signers < p.min_size as usize || valid < p.min_size as usize {
        return Err(QuorumFailure::TooFewMembers {
            signers,
            valid_members: valid,
            min_size: p.min_size as usize,
        });
    }
    if c.quorum_vvec_hash.is_zero() && size != 1 {
        return Err(QuorumFailure::NullVvecHash);
    }
    Ok(())
}

/// Steps 1–7 of §5.3 (no lists needed). Returns the decoded key and signatures.
pub fn check_structure(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
) -> Result<(PublicKey, Signature, Signature), QuorumFailure> {
    check_shape(cp, c, base_height)?;
    let scheme = scheme_of(c);
    let pk = PublicKey::from_bytes(&c.quorum_public_key, scheme)
        .map_err(|e| QuorumFailure::InvalidPublicKey(e.to_string()))?;
    let qsig = Signature::from_bytes(&c.quorum_sig, scheme).map_err(|e| {
        QuorumFailure::InvalidSignatureEncoding {
            which: "quorumSig",
            reason: e.to_string(),
        }
    })?;
    let msig = Signature::from_bytes(&c.members_sig, scheme).map_err(|e| {
        QuorumFailure::InvalidSignatureEncoding {
            which: "membersSig",
            reason: e.to_string(),
        }
    })?;
    Ok((pk, qsig, msig))
}

/// Verifies `quorumSig` alone (possible without any list).
pub fn verify_quorum_sig(c: &FinalCommitment) -> Result<(), QuorumFailure> {
    let scheme = scheme_of(c);
    let pk = PublicKey::from_bytes(&c.quorum_public_key, scheme)
        .map_err(|e| QuorumFailure::InvalidPublicKey(e.to_string()))?;
    let sig = Signature::from_bytes(&c.quorum_sig, scheme).map_err(|e| {
        QuorumFailure::InvalidSignatureEncoding {
            which: "quorumSig",
            reason: e.to_string(),
        }
    })?;
    if bls::verify(&pk, &c.commitment_hash().0, &sig, scheme) {
        Ok(())
    } else {
        Err(QuorumFailure::QuorumSigInvalid)
    }
}

/// The lists and snapshots member computation needs for a commitment based at `base_height`.
pub fn requirements(cp: &ChainParams, c: &FinalCommitment, base_height: u32) -> Requirements {
    members::requirements(cp, c.llmq_type, base_height)
}

/// Full verification of one commitment (§5.3), computing its members from `lists`.
pub fn verify_commitment(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
) -> Verdict {
    verify_commitment_cached(
        cp,
        c,
        base_height,
        headers,
        lists,
        &mut MemberCache::default(),
    )
}

/// Members of rotated cycles already computed, keyed by (type, cycle height): all quorums of a
/// cycle share the same quarters, so a feed computes them once.
#[derive(Default)]
pub struct MemberCache {
    cycles: std::collections::HashMap<(u8, u32), Vec<Vec<Arc<SmlEntry>>>>,
    /// Decoded operator keys: decoding with the subgroup check is the costliest step of
    /// secure aggregation, and a masternode sits in many quorums.
    keys: KeyMap,
    /// Keys decoded elsewhere: by earlier feeds, or on other threads (read-only here).
    known: Vec<Arc<KeyMap>>,
    /// Entries' inner score hashes: non-rotated quorums score the same lists' entries.
    inner: super::selection::InnerHashes,
}

/// An operator key as listed: its 48 bytes and whether they are in the legacy format.
pub type KeyId = ([u8; 48], bool);

/// Decoded operator keys by their 48 bytes and scheme (true = legacy).
pub type KeyMap = std::collections::HashMap<KeyId, PublicKey>;

impl MemberCache {
    /// A cache that also looks keys up in `known` (decoded by earlier feeds).
    pub fn with_known_keys(known: Arc<KeyMap>) -> MemberCache {
        MemberCache {
            known: vec![known],
            ..MemberCache::default()
        }
    }

    /// Also looks keys up in `known` (e.g. decoded on other threads).
    pub fn add_known_keys(&mut self, known: Arc<KeyMap>) {
        self.known.push(known);
    }

    /// The keys this cache decoded itself.
    pub fn into_new_keys(self) -> KeyMap {
        self.keys
    }

    fn key(&self, k: &KeyId) -> Option<&PublicKey> {
        self.keys
            .get(k)
            .or_else(|| self.known.iter().find_map(|m| m.get(k)))
    }
}

/// [`verify_commitment`] reusing rotated-cycle members and decoded keys across calls. Checks
/// both signatures one by one; [`verify_commitments_batched`] is the batched equivalent.
pub fn verify_commitment_cached(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    cache: &mut MemberCache,
) -> Verdict {
    match prepare_commitment_cached(cp, c, base_height, headers, lists, cache) {
        Ok(p) => p.verify(),
        Err(v) => v,
    }
}

/// Every step of [`verify_commitment_cached`] except the two pairing checks: shape, type,
/// members, structure, operator keys and the secure aggregation of the signers' keys. `Err`
/// holds the final verdict (invalid or unverifiable) when it is known without a pairing.
pub fn prepare_commitment_cached(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    cache: &mut MemberCache,
) -> Result<PendingSignatures, Verdict> {
    let members = members_cached(cp, c, base_height, headers, lists, cache)?;
    prepare_members_cached(cp, c, base_height, &members, cache)
}

/// The members of `c`'s quorum (after the shape and type checks), reusing rotated cycles.
pub fn members_cached(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    cache: &mut MemberCache,
) -> Result<Vec<Arc<SmlEntry>>, Verdict> {
    if let Err(e) = check_shape(cp, c, base_height) {
        return Err(Verdict::Invalid(e));
    }
    if !cp.is_type_enabled(c.llmq_type, base_height, &|h| {
        headers.version_and_time_at(h)
    }) {
        return Err(Verdict::Invalid(QuorumFailure::TypeDisabled));
    }
    // Cheap availability check before any point decoding: pending commitments are re-tried on
    // every feed.
    let lacking = members::missing(&members::requirements(cp, c.llmq_type, base_height), lists);
    if !lacking.list_heights.is_empty() || !lacking.snapshot_heights.is_empty() {
        return Err(Verdict::Unverifiable(lacking));
    }
    if cp.is_rotation_enabled(c.llmq_type, base_height) {
        let p = cp.llmq_params(c.llmq_type).expect("checked by check_shape");
        let index = (base_height % p.dkg_interval) as usize;
        let cycle = base_height - index as u32;
        let key = (c.llmq_type, cycle);
        let all = match cache.cycles.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                match members::rotated_cycle_members(cp, c.llmq_type, cycle, lists) {
                    Ok(m) => v.insert(m),
                    Err(req) => return Err(Verdict::Unverifiable(req)),
                }
            }
        };
        Ok(all.get(index).cloned().unwrap_or_default())
    } else {
        members::members_for_cached(
            cp,
            c.llmq_type,
            base_height,
            headers,
            lists,
            &mut cache.inner,
        )
        .map_err(Verdict::Unverifiable)
    }
}

/// Verification of one commitment against an already computed member list.
pub fn verify_with_members(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    members: &[Arc<SmlEntry>],
) -> Verdict {
    match prepare_members_cached(cp, c, base_height, members, &mut MemberCache::default()) {
        Ok(p) => p.verify(),
        Err(v) => v,
    }
}

/// The scheme an operator key of `m` is encoded in, as the cache keys it (true = legacy).
pub fn operator_key_id(m: &SmlEntry) -> KeyId {
    (m.operator_key, m.has_legacy_operator_key())
}

/// Decodes operator keys (with the subgroup check); a key that does not decode is left out
/// (its commitment then fails with [`QuorumFailure::BadOperatorKey`] when it is checked).
pub fn decode_operator_keys(ids: &[KeyId]) -> KeyMap {
    ids.iter()
        .filter_map(|id| {
            let scheme = if id.1 { Scheme::Legacy } else { Scheme::Basic };
            PublicKey::from_bytes(&id.0, scheme).ok().map(|k| (*id, k))
        })
        .collect()
}

impl MemberCache {
    /// The operator keys of `members`' signers for `c` that are not decoded yet (distinct).
    pub fn undecoded_signer_keys(
        &self,
        c: &FinalCommitment,
        members: &[Arc<SmlEntry>],
    ) -> Vec<KeyId> {
        let mut out: Vec<KeyId> = members
            .iter()
            .enumerate()
            .filter(|(i, _)| c.signers.get(*i))
            .map(|(_, m)| operator_key_id(m))
            .filter(|id| self.key(id).is_none())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Every check of one commitment except its two signatures, given its members: structure,
/// bits beyond the members, the signers' operator keys, their secure aggregation.
pub fn prepare_members_cached(
    cp: &ChainParams,
    c: &FinalCommitment,
    base_height: u32,
    members: &[Arc<SmlEntry>],
    cache: &mut MemberCache,
) -> Result<PendingSignatures, Verdict> {
    let (pk, qsig, msig) = check_structure(cp, c, base_height).map_err(Verdict::Invalid)?;
    for i in members.len()..c.signers.len() {
        if c.signers.get(i) || c.valid_members.get(i) {
            return Err(Verdict::Invalid(QuorumFailure::BitsBeyondMembers {
                members: members.len(),
            }));
        }
    }
    let scheme = scheme_of(c);
    let msg = c.commitment_hash().0;
    let mut keys = Vec::with_capacity(members.len());
    for (i, m) in members.iter().enumerate() {
        if !c.signers.get(i) {
            continue;
        }
        let id = operator_key_id(m);
        if let Some(k) = cache.key(&id) {
            keys.push(*k);
            continue;
        }
        let key_scheme = if id.1 { Scheme::Legacy } else { Scheme::Basic };
        match PublicKey::from_bytes(&m.operator_key, key_scheme) {
            Ok(k) => {
                cache.keys.insert(id, k);
                keys.push(k)
            }
            Err(e) => {
                return Err(Verdict::Invalid(QuorumFailure::BadOperatorKey {
                    position: i,
                    reason: e.to_string(),
                }))
            }
        }
    }
    // What Core's `Verify` does for `membersSig`: the one member's key for a size-1 quorum,
    // else the secure aggregate of the signers' keys. A failed aggregation (no key, identity)
    // means the signature cannot verify.
    let members_key = if cp.llmq_params(c.llmq_type).is_some_and(|p| p.size == 1) {
        (keys.len() == 1).then(|| keys[0])
    } else {
        bls::secure_aggregate_key(&keys, scheme).ok()
    };
    let Some(members_key) = members_key else {
        return Err(Verdict::Invalid(QuorumFailure::MembersSigInvalid));
    };
    Ok(PendingSignatures {
        scheme,
        msg,
        public_key: pk,
        quorum_sig: qsig,
        members_key,
        members_sig: msig,
    })
}

/// The two signature checks left for a commitment whose other checks passed (see
/// [`prepare_commitment_cached`]): `membersSig` by the signers' aggregated key and `quorumSig`
/// by the quorum public key, both over the commitment hash.
#[derive(Debug, Clone)]
pub struct PendingSignatures {
    scheme: Scheme,
    msg: [u8; 32],
    public_key: PublicKey,
    quorum_sig: Signature,
    members_key: PublicKey,
    members_sig: Signature,
}

/// Signatures a [`Verdict::Valid`] stands for: `membersSig` and `quorumSig`.
pub const SIGNATURES_PER_COMMITMENT: usize = 2;

impl PendingSignatures {
    /// The commitment's scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Verifies both signatures one by one (two pairing checks), `membersSig` first as Core does.
    pub fn verify(&self) -> Verdict {
        let members_ok = bls::verify(&self.members_key, &self.msg, &self.members_sig, self.scheme);
        let quorum_ok =
            members_ok && bls::verify(&self.public_key, &self.msg, &self.quorum_sig, self.scheme);
        self.verdict(members_ok, quorum_ok)
    }

    /// The verdict once each signature's result is known (`membersSig` is reported first).
    fn verdict(&self, members_ok: bool, quorum_ok: bool) -> Verdict {
        if !members_ok {
            Verdict::Invalid(QuorumFailure::MembersSigInvalid)
        } else if !quorum_ok {
            Verdict::Invalid(QuorumFailure::QuorumSigInvalid)
        } else {
            Verdict::Valid {
                public_key: self.public_key,
                bls_verifications: SIGNATURES_PER_COMMITMENT,
            }
        }
    }
}

/// What a batched verification did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Signatures checked (two per commitment that reached the signature checks).
    pub signatures: usize,
    /// Multi-pairings computed: one per scheme present when every signature holds, more when
    /// a failing batch is bisected to find the bad signatures.
    pub batches: usize,
    /// Miller loops computed (one per distinct message, plus one per multi-pairing).
    pub miller_loops: usize,
}

impl std::ops::AddAssign for BatchStats {
    fn add_assign(&mut self, o: BatchStats) {
        self.signatures += o.signatures;
        self.batches += o.batches;
        self.miller_loops += o.miller_loops;
    }
}

/// Verifies the signatures of many commitments with one multi-pairing per scheme (see
/// [`bls::batch`]). Each verdict is exactly what [`PendingSignatures::verify`] gives for that
/// commitment: a failing batch is bisected until every bad signature is named.
pub fn verify_signatures_batched(pending: &[PendingSignatures]) -> (Vec<Verdict>, BatchStats) {
    let mut stats = BatchStats::default();
    // Per commitment: (membersSig ok, quorumSig ok).
    let mut ok = vec![(true, true); pending.len()];
    for scheme in [Scheme::Basic, Scheme::Legacy] {
        let mut batch = bls::Batch::new(scheme);
        // Check k of the batch belongs to commitment owner[k / 2]; even = membersSig.
        let mut owner = Vec::new();
        for (i, p) in pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.scheme == scheme)
        {
            batch.push(p.members_key, p.msg, p.members_sig);
            batch.push(p.public_key, p.msg, p.quorum_sig);
            owner.push(i);
        }
        if batch.is_empty() {
            continue;
        }
        let (bad, cost) = batch.invalid_with_cost();
        stats.signatures += batch.len();
        stats.batches += cost.pairings;
        stats.miller_loops += cost.miller_loops;
        for k in bad {
            let o = &mut ok[owner[k / 2]];
            if k % 2 == 0 {
                o.0 = false;
            } else {
                o.1 = false;
            }
        }
    }
    let verdicts = pending
        .iter()
        .zip(ok)
        .map(|(p, (m, q))| p.verdict(m, q))
        .collect();
    (verdicts, stats)
}

/// [`verify_commitment_cached`] for many commitments, with every signature checked in one
/// multi-pairing per scheme: the verdicts are the same, in the order of `jobs`
/// (commitment, base height).
pub fn verify_commitments_batched(
    cp: &ChainParams,
    jobs: &[(Arc<FinalCommitment>, u32)],
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    cache: &mut MemberCache,
) -> (Vec<Verdict>, BatchStats) {
    let mut verdicts: Vec<Option<Verdict>> = Vec::with_capacity(jobs.len());
    let mut pending = Vec::new();
    let mut slots = Vec::new();
    for (i, (c, h)) in jobs.iter().enumerate() {
        match prepare_commitment_cached(cp, c, *h, headers, lists, cache) {
            Ok(p) => {
                pending.push(p);
                slots.push(i);
                verdicts.push(None);
            }
            Err(v) => verdicts.push(Some(v)),
        }
    }
    let (checked, stats) = verify_signatures_batched(&pending);
    for (slot, v) in slots.into_iter().zip(checked) {
        verdicts[slot] = Some(v);
    }
    let verdicts = verdicts
        .into_iter()
        .map(|v| v.expect("every job has a verdict"))
        .collect();
    (verdicts, stats)
}
