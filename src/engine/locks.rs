//! ChainLock (`clsig`) and InstantSend (`isdlock`) verification against the engine's validated
//! quorums (PROTOCOL.md §9, W-18 – W-20).

use super::{Engine, ValidatedQuorum};
use crate::chain::HeaderIndex;
use crate::hashes::{sha256d_parts, Hash256};
use crate::quorum::bls::{self, Scheme, Signature};
use crate::sml::MasternodeList;
use crate::wire::locks::{ClSig, IsDLock};

/// Why a lock is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockFailure {
    /// The signature does not verify under the quorum the rules select.
    #[error("signature does not verify under quorum {quorum_hash} (type {llmq_type})")]
    BadSignature {
        /// Selected quorum type.
        llmq_type: u8,
        /// Selected quorum.
        quorum_hash: Hash256,
    },
    /// The signature bytes are not a valid BLS signature.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The lock is malformed (no inputs, duplicate inputs, zero txid, bad cycle hash…).
    #[error("malformed lock: {0}")]
    Malformed(String),
    /// The ChainLock conflicts with the header chain at that height.
    #[error("ChainLock for {locked} conflicts with best-chain block {ours} at height {height}")]
    ConflictsWithChain {
        /// Height.
        height: u32,
        /// Block the lock signs.
        locked: Hash256,
        /// Our block at that height.
        ours: Hash256,
    },
}

/// The verdict on a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockVerdict {
    /// Valid: signed by this quorum.
    Valid {
        /// The signing quorum's type.
        llmq_type: u8,
        /// The signing quorum.
        quorum_hash: Hash256,
    },
    /// Definitely invalid.
    Invalid(LockFailure),
    /// Cannot be decided with what is held yet (headers, lists or quorum validation missing).
    CannotVerify(String),
}

impl LockVerdict {
    /// True for [`LockVerdict::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, LockVerdict::Valid { .. })
    }
}

impl Engine {
    /// The held list that shows the active set of `llmq_type` at height `at`: the list at the
    /// greatest height `L ≤ at` such that no commitment of that type can have been mined in
    /// `(L, at]` (commitments are only mined inside DKG mining windows).
    pub fn active_set_list(&self, llmq_type: u8, at: u32) -> Option<&MasternodeList> {
        let p = self.cfg.llmq().params(llmq_type)?;
        let (height, hash) = self.by_height.range(..=at).next_back()?;
        let mut x = *height + 1;
        while x <= at {
            let r = x % p.dkg_interval;
            if r >= p.dkg_mining_window_start && r <= p.dkg_mining_window_end {
                return None;
            }
            x += 1;
        }
        self.lists.get(hash).map(|l| l.as_ref())
    }

    /// Verifies a ChainLock (§9.1): quorum set of the ChainLocks type at `height − 8`, the
    /// quorum with the smallest `SHA256d(type ‖ quorumHash ‖ requestId)`, basic-scheme signature
    /// over `SHA256d(type ‖ quorumHash ‖ requestId ‖ blockHash)`.
    /// A lock for a block other than the chain's at that height is reported as
    /// [`LockFailure::ConflictsWithChain`] (for a host asking about its chain); the sync itself
    /// uses [`Engine::verify_clsig_signature`] and lets a valid conflicting lock move the chain.
    pub fn verify_clsig(&self, clsig: &ClSig, headers: &dyn HeaderIndex) -> LockVerdict {
        if clsig.height >= 8 {
            let height = clsig.height as u32;
            if let Some(ours) = headers.hash_at(height) {
                if ours != clsig.block_hash {
                    return LockVerdict::Invalid(LockFailure::ConflictsWithChain {
                        height,
                        locked: clsig.block_hash,
                        ours,
                    });
                }
            }
        }
        self.verify_clsig_signature(clsig)
    }

    /// The signature check of [`Engine::verify_clsig`] alone, whatever block the header chain
    /// holds at the lock's height: the quorum is selected from the set at `height − 8` as
    /// held, so a lock for a block of a competing branch above that height verifies.
    pub fn verify_clsig_signature(&self, clsig: &ClSig) -> LockVerdict {
        let cl_type = self.cfg.llmq().chainlocks;
        if clsig.height < 8 {
            return LockVerdict::Invalid(LockFailure::Malformed(format!(
                "height {} is below the first signable height",
                clsig.height
            )));
        }
        let height = clsig.height as u32;
        let start = height - 8;
        let Some(list) = self.active_set_list(cl_type, start) else {
            return LockVerdict::CannotVerify(format!(
                "no held list shows the ChainLocks quorum set at height {start}"
            ));
        };
        let request_id = clsig.request_id();
        let Some(selected) = select_non_rotated_quorum(list, cl_type, &request_id) else {
            return LockVerdict::CannotVerify("the ChainLocks quorum set is empty".into());
        };
        let Some(quorum) = self.quorums.get(&(cl_type, selected)) else {
            return LockVerdict::CannotVerify(format!(
                "selected quorum {selected} is not validated yet"
            ));
        };
        let sign_hash = clsig.sign_hash(cl_type, &quorum.info.quorum_hash);
        check_signature(quorum, &sign_hash, &clsig.signature)
    }

