//! Connection-level faults against a scripted peer on loopback.

use super::counters::InFlight;
use super::*;
use crate::wire::encode_frame;
use crate::wire::frame::FrameDecoder;
use crate::wire::header::BlockHeader;
use crate::wire::message::{inv_type, services, Inventory, Message, NetAddress, VersionMessage};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const NET: Network = Network::Regtest;
const P: u32 = crate::wire::version::OUR_PROTOCOL_VERSION;

fn cfg(io_timeout: Duration) -> PeerConfig {
    PeerConfig {
        network: NET,
        protocol_version: P,
        connect_timeout: Duration::from_secs(3),
        io_timeout,
        start_height: 0,
        budget: Budget::default(),
    }
}

fn version_frame() -> Vec<u8> {
    let none = NetAddress {
        services: 0,
        ip: [0; 16],
        port: 0,
    };
    Message::Version(VersionMessage {
        version: P as i32,
        services: services::NODE_NETWORK,
        timestamp: 0,
        addr_recv: none,
        addr_from: none,
        nonce: 1,
        user_agent: "/scripted/".into(),
        start_height: 10,
        relay: Some(false),
        mnauth_challenge: Some([0; 32]),
        masternode_connection: Some(false),
    })
    .to_frame(NET, P)
}

/// A peer that completes the handshake and then hands its socket to `script`.
async fn scripted<F, Fut>(script: F) -> SocketAddr
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        // The client's version arrives first; answer without parsing it further.
        let mut dec = FrameDecoder::new(NET);
        let mut buf = [0u8; 4096];
        'outer: loop {
            let n = s.read(&mut buf).await.unwrap();
            dec.push(&buf[..n]).unwrap();
            while let Some(m) = dec.pop().unwrap() {
                if m.command == "version" {
                    break 'outer;
                }
            }
        }
        s.write_all(&version_frame()).await.unwrap();
        s.write_all(&encode_frame(NET, "verack", &[]))
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(30), script(s))
            .await
            .ok();
    });
    addr
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(addr: SocketAddr, io_timeout: Duration) -> (Peer, mpsc::Receiver<Unsolicited>) {
    let (tx, rx) = mpsc::channel(NOTICE_QUEUE);
    let p = Peer::connect(addr, &cfg(io_timeout), Arc::default(), tx)
        .await
        .unwrap();
    (p, rx)
}

/// A `getdata` of 50,000 entries: 1.8 MB, so a few of them fill any socket buffer.
fn big_message() -> Message {
    Message::GetData(
        (0..50_000u32)
            .map(|i| Inventory {
                inv_type: inv_type::MSG_TX,
                hash: Hash256([(i % 256) as u8; 32]),
            })
            .collect(),
    )
}

#[test]
fn a_request_times_out_even_when_it_never_left_the_queue_and_the_stall_is_named() {
    rt().block_on(async {
        // The peer never reads after the handshake.
        let addr = scripted(|s| async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            drop(s);
        })
        .await;
        let (peer, _rx) = connect(addr, Duration::from_secs(2)).await;
        // Fill the socket and the writer queue.
        for _ in 0..(WRITE_QUEUE + 16) {
            peer.send(big_message());
        }
        // (The peer holds the connection 20 s: an answer within 10 s is the request's own
        // failure, which the match below names; no bound on how fast under load.)
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            peer.request(
                Message::Ping(7),
                Expect::Pong(7),
                Duration::from_millis(700),
            ),
        )
        .await
        .expect("the request returned within its own timeout");
        // Either the request's own deadline or the writer's stall, whichever came first.
        assert!(
            matches!(
                r,
                Err(NetError::Timeout(_, "ping")) | Err(NetError::Stalled(..))
            ),
            "{r:?}"
        );
        // The stalled writer closes the connection with a reason naming the stall.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !peer.is_closed() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match peer.close_reason() {
            NetError::Stalled(c, why) => {
                assert_eq!(c.addr, addr);
                assert!(why.contains("getdata did not complete"), "{why}");
            }
            other => panic!("expected Stalled, got {other:?}"),
        }
    });
}

