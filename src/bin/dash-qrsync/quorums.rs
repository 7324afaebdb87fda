//! Quorum validation for `verify`: an offline header index built from the input (and an optional
//! `--headers` file), the lists and snapshots the input carries, and one verdict per commitment.

use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::ChainParams;
use dash_qrsync::quorum::verify::{self, ListSource, Verdict};
use dash_qrsync::sml::MasternodeList;
use dash_qrsync::wire::commitment::FinalCommitment;
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::wire::qrinfo::QuorumSnapshot;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Where a block's merkle root came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// A real 80-byte header (X11-hashed, linked).
    Header,
    /// The diff's own coinbase proof (not independent evidence).
    OwnProof,
}

/// Block heights, hashes and merkle roots known offline.
#[derive(Default)]
pub struct OfflineHeaders {
    height: HashMap<Hash256, u32>,
    hash: BTreeMap<u32, Hash256>,
    merkle: HashMap<Hash256, (Hash256, RootSource)>,
}

impl OfflineHeaders {
    /// Records a diff's block: its CbTx height and (if proven) the coinbase proof's root.
    pub fn add_diff_block(&mut self, height: u32, hash: Hash256, pmt_root: Option<Hash256>) {
        self.height.entry(hash).or_insert(height);
        self.hash.entry(height).or_insert(hash);
        if let Some(r) = pmt_root {
            self.merkle.entry(hash).or_insert((r, RootSource::OwnProof));
        }
    }

    /// The merkle root of a block from a real header, if one was loaded.
    pub fn header_root(&self, hash: &Hash256) -> Option<Hash256> {
        match self.merkle.get(hash) {
            Some((r, RootSource::Header)) => Some(*r),
            _ => None,
        }
    }

    /// Loads a file of concatenated 80-byte headers (ascending, linked). Heights are anchored
    /// by any header whose block the input already places at a height (a diff's CbTx height).
    pub fn load_headers_file(
        &mut self,
        path: &Path,
        anchors: &OfflineHeaders,
    ) -> Result<usize, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if bytes.is_empty() || bytes.len() % 80 != 0 {
            return Err(format!(
                "{}: {} bytes is not a concatenation of 80-byte headers",
                path.display(),
                bytes.len()
            ));
        }
        let headers: Vec<BlockHeader> = bytes
            .chunks_exact(80)
            .map(|c| BlockHeader::from_array(c.try_into().expect("80 bytes")))
            .collect();
        let hashes: Vec<Hash256> = headers.iter().map(|h| h.block_hash()).collect();
        for i in 1..headers.len() {
            if headers[i].prev_block_hash != hashes[i - 1] {
                return Err(format!("header {i} does not link to header {}", i - 1));
            }
        }
        let anchor = hashes
            .iter()
            .enumerate()
            .find_map(|(i, h)| anchors.height.get(h).map(|height| (i, *height)));
        let Some((i, height)) = anchor else {
            return Err(
                "no header in the file is a block of the input, so heights are unknown".into(),
            );
        };
        let Some(first) = height.checked_sub(i as u32) else {
            return Err("the anchor block's height is lower than its position in the file".into());
        };
        for (k, (h, hash)) in headers.iter().zip(&hashes).enumerate() {
            let height = first + k as u32;
            self.height.insert(*hash, height);
            self.hash.insert(height, *hash);
            self.merkle
                .insert(*hash, (h.merkle_root, RootSource::Header));
        }
        Ok(headers.len())
    }
}

impl HeaderIndex for OfflineHeaders {
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.height.get(hash).copied()
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.hash.get(&height).copied()
    }
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256> {
        self.merkle.get(hash).map(|(r, _)| *r)
    }
}

/// Lists and snapshots carried by the input.
#[derive(Default)]
pub struct OfflineLists {
    /// Verified lists by height.
    pub lists: BTreeMap<u32, MasternodeList>,
    /// Snapshots by cycle height.
    pub snapshots: BTreeMap<u32, QuorumSnapshot>,
}

impl ListSource for OfflineLists {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        self.lists.get(&height)
    }
    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        self.snapshots.get(&cycle_height)
    }
}

/// Validates each distinct commitment; returns the JSON report and the number that failed.
pub fn validate(
    cfg: &ChainParams,
    commitments: &[FinalCommitment],
    headers: &OfflineHeaders,
    lists: &OfflineLists,
) -> (Value, usize) {
    let mut seen: HashMap<(u8, Hash256), &FinalCommitment> = HashMap::new();
    let (mut valid, mut failed, mut unverifiable) = (0usize, Vec::new(), Vec::new());
    let mut bls = 0usize;
    for c in commitments {
        let id = json!({"type": c.llmq_type, "quorum_hash": c.quorum_hash.to_string(),
                        "index": c.quorum_index});
        if let Some(first) = seen.get(&(c.llmq_type, c.quorum_hash)) {
            if *first != c {
                failed.push(json!({"quorum": id,
                    "reason": "two different commitments for the same quorum in one input"}));
            }
            continue;
        }
        seen.insert((c.llmq_type, c.quorum_hash), c);
        let Some(base) = headers.height_of(&c.quorum_hash) else {
            // Without the base height only quorumSig can be checked.
            match verify::verify_quorum_sig(c) {
                Ok(()) => unverifiable.push(json!({"quorum": id, "quorum_sig": "valid",
                    "why": "base block not in the input; pass --headers to compute members"})),
                Err(e) => failed.push(json!({"quorum": id, "reason": e.to_string()})),
            }
            continue;
        };
        match verify::verify_commitment(cfg, c, base, headers, lists) {
            Verdict::Valid {
                bls_verifications, ..
            } => {
                valid += 1;
                bls += bls_verifications;
            }
            Verdict::Invalid(e) => failed.push(json!({"quorum": id, "height": base,
                                                      "reason": e.to_string()})),
            Verdict::Unverifiable(req) => unverifiable.push(json!({"quorum": id, "height": base,
                "why": "lists or snapshots absent from the input",
                "needs_lists": req.list_heights, "needs_snapshots": req.snapshot_heights})),
            Verdict::NotApplicable => {}
        }
    }
    let n_failed = failed.len();
    (
        json!({
            "checked": seen.len(),
            "validated": valid,
            "failed": n_failed,
            "unverifiable": unverifiable.len(),
            "bls_verifications": bls,
            "failures": failed,
            "unverifiable_detail": unverifiable,
        }),
        n_failed,
    )
}
