//! The client's saved state and its crash-safe layout in the host's store (`docs/STORAGE.md`).
//!
//! Two generations live under [`SLOT_A`] and [`SLOT_B`]; [`HEAD`] names the newest and is written
//! last. The header chain, the bulk of the state, is not in the slots: it is cut into segments of
//! [`segment_len`] headers, each saved once under a key of its own (`dqs.hdr.<index>.<tag>`, the
//! tag taken from the block hash of the segment's last header) when it is full; a slot holds the
//! list of the segments its chain is made of, the newest partial segment, the engine and the
//! ChainLock. A save ([`save_state`]) writes the full segments no kept generation holds yet, then
//! the slot the head does not name, removes the segments neither the new nor the kept generation
//! references, then writes the head. A save interrupted at any store call leaves the previous
//! generation loadable: a segment the kept generation references is never written or removed, and
//! the head, written last, still names it. Loading verifies magic, version, network and checksum
//! of every blob (each segment, and that it is the one the slot lists) and falls back to the other
//! generation before giving up. Single-blob states written by earlier builds ([`encode`]) load;
//! the next save writes the segmented layout.

use super::{Store, StoreError};
use crate::chain::{HeaderChain, HeaderIndex};
use crate::engine::{Engine, EngineConfig};
use crate::hashes::{sha256d, Hash256};
use crate::network::Network;
use crate::persist::{BlobKind, Envelope, EnvelopeError};
use crate::wire::header::BlockHeader;

/// Key of generation A.
pub const SLOT_A: &str = "dqs.state.a";
/// Key of generation B.
pub const SLOT_B: &str = "dqs.state.b";
/// Key naming the newest generation.
pub const HEAD: &str = "dqs.state.head";
/// The library's fixed keys. Besides these it uses only header-segment keys, which start with
/// [`SEGMENT_PREFIX`] ([`is_library_key`]); it never touches any other key.
pub const KEYS: [&str; 3] = [SLOT_A, SLOT_B, HEAD];
/// What every header-segment key starts with: `dqs.hdr.<index>.<tag>`, the index in decimal and
/// the tag 16 (or, to avoid a clash with another segment at the same index, 64) lowercase hex
/// digits of the block hash of the segment's last header.
pub const SEGMENT_PREFIX: &str = "dqs.hdr.";

/// True for a key the library may use: one of [`KEYS`] or a header-segment key.
pub fn is_library_key(key: &str) -> bool {
    if KEYS.contains(&key) {
        return true;
    }
    let Some(rest) = key.strip_prefix(SEGMENT_PREFIX) else {
        return false;
    };
    let Some((index, tag)) = rest.split_once('.') else {
        return false;
    };
    !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && matches!(tag.len(), 16 | 64)
        && tag
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Headers per segment the library writes for `network`: 8,192 (655 KB; a year of mainnet is 26
/// segments, the whole chain from genesis under 300). Regtest, whose chains are short test
/// chains, uses 128 so that tests cross segment boundaries. The length is stored in each state,
/// so a state written with another length still loads.
pub const fn segment_len(network: Network) -> u32 {
    match network {
        Network::Regtest => 128,
        _ => 8192,
    }
}

const HEAD_MAGIC: &[u8; 4] = b"DQSH";
/// Size of the optional ChainLock layer: height (u32 LE) and block hash.
const CHAIN_LOCK_LAYER: usize = 4 + 32;
/// Single-blob client state format version ([`crate::persist::STATE_FORMAT`]).
pub const STATE_VERSION: u16 = BlobKind::State.version();
/// Segment lengths a saved state may declare (what this library writes lies within).
const SEGMENT_LEN_RANGE: std::ops::RangeInclusive<u32> = 16..=1 << 16;
/// The most headers a saved chain may hold (as many as the largest header-chain snapshot).
const MAX_SAVED_HEADERS: usize = (1 << 30) / 80;
/// Tag lengths (hex digits) of a segment key.
const SHORT_TAG: u8 = 16;
const LONG_TAG: u8 = 64;

/// Why saved state could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing saved yet.
    #[error("no saved state")]
    Empty,
    /// The blob's envelope is unusable (not a state blob, another format version or network,
    /// a checksum mismatch, too short or too large).
    #[error("saved state is unusable: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The envelope is sound but its contents are unusable (a layer failed its checks, the
    /// layers do not agree, or a header segment is missing, corrupt or not the one listed).
    #[error("saved state is unusable: {0}")]
    Corrupt(String),
}

/// The state a client saves.
#[derive(Debug)]
pub struct SavedState {
    /// Header chain.
    pub headers: HeaderChain,
    /// Masternode-list engine.
    pub engine: Engine,
}

/// Serializes a client state as one blob, the layout written before the header chain was
/// segmented: the storage envelope ([`crate::persist`], kind [`BlobKind::State`]): `"DQSC"`,
/// version, network, then the payload — u64 length and the header chain snapshot, u64 length
/// and the engine snapshot, and when the chain is pinned by a ChainLock, u64 length (36) and the
/// lock's height (u32) and block hash — then the checksum. Blobs without the last layer (all
/// blobs written before it existed) load unpinned.
///
/// The client no longer writes this layout ([`save_state`] writes the segmented one); it is kept
/// because such blobs still load ([`decode`]), to produce them in tests, and for tools that want
/// a state as one blob.
pub fn encode(headers: &HeaderChain, engine: &Engine) -> Vec<u8> {
    let mut e = engine.to_bytes();
    // Its buffer grew by doubling; give the spare room back before the large allocation.
    e.shrink_to_fit();
    let h_len = headers.encoded_len();
    let env = Envelope::state(headers.network());
    let lock_len = headers.chain_lock().map_or(0, |_| 8 + CHAIN_LOCK_LAYER);
    let mut out = Vec::with_capacity(env.blob_len(16 + h_len + e.len() + lock_len));
    let start = env.begin_in(&mut out);
    out.extend_from_slice(&(h_len as u64).to_le_bytes());
    let h_start = out.len();
    headers.write_to(&mut out);
    debug_assert_eq!(out.len() - h_start, h_len, "HeaderChain::encoded_len");
    out.extend_from_slice(&(e.len() as u64).to_le_bytes());
    out.extend_from_slice(&e);
    drop(e);
    write_lock_layer(headers, &mut out);
    env.seal_in(&mut out, start);
    out
}

/// Appends the optional ChainLock layer (absent in blobs written before it existed).
fn write_lock_layer(headers: &HeaderChain, out: &mut Vec<u8>) {
    if let Some((height, hash)) = headers.chain_lock() {
        out.extend_from_slice(&(CHAIN_LOCK_LAYER as u64).to_le_bytes());
        out.extend_from_slice(&height.to_le_bytes());
        out.extend_from_slice(&hash.0);
    }
}

/// A `u64`-length-prefixed layer of the payload at `*at`, advancing `at`. The length is checked
/// against the bytes present before anything is sliced.
fn take_layer<'a>(payload: &'a [u8], at: &mut usize, what: &str) -> Result<&'a [u8], StateError> {
    let start = at.saturating_add(8);
    let len_bytes = payload
        .get(*at..start)
        .ok_or_else(|| StateError::Corrupt(format!("{what}: truncated length")))?;
    let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| start.checked_add(l))
        .filter(|e| *e <= payload.len())
        .ok_or_else(|| {
            StateError::Corrupt(format!(
                "{what}: length beyond the blob ({len} bytes declared, {} present)",
                payload.len() - start.min(payload.len())
            ))
        })?;
    *at = end;
    Ok(&payload[start..end])
}

