//! The storage envelope every blob the library hands the host is wrapped in (pure, no I/O).
//!
//! One layout for every blob kind ([`BlobKind`]), all integers little-endian:
//! ```text
//! magic[4] | u16 format version | u8 network | fingerprint[32] (engine only) | payload | SHA256d[32]
//! ```
//! The checksum covers every byte before it. The format versions are the library's own
//! ([`HEADER_CHAIN_FORMAT`], [`ENGINE_FORMAT`], [`STATE_FORMAT`], [`SEGMENTED_STATE_FORMAT`],
//! [`HEADER_SEGMENT_FORMAT`]); they never follow the P2P
//! protocol version. Where a payload uses P2P codecs (the engine's entries, commitments, CbTxs
//! and snapshots) it encodes them at [`STORAGE_WIRE_VERSION`], a constant of this module: raising
//! the protocol version the library advertises to peers does not change a stored byte.
//!
//! This is byte for byte the layout the first three kinds had before they shared this code (main
//! at ae38dcc), so blobs saved by earlier builds load unchanged (`src/store/state.rs` tests). The
//! segmented state and its header segments (`docs/STORAGE.md`) use the same envelope.
//!
//! Opening a blob ([`Envelope::open`]) allocates nothing and checks, in this order: magic (a
//! blob of another kind is named as such), size bounds (at most [`BlobKind::max_len`], at least
//! header + checksum), format version, checksum, network, chain-parameter fingerprint. Only then
//! is the payload handed to the kind's decoder, which checks its own counts against the bytes
//! present. Because the payload has no length field of its own, a blob cut short or extended
//! fails the checksum; [`EnvelopeError::Truncated`] is reported for blobs shorter than the
//! fixed parts.

use crate::hashes::{sha256d, Hash256};
use crate::network::Network;
use std::fmt;

/// Format version of header-chain snapshots written and read by this library.
pub const HEADER_CHAIN_FORMAT: u16 = 1;
/// Format version of engine snapshots written and read by this library.
pub const ENGINE_FORMAT: u16 = 2;
/// Format version of single-blob client states ([`BlobKind::State`]), read by this library
/// (written by earlier builds; the library now writes [`BlobKind::SegmentedState`]).
pub const STATE_FORMAT: u16 = 1;
/// Format version of segmented client states written and read by this library.
pub const SEGMENTED_STATE_FORMAT: u16 = 1;
/// Format version of header-chain segments written and read by this library.
pub const HEADER_SEGMENT_FORMAT: u16 = 1;

/// P2P wire layout of the entries, commitments, CbTxs and quorum snapshots inside an engine
/// snapshot of format [`ENGINE_FORMAT`]. Pinned: it is the protocol version those layouts had
/// when format 2 was defined, not the version the library advertises
/// (`wire::version::OUR_PROTOCOL_VERSION`). Changing it changes the engine layout, so it
/// goes together with a new [`ENGINE_FORMAT`] (and a reader for the old one).
pub const STORAGE_WIRE_VERSION: u32 = 70_237;

/// Size of the SHA256d checksum that ends every blob.
pub const CHECKSUM_LEN: usize = 32;

/// The kinds of blob the library stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    /// The active header chain (`chain::HeaderChain::to_bytes`).
    HeaderChain,
    /// The masternode-list engine (`engine::Engine::to_bytes`).
    Engine,
    /// The client state as one blob: a header chain and an engine (`store::state::encode`,
    /// written by earlier builds; still read).
    State,
    /// The client state whose header chain is stored in segments of their own: the segment
    /// list, the newest partial segment, the engine and the ChainLock (`store::state`).
    SegmentedState,
    /// A run of consecutive headers of the active chain (`store::state`).
    HeaderSegment,
}

impl BlobKind {
    /// Every kind.
    pub const ALL: [BlobKind; 5] = [
        BlobKind::HeaderChain,
        BlobKind::Engine,
        BlobKind::State,
        BlobKind::SegmentedState,
        BlobKind::HeaderSegment,
    ];

