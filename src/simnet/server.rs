//! The simulated node's P2P server on loopback: the real protocol as Dash Core speaks it to a
//! light client (handshake, ping, headers, getmnlistd, getqrinfo, ChainLock / InstantSend
//! inventory, block announcements), with per-connection fault injection and counters.

use super::service::SimService;
use crate::hashes::Hash256;
use crate::wire::frame::{encode_frame, FrameDecoder};
use crate::wire::message::{inv_type, services, Inventory, Message, NetAddress, VersionMessage};
use crate::wire::mnlistdiff::MnListDiff;
use crate::wire::Encode;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Faults injected into a connection (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// One-way link latency: an answer leaves the server two latencies after its request arrived
    /// (the request's trip is modelled here too); announcements leave one latency after the
    /// event. Pipelined answers overlap, as on a real link.
    pub latency: Duration,
    /// Outgoing bandwidth limit.
    pub bandwidth_bytes_per_sec: Option<u64>,
    /// Close the socket after sending this many messages.
    pub close_after_messages: Option<usize>,
    /// After this many messages, send half of the next one and close.
    pub close_mid_message_after: Option<usize>,
    /// Flip a payload byte of message N+1 (checksum recomputed).
    pub corrupt_byte_after: Option<usize>,
    /// Message N+1 gets a wrong checksum.
    pub bad_checksum_after: Option<usize>,
    /// After this many messages, read but never answer again.
    pub stall_after: Option<usize>,
    /// Flip a bit of the first commitment's quorumSig in every diff served. The diff's quorum
    /// root then no longer matches its CbTx, so this exercises the root check, not BLS: a bad
    /// signature in a consistent chain is [`super::SimConfig::bad_signature`].
    pub commitment_bit_flip: bool,
    /// Change merkleRootMNList in the CbTx of every diff served.
    pub wrong_merkle_root: bool,
    /// Send every mnlistdiff/qrinfo with a huge first count.
    pub oversized_count: bool,
    /// Send unrelated and unsolicited messages after the handshake.
    pub unsolicited: bool,
    /// Ignore getqrinfo (an old peer).
    pub no_qrinfo: bool,
    /// Ignore `getmnlistd` for blocks at or below this height, as Core does for a request it
    /// cannot build an answer for (it sends nothing).
    pub decline_mnlistd_at_or_below: Option<u32>,
    /// In every `headers`/`headers2` answer of more than one header, change the nonce of the
    /// first header at or above this height that is not the answer's last: its hash changes,
    /// so the next header no longer links to it.
    pub bad_headers_from: Option<u32>,
    /// `(first, step)`: in every `headers`/`headers2` answer, change the nonce of each header at
    /// a height `first + k × step` (k ≥ 0) that is not the answer's last, so the next header no
    /// longer links to it (a peer that serves good answers and then a bad one, wherever in the
    /// chain it is asked).
    pub bad_header_every: Option<(u32, u32)>,
    /// Serve every SML entry of every diff (alone or in a qrinfo) with this entry version, as a
    /// peer running a future Dash Core would: a version the client does not know stops it from
    /// reading the rest of the entry (the bytes are those of the entry's own version).
    pub newer_entry_version: Option<u16>,
    /// In every `headers`/`headers2` answer, the headers at or above this height are stamped
    /// three hours after the host clock and mined again (valid proof of work, each linked to
    /// the one before): a future-stamped fork (Core refuses headers more than 2 h ahead).
    pub future_time_from: Option<u32>,
    /// Answer every `getheaders`/`getheaders2` with an empty `headers` (a peer that is
    /// otherwise faithful: it announces blocks and ChainLocks and serves lists).
    pub empty_headers: bool,
    /// Start height claimed in the `version` message instead of the tip's.
    pub claim_start_height: Option<i32>,
    /// Ignore `getmnlistd` for blocks above this height (lists stop following the headers).
    pub decline_mnlistd_above: Option<u32>,
    /// On every announcement tick, send an unsolicited `headers` that no check can prove
    /// wrong but that shows nothing new (valid proof of work, each different): in turn one
    /// header whose previous block nobody knows, and one linked to the block three below the
    /// tip (a stale branch, claiming a height at or below the tip).
    pub junk_headers: bool,
    /// On every announcement tick, send an unsolicited `clsig` with a random signature for a
    /// height no client can verify: in turn 1,000 blocks above the tip and a height near the
    /// chain's start (below every list a client keeps).
    pub junk_clsigs: bool,
    /// On every announcement tick, send an unsolicited `headers` of one header linked to the
    /// tip whose hash does not meet its own target (provably invalid, at no cost to check).
    pub bad_pow_announcements: bool,
    /// On every announcement tick, send an unsolicited `headers` of one new header linked to
    /// the tip with valid proof of work that the server does not serve (a block it will never
    /// deliver): plausible to every cheap check, so only a rate bound limits what it causes.
    pub fake_tip_announcements: bool,
    /// After the handshake, send this many unsolicited `qrinfo` frames of this many zero
    /// bytes each (`(count, size)`; never asked for).
    pub unsolicited_large: Option<(u32, u32)>,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Protocol version advertised.
    pub protocol_version: u32,
    /// Service bits advertised.
    pub services: u64,
    /// User agent.
    pub user_agent: String,
    /// Faults for new connections.
    pub faults: Faults,
    /// How often the tip is polled for announcements.
    pub announce_interval: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            protocol_version: crate::wire::version::OUR_PROTOCOL_VERSION,
            services: services::NODE_NETWORK
                | services::NODE_BLOOM
                | services::NODE_HEADERS_COMPRESSED,
            user_agent: "/simnet:0.1/".into(),
            faults: Faults::default(),
            announce_interval: Duration::from_millis(100),
        }
    }
}