/// `n` bytes of the payload at `*at`, advancing `at`.
fn take<'a>(
    payload: &'a [u8],
    at: &mut usize,
    n: usize,
    what: &str,
) -> Result<&'a [u8], StateError> {
    let end = at
        .checked_add(n)
        .filter(|e| *e <= payload.len())
        .ok_or_else(|| StateError::Corrupt(format!("{what}: truncated")))?;
    let b = &payload[*at..end];
    *at = end;
    Ok(b)
}

fn take_u32(payload: &[u8], at: &mut usize, what: &str) -> Result<u32, StateError> {
    Ok(u32::from_le_bytes(
        take(payload, at, 4, what)?.try_into().expect("4 bytes"),
    ))
}

/// A saved ChainLock: height and block hash.
type ChainLockPin = (u32, Hash256);

/// The engine layer and the optional ChainLock layer at `*at`, which must end the payload.
fn take_tail<'a>(
    payload: &'a [u8],
    at: &mut usize,
) -> Result<(&'a [u8], Option<ChainLockPin>), StateError> {
    let e = take_layer(payload, at, "engine")?;
    let lock = if payload.len() - *at >= 8 {
        let l = take_layer(payload, at, "chain lock")?;
        if l.len() != CHAIN_LOCK_LAYER {
            return Err(StateError::Corrupt(format!(
                "chain lock: {} bytes, expected {CHAIN_LOCK_LAYER}",
                l.len()
            )));
        }
        let height = u32::from_le_bytes(l[..4].try_into().expect("4 bytes"));
        let hash = Hash256(l[4..].try_into().expect("32 bytes"));
        Some((height, hash))
    } else {
        None
    };
    if *at != payload.len() {
        return Err(StateError::Corrupt(format!(
            "{} bytes after the engine layer",
            payload.len() - *at
        )));
    }
    Ok((e, lock))
}

/// Decodes and fully checks a single-blob client state ([`encode`]) for `cfg`'s network. A
/// segmented state needs its segments: [`decode_in`].
pub fn decode(cfg: &EngineConfig, bytes: &[u8]) -> Result<SavedState, StateError> {
    let payload = Envelope::state(cfg.network()).open(bytes)?;
    let mut at = 0;
    let h = take_layer(payload, &mut at, "headers")?;
    let (e, lock) = take_tail(payload, &mut at)?;
    let headers = HeaderChain::from_bytes(cfg.network(), h)
        .map_err(|e| StateError::Corrupt(format!("headers: {e}")))?;
    finish(cfg, headers, e, lock)
}

/// Pins the restored chain, decodes the engine and checks that its lists are on the chain.
fn finish(
    cfg: &EngineConfig,
    mut headers: HeaderChain,
    e: &[u8],
    lock: Option<(u32, Hash256)>,
) -> Result<SavedState, StateError> {
    if let Some((height, hash)) = lock {
        // The pin is on the saved chain, or above/off it (its block was not fetched yet).
        if let Some(ours) = HeaderIndex::hash_at(&headers, height) {
            if ours != hash {
                return Err(StateError::Corrupt(format!(
                    "the saved ChainLock at {height} conflicts with the saved header chain"
                )));
            }
        }
        headers.restore_chain_lock(height, hash);
    }
    let engine = Engine::from_bytes(cfg.clone(), e)
        .map_err(|e| StateError::Corrupt(format!("engine: {e}")))?;
    // The engine's lists must be on the saved header chain.
    for (height, hash) in engine.held_lists() {
        if HeaderIndex::hash_at(&headers, height) != Some(hash) {
            return Err(StateError::Corrupt(format!(
                "list at {height} is not on the saved header chain"
            )));
        }
    }
    Ok(SavedState { headers, engine })
}

/// Decodes and fully checks a client state of either layout for `cfg`'s network, reading a
/// segmented state's header segments from `store` one at a time (never all at once).
pub fn decode_in(
    cfg: &EngineConfig,
    bytes: &[u8],
    store: &dyn Store,
) -> Result<SavedState, StateError> {
    if bytes.get(..4) == Some(&BlobKind::SegmentedState.magic()[..]) {
        decode_segmented(cfg, bytes, store)
    } else {
        decode(cfg, bytes)
    }
}

/// A full segment as a generation references it: its position in the chain (segment `index`
/// holds the active headers `index × len .. (index + 1) × len`, counted from the anchor), the
/// block hash of its last header (which, headers being linked by hash, fixes every header of
/// it), and how many hex digits of that hash its key carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SegRef {
    index: u32,
    last: Hash256,
    tag_len: u8,
}

impl SegRef {
    /// The segment's key: `dqs.hdr.<index>.<tag>`.
    fn key(&self) -> String {
        let tag = hex::encode(self.last.0);
        format!(
            "{SEGMENT_PREFIX}{}.{}",
            self.index,
            &tag[..self.tag_len as usize]
        )
    }

    const LEN: usize = 4 + 1 + 32;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.index.to_le_bytes());
        out.push(self.tag_len);
        out.extend_from_slice(&self.last.0);
    }

    fn read(b: &[u8]) -> Option<SegRef> {
        let tag_len = b[4];
        matches!(tag_len, SHORT_TAG | LONG_TAG).then(|| SegRef {
            index: u32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
            tag_len,
            last: Hash256(b[5..37].try_into().expect("32 bytes")),
        })
    }
}

/// The segmented slot's payload before the partial headers.
struct SlotHead {
    seg_len: u32,
    anchor_height: u32,
    count: usize,
    segments: Vec<SegRef>,
    partial: usize,
}

/// Reads a segmented slot's payload up to its partial headers (`*at` left on them), checking
/// every count against the others and the bytes present.
fn read_slot_head(payload: &[u8], at: &mut usize) -> Result<SlotHead, StateError> {
    let seg_len = take_u32(payload, at, "headers")?;
    let anchor_height = take_u32(payload, at, "headers")?;
    let count = take_u32(payload, at, "headers")? as usize;
    let n = take_u32(payload, at, "headers")? as usize;
    if !SEGMENT_LEN_RANGE.contains(&seg_len) {
        return Err(StateError::Corrupt(format!(
            "headers: segment length {seg_len} out of range"
        )));
    }
    let list = take(
        payload,
        at,
        n.saturating_mul(SegRef::LEN),
        "headers: segment list",
    )?;
    let mut segments = Vec::with_capacity(n);
    for (i, b) in list.chunks_exact(SegRef::LEN).enumerate() {
        let r = SegRef::read(b)
            .filter(|r| r.index as usize == i)
            .ok_or_else(|| StateError::Corrupt(format!("headers: segment entry {i} is invalid")))?;
        segments.push(r);
    }
    let partial = take_u32(payload, at, "headers")? as usize;
    let full = n * seg_len as usize;
    if count == 0 || count > MAX_SAVED_HEADERS || full.checked_add(partial) != Some(count) {
        return Err(StateError::Corrupt(format!(
            "headers: {count} headers do not make {n} segments of {seg_len} and {partial} more"
        )));
    }
    (anchor_height as u64 + count as u64 - 1 <= u32::MAX as u64)
        .then_some(())
        .ok_or_else(|| StateError::Corrupt("headers: heights overflow".into()))?;
    Ok(SlotHead {
        seg_len,
        anchor_height,
        count,
        segments,
        partial,
    })
}

