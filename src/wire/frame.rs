//! P2P message framing, v1 transport (PROTOCOL.md §1.1): the 24-byte message header and an
//! incremental, allocation-bounded [`FrameDecoder`].
//!
//! Size limits. Core drops any message whose announced length exceeds
//! `MAX_PROTOCOL_MESSAGE_LENGTH` (3 MiB, [`MAX_MESSAGE_SIZE`]) — but Core does **not** apply that
//! limit to what it sends, and a `mnlistdiff` or `qrinfo` built from an empty base can exceed it
//! (a real mainnet `qrinfo` is 3,492,502 bytes). This decoder therefore accepts `mnlistdiff` and
//! `qrinfo` payloads up to Core's `MAX_SIZE` (32 MiB, [`MAX_LARGE_MESSAGE_SIZE`]) and every other
//! command up to 3 MiB ([`max_payload_size`]). The length is checked as soon as the 24-byte
//! header is available, before any payload byte is kept for that message, and no buffer is ever
//! reserved from an announced length.

use super::headers2::{HeaderBatch, Headers2Stream};
use super::WireError;
use crate::hashes::sha256d;
use crate::network::Network;

/// Size of the message header.
pub const HEADER_SIZE: usize = 24;

/// Size of the NUL-padded command field.
pub const COMMAND_SIZE: usize = 12;

/// Core's `MAX_PROTOCOL_MESSAGE_LENGTH` (3 MiB): the limit for every command except those in
/// [`LARGE_COMMANDS`].
pub const MAX_MESSAGE_SIZE: usize = 3 * 1024 * 1024;

/// The limit for `mnlistdiff` and `qrinfo` payloads: Core's `MAX_SIZE` (32 MiB), because Core
/// sends these above 3 MiB (PROTOCOL.md §1.1).
pub const MAX_LARGE_MESSAGE_SIZE: usize = 0x0200_0000;

/// Commands allowed up to [`MAX_LARGE_MESSAGE_SIZE`].
pub const LARGE_COMMANDS: [&str; 2] = ["mnlistdiff", "qrinfo"];

/// The largest payload accepted for `command`.
pub fn max_payload_size(command: &str) -> usize {
    if LARGE_COMMANDS.contains(&command) {
        MAX_LARGE_MESSAGE_SIZE
    } else {
        MAX_MESSAGE_SIZE
    }
}

/// Why a byte stream is not a valid sequence of framed messages. After any of these the stream
/// is out of sync and the connection should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The message start bytes are not those of the expected network.
    #[error("wrong magic {found:02x?} (expected {expected:02x?})")]
    WrongMagic {
        /// The bytes found.
        found: [u8; 4],
        /// The network's magic.
        expected: [u8; 4],
    },
    /// The command field is not printable ASCII followed only by NUL padding, or is empty.
    #[error("malformed command field {0:02x?}")]
    MalformedCommand([u8; COMMAND_SIZE]),
    /// The announced payload length exceeds the limit for the command.
    #[error("{command} payload of {length} bytes exceeds the {limit}-byte limit")]
    Oversize {
        /// The command.
        command: String,
        /// Announced length.
        length: u32,
        /// Applicable limit.
        limit: usize,
    },
    /// The checksum does not match the first four bytes of SHA256d(payload).
    #[error("{command}: checksum {found:02x?} does not match payload ({expected:02x?})")]
    BadChecksum {
        /// The command.
        command: String,
        /// Checksum in the header.
        found: [u8; 4],
        /// Checksum of the payload received.
        expected: [u8; 4],
    },
}

impl From<FrameError> for WireError {
    fn from(e: FrameError) -> Self {
        WireError::Frame(e.to_string())
    }
}

/// One complete message taken off the wire: its command and checked payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The command string (without padding).
    pub command: String,
    /// The payload (length and checksum verified).
    pub payload: Vec<u8>,
    /// For a `headers2` message, its headers and their hashes as rebuilt while the payload
    /// arrived ([`Headers2Stream`]); `None` when not computed. An early computation only:
    /// [`crate::wire::message::Message::from_raw`] checks it against the payload before use.
    pub headers2: Option<HeaderBatch>,
}

/// A parsed and validated 24-byte message header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    /// The command string (without padding).
    pub command: String,
    /// Payload length.
    pub length: u32,
    /// First four bytes of SHA256d(payload).
    pub checksum: [u8; 4],
}