    /// The four bytes a blob of this kind starts with.
    pub const fn magic(self) -> [u8; 4] {
        match self {
            BlobKind::HeaderChain => *b"DQHC",
            BlobKind::Engine => *b"DQSE",
            BlobKind::State => *b"DQSC",
            BlobKind::SegmentedState => *b"DQSS",
            BlobKind::HeaderSegment => *b"DQHS",
        }
    }

    /// The kind whose magic `m` is.
    pub fn from_magic(m: &[u8]) -> Option<BlobKind> {
        BlobKind::ALL.into_iter().find(|k| k.magic()[..] == *m)
    }

    /// The format version this library writes and reads for this kind.
    pub const fn version(self) -> u16 {
        match self {
            BlobKind::HeaderChain => HEADER_CHAIN_FORMAT,
            BlobKind::Engine => ENGINE_FORMAT,
            BlobKind::State => STATE_FORMAT,
            BlobKind::SegmentedState => SEGMENTED_STATE_FORMAT,
            BlobKind::HeaderSegment => HEADER_SEGMENT_FORMAT,
        }
    }

    /// True when the envelope carries the chain-parameter fingerprint (what an engine
    /// validated holds only under the parameters it was validated with).
    pub const fn has_fingerprint(self) -> bool {
        matches!(self, BlobKind::Engine)
    }

    /// Bytes before the payload: magic, version, network and, for the engine, the fingerprint.
    pub const fn header_len(self) -> usize {
        4 + 2 + 1 + if self.has_fingerprint() { 32 } else { 0 }
    }

    /// The smallest blob of this kind (header and checksum around an empty payload).
    pub const fn min_len(self) -> usize {
        self.header_len() + CHECKSUM_LEN
    }

    /// The largest blob of this kind the library opens. Far above what a client holds (a
    /// header chain of 1 GiB is 13 million headers; a synced mainnet engine is a few MB), so
    /// only foreign or corrupt data meets it.
    pub const fn max_len(self) -> usize {
        match self {
            BlobKind::HeaderChain | BlobKind::HeaderSegment => 1 << 30,
            BlobKind::Engine => 1 << 28,
            // Its partial segment is far smaller than a chain; bounded as the single blob.
            BlobKind::SegmentedState => BlobKind::State.max_len(),
            // Envelope, two u64 layer lengths, the two layers.
            BlobKind::State => {
                BlobKind::State.min_len()
                    + 16
                    + BlobKind::HeaderChain.max_len()
                    + BlobKind::Engine.max_len()
            }
        }
    }
}

impl fmt::Display for BlobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlobKind::HeaderChain => "header-chain snapshot",
            BlobKind::Engine => "engine snapshot",
            BlobKind::State => "client state blob",
            BlobKind::SegmentedState => "segmented client state blob",
            BlobKind::HeaderSegment => "header-chain segment",
        })
    }
}

/// The byte a network is stored as (every blob kind uses this one mapping).
pub const fn network_byte(n: Network) -> u8 {
    match n {
        Network::Mainnet => 0,
        Network::Testnet => 1,
        Network::Devnet => 2,
        Network::Regtest => 3,
    }
}

/// The network stored as `b`, if any.
pub const fn network_from_byte(b: u8) -> Option<Network> {
    match b {
        0 => Some(Network::Mainnet),
        1 => Some(Network::Testnet),
        2 => Some(Network::Devnet),
        3 => Some(Network::Regtest),
        _ => None,
    }
}

