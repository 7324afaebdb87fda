//! Compressed headers (`headers2`, DIP-0025; PROTOCOL.md §1.7).
//!
//! Decoding is two steps: [`decode_headers2`] parses the payload into [`CompressedHeader`]s (the
//! fields actually present, as selected by each bitfield), and [`decompress_headers`] rebuilds
//! full [`BlockHeader`]s, which needs the previous header of the message (X11 hash, time, bits)
//! and the per-message most-recently-used list of up to 7 versions. [`compress_headers`] is the
//! inverse; its output decompresses to exactly its input.

use super::codec::{Reader, Writer};
use super::header::BlockHeader;
use super::version::INCREASE_MAX_HEADERS2_VERSION;
use super::WireError;
use crate::hashes::Hash256;

/// Maximum headers in a `headers2` message below protocol 70235 (and in any `headers`).
pub const MAX_HEADERS: usize = 2000;

/// Maximum headers in a `headers2` message at protocol ≥ 70235.
pub const MAX_HEADERS2_V2: usize = 8000;

/// Size of the most-recently-used version list.
pub const VERSION_CACHE_SIZE: usize = 7;

/// Smallest encoded compressed header: bitfield, merkle root, 2-byte time offset, nonce.
pub const MIN_COMPRESSED_HEADER_SIZE: usize = 1 + 32 + 2 + 4;

const PREV_PRESENT: u8 = 1 << 3;
const TIME_PRESENT: u8 = 1 << 4;
const BITS_PRESENT: u8 = 1 << 5;
const VERSION_MASK: u8 = 0b111;

/// The maximum number of headers in a `headers2` message at protocol version `p`.
pub fn max_headers2(p: u32) -> usize {
    if p >= INCREASE_MAX_HEADERS2_VERSION {
        MAX_HEADERS2_V2
    } else {
        MAX_HEADERS
    }
}

/// How a compressed header carries its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderVersion {
    /// The full version follows the bitfield (bitfield bits 0–2 = 0).
    Full(i32),
    /// Index 1..=7 into the most-recently-used version list (1 = most recent).
    Cached(u8),
}

/// How a compressed header carries its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderTime {
    /// The full time (bitfield bit 4 set).
    Full(u32),
    /// Offset from the previous header's time (bit 4 clear).
    Offset(i16),
}

/// One header of a `headers2` message as encoded: absent fields are `None` / cached / offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompressedHeader {
    /// Version, full or by cache index.
    pub version: HeaderVersion,
    /// Previous block hash, `None` when it is the hash of the previous header (bit 3 clear).
    pub prev_block_hash: Option<Hash256>,
    /// Merkle root (always present).
    pub merkle_root: Hash256,
    /// Time, full or as an offset.
    pub time: HeaderTime,
    /// Difficulty bits, `None` when equal to the previous header's (bit 5 clear).
    pub bits: Option<u32>,
    /// Nonce (always present).
    pub nonce: u32,
}

impl CompressedHeader {
    /// The bitfield byte describing which fields are present.
    pub fn bitfield(&self) -> u8 {
        let mut b = match self.version {
            HeaderVersion::Full(_) => 0,
            HeaderVersion::Cached(k) => k & VERSION_MASK,
        };
        if self.prev_block_hash.is_some() {
            b |= PREV_PRESENT;
        }
        if matches!(self.time, HeaderTime::Full(_)) {
            b |= TIME_PRESENT;
        }
        if self.bits.is_some() {
            b |= BITS_PRESENT;
        }
        b
    }

    /// A header with every field present.
    pub fn full(h: &BlockHeader) -> Self {
        CompressedHeader {
            version: HeaderVersion::Full(h.version),
            prev_block_hash: Some(h.prev_block_hash),
            merkle_root: h.merkle_root,
            time: HeaderTime::Full(h.time),
            bits: Some(h.bits),
            nonce: h.nonce,
        }
    }

    /// Appends the encoding.
    pub fn encode(&self, w: &mut Writer) {
        w.u8(self.bitfield());
        if let HeaderVersion::Full(v) = self.version {
            w.i32_le(v);
        }
        if let Some(h) = &self.prev_block_hash {
            w.hash(h);
        }
        w.hash(&self.merkle_root);
        match self.time {
            HeaderTime::Full(t) => w.u32_le(t),
            HeaderTime::Offset(o) => w.i16_le(o),
        }
        if let Some(b) = self.bits {
            w.u32_le(b);
        }
        w.u32_le(self.nonce);
    }

