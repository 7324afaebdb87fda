//! The in-memory header chain: grown from a trusted anchor, validated header by header, with
//! fork choice by chain work and bounded reorgs.

use super::checkpoints::{self, BuiltinStart, TrustedCheckpoint};
use super::params::{self, Checkpoint};
use super::pow::{self, U256};
use super::{ChainError, HeaderIndex};
use crate::hashes::Hash256;
use crate::network::Network;
use crate::persist::{BlobKind, Envelope};
use crate::wire::header::BlockHeader;
use std::borrow::Cow;
use std::collections::HashMap;

/// Default maximum reorg depth (blocks below the tip a competing branch may fork off). Dash
/// ChainLocks make real reorgs of more than a couple of blocks practically impossible.
pub const DEFAULT_MAX_REORG_DEPTH: u32 = 1000;

/// Maximum number of side-branch headers held at once.
pub const MAX_SIDE_HEADERS: usize = 10_000;

/// Most headers held below the anchor (fetched backwards for quorums whose base or work blocks
/// lie before the start; about 1.6 MB).
pub const MAX_BELOW_ANCHOR: usize = 20_000;

/// Headers per chunk when revalidating a snapshot.
const SNAPSHOT_CHUNK: usize = 2000;

/// Snapshot payload before the headers: anchor height + count.
const SNAPSHOT_PAYLOAD_HEAD: usize = 4 + 4;

/// What a reorg replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reorg {
    /// Height of the last block both branches share.
    pub fork_height: u32,
    /// Hashes of the blocks that left the active chain, ascending by height (fork_height + 1 …
    /// old tip).
    pub disconnected: Vec<Hash256>,
}

/// Result of [`HeaderChain::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOutcome {
    /// Height of the active tip afterwards.
    pub tip_height: u32,
    /// Hash of the active tip afterwards.
    pub tip_hash: Hash256,
    /// Headers of the batch that were not known before (now on the active chain or a side
    /// branch).
    pub new_headers: usize,
    /// True when the new headers were stored on a side branch (not enough work to become active).
    pub side_branch: bool,
    /// Set when the active chain switched branches.
    pub reorg: Option<Reorg>,
}

/// Hash → height of the active chain's headers, in about a quarter of the memory of a
/// `HashMap<Hash256, u32>` (9 bytes a bucket instead of 37; 2.4 MB instead of 9.7 MB for a
/// year of headers): keyed by the first four bytes of the hash (its low-order bytes, which
/// proof of work leaves random), and a lookup confirms the candidate height against the full
/// hash the chain holds at that height (`resolve`). Headers whose prefix is already taken by
/// another active header go to `overflow`, keyed by the full hash, so a collision never hides a
/// header and a hash that merely shares a prefix is never taken for a held one.
#[derive(Debug, Clone, Default)]
struct ActiveIndex {
    by_prefix: HashMap<u32, u32>,
    overflow: HashMap<Hash256, u32>,
}

impl ActiveIndex {
    fn prefix(hash: &Hash256) -> u32 {
        u32::from_le_bytes([hash.0[0], hash.0[1], hash.0[2], hash.0[3]])
    }

    /// Height of `hash`, where `resolve(height)` is the active hash at `height`.
    fn get(&self, hash: &Hash256, resolve: impl Fn(u32) -> Option<Hash256>) -> Option<u32> {
        if let Some(h) = self.overflow.get(hash) {
            return Some(*h);
        }
        let h = *self.by_prefix.get(&Self::prefix(hash))?;
        (resolve(h).as_ref() == Some(hash)).then_some(h)
    }

    /// Records an active header (not already recorded).
    fn insert(&mut self, hash: Hash256, height: u32) {
        match self.by_prefix.entry(Self::prefix(&hash)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(height);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.overflow.insert(hash, height);
            }
        }
    }

    /// Forgets the active header `hash` at `height`.
    fn remove(&mut self, hash: &Hash256, height: u32) {
        if self.overflow.get(hash) == Some(&height) {
            self.overflow.remove(hash);
            return;
        }
        let p = Self::prefix(hash);
        // One height holds one active header, so the entry at this prefix is `hash`'s.
        if self.by_prefix.get(&p) == Some(&height) {
            self.by_prefix.remove(&p);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.by_prefix.reserve(additional);
    }
}

#[derive(Debug, Clone, Copy)]
struct SideHeader {
    header: BlockHeader,
    height: u32,
}

/// An in-memory header chain starting from a trusted anchor (genesis or a checkpoint header).
///
/// Per active header it stores the 80-byte header plus one hash-map entry (hash → height); block
/// hashes are not stored separately (the hash of block `h` is the next header's prev hash).
///
/// Checks on every connected header:
/// - linkage within a batch and to a known header (active chain or side branch);
/// - proof of work against the header's own bits, bits a valid target ≤ powLimit;
/// - bits equal to what Core's `GetNextWorkRequired` gives, whenever this library can compute it:
///   mainnet/testnet from the DGW height on once the 24 previous headers are known (so **not for
///   the first 24 headers after the anchor**, which are only checked against their own bits;
///   testnet's minimum-difficulty exceptions need only the parent and apply from the first
///   header after the anchor), regtest: equal to the parent's bits; devnet: not checked;
/// - time greater than the median of the previous 11 block times once 11 predecessors are known
///   (or the chain reaches genesis);
/// - time not more than 2 h ahead of `now` — only with [`HeaderChain::connect_at`]; the clock
///   is the caller's;
/// - checkpoint hashes: Core's hash-only list for the network plus the hashes of the built-in
///   checkpoint table ([`checkpoints`]) above the anchor, or a list set with
///   [`HeaderChain::with_checkpoints`];
/// - forks: not below the anchor, not deeper than the max reorg depth, not before a checkpoint
///   the active chain has passed;
/// - ChainLocks ([`HeaderChain::apply_chain_lock`]): no header at the best locked height with
///   another hash, no branch forking below the locked block; the branch holding it is active
///   whatever its work. Otherwise the branch with the most work is active.
#[derive(Debug, Clone)]
pub struct HeaderChain {
    network: Network,
    anchor_height: u32,
    headers: Vec<BlockHeader>,
    tip_hash: Hash256,
    index: ActiveIndex,
    side: HashMap<Hash256, SideHeader>,
    max_reorg_depth: u32,
    checkpoints: Vec<Checkpoint>,
    /// Cumulative chain work up to and including the anchor.
    anchor_work: U256,
    /// Headers below the anchor, descending (`below[0]` is at `anchor_height − 1`), each proven
    /// by hash linkage down from the anchor (see [`HeaderChain::connect_below`]). Not part of
    /// the persistence snapshot.
    below: Vec<BlockHeader>,
    /// Hash → height of the headers in `below`.
    below_index: HashMap<Hash256, u32>,
    /// The best (highest) verified ChainLock: (height, block hash). Pins the chain: see
    /// [`HeaderChain::apply_chain_lock`].
    chain_lock: Option<(u32, Hash256)>,
}

/// Where a verified ChainLock's block stands relative to the header chain
/// ([`HeaderChain::apply_chain_lock`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainLockPlacement {
    /// The block is on the active chain; the chain is pinned there.
    OnChain,
    /// The block was on a side branch: the active chain switched to it (whatever the work).
    Switched(Reorg),
    /// The block is not known yet: the pin is recorded, and a header chain holding the block
    /// is adopted as soon as it is connected (fetch headers from the peer that sent the lock).
    Unknown,
    /// A lock at or below the current pin's height: it changes nothing (the best lock wins).
    NotNewer,
    /// The block's branch forks below the current (higher) pin: refused (two valid ChainLocks
    /// cannot conflict on an honest network).
    ConflictsWithPin,
}