/// Why a blob's envelope is unusable. Every variant names the kind that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The magic is not the expected kind's: another kind, or bytes that are not ours.
    #[error("not {}: {}", with_article(*.expected), found_kind(.found))]
    WrongKind {
        /// The kind expected.
        expected: BlobKind,
        /// The kind the magic names, if it is one of ours.
        found: Option<BlobKind>,
    },
    /// Written in a format version this library does not read.
    #[error(
        "{kind} format version {found} is not supported (this library reads version {supported})"
    )]
    UnsupportedVersion {
        /// The kind.
        kind: BlobKind,
        /// Version in the blob.
        found: u16,
        /// The version this library reads.
        supported: u16,
    },
    /// Written for another network.
    #[error("{kind} was saved for {}, but the configured network is {expected}", stored_network(*.found))]
    OtherNetwork {
        /// The kind.
        kind: BlobKind,
        /// The configured network.
        expected: Network,
        /// The network byte in the blob ([`network_from_byte`]).
        found: u8,
    },
    /// Written under other chain parameters (activation heights, LLMQ sizes…) than the
    /// configured ones: what it validated may not hold under these.
    #[error("{kind} was saved under other chain parameters than the configured ones")]
    ChainParams {
        /// The kind.
        kind: BlobKind,
    },
    /// The checksum does not match the bytes (cut short, extended or altered).
    #[error("{kind} checksum mismatch (truncated or corrupted)")]
    Checksum {
        /// The kind.
        kind: BlobKind,
    },
    /// Shorter than the fixed parts of the envelope.
    #[error("{kind} truncated: at least {needed} bytes needed, {got} present")]
    Truncated {
        /// The kind.
        kind: BlobKind,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// Larger than [`BlobKind::max_len`].
    #[error("{kind} is {len} bytes, more than the {max} accepted")]
    Oversized {
        /// The kind.
        kind: BlobKind,
        /// Bytes present.
        len: usize,
        /// The limit.
        max: usize,
    },
}

fn with_article(k: BlobKind) -> String {
    match k {
        BlobKind::Engine => format!("an {k}"),
        _ => format!("a {k}"),
    }
}

fn found_kind(found: &Option<BlobKind>) -> String {
    match found {
        Some(k) => format!("it is {}", with_article(*k)),
        None => "unknown magic (foreign or corrupt bytes)".into(),
    }
}

fn stored_network(b: u8) -> String {
    match network_from_byte(b) {
        Some(n) => n.to_string(),
        None => format!("unknown network #{b}"),
    }
}

impl EnvelopeError {
    /// The kind that was expected.
    pub fn kind(&self) -> BlobKind {
        match self {
            EnvelopeError::WrongKind { expected, .. } => *expected,
            EnvelopeError::UnsupportedVersion { kind, .. }
            | EnvelopeError::OtherNetwork { kind, .. }
            | EnvelopeError::ChainParams { kind }
            | EnvelopeError::Checksum { kind }
            | EnvelopeError::Truncated { kind, .. }
            | EnvelopeError::Oversized { kind, .. } => *kind,
        }
    }
}

/// What a blob is expected to be: its kind, network and (engine) chain-parameter fingerprint.
/// Writes ([`Envelope::begin`], [`Envelope::seal`]) and opens ([`Envelope::open`]) blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    kind: BlobKind,
    network: Network,
    fingerprint: Option<Hash256>,
}

impl Envelope {
    /// A header-chain snapshot for `network`.
    pub fn header_chain(network: Network) -> Envelope {
        Envelope {
            kind: BlobKind::HeaderChain,
            network,
            fingerprint: None,
        }
    }

    /// An engine snapshot for `network` under the chain parameters whose fingerprint
    /// (`network::ChainParams::fingerprint`) is `fingerprint`.
    pub fn engine(network: Network, fingerprint: Hash256) -> Envelope {
        Envelope {
            kind: BlobKind::Engine,
            network,
            fingerprint: Some(fingerprint),
        }
    }

    /// A client-state blob for `network`.
    pub fn state(network: Network) -> Envelope {
        Envelope {
            kind: BlobKind::State,
            network,
            fingerprint: None,
        }
    }

    /// A segmented client-state blob for `network`.
    pub fn segmented_state(network: Network) -> Envelope {
        Envelope {
            kind: BlobKind::SegmentedState,
            network,
            fingerprint: None,
        }
    }