/// Counters shared by all connections.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Messages received.
    pub messages_in: AtomicU64,
    /// Messages sent.
    pub messages_out: AtomicU64,
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Microseconds spent building answers (to separate server from client CPU in benches).
    pub busy_micros: AtomicU64,
    requests: Mutex<HashMap<String, u64>>,
    fired: Mutex<HashMap<&'static str, u64>>,
    mnlistd_targets: Mutex<HashMap<Hash256, u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// Connections accepted.
    pub connections: u64,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Microseconds spent building answers.
    pub busy_micros: u64,
    /// Messages received by command.
    pub requests: HashMap<String, u64>,
    /// How often each injected fault fired, by the name of its [`Faults`] field.
    pub faults_fired: HashMap<&'static str, u64>,
    /// `getmnlistd` requests received, by the block they asked a list for.
    pub mnlistd_targets: HashMap<Hash256, u64>,
}

impl Counters {
    /// A consistent copy.
    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            messages_in: self.messages_in.load(Ordering::Relaxed),
            messages_out: self.messages_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            busy_micros: self.busy_micros.load(Ordering::Relaxed),
            requests: self
                .requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            faults_fired: self.fired.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            mnlistd_targets: self
                .mnlistd_targets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    fn fire(&self, fault: &'static str) {
        *self
            .fired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(fault)
            .or_default() += 1;
    }

    fn count(&self, command: &str) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(command.to_string())
            .or_default() += 1;
    }
}