impl HeaderChain {
    /// A chain holding only the trusted `anchor` at `anchor_height`.
    ///
    /// The checkpoints enforced above the anchor are Core's hash-only list and the built-in
    /// table's hashes. The anchor's cumulative chain work is taken from the built-in table when
    /// the anchor is one of its rows (and is exact for genesis); for any other anchor it is not
    /// known and [`HeaderChain::chain_work`] counts from the anchor's own work (set it with
    /// [`HeaderChain::with_anchor_chain_work`] when the host knows it).
    pub fn new(network: Network, anchor_height: u32, anchor: BlockHeader) -> HeaderChain {
        let hash = anchor.block_hash();
        let mut index = ActiveIndex::default();
        index.insert(hash, anchor_height);
        let mut list: Vec<Checkpoint> = params::checkpoints(network)
            .iter()
            .chain(checkpoints::hashes(network))
            .filter(|c| c.height > anchor_height)
            .copied()
            .collect();
        list.sort_by_key(|c| c.height);
        list.dedup();
        let anchor_work = match checkpoints::at(network, anchor_height) {
            Some(t) if t.header == anchor => t.chain_work,
            _ => pow::work_from_bits(anchor.bits),
        };
        HeaderChain {
            network,
            anchor_height,
            headers: vec![anchor],
            tip_hash: hash,
            index,
            side: HashMap::new(),
            max_reorg_depth: DEFAULT_MAX_REORG_DEPTH,
            checkpoints: list,
            anchor_work,
            below: Vec::new(),
            below_index: HashMap::new(),
            chain_lock: None,
        }
    }

    /// A chain anchored at a trusted checkpoint with known cumulative chain work.
    pub fn from_trusted(network: Network, anchor: &TrustedCheckpoint) -> HeaderChain {
        HeaderChain::new(network, anchor.height, anchor.header)
            .with_anchor_chain_work(anchor.chain_work)
    }

    /// A chain for a built-in start (see [`checkpoints`]): anchored at `start.anchor`, 576 blocks
    /// below the start, and required to pass through `start.start` (a checkpoint of the chain,
    /// whatever list it was built with).
    pub fn from_builtin_start(network: Network, start: &BuiltinStart) -> HeaderChain {
        HeaderChain::from_trusted(network, &start.anchor).with_required_checkpoint(start.start)
    }

    /// Adds one checkpoint the chain must pass through (kept with the others, sorted; it
    /// replaces another checkpoint at the same height). Ignored at or below the anchor.
    pub fn with_required_checkpoint(mut self, c: Checkpoint) -> HeaderChain {
        if c.height > self.anchor_height {
            self.checkpoints.retain(|k| k.height != c.height);
            self.checkpoints.push(c);
            self.checkpoints.sort_by_key(|c| c.height);
        }
        self
    }

    /// Sets the cumulative chain work up to and including the anchor.
    pub fn with_anchor_chain_work(mut self, work: U256) -> HeaderChain {
        self.anchor_work = work;
        self
    }

    /// A chain holding only the network's genesis header.
    pub fn from_genesis(network: Network) -> HeaderChain {
        HeaderChain::new(network, 0, params::genesis_header(network))
    }

    /// Sets the maximum reorg depth (default [`DEFAULT_MAX_REORG_DEPTH`]).
    pub fn with_max_reorg_depth(mut self, depth: u32) -> HeaderChain {
        self.max_reorg_depth = depth;
        self
    }

    /// Replaces the checkpoint list (e.g. for a devnet); it is sorted by height.
    pub fn with_checkpoints(mut self, mut checkpoints: Vec<Checkpoint>) -> HeaderChain {
        checkpoints.sort_by_key(|c| c.height);
        self.checkpoints = checkpoints;
        self
    }

    /// The checkpoints this chain enforces, ascending by height.
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// Cumulative chain work up to and including the anchor.
    pub fn anchor_chain_work(&self) -> U256 {
        self.anchor_work
    }

