//! Peers over TCP: connect, handshake, framing, request/response matching with timeouts, byte
//! and round-trip counters. One reader task and one writer task per peer; answers are matched to
//! waiting requests, announcements go to the sync as small [`Notice`]s.
//!
//! Budgets (issue 14): every queue is bounded and every wait has a deadline.
//! - The writer queue holds [`WRITE_QUEUE`] messages; a write that does not complete within the
//!   connection's I/O timeout means the peer stopped reading: the connection is closed as
//!   [`NetError::Stalled`].
//! - A request's timeout covers queueing it, writing it and waiting for the answer.
//! - Unsolicited traffic is reduced in the reader to what the sync uses (block and ChainLock
//!   announcements, `clsig`s) and sent on a bounded channel ([`NOTICE_QUEUE`]); when it is full
//!   the notice is dropped (the sync re-checks periodically). A peer whose unsolicited traffic
//!   exceeds [`Budget`] (messages and bytes per second, with a burst) is closed as misbehaving
//!   with a reason naming what it sent.
//! - Each connection has its own id; its close reason is kept on the connection and handed to
//!   every request waiting on it, so the real reason (not "closed") reaches the sync.

pub mod blame;

pub use blame::{Blame, Penalty};

use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::frame::{FrameDecoder, RawMessage};
use crate::wire::locks::ClSig;
use crate::wire::message::{
    inv_type, services, GetHeaders, Inventory, Message, NetAddress, VersionMessage,
};
use crate::wire::WireError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// Messages the writer queue of one connection holds.
pub const WRITE_QUEUE: usize = 64;
/// Notices the channel from all connections to the sync holds.
pub const NOTICE_QUEUE: usize = 256;
/// ChainLock inventory entries kept from one `inv` (the newest few are all the sync needs).
pub const MAX_CLSIG_INV: usize = 8;

/// One connection: its address and a process-wide unique id (a reconnect to the same address
/// gets a new id, so nothing about an old connection can touch a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// The peer's address.
    pub addr: SocketAddr,
    /// Unique per connection (0 before the handshake completed).
    pub id: u64,
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.addr)
    }
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// Why talking to a peer failed. How the sync reacts is decided by [`Blame::penalty`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// TCP connect failed or timed out.
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, String),
    /// The handshake did not complete (timeout, closed, too old a version).
    #[error("handshake with {0} failed: {1}")]
    Handshake(SocketAddr, String),
    /// The peer did not answer in time (the time includes queueing and writing the request).
    #[error("{0} did not answer {1} in time")]
    Timeout(ConnId, &'static str),
    /// The connection closed (by the peer, or an I/O error), with the reason.
    #[error("connection to {0} closed: {1}")]
    Closed(ConnId, String),
    /// The peer stopped reading: a write did not complete within the I/O timeout.
    #[error("{0} stopped reading: {1}")]
    Stalled(ConnId, String),
    /// The peer sent bytes that are not a valid message, or more than its budget.
    #[error("{0} sent invalid data: {1}")]
    Misbehaved(ConnId, String),
    /// No answer to a `getheaders` continued its locator, but the peer did send headers while
    /// it was waited for: they start on a chain we do not have (another network or devnet, or
    /// a branch we never saw). Reported in place of [`NetError::Timeout`].
    #[error(
        "headers from {conn} do not connect to our chain: first header's previous block {prev}, \
         our tip {tip}"
    )]
    HeadersDoNotConnect {
        /// The connection.
        conn: ConnId,
        /// The previous-block hash of the first header the peer sent.
        prev: Hash256,
        /// The newest block of the locator we sent (our tip, or the last header requested).
        tip: Hash256,
    },
    /// The peer sent a message (the command) with a structure of a version newer than this
    /// library knows: it speaks a newer protocol, which is no fault of its own.
    #[error("{0} sent a {1} this library cannot read: {2}")]
    Unsupported(ConnId, String, crate::wire::UnsupportedVersion),
}

