//! Peers over TCP: connect, handshake, framing, request/response matching with timeouts, byte
//! and round-trip counters. One reader task and one writer task per peer; answers are matched to
//! waiting requests, everything else goes to the sync as an unsolicited message.

use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::frame::{FrameDecoder, FrameError};
use crate::wire::message::{services, GetHeaders, Message, NetAddress, VersionMessage};
use crate::wire::WireError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// Why talking to a peer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// TCP connect failed or timed out.
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, String),
    /// The handshake did not complete.
    #[error("handshake with {0} failed: {1}")]
    Handshake(SocketAddr, String),
    /// The peer did not answer in time.
    #[error("{0} did not answer {1} in time")]
    Timeout(SocketAddr, &'static str),
    /// The connection is closed.
    #[error("connection to {0} closed")]
    Closed(SocketAddr),
    /// The peer sent bytes that are not a valid message.
    #[error("{0} sent invalid data: {1}")]
    Misbehaved(SocketAddr, String),
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
    /// Requests sent while no other was waiting: the round trips that had to follow each
    /// other (parallel requests count once).
    pub dependent_round_trips: AtomicU64,
}

/// What answer a request waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A `headers` message.
    Headers,
    /// The `mnlistdiff` for this block.
    MnListDiff(Hash256),
    /// A `qrinfo`.
    QrInfo,
    /// A `clsig` (answer to `getdata`).
    ClSig,
    /// A `pong` with this nonce.
    Pong(u64),
}

impl Expect {
    fn matches(&self, m: &Message) -> bool {
        match (self, m) {
            (Expect::Headers, Message::Headers(_) | Message::Headers2(_)) => true,
            (Expect::MnListDiff(h), Message::MnListDiff(d)) => d.block_hash == *h,
            (Expect::QrInfo, Message::QrInfo(_)) => true,
            (Expect::ClSig, Message::ClSig(_)) => true,
            (Expect::Pong(n), Message::Pong(p)) => n == p,
            _ => false,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Expect::Headers => "getheaders",
            Expect::MnListDiff(_) => "getmnlistd",
            Expect::QrInfo => "getqrinfo",
            Expect::ClSig => "getdata(clsig)",
            Expect::Pong(_) => "ping",
        }
    }
}

type Waiter = (Expect, oneshot::Sender<Message>);

/// How far a request got when it was started.
enum Start {
    /// Handed to the writer.
    Sent,
    /// The writer's queue was full: sent when the future is polled.
    Queue(Message),
    /// The connection is closed.
    Closed,
}

/// One request in flight: counted when started, uncounted when its future ends or is dropped.
struct InFlight(Arc<NetCounters>);