fn parse_headers(bytes: &[u8]) -> Vec<BlockHeader> {
    bytes
        .chunks_exact(80)
        .map(|c| BlockHeader::from_array(c.try_into().expect("80 bytes")))
        .collect()
}

/// Adds `headers` to the chain being restored, starting it with the first one (the anchor) when
/// there is no chain yet.
fn restore(
    chain: &mut Option<HeaderChain>,
    network: Network,
    slot: &SlotHead,
    headers: &[BlockHeader],
) -> Result<(), crate::chain::ChainError> {
    match chain {
        Some(c) => {
            // Room for what was loaded, not for the count the slot declares (a slot of a few
            // bytes could declare millions of headers).
            c.restore_reserve(headers.len());
            c.restore_extend(headers)
        }
        None => {
            let mut c = HeaderChain::restore_anchor(
                network,
                slot.anchor_height,
                headers[0],
                headers.len(),
            )?;
            c.restore_extend(&headers[1..])?;
            *chain = Some(c);
            Ok(())
        }
    }
}

/// Decodes a segmented state: its slot blob, then each segment it lists, loaded from `store`,
/// checked (envelope, position, length) and connected (every header revalidated), its last
/// header's hash compared with the list's.
fn decode_segmented(
    cfg: &EngineConfig,
    bytes: &[u8],
    store: &dyn Store,
) -> Result<SavedState, StateError> {
    let network = cfg.network();
    let payload = Envelope::segmented_state(network).open(bytes)?;
    let mut at = 0;
    let slot = read_slot_head(payload, &mut at)?;
    let partial = take(
        payload,
        &mut at,
        slot.partial * 80,
        "headers: partial segment",
    )?;
    let (e, lock) = take_tail(payload, &mut at)?;
    let mut chain: Option<HeaderChain> = None;
    let env = Envelope::header_segment(network);
    for r in &slot.segments {
        let key = r.key();
        let bad = |why: String| StateError::Corrupt(format!("headers: segment {key}: {why}"));
        let blob = store
            .load(&key)?
            .ok_or_else(|| bad("missing from the store".into()))?;
        let seg = env.open(&blob).map_err(|e| bad(e.to_string()))?;
        let first = slot.anchor_height + r.index * slot.seg_len;
        let expected_len = 8 + slot.seg_len as usize * 80;
        if seg.len() != expected_len
            || seg[..4] != first.to_le_bytes()
            || seg[4..8] != slot.seg_len.to_le_bytes()
        {
            return Err(bad(format!(
                "not the {} headers from height {first}",
                slot.seg_len
            )));
        }
        let headers = parse_headers(&seg[8..]);
        drop(blob);
        restore(&mut chain, network, &slot, &headers).map_err(|e| bad(e.to_string()))?;
        let got = chain.as_ref().expect("restored").tip().1;
        if got != r.last {
            return Err(bad(format!(
                "ends at block {got}, the state lists {}",
                r.last
            )));
        }
    }
    if !partial.is_empty() {
        restore(&mut chain, network, &slot, &parse_headers(partial))
            .map_err(|e| StateError::Corrupt(format!("headers: partial segment: {e}")))?;
    }
    let headers = chain.expect("at least one header");
    debug_assert_eq!(headers.len(), slot.count);
    finish(cfg, headers, e, lock)
}

/// What a save reads the state from. Called several times during one save, each time briefly
/// (whatever guards the state can be held for the call): once to plan the save, then once per
/// header segment to write. Between calls the state may change; the save then plans again.
pub trait StateSource {
    /// Calls `f` with the header chain and the engine to save.
    fn with_state(&self, f: &mut dyn FnMut(&HeaderChain, &Engine));
    /// Calls `f` with the header chain to save.
    fn with_headers(&self, f: &mut dyn FnMut(&HeaderChain));
}

/// A state held by the caller, to save as it is.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// The header chain.
    pub headers: &'a HeaderChain,
    /// The engine.
    pub engine: &'a Engine,
}

impl StateSource for Snapshot<'_> {
    fn with_state(&self, f: &mut dyn FnMut(&HeaderChain, &Engine)) {
        f(self.headers, self.engine)
    }
    fn with_headers(&self, f: &mut dyn FnMut(&HeaderChain)) {
        f(self.headers)
    }
}

/// What one save wrote and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveReport {
    /// Store calls that wrote (segments, slot, head).
    pub writes: usize,
    /// Bytes handed to the store's `save` in all.
    pub bytes_written: usize,
    /// Header segments written.
    pub segments_written: usize,
    /// Size of the slot blob written.
    pub slot_bytes: usize,
    /// Keys removed (segments no generation references any more).
    pub removed: usize,
    /// Segment keys whose removal failed; listed in the head and tried again by the next save.
    pub left_over: usize,
}

/// A save's plan, made with the state held: the new generation's segment list, the segments
/// the kept generation does not hold, and the slot blob.
struct Plan {
    anchor_height: u32,
    seg_len: u32,
    segments: Vec<SegRef>,
    to_write: Vec<SegRef>,
    slot_blob: Vec<u8>,
}

/// The tag length for segment `index` ending at `last`: the short tag, unless another segment
/// at that index with the same short tag is known to the store (then the full hash).
fn tag_len(index: u32, last: Hash256, known: &[&[SegRef]]) -> u8 {
    let short = SegRef {
        index,
        last,
        tag_len: SHORT_TAG,
    };
    let clash = known
        .iter()
        .flat_map(|l| l.iter())
        .any(|r| r.index == index && r.last != last && r.key() == short.key());
    if clash {
        LONG_TAG
    } else {
        SHORT_TAG
    }
}

