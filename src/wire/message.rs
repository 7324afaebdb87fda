//! Every P2P message a light client sends or handles (PROTOCOL.md §1.5–§1.7), as one [`Message`]
//! enum with payload codecs for a given negotiated protocol version, and its [`Command`] typed.
//! Unknown commands decode to [`Message::Unknown`] and type as [`Command::Unknown`] (they must be
//! ignored, not treated as errors).

use super::codec::{Decode, Encode, Reader, Writer};
use super::frame::{encode_frame, RawMessage};
use super::header::BlockHeader;
use super::headers2::{
    compress_headers_hashed, decode_headers2, decompress_headers_hashed, encode_headers2,
    HeaderBatch, MAX_HEADERS,
};
use super::locks::{ClSig, IsDLock};
use super::mnlistdiff::{GetMnListDiff, MnListDiff};
use super::qrinfo::{GetQrInfo, QrInfo};
use super::WireError;
use crate::hashes::Hash256;
use crate::network::Network;

/// Maximum user-agent length (`MAX_SUBVERSION_LENGTH`).
pub const MAX_USER_AGENT_LENGTH: usize = 256;
/// Maximum block-locator entries in `getheaders(2)` (`MAX_LOCATOR_SZ`).
pub const MAX_LOCATOR_SIZE: usize = 101;
/// Maximum entries of `inv`, `getdata`, `notfound` (`MAX_INV_SZ`).
pub const MAX_INV_SIZE: usize = 50_000;
/// Maximum entries of `addr` / `addrv2` (`MAX_ADDR_TO_SEND`).
pub const MAX_ADDR_SIZE: usize = 1000;
/// Maximum BIP-155 address length (`MAX_ADDRV2_SIZE`).
pub const MAX_ADDRV2_SIZE: usize = 512;
/// Maximum `reject` reason length (`MAX_REJECT_MESSAGE_LENGTH`).
pub const MAX_REJECT_REASON_LENGTH: usize = 111;

/// Service bits (PROTOCOL.md §1.4).
pub mod services {
    /// Full chain.
    pub const NODE_NETWORK: u64 = 1 << 0;
    /// BIP-37 bloom filters.
    pub const NODE_BLOOM: u64 = 1 << 2;
    /// BIP-157/158 compact filters.
    pub const NODE_COMPACT_FILTERS: u64 = 1 << 6;
    /// Last 288 blocks only.
    pub const NODE_NETWORK_LIMITED: u64 = 1 << 10;
    /// Serves `getheaders2`/`headers2` (DIP-0025).
    pub const NODE_HEADERS_COMPRESSED: u64 = 1 << 11;
    /// BIP-324 v2 transport.
    pub const NODE_P2P_V2: u64 = 1 << 12;
}

/// Inventory types (`GetDataMsg`, PROTOCOL.md §1.6).
pub mod inv_type {
    /// Transaction.
    pub const MSG_TX: u32 = 1;
    /// Block.
    pub const MSG_BLOCK: u32 = 2;
    /// Filtered (merkle) block.
    pub const MSG_FILTERED_BLOCK: u32 = 3;
    /// Spork.
    pub const MSG_SPORK: u32 = 6;
    /// PrivateSend broadcast transaction.
    pub const MSG_DSTX: u32 = 16;
    /// Governance object.
    pub const MSG_GOVERNANCE_OBJECT: u32 = 17;
    /// Governance vote.
    pub const MSG_GOVERNANCE_OBJECT_VOTE: u32 = 18;
    /// Compact block.
    pub const MSG_CMPCT_BLOCK: u32 = 20;
    /// Quorum final commitment.
    pub const MSG_QUORUM_FINAL_COMMITMENT: u32 = 21;
    /// Quorum recovered signature.
    pub const MSG_QUORUM_RECOVERED_SIG: u32 = 28;
    /// ChainLock signature.
    pub const MSG_CLSIG: u32 = 29;
    /// Version 2 asset unlock, relayed by instance hash (Core v24, protocol 70242); never
    /// requested by a light client, ignored like every other type it does not use.
    pub const MSG_ASSET_UNLOCK: u32 = 34;
    /// Legacy InstantSend lock (no longer sent).
    pub const MSG_ISLOCK: u32 = 30;
    /// Deterministic InstantSend lock.
    pub const MSG_ISDLOCK: u32 = 31;
    /// DSQ.
    pub const MSG_DSQ: u32 = 32;
    /// Platform ban.
    pub const MSG_PLATFORM_BAN: u32 = 33;
}