impl NetError {
    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            NetError::Connect(a, _) | NetError::Handshake(a, _) => *a,
            NetError::Timeout(c, _)
            | NetError::Closed(c, _)
            | NetError::Stalled(c, _)
            | NetError::Misbehaved(c, _)
            | NetError::HeadersDoNotConnect { conn: c, .. }
            | NetError::Unsupported(c, ..) => c.addr,
        }
    }

    /// The connection it happened on (`None` before a connection existed).
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            NetError::Connect(..) | NetError::Handshake(..) => None,
            NetError::Timeout(c, _)
            | NetError::Closed(c, _)
            | NetError::Stalled(c, _)
            | NetError::Misbehaved(c, _)
            | NetError::HeadersDoNotConnect { conn: c, .. }
            | NetError::Unsupported(c, ..) => Some(*c),
        }
    }
}

/// Counters shared by all peers of a client.
#[derive(Debug, Default)]
pub struct NetCounters {
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Messages received.
    pub messages_in: AtomicU64,
    /// Messages sent.
    pub messages_out: AtomicU64,
    /// Requests that waited on an answer.
    pub round_trips: AtomicU64,
    /// Requests currently waiting.
    pub in_flight: AtomicU64,
    /// Round trips that had to follow each other: the highest request generation so far
    /// ([`Generations`]; requests of one generation count once however they overlap in time).
    pub dependent_round_trips: AtomicU64,
    /// Unsolicited messages received (before reduction to notices).
    pub unsolicited_in: AtomicU64,
    /// Notices dropped because the channel to the sync was full.
    pub notices_dropped: AtomicU64,
    /// Bytes currently buffered by the frame decoders of all connections.
    pub bytes_buffered: AtomicU64,
    /// The most bytes the frame decoders of all connections buffered at once.
    pub bytes_buffered_peak: AtomicU64,
    /// Request generations, from which [`NetCounters::dependent_round_trips`] is computed.
    pub generations: Mutex<Generations>,
}

/// Request generations by causality, so that the count of dependent round trips is a property
/// of what each request waited for, not of how the machine scheduled the tasks.
///
/// A request's generation is one more than the highest generation among the answers its
/// issuing task had already received when it sent the request (zero if none). A task
/// *receives* an answer when a request it sent resolves (answered or failed), wherever that
/// request's future is awaited; a task that has not sent anything yet starts from what the
/// root task (the sync's own task, see [`NetCounters::claim_generation_root`]) knows from its
/// own answers, and the root takes in the answers of other tasks when it next sends. So requests
/// sent together, before any of their answers was awaited, are one generation however their
/// answers overlap in time, and a request sent after waiting for an answer is one later.
/// [`NetCounters::dependent_round_trips`] is the highest generation sent.
///
/// The sync keeps its side of this: it sends a wave's requests before awaiting any of them.
#[derive(Debug, Default)]
pub struct Generations {
    root: Option<Option<tokio::task::Id>>,
    /// What the root knows from its own answers (and those it has taken in).
    root_own: u64,
    /// The highest generation received by other tasks, taken in by the root when it sends.
    others: u64,
    /// What each other task knows.
    tasks: HashMap<tokio::task::Id, u64>,
}

/// Tasks other than the root remembered at most (range fetchers); older ones are forgotten.
const MAX_GENERATION_TASKS: usize = 4096;

impl Generations {
    /// The generation of a request sent now by the current task.
    fn send(&mut self) -> (Option<tokio::task::Id>, u64) {
        let me = tokio::task::try_id();
        let root = *self.root.get_or_insert(me);
        let known = if root == me {
            self.root_own = self.root_own.max(self.others);
            self.root_own
        } else {
            match me {
                Some(id) => {
                    if self.tasks.len() >= MAX_GENERATION_TASKS && !self.tasks.contains_key(&id) {
                        self.tasks.clear();
                    }
                    *self.tasks.entry(id).or_insert(self.root_own)
                }
                None => self.root_own,
            }
        };
        (me, known + 1)
    }

    /// A request sent by `task` in generation `generation` resolved.
    fn received(&mut self, task: Option<tokio::task::Id>, generation: u64) {
        if self.root == Some(task) {
            self.root_own = self.root_own.max(generation);
            return;
        }
        self.others = self.others.max(generation);
        if let Some(id) = task {
            if let Some(k) = self.tasks.get_mut(&id) {
                *k = (*k).max(generation);
            }
        }
    }
}

