//! Partial merkle tree extraction (Core's `CPartialMerkleTree::ExtractMatches`, PROTOCOL.md §3.3).

use super::SmlError;
use crate::hashes::{sha256d_parts, Hash256};
use crate::wire::tx::PartialMerkleTree;

/// Upper bound on transactions in a block Core accepts in a PMT (2,000,000 / 60).
const MAX_TRANSACTIONS: u32 = 2_000_000 / 60;

/// The result of a successful extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtMatch {
    /// The merkle root the tree commits to.
    pub root: Hash256,
    /// Matched leaves: (position, txid).
    pub matches: Vec<(u32, Hash256)>,
}

struct Walk<'a> {
    pmt: &'a PartialMerkleTree,
    bits_used: usize,
    hashes_used: usize,
    matches: Vec<(u32, Hash256)>,
}

impl Walk<'_> {
    fn width(&self, h: u32) -> u64 {
        (self.pmt.n_transactions as u64 + (1u64 << h) - 1) >> h
    }

    fn bit(&mut self) -> Result<bool, SmlError> {
        let i = self.bits_used;
        if i / 8 >= self.pmt.flags.len() {
            return Err(SmlError::BadMerkleProof("ran out of flag bits".into()));
        }
        self.bits_used += 1;
        Ok((self.pmt.flags[i / 8] >> (i % 8)) & 1 == 1)
    }

    fn hash(&mut self) -> Result<Hash256, SmlError> {
        let h = self
            .pmt
            .hashes
            .get(self.hashes_used)
            .copied()
            .ok_or_else(|| SmlError::BadMerkleProof("ran out of hashes".into()))?;
        self.hashes_used += 1;
        Ok(h)
    }

    fn traverse(&mut self, h: u32, pos: u64) -> Result<Hash256, SmlError> {
        let flag = self.bit()?;
        if h == 0 || !flag {
            let hash = self.hash()?;
            if h == 0 && flag {
                self.matches.push((pos as u32, hash));
            }
            return Ok(hash);
        }
        let left = self.traverse(h - 1, pos * 2)?;
        let right = if pos * 2 + 1 < self.width(h - 1) {
            let r = self.traverse(h - 1, pos * 2 + 1)?;
            if r == left {
                return Err(SmlError::BadMerkleProof(
                    "identical left and right hashes (mutated tree)".into(),
                ));
            }
            r
        } else {
            left
        };
        Ok(sha256d_parts(&[&left.0, &right.0]))
    }
}

/// Extracts the root and matched leaves, with every structural check Core performs.
pub fn extract(pmt: &PartialMerkleTree) -> Result<PmtMatch, SmlError> {
    if pmt.n_transactions == 0 {
        return Err(SmlError::BadMerkleProof("zero transactions".into()));
    }
    if pmt.n_transactions > MAX_TRANSACTIONS {
        return Err(SmlError::BadMerkleProof(format!(
            "{} transactions is more than a block can hold",
            pmt.n_transactions
        )));
    }
    if pmt.hashes.len() as u64 > pmt.n_transactions as u64 {
        return Err(SmlError::BadMerkleProof(
            "more hashes than transactions".into(),
        ));
    }
    if pmt.flags.len() * 8 < pmt.hashes.len() {
        return Err(SmlError::BadMerkleProof(
            "fewer flag bits than hashes".into(),
        ));
    }
    let mut w = Walk {
        pmt,
        bits_used: 0,
        hashes_used: 0,
        matches: Vec::new(),
    };
    let mut height = 0;
    while w.width(height) > 1 {
        height += 1;
    }
    let root = w.traverse(height, 0)?;
    if w.hashes_used != pmt.hashes.len() {
        return Err(SmlError::BadMerkleProof("not all hashes were used".into()));
    }
    if w.bits_used.div_ceil(8) != pmt.flags.len() {
        return Err(SmlError::BadMerkleProof(
            "not all flag bytes were used".into(),
        ));
    }
    Ok(PmtMatch {
        root,
        matches: w.matches,
    })
}