/// An IPv6 (or IPv4-mapped) service address as in `version` and `addr` (`CService` with
/// services): u64 services, 16-byte address, big-endian port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NetAddress {
    /// Service bits.
    pub services: u64,
    /// IPv6 or IPv4-mapped (`::ffff:a.b.c.d`) address bytes.
    pub ip: [u8; 16],
    /// TCP port.
    pub port: u16,
}

impl NetAddress {
    /// Encoded size.
    pub const SIZE: usize = 26;

    /// An IPv4 address, IPv4-mapped.
    pub fn from_ipv4(services: u64, ip: [u8; 4], port: u16) -> Self {
        let mut b = [0u8; 16];
        b[10] = 0xff;
        b[11] = 0xff;
        b[12..].copy_from_slice(&ip);
        NetAddress {
            services,
            ip: b,
            port,
        }
    }
}

impl Encode for NetAddress {
    fn encode(&self, w: &mut Writer) {
        w.u64_le(self.services);
        w.bytes(&self.ip);
        w.u16_be(self.port);
    }
}

impl Decode for NetAddress {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(NetAddress {
            services: r.u64_le()?,
            ip: r.array()?,
            port: r.u16_be()?,
        })
    }
}

/// The `version` message (PROTOCOL.md §1.5).
///
/// The optional trailing fields are encoded in order up to the first `None`; on receive they are
/// read while bytes remain, and bytes after the last known field are ignored (as Core does, so
/// that later protocol versions can extend the message).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionMessage {
    /// Sender's protocol version.
    pub version: i32,
    /// Sender's service bits.
    pub services: u64,
    /// Unix time, seconds.
    pub timestamp: i64,
    /// The receiver's address as the sender sees it.
    pub addr_recv: NetAddress,
    /// The sender's address (Core sends zeros and ignores it).
    pub addr_from: NetAddress,
    /// Nonce for self-connection detection.
    pub nonce: u64,
    /// User agent (≤ 256 bytes). Kept as received when it is UTF-8; otherwise every byte that is
    /// not printable ASCII becomes `?`.
    pub user_agent: String,
    /// Sender's best height.
    pub start_height: i32,
    /// Transaction relay wanted.
    pub relay: Option<bool>,
    /// Dash MNAUTH challenge (32 random bytes).
    pub mnauth_challenge: Option<[u8; 32]>,
    /// Dash: the sender claims to be a masternode connecting as such (SPV sends false).
    pub masternode_connection: Option<bool>,
}

impl Encode for VersionMessage {
    fn encode(&self, w: &mut Writer) {
        w.i32_le(self.version);
        w.u64_le(self.services);
        w.i64_le(self.timestamp);
        self.addr_recv.encode(w);
        self.addr_from.encode(w);
        w.u64_le(self.nonce);
        w.var_bytes(self.user_agent.as_bytes());
        w.i32_le(self.start_height);
        let Some(relay) = self.relay else { return };
        w.bool(relay);
        let Some(ch) = &self.mnauth_challenge else {
            return;
        };
        w.bytes(ch);
        if let Some(m) = self.masternode_connection {
            w.bool(m);
        }
    }
}