#[test]
fn the_real_close_reason_reaches_the_waiting_request() {
    rt().block_on(async {
        let addr = scripted(|mut s| async move {
            // Wait for the request, then answer with a bad checksum.
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut f = encode_frame(NET, "headers", &[0]);
            f[20..24].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            let _ = s.write_all(&f).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let (peer, mut rx) = connect(addr, Duration::from_secs(2)).await;
        let (m, e) = peer.get_headers_msg(vec![Hash256([9; 32])]);
        let r = peer.request(m, e, Duration::from_secs(5)).await;
        match r {
            Err(NetError::Misbehaved(c, why)) => {
                assert_eq!(c, peer.conn_id());
                assert!(why.contains("checksum [de, ad, be, ef]"), "{why}");
            }
            other => panic!("expected Misbehaved, got {other:?}"),
        }
        // The close notice names this connection.
        let n = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.conn, peer.conn_id());
        assert_eq!(n.notice, Notice::Closed);
    });
}

#[test]
fn closing_with_a_reason_fails_every_waiting_request_at_once() {
    rt().block_on(async {
        let addr = scripted(|s| async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            drop(s);
        })
        .await;
        let (peer, _rx) = connect(addr, Duration::from_secs(5)).await;
        let a = peer.request(
            Message::GetQrInfo(crate::wire::qrinfo::GetQrInfo {
                base_block_hashes: vec![],
                block_request_hash: Hash256([1; 32]),
                extra_share: false,
            }),
            Expect::QrInfo,
            Duration::from_secs(20),
        );
        let b = peer.request(Message::Ping(3), Expect::Pong(3), Duration::from_secs(20));
        // Both fail with the ban's reason, not the peer's close 20 s later.
        peer.close_with(NetError::Misbehaved(
            peer.conn_id(),
            "banned for a test".into(),
        ));
        for r in [a.await, b.await] {
            assert!(
                matches!(&r, Err(NetError::Misbehaved(_, w)) if w == "banned for a test"),
                "{r:?}"
            );
        }
        // A request on the closed connection fails at once with the same reason.
        let r = peer
            .request(Message::Ping(4), Expect::Pong(4), Duration::from_secs(20))
            .await;
        assert!(matches!(r, Err(NetError::Misbehaved(..))), "{r:?}");
    });
}

#[test]
fn unsolicited_headers_never_answer_a_getheaders() {
    let tip = Hash256([5; 32]);
    let expect = Expect::Headers(vec![tip, Hash256([4; 32])]);
    let header = |prev: Hash256| BlockHeader {
        version: 1,
        prev_block_hash: prev,
        merkle_root: Hash256::ZERO,
        time: 0,
        bits: 0,
        nonce: 0,
    };
    // An announcement of a block whose parent is not in our locator is not the answer.
    assert!(!expect.matches(&Message::Headers(vec![header(Hash256([7; 32]))])));
    assert!(!expect.matches(&Message::Headers2(vec![header(Hash256([7; 32]))].into())));
    // Headers continuing a locator entry, or none at all, are.
    assert!(expect.matches(&Message::Headers(vec![header(tip)])));
    assert!(expect.matches(&Message::Headers2(vec![header(Hash256([4; 32]))].into())));
    assert!(expect.matches(&Message::Headers(vec![])));
}