    /// Reads one compressed header. Bitfield bits 6–7 are ignored, as Core does.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let bf = r.u8()?;
        let version = match bf & VERSION_MASK {
            0 => HeaderVersion::Full(r.i32_le()?),
            k => HeaderVersion::Cached(k),
        };
        let prev_block_hash = if bf & PREV_PRESENT != 0 {
            Some(r.hash()?)
        } else {
            None
        };
        let merkle_root = r.hash()?;
        let time = if bf & TIME_PRESENT != 0 {
            HeaderTime::Full(r.u32_le()?)
        } else {
            HeaderTime::Offset(r.i16_le()?)
        };
        let bits = if bf & BITS_PRESENT != 0 {
            Some(r.u32_le()?)
        } else {
            None
        };
        Ok(CompressedHeader {
            version,
            prev_block_hash,
            merkle_root,
            time,
            bits,
            nonce: r.u32_le()?,
        })
    }
}

/// Parses a `headers2` payload for protocol version `p`: compactSize count (≤ 2000, or ≤ 8000
/// when `p` ≥ 70235), then the compressed headers; every byte must be used.
pub fn decode_headers2(payload: &[u8], p: u32) -> Result<Vec<CompressedHeader>, WireError> {
    let mut r = Reader::new(payload, p);
    let at = r.position();
    let n = r.read_count(MIN_COMPRESSED_HEADER_SIZE)?;
    if n > max_headers2(p) {
        return Err(WireError::invalid(
            "headers2 count",
            format!("{n} headers at byte {at} (max {})", max_headers2(p)),
        ));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(CompressedHeader::decode(&mut r)?);
    }
    r.finish()?;
    Ok(out)
}

/// Encodes compressed headers as a `headers2` payload.
pub fn encode_headers2(headers: &[CompressedHeader]) -> Vec<u8> {
    let mut w = Writer::new(0);
    w.compact_size(headers.len() as u64);
    for h in headers {
        h.encode(&mut w);
    }
    w.into_bytes()
}

fn push_version(list: &mut Vec<i32>, v: i32) {
    list.insert(0, v);
    list.truncate(VERSION_CACHE_SIZE);
}

/// Rebuilds full headers from one `headers2` message.
///
/// `prev` is the header preceding the first one; it is only consulted when the first header
/// omits a field (Core always sends the first header of a message uncompressed; without `prev`
/// such a message is an error here rather than Core's zero-filled, invalid header). The version
/// list starts empty for every message, as in Core, so a cached version that is not in the list
/// is an error.
pub fn decompress_headers(
    headers: &[CompressedHeader],
    prev: Option<&BlockHeader>,
) -> Result<Vec<BlockHeader>, WireError> {
    decompress_headers_hashed(headers, prev).map(|d| d.headers)
}

/// Headers of one `headers2` message with their block hashes.
///
/// `hashes` is either empty (not computed: a batch built locally, e.g. by a sender) or holds the
/// X11 hash of each header, in order — as [`decompress_headers_hashed`] computes them. Equality
/// compares the headers only (the hashes are a function of them).
#[derive(Debug, Clone, Default)]
pub struct HeaderBatch {
    /// The headers.
    pub headers: Vec<BlockHeader>,
    /// Empty, or the block hash of each header.
    pub hashes: Vec<Hash256>,
}

impl HeaderBatch {
    /// The headers with their block hashes: the ones held when there is one per header,
    /// otherwise X11 of each header.
    pub fn into_hashed(self) -> (Vec<BlockHeader>, Vec<Hash256>) {
        if self.hashes.len() == self.headers.len() {
            return (self.headers, self.hashes);
        }
        let hashes = self.headers.iter().map(|h| h.block_hash()).collect();
        (self.headers, hashes)
    }
}

impl PartialEq for HeaderBatch {
    fn eq(&self, other: &Self) -> bool {
        self.headers == other.headers
    }
}