impl Decode for VersionMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let version = r.i32_le()?;
        let services = r.u64_le()?;
        let timestamp = r.i64_le()?;
        let addr_recv = NetAddress::decode(r)?;
        let addr_from = NetAddress::decode(r)?;
        let nonce = r.u64_le()?;
        let user_agent = limited_string(r, MAX_USER_AGENT_LENGTH, "user agent")?;
        let start_height = r.i32_le()?;
        let relay = if r.is_empty() { None } else { Some(r.bool()?) };
        let mnauth_challenge = if r.is_empty() { None } else { Some(r.array()?) };
        let masternode_connection = if r.is_empty() { None } else { Some(r.bool()?) };
        // Ignore anything a later protocol version appends.
        let rest = r.remaining();
        r.take(rest)?;
        Ok(VersionMessage {
            version,
            services,
            timestamp,
            addr_recv,
            addr_from,
            nonce,
            user_agent,
            start_height,
            relay,
            mnauth_challenge,
            masternode_connection,
        })
    }
}

fn limited_string(
    r: &mut Reader<'_>,
    max: usize,
    field: &'static str,
) -> Result<String, WireError> {
    let at = r.position();
    let b = r.var_bytes()?;
    if b.len() > max {
        return Err(WireError::invalid(
            field,
            format!("{} bytes at byte {at} (max {max})", b.len()),
        ));
    }
    Ok(match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        // Not UTF-8: replace every non-printable-ASCII byte by '?', one byte for one byte, so
        // the re-encoded string never exceeds the limit it was checked against.
        Err(_) => b
            .iter()
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    c as char
                } else {
                    '?'
                }
            })
            .collect(),
    })
}

fn bounded_count(
    r: &mut Reader<'_>,
    min_elem: usize,
    max: usize,
    field: &'static str,
) -> Result<usize, WireError> {
    let at = r.position();
    let n = r.read_count(min_elem)?;
    if n > max {
        return Err(WireError::invalid(
            field,
            format!("{n} entries at byte {at} (max {max})"),
        ));
    }
    Ok(n)
}

fn bounded_vec<T: Decode>(
    r: &mut Reader<'_>,
    min_elem: usize,
    max: usize,
    field: &'static str,
) -> Result<Vec<T>, WireError> {
    let n = bounded_count(r, min_elem, max, field)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(T::decode(r)?);
    }
    Ok(v)
}

/// `getheaders` / `getheaders2`: locator and stop hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetHeaders {
    /// Sender's protocol version (Core ignores it).
    pub version: u32,
    /// Block locator, newest first (≤ 101 entries).
    pub locator: Vec<Hash256>,
    /// Stop at this block; zero = as many as allowed.
    pub stop_hash: Hash256,
}

impl Encode for GetHeaders {
    fn encode(&self, w: &mut Writer) {
        w.u32_le(self.version);
        w.vec(&self.locator);
        w.hash(&self.stop_hash);
    }
}

impl Decode for GetHeaders {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(GetHeaders {
            version: r.u32_le()?,
            locator: bounded_vec(r, 32, MAX_LOCATOR_SIZE, "getheaders locator")?,
            stop_hash: r.hash()?,
        })
    }
}

/// One inventory entry: `{u32 type, uint256 hash}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inventory {
    /// Inventory type ([`inv_type`]).
    pub inv_type: u32,
    /// The object's hash.
    pub hash: Hash256,
}

impl Inventory {
    /// Encoded size.
    pub const SIZE: usize = 36;
}

impl Encode for Inventory {
    fn encode(&self, w: &mut Writer) {
        w.u32_le(self.inv_type);
        w.hash(&self.hash);
    }
}

impl Decode for Inventory {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Inventory {
            inv_type: r.u32_le()?,
            hash: r.hash()?,
        })
    }
}

/// One `addr` entry: time and a service address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrEntry {
    /// Last seen, unix seconds.
    pub time: u32,
    /// The address.
    pub addr: NetAddress,
}

