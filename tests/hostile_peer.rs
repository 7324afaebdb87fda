//! Hostile peers on loopback against the client (issue 14): each test starts the simulated
//! regtest network (one healthy peer) and a hostile peer task, configures the client with both,
//! and checks what the client reported (kind and message naming the fault and the address), that
//! the hostile address was penalised as it deserved, and that the client kept following the tip
//! through the healthy peer. Every hostile task stops by itself (a deadline, or when the test
//! drops it).
//!
//! Peak memory is measured per scenario in a child process of this test binary (one scenario per
//! process, reading `VmHWM` from `/proc/self/status`), against a child that runs the healthy
//! peer alone; see `memory_peak_under_each_hostile_peer_stays_bounded`.
#![cfg(feature = "simnet")]

use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::Network;
use dash_qrsync::simnet::server::Faults;
use dash_qrsync::simnet::{SimConfig, SimService};
use dash_qrsync::wire::frame::MAX_LARGE_MESSAGE_SIZE;
use dash_qrsync::wire::message::{
    inv_type, services, Inventory, Message, NetAddress, VersionMessage,
};
use dash_qrsync::wire::{encode_frame, FrameDecoder, RawMessage};
use dash_qrsync::{Client, ClientError, ErrorKind, SyncState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;

use common::recorder::{synced, Recorder};
use common::simnet::Net;

const P: u32 = dash_qrsync::wire::version::OUR_PROTOCOL_VERSION;
/// The longest any hostile connection lives.
const HOSTILE_LIFETIME: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// The healthy network (`tests/common/simnet.rs`) and the events a client reported
// (`tests/common/recorder.rs`).

fn simnet(seed: u64) -> Net {
    Net::start(SimConfig::regtest(seed), &[Faults::default()])
}

/// A client of `peers` only (3 s request and connect timeouts).
fn client(net: &Net, peers: Vec<SocketAddr>) -> (Client, Arc<Recorder>) {
    net.client(|c| {
        c.max_peers = peers.len();
        c.peers = peers;
        c.request_timeout = Duration::from_secs(3);
        c.connect_timeout = Duration::from_secs(3);
    })
}

/// Every error reported so far.
fn all_errors(rec: &Recorder) -> Vec<ClientError> {
    rec.log.lock().unwrap().errors.clone()
}

/// Mines `blocks` and returns how long the client took to have the new tip's headers and list
/// (`None`: not within `limit`).
fn follow(net: &Net, client: &Client, blocks: u32, limit: Duration) -> Option<Duration> {
    net.node.mine(blocks);
    let tip = net.node.tip_height();
    let t = Instant::now();
    while t.elapsed() < limit {
        let s = client.status();
        if s.header_height == tip && s.list_height == Some(tip) {
            return Some(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The hostile peer.

/// What a hostile connection does after the version handshake.
#[derive(Clone, Debug)]
enum Fault {
    /// `count` `inv` messages of `entries` transaction entries each, never answering.
    InvFlood { count: usize, entries: usize },
    /// `count` unsolicited `command` frames (`mnlistdiff`/`qrinfo`) of `size` zero bytes each,
    /// never answering (finding N5: they were charged as one message and zero bytes).
    UnsolicitedLarge {
        command: &'static str,
        count: usize,
        size: usize,
    },
    /// Never reads again; sends pings, one every `ping_every` (zero: as fast as it can, so
    /// that the pongs fill the client's socket and writer queue: finding D2).
    StallReader { ping_every: Duration },
    /// Answers the first `getheaders` with a frame announcing a 4 MiB `headers` payload.
    Oversized,
    /// Answers the first `getheaders` with a `headers` frame whose checksum is `deadbeef`.
    BadChecksum,
    /// Answers the first `getheaders` with a `headers` payload that does not decode.
    Undecodable,
    /// Answers every `getheaders` only with an unsolicited announcement of a block whose
    /// parent nobody knows (and never with the answer).
    UnconnectedAnnouncement,
    /// Sends a `ping` with mainnet's magic.
    WrongMagic,
    /// Sends 4 KiB of pseudo-random bytes, pipelined, at once.
    Garbage,
    /// Announces a 1 MiB `headers` payload and sends one byte of it every 20 ms.
    Slowloris,
    /// Relays to the healthy server; with `qrinfo_bomb`, every `qrinfo` is replaced by a 32 MiB
    /// one with millions of minimal extra snapshots (the shape of finding D5).
    Proxy {
        upstream: SocketAddr,
        qrinfo_bomb: bool,
    },
}

struct Hostile {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Starts a hostile peer; connection `n` (from 1) gets `plan(n)`.
fn hostile(
    net: &Net,
    start_height: i32,
    plan: impl Fn(usize) -> Fault + Send + Sync + 'static,
) -> Hostile {
    let listener = net.rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let network = net.cfg.network();
    {
        let (accepted, stop) = (accepted.clone(), stop.clone());
        net.rt.spawn(async move {
            let end = tokio::time::Instant::now() + HOSTILE_LIFETIME;
            loop {
                let r = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
                if stop.load(Ordering::SeqCst) || tokio::time::Instant::now() > end {
                    return;
                }
                let Ok(Ok((s, _))) = r else { continue };
                let n = accepted.fetch_add(1, Ordering::SeqCst) + 1;
                let fault = plan(n);
                let stop = stop.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout_at(end, serve(s, fault, network, start_height, stop))
                            .await;
                });
            }
        });
    }
    Hostile {
        addr,
        accepted,
        stop,
    }
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

async fn read_frame(
    s: &mut (impl AsyncReadExt + Unpin),
    dec: &mut FrameDecoder,
) -> std::io::Result<Option<RawMessage>> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(m) = dec.pop().map_err(io_err)? {
            return Ok(Some(m));
        }
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        dec.push(&buf[..n]).map_err(io_err)?;
    }
}

fn version_frame(network: Network, start_height: i32) -> Vec<u8> {
    let none = NetAddress {
        services: 0,
        ip: [0; 16],
        port: 0,
    };
    Message::Version(VersionMessage {
        version: P as i32,
        services: services::NODE_NETWORK,
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        addr_recv: none,
        addr_from: none,
        nonce: 0x6e61_7374_7970_6565,
        user_agent: "/hostile:1/".into(),
        start_height,
        relay: Some(false),
        mnauth_challenge: Some([0; 32]),
        masternode_connection: Some(false),
    })
    .to_frame(network, P)
}

/// Waits for the client's first `getheaders`/`getheaders2` (false: closed first).
async fn await_getheaders(s: &mut TcpStream, dec: &mut FrameDecoder) -> bool {
    while let Ok(Some(m)) = read_frame(s, dec).await {
        if m.command == "getheaders" || m.command == "getheaders2" {
            return true;
        }
    }
    false
}

/// Reads and discards until the client closes.
async fn drain(mut r: impl AsyncReadExt + Unpin) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

async fn serve(
    mut s: TcpStream,
    fault: Fault,
    network: Network,
    start_height: i32,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    if let Fault::Proxy {
        upstream,
        qrinfo_bomb,
    } = fault
    {
        return proxy(s, upstream, qrinfo_bomb, network).await;
    }
    let mut dec = FrameDecoder::new(network);
    // Handshake: their version, then ours and a verack.
    loop {
        match read_frame(&mut s, &mut dec).await? {
            Some(m) if m.command == "version" => break,
            Some(_) => {}
            None => return Ok(()),
        }
    }
    s.write_all(&version_frame(network, start_height)).await?;
    s.write_all(&encode_frame(network, "verack", &[])).await?;
    match fault {
        Fault::InvFlood { count, entries } => {
            let inv = Message::Inv(
                (0..entries)
                    .map(|i| Inventory {
                        inv_type: inv_type::MSG_TX,
                        hash: Hash256([(i % 251) as u8; 32]),
                    })
                    .collect(),
            )
            .to_frame(network, P);
            let (r, mut w) = s.into_split();
            tokio::spawn(drain(r));
            for _ in 0..count {
                if stop.load(Ordering::SeqCst) || w.write_all(&inv).await.is_err() {
                    break;
                }
            }
            // Stay connected without answering anything.
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Fault::UnsolicitedLarge {
            command,
            count,
            size,
        } => {
            let frame = encode_frame(network, command, &vec![0u8; size]);
            let (r, mut w) = s.into_split();
            tokio::spawn(drain(r));
            for _ in 0..count {
                if stop.load(Ordering::SeqCst) || w.write_all(&frame).await.is_err() {
                    break;
                }
            }
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Fault::StallReader { ping_every } => {
            let mut nonce = 0u64;
            let mut batch = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                // A flood writes pings in batches of 1,000 (32 KB) between stop checks.
                let n = if ping_every.is_zero() { 1000 } else { 1 };
                batch.clear();
                for _ in 0..n {
                    nonce += 1;
                    batch.extend_from_slice(&encode_frame(network, "ping", &nonce.to_le_bytes()));
                }
                if s.write_all(&batch).await.is_err() {
                    break;
                }
                if !ping_every.is_zero() {
                    tokio::time::sleep(ping_every).await;
                }
            }
        }
        Fault::Oversized | Fault::BadChecksum | Fault::Undecodable => {
            if !await_getheaders(&mut s, &mut dec).await {
                return Ok(());
            }
            let frame = match fault {
                Fault::Oversized => {
                    let mut f = encode_frame(network, "headers", &[]);
                    f[16..20].copy_from_slice(&(4u32 << 20).to_le_bytes());
                    f.extend_from_slice(&[0u8; 1000]);
                    f
                }
                Fault::BadChecksum => {
                    let mut f = encode_frame(network, "headers", &[0]);
                    f[20..24].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
                    f
                }
                _ => encode_frame(network, "headers", &[1, 0, 0, 0, 0, 0]),
            };
            s.write_all(&frame).await?;
            drain(s).await;
        }
        Fault::WrongMagic => {
            s.write_all(&encode_frame(Network::Mainnet, "ping", &[0; 8]))
                .await?;
            drain(s).await;
        }
        Fault::UnconnectedAnnouncement => {
            let header = dash_qrsync::wire::header::BlockHeader {
                version: 0x2000_0000,
                prev_block_hash: Hash256([0x5a; 32]),
                merkle_root: Hash256([0x11; 32]),
                time: 1_700_000_000,
                bits: 0x207f_ffff,
                nonce: 1,
            };
            let announcement = Message::Headers(vec![header]).to_frame(network, P);
            while let Ok(Some(m)) = read_frame(&mut s, &mut dec).await {
                if m.command == "getheaders" || m.command == "getheaders2" {
                    s.write_all(&announcement).await?;
                }
            }
        }
        Fault::Garbage => {
            let mut x: u32 = 0x1234_5678;
            let mut g: Vec<u8> = (0..4096)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                })
                .collect();
            g[0] = 0; // never the regtest magic's first byte
            s.write_all(&g).await?;
            drain(s).await;
        }
        Fault::Slowloris => {
            let (r, mut w) = s.into_split();
            tokio::spawn(drain(r));
            let mut f = encode_frame(network, "headers", &[]);
            f[16..20].copy_from_slice(&(1u32 << 20).to_le_bytes());
            w.write_all(&f).await?;
            while !stop.load(Ordering::SeqCst) {
                if w.write_all(&[0]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Fault::Proxy { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// Writes a `qrinfo` frame like `real` but with as many minimal extra snapshots as fit in
/// 32 MiB, streamed (the hostile side never holds it, so the measured memory is the client's).
async fn write_qrinfo_bomb(
    w: &mut (impl AsyncWriteExt + Unpin),
    network: Network,
    real: &[u8],
) -> std::io::Result<()> {
    let Ok(Message::QrInfo(mut q)) = Message::decode("qrinfo", real, P) else {
        return w.write_all(&encode_frame(network, "qrinfo", real)).await;
    };
    q.quorum_snapshot_list.clear();
    q.mn_list_diff_list.clear();
    let mut prefix = Message::QrInfo(q).encode_payload(P);
    assert_eq!(
        &prefix[prefix.len() - 2..],
        &[0, 0],
        "the two extra lists end the payload"
    );
    prefix.truncate(prefix.len() - 2);
    // Snapshot count n (0xfe + u32), n snapshots of 6 zero bytes (mode 0, empty bitset, empty
    // skip list), then a zero diff count: everything after the count is zeros.
    let n = (MAX_LARGE_MESSAGE_SIZE - prefix.len() - 5 - 1) / 6;
    prefix.push(0xfe);
    prefix.extend_from_slice(&(n as u32).to_le_bytes());
    let zeros_len = n * 6 + 1;
    let chunk = vec![0u8; 64 * 1024];
    let mut parts: Vec<&[u8]> = vec![&prefix];
    let mut left = zeros_len;
    while left > 0 {
        let k = left.min(chunk.len());
        parts.push(&chunk[..k]);
        left -= k;
    }
    let sum = dash_qrsync::hashes::sha256(&dash_qrsync::hashes::sha256_parts(&parts));
    let mut header = encode_frame(network, "qrinfo", &[]);
    header[16..20].copy_from_slice(&((prefix.len() + zeros_len) as u32).to_le_bytes());
    header[20..24].copy_from_slice(&sum[..4]);
    w.write_all(&header).await?;
    for p in parts {
        w.write_all(p).await?;
    }
    Ok(())
}

async fn proxy(
    client: TcpStream,
    upstream: SocketAddr,
    qrinfo_bomb_on: bool,
    network: Network,
) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    });
    if qrinfo_bomb_on {
        let mut dec = FrameDecoder::new(network);
        while let Some(m) = read_frame(&mut sr, &mut dec).await? {
            if m.command == "qrinfo" {
                write_qrinfo_bomb(&mut cw, network, &m.payload).await?;
            } else {
                cw.write_all(&encode_frame(network, &m.command, &m.payload))
                    .await?;
            }
        }
    } else {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    }
    up.abort();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Assertions.

/// The errors that name `addr`.
fn errors_for(rec: &Recorder, addr: SocketAddr) -> Vec<ClientError> {
    let a = addr.to_string();
    all_errors(rec)
        .into_iter()
        .filter(|e| e.message.contains(&a))
        .collect()
}

/// Waits for a `kind` error naming `addr` whose message contains `what`; returns it.
fn expect_error(
    rec: &Recorder,
    addr: SocketAddr,
    kind: ErrorKind,
    what: &str,
    within: Duration,
) -> ClientError {
    let a = addr.to_string();
    let found = rec.wait_for(
        |l| {
            l.errors
                .iter()
                .any(|e| e.kind == kind && e.message.contains(&a) && e.message.contains(what))
        },
        within,
    );
    assert!(
        found,
        "no {kind:?} error naming {addr} and {what:?}; errors: {:?}",
        all_errors(rec)
    );
    all_errors(rec)
        .into_iter()
        .find(|e| e.kind == kind && e.message.contains(&a) && e.message.contains(what))
        .unwrap()
}

/// Syncs with a hostile peer beside the healthy one, checks the report and the ban, and that
/// the tip is followed within 10 s through the healthy peer.
fn framing_fault(seed: u64, fault: Fault, what: &str) {
    let fault_name = format!("{fault:?}");
    let net = simnet(seed);
    let h = hostile(&net, 1_000_000, move |_| fault.clone());
    let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "not synced: {:?}",
        all_errors(&rec)
    );
    let e = expect_error(
        &rec,
        h.addr,
        ErrorKind::PeerMisbehaved,
        what,
        Duration::from_secs(20),
    );
    assert!(e.message.contains("banned"), "{e:?}");
    // The real reason, never a bare "closed", reached the report.
    for e in errors_for(&rec, h.addr) {
        assert!(
            !(e.kind == ErrorKind::Network && e.message.contains("closed by")),
            "{what}: reported as a plain close: {e:?}"
        );
    }
    // Banned with back-off, then no longer dialled: at most 3 connections, ever.
    std::thread::sleep(Duration::from_secs(7));
    let n = h.accepted.load(Ordering::SeqCst);
    assert!((1..=3).contains(&n), "{what}: {n} connections");
    let waited = follow(&net, &client, 2, Duration::from_secs(60));
    assert!(waited.is_some(), "{what}: tip not followed within 60 s");
    println!(
        "MATRIX {fault_name}: {:?} \"{}\"; connections {n}; tip followed in {} ms",
        e.kind,
        e.message,
        waited.unwrap().as_millis()
    );
    client.stop();
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn oversized_frame_is_misbehaviour_naming_the_size() {
    framing_fault(101, Fault::Oversized, "exceeds the 3145728-byte limit");
}

#[test]
fn bad_checksum_is_misbehaviour_naming_the_checksum() {
    framing_fault(102, Fault::BadChecksum, "checksum [de, ad, be, ef]");
}

#[test]
fn undecodable_payload_is_misbehaviour_naming_the_command() {
    framing_fault(103, Fault::Undecodable, "undecodable headers");
}

#[test]
fn wrong_magic_after_the_handshake_is_misbehaviour() {
    framing_fault(104, Fault::WrongMagic, "wrong magic [bf, 0c, 6b, bd]");
}

#[test]
fn pipelined_garbage_is_misbehaviour() {
    framing_fault(105, Fault::Garbage, "wrong magic");
}

#[test]
fn an_unconnected_announcement_is_neither_an_answer_nor_misbehaviour() {
    let net = simnet(113);
    let h = hostile(&net, 1_000_000, |_| Fault::UnconnectedAnnouncement);
    let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    // The peer never answered, but sent headers meanwhile: reported as headers that do not
    // connect (network trouble, with the peer, their previous block and our height), never a
    // ban, and not as a bare timeout.
    let e = expect_error(
        &rec,
        h.addr,
        ErrorKind::Network,
        "do not connect to our chain: first header's previous block 5a5a5a5a",
        Duration::from_secs(60),
    );
    assert!(e.message.contains("our tip height"), "{e:?}");
    let bans: Vec<_> = errors_for(&rec, h.addr)
        .into_iter()
        .filter(|e| e.kind == ErrorKind::PeerMisbehaved)
        .collect();
    assert!(bans.is_empty(), "banned for an announcement: {bans:?}");
    assert!(follow(&net, &client, 2, Duration::from_secs(60)).is_some());
    println!(
        "MATRIX unconnected announcement: {:?} \"{}\"; connections {}",
        e.kind,
        e.message,
        h.accepted.load(Ordering::SeqCst)
    );
    client.stop();
}

/// Unsolicited large answers (N5) are charged by their bytes: the first 2 MiB one exceeds the
/// 1 MiB burst and bans the peer (before: 1 message and 0 bytes each, 500 of them allowed).
#[test]
fn unsolicited_large_frames_are_charged_by_their_bytes() {
    for (seed, command) in [(121, "qrinfo"), (122, "mnlistdiff")] {
        let net = simnet(seed);
        let size = 2 << 20;
        let h = hostile(&net, 1_000_000, move |_| Fault::UnsolicitedLarge {
            command,
            count: 20,
            size,
        });
        let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
        client.start().unwrap();
        assert!(rec.wait_for(synced, Duration::from_secs(60)));
        let e = expect_error(
            &rec,
            h.addr,
            ErrorKind::PeerMisbehaved,
            &format!("last: {command} of {size} bytes"),
            Duration::from_secs(30),
        );
        assert!(e.message.contains("unsolicited flood"), "{e:?}");
        println!(
            "MATRIX unsolicited {command} 20 x {size} B: {:?} \"{}\"",
            e.kind, e.message
        );
        client.stop();
    }
}

#[test]
fn inv_flood_is_cut_off_by_the_budget_and_the_tip_is_followed() {
    for (seed, count, entries) in [(106, 200, 50_000), (107, 100_000, 1)] {
        let net = simnet(seed);
        let h = hostile(&net, 1_000_000, move |_| Fault::InvFlood { count, entries });
        let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
        client.start().unwrap();
        assert!(rec.wait_for(synced, Duration::from_secs(60)));
        let e = expect_error(
            &rec,
            h.addr,
            ErrorKind::PeerMisbehaved,
            "unsolicited flood",
            Duration::from_secs(20),
        );
        assert!(e.message.contains("last: inv"), "{e:?}");
        let mut worst = Duration::ZERO;
        for _ in 0..3 {
            let w = follow(&net, &client, 2, Duration::from_secs(60));
            assert!(
                w.is_some(),
                "tip not followed beside an inv flood ({count} x {entries})"
            );
            worst = worst.max(w.unwrap());
        }
        println!(
            "MATRIX inv flood {count} x {entries}: {:?} \"{}\"; connections {}; tip followed in {} ms",
            e.kind,
            e.message,
            h.accepted.load(Ordering::SeqCst),
            worst.as_millis()
        );
        client.stop();
    }
}

#[test]
fn a_peer_that_stops_reading_never_stalls_the_sync() {
    for (seed, ping_every) in [(108, Duration::from_millis(100)), (118, Duration::ZERO)] {
        let net = simnet(seed);
        let h = hostile(&net, 1_000_000, move |_| Fault::StallReader { ping_every });
        let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
        client.start().unwrap();
        assert!(rec.wait_for(synced, Duration::from_secs(60)));
        let mut worst = Duration::ZERO;
        for _ in 0..4 {
            let w = follow(&net, &client, 2, Duration::from_secs(60));
            assert!(
                w.is_some(),
                "tip not followed beside a stalled peer (pings every {ping_every:?}); errors {:?}",
                all_errors(&rec)
            );
            worst = worst.max(w.unwrap());
        }
        // The stalled peer was found out (no answer, or the pings as a flood), not left hanging.
        let found = rec.wait_for(
            |l| {
                l.errors
                    .iter()
                    .any(|e| e.message.contains(&h.addr.to_string()))
            },
            Duration::from_secs(60),
        );
        assert!(found, "nothing reported for the stalled peer");
        let e = errors_for(&rec, h.addr).remove(0);
        assert!(e.recoverable);
        if ping_every.is_zero() {
            assert!(
                e.kind == ErrorKind::PeerMisbehaved && e.message.contains("last: ping")
                    || e.kind == ErrorKind::Network,
                "{e:?}"
            );
        } else {
            assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
            assert!(e.message.contains("did not answer"), "{e:?}");
        }
        println!(
            "MATRIX stalled reader, pings every {ping_every:?}: {:?} \"{}\"; connections {}; \
             tip followed in {} ms",
            e.kind,
            e.message,
            h.accepted.load(Ordering::SeqCst),
            worst.as_millis()
        );
        client.stop();
    }
}

#[test]
fn slowloris_is_timed_out_and_the_tip_is_followed() {
    let net = simnet(109);
    let h = hostile(&net, 1_000_000, |_| Fault::Slowloris);
    let (client, rec) = client(&net, vec![h.addr, net.servers[0].addr()]);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    let e = expect_error(
        &rec,
        h.addr,
        ErrorKind::Network,
        "did not answer",
        Duration::from_secs(20),
    );
    let mut worst = Duration::ZERO;
    for _ in 0..3 {
        let w = follow(&net, &client, 2, Duration::from_secs(60));
        assert!(w.is_some());
        worst = worst.max(w.unwrap());
    }
    println!(
        "MATRIX slowloris: {:?} \"{}\"; connections {}; tip followed in {} ms",
        e.kind,
        e.message,
        h.accepted.load(Ordering::SeqCst),
        worst.as_millis()
    );
    client.stop();
}

#[test]
fn a_lone_peer_banned_again_and_again_ends_the_sync_with_a_terminal_error() {
    let net = simnet(110);
    let h = hostile(&net, 1_000_000, |_| Fault::BadChecksum);
    let (client, rec) = client(&net, vec![h.addr]);
    let t = Instant::now();
    client.start().unwrap();
    let terminal = rec.wait_for(
        |l| {
            l.errors
                .iter()
                .any(|e| !e.recoverable && e.message.contains("every peer was banned"))
        },
        Duration::from_secs(30),
    );
    assert!(terminal, "no terminal error: {:?}", all_errors(&rec));
    let e = all_errors(&rec)
        .into_iter()
        .find(|e| !e.recoverable)
        .unwrap();
    assert_eq!(e.kind, ErrorKind::PeerMisbehaved);
    assert!(e.message.contains(&h.addr.to_string()), "{e:?}");
    assert!(e.message.contains("checksum"), "{e:?}");
    assert!(rec.wait_for(
        |l| l.states.last() == Some(&SyncState::Stopped),
        Duration::from_secs(30)
    ));
    println!(
        "MATRIX lone banned peer: {:?} (recoverable {}) \"{}\" after {} ms",
        e.kind,
        e.recoverable,
        e.message,
        t.elapsed().as_millis()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        h.accepted.load(Ordering::SeqCst),
        3,
        "dialled after the last ban"
    );
}

#[test]
fn a_stale_close_never_closes_the_next_connection_to_the_same_address() {
    let net = simnet(111);
    let upstream = net.servers[0].addr();
    // The first connection misbehaves; every later one relays the healthy server faithfully.
    let h = hostile(&net, 1_000_000, move |n| {
        if n == 1 {
            Fault::BadChecksum
        } else {
            Fault::Proxy {
                upstream,
                qrinfo_bomb: false,
            }
        }
    });
    let (client, rec) = client(&net, vec![h.addr]);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "{:?}",
        all_errors(&rec)
    );
    let bans = errors_for(&rec, h.addr);
    assert_eq!(
        bans.len(),
        1,
        "one ban for the one bad connection: {bans:?}"
    );
    assert!(bans[0].message.contains("checksum"));
    let after_sync = all_errors(&rec).len();
    for _ in 0..4 {
        assert!(follow(&net, &client, 2, Duration::from_secs(60)).is_some());
    }
    assert_eq!(
        &all_errors(&rec)[after_sync..],
        &[],
        "the healthy connection was blamed"
    );
    assert_eq!(h.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(client.status().peers, 1);
    println!(
        "MATRIX stale close: one ban \"{}\", then no error on the next connection while \
         following 4 tips",
        bans[0].message
    );
    client.stop();
}

#[test]
fn a_qrinfo_with_millions_of_snapshots_is_refused_by_its_field_bound() {
    let net = simnet(112);
    let upstream = net.servers[0].addr();
    let h = hostile(&net, 1_000_000, move |n| Fault::Proxy {
        upstream,
        qrinfo_bomb: n == 1,
    });
    let (client, rec) = client(&net, vec![h.addr]);
    client.start().unwrap();
    let e = expect_error(
        &rec,
        h.addr,
        ErrorKind::PeerMisbehaved,
        "quorumSnapshotList",
        Duration::from_secs(60),
    );
    assert!(e.message.contains("protocol maximum 96"), "{e:?}");
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "{:?}",
        all_errors(&rec)
    );
    println!(
        "MATRIX qrinfo bomb: {:?} \"{}\"; connections {}",
        e.kind,
        e.message,
        h.accepted.load(Ordering::SeqCst)
    );
    client.stop();
}

// ---------------------------------------------------------------------------------------------
// Peak memory, one scenario per process.

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs one scenario (env `HOSTILE_SCENARIO`) and prints `HOSTILE_RESULT <name> <VmHWM KiB>
/// <worst follow ms>`. Started by the memory test in a child process; does nothing otherwise.
#[test]
#[ignore = "child process of memory_peak_under_each_hostile_peer_stays_bounded"]
fn hostile_child() {
    let Ok(name) = std::env::var("HOSTILE_SCENARIO") else {
        return;
    };
    let net = simnet(120);
    let upstream = net.servers[0].addr();
    let fault = match name.as_str() {
        "baseline" => None,
        "inv_flood_large" => Some(Fault::InvFlood {
            count: 200,
            entries: 50_000,
        }),
        "inv_flood_small" => Some(Fault::InvFlood {
            count: 100_000,
            entries: 1,
        }),
        "stall_reader" => Some(Fault::StallReader {
            ping_every: Duration::from_millis(100),
        }),
        "stall_reader_ping_flood" => Some(Fault::StallReader {
            ping_every: Duration::ZERO,
        }),
        "slowloris" => Some(Fault::Slowloris),
        "oversized" => Some(Fault::Oversized),
        "qrinfo_bomb" => Some(Fault::Proxy {
            upstream,
            qrinfo_bomb: true,
        }),
        other => panic!("unknown scenario {other}"),
    };
    // The bomb comes on the first connection only; later ones relay faithfully.
    let h = fault.map(|f| {
        hostile(&net, 1_000_000, move |n| match &f {
            Fault::Proxy { upstream, .. } if n > 1 => Fault::Proxy {
                upstream: *upstream,
                qrinfo_bomb: false,
            },
            f => f.clone(),
        })
    });
    let mut peers: Vec<SocketAddr> = h.iter().map(|h| h.addr).collect();
    if name != "qrinfo_bomb" {
        peers.push(net.servers[0].addr());
    }
    let (client, rec) = client(&net, peers);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "{:?}",
        all_errors(&rec)
    );
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let w = follow(&net, &client, 2, Duration::from_secs(60)).expect("tip followed");
        worst = worst.max(w);
        std::thread::sleep(Duration::from_millis(500));
    }
    client.stop();
    println!(
        "HOSTILE_RESULT {name} {} {}",
        vm_hwm_kib(),
        worst.as_millis()
    );
}

#[test]
fn memory_peak_under_each_hostile_peer_stays_bounded() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc: peak memory not measured here");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let run = |name: &str| -> (u64, u64) {
        let out = std::process::Command::new(&exe)
            .args(["hostile_child", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env("HOSTILE_SCENARIO", name)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.find("HOSTILE_RESULT ").map(|i| &l[i..]))
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no result; stdout {text} stderr {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let f: Vec<&str> = line.split_whitespace().collect();
        (f[2].parse().unwrap(), f[3].parse().unwrap())
    };
    let (base, base_ms) = run("baseline");
    println!(
        "baseline: peak {} MiB, worst follow {base_ms} ms",
        base / 1024
    );
    for name in [
        "inv_flood_large",
        "inv_flood_small",
        "stall_reader",
        "stall_reader_ping_flood",
        "slowloris",
        "oversized",
        "qrinfo_bomb",
    ] {
        let (peak, ms) = run(name);
        let extra = peak.saturating_sub(base);
        println!(
            "{name}: peak {} MiB (+{} MiB over baseline), worst follow {ms} ms",
            peak / 1024,
            extra / 1024
        );
        assert!(
            extra < 64 * 1024,
            "{name}: {} MiB above the healthy baseline",
            extra / 1024
        );
        assert!(ms < 10_000, "{name}: tip followed after {ms} ms");
    }
}