impl InFlight {
    fn start(counters: &Arc<NetCounters>) -> InFlight {
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
        if counters.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
            counters
                .dependent_round_trips
                .fetch_add(1, Ordering::Relaxed);
        }
        InFlight(counters.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
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
    /// Our best height, advertised in `version`.
    pub start_height: i32,
}

/// A connected, handshaken peer.
#[derive(Debug)]
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
    waiters: Arc<Mutex<Vec<Waiter>>>,
    closed: Arc<AtomicBool>,
    counters: Arc<NetCounters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// An unsolicited message from a peer (announcements, locks, anything not awaited).
#[derive(Debug)]
pub struct Unsolicited {
    /// Who sent it.
    pub from: SocketAddr,
    /// The message; `None` when the connection closed (with the reason).
    pub message: Result<Message, NetError>,
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

async fn read_msg(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    dec: &mut FrameDecoder,
    buf: &mut [u8],
    p: u32,
    counters: &NetCounters,
    addr: SocketAddr,
) -> Result<Message, NetError> {
    loop {
        match dec.pop() {
            Ok(Some(raw)) => {
                counters.messages_in.fetch_add(1, Ordering::Relaxed);
                return Message::from_raw(&raw, p).map_err(|e: WireError| {
                    NetError::Misbehaved(addr, format!("{}: {e}", raw.command))
                });
            }
            Ok(None) => {}
            Err(e) => return Err(NetError::Misbehaved(addr, frame_error(&e))),
        }
        let n = stream.read(buf).await.map_err(|_| NetError::Closed(addr))?;
        if n == 0 {
            return Err(NetError::Closed(addr));
        }
        counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        dec.push(&buf[..n])
            .map_err(|e| NetError::Misbehaved(addr, frame_error(&e)))?;
    }
}

fn frame_error(e: &FrameError) -> String {
    e.to_string()
}

impl Peer {
    /// Connects and performs the version handshake. Unsolicited messages and the final close
    /// reason are sent to `unsolicited`.
    pub async fn connect(
        addr: SocketAddr,
        cfg: &PeerConfig,
        counters: Arc<NetCounters>,
        unsolicited: mpsc::UnboundedSender<Unsolicited>,
    ) -> Result<Peer, NetError> {
        let stream = tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| NetError::Connect(addr, "timed out".into()))?
            .map_err(|e| NetError::Connect(addr, e.to_string()))?;
        stream.set_nodelay(true).ok();
        let (mut rd, mut wr) = stream.into_split();
        let mut dec = FrameDecoder::new(cfg.network);
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
                match read_msg(&mut rd, &mut dec, &mut buf, p, &counters, addr).await? {
                    Message::Version(v) => {
                        if theirs.is_some() {
                            return Err(NetError::Handshake(addr, "duplicate version".into()));
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
                    Message::Verack => got_verack = true,
                    _ => {}
                }
            }
            Ok::<VersionMessage, NetError>(theirs.expect("loop ends with a version"))
        };
        let theirs = tokio::time::timeout(cfg.connect_timeout, handshake)
            .await
            .map_err(|_| NetError::Handshake(addr, "timed out".into()))??;
        let version = (theirs.version as u32).min(cfg.protocol_version);
        let (tx, mut rx) = mpsc::channel::<Message>(64);
        let waiters: Arc<Mutex<Vec<Waiter>>> = Arc::default();
        let closed = Arc::new(AtomicBool::new(false));
        // Writer.
        let writer = {
            let counters = counters.clone();
            let closed = closed.clone();
            let network = cfg.network;
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if write_msg(&mut wr, &m, network, version, &counters)
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                closed.store(true, Ordering::SeqCst);
                let _ = wr.shutdown().await;
            })
        };
        // Reader.
        let reader = {
            let counters = counters.clone();
            let closed = closed.clone();
            let waiters = waiters.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let reason = loop {
                    let m = match read_msg(&mut rd, &mut dec, &mut buf, version, &counters, addr)
                        .await
                    {
                        Ok(m) => m,
                        Err(e) => break e,
                    };
                    if let Message::Ping(n) = m {
                        if tx.send(Message::Pong(n)).await.is_err() {
                            break NetError::Closed(addr);
                        }
                        continue;
                    }
                    let waiter = {
                        let mut w = waiters.lock().unwrap_or_else(|e| e.into_inner());
                        w.iter()
                            .position(|(e, _)| e.matches(&m))
                            .map(|i| w.remove(i))
                    };
                    match waiter {
                        Some((_, reply)) => {
                            let _ = reply.send(m);
                        }
                        None => {
                            if unsolicited
                                .send(Unsolicited {
                                    from: addr,
                                    message: Ok(m),
                                })
                                .is_err()
                            {
                                break NetError::Closed(addr);
                            }
                        }
                    }
                };
                closed.store(true, Ordering::SeqCst);
                waiters.lock().unwrap_or_else(|e| e.into_inner()).clear();
                let _ = unsolicited.send(Unsolicited {
                    from: addr,
                    message: Err(reason),
                });
            })
        };
        let peer = Peer {
            addr,
            version,
            start_height: theirs.start_height,
            services: theirs.services,
            out: tx,
            waiters,
            closed,
            counters,
            tasks: vec![writer, reader],
        };
        peer.send(Message::SendHeaders);
        Ok(peer)
    }

    /// True once the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Queues a message (dropped when the connection is closed or the queue is full).
    pub fn send(&self, m: Message) {
        let _ = self.out.try_send(m);
    }

    /// Sends `m` and waits up to `timeout` for the answer `expect` describes.
    pub fn request(
        &self,
        m: Message,
        expect: Expect,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<Message, NetError>> + Send + 'static {
        // Everything but the wait happens now, not when the future is first polled: requests
        // started one after another are in flight together even if the first answer comes
        // back before the others' tasks run (which keeps `dependent_round_trips` honest).
        let addr = self.addr;
        let name = expect.name();
        let (tx, rx) = oneshot::channel();
        let out = self.out.clone();
        let mut state = if self.is_closed() {
            Start::Closed
        } else {
            self.waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((expect, tx));
            match out.try_send(m) {
                Ok(()) => Start::Sent,
                Err(mpsc::error::TrySendError::Full(m)) => Start::Queue(m),
                Err(mpsc::error::TrySendError::Closed(_)) => Start::Closed,
            }
        };
        let guard = match state {
            Start::Closed => None,
            _ => Some(InFlight::start(&self.counters)),
        };
        async move {
            let _guard = guard;
            if let Start::Queue(m) = std::mem::replace(&mut state, Start::Sent) {
                if out.send(m).await.is_err() {
                    state = Start::Closed;
                }
            }
            if let Start::Closed = state {
                return Err(NetError::Closed(addr));
            }
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(m)) => Ok(m),
                Ok(Err(_)) => Err(NetError::Closed(addr)),
                Err(_) => Err(NetError::Timeout(addr, name)),
            }
        }
    }

    /// `getheaders` from `locator`.
    pub fn get_headers_msg(&self, locator: Vec<Hash256>) -> Message {
        let g = GetHeaders {
            version: self.version,
            locator,
            stop_hash: Hash256::ZERO,
        };
        if self.compressed_headers() {
            Message::GetHeaders2(g)
        } else {
            Message::GetHeaders(g)
        }
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

    /// Closes the connection (both tasks end; the socket is dropped).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for t in &self.tasks {
            t.abort();
        }
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