impl AddrEntry {
    /// Encoded size.
    pub const SIZE: usize = 4 + NetAddress::SIZE;
}

impl Encode for AddrEntry {
    fn encode(&self, w: &mut Writer) {
        w.u32_le(self.time);
        self.addr.encode(w);
    }
}

impl Decode for AddrEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(AddrEntry {
            time: r.u32_le()?,
            addr: NetAddress::decode(r)?,
        })
    }
}

/// A BIP-155 network address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddrV2 {
    /// Network id 1, 4 bytes.
    Ipv4([u8; 4]),
    /// Network id 2, 16 bytes.
    Ipv6([u8; 16]),
    /// Network id 4, 32-byte Ed25519 public key.
    TorV3([u8; 32]),
    /// Network id 5, 32-byte SHA-256 of the destination.
    I2p([u8; 32]),
    /// Network id 6, 16 bytes.
    Cjdns([u8; 16]),
    /// Any other network id (including the retired TorV2, id 3): kept as received, to be
    /// ignored by the caller (BIP-155).
    Unknown {
        /// Network id.
        network_id: u8,
        /// Address bytes (≤ 512).
        bytes: Vec<u8>,
    },
}

impl AddrV2 {
    /// The BIP-155 network id.
    pub fn network_id(&self) -> u8 {
        match self {
            AddrV2::Ipv4(_) => 1,
            AddrV2::Ipv6(_) => 2,
            AddrV2::TorV3(_) => 4,
            AddrV2::I2p(_) => 5,
            AddrV2::Cjdns(_) => 6,
            AddrV2::Unknown { network_id, .. } => *network_id,
        }
    }

    /// The address bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            AddrV2::Ipv4(b) => b,
            AddrV2::Ipv6(b) | AddrV2::Cjdns(b) => b,
            AddrV2::TorV3(b) | AddrV2::I2p(b) => b,
            AddrV2::Unknown { bytes, .. } => bytes,
        }
    }
}

/// One `addrv2` entry (BIP-155).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddrV2Entry {
    /// Last seen, unix seconds.
    pub time: u32,
    /// Service bits (compactSize on the wire).
    pub services: u64,
    /// The address.
    pub addr: AddrV2,
    /// Port.
    pub port: u16,
}

impl AddrV2Entry {
    /// Smallest encoded entry.
    pub const MIN_SIZE: usize = 4 + 1 + 1 + 1 + 2;
}

impl Encode for AddrV2Entry {
    fn encode(&self, w: &mut Writer) {
        w.u32_le(self.time);
        w.compact_size(self.services);
        w.u8(self.addr.network_id());
        w.var_bytes(self.addr.bytes());
        w.u16_be(self.port);
    }
}

impl Decode for AddrV2Entry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let time = r.u32_le()?;
        let services = r.compact_size()?;
        let network_id = r.u8()?;
        let at = r.position();
        let len = r.compact_size()?;
        if len > MAX_ADDRV2_SIZE as u64 {
            return Err(WireError::invalid(
                "addrv2 address",
                format!("length {len} at byte {at} (max {MAX_ADDRV2_SIZE})"),
            ));
        }
        let bytes = r.take(len as usize)?;
        let wrong = |want: usize| {
            WireError::invalid(
                "addrv2 address",
                format!(
                    "network {network_id} needs {want} bytes, got {} at byte {at}",
                    bytes.len()
                ),
            )
        };
        let addr = match network_id {
            1 => AddrV2::Ipv4(bytes.try_into().map_err(|_| wrong(4))?),
            2 => AddrV2::Ipv6(bytes.try_into().map_err(|_| wrong(16))?),
            4 => AddrV2::TorV3(bytes.try_into().map_err(|_| wrong(32))?),
            5 => AddrV2::I2p(bytes.try_into().map_err(|_| wrong(32))?),
            6 => AddrV2::Cjdns(bytes.try_into().map_err(|_| wrong(16))?),
            _ => AddrV2::Unknown {
                network_id,
                bytes: bytes.to_vec(),
            },
        };
        Ok(AddrV2Entry {
            time,
            services,
            addr,
            port: r.u16_be()?,
        })
    }
}