/// A running simulated node.
pub struct SimServer {
    addr: SocketAddr,
    counters: Arc<Counters>,
    faults: Arc<Mutex<Faults>>,
    shutdown: Arc<Notify>,
    stopped: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimServer {
    /// Listens on 127.0.0.1 (OS-chosen port) and serves `service` on the current runtime.
    pub async fn start(
        service: Arc<dyn SimService>,
        config: ServerConfig,
    ) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let faults = Arc::new(Mutex::new(config.faults.clone()));
        let shutdown = Arc::new(Notify::new());
        let stopped = Arc::new(AtomicBool::new(false));
        let task = {
            let (counters, faults, shutdown, stopped) = (
                counters.clone(),
                faults.clone(),
                shutdown.clone(),
                stopped.clone(),
            );
            tokio::spawn(async move {
                let mut conns = tokio::task::JoinSet::new();
                loop {
                    tokio::select! {
                        _ = shutdown.notified() => break,
                        a = listener.accept() => {
                            let Ok((stream, _)) = a else { continue };
                            counters.connections.fetch_add(1, Ordering::Relaxed);
                            let f = faults.lock().unwrap_or_else(|e| e.into_inner()).clone();
                            let conn = Conn {
                                service: service.clone(),
                                config: config.clone(),
                                faults: f,
                                counters: counters.clone(),
                                version: config.protocol_version,
                                stopped: stopped.clone(),
                            };
                            conns.spawn(conn.run(stream));
                        }
                    }
                }
                conns.abort_all();
            })
        };
        Ok(SimServer {
            addr,
            counters,
            faults,
            shutdown,
            stopped,
            task,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// The faults given to connections accepted from now on.
    pub fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Faults for connections accepted from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Closes the listener and every connection.
    pub async fn shutdown(self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.task.abort();
        let _ = self.task.await;
    }
}

struct Conn {
    service: Arc<dyn SimService>,
    config: ServerConfig,
    faults: Faults,
    counters: Arc<Counters>,
    version: u32,
    stopped: Arc<AtomicBool>,
}

/// The sending half of a connection: faults, counters, latency.
struct Sender {
    faults: Faults,
    counters: Arc<Counters>,
    sent: usize,
    network: crate::network::Network,
}

/// Bytes written at once on a link with a bandwidth limit (each after its share of the time).
const PACED_SEGMENT: usize = 16 * 1024;

impl Sender {
    /// Sends `m` no earlier than `due` (latency is modelled per message from the moment it was
    /// produced, so pipelined answers overlap as they would on a real link).
    async fn send(
        &mut self,
        w: &mut tokio::net::tcp::OwnedWriteHalf,
        m: &Message,
        version: u32,
        due: tokio::time::Instant,
    ) -> Flow {
        let f = &self.faults;
        if f.stall_after.is_some_and(|n| self.sent >= n) {
            self.counters.fire("stall_after");
            return Flow::Stall;
        }
        if f.close_after_messages.is_some_and(|n| self.sent >= n) {
            self.counters.fire("close_after_messages");
            return Flow::Close;
        }
        tokio::time::sleep_until(due).await;
        let f = &self.faults;
        let mut payload = m.encode_payload(version);
        if f.oversized_count && matches!(m, Message::MnListDiff(_) | Message::QrInfo(_)) {
            payload = oversize(m, version);
            self.counters.fire("oversized_count");
        }
        if f.corrupt_byte_after == Some(self.sent) && !payload.is_empty() {
            let i = payload.len() / 2;
            payload[i] ^= 0x5a;
            self.counters.fire("corrupt_byte_after");
        }
        let mut frame = encode_frame(self.network, m.command(), &payload);
        if f.bad_checksum_after == Some(self.sent) {
            frame[20] ^= 0xff;
            self.counters.fire("bad_checksum_after");
        }
        if f.close_mid_message_after == Some(self.sent) {
            self.counters.fire("close_mid_message_after");
            let half = frame.len() / 2;
            let _ = w.write_all(&frame[..half]).await;
            return Flow::Close;
        }
        if let Some(bw) = f.bandwidth_bytes_per_sec.filter(|b| *b > 0) {
            // As on a real link the bytes arrive at the bandwidth's pace, a segment at a time,
            // not all at once when the last one would have: the receiver can work on the first
            // bytes of a large answer while the rest is on its way.
            let start = tokio::time::Instant::now();
            let mut sent = 0usize;
            for seg in frame.chunks(PACED_SEGMENT) {
                sent += seg.len();
                tokio::time::sleep_until(start + Duration::from_secs_f64(sent as f64 / bw as f64))
                    .await;
                if w.write_all(seg).await.is_err() {
                    return Flow::Close;
                }
            }
        } else if w.write_all(&frame).await.is_err() {
            return Flow::Close;
        }
        self.sent += 1;
        self.counters.messages_out.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_out
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        Flow::Continue
    }
}

enum Flow {
    Continue,
    Close,
    Stall,
}

impl Conn {
    async fn run(mut self, stream: TcpStream) {
        stream.set_nodelay(true).ok();
        let (mut r, mut w) = stream.into_split();
        let mut dec = FrameDecoder::new(self.service.network());
        let mut buf = vec![0u8; 64 * 1024];
        let mut handshaken = false;
        let mut announced_hash = self.service.hash_at(self.service.tip_height());
        let mut ticker = tokio::time::interval(self.config.announce_interval);
        let mut clsig_inv: HashMap<Hash256, u32> = HashMap::new();
        let mut junk_count: u32 = 0;
        // Answers go through a queue to a writer task, each with the time it may leave, so
        // that pipelined answers overlap their latency as on a real link.
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, u32, Message)>();
        let closed = Arc::new(AtomicBool::new(false));
        let mut sender = Sender {
            faults: self.faults.clone(),
            counters: self.counters.clone(),
            sent: 0,
            network: self.service.network(),
        };
        let writer = {
            let closed = closed.clone();
            tokio::spawn(async move {
                let mut stalled = false;
                while let Some((due, version, m)) = rx.recv().await {
                    if stalled {
                        continue;
                    }
                    match sender.send(&mut w, &m, version, due).await {
                        Flow::Continue => {}
                        Flow::Close => break,
                        Flow::Stall => stalled = true,
                    }
                }
                closed.store(true, Ordering::SeqCst);
                let _ = w.shutdown().await;
            })
        };
        let latency = self.faults.latency;
        loop {
            if self.stopped.load(Ordering::SeqCst) || closed.load(Ordering::SeqCst) {
                break;
            }
            tokio::select! {
                n = r.read(&mut buf) => {
                    let n = match n { Ok(0) | Err(_) => break, Ok(n) => n };
                    self.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                    if dec.push(&buf[..n]).is_err() { break; }
                    // The request spent one latency reaching us; the answer spends another.
                    let due = tokio::time::Instant::now() + latency * 2;
                    let mut bad = false;
                    loop {
                        let raw = match dec.pop() { Ok(Some(raw)) => raw, Ok(None) => break, Err(_) => { bad = true; break } };
                        self.counters.messages_in.fetch_add(1, Ordering::Relaxed);
                        self.counters.count(&raw.command);
                        let Ok(m) = Message::from_raw(&raw, self.version) else { bad = true; break };
                        let t = std::time::Instant::now();
                        let replies = self.answer(m, &mut handshaken, &mut clsig_inv);
                        self.counters.busy_micros.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                        for reply in replies {
                            let _ = tx.send((due, self.version, reply));
                        }
                    }
                    if bad { break; }
                }
                _ = ticker.tick() => {
                    if !handshaken { continue; }
                    junk_count += 1;
                    for m in self.junk(junk_count) {
                        let _ = tx.send((tokio::time::Instant::now() + latency, self.version, m));
                    }
                    let tip = self.service.tip_height();
                    let hash = self.service.hash_at(tip);
                    if hash != announced_hash {
                        // New tip (or a reorg): announce the block, then its ChainLock.
                        let due = tokio::time::Instant::now() + latency;
                        let mut msgs = vec![Message::Inv(vec![Inventory { inv_type: inv_type::MSG_BLOCK, hash: hash.unwrap_or_default() }])];
                        if let Some(cl) = self.service.clsig(tip) {
                            let h = cl.inv_hash();
                            clsig_inv.insert(h, tip);
                            msgs.push(Message::Inv(vec![Inventory { inv_type: inv_type::MSG_CLSIG, hash: h }]));
                        }
                        if self.faults.unsolicited {
                            msgs.push(Message::Unknown { command: "spork".into(), payload: vec![1, 2, 3] });
                        }
                        for m in msgs {
                            let _ = tx.send((due, self.version, m));
                        }
                        announced_hash = hash;
                    }
                }
            }
        }
        drop(tx);
        writer.abort();
    }

    fn answer(
        &mut self,
        m: Message,
        handshaken: &mut bool,
        clsig_inv: &mut HashMap<Hash256, u32>,
    ) -> Vec<Message> {
        match m {
            Message::Version(v) => {
                self.version = (v.version.max(0) as u32).min(self.config.protocol_version);
                let ours = VersionMessage {
                    version: self.config.protocol_version as i32,
                    services: self.config.services,
                    timestamp: 0,
                    addr_recv: NetAddress {
                        services: 0,
                        ip: [0; 16],
                        port: 0,
                    },
                    addr_from: NetAddress {
                        services: 0,
                        ip: [0; 16],
                        port: 0,
                    },
                    nonce: 0x5151_5151,
                    user_agent: self.config.user_agent.clone(),
                    start_height: self
                        .faults
                        .claim_start_height
                        .unwrap_or(self.service.tip_height() as i32),
                    relay: Some(true),
                    mnauth_challenge: Some([7; 32]),
                    masternode_connection: Some(false),
                };
                vec![Message::Version(ours), Message::SendAddrV2, Message::Verack]
            }
            Message::Verack => {
                *handshaken = true;
                let mut v = vec![Message::SendHeaders];
                if self.faults.unsolicited {
                    self.counters.fire("unsolicited");
                    // Inventory of types a light client never asks for, among them Core v24's
                    // `MSG_ASSET_UNLOCK` (34) and a type no Core knows yet.
                    v.push(Message::Inv(vec![
                        Inventory {
                            inv_type: inv_type::MSG_TX,
                            hash: Hash256([9; 32]),
                        },
                        Inventory {
                            inv_type: inv_type::MSG_ASSET_UNLOCK,
                            hash: Hash256([10; 32]),
                        },
                        Inventory {
                            inv_type: 250,
                            hash: Hash256([11; 32]),
                        },
                    ]));
                    v.push(Message::Addr(Vec::new()));
                    v.push(Message::Unknown {
                        command: "senddsq".into(),
                        payload: vec![1],
                    });
                    // A command of a future protocol.
                    v.push(Message::Unknown {
                        command: "futurecmd".into(),
                        payload: vec![0; 64],
                    });
                }
                if let Some((count, size)) = self.faults.unsolicited_large {
                    for _ in 0..count {
                        self.counters.fire("unsolicited_large");
                        v.push(Message::Unknown {
                            command: "qrinfo".into(),
                            payload: vec![0; size as usize],
                        });
                    }
                }
                v
            }
            Message::Ping(n) => vec![Message::Pong(n)],
            m @ (Message::GetHeaders(_) | Message::GetHeaders2(_)) => {
                let compressed = matches!(m, Message::GetHeaders2(_));
                let (Message::GetHeaders(g) | Message::GetHeaders2(g)) = m else {
                    unreachable!("matched above")
                };
                let start = g
                    .locator
                    .iter()
                    .find_map(|h| self.service.height_of(h))
                    .unwrap_or(0);
                let tip = self.service.tip_height();
                let mut hs = Vec::new();
                if self.faults.empty_headers {
                    self.counters.fire("empty_headers");
                    return vec![if compressed {
                        Message::Headers2(hs.into())
                    } else {
                        Message::Headers(hs)
                    }];
                }
                let mut h = start + 1;
                let limit = if compressed {
                    crate::wire::headers2::max_headers2(self.version)
                } else {
                    crate::wire::headers2::MAX_HEADERS
                };
                // The hashes go with the headers, as a node has them in its block index, so
                // that compressing an answer hashes nothing (Core's sender does not either).
                let mut hashes = Vec::new();
                while h <= tip && hs.len() < limit {
                    let (Some(hdr), Some(x)) = (self.service.header(h), self.service.hash_at(h))
                    else {
                        break;
                    };
                    hs.push(hdr);
                    hashes.push(x);
                    if self.service.hash_at(h) == Some(g.stop_hash) {
                        break;
                    }
                    h += 1;
                }
                if let Some(from) = self.faults.future_time_from {
                    let future = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as u32)
                        .saturating_add(3 * 3600);
                    let network = self.service.network();
                    let mut prev: Option<Hash256> = None;
                    for (i, hdr) in hs.iter_mut().enumerate() {
                        if let Some(p) = prev {
                            hdr.prev_block_hash = p;
                        }
                        if start + 1 + i as u32 >= from {
                            hdr.time = future.saturating_add(i as u32);
                            hdr.nonce = 0;
                            while crate::chain::pow::check_proof_of_work(
                                &hdr.block_hash(),
                                hdr.bits,
                                network,
                            )
                            .is_err()
                            {
                                hdr.nonce += 1;
                            }
                            prev = Some(hdr.block_hash());
                            self.counters.fire("future_time_from");
                        }
                    }
                }
                if let Some(from) = self.faults.bad_headers_from {
                    let first = start + 1;
                    let at = from.max(first) - first;
                    if (at as usize) + 1 < hs.len() {
                        hs[at as usize].nonce ^= 0x5a5a_5a5a;
                        self.counters.fire("bad_headers_from");
                    }
                }
                if let Some((first, step)) = self.faults.bad_header_every {
                    let n = hs.len();
                    for (i, h) in hs.iter_mut().enumerate().take(n.saturating_sub(1)) {
                        let height = start + 1 + i as u32;
                        if height >= first && (height - first) % step.max(1) == 0 {
                            h.nonce ^= 0x5a5a_5a5a;
                            self.counters.fire("bad_header_every");
                        }
                    }
                }
                let altered = self.faults.future_time_from.is_some()
                    || self.faults.bad_headers_from.is_some()
                    || self.faults.bad_header_every.is_some();
                vec![if compressed {
                    Message::Headers2(crate::wire::headers2::HeaderBatch {
                        // An altered header has another hash: the encoder hashes them all.
                        hashes: if altered { Vec::new() } else { hashes },
                        headers: hs,
                    })
                } else {
                    Message::Headers(hs)
                }]
            }
            Message::GetMnListD(g) => {
                *self
                    .counters
                    .mnlistd_targets
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(g.block_hash)
                    .or_default() += 1;
                if let Some(limit) = self.faults.decline_mnlistd_above {
                    if self
                        .service
                        .height_of(&g.block_hash)
                        .is_some_and(|h| h > limit)
                    {
                        self.counters.fire("decline_mnlistd_above");
                        return Vec::new();
                    }
                }
                if let Some(limit) = self.faults.decline_mnlistd_at_or_below {
                    if self
                        .service
                        .height_of(&g.block_hash)
                        .is_some_and(|h| h <= limit)
                    {
                        self.counters.fire("decline_mnlistd");
                        return Vec::new();
                    }
                }
                self.service
                    .mnlistdiff(&g.base_block_hash, &g.block_hash, self.version)
                    .map(|d| vec![Message::MnListDiff(Box::new(self.tamper(d)))])
                    .unwrap_or_default()
            }
            Message::GetQrInfo(g) => {
                if self.faults.no_qrinfo {
                    self.counters.fire("no_qrinfo");
                    return Vec::new();
                }
                self.service
                    .qrinfo(&g, self.version)
                    .map(|mut q| {
                        // Data faults apply to every embedded diff.
                        q.mn_list_diff_tip = self.tamper(q.mn_list_diff_tip);
                        q.mn_list_diff_h = self.tamper(q.mn_list_diff_h);
                        q.mn_list_diff_h_minus_c = self.tamper(q.mn_list_diff_h_minus_c);
                        q.mn_list_diff_h_minus_2c = self.tamper(q.mn_list_diff_h_minus_2c);
                        q.mn_list_diff_h_minus_3c = self.tamper(q.mn_list_diff_h_minus_3c);
                        if let Some(e) = q.extra_share.as_mut() {
                            e.mn_list_diff_h_minus_4c =
                                self.tamper(e.mn_list_diff_h_minus_4c.clone());
                        }
                        q.mn_list_diff_list = q
                            .mn_list_diff_list
                            .into_iter()
                            .map(|d| self.tamper(d))
                            .collect();
                        vec![Message::QrInfo(Box::new(q))]
                    })
                    .unwrap_or_default()
            }
            Message::GetData(items) => {
                let mut out = Vec::new();
                let mut missing = Vec::new();
                for i in items {
                    match i.inv_type {
                        inv_type::MSG_CLSIG => {
                            match clsig_inv.get(&i.hash).and_then(|h| self.service.clsig(*h)) {
                                Some(cl) => out.push(Message::ClSig(cl)),
                                None => missing.push(i),
                            }
                        }
                        inv_type::MSG_ISDLOCK => match self.service.isdlock(&i.hash) {
                            Some(l) => out.push(Message::IsDLock(l)),
                            None => missing.push(i),
                        },
                        _ => missing.push(i),
                    }
                }
                if !missing.is_empty() {
                    out.push(Message::NotFound(missing));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The junk of the `junk_*` faults for announcement tick `n` (empty when none is set).
    fn junk(&self, n: u32) -> Vec<Message> {
        use crate::wire::header::BlockHeader;
        let mut out = Vec::new();
        let network = self.service.network();
        let tip = self.service.tip_height();
        let Some(tip_header) = self.service.header(tip) else {
            return out;
        };
        let mine = |mut h: BlockHeader, valid: bool| {
            while crate::chain::pow::check_proof_of_work(&h.block_hash(), h.bits, network).is_ok()
                != valid
            {
                h.nonce = h.nonce.wrapping_add(1);
            }
            h
        };
        let salt = {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&n.to_le_bytes());
            b[4] = 0xa5;
            Hash256(b)
        };
        if self.faults.junk_headers {
            self.counters.fire("junk_headers");
            let prev = if n % 2 == 0 {
                salt
            } else {
                self.service.hash_at(tip.saturating_sub(3)).unwrap_or(salt)
            };
            let h = BlockHeader {
                prev_block_hash: prev,
                merkle_root: salt,
                nonce: n,
                ..tip_header
            };
            out.push(Message::Headers(vec![mine(h, true)]));
        }
        // A header on the tip that is never served: with a bad proof of work, or a valid one.
        for (on, name, valid_pow) in [
            (
                self.faults.bad_pow_announcements,
                "bad_pow_announcements",
                false,
            ),
            (
                self.faults.fake_tip_announcements,
                "fake_tip_announcements",
                true,
            ),
        ] {
            if !on {
                continue;
            }
            self.counters.fire(name);
            let h = BlockHeader {
                prev_block_hash: self.service.hash_at(tip).unwrap_or(salt),
                merkle_root: salt,
                time: tip_header.time.saturating_add(1),
                nonce: n,
                ..tip_header
            };
            out.push(Message::Headers(vec![mine(h, valid_pow)]));
        }
        if self.faults.junk_clsigs {
            self.counters.fire("junk_clsigs");
            let height = if n % 2 == 0 { tip + 1000 } else { 9 + n % 7 };
            let mut signature = [0u8; 96];
            signature[..4].copy_from_slice(&n.to_le_bytes());
            signature[0] |= 0x80;
            out.push(Message::ClSig(crate::wire::locks::ClSig {
                height: height as i32,
                block_hash: salt,
                signature,
            }));
        }
        out
    }

    fn tamper(&self, mut d: MnListDiff) -> MnListDiff {
        if let Some(v) = self.faults.newer_entry_version {
            if !d.mn_list.is_empty() {
                for e in &mut d.mn_list {
                    e.version = v;
                }
                self.counters.fire("newer_entry_version");
            }
        }
        if self.faults.commitment_bit_flip {
            if let Some(c) = d.new_quorums.first_mut() {
                c.quorum_sig[95] ^= 1;
                self.counters.fire("commitment_bit_flip");
            }
        }
        if self.faults.wrong_merkle_root {
            if let Ok(mut cb) = d.cb_tx.coinbase_payload() {
                cb.merkle_root_mn_list.0[0] ^= 1;
                d.cb_tx.extra_payload = Some(cb.to_bytes(0));
                self.counters.fire("wrong_merkle_root");
            }
        }
        d
    }
}

/// The payload of `m` with its first compactSize count replaced by a huge value.
fn oversize(m: &Message, p: u32) -> Vec<u8> {
    let mut payload = m.encode_payload(p);
    // mnlistdiff at P ≥ 70229 starts with u16 version, two hashes, then the PMT's u32 count and
    // the compactSize hash count; qrinfo starts with a snapshot (i32 mode, compactSize bits).
    let at = match m {
        Message::MnListDiff(_) => 2 + 32 + 32 + 4,
        _ => 4,
    };
    if payload.len() > at + 1 {
        let mut out = payload[..at].to_vec();
        out.extend_from_slice(&[0xfe, 0xff, 0xff, 0xff, 0x7f]);
        out.extend_from_slice(&payload[at + 1..]);
        payload = out;
    }
    payload
}