/// The first four bytes of SHA256d(payload).
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = sha256d(payload);
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// Parses a command field: printable ASCII (0x20..=0x7e), then only NUL padding; not empty.
pub fn parse_command(field: &[u8; COMMAND_SIZE]) -> Result<String, FrameError> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(COMMAND_SIZE);
    let (name, pad) = field.split_at(end);
    if name.is_empty()
        || !name.iter().all(|&b| (0x20..=0x7e).contains(&b))
        || !pad.iter().all(|&b| b == 0)
    {
        return Err(FrameError::MalformedCommand(*field));
    }
    // All bytes are ASCII, so this is lossless.
    Ok(name.iter().map(|&b| b as char).collect())
}

/// Parses and validates a 24-byte header for `network`: magic, command and length limit.
pub fn parse_header(network: Network, h: &[u8; HEADER_SIZE]) -> Result<FrameHeader, FrameError> {
    let magic = [h[0], h[1], h[2], h[3]];
    if magic != network.magic() {
        return Err(FrameError::WrongMagic {
            found: magic,
            expected: network.magic(),
        });
    }
    let mut cmd = [0u8; COMMAND_SIZE];
    cmd.copy_from_slice(&h[4..16]);
    let command = parse_command(&cmd)?;
    let length = u32::from_le_bytes([h[16], h[17], h[18], h[19]]);
    let limit = max_payload_size(&command);
    if length as usize > limit {
        return Err(FrameError::Oversize {
            command,
            length,
            limit,
        });
    }
    Ok(FrameHeader {
        command,
        length,
        checksum: [h[20], h[21], h[22], h[23]],
    })
}

/// Frames `payload` as a complete message: magic, command, length, checksum, payload.
///
/// `command` should be printable ASCII of at most 12 bytes (every command of the protocol is);
/// longer commands are truncated to 12 bytes.
pub fn encode_frame(network: Network, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_SIZE + payload.len());
    out.extend_from_slice(&network.magic());
    let mut cmd = [0u8; COMMAND_SIZE];
    for (d, s) in cmd.iter_mut().zip(command.as_bytes()) {
        *d = *s;
    }
    out.extend_from_slice(&cmd);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload));
    out.extend_from_slice(payload);
    out
}

/// Payloads at least this large are moved out of the decoder's buffer instead of copied.
const TAKE_THRESHOLD: usize = 256 * 1024;

/// Incremental decoder for a stream of framed messages from one peer.
///
/// Feed received bytes with [`FrameDecoder::push`] and take complete messages with
/// [`FrameDecoder::pop`]. The header of the message being received is validated (magic, command,
/// length limit) as soon as its 24 bytes are present, so an oversize or foreign message is
/// rejected before its payload is accumulated. After an error the decoder stays failed (the
/// stream is out of sync) and returns that error again.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    network: Network,
    buf: Vec<u8>,
    /// Start of unread data in `buf`.
    start: usize,
    /// Header of the message at `start`, once validated.
    pending: Option<FrameHeader>,
    failed: Option<FrameError>,
    /// The headers of the pending `headers2` message rebuilt so far.
    stream: Option<Headers2Stream>,
}

impl FrameDecoder {
    /// A decoder for messages of `network`.
    pub fn new(network: Network) -> Self {
        FrameDecoder {
            network,
            buf: Vec::new(),
            start: 0,
            pending: None,
            failed: None,
            stream: None,
        }
    }

    /// The network whose magic is expected.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Bytes received but not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The error that stopped the decoder, if any.
    pub fn error(&self) -> Option<&FrameError> {
        self.failed.as_ref()
    }