/// `kept`: the segments of the generation kept (never written over with other bytes);
/// `trusted`: those of them known to be in the store (not written again); `others`: segments
/// the store may hold besides.
fn plan(
    headers: &HeaderChain,
    engine: &Engine,
    kept: &[SegRef],
    trusted: &[SegRef],
    others: &[SegRef],
) -> Plan {
    let network = headers.network();
    let seg_len = segment_len(network);
    let anchor_height = headers.anchor_height();
    let count = headers.len();
    let n = count / seg_len as usize;
    let segments: Vec<SegRef> = (0..n as u32)
        .map(|index| {
            let last_height = anchor_height + (index + 1) * seg_len - 1;
            let last = HeaderIndex::hash_at(headers, last_height).expect("on the active chain");
            SegRef {
                index,
                last,
                tag_len: tag_len(index, last, &[kept, others]),
            }
        })
        .collect();
    let to_write = segments
        .iter()
        .filter(|r| !trusted.contains(r))
        .copied()
        .collect();
    let partial_from = anchor_height + (n as u32) * seg_len;
    let partial = count - n * seg_len as usize;

    let mut e = engine.to_bytes();
    e.shrink_to_fit();
    let env = Envelope::segmented_state(network);
    let lock_len = headers.chain_lock().map_or(0, |_| 8 + CHAIN_LOCK_LAYER);
    let payload_len = 20 + n * SegRef::LEN + partial * 80 + 8 + e.len() + lock_len;
    let mut out = Vec::with_capacity(env.blob_len(payload_len));
    let start = env.begin_in(&mut out);
    out.extend_from_slice(&seg_len.to_le_bytes());
    out.extend_from_slice(&anchor_height.to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for r in &segments {
        r.write(&mut out);
    }
    out.extend_from_slice(&(partial as u32).to_le_bytes());
    for h in partial_from..partial_from + partial as u32 {
        out.extend_from_slice(&headers.header_at(h).expect("active").to_array());
    }
    out.extend_from_slice(&(e.len() as u64).to_le_bytes());
    out.extend_from_slice(&e);
    drop(e);
    write_lock_layer(headers, &mut out);
    env.seal_in(&mut out, start);
    debug_assert_eq!(out.len(), env.blob_len(payload_len));
    Plan {
        anchor_height,
        seg_len,
        segments,
        to_write,
        slot_blob: out,
    }
}

/// The blob of segment `r` of a chain anchored at `anchor_height`, or `None` when the chain no
/// longer holds that segment (it changed since the plan).
fn segment_blob(
    headers: &HeaderChain,
    anchor_height: u32,
    seg_len: u32,
    r: &SegRef,
) -> Option<Vec<u8>> {
    let first = anchor_height + r.index * seg_len;
    let last = first + seg_len - 1;
    if headers.anchor_height() != anchor_height
        || HeaderIndex::hash_at(headers, last) != Some(r.last)
    {
        return None;
    }
    let env = Envelope::header_segment(headers.network());
    let mut out = Vec::with_capacity(env.blob_len(8 + seg_len as usize * 80));
    let start = env.begin_in(&mut out);
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&seg_len.to_le_bytes());
    for h in first..=last {
        out.extend_from_slice(&headers.header_at(h)?.to_array());
    }
    env.seal_in(&mut out, start);
    Some(out)
}

/// How often a save plans again when the state changed under it before giving up.
const PLAN_ATTEMPTS: usize = 4;

/// Saves a new generation of the state `src` holds (`docs/STORAGE.md`):
///
/// 1. reads the head and the slot it names: when that slot holds the blob the head was written
///    for (its tag), its generation is kept and the segments it lists are in the store (they
///    were verified when it was loaded and are never removed while it is kept); the other slot
///    is overwritten, and the segments it lists, those the head lists for it and those left
///    over from earlier saves may be garbage. When it does not (lost, corrupt, slots swapped),
///    the named slot is overwritten instead, the other one kept, and its segments, unverified,
///    are written again (never with other bytes: a key names one content);
/// 2. plans with the state held: the segment list, the slot blob (partial segment, engine,
///    ChainLock);
/// 3. writes each full segment not known to be in the store (one at a time, each copied from
///    the state just before it is written, and read back: a store that kept other bytes fails
///    the save);
/// 4. writes the slot;
/// 5. removes the segments neither the new nor the kept generation references (a failed
///    removal is not an error: the key is listed in the head and removed by a later save);
/// 6. writes the head: slot, generation, the slot's tag, the new and the kept generation's
///    segment lists and the keys left over.
///
/// Never more than one segment and the slot blob (or one slot read back) are held at once.
/// Interrupted at any store call, the kept generation stays loadable (none of its keys is
/// written with other bytes or removed, and the head names it until step 6, or names a slot
/// that does not hold its generation).
pub fn save_state(store: &dyn Store, src: &dyn StateSource) -> Result<SaveReport, StoreError> {
    let head = store.load(HEAD)?;
    let parsed = head.as_deref().and_then(parse_head);
    drop(head);
    // The slot the head names must hold the blob the head was written for (its tag): then its
    // generation is the one kept, and its segments (verified when it was loaded, never removed
    // since) need not be written again.
    let named = match &parsed {
        Some(h) => store.load(h.slot)?.map(|b| {
            (
                h.tag.is_none() || h.tag == Some(slot_tag(&b)),
                slot_manifest(&b),
            )
        }),
        None => None,
    };
    let (slot, generation, kept, trusted, mut garbage) = match (parsed, named) {
        (Some(h), Some((true, named_segments))) => {
            let slot = other(h.slot);
            let mut garbage = slot_segments(store, slot)?;
            if let Some(l) = h.lists {
                garbage.extend(l.other);
                garbage.extend(l.left_over);
            }
            (
                slot,
                h.generation + 1,
                named_segments.clone(),
                named_segments,
                garbage,
            )
        }
        // The head names a slot that does not hold its generation (lost, corrupt, or the slots
        // swapped): the named slot is rewritten and the other one kept; its segments are not
        // removed but, unverified, written again.
        (Some(h), named) => {
            let kept = slot_segments(store, other(h.slot))?;
            let mut garbage = named.map(|n| n.1).unwrap_or_default();
            if let Some(l) = h.lists {
                garbage.extend(l.named);
                garbage.extend(l.other);
                garbage.extend(l.left_over);
            }
            (h.slot, h.generation + 1, kept, Vec::new(), garbage)
        }
        // No usable head: as above, slot A rewritten.
        (None, _) => (
            SLOT_A,
            1,
            slot_segments(store, SLOT_B)?,
            Vec::new(),
            slot_segments(store, SLOT_A)?,
        ),
    };
    let mut report = SaveReport::default();
    for _ in 0..PLAN_ATTEMPTS {
        let mut planned = None;
        src.with_state(&mut |h, e| planned = Some(plan(h, e, &kept, &trusted, &garbage)));
        let p = planned.expect("the source calls back");
        let mut changed = false;
        for r in &p.to_write {
            let mut blob = None;
            src.with_headers(&mut |h| blob = segment_blob(h, p.anchor_height, p.seg_len, r));
            let Some(blob) = blob else {
                changed = true;
                break;
            };
            let key = r.key();
            // Written now: garbage unless the new generation references it.
            garbage.push(*r);
            store.save(&key, &blob)?;
            report.writes += 1;
            report.bytes_written += blob.len();
            report.segments_written += 1;
            if store.load(&key)?.as_deref() != Some(&blob[..]) {
                return Err(StoreError(format!(
                    "{key}: the store returned other bytes than were just saved"
                )));
            }
        }
        if changed {
            continue;
        }
        store.save(slot, &p.slot_blob)?;
        report.writes += 1;
        report.bytes_written += p.slot_blob.len();
        report.slot_bytes = p.slot_blob.len();
        let tag = slot_tag(&p.slot_blob);
        drop(p.slot_blob);
        let keep: std::collections::HashSet<String> =
            p.segments.iter().chain(&kept).map(SegRef::key).collect();
        let mut left_over: Vec<SegRef> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &garbage {
            let key = r.key();
            if keep.contains(&key) || !seen.insert(key.clone()) {
                continue;
            }
            match store.remove(&key) {
                Ok(()) => report.removed += 1,
                Err(_) => left_over.push(*r),
            }
        }
        report.left_over = left_over.len();
        let head = head_bytes(
            slot,
            generation,
            &tag,
            Some(&HeadLists {
                named: p.segments,
                other: kept,
                left_over,
            }),
        );
        store.save(HEAD, &head)?;
        report.writes += 1;
        report.bytes_written += head.len();
        return Ok(report);
    }
    Err(StoreError(
        "the header chain kept changing during the save; saved at the next one".into(),
    ))
}