    /// Height from which every connected header's bits are checked against Dark Gravity Wave
    /// (mainnet/testnet past the DGW height): the anchor plus the 24-block window, since the
    /// window must consist of headers this chain holds.
    pub fn dgw_checked_from(&self) -> u32 {
        self.anchor_height.saturating_add(params::DGW_PAST_BLOCKS)
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Height of the trusted anchor.
    pub fn anchor_height(&self) -> u32 {
        self.anchor_height
    }

    /// Number of headers on the active chain (anchor included).
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Always false: a chain holds at least its anchor.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Number of side-branch headers held.
    pub fn side_len(&self) -> usize {
        self.side.len()
    }

    /// The maximum reorg depth.
    pub fn max_reorg_depth(&self) -> u32 {
        self.max_reorg_depth
    }

    /// Height and hash of the active tip.
    pub fn tip(&self) -> (u32, Hash256) {
        (self.tip_height(), self.tip_hash)
    }

    /// Makes room for `additional` more active headers, growing the header list by an eighth
    /// (at least `additional` and 64) instead of doubling it: a year of headers then holds at most
    /// 12.5 % spare room (2.1 MB) rather than up to 100 %, and a reallocation that copies needs
    /// 2.1 times the list's size at once, not 3 times.
    fn reserve_active(&mut self, additional: usize) {
        let spare = self.headers.capacity() - self.headers.len();
        if additional > spare {
            let grow = additional.max(self.headers.len() / 8).max(64);
            self.headers.reserve_exact(grow);
        }
    }

    /// Height of `hash` on the active chain.
    fn active_height(&self, hash: &Hash256) -> Option<u32> {
        self.index.get(hash, |h| self.active_hash(h))
    }

    /// Hash of the active header at `height` (the next header's prev hash, or the tip's).
    fn active_hash(&self, height: u32) -> Option<Hash256> {
        if height == self.tip_height() {
            return Some(self.tip_hash);
        }
        self.header_at(height.checked_add(1)?)
            .map(|h| h.prev_block_hash)
    }

    fn tip_height(&self) -> u32 {
        // len ≥ 1 and heights fit in u32 (checked when connecting).
        self.anchor_height + (self.headers.len() as u32 - 1)
    }

    /// The active-chain header at `height`.
    pub fn header_at(&self, height: u32) -> Option<&BlockHeader> {
        let i = height.checked_sub(self.anchor_height)? as usize;
        self.headers.get(i)
    }

    /// The active tip header.
    pub fn tip_header(&self) -> &BlockHeader {
        // Never empty.
        &self.headers[self.headers.len() - 1]
    }

    /// Cumulative work of the active chain: the anchor's cumulative chain work (see
    /// [`HeaderChain::new`]) plus the work of every header above it.
    pub fn chain_work(&self) -> U256 {
        self.headers[1..].iter().fold(self.anchor_work, |acc, h| {
            acc.saturating_add(&pow::work_from_bits(h.bits))
        })
    }

    /// A block locator for `getheaders`: the tip, then back one block at a time for ten entries,
    /// then with doubling steps, always ending with the anchor.
    pub fn locator(&self) -> Vec<Hash256> {
        let mut out = Vec::new();
        let mut h = self.tip_height();
        let mut step = 1u32;
        loop {
            if let Some(hash) = self.hash_at(h) {
                out.push(hash);
            }
            if h == self.anchor_height {
                break;
            }
            if out.len() >= 10 {
                step = step.saturating_mul(2);
            }
            h = h.saturating_sub(step).max(self.anchor_height);
        }
        out
    }

    /// Connects a batch of headers (a `headers` message) without the future-time check; see
    /// [`HeaderChain::connect_at`].
    pub fn connect(&mut self, headers: &[BlockHeader]) -> Result<ConnectOutcome, ChainError> {
        self.connect_at(headers, None)
    }

    /// Connects a batch of headers. The headers must be linked to each other and the first must
    /// connect to a known header; leading headers already known are skipped. Every new header is
    /// validated (see [`HeaderChain`]); `now` (Unix seconds, the caller's clock) enables the
    /// "not more than 2 h in the future" rule. All-or-nothing: on error nothing changes.
    ///
    /// Fork choice: a branch replaces the active chain when its work since the fork point is
    /// strictly greater than the active chain's; otherwise its headers are kept as a side branch
    /// (pruned once they fall more than the max reorg depth behind the tip).
    pub fn connect_at(
        &mut self,
        headers: &[BlockHeader],
        now: Option<u32>,
    ) -> Result<ConnectOutcome, ChainError> {
        let hashes: Vec<Hash256> = headers.iter().map(|h| h.block_hash()).collect();
        self.connect_hashed(headers, &hashes, now)
    }

    /// [`HeaderChain::connect_at`] with the block hashes already computed (X11 of each header,
    /// e.g. on a worker thread while the previous batch was validated). `hashes[i]` must be
    /// `headers[i].block_hash()`: the crate computes them itself, never takes them from a peer.
    /// On a length mismatch the hashes are computed here instead.
    pub(crate) fn connect_hashed(
        &mut self,
        headers: &[BlockHeader],
        hashes: &[Hash256],
        now: Option<u32>,
    ) -> Result<ConnectOutcome, ChainError> {
        if hashes.len() != headers.len() {
            let own: Vec<Hash256> = headers.iter().map(|h| h.block_hash()).collect();
            return self.connect_hashed(headers, &own, now);
        }
        for i in 1..headers.len() {
            if headers[i].prev_block_hash != hashes[i - 1] {
                return Err(ChainError::NotLinked {
                    index: i,
                    hash: hashes[i],
                    prev: headers[i].prev_block_hash,
                    expected: hashes[i - 1],
                });
            }
        }
        let start = hashes
            .iter()
            .take_while(|h| self.active_height(h).is_some() || self.side.contains_key(h))
            .count();
        if start == headers.len() {
            return Ok(self.outcome(0, false, None));
        }
        let new = &headers[start..];
        let new_hashes = &hashes[start..];
        let (fork, mut branch, mut branch_hashes) = self.locate_parent(&new[0], &new_hashes[0])?;

        let tip = self.tip_height();
        // ChainLocks in fork choice (Core: a header at a ChainLocked height with another hash is
        // invalid, and the chain holding the locked block is the active one).
        let mut holds_lock = false;
        if let Some((lock_height, locked)) = self.chain_lock {
            let last_new = fork + (branch.len() + new.len()) as u32;
            if lock_height > fork && lock_height <= last_new {
                let i = (lock_height - fork - 1) as usize;
                let at = if i < branch_hashes.len() {
                    branch_hashes[i]
                } else {
                    new_hashes[i - branch_hashes.len()]
                };
                if at != locked {
                    return Err(ChainError::ConflictsWithChainLock {
                        height: lock_height,
                        hash: at,
                        locked,
                    });
                }
                holds_lock = true;
            } else if lock_height > fork && self.active_hash(lock_height) == Some(locked) {
                // Forks below the locked block, which the active chain holds: whatever its
                // work, this branch never becomes active.
                return Err(ChainError::ForkBelowChainLock {
                    fork_height: fork,
                    lock_height,
                });
            }
        }
        if fork < tip {
            let depth = tip - fork;
            if depth > self.max_reorg_depth {
                return Err(ChainError::ForkTooDeep {
                    fork_height: fork,
                    depth,
                    max: self.max_reorg_depth,
                });
            }
            if let Some(c) = self
                .checkpoints
                .iter()
                .find(|c| c.height > fork && c.height <= tip)
            {
                return Err(ChainError::ForkBeforeCheckpoint {
                    fork_height: fork,
                    checkpoint_height: c.height,
                });
            }
        }

        for (hdr, hash) in new.iter().zip(new_hashes) {
            let height = fork
                .checked_add(branch.len() as u32 + 1)
                .ok_or(ChainError::HeightOverflow)?;
            self.validate(fork, &branch, height, hdr, hash, now)?;
            branch.push(*hdr);
            branch_hashes.push(*hash);
        }

        let extends = fork == tip;
        let wins = extends || holds_lock || {
            let work = |hs: &[BlockHeader]| {
                hs.iter().fold(U256::ZERO, |acc, h| {
                    acc.saturating_add(&pow::work_from_bits(h.bits))
                })
            };
            let active = &self.headers[(fork - self.anchor_height) as usize + 1..];
            work(&branch) > work(active)
        };

        if !wins {
            if self.side.len() + new.len() > MAX_SIDE_HEADERS {
                return Err(ChainError::SideBranchLimit {
                    held: self.side.len(),
                    limit: MAX_SIDE_HEADERS,
                });
            }
            let first_new = fork + (branch.len() - new.len()) as u32 + 1;
            for (i, (hdr, hash)) in new.iter().zip(new_hashes).enumerate() {
                self.side.insert(
                    *hash,
                    SideHeader {
                        header: *hdr,
                        height: first_new + i as u32,
                    },
                );
            }
            return Ok(self.outcome(new.len(), true, None));
        }

        let n_new = new.len();
        Ok(self.switch_to(fork, branch, branch_hashes, n_new))
    }

    /// Makes `branch` (forking at active height `fork`) the active chain: the replaced active
    /// blocks move to the side map.
    fn switch_to(
        &mut self,
        fork: u32,
        branch: Vec<BlockHeader>,
        branch_hashes: Vec<Hash256>,
        new_headers: usize,
    ) -> ConnectOutcome {
        let tip = self.tip_height();
        let extends = fork == tip;
        let mut disconnected = Vec::new();
        for h in fork + 1..=tip {
            if let (Some(hash), Some(hdr)) = (self.hash_at(h), self.header_at(h).copied()) {
                disconnected.push(hash);
                self.index.remove(&hash, h);
                self.side.insert(
                    hash,
                    SideHeader {
                        header: hdr,
                        height: h,
                    },
                );
            }
        }
        self.headers
            .truncate((fork - self.anchor_height) as usize + 1);
        self.reserve_active(branch.len());
        for (i, (hdr, hash)) in branch.iter().zip(&branch_hashes).enumerate() {
            self.side.remove(hash);
            self.index.insert(*hash, fork + 1 + i as u32);
            self.headers.push(*hdr);
        }
        if let Some(last) = branch_hashes.last() {
            self.tip_hash = *last;
        }
        self.prune_side();
        let reorg = (!extends).then_some(Reorg {
            fork_height: fork,
            disconnected,
        });
        self.outcome(new_headers, false, reorg)
    }

    /// The best ChainLock applied: (height, block hash).
    pub fn chain_lock(&self) -> Option<(u32, Hash256)> {
        self.chain_lock
    }

    /// Applies a **verified** ChainLock for block `hash` at `height`, as Dash Core does: the
    /// highest lock pins its block. From then on no header at that height with another hash is
    /// accepted ([`ChainError::ConflictsWithChainLock`]), no branch forking below it is adopted
    /// whatever its work ([`ChainError::ForkBelowChainLock`]), and a branch holding the block
    /// becomes active whatever its work — now if the block is on a side branch
    /// ([`ChainLockPlacement::Switched`]), or when its headers arrive
    /// ([`ChainLockPlacement::Unknown`]). Verify the lock's signature first: this trusts it.
    pub fn apply_chain_lock(&mut self, height: u32, hash: Hash256) -> ChainLockPlacement {
        if let Some((h, x)) = self.chain_lock {
            if height < h || (height == h && x == hash) {
                return ChainLockPlacement::NotNewer;
            }
        }
        if self.active_hash(height) == Some(hash) {
            self.chain_lock = Some((height, hash));
            return ChainLockPlacement::OnChain;
        }
        let Some(side) = self.side.get(&hash) else {
            self.chain_lock = Some((height, hash));
            return ChainLockPlacement::Unknown;
        };
        if side.height != height {
            // A lock naming a known block at another height is not for that block.
            return ChainLockPlacement::ConflictsWithPin;
        }
        let Ok((fork, mut branch, mut branch_hashes)) = self.locate_parent(&side.header, &hash)
        else {
            self.chain_lock = Some((height, hash));
            return ChainLockPlacement::Unknown;
        };
        if let Some((h, x)) = self.chain_lock {
            if h > fork && self.active_hash(h) == Some(x) {
                return ChainLockPlacement::ConflictsWithPin;
            }
        }
        branch.push(side.header);
        branch_hashes.push(hash);
        self.chain_lock = Some((height, hash));
        // Side headers already held on top of the locked block come along (validated when
        // they were stored), longest first.
        let depths = self.side_depths();
        let mut cur = hash;
        loop {
            let best = self
                .side
                .iter()
                .filter(|(_, s)| s.header.prev_block_hash == cur)
                .map(|(x, s)| (depths.get(x).copied().unwrap_or(0), *x, s.header))
                .max_by_key(|(d, x, _)| (*d, *x));
            let Some((_, x, hdr)) = best else {
                break;
            };
            branch.push(hdr);
            branch_hashes.push(x);
            cur = x;
        }
        let out = self.switch_to(fork, branch, branch_hashes, 0);
        match out.reorg {
            Some(r) => ChainLockPlacement::Switched(r),
            None => ChainLockPlacement::OnChain,
        }
    }

    /// For every side header, the length of the longest chain of side headers starting at it
    /// (children are higher, so one pass from the highest down computes it).
    fn side_depths(&self) -> HashMap<Hash256, usize> {
        let mut order: Vec<(&Hash256, &SideHeader)> = self.side.iter().collect();
        order.sort_by_key(|(_, s)| std::cmp::Reverse(s.height));
        let mut depth: HashMap<Hash256, usize> = HashMap::with_capacity(order.len());
        for (x, s) in order {
            let d = depth.get(x).copied().unwrap_or(0) + 1;
            depth.insert(*x, d);
            let p = depth.entry(s.header.prev_block_hash).or_insert(0);
            *p = (*p).max(d);
        }
        // Entries for non-side parents hold their best child's depth: harmless for lookups of
        // side hashes, which is all callers do.
        depth
    }

    /// Restores a pin saved with the chain (no switch: the saved chain held the block or did
    /// not know it).
    pub(crate) fn restore_chain_lock(&mut self, height: u32, hash: Hash256) {
        self.chain_lock = Some((height, hash));
    }

    fn outcome(
        &self,
        new_headers: usize,
        side_branch: bool,
        reorg: Option<Reorg>,
    ) -> ConnectOutcome {
        ConnectOutcome {
            tip_height: self.tip_height(),
            tip_hash: self.tip_hash,
            new_headers,
            side_branch,
            reorg,
        }
    }

    /// Finds where a header's parent is: the active height of the fork point, plus the side
    /// headers (and their hashes) between the fork point and the parent, ascending.
    #[allow(clippy::type_complexity)]
    fn locate_parent(
        &self,
        first: &BlockHeader,
        first_hash: &Hash256,
    ) -> Result<(u32, Vec<BlockHeader>, Vec<Hash256>), ChainError> {
        let parent = first.prev_block_hash;
        if let Some(h) = self.active_height(&parent) {
            return Ok((h, Vec::new(), Vec::new()));
        }
        if self.side.contains_key(&parent) {
            let mut path = Vec::new();
            let mut path_hashes = Vec::new();
            let mut cur = parent;
            // Bounded: every step consumes one side entry.
            for _ in 0..=self.side.len() {
                if let Some(h) = self.active_height(&cur) {
                    path.reverse();
                    path_hashes.reverse();
                    return Ok((h, path, path_hashes));
                }
                match self.side.get(&cur) {
                    Some(s) => {
                        path.push(s.header);
                        path_hashes.push(cur);
                        cur = s.header.prev_block_hash;
                    }
                    None => break,
                }
            }
        } else if self.anchor_height > 0 && parent == self.headers[0].prev_block_hash {
            return Err(ChainError::ForkBelowAnchor {
                hash: *first_hash,
                anchor_height: self.anchor_height,
            });
        }
        Err(ChainError::UnknownParent {
            hash: *first_hash,
            prev: parent,
        })
    }

    /// The header at `height` as seen from a branch forking at `fork`.
    fn ancestor<'a>(
        &'a self,
        fork: u32,
        branch: &'a [BlockHeader],
        height: u32,
    ) -> Option<&'a BlockHeader> {
        if height > fork {
            branch.get((height - fork - 1) as usize)
        } else {
            self.header_at(height)
        }
    }

    /// Up to `n` known headers ending at height `last` (ascending), as seen from the branch.
    fn window<'a>(
        &'a self,
        fork: u32,
        branch: &'a [BlockHeader],
        last: u32,
        n: u32,
    ) -> Cow<'a, [BlockHeader]> {
        let lo = last.saturating_sub(n - 1).max(self.anchor_height);
        if lo > last {
            return Cow::Borrowed(&[]);
        }
        if lo > fork {
            let a = (lo - fork - 1) as usize;
            let b = (last - fork) as usize;
            return Cow::Borrowed(branch.get(a..b).unwrap_or(&[]));
        }
        if last <= fork {
            let a = (lo - self.anchor_height) as usize;
            let b = (last - self.anchor_height) as usize + 1;
            return Cow::Borrowed(self.headers.get(a..b).unwrap_or(&[]));
        }
        Cow::Owned(
            (lo..=last)
                .filter_map(|h| self.ancestor(fork, branch, h).copied())
                .collect(),
        )
    }

    fn validate(
        &self,
        fork: u32,
        branch: &[BlockHeader],
        height: u32,
        hdr: &BlockHeader,
        hash: &Hash256,
        now: Option<u32>,
    ) -> Result<(), ChainError> {
        pow::check_proof_of_work(hash, hdr.bits, self.network).map_err(|e| e.at_height(height))?;
        if let Ok(i) = self.checkpoints.binary_search_by_key(&height, |c| c.height) {
            let c = &self.checkpoints[i];
            if c.hash != *hash {
                return Err(ChainError::CheckpointMismatch {
                    height,
                    hash: *hash,
                    expected: c.hash,
                });
            }
        }
        let last = height - 1;
        // Median time past.
        let mtp = self.window(fork, branch, last, params::MEDIAN_TIME_SPAN as u32);
        // Fewer than 11 predecessors only exist near genesis; near a later anchor the missing
        // ones are unknown, so the check waits until 11 are known.
        let reaches_genesis = self.anchor_height == 0 && last < params::MEDIAN_TIME_SPAN as u32;
        if mtp.len() == params::MEDIAN_TIME_SPAN || (reaches_genesis && !mtp.is_empty()) {
            let mut times: Vec<u32> = mtp.iter().map(|h| h.time).collect();
            times.sort_unstable();
            let median = times[times.len() / 2];
            if hdr.time <= median {
                return Err(ChainError::TimeTooOld {
                    height,
                    hash: *hash,
                    time: hdr.time,
                    median,
                });
            }
        }
        if let Some(now) = now {
            let max = now.saturating_add(params::MAX_FUTURE_BLOCK_TIME);
            if hdr.time > max {
                return Err(ChainError::TimeTooNew {
                    height,
                    hash: *hash,
                    time: hdr.time,
                    max,
                });
            }
        }
        // Difficulty.
        let past = self.window(fork, branch, last, params::DGW_PAST_BLOCKS);
        if let Some(expected) = pow::next_work_required(self.network, last, &past, hdr.time) {
            if expected != hdr.bits {
                return Err(ChainError::BadDifficulty {
                    height,
                    hash: *hash,
                    bits: hdr.bits,
                    expected,
                });
            }
        }
        Ok(())
    }

    fn prune_side(&mut self) {
        let tip = self.tip_height();
        let min = tip.saturating_sub(self.max_reorg_depth);
        self.side.retain(|_, s| s.height > min);
    }

    /// Height of the lowest header held: the anchor, or the lowest header fetched below it.
    pub fn lowest_height(&self) -> u32 {
        // `below` never reaches past height 0 (checked when connecting).
        self.anchor_height - self.below.len() as u32
    }

    /// The lowest header held (the anchor or the lowest one below it).
    pub fn lowest_header(&self) -> &BlockHeader {
        self.below.last().unwrap_or(&self.headers[0])
    }

    /// Number of headers held below the anchor.
    pub fn below_anchor_len(&self) -> usize {
        self.below.len()
    }

    fn below_header(&self, height: u32) -> Option<&BlockHeader> {
        let i = self.anchor_height.checked_sub(height)?.checked_sub(1)?;
        self.below.get(i as usize)
    }

    /// Extends the chain *downwards*: `headers` (ascending, each pointing at the one before)
    /// must contain the block the lowest held header points at; that block and every header
    /// before it in the batch are added below the anchor, at most `max_new` of them (the
    /// newest ones) and never more than [`MAX_BELOW_ANCHOR`] in all. Headers after it in the
    /// batch (already held) are ignored. Returns how many headers were added.
    ///
    /// What proves them: the anchor is trusted, and each added header's X11 hash is the
    /// previous-block hash of the header above it, so each is the one block the anchor
    /// descends from at its height. Checked besides: proof of work against the header's own
    /// bits, and the network's checkpoint hashes at their heights. Not checked: difficulty
    /// retargeting and median time (the linkage already fixes every header). All or nothing:
    /// on error nothing changes.
    pub fn connect_below(
        &mut self,
        headers: &[BlockHeader],
        max_new: usize,
    ) -> Result<usize, ChainError> {
        let hashes: Vec<Hash256> = headers.iter().map(|h| h.block_hash()).collect();
        for i in 1..headers.len() {
            if headers[i].prev_block_hash != hashes[i - 1] {
                return Err(ChainError::NotLinked {
                    index: i,
                    hash: hashes[i],
                    prev: headers[i].prev_block_hash,
                    expected: hashes[i - 1],
                });
            }
        }
        let lowest = *self.lowest_header();
        let low = self.lowest_height();
        let Some(top) = hashes.iter().position(|h| *h == lowest.prev_block_hash) else {
            // The batch does not reach down to the block our lowest header points at.
            return Err(ChainError::UnknownParent {
                hash: lowest.block_hash(),
                prev: lowest.prev_block_hash,
            });
        };
        let room = MAX_BELOW_ANCHOR
            .saturating_sub(self.below.len())
            .min(max_new)
            .min(low as usize);
        let take = (top + 1).min(room);
        let first = top + 1 - take;
        // Validate all, then commit. Heights: headers[top] is at low − 1.
        for i in (first..=top).rev() {
            let height = low - 1 - (top - i) as u32;
            pow::check_proof_of_work(&hashes[i], headers[i].bits, self.network)
                .map_err(|e| e.at_height(height))?;
            let known = if height == 0 {
                Some(params::genesis_hash(self.network))
            } else {
                params::checkpoint_at(self.network, height).or_else(|| {
                    checkpoints::hashes(self.network)
                        .binary_search_by_key(&height, |c| c.height)
                        .ok()
                        .map(|k| checkpoints::hashes(self.network)[k].hash)
                })
            };
            if let Some(expected) = known.filter(|e| *e != hashes[i]) {
                return Err(ChainError::CheckpointMismatch {
                    height,
                    hash: hashes[i],
                    expected,
                });
            }
        }
        for i in (first..=top).rev() {
            let height = low - 1 - (top - i) as u32;
            self.below.push(headers[i]);
            self.below_index.insert(hashes[i], height);
        }
        Ok(take)
    }
    /// A compact, versioned snapshot of the active chain for host-side persistence, in the
    /// storage envelope ([`crate::persist`], kind [`BlobKind::HeaderChain`]): `"DQHC"`, format
    /// u16, network u8, then the payload — anchor height u32, header count u32, the headers
    /// (80 bytes each, ascending from the anchor) — then the SHA256d of everything before.
    /// Side branches are not included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write_to(&mut out);
        out
    }

    /// Size in bytes of the snapshot [`HeaderChain::to_bytes`] writes.
    pub fn encoded_len(&self) -> usize {
        Envelope::header_chain(self.network)
            .blob_len(SNAPSHOT_PAYLOAD_HEAD + self.headers.len() * 80)
    }

    /// Appends the snapshot [`HeaderChain::to_bytes`] writes to `out` (exactly
    /// [`HeaderChain::encoded_len`] bytes), without an intermediate buffer: reserve that much in
    /// `out` first and nothing is reallocated.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let env = Envelope::header_chain(self.network);
        let start = env.begin_in(out);
        out.extend_from_slice(&self.anchor_height.to_le_bytes());
        out.extend_from_slice(&(self.headers.len() as u32).to_le_bytes());
        for h in &self.headers {
            out.extend_from_slice(&h.to_array());
        }
        env.seal_in(out, start);
    }

    /// Loads a snapshot written by [`HeaderChain::to_bytes`] for `network`, rejecting corrupt,
    /// truncated or wrong-network data ([`ChainError::Snapshot`]), and revalidating every
    /// header as [`HeaderChain::connect`] would (linkage, PoW, difficulty, times, checkpoints).
    /// The first header is the trusted anchor; it must still match a checkpoint at its height
    /// (genesis at height 0) and have valid proof of work.
    pub fn from_bytes(network: Network, bytes: &[u8]) -> Result<HeaderChain, ChainError> {
        let payload = Envelope::header_chain(network).open(bytes)?;
        // Sizes below are of the whole blob, as in the errors' documentation.
        let fixed = BlobKind::HeaderChain.min_len() + SNAPSHOT_PAYLOAD_HEAD;
        if payload.len() < SNAPSHOT_PAYLOAD_HEAD {
            return Err(ChainError::SnapshotTruncated {
                needed: fixed,
                got: bytes.len(),
            });
        }
        let anchor_height = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let count = u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]) as usize;
        let needed = count
            .checked_mul(80)
            .and_then(|n| n.checked_add(fixed))
            .ok_or(ChainError::SnapshotTruncated {
                needed: usize::MAX,
                got: bytes.len(),
            })?;
        if bytes.len() < needed {
            return Err(ChainError::SnapshotTruncated {
                needed,
                got: bytes.len(),
            });
        }
        if bytes.len() > needed {
            return Err(ChainError::SnapshotTrailing {
                extra: bytes.len() - needed,
            });
        }
        if count == 0 {
            return Err(ChainError::SnapshotEmpty);
        }
        anchor_height
            .checked_add(count as u32 - 1)
            .ok_or(ChainError::HeightOverflow)?;
        let headers: Vec<BlockHeader> = payload[SNAPSHOT_PAYLOAD_HEAD..]
            .chunks_exact(80)
            .map(|c| {
                let mut a = [0u8; 80];
                a.copy_from_slice(c);
                BlockHeader::from_array(&a)
            })
            .collect();
        let mut chain = HeaderChain::restore_anchor(network, anchor_height, headers[0], count)?;
        chain.restore_extend(&headers[1..])?;
        Ok(chain)
    }

    /// Starts restoring a saved chain (a snapshot, or the segments of a segmented state): a
    /// chain holding only `anchor` at `anchor_height`, which must still match a checkpoint at
    /// its height (genesis at height 0) and have valid proof of work. `expected_len` is the
    /// number of headers the saved chain holds (room is reserved for them). Extend it with
    /// [`HeaderChain::restore_extend`].
    pub fn restore_anchor(
        network: Network,
        anchor_height: u32,
        anchor: BlockHeader,
        expected_len: usize,
    ) -> Result<HeaderChain, ChainError> {
        let mut chain = HeaderChain::new(network, anchor_height, anchor);
        let anchor_hash = chain.tip_hash;
        let expected_anchor = if anchor_height == 0 {
            Some(params::genesis_hash(network))
        } else {
            params::checkpoint_at(network, anchor_height)
                .or_else(|| checkpoints::at(network, anchor_height).map(|c| c.header.block_hash()))
        };
        if let Some(expected) = expected_anchor {
            if expected != anchor_hash {
                return Err(ChainError::CheckpointMismatch {
                    height: anchor_height,
                    hash: anchor_hash,
                    expected,
                });
            }
        }
        pow::check_proof_of_work(&anchor_hash, anchor.bits, network)
            .map_err(|e| e.at_height(anchor_height))?;
        let more = expected_len.saturating_sub(1);
        chain.headers.reserve(more);
        chain.index.reserve(more);
        Ok(chain)
    }

    /// Makes exact room for `additional` more headers of a chain being restored (a segmented
    /// state reserves segment by segment, as each is loaded, rather than trusting its count).
    pub fn restore_reserve(&mut self, additional: usize) {
        self.headers.reserve_exact(additional);
        self.index.reserve(additional);
    }

    /// Appends saved headers (ascending, the first on the current tip) to a chain being
    /// restored ([`HeaderChain::restore_anchor`]), revalidating every header as
    /// [`HeaderChain::connect`] would (linkage, PoW, difficulty, times, checkpoints). A header
    /// that is not new on the active chain is [`ChainError::SnapshotDuplicate`] (nothing a save
    /// writes).
    pub fn restore_extend(&mut self, headers: &[BlockHeader]) -> Result<(), ChainError> {
        for chunk in headers.chunks(SNAPSHOT_CHUNK) {
            let out = self.connect(chunk)?;
            if out.new_headers != chunk.len() || out.side_branch {
                return Err(ChainError::SnapshotDuplicate);
            }
        }
        Ok(())
    }
}

