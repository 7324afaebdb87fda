//! The Dash P2P wire format: framing and every message codec a light client uses
//! (PROTOCOL.md §1, §3.2, §3.4, §3.5, §4.1–§4.3, §5.1, §9.1, §9.3).
//!
//! Pure and I/O-free. Decoders take the negotiated protocol version explicitly (through
//! [`codec::Reader`]); every layout that depends on it follows PROTOCOL.md for 70218 … 70240.
//! Types keep the exact bytes they were given where Core hashes them (service addresses, BLS
//! keys and signatures), so re-encoding is byte-identical.

pub mod codec;
pub mod commitment;
pub mod frame;
pub mod header;
pub mod headers2;
pub mod locks;
pub mod message;
pub mod mnlistdiff;
pub mod netinfo;
pub mod qrinfo;
pub mod sml_entry;
pub mod tx;

pub use codec::{BitSet, Decode, Encode, Reader, Writer};
pub use frame::{encode_frame, FrameDecoder, FrameError, RawMessage, MAX_MESSAGE_SIZE};
pub use locks::{ClSig, IsDLock, OutPoint};
pub use message::Message;

/// Protocol version constants (PROTOCOL.md §1.3).
pub mod version {
    /// `mnlistdiff` gains a `nVersion` u16 after the cbTx (70225 ≤ P < 70229).
    pub const BLS_SCHEME_PROTO_VERSION: u32 = 70225;
    /// SML entries of version ≥ 2 carry `nType` and evonode fields.
    pub const DMN_TYPE_PROTO_VERSION: u32 = 70227;
    /// Every SML entry starts with its own `nVersion`.
    pub const SMNLE_VERSIONED_PROTO_VERSION: u32 = 70228;
    /// The `mnlistdiff` `nVersion` moves to the front.
    pub const MNLISTDIFF_VERSION_ORDER: u32 = 70229;
    /// `mnlistdiff` ends with `quorumsCLSigs`.
    pub const MNLISTDIFF_CHAINLOCKS_PROTO_VERSION: u32 = 70230;
    /// `headers2` may carry up to 8000 headers.
    pub const INCREASE_MAX_HEADERS2_VERSION: u32 = 70235;
    /// QRINFO diffs are chained by v23 servers.
    pub const EFFICIENT_QRINFO_VERSION: u32 = 70236;
    /// The version this library advertises.
    pub const OUR_PROTOCOL_VERSION: u32 = 70237;
    /// The lowest negotiated version at which masternode-list sync is done (see §1.3).
    pub const MIN_MNLIST_SYNC_VERSION: u32 = 70230;
    /// The versions at which vectors and tests exercise every layout.
    pub const ALL_LAYOUTS: [u32; 6] = [70218, 70225, 70227, 70228, 70229, 70230];
}

/// Everything that can go wrong decoding wire data. Every variant says where in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended before a field was complete.
    #[error("unexpected end of input at byte {at}: needed {needed} more bytes, {remaining} left")]
    UnexpectedEof {
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        remaining: usize,
        /// Offset.
        at: usize,
    },
    /// Decoding finished with bytes left over.
    #[error("{remaining} trailing bytes after the message (decoded up to byte {at})")]
    TrailingBytes {
        /// Bytes left.
        remaining: usize,
        /// Offset.
        at: usize,
    },
    /// A compactSize used a longer encoding than needed.
    #[error("non-canonical compactSize at byte {at}")]
    NonCanonicalCompactSize {
        /// Offset.
        at: usize,
    },
    /// A size above Core's MAX_SIZE (32 MiB).
    #[error("size {size} at byte {at} exceeds the 32 MiB limit")]
    SizeTooLarge {
        /// The size read.
        size: u64,
        /// Offset.
        at: usize,
    },
    /// A count larger than the remaining input could possibly hold.
    #[error("count {count} at byte {at} cannot fit in the {remaining} bytes left")]
    CountExceedsInput {
        /// The count read.
        count: u64,
        /// Bytes left.
        remaining: usize,
        /// Offset.
        at: usize,
    },
    /// A set padding bit in a dynamic bitset.
    #[error("bitset at byte {at} has padding bits set")]
    BitsetPadding {
        /// Offset.
        at: usize,
    },
    /// A field holds a value its layout does not allow.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// Field name.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A P2P message header problem (magic, command, length, checksum).
    #[error("bad message frame: {0}")]
    Frame(String),
    /// A structure carries a version newer than this library knows, and the layout of what
    /// follows depends on it: the data cannot be read, but it is not proof of misbehaviour
    /// (the peer may run a newer Dash Core). See [`UnsupportedVersion`].
    #[error("{0}")]
    Unsupported(UnsupportedVersion),
}

/// A structure whose version is newer than the layouts this library knows (PROTOCOL.md, "Newer
/// versions"). Structures whose history only appends fields (the CbTx) never produce it: their
/// known prefix is decoded and the rest kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedVersion {
    /// The structure, as Dash Core names it (e.g. "SML entry", "ExtNetInfo").
    pub structure: &'static str,
    /// The version seen.
    pub version: u64,
    /// The newest version of that structure this library decodes.
    pub newest_known: u64,
}

impl std::fmt::Display for UnsupportedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} version {} is newer than this library knows (dash-qrsync {} reads up to version \
             {}); the network runs a newer Dash Core: update the library",
            self.structure,
            self.version,
            env!("CARGO_PKG_VERSION"),
            self.newest_known
        )
    }
}

impl WireError {
    /// Shorthand for [`WireError::Unsupported`].
    pub fn unsupported(structure: &'static str, version: u64, newest_known: u64) -> Self {
        WireError::Unsupported(UnsupportedVersion {
            structure,
            version,
            newest_known,
        })
    }

    /// The newer-than-known version behind this error, if that is what it is.
    pub fn unsupported_version(&self) -> Option<&UnsupportedVersion> {
        match self {
            WireError::Unsupported(u) => Some(u),
            _ => None,
        }
    }

    /// Shorthand for [`WireError::InvalidValue`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        WireError::InvalidValue {
            field,
            reason: reason.into(),
        }
    }
}