impl NetCounters {
    /// Makes the calling task the root of the request generations ([`Generations`]): the
    /// sync's own task, which chooses what to ask from the answers of every other task.
    /// Without it the first task that sends a request is the root.
    pub fn claim_generation_root(&self) {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        g.root = Some(tokio::task::try_id());
    }

    fn buffered_delta(&self, old: usize, new: usize) {
        if new >= old {
            let now = self
                .bytes_buffered
                .fetch_add((new - old) as u64, Ordering::Relaxed)
                + (new - old) as u64;
            self.bytes_buffered_peak.fetch_max(now, Ordering::Relaxed);
        } else {
            self.bytes_buffered
                .fetch_sub((old - new) as u64, Ordering::Relaxed);
        }
    }
}

/// What answer a request waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A `headers`/`headers2` answer to a `getheaders` with this locator: empty, or starting
    /// right after one of the locator's blocks. An announcement that does not continue the
    /// locator is not taken as the answer.
    Headers(Vec<Hash256>),
    /// The `mnlistdiff` for this block.
    MnListDiff(Hash256),
    /// A `qrinfo`.
    QrInfo,
    /// A `pong` with this nonce (the connection tests' round trip).
    #[cfg_attr(not(test), allow(dead_code))]
    Pong(u64),
}

impl Expect {
    /// Whether `m` is the answer this request waits for.
    pub fn matches(&self, m: &Message) -> bool {
        match (self, m) {
            (Expect::Headers(locator), m @ (Message::Headers(_) | Message::Headers2(_))) => m
                .headers()
                .and_then(|hs| hs.first())
                .is_none_or(|h| locator.contains(&h.prev_block_hash)),
            (Expect::MnListDiff(h), Message::MnListDiff(d)) => d.block_hash == *h,
            (Expect::QrInfo, Message::QrInfo(_)) => true,
            (Expect::Pong(n), Message::Pong(p)) => n == p,
            _ => false,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Expect::Headers(_) => "getheaders",
            Expect::MnListDiff(_) => "getmnlistd",
            Expect::QrInfo => "getqrinfo",
            Expect::Pong(_) => "ping",
        }
    }
}

type Reply = Result<Message, NetError>;
type Waiter = (Expect, oneshot::Sender<Reply>);

/// One request in flight: counted when started, uncounted when its future ends or is dropped.
struct InFlight {
    counters: Arc<NetCounters>,
    /// The sending task and the request's generation ([`Generations`]).
    sender: Option<tokio::task::Id>,
    generation: u64,
}

impl InFlight {
    fn start(counters: &Arc<NetCounters>) -> InFlight {
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let (sender, generation) = counters
            .generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send();
        counters
            .dependent_round_trips
            .fetch_max(generation, Ordering::Relaxed);
        InFlight {
            counters: counters.clone(),
            sender,
            generation,
        }
    }

    /// The request resolved: its sender has received a generation-`generation` answer.
    fn resolved(&self) {
        self.counters
            .generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .received(self.sender, self.generation);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Settings for one connection.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Network magic.
    pub network: Network,
    /// Our protocol version.
    pub protocol_version: u32,
    /// Connect + handshake timeout.
    pub connect_timeout: Duration,
    /// The longest one write may take; a peer that does not take our bytes for this long is
    /// dead ([`NetError::Stalled`]).
    pub io_timeout: Duration,
    /// Our best height, advertised in `version`.
    pub start_height: i32,
    /// Budget for unsolicited traffic.
    pub budget: Budget,
}

/// How much unsolicited traffic a peer may send: token buckets of messages and bytes, each
/// with a burst and a refill per second. A light client that asked for no transaction relay
/// gets a few announcements per block; anything far above that is a flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Messages allowed at once.
    pub burst_messages: u32,
    /// Messages added per second.
    pub messages_per_sec: u32,
    /// Bytes allowed at once.
    pub burst_bytes: u32,
    /// Bytes added per second.
    pub bytes_per_sec: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            burst_messages: 500,
            messages_per_sec: 50,
            burst_bytes: 1 << 20,
            bytes_per_sec: 64 * 1024,
        }
    }
}

struct Buckets {
    budget: Budget,
    messages: f64,
    bytes: f64,
    at: Instant,
    spent_messages: u64,
    spent_bytes: u64,
    since: Instant,
}