/// The `reject` message (only sent by Core up to v18).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reject {
    /// The command being rejected (≤ 12 bytes).
    pub message: String,
    /// Reject code.
    pub code: u8,
    /// Human-readable reason (≤ 111 bytes; non-UTF-8 sanitized as for the user agent).
    pub reason: String,
    /// Hash of the rejected object, present for `block` and `tx` rejects.
    pub data: Option<Hash256>,
}

impl Encode for Reject {
    fn encode(&self, w: &mut Writer) {
        w.var_bytes(self.message.as_bytes());
        w.u8(self.code);
        w.var_bytes(self.reason.as_bytes());
        if let Some(h) = &self.data {
            w.hash(h);
        }
    }
}

impl Decode for Reject {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let message = limited_string(r, super::frame::COMMAND_SIZE, "reject message")?;
        let code = r.u8()?;
        let reason = limited_string(r, MAX_REJECT_REASON_LENGTH, "reject reason")?;
        let data = if r.is_empty() { None } else { Some(r.hash()?) };
        Ok(Reject {
            message,
            code,
            reason,
            data,
        })
    }
}

/// A decoded P2P message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `version`.
    Version(VersionMessage),
    /// `verack`.
    Verack,
    /// `ping` with nonce.
    Ping(u64),
    /// `pong` with the ping's nonce.
    Pong(u64),
    /// `sendheaders`.
    SendHeaders,
    /// `sendheaders2`.
    SendHeaders2,
    /// `getheaders`.
    GetHeaders(GetHeaders),
    /// `getheaders2`.
    GetHeaders2(GetHeaders),
    /// `headers` (≤ 2000; each with a zero tx count on the wire).
    Headers(Vec<BlockHeader>),
    /// `headers2`, decompressed (≤ 2000, or ≤ 8000 at P ≥ 70235), with the block hash of each
    /// header when decoded (decompression computes them; see [`HeaderBatch`]).
    Headers2(HeaderBatch),
    /// `getmnlistd`.
    GetMnListD(GetMnListDiff),
    /// `mnlistdiff`.
    MnListDiff(Box<MnListDiff>),
    /// `getqrinfo`.
    GetQrInfo(GetQrInfo),
    /// `qrinfo`.
    QrInfo(Box<QrInfo>),
    /// `clsig`.
    ClSig(ClSig),
    /// `isdlock`.
    IsDLock(IsDLock),
    /// `inv`.
    Inv(Vec<Inventory>),
    /// `getdata`.
    GetData(Vec<Inventory>),
    /// `notfound`.
    NotFound(Vec<Inventory>),
    /// `getaddr`.
    GetAddr,
    /// `addr`.
    Addr(Vec<AddrEntry>),
    /// `addrv2`.
    AddrV2(Vec<AddrV2Entry>),
    /// `sendaddrv2`.
    SendAddrV2,
    /// `reject`.
    Reject(Reject),
    /// Any other command, kept undecoded.
    Unknown {
        /// The command.
        command: String,
        /// The payload.
        payload: Vec<u8>,
    },
}

/// Declares [`Command`] and [`KNOWN_COMMANDS`] from one list, so a command's variant and its
/// name on the wire are written once.
macro_rules! commands {
    ($count:literal; $($variant:ident => $name:literal,)*) => {
        /// A message's command, typed: each command this library knows, and any other one kept
        /// by its name in [`Command::Unknown`] (a newer peer's command, to be ignored, never an
        /// error).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Command {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )*
            /// Any other command, by its name on the wire.
            Unknown(String),
        }

        impl Command {
            /// The command named `name` on the wire ([`Command::Unknown`] when the library
            /// does not know it).
            pub fn from_name(name: &str) -> Command {
                match name {
                    $($name => Command::$variant,)*
                    other => Command::Unknown(other.to_string()),
                }
            }

            /// The name of a command this library knows (`None` for [`Command::Unknown`]).
            pub fn known_name(&self) -> Option<&'static str> {
                match self {
                    $(Command::$variant => Some($name),)*
                    Command::Unknown(_) => None,
                }
            }
        }

        /// Every command [`Message::decode`] understands.
        pub const KNOWN_COMMANDS: [&str; $count] = [$($name,)*];
    };
}

