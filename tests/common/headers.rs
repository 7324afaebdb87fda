//! A header index built from the vectors: the real header files (with their merkle roots), the
//! block maps of the source repositories, and — for blocks no header file covers — the diffs'
//! own (block hash, CbTx height, proven PMT root). The last source is a test-only shortcut: it
//! makes the coinbase-proof check trivially true for those blocks, which is why the header files
//! are loaded first and always win.

use super::expected::EXPECTED_DIFFS;
use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::hashes::Hash256;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Default)]
pub struct VectorHeaders {
    height: HashMap<Hash256, u32>,
    hash: BTreeMap<u32, Hash256>,
    merkle: HashMap<Hash256, Hash256>,
    /// Number of blocks whose merkle root came from a real header.
    pub real_headers: usize,
}

fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).unwrap()
}

impl VectorHeaders {
    fn insert(&mut self, height: u32, hash: Hash256, merkle: Option<Hash256>) {
        if let Some(&known) = self.height.get(&hash) {
            assert_eq!(known, height, "conflicting heights for {hash}");
        } else {
            self.height.insert(hash, height);
            self.hash.entry(height).or_insert(hash);
        }
        if let Some(m) = merkle {
            self.merkle.entry(hash).or_insert(m);
        }
    }

    /// Declares a block the vectors have no header for (see the callers for why).
    pub fn assume(&mut self, height: u32, hash: Hash256) {
        self.insert(height, hash, None);
    }

    /// Everything the vectors know about `network`'s blocks.
    pub fn load(dir: &Path, network: &str) -> VectorHeaders {
        let mut v = VectorHeaders::default();
        let headers_dir = dir.join(network).join("headers");
        let mut files: Vec<_> = std::fs::read_dir(&headers_dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p.to_string_lossy().contains("ORPHANED")
            })
            .collect();
        files.sort();
        for f in files {
            let j: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            for r in j["headers"].as_array().unwrap() {
                let height = r["height"].as_u64().unwrap() as u32;
                let hash = h(r["hash"].as_str().unwrap());
                v.insert(height, hash, Some(h(r["merkle_root"].as_str().unwrap())));
                v.real_headers += 1;
            }
        }
        let maps = dir.join(network).join("blockmaps");
        for f in std::fs::read_dir(&maps)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
        {
            let j: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            for r in j.as_array().unwrap() {
                let merkle = r.get("merkle_root").and_then(|m| m.as_str()).map(h);
                v.insert(
                    r["height"].as_u64().unwrap() as u32,
                    h(r["hash"].as_str().unwrap()),
                    merkle,
                );
            }
        }
        for e in EXPECTED_DIFFS.iter().filter(|e| e.network == network) {
            v.insert(e.height, h(e.block_hash), Some(h(e.pmt_root)));
        }
        v
    }
}

impl HeaderIndex for VectorHeaders {
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.height.get(hash).copied()
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.hash.get(&height).copied()
    }
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256> {
        self.merkle.get(hash).copied()
    }
}