#[test]
fn an_inv_flood_is_cut_off_naming_what_was_sent() {
    rt().block_on(async {
        let addr = scripted(|mut s| async move {
            let inv = Message::Inv(vec![
                Inventory {
                    inv_type: inv_type::MSG_TX,
                    hash: Hash256([1; 32]),
                };
                50_000
            ])
            .to_frame(NET, P);
            for _ in 0..20 {
                if s.write_all(&inv).await.is_err() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let (tx, mut rx) = mpsc::channel(NOTICE_QUEUE);
        let counters: Arc<NetCounters> = Arc::default();
        let peer = Peer::connect(addr, &cfg(Duration::from_secs(2)), counters.clone(), tx)
            .await
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.notice, Notice::Closed);
        match peer.close_reason() {
            NetError::Misbehaved(_, why) => {
                assert!(why.contains("unsolicited flood"), "{why}");
                assert!(why.contains("last: inv of 1800003 bytes"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        // Frame buffers are released with the connection.
        drop(peer);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(counters.bytes_buffered.load(Ordering::Relaxed), 0);
        assert!(counters.bytes_buffered_peak.load(Ordering::Relaxed) < 4 << 20);
    });
}

/// Dependent round trips count generations of requests by what each request waited for: the
/// figure is the same whichever order the tasks happen to run in.
#[test]
fn dependent_round_trips_count_what_each_request_waited_for() {
    rt().block_on(async {
        let c = Arc::new(NetCounters::default());
        let dep = |c: &NetCounters| c.dependent_round_trips.load(Ordering::Relaxed);
        // The root sends two requests together; one answer comes back before the third of
        // the same wave is sent: still one generation, because the root sent it without
        // waiting (a scheduling accident, not a dependency).
        let a = InFlight::start(&c);
        let b = InFlight::start(&c);
        assert_eq!((a.generation, b.generation), (1, 1));
        assert_eq!(dep(&c), 1);
        // Received answers raise the next request's generation.
        a.resolved();
        b.resolved();
        drop((a, b));
        let after = InFlight::start(&c);
        assert_eq!(after.generation, 2);
        after.resolved();
        drop(after);
        assert_eq!(dep(&c), 2);
        // Two fetchers started together: one runs a chain of three requests before the
        // other sends its first; the other's first request is still the generation after
        // what the root knew, not after the first fetcher's answers.
        let c1 = c.clone();
        let fast = tokio::spawn(async move {
            let mut gens = Vec::new();
            for _ in 0..3 {
                let r = InFlight::start(&c1);
                gens.push(r.generation);
                r.resolved();
            }
            gens
        })
        .await
        .unwrap();
        assert_eq!(fast, vec![3, 4, 5]);
        let c2 = c.clone();
        let slow = tokio::spawn(async move { InFlight::start(&c2).generation })
            .await
            .unwrap();
        assert_eq!(slow, 3);
        assert_eq!(dep(&c), 5);
        // The root takes in the fetchers' answers when it next sends.
        let next = InFlight::start(&c);
        assert_eq!(next.generation, 6);
        assert_eq!(c.in_flight.load(Ordering::Relaxed), 1);

        // The sync's task claims the root before any request: fetchers that send first (header
        // ranges) do not become the root, so a later fetcher still starts from the root's
        // knowledge, not from the first fetcher's answers.
        let c = Arc::new(NetCounters::default());
        c.claim_generation_root();
        let fetch = |c: &Arc<NetCounters>, n: usize| {
            let c = c.clone();
            tokio::spawn(async move {
                (0..n)
                    .map(|_| {
                        let r = InFlight::start(&c);
                        r.resolved();
                        r.generation
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(fetch(&c, 2).await.unwrap(), vec![1, 2]);
        assert_eq!(fetch(&c, 1).await.unwrap(), vec![1]);
        // The root's next request follows every answer it took in.
        assert_eq!(InFlight::start(&c).generation, 3);
    });
}

/// Unsolicited `headers` are charged by their bytes (before: 0 bytes, so a peer could send
/// 500 full answers, 80 MB, before its message budget ran out): the seventh 160 KB one
/// overruns the 1 MiB burst.
#[test]
fn unsolicited_headers_are_charged_by_their_bytes() {
    rt().block_on(async {
        let addr = scripted(|mut s| async move {
            // 2,000 headers whose last meets its own (regtest) target, linked to nothing.
            let mut hs = vec![
                BlockHeader {
                    version: 1,
                    prev_block_hash: Hash256([7; 32]),
                    merkle_root: Hash256::ZERO,
                    time: 0,
                    bits: 0x207f_ffff,
                    nonce: 0,
                };
                2000
            ];
            let last = hs.last_mut().unwrap();
            while crate::chain::pow::check_proof_of_work(&last.block_hash(), last.bits, NET)
                .is_err()
            {
                last.nonce += 1;
            }
            let frame = Message::Headers(hs).to_frame(NET, P);
            for _ in 0..20 {
                if s.write_all(&frame).await.is_err() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let (tx, mut rx) = mpsc::channel(NOTICE_QUEUE);
        let peer = Peer::connect(addr, &cfg(Duration::from_secs(2)), Arc::default(), tx)
            .await
            .unwrap();
        loop {
            let n = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            if n.notice == Notice::Closed {
                break;
            }
        }
        match peer.close_reason() {
            NetError::Misbehaved(_, why) => {
                assert!(why.contains("unsolicited flood"), "{why}");
                assert!(why.contains("last: headers of 162003 bytes"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    });
}

/// A command this library does not know (a newer peer's, or one of Core's it never needs) is
/// ignored: charged like any unsolicited message, no notice, no error; the connection keeps
/// answering requests. A flood of them is cut off like any flood, naming the command.
#[test]
fn unknown_commands_are_ignored_and_charged_by_name() {
    rt().block_on(async {
        let addr = scripted(|mut s| async move {
            for (command, payload) in [
                ("senddsq", &[1u8][..]),
                ("qsendrecsigs", &[1][..]),
                ("newcmd2", &[7; 100][..]),
            ] {
                s.write_all(&encode_frame(NET, command, payload))
                    .await
                    .unwrap();
            }
            // Answer the client's first ping; its second one starts the flood (so that the
            // client's checks in between see the three commands alone, however it is scheduled).
            let mut dec = FrameDecoder::new(NET);
            let mut buf = [0u8; 4096];
            let mut pings = 0;
            'ping: loop {
                let n = s.read(&mut buf).await.unwrap();
                dec.push(&buf[..n]).unwrap();
                while let Some(m) = dec.pop().unwrap() {
                    if m.command == "ping" {
                        pings += 1;
                        if pings == 2 {
                            break 'ping;
                        }
                        let pong = encode_frame(NET, "pong", &m.payload);
                        s.write_all(&pong).await.unwrap();
                    }
                }
            }
            // Then a flood of an unknown command.
            let junk = encode_frame(NET, "newcmd2", &[7; 100_000]);
            for _ in 0..40 {
                if s.write_all(&junk).await.is_err() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let (tx, mut rx) = mpsc::channel(NOTICE_QUEUE);
        let counters: Arc<NetCounters> = Arc::default();
        let peer = Peer::connect(addr, &cfg(Duration::from_secs(2)), counters.clone(), tx)
            .await
            .unwrap();
        let r = peer
            .request(Message::Ping(11), Expect::Pong(11), Duration::from_secs(60))
            .await;
        assert_eq!(r, Ok(Message::Pong(11)));
        // The three unknown commands arrived before the pong: counted, charged, no notice.
        assert_eq!(counters.unsolicited_in.load(Ordering::Relaxed), 3);
        assert!(rx.try_recv().is_err(), "an unknown command is no notice");
        // The second ping is never answered: the flood closes the connection, failing it.
        let r = peer
            .request(Message::Ping(12), Expect::Pong(12), Duration::from_secs(60))
            .await;
        assert!(r.is_err(), "{r:?}");
        let n = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.notice, Notice::Closed);
        match peer.close_reason() {
            NetError::Misbehaved(_, why) => {
                assert!(why.contains("last: newcmd2 of 100000 bytes"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    });
}