/// The segments the blob in `slot` references (none for a single-blob state, an absent slot or
/// one that does not open).
fn slot_segments(store: &dyn Store, slot: &str) -> Result<Vec<SegRef>, StoreError> {
    Ok(store
        .load(slot)?
        .map(|b| slot_manifest(&b))
        .unwrap_or_default())
}

/// The segments a slot blob references (none for a single-blob state or a blob that does not
/// open).
fn slot_manifest(bytes: &[u8]) -> Vec<SegRef> {
    let Some(network) = bytes
        .get(6)
        .and_then(|b| crate::persist::network_from_byte(*b))
    else {
        return Vec::new();
    };
    let Ok(payload) = Envelope::segmented_state(network).open(bytes) else {
        return Vec::new();
    };
    let mut at = 0;
    read_slot_head(payload, &mut at)
        .map(|s| s.segments)
        .unwrap_or_default()
}

/// What a head record binds its slot to: the last 32 bytes of the blob written there (for a
/// state blob, its envelope's SHA256d checksum, which loading verifies against the rest), so a
/// slot holding another generation than the head names is recognised without decoding it.
fn slot_tag(blob: &[u8]) -> [u8; 32] {
    match blob.len().checked_sub(32) {
        Some(at) => blob[at..].try_into().expect("32 bytes"),
        None => sha256d(blob).0,
    }
}

/// The segment lists a head carries (absent in heads written before segments existed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeadLists {
    /// The segments of the generation the head names.
    named: Vec<SegRef>,
    /// The segments of the generation in the other slot when the head was written.
    other: Vec<SegRef>,
    /// Segments a save could not remove.
    left_over: Vec<SegRef>,
}

/// A parsed head record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    slot: &'static str,
    generation: u64,
    /// The slot's tag (absent in the 17-byte head written before the tag existed).
    tag: Option<[u8; 32]>,
    lists: Option<HeadLists>,
}

/// The fixed part of a head: magic, slot byte, u64 generation, tag.
const HEAD_FIXED: usize = 4 + 1 + 8 + 32;

/// Head record: magic, slot byte, u64 generation, the slot's tag ([`slot_tag`]); then, when
/// `lists` is given, three segment lists (u32 count and 37-byte entries each: u32 index, u8 tag
/// length, last block hash) and the SHA256d of what precedes (32 bytes); without lists, the
/// first four bytes of that SHA256d (the 49-byte head of earlier builds).
fn head_bytes(slot: &str, generation: u64, tag: &[u8; 32], lists: Option<&HeadLists>) -> Vec<u8> {
    let mut b = HEAD_MAGIC.to_vec();
    b.push(if slot == SLOT_A { b'a' } else { b'b' });
    b.extend_from_slice(&generation.to_le_bytes());
    b.extend_from_slice(tag);
    let sum_len = match lists {
        Some(l) => {
            for list in [&l.named, &l.other, &l.left_over] {
                b.extend_from_slice(&(list.len() as u32).to_le_bytes());
                for r in list {
                    r.write(&mut b);
                }
            }
            32
        }
        None => 4,
    };
    let sum = sha256d(&b);
    b.extend_from_slice(&sum.0[..sum_len]);
    b
}

/// Parses a head record of any of its three forms (17 bytes: no tag; 49 bytes: tag; longer:
/// tag and segment lists).
fn parse_head(b: &[u8]) -> Option<Head> {
    let sum_len = match b.len() {
        17 | 49 => 4,
        n if n >= HEAD_FIXED + 12 + 32 => 32,
        _ => return None,
    };
    let body = &b[..b.len() - sum_len];
    if &b[..4] != HEAD_MAGIC || sha256d(body).0[..sum_len] != b[body.len()..] {
        return None;
    }
    let slot = match b[4] {
        b'a' => SLOT_A,
        b'b' => SLOT_B,
        _ => return None,
    };
    let generation = u64::from_le_bytes(b[5..13].try_into().ok()?);
    let tag = (body.len() >= HEAD_FIXED).then(|| b[13..45].try_into().expect("32 bytes"));
    let lists = if sum_len == 32 {
        let mut at = HEAD_FIXED;
        let mut read = || -> Option<Vec<SegRef>> {
            let n = u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?) as usize;
            at += 4;
            let end = at.checked_add(n.checked_mul(SegRef::LEN)?)?;
            let list = body
                .get(at..end)?
                .chunks_exact(SegRef::LEN)
                .map(SegRef::read)
                .collect::<Option<Vec<_>>>()?;
            at = end;
            Some(list)
        };
        let named = read()?;
        let other = read()?;
        let left_over = read()?;
        if at != body.len() {
            return None;
        }
        Some(HeadLists {
            named,
            other,
            left_over,
        })
    } else {
        None
    };
    Some(Head {
        slot,
        generation,
        tag,
        lists,
    })
}

fn other(slot: &str) -> &'static str {
    if slot == SLOT_A {
        SLOT_B
    } else {
        SLOT_A
    }
}