commands! {
    24;
    Version => "version",
    Verack => "verack",
    Ping => "ping",
    Pong => "pong",
    SendHeaders => "sendheaders",
    SendHeaders2 => "sendheaders2",
    GetHeaders => "getheaders",
    GetHeaders2 => "getheaders2",
    Headers => "headers",
    Headers2 => "headers2",
    GetMnListD => "getmnlistd",
    MnListDiff => "mnlistdiff",
    GetQrInfo => "getqrinfo",
    QrInfo => "qrinfo",
    ClSig => "clsig",
    IsDLock => "isdlock",
    Inv => "inv",
    GetData => "getdata",
    NotFound => "notfound",
    GetAddr => "getaddr",
    Addr => "addr",
    AddrV2 => "addrv2",
    SendAddrV2 => "sendaddrv2",
    Reject => "reject",
}

impl Command {
    /// The name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Command::Unknown(name) => name,
            known => known.known_name().unwrap_or_default(),
        }
    }

    /// Whether the library knows this command.
    pub fn is_known(&self) -> bool {
        !matches!(self, Command::Unknown(_))
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Message {
    /// The headers of a `headers` or `headers2` message (`None` for any other message).
    pub fn headers(&self) -> Option<&[BlockHeader]> {
        match self {
            Message::Headers(hs) => Some(hs),
            Message::Headers2(b) => Some(&b.headers),
            _ => None,
        }
    }

    /// The headers of a `headers` or `headers2` message as a [`HeaderBatch`] (with the hashes
    /// decompression computed for `headers2`; none for `headers`). `None` for any other message.
    pub fn into_header_batch(self) -> Option<HeaderBatch> {
        match self {
            Message::Headers(hs) => Some(hs.into()),
            Message::Headers2(b) => Some(b),
            _ => None,
        }
    }

    /// The command, typed.
    pub fn kind(&self) -> Command {
        match self {
            Message::Version(_) => Command::Version,
            Message::Verack => Command::Verack,
            Message::Ping(_) => Command::Ping,
            Message::Pong(_) => Command::Pong,
            Message::SendHeaders => Command::SendHeaders,
            Message::SendHeaders2 => Command::SendHeaders2,
            Message::GetHeaders(_) => Command::GetHeaders,
            Message::GetHeaders2(_) => Command::GetHeaders2,
            Message::Headers(_) => Command::Headers,
            Message::Headers2(_) => Command::Headers2,
            Message::GetMnListD(_) => Command::GetMnListD,
            Message::MnListDiff(_) => Command::MnListDiff,
            Message::GetQrInfo(_) => Command::GetQrInfo,
            Message::QrInfo(_) => Command::QrInfo,
            Message::ClSig(_) => Command::ClSig,
            Message::IsDLock(_) => Command::IsDLock,
            Message::Inv(_) => Command::Inv,
            Message::GetData(_) => Command::GetData,
            Message::NotFound(_) => Command::NotFound,
            Message::GetAddr => Command::GetAddr,
            Message::Addr(_) => Command::Addr,
            Message::AddrV2(_) => Command::AddrV2,
            Message::SendAddrV2 => Command::SendAddrV2,
            Message::Reject(_) => Command::Reject,
            Message::Unknown { command, .. } => Command::Unknown(command.clone()),
        }
    }

    /// The command string.
    pub fn command(&self) -> &str {
        match self {
            Message::Unknown { command, .. } => command,
            // Every other message has a command the library knows.
            known => known.kind().known_name().unwrap_or_default(),
        }
    }

    /// The payload for protocol version `p`.
    pub fn encode_payload(&self, p: u32) -> Vec<u8> {
        let mut w = Writer::new(p);
        match self {
            Message::Version(v) => v.encode(&mut w),
            Message::Verack
            | Message::SendHeaders
            | Message::SendHeaders2
            | Message::GetAddr
            | Message::SendAddrV2 => {}
            Message::Ping(n) | Message::Pong(n) => w.u64_le(*n),
            Message::GetHeaders(g) | Message::GetHeaders2(g) => g.encode(&mut w),
            Message::Headers(hs) => {
                w.compact_size(hs.len() as u64);
                for h in hs {
                    h.encode(&mut w);
                    w.u8(0);
                }
            }
            Message::Headers2(b) => {
                return encode_headers2(&compress_headers_hashed(&b.headers, &b.hashes))
            }
            Message::GetMnListD(g) => g.encode(&mut w),
            Message::MnListDiff(d) => d.encode(&mut w),
            Message::GetQrInfo(g) => g.encode(&mut w),
            Message::QrInfo(q) => q.encode(&mut w),
            Message::ClSig(c) => c.encode(&mut w),
            Message::IsDLock(l) => l.encode(&mut w),
            Message::Inv(v) | Message::GetData(v) | Message::NotFound(v) => w.vec(v),
            Message::Addr(v) => w.vec(v),
            Message::AddrV2(v) => w.vec(v),
            Message::Reject(r) => r.encode(&mut w),
            Message::Unknown { payload, .. } => return payload.clone(),
        }
        w.into_bytes()
    }

    /// Decodes the payload of `command` for protocol version `p`. Unknown commands give
    /// [`Message::Unknown`]; known ones must use every byte (except `version`, see
    /// [`VersionMessage`]).
    pub fn decode(command: &str, payload: &[u8], p: u32) -> Result<Message, WireError> {
        let mut r = Reader::new(payload, p);
        let r = &mut r;
        let m = match Command::from_name(command) {
            Command::Version => Message::Version(VersionMessage::decode(r)?),
            Command::Verack => Message::Verack,
            Command::Ping => Message::Ping(r.u64_le()?),
            Command::Pong => Message::Pong(r.u64_le()?),
            Command::SendHeaders => Message::SendHeaders,
            Command::SendHeaders2 => Message::SendHeaders2,
            Command::GetHeaders => Message::GetHeaders(GetHeaders::decode(r)?),
            Command::GetHeaders2 => Message::GetHeaders2(GetHeaders::decode(r)?),
            Command::Headers => {
                let n = bounded_count(r, BlockHeader::SIZE + 1, MAX_HEADERS, "headers count")?;
                let mut hs = Vec::with_capacity(n);
                for _ in 0..n {
                    hs.push(BlockHeader::decode(r)?);
                    let at = r.position();
                    let txs = r.compact_size()?;
                    if txs != 0 {
                        return Err(WireError::invalid(
                            "headers tx count",
                            format!("{txs} at byte {at} (must be 0)"),
                        ));
                    }
                }
                Message::Headers(hs)
            }
            Command::Headers2 => {
                let c = decode_headers2(payload, p)?;
                return Ok(Message::Headers2(decompress_headers_hashed(&c, None)?));
            }
            Command::GetMnListD => Message::GetMnListD(GetMnListDiff::decode(r)?),
            Command::MnListDiff => Message::MnListDiff(Box::new(MnListDiff::decode(r)?)),
            Command::GetQrInfo => Message::GetQrInfo(GetQrInfo::decode(r)?),
            Command::QrInfo => Message::QrInfo(Box::new(QrInfo::decode(r)?)),
            Command::ClSig => Message::ClSig(ClSig::decode(r)?),
            Command::IsDLock => Message::IsDLock(IsDLock::decode(r)?),
            Command::Inv => Message::Inv(bounded_vec(r, Inventory::SIZE, MAX_INV_SIZE, "inv")?),
            Command::GetData => {
                Message::GetData(bounded_vec(r, Inventory::SIZE, MAX_INV_SIZE, "getdata")?)
            }
            Command::NotFound => {
                Message::NotFound(bounded_vec(r, Inventory::SIZE, MAX_INV_SIZE, "notfound")?)
            }
            Command::GetAddr => Message::GetAddr,
            Command::Addr => Message::Addr(bounded_vec(r, AddrEntry::SIZE, MAX_ADDR_SIZE, "addr")?),
            Command::AddrV2 => Message::AddrV2(bounded_vec(
                r,
                AddrV2Entry::MIN_SIZE,
                MAX_ADDR_SIZE,
                "addrv2",
            )?),
            Command::SendAddrV2 => Message::SendAddrV2,
            Command::Reject => Message::Reject(Reject::decode(r)?),
            Command::Unknown(command) => {
                return Ok(Message::Unknown {
                    command,
                    payload: payload.to_vec(),
                })
            }
        };
        r.finish()?;
        Ok(m)
    }

    /// Decodes a framed message taken off the wire.
    ///
    /// A `headers2` message whose headers were rebuilt while it arrived
    /// ([`RawMessage::headers2`]) is parsed again at `p` (every rule of [`decode_headers2`],
    /// no hashing); the rebuilt headers are used when that parse yields as many headers as
    /// were rebuilt from the same bytes, otherwise the payload is decoded whole.
    pub fn from_raw(raw: &RawMessage, p: u32) -> Result<Message, WireError> {
        if let (Some(batch), "headers2") = (&raw.headers2, raw.command.as_str()) {
            let parsed = decode_headers2(&raw.payload, p)?;
            if parsed.len() == batch.headers.len() {
                return Ok(Message::Headers2(batch.clone()));
            }
        }
        Message::decode(&raw.command, &raw.payload, p)
    }

    /// The complete framed message (header + payload) for `network` at protocol version `p`.
    pub fn to_frame(&self, network: Network, p: u32) -> Vec<u8> {
        encode_frame(network, self.command(), &self.encode_payload(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_command_names_itself_and_an_unknown_one_keeps_its_name() {
        for name in KNOWN_COMMANDS {
            let c = Command::from_name(name);
            assert!(c.is_known(), "{name}");
            assert_eq!(c.known_name(), Some(name));
            assert_eq!(c.name(), name);
        }
        let newer = Command::from_name("mempool2");
        assert_eq!(newer, Command::Unknown("mempool2".into()));
        assert_eq!((newer.known_name(), newer.name()), (None, "mempool2"));
        let m = Message::decode("mempool2", &[1, 2, 3], 70235).unwrap();
        assert_eq!((m.kind(), m.command()), (newer, "mempool2"));
    }

    #[test]
    fn a_decoded_message_has_the_command_it_was_decoded_as() {
        // Payloads that decode for the commands without a body or with a nonce.
        for (name, payload) in [
            ("verack", &[][..]),
            ("ping", &[7; 8][..]),
            ("pong", &[7; 8][..]),
            ("sendheaders", &[][..]),
            ("sendheaders2", &[][..]),
            ("getaddr", &[][..]),
            ("sendaddrv2", &[][..]),
            ("inv", &[0][..]),
            ("getdata", &[0][..]),
            ("notfound", &[0][..]),
            ("headers", &[0][..]),
            ("addr", &[0][..]),
            ("addrv2", &[0][..]),
        ] {
            let m = Message::decode(name, payload, 70235).unwrap();
            assert_eq!(m.command(), name);
            assert_eq!(m.kind(), Command::from_name(name));
        }
    }
}