/// Below the anchor the index covers the headers fetched with [`HeaderChain::connect_below`]
/// and one more block: the one the lowest header points at, whose hash (and so height) is
/// proven but whose header is not held (no merkle root, version or time for it).
impl HeaderIndex for HeaderChain {
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        if let Some(h) = self
            .active_height(hash)
            .or_else(|| self.below_index.get(hash).copied())
        {
            return Some(h);
        }
        let low = self.lowest_height();
        (low > 0 && *hash == self.lowest_header().prev_block_hash).then(|| low - 1)
    }

    fn hash_at(&self, height: u32) -> Option<Hash256> {
        let tip = self.tip_height();
        if height > tip {
            return None;
        }
        if height == tip {
            return Some(self.tip_hash);
        }
        self.header_at(height + 1)
            .or_else(|| self.below_header(height + 1))
            .map(|h| h.prev_block_hash)
    }

    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256> {
        if let Some(h) = self.active_height(hash) {
            return self.header_at(h).map(|hdr| hdr.merkle_root);
        }
        let h = self.below_index.get(hash)?;
        self.below_header(*h).map(|hdr| hdr.merkle_root)
    }

    fn version_and_time_at(&self, height: u32) -> Option<(i32, u32)> {
        self.header_at(height)
            .or_else(|| self.below_header(height))
            .map(|h| (h.version, h.time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashes::sha256d;

    const NET: Network = Network::Regtest;
    const BITS: u32 = 0x207f_ffff;

    /// Mines a regtest header on `prev` (about two tries per header at the regtest powLimit).
    fn mine(prev: &BlockHeader, time: u32, bits: u32, tag: u8) -> BlockHeader {
        let mut h = BlockHeader {
            version: 0x2000_0000,
            prev_block_hash: prev.block_hash(),
            merkle_root: Hash256([tag; 32]),
            time,
            bits,
            nonce: 0,
        };
        while pow::check_proof_of_work(&h.block_hash(), bits, NET).is_err() {
            h.nonce += 1;
        }
        h
    }

    /// `n` headers on `prev`, 150 s apart.
    fn branch(prev: &BlockHeader, n: usize, tag: u8) -> Vec<BlockHeader> {
        let mut out: Vec<BlockHeader> = Vec::new();
        for _ in 0..n {
            let p = out.last().copied().unwrap_or(*prev);
            out.push(mine(&p, p.time + 150, BITS, tag));
        }
        out
    }

    fn hashes(hs: &[BlockHeader]) -> Vec<Hash256> {
        hs.iter().map(|h| h.block_hash()).collect()
    }

    /// Two hashes sharing the index's four-byte prefix (and a third sharing it too, not held):
    /// both held ones are found at their heights, the third is not taken for either, and
    /// removing either leaves the other findable.
    #[test]
    fn active_index_handles_prefix_collisions() {
        let mut a = Hash256([0xab; 32]);
        let mut b = Hash256([0xcd; 32]);
        let mut stranger = Hash256([0xef; 32]);
        for h in [&mut a, &mut b, &mut stranger] {
            h.0[..4].copy_from_slice(&[1, 2, 3, 4]);
        }
        let other = Hash256([0x11; 32]);
        // Heights 10 (a), 11 (other), 12 (b): what the chain would resolve.
        let table = [(10, a), (11, other), (12, b)];
        let resolve = |h: u32| table.iter().find(|(k, _)| *k == h).map(|(_, x)| *x);
        let mut ix = ActiveIndex::default();
        ix.insert(a, 10);
        ix.insert(other, 11);
        ix.insert(b, 12);
        assert_eq!(ix.get(&a, resolve), Some(10));
        assert_eq!(ix.get(&b, resolve), Some(12));
        assert_eq!(ix.get(&other, resolve), Some(11));
        assert_eq!(ix.get(&stranger, resolve), None);
        assert_eq!(ix.get(&Hash256([0x22; 32]), resolve), None);
        // Remove the one in the prefix table: the colliding one is still found.
        ix.remove(&a, 10);
        let resolve2 = |h: u32| (h != 10).then(|| resolve(h)).flatten();
        assert_eq!(ix.get(&a, resolve2), None);
        assert_eq!(ix.get(&b, resolve2), Some(12));
        // Re-inserted, then the overflow one removed.
        ix.insert(a, 10);
        ix.remove(&b, 12);
        assert_eq!(ix.get(&a, resolve), Some(10));
        assert_eq!(ix.get(&b, resolve), None);
        assert_eq!(ix.get(&other, resolve), Some(11));
        // Removing a hash at a height it is not at changes nothing.
        ix.remove(&other, 12);
        assert_eq!(ix.get(&other, resolve), Some(11));
    }

    /// Core's ChainLock rules in fork choice: a pinned block is never reorganised away, a
    /// header at the locked height with another hash is invalid, and the branch holding a
    /// locked block becomes active whatever its work.
    #[test]
    fn chainlocks_decide_fork_choice() {
        let g = params::genesis_header(NET);
        let a = branch(&g, 20, 1);
        // Pinned at 15: a longer branch forking at 12 is refused, whatever its work.
        let mut c = HeaderChain::from_genesis(NET);
        c.connect(&a).unwrap();
        assert_eq!(
            c.apply_chain_lock(15, a[14].block_hash()),
            ChainLockPlacement::OnChain
        );
        let long = branch(&a[11], 30, 2);
        assert!(matches!(
            c.connect(&long).unwrap_err(),
            ChainError::ConflictsWithChainLock { height: 15, .. }
        ));
        // Its first headers alone (not reaching the locked height) are refused too.
        assert_eq!(
            c.connect(&long[..2]).unwrap_err(),
            ChainError::ForkBelowChainLock {
                fork_height: 12,
                lock_height: 15
            }
        );
        assert_eq!(c.tip(), (20, a[19].block_hash()));
        // A fork above the pin is chosen by work as before.
        let above = branch(&a[16], 10, 3);
        assert!(c.connect(&above).unwrap().reorg.is_some());
        assert_eq!(c.tip(), (27, above[9].block_hash()));

        // A lock for a side-branch block switches to it although the active chain has more
        // work; the old branch can no longer come back.
        let mut c = HeaderChain::from_genesis(NET);
        c.connect(&a).unwrap();
        let short = branch(&a[9], 5, 4); // heights 11..=15, less work than a (to 20)
        assert!(c.connect(&short).unwrap().side_branch);
        match c.apply_chain_lock(13, short[2].block_hash()) {
            ChainLockPlacement::Switched(r) => assert_eq!(r.fork_height, 10),
            p => panic!("{p:?}"),
        }
        // The side headers above the locked block come along.
        assert_eq!(c.tip(), (15, short[4].block_hash()));
        assert_eq!(c.chain_lock(), Some((13, short[2].block_hash())));
        let back = branch(&a[19], 5, 5);
        let mut old = a[10..].to_vec();
        old.extend(back);
        assert!(matches!(
            c.connect(&old).unwrap_err(),
            ChainError::ConflictsWithChainLock { height: 13, .. }
                | ChainError::ForkBelowChainLock { .. }
        ));
        // The locked branch grows as before.
        assert_eq!(c.connect(&branch(&short[4], 2, 8)).unwrap().tip_height, 17);

        // A lock for a block not held yet: the branch that brings it is adopted with less
        // work; any other header at that height is refused.
        let mut c = HeaderChain::from_genesis(NET);
        c.connect(&a).unwrap();
        let other = branch(&a[9], 4, 6); // heights 11..=14
        assert_eq!(
            c.apply_chain_lock(12, other[1].block_hash()),
            ChainLockPlacement::Unknown
        );
        assert!(matches!(
            c.connect(&branch(&a[9], 6, 7)).unwrap_err(),
            ChainError::ConflictsWithChainLock { height: 12, .. }
        ));
        let out = c.connect(&other).unwrap();
        assert_eq!(out.reorg.map(|r| r.fork_height), Some(10));
        assert_eq!(c.tip(), (14, other[3].block_hash()));
        // Older locks change nothing.
        assert_eq!(
            c.apply_chain_lock(11, other[0].block_hash()),
            ChainLockPlacement::NotNewer
        );
    }

    #[test]
    fn extend_index_and_locator() {
        let mut c = HeaderChain::from_genesis(NET);
        let g = params::genesis_header(NET);
        let a = branch(&g, 30, 1);
        let out = c.connect(&a).unwrap();
        assert_eq!(out.new_headers, 30);
        assert_eq!(out.tip_height, 30);
        assert_eq!(c.tip(), (30, a[29].block_hash()));
        assert_eq!(c.len(), 31);
        assert!(!c.is_empty());
        for (i, h) in a.iter().enumerate() {
            let hash = h.block_hash();
            assert_eq!(c.height_of(&hash), Some(i as u32 + 1));
            assert_eq!(c.hash_at(i as u32 + 1), Some(hash));
            assert_eq!(c.merkle_root_of(&hash), Some(Hash256([1; 32])));
        }
        assert_eq!(c.hash_at(0), Some(params::genesis_hash(NET)));
        assert_eq!(c.hash_at(31), None);
        let loc = c.locator();
        let heights: Vec<u32> = loc.iter().map(|h| c.height_of(h).unwrap()).collect();
        assert_eq!(
            heights,
            vec![30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 19, 15, 7, 0]
        );
        // Overlapping batch: only the unknown tail is new.
        let more = branch(&a[29], 3, 1);
        let mut overlap = a[25..].to_vec();
        overlap.extend_from_slice(&more);
        assert_eq!(c.connect(&overlap).unwrap().new_headers, 3);
        assert_eq!(c.connect(&[]).unwrap().new_headers, 0);
    }

    #[test]
    fn reorg_by_work_and_back() {
        let g = params::genesis_header(NET);
        let mut c = HeaderChain::from_genesis(NET);
        let a = branch(&g, 10, 1);
        c.connect(&a).unwrap();
        // Shorter competing branch (equal work at best): kept on the side.
        let s = branch(&a[7], 2, 3);
        let out = c.connect(&s).unwrap();
        assert!(out.side_branch && out.reorg.is_none());
        assert_eq!(out.tip_height, 10);
        assert_eq!(c.side_len(), 2);
        // Branch B from height 5 with 7 headers (tip 12) wins.
        let b = branch(&a[4], 7, 2);
        let out = c.connect(&b[..5]).unwrap(); // height 10: equal work, stays on the side
        assert!(out.side_branch);
        let out = c.connect(&b[5..]).unwrap(); // extends the side branch past the tip
        assert_eq!(out.tip_height, 12);
        assert_eq!(out.tip_hash, b[6].block_hash());
        assert_eq!(
            out.reorg,
            Some(Reorg {
                fork_height: 5,
                disconnected: hashes(&a[5..])
            })
        );
        assert_eq!(c.hash_at(6), Some(b[0].block_hash()));
        assert_eq!(c.height_of(&a[9].block_hash()), None);
        // A extended by 3 (tip 13) takes over again; its blocks come back from the side map.
        let a2 = branch(&a[9], 3, 1);
        let out = c.connect(&a2).unwrap();
        assert_eq!(out.tip_height, 13);
        assert_eq!(
            out.reorg,
            Some(Reorg {
                fork_height: 5,
                disconnected: hashes(&b)
            })
        );
        assert_eq!(c.hash_at(10), Some(a[9].block_hash()));
        assert_eq!(c.hash_at(13), Some(a2[2].block_hash()));
        // Snapshot of the active chain survives the reorgs.
        let back = HeaderChain::from_bytes(NET, &c.to_bytes()).unwrap();
        assert_eq!(back.tip(), c.tip());
        assert_eq!(back.side_len(), 0);
    }

    #[test]
    fn side_branches_are_pruned() {
        let g = params::genesis_header(NET);
        let mut c = HeaderChain::from_genesis(NET).with_max_reorg_depth(5);
        let a = branch(&g, 10, 1);
        c.connect(&a).unwrap();
        c.connect(&branch(&a[6], 1, 2)).unwrap();
        assert_eq!(c.side_len(), 1);
        c.connect(&branch(&a[9], 4, 1)).unwrap();
        assert_eq!(c.side_len(), 0);
    }

    #[test]
    fn invalid_headers_rejected_chain_unchanged() {
        let g = params::genesis_header(NET);
        let mut c = HeaderChain::from_genesis(NET);
        let a = branch(&g, 12, 1);
        c.connect(&a).unwrap();
        let snap = c.to_bytes();
        let tip = a[11];

        // Wrong bits (valid PoW for them, but regtest never retargets).
        let bad = mine(&tip, tip.time + 150, 0x2000_ffff, 9);
        assert!(matches!(
            c.connect(&[bad]).unwrap_err(),
            ChainError::BadDifficulty {
                height: 13,
                bits: 0x2000_ffff,
                expected: BITS,
                ..
            }
        ));
        // Hash above target.
        let mut hi = mine(&tip, tip.time + 150, BITS, 9);
        while pow::check_proof_of_work(&hi.block_hash(), BITS, NET).is_ok() {
            hi.nonce += 1;
        }
        assert!(matches!(
            c.connect(&[hi]).unwrap_err(),
            ChainError::HighHash { height: 13, .. }
        ));
        // Time not after the median of the last 11.
        let old = mine(&tip, a[6].time, BITS, 9);
        assert!(matches!(
            c.connect(&[old]).unwrap_err(),
            ChainError::TimeTooOld { height: 13, .. }
        ));
        // Too far in the future for the caller's clock.
        let future = mine(&tip, tip.time + 3 * 3600, BITS, 9);
        assert!(matches!(
            c.connect_at(&[future], Some(tip.time)).unwrap_err(),
            ChainError::TimeTooNew { height: 13, .. }
        ));
        // Checkpoint mismatch.
        let next = mine(&tip, tip.time + 150, BITS, 9);
        let mut strict = c.clone().with_checkpoints(vec![Checkpoint {
            height: 13,
            hash: Hash256([5; 32]),
        }]);
        assert!(matches!(
            strict.connect(&[next]).unwrap_err(),
            ChainError::CheckpointMismatch { height: 13, .. }
        ));
        // Unknown parent and broken linkage.
        let orphan = mine(&next, next.time + 150, BITS, 9);
        assert!(matches!(
            c.connect(&[orphan]).unwrap_err(),
            ChainError::UnknownParent { .. }
        ));
        assert!(matches!(
            c.connect(&[next, next]).unwrap_err(),
            ChainError::NotLinked { index: 1, .. }
        ));
        // A valid batch with one bad header at the end: nothing is kept.
        let mut batch = branch(&tip, 4, 1);
        batch[3].bits = 0x2000_ffff;
        assert!(c.connect(&batch).is_err());
        assert_eq!(c.to_bytes(), snap);
        assert_eq!(c.side_len(), 0);
        // Reorg limits.
        let mut shallow = c.clone().with_max_reorg_depth(3);
        let deep = branch(&a[5], 10, 7);
        assert!(matches!(
            shallow.connect(&deep).unwrap_err(),
            ChainError::ForkTooDeep {
                fork_height: 6,
                depth: 6,
                max: 3
            }
        ));
        let mut cp = c.clone().with_checkpoints(vec![Checkpoint {
            height: 8,
            hash: a[7].block_hash(),
        }]);
        assert!(matches!(
            cp.connect(&deep).unwrap_err(),
            ChainError::ForkBeforeCheckpoint {
                fork_height: 6,
                checkpoint_height: 8
            }
        ));
        assert_eq!(c.to_bytes(), snap);
    }

    #[test]
    fn anchored_chain_rejects_forks_below_anchor() {
        let g = params::genesis_header(NET);
        let a = branch(&g, 40, 1);
        let mut c = HeaderChain::new(NET, 5, a[4]);
        assert_eq!(c.anchor_height(), 5);
        c.connect(&a[5..]).unwrap();
        assert_eq!(c.tip(), (40, a[39].block_hash()));
        // Below the anchor only the block the anchor points at is known (by its hash).
        assert_eq!(c.hash_at(4), Some(a[3].block_hash()));
        assert_eq!(c.hash_at(3), None);
        assert_eq!(c.merkle_root_of(&a[3].block_hash()), None);
        assert_eq!(*c.locator().last().unwrap(), a[4].block_hash());
        let rival = mine(&a[3], a[3].time + 151, BITS, 8);
        assert!(matches!(
            c.connect(&[rival]).unwrap_err(),
            ChainError::ForkBelowAnchor {
                anchor_height: 5,
                ..
            }
        ));
        let back = HeaderChain::from_bytes(NET, &c.to_bytes()).unwrap();
        assert_eq!(back.tip(), c.tip());
        assert_eq!(back.anchor_height(), 5);
    }

    #[test]
    fn median_time_past_uses_full_window_only() {
        let g = params::genesis_header(NET);
        let a = branch(&g, 5, 1);
        // Height 6 with a time below its parent's but above the median of heights 0..=5.
        let t = g.time + 500;
        let six = mine(&a[4], t, BITS, 1);
        let mut from_genesis = HeaderChain::from_genesis(NET);
        from_genesis.connect(&a).unwrap();
        from_genesis.clone().connect(&[six]).unwrap();
        let too_old = mine(&a[4], g.time + 450, BITS, 1);
        assert!(matches!(
            from_genesis.connect(&[too_old]).unwrap_err(),
            ChainError::TimeTooOld { height: 6, median, .. } if median == g.time + 450
        ));
        // Anchored at 5: the predecessors are unknown, so the header is accepted.
        let mut anchored = HeaderChain::new(NET, 5, a[4]);
        anchored.connect(&[six]).unwrap();
    }

    #[test]
    fn snapshot_errors() {
        use crate::persist::EnvelopeError;
        let c = HeaderChain::from_genesis(NET);
        let b = c.to_bytes();
        assert_eq!(HeaderChain::from_bytes(NET, &b).unwrap().tip(), c.tip());
        // 4 magic + 2 version + 1 network + 32 checksum.
        assert_eq!(
            HeaderChain::from_bytes(NET, &[]).unwrap_err(),
            ChainError::Snapshot(EnvelopeError::Truncated {
                kind: BlobKind::HeaderChain,
                needed: 39,
                got: 0
            })
        );
        let mut v = b.clone();
        v[4] = 9;
        assert_eq!(
            HeaderChain::from_bytes(NET, &v).unwrap_err(),
            ChainError::Snapshot(EnvelopeError::UnsupportedVersion {
                kind: BlobKind::HeaderChain,
                found: 9,
                supported: 1
            })
        );
        let reseal = |mut e: Vec<u8>| {
            let sum = sha256d(&e);
            e.extend_from_slice(&sum.0);
            e
        };
        // Zero headers with a valid checksum.
        let mut e = b[..15].to_vec();
        e[11..15].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            HeaderChain::from_bytes(NET, &reseal(e)).unwrap_err(),
            ChainError::SnapshotEmpty
        );
        // A payload too short for its anchor height and count.
        assert_eq!(
            HeaderChain::from_bytes(NET, &reseal(b[..11].to_vec())).unwrap_err(),
            ChainError::SnapshotTruncated {
                needed: 47,
                got: 43
            }
        );
        // A huge header count (checksum recomputed) does not allocate or panic.
        let mut huge = b[..b.len() - 32].to_vec();
        huge[11..15].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            HeaderChain::from_bytes(NET, &reseal(huge)).unwrap_err(),
            ChainError::SnapshotTruncated { .. }
        ));
        // The same header twice (count and checksum made consistent).
        let mut twice = b[..b.len() - 32].to_vec();
        twice[11..15].copy_from_slice(&2u32.to_le_bytes());
        twice.extend_from_slice(&b[15..95]);
        assert!(matches!(
            HeaderChain::from_bytes(NET, &reseal(twice)).unwrap_err(),
            ChainError::SnapshotDuplicate
        ));
    }

    #[test]
    fn headers_below_the_anchor_are_proven_by_linkage() {
        let g = params::genesis_header(NET);
        let a = branch(&g, 60, 1);
        // a[i] is at height i + 1; anchor at height 40.
        let mut c = HeaderChain::new(NET, 40, a[39]);
        c.connect(&a[40..]).unwrap();
        assert_eq!(c.lowest_height(), 40);
        assert_eq!(c.height_of(&a[38].block_hash()), Some(39));
        assert_eq!(c.height_of(&a[37].block_hash()), None);
        // A batch that does not reach the block the anchor points at is refused.
        assert!(matches!(
            c.connect_below(&a[20..30], usize::MAX).unwrap_err(),
            ChainError::UnknownParent { .. }
        ));
        // A batch that is not linked within itself is refused.
        let mut broken = a[30..40].to_vec();
        broken[3] = mine(&a[20], a[20].time + 150, BITS, 7);
        assert!(matches!(
            c.connect_below(&broken, usize::MAX).unwrap_err(),
            ChainError::NotLinked { index: 3, .. }
        ));
        // A header from another branch ending at the same height is refused too.
        let rival = branch(&a[20], 18, 9);
        assert!(c.connect_below(&rival, usize::MAX).is_err());
        assert_eq!(c.below_anchor_len(), 0);
        // Heights 31..=39 plus the anchor itself (ignored: already held); at most 5 taken.
        assert_eq!(c.connect_below(&a[30..40], 5).unwrap(), 5);
        assert_eq!(c.lowest_height(), 35);
        assert_eq!(c.connect_below(&a[30..35], usize::MAX).unwrap(), 4);
        assert_eq!(c.lowest_height(), 31);
        for h in 31..=60u32 {
            let hdr = a[h as usize - 1];
            assert_eq!(c.hash_at(h), Some(hdr.block_hash()), "height {h}");
            assert_eq!(c.height_of(&hdr.block_hash()), Some(h));
            assert_eq!(c.merkle_root_of(&hdr.block_hash()), Some(hdr.merkle_root));
            assert_eq!(c.version_and_time_at(h), Some((hdr.version, hdr.time)));
        }
        // Height 30: hash known (header 31 points at it), header not held.
        assert_eq!(c.hash_at(30), Some(a[29].block_hash()));
        assert_eq!(c.height_of(&a[29].block_hash()), Some(30));
        assert_eq!(c.merkle_root_of(&a[29].block_hash()), None);
        assert_eq!(c.hash_at(29), None);
        // Below-anchor headers are not a base for forward connects, and never reorg.
        let fork = mine(&a[34], a[34].time + 151, BITS, 3);
        assert!(c.connect(&[fork]).is_err());
        assert_eq!(c.tip(), (60, a[59].block_hash()));
        // A linked header whose hash misses its own target is refused, with nothing added.
        let mut weak = a[9];
        weak.bits = 0x1d00_ffff;
        let on_weak = branch(&weak, 5, 4);
        let mut d = HeaderChain::new(NET, 15, on_weak[4]);
        let mut batch = vec![weak];
        batch.extend_from_slice(&on_weak[..4]);
        assert!(matches!(
            d.connect_below(&batch, usize::MAX).unwrap_err(),
            ChainError::HighHash { height: 10, .. }
        ));
        assert_eq!(d.below_anchor_len(), 0);
    }
}