/// Loads the newest usable generation. Returns the state and, when the generation the head
/// names was not the one loaded (unusable, absent, or found in the other slot because the
/// slots were swapped), why (so the caller can report it).
///
/// A slot whose tag differs from the head's holds another generation than the head names: it
/// is tried only after every slot that may hold the named one, and loading it is reported.
pub fn load(
    store: &dyn Store,
    cfg: &EngineConfig,
) -> Result<(SavedState, Option<StateError>), StateError> {
    let head = store.load(HEAD)?;
    let parsed = head
        .as_deref()
        .and_then(parse_head)
        .map(|h| (h.slot, h.generation, h.tag));
    let order: [&str; 2] = match parsed {
        Some((slot, _, _)) => [slot, other(slot)],
        None => [SLOT_A, SLOT_B],
    };
    let mut first_error = None;
    if head.is_some() && parsed.is_none() {
        first_error = Some(StateError::Corrupt("the head record is corrupt".into()));
    }
    drop(head);
    // Slots that hold another generation than the head names, tried last.
    let mut other_generation: Vec<(&str, Vec<u8>)> = Vec::new();
    for slot in order {
        let Some(bytes) = store.load(slot)? else {
            continue;
        };
        if let Some((named, generation, Some(tag))) = parsed {
            if slot_tag(&bytes) != tag {
                other_generation.push((slot, bytes));
                continue;
            }
            match decode_in(cfg, &bytes, store) {
                Ok(s) => {
                    let warning = if slot != named {
                        // The slots were swapped (or the head's slot rewritten by someone
                        // else): the named generation is here, not where the head says.
                        Some(first_error.unwrap_or_else(|| {
                            StateError::Corrupt(format!(
                                "the slots are swapped: generation {generation}, which the \
                                 head names in {named}, was found in {slot} and loaded \
                                 ({named} holds another generation)"
                            ))
                        }))
                    } else {
                        first_error
                    };
                    return Ok((s, warning));
                }
                Err(StateError::Store(e)) => return Err(StateError::Store(e)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
            continue;
        }
        match decode_in(cfg, &bytes, store) {
            Ok(s) => return Ok((s, first_error)),
            Err(StateError::Store(e)) => return Err(StateError::Store(e)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some((named, generation, _)) = parsed {
        for (slot, bytes) in other_generation {
            match decode_in(cfg, &bytes, store) {
                Ok(s) => {
                    let why = match &first_error {
                        Some(e) => format!("generation {generation} is unusable ({e})"),
                        None => format!("no slot holds generation {generation}"),
                    };
                    return Ok((
                        s,
                        Some(StateError::Corrupt(format!(
                            "the head names generation {generation} in {named}, but {why}; \
                             loaded {slot}, which holds another (older) generation"
                        ))),
                    ));
                }
                Err(StateError::Store(e)) => return Err(StateError::Store(e)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    Err(first_error.unwrap_or(StateError::Empty))
}

#[cfg(test)]
mod tests {
    //! Storage compatibility: blobs written by main at ae38dcc (before the storage envelope was
    //! shared, `src/persist`) load, and the same contents encode to the same bytes.

    use super::*;
    use crate::chain::{pow, HeaderIndex};
    use crate::engine::persist::PersistError;
    use crate::hashes::Hash256;
    use crate::network::Network;
    use crate::wire::header::BlockHeader;

    /// Regtest genesis plus three mined headers (deterministic: the first nonce that meets the
    /// regtest limit).
    fn chain() -> HeaderChain {
        let net = Network::Regtest;
        let genesis = crate::chain::params::genesis_header(net);
        let mut c = HeaderChain::new(net, 0, genesis);
        let mut prev = genesis;
        for i in 1..=3u32 {
            let mut h = BlockHeader {
                version: 0x2000_0000,
                prev_block_hash: prev.block_hash(),
                merkle_root: Hash256([i as u8; 32]),
                time: genesis.time + 150 * i,
                bits: genesis.bits,
                nonce: 0,
            };
            while pow::check_proof_of_work(&h.block_hash(), h.bits, net).is_err() {
                h.nonce += 1;
            }
            c.connect(&[h]).unwrap();
            prev = h;
        }
        c
    }

    /// The header chain and engine the fixtures hold ([`crate::engine::persist::fixture`]).
    fn fixture() -> (HeaderChain, Engine) {
        let c = chain();
        let blocks: Vec<Hash256> = (0..=3).map(|h| c.hash_at(h).unwrap()).collect();
        let e = crate::engine::persist::fixture::engine(cfg(), &blocks);
        (c, e)
    }

    fn cfg() -> EngineConfig {
        EngineConfig::for_network(Network::Regtest)
    }

    /// The client state [`fixture`] builds, as `encode` at main ae38dcc wrote it (printed by that code).
    const STATE_AE38DCC: &str = concat!(
        "445153430100036f010000000000004451484301000300000000040000000100000000000000000000000000",
        "00000000000000000000000000000000000000000000c762a6567f3cc092f0684bb62b7e00a84890b990f07c",
        "c71a6bb58d64b98e02e0b9968054ffff7f20ffba1000000000202e3df23eec5cd6a86edd509539028e2c3a3d",
        "c05315eb28f2baa43218ca080000010101010101010101010101010101010101010101010101010101010101",
        "01014f978054ffff7f20000000000000002007d96daf086220d86cdd09cfd08cb42393f361bede9848e832b5",
        "20640ac73b1d0202020202020202020202020202020202020202020202020202020202020202e5978054ffff",
        "7f200000000000000020087261a58028d6ea8a620060a451a4e3eaa4aa79f4bbfcc4a2150116f80a2f3f0303",
        "0303030303030303030303030303030303030303030303030303030303037b988054ffff7f20010000000b28",
        "d709198a40b496dd49fa1128c96bf2f0ae54ecc2c8293150a29eb8ce3b0c8405000000000000445153450200",
        "039689da5222ed220603d0cf92efd3b4d521bd1687b61ec66ceedb0d36deb94b3a0202003131313131313131",
        "3131313131313131313131313131313131313131313131313232323232323232323232323232323232323232",
        "32323232323232323232323200000000000000000000ffff7f0000314dbb951136515b3b8c83cc2e8431325f",
        "cc1fbbf8a3d66f51f40457746bc9cbf3fa1f3c0b671c38f16ab0f5727a408787ceb033333333333333333333",
        "3333333333333333333301000002004141414141414141414141414141414141414141414141414141414141",
        "4141414242424242424242424242424242424242424242424242424242424242424242000000000000000000",
        "00ffff7f0000414dbbab7d1a24dc0fd6d12f443e367b0310161cab12b9953e4284cadbcea462265be1510108",
        "157a4ac50ee41b086471a6830a4343434343434343434343434343434343434343010100bb01444444444444",
        "44444444444444444444444444440203006407d96daf086220d86cdd09cfd08cb42393f361bede9848e832b5",
        "20640ac73b1d03030307a94f1a55c0e898e95bc39c1e024890f761a17ab738192254fcc94bbbd29cb21a0734",
        "2362ce8eb53dcb1be5a3491a5d55777777777777777777777777777777777777777777777777777777777777",
        "7777111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        "1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        "1111111111111111111122222222222222222222222222222222222222222222222222222222222222222222",
        "2222222222222222222222222222222222222222222222222222222222222222222222222222222222222222",
        "222222222222222222222222222222222222040067087261a58028d6ea8a620060a451a4e3eaa4aa79f4bbfc",
        "c4a2150116f80a2f3f01000303030792989408a3ab451c6e93fc63ccd46ec61f868d44213ae88bf6b70acdfe",
        "9cbf68b33e1cdbeec5c697f3cee033eb7bd37177777777777777777777777777777777777777777777777777",
        "7777777777777711111111111111111111111111111111111111111111111111111111111111111111111111",
        "1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        "1111111111111111111111111111112222222222222222222222222222222222222222222222222222222222",
        "2222222222222222222222222222222222222222222222222222222222222222222222222222222222222222",
        "22222222222222222222222222222222222222222222220202000000087261a58028d6ea8a620060a451a4e3",
        "eaa4aa79f4bbfcc4a2150116f80a2f3f000100000000010000000003000000197349a560c788f31525f737c4",
        "251aa6a535e17a3a2a9c30a4c6b5985de78b5f01af030003000000bbc428640fc7564d265a57f91bf9048143",
        "66b800e42de149523f429439f4775cc1e54183de76035d094dcaf5f930ea099cb2b31db260ca8d003bceb348",
        "b279910133333333333333333333333333333333333333333333333333333333333333333333333333333333",
        "3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333",
        "333333333333333333333333e803000000000000020000000001000000020000000001000000010300000019",
        "7349a560c788f31525f737c4251aa6a535e17a3a2a9c30a4c6b5985de78b5f01000000040d02020000000100",
        "00000100000000010000000101000000010200000001197349a560c788f31525f737c4251aa6a535e17a3a2a",
        "9c30a4c6b5985de78b5f34e8d4d2cb674c82359de78e5b9f9089c1914866b9f360ab8caeeb5ebc84dcb183a7",
        "dddf385850e481e2b4f63dc4fa19353783a88cb58b42cef6f1c268dedbcd",
    );

    /// `head_bytes(SLOT_A, 1)` and `head_bytes(SLOT_B, 2)` at ae38dcc (before the slot tag).
    const HEAD_A1_AE38DCC: &str = "4451534861010000000000000020848f1c";
    const HEAD_B2_AE38DCC: &str = "44515348620200000000000000e2b47ea5";

    /// Writes `blob` as the next generation the way builds before segments did: the slot the
    /// head does not name, then the 49-byte head.
    fn save_blob(store: &dyn Store, blob: &[u8]) {
        let current = store.load(HEAD).unwrap().as_deref().and_then(parse_head);
        let (slot, generation) = match current {
            Some(h) => (other(h.slot), h.generation + 1),
            None => (SLOT_A, 1),
        };
        store.save(slot, blob).unwrap();
        store
            .save(HEAD, &head_bytes(slot, generation, &slot_tag(blob), None))
            .unwrap();
    }

    fn old_state() -> Vec<u8> {
        hex::decode(STATE_AE38DCC).unwrap()
    }

    /// The two layers of the old blob, cut at the offsets of the ae38dcc layout
    /// (`"DQSC" | u16 | u8 | u64 len | chain | u64 len | engine | SHA256d`).
    fn old_layers(b: &[u8]) -> (&[u8], &[u8]) {
        let hl = u64::from_le_bytes(b[7..15].try_into().unwrap()) as usize;
        let el = u64::from_le_bytes(b[15 + hl..23 + hl].try_into().unwrap()) as usize;
        assert_eq!(23 + hl + el + 32, b.len());
        (&b[15..15 + hl], &b[23 + hl..23 + hl + el])
    }

    #[test]
    fn fixture_bytes_have_the_old_layout() {
        let b = old_state();
        assert_eq!(b.len(), 1834);
        assert_eq!(&b[..7], b"DQSC\x01\x00\x03");
        let (h, e) = old_layers(&b);
        // Header chain: 15-byte head, four 80-byte headers, checksum.
        assert_eq!(h.len(), 15 + 4 * 80 + 32);
        assert_eq!(&h[..15], b"DQHC\x01\x00\x03\0\0\0\0\x04\0\0\0");
        assert_eq!(
            &h[15..95],
            &crate::chain::params::genesis_header(Network::Regtest).to_array()
        );
        // Engine: format 2, regtest, the fingerprint of regtest's default chain parameters.
        assert_eq!(&e[..7], b"DQSE\x02\x00\x03");
        assert_eq!(&e[7..39], &cfg().params.fingerprint().0);
        for blob in [&b[..], h, e] {
            let (body, sum) = blob.split_at(blob.len() - 32);
            assert_eq!(crate::hashes::sha256d(body).0, sum);
        }
    }

    #[test]
    fn state_written_by_ae38dcc_loads_with_its_contents() {
        let b = old_state();
        let s = decode(&cfg(), &b).unwrap();
        assert_eq!(s.headers.anchor_height(), 0);
        assert_eq!(s.headers.tip().0, 3);
        assert_eq!(
            s.headers.hash_at(0).unwrap().to_string(),
            "000008ca1832a4baf228eb1553c03d3a2c8e02399550dd6ea8d65cec3ef23d2e",
            "regtest genesis"
        );
        let blocks: Vec<Hash256> = (0..=3).map(|h| s.headers.hash_at(h).unwrap()).collect();
        let e = &s.engine;
        assert_eq!(e.held_lists(), vec![(2, blocks[2]), (3, blocks[3])]);
        let tip = e.tip_list().unwrap();
        assert_eq!(
            (tip.height, tip.entries.len(), tip.quorums.len()),
            (3, 2, 2)
        );
        assert_eq!(
            tip.cbtx.as_ref().unwrap().merkle_root_mn_list,
            tip.sml_root()
        );
        assert_eq!(e.list_at_height(2).unwrap().entries.len(), 1);
        assert_eq!(e.validated_count(), 1);
        assert_eq!(e.quorum(100, &blocks[1]).unwrap().info.height, 1);
        assert_eq!(e.pending(), vec![(103, blocks[2])]);
        // Saved again, the bytes are the same.
        assert_eq!(encode(&s.headers, &s.engine), b);
        // So are the layers, loaded on their own.
        let (h, eb) = old_layers(&b);
        assert_eq!(
            HeaderChain::from_bytes(Network::Regtest, h)
                .unwrap()
                .to_bytes(),
            h
        );
        assert_eq!(Engine::from_bytes(cfg(), eb).unwrap().to_bytes(), eb);
    }

    #[test]
    fn the_same_contents_encode_to_the_ae38dcc_bytes() {
        let (c, e) = fixture();
        assert_eq!(hex::encode(encode(&c, &e)), STATE_AE38DCC);
        let b = old_state();
        let (h, eb) = old_layers(&b);
        assert_eq!(c.to_bytes(), h);
        assert_eq!(e.to_bytes(), eb);
    }

    /// The best ChainLock survives a save and a load (a restart keeps the pin: a fork below
    /// it is still refused), written as a third layer only when there is one; a lock that
    /// conflicts with the saved chain is corruption.
    #[test]
    fn the_chainlock_pin_is_saved_and_restored() {
        let (mut c, e) = fixture();
        let b2 = c.hash_at(2).unwrap();
        c.apply_chain_lock(2, b2);
        let blob = encode(&c, &e);
        assert_eq!(
            blob.len(),
            hex::decode(STATE_AE38DCC).unwrap().len() + 8 + 36
        );
        let saved = decode(&cfg(), &blob).unwrap();
        assert_eq!(saved.headers.chain_lock(), Some((2, b2)));
        // The restored pin refuses a branch from below it, whatever its length.
        let mut h = saved.headers;
        let base = *h.header_at(1).unwrap();
        let mut prev = base;
        let mut fork = Vec::new();
        for i in 0..5u32 {
            let mut x = BlockHeader {
                version: 0x2000_0000,
                prev_block_hash: prev.block_hash(),
                merkle_root: Hash256([0x77; 32]),
                time: prev.time + 150 + i,
                bits: prev.bits,
                nonce: 0,
            };
            while pow::check_proof_of_work(&x.block_hash(), x.bits, Network::Regtest).is_err() {
                x.nonce += 1;
            }
            fork.push(x);
            prev = x;
        }
        assert!(matches!(
            h.connect(&fork).unwrap_err(),
            crate::chain::ChainError::ConflictsWithChainLock { height: 2, .. }
        ));
        // A pin for another block at a saved height is not loaded.
        let mut other = chain();
        other.restore_chain_lock(2, Hash256([9; 32]));
        assert!(matches!(
            decode(&cfg(), &encode(&other, &e)),
            Err(StateError::Corrupt(_))
        ));
    }

    #[test]
    fn head_records_and_slots_written_by_ae38dcc_load() {
        // The head written since then also carries its slot's tag; the older, shorter head
        // (no tag) is still read, and so are its slots.
        let a1 = hex::decode(HEAD_A1_AE38DCC).unwrap();
        let short = |h: Option<Head>| h.map(|h| (h.slot, h.generation, h.tag, h.lists));
        assert_eq!(short(parse_head(&a1)), Some((SLOT_A, 1, None, None)));
        assert_eq!(
            hex::encode(&head_bytes(SLOT_A, 1, &[0; 32], None)[..13]),
            &HEAD_A1_AE38DCC[..26]
        );
        let b2 = hex::decode(HEAD_B2_AE38DCC).unwrap();
        assert_eq!(short(parse_head(&b2)), Some((SLOT_B, 2, None, None)));
        let b = old_state();
        for (head, slot) in [(HEAD_A1_AE38DCC, SLOT_A), (HEAD_B2_AE38DCC, SLOT_B)] {
            let store = crate::store::MemoryStore::new();
            store.save(HEAD, &hex::decode(head).unwrap()).unwrap();
            store.save(slot, &b).unwrap();
            let (s, skipped) = load(&store, &cfg()).unwrap();
            assert_eq!(skipped, None);
            assert_eq!(s.headers.tip().0, 3);
            // The next save goes to the other slot, one generation up, in the segmented layout.
            let report = save_state(
                &store,
                &Snapshot {
                    headers: &s.headers,
                    engine: &s.engine,
                },
            )
            .unwrap();
            assert_eq!((report.writes, report.segments_written), (2, 0));
            let next = parse_head(&store.load(HEAD).unwrap().unwrap()).unwrap();
            assert_ne!(next.slot, slot);
            assert_eq!(next.generation, if slot == SLOT_A { 2 } else { 3 });
            assert_eq!(&store.load(next.slot).unwrap().unwrap()[..4], b"DQSS");
            let (again, skipped) = load(&store, &cfg()).unwrap();
            assert_eq!(skipped, None);
            assert_eq!(again.headers.tip(), s.headers.tip());
            assert_eq!(again.engine.to_bytes(), s.engine.to_bytes());
            // The old generation is still there, untouched.
            assert_eq!(store.load(slot).unwrap().unwrap(), b);
        }
    }

    /// Residue 4 (issue #23): two generations told apart by their ChainLock layer (the newer
    /// one is pinned). The slots' contents swapped by the host: the newest generation is found
    /// in the other slot, loaded, and the swap reported; the newest gone: the older one loads
    /// with a warning naming what was skipped.
    #[test]
    fn swapped_or_stale_slots_are_reported_and_the_newest_generation_wins() {
        let e = Engine::new(cfg());
        let older = encode(&chain(), &e);
        let mut pinned = chain();
        pinned.restore_chain_lock(3, pinned.hash_at(3).unwrap());
        let newer = encode(&pinned, &e);
        let store = crate::store::MemoryStore::new();
        save_blob(&store, &older); // a, generation 1
        save_blob(&store, &newer); // b, generation 2 (the head names b)
        let (s, w) = load(&store, &cfg()).unwrap();
        assert!(s.headers.chain_lock().is_some());
        assert_eq!(w, None);

        // Swapped: a holds generation 2, b holds generation 1.
        store.save(SLOT_A, &newer).unwrap();
        store.save(SLOT_B, &older).unwrap();
        let (s, w) = load(&store, &cfg()).unwrap();
        assert!(
            s.headers.chain_lock().is_some(),
            "the newest generation is loaded"
        );
        let w = w.expect("the swap is reported").to_string();
        assert!(w.contains("swapped") && w.contains(SLOT_B), "{w}");

        // Generation 2 is nowhere (both slots hold generation 1): the older one loads, said so.
        store.save(SLOT_A, &older).unwrap();
        let (s, w) = load(&store, &cfg()).unwrap();
        assert!(s.headers.chain_lock().is_none());
        let w = w.expect("the stale slot is reported").to_string();
        assert!(w.contains("generation 2") && w.contains("older"), "{w}");

        // The named slot holds generation 2 but it is unusable: the older one, said so.
        let mut bad = newer.clone();
        bad[20] ^= 1;
        store.save(SLOT_B, &bad).unwrap();
        let (s, w) = load(&store, &cfg()).unwrap();
        assert!(s.headers.chain_lock().is_none());
        assert!(w.is_some());
    }

    #[test]
    fn old_state_under_another_network_or_parameters_is_a_typed_refusal() {
        let b = old_state();
        let err = decode(&EngineConfig::for_network(Network::Testnet), &b).unwrap_err();
        assert_eq!(
            err,
            StateError::Envelope(EnvelopeError::OtherNetwork {
                kind: BlobKind::State,
                expected: Network::Testnet,
                found: 3
            })
        );
        assert!(err.to_string().contains("saved for regtest"), "{err}");
        // Other chain parameters: the engine layer is refused (a resync follows), not misread.
        let mut params = crate::network::ChainParams::new(Network::Regtest);
        params.set("testactivationheight", "v20@100").unwrap();
        let other = EngineConfig::new(params);
        match decode(&other, &b).unwrap_err() {
            StateError::Corrupt(m) => assert!(
                m.starts_with("engine: ") && m.contains("other chain parameters"),
                "{m}"
            ),
            e => panic!("{e}"),
        }
        let (_, eb) = old_layers(&b);
        assert_eq!(
            Engine::from_bytes(other, eb).unwrap_err(),
            PersistError::Envelope(EnvelopeError::ChainParams {
                kind: BlobKind::Engine
            })
        );
    }

    #[test]
    fn state_errors_are_typed() {
        let b = old_state();
        let (h, _) = old_layers(&b);
        let open = |bytes: &[u8]| decode(&cfg(), bytes).unwrap_err();
        // A header-chain snapshot where the state was expected is named as one.
        assert_eq!(
            open(h),
            StateError::Envelope(EnvelopeError::WrongKind {
                expected: BlobKind::State,
                found: Some(BlobKind::HeaderChain)
            })
        );
        assert_eq!(
            open(b"DQS"),
            StateError::Envelope(EnvelopeError::Truncated {
                kind: BlobKind::State,
                needed: 39,
                got: 3
            })
        );
        let mut v = b.clone();
        v[4] = 2;
        assert_eq!(
            open(&v),
            StateError::Envelope(EnvelopeError::UnsupportedVersion {
                kind: BlobKind::State,
                found: 2,
                supported: 1
            })
        );
        for cut in [b.len() - 1, b.len() / 2, 40] {
            assert_eq!(
                open(&b[..cut]),
                StateError::Envelope(EnvelopeError::Checksum {
                    kind: BlobKind::State
                }),
                "cut at {cut}"
            );
        }
        // Behind a valid checksum: a layer length beyond the payload, bytes after the layers,
        // a broken layer (named).
        let reseal = |body: &[u8]| Envelope::state(Network::Regtest).seal(body.to_vec());
        let body = &b[..b.len() - 32];
        let mut beyond = body.to_vec();
        beyond[7..15].copy_from_slice(&u64::MAX.to_le_bytes());
        match open(&reseal(&beyond)) {
            StateError::Corrupt(m) => {
                assert!(m.starts_with("headers: length beyond the blob"), "{m}")
            }
            e => panic!("{e}"),
        }
        let mut extra = body.to_vec();
        extra.push(0);
        assert_eq!(
            open(&reseal(&extra)),
            StateError::Corrupt("1 bytes after the engine layer".into())
        );
        let mut flipped = body.to_vec();
        flipped[15 + 100] ^= 1;
        match open(&reseal(&flipped)) {
            StateError::Corrupt(m) => {
                assert_eq!(
                    m,
                    "headers: header-chain snapshot checksum mismatch (truncated or corrupted)"
                )
            }
            e => panic!("{e}"),
        }
    }
}
