//! Validation of a feed's pending commitments, in three phases:
//!
//! 1. [`plan`]: which pending commitments can be validated now, grouped so a rotation cycle
//!    stays on one thread, and packed into one bin per thread;
//! 2. [`run`]: the per-thread work (members, operator key decoding, preparation, batched
//!    pairing), reading the staged view only;
//! 3. [`Staged::apply_checked`]: the validated quorums, the new keys and the first failure
//!    recorded in the staged changes.
//!
//! Member computation and BLS dominate a sync's CPU, so the work runs on up to
//! [`VALIDATION_THREADS`] threads. Any invalid commitment fails the whole feed.

use super::{EngineConfig, EngineError, Pending, QuorumInfo, Staged, ValidatedQuorum};
use crate::chain::HeaderIndex;
use crate::hashes::Hash256;
use crate::network::ChainParams;
use crate::quorum::verify::{self, ListSource, Verdict};
use crate::sml::QuorumKey;
use crate::wire::commitment::FinalCommitment;
use crate::wire::sml_entry::SmlEntry;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Threads used to validate the quorums of one feed (a phone has at least this many cores;
/// the work is split by rotation cycle, so more rarely helps).
pub const VALIDATION_THREADS: usize = 4;

/// One commitment to validate: its key, the commitment and its base height.
type Job = (QuorumKey, Arc<FinalCommitment>, u32);

/// One commitment's verdict: its key, the commitment, its base height and the verdict.
type Checked = (QuorumKey, Arc<FinalCommitment>, u32, Verdict);

impl Staged<'_> {
    /// Validates every pending commitment whose lists are now available (see the module
    /// documentation). Any invalid one fails the whole feed.
    pub(super) fn validate_pending(
        &mut self,
        headers: &dyn HeaderIndex,
    ) -> Result<(), EngineError> {
        let bins = plan(&self.engine.cfg, &self.delta.pending, headers);
        let known = self.engine.keys.clone();
        let checked = run(&self.engine.cfg.params, headers, &*self, known, bins);
        self.apply_checked(checked)
    }

    /// Phase 3: records the new keys, then fails on the first invalid commitment (by base
    /// height, then key) or records every valid one as validated.
    fn apply_checked(&mut self, checked: RunOutput) -> Result<(), EngineError> {
        let RunOutput {
            mut results,
            new_keys,
        } = checked;
        // Kept for later feeds once this one commits.
        self.delta.new_keys.extend(new_keys);
        // Deterministic order of outcomes and of the first failure reported.
        results.sort_by_key(|(key, _, height, _)| (*height, *key));
        if let Some((key, _, _, Verdict::Invalid(reason))) = results
            .iter()
            .find(|(_, _, _, v)| matches!(v, Verdict::Invalid(_)))
        {
            return Err(EngineError::InvalidQuorum {
                llmq_type: key.0,
                quorum_hash: key.1,
                reason: reason.clone(),
            });
        }
        for (key, commitment, base_height, verdict) in results {
            if let Verdict::Valid {
                public_key,
                bls_verifications,
            } = verdict
            {
                self.delta.outcome.bls_verifications += bls_verifications;
                let info = QuorumInfo {
                    llmq_type: commitment.llmq_type,
                    quorum_hash: commitment.quorum_hash,
                    height: base_height,
                    index: commitment.quorum_index,
                    public_key: public_key.to_bytes(crate::quorum::bls::Scheme::Basic),
                    legacy_scheme: !commitment.is_basic_scheme(),
                };
                self.delta.outcome.quorums_validated.push(info.clone());
                self.delta.pending.remove(&key);
                self.delta.quorums.insert(
                    key,
                    ValidatedQuorum {
                        info,
                        commitment,
                        public_key,
                    },
                );
            }
        }
        Ok(())
    }
}