    /// Appends received bytes and validates the pending message header if it is now complete.
    /// Returns the error if the stream is (or already was) invalid; the bytes are then dropped.
    pub fn push(&mut self, data: &[u8]) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
        let Some((streamed, length)) = self
            .check_header()?
            .map(|h| (h.command == "headers2", h.length as usize))
        else {
            return Ok(());
        };
        // A `headers2` payload is decompressed (and hashed) as it arrives.
        if streamed {
            let body = self.start + HEADER_SIZE;
            let end = self.buf.len().min(body + length);
            let payload = self.buf.get(body..end).unwrap_or(&[]);
            self.stream
                .get_or_insert_with(Headers2Stream::new)
                .feed(payload);
        }
        Ok(())
    }

    /// Validates the header at `start` if complete and not yet validated.
    fn check_header(&mut self) -> Result<Option<&FrameHeader>, FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.pending.is_none() {
            let Some(h) = self.buf.get(self.start..self.start + HEADER_SIZE) else {
                return Ok(None);
            };
            let mut hb = [0u8; HEADER_SIZE];
            hb.copy_from_slice(h);
            match parse_header(self.network, &hb) {
                Ok(fh) => self.pending = Some(fh),
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(self.pending.as_ref())
    }

    fn fail(&mut self, e: FrameError) -> FrameError {
        self.failed = Some(e.clone());
        self.stream = None;
        self.buf = Vec::new();
        self.start = 0;
        self.pending = None;
        e
    }

    /// Takes the next complete message, `Ok(None)` if more bytes are needed.
    pub fn pop(&mut self) -> Result<Option<RawMessage>, FrameError> {
        let len = match self.check_header()? {
            None => return Ok(None),
            Some(h) => h.length as usize,
        };
        let body = self.start + HEADER_SIZE;
        if self.buf.len() - body < len {
            return Ok(None);
        }
        let Some(header) = self.pending.take() else {
            return Ok(None);
        };
        let sum = checksum(&self.buf[body..body + len]);
        if sum != header.checksum {
            return Err(self.fail(FrameError::BadChecksum {
                command: header.command,
                found: header.checksum,
                expected: sum,
            }));
        }
        let payload = if len >= TAKE_THRESHOLD {
            // A large payload is moved out of the buffer, not copied (a copy would double the
            // memory a 32 MiB message costs); what follows it is small and moves instead.
            let tail = self.buf.split_off(body + len);
            let mut payload = std::mem::replace(&mut self.buf, tail);
            payload.drain(..body);
            self.start = 0;
            payload
        } else {
            let p = self.buf[body..body + len].to_vec();
            self.start = body + len;
            p
        };
        if self.start == self.buf.len() {
            if self.buf.capacity() > TAKE_THRESHOLD {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.start = 0;
        }
        let headers2 = self.stream.take().and_then(|st| st.finish(&payload));
        Ok(Some(RawMessage {
            command: header.command,
            payload,
            headers2,
        }))
    }

    /// Headers of the pending `headers2` message rebuilt so far (0 for any other message).
    pub fn streamed_headers(&self) -> usize {
        self.stream.as_ref().map_or(0, Headers2Stream::rebuilt)
    }

    /// Pushes `data` and returns every message completed by it.
    pub fn decode_all(&mut self, data: &[u8]) -> Result<Vec<RawMessage>, FrameError> {
        self.push(data)?;
        let mut out = Vec::new();
        while let Some(m) = self.pop()? {
            out.push(m);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_errors() {
        let f = encode_frame(Network::Testnet, "ping", &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(f.len(), 32);
        let mut d = FrameDecoder::new(Network::Testnet);
        for b in &f {
            assert_eq!(d.pop().unwrap(), None);
            d.push(&[*b]).unwrap();
        }
        let m = d.pop().unwrap().unwrap();
        assert_eq!(m.command, "ping");
        assert_eq!(m.payload, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(d.buffered(), 0);

        let mut d = FrameDecoder::new(Network::Mainnet);
        assert!(matches!(d.push(&f), Err(FrameError::WrongMagic { .. })));
        assert!(d.pop().is_err());

        let mut bad = f.clone();
        bad[31] ^= 1;
        let mut d = FrameDecoder::new(Network::Testnet);
        d.push(&bad).unwrap();
        assert!(matches!(d.pop(), Err(FrameError::BadChecksum { .. })));

        let mut bad = f.clone();
        bad[9] = b'x'; // non-NUL after NUL
        let mut d = FrameDecoder::new(Network::Testnet);
        assert!(matches!(d.push(&bad), Err(FrameError::MalformedCommand(_))));

        let mut big = encode_frame(Network::Testnet, "headers", &[]);
        big[16..20].copy_from_slice(&(MAX_MESSAGE_SIZE as u32 + 1).to_le_bytes());
        let mut d = FrameDecoder::new(Network::Testnet);
        assert!(matches!(
            d.push(&big[..24]),
            Err(FrameError::Oversize { .. })
        ));
        let mut big = encode_frame(Network::Testnet, "qrinfo", &[]);
        big[16..20].copy_from_slice(&(MAX_MESSAGE_SIZE as u32 + 1).to_le_bytes());
        let mut d = FrameDecoder::new(Network::Testnet);
        d.push(&big[..24]).unwrap();
        assert_eq!(d.pop().unwrap(), None);
    }

    /// Consecutive headers (linked, varying fields) for `headers2` tests.
    fn chain(n: u32) -> Vec<crate::wire::header::BlockHeader> {
        let mut v: Vec<crate::wire::header::BlockHeader> = Vec::new();
        for i in 0..n {
            let prev = v.last().map(|h| h.block_hash()).unwrap_or_default();
            v.push(crate::wire::header::BlockHeader {
                version: [0x2000_0000, 0x2000_0004, 3][i as usize % 3],
                prev_block_hash: prev,
                merkle_root: crate::hashes::Hash256([i as u8; 32]),
                time: 1_600_000_000 + i * 150,
                bits: 0x1e0f_fff0 + i / 7,
                nonce: i,
            });
        }
        v
    }

    /// A `headers2` payload is rebuilt while it arrives: with all but its last byte in, all but
    /// its last header are rebuilt and hashed; the message then decodes to exactly what decoding
    /// the payload whole gives (headers and hashes).
    #[test]
    fn headers2_rebuilt_while_arriving() {
        use crate::wire::headers2::{compress_headers, encode_headers2};
        use crate::wire::message::Message;
        let hs = chain(300);
        let payload = encode_headers2(&compress_headers(&hs));
        let frame = encode_frame(Network::Mainnet, "headers2", &payload);
        let mut d = FrameDecoder::new(Network::Mainnet);
        for seg in frame[..frame.len() - 1].chunks(100) {
            d.push(seg).unwrap();
        }
        assert_eq!(d.streamed_headers(), 299);
        assert_eq!(d.pop().unwrap(), None);
        d.push(&frame[frame.len() - 1..]).unwrap();
        let raw = d.pop().unwrap().unwrap();
        assert!(raw.headers2.is_some());
        let whole = Message::decode("headers2", &payload, 70235).unwrap();
        let (Message::Headers2(a), Message::Headers2(b)) =
            (Message::from_raw(&raw, 70235).unwrap(), whole)
        else {
            panic!("not headers2");
        };
        assert_eq!(a.headers, hs);
        assert_eq!((a.headers, a.hashes), (b.headers, b.hashes));
    }

    /// What decoding the payload whole refuses is refused when it was rebuilt while arriving:
    /// more headers than protocol 70230 allows, trailing bytes, a version index not in the list.
    #[test]
    fn headers2_rebuilt_while_arriving_keeps_every_rule() {
        use crate::wire::headers2::{compress_headers, encode_headers2};
        use crate::wire::message::Message;
        let read = |payload: &[u8], p: u32| {
            let frame = encode_frame(Network::Mainnet, "headers2", payload);
            let mut d = FrameDecoder::new(Network::Mainnet);
            for seg in frame.chunks(64) {
                d.push(seg).unwrap();
            }
            let raw = d.pop().unwrap().unwrap();
            (
                Message::from_raw(&raw, p),
                Message::decode("headers2", payload, p),
            )
        };
        // 2,001 headers: fine at 70235, over the limit of 2,000 at 70230.
        let big = encode_headers2(&compress_headers(&chain(2_001)));
        assert!(read(&big, 70235).0.is_ok());
        let (streamed, whole) = read(&big, 70230);
        assert!(streamed.is_err());
        assert_eq!(streamed.unwrap_err(), whole.unwrap_err());
        // A byte after the last header.
        let mut trailing = encode_headers2(&compress_headers(&chain(20)));
        trailing.push(0);
        let (streamed, whole) = read(&trailing, 70235);
        assert!(streamed.is_err());
        assert_eq!(streamed.unwrap_err(), whole.unwrap_err());
        // The second header's version index 7 with one version listed.
        let mut c = compress_headers(&chain(20));
        c[1].version = crate::wire::headers2::HeaderVersion::Cached(7);
        let (streamed, whole) = read(&encode_headers2(&c), 70235);
        assert!(streamed.is_err());
        assert_eq!(streamed.unwrap_err(), whole.unwrap_err());
    }
}