impl Buckets {
    fn new(budget: Budget) -> Buckets {
        let now = Instant::now();
        Buckets {
            budget,
            messages: budget.burst_messages as f64,
            bytes: budget.burst_bytes as f64,
            at: now,
            spent_messages: 0,
            spent_bytes: 0,
            since: now,
        }
    }

    /// Charges one unsolicited message of `len` payload bytes; `Err` names the overrun.
    fn charge(&mut self, command: &str, len: usize) -> Result<(), String> {
        let now = Instant::now();
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        let b = self.budget;
        self.messages =
            (self.messages + dt * b.messages_per_sec as f64).min(b.burst_messages as f64);
        self.bytes = (self.bytes + dt * b.bytes_per_sec as f64).min(b.burst_bytes as f64);
        self.messages -= 1.0;
        self.bytes -= len as f64;
        self.spent_messages += 1;
        self.spent_bytes += len as u64;
        if self.messages < 0.0 || self.bytes < 0.0 {
            return Err(format!(
                "unsolicited flood: {} messages / {} bytes in {:.1} s (last: {command} of {len} \
                 bytes), budget {} messages + {}/s, {} bytes + {}/s",
                self.spent_messages,
                self.spent_bytes,
                now.duration_since(self.since).as_secs_f64(),
                b.burst_messages,
                b.messages_per_sec,
                b.burst_bytes,
                b.bytes_per_sec
            ));
        }
        Ok(())
    }
}

/// What the sync is told about unsolicited traffic; each is small and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A new block was announced by an `inv`: the announced block's hash (the last one of the
    /// `inv`), so that a block already held costs nothing.
    NewBlock(Hash256),
    /// `headers` that answer no request (an announcement, or a late answer): what the sync
    /// checks before they may cause any request — whether the first links to a block it holds
    /// and how far above that block the last claims to be. The last header's hash met the
    /// target of its own bits (checked in the reader; a header that does not is misbehaviour).
    Headers {
        /// The first header's previous block.
        prev: Hash256,
        /// The last header's hash.
        last: Hash256,
        /// The last header's compact target.
        bits: u32,
        /// Headers in the message.
        count: usize,
    },
    /// ChainLocks were announced (at most [`MAX_CLSIG_INV`] entries).
    ClSigInv(Vec<Inventory>),
    /// A `clsig` arrived.
    ClSig(ClSig),
    /// The connection closed; its reason is in [`Peer::close_reason`].
    Closed,
}

/// A notice from one connection.
#[derive(Debug)]
pub struct Unsolicited {
    /// Which connection.
    pub conn: ConnId,
    /// What happened.
    pub notice: Notice,
}

/// State shared by a connection's tasks and its handle.
struct Conn {
    id: ConnId,
    closed: AtomicBool,
    reason: Mutex<Option<NetError>>,
    waiters: Mutex<Vec<Waiter>>,
    /// The last non-empty `headers` that answered no waiting `getheaders` while one waited:
    /// when it arrived and its first header's previous block.
    unconnected: Mutex<Option<(tokio::time::Instant, Hash256)>>,
}

impl Conn {
    /// Closes with `reason` (the first reason wins) and fails every waiting request with it.
    fn fail(&self, reason: NetError) -> NetError {
        let reason = {
            let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
            r.get_or_insert(reason).clone()
        };
        self.closed.store(true, Ordering::SeqCst);
        let waiters: Vec<Waiter> =
            std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, w) in waiters {
            let _ = w.send(Err(reason.clone()));
        }
        reason
    }

    /// Whether a request waits for an answer with this command.
    fn awaits(&self, command: &str) -> bool {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(e, _)| match e {
                Expect::MnListDiff(_) => command == "mnlistdiff",
                Expect::QrInfo => command == "qrinfo",
                _ => false,
            })
    }

    fn reason(&self) -> NetError {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| NetError::Closed(self.id, "closed".into()))
    }
}