impl Eq for HeaderBatch {}

impl From<Vec<BlockHeader>> for HeaderBatch {
    fn from(headers: Vec<BlockHeader>) -> Self {
        HeaderBatch {
            headers,
            hashes: Vec::new(),
        }
    }
}

impl std::ops::Deref for HeaderBatch {
    type Target = Vec<BlockHeader>;
    fn deref(&self) -> &Vec<BlockHeader> {
        &self.headers
    }
}

/// [`decompress_headers`] that also returns every header's block hash, computing X11 exactly
/// once per header: the hash of header `i` is what an omitted previous-block hash of header
/// `i + 1` is rebuilt from, and is kept; the last header's hash is computed once at the end.
/// A header that carries its previous hash keeps it as sent (linkage is checked by whoever
/// connects the headers, against these hashes).
pub fn decompress_headers_hashed(
    headers: &[CompressedHeader],
    prev: Option<&BlockHeader>,
) -> Result<HeaderBatch, WireError> {
    let mut d = Decompressor::new(prev, headers.len());
    for c in headers {
        d.push(c)?;
    }
    Ok(d.finish())
}

/// Decompression of one message's headers, one at a time ([`decompress_headers_hashed`] and
/// [`Headers2Stream`]).
#[derive(Debug, Clone)]
struct Decompressor {
    out: Vec<BlockHeader>,
    hashes: Vec<Hash256>,
    list: Vec<i32>,
    prev_hdr: Option<BlockHeader>,
}

impl Decompressor {
    fn new(prev: Option<&BlockHeader>, capacity: usize) -> Decompressor {
        Decompressor {
            out: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
            list: Vec::with_capacity(VERSION_CACHE_SIZE + 1),
            prev_hdr: prev.copied(),
        }
    }

    /// Rebuilds the next header (hashing the one before it).
    fn push(&mut self, c: &CompressedHeader) -> Result<(), WireError> {
        let i = self.out.len();
        let list = &mut self.list;
        let version = match c.version {
            HeaderVersion::Full(v) => {
                push_version(list, v);
                v
            }
            HeaderVersion::Cached(k) => {
                let idx = (k as usize).wrapping_sub(1);
                if idx >= list.len() {
                    return Err(WireError::invalid(
                        "headers2 version",
                        format!(
                            "header {i}: version index {k} not in the list of {}",
                            list.len()
                        ),
                    ));
                }
                let v = list.remove(idx);
                list.insert(0, v);
                v
            }
        };
        let need_prev = || {
            WireError::invalid(
                "headers2",
                format!("header {i} omits a field but there is no previous header"),
            )
        };
        let prev_hdr = self.prev_hdr.as_ref();
        // The previous header of this message is hashed exactly once, here, whether or not
        // this header omits its hash (a sent one is checked against it by the caller).
        if let (true, Some(p)) = (i > 0, prev_hdr) {
            self.hashes.push(p.block_hash());
        }
        let prev_block_hash = match (c.prev_block_hash, self.hashes.last()) {
            (Some(h), _) => h,
            (None, Some(h)) if i > 0 => *h,
            // The first header's omitted hash comes from the context header.
            (None, _) => prev_hdr.ok_or_else(need_prev)?.block_hash(),
        };
        let time = match c.time {
            HeaderTime::Full(t) => t,
            HeaderTime::Offset(o) => prev_hdr
                .ok_or_else(need_prev)?
                .time
                .wrapping_add_signed(o as i32),
        };
        let bits = match c.bits {
            Some(b) => b,
            None => prev_hdr.ok_or_else(need_prev)?.bits,
        };
        let h = BlockHeader {
            version,
            prev_block_hash,
            merkle_root: c.merkle_root,
            time,
            bits,
            nonce: c.nonce,
        };
        self.out.push(h);
        self.prev_hdr = Some(h);
        Ok(())
    }

    /// The headers and their hashes (the last header hashed here).
    fn finish(mut self) -> HeaderBatch {
        if let Some(last) = self.out.last() {
            self.hashes.push(last.block_hash());
        }
        debug_assert_eq!(self.hashes.len(), self.out.len());
        HeaderBatch {
            headers: self.out,
            hashes: self.hashes,
        }
    }
}

