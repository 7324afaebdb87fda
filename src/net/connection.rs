//! One TCP connection speaking whole messages. A [`Connection`] is opened with a fresh
//! [`ConnId`], reads and writes messages (frames checked by the wire layer's decoder, bytes and
//! messages counted in [`NetCounters`]) and, after the handshake, splits into a
//! [`MessageReader`] and a [`MessageWriter`] for the peer's two tasks. The read half keeps the
//! decoder, so bytes that arrived behind the handshake are not lost.

use super::{ConnId, NetCounters, NetError, PeerConfig};
use crate::network::Network;
use crate::wire::frame::{FrameDecoder, RawMessage};
use crate::wire::message::Message;
use crate::wire::WireError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The bytes one read from the socket takes at most.
const READ_BUFFER: usize = 64 * 1024;

/// One open TCP connection to a peer, reading and writing whole messages.
pub(super) struct Connection {
    id: ConnId,
    reader: MessageReader,
    writer: MessageWriter,
}

impl Connection {
    /// Connects to `addr` within the connect timeout; the connection gets a new [`ConnId`].
    pub(super) async fn open(
        addr: SocketAddr,
        cfg: &PeerConfig,
        counters: Arc<NetCounters>,
    ) -> Result<Connection, NetError> {
        let stream = tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| NetError::Connect(addr, "timed out".into()))?
            .map_err(|e| NetError::Connect(addr, e.to_string()))?;
        stream.set_nodelay(true).ok();
        let id = ConnId {
            addr,
            id: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
        };
        let (rd, wr) = stream.into_split();
        Ok(Connection {
            id,
            reader: MessageReader {
                stream: rd,
                dec: Decoder::new(cfg.network, counters.clone()),
                buf: vec![0u8; READ_BUFFER],
                id,
            },
            writer: MessageWriter {
                stream: wr,
                network: cfg.network,
                counters,
            },
        })
    }

    /// This connection's id.
    pub(super) fn id(&self) -> ConnId {
        self.id
    }

    /// Reads and decodes the next message at protocol version `p`.
    pub(super) async fn read_message(&mut self, p: u32) -> Result<Message, NetError> {
        self.reader.read_message(p).await
    }

    /// Writes `m` framed at protocol version `p`.
    pub(super) async fn write_message(&mut self, m: &Message, p: u32) -> std::io::Result<()> {
        self.writer.write_message(m, p).await
    }

    /// The read and write halves, for the reader and writer tasks.
    pub(super) fn into_split(self) -> (MessageReader, MessageWriter) {
        (self.reader, self.writer)
    }
}

/// The read half: the socket, its frame decoder and read buffer.
pub(super) struct MessageReader {
    stream: OwnedReadHalf,
    dec: Decoder,
    buf: Vec<u8>,
    id: ConnId,
}

impl MessageReader {
    /// Reads the next complete frame; the error names what was wrong.
    pub(super) async fn read_raw(&mut self) -> Result<RawMessage, NetError> {
        let id = self.id;
        loop {
            let popped = self.dec.dec.pop();
            self.dec.recount();
            match popped {
                Ok(Some(raw)) => {
                    self.dec
                        .counters
                        .messages_in
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(raw);
                }
                Ok(None) => {}
                Err(e) => return Err(NetError::Misbehaved(id, e.to_string())),
            }
            let n = match self.stream.read(&mut self.buf).await {
                Ok(0) => return Err(NetError::Closed(id, "closed by the peer".into())),
                Ok(n) => n,
                Err(e) => return Err(NetError::Closed(id, e.to_string())),
            };
            self.dec
                .counters
                .bytes_in
                .fetch_add(n as u64, Ordering::Relaxed);
            let pushed = self.dec.dec.push(&self.buf[..n]);
            self.dec.recount();
            pushed.map_err(|e| NetError::Misbehaved(id, e.to_string()))?;
        }
    }

    /// Reads and decodes the next message at protocol version `p`.
    pub(super) async fn read_message(&mut self, p: u32) -> Result<Message, NetError> {
        let raw = self.read_raw().await?;
        decode(&raw, p, self.id)
    }
}

/// Decodes a frame at protocol version `p`: a structure of a newer version than the library
/// knows is [`NetError::Unsupported`], anything else undecodable is misbehaviour.
pub(super) fn decode(raw: &RawMessage, p: u32, id: ConnId) -> Result<Message, NetError> {
    Message::from_raw(raw, p).map_err(|e: WireError| match e {
        WireError::Unsupported(u) => NetError::Unsupported(id, raw.command.clone(), u),
        e => NetError::Misbehaved(id, format!("undecodable {}: {e}", raw.command)),
    })
}

/// The write half: the socket and what framing needs.
pub(super) struct MessageWriter {
    stream: OwnedWriteHalf,
    network: Network,
    counters: Arc<NetCounters>,
}

impl MessageWriter {
    /// Writes `m` framed at protocol version `p`, counting its bytes once written.
    pub(super) async fn write_message(&mut self, m: &Message, p: u32) -> std::io::Result<()> {
        let frame = m.to_frame(self.network, p);
        self.stream.write_all(&frame).await?;
        self.counters
            .bytes_out
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        self.counters.messages_out.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Shuts the socket's write side down.
    pub(super) async fn shutdown(&mut self) -> std::io::Result<()> {
        self.stream.shutdown().await
    }
}

/// A frame decoder whose buffered bytes are counted in [`NetCounters::bytes_buffered`] (and
/// uncounted when it is dropped, also when its task is aborted).
struct Decoder {
    dec: FrameDecoder,
    counters: Arc<NetCounters>,
    counted: usize,
}

impl Decoder {
    fn new(network: Network, counters: Arc<NetCounters>) -> Decoder {
        Decoder {
            dec: FrameDecoder::new(network),
            counters,
            counted: 0,
        }
    }

    fn recount(&mut self) {
        let now = self.dec.buffered();
        self.counters.buffered_delta(self.counted, now);
        self.counted = now;
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.counters.buffered_delta(self.counted, 0);
    }
}