/// A connected, handshaken peer.
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    /// Negotiated protocol version (min of both).
    pub version: u32,
    /// Height the peer announced at handshake.
    pub start_height: i32,
    /// Its service bits.
    pub services: u64,
    out: mpsc::Sender<Message>,
    conn: Arc<Conn>,
    counters: Arc<NetCounters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("addr", &self.addr)
            .field("id", &self.conn.id.id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

async fn write_msg(
    stream: &mut tokio::net::tcp::OwnedWriteHalf,
    m: &Message,
    network: Network,
    p: u32,
    counters: &NetCounters,
) -> std::io::Result<()> {
    let frame = m.to_frame(network, p);
    stream.write_all(&frame).await?;
    counters
        .bytes_out
        .fetch_add(frame.len() as u64, Ordering::Relaxed);
    counters.messages_out.fetch_add(1, Ordering::Relaxed);
    Ok(())
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

/// Reads the next complete frame; the error names what was wrong.
async fn read_raw(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    dec: &mut Decoder,
    buf: &mut [u8],
    id: ConnId,
) -> Result<RawMessage, NetError> {
    loop {
        let popped = dec.dec.pop();
        dec.recount();
        match popped {
            Ok(Some(raw)) => {
                dec.counters.messages_in.fetch_add(1, Ordering::Relaxed);
                return Ok(raw);
            }
            Ok(None) => {}
            Err(e) => return Err(NetError::Misbehaved(id, e.to_string())),
        }
        let n = match stream.read(buf).await {
            Ok(0) => return Err(NetError::Closed(id, "closed by the peer".into())),
            Ok(n) => n,
            Err(e) => return Err(NetError::Closed(id, e.to_string())),
        };
        dec.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        let pushed = dec.dec.push(&buf[..n]);
        dec.recount();
        pushed.map_err(|e| NetError::Misbehaved(id, e.to_string()))?;
    }
}

fn decode(raw: &RawMessage, p: u32, id: ConnId) -> Result<Message, NetError> {
    Message::from_raw(raw, p).map_err(|e: WireError| match e {
        WireError::Unsupported(u) => NetError::Unsupported(id, raw.command.clone(), u),
        e => NetError::Misbehaved(id, format!("undecodable {}: {e}", raw.command)),
    })
}

/// Reads and decodes the next message.
async fn read_msg(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    dec: &mut Decoder,
    buf: &mut [u8],
    p: u32,
    id: ConnId,
) -> Result<Message, NetError> {
    let raw = read_raw(stream, dec, buf, id).await?;
    decode(&raw, p, id)
}

/// Reduces an unsolicited message to what the sync uses (`None`: ignored).
fn notice_of(m: Message) -> Option<Notice> {
    match m {
        Message::Inv(items) => {
            let mut cls: Vec<Inventory> = items
                .iter()
                .filter(|i| i.inv_type == inv_type::MSG_CLSIG)
                .rev()
                .take(MAX_CLSIG_INV)
                .cloned()
                .collect();
            cls.reverse();
            if !cls.is_empty() {
                Some(Notice::ClSigInv(cls))
            } else {
                items
                    .iter()
                    .rev()
                    .find(|i| i.inv_type == inv_type::MSG_BLOCK)
                    .map(|b| Notice::NewBlock(b.hash))
            }
        }
        // One X11 for the last header, whatever the message's size.
        Message::Headers(hs) => Some(Notice::Headers {
            prev: hs.first()?.prev_block_hash,
            last: hs.last()?.block_hash(),
            bits: hs.last()?.bits,
            count: hs.len(),
        }),
        // Decompression already hashed every header.
        Message::Headers2(b) => Some(Notice::Headers {
            prev: b.headers.first()?.prev_block_hash,
            last: b
                .hashes
                .last()
                .copied()
                .unwrap_or_else(|| b.headers.last().map_or(Hash256::ZERO, |h| h.block_hash())),
            bits: b.headers.last()?.bits,
            count: b.headers.len(),
        }),
        Message::ClSig(cl) => Some(Notice::ClSig(cl)),
        _ => None,
    }
}

impl Peer {
    /// Connects and performs the version handshake. Notices (announcements, locks, the close)
    /// are sent to `notices` while there is room.
    pub async fn connect(
        addr: SocketAddr,
        cfg: &PeerConfig,
        counters: Arc<NetCounters>,
        notices: mpsc::Sender<Unsolicited>,
    ) -> Result<Peer, NetError> {
        let stream = tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| NetError::Connect(addr, "timed out".into()))?
            .map_err(|e| NetError::Connect(addr, e.to_string()))?;
        stream.set_nodelay(true).ok();
        let id = ConnId {
            addr,
            id: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
        };
        let (mut rd, mut wr) = stream.into_split();
        let mut dec = Decoder::new(cfg.network, counters.clone());
        let mut buf = vec![0u8; 64 * 1024];
        let ours = VersionMessage {
            version: cfg.protocol_version as i32,
            services: 0,
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            addr_recv: NetAddress {
                services: services::NODE_NETWORK,
                ip: match addr.ip() {
                    std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                    std::net::IpAddr::V6(v6) => v6.octets(),
                },
                port: addr.port(),
            },
            addr_from: NetAddress {
                services: 0,
                ip: [0; 16],
                port: 0,
            },
            nonce: rand_nonce(),
            user_agent: format!("/dash-qrsync:{}/", crate::VERSION),
            start_height: cfg.start_height,
            relay: Some(false),
            mnauth_challenge: Some([0; 32]),
            masternode_connection: Some(false),
        };
        let handshake = async {
            write_msg(
                &mut wr,
                &Message::Version(ours),
                cfg.network,
                cfg.protocol_version,
                &counters,
            )
            .await
            .map_err(|e| NetError::Handshake(addr, e.to_string()))?;
            let mut theirs: Option<VersionMessage> = None;
            let mut got_verack = false;
            while theirs.is_none() || !got_verack {
                let p = theirs.as_ref().map_or(cfg.protocol_version, |v| {
                    (v.version as u32).min(cfg.protocol_version)
                });
                match read_msg(&mut rd, &mut dec, &mut buf, p, id).await {
                    Ok(Message::Version(v)) => {
                        if theirs.is_some() {
                            return Err(NetError::Misbehaved(id, "duplicate version".into()));
                        }
                        if v.version < 70000 {
                            return Err(NetError::Handshake(
                                addr,
                                format!("protocol version {} is too old", v.version),
                            ));
                        }
                        let p = (v.version as u32).min(cfg.protocol_version);
                        write_msg(&mut wr, &Message::Verack, cfg.network, p, &counters)
                            .await
                            .map_err(|e| NetError::Handshake(addr, e.to_string()))?;
                        theirs = Some(v);
                    }
                    Ok(Message::Verack) => got_verack = true,
                    Ok(_) => {}
                    Err(NetError::Closed(_, why)) => return Err(NetError::Handshake(addr, why)),
                    Err(e) => return Err(e),
                }
            }
            Ok::<VersionMessage, NetError>(theirs.expect("loop ends with a version"))
        };
        let theirs = tokio::time::timeout(cfg.connect_timeout, handshake)
            .await
            .map_err(|_| NetError::Handshake(addr, "timed out".into()));
        let theirs = match theirs {
            Ok(Ok(v)) => v,
            Ok(Err(e)) | Err(e) => return Err(e),
        };
        let version = (theirs.version as u32).min(cfg.protocol_version);
        let (tx, mut rx) = mpsc::channel::<Message>(WRITE_QUEUE);
        let conn = Arc::new(Conn {
            id,
            closed: AtomicBool::new(false),
            reason: Mutex::new(None),
            waiters: Mutex::new(Vec::new()),
            unconnected: Mutex::new(None),
        });
        // Reader.
        let reader = {
            let counters = counters.clone();
            let conn = conn.clone();
            let tx = tx.clone();
            let notices = notices.clone();
            let mut budget = Buckets::new(cfg.budget);
            let cfg_network = cfg.network;
            tokio::spawn(async move {
                let reason = loop {
                    let raw = match read_raw(&mut rd, &mut dec, &mut buf, id).await {
                        Ok(r) => r,
                        Err(e) => break e,
                    };
                    let len = raw.payload.len();
                    if (raw.command == "mnlistdiff" || raw.command == "qrinfo")
                        && !conn.awaits(&raw.command)
                    {
                        // Unasked-for large answer (a late answer still finds its timed-out
                        // request's waiter): dropped undecoded, charged by its bytes.
                        counters.unsolicited_in.fetch_add(1, Ordering::Relaxed);
                        if let Err(why) = budget.charge(&raw.command, len) {
                            break NetError::Misbehaved(id, why);
                        }
                        continue;
                    }
                    let m = match decode(&raw, version, id) {
                        Ok(m) => m,
                        Err(e) => break e,
                    };
                    drop(raw);
                    if let Message::Ping(n) = m {
                        if let Err(why) = budget.charge("ping", len) {
                            break NetError::Misbehaved(id, why);
                        }
                        // A full writer queue means the peer is not reading; the writer's
                        // timeout closes the connection, so the pong is simply dropped.
                        let _ = tx.try_send(Message::Pong(n));
                        continue;
                    }
                    let (waiter, headers_waited) = {
                        let mut w = conn.waiters.lock().unwrap_or_else(|e| e.into_inner());
                        let headers_waited = w.iter().any(|(e, _)| matches!(e, Expect::Headers(_)));
                        let found = w
                            .iter()
                            .position(|(e, _)| e.matches(&m))
                            .map(|i| w.remove(i));
                        (found, headers_waited)
                    };
                    if let Some((_, reply)) = waiter {
                        let _ = reply.send(Ok(m));
                        continue;
                    }
                    if let (true, Some(hs)) = (headers_waited, m.headers()) {
                        if let Some(first) = hs.first() {
                            *conn.unconnected.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some((tokio::time::Instant::now(), first.prev_block_hash));
                        }
                    }
                    counters.unsolicited_in.fetch_add(1, Ordering::Relaxed);
                    // Everything unasked-for is charged by its bytes: headers announcements and
                    // late or stale headers answers too (a full answer is a fraction of the
                    // burst), so junk headers cost their sender its budget.
                    if let Err(why) = budget.charge(m.command(), len) {
                        break NetError::Misbehaved(id, why);
                    }
                    let notice = notice_of(m);
                    if let Some(Notice::Headers { last, bits, .. }) = &notice {
                        // The one cheap check that proves a header wrong on its own: its hash
                        // (computed anyway) must meet the target its own bits state.
                        if let Err(e) =
                            crate::chain::pow::check_proof_of_work(last, *bits, cfg_network)
                        {
                            break NetError::Misbehaved(
                                id,
                                format!(
                                    "unsolicited headers: announced header {last} does not meet \
                                     its own target (bits {bits:#010x}): {e}"
                                ),
                            );
                        }
                    }
                    if let Some(notice) = notice {
                        match notices.try_send(Unsolicited { conn: id, notice }) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                counters.notices_dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => {
                                break NetError::Closed(id, "client stopping".into());
                            }
                        }
                    }
                };
                drop(dec);
                conn.fail(reason);
                let _ = notices.try_send(Unsolicited {
                    conn: id,
                    notice: Notice::Closed,
                });
            })
        };
        // Writer: every write is bounded by the I/O timeout.
        let writer = {
            let counters = counters.clone();
            let conn = conn.clone();
            let network = cfg.network;
            let io_timeout = cfg.io_timeout;
            let reader_abort = reader.abort_handle();
            let notices = notices.clone();
            tokio::spawn(async move {
                let mut failure = None;
                while let Some(m) = rx.recv().await {
                    let t = Instant::now();
                    match tokio::time::timeout(
                        io_timeout,
                        write_msg(&mut wr, &m, network, version, &counters),
                    )
                    .await
                    {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            failure = Some(NetError::Closed(id, e.to_string()));
                            break;
                        }
                        Err(_) => {
                            failure = Some(NetError::Stalled(
                                id,
                                format!(
                                    "writing {} did not complete in {:.1} s",
                                    m.command(),
                                    t.elapsed().as_secs_f64()
                                ),
                            ));
                            break;
                        }
                    }
                }
                if let Some(f) = failure {
                    reader_abort.abort();
                    conn.fail(f);
                    let _ = notices.try_send(Unsolicited {
                        conn: id,
                        notice: Notice::Closed,
                    });
                }
                let _ = tokio::time::timeout(io_timeout, wr.shutdown()).await;
            })
        };
        let peer = Peer {
            addr,
            version,
            start_height: theirs.start_height,
            services: theirs.services,
            out: tx,
            conn,
            counters,
            tasks: vec![writer, reader],
        };
        peer.send(Message::SendHeaders);
        Ok(peer)
    }

    /// This connection's id.
    pub fn conn_id(&self) -> ConnId {
        self.conn.id
    }

    /// True once the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.conn.closed.load(Ordering::SeqCst)
    }

    /// Why the connection closed (a generic reason while it is open).
    pub fn close_reason(&self) -> NetError {
        self.conn.reason()
    }

    /// Queues a message (dropped when the connection is closed or the queue is full).
    pub fn send(&self, m: Message) {
        let _ = self.out.try_send(m);
    }

    /// Sends `m` and waits for the answer `expect` describes; `timeout` covers queueing,
    /// writing and waiting. When the connection closes meanwhile, the error is its close reason.
    pub fn request(
        &self,
        m: Message,
        expect: Expect,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<Message, NetError>> + Send + 'static {
        // Everything but the wait happens now, not when the future is first polled: requests
        // started one after another are in flight together even if the first answer comes
        // back before the others' tasks run. The request's generation is fixed now too, and
        // its sender receives the answer when this future resolves ([`Generations`]).
        let id = self.conn.id;
        let name = expect.name();
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let locator_tip = match &expect {
            Expect::Headers(locator) => locator.first().copied(),
            _ => None,
        };
        let (tx, rx) = oneshot::channel();
        let out = self.out.clone();
        let conn = self.conn.clone();
        let mut queued: Option<Message> = None;
        let mut closed = self.is_closed();
        if !closed {
            conn.waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((expect, tx));
            // The connection may have failed between the check and the push.
            closed = self.is_closed();
            if !closed {
                match out.try_send(m) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(m)) => queued = Some(m),
                    Err(mpsc::error::TrySendError::Closed(_)) => closed = true,
                }
            }
        }
        let guard = (!closed).then(|| InFlight::start(&self.counters));
        async move {
            let guard = guard;
            if closed {
                return Err(conn.reason());
            }
            let wait = async {
                if let Some(m) = queued {
                    if out.send(m).await.is_err() {
                        return Err(conn.reason());
                    }
                }
                match rx.await {
                    Ok(r) => r,
                    Err(_) => Err(conn.reason()),
                }
            };
            let r = match tokio::time::timeout_at(deadline, wait).await {
                Ok(r) => r,
                Err(_) => {
                    // Headers that arrived meanwhile but continued nothing we asked from are
                    // the real reason, not the time.
                    let unconnected = *conn.unconnected.lock().unwrap_or_else(|e| e.into_inner());
                    match (locator_tip, unconnected) {
                        (Some(tip), Some((at, prev))) if at >= started => {
                            Err(NetError::HeadersDoNotConnect {
                                conn: id,
                                prev,
                                tip,
                            })
                        }
                        _ => Err(NetError::Timeout(id, name)),
                    }
                }
            };
            if let Some(g) = &guard {
                g.resolved();
            }
            r
        }
    }

    /// `getheaders` from `locator`, and what its answer must look like.
    pub fn get_headers_msg(&self, locator: Vec<Hash256>) -> (Message, Expect) {
        let g = GetHeaders {
            version: self.version,
            locator: locator.clone(),
            stop_hash: Hash256::ZERO,
        };
        let m = if self.compressed_headers() {
            Message::GetHeaders2(g)
        } else {
            Message::GetHeaders(g)
        };
        (m, Expect::Headers(locator))
    }

    /// Whether the peer serves compressed headers (`getheaders2` → `headers2`: about half the
    /// bytes, and up to 8,000 per message from protocol 70235).
    pub fn compressed_headers(&self) -> bool {
        self.services & crate::wire::message::services::NODE_HEADERS_COMPRESSED != 0
    }

    /// The most headers one answer to [`Peer::get_headers_msg`] carries; fewer means the peer
    /// has nothing newer.
    pub fn max_headers_per_message(&self) -> usize {
        if self.compressed_headers() {
            crate::wire::headers2::max_headers2(self.version)
        } else {
            crate::wire::headers2::MAX_HEADERS
        }
    }

    /// Closes the connection with `reason` (kept as its close reason unless it already had
    /// one): waiting requests fail at once with it, both tasks end, the socket is dropped.
    pub fn close_with(&self, reason: NetError) {
        self.conn.fail(reason);
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Closes the connection (see [`Peer::close_with`]).
    pub fn close(&self) {
        self.close_with(NetError::Closed(self.conn.id, "closed by us".into()));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.close();
    }
}

fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests;