/// Size of a compressed header with bitfield `bf`.
fn encoded_len(bf: u8) -> usize {
    let mut n = MIN_COMPRESSED_HEADER_SIZE;
    if bf & VERSION_MASK == 0 {
        n += 4;
    }
    if bf & PREV_PRESENT != 0 {
        n += 32;
    }
    if bf & TIME_PRESENT != 0 {
        n += 2;
    }
    if bf & BITS_PRESENT != 0 {
        n += 4;
    }
    n
}

/// Decompression of a `headers2` payload while it arrives: fed the payload's bytes received so
/// far, it parses and rebuilds (hashing) every complete header, so that when the last byte is
/// in, the headers and their hashes are ready — the X11 chain overlaps the transfer instead of
/// following it. The result is only an early computation: [`Headers2Stream::finish`] hands
/// over the batch only when it parsed exactly the payload, and the message decoder checks the
/// payload again with [`decode_headers2`] at the negotiated protocol version (a cheap parse,
/// no hashing) before using it; anything else falls back to decoding the payload whole, which
/// gives the canonical result or error. At most [`MAX_HEADERS2_V2`] headers are rebuilt.
#[derive(Debug, Clone, Default)]
pub struct Headers2Stream {
    /// Bytes of the payload consumed.
    pos: usize,
    /// The header count, once read.
    count: Option<usize>,
    dec: Option<Decompressor>,
    failed: bool,
}

impl Headers2Stream {
    /// A stream at the start of a payload.
    pub fn new() -> Headers2Stream {
        Headers2Stream::default()
    }

    /// Takes in the payload received so far (`payload` always starts at the payload's first
    /// byte and only grows between calls).
    pub fn feed(&mut self, payload: &[u8]) {
        if self.failed {
            return;
        }
        if self.count.is_none() {
            let Some(&first) = payload.first() else {
                return;
            };
            let size_len = match first {
                0..=0xfc => 1,
                0xfd => 3,
                0xfe => 5,
                0xff => 9,
            };
            if payload.len() < size_len {
                return;
            }
            let mut r = Reader::new(&payload[..size_len], 0);
            match r.compact_size() {
                Ok(n) if n as usize <= MAX_HEADERS2_V2 => {
                    self.count = Some(n as usize);
                    self.dec = Some(Decompressor::new(None, n as usize));
                    self.pos = size_len;
                }
                _ => {
                    self.failed = true;
                    return;
                }
            }
        }
        let (Some(count), Some(dec)) = (self.count, self.dec.as_mut()) else {
            return;
        };
        while dec.out.len() < count {
            let Some(&bf) = payload.get(self.pos) else {
                return;
            };
            let end = self.pos + encoded_len(bf);
            let Some(bytes) = payload.get(self.pos..end) else {
                return;
            };
            let mut r = Reader::new(bytes, 0);
            let parsed = CompressedHeader::decode(&mut r);
            match parsed.and_then(|c| dec.push(&c)) {
                Ok(()) => self.pos = end,
                Err(_) => {
                    self.failed = true;
                    self.dec = None;
                    return;
                }
            }
        }
    }

    /// Headers rebuilt so far.
    pub fn rebuilt(&self) -> usize {
        self.dec.as_ref().map_or(0, |d| d.out.len())
    }

    /// The batch, when the whole `payload` was exactly the count and that many headers, all
    /// rebuilt; `None` otherwise (decode the payload whole).
    pub fn finish(mut self, payload: &[u8]) -> Option<HeaderBatch> {
        self.feed(payload);
        let dec = self.dec.take()?;
        (!self.failed && Some(dec.out.len()) == self.count && self.pos == payload.len())
            .then(|| dec.finish())
    }
}

/// Compresses consecutive headers for one `headers2` message exactly as Dash Core's sender does
/// (`net_processing.cpp`): the first is sent in full and, as there, its version does not enter
/// the version list (Core calls `Compress` only from the second header on; its receiver does
/// list it, which changes no index); each later one omits the previous hash when it links to
/// its predecessor, sends the time as an i16 offset when it fits, omits equal bits and uses the
/// version list. Decompressing the result (with no `prev`) gives back `headers` exactly, and
/// Core's own `headers2` messages re-encode byte for byte (tests/core_conformance.rs).
pub fn compress_headers(headers: &[BlockHeader]) -> Vec<CompressedHeader> {
    compress_headers_hashed(headers, &[])
}