/// Phase 1: the pending commitments that can be validated now (base block known, type wanted
/// by the profile), grouped — rotated quorums of one cycle share their members, so a cycle
/// stays on one thread (its member cache is per thread) — and packed greedily, largest group
/// first, into one bin per thread: `min(VALIDATION_THREADS, cores, groups)`, at least one.
fn plan(
    cfg: &EngineConfig,
    pending: &BTreeMap<QuorumKey, Pending>,
    headers: &dyn HeaderIndex,
) -> Vec<Vec<Job>> {
    let mut groups: BTreeMap<(u8, u32, Hash256), Vec<Job>> = BTreeMap::new();
    for (key, p) in pending {
        let Some(base_height) = p.base_height.or_else(|| headers.height_of(&key.1)) else {
            continue;
        };
        if !cfg.wants_type(key.0) {
            continue;
        }
        let group = match cfg.llmq().params(key.0) {
            Some(par) if cfg.params.is_rotation_enabled(key.0, base_height) => (
                key.0,
                base_height - base_height % par.dkg_interval.max(1),
                Hash256::ZERO,
            ),
            _ => (key.0, base_height, key.1),
        };
        groups
            .entry(group)
            .or_default()
            .push((*key, p.commitment.clone(), base_height));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = VALIDATION_THREADS.min(cores).min(groups.len()).max(1);
    let mut groups: Vec<_> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut bins: Vec<Vec<Job>> = vec![Vec::new(); threads];
    for g in groups {
        if let Some(bin) = bins.iter_mut().min_by_key(|b| b.len()) {
            bin.extend(g);
        }
    }
    bins
}

/// What the threads found: every verdict given (in no particular order) and the operator
/// keys decoded that the engine did not hold.
struct RunOutput {
    results: Vec<Checked>,
    new_keys: verify::KeyMap,
}

/// Phase 2: validates the bins, one per thread. Reads the staged lists and snapshots
/// (`lists`), the header chain and the keys decoded by earlier feeds (`known`); changes
/// nothing of the engine.
fn run(
    cp: &ChainParams,
    headers: &dyn HeaderIndex,
    lists: &(dyn ListSource + Sync),
    known: Arc<verify::KeyMap>,
    bins: Vec<Vec<Job>>,
) -> RunOutput {
    let threads = bins.len();
    let bins: Vec<Mutex<Bin>> = bins
        .into_iter()
        .map(|jobs| {
            Mutex::new(Bin {
                jobs,
                cache: verify::MemberCache::with_known_keys(known.clone()),
                members: Vec::new(),
            })
        })
        .collect();
    // Per bin: the cheap checks and member computation; the signers' operator keys not
    // decoded by an earlier feed.
    let wanted = on_threads(&bins, &|bin: &mut Bin| bin.members(cp, headers, lists));
    let decoded = Arc::new(decode_keys(wanted, threads));
    // Per bin: structure, keys, secure aggregation, then every signature of the bin in one
    // multi-pairing per scheme.
    let outputs = on_threads(&bins, &|bin: &mut Bin| bin.verify(cp, decoded.clone()));
    let mut results = Vec::new();
    let mut new_keys = Arc::unwrap_or_clone(decoded);
    let mut stats = verify::BatchStats::default();
    for (r, k, s) in outputs {
        results.extend(r);
        new_keys.extend(k);
        stats += s;
    }
    tracing::debug!(
        commitments = results.len(),
        signatures = stats.signatures,
        multi_pairings = stats.batches,
        miller_loops = stats.miller_loops,
        "quorum signatures verified in batches"
    );
    RunOutput { results, new_keys }
}

/// Each key wanted decoded once (a masternode sits in quorums of several bins), split evenly
/// over `threads` threads. Keys that do not decode are left out; their commitments fail in
/// [`Bin::verify`] with the member's position.
fn decode_keys(wanted: Vec<Vec<verify::KeyId>>, threads: usize) -> verify::KeyMap {
    let mut wanted: Vec<_> = wanted.into_iter().flatten().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let chunk = wanted.len().div_ceil(threads).max(1);
    let chunks: Vec<Mutex<&[verify::KeyId]>> = wanted.chunks(chunk).map(Mutex::new).collect();
    let mut decoded = verify::KeyMap::new();
    for part in on_threads(&chunks, &|ids: &mut &[verify::KeyId]| {
        verify::decode_operator_keys(ids)
    }) {
        decoded.extend(part);
    }
    decoded
}

/// One thread's share: its jobs, its member cache and the members [`Bin::members`] computed.
struct Bin {
    jobs: Vec<Job>,
    cache: verify::MemberCache,
    members: Vec<Result<Vec<Arc<SmlEntry>>, Verdict>>,
}

impl Bin {
    /// Computes every job's members (or its verdict when that fails) and returns the signers'
    /// operator keys that no cache has decoded.
    fn members(
        &mut self,
        cp: &ChainParams,
        headers: &dyn HeaderIndex,
        lists: &dyn ListSource,
    ) -> Vec<verify::KeyId> {
        let Bin {
            jobs,
            cache,
            members,
        } = self;
        *members = jobs
            .iter()
            .map(|(_, c, h)| verify::members_cached(cp, c, *h, headers, lists, cache))
            .collect();
        jobs.iter()
            .zip(members.iter())
            .filter_map(|((_, c, _), m)| m.as_ref().ok().map(|m| (c, m)))
            .flat_map(|(c, m)| cache.undecoded_signer_keys(c, m))
            .collect()
    }

    /// Prepares every job whose members are known (with the keys `decoded` this feed), then
    /// checks all their signatures in one multi-pairing per scheme; a failing batch is
    /// bisected so each commitment gets exactly the verdict a one-by-one check gives.
    /// Returns the verdicts, the keys this bin decoded itself and the batch statistics.
    fn verify(
        &mut self,
        cp: &ChainParams,
        decoded: Arc<verify::KeyMap>,
    ) -> (Vec<Checked>, verify::KeyMap, verify::BatchStats) {
        self.cache.add_known_keys(decoded);
        let mut verdicts: Vec<Option<Verdict>> = Vec::with_capacity(self.jobs.len());
        let mut pending = Vec::new();
        let mut slots = Vec::new();
        let members = std::mem::take(&mut self.members);
        for (i, ((_, c, h), m)) in self.jobs.iter().zip(members).enumerate() {
            let prepared =
                m.and_then(|m| verify::prepare_members_cached(cp, c, *h, &m, &mut self.cache));
            match prepared {
                Ok(p) => {
                    pending.push(p);
                    slots.push(i);
                    verdicts.push(None);
                }
                Err(v) => verdicts.push(Some(v)),
            }
        }
        let (checked, stats) = verify::verify_signatures_batched(&pending);
        for (slot, v) in slots.into_iter().zip(checked) {
            verdicts[slot] = Some(v);
        }
        let results: Vec<_> = self
            .jobs
            .iter()
            .zip(verdicts)
            .filter_map(|((key, c, h), v)| v.map(|v| (*key, c.clone(), *h, v)))
            .collect();
        let new_keys = std::mem::take(&mut self.cache).into_new_keys();
        (results, new_keys, stats)
    }
}

/// Runs `f` on every item: the first on this thread, each other one on a thread of its own
/// (on this thread too when none can be started). A panic in a worker is re-raised here, as it
/// would be without threads.
fn on_threads<T: Send, R: Send>(items: &[Mutex<T>], f: &(dyn Fn(&mut T) -> R + Sync)) -> Vec<R> {
    let call = |m: &Mutex<T>| f(&mut m.lock().unwrap_or_else(|p| p.into_inner()));
    let Some((first, rest)) = items.split_first() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|m| {
                std::thread::Builder::new()
                    .name("dqs-validate".into())
                    .spawn_scoped(scope, move || call(m))
            })
            .collect();
        let mut out = vec![call(first)];
        for (h, m) in handles.into_iter().zip(rest) {
            out.push(match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => call(m),
            });
        }
        out
    })
}