    /// Verifies an InstantSend lock (§9.3): the cycle from `cycleHash`, sign height from the
    /// tip, the rotated quorum selected by the request id's bits (W-18), trying the current
    /// set then the one `dkgInterval` blocks earlier.
    pub fn verify_islock(
        &self,
        lock: &IsDLock,
        headers: &dyn HeaderIndex,
        tip_height: u32,
    ) -> LockVerdict {
        if let Err(e) = lock.check_trivially_valid() {
            return LockVerdict::Invalid(LockFailure::Malformed(e.to_string()));
        }
        let is_type = self.cfg.llmq().instantsend;
        let Some(p) = self.cfg.llmq().params(is_type) else {
            return LockVerdict::CannotVerify("no InstantSend quorum type configured".into());
        };
        let c = p.dkg_interval;
        let Some(cycle_height) = headers.height_of(&lock.cycle_hash) else {
            return LockVerdict::CannotVerify(format!(
                "cycle block {} is not in the header chain",
                lock.cycle_hash
            ));
        };
        if cycle_height % c != 0 {
            return LockVerdict::Invalid(LockFailure::Malformed(format!(
                "cycle hash is block {cycle_height}, not a cycle boundary"
            )));
        }
        let sign_height = if cycle_height + c < tip_height {
            cycle_height + c - 1
        } else {
            tip_height
        };
        let request_id = lock.request_id();
        let n = p.signing_active_quorum_count.trailing_zeros();
        let b = u64::from_le_bytes(request_id.0[24..32].try_into().expect("8 bytes"));
        let signer = ((b >> (64 - n - 1)) & ((1u64 << n) - 1)) as i16;
        let mut last = LockVerdict::CannotVerify("no quorum set could be determined".into());
        for offset in [0, c] {
            let Some(start) = sign_height.checked_sub(offset) else {
                continue;
            };
            let Some(list) = self.active_set_list(is_type, start) else {
                last = LockVerdict::CannotVerify(format!(
                    "no held list shows the InstantSend quorum set at height {start}"
                ));
                continue;
            };
            let Some(commitment) = list
                .quorums_of_type(is_type)
                .find(|q| q.quorum_index == signer)
            else {
                last = LockVerdict::CannotVerify(format!(
                    "no quorum with index {signer} in the set at {start}"
                ));
                continue;
            };
            let Some(quorum) = self.quorums.get(&(is_type, commitment.quorum_hash)) else {
                last = LockVerdict::CannotVerify(format!(
                    "selected quorum {} is not validated yet",
                    commitment.quorum_hash
                ));
                continue;
            };
            let sign_hash = lock.sign_hash(is_type, &quorum.info.quorum_hash);
            match check_signature(quorum, &sign_hash, &lock.signature) {
                v @ LockVerdict::Valid { .. } => return v,
                v => last = v,
            }
        }
        last
    }
}

/// The quorum of a non-rotated type that must sign `request_id` given the active set in `list`
/// (§9.1 step 3, DIP-0007): the smallest `SHA256d(type ‖ quorumHash ‖ requestId)`.
pub fn select_non_rotated_quorum(
    list: &MasternodeList,
    llmq_type: u8,
    request_id: &Hash256,
) -> Option<Hash256> {
    list.quorums_of_type(llmq_type)
        .map(|c| {
            (
                sha256d_parts(&[&[llmq_type], &c.quorum_hash.0, &request_id.0]),
                c.quorum_hash,
            )
        })
        .min()
        .map(|(_, h)| h)
}

fn check_signature(quorum: &ValidatedQuorum, msg: &Hash256, sig: &[u8; 96]) -> LockVerdict {
    let sig = match Signature::from_bytes(sig, Scheme::Basic) {
        Ok(s) => s,
        Err(e) => return LockVerdict::Invalid(LockFailure::MalformedSignature(e.to_string())),
    };
    if bls::verify(&quorum.public_key, &msg.0, &sig, Scheme::Basic) {
        LockVerdict::Valid {
            llmq_type: quorum.info.llmq_type,
            quorum_hash: quorum.info.quorum_hash,
        }
    } else {
        LockVerdict::Invalid(LockFailure::BadSignature {
            llmq_type: quorum.info.llmq_type,
            quorum_hash: quorum.info.quorum_hash,
        })
    }
}