/// [`compress_headers`] with the headers' block hashes given (`hashes[i]` is the hash of
/// `headers[i]`), as a node has them in its block index: no header is hashed. When `hashes`
/// does not hold one hash per header, each header is hashed instead.
pub fn compress_headers_hashed(
    headers: &[BlockHeader],
    hashes: &[Hash256],
) -> Vec<CompressedHeader> {
    let known = hashes.len() == headers.len();
    let hash_of = |i: usize, h: &BlockHeader| if known { hashes[i] } else { h.block_hash() };
    let mut out = Vec::with_capacity(headers.len());
    let mut list: Vec<i32> = Vec::with_capacity(VERSION_CACHE_SIZE + 1);
    let mut prev: Option<(&BlockHeader, Hash256)> = None;
    for (i, h) in headers.iter().enumerate() {
        let Some((p, p_hash)) = prev else {
            out.push(CompressedHeader::full(h));
            prev = Some((h, hash_of(i, h)));
            continue;
        };
        let version = match list.iter().position(|&v| v == h.version) {
            Some(idx) => {
                let v = list.remove(idx);
                list.insert(0, v);
                HeaderVersion::Cached(idx as u8 + 1)
            }
            None => {
                push_version(&mut list, h.version);
                HeaderVersion::Full(h.version)
            }
        };
        let diff = h.time as i64 - p.time as i64;
        let time = match i16::try_from(diff) {
            Ok(o) => HeaderTime::Offset(o),
            Err(_) => HeaderTime::Full(h.time),
        };
        out.push(CompressedHeader {
            version,
            prev_block_hash: (h.prev_block_hash != p_hash).then_some(h.prev_block_hash),
            merkle_root: h.merkle_root,
            time,
            bits: (h.bits != p.bits).then_some(h.bits),
            nonce: h.nonce,
        });
        prev = Some((h, hash_of(i, h)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<BlockHeader> {
        let mut v: Vec<BlockHeader> = Vec::new();
        for i in 0..n {
            let prev = v.last().map(|h| h.block_hash()).unwrap_or_default();
            v.push(BlockHeader {
                version: [0x2000_0000, 0x2000_0004, 3, 4, 5, 6, 7, 8, 9][i % 9],
                prev_block_hash: prev,
                merkle_root: Hash256([i as u8; 32]),
                time: 1_600_000_000 + (i as u32) * 150 + if i == 5 { 70_000 } else { 0 },
                bits: 0x1e0f_fff0 + (i as u32 / 3),
                nonce: i as u32,
            });
        }
        v
    }

    #[test]
    fn compress_round_trip() {
        let hs = chain(40);
        let c = compress_headers(&hs);
        assert!(c[1].prev_block_hash.is_none());
        let payload = encode_headers2(&c);
        let d = decode_headers2(&payload, 70230).unwrap();
        assert_eq!(d, c);
        assert_eq!(decompress_headers(&d, None).unwrap(), hs);
        // Without the first header, the rest need the context.
        assert!(decompress_headers(&d[1..], None).is_err());
        let tail = decompress_headers(&compress_headers(&hs[1..]), None).unwrap();
        assert_eq!(tail, hs[1..]);
    }

    #[test]
    fn compress_with_known_hashes() {
        let hs = chain(40);
        let hashes: Vec<Hash256> = hs.iter().map(|h| h.block_hash()).collect();
        assert_eq!(compress_headers_hashed(&hs, &hashes), compress_headers(&hs));
        // The given hashes are what omission is decided by: a wrong one keeps the next
        // header's previous hash in the message.
        let mut wrong = hashes.clone();
        wrong[4] = Hash256([7; 32]);
        let c = compress_headers_hashed(&hs, &wrong);
        assert_eq!(c[5].prev_block_hash, Some(hs[5].prev_block_hash));
        // Not one hash per header: hashed as without them.
        assert_eq!(
            compress_headers_hashed(&hs, &hashes[1..]),
            compress_headers(&hs)
        );
    }
}