    /// A header-chain segment for `network`.
    pub fn header_segment(network: Network) -> Envelope {
        Envelope {
            kind: BlobKind::HeaderSegment,
            network,
            fingerprint: None,
        }
    }

    /// The kind.
    pub fn kind(&self) -> BlobKind {
        self.kind
    }

    /// The header bytes (magic, version, network, fingerprint).
    fn header(&self) -> impl Iterator<Item = u8> {
        let k = self.kind;
        k.magic()
            .into_iter()
            .chain(k.version().to_le_bytes())
            .chain([network_byte(self.network)])
            .chain(self.fingerprint.map(|f| f.0).into_iter().flatten())
    }

    /// Size of the finished blob around a payload of `payload_len` bytes.
    pub fn blob_len(&self, payload_len: usize) -> usize {
        self.kind.min_len().saturating_add(payload_len)
    }

    /// A buffer holding the envelope header, with room for `payload_capacity` payload bytes and
    /// the checksum. Append the payload, then pass it to [`Envelope::seal`].
    pub fn begin(&self, payload_capacity: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.blob_len(payload_capacity.min(self.kind.max_len())));
        self.begin_in(&mut out);
        out
    }

    /// Starts a blob inside a larger buffer: appends the envelope header to `out` and returns
    /// where the blob starts. Append the payload, then call [`Envelope::seal_in`] with that
    /// offset. Nothing is copied, so a blob nested in another (the client state's layers) is
    /// written straight into the outer buffer.
    pub fn begin_in(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        out.extend(self.header());
        start
    }

    /// Appends the checksum of `out[start..]` (a blob started by [`Envelope::begin_in`] at
    /// `start`), finishing that blob in place.
    pub fn seal_in(&self, out: &mut Vec<u8>, start: usize) {
        debug_assert!(
            out.len() >= start + self.kind.header_len()
                && out[start..]
                    .iter()
                    .copied()
                    .zip(self.header())
                    .all(|(a, b)| a == b),
            "seal: the buffer was not started by begin"
        );
        let sum = sha256d(&out[start..]);
        out.extend_from_slice(&sum.0);
    }

    /// Appends the checksum to a buffer started by [`Envelope::begin`]: the finished blob.
    pub fn seal(&self, mut blob: Vec<u8>) -> Vec<u8> {
        self.seal_in(&mut blob, 0);
        blob
    }

    /// The finished blob around `payload`.
    pub fn wrap(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = self.begin(payload.len());
        out.extend_from_slice(payload);
        self.seal(out)
    }

    /// Checks a blob's envelope (magic, size, version, checksum, network, fingerprint) and
    /// returns its payload. Allocates nothing.
    pub fn open<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8], EnvelopeError> {
        let kind = self.kind;
        if bytes.len() >= 4 && bytes[..4] != kind.magic() {
            return Err(EnvelopeError::WrongKind {
                expected: kind,
                found: BlobKind::from_magic(&bytes[..4]),
            });
        }
        if bytes.len() > kind.max_len() {
            return Err(EnvelopeError::Oversized {
                kind,
                len: bytes.len(),
                max: kind.max_len(),
            });
        }
        if bytes.len() < kind.min_len() {
            return Err(EnvelopeError::Truncated {
                kind,
                needed: kind.min_len(),
                got: bytes.len(),
            });
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != kind.version() {
            return Err(EnvelopeError::UnsupportedVersion {
                kind,
                found: version,
                supported: kind.version(),
            });
        }
        let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if sha256d(body).0[..] != *sum {
            return Err(EnvelopeError::Checksum { kind });
        }
        if body[6] != network_byte(self.network) {
            return Err(EnvelopeError::OtherNetwork {
                kind,
                expected: self.network,
                found: body[6],
            });
        }
        if let Some(f) = &self.fingerprint {
            if body[7..39] != f.0 {
                return Err(EnvelopeError::ChainParams { kind });
            }
        }
        Ok(&body[kind.header_len()..])
    }
}

#[cfg(test)]
mod tests;