/// Verifies that the tree proves exactly `coinbase_txid` at position 0 and returns its root.
pub fn verify_coinbase_proof(
    pmt: &PartialMerkleTree,
    coinbase_txid: &Hash256,
) -> Result<Hash256, SmlError> {
    let m = extract(pmt)?;
    match m.matches.as_slice() {
        [(0, txid)] if txid == coinbase_txid => Ok(m.root),
        [(0, _)] => Err(SmlError::BadMerkleProof(
            "the matched leaf is not the coinbase txid".into(),
        )),
        other => Err(SmlError::BadMerkleProof(format!(
            "expected exactly one match at position 0, got {} match(es)",
            other.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashes::{merkle_root, sha256d};

    /// Builds the PMT Core would send for a block of `n` transactions matching index 0.
    fn build(txids: &[Hash256]) -> PartialMerkleTree {
        fn width(n: usize, h: u32) -> usize {
            (n + (1 << h) - 1) >> h
        }
        fn calc(txids: &[Hash256], h: u32, pos: usize) -> Hash256 {
            if h == 0 {
                return txids[pos];
            }
            let l = calc(txids, h - 1, pos * 2);
            let r = if pos * 2 + 1 < width(txids.len(), h - 1) {
                calc(txids, h - 1, pos * 2 + 1)
            } else {
                l
            };
            sha256d_parts(&[&l.0, &r.0])
        }
        fn go(
            txids: &[Hash256],
            h: u32,
            pos: usize,
            bits: &mut Vec<bool>,
            hashes: &mut Vec<Hash256>,
        ) {
            // Only leaf 0 is matched: a node has a match below it iff pos << h == 0.
            let parent_of_match = (pos << h) == 0;
            bits.push(parent_of_match);
            if h == 0 || !parent_of_match {
                hashes.push(calc(txids, h, pos));
            } else {
                go(txids, h - 1, pos * 2, bits, hashes);
                if pos * 2 + 1 < width(txids.len(), h - 1) {
                    go(txids, h - 1, pos * 2 + 1, bits, hashes);
                }
            }
        }
        let mut h = 0;
        while width(txids.len(), h) > 1 {
            h += 1;
        }
        let mut bits = Vec::new();
        let mut hashes = Vec::new();
        go(txids, h, 0, &mut bits, &mut hashes);
        let mut flags = vec![0u8; bits.len().div_ceil(8)];
        for (i, b) in bits.iter().enumerate() {
            if *b {
                flags[i / 8] |= 1 << (i % 8);
            }
        }
        PartialMerkleTree {
            n_transactions: txids.len() as u32,
            hashes,
            flags,
        }
    }

    #[test]
    fn proofs_for_many_block_sizes() {
        for n in 1..40u8 {
            let txids: Vec<Hash256> = (0..n).map(|i| sha256d(&[i])).collect();
            let pmt = build(&txids);
            let root = verify_coinbase_proof(&pmt, &txids[0]).unwrap();
            assert_eq!(root, merkle_root(&txids), "n = {n}");
            assert!(verify_coinbase_proof(&pmt, &txids[n as usize - 1]).is_err() || n == 1);
        }
    }

    #[test]
    fn malformed_trees_fail() {
        let txids: Vec<Hash256> = (0..5u8).map(|i| sha256d(&[i])).collect();
        let good = build(&txids);
        let mut p = good.clone();
        p.n_transactions = 0;
        assert!(extract(&p).is_err());
        let mut p = good.clone();
        p.hashes.pop();
        assert!(extract(&p).is_err());
        let mut p = good.clone();
        p.flags.push(0);
        assert!(extract(&p).is_err());
        let mut p = good.clone();
        p.hashes.push(Hash256::ZERO);
        assert!(extract(&p).is_err());
        let mut p = good;
        p.hashes[1].0[0] ^= 1;
        assert_ne!(extract(&p).unwrap().root, merkle_root(&txids));
    }
}

/// Builds a partial merkle tree proving the transactions whose `matches` flag is set (Core's
/// `CPartialMerkleTree` constructor). Used by the simulated network to serve coinbase proofs.
pub fn build(txids: &[Hash256], matches: &[bool]) -> PartialMerkleTree {
    fn width(n: usize, h: u32) -> usize {
        (n + (1usize << h) - 1) >> h
    }
    fn calc(txids: &[Hash256], h: u32, pos: usize) -> Hash256 {
        if h == 0 {
            return txids[pos];
        }
        let left = calc(txids, h - 1, pos * 2);
        let right = if pos * 2 + 1 < width(txids.len(), h - 1) {
            calc(txids, h - 1, pos * 2 + 1)
        } else {
            left
        };
        sha256d_parts(&[&left.0, &right.0])
    }
    fn walk(
        txids: &[Hash256],
        matches: &[bool],
        h: u32,
        pos: usize,
        bits: &mut Vec<bool>,
        hashes: &mut Vec<Hash256>,
    ) {
        let start = pos << h;
        let end = ((pos + 1) << h).min(txids.len());
        let parent_of_match = (start..end).any(|i| matches.get(i).copied().unwrap_or(false));
        bits.push(parent_of_match);
        if h == 0 || !parent_of_match {
            hashes.push(calc(txids, h, pos));
        } else {
            walk(txids, matches, h - 1, pos * 2, bits, hashes);
            if pos * 2 + 1 < width(txids.len(), h - 1) {
                walk(txids, matches, h - 1, pos * 2 + 1, bits, hashes);
            }
        }
    }
    let mut height = 0;
    while width(txids.len(), height) > 1 {
        height += 1;
    }
    let mut bits = Vec::new();
    let mut hashes = Vec::new();
    if !txids.is_empty() {
        walk(txids, matches, height, 0, &mut bits, &mut hashes);
    }
    let mut flags = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            flags[i / 8] |= 1 << (i % 8);
        }
    }
    PartialMerkleTree {
        n_transactions: txids.len() as u32,
        hashes,
        flags,
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;
    use crate::hashes::merkle_root;

    #[test]
    fn built_trees_extract_to_the_block_root() {
        for n in 1..=13usize {
            let txids: Vec<Hash256> = (0..n).map(|i| Hash256([i as u8 + 1; 32])).collect();
            let mut matches = vec![false; n];
            matches[0] = true;
            let pmt = build(&txids, &matches);
            let m = extract(&pmt).unwrap();
            assert_eq!(m.root, merkle_root(&txids), "n = {n}");
            assert_eq!(m.matches, vec![(0, txids[0])]);
        }
    }
}
